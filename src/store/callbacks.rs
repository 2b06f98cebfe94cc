//! Agency callbacks: what a callback job sends and to where, its recorded attempts, the
//! endpoint a `410 Gone` disables, and the operator's replays.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{agencies, callback_attempts, deliveries, delivery_events};
use super::{DbConnection, StoreError, jobs};
use crate::domain::ids::{new_id, now_utc};
use crate::domain::jobs::{JobKind, NewJob};
use crate::domain::state::DeliveryState;

/// Everything one callback needs: the agency's endpoint, the delivery's ids and the event.
#[derive(Clone, Queryable)]
pub struct CallbackTarget {
    pub agency_id: String,
    pub agency_code: String,
    pub url: Option<String>,
    pub secret: Option<String>,
    pub disabled_at: Option<NaiveDateTime>,
    pub delivery_id: String,
    pub dossier_code: String,
    pub tracking_code: String,
    pub delivery_courier: String,
    pub courier_tracking_number: Option<String>,
    pub event_id: String,
    pub state: String,
    pub reason: Option<String>,
    pub event_courier: Option<String>,
    pub occurred_at: NaiveDateTime,
}

impl std::fmt::Debug for CallbackTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallbackTarget")
            .field("agency_code", &self.agency_code)
            .field("delivery_id", &self.delivery_id)
            .field("event_id", &self.event_id)
            .field("state", &self.state)
            .field("secret", &self.secret.as_ref().map(|_| "[redacted]"))
            .finish_non_exhaustive()
    }
}

/// The event `event_id` of delivery `delivery_id`, with its delivery and agency.
pub fn load_target(
    conn: &mut DbConnection,
    delivery_id: &str,
    event_id: &str,
) -> Result<Option<CallbackTarget>, StoreError> {
    Ok(delivery_events::table
        .inner_join(deliveries::table.inner_join(agencies::table))
        .filter(delivery_events::id.eq(event_id))
        .filter(delivery_events::delivery_id.eq(delivery_id))
        .select((
            agencies::id,
            agencies::code,
            agencies::callback_url,
            agencies::callback_secret,
            agencies::callback_disabled_at,
            deliveries::id,
            deliveries::dossier_code,
            deliveries::tracking_code,
            deliveries::courier,
            deliveries::courier_tracking_number,
            delivery_events::id,
            delivery_events::state,
            delivery_events::reason,
            delivery_events::courier,
            delivery_events::occurred_at,
        ))
        .first(conn)
        .optional()?)
}

/// One attempt, as the handler records it.
#[derive(Debug, Clone)]
pub struct NewAttempt<'a> {
    pub delivery_id: &'a str,
    pub agency_id: &'a str,
    pub webhook_id: &'a str,
    pub job_id: &'a str,
    pub url: &'a str,
    pub attempt: i32,
    pub status_code: Option<i32>,
    pub error: Option<&'a str>,
    pub response_excerpt: Option<&'a str>,
    pub duration_ms: i32,
}

pub fn record_attempt(conn: &mut DbConnection, a: &NewAttempt<'_>) -> Result<(), StoreError> {
    diesel::insert_into(callback_attempts::table)
        .values((
            callback_attempts::id.eq(new_id()),
            callback_attempts::delivery_id.eq(a.delivery_id),
            callback_attempts::agency_id.eq(a.agency_id),
            callback_attempts::webhook_id.eq(a.webhook_id),
            callback_attempts::job_id.eq(a.job_id),
            callback_attempts::url.eq(a.url),
            callback_attempts::attempt.eq(a.attempt),
            callback_attempts::status_code.eq(a.status_code),
            callback_attempts::error.eq(a.error),
            callback_attempts::response_excerpt.eq(a.response_excerpt),
            callback_attempts::duration_ms.eq(a.duration_ms),
            callback_attempts::attempted_at.eq(now_utc()),
        ))
        .execute(conn)?;
    Ok(())
}

/// The endpoint answered `410 Gone`: no more callbacks to it. Only while the agency still
/// has that URL (an operator may have set a new one meanwhile). `true` when it was disabled.
pub fn disable_endpoint(
    conn: &mut DbConnection,
    agency_id: &str,
    url: &str,
) -> Result<bool, StoreError> {
    let now = now_utc();
    let changed = diesel::update(
        agencies::table
            .find(agency_id)
            .filter(agencies::callback_url.eq(url))
            .filter(agencies::callback_disabled_at.is_null()),
    )
    .set((
        agencies::callback_disabled_at.eq(now),
        agencies::updated_at.eq(now),
    ))
    .execute(conn)?;
    Ok(changed == 1)
}

#[derive(Debug, Clone, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = callback_attempts)]
pub struct AttemptRow {
    pub webhook_id: String,
    pub job_id: Option<String>,
    pub url: String,
    pub attempt: i32,
    pub status_code: Option<i32>,
    pub error: Option<String>,
    pub response_excerpt: Option<String>,
    pub duration_ms: Option<i32>,
    pub attempted_at: NaiveDateTime,
}

/// A delivery's callback attempts, oldest first.
pub fn attempts(conn: &mut DbConnection, delivery_id: &str) -> Result<Vec<AttemptRow>, StoreError> {
    Ok(callback_attempts::table
        .filter(callback_attempts::delivery_id.eq(delivery_id))
        .order((callback_attempts::attempted_at, callback_attempts::id))
        .select(AttemptRow::as_select())
        .load(conn)?)
}

