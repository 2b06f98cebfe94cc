//! The operator's side of agency callbacks: every attempt made for a delivery, and replays
//! of state changes (after an agency's outage, or a URL fixed after a 410).

use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, FixedOffset, NaiveDateTime};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::app::AppState;
use crate::domain::validation::FieldError;
use crate::http::auth::OperatorCaller;
use crate::http::problem::{ApiError, Problem};
use crate::store::callbacks::{self as store, ReplayFilter, ReplayOutcome};
use crate::store::dispatch;

/// Most callback jobs one replay enqueues; a wider range is refused, to be split.
pub const MAX_REPLAY: usize = 10_000;

/// One POST to the agency's endpoint.
#[derive(Debug, Serialize, ToSchema)]
pub struct CallbackAttemptView {
    /// The `webhook-id` header: the state change's event id, the same on every retry and
    /// replay.
    pub webhook_id: String,
    /// The outbox job that made it (an original send or a replay).
    pub job_id: Option<String>,
    pub url: String,
    /// The job's attempt number, from 1.
    pub attempt: i32,
    /// The endpoint's answer; none when nothing was answered (timeout, refused address).
    pub status_code: Option<i32>,
    pub error: Option<String>,
    /// The start of the answer's body (at most 200 characters).
    pub response_excerpt: Option<String>,
    pub duration_ms: Option<i32>,
    #[schema(value_type = String, format = DateTime)]
    pub attempted_at: NaiveDateTime,
}

