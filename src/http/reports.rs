//! Reports (`/v1/reports/…`): the operator sees every agency, an agency key only its own.
//! Each section answers JSON, or CSV with `?format=csv` (or `Accept: text/csv`); `summary`
//! is every section at once. Agencies report their total results per day here too, the
//! denominator of the share returned by post.

use actix_web::http::header::{ACCEPT, CONTENT_DISPOSITION, CONTENT_TYPE};
use actix_web::{HttpRequest, HttpResponse, get, put, web};
use chrono::{NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::auth::Caller;
use super::problem::{ApiError, Problem};
use crate::app::AppState;
use crate::domain::report::{Period, local_day};
use crate::domain::state::DeliveryState;
use crate::domain::validation::FieldError;
use crate::reports::{self, Scope};
use crate::store::{DbConnection, StoreError, agencies, reports as store};

pub fn scope() -> actix_web::Scope {
    web::scope("/v1/reports")
        .service(put_result_totals)
        .service(get_result_totals)
        .service(summary)
        .service(section)
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReportQuery {
    /// First day, `YYYY-MM-DD` in Asia/Ho_Chi_Minh (default: `reports.default_period_days`
    /// before `to`).
    pub from: Option<String>,
    /// Last day, included (default: today).
    pub to: Option<String>,
    /// An agency code (operators only; an agency key always sees its own).
    pub agency: Option<String>,
    /// A province code: deliveries to that province.
    pub province: Option<String>,
    /// `json` (default) or `csv`.
    pub format: Option<String>,
}

/// The period and scope a request asks for, checked: unknown agency or province, bad dates
/// and an agency asking about another agency are refused with the field named.
async fn resolve(
    state: &AppState,
    caller: &Caller,
    q: &ReportQuery,
) -> Result<(Scope, Option<String>), ApiError> {
    let s = &state.settings.reports;
    let today = local_day(Utc::now().naive_utc());
    let period = Period::parse(
        q.from.as_deref(),
        q.to.as_deref(),
        today,
        s.default_period_days,
        s.max_period_days,
    )
    .map_err(|(field, e)| {
        ApiError::Validation(vec![FieldError::new(
            field,
            "invalid_period",
            e.to_string(),
        )])
    })?;
    if let Some(p) = q.province.as_deref()
        && state.units.province(p).is_none()
    {
        return Err(ApiError::Validation(vec![FieldError::new(
            "province",
            "unknown_province",
            format!("no province has code {p} in the 2025 scheme"),
        )]));
    }
    let (agency_id, agency_code) = match (caller, q.agency.clone()) {
        (Caller::Agency(a), asked) => {
            let own = agency_of(state, a.agency_id.clone()).await?;
            if asked.as_ref().is_some_and(|c| *c != own.code) {
                return Err(ApiError::Forbidden(
                    "an agency key sees only its own reports".into(),
                ));
            }
            (Some(own.id), Some(own.code))
        }
        (Caller::Operator(_), Some(code)) => {
            let lookup = code.clone();
            let found = state
                .db
                .run(move |conn| agencies::find_by_code(conn, &lookup))
                .await?;
            let Some(agency) = found else {
                return Err(ApiError::Validation(vec![FieldError::new(
                    "agency",
                    "unknown_agency",
                    format!("no agency has code {code}"),
                )]));
            };
            (Some(agency.id), Some(agency.code))
        }
        (Caller::Operator(_), None) => (None, None),
    };
    let scope = Scope {
        period,
        agency_id,
        province_code: q.province.clone(),
    };
    Ok((scope, agency_code))
}

async fn agency_of(state: &AppState, id: String) -> Result<agencies::Agency, ApiError> {
    state
        .db
        .run(move |conn| agencies::find_by_id(conn, &id))
        .await?
        .ok_or_else(|| ApiError::internal("authenticated agency not found"))
}

fn wants_csv(req: &HttpRequest, q: &ReportQuery) -> Result<bool, ApiError> {
    match q.format.as_deref() {
        Some("csv") => Ok(true),
        Some("json") => Ok(false),
        Some(other) => Err(ApiError::Validation(vec![FieldError::new(
            "format",
            "unknown_format",
            format!("'{other}' is not a format; use json or csv"),
        )])),
        None => Ok(req
            .headers()
            .get(ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("text/csv"))),
    }
}

fn csv_response(name: &str, scope: &Scope, body: String) -> HttpResponse {
    let file = format!(
        "civicpost-{name}-{}-{}.csv",
        scope.period.first_day, scope.period.last_day
    );
    HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, "text/csv; charset=utf-8"))
        .insert_header((
            CONTENT_DISPOSITION,
            format!("attachment; filename=\"{file}\""),
        ))
        .body(body)
}

