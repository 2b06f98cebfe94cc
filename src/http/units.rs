//! Public reference lookups of the official administrative units, for agency integrators
//! checking addresses before they send them.

use actix_web::{HttpResponse, get, post, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::problem::{ApiError, FieldError, Problem};
use crate::app::AppState;
use crate::units::resolve::{AddressLocator, ResolvedBy, resolve};
use crate::units::{Province, Units, Ward};

pub fn scope() -> actix_web::Scope {
    web::scope("/v1/units")
        .service(list_provinces)
        .service(get_ward)
        .service(search_wards)
        .service(get_legacy_ward)
        .service(locate)
        .service(resolve_address)
}

#[derive(Serialize, ToSchema)]
pub struct ProvinceRef {
    #[schema(example = "01")]
    pub code: String,
    #[schema(example = "Thành phố Hà Nội")]
    pub name: String,
}

#[derive(Serialize, ToSchema)]
pub struct ProvinceView {
    #[schema(example = "01")]
    pub code: String,
    #[schema(example = "Thành phố Hà Nội")]
    pub name: String,
    /// `tỉnh` or `thành phố`.
    #[schema(example = "thành phố")]
    pub kind: String,
    pub lat: f64,
    pub lon: f64,
    #[schema(example = 126)]
    pub ward_count: usize,
}

#[derive(Serialize, ToSchema)]
pub struct WardView {
    /// 5-digit code, 2025 scheme.
    #[schema(example = "00004")]
    pub code: String,
    #[schema(example = "Phường Ba Đình")]
    pub name: String,
    /// `xã`, `phường` or `đặc khu`.
    #[schema(example = "phường")]
    pub kind: String,
    pub province: ProvinceRef,
    /// Area-weighted centroid (may lie outside crescent-shaped or island units).
    pub lat: f64,
    pub lon: f64,
    pub area_km2: f64,
    /// The official name on 1 July 2025, when the unit was renamed since.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name_2025: Option<String>,
}

fn ward_view(units: &Units, ward: &Ward) -> WardView {
    let province = units.province(&ward.province_code).map_or_else(
        || ProvinceRef {
            code: ward.province_code.clone(),
            name: String::new(),
        },
        |p| ProvinceRef {
            code: p.code.clone(),
            name: p.name.clone(),
        },
    );
    WardView {
        code: ward.code.clone(),
        name: ward.name.clone(),
        kind: ward.kind.as_str().to_owned(),
        province,
        lat: ward.lat,
        lon: ward.lon,
        area_km2: ward.area_km2,
        name_2025: ward.name_2025.clone(),
    }
}

fn province_view(units: &Units, p: &Province) -> ProvinceView {
    ProvinceView {
        code: p.code.clone(),
        name: p.name.clone(),
        kind: p.kind.as_str().to_owned(),
        lat: p.lat,
        lon: p.lon,
        ward_count: units.wards_in_province(&p.code).count(),
    }
}

/// Field errors about something that does not exist answer 404; the rest 400.
fn lookup_error(errors: Vec<FieldError>) -> ApiError {
    let not_found = errors.iter().all(|e| e.code.starts_with("unknown_"));
    if not_found {
        let detail = errors
            .iter()
            .map(|e| e.message.as_str())
            .collect::<Vec<_>>()
            .join("; ");
        ApiError::NotFound(detail)
    } else {
        ApiError::Validation(errors)
    }
}

/// The 34 provinces and cities (since 1 July 2025).
#[utoipa::path(context_path = "/v1/units", tag = "units", responses((status = 200, body = Vec<ProvinceView>)))]
#[get("/provinces")]
pub async fn list_provinces(state: web::Data<AppState>) -> HttpResponse {
    let units = &state.units;
    let all: Vec<ProvinceView> = units
        .provinces()
        .iter()
        .map(|p| province_view(units, p))
        .collect();
    HttpResponse::Ok().json(all)
}

/// One ward by its 2025 code. A pre-2025 code is never read here: use `/legacy-wards/{code}`.
#[utoipa::path(
    context_path = "/v1/units",
    tag = "units",
    params(("code" = String, Path, description = "5-digit ward code, 2025 scheme", example = "00004")),
    responses(
        (status = 200, body = WardView),
        (status = 400, description = "Not a 5-digit code", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such ward in the 2025 scheme", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/wards/{code}")]
pub async fn get_ward(
    state: web::Data<AppState>,
    code: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let locator = AddressLocator {
        ward_code: Some(code.into_inner()),
        ..Default::default()
    };
    let resolved = resolve(&state.units, &locator, "").map_err(lookup_error)?;
    Ok(HttpResponse::Ok().json(ward_view(&state.units, resolved.ward)))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct WardSearch {
    /// Province code (`79`) or name (`Hồ Chí Minh`, `TP Hồ Chí Minh`).
    #[param(example = "79")]
    pub province: String,
    /// Ward name; tone-mark placement, case and the `Phường`/`Xã` prefix do not matter.
    #[param(example = "Sài Gòn")]
    pub name: String,
}

/// A ward by name within a province.
#[utoipa::path(
    context_path = "/v1/units",
    tag = "units",
    params(WardSearch),
    responses(
        (status = 200, body = WardView),
        (status = 400, description = "Ambiguous name or missing parameter", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such province or ward", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/wards")]
pub async fn search_wards(
    state: web::Data<AppState>,
    query: web::Query<WardSearch>,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    let locator = AddressLocator {
        ward_name: Some(query.name),
        province_name: Some(query.province),
        ..Default::default()
    };
    let resolved = resolve(&state.units, &locator, "").map_err(lookup_error)?;
    Ok(HttpResponse::Ok().json(ward_view(&state.units, resolved.ward)))
}

#[derive(Serialize, ToSchema)]
pub struct LegacyCandidateView {
    pub ward: WardView,
    /// True when only part of the old ward went into this one.
    pub partial: bool,
}

#[derive(Serialize, ToSchema)]
pub struct LegacyWardView {
    /// The pre-2025 code asked about.
    #[schema(example = "00001")]
    pub legacy_ward_code: String,
    #[schema(example = "Phường Phúc Xá")]
    pub old_name: Option<String>,
    #[schema(example = "Quận Ba Đình")]
    pub old_district_name: String,
    #[schema(example = "Thành phố Hà Nội")]
    pub old_province_name: String,
    /// True when the old ward was split between several new wards.
    pub split: bool,
    pub candidates: Vec<LegacyCandidateView>,
}

/// What a pre-2025 ward code became (one ward, or several when it was split).
#[utoipa::path(
    context_path = "/v1/units",
    tag = "units",
    params(("code" = String, Path, description = "5-digit ward code from before 1 July 2025", example = "00001")),
    responses(
        (status = 200, body = LegacyWardView),
        (status = 400, description = "Not a 5-digit code", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No ward had that code", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/legacy-wards/{code}")]
pub async fn get_legacy_ward(
    state: web::Data<AppState>,
    code: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let code = code.into_inner();
    if !crate::units::codes::is_code(&code, 5) {
        return Err(ApiError::Validation(vec![FieldError::new(
            "code",
            "invalid_format",
            format!("'{code}' is not a 5-digit ward code"),
        )]));
    }
    let units = &state.units;
    let resolution = units
        .legacy(&code)
        .ok_or_else(|| ApiError::NotFound(format!("no ward had code {code} before 1 July 2025")))?;
    let view = LegacyWardView {
        legacy_ward_code: code.clone(),
        old_name: resolution.old_name.map(str::to_owned),
        old_district_name: resolution.old_district_name.to_owned(),
        old_province_name: resolution.old_province_name.to_owned(),
        split: resolution.is_split(),
        candidates: resolution
            .candidates
            .iter()
            .map(|c| LegacyCandidateView {
                ward: ward_view(units, c.ward),
                partial: c.partial,
            })
            .collect(),
    };
    Ok(HttpResponse::Ok().json(view))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct LocateQuery {
    /// Latitude, WGS84 degrees.
    #[param(example = 21.0368)]
    pub lat: f64,
    /// Longitude, WGS84 degrees.
    #[param(example = 105.8345)]
    pub lon: f64,
}

#[derive(Serialize, ToSchema)]
pub struct ResolvedView {
    pub ward: WardView,
    pub resolved_by: ResolvedBy,
    /// Present when the ward is a guess: the distance to the nearest ward centroid, in
    /// provinces whose ward polygons are not shipped.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub approximate_distance_m: Option<f64>,
    /// The pre-2025 code given, when the ward was found through it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub legacy_ward_code: Option<String>,
}

fn resolved_view(units: &Units, locator: &AddressLocator) -> Result<ResolvedView, Vec<FieldError>> {
    let r = resolve(units, locator, "")?;
    Ok(ResolvedView {
        ward: ward_view(units, r.ward),
        resolved_by: r.by,
        approximate_distance_m: r.approximate_distance_m.map(|d| d.round()),
        legacy_ward_code: r.legacy_ward_code,
    })
}

/// The ward containing a point: by ward polygons where shipped (Hà Nội, Hải Phòng,
/// Quảng Trị, Đà Nẵng, Hồ Chí Minh), else the nearest ward centroid, marked approximate.
#[utoipa::path(
    context_path = "/v1/units",
    tag = "units",
    params(LocateQuery),
    responses(
        (status = 200, body = ResolvedView),
        (status = 400, description = "Malformed or out-of-range coordinates, or a point outside Vietnam", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/locate")]
pub async fn locate(
    state: web::Data<AppState>,
    query: web::Query<LocateQuery>,
) -> Result<HttpResponse, ApiError> {
    let locator = AddressLocator {
        lat: Some(query.lat),
        lon: Some(query.lon),
        ..Default::default()
    };
    let view = resolved_view(&state.units, &locator).map_err(ApiError::Validation)?;
    Ok(HttpResponse::Ok().json(view))
}

/// Checks an address locator exactly as delivery intake will: one 2025 ward, or every
/// problem at once.
#[utoipa::path(
    context_path = "/v1/units",
    tag = "units",
    request_body(content = AddressLocator, example = json!({"legacy_ward_code": "00001", "line": "Số 5 phố Phúc Xá"})),
    responses(
        (status = 200, body = ResolvedView),
        (status = 400, description = "Invalid locator: errors[] names each field", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/resolve")]
pub async fn resolve_address(
    state: web::Data<AppState>,
    body: web::Json<AddressLocator>,
) -> Result<HttpResponse, ApiError> {
    let view = resolved_view(&state.units, &body).map_err(ApiError::Validation)?;
    Ok(HttpResponse::Ok().json(view))
}
