//! Work the outbox carries out after a transaction commits. Each kind has its handler in
//! `jobs/`; the queue itself does not know what a kind means.

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobKind {
    /// Create the shipment at the chosen courier.
    Dispatch,
}

impl JobKind {
    pub const ALL: [JobKind; 1] = [JobKind::Dispatch];

    pub fn as_str(self) -> &'static str {
        match self {
            JobKind::Dispatch => "dispatch",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Attempts before the job is parked for the operator.
    pub fn max_attempts(self) -> i32 {
        match self {
            JobKind::Dispatch => 12,
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
