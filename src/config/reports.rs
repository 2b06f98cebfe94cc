//! `[reports]` and `[retention]`: the operator's desk — targets the public-service KPIs are
//! measured against, dashboard sessions, and how long personal data is kept.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use super::ConfigError;

/// Agency levels the targets are set for (the `level` of an agency).
pub const AGENCY_LEVELS: [&str; 3] = ["province", "district", "commune"];

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportsSettings {
    /// Share of results to return by post, in percent, per agency level (for example the
    /// province's "50 % of provincial departments' results, 20 % of district-level ones").
    pub target_percent_province: f64,
    pub target_percent_district: f64,
    pub target_percent_commune: f64,
    /// Period a report covers when the request names none, in days up to today.
    pub default_period_days: u32,
    /// Longest period one report may cover.
    pub max_period_days: u32,
    /// How long a dashboard login lasts.
    pub session_hours: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetentionSettings {
    /// Personal data of a delivery is anonymised this many days after it ended; 0 keeps it.
    pub personal_data_days: u32,
    /// How often the purge runs (one replica at a time).
    pub run_every_mins: u64,
    /// Deliveries anonymised per transaction.
    pub batch_size: u32,
}

pub(super) fn reports_defaults() -> serde_json::Value {
    serde_json::json!({
        "target_percent_province": 50.0,
        "target_percent_district": 20.0,
        "target_percent_commune": 20.0,
        "default_period_days": 30,
        "max_period_days": 400,
        "session_hours": 12,
    })
}

pub(super) fn retention_defaults() -> serde_json::Value {
    serde_json::json!({ "personal_data_days": 180, "run_every_mins": 60, "batch_size": 500 })
}

impl ReportsSettings {
    /// The target for an agency level, in percent; none for an agency without a level.
    pub fn target_percent(&self, level: Option<&str>) -> Option<f64> {
        match level? {
            "province" => Some(self.target_percent_province),
            "district" => Some(self.target_percent_district),
            "commune" => Some(self.target_percent_commune),
            _ => None,
        }
    }

    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        for (setting, value) in [
            (
                "reports.target_percent_province",
                self.target_percent_province,
            ),
            (
                "reports.target_percent_district",
                self.target_percent_district,
            ),
            (
                "reports.target_percent_commune",
                self.target_percent_commune,
            ),
        ] {
            if !(0.0..=100.0).contains(&value) {
                return Err(invalid(
                    setting,
                    value.to_string(),
                    "choose 0 to 100 (percent)",
                ));
            }
        }
        if !(1..=3660).contains(&self.max_period_days) {
            return Err(invalid(
                "reports.max_period_days",
                self.max_period_days.to_string(),
                "choose 1 to 3660",
            ));
        }
        if !(1..=self.max_period_days).contains(&self.default_period_days) {
            return Err(invalid(
                "reports.default_period_days",
                self.default_period_days.to_string(),
                "choose 1 to reports.max_period_days",
            ));
        }
        if !(1..=720).contains(&self.session_hours) {
            return Err(invalid(
                "reports.session_hours",
                self.session_hours.to_string(),
                "choose 1 to 720",
            ));
        }
        Ok(())
    }

    pub(super) fn to_masked_toml(&self, out: &mut String) {
        let _ = writeln!(
            out,
            "[reports]\ntarget_percent_province = {}\ntarget_percent_district = {}\n\
             target_percent_commune = {}\ndefault_period_days = {}\nmax_period_days = {}\n\
             session_hours = {}\n",
            self.target_percent_province,
            self.target_percent_district,
            self.target_percent_commune,
            self.default_period_days,
            self.max_period_days,
            self.session_hours
        );
    }
}

impl RetentionSettings {
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        if !(1..=10_080).contains(&self.run_every_mins) {
            return Err(invalid(
                "retention.run_every_mins",
                self.run_every_mins.to_string(),
                "choose 1 to 10080 (a week)",
            ));
        }
        if !(1..=10_000).contains(&self.batch_size) {
            return Err(invalid(
                "retention.batch_size",
                self.batch_size.to_string(),
                "choose 1 to 10000",
            ));
        }
        Ok(())
    }

    pub(super) fn to_masked_toml(&self, out: &mut String) {
        let _ = writeln!(
            out,
            "[retention]\npersonal_data_days = {}\nrun_every_mins = {}\nbatch_size = {}\n",
            self.personal_data_days, self.run_every_mins, self.batch_size
        );
    }
}

fn invalid(setting: &'static str, value: String, fix: &str) -> ConfigError {
    ConfigError::Invalid {
        setting,
        problem: format!("is {value}"),
        fix: fix.into(),
    }
}

#[cfg(test)]
mod tests {
    use crate::config::Settings;
    use serde_json::json;

    #[test]
    fn targets_follow_the_agency_level() {
        let s = Settings::with_overrides(json!({"reports": {"target_percent_commune": 5.0}}))
            .expect("settings");
        assert_eq!(s.reports.target_percent(Some("province")), Some(50.0));
        assert_eq!(s.reports.target_percent(Some("commune")), Some(5.0));
        assert_eq!(s.reports.target_percent(None), None);
        assert!(s.to_masked_toml().contains("[retention]"));
    }

    #[test]
    fn bad_values_name_the_setting() {
        let err = Settings::with_overrides(json!({"reports": {"target_percent_district": 120.0}}))
            .expect_err("over 100");
        assert!(
            err.to_string().contains("reports.target_percent_district"),
            "{err}"
        );
        let err = Settings::with_overrides(json!({"retention": {"run_every_mins": 0}}))
            .expect_err("zero");
        assert!(
            err.to_string().contains("retention.run_every_mins"),
            "{err}"
        );
    }
}
