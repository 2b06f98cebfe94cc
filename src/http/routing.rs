//! Routing preview: which courier, service and promise a delivery to a ward would get, and
//! the rule that says so. Agencies see their own rules applied; operators may name an agency.

use actix_web::{HttpResponse, get, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::admin::rules::RuleView;
use super::auth::Caller;
use super::problem::{ApiError, FieldError, Problem};
use crate::app::AppState;
use crate::routing::RoutingDecision;
use crate::store::{agencies, routing};
use crate::units::resolve::{AddressLocator, resolve};

pub fn scope() -> actix_web::Scope {
    web::scope("/v1/routing").service(preview)
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct PreviewQuery {
    /// 5-digit ward code, 2025 scheme.
    #[param(example = "26740")]
    pub ward_code: String,
    /// Operator keys only: apply this agency's rules too (default: only rules for every
    /// agency). An agency key may name only itself.
    #[param(example = "000.00.01.H29")]
    pub agency_code: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct UnitRef {
    #[schema(example = "26740")]
    pub code: String,
    #[schema(example = "Phường Sài Gòn")]
    pub name: String,
}

#[derive(Serialize, ToSchema)]
pub struct RoutingPreview {
    pub ward: UnitRef,
    #[schema(example = json!({"code": "79", "name": "Thành phố Hồ Chí Minh"}))]
    pub province: UnitRef,
    /// The agency whose rules were applied; absent when an operator named none.
    #[schema(example = "000.00.01.H29")]
    pub agency_code: Option<String>,
    pub decision: RoutingDecision,
    /// The rule that decided; absent when no rule matched and the built-in default applies.
    pub rule: Option<RuleView>,
}

/// What routing would decide for a delivery to this ward.
#[utoipa::path(
    context_path = "/v1/routing",
    tag = "routing",
    params(PreviewQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, body = RoutingPreview),
        (status = 400, description = "Not a 5-digit ward code, or an unknown parameter", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or unknown key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Disabled agency, or an agency key naming another agency", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such ward in the 2025 scheme, or no such agency", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/preview")]
pub async fn preview(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<PreviewQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    let locator = AddressLocator {
        ward_code: Some(query.ward_code),
        ..Default::default()
    };
    let resolved = resolve(&state.units, &locator, "").map_err(|errors| {
        if errors.iter().all(|e| e.code.starts_with("unknown_")) {
            ApiError::NotFound(join_messages(&errors))
        } else {
            ApiError::Validation(errors)
        }
    })?;
    let ward = UnitRef {
        code: resolved.ward.code.clone(),
        name: resolved.ward.name.clone(),
    };
    let province = UnitRef {
        code: resolved.province.code.clone(),
        name: resolved.province.name.clone(),
    };
    let (ward_code, province_code) = (ward.code.clone(), province.code.clone());
    let asked_agency = query.agency_code.filter(|c| !c.trim().is_empty());
    let (agency_code, decision, rule) = state
        .db
        .run(move |conn| {
            let agency = match (&caller, asked_agency) {
                (Caller::Agency(a), asked) => {
                    let own = agencies::find_by_id(conn, &a.agency_id)
                        .map_err(ApiError::from)?
                        .ok_or_else(|| ApiError::internal("the caller's agency is missing"))?;
                    if asked.is_some_and(|c| c != own.code) {
                        return Err(ApiError::Forbidden(
                            "an agency key previews only its own rules; leave agency_code out"
                                .into(),
                        ));
                    }
                    Some(own)
                }
                (Caller::Operator(_), Some(code)) => Some(
                    agencies::find_by_code(conn, &code)
                        .map_err(ApiError::from)?
                        .ok_or_else(|| {
                            ApiError::NotFound(format!("no agency has code '{code}'"))
                        })?,
                ),
                (Caller::Operator(_), None) => None,
            };
            let agency_id = agency.as_ref().map_or("", |a| a.id.as_str());
            let decision = routing::decide(conn, agency_id, &province_code, &ward_code)
                .map_err(ApiError::from)?;
            let rule = match &decision.rule_id {
                Some(id) => routing::get(conn, id).map_err(ApiError::from)?,
                None => None,
            };
            Ok((agency.map(|a| a.code), decision, rule))
        })
        .await?;
    Ok(HttpResponse::Ok().json(RoutingPreview {
        ward,
        province,
        agency_code,
        decision,
        rule: rule.map(RuleView::from),
    }))
}

fn join_messages(errors: &[FieldError]) -> String {
    errors
        .iter()
        .map(|e| e.message.as_str())
        .collect::<Vec<_>>()
        .join("; ")
}
