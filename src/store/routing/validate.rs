//! Checks a rule as a whole and reports every invalid field at once. Unit codes are checked
//! against the `provinces` and `wards` tables (the 2025 scheme), so the store needs nothing
//! else to validate.

use diesel::prelude::*;

use super::RuleSpec;
use crate::domain::courier::Courier;
use crate::domain::validation::{FieldError, join};
use crate::routing::{DEFAULT_SLA_HOURS, SLA_HOURS_RANGE, standard_service_code};
use crate::store::schema::{agencies, provinces, wards};
use crate::store::{DbConnection, StoreError};
use crate::units::codes::is_code;

/// Priorities are small integers; this bound keeps them readable and well inside `INTEGER`.
const PRIORITY_RANGE: std::ops::RangeInclusive<i64> = -10_000..=10_000;

/// A rule that passed [`validate`]: agency resolved to its id, defaults filled in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidRule {
    pub agency_id: Option<String>,
    pub province_code: Option<String>,
    pub ward_code: Option<String>,
    pub courier: Courier,
    pub service_code: String,
    pub sla_hours: i32,
    pub fallback_courier: Option<Courier>,
    pub priority: i32,
    pub active: bool,
}

fn courier_names() -> String {
    Courier::ALL.map(Courier::as_str).join(", ")
}

/// Blank strings count as absent, so `"ward_code": ""` means "no ward", not an error.
fn given(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

/// `at` prefixes the field names (`rules[2]` in a fixture file; empty for an API body).
/// The outer error is a database failure; the inner one lists every invalid field.
pub fn validate(
    conn: &mut DbConnection,
    spec: &RuleSpec,
    at: &str,
) -> Result<Result<ValidRule, Vec<FieldError>>, StoreError> {
    let mut errors = Vec::new();
    let mut fail = |field: &str, code: &str, message: String| {
        errors.push(FieldError::new(join(at, field), code, message));
    };

    let agency_code = given(&spec.agency_code);
    let agency_id = match agency_code {
        Some(code) => {
            let id: Option<String> = agencies::table
                .filter(agencies::code.eq(code))
                .select(agencies::id)
                .first(conn)
                .optional()?;
            if id.is_none() {
                fail(
                    "agency_code",
                    "unknown_agency",
                    format!("no agency has code '{code}'"),
                );
            }
            id
        }
        None => None,
    };

    let province_code = given(&spec.province_code);
    if let Some(p) = province_code {
        if !is_code(p, 2) {
            fail(
                "province_code",
                "invalid_format",
                format!("'{p}' is not a 2-digit province code"),
            );
        } else if !province_exists(conn, p)? {
            fail(
                "province_code",
                "unknown_province",
                format!("no province has code {p} in the 2025 scheme (34 provinces)"),
            );
        }
    }

    let ward_code = given(&spec.ward_code);
    if let Some(w) = ward_code {
        if !is_code(w, 5) {
            fail(
                "ward_code",
                "invalid_format",
                format!("'{w}' is not a 5-digit ward code"),
            );
        } else {
            let ward_province: Option<String> = wards::table
                .find(w)
                .select(wards::province_code)
                .first(conn)
                .optional()?;
            match (ward_province, province_code) {
                (None, _) => fail(
                    "ward_code",
                    "unknown_ward",
                    format!("no ward has code {w} in the 2025 scheme"),
                ),
                (Some(wp), Some(p)) if wp != p => fail(
                    "ward_code",
                    "ward_not_in_province",
                    format!(
                        "ward {w} is in province {wp}, not {p}; give the ward's own province or leave province_code out"
                    ),
                ),
                _ => {}
            }
        }
    }

    let courier = Courier::parse(spec.courier.trim());
    if spec.courier.trim().is_empty() {
        fail(
            "courier",
            "required",
            format!("give a courier: one of {}", courier_names()),
        );
    } else if courier.is_none() {
        fail(
            "courier",
            "unknown_courier",
            format!(
                "'{}' is not a courier; use one of {}",
                spec.courier,
                courier_names()
            ),
        );
    }

    let fallback_courier = match given(&spec.fallback_courier) {
        Some(f) => match Courier::parse(f) {
            Some(c) if Some(c) == courier => {
                fail(
                    "fallback_courier",
                    "same_as_courier",
                    "the fallback must be another courier than the first choice".into(),
                );
                None
            }
            Some(c) => Some(c),
            None => {
                fail(
                    "fallback_courier",
                    "unknown_courier",
                    format!("'{f}' is not a courier; use one of {}", courier_names()),
                );
                None
            }
        },
        None => None,
    };

    let service_code = match (&spec.service_code, courier) {
        (Some(code), _) => {
            let ok = (1..=32).contains(&code.len()) && code.bytes().all(|b| b.is_ascii_graphic());
            if !ok {
                fail(
                    "service_code",
                    "invalid_format",
                    "a service code is 1-32 printable ASCII characters without spaces, e.g. CTN009 (VNPost) or VCN (Viettel Post)".into(),
                );
            }
            code.clone()
        }
        (None, Some(c)) => standard_service_code(c).to_owned(),
        (None, None) => String::new(),
    };

    let sla_hours = spec.sla_hours.unwrap_or(i64::from(DEFAULT_SLA_HOURS));
    if !SLA_HOURS_RANGE.contains(&sla_hours) {
        fail(
            "sla_hours",
            "out_of_range",
            format!("{sla_hours} is outside 1..=720 hours (30 days)"),
        );
    }
    let priority = spec.priority.unwrap_or(0);
    if !PRIORITY_RANGE.contains(&priority) {
        fail(
            "priority",
            "out_of_range",
            format!("{priority} is outside -10000..=10000"),
        );
    }

    Ok(match courier {
        Some(courier) if errors.is_empty() => Ok(ValidRule {
            agency_id,
            province_code: province_code.map(str::to_owned),
            ward_code: ward_code.map(str::to_owned),
            courier,
            service_code,
            // Both checked against ranges that fit in i32 just above.
            sla_hours: i32::try_from(sla_hours).unwrap_or(DEFAULT_SLA_HOURS),
            fallback_courier,
            priority: i32::try_from(priority).unwrap_or(0),
            active: spec.active.unwrap_or(true),
        }),
        _ => Err(errors),
    })
}

fn province_exists(conn: &mut DbConnection, code: &str) -> Result<bool, StoreError> {
    let n: i64 = provinces::table
        .filter(provinces::code.eq(code))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}
