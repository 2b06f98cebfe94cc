# Production image: build with the Rust toolchain, run on Debian slim with libpq.
FROM rust:1.89-bookworm AS build
WORKDIR /src
RUN apt-get update && apt-get install -y --no-install-recommends libpq-dev pkg-config && rm -rf /var/lib/apt/lists/*
COPY . .
RUN cargo build --release --locked && cp target/release/civicpost /civicpost

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends libpq5 ca-certificates && rm -rf /var/lib/apt/lists/* \
    && useradd --system --home /var/lib/civicpost civicpost && mkdir -p /var/lib/civicpost && chown civicpost /var/lib/civicpost
COPY --from=build /civicpost /usr/local/bin/civicpost
USER civicpost
WORKDIR /var/lib/civicpost
EXPOSE 8080
ENTRYPOINT ["civicpost"]
CMD ["serve", "--bind", "0.0.0.0:8080"]
