//! Routing rules in the database: list, create, change, deactivate, and the decision for one
//! delivery (candidate rules loaded here, the winner picked by [`crate::routing::select`]).

mod fixture;
mod validate;

use std::collections::HashMap;

use diesel::prelude::*;

use super::schema::{agencies, routing_rules};
use super::{DbConnection, StoreError};
use crate::domain::courier::Courier;
use crate::domain::ids::{new_id, now_utc};
use crate::domain::validation::FieldError;
use crate::routing::{self, RoutingDecision, RoutingRule};

pub use fixture::{
    DEMO_RULES, FixtureError, FixtureOutcome, load_demo_rules, load_fixture, load_fixture_file,
};
pub use validate::{ValidRule, validate};

/// A rule as a caller asks for it: raw values, checked by [`validate`] so every problem is
/// reported at once. The agency is named by its code.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RuleSpec {
    pub agency_code: Option<String>,
    pub province_code: Option<String>,
    pub ward_code: Option<String>,
    pub courier: String,
    /// `None`: the courier's standard code.
    pub service_code: Option<String>,
    /// `None`: 72 hours.
    pub sla_hours: Option<i64>,
    pub fallback_courier: Option<String>,
    /// `None`: 0.
    pub priority: Option<i64>,
    /// `None`: active.
    pub active: Option<bool>,
}

/// A change to a rule: an outer `None` leaves the field alone; `Some(None)` clears it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RulePatch {
    pub agency_code: Option<Option<String>>,
    pub province_code: Option<Option<String>>,
    pub ward_code: Option<Option<String>>,
    pub courier: Option<String>,
    pub service_code: Option<String>,
    pub sla_hours: Option<i64>,
    pub fallback_courier: Option<Option<String>>,
    pub priority: Option<i64>,
    pub active: Option<bool>,
}

