//! The operator's reports: what the public-administration centre and its postal partner are
//! measured on, for a period and optionally one agency or province. Built from the store's
//! aggregates (`store::reports`) with the arithmetic of `domain::report`; the HTTP layer
//! serves it as JSON or CSV and the dashboard draws it.

pub mod charts;
pub mod csv;
mod cube;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use chrono::NaiveDate;
use serde::Serialize;
use utoipa::ToSchema;

use crate::config::{ReportsSettings, Settings};
use crate::domain::report::{self, Period, PostShare};
use crate::domain::state::DeliveryState;
use crate::store::reports::{self as q, CubeCell, MinuteCount, ReasonCount, ReportFilter};
use crate::store::{Db, DbConnection, StoreError, agencies};
use crate::tracking::labels;
use crate::units::Units;

/// Who and what a report is about.
#[derive(Debug, Clone)]
pub struct Scope {
    pub period: Period,
    pub agency_id: Option<String>,
    pub province_code: Option<String>,
}

impl Scope {
    fn filter(&self) -> ReportFilter {
        let (from, to) = self.period.utc_bounds();
        ReportFilter {
            from,
            to,
            agency_id: self.agency_id.clone(),
            province_code: self.province_code.clone(),
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StateCount {
    pub state: String,
    /// In Vietnamese, as the citizen sees it.
    pub label: String,
    pub count: i64,
}

/// Timing and outcome figures of one group of deliveries.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct Outcomes {
    pub deliveries: i64,
    pub delivered: i64,
    /// Delivered within the SLA of their routing rule.
    pub on_time: i64,
    /// `on_time / delivered`; none before the first delivery.
    pub on_time_rate: Option<f64>,
    pub returned: i64,
    /// Ended in any terminal state (delivered, returned, cancelled, lost).
    pub ended: i64,
    /// Enqueue to delivery, nearest-rank median and 90th percentile, in hours.
    pub median_hours: Option<f64>,
    pub p90_hours: Option<f64>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CourierReport {
    pub courier: String,
    #[serde(flatten)]
    pub outcomes: Outcomes,
    /// Failed delivery attempts (one delivery may have several).
    pub failed_attempts: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WardReport {
    pub ward_code: String,
    pub ward_name: String,
    pub province_code: String,
    pub deliveries: i64,
    pub delivered: i64,
    pub on_time: i64,
    pub on_time_rate: Option<f64>,
    pub returned: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AgencyShare {
    pub agency: String,
    pub name: String,
    pub level: Option<String>,
    #[serde(flatten)]
    pub share: PostShare,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReasonReport {
    pub courier: String,
    /// The canonical reason code (couriers.md §4); none when the courier gave none.
    pub reason: Option<String>,
    pub label: String,
    pub count: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DayReport {
    pub day: String,
    pub total: i64,
    /// Deliveries enqueued that day, by the state they are in now.
    pub by_state: BTreeMap<String, i64>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PeriodView {
    #[schema(value_type = String, format = Date)]
    pub from: NaiveDate,
    #[schema(value_type = String, format = Date)]
    pub to: NaiveDate,
    pub timezone: &'static str,
}

/// Everything at once, as `/v1/reports/summary` serves it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Report {
    pub period: PeriodView,
    /// The agency code and province code the report is limited to, if any.
    pub agency: Option<String>,
    pub province: Option<String>,
    pub totals: Outcomes,
    pub by_state: Vec<StateCount>,
    pub share_by_post: Vec<AgencyShare>,
    pub couriers: Vec<CourierReport>,
    pub wards: Vec<WardReport>,
    pub failed_attempt_reasons: Vec<ReasonReport>,
    pub return_reasons: Vec<ReasonReport>,
    pub daily: Vec<DayReport>,
}

pub fn period_view(period: &Period) -> PeriodView {
    PeriodView {
        from: period.first_day,
        to: period.last_day,
        timezone: "Asia/Ho_Chi_Minh",
    }
}

/// What every section is read from: the cube, the delivery-time histogram and the reason
/// counts, each one pass over the period's deliveries. A section loads only what it needs.
struct Facts {
    cells: Vec<CubeCell>,
    minutes: Vec<MinuteCount>,
    reasons: Vec<ReasonCount>,
}

impl Facts {
    fn load(
        conn: &mut DbConnection,
        scope: &Scope,
        minutes: bool,
        reasons: bool,
    ) -> Result<Self, StoreError> {
        let filter = scope.filter();
        Ok(Self {
            cells: q::cube(conn, &filter)?,
            minutes: if minutes {
                q::delivery_minutes(conn, &filter)?
            } else {
                Vec::new()
            },
            reasons: if reasons {
                q::event_reasons(conn, &filter)?
            } else {
                Vec::new()
            },
        })
    }
}

pub fn by_state(conn: &mut DbConnection, scope: &Scope) -> Result<Vec<StateCount>, StoreError> {
    Ok(states_of(&Facts::load(conn, scope, false, false)?))
}

fn states_of(facts: &Facts) -> Vec<StateCount> {
    cube::by_state(&facts.cells)
        .into_iter()
        .map(|(state, count)| StateCount {
            label: DeliveryState::parse(&state)
                .map(|s| labels::state(s).0.to_owned())
                .unwrap_or_else(|| state.clone()),
            state,
            count,
        })
        .collect()
}

/// The figures of the whole scope.
pub fn totals(conn: &mut DbConnection, scope: &Scope) -> Result<Outcomes, StoreError> {
    Ok(totals_of(&Facts::load(conn, scope, true, false)?))
}

fn totals_of(facts: &Facts) -> Outcomes {
    cube::outcomes(&facts.cells, &facts.minutes, |_| true, |_| true)
}

pub fn couriers(conn: &mut DbConnection, scope: &Scope) -> Result<Vec<CourierReport>, StoreError> {
    Ok(couriers_of(&Facts::load(conn, scope, true, true)?))
}

fn couriers_of(facts: &Facts) -> Vec<CourierReport> {
    let mut failed: HashMap<&str, i64> = HashMap::new();
    for r in facts
        .reasons
        .iter()
        .filter(|r| r.state == DeliveryState::DeliveryFailed.as_str())
    {
        *failed.entry(&r.courier).or_default() += r.count;
    }
    cube::couriers(&facts.cells)
        .into_iter()
        .map(|courier| CourierReport {
            outcomes: cube::outcomes(
                &facts.cells,
                &facts.minutes,
                |c| c.courier == courier,
                |m| m.courier == courier,
            ),
            failed_attempts: failed.get(courier.as_str()).copied().unwrap_or(0),
            courier,
        })
        .collect()
}

pub fn wards(
    conn: &mut DbConnection,
    units: &Units,
    scope: &Scope,
) -> Result<Vec<WardReport>, StoreError> {
    Ok(q::ward_counts(conn, &scope.filter())?
        .into_iter()
        .map(|g| {
            let ward = units.ward(&g.key);
            WardReport {
                ward_name: ward.map(|w| w.name.clone()).unwrap_or_default(),
                province_code: ward.map(|w| w.province_code.clone()).unwrap_or_default(),
                on_time_rate: report::rate(g.on_time, g.delivered),
                ward_code: g.key,
                deliveries: g.deliveries,
                delivered: g.delivered,
                on_time: g.on_time,
                returned: g.returned,
            }
        })
        .collect())
}

/// Failed attempts (`delivery_failed`) or returns (`returning`) by courier and reason.
pub fn reasons(
    conn: &mut DbConnection,
    scope: &Scope,
    state: DeliveryState,
) -> Result<Vec<ReasonReport>, StoreError> {
    Ok(reasons_of(&q::event_reasons(conn, &scope.filter())?, state))
}

fn reasons_of(rows: &[ReasonCount], state: DeliveryState) -> Vec<ReasonReport> {
    rows.iter()
        .filter(|r| r.state == state.as_str())
        .map(|r| ReasonReport {
            label: r
                .reason
                .as_deref()
                .map(|code| labels::reason(code).unwrap_or(code).to_owned())
                .unwrap_or_else(|| "Không rõ lý do".to_owned()),
            courier: r.courier.clone(),
            reason: r.reason.clone(),
            count: r.count,
        })
        .collect()
}

pub fn daily(conn: &mut DbConnection, scope: &Scope) -> Result<Vec<DayReport>, StoreError> {
    Ok(daily_of(&Facts::load(conn, scope, false, false)?, scope))
}

fn daily_of(facts: &Facts, scope: &Scope) -> Vec<DayReport> {
    let counted = cube::per_day_state(&facts.cells);
    scope
        .period
        .each_day()
        .map(|d| {
            let day = d.to_string();
            let by_state: BTreeMap<String, i64> = counted
                .get(day.as_str())
                .map(|states| states.iter().map(|(s, n)| ((*s).to_owned(), *n)).collect())
                .unwrap_or_default();
            DayReport {
                total: by_state.values().sum(),
                day,
                by_state,
            }
        })
        .collect()
}

/// Share of results returned by post per agency, against the target of its level. With a
/// province, the agencies whose deliveries went there.
pub fn share_by_post(
    conn: &mut DbConnection,
    settings: &ReportsSettings,
    scope: &Scope,
) -> Result<Vec<AgencyShare>, StoreError> {
    let facts = Facts::load(conn, scope, false, false)?;
    share_of(conn, settings, scope, &facts)
}

fn share_of(
    conn: &mut DbConnection,
    settings: &ReportsSettings,
    scope: &Scope,
    facts: &Facts,
) -> Result<Vec<AgencyShare>, StoreError> {
    let by_post = cube::per_agency_day(&facts.cells);
    let mut totals: HashMap<String, BTreeMap<NaiveDate, i64>> = HashMap::new();
    let reported = q::result_totals(
        conn,
        scope.period.first_day,
        scope.period.last_day,
        scope.agency_id.as_deref(),
    )?;
    for t in reported {
        if let Ok(day) = NaiveDate::parse_from_str(&t.day, "%Y-%m-%d") {
            totals
                .entry(t.agency_id)
                .or_default()
                .insert(day, i64::from(t.results_total));
        }
    }
    let mut out = Vec::new();
    for agency in agencies::list(conn)? {
        let in_scope = match (&scope.agency_id, &scope.province_code) {
            (Some(id), _) => *id == agency.id,
            // A province report lists the agencies that sent parcels there.
            (None, Some(_)) => by_post.contains_key(&agency.id),
            (None, None) => by_post.contains_key(&agency.id) || totals.contains_key(&agency.id),
        };
        if !in_scope {
            continue;
        }
        let empty = BTreeMap::new();
        let share = report::post_share(
            by_post.get(&agency.id).unwrap_or(&empty),
            totals.get(&agency.id).unwrap_or(&empty),
            settings.target_percent(agency.level.as_deref()),
        );
        out.push(AgencyShare {
            agency: agency.code,
            name: agency.name,
            level: agency.level,
            share,
        });
    }
    out.sort_by(|a, b| {
        b.share
            .by_post
            .cmp(&a.share.by_post)
            .then(a.agency.cmp(&b.agency))
    });
    Ok(out)
}

/// The whole report. Its four passes over the deliveries (the cube, delivery times, wards,
/// reasons) run side by side, each on its own pooled connection: on a year of a busy
/// province they are CPU-bound, and the database then uses every core.
pub async fn summary(
    db: &Db,
    settings: &Arc<Settings>,
    units: &Arc<Units>,
    scope: &Scope,
    agency_code: Option<String>,
) -> Result<Report, StoreError> {
    let filter = scope.filter();
    let (f1, f2, f3) = (filter.clone(), filter.clone(), filter);
    let (ward_units, ward_scope) = (units.clone(), scope.clone());
    let (cells, minutes, reasons, wards) = tokio::try_join!(
        db.run(move |c| q::cube(c, &f1)),
        db.run(move |c| q::delivery_minutes(c, &f2)),
        db.run(move |c| q::event_reasons(c, &f3)),
        db.run(move |c| wards(c, &ward_units, &ward_scope)),
    )?;
    let facts = Arc::new(Facts {
        cells,
        minutes,
        reasons,
    });
    let (settings, share_scope, share_facts) = (settings.clone(), scope.clone(), facts.clone());
    let share_by_post = db
        .run(move |c| share_of(c, &settings.reports, &share_scope, &share_facts))
        .await?;
    Ok(Report {
        period: period_view(&scope.period),
        agency: agency_code,
        province: scope.province_code.clone(),
        totals: totals_of(&facts),
        by_state: states_of(&facts),
        share_by_post,
        couriers: couriers_of(&facts),
        wards,
        failed_attempt_reasons: reasons_of(&facts.reasons, DeliveryState::DeliveryFailed),
        return_reasons: reasons_of(&facts.reasons, DeliveryState::Returning),
        daily: daily_of(&facts, scope),
    })
}
