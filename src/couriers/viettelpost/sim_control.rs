//! The simulator's control endpoints (not part of VTP's protocol): faults, token expiry,
//! webhook target, and driving a parcel through statuses.

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use serde_json::{Value, json};

use super::sim::{Faults, SimState};

pub(super) async fn control_faults(
    state: web::Data<SimState>,
    faults: web::Json<Faults>,
) -> HttpResponse {
    state.set_faults(faults.into_inner());
    HttpResponse::NoContent().finish()
}

pub(super) async fn control_expire(state: web::Data<SimState>) -> HttpResponse {
    state.expire_tokens();
    HttpResponse::NoContent().finish()
}

#[derive(Deserialize)]
pub(super) struct WebhookTarget {
    url: Option<String>,
}

pub(super) async fn control_webhook(
    state: web::Data<SimState>,
    target: web::Json<WebhookTarget>,
) -> HttpResponse {
    state.set_webhook_url(target.into_inner().url);
    HttpResponse::NoContent().finish()
}

#[derive(Deserialize)]
pub(super) struct AdvanceBody {
    statuses: Vec<i64>,
    #[serde(default)]
    reason_code: Option<i64>,
}

pub(super) async fn control_advance(
    state: web::Data<SimState>,
    path: web::Path<String>,
    body: web::Json<AdvanceBody>,
) -> HttpResponse {
    match state.advance(&path, &body.statuses, body.reason_code).await {
        Some(outcomes) => {
            let pushed: Vec<Value> = outcomes
                .into_iter()
                .map(|(status, http)| json!({"status": status, "webhook_http_status": http}))
                .collect();
            HttpResponse::Ok().json(json!({"pushed": pushed}))
        }
        None => HttpResponse::NotFound().finish(),
    }
}

/// What the autopilot pushes after creation: picked up, in transit, out for delivery,
/// delivered (couriers.md §1.5).
const AUTOPILOT: [i64; 4] = [105, 300, 500, 501];
/// Statuses after which the autopilot stops: the order was cancelled.
const CANCELLED: [i64; 4] = [101, 107, 201, 503];

/// Moves a new order to delivered, one status every `step`, unless it is cancelled first.
pub(super) async fn autopilot(sim: SimState, tracking: String, step: std::time::Duration) {
    for status in AUTOPILOT {
        tokio::time::sleep(step).await;
        if sim
            .order_status(&tracking)
            .is_none_or(|now| CANCELLED.contains(&now))
        {
            return;
        }
        sim.advance(&tracking, &[status], None).await;
    }
}
