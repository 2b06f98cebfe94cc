//! Agency callbacks: on every state change a signed POST (Standard Webhooks) to the agency's
//! `callback_url`, carried out by the `callback` job (`jobs/callback.rs`).
//!
//! - [`signing`]: secrets (`whsec_…`) and the `v1,` HMAC-SHA256 signature.
//! - [`guard`]: only http(s) URLs that reach public addresses, checked at set time and at
//!   every send, with the checked address used for the connection.
//! - [`sender`]: the HTTP client and what an attempt's answer means.
//!
//! The body carries ids, the state and its reason: nothing about the recipient.

pub mod guard;
pub mod sender;
pub mod signing;

use chrono::{NaiveDateTime, SecondsFormat};
use serde::Serialize;

pub use sender::{Attempt, Sender, Signed, Verdict};

/// `type` of the only event sent so far.
pub const STATE_CHANGED: &str = "delivery.state_changed";

/// The body of a callback, as Standard Webhooks shapes it: `type`, `timestamp` (when the
/// event happened) and `data`.
#[derive(Debug, Clone, Serialize)]
pub struct Envelope {
    #[serde(rename = "type")]
    pub event_type: &'static str,
    pub timestamp: String,
    pub data: StateChanged,
}

/// What the agency learns of a state change. `event_id` is also the `webhook-id` header,
/// the same on every retry and replay, so receivers can deduplicate.
#[derive(Debug, Clone, Serialize)]
pub struct StateChanged {
    pub event_id: String,
    pub delivery_id: String,
    pub dossier_code: String,
    pub tracking_code: String,
    pub state: String,
    pub reason: Option<String>,
    pub courier: Option<String>,
    pub courier_tracking_number: Option<String>,
    /// When it happened (the courier's own time for courier events), UTC.
    pub occurred_at: String,
}

impl Envelope {
    pub fn state_changed(data: StateChanged) -> Self {
        Self {
            event_type: STATE_CHANGED,
            timestamp: data.occurred_at.clone(),
            data,
        }
    }

    pub fn to_bytes(&self) -> Result<Vec<u8>, serde_json::Error> {
        serde_json::to_vec(self)
    }
}

/// RFC 3339 in UTC with a `Z`, as Standard Webhooks payloads write times.
pub fn rfc3339(at: NaiveDateTime) -> String {
    at.and_utc().to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_body_has_the_standard_webhooks_shape() {
        let at = NaiveDateTime::parse_from_str("2025-11-11 03:30:00", "%Y-%m-%d %H:%M:%S")
            .expect("time");
        let body = Envelope::state_changed(StateChanged {
            event_id: "e1".into(),
            delivery_id: "d1".into(),
            dossier_code: "000.00.01.H42-260315-0001".into(),
            tracking_code: "K7QX4M2PA".into(),
            state: "delivered".into(),
            reason: None,
            courier: Some("viettelpost".into()),
            courier_tracking_number: Some("18000000101".into()),
            occurred_at: rfc3339(at),
        });
        let json: serde_json::Value =
            serde_json::from_slice(&body.to_bytes().expect("json")).expect("parse");
        assert_eq!(json["type"], "delivery.state_changed");
        assert_eq!(json["timestamp"], "2025-11-11T03:30:00Z");
        assert_eq!(json["data"]["state"], "delivered");
        assert_eq!(json["data"]["reason"], serde_json::Value::Null);
        assert_eq!(json["data"].as_object().map(|o| o.len()), Some(9));
    }
}
