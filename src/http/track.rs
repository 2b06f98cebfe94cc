//! Public tracking for citizens, as JSON: `GET /v1/track/{code}` (masked) and
//! `GET /v1/track?dossier=…&phone4=…` (full). No key: anyone with the code may look, so the
//! answer shows only what DESIGN.md allows. Both are rate limited per client address
//! ([`rate_limit`], shared with the HTML pages).

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::CACHE_CONTROL;
use actix_web::middleware::{Next, from_fn};
use actix_web::{HttpResponse, ResponseError, get, web};
use serde::Deserialize;
use utoipa::IntoParams;

use super::problem::{ApiError, FieldError, Problem};
use crate::app::AppState;
use crate::domain::tracking::TrackingCodeError;
use crate::tracking::{self, CodeLookup, DossierLookup, TrackingView, labels, limit};

pub fn scope() -> actix_web::Scope<
    impl actix_web::dev::ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    web::scope("/v1/track")
        .wrap(from_fn(rate_limit))
        .service(track_by_dossier)
        .service(track_by_code)
}

/// Per client address, across every tracking route. JSON routes answer problem+json, the
/// HTML pages a page in Vietnamese; both with `Retry-After`.
pub async fn rate_limit(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_left_body);
    };
    let settings = &state.settings.tracking;
    let forwarded = req
        .headers()
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok());
    let ip = limit::client_ip(req.peer_addr().map(|a| a.ip()), forwarded, settings);
    if let Some(ip) = ip
        && let Err(wait) = limit::check_client(&state.cache, settings, &limit::client_key(ip)).await
    {
        let secs = limit::retry_after_secs(wait);
        let response = if req.path().starts_with("/v1/") {
            rate_limited(secs).error_response()
        } else {
            super::track_html::rate_limited_page(secs)
        };
        return Ok(req.into_response(response).map_into_right_body());
    }
    next.call(req)
        .await
        .map(ServiceResponse::map_into_left_body)
}

pub fn rate_limited(retry_after_secs: u64) -> ApiError {
    ApiError::TooManyRequests {
        detail: labels::RATE_LIMITED.to_owned(),
        retry_after_secs,
    }
}

/// The field error of a code that is not one; `code` tells a caught typo (`typo`) from a
/// wrong length or a character the alphabet lacks.
pub fn code_problem(err: &TrackingCodeError) -> ApiError {
    let kind = match err {
        TrackingCodeError::Checksum => "typo",
        TrackingCodeError::Length(_) => "invalid_length",
        TrackingCodeError::Character(_) => "invalid_character",
    };
    ApiError::Validation(vec![FieldError::new("code", kind, labels::code_error(err))])
}

fn json(view: &TrackingView, cache_control: &'static str) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((CACHE_CONTROL, cache_control))
        .json(view)
}

/// Track a parcel by its tracking code.
///
/// Any case; dashes and spaces are ignored. The answer is masked (`Nguyễn V. A.`,
/// `09xx xxx 678`, ward and province only). A code with a typo (caught by its check
/// character) answers 400 with `errors[0].code = "typo"`; a well-formed code that no parcel
/// has answers 404. Times are Vietnam time (UTC+7).
#[utoipa::path(
    context_path = "/v1/track",
    tag = "tracking",
    params(("code" = String, Path, description = "Tracking code, e.g. K7RM-2XQ9-H4")),
    responses(
        (status = 200, description = "The parcel, masked", body = TrackingView),
        (status = 400, description = "Not a tracking code: errors[0].code is typo, invalid_length or invalid_character", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "A well-formed code no parcel has", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many requests from this address; see Retry-After", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/{code}")]
pub async fn track_by_code(
    state: web::Data<AppState>,
    code: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    match tracking::by_code(&state, &code).await? {
        CodeLookup::Found { view, .. } => Ok(json(&view, "no-cache")),
        CodeLookup::Invalid(e) => Err(code_problem(&e)),
        CodeLookup::Unknown(code) => Err(ApiError::NotFound(labels::unknown_code(&code.display()))),
    }
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct DossierQuery {
    /// The dossier code on the appointment slip, e.g. 000.00.01.H42-260315-0001.
    pub dossier: Option<String>,
    /// The last 4 digits of the recipient's phone number.
    pub phone4: Option<String>,
}

/// Track a parcel by dossier code and the last 4 digits of the phone (full details).
///
/// When both match, the answer carries the recipient's full name, phone and address, the
/// dossier code and the procedure. Otherwise 404 with the same words whichever was wrong.
/// Limited per client address and per dossier code (`tracking.dossier_attempts_per_hour`).
#[utoipa::path(
    context_path = "/v1/track",
    tag = "tracking",
    params(DossierQuery),
    responses(
        (status = 200, description = "The parcel, in full", body = TrackingView),
        (status = 400, description = "A missing or malformed field", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No match (which part was wrong is not said)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many tries; see Retry-After", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("")]
pub async fn track_by_dossier(
    state: web::Data<AppState>,
    query: web::Query<DossierQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    let dossier = query.dossier.unwrap_or_default();
    let phone4 = query.phone4.unwrap_or_default();
    match tracking::by_dossier(&state, &dossier, &phone4).await? {
        DossierLookup::Found { view, .. } => Ok(json(&view, "no-store")),
        DossierLookup::NotFound => Err(ApiError::NotFound(labels::DOSSIER_NOT_FOUND.into())),
        DossierLookup::Invalid { field, message } => {
            Err(ApiError::Validation(vec![FieldError::new(
                field,
                "invalid_value",
                message,
            )]))
        }
        DossierLookup::Limited(wait) => Err(rate_limited(limit::retry_after_secs(wait))),
    }
}
