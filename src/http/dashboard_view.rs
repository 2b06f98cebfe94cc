//! What the dashboard shows: the report for the chosen period, drawn as SVG, the failure
//! queue and the latest audit entries, put into `templates/admin/dashboard.html`.

use askama::Template;
use chrono::Utc;
use serde::Deserialize;

use super::problem::ApiError;
use crate::app::AppState;
use crate::domain::report::{Period, local_day};
use crate::domain::validation::FieldError;
use crate::reports::{self, Scope, charts};
use crate::store::failures::{self, Failure, FailureAction, FailureKind};
use crate::store::{agencies, audit};

/// Provinces that ship with ward polygons, for the map.
const MAP_PROVINCES: [&str; 5] = ["01", "31", "44", "48", "79"];

#[derive(Debug, Default, Deserialize)]
pub struct DashboardQuery {
    pub from: Option<String>,
    pub to: Option<String>,
    pub agency: Option<String>,
    pub province: Option<String>,
    /// The outcome of the last failure-queue action, shown once.
    pub notice: Option<String>,
    pub error: Option<String>,
}

pub struct FailureLine {
    pub kind: &'static str,
    pub kind_label: &'static str,
    pub id: String,
    pub delivery_id: Option<String>,
    pub subject: String,
    pub reason: String,
    pub since: String,
    pub actions: Vec<(&'static str, &'static str)>,
}

pub struct AuditLine {
    pub at: String,
    pub actor: String,
    pub action: String,
    pub subject: String,
    pub detail: String,
}

#[derive(Template)]
#[template(path = "admin/dashboard.html")]
struct DashboardPage {
    title: &'static str,
    notice: Option<String>,
    error: Option<String>,
    from: String,
    to: String,
    agency: String,
    province: String,
    province_name: String,
    agencies: Vec<(String, String)>,
    map_provinces: Vec<(String, String)>,
    query: String,
    back: String,
    csv_sections: [&'static str; 6],
    totals: reports::Outcomes,
    on_time_rate: String,
    median_hours: String,
    p90_hours: String,
    volume_svg: String,
    legend: Vec<(&'static str, &'static str)>,
    share_svg: String,
    on_time_svg: String,
    map_svg: Option<String>,
    failures: Vec<FailureLine>,
    audit: Vec<AuditLine>,
}

fn kind_label(kind: FailureKind) -> &'static str {
    match kind {
        FailureKind::DispatchFailed => "Chưa gửi được đơn",
        FailureKind::UnknownCourierCode => "Mã trạng thái lạ",
        FailureKind::ParkedJob => "Việc bị dừng",
        FailureKind::CallbackDisabled => "Callback bị tắt",
        FailureKind::NotificationFailed => "Tin nhắn không gửi được",
    }
}

fn action_label(action: FailureAction) -> &'static str {
    match action {
        FailureAction::Retry => "Thử lại",
        FailureAction::Reroute => "Chuyển bưu chính khác",
        FailureAction::Replay => "Bật lại và gửi lại",
        FailureAction::MarkHandled => "Đã xử lý",
    }
}

fn local_time(t: chrono::NaiveDateTime) -> String {
    (t + crate::domain::report::VIETNAM_OFFSET)
        .format("%d/%m/%Y %H:%M")
        .to_string()
}

fn failure_line(f: Failure) -> FailureLine {
    FailureLine {
        kind: f.kind.as_str(),
        kind_label: kind_label(f.kind),
        id: f.id,
        delivery_id: f.delivery_id,
        subject: f.subject,
        reason: f.reason.unwrap_or_default(),
        since: local_time(f.since),
        actions: f
            .actions
            .iter()
            .map(|a| (a.as_str(), action_label(*a)))
            .collect(),
    }
}

fn hours(h: Option<f64>) -> String {
    h.map_or_else(|| "–".to_owned(), |h| format!("{h:.1} giờ"))
}

fn query_string(q: &DashboardQuery, period: &Period) -> String {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    s.append_pair("from", &period.first_day.to_string());
    s.append_pair("to", &period.last_day.to_string());
    if let Some(a) = q.agency.as_deref().filter(|a| !a.is_empty()) {
        s.append_pair("agency", a);
    }
    s.finish()
}

