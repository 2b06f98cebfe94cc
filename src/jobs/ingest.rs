//! `ingest_webhook`: turns one stored courier webhook into delivery events.
//!
//! Idempotent: an inbox row already processed or ignored is left alone, and an event this
//! inbox row already recorded (a run cut short by a crash or an expired lease) is skipped.

use std::collections::{BTreeMap, BTreeSet};

use async_trait::async_trait;
use chrono::{NaiveDateTime, TimeDelta};

use super::{ClaimedJob, JobError, JobHandler};
use crate::app::AppState;
use crate::couriers::CourierEvent;
use crate::domain::courier::Courier;
use crate::domain::jobs::JobKind;
use crate::domain::transitions::{Skip, Verdict};
use crate::store::courier_events::{self, Recorded};
use crate::store::inbox::{self, InboxRow, IngestPayload};
use crate::store::{DbConnection, StoreError};

pub struct IngestWebhookHandler;

#[async_trait]
impl JobHandler for IngestWebhookHandler {
    fn kind(&self) -> JobKind {
        JobKind::IngestWebhook
    }

    async fn run(&self, job: &ClaimedJob, state: &AppState) -> Result<(), JobError> {
        let payload: IngestPayload = job.payload().map_err(JobError::permanent)?;
        let id = payload.inbox_id.clone();
        let row = state
            .db
            .run(move |conn| inbox::find(conn, &id))
            .await
            .map_err(JobError::retry)?
            .ok_or_else(|| JobError::permanent("inbox row not found"))?;
        if row.status == inbox::PROCESSED || row.status == inbox::IGNORED {
            return Ok(());
        }
        let courier = Courier::parse(&row.courier)
            .ok_or_else(|| JobError::permanent("inbox row of an unknown courier"))?;
        let adapter = state
            .couriers
            .adapter(courier)
            .ok_or_else(|| JobError::retry(format!("{courier} is not enabled in this process")))?;
        let events = match adapter.parse_webhook(&row.body) {
            Ok(events) => events,
            Err(e) => return Err(unreadable(state, row.id, &e.to_string()).await),
        };
        let report = state
            .db
            .run(move |conn| ingest(conn, courier, &row, &events))
            .await
            .map_err(JobError::retry)?;
        report.count(courier);
        // After the events' transactions committed: the public pages show them at once.
        crate::tracking::deliveries_changed(state, report.touched.into_iter().collect()).await;
        Ok(())
    }
}

/// A stored body that no longer parses (it did when it came in: the parser changed). The
/// row is flagged and the job parked, so an operator can requeue it after a fix. Parser
/// messages can quote values from the body, so only their shape is kept.
async fn unreadable(state: &AppState, inbox_id: String, error: &str) -> JobError {
    let error = without_quoted(error);
    let stored = error.clone();
    let flagged = state
        .db
        .run(move |conn| {
            inbox::finish(
                conn,
                &inbox_id,
                inbox::FAILED,
                "body unreadable",
                Some(&stored),
            )
        })
        .await;
    match flagged {
        Ok(()) => JobError::permanent(format!("stored webhook unreadable: {error}")),
        Err(e) => JobError::retry(e),
    }
}

/// `invalid type: string "Nguyễn Văn A", expected i64` → `invalid type: string "…", expected i64`.
pub fn without_quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for (i, part) in text.split('"').enumerate() {
        if i > 0 {
            out.push('"');
        }
        out.push_str(if i % 2 == 1 { "…" } else { part });
    }
    out
}

/// What became of a body's events, by outcome.
#[derive(Debug, Default)]
struct Report {
    outcomes: BTreeMap<&'static str, usize>,
    /// Events that found a delivery (whatever they did to it).
    matched: usize,
    /// Deliveries whose public view may have changed: every matched one, including reruns
    /// (a run cut short may have committed an event and died before invalidating).
    touched: BTreeSet<String>,
}

impl Report {
    fn add(&mut self, outcome: &'static str) {
        *self.outcomes.entry(outcome).or_default() += 1;
    }

    /// `applied=2 duplicate=1`: the inbox row's note.
    fn note(&self) -> String {
        let parts: Vec<String> = self
            .outcomes
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        parts.join(" ")
    }

    fn count(&self, courier: Courier) {
        for (outcome, n) in &self.outcomes {
            metrics::counter!("civicpost_webhook_events_total", "courier" => courier.as_str(), "outcome" => *outcome)
                .increment(*n as u64);
        }
    }
}

const UNKNOWN_ORDER: &str = "unknown_order";
const RERUN: &str = "already_recorded";

