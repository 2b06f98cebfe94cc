//! `/v1/admin/agencies`: the one-stop shops that send deliveries, and their settings.
//! The callback secret is write-only: responses say only whether one is set, except the one
//! answer that generated it (an agency with a callback URL always has a usable secret).

use std::time::Duration;

use actix_web::http::header::{CacheControl, CacheDirective};
use actix_web::{HttpResponse, get, patch, post, web};
use chrono::NaiveDateTime;
use diesel::Connection;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::agencies_check::{AgencyInput, check};
use super::double_option;
use crate::app::AppState;
use crate::callbacks::{guard, signing};
use crate::domain::validation::FieldError;
use crate::http::auth::OperatorCaller;
use crate::http::problem::{ApiError, Problem};
use crate::store::DbConnection;
use crate::store::agencies::{self, Agency, AgencyChanges, AgencyError, NewAgency};

#[derive(Serialize, ToSchema)]
pub struct AgencyView {
    #[schema(example = "000.00.01.H29")]
    pub code: String,
    #[schema(example = "Trung tâm Phục vụ hành chính công Thành phố Hồ Chí Minh")]
    pub name: String,
    /// 2025 scheme.
    #[schema(example = "26740")]
    pub sender_ward_code: Option<String>,
    #[schema(example = "Số 86 Lê Thánh Tôn")]
    pub sender_line: Option<String>,
    #[schema(example = "02838293236")]
    pub sender_phone: Option<String>,
    /// `agency` or `recipient`.
    #[schema(example = "recipient")]
    pub default_postage_paid_by: String,
    #[schema(example = "https://motcua.hochiminhcity.gov.vn/hooks/civicpost")]
    pub callback_url: Option<String>,
    /// The secret itself is never returned (but once, when generated).
    pub callback_secret_set: bool,
    /// When the endpoint answered 410 Gone and callbacks stopped; setting `callback_url`
    /// again clears it.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub callback_disabled_at: Option<NaiveDateTime>,
    #[schema(example = "province")]
    pub level: Option<String>,
    pub active: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl From<Agency> for AgencyView {
    fn from(a: Agency) -> Self {
        Self {
            callback_secret_set: a.callback_secret.is_some(),
            code: a.code,
            name: a.name,
            sender_ward_code: a.sender_ward_code,
            sender_line: a.sender_line,
            sender_phone: a.sender_phone,
            default_postage_paid_by: a.default_postage_paid_by,
            callback_url: a.callback_url,
            callback_disabled_at: a.callback_disabled_at,
            level: a.level,
            active: a.active,
            created_at: a.created_at,
            updated_at: a.updated_at,
        }
    }
}

/// The new agency and its first API key, shown this once (only a hash is stored).
#[derive(Serialize, ToSchema)]
pub struct AgencyCreated {
    pub agency: AgencyView,
    #[schema(example = "cpa_k3m9x2qa_7hw4n8r2t6y3u9e5c2v8b4z6m3k7p9q2")]
    pub api_key: String,
    /// Present only when a callback URL was given without a secret: the secret generated
    /// for it, shown this once. Receivers verify signatures with it.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD3tTcBxiIs8k=")]
    pub generated_callback_secret: Option<String>,
}

/// An agency after a change.
#[derive(Serialize, ToSchema)]
pub struct AgencySaved {
    #[serde(flatten)]
    pub agency: AgencyView,
    /// Present only when this change left a callback URL without a usable secret (a URL set
    /// on an agency that had none, or the secret cleared): the secret generated for it,
    /// shown this once.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD3tTcBxiIs8k=")]
    pub generated_callback_secret: Option<String>,
}

/// A new agency. `code` and `name` are required.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "code": "000.00.01.H29",
    "name": "Trung tâm Phục vụ hành chính công Thành phố Hồ Chí Minh",
    "sender_ward_code": "26740",
    "sender_line": "Số 86 Lê Thánh Tôn",
    "sender_phone": "028 3829 3236",
    "default_postage_paid_by": "recipient",
    "callback_url": "https://motcua.hochiminhcity.gov.vn/hooks/civicpost",
    "callback_secret": "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD3tTcBxiIs8k=",
    "level": "province"
}))]
pub struct AgencyCreate {
    /// 1-32 letters, digits, '.', '-', '_' (e.g. the agency part of its dossier codes).
    pub code: Option<String>,
    pub name: Option<String>,
    pub sender_ward_code: Option<String>,
    pub sender_line: Option<String>,
    pub sender_phone: Option<String>,
    /// `agency` or `recipient` (default).
    pub default_postage_paid_by: Option<String>,
    /// `https://…` (or `http://…`) where delivery events are posted; it must reach a
    /// public address (unless `callbacks.allow_private_addresses`).
    pub callback_url: Option<String>,
    /// Signs callbacks (Standard Webhooks): `whsec_` + base64 of 24-64 random bytes.
    /// Write-only. Left out with a `callback_url`: one is generated and returned once.
    pub callback_secret: Option<String>,
    /// `province`, `commune`, `ministry` or `other`.
    pub level: Option<String>,
    /// Default true.
    pub active: Option<bool>,
}

