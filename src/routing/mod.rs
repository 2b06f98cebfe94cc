//! Which courier carries a delivery, with which service and promised time: pure rule
//! selection, no I/O. The store loads candidate rules (`store::routing::decide`); this module
//! picks the winner.
//!
//! The most specific active rule that matches wins: agency+ward, ward, agency+province,
//! province, agency default, global default. Ties go to the higher `priority`, then to the
//! newest rule. When nothing matches, VNPost carries it: QĐ 45/2016/QĐ-TTg makes the public
//! postal operator the carrier of record for results returned by post.

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::courier::Courier;

/// The promised delivery time when no rule says otherwise.
pub const DEFAULT_SLA_HOURS: i32 = 72;
/// Bounds of `sla_hours`: one hour to 30 days.
pub const SLA_HOURS_RANGE: std::ops::RangeInclusive<i64> = 1..=720;

/// Each courier's everyday service code, used when a rule names none. Codes are
/// contract-dependent, so these are the ones the couriers' own catalogues call standard:
/// VNPost `CTN009` ("Tiêu chuẩn"), Viettel Post `VCN` ("Chuyển phát nhanh").
pub fn standard_service_code(courier: Courier) -> &'static str {
    match courier {
        Courier::Vnpost => "CTN009",
        Courier::Viettelpost => "VCN",
    }
}

/// One routing rule. Empty scopes widen it: no ward and no province covers the whole
/// country; no agency covers every agency.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RoutingRule {
    pub id: String,
    pub agency_id: Option<String>,
    pub province_code: Option<String>,
    pub ward_code: Option<String>,
    pub courier: Courier,
    pub service_code: String,
    pub sla_hours: i32,
    pub fallback_courier: Option<Courier>,
    pub active: bool,
    pub priority: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// How specific the rule that decided was. Declared least specific first, so the derived
/// order ranks them.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Specificity {
    /// No rule matched: VNPost, standard service, 72 hours.
    BuiltInDefault,
    /// A rule with no agency, province or ward.
    GlobalDefault,
    /// A rule naming only the agency.
    AgencyDefault,
    Province,
    AgencyProvince,
    Ward,
    AgencyWard,
}

impl RoutingRule {
    pub fn specificity(&self) -> Specificity {
        let agency = self.agency_id.is_some();
        match (
            self.ward_code.is_some(),
            self.province_code.is_some(),
            agency,
        ) {
            (true, _, true) => Specificity::AgencyWard,
            (true, _, false) => Specificity::Ward,
            (false, true, true) => Specificity::AgencyProvince,
            (false, true, false) => Specificity::Province,
            (false, false, true) => Specificity::AgencyDefault,
            (false, false, false) => Specificity::GlobalDefault,
        }
    }

    /// Whether the rule covers this address for this agency, ignoring `active`. A rule
    /// naming a ward covers only that ward (its province, if also given, is implied); a rule
    /// naming only a province covers every ward of it. An empty `agency_id` (an operator
    /// previewing without an agency) matches no agency's rules.
    pub fn covers(&self, agency_id: &str, province_code: &str, ward_code: &str) -> bool {
        let agency_ok = match &self.agency_id {
            Some(a) => !agency_id.is_empty() && a == agency_id,
            None => true,
        };
        let place_ok = match (&self.ward_code, &self.province_code) {
            (Some(w), _) => w == ward_code,
            (None, Some(p)) => p == province_code,
            (None, None) => true,
        };
        agency_ok && place_ok
    }
}

/// The winning rule for this agency and address, if any.
pub fn select<'a>(
    rules: &'a [RoutingRule],
    agency_id: &str,
    province_code: &str,
    ward_code: &str,
) -> Option<&'a RoutingRule> {
    rules
        .iter()
        .filter(|r| r.active && r.covers(agency_id, province_code, ward_code))
        .max_by(|a, b| {
            a.specificity()
                .cmp(&b.specificity())
                .then(a.priority.cmp(&b.priority))
                .then(a.created_at.cmp(&b.created_at))
                // UUID v7 ids are time-ordered: the last word when two rules share a timestamp.
                .then(a.id.cmp(&b.id))
        })
}

/// What routing decided for one delivery: copied onto the delivery so later rule changes
/// never move a parcel already on its way.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RoutingDecision {
    #[schema(example = "viettelpost")]
    pub courier: Courier,
    /// The courier's service code (VNPost `serviceCode`, Viettel Post `ORDER_SERVICE`).
    #[schema(example = "VCN")]
    pub service_code: String,
    /// Promised hours from hand-over to delivery.
    #[schema(example = 48)]
    pub sla_hours: i32,
    /// Used when the first courier refuses the order or its circuit breaker is open.
    #[schema(example = "vnpost")]
    pub fallback_courier: Option<Courier>,
    /// The rule that decided; absent for the built-in default.
    #[schema(example = "demo-hcm-viettelpost")]
    pub rule_id: Option<String>,
    pub specificity: Specificity,
}

impl RoutingDecision {
    pub fn from_rule(rule: &RoutingRule) -> Self {
        Self {
            courier: rule.courier,
            service_code: rule.service_code.clone(),
            sla_hours: rule.sla_hours,
            fallback_courier: rule.fallback_courier,
            rule_id: Some(rule.id.clone()),
            specificity: rule.specificity(),
        }
    }

    /// VNPost, its standard service, 72 hours: the public postal operator of record.
    pub fn built_in_default() -> Self {
        Self {
            courier: Courier::Vnpost,
            service_code: standard_service_code(Courier::Vnpost).to_owned(),
            sla_hours: DEFAULT_SLA_HOURS,
            fallback_courier: None,
            rule_id: None,
            specificity: Specificity::BuiltInDefault,
        }
    }
}

/// [`select`], falling back to the built-in default.
pub fn decide(
    rules: &[RoutingRule],
    agency_id: &str,
    province_code: &str,
    ward_code: &str,
) -> RoutingDecision {
    select(rules, agency_id, province_code, ward_code).map_or_else(
        RoutingDecision::built_in_default,
        RoutingDecision::from_rule,
    )
}

#[cfg(test)]
mod tests;
