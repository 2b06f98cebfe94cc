//! Work the outbox carries out after a transaction commits. Each kind has its handler in
//! `jobs/`; the queue itself does not know what a kind means.

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobKind {
    /// Create the shipment at the chosen courier.
    Dispatch,
    /// Turn one stored courier webhook (`webhook_inbox` row) into delivery events.
    IngestWebhook,
    /// Tell the citizen about a new state (SMS, email).
    Notify,
    /// Send the agency a signed status callback.
    Callback,
    /// Cancel a courier order whose delivery was cancelled.
    CourierCancel,
}

impl JobKind {
    pub const ALL: [JobKind; 5] = [
        JobKind::Dispatch,
        JobKind::IngestWebhook,
        JobKind::Notify,
        JobKind::Callback,
        JobKind::CourierCancel,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            JobKind::Dispatch => "dispatch",
            JobKind::IngestWebhook => "ingest_webhook",
            JobKind::Notify => "notify",
            JobKind::Callback => "callback",
            JobKind::CourierCancel => "courier_cancel",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Attempts before the job is parked for the operator.
    pub fn max_attempts(self) -> i32 {
        match self {
            JobKind::Dispatch | JobKind::CourierCancel => 12,
            // Only database trouble makes ingestion fail; with the default backoff (5 s
            // doubling, capped at 1 h, full jitter) 15 attempts span up to about 5 hours.
            JobKind::IngestWebhook => 15,
            // Provisional: the notification and callback handlers tune their own budgets
            // (callbacks retry for about 3 days, DESIGN.md).
            JobKind::Notify => 10,
            JobKind::Callback => 100,
        }
    }
}

/// A job to enqueue, inside the caller's transaction.
#[derive(Debug, Clone)]
pub struct NewJob {
    pub kind: JobKind,
    pub delivery_id: Option<String>,
    pub payload: serde_json::Value,
    /// When it becomes due; now when `None`.
    pub run_at: Option<NaiveDateTime>,
}

impl NewJob {
    /// The dispatch job of a delivery, due now.
    pub fn dispatch(delivery_id: &str) -> Self {
        Self {
            kind: JobKind::Dispatch,
            delivery_id: Some(delivery_id.to_owned()),
            payload: serde_json::json!({ "delivery_id": delivery_id }),
            run_at: None,
        }
    }
}