/// The page's filters as a query string, so an action's answer comes back to the same view.
pub fn back_to(q: &DashboardQuery) -> String {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    for (name, value) in [
        ("from", &q.from),
        ("to", &q.to),
        ("agency", &q.agency),
        ("province", &q.province),
    ] {
        if let Some(v) = value.as_deref().filter(|v| !v.is_empty()) {
            s.append_pair(name, v);
        }
    }
    s.finish()
}

pub async fn render(state: &AppState, q: DashboardQuery) -> Result<String, ApiError> {
    let settings = state.settings.clone();
    let today = local_day(Utc::now().naive_utc());
    let period = Period::parse(
        q.from.as_deref().filter(|s| !s.is_empty()),
        q.to.as_deref().filter(|s| !s.is_empty()),
        today,
        settings.reports.default_period_days,
        settings.reports.max_period_days,
    )
    .map_err(|(field, e)| {
        ApiError::Validation(vec![FieldError::new(
            field,
            "invalid_period",
            e.to_string(),
        )])
    })?;
    let province = q
        .province
        .clone()
        .filter(|p| MAP_PROVINCES.contains(&p.as_str()))
        .unwrap_or_else(|| MAP_PROVINCES[0].to_owned());
    let agency_code = q.agency.clone().filter(|a| !a.is_empty());
    let lookup = agency_code.clone();
    let (agency_id, all_agencies, failures, audit_rows) = state
        .db
        .run(move |conn| {
            let agency_id = match &lookup {
                Some(code) => match agencies::find_by_code(conn, code)? {
                    Some(a) => Some(a.id),
                    None => return Ok(None),
                },
                None => None,
            };
            let failures = failures::list(conn, 200)?;
            let audit_rows = audit::recent(conn, None, 20)?;
            Ok::<_, crate::store::StoreError>(Some((
                agency_id,
                agencies::list(conn)?,
                failures,
                audit_rows,
            )))
        })
        .await?
        .ok_or_else(|| {
            ApiError::Validation(vec![FieldError::new(
                "agency",
                "unknown_agency",
                "no agency has this code",
            )])
        })?;
    let scope = Scope {
        period,
        agency_id,
        province_code: None,
    };
    let report = reports::summary(
        &state.db,
        &state.settings,
        &state.units,
        &scope,
        agency_code,
    )
    .await?;
    // The map's wards are the report's, those of the province drawn.
    let map_wards: Vec<_> = report
        .wards
        .iter()
        .filter(|w| w.province_code == province)
        .cloned()
        .collect();
    let units = &state.units;
    let page = DashboardPage {
        title: "Bàn điều hành",
        notice: q.notice.clone(),
        error: q.error.clone(),
        from: period.first_day.to_string(),
        to: period.last_day.to_string(),
        agency: q.agency.clone().unwrap_or_default(),
        province_name: units
            .province(&province)
            .map(|p| p.name.clone())
            .unwrap_or_default(),
        map_provinces: MAP_PROVINCES
            .iter()
            .filter_map(|c| units.province(c).map(|p| (p.code.clone(), p.name.clone())))
            .collect(),
        province,
        agencies: all_agencies.into_iter().map(|a| (a.code, a.name)).collect(),
        query: query_string(&q, &period),
        back: back_to(&q),
        csv_sections: [
            "states",
            "share-by-post",
            "couriers",
            "wards",
            "reasons",
            "daily",
        ],
        on_time_rate: report
            .totals
            .on_time_rate
            .map_or_else(|| "–".to_owned(), |r| format!("{:.1} %", r * 100.0)),
        median_hours: hours(report.totals.median_hours),
        p90_hours: hours(report.totals.p90_hours),
        volume_svg: charts::daily_volume(&report.daily),
        legend: charts::STATE_GROUPS
            .iter()
            .map(|(c, n, _)| (*c, *n))
            .collect(),
        share_svg: charts::share_by_post(&report.share_by_post),
        on_time_svg: charts::on_time(&report.couriers),
        map_svg: None,
        totals: report.totals.clone(),
        failures: failures.into_iter().map(failure_line).collect(),
        audit: audit_rows
            .into_iter()
            .map(|r| AuditLine {
                at: local_time(r.at),
                actor: r.actor,
                action: r.action,
                subject: format!(
                    "{} {}",
                    r.subject_kind.unwrap_or_default(),
                    r.subject_id.unwrap_or_default()
                ),
                detail: r.detail,
            })
            .collect(),
    };
    let page = DashboardPage {
        map_svg: charts::ward_map(units, &page.province, &map_wards),
        ..page
    };
    page.render().map_err(ApiError::internal)
}
