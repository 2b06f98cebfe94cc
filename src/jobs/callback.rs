//! The `callback` job: one signed POST of a state change to the agency's `callback_url`,
//! every attempt recorded in `callback_attempts`.
//!
//! - no URL: done, nothing sent; a disabled endpoint (it answered 410 before): the same.
//! - 2xx: done. 410 Gone: the endpoint is disabled on the agency and the job ends.
//! - any other answer, a timeout, a network failure, or an address the guard refused
//!   behind a name: retried on the callbacks' own schedule (about 3 days, see
//!   `domain::jobs::callback_schedule`), then parked for the operator.
//! - a URL naming a refused address, or an agency without a usable secret: parked at once.
//!
//! Logs carry ids, the agency code and status codes: never the URL (it may hold a token),
//! the secret, the signature, the body or the answer.

use std::time::Duration;

use async_trait::async_trait;
use serde::Deserialize;

use super::{Backoff, ClaimedJob, JobError, JobHandler};
use crate::app::AppState;
use crate::callbacks::signing::SigningKey;
use crate::callbacks::{Attempt, Envelope, Signed, StateChanged, Verdict, rfc3339};
use crate::domain::jobs::JobKind;
use crate::store::callbacks::{self as store, CallbackTarget, NewAttempt};

pub struct CallbackHandler;

/// Written by `store::followups` and by replays; other fields are informative.
#[derive(Deserialize)]
struct Payload {
    delivery_id: String,
    event_id: String,
}

#[async_trait]
impl JobHandler for CallbackHandler {
    fn kind(&self) -> JobKind {
        JobKind::Callback
    }

    fn backoff(&self, ctx: &AppState) -> Option<Backoff> {
        let s = &ctx.settings.callbacks;
        Some(Backoff {
            base: Duration::from_millis(s.backoff_base_ms),
            cap: Duration::from_millis(s.backoff_cap_ms),
        })
    }

    async fn run(&self, job: &ClaimedJob, ctx: &AppState) -> Result<(), JobError> {
        let payload: Payload = job
            .payload()
            .map_err(|e| JobError::permanent(format!("unreadable callback payload: {e}")))?;
        let target = {
            let (delivery_id, event_id) = (payload.delivery_id.clone(), payload.event_id.clone());
            ctx.db
                .run(move |c| store::load_target(c, &delivery_id, &event_id))
                .await
                .map_err(JobError::retry)?
                .ok_or_else(|| JobError::permanent("the delivery or its event no longer exists"))?
        };
        let Some(url) = target.url.clone() else {
            count("no_endpoint");
            return Ok(());
        };
        if target.disabled_at.is_some() {
            tracing::debug!(agency = %target.agency_code, delivery_id = %target.delivery_id,
                "callback not sent: the agency's endpoint is disabled (410 Gone)");
            count("disabled");
            return Ok(());
        }
        let key = match target.secret.as_deref().map(SigningKey::from_secret) {
            Some(Ok(key)) => key,
            _ => {
                let error = "not sent: the agency has no valid callback secret (whsec_…); \
                             the operator sets one with PATCH /v1/admin/agencies/{code}";
                record(ctx, job, &target, &url, &unsent(error)).await?;
                count("no_secret");
                return Err(JobError::permanent(error));
            }
        };
        let body = Envelope::state_changed(state_changed(&target))
            .to_bytes()
            .map_err(JobError::permanent)?;
        let webhook_id = target.event_id.clone();
        let timestamp = chrono::Utc::now().timestamp();
        let signed = Signed {
            signature: key.sign(&webhook_id, timestamp, &body),
            webhook_id,
            timestamp,
        };
        let attempt = ctx.callbacks.post(&url, &signed, body).await;
        metrics::histogram!("civicpost_callback_seconds").record(attempt.duration.as_secs_f64());
        record(ctx, job, &target, &url, &attempt).await?;
        let (agency, delivery_id) = (&target.agency_code, &target.delivery_id);
        let status = attempt.status_code.unwrap_or_default();
        let error = attempt.error.clone().unwrap_or_default();
        match attempt.verdict {
            Verdict::Delivered => {
                count("delivered");
                tracing::debug!(%agency, %delivery_id, status, "callback delivered");
                Ok(())
            }
            Verdict::Gone => {
                count("gone");
                let (agency_id, url) = (target.agency_id.clone(), url.clone());
                let disabled = ctx
                    .db
                    .run(move |c| store::disable_endpoint(c, &agency_id, &url))
                    .await
                    .map_err(JobError::retry)?;
                if disabled {
                    tracing::warn!(%agency, %delivery_id,
                        "the agency's callback endpoint answered 410 Gone: callbacks to it are disabled until the operator sets a URL again");
                }
                Ok(())
            }
            Verdict::Refused { permanent } => {
                count("refused");
                tracing::warn!(%agency, %delivery_id, %error, "callback refused by the address guard");
                Err(if permanent {
                    JobError::permanent(error)
                } else {
                    JobError::retry(error)
                })
            }
            Verdict::Retry => {
                count("failed");
                Err(JobError::retry(error))
            }
        }
    }
}

fn state_changed(t: &CallbackTarget) -> StateChanged {
    // The courier the event came from; else the one holding the order, once there is one.
    let courier = t.event_courier.clone().or_else(|| {
        t.courier_tracking_number
            .as_ref()
            .map(|_| t.delivery_courier.clone())
    });
    StateChanged {
        event_id: t.event_id.clone(),
        delivery_id: t.delivery_id.clone(),
        dossier_code: t.dossier_code.clone(),
        tracking_code: t.tracking_code.clone(),
        state: t.state.clone(),
        reason: t.reason.clone(),
        courier,
        courier_tracking_number: t.courier_tracking_number.clone(),
        occurred_at: rfc3339(t.occurred_at),
    }
}

fn unsent(error: &str) -> Attempt {
    Attempt {
        verdict: Verdict::Refused { permanent: true },
        status_code: None,
        error: Some(error.to_owned()),
        response_excerpt: None,
        duration: Duration::ZERO,
    }
}

/// Keeps the attempt. A failure to keep it retries the job (the receiver may then get the
/// same `webhook-id` twice, which it is built to ignore).
async fn record(
    ctx: &AppState,
    job: &ClaimedJob,
    target: &CallbackTarget,
    url: &str,
    attempt: &Attempt,
) -> Result<(), JobError> {
    let (job_id, number) = (job.id.clone(), job.attempt);
    let (delivery_id, agency_id) = (target.delivery_id.clone(), target.agency_id.clone());
    let (webhook_id, url) = (target.event_id.clone(), url.to_owned());
    let (status, error) = (attempt.status_code.map(i32::from), attempt.error.clone());
    let excerpt = attempt.response_excerpt.clone();
    let duration_ms = i32::try_from(attempt.duration.as_millis()).unwrap_or(i32::MAX);
    ctx.db
        .run(move |c| {
            store::record_attempt(
                c,
                &NewAttempt {
                    delivery_id: &delivery_id,
                    agency_id: &agency_id,
                    webhook_id: &webhook_id,
                    job_id: &job_id,
                    url: &url,
                    attempt: number,
                    status_code: status,
                    error: error.as_deref(),
                    response_excerpt: excerpt.as_deref(),
                    duration_ms,
                },
            )
        })
        .await
        .map_err(|e| JobError::retry(format!("callback attempt not recorded: {e}")))
}

fn count(outcome: &'static str) {
    metrics::counter!("civicpost_callbacks_total", "outcome" => outcome).increment(1);
}
