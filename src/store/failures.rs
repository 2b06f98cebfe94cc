//! The operator's failure queue: everything that stopped and waits for a person, gathered
//! from where it already lives (deliveries, events, jobs, agencies, notifications) rather
//! than copied, so it can never disagree with the records. An entry leaves the queue when
//! its cause is gone (a retry worked) or when an operator marks it handled.
//!
//! Every action runs in one transaction with its audit-log entry.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use super::audit::{self, AuditEntry};
use super::callbacks::{self, ReplayFilter, ReplayOutcome};
use super::dispatch::{self, RetryOutcome};
use super::schema::{agencies, deliveries, failures_handled, notifications};
use super::{DbConnection, StoreError, jobs};
use crate::domain::courier::Courier;
use crate::domain::ids::now_utc;
use crate::domain::jobs::{JobKind, NewJob};
use crate::domain::state::DeliveryState;

/// What kind of thing failed; each has its own actions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FailureKind {
    /// No courier accepted the order: retry, or re-route to the other courier.
    DispatchFailed,
    /// A courier sent a status code no mapping knows: decide, then mark handled.
    UnknownCourierCode,
    /// A job used up its attempts: retry.
    ParkedJob,
    /// An agency's callback endpoint answered 410 and was disabled: replay once it is fixed.
    CallbackDisabled,
    /// An SMS or email that failed for good (or may or may not have gone out): retry.
    NotificationFailed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FailureAction {
    Retry,
    Reroute,
    Replay,
    MarkHandled,
}

impl FailureKind {
    pub const ALL: [FailureKind; 5] = [
        FailureKind::DispatchFailed,
        FailureKind::UnknownCourierCode,
        FailureKind::ParkedJob,
        FailureKind::CallbackDisabled,
        FailureKind::NotificationFailed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FailureKind::DispatchFailed => "dispatch_failed",
            FailureKind::UnknownCourierCode => "unknown_courier_code",
            FailureKind::ParkedJob => "parked_job",
            FailureKind::CallbackDisabled => "callback_disabled",
            FailureKind::NotificationFailed => "notification_failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The actions that make sense for this kind, the main one first.
    pub fn actions(self) -> &'static [FailureAction] {
        use FailureAction::*;
        match self {
            FailureKind::DispatchFailed => &[Retry, Reroute, MarkHandled],
            FailureKind::UnknownCourierCode => &[MarkHandled],
            FailureKind::ParkedJob => &[Retry, MarkHandled],
            FailureKind::CallbackDisabled => &[Replay, MarkHandled],
            FailureKind::NotificationFailed => &[Retry, MarkHandled],
        }
    }
}

impl FailureAction {
    pub fn as_str(self) -> &'static str {
        match self {
            FailureAction::Retry => "retry",
            FailureAction::Reroute => "reroute",
            FailureAction::Replay => "replay",
            FailureAction::MarkHandled => "mark_handled",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Retry, Self::Reroute, Self::Replay, Self::MarkHandled]
            .into_iter()
            .find(|a| a.as_str() == s)
    }
}

/// One entry of the queue. `reason` is what the system recorded, never personal data.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Failure {
    pub kind: FailureKind,
    /// The delivery, event, job, agency or notification the entry is about.
    pub id: String,
    pub delivery_id: Option<String>,
    /// Courier, job kind, agency code or channel: what the reader sorts by.
    pub subject: String,
    pub reason: Option<String>,
    /// When it failed.
    pub since: NaiveDateTime,
    pub actions: Vec<FailureAction>,
}

