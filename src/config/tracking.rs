//! `[tracking]`: the citizens' public tracking pages — rate limits, cache, live refresh and
//! the couriers' own tracking pages.

use std::fmt::Write as _;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::ConfigError;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrackingSettings {
    /// Requests per minute per client address, across `/track` and `/v1/track` (a burst of
    /// this many is allowed; the bucket refills evenly). Shared through Redis when configured.
    pub rate_limit_per_minute: u32,
    /// Dossier-code lookups per hour per dossier code, whatever the address: with the last 4
    /// phone digits as the only secret, this stops a spread-out guess of all 10,000.
    pub dossier_attempts_per_hour: u32,
    /// Longest life of a cached public view. Every committed event invalidates it at once;
    /// this only bounds staleness when that could not happen (a crash between commit and
    /// invalidation, a Redis outage on a multi-node deployment).
    pub cache_ttl_secs: u64,
    /// Behind one reverse proxy: take the client address from the last `X-Forwarded-For`
    /// entry (the one the proxy added). Off: the TCP peer, which a client cannot forge.
    pub trust_forwarded_for: bool,
    /// Page reload interval for browsers without JavaScript (a `<noscript>` meta refresh).
    pub refresh_secs: u64,
    /// How often an open live stream (`/track/{code}/events`) checks for a new event.
    pub stream_check_ms: u64,
    /// A live stream ends after this long; browsers reconnect by themselves.
    pub stream_max_secs: u64,
    /// The courier's own public tracking page; `{code}` becomes its tracking number.
    pub viettelpost_url: String,
    pub vnpost_url: String,
}

pub(super) fn defaults() -> serde_json::Value {
    serde_json::json!({
        "rate_limit_per_minute": 30,
        "dossier_attempts_per_hour": 20,
        "cache_ttl_secs": 60,
        "trust_forwarded_for": false,
        "refresh_secs": 60,
        "stream_check_ms": 1000,
        "stream_max_secs": 300,
        "viettelpost_url": "https://viettelpost.com.vn/tra-cuu-hanh-trinh-don/?code={code}",
        "vnpost_url": "https://vnpost.vn/tra-cuu-hanh-trinh/buu-pham?key={code}",
    })
}

impl TrackingSettings {
    pub fn cache_ttl(&self) -> Duration {
        Duration::from_secs(self.cache_ttl_secs)
    }

    pub fn stream_check(&self) -> Duration {
        Duration::from_millis(self.stream_check_ms)
    }

    pub fn stream_max(&self) -> Duration {
        Duration::from_secs(self.stream_max_secs)
    }

    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        let checks: [(bool, &'static str, u64, &str); 6] = [
            (
                self.rate_limit_per_minute <= 100_000,
                "tracking.rate_limit_per_minute",
                u64::from(self.rate_limit_per_minute),
                "choose 1 to 100000, or 0 to switch the limit off",
            ),
            (
                self.dossier_attempts_per_hour <= 100_000,
                "tracking.dossier_attempts_per_hour",
                u64::from(self.dossier_attempts_per_hour),
                "choose 1 to 100000 (20 is usual), or 0 to switch the limit off",
            ),
            (
                (1..=86_400).contains(&self.cache_ttl_secs),
                "tracking.cache_ttl_secs",
                self.cache_ttl_secs,
                "choose 1 to 86400",
            ),
            (
                (5..=86_400).contains(&self.refresh_secs),
                "tracking.refresh_secs",
                self.refresh_secs,
                "choose 5 to 86400",
            ),
            (
                (100..=60_000).contains(&self.stream_check_ms),
                "tracking.stream_check_ms",
                self.stream_check_ms,
                "choose 100 to 60000",
            ),
            (
                (5..=3_600).contains(&self.stream_max_secs),
                "tracking.stream_max_secs",
                self.stream_max_secs,
                "choose 5 to 3600",
            ),
        ];
        if let Some((_, setting, value, fix)) = checks.into_iter().find(|(ok, ..)| !ok) {
            return Err(ConfigError::Invalid {
                setting,
                problem: format!("is {value}"),
                fix: fix.into(),
            });
        }
        for (setting, url) in [
            ("tracking.viettelpost_url", &self.viettelpost_url),
            ("tracking.vnpost_url", &self.vnpost_url),
        ] {
            if !url.starts_with("https://") || !url.contains("{code}") {
                return Err(ConfigError::Invalid {
                    setting,
                    problem: format!("'{url}' is not an https URL with {{code}} in it"),
                    fix: "use the courier's public tracking page, e.g. https://…?code={code}"
                        .into(),
                });
            }
        }
        Ok(())
    }

    pub(super) fn to_masked_toml(&self, out: &mut String) {
        let _ = writeln!(
            out,
            "[tracking]\nrate_limit_per_minute = {}\ndossier_attempts_per_hour = {}\n\
             cache_ttl_secs = {}\ntrust_forwarded_for = {}\nrefresh_secs = {}\n\
             stream_check_ms = {}\nstream_max_secs = {}\nviettelpost_url = {:?}\nvnpost_url = {:?}\n",
            self.rate_limit_per_minute,
            self.dossier_attempts_per_hour,
            self.cache_ttl_secs,
            self.trust_forwarded_for,
            self.refresh_secs,
            self.stream_check_ms,
            self.stream_max_secs,
            self.viettelpost_url,
            self.vnpost_url
        );
    }
}

#[cfg(test)]
mod tests {
    use crate::config::Settings;
    use serde_json::json;

    #[test]
    fn defaults_and_bad_values_are_named() {
        let s = Settings::with_overrides(json!({})).expect("defaults");
        assert_eq!(s.tracking.rate_limit_per_minute, 30);
        assert!(s.to_masked_toml().contains("[tracking]"));
        let err = Settings::with_overrides(json!({"tracking": {"cache_ttl_secs": 0}}))
            .expect_err("zero ttl");
        assert!(err.to_string().contains("tracking.cache_ttl_secs"), "{err}");
        let err = Settings::with_overrides(
            json!({"tracking": {"vnpost_url": "http://vnpost.vn/?key=1"}}),
        )
        .expect_err("no placeholder");
        assert!(err.to_string().contains("tracking.vnpost_url"), "{err}");
    }
}
