//! `[callbacks]`: the signed status callbacks sent to agencies.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use super::ConfigError;
use crate::domain::jobs::callback_schedule;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallbacksSettings {
    /// Lets callback URLs reach private, loopback, link-local and other non-public
    /// addresses. Off in production: an agency URL must never make this service call into
    /// its own network. Tests and local demos with a receiver on 127.0.0.1 turn it on.
    pub allow_private_addresses: bool,
    /// Limit of one whole call: name resolution, connection, request and answer.
    pub timeout_ms: u64,
    /// Limit of the connection alone (within `timeout_ms`).
    pub connect_timeout_ms: u64,
    /// Retry delay before jitter: base × 2^(attempt−1), at most the cap. With the defaults
    /// the 34 attempts span about 3 days.
    pub backoff_base_ms: u64,
    pub backoff_cap_ms: u64,
}

pub(super) fn defaults() -> serde_json::Value {
    serde_json::json!({
        "allow_private_addresses": false,
        "timeout_ms": 10_000,
        "connect_timeout_ms": 5_000,
        "backoff_base_ms": callback_schedule::BACKOFF_BASE_MS,
        "backoff_cap_ms": callback_schedule::BACKOFF_CAP_MS,
    })
}

impl CallbacksSettings {
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        let checks: [(bool, &'static str, u64, &str); 4] = [
            (
                (100..=120_000).contains(&self.timeout_ms),
                "callbacks.timeout_ms",
                self.timeout_ms,
                "choose 100 to 120000 (10000 is usual)",
            ),
            (
                (1..=self.timeout_ms).contains(&self.connect_timeout_ms),
                "callbacks.connect_timeout_ms",
                self.connect_timeout_ms,
                "choose at least 1 and no more than callbacks.timeout_ms",
            ),
            (
                self.backoff_base_ms >= 1,
                "callbacks.backoff_base_ms",
                self.backoff_base_ms,
                "use at least 1",
            ),
            (
                self.backoff_cap_ms >= self.backoff_base_ms,
                "callbacks.backoff_cap_ms",
                self.backoff_cap_ms,
                "use a cap no smaller than callbacks.backoff_base_ms",
            ),
        ];
        match checks.into_iter().find(|(ok, ..)| !ok) {
            Some((_, setting, value, fix)) => Err(ConfigError::Invalid {
                setting,
                problem: format!("is {value}"),
                fix: fix.into(),
            }),
            None => Ok(()),
        }
    }

    pub(super) fn to_toml(&self, out: &mut String) {
        let _ = writeln!(
            out,
            "[callbacks]\nallow_private_addresses = {}\ntimeout_ms = {}\nconnect_timeout_ms = {}\n\
             backoff_base_ms = {}\nbackoff_cap_ms = {}\n",
            self.allow_private_addresses,
            self.timeout_ms,
            self.connect_timeout_ms,
            self.backoff_base_ms,
            self.backoff_cap_ms
        );
    }
}