/// Everything: totals, deliveries by state, share returned by post per agency, per courier,
/// per ward, failed-attempt and return reasons, and volume per day.
#[utoipa::path(
    context_path = "/v1/reports",
    tag = "reports",
    params(ReportQuery),
    responses(
        (status = 200, body = reports::Report),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/summary")]
pub async fn summary(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<ReportQuery>,
) -> Result<HttpResponse, ApiError> {
    let (scope, code) = resolve(&state, &caller, &query).await?;
    let report = reports::summary(&state.db, &state.settings, &state.units, &scope, code).await?;
    Ok(HttpResponse::Ok().json(report))
}

/// The report sections one by one; `states`, `share-by-post`, `couriers`, `wards`,
/// `reasons` (failed attempts and returns) and `daily`, as JSON or CSV.
#[utoipa::path(
    context_path = "/v1/reports",
    tag = "reports",
    params(("section" = String, Path, description = "states | share-by-post | couriers | wards | reasons | daily"), ReportQuery),
    responses(
        (status = 200, description = "JSON array, or CSV with format=csv"),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/{section}")]
pub async fn section(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    query: web::Query<ReportQuery>,
) -> Result<HttpResponse, ApiError> {
    let csv = wants_csv(&req, &query)?;
    answer_section(&state, &caller, &path.into_inner(), &query, csv).await
}

/// One section for `caller`, as JSON or CSV; the dashboard's CSV links come here too.
pub(super) async fn answer_section(
    state: &AppState,
    caller: &Caller,
    name: &str,
    query: &ReportQuery,
    csv: bool,
) -> Result<HttpResponse, ApiError> {
    let wanted = Section::parse(name).ok_or_else(|| {
        ApiError::NotFound(format!(
            "no report section '{name}'; use states, share-by-post, couriers, wards, reasons or daily"
        ))
    })?;
    let (scope, _) = resolve(state, caller, query).await?;
    let settings = state.settings.clone();
    let units = state.units.clone();
    let for_csv = scope.clone();
    let out = state
        .db
        .run(move |conn| wanted.render(conn, &settings.reports, &units, &scope, csv))
        .await?;
    Ok(match out {
        Rendered::Json(v) => HttpResponse::Ok().json(v),
        Rendered::Csv(body) => csv_response(name, &for_csv, body),
    })
}

#[derive(Debug, Clone, Copy)]
enum Section {
    States,
    ShareByPost,
    Couriers,
    Wards,
    Reasons,
    Daily,
}

enum Rendered {
    Json(serde_json::Value),
    Csv(String),
}

impl Section {
    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "states" => Section::States,
            "share-by-post" => Section::ShareByPost,
            "couriers" => Section::Couriers,
            "wards" => Section::Wards,
            "reasons" => Section::Reasons,
            "daily" => Section::Daily,
            _ => return None,
        })
    }

    fn render(
        self,
        conn: &mut DbConnection,
        settings: &crate::config::ReportsSettings,
        units: &crate::units::Units,
        scope: &Scope,
        csv: bool,
    ) -> Result<Rendered, StoreError> {
        let csv_error = |e: csv::Error| StoreError::Task(format!("csv: {e}"));
        macro_rules! out {
            ($rows:expr, $to_csv:expr) => {{
                let rows = $rows;
                if csv {
                    Rendered::Csv($to_csv(&rows).map_err(csv_error)?)
                } else {
                    Rendered::Json(
                        serde_json::to_value(&rows).map_err(|e| StoreError::Task(e.to_string()))?,
                    )
                }
            }};
        }
        Ok(match self {
            Section::States => out!(reports::by_state(conn, scope)?, reports::csv::states),
            Section::ShareByPost => out!(
                reports::share_by_post(conn, settings, scope)?,
                reports::csv::share_by_post
            ),
            Section::Couriers => out!(reports::couriers(conn, scope)?, reports::csv::couriers),
            Section::Wards => out!(reports::wards(conn, units, scope)?, reports::csv::wards),
            Section::Daily => out!(reports::daily(conn, scope)?, reports::csv::daily),
            Section::Reasons => {
                let failed = reports::reasons(conn, scope, DeliveryState::DeliveryFailed)?;
                let returns = reports::reasons(conn, scope, DeliveryState::Returning)?;
                if csv {
                    Rendered::Csv(reports::csv::reasons(&failed, &returns).map_err(csv_error)?)
                } else {
                    Rendered::Json(serde_json::json!({
                        "failed_attempts": failed,
                        "returns": returns,
                    }))
                }
            }
        })
    }
}