/// A stored rule with its agency's code, for display.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleRecord {
    pub rule: RoutingRule,
    pub agency_code: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum RuleError {
    #[error("invalid routing rule ({} field(s))", .0.len())]
    Invalid(Vec<FieldError>),
    #[error("no routing rule with id '{0}'")]
    NotFound(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<diesel::result::Error> for RuleError {
    fn from(e: diesel::result::Error) -> Self {
        RuleError::Store(StoreError::Query(e))
    }
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = routing_rules)]
struct RuleRow {
    id: String,
    agency_id: Option<String>,
    province_code: Option<String>,
    ward_code: Option<String>,
    courier: String,
    service_code: String,
    sla_hours: i32,
    fallback_courier: Option<String>,
    active: bool,
    priority: i32,
    created_at: chrono::NaiveDateTime,
    updated_at: chrono::NaiveDateTime,
}

/// Couriers are checked on the way in, so an unknown one means a hand-edited row; fail
/// loudly rather than route a parcel on a guess.
fn parse_courier(rule_id: &str, value: &str) -> Result<Courier, diesel::result::Error> {
    Courier::parse(value).ok_or_else(|| {
        diesel::result::Error::DeserializationError(
            format!("routing rule {rule_id}: unknown courier '{value}'").into(),
        )
    })
}

impl TryFrom<RuleRow> for RoutingRule {
    type Error = diesel::result::Error;

    fn try_from(row: RuleRow) -> Result<Self, Self::Error> {
        let courier = parse_courier(&row.id, &row.courier)?;
        let fallback_courier = row
            .fallback_courier
            .as_deref()
            .map(|c| parse_courier(&row.id, c))
            .transpose()?;
        Ok(RoutingRule {
            id: row.id,
            agency_id: row.agency_id,
            province_code: row.province_code,
            ward_code: row.ward_code,
            courier,
            service_code: row.service_code,
            sla_hours: row.sla_hours,
            fallback_courier,
            active: row.active,
            priority: row.priority,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

fn to_rules(rows: Vec<RuleRow>) -> Result<Vec<RoutingRule>, StoreError> {
    Ok(rows
        .into_iter()
        .map(RoutingRule::try_from)
        .collect::<Result<_, _>>()?)
}

/// Attaches agency codes with one query for all the rules.
fn with_agency_codes(
    conn: &mut DbConnection,
    rules: Vec<RoutingRule>,
) -> Result<Vec<RuleRecord>, StoreError> {
    let ids: Vec<&str> = rules
        .iter()
        .filter_map(|r| r.agency_id.as_deref())
        .collect();
    let codes: HashMap<String, String> = if ids.is_empty() {
        HashMap::new()
    } else {
        agencies::table
            .filter(agencies::id.eq_any(&ids))
            .select((agencies::id, agencies::code))
            .load::<(String, String)>(conn)?
            .into_iter()
            .collect()
    };
    Ok(rules
        .into_iter()
        .map(|rule| {
            let agency_code = rule
                .agency_id
                .as_ref()
                .and_then(|id| codes.get(id))
                .cloned();
            RuleRecord { rule, agency_code }
        })
        .collect())
}

/// Every rule (or only active or inactive ones), most specific scopes first.
pub fn list(conn: &mut DbConnection, active: Option<bool>) -> Result<Vec<RuleRecord>, StoreError> {
    let mut query = routing_rules::table
        .select(RuleRow::as_select())
        .into_boxed();
    if let Some(active) = active {
        query = query.filter(routing_rules::active.eq(active));
    }
    let mut rules = to_rules(
        query
            .order((routing_rules::created_at.asc(), routing_rules::id.asc()))
            .load(conn)?,
    )?;
    rules.sort_by(|a, b| {
        b.specificity()
            .cmp(&a.specificity())
            .then(a.province_code.cmp(&b.province_code))
            .then(a.ward_code.cmp(&b.ward_code))
            .then(b.priority.cmp(&a.priority))
    });
    with_agency_codes(conn, rules)
}

pub fn get(conn: &mut DbConnection, id: &str) -> Result<Option<RuleRecord>, StoreError> {
    let row: Option<RuleRow> = routing_rules::table
        .find(id)
        .select(RuleRow::as_select())
        .first(conn)
        .optional()?;
    let rules = to_rules(row.into_iter().collect())?;
    Ok(with_agency_codes(conn, rules)?.pop())
}

fn get_existing(conn: &mut DbConnection, id: &str) -> Result<RuleRecord, RuleError> {
    get(conn, id)?.ok_or_else(|| RuleError::NotFound(id.to_owned()))
}

/// Validates and inserts a rule with a new id. Nothing is written when a field is invalid.
pub fn create(conn: &mut DbConnection, spec: &RuleSpec) -> Result<RuleRecord, RuleError> {
    conn.transaction(|conn| {
        let valid = validate(conn, spec, "")?.map_err(RuleError::Invalid)?;
        let id = new_id();
        insert(conn, &id, &valid)?;
        get_existing(conn, &id)
    })
}

/// The columns a rule's settings fill, for both insert and overwrite. `None` writes NULL:
/// widening a rule (dropping its ward) must clear the column, not keep it.
#[derive(Insertable, AsChangeset)]
#[diesel(table_name = routing_rules, treat_none_as_null = true)]
struct RuleColumns<'a> {
    agency_id: Option<&'a str>,
    province_code: Option<&'a str>,
    ward_code: Option<&'a str>,
    courier: &'a str,
    service_code: &'a str,
    sla_hours: i32,
    fallback_courier: Option<&'a str>,
    active: bool,
    priority: i32,
}

impl<'a> From<&'a ValidRule> for RuleColumns<'a> {
    fn from(v: &'a ValidRule) -> Self {
        Self {
            agency_id: v.agency_id.as_deref(),
            province_code: v.province_code.as_deref(),
            ward_code: v.ward_code.as_deref(),
            courier: v.courier.as_str(),
            service_code: &v.service_code,
            sla_hours: v.sla_hours,
            fallback_courier: v.fallback_courier.map(Courier::as_str),
            active: v.active,
            priority: v.priority,
        }
    }
}

pub(crate) fn insert(conn: &mut DbConnection, id: &str, v: &ValidRule) -> Result<(), StoreError> {
    let now = now_utc();
    diesel::insert_into(routing_rules::table)
        .values((
            routing_rules::id.eq(id),
            RuleColumns::from(v),
            routing_rules::created_at.eq(now),
            routing_rules::updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

pub(crate) fn overwrite(
    conn: &mut DbConnection,
    id: &str,
    v: &ValidRule,
) -> Result<(), StoreError> {
    diesel::update(routing_rules::table.find(id))
        .set((
            RuleColumns::from(v),
            routing_rules::updated_at.eq(now_utc()),
        ))
        .execute(conn)?;
    Ok(())
}

/// The stored rule as a spec, so a patch can be applied and the result checked as a whole
/// (a new ward must still agree with the kept province, and so on).
fn spec_of(record: &RuleRecord) -> RuleSpec {
    let r = &record.rule;
    RuleSpec {
        agency_code: record.agency_code.clone(),
        province_code: r.province_code.clone(),
        ward_code: r.ward_code.clone(),
        courier: r.courier.as_str().to_owned(),
        service_code: Some(r.service_code.clone()),
        sla_hours: Some(i64::from(r.sla_hours)),
        fallback_courier: r.fallback_courier.map(|c| c.as_str().to_owned()),
        priority: Some(i64::from(r.priority)),
        active: Some(r.active),
    }
}

fn apply(mut spec: RuleSpec, patch: &RulePatch) -> RuleSpec {
    fn set<T: Clone>(target: &mut T, value: &Option<T>) {
        if let Some(v) = value {
            *target = v.clone();
        }
    }
    set(&mut spec.agency_code, &patch.agency_code);
    set(&mut spec.province_code, &patch.province_code);
    set(&mut spec.ward_code, &patch.ward_code);
    set(&mut spec.courier, &patch.courier);
    set(&mut spec.fallback_courier, &patch.fallback_courier);
    if patch.courier.is_some() && patch.service_code.is_none() {
        // The old service code belongs to the old courier.
        spec.service_code = None;
    }
    if patch.service_code.is_some() {
        spec.service_code = patch.service_code.clone();
    }
    if patch.sla_hours.is_some() {
        spec.sla_hours = patch.sla_hours;
    }
    if patch.priority.is_some() {
        spec.priority = patch.priority;
    }
    if patch.active.is_some() {
        spec.active = patch.active;
    }
    spec
}

/// Applies a patch, checks the whole resulting rule, and writes it; nothing is written when
/// a field is invalid.
pub fn update(
    conn: &mut DbConnection,
    id: &str,
    patch: &RulePatch,
) -> Result<RuleRecord, RuleError> {
    conn.transaction(|conn| {
        let current = get_existing(conn, id)?;
        let spec = apply(spec_of(&current), patch);
        let valid = validate(conn, &spec, "")?.map_err(RuleError::Invalid)?;
        overwrite(conn, id, &valid)?;
        get_existing(conn, id)
    })
}

/// Takes a rule out of routing without deleting it (deliveries keep pointing at it).
/// Deactivating an inactive rule changes nothing.
pub fn deactivate(conn: &mut DbConnection, id: &str) -> Result<RuleRecord, RuleError> {
    conn.transaction(|conn| {
        let current = get_existing(conn, id)?;
        if current.rule.active {
            diesel::update(routing_rules::table.find(id))
                .set((
                    routing_rules::active.eq(false),
                    routing_rules::updated_at.eq(now_utc()),
                ))
                .execute(conn)?;
            return get_existing(conn, id);
        }
        Ok(current)
    })
}

/// The routing for one delivery. Loads only the active rules that could match (this ward,
/// this province, or nationwide; for everyone or for this agency) and lets
/// [`routing::select`] pick. An empty `agency_id` applies only rules for every agency.
pub fn decide(
    conn: &mut DbConnection,
    agency_id: &str,
    province_code: &str,
    ward_code: &str,
) -> Result<RoutingDecision, StoreError> {
    use routing_rules::dsl as r;
    let rows: Vec<RuleRow> = r::routing_rules
        .filter(r::active.eq(true))
        .filter(
            r::ward_code
                .eq(ward_code)
                .or(r::province_code.eq(province_code))
                .or(r::ward_code.is_null().and(r::province_code.is_null())),
        )
        .filter(r::agency_id.is_null().or(r::agency_id.eq(agency_id)))
        .select(RuleRow::as_select())
        .load(conn)?;
    let rules = to_rules(rows)?;
    Ok(routing::decide(&rules, agency_id, province_code, ward_code))
}
