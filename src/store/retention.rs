//! The retention purge: personal data of deliveries that ended before a cutoff is wiped, in
//! batches, while everything the reports count survives (agency, ward, province, courier,
//! states, times, SLA, the event history's states and reasons). Each batch is one
//! transaction, so a crash leaves every delivery either untouched or fully anonymised, and
//! the next run simply goes on. Courier webhook bodies, which repeat the receiver's name,
//! phone and address, are deleted once processed and older than the cutoff.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use super::audit::{self, AuditEntry};
use super::schema::{deliveries, delivery_events, notifications, webhook_inbox};
use super::{DbConnection, StoreError, inbox};
use crate::domain::ids::now_utc;

/// What one batch did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct BatchOutcome {
    pub deliveries: usize,
    pub webhook_bodies: usize,
}

impl BatchOutcome {
    pub fn is_empty(&self) -> bool {
        self.deliveries == 0 && self.webhook_bodies == 0
    }
}

/// Anonymises up to `limit` deliveries that ended before `cutoff` and deletes up to `limit`
/// processed webhook bodies received before it, in one transaction.
pub fn purge_batch(
    conn: &mut DbConnection,
    cutoff: NaiveDateTime,
    limit: i64,
) -> Result<BatchOutcome, StoreError> {
    conn.transaction(|conn| {
        let ids: Vec<String> = deliveries::table
            .filter(deliveries::ended_at.lt(cutoff))
            .filter(deliveries::anonymised_at.is_null())
            .order(deliveries::ended_at.asc())
            .select(deliveries::id)
            .limit(limit)
            .load(conn)?;
        let anonymised = anonymise(conn, &ids)?;
        let webhook_bodies = delete_webhook_bodies(conn, cutoff, limit)?;
        Ok(BatchOutcome {
            deliveries: anonymised,
            webhook_bodies,
        })
    })
}

/// Wipes the personal fields of `ids`. The tracking code and dossier code stay (the agency
/// files by them), as does the masked view's ward and province.
fn anonymise(conn: &mut DbConnection, ids: &[String]) -> Result<usize, StoreError> {
    if ids.is_empty() {
        return Ok(0);
    }
    let now = now_utc();
    let done = diesel::update(deliveries::table.filter(deliveries::id.eq_any(ids)))
        .set((
            deliveries::recipient_name.eq(""),
            deliveries::recipient_phone.eq(""),
            deliveries::recipient_email.eq(None::<String>),
            deliveries::address_line.eq(""),
            deliveries::latitude.eq(None::<f64>),
            deliveries::longitude.eq(None::<f64>),
            deliveries::notes.eq(None::<String>),
            // The original request repeats every personal field.
            deliveries::request_fields.eq("{}"),
            deliveries::anonymised_at.eq(Some(now)),
            deliveries::updated_at.eq(now),
        ))
        .execute(conn)?;
    // Couriers' free-text notes can name the person who signed ("Giao cho Nguyễn Cường").
    diesel::update(delivery_events::table.filter(delivery_events::delivery_id.eq_any(ids)))
        .set(delivery_events::raw_text.eq(None::<String>))
        .execute(conn)?;
    // The masked destination still carries digits of the phone; the unsubscribe token
    // would let anyone holding an old email act for the citizen.
    diesel::update(notifications::table.filter(notifications::delivery_id.eq_any(ids)))
        .set((
            notifications::destination_masked.eq(None::<String>),
            notifications::unsubscribe_token.eq(None::<String>),
        ))
        .execute(conn)?;
    Ok(done)
}

/// Deletes processed (or ignored, or failed) webhook bodies received before `cutoff`. The
/// events they produced stay in the history; a body still pending is never touched.
fn delete_webhook_bodies(
    conn: &mut DbConnection,
    cutoff: NaiveDateTime,
    limit: i64,
) -> Result<usize, StoreError> {
    let ids: Vec<String> = webhook_inbox::table
        .filter(webhook_inbox::status.eq_any([inbox::PROCESSED, inbox::IGNORED, inbox::FAILED]))
        .filter(webhook_inbox::received_at.lt(cutoff))
        .select(webhook_inbox::id)
        .limit(limit)
        .load(conn)?;
    if ids.is_empty() {
        return Ok(0);
    }
    Ok(
        diesel::delete(webhook_inbox::table.filter(webhook_inbox::id.eq_any(&ids)))
            .execute(conn)?,
    )
}

/// Totals of one whole run, for the audit log and the operator.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RunTotals {
    pub deliveries: usize,
    pub webhook_bodies: usize,
    pub batches: usize,
}

impl RunTotals {
    pub fn add(&mut self, batch: BatchOutcome) {
        self.deliveries += batch.deliveries;
        self.webhook_bodies += batch.webhook_bodies;
        self.batches += 1;
    }
}

/// Records a finished run: who ran it, the cutoff and what it changed. Written even when
/// nothing was due, so the operator sees the job is alive.
pub fn record_run(
    conn: &mut DbConnection,
    actor: &str,
    cutoff: NaiveDateTime,
    days: u32,
    totals: &RunTotals,
) -> Result<String, StoreError> {
    audit::record(
        conn,
        &AuditEntry {
            actor,
            action: "retention.run",
            subject_kind: None,
            subject_id: None,
            detail: serde_json::json!({
                "cutoff": cutoff.and_utc().to_rfc3339(),
                "personal_data_days": days,
                "deliveries_anonymised": totals.deliveries,
                "webhook_bodies_deleted": totals.webhook_bodies,
                "batches": totals.batches,
            }),
        },
    )
}
