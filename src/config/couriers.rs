//! `[couriers]`: each courier's endpoint and credentials, the circuit breaker, and the
//! built-in simulators used in sandbox mode.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Duration;

use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use super::ConfigError;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CouriersSettings {
    pub viettelpost: ViettelSettings,
    pub vnpost: VnpostSettings,
    pub breaker: BreakerSettings,
    pub simulator: SimulatorSettings,
    pub pull: PullSettings,
}

/// Asking a courier for the history of parcels it has said nothing about (VNPost's
/// `GetStatusHistoryOrder`; Viettel Post has no such call).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PullSettings {
    /// A parcel with no courier news for this long is asked about (0: off).
    pub stale_after_secs: u64,
    /// How often one replica looks for such parcels.
    pub interval_secs: u64,
    /// Most parcels asked about per round.
    pub batch_size: i64,
}

/// Viettel Post `/v2` partner API (couriers.md §1).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ViettelSettings {
    /// Off: routing to Viettel Post fails over to the fallback courier.
    pub enabled: bool,
    /// `https://partner.viettelpost.vn`. Unset in sandbox mode: the built-in simulator.
    pub base_url: Option<String>,
    pub username: String,
    pub password: SecretString,
    /// The "Secret parameters" value Viettel Post puts in every webhook's `TOKEN`.
    pub webhook_token: SecretString,
    pub timeout_ms: u64,
}

/// VNPost MyVNPost customer-partner API (couriers.md §2A).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VnpostSettings {
    pub enabled: bool,
    /// With the API prefix: `https://connect-my.vnpost.vn/customer-partner`. Unset in
    /// sandbox mode: the built-in simulator.
    pub base_url: Option<String>,
    pub username: String,
    pub password: SecretString,
    /// The CMS customer code (`T000…`).
    pub customer_code: String,
    /// PEM file of VNPost's webhook signing key (public). Unset in sandbox mode: the
    /// simulator's key.
    pub webhook_public_key_file: Option<PathBuf>,
    pub timeout_ms: u64,
}

/// Stops calling a courier that keeps failing, then lets one call probe it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BreakerSettings {
    /// Consecutive unavailable answers (timeouts, 5xx) that open the breaker.
    pub failure_threshold: u32,
    /// How long it stays open before one probe call is let through.
    pub open_secs: u64,
}

/// The simulators mounted at `/sim/viettelpost` and `/sim/vnpost` in sandbox mode.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimulatorSettings {
    /// Moves each new parcel through pickup, transit and delivery by itself.
    pub autopilot: bool,
    /// Pause between two statuses of the autopilot.
    pub step_ms: u64,
}

pub(super) fn defaults() -> serde_json::Value {
    serde_json::json!({
        "viettelpost": { "enabled": true, "username": "", "password": "", "webhook_token": "",
                         "timeout_ms": 15_000 },
        "vnpost": { "enabled": true, "username": "", "password": "", "customer_code": "",
                    "timeout_ms": 15_000 },
        "breaker": { "failure_threshold": 5, "open_secs": 60 },
        "simulator": { "autopilot": true, "step_ms": 2_000 },
        "pull": { "stale_after_secs": 86_400, "interval_secs": 600, "batch_size": 100 },
    })
}

impl ViettelSettings {
    pub fn timeout(&self) -> Duration {
        Duration::from_millis(self.timeout_ms)
    }
}

impl VnpostSettings {
    pub fn timeout(&self) -> Duration {
        Duration::from_millis(self.timeout_ms)
    }
}

