//! The HTTP interface: one file per actor, plus the shared problem type and middleware.

pub mod admin;
pub mod agency;
pub mod auth;
pub mod dashboard;
mod dashboard_view;
pub mod dev;
pub mod docs;
pub mod health;
pub mod notifications;
pub mod problem;
pub mod reports;
pub mod routing;
pub mod span;
pub mod track;
pub mod track_html;
pub mod track_page;
pub mod track_stream;
pub mod units;
pub mod unsubscribe;
pub mod views;
pub mod webhooks;

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, web};

/// Routes, body limits and error shapes for the whole API.
pub fn configure(body_limit: usize) -> impl FnOnce(&mut web::ServiceConfig) {
    move |cfg| {
        cfg.app_data(
            web::JsonConfig::default()
                .limit(body_limit)
                .error_handler(problem::json_error),
        )
        .app_data(web::PayloadConfig::new(body_limit))
        .app_data(web::QueryConfig::default().error_handler(problem::query_error))
        .app_data(web::PathConfig::default().error_handler(problem::path_error))
        .service(health::healthz)
        .service(health::readyz)
        .service(health::metrics)
        .service(units::scope())
        .service(routing::scope())
        .service(admin::rules_scope())
        .service(admin::agencies_scope())
        .service(admin::deliveries_scope())
        .service(admin::callbacks_scope())
        .service(admin::failures_scope())
        .service(admin::audit_scope())
        .service(reports::scope())
        .service(agency::scope())
        .service(notifications::optouts_scope())
        .service(unsubscribe::scope())
        .service(webhooks::scope())
        .service(track::scope())
        .service(track_page::scope())
        .service(dashboard::scope())
        .service(docs::swagger_ui())
        .service(docs::docs_redirect)
        .default_service(web::to(problem::not_found));
    }
}

/// Puts the request id (made by `TracingLogger`, which also puts it on every log line of
/// the request) on the response, and counts requests by route and status.
pub async fn request_id_and_metrics(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let request_id = req
        .extensions()
        .get::<tracing_actix_web::RequestId>()
        .map(|id| id.to_string());
    let method = req.method().to_string();
    let mut res = next.call(req).await?;
    // The matched pattern, not the path: paths carry codes and would explode label cardinality.
    let route = res
        .request()
        .match_pattern()
        .unwrap_or_else(|| "unmatched".into());
    let status = res.status().as_u16().to_string();
    metrics::counter!("civicpost_http_requests_total", "method" => method.clone(), "route" => route.clone(), "status" => status).increment(1);
    metrics::histogram!("civicpost_http_request_duration_seconds", "method" => method, "route" => route)
        .record(started.elapsed().as_secs_f64());
    if let Some(value) = request_id.and_then(|id| HeaderValue::from_str(&id).ok()) {
        res.headers_mut()
            .insert(HeaderName::from_static("x-request-id"), value);
    }
    Ok(res)
}
