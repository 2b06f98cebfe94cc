//! Couriers' status webhooks: verify, keep the raw body, acknowledge. What the events mean is
//! worked out afterwards by the `ingest_webhook` job, so the courier gets its 200 in one
//! short transaction (Viettel Post asks for under a second and retries only 5 times).
//!
//! - Forged or unsigned: 401, nothing stored; a counter and a log line without the body.
//! - Not JSON, or authentic but not the courier's format: 400 (the courier retries a few
//!   times and gives up, which is right for garbage).
//! - Authentic and readable: stored with its job, 200 in the courier's acknowledgement shape;
//!   the same bytes again answer 200 without a second row. Unknown orders, duplicates and
//!   events after the end are sorted out by the job, and still answered 200 here.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, post, web};
use futures_util::StreamExt;
use serde_json::json;

use super::problem::{ApiError, Problem, problem_response};
use crate::app::AppState;
use crate::couriers::WebhookError;
use crate::domain::courier::Courier;
use crate::store::inbox::Received;

pub fn scope() -> actix_web::Scope {
    web::scope("/v1/webhooks")
        .service(viettelpost)
        .service(vnpost)
}

/// Viettel Post status update (couriers.md §1.4).
///
/// Native body `{"DATA": {ORDER_NUMBER, ORDER_STATUS, ORDER_STATUSDATE, …}, "TOKEN": "<secret>"}`,
/// authenticated by the body `TOKEN` (constant-time compare); the `Authorization` header is
/// not relied on. Answers `{"status":200,"error":false,"message":"OK"}` once stored.
#[utoipa::path(
    context_path = "/v1/webhooks",
    tag = "webhooks",
    request_body(content = Object, content_type = "application/json",
        description = "Viettel Post's native webhook body"),
    responses(
        (status = 200, description = "Stored (or the same body again)"),
        (status = 400, description = "Not JSON, or not Viettel Post's format", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "TOKEN missing or wrong; nothing stored", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Viettel Post is not enabled", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/viettelpost")]
pub async fn viettelpost(
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    receive(&state, Courier::Viettelpost, &req, payload).await
}

/// VNPost status update (couriers.md §2A, §2B).
///
/// Current body `{"data": [<order record>…], "sendDate": "…", "signature": "<base64>"}`, or the
/// legacy `{"Data": "<JSON string>", "SendDate": "…", "SignData": "<base64>"}`; both are
/// SHA256withRSA-signed with VNPost's key. Answers `{"success":true,"message":"OK"}` once
/// stored.
#[utoipa::path(
    context_path = "/v1/webhooks",
    tag = "webhooks",
    request_body(content = Object, content_type = "application/json",
        description = "VNPost's native webhook body, current or legacy"),
    responses(
        (status = 200, description = "Stored (or the same body again)"),
        (status = 400, description = "Not JSON, or not VNPost's format", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Signature missing or wrong; nothing stored", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "VNPost is not enabled", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/vnpost")]
pub async fn vnpost(
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    receive(&state, Courier::Vnpost, &req, payload).await
}

async fn receive(
    state: &AppState,
    courier: Courier,
    req: &HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let limit = state.settings.http.body_limit_bytes;
    let Some(body) = read_body(req, payload, limit).await? else {
        reject(courier, "too_large");
        return Err(ApiError::PayloadTooLarge { limit });
    };
    let Some(adapter) = state.couriers.adapter(courier) else {
        reject(courier, "not_enabled");
        return Err(ApiError::NotFound(format!("{courier} is not enabled")));
    };
    // The credential first: nothing about an unauthenticated body is worth reading further.
    match adapter.verify_webhook(req.headers(), &body) {
        Ok(()) => {}
        Err(WebhookError::Unauthenticated) => {
            reject(courier, "unauthenticated");
            return Ok(unauthenticated(courier));
        }
        Err(WebhookError::Malformed(detail)) => {
            reject(courier, "malformed");
            return Err(ApiError::BadRequest(format!("not a JSON body: {detail}")));
        }
    }
    // Read it now too, so what the job meets later is known to be readable.
    if let Err(e) = adapter.parse_webhook(&body) {
        reject(courier, "malformed");
        return Err(ApiError::BadRequest(e.to_string()));
    }
    let received = state.inbox.receive(courier, body.to_vec()).await?;
    let outcome = match received {
        Received::Stored { .. } => "stored",
        Received::Duplicate => "duplicate",
    };
    metrics::counter!("civicpost_webhooks_received_total", "courier" => courier.as_str(), "outcome" => outcome)
        .increment(1);
    Ok(acknowledgement(courier))
}

/// The body, or `None` when it is over `limit` bytes (said up front or found while reading).
async fn read_body(
    req: &HttpRequest,
    mut payload: web::Payload,
    limit: usize,
) -> Result<Option<Vec<u8>>, ApiError> {
    let declared = req
        .headers()
        .get(actix_web::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Ok(None);
    }
    let mut body = Vec::with_capacity(declared.unwrap_or(0));
    while let Some(chunk) = payload.next().await {
        let chunk =
            chunk.map_err(|e| ApiError::BadRequest(format!("cannot read the body: {e}")))?;
        if body.len() + chunk.len() > limit {
            return Ok(None);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Some(body))
}

/// Counted and logged, never with the body or its credential.
fn reject(courier: Courier, reason: &'static str) {
    metrics::counter!("civicpost_webhooks_rejected_total", "courier" => courier.as_str(), "reason" => reason)
        .increment(1);
    tracing::warn!(%courier, reason, "courier webhook rejected");
}

fn unauthenticated(courier: Courier) -> HttpResponse {
    let what = match courier {
        Courier::Viettelpost => "TOKEN is missing or wrong",
        Courier::Vnpost => "the signature is missing or does not verify",
    };
    let problem = Problem {
        problem_type: "urn:civicpost:problem:unauthorized".into(),
        title: "Unauthorized".into(),
        status: 401,
        detail: Some(format!("{courier} webhook: {what}")),
        errors: Vec::new(),
    };
    problem_response(StatusCode::UNAUTHORIZED, &problem)
}

/// What each courier expects back. Neither documents a body (couriers.md §1.4, §2A): Viettel
/// Post gets its own envelope, VNPost the `{success, message}` shape its clients answer.
fn acknowledgement(courier: Courier) -> HttpResponse {
    let body = match courier {
        Courier::Viettelpost => json!({"status": 200, "error": false, "message": "OK"}),
        Courier::Vnpost => json!({"success": true, "message": "OK"}),
    };
    HttpResponse::Ok().json(body)
}