impl CouriersSettings {
    /// Outside sandbox mode an enabled courier needs its endpoint and credentials.
    pub(super) fn validate(&self, sandbox: bool) -> Result<(), ConfigError> {
        let invalid = |setting: &'static str, problem: &str, fix: &str| ConfigError::Invalid {
            setting,
            problem: problem.into(),
            fix: fix.into(),
        };
        for (setting, timeout) in [
            (
                "couriers.viettelpost.timeout_ms",
                self.viettelpost.timeout_ms,
            ),
            ("couriers.vnpost.timeout_ms", self.vnpost.timeout_ms),
        ] {
            if !(100..=300_000).contains(&timeout) {
                return Err(invalid(
                    setting,
                    &format!("is {timeout}"),
                    "choose 100 to 300000",
                ));
            }
        }
        if self.pull.interval_secs == 0 || !(1..=10_000).contains(&self.pull.batch_size) {
            return Err(invalid(
                "couriers.pull",
                "needs interval_secs above 0 and batch_size from 1 to 10000",
                "use for example interval_secs = 600, batch_size = 100",
            ));
        }
        if self.breaker.failure_threshold == 0 || self.breaker.open_secs == 0 {
            return Err(invalid(
                "couriers.breaker",
                "needs failure_threshold and open_secs above 0",
                "use for example failure_threshold = 5, open_secs = 60",
            ));
        }
        let vtp = &self.viettelpost;
        if vtp.enabled && !sandbox && (vtp.base_url.is_none() || vtp.username.is_empty()) {
            return Err(invalid(
                "couriers.viettelpost",
                "is enabled without base_url and username",
                "set base_url = \"https://partner.viettelpost.vn\", username, password and \
                 webhook_token, or enabled = false",
            ));
        }
        let vnp = &self.vnpost;
        if vnp.enabled
            && !sandbox
            && (vnp.base_url.is_none()
                || vnp.username.is_empty()
                || vnp.customer_code.is_empty()
                || vnp.webhook_public_key_file.is_none())
        {
            return Err(invalid(
                "couriers.vnpost",
                "is enabled without base_url, username, customer_code and webhook_public_key_file",
                "set them from the MyVNPost contract, or enabled = false",
            ));
        }
        Ok(())
    }

    /// This section as TOML, secrets masked.
    pub(super) fn to_masked_toml(&self, out: &mut String) {
        let url = |u: &Option<String>| {
            u.as_ref()
                .map_or("# unset: built-in simulator in sandbox mode".into(), |u| {
                    format!("base_url = {u:?}")
                })
        };
        let v = &self.viettelpost;
        let _ = writeln!(
            out,
            "[couriers.viettelpost]\nenabled = {}\n{}\nusername = {:?}\npassword = \"***\"\n\
             webhook_token = \"***\"\ntimeout_ms = {}\n",
            v.enabled,
            url(&v.base_url),
            v.username,
            v.timeout_ms
        );
        let n = &self.vnpost;
        let key = n
            .webhook_public_key_file
            .as_ref()
            .map_or("# unset: the simulator's key in sandbox mode".into(), |f| {
                format!("webhook_public_key_file = {:?}", f.display().to_string())
            });
        let _ = writeln!(
            out,
            "[couriers.vnpost]\nenabled = {}\n{}\nusername = {:?}\npassword = \"***\"\n\
             customer_code = {:?}\n{key}\ntimeout_ms = {}\n",
            n.enabled,
            url(&n.base_url),
            n.username,
            n.customer_code,
            n.timeout_ms
        );
        let _ = writeln!(
            out,
            "[couriers.breaker]\nfailure_threshold = {}\nopen_secs = {}\n\n\
             [couriers.simulator]\nautopilot = {}\nstep_ms = {}\n\n\
             [couriers.pull]\nstale_after_secs = {}\ninterval_secs = {}\nbatch_size = {}\n",
            self.breaker.failure_threshold,
            self.breaker.open_secs,
            self.simulator.autopilot,
            self.simulator.step_ms,
            self.pull.stale_after_secs,
            self.pull.interval_secs,
            self.pull.batch_size
        );
    }
}

#[cfg(test)]
mod tests {
    use crate::config::Settings;
    use serde_json::json;

    #[test]
    fn production_needs_each_enabled_courier_configured() {
        let err = Settings::with_overrides(json!({"app": {"sandbox": false}})).unwrap_err();
        assert!(err.to_string().contains("couriers.viettelpost"), "{err}");
        let err = Settings::with_overrides(json!({
            "app": {"sandbox": false},
            "couriers": {"viettelpost": {"enabled": false}},
        }))
        .unwrap_err();
        assert!(err.to_string().contains("couriers.vnpost"), "{err}");
        let ok = Settings::with_overrides(json!({
            "app": {"sandbox": false},
            "couriers": {
                "vnpost": {"enabled": false},
                "viettelpost": {"base_url": "https://partner.viettelpost.vn",
                                "username": "0900000001", "password": "pw-secret",
                                "webhook_token": "hook-secret"},
            },
        }));
        let toml = ok.expect("configured").to_masked_toml();
        assert!(
            toml.contains("[couriers.viettelpost]\nenabled = true"),
            "{toml}"
        );
        assert!(
            !toml.contains("pw-secret") && !toml.contains("hook-secret"),
            "{toml}"
        );
    }

    #[test]
    fn sandbox_runs_on_the_simulators_without_credentials() {
        let settings = Settings::with_overrides(json!({})).expect("defaults");
        assert!(settings.app.sandbox);
        assert!(settings.couriers.viettelpost.base_url.is_none());
        let err = Settings::with_overrides(json!({"couriers": {"breaker": {"open_secs": 0}}}))
            .unwrap_err();
        assert!(err.to_string().contains("couriers.breaker"), "{err}");
    }
}
