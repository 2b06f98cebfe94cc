//! `/v1/admin/routing-rules`: list, create, change and deactivate routing rules.

use actix_web::{HttpResponse, get, patch, post, web};
use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::double_option;
use crate::app::AppState;
use crate::domain::courier::Courier;
use crate::http::auth::OperatorCaller;
use crate::http::problem::{ApiError, Problem};
use crate::routing::Specificity;
use crate::store::routing::{self, RuleError, RulePatch, RuleRecord, RuleSpec};

/// A stored routing rule.
#[derive(Serialize, ToSchema)]
pub struct RuleView {
    #[schema(example = "demo-hcm-viettelpost")]
    pub id: String,
    /// The agency the rule is for; absent: every agency.
    #[schema(example = "000.00.01.H29")]
    pub agency_code: Option<String>,
    /// Absent with no ward: nationwide.
    #[schema(example = "79")]
    pub province_code: Option<String>,
    /// 2025 scheme; a rule with a ward covers only that ward.
    #[schema(example = json!(null))]
    pub ward_code: Option<String>,
    #[schema(example = "viettelpost")]
    pub courier: Courier,
    #[schema(example = "VCN")]
    pub service_code: String,
    #[schema(example = 48)]
    pub sla_hours: i32,
    #[schema(example = "vnpost")]
    pub fallback_courier: Option<Courier>,
    pub active: bool,
    #[schema(example = 0)]
    pub priority: i32,
    pub specificity: Specificity,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl From<RuleRecord> for RuleView {
    fn from(record: RuleRecord) -> Self {
        let r = record.rule;
        Self {
            specificity: r.specificity(),
            id: r.id,
            agency_code: record.agency_code,
            province_code: r.province_code,
            ward_code: r.ward_code,
            courier: r.courier,
            service_code: r.service_code,
            sla_hours: r.sla_hours,
            fallback_courier: r.fallback_courier,
            active: r.active,
            priority: r.priority,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

/// A new rule. Leave out agency, province and ward for the global default; give a province
/// for a whole province, a ward for one ward.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"province_code": "79", "courier": "viettelpost", "service_code": "VCN", "sla_hours": 48, "fallback_courier": "vnpost"}))]
pub struct RuleCreate {
    pub agency_code: Option<String>,
    /// 2 digits, 2025 scheme.
    pub province_code: Option<String>,
    /// 5 digits, 2025 scheme; if a province is also given it must be the ward's.
    pub ward_code: Option<String>,
    /// `vnpost` or `viettelpost`. Required.
    pub courier: Option<String>,
    /// VNPost `serviceCode` or Viettel Post `ORDER_SERVICE`; default `CTN009` (VNPost) or
    /// `VCN` (Viettel Post).
    pub service_code: Option<String>,
    /// 1 to 720; default 72.
    pub sla_hours: Option<i64>,
    pub fallback_courier: Option<String>,
    /// Breaks ties between rules of the same specificity (higher wins); default 0.
    pub priority: Option<i64>,
    /// Default true.
    pub active: Option<bool>,
}

/// A change: fields left out stay as they are; `null` clears an optional field. The result
/// is checked as a whole rule. Changing the courier without a service code resets the
/// service code to the new courier's standard one.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"ward_code": "26740", "sla_hours": 24, "fallback_courier": null}))]
pub struct RuleChange {
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub agency_code: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub province_code: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub ward_code: Option<Option<String>>,
    pub courier: Option<String>,
    pub service_code: Option<String>,
    pub sla_hours: Option<i64>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub fallback_courier: Option<Option<String>>,
    pub priority: Option<i64>,
    pub active: Option<bool>,
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct RuleFilter {
    /// Only active (`true`) or only inactive (`false`) rules; default all.
    pub active: Option<bool>,
}

fn rule_error(e: RuleError) -> ApiError {
    match e {
        RuleError::Invalid(errors) => ApiError::Validation(errors),
        RuleError::NotFound(_) => ApiError::NotFound(e.to_string()),
        RuleError::Store(e) => ApiError::from(e),
    }
}

/// Every routing rule, most specific first.
#[utoipa::path(
    context_path = "/v1/admin/routing-rules",
    tag = "admin",
    params(RuleFilter),
    security(("bearer" = [])),
    responses(
        (status = 200, body = Vec<RuleView>),
        (status = 401, description = "Missing or unknown key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an operator key", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("")]
pub async fn list_rules(
    state: web::Data<AppState>,
    _operator: OperatorCaller,
    filter: web::Query<RuleFilter>,
) -> Result<HttpResponse, ApiError> {
    let active = filter.active;
    let rules = state
        .db
        .run(move |conn| routing::list(conn, active).map_err(ApiError::from))
        .await?;
    let views: Vec<RuleView> = rules.into_iter().map(RuleView::from).collect();
    Ok(HttpResponse::Ok().json(views))
}

/// Creates a rule; every invalid field is reported at once and nothing is written.
#[utoipa::path(
    context_path = "/v1/admin/routing-rules",
    tag = "admin",
    request_body = RuleCreate,
    security(("bearer" = [])),
    responses(
        (status = 201, body = RuleView),
        (status = 400, description = "Invalid fields, each named in errors[]", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or unknown key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an operator key", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("")]
pub async fn create_rule(
    state: web::Data<AppState>,
    _operator: OperatorCaller,
    body: web::Json<RuleCreate>,
) -> Result<HttpResponse, ApiError> {
    let b = body.into_inner();
    let spec = RuleSpec {
        agency_code: b.agency_code,
        province_code: b.province_code,
        ward_code: b.ward_code,
        courier: b.courier.unwrap_or_default(),
        service_code: b.service_code,
        sla_hours: b.sla_hours,
        fallback_courier: b.fallback_courier,
        priority: b.priority,
        active: b.active,
    };
    let record = state
        .db
        .run(move |conn| routing::create(conn, &spec).map_err(rule_error))
        .await?;
    Ok(HttpResponse::Created().json(RuleView::from(record)))
}

/// One rule.
#[utoipa::path(
    context_path = "/v1/admin/routing-rules",
    tag = "admin",
    params(("id" = String, Path, description = "Rule id", example = "demo-hcm-viettelpost")),
    security(("bearer" = [])),
    responses(
        (status = 200, body = RuleView),
        (status = 401, description = "Missing or unknown key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an operator key", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such rule", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/{id}")]
pub async fn get_rule(
    state: web::Data<AppState>,
    _operator: OperatorCaller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let record = state
        .db
        .run(move |conn| {
            routing::get(conn, &id)
                .map_err(ApiError::from)?
                .ok_or_else(|| ApiError::NotFound(format!("no routing rule with id '{id}'")))
        })
        .await?;
    Ok(HttpResponse::Ok().json(RuleView::from(record)))
}

/// Changes a rule; the result is checked as a whole and nothing is written when invalid.
#[utoipa::path(
    context_path = "/v1/admin/routing-rules",
    tag = "admin",
    params(("id" = String, Path, description = "Rule id", example = "demo-hcm-viettelpost")),
    request_body = RuleChange,
    security(("bearer" = [])),
    responses(
        (status = 200, body = RuleView),
        (status = 400, description = "Invalid fields, each named in errors[]", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or unknown key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an operator key", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such rule", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/{id}")]
pub async fn update_rule(
    state: web::Data<AppState>,
    _operator: OperatorCaller,
    id: web::Path<String>,
    body: web::Json<RuleChange>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let b = body.into_inner();
    let patch = RulePatch {
        agency_code: b.agency_code,
        province_code: b.province_code,
        ward_code: b.ward_code,
        courier: b.courier,
        service_code: b.service_code,
        sla_hours: b.sla_hours,
        fallback_courier: b.fallback_courier,
        priority: b.priority,
        active: b.active,
    };
    let record = state
        .db
        .run(move |conn| routing::update(conn, &id, &patch).map_err(rule_error))
        .await?;
    Ok(HttpResponse::Ok().json(RuleView::from(record)))
}

/// Takes a rule out of routing (kept for the deliveries that name it). Repeating it is harmless.
#[utoipa::path(
    context_path = "/v1/admin/routing-rules",
    tag = "admin",
    params(("id" = String, Path, description = "Rule id", example = "demo-hcm-viettelpost")),
    security(("bearer" = [])),
    responses(
        (status = 200, body = RuleView),
        (status = 401, description = "Missing or unknown key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an operator key", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such rule", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/{id}/deactivate")]
pub async fn deactivate_rule(
    state: web::Data<AppState>,
    _operator: OperatorCaller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let record = state
        .db
        .run(move |conn| routing::deactivate(conn, &id).map_err(rule_error))
        .await?;
    Ok(HttpResponse::Ok().json(RuleView::from(record)))
}
