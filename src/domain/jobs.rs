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
    /// Decide which messages a new state earns the citizen (SMS, email) and when.
    Notify,
    /// Send one planned message (`notifications` row) through its channel.
    SendNotification,
    /// Send the agency a signed status callback.
    Callback,
    /// Cancel a courier order whose delivery was cancelled.
    CourierCancel,
}

impl JobKind {
    pub const ALL: [JobKind; 6] = [
        JobKind::Dispatch,
        JobKind::IngestWebhook,
        JobKind::Notify,
        JobKind::SendNotification,
        JobKind::Callback,
        JobKind::CourierCancel,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            JobKind::Dispatch => "dispatch",
            JobKind::IngestWebhook => "ingest_webhook",
            JobKind::Notify => "notify",
            JobKind::SendNotification => "send_notification",
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
            // Planning only touches the database.
            JobKind::Notify => 15,
            // A gateway or SMTP outage: with the default backoff 12 attempts wait about
            // 70 minutes on average (at most about 2.4 h); then the message is failed and the
            // other channel, if the citizen has one, takes over.
            JobKind::SendNotification => 12,
            // About 3 days with the callbacks' own schedule (see `callback_schedule`).
            JobKind::Callback => callback_schedule::MAX_ATTEMPTS,
        }
    }
}

/// Agency callbacks retry "with exponential backoff and jitter for about 3 days"
/// (DESIGN.md). Their delays have their own base and cap (`[callbacks]` settings, these by
/// default), and the attempt budget is the smallest whose *expected* total wait with full
/// jitter reaches the window: 34 attempts, about 73 hours on average.
pub mod callback_schedule {
    /// First retry within 30 s: most failures are a receiver's brief hiccup.
    pub const BACKOFF_BASE_MS: u64 = 30_000;
    /// Once the ceiling reaches 6 h (from the 11th retry), retries come 3 h apart on average.
    pub const BACKOFF_CAP_MS: u64 = 6 * 3_600_000;
    pub const RETRY_WINDOW_MS: u64 = 72 * 3_600_000;
    pub const MAX_ATTEMPTS: i32 =
        super::attempts_for_window(BACKOFF_BASE_MS, BACKOFF_CAP_MS, RETRY_WINDOW_MS);
}

/// The expected total wait, in ms, before attempt `attempts` when every retry waits a uniform
/// random time between zero and `min(cap, base × 2^(retry−1))` (full jitter): half of each
/// ceiling, summed over the `attempts − 1` retries.
pub const fn expected_wait_ms(base_ms: u64, cap_ms: u64, attempts: i32) -> u64 {
    let mut total: u64 = 0;
    let mut ceiling = base_ms;
    let mut retry = 1;
    while retry < attempts {
        let capped = if ceiling < cap_ms { ceiling } else { cap_ms };
        total = total.saturating_add(capped / 2);
        ceiling = ceiling.saturating_mul(2);
        retry += 1;
    }
    total
}

/// The fewest attempts whose expected total wait reaches `window_ms` (at most 1,000).
pub const fn attempts_for_window(base_ms: u64, cap_ms: u64, window_ms: u64) -> i32 {
    let mut attempts = 1;
    while attempts < 1000 && expected_wait_ms(base_ms, cap_ms, attempts) < window_ms {
        attempts += 1;
    }
    attempts
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

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR_MS: u64 = 3_600_000;

    #[test]
    fn callbacks_retry_for_about_three_days() {
        use callback_schedule::*;
        assert_eq!(MAX_ATTEMPTS, 34);
        assert_eq!(JobKind::Callback.max_attempts(), 34);
        let expected = expected_wait_ms(BACKOFF_BASE_MS, BACKOFF_CAP_MS, MAX_ATTEMPTS);
        // 30 s doubling to 6 h: 4.3 h to reach the cap, then 23 retries of 3 h on average.
        assert_eq!(expected, 263_745_000);
        assert!(
            (70 * HOUR_MS..=76 * HOUR_MS).contains(&expected),
            "{expected}"
        );
        // One attempt fewer would fall short of the window.
        assert!(
            expected_wait_ms(BACKOFF_BASE_MS, BACKOFF_CAP_MS, MAX_ATTEMPTS - 1) < RETRY_WINDOW_MS
        );
        // Even the longest possible wait (every draw at its ceiling) stays under a week.
        assert!(2 * expected < 7 * 24 * HOUR_MS);
    }

    #[test]
    fn expected_wait_halves_each_ceiling() {
        assert_eq!(expected_wait_ms(10, 1_000, 1), 0);
        assert_eq!(expected_wait_ms(10, 1_000, 2), 5);
        assert_eq!(expected_wait_ms(10, 1_000, 4), 5 + 10 + 20);
        assert_eq!(expected_wait_ms(10, 25, 4), 5 + 10 + 12);
        assert_eq!(attempts_for_window(10, 1_000, 0), 1);
        assert_eq!(attempts_for_window(10, 1_000, 35), 4);
        assert_eq!(expected_wait_ms(u64::MAX, u64::MAX, 200), u64::MAX);
    }
}