/// A change: fields left out stay as they are; `null` clears an optional field.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"sender_phone": "0283 829 3236", "callback_url": null, "active": false}))]
pub struct AgencyChange {
    pub name: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub sender_ward_code: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub sender_line: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub sender_phone: Option<Option<String>>,
    pub default_postage_paid_by: Option<String>,
    /// Setting it (even to the same URL) re-enables an endpoint disabled by a 410 Gone.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub callback_url: Option<Option<String>>,
    /// Write-only; `whsec_` + base64 of 24-64 bytes. `null` while a URL stays set makes a
    /// new one, returned once (rotation).
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub callback_secret: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub level: Option<Option<String>>,
    pub active: Option<bool>,
}

fn agency_error(e: AgencyError) -> ApiError {
    match e {
        AgencyError::DuplicateCode(code) => ApiError::Conflict {
            detail: format!("an agency with code '{code}' already exists"),
            errors: vec![FieldError::new(
                "code",
                "duplicate",
                format!("an agency with code '{code}' already exists"),
            )],
        },
        AgencyError::NotFound(code) => ApiError::NotFound(format!("no agency has code '{code}'")),
        AgencyError::InvalidCode(_) | AgencyError::EmptyName => ApiError::BadRequest(e.to_string()),
        AgencyError::Store(e) => ApiError::from(e),
    }
}

