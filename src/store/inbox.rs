//! The courier webhook inbox: raw bodies kept exactly as received, deduplicated, each with an
//! `ingest_webhook` job enqueued in the same transaction, so the outbox worker (leases,
//! retries, crash recovery) turns it into delivery events after the courier has its 200.
//!
//! Status moves `pending → processed | ignored | failed`; `note` says why, in counts and
//! codes (never the body, which holds names and phone numbers).

use chrono::NaiveDateTime;
use diesel::prelude::*;
use sha2::{Digest, Sha256};

use super::schema::webhook_inbox;
use super::{DbConnection, StoreError};
use crate::domain::courier::Courier;
use crate::domain::ids::{new_id, now_utc};
use crate::domain::jobs::{JobKind, NewJob};

pub const PENDING: &str = "pending";
/// At least one event matched a delivery (applied or kept as history).
pub const PROCESSED: &str = "processed";
/// Nothing in it concerned a delivery of ours (unknown orders).
pub const IGNORED: &str = "ignored";
/// The stored body could not be read; its job is parked for an operator.
pub const FAILED: &str = "failed";

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = webhook_inbox)]
pub struct InboxRow {
    pub id: String,
    pub courier: String,
    pub dedupe_key: String,
    pub body: Vec<u8>,
    pub received_at: NaiveDateTime,
    pub status: String,
    pub processed_at: Option<NaiveDateTime>,
    pub error: Option<String>,
    pub note: Option<String>,
}

/// An inbox row as operators list it: without the body.
#[derive(Debug, Clone, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = webhook_inbox)]
pub struct InboxSummary {
    pub id: String,
    pub courier: String,
    pub received_at: NaiveDateTime,
    pub status: String,
    pub processed_at: Option<NaiveDateTime>,
    pub error: Option<String>,
    pub note: Option<String>,
}

/// What receiving a body did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Received {
    /// Stored, with its ingestion job.
    Stored { inbox_id: String },
    /// The very same bytes came before: nothing stored.
    Duplicate,
}

/// The payload of an `ingest_webhook` job.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct IngestPayload {
    pub inbox_id: String,
}

/// SHA-256 of the exact bytes: a courier repeating a body is caught here; the same event in
/// a different body (VNPost re-signs with a new sendDate) is caught when events are applied.
pub fn dedupe_key(body: &[u8]) -> String {
    hex::encode(Sha256::digest(body))
}

/// Stores the body and enqueues its ingestion in one transaction. The unique
/// `(courier, dedupe_key)` makes a repeated body a no-op, also when two copies race.
pub fn receive(
    conn: &mut DbConnection,
    courier: Courier,
    body: &[u8],
) -> Result<Received, StoreError> {
    let mut received = receive_batch(conn, &[(courier, body)])?;
    received
        .pop()
        .ok_or_else(|| StoreError::Task("inbox: no outcome for the body".into()))
}

/// Stores several bodies, each with its ingestion job, in one transaction: one commit (one
/// flush to disk) for all of them, the group commit of the webhook endpoint
/// ([`super::inbox_writer`]). Outcomes come in the order of `bodies`; the same bytes twice,
/// in the batch or before it, store once.
pub fn receive_batch(
    conn: &mut DbConnection,
    bodies: &[(Courier, &[u8])],
) -> Result<Vec<Received>, StoreError> {
    conn.transaction(|conn| {
        let now = now_utc();
        let mut outcomes = Vec::with_capacity(bodies.len());
        for (courier, body) in bodies {
            let inbox_id = new_id();
            let insert = diesel::insert_into(webhook_inbox::table).values((
                webhook_inbox::id.eq(&inbox_id),
                webhook_inbox::courier.eq(courier.as_str()),
                webhook_inbox::dedupe_key.eq(dedupe_key(body)),
                webhook_inbox::body.eq(*body),
                webhook_inbox::received_at.eq(now),
                webhook_inbox::status.eq(PENDING),
            ));
            // A repeated body is skipped, not an error: an error would abort the whole
            // transaction and with it the other couriers' bodies.
            let stored = match conn {
                DbConnection::Postgresql(c) => insert.on_conflict_do_nothing().execute(c)?,
                DbConnection::Sqlite(c) => insert.on_conflict_do_nothing().execute(c)?,
            };
            if stored == 0 {
                outcomes.push(Received::Duplicate);
                continue;
            }
            let job = NewJob {
                kind: JobKind::IngestWebhook,
                delivery_id: None,
                payload: serde_json::json!({ "inbox_id": inbox_id }),
                run_at: None,
            };
            super::jobs::enqueue(conn, &job)?;
            outcomes.push(Received::Stored { inbox_id });
        }
        Ok(outcomes)
    })
}

pub fn find(conn: &mut DbConnection, id: &str) -> Result<Option<InboxRow>, StoreError> {
    Ok(webhook_inbox::table
        .find(id)
        .select(InboxRow::as_select())
        .first(conn)
        .optional()?)
}

/// Records how processing ended.
pub fn finish(
    conn: &mut DbConnection,
    id: &str,
    status: &str,
    note: &str,
    error: Option<&str>,
) -> Result<(), StoreError> {
    diesel::update(webhook_inbox::table.find(id))
        .set((
            webhook_inbox::status.eq(status),
            webhook_inbox::note.eq(note),
            webhook_inbox::error.eq(error),
            webhook_inbox::processed_at.eq(now_utc()),
        ))
        .execute(conn)?;
    Ok(())
}

/// Inbox rows in one status, newest first (operators: `ignored` and `failed` need a look).
pub fn list(
    conn: &mut DbConnection,
    status: &str,
    limit: i64,
) -> Result<Vec<InboxSummary>, StoreError> {
    Ok(webhook_inbox::table
        .filter(webhook_inbox::status.eq(status))
        .order(webhook_inbox::received_at.desc())
        .limit(limit)
        .select(InboxSummary::as_select())
        .load(conn)?)
}