/// An agency's count of results returned on one day, by post or over the counter.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
pub struct DayTotal {
    #[schema(example = "2026-11-02")]
    pub day: String,
    #[schema(example = 120)]
    pub results_total: i64,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ResultTotalsBody {
    /// The agency (operators only; an agency key reports for itself).
    pub agency: Option<String>,
    pub totals: Vec<DayTotal>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ResultTotalsView {
    pub agency: String,
    pub totals: Vec<DayTotal>,
}

/// Checks every entry, naming each bad one (`totals[2].day`).
fn check_totals(body: &ResultTotalsBody) -> Result<Vec<(NaiveDate, i32)>, ApiError> {
    let mut errors = Vec::new();
    let mut out = Vec::new();
    if body.totals.is_empty() || body.totals.len() > 400 {
        errors.push(FieldError::new(
            "totals",
            "invalid_length",
            "give 1 to 400 days",
        ));
    }
    let mut seen = std::collections::HashSet::new();
    for (i, t) in body.totals.iter().enumerate() {
        let day = NaiveDate::parse_from_str(&t.day, "%Y-%m-%d");
        let total = i32::try_from(t.results_total).ok().filter(|n| *n >= 0);
        match &day {
            Err(_) => errors.push(FieldError::new(
                format!("totals[{i}].day"),
                "invalid_date",
                "must be a date written YYYY-MM-DD",
            )),
            Ok(d) if !seen.insert(*d) => errors.push(FieldError::new(
                format!("totals[{i}].day"),
                "duplicate_day",
                format!("{d} appears twice; give each day once"),
            )),
            Ok(_) => {}
        }
        if total.is_none() {
            errors.push(FieldError::new(
                format!("totals[{i}].results_total"),
                "out_of_range",
                "must be a whole number from 0 to 2147483647",
            ));
        }
        if let (Ok(d), Some(n)) = (day, total) {
            out.push((d, n));
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(ApiError::Validation(errors))
    }
}

async fn target_agency(
    state: &AppState,
    caller: &Caller,
    asked: Option<String>,
) -> Result<agencies::Agency, ApiError> {
    match (caller, asked) {
        (Caller::Agency(a), asked) => {
            let own = agency_of(state, a.agency_id.clone()).await?;
            if asked.is_some_and(|c| c != own.code) {
                return Err(ApiError::Forbidden(
                    "an agency key reports only for itself".into(),
                ));
            }
            Ok(own)
        }
        (Caller::Operator(_), Some(code)) => {
            let lookup = code.clone();
            state
                .db
                .run(move |conn| agencies::find_by_code(conn, &lookup))
                .await?
                .ok_or_else(|| {
                    ApiError::Validation(vec![FieldError::new(
                        "agency",
                        "unknown_agency",
                        format!("no agency has code {code}"),
                    )])
                })
        }
        (Caller::Operator(_), None) => Err(ApiError::Validation(vec![FieldError::new(
            "agency",
            "required",
            "an operator names the agency the totals are for",
        )])),
    }
}

/// Records how many results the agency returned in total on each day (replacing earlier
/// figures for the same days); the share returned by post is measured against these.
#[utoipa::path(
    context_path = "/v1/reports",
    tag = "reports",
    request_body = ResultTotalsBody,
    responses(
        (status = 200, body = ResultTotalsView),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[put("/result-totals")]
pub async fn put_result_totals(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<ResultTotalsBody>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let totals = check_totals(&body)?;
    let agency = target_agency(&state, &caller, body.agency.clone()).await?;
    let id = agency.id.clone();
    state
        .db
        .run(move |conn| store::save_result_totals(conn, &id, &totals))
        .await?;
    Ok(HttpResponse::Ok().json(ResultTotalsView {
        agency: agency.code,
        totals: body.totals,
    }))
}

/// The totals an agency reported for the days of a period.
#[utoipa::path(
    context_path = "/v1/reports",
    tag = "reports",
    params(ReportQuery),
    responses((status = 200, body = ResultTotalsView), (status = 400, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = []))
)]
#[get("/result-totals")]
pub async fn get_result_totals(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<ReportQuery>,
) -> Result<HttpResponse, ApiError> {
    let agency = target_agency(&state, &caller, query.agency.clone()).await?;
    let (scope, _) = resolve(&state, &caller, &query).await?;
    let id = agency.id.clone();
    let rows = state
        .db
        .run(move |conn| {
            store::result_totals(
                conn,
                scope.period.first_day,
                scope.period.last_day,
                Some(&id),
            )
        })
        .await?;
    Ok(HttpResponse::Ok().json(ResultTotalsView {
        agency: agency.code,
        totals: rows
            .into_iter()
            .map(|r| DayTotal {
                day: r.day,
                results_total: i64::from(r.results_total),
            })
            .collect(),
    }))
}