/// Every agency, by code.
#[utoipa::path(
    context_path = "/v1/admin/agencies",
    tag = "admin",
    security(("bearer" = [])),
    responses(
        (status = 200, body = Vec<AgencyView>),
        (status = 401, description = "Missing or unknown key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an operator key", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("")]
pub async fn list_agencies(
    state: web::Data<AppState>,
    _operator: OperatorCaller,
) -> Result<HttpResponse, ApiError> {
    let all = state
        .db
        .run(|conn| agencies::list(conn).map_err(ApiError::from))
        .await?;
    let views: Vec<AgencyView> = all.into_iter().map(AgencyView::from).collect();
    Ok(HttpResponse::Ok().json(views))
}

/// Creates an agency and its first API key, returned once in the body (with the generated
/// callback secret when a `callback_url` came without one).
#[utoipa::path(
    context_path = "/v1/admin/agencies",
    tag = "admin",
    request_body = AgencyCreate,
    security(("bearer" = [])),
    responses(
        (status = 201, body = AgencyCreated),
        (status = 400, description = "Invalid fields, each named in errors[]", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or unknown key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an operator key", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The code is taken", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("")]
pub async fn create_agency(
    state: web::Data<AppState>,
    _operator: OperatorCaller,
    body: web::Json<AgencyCreate>,
) -> Result<HttpResponse, ApiError> {
    let b = body.into_inner();
    let mut errors = Vec::new();
    let code = b
        .code
        .as_deref()
        .map(str::trim)
        .unwrap_or_default()
        .to_owned();
    if !crate::store::agencies::valid_code(&code) {
        errors.push(FieldError::new(
            "code",
            if code.is_empty() {
                "required"
            } else {
                "invalid_format"
            },
            "an agency code is 1-32 letters, digits, '.', '-' or '_', e.g. 000.00.01.H29",
        ));
    }
    if b.name.is_none() {
        errors.push(FieldError::new(
            "name",
            "required",
            "give the agency's name",
        ));
    }
    let input = AgencyInput {
        name: b.name,
        sender_ward_code: b.sender_ward_code.map(Some),
        sender_line: b.sender_line.map(Some),
        sender_phone: b.sender_phone.map(Some),
        default_postage_paid_by: b.default_postage_paid_by,
        callback_url: b.callback_url.map(Some),
        callback_secret: b.callback_secret.map(Some),
        level: b.level.map(Some),
        active: b.active,
    };
    let mut changes = check(&state.units, input, &mut errors);
    check_callback_address(&state, &changes, &mut errors).await;
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let new = NewAgency {
        code: code.clone(),
        name: changes.name.take().unwrap_or_default(),
        sender_ward_code: changes.sender_ward_code.take().flatten(),
        sender_line: changes.sender_line.take().flatten(),
        sender_phone: changes.sender_phone.take().flatten(),
        level: changes.level.take().flatten(),
    };
    let (agency, api_key, generated_callback_secret) = state
        .db
        .run(move |conn| {
            // The settings `create` does not take are applied in the same transaction.
            conn.transaction(|conn| {
                let (_, key) = agencies::create(conn, &new)?;
                let (agency, secret) = apply(conn, &new.code, changes)?;
                Ok::<_, AgencyError>((agency, key, secret))
            })
            .map_err(agency_error)
        })
        .await?;
    tracing::info!(agency = %agency.code, "agency created");
    Ok(HttpResponse::Created()
        .insert_header(CacheControl(vec![CacheDirective::NoStore]))
        .json(AgencyCreated {
            agency: agency.into(),
            api_key,
            generated_callback_secret,
        }))
}

/// One agency.
#[utoipa::path(
    context_path = "/v1/admin/agencies",
    tag = "admin",
    params(("code" = String, Path, description = "Agency code", example = "000.00.01.H29")),
    security(("bearer" = [])),
    responses(
        (status = 200, body = AgencyView),
        (status = 401, description = "Missing or unknown key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an operator key", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such agency", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/{code}")]
pub async fn get_agency(
    state: web::Data<AppState>,
    _operator: OperatorCaller,
    code: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let code = code.into_inner();
    let agency = state
        .db
        .run(move |conn| {
            agencies::find_by_code(conn, &code)
                .map_err(ApiError::from)?
                .ok_or_else(|| ApiError::NotFound(format!("no agency has code '{code}'")))
        })
        .await?;
    Ok(HttpResponse::Ok().json(AgencyView::from(agency)))
}

/// Changes an agency's settings; every invalid field is reported at once and nothing is
/// written. `active: false` makes its keys answer 403. A `callback_url` must reach a public
/// address; set without a usable secret, it gets one generated and returned once
/// (`generated_callback_secret`); setting it again re-enables an endpoint a 410 disabled.
#[utoipa::path(
    context_path = "/v1/admin/agencies",
    tag = "admin",
    params(("code" = String, Path, description = "Agency code", example = "000.00.01.H29")),
    request_body = AgencyChange,
    security(("bearer" = [])),
    responses(
        (status = 200, body = AgencySaved),
        (status = 400, description = "Invalid fields, each named in errors[] (a callback_url reaching a private address: not_public_address)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or unknown key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an operator key", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such agency", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/{code}")]
pub async fn update_agency(
    state: web::Data<AppState>,
    _operator: OperatorCaller,
    code: web::Path<String>,
    body: web::Json<AgencyChange>,
) -> Result<HttpResponse, ApiError> {
    let code = code.into_inner();
    let b = body.into_inner();
    let input = AgencyInput {
        name: b.name,
        sender_ward_code: b.sender_ward_code,
        sender_line: b.sender_line,
        sender_phone: b.sender_phone,
        default_postage_paid_by: b.default_postage_paid_by,
        callback_url: b.callback_url,
        callback_secret: b.callback_secret,
        level: b.level,
        active: b.active,
    };
    let mut errors = Vec::new();
    let changes = check(&state.units, input, &mut errors);
    check_callback_address(&state, &changes, &mut errors).await;
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let (agency, generated_callback_secret) = state
        .db
        .run(move |conn| {
            conn.transaction(|conn| apply(conn, &code, changes))
                .map_err(agency_error)
        })
        .await?;
    if generated_callback_secret.is_some() {
        tracing::info!(agency = %agency.code, "callback secret generated");
    }
    Ok(HttpResponse::Ok()
        .insert_header(CacheControl(vec![CacheDirective::NoStore]))
        .json(AgencySaved {
            agency: agency.into(),
            generated_callback_secret,
        }))
}

/// A callback URL must reach a public address (unless the deployment allows private ones):
/// checked here, where name resolution can run, besides at every send.
async fn check_callback_address(
    state: &AppState,
    changes: &AgencyChanges,
    errors: &mut Vec<FieldError>,
) {
    let Some(Some(url)) = &changes.callback_url else {
        return;
    };
    let Ok(parsed) = guard::parse(url) else {
        return;
    };
    let settings = &state.settings.callbacks;
    let timeout = Duration::from_millis(settings.connect_timeout_ms);
    if let Err(problem) =
        guard::check_resolved(&parsed, settings.allow_private_addresses, timeout).await
    {
        errors.push(FieldError::new(
            "callback_url",
            "not_public_address",
            problem.to_string(),
        ));
    }
}

/// Applies checked changes to the agency `code`, inside the caller's transaction. Setting a
/// callback URL re-enables an endpoint a 410 disabled; an agency left with a URL but no
/// usable secret gets a generated one, returned here (only its holder ever sees it).
fn apply(
    conn: &mut DbConnection,
    code: &str,
    mut changes: AgencyChanges,
) -> Result<(Agency, Option<String>), AgencyError> {
    let current =
        agencies::find_by_code(conn, code)?.ok_or_else(|| AgencyError::NotFound(code.into()))?;
    if changes.callback_url.is_some() {
        changes.callback_disabled_at = Some(None);
    }
    let url = match &changes.callback_url {
        Some(url) => url.is_some(),
        None => current.callback_url.is_some(),
    };
    let secret = match &changes.callback_secret {
        Some(secret) => secret.clone(),
        None => current.callback_secret.clone(),
    };
    let usable = secret.is_some_and(|s| signing::check_secret(&s).is_ok());
    let generated = (url && !usable).then(signing::generate_secret);
    if let Some(secret) = &generated {
        changes.callback_secret = Some(Some(secret.clone()));
    }
    let agency = agencies::update(conn, code, &changes)?;
    Ok((agency, generated))
}
