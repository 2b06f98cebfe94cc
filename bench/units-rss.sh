#!/usr/bin/env bash
# Resident memory of the service idle with every administrative unit loaded (target: < 40 MB),
# and the lookup benchmark. Usage: bench/units-rss.sh
# RSS_ONLY=1 skips the benchmark; SETTLE (seconds, default 5) is how long the service idles
# before it is measured (a sandbox first run syncs the couriers' address lists meanwhile).
# Honours CARGO_TARGET_DIR.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
bin="${CARGO_TARGET_DIR:-target}/release/civicpost"
dir=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$dir"' EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
DATABASE_URL="$dir/civicpost.db" CIVICPOST__LOG__LEVEL=warn \
  "$bin" serve --bind "127.0.0.1:$port" > "$dir/out" 2>&1 &
pid=$!
for _ in $(seq 300); do curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
# A few requests so every lazily built structure exists, then let it settle.
curl -fsS "http://127.0.0.1:$port/v1/units/wards/00004" >/dev/null
curl -fsS "http://127.0.0.1:$port/v1/units/locate?lat=10.7769&lon=106.7009" >/dev/null
sleep "${SETTLE:-5}"
rss_kb=$(awk '/^VmRSS/ {print $2}' "/proc/$pid/status")
hwm_kb=$(awk '/^VmHWM/ {print $2}' "/proc/$pid/status")
awk -v rss="$rss_kb" -v hwm="$hwm_kb" 'BEGIN {
  printf "service idle RSS: %.1f MB (peak %.1f MB); target 40 MB; ratio to target %.2f\n", rss/1024, hwm/1024, rss/1024/40 }'
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr)"
[ "${RSS_ONLY:-0}" = 1 ] || cargo bench --quiet --bench units