/// The whole queue, newest first, at most `limit` entries of each kind, without the entries
/// marked handled.
pub fn list(conn: &mut DbConnection, limit: i64) -> Result<Vec<Failure>, StoreError> {
    let handled: std::collections::HashSet<(String, String)> = failures_handled::table
        .select((failures_handled::kind, failures_handled::subject_id))
        .load::<(String, String)>(conn)?
        .into_iter()
        .collect();
    let mut all = Vec::new();
    all.extend(dispatch_failed(conn, limit)?);
    all.extend(unknown_codes(conn, limit)?);
    let failed_deliveries: std::collections::HashSet<String> =
        all.iter().filter_map(|f| f.delivery_id.clone()).collect();
    // A dispatch_failed delivery's parked dispatch job is the same failure, shown once.
    all.extend(parked_jobs(conn, limit)?.into_iter().filter(|f| {
        !(f.subject == JobKind::Dispatch.as_str()
            && f.delivery_id
                .as_ref()
                .is_some_and(|d| failed_deliveries.contains(d)))
    }));
    all.extend(disabled_callbacks(conn, limit)?);
    all.extend(failed_notifications(conn, limit)?);
    all.retain(|f| !handled.contains(&(f.kind.as_str().to_owned(), f.id.clone())));
    all.sort_by_key(|f| std::cmp::Reverse(f.since));
    Ok(all)
}

fn entry(
    kind: FailureKind,
    id: String,
    delivery_id: Option<String>,
    subject: String,
    reason: Option<String>,
    since: NaiveDateTime,
) -> Failure {
    Failure {
        kind,
        id,
        delivery_id,
        subject,
        reason,
        since,
        actions: kind.actions().to_vec(),
    }
}

fn dispatch_failed(conn: &mut DbConnection, limit: i64) -> Result<Vec<Failure>, StoreError> {
    let rows: Vec<(String, String, Option<String>, NaiveDateTime)> = deliveries::table
        .filter(deliveries::state.eq(DeliveryState::DispatchFailed.as_str()))
        .order(deliveries::updated_at.desc())
        .limit(limit)
        .select((
            deliveries::id,
            deliveries::courier,
            deliveries::state_reason,
            deliveries::updated_at,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(id, courier, reason, at)| {
            entry(
                FailureKind::DispatchFailed,
                id.clone(),
                Some(id),
                courier,
                reason,
                at,
            )
        })
        .collect())
}

fn unknown_codes(conn: &mut DbConnection, limit: i64) -> Result<Vec<Failure>, StoreError> {
    Ok(super::courier_events::unknown_codes(conn, limit)?
        .into_iter()
        .map(|u| {
            let code = format!(
                "{} {}",
                u.raw_code.as_deref().unwrap_or("?"),
                u.raw_text.as_deref().unwrap_or("")
            );
            entry(
                FailureKind::UnknownCourierCode,
                u.event_id,
                Some(u.delivery_id),
                u.courier.unwrap_or_default(),
                Some(code.trim().to_owned()),
                u.recorded_at,
            )
        })
        .collect())
}

fn parked_jobs(conn: &mut DbConnection, limit: i64) -> Result<Vec<Failure>, StoreError> {
    Ok(jobs::list_parked(conn, limit)?
        .into_iter()
        .map(|j| {
            entry(
                FailureKind::ParkedJob,
                j.id,
                j.delivery_id,
                j.kind,
                j.last_error,
                j.updated_at,
            )
        })
        .collect())
}

fn disabled_callbacks(conn: &mut DbConnection, limit: i64) -> Result<Vec<Failure>, StoreError> {
    let rows: Vec<(String, String, Option<NaiveDateTime>)> = agencies::table
        .filter(agencies::callback_disabled_at.is_not_null())
        .order(agencies::callback_disabled_at.desc())
        .limit(limit)
        .select((agencies::id, agencies::code, agencies::callback_disabled_at))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, code, at)| {
            let reason = Some("the endpoint answered 410 Gone; callbacks stopped".to_owned());
            at.map(|at| entry(FailureKind::CallbackDisabled, id, None, code, reason, at))
        })
        .collect())
}

/// id, delivery, channel, last error, updated, created.
type NotificationFailure = (
    String,
    String,
    String,
    Option<String>,
    Option<NaiveDateTime>,
    NaiveDateTime,
);