/// A callback job: one state change to send, and where it stands.
#[derive(Debug, Serialize, ToSchema)]
pub struct CallbackJobView {
    pub job_id: String,
    pub event_id: Option<String>,
    pub state: Option<String>,
    /// Enqueued by a replay rather than by the state change.
    pub replay: bool,
    /// `pending` (due at `run_at`), `running`, `done` or `parked` (gave up; see `last_error`).
    pub status: String,
    pub attempts: i32,
    pub max_attempts: i32,
    #[schema(value_type = String, format = DateTime)]
    pub run_at: NaiveDateTime,
    pub last_error: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryCallbacks {
    pub delivery_id: String,
    pub jobs: Vec<CallbackJobView>,
    /// Oldest first.
    pub attempts: Vec<CallbackAttemptView>,
}

/// Sends state changes to the agency again: one delivery's, or those recorded in a time range
/// (optionally of one agency). Give `delivery_id`, or `from` and `to`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"from": "2026-11-20T00:00:00+07:00", "to": "2026-11-21T00:00:00+07:00", "agency_code": "000.00.01.H29"}))]
pub struct ReplayRequest {
    pub delivery_id: Option<String>,
    /// RFC 3339; state changes recorded at or after it.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub from: Option<DateTime<FixedOffset>>,
    /// RFC 3339; state changes recorded before it.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub to: Option<DateTime<FixedOffset>>,
    /// With a range only: that agency's deliveries.
    pub agency_code: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReplayAccepted {
    /// Callback jobs enqueued, one per state change, due at once.
    pub enqueued: usize,
}

/// A delivery's callback jobs and every attempt they made (status, error, answer excerpt).
#[utoipa::path(
    context_path = "/v1/admin/deliveries",
    tag = "admin",
    params(("id" = String, Path, description = "Delivery id")),
    security(("bearer" = [])),
    responses(
        (status = 200, body = DeliveryCallbacks),
        (status = 401, description = "Missing or unknown key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an operator key", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such delivery", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/{id}/callbacks")]
pub async fn delivery_callbacks(
    state: web::Data<AppState>,
    _operator: OperatorCaller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let found = {
        let id = id.clone();
        state
            .db
            .run(move |conn| {
                if dispatch::find_for_operator(conn, &id)?.is_none() {
                    return Ok(None);
                }
                let jobs = store::callback_jobs(conn, &id)?;
                let attempts = store::attempts(conn, &id)?;
                Ok::<_, crate::store::StoreError>(Some((jobs, attempts)))
            })
            .await?
    };
    let (jobs, attempts) = found.ok_or_else(|| ApiError::NotFound("no such delivery".into()))?;
    let jobs = jobs
        .into_iter()
        .map(|j| CallbackJobView {
            job_id: j.job.id,
            event_id: j.event_id,
            state: j.state,
            replay: j.replay,
            status: j.job.status,
            attempts: j.job.attempts,
            max_attempts: j.job.max_attempts,
            run_at: j.job.run_at,
            last_error: j.job.last_error,
        })
        .collect();
    let attempts = attempts
        .into_iter()
        .map(|a| CallbackAttemptView {
            webhook_id: a.webhook_id,
            job_id: a.job_id,
            url: a.url,
            attempt: a.attempt,
            status_code: a.status_code,
            error: a.error,
            response_excerpt: a.response_excerpt,
            duration_ms: a.duration_ms,
            attempted_at: a.attempted_at,
        })
        .collect();
    Ok(HttpResponse::Ok().json(DeliveryCallbacks {
        delivery_id: id,
        jobs,
        attempts,
    }))
}

/// Enqueues the callbacks of matching state changes again, due at once. Each carries its
/// event's id as `webhook-id`, as the first time, so receivers can tell a replay from news.
/// Only agencies with a callback URL that is not disabled are called back.
#[utoipa::path(
    context_path = "/v1/admin/callbacks",
    tag = "admin",
    request_body = ReplayRequest,
    security(("bearer" = [])),
    responses(
        (status = 202, description = "Callback jobs enqueued", body = ReplayAccepted),
        (status = 400, description = "Neither or both of delivery_id and from/to, from not before to, an unknown agency_code, or more than 10,000 matches; each field named in errors[]", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or unknown key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an operator key", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such delivery", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The delivery's agency has no callback URL, or its endpoint is disabled", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/replay")]
pub async fn replay(
    state: web::Data<AppState>,
    operator: OperatorCaller,
    body: web::Json<ReplayRequest>,
) -> Result<HttpResponse, ApiError> {
    let filter = replay_filter(body.into_inner())?;
    let outcome = {
        let filter = filter.clone();
        state
            .db
            .run(move |conn| store::replay(conn, &filter, MAX_REPLAY))
            .await?
    };
    let range_field = |code: &str, message: String| {
        ApiError::Validation(vec![FieldError::new("from", code, message)])
    };
    match outcome {
        ReplayOutcome::Enqueued(enqueued) => {
            tracing::info!(enqueued, operator_key = %operator.key_id, "callbacks replayed");
            Ok(HttpResponse::Accepted().json(ReplayAccepted { enqueued }))
        }
        ReplayOutcome::NoSuchDelivery => Err(ApiError::NotFound("no such delivery".into())),
        ReplayOutcome::NoSuchAgency => Err(ApiError::Validation(vec![FieldError::new(
            "agency_code",
            "unknown_agency",
            "no agency has this code",
        )])),
        ReplayOutcome::NoEndpoint => Err(ApiError::Conflict {
            detail: "the delivery's agency has no callback URL, or its endpoint answered 410 Gone and is disabled: set callback_url (PATCH /v1/admin/agencies/{code}) first".into(),
            errors: Vec::new(),
        }),
        ReplayOutcome::TooMany(limit) => Err(range_field(
            "too_many",
            format!("more than {limit} state changes match; replay a narrower range"),
        )),
    }
}

fn replay_filter(body: ReplayRequest) -> Result<ReplayFilter, ApiError> {
    let mut errors = Vec::new();
    let ranged = body.from.is_some() || body.to.is_some();
    match (body.delivery_id, ranged) {
        (Some(_), true) => errors.push(FieldError::new(
            "delivery_id",
            "conflicting",
            "give delivery_id, or from and to, not both",
        )),
        (Some(id), false) => {
            if body.agency_code.is_some() {
                errors.push(FieldError::new(
                    "agency_code",
                    "conflicting",
                    "agency_code narrows a time range; a delivery already has its agency",
                ));
            } else {
                return Ok(ReplayFilter::Delivery(id.trim().to_owned()));
            }
        }
        (None, false) => errors.push(FieldError::new(
            "delivery_id",
            "required",
            "give delivery_id, or from and to",
        )),
        (None, true) => match (body.from, body.to) {
            (Some(from), Some(to)) if from < to => {
                return Ok(ReplayFilter::Range {
                    from: from.naive_utc(),
                    to: to.naive_utc(),
                    agency_code: body.agency_code.map(|c| c.trim().to_owned()),
                });
            }
            (Some(_), Some(_)) => errors.push(FieldError::new(
                "to",
                "before_from",
                "to must be later than from",
            )),
            (from, _) => {
                let missing = if from.is_none() { "from" } else { "to" };
                errors.push(FieldError::new(
                    missing,
                    "required",
                    "a range needs both from and to (RFC 3339)",
                ));
            }
        },
    }
    Err(ApiError::Validation(errors))
}
