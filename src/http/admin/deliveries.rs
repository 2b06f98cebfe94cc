//! The operator's view of deliveries: failed dispatches with their reasons, one delivery
//! with its courier calls (masked), and the retry of a failed dispatch.

use actix_web::{HttpResponse, get, post, web};
use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::app::AppState;
use crate::http::auth::OperatorCaller;
use crate::http::problem::{ApiError, Problem};
use crate::store::dispatch::{self, OperatorRow, RetryOutcome};

/// A delivery as the operator sees it: routing, courier and failure details, no personal data.
#[derive(Debug, Serialize, ToSchema)]
pub struct OperatorDelivery {
    pub id: String,
    pub agency_id: String,
    pub dossier_code: String,
    pub state: String,
    /// Why it is in this state; for `dispatch_failed`, each courier's reason.
    pub state_reason: Option<String>,
    pub ward_code: String,
    pub courier: String,
    pub service_code: String,
    pub fallback_courier: Option<String>,
    pub courier_tracking_number: Option<String>,
    pub courier_fee_vnd: Option<i64>,
    /// A courier asked to create the order whose answer is not recorded yet.
    pub dispatch_courier: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: NaiveDateTime,
}

/// One courier call, bodies masked.
#[derive(Debug, Serialize, ToSchema)]
pub struct CourierCall {
    pub courier: String,
    pub operation: String,
    pub status_code: Option<i32>,
    pub duration_ms: i32,
    pub request_body: Option<String>,
    pub response_body: Option<String>,
    pub error: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    pub occurred_at: NaiveDateTime,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OperatorDeliveryDetail {
    #[serde(flatten)]
    pub delivery: OperatorDelivery,
    pub courier_calls: Vec<CourierCall>,
    /// What the citizen was told (masked), oldest first.
    pub notifications: Vec<crate::http::notifications::NotificationView>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ListQuery {
    /// Only deliveries in this state, e.g. `dispatch_failed`.
    pub state: Option<String>,
    /// At most this many, newest change first (default 50, at most 500).
    pub limit: Option<i64>,
}

impl From<OperatorRow> for OperatorDelivery {
    fn from(r: OperatorRow) -> Self {
        Self {
            id: r.id,
            agency_id: r.agency_id,
            dossier_code: r.dossier_code,
            state: r.state,
            state_reason: r.state_reason,
            ward_code: r.ward_code,
            courier: r.courier,
            service_code: r.service_code,
            fallback_courier: r.fallback_courier,
            courier_tracking_number: r.courier_tracking_number,
            courier_fee_vnd: r.courier_fee_vnd,
            dispatch_courier: r.dispatch_courier,
            updated_at: r.updated_at,
        }
    }
}

/// Deliveries, newest change first, optionally in one state (the failure queue:
/// `?state=dispatch_failed`).
#[utoipa::path(
    context_path = "/v1/admin/deliveries",
    tag = "admin",
    params(ListQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, body = Vec<OperatorDelivery>),
        (status = 401, description = "Missing or unknown key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an operator key", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("")]
pub async fn list_deliveries(
    state: web::Data<AppState>,
    _operator: OperatorCaller,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let ListQuery {
        state: wanted,
        limit,
    } = query.into_inner();
    let limit = limit.unwrap_or(50).clamp(1, 500);
    let rows = state
        .db
        .run(move |conn| {
            dispatch::list_for_operator(conn, wanted.as_deref(), limit).map_err(ApiError::from)
        })
        .await?;
    let views: Vec<OperatorDelivery> = rows.into_iter().map(OperatorDelivery::from).collect();
    Ok(HttpResponse::Ok().json(views))
}

/// One delivery with every courier call made for it (bodies masked).
#[utoipa::path(
    context_path = "/v1/admin/deliveries",
    tag = "admin",
    params(("id" = String, Path, description = "Delivery id")),
    security(("bearer" = [])),
    responses(
        (status = 200, body = OperatorDeliveryDetail),
        (status = 401, description = "Missing or unknown key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an operator key", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such delivery", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/{id}")]
pub async fn get_delivery(
    state: web::Data<AppState>,
    _operator: OperatorCaller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let found = state
        .db
        .run(move |conn| {
            let row = dispatch::find_for_operator(conn, &id).map_err(ApiError::from)?;
            let calls = dispatch::exchanges(conn, &id).map_err(ApiError::from)?;
            let told =
                crate::store::notifications::for_delivery(conn, &id).map_err(ApiError::from)?;
            Ok::<_, ApiError>(row.map(|r| (r, calls, told)))
        })
        .await?;
    let (row, calls, told) = found.ok_or_else(|| ApiError::NotFound("no such delivery".into()))?;
    let courier_calls = calls
        .into_iter()
        .map(|c| CourierCall {
            courier: c.courier,
            operation: c.operation,
            status_code: c.status_code,
            duration_ms: c.duration_ms,
            request_body: c.request_body,
            response_body: c.response_body,
            error: c.error,
            occurred_at: c.occurred_at,
        })
        .collect();
    Ok(HttpResponse::Ok().json(OperatorDeliveryDetail {
        delivery: row.into(),
        courier_calls,
        notifications: told.into_iter().map(Into::into).collect(),
    }))
}

/// Retries a `dispatch_failed` delivery: back to `received`, dispatched again at once.
#[utoipa::path(
    context_path = "/v1/admin/deliveries",
    tag = "admin",
    params(("id" = String, Path, description = "Delivery id")),
    security(("bearer" = [])),
    responses(
        (status = 202, description = "Dispatch queued again"),
        (status = 401, description = "Missing or unknown key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an operator key", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such delivery", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not in dispatch_failed", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/{id}/retry")]
pub async fn retry_delivery(
    state: web::Data<AppState>,
    operator: OperatorCaller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let outcome = {
        let id = id.clone();
        state
            .db
            .run(move |conn| dispatch::retry(conn, &id).map_err(ApiError::from))
            .await?
    };
    match outcome {
        RetryOutcome::Requeued => {
            crate::tracking::deliveries_changed(&state, vec![id.clone()]).await;
            tracing::info!(delivery_id = %id, operator_key = %operator.key_id, "dispatch retried");
            Ok(HttpResponse::Accepted().json(serde_json::json!({"id": id, "state": "received"})))
        }
        RetryOutcome::NotFound => Err(ApiError::NotFound("no such delivery".into())),
        RetryOutcome::NotFailed(current) => Err(ApiError::Conflict {
            detail: format!(
                "the delivery is {current}; only dispatch_failed deliveries are retried"
            ),
            errors: Vec::new(),
        }),
    }
}