fn failed_notifications(conn: &mut DbConnection, limit: i64) -> Result<Vec<Failure>, StoreError> {
    use super::notifications::{FAILED, UNCONFIRMED};
    let rows: Vec<NotificationFailure> = notifications::table
        .filter(notifications::status.eq_any([FAILED, UNCONFIRMED]))
        .order(notifications::created_at.desc())
        .limit(limit)
        .select((
            notifications::id,
            notifications::delivery_id,
            notifications::channel,
            notifications::last_error,
            notifications::updated_at,
            notifications::created_at,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(id, delivery, channel, error, updated, created)| {
            let since = updated.unwrap_or(created);
            entry(
                FailureKind::NotificationFailed,
                id,
                Some(delivery),
                channel,
                error,
                since,
            )
        })
        .collect())
}

/// Why an action was not taken.
#[derive(Debug, thiserror::Error)]
pub enum ActionError {
    #[error("no such {0}")]
    NotFound(&'static str),
    #[error("{0}")]
    Refused(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<diesel::result::Error> for ActionError {
    fn from(e: diesel::result::Error) -> Self {
        ActionError::Store(e.into())
    }
}

/// Takes `action` on the entry, and records who did it, in one transaction. Returns what
/// was done, in words for the operator.
pub fn act(
    conn: &mut DbConnection,
    kind: FailureKind,
    id: &str,
    action: FailureAction,
    actor: &str,
) -> Result<String, ActionError> {
    if !kind.actions().contains(&action) {
        return Err(ActionError::Refused(format!(
            "{} is not an action for {}; use one of: {}",
            action.as_str(),
            kind.as_str(),
            kind.actions()
                .iter()
                .map(|a| a.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    conn.transaction(|conn| {
        let done = match (kind, action) {
            (_, FailureAction::MarkHandled) => mark_handled(conn, kind, id, actor)?,
            (FailureKind::DispatchFailed, FailureAction::Retry) => retry_dispatch(conn, id)?,
            (FailureKind::DispatchFailed, FailureAction::Reroute) => reroute(conn, id)?,
            (FailureKind::ParkedJob, FailureAction::Retry) => {
                if !jobs::requeue(conn, id)? {
                    return Err(ActionError::NotFound("parked job"));
                }
                "job put back in the queue with a fresh set of attempts".to_owned()
            }
            (FailureKind::CallbackDisabled, FailureAction::Replay) => replay_callbacks(conn, id)?,
            (FailureKind::NotificationFailed, FailureAction::Retry) => {
                retry_notification(conn, id)?
            }
            _ => return Err(ActionError::Refused("not an action for this entry".into())),
        };
        if action != FailureAction::MarkHandled {
            // A retried entry that fails again belongs in the queue again.
            diesel::delete(failures_handled::table.find((kind.as_str(), id))).execute(conn)?;
        }
        audit::record(
            conn,
            &AuditEntry {
                actor,
                action: &format!("failure.{}", action.as_str()),
                subject_kind: Some(kind.as_str()),
                subject_id: Some(id),
                detail: serde_json::json!({ "result": done }),
            },
        )?;
        Ok(done)
    })
}

fn mark_handled(
    conn: &mut DbConnection,
    kind: FailureKind,
    id: &str,
    actor: &str,
) -> Result<String, ActionError> {
    diesel::delete(failures_handled::table.find((kind.as_str(), id))).execute(conn)?;
    diesel::insert_into(failures_handled::table)
        .values((
            failures_handled::kind.eq(kind.as_str()),
            failures_handled::subject_id.eq(id),
            failures_handled::handled_at.eq(now_utc()),
            failures_handled::handled_by.eq(actor),
        ))
        .execute(conn)?;
    Ok("marked handled".to_owned())
}

fn retry_dispatch(conn: &mut DbConnection, id: &str) -> Result<String, ActionError> {
    match dispatch::retry(conn, id)? {
        RetryOutcome::Requeued => Ok("dispatch requeued".to_owned()),
        RetryOutcome::NotFound => Err(ActionError::NotFound("delivery")),
        RetryOutcome::NotFailed(state) => Err(ActionError::Refused(format!(
            "the delivery is {state}, not dispatch_failed"
        ))),
    }
}

/// Sends the order to the other courier instead, with its standard service. Refused while
/// an order may exist at the first courier (a create call went out without an answer).
fn reroute(conn: &mut DbConnection, id: &str) -> Result<String, ActionError> {
    let row: Option<(String, String, Option<String>)> = deliveries::table
        .find(id)
        .select((
            deliveries::state,
            deliveries::courier,
            deliveries::dispatch_courier,
        ))
        .first(conn)
        .optional()?;
    let Some((state, courier, in_doubt)) = row else {
        return Err(ActionError::NotFound("delivery"));
    };
    if state != DeliveryState::DispatchFailed.as_str() {
        return Err(ActionError::Refused(format!(
            "the delivery is {state}, not dispatch_failed"
        )));
    }
    if let Some(at) = in_doubt {
        return Err(ActionError::Refused(format!(
            "an order may exist at {at} (its create call had no answer); retry instead"
        )));
    }
    let other = Courier::ALL
        .into_iter()
        .find(|c| c.as_str() != courier)
        .ok_or(ActionError::NotFound("courier"))?;
    diesel::update(deliveries::table.find(id))
        .set((
            deliveries::courier.eq(other.as_str()),
            deliveries::service_code.eq(crate::routing::standard_service_code(other)),
            deliveries::fallback_courier.eq(None::<String>),
        ))
        .execute(conn)?;
    retry_dispatch(conn, id)?;
    Ok(format!(
        "re-routed from {courier} to {} and requeued",
        other.as_str()
    ))
}

/// Turns the agency's endpoint back on and sends again every state change since it was
/// disabled.
fn replay_callbacks(conn: &mut DbConnection, agency_id: &str) -> Result<String, ActionError> {
    let row: Option<(String, Option<NaiveDateTime>)> = agencies::table
        .find(agency_id)
        .select((agencies::code, agencies::callback_disabled_at))
        .first(conn)
        .optional()?;
    let Some((code, Some(disabled_at))) = row else {
        return Err(ActionError::NotFound("disabled callback endpoint"));
    };
    diesel::update(agencies::table.find(agency_id))
        .set((
            agencies::callback_disabled_at.eq(None::<NaiveDateTime>),
            agencies::updated_at.eq(now_utc()),
        ))
        .execute(conn)?;
    let filter = ReplayFilter::Range {
        from: disabled_at,
        to: now_utc() + chrono::TimeDelta::seconds(1),
        agency_code: Some(code),
    };
    match callbacks::replay(conn, &filter, 10_000)? {
        ReplayOutcome::Enqueued(n) => Ok(format!("endpoint enabled; {n} callbacks replayed")),
        ReplayOutcome::TooMany(n) => Err(ActionError::Refused(format!(
            "{n} callbacks to replay; enable the endpoint and replay by time range instead"
        ))),
        other => Err(ActionError::Refused(format!("{other:?}"))),
    }
}

fn retry_notification(conn: &mut DbConnection, id: &str) -> Result<String, ActionError> {
    use super::notifications::{FAILED, PENDING, UNCONFIRMED};
    let delivery: Option<String> = notifications::table
        .find(id)
        .filter(notifications::status.eq_any([FAILED, UNCONFIRMED]))
        .select(notifications::delivery_id)
        .first(conn)
        .optional()?;
    let Some(delivery_id) = delivery else {
        return Err(ActionError::NotFound("failed notification"));
    };
    let now = now_utc();
    diesel::update(notifications::table.find(id))
        .set((
            notifications::status.eq(PENDING),
            notifications::due_at.eq(now),
            notifications::updated_at.eq(now),
        ))
        .execute(conn)?;
    let job = NewJob {
        kind: JobKind::SendNotification,
        delivery_id: Some(delivery_id),
        payload: serde_json::json!({ "notification_id": id }),
        run_at: Some(now),
    };
    jobs::enqueue(conn, &job)?;
    Ok("message queued to send again".to_owned())
}