/// Each event in its own transaction, then the inbox row marked with what happened.
fn ingest(
    conn: &mut DbConnection,
    courier: Courier,
    row: &InboxRow,
    events: &[CourierEvent],
) -> Result<Report, StoreError> {
    let mut report = Report::default();
    for event in events {
        let event = &bounded(event, row.received_at);
        let found = courier_events::find_delivery(
            conn,
            courier,
            &event.tracking_number,
            event.reference.as_deref(),
        )?;
        let Some(delivery_id) = found else {
            tracing::warn!(%courier, inbox_id = %row.id, raw_code = %event.raw_code, "courier event for an unknown order; kept in the inbox only");
            report.add(UNKNOWN_ORDER);
            continue;
        };
        let recorded = courier_events::record(conn, &delivery_id, courier, &row.id, event)?;
        let outcome = match recorded {
            Recorded::Event(verdict) => {
                log_verdict(courier, &delivery_id, event, verdict);
                verdict.outcome()
            }
            Recorded::AlreadyRecorded => RERUN,
            Recorded::DeliveryGone => UNKNOWN_ORDER,
        };
        if outcome != UNKNOWN_ORDER {
            report.matched += 1;
            report.touched.insert(delivery_id);
        }
        report.add(outcome);
    }
    let status = if report.matched > 0 || events.is_empty() {
        inbox::PROCESSED
    } else {
        inbox::IGNORED
    };
    inbox::finish(conn, &row.id, status, &report.note(), None)?;
    Ok(report)
}

/// How far a courier's clock may run ahead of ours.
const CLOCK_SKEW: TimeDelta = TimeDelta::minutes(10);

/// The event with a believable time. A courier time after the body arrived (beyond clock
/// skew) is an error on the courier's side (a wrong clock, a mistyped year); kept as it is it
/// would become the delivery's latest time, and every real event after it would look late
/// and change nothing. The arrival time stands in for it; the body keeps the original.
fn bounded(event: &CourierEvent, received_at: NaiveDateTime) -> CourierEvent {
    let mut event = event.clone();
    if event.occurred_at > received_at + CLOCK_SKEW {
        tracing::warn!(raw_code = %event.raw_code, "courier event dated after its arrival; the arrival time is used");
        event.occurred_at = received_at;
    }
    event
}

/// Codes without a mapping need an operator; events after the end are worth a line (VTP
/// says it sends none, so one means something changed on its side).
fn log_verdict(courier: Courier, delivery_id: &str, event: &CourierEvent, verdict: Verdict) {
    let code = event.raw_code.as_str();
    match verdict {
        Verdict::Skip(Skip::UnknownCode) => {
            tracing::warn!(%courier, delivery_id, raw_code = code, "unknown courier status code; recorded, nothing changed")
        }
        Verdict::Skip(Skip::Frozen) => {
            tracing::info!(%courier, delivery_id, raw_code = code, "courier event after a terminal state; recorded, nothing changed")
        }
        Verdict::Skip(skip) => {
            tracing::debug!(%courier, delivery_id, raw_code = code, outcome = skip.as_str(), "courier event not applied")
        }
        Verdict::Apply(to) => {
            tracing::debug!(%courier, delivery_id, raw_code = code, state = to.as_str(), "courier event applied")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_after_arrival_become_the_arrival_time() {
        let arrived = chrono::NaiveDate::from_ymd_opt(2026, 11, 22)
            .and_then(|d| d.and_hms_opt(3, 0, 0))
            .expect("time");
        let event = |occurred_at| CourierEvent {
            tracking_number: "1".into(),
            reference: None,
            raw_code: "500".into(),
            raw_text: None,
            state: None,
            reason: None,
            known_code: true,
            location: None,
            occurred_at,
        };
        let skewed = arrived + TimeDelta::minutes(5);
        assert_eq!(bounded(&event(skewed), arrived).occurred_at, skewed);
        let past = arrived - TimeDelta::days(3);
        assert_eq!(bounded(&event(past), arrived).occurred_at, past);
        let future = arrived + TimeDelta::days(365);
        assert_eq!(bounded(&event(future), arrived).occurred_at, arrived);
    }

    #[test]
    fn quoted_values_are_dropped_from_messages() {
        assert_eq!(
            without_quoted(r#"invalid type: string "Nguyễn Văn A", expected i64"#),
            r#"invalid type: string "…", expected i64"#
        );
        assert_eq!(without_quoted("no quotes"), "no quotes");
        assert_eq!(without_quoted(r#"odd "one"#), r#"odd "…"#);
    }
}
