//! Routing rules from a TOML file (`fixtures/routing-rules.toml` is the demo): each rule
//! carries a stable `id`, and loading upserts by it, all in one transaction, so loading the
//! same file twice changes nothing and a file with one bad rule writes nothing.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use diesel::prelude::*;
use serde::Deserialize;

use super::{RuleRow, RuleSpec, ValidRule, insert, overwrite, validate};
use crate::domain::validation::{FieldError, join};
use crate::routing::RoutingRule;
use crate::store::schema::routing_rules;
use crate::store::{DbConnection, StoreError};

/// The demo rules, loaded at start in sandbox mode.
pub const DEMO_RULES: &str = include_str!("../../../fixtures/routing-rules.toml");
const DEMO_NAME: &str = "fixtures/routing-rules.toml";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RulesFile {
    #[serde(default)]
    rule: Vec<FileRule>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileRule {
    id: String,
    agency_code: Option<String>,
    province_code: Option<String>,
    ward_code: Option<String>,
    courier: String,
    service_code: Option<String>,
    sla_hours: Option<i64>,
    fallback_courier: Option<String>,
    priority: Option<i64>,
    active: Option<bool>,
}

impl FileRule {
    fn spec(&self) -> RuleSpec {
        RuleSpec {
            agency_code: self.agency_code.clone(),
            province_code: self.province_code.clone(),
            ward_code: self.ward_code.clone(),
            courier: self.courier.clone(),
            service_code: self.service_code.clone(),
            sla_hours: self.sla_hours,
            fallback_courier: self.fallback_courier.clone(),
            priority: self.priority,
            active: self.active,
        }
    }
}

/// What a load did, rule by rule.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FixtureOutcome {
    pub inserted: usize,
    pub updated: usize,
    pub unchanged: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum FixtureError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("not a routing rules file: {0}")]
    Parse(String),
    #[error("{}", describe(.0))]
    Invalid(Vec<FieldError>),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<diesel::result::Error> for FixtureError {
    fn from(e: diesel::result::Error) -> Self {
        FixtureError::Store(StoreError::Query(e))
    }
}

fn describe(errors: &[FieldError]) -> String {
    let lines: Vec<String> = errors
        .iter()
        .map(|e| format!("{}: {}", e.field, e.message))
        .collect();
    format!(
        "invalid routing rules, nothing loaded: {}",
        lines.join("; ")
    )
}

/// Ids are chosen by people and appear in URLs, so keep them plain.
fn valid_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
}

fn as_valid(rule: &RoutingRule) -> ValidRule {
    ValidRule {
        agency_id: rule.agency_id.clone(),
        province_code: rule.province_code.clone(),
        ward_code: rule.ward_code.clone(),
        courier: rule.courier,
        service_code: rule.service_code.clone(),
        sla_hours: rule.sla_hours,
        fallback_courier: rule.fallback_courier,
        priority: rule.priority,
        active: rule.active,
    }
}

/// Upserts the rules of a TOML text (`[[rule]]` tables). A rule named in the file is set to
/// exactly what the file says, `active` included; rules the file does not name are left alone.
pub fn load_fixture(conn: &mut DbConnection, text: &str) -> Result<FixtureOutcome, FixtureError> {
    let file: RulesFile = toml::from_str(text).map_err(|e| FixtureError::Parse(e.to_string()))?;
    conn.transaction(|conn| {
        let mut errors = Vec::new();
        let mut checked = Vec::new();
        let mut seen = HashSet::new();
        for (i, entry) in file.rule.iter().enumerate() {
            let at = format!("rule[{i}]");
            if !valid_id(&entry.id) {
                errors.push(FieldError::new(
                    join(&at, "id"),
                    "invalid_format",
                    "an id is 1-64 letters, digits, '.', '-' or '_'",
                ));
            } else if !seen.insert(entry.id.as_str()) {
                errors.push(FieldError::new(
                    join(&at, "id"),
                    "duplicate",
                    format!("id '{}' appears twice in the file", entry.id),
                ));
            }
            match validate(conn, &entry.spec(), &at)? {
                Ok(valid) => checked.push((entry.id.as_str(), valid)),
                Err(e) => errors.extend(e),
            }
        }
        if !errors.is_empty() {
            return Err(FixtureError::Invalid(errors));
        }
        let mut outcome = FixtureOutcome::default();
        for (id, valid) in checked {
            let current: Option<RuleRow> = routing_rules::table
                .find(id)
                .select(RuleRow::as_select())
                .first(conn)
                .optional()?;
            match current.map(RoutingRule::try_from).transpose()? {
                None => {
                    insert(conn, id, &valid)?;
                    outcome.inserted += 1;
                }
                Some(rule) if as_valid(&rule) == valid => outcome.unchanged += 1,
                Some(_) => {
                    overwrite(conn, id, &valid)?;
                    outcome.updated += 1;
                }
            }
        }
        Ok(outcome)
    })
}

pub fn load_fixture_file(
    conn: &mut DbConnection,
    path: &Path,
) -> Result<FixtureOutcome, FixtureError> {
    let text = std::fs::read_to_string(path).map_err(|source| FixtureError::Read {
        path: path.to_owned(),
        source,
    })?;
    load_fixture(conn, &text)
}

/// Loads [`DEMO_RULES`]. The file ships in the binary and a test loads it against the
/// shipped units, so anything but a database failure is a packaging mistake; it is reported
/// as a failed data migration so startup stops with the file's name and the field at fault.
pub fn load_demo_rules(conn: &mut DbConnection) -> Result<FixtureOutcome, StoreError> {
    let outcome = load_fixture(conn, DEMO_RULES).map_err(|e| match e {
        FixtureError::Store(e) => e,
        other => StoreError::Migration(format!("{DEMO_NAME}: {other}")),
    })?;
    tracing::info!(?outcome, "demo routing rules (sandbox)");
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_file_parses_with_unique_plain_ids() {
        let file: RulesFile = toml::from_str(DEMO_RULES).expect("demo rules parse");
        assert!(file.rule.len() >= 3);
        let ids: HashSet<&str> = file.rule.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids.len(), file.rule.len());
        assert!(file.rule.iter().all(|r| valid_id(&r.id)));
        let global = file
            .rule
            .iter()
            .filter(|r| {
                r.province_code.is_none() && r.ward_code.is_none() && r.agency_code.is_none()
            })
            .count();
        assert_eq!(global, 1, "one global default");
    }

    #[test]
    fn unknown_keys_are_refused() {
        let err =
            toml::from_str::<RulesFile>("[[rule]]\nid = \"x\"\ncourier = \"vnpost\"\nsla = 3\n")
                .expect_err("unknown key");
        assert!(err.to_string().contains("sla"), "{err}");
    }
}
