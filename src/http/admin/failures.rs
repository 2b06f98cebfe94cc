//! The failure queue (`/v1/admin/failures`): everything that stopped and waits for a
//! person, each with its reason and the actions that fit it; and the audit log of what
//! operators did about it (`/v1/admin/audit`).

use actix_web::{HttpResponse, get, post, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::app::AppState;
use crate::http::auth::OperatorCaller;
use crate::http::problem::{ApiError, Problem};
use crate::store::audit::{self, AuditRow};
use crate::store::failures::{self, ActionError, Failure, FailureAction, FailureKind};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Most entries of each kind (default 200, at most 1000).
    pub limit: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FailureQueue {
    pub count: usize,
    pub failures: Vec<Failure>,
}

/// The failure queue, newest first: `dispatch_failed` deliveries, unknown courier status
/// codes, parked jobs, disabled callback endpoints, and SMS or email that failed for good.
#[utoipa::path(
    context_path = "/v1/admin/failures",
    tag = "admin",
    params(ListQuery),
    responses((status = 200, body = FailureQueue), (status = 403, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = []))
)]
#[get("")]
pub async fn list_failures(
    state: web::Data<AppState>,
    _operator: OperatorCaller,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let limit = query.limit.unwrap_or(200).clamp(1, 1000);
    let failures = state
        .db
        .run(move |conn| failures::list(conn, limit))
        .await?;
    Ok(HttpResponse::Ok().json(FailureQueue {
        count: failures.len(),
        failures,
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ActionResult {
    pub kind: FailureKind,
    pub id: String,
    pub action: FailureAction,
    /// What was done, in words.
    pub result: String,
}

/// Takes one action on an entry: `retry`, `reroute` (a failed dispatch, to the other
/// courier), `replay` (a disabled callback endpoint: enable it and send what it missed) or
/// `mark_handled`. Recorded in the audit log with the operator key and the time.
#[utoipa::path(
    context_path = "/v1/admin/failures",
    tag = "admin",
    params(
        ("kind" = String, Path, description = "dispatch_failed | unknown_courier_code | parked_job | callback_disabled | notification_failed"),
        ("id" = String, Path, description = "the entry's id from the queue"),
        ("action" = String, Path, description = "retry | reroute | replay | mark_handled"),
    ),
    responses(
        (status = 200, body = ActionResult),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/{kind}/{id}/{action}")]
pub async fn act_on_failure(
    state: web::Data<AppState>,
    operator: OperatorCaller,
    path: web::Path<(String, String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (kind, id, action) = path.into_inner();
    let kind = FailureKind::parse(&kind).ok_or_else(|| {
        ApiError::NotFound(format!(
            "no failure kind '{kind}'; use dispatch_failed, unknown_courier_code, parked_job, callback_disabled or notification_failed"
        ))
    })?;
    let action = FailureAction::parse(&action).ok_or_else(|| {
        ApiError::NotFound(format!(
            "no action '{action}'; use retry, reroute, replay or mark_handled"
        ))
    })?;
    let result = take_action(&state, &operator, kind, id.clone(), action).await?;
    Ok(HttpResponse::Ok().json(ActionResult {
        kind,
        id,
        action,
        result,
    }))
}

/// Who an operator is in the audit log.
pub fn actor(operator: &OperatorCaller) -> String {
    format!("operator:{}", operator.key_id)
}

/// Runs an action for the API and the dashboard alike.
pub async fn take_action(
    state: &AppState,
    operator: &OperatorCaller,
    kind: FailureKind,
    id: String,
    action: FailureAction,
) -> Result<String, ApiError> {
    let actor = actor(operator);
    let done = state
        .db
        .run(move |conn| failures::act(conn, kind, &id, action, &actor))
        .await;
    match done {
        Ok(result) => {
            tracing::info!(
                kind = kind.as_str(),
                action = action.as_str(),
                "failure-queue action taken"
            );
            Ok(result)
        }
        Err(ActionError::NotFound(what)) => Err(ApiError::NotFound(format!("no such {what}"))),
        Err(ActionError::Refused(why)) => Err(ApiError::Conflict {
            detail: why,
            errors: Vec::new(),
        }),
        Err(ActionError::Store(e)) => Err(e.into()),
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Only this action, e.g. `failure.retry` or `retention.run`.
    pub action: Option<String>,
    /// Most entries (default 100, at most 1000).
    pub limit: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEntryView {
    pub id: String,
    #[schema(value_type = String, format = DateTime)]
    pub at: chrono::NaiveDateTime,
    pub actor: String,
    pub action: String,
    pub subject_kind: Option<String>,
    pub subject_id: Option<String>,
    #[schema(value_type = Object)]
    pub detail: serde_json::Value,
}

impl From<AuditRow> for AuditEntryView {
    fn from(r: AuditRow) -> Self {
        Self {
            detail: serde_json::from_str(&r.detail).unwrap_or(serde_json::Value::Null),
            id: r.id,
            at: r.at,
            actor: r.actor,
            action: r.action,
            subject_kind: r.subject_kind,
            subject_id: r.subject_id,
        }
    }
}

/// The audit log, newest first: operator actions on the failure queue and retention runs.
#[utoipa::path(
    context_path = "/v1/admin/audit",
    tag = "admin",
    params(AuditQuery),
    responses((status = 200, body = Vec<AuditEntryView>)),
    security(("bearer" = []))
)]
#[get("")]
pub async fn audit_log(
    state: web::Data<AppState>,
    _operator: OperatorCaller,
    query: web::Query<AuditQuery>,
) -> Result<HttpResponse, ApiError> {
    let limit = query.limit.unwrap_or(100).clamp(1, 1000);
    let action = query.action.clone();
    let rows = state
        .db
        .run(move |conn| audit::recent(conn, action.as_deref(), limit))
        .await?;
    let view: Vec<AuditEntryView> = rows.into_iter().map(Into::into).collect();
    Ok(HttpResponse::Ok().json(view))
}
