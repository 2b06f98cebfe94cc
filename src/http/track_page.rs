//! The citizens' tracking pages: `/track` (the forms; a GET form, so it works without
//! JavaScript), `/track/{code}` (the masked parcel) and `/track?dossier=…&phone4=…` (the
//! full parcel). Pages of parcels still moving refresh themselves: a live stream
//! (`track_stream`) with a few lines of script, or a `<noscript>` meta refresh.

use actix_web::http::StatusCode;
use actix_web::http::header::LOCATION;
use actix_web::middleware::from_fn;
use actix_web::{HttpResponse, ResponseError, get, web};
use serde::Deserialize;

use super::problem::ApiError;
use super::track_html::{FormValues, Fragment, ParcelPage, form_page, page};
use crate::app::AppState;
use crate::domain::tracking::TrackingCode;
use crate::tracking::{self, CodeLookup, DossierLookup, TrackingView, labels, limit};

pub use super::track_html::rate_limited_page;

pub fn scope() -> actix_web::Scope<
    impl actix_web::dev::ServiceFactory<
        actix_web::dev::ServiceRequest,
        Config = (),
        Response = actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    web::scope("/track")
        .wrap(from_fn(super::track::rate_limit))
        .service(track_form)
        .service(super::track_stream::events)
        .service(track_code)
}

#[derive(Debug, Default, Deserialize)]
pub struct TrackQuery {
    code: Option<String>,
    dossier: Option<String>,
    phone4: Option<String>,
}

/// The forms; with `code`, on to that parcel's page; with `dossier` and `phone4`, the full view.
#[get("")]
pub async fn track_form(
    state: web::Data<AppState>,
    query: web::Query<TrackQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    let given = |s: &Option<String>| s.as_deref().is_some_and(|s| !s.trim().is_empty());
    if given(&query.code) {
        let raw = query.code.unwrap_or_default();
        return Ok(match TrackingCode::parse(&raw) {
            Ok(code) => HttpResponse::SeeOther()
                .insert_header((LOCATION, format!("/track/{}", code.display())))
                .finish(),
            Err(e) => form_page(
                StatusCode::BAD_REQUEST,
                Some(labels::code_error(&e)),
                FormValues {
                    code: raw,
                    ..FormValues::default()
                },
            ),
        });
    }
    if given(&query.dossier) || given(&query.phone4) {
        let dossier = query.dossier.unwrap_or_default();
        let phone4 = query.phone4.unwrap_or_default();
        return dossier_page(&state, dossier, &phone4).await;
    }
    Ok(form_page(StatusCode::OK, None, FormValues::default()))
}

async fn dossier_page(
    state: &AppState,
    dossier: String,
    phone4: &str,
) -> Result<HttpResponse, ApiError> {
    let lookup = tracking::by_dossier(state, &dossier, phone4).await?;
    let form = FormValues {
        dossier,
        ..FormValues::default()
    };
    Ok(match lookup {
        DossierLookup::Found { view, version } => {
            // The stream is the masked one: on news this page reloads instead of taking it.
            let live = live_url(&view, &version);
            parcel_page(state, &view, live, "reload", "no-store")
        }
        DossierLookup::NotFound => form_page(
            StatusCode::NOT_FOUND,
            Some(labels::DOSSIER_NOT_FOUND.into()),
            form,
        ),
        DossierLookup::Invalid { message, .. } => {
            form_page(StatusCode::BAD_REQUEST, Some(message.into()), form)
        }
        DossierLookup::Limited(wait) => rate_limited_page(limit::retry_after_secs(wait)),
    })
}

/// One parcel, masked. Mistyped and unknown codes get the form back with what went wrong.
#[get("/{code}")]
pub async fn track_code(
    state: web::Data<AppState>,
    code: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let raw = code.into_inner();
    let retry_form = |status, message| {
        form_page(
            status,
            Some(message),
            FormValues {
                code: raw.clone(),
                ..FormValues::default()
            },
        )
    };
    Ok(match tracking::by_code(&state, &raw).await? {
        CodeLookup::Found { view, version } => {
            let live = live_url(&view, &version);
            parcel_page(&state, &view, live, "swap", "no-cache")
        }
        CodeLookup::Invalid(e) => retry_form(StatusCode::BAD_REQUEST, labels::code_error(&e)),
        CodeLookup::Unknown(code) => {
            retry_form(StatusCode::NOT_FOUND, labels::unknown_code(&code.display()))
        }
    })
}

/// The live stream of a parcel that can still change; none for a finished one.
fn live_url(view: &TrackingView, version: &str) -> Option<String> {
    let code = &view.tracking_code;
    (!view.terminal).then(|| format!("/track/{code}/events?v={version}"))
}

fn parcel_page(
    state: &AppState,
    view: &TrackingView,
    live_url: Option<String>,
    live_mode: &'static str,
    cache: &'static str,
) -> HttpResponse {
    let fragment = match askama::Template::render(&Fragment::new(view, chrono::Utc::now())) {
        Ok(html) => html,
        Err(e) => return ApiError::internal(e).error_response(),
    };
    let refresh_secs = live_url
        .is_some()
        .then_some(state.settings.tracking.refresh_secs);
    let template = ParcelPage {
        title: format!("{} · {}", view.tracking_code, view.state_label),
        fragment,
        live_url,
        live_mode,
        refresh_secs,
        form: FormValues::default(),
    };
    page(StatusCode::OK, &template, cache)
}