/// Which state changes a replay sends again.
#[derive(Debug, Clone)]
pub enum ReplayFilter {
    Delivery(String),
    /// State changes recorded in `[from, to)`, optionally of one agency.
    Range {
        from: NaiveDateTime,
        to: NaiveDateTime,
        agency_code: Option<String>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplayOutcome {
    Enqueued(usize),
    NoSuchDelivery,
    NoSuchAgency,
    /// The delivery's agency has no callback URL, or its endpoint is disabled.
    NoEndpoint,
    /// More state changes match than one replay may send: narrow the range.
    TooMany(usize),
}

/// Enqueues a callback job again for every matching state change of agencies with a live
/// endpoint, in one transaction. Each job carries the event's id, so the receiver sees the
/// same `webhook-id` as the first time. At most `limit` jobs.
pub fn replay(
    conn: &mut DbConnection,
    filter: &ReplayFilter,
    limit: usize,
) -> Result<ReplayOutcome, StoreError> {
    conn.transaction(|conn| {
        let mut query = delivery_events::table
            .inner_join(deliveries::table.inner_join(agencies::table))
            .filter(delivery_events::applied.eq(true))
            // `received` is where a delivery starts (intake, or an operator's retry), not a
            // change the agency is called back about.
            .filter(delivery_events::state.ne(DeliveryState::Received.as_str()))
            .filter(agencies::callback_url.is_not_null())
            .filter(agencies::callback_disabled_at.is_null())
            .select((
                delivery_events::id,
                delivery_events::delivery_id,
                delivery_events::state,
                delivery_events::occurred_at,
            ))
            .order((delivery_events::recorded_at, delivery_events::id))
            .limit(i64::try_from(limit).unwrap_or(i64::MAX).saturating_add(1))
            .into_boxed();
        match filter {
            ReplayFilter::Delivery(id) => {
                let agency: Option<(Option<String>, Option<NaiveDateTime>)> = deliveries::table
                    .inner_join(agencies::table)
                    .filter(deliveries::id.eq(id))
                    .select((agencies::callback_url, agencies::callback_disabled_at))
                    .first(conn)
                    .optional()?;
                match agency {
                    None => return Ok(ReplayOutcome::NoSuchDelivery),
                    Some((None, _)) | Some((_, Some(_))) => return Ok(ReplayOutcome::NoEndpoint),
                    Some(_) => {}
                }
                query = query.filter(delivery_events::delivery_id.eq(id.clone()));
            }
            ReplayFilter::Range {
                from,
                to,
                agency_code,
            } => {
                query = query
                    .filter(delivery_events::recorded_at.ge(*from))
                    .filter(delivery_events::recorded_at.lt(*to));
                if let Some(code) = agency_code {
                    let known = super::agencies::find_by_code(conn, code)?.is_some();
                    if !known {
                        return Ok(ReplayOutcome::NoSuchAgency);
                    }
                    query = query.filter(agencies::code.eq(code.clone()));
                }
            }
        }
        let events: Vec<(String, String, String, NaiveDateTime)> = query.load(conn)?;
        if events.len() > limit {
            return Ok(ReplayOutcome::TooMany(limit));
        }
        for (event_id, delivery_id, state, occurred_at) in &events {
            let job = NewJob {
                kind: JobKind::Callback,
                delivery_id: Some(delivery_id.clone()),
                payload: serde_json::json!({
                    "delivery_id": delivery_id,
                    "event_id": event_id,
                    "state": state,
                    "occurred_at": occurred_at,
                    "replay": true,
                }),
                run_at: None,
            };
            jobs::enqueue(conn, &job)?;
        }
        Ok(ReplayOutcome::Enqueued(events.len()))
    })
}

/// A callback job of a delivery, for operators: its state and the event it sends.
#[derive(Debug, Clone)]
pub struct CallbackJob {
    pub job: super::jobs::JobSummary,
    pub event_id: Option<String>,
    pub state: Option<String>,
    pub replay: bool,
}

/// A delivery's callback jobs (originals and replays), oldest first.
pub fn callback_jobs(
    conn: &mut DbConnection,
    delivery_id: &str,
) -> Result<Vec<CallbackJob>, StoreError> {
    use super::schema::outbox_jobs;
    let rows: Vec<(super::jobs::JobSummary, String)> = outbox_jobs::table
        .filter(outbox_jobs::delivery_id.eq(delivery_id))
        .filter(outbox_jobs::kind.eq(JobKind::Callback.as_str()))
        .order((outbox_jobs::created_at, outbox_jobs::id))
        .select((super::jobs::JobSummary::as_select(), outbox_jobs::payload))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(job, payload)| {
            // Callback payloads hold ids and the state only (store::followups, replay).
            let payload: serde_json::Value = serde_json::from_str(&payload).unwrap_or_default();
            let text = |k: &str| payload[k].as_str().map(str::to_owned);
            CallbackJob {
                event_id: text("event_id"),
                state: text("state"),
                replay: payload["replay"].as_bool().unwrap_or(false),
                job,
            }
        })
        .collect())
}
