//! `GET /track/{code}/events`: server-sent events for an open tracking page.
//!
//! The stream watches the code's cache version (the one every committed event replaces,
//! `tracking::cache`), so it works across nodes through Redis and costs one cache read per
//! check, no database work until something changed. On a change it sends the parcel's new
//! markup as an `update` event whose id is the version (a reconnecting browser sends it back
//! as `Last-Event-ID`); once the parcel is finished it sends `end`. Streams close after
//! `tracking.stream_max_secs`; browsers reconnect by themselves.

use std::convert::Infallible;
use std::time::{Duration, Instant};

use actix_web::http::header::CACHE_CONTROL;
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, get, web};
use serde::Deserialize;

use super::track_html::Fragment;
use crate::app::AppState;
use crate::domain::tracking::TrackingCode;
use crate::tracking::{self, CodeLookup, NO_VERSION, TrackingView};

/// A comment line this often keeps proxies from closing a quiet stream.
const KEEP_ALIVE: Duration = Duration::from_secs(15);
/// How long a browser waits before reconnecting a closed stream.
const RETRY: &[u8] = b"retry: 5000\n\n";

#[derive(Debug, Deserialize)]
pub struct StreamQuery {
    /// The version the page was rendered at.
    v: Option<String>,
}

#[get("/{code}/events")]
pub async fn events(
    state: web::Data<AppState>,
    code: web::Path<String>,
    query: web::Query<StreamQuery>,
    req: HttpRequest,
) -> HttpResponse {
    // Only parcels that exist get a stream: an open stream costs a cache read per check.
    let found = match tracking::by_code(&state, &code).await {
        Ok(CodeLookup::Found { .. }) => TrackingCode::parse(&code).ok(),
        _ => None,
    };
    let Some(code) = found else {
        return HttpResponse::NotFound()
            .content_type("text/plain; charset=utf-8")
            .body("Không tìm thấy bưu gửi với mã này.");
    };
    let seen = req
        .headers()
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or_else(|| query.into_inner().v)
        .filter(|v| !v.is_empty() && v.len() <= 64)
        .unwrap_or_else(|| NO_VERSION.to_owned());
    let settings = &state.settings.tracking;
    let live = Live {
        check: settings.stream_check(),
        until: Instant::now() + settings.stream_max(),
        state,
        code,
        seen,
        quiet_since: Instant::now(),
        started: false,
        done: false,
    };
    HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header((CACHE_CONTROL, "no-cache"))
        // nginx and similar proxies would otherwise buffer the stream.
        .insert_header(("X-Accel-Buffering", "no"))
        .streaming(futures_util::stream::unfold(live, Live::next))
}

struct Live {
    state: web::Data<AppState>,
    code: TrackingCode,
    /// The version the browser has.
    seen: String,
    check: Duration,
    until: Instant,
    quiet_since: Instant,
    started: bool,
    done: bool,
}

impl Live {
    async fn next(mut self) -> Option<(Result<Bytes, Infallible>, Self)> {
        if self.done {
            return None;
        }
        if !self.started {
            self.started = true;
            return Some((Ok(Bytes::from_static(RETRY)), self));
        }
        loop {
            if let Some(message) = self.poll().await {
                self.quiet_since = Instant::now();
                return Some((Ok(message), self));
            }
            if Instant::now() >= self.until {
                return None;
            }
            if self.quiet_since.elapsed() >= KEEP_ALIVE {
                self.quiet_since = Instant::now();
                return Some((Ok(Bytes::from_static(b": keep-alive\n\n")), self));
            }
            tokio::time::sleep(self.check).await;
        }
    }

    /// The next message when the version moved on; `None` while nothing changed.
    async fn poll(&mut self) -> Option<Bytes> {
        let current = tracking::version_of(&self.state, self.code.as_str()).await;
        if current == self.seen {
            return None;
        }
        let lookup = tracking::by_code(&self.state, self.code.as_str()).await;
        let (view, version) = match lookup {
            Ok(CodeLookup::Found { view, version }) => (view, version),
            // Gone, or the database is away: stop; the browser retries later.
            _ => {
                self.done = true;
                return Some(Bytes::from_static(b"event: end\ndata: \n\n"));
            }
        };
        self.seen = version;
        let mut message = update(&view, &self.seen);
        if view.terminal {
            self.done = true;
            message.push_str("event: end\ndata: \n\n");
        }
        Some(Bytes::from(message))
    }
}

/// `id: <version>` / `event: update` / the markup, one `data:` line per line.
fn update(view: &TrackingView, version: &str) -> String {
    let html =
        askama::Template::render(&Fragment::new(view, chrono::Utc::now())).unwrap_or_else(|e| {
            tracing::error!(error = %e, "tracking fragment did not render");
            String::new()
        });
    let mut out = format!("id: {version}\nevent: update\n");
    for line in html.lines() {
        out.push_str("data: ");
        out.push_str(line);
        out.push('\n');
    }
    out.push('\n');
    out
}
