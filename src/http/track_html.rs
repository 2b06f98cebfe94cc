//! The HTML of the tracking pages: askama templates (`templates/track/`), the small
//! formatting they need, and the response headers every page carries.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::http::header::{CACHE_CONTROL, CONTENT_TYPE, HeaderValue, RETRY_AFTER};
use askama::Template;
use chrono::{DateTime, FixedOffset, Utc};

use crate::domain::state::DeliveryState;
use crate::tracking::TrackingView;

/// What the two lookup forms show again after an error. The phone digits are never echoed.
#[derive(Default)]
pub struct FormValues {
    pub code: String,
    pub dossier: String,
}

#[derive(Template)]
#[template(path = "track/form.html")]
pub struct FormPage {
    pub title: String,
    pub message: Option<String>,
    pub form: FormValues,
}

#[derive(Template)]
#[template(path = "track/parcel.html")]
pub struct ParcelPage {
    pub title: String,
    /// The rendered [`Fragment`]; the live stream sends the same markup.
    pub fragment: String,
    /// `/track/{code}/events?v=…`, while the parcel can still change.
    pub live_url: Option<String>,
    /// `swap`: the stream's markup replaces the parcel; `reload`: the page reloads (the full
    /// view, which the masked stream must not overwrite).
    pub live_mode: &'static str,
    /// The `<noscript>` meta refresh, while the parcel can still change.
    pub refresh_secs: Option<u64>,
    pub form: FormValues,
}

/// One parcel: state, advice, timeline (newest first) and the recipient as the view has it.
#[derive(Template)]
#[template(path = "track/fragment.html")]
pub struct Fragment<'a> {
    pub v: &'a TrackingView,
    pub tone: &'static str,
    pub expected: String,
    pub overdue: bool,
    pub cod: Option<String>,
    pub events: Vec<EventLine>,
}

pub struct EventLine {
    pub label: String,
    pub reason: Option<String>,
    pub place: Option<String>,
    pub when: String,
}

impl<'a> Fragment<'a> {
    pub fn new(v: &'a TrackingView, now: DateTime<Utc>) -> Self {
        Self {
            v,
            tone: tone(v.state),
            expected: when(&v.expected_by),
            overdue: !v.terminal && now > v.expected_by,
            cod: (v.collect_on_delivery_vnd > 0).then(|| dong(v.collect_on_delivery_vnd)),
            events: v
                .events
                .iter()
                .rev()
                .map(|e| EventLine {
                    label: e.label.clone(),
                    reason: e.reason_label.clone(),
                    place: e.location.clone(),
                    when: when(&e.occurred_at),
                })
                .collect(),
        }
    }
}

/// The colour of the state's card.
fn tone(state: DeliveryState) -> &'static str {
    use DeliveryState::*;
    match state {
        Delivered => "ok",
        DeliveryFailed | ReadyForPickup | OnHold => "warn",
        Returning | Returned | Cancelled | Lost => "bad",
        _ => "go",
    }
}

/// `10:30 ngày 22/11/2026` (already Vietnam time).
pub fn when(t: &DateTime<FixedOffset>) -> String {
    t.format("%H:%M ngày %d/%m/%Y").to_string()
}

/// `50.000 đ`: Vietnamese groups thousands with dots.
pub fn dong(amount: i64) -> String {
    let digits = amount.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('.');
        }
        out.push(c);
    }
    let sign = if amount < 0 { "-" } else { "" };
    format!("{sign}{out} đ")
}

/// Self-contained pages: no script or style from elsewhere, no framing, no referrer (the
/// dossier lookup's URL carries the dossier code and phone digits).
const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; \
     connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// A rendered page with the headers every tracking page carries.
pub fn page(status: StatusCode, template: &impl Template, cache: &'static str) -> HttpResponse {
    let body = match template.render() {
        Ok(body) => body,
        Err(e) => {
            tracing::error!(error = %e, "tracking page did not render");
            return HttpResponse::InternalServerError()
                .content_type("text/plain; charset=utf-8")
                .body("Lỗi hệ thống, vui lòng thử lại sau.");
        }
    };
    HttpResponse::build(status)
        .insert_header((CONTENT_TYPE, "text/html; charset=utf-8"))
        .insert_header((CACHE_CONTROL, cache))
        .insert_header(("Content-Security-Policy", CSP))
        .insert_header(("Referrer-Policy", "no-referrer"))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .body(body)
}

/// The form with a message, at `status`.
pub fn form_page(status: StatusCode, message: Option<String>, form: FormValues) -> HttpResponse {
    let title = if message.is_some() {
        "Không tra cứu được"
    } else {
        "Tra cứu"
    };
    let template = FormPage {
        title: title.to_owned(),
        message,
        form,
    };
    page(status, &template, "no-store")
}

/// 429 for the HTML pages, with `Retry-After`.
pub fn rate_limited_page(retry_after_secs: u64) -> HttpResponse {
    let message = crate::tracking::labels::RATE_LIMITED.to_owned();
    let mut response = form_page(
        StatusCode::TOO_MANY_REQUESTS,
        Some(message),
        FormValues::default(),
    );
    if let Ok(value) = HeaderValue::from_str(&retry_after_secs.to_string()) {
        response.headers_mut().insert(RETRY_AFTER, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_group_thousands_with_dots() {
        assert_eq!(dong(50_000), "50.000 đ");
        assert_eq!(dong(1_234_567), "1.234.567 đ");
        assert_eq!(dong(800), "800 đ");
    }
}
