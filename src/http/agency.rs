//! The agency's API: enqueue results for home delivery, read them back, cancel before pickup.

use actix_web::http::header::{CONTENT_TYPE, LOCATION};
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::auth::AgencyCaller;
use super::problem::{ApiError, FieldError, Problem};
use super::views::{DeliveryPage, DeliveryView, EventView};
use crate::app::AppState;
use crate::domain::delivery::DeliveryRequest;
use crate::domain::state::DeliveryState;
use crate::store::deliveries::{self, CancelError, Intake, ListFilter};

pub fn scope() -> actix_web::Scope {
    web::scope("/v1/deliveries")
        .service(create_delivery)
        .service(list_deliveries)
        .service(get_delivery)
        .service(delivery_events)
        .service(super::notifications::delivery_notifications)
        .service(cancel_delivery)
}

/// Reads the JSON body with the path of any type error (`recipient.phone: invalid type…`).
fn parse_body<T: serde::de::DeserializeOwned>(
    req: &HttpRequest,
    body: &[u8],
) -> Result<T, ApiError> {
    let content_type = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !content_type
        .split(';')
        .next()
        .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"))
    {
        return Err(ApiError::UnsupportedMediaType(
            "send the body as Content-Type: application/json".into(),
        ));
    }
    let mut de = serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let field = if path == "." || path.is_empty() {
            "body".to_owned()
        } else {
            path
        };
        let code = if inner.is_data() {
            "invalid_value"
        } else {
            "malformed_json"
        };
        ApiError::Validation(vec![FieldError::new(field, code, format!("{inner}"))])
    })
}

fn idempotency_key(req: &HttpRequest) -> Result<Option<String>, ApiError> {
    let Some(value) = req.headers().get("idempotency-key") else {
        return Ok(None);
    };
    let key = value.to_str().unwrap_or_default().trim();
    if key.is_empty() || key.len() > 255 || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ApiError::Validation(vec![FieldError::new(
            "Idempotency-Key",
            "invalid_format",
            "must be 1-255 printable ASCII characters (a UUID is ideal)",
        )]));
    }
    Ok(Some(key.to_owned()))
}

/// Enqueue a result for home delivery.
///
/// Validates everything at once, resolves the address to a 2025 ward, routes it, and stores
/// the delivery with its dispatch job in one transaction. The same `dossier_code` (or
/// `Idempotency-Key`, for 24 h) with the same body answers 200 with the first delivery; with
/// a different body, 409 naming the fields that differ.
#[utoipa::path(
    context_path = "/v1/deliveries",
    tag = "deliveries",
    security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe for 24 h")),
    request_body(content = DeliveryRequest, example = json!({
        "dossier_code": "000.00.01.H42-260315-0001",
        "procedure_name": "Cấp giấy phép xây dựng nhà ở riêng lẻ",
        "recipient": {
            "name": "Nguyễn Văn An",
            "phone": "0912 345 678",
            "email": "an.nguyen@example.vn",
            "address": { "line": "Số 12 ngõ 3 Đội Cấn", "ward_code": "00004" }
        },
        "parcel": { "weight_grams": 150, "document_count": 2 },
        "payment": { "postage_paid_by": "recipient", "collect_on_delivery_vnd": 50000 }
    })),
    responses(
        (status = 201, description = "Created", body = DeliveryView),
        (status = 200, description = "The same request again: the first delivery", body = DeliveryView),
        (status = 400, description = "Invalid fields, all listed in errors[]", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing, unknown or revoked key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Agency disabled", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Same dossier code or key, different body: errors[] names the fields", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("")]
pub async fn create_delivery(
    state: web::Data<AppState>,
    caller: AgencyCaller,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let key = idempotency_key(&req)?;
    let request: DeliveryRequest = parse_body(&req, &body)?;
    let request = request.normalised();
    let units = state.units.clone();
    let AgencyCaller {
        agency_id,
        default_postage_paid_by,
    } = caller;
    let outcome = state
        .db
        .run(move |conn| {
            let valid = request.validate(&units).map_err(ApiError::Validation)?;
            crate::intake::enqueue(
                conn,
                &agency_id,
                &default_postage_paid_by,
                &valid,
                key.as_deref(),
            )
            .map(|(outcome, _)| outcome)
            .map_err(ApiError::from)
        })
        .await?;
    let base = &state.settings.app.public_base_url;
    match outcome {
        Intake::Created(row) => {
            metrics::counter!("civicpost_deliveries_created_total", "courier" => row.courier.clone()).increment(1);
            let location = format!("/v1/deliveries/{}", row.id);
            Ok(HttpResponse::Created()
                .insert_header((LOCATION, location))
                .json(DeliveryView::new(*row, &state.units, base)))
        }
        Intake::Replayed(row) => {
            Ok(HttpResponse::Ok().json(DeliveryView::new(*row, &state.units, base)))
        }
        Intake::Conflict {
            existing,
            differing,
        } => Err(ApiError::Conflict {
            detail: format!(
                "dossier {} already has delivery {} made from a different request; send the same body to read it back, or a new dossier_code",
                existing.dossier_code, existing.id
            ),
            errors: differing
                .into_iter()
                .map(|f| {
                    FieldError::new(
                        f,
                        "differs",
                        "differs from the request that created the delivery",
                    )
                })
                .collect(),
        }),
    }
}

fn not_found(id: &str) -> ApiError {
    ApiError::NotFound(format!("no delivery {id} for this agency"))
}

/// `read` of delivery `id`, when the calling agency owns it; 404 otherwise (another agency's
/// id is answered as if it did not exist).
pub(super) async fn of_own_delivery<T: Send + 'static>(
    state: &AppState,
    caller: AgencyCaller,
    id: String,
    read: fn(&mut crate::store::DbConnection, &str) -> Result<T, crate::store::StoreError>,
) -> Result<T, ApiError> {
    let lookup = id.clone();
    state
        .db
        .run(
            move |conn| match deliveries::find_for_agency(conn, &caller.agency_id, &lookup)? {
                Some(_) => read(conn, &lookup).map(Some),
                None => Ok(None),
            },
        )
        .await?
        .ok_or_else(|| not_found(&id))
}

/// One of the agency's deliveries. Another agency's id answers 404.
#[utoipa::path(
    context_path = "/v1/deliveries",
    tag = "deliveries",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Delivery id (UUID)")),
    responses(
        (status = 200, body = DeliveryView),
        (status = 404, description = "No such delivery for this agency", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/{id}")]
pub async fn get_delivery(
    state: web::Data<AppState>,
    caller: AgencyCaller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let lookup = id.clone();
    let row = state
        .db
        .run(move |conn| deliveries::find_for_agency(conn, &caller.agency_id, &lookup))
        .await?
        .ok_or_else(|| not_found(&id))?;
    Ok(HttpResponse::Ok().json(DeliveryView::new(
        row,
        &state.units,
        &state.settings.app.public_base_url,
    )))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    #[param(example = "000.00.01.H42-260315-0001")]
    pub dossier_code: Option<String>,
    /// A canonical state, e.g. `received`, `delivered`.
    #[param(example = "received")]
    pub state: Option<String>,
    /// RFC 3339 time or a date (`2026-03-15`, midnight in Asia/Ho_Chi_Minh); inclusive.
    pub created_from: Option<String>,
    /// RFC 3339 time or a date; exclusive.
    pub created_to: Option<String>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// 1 to 200; 50 by default.
    pub limit: Option<i64>,
}

/// A time filter: RFC 3339, or a date meaning its midnight in Vietnam (UTC+7).
fn parse_time(field: &str, raw: &str, errors: &mut Vec<FieldError>) -> Option<NaiveDateTime> {
    if let Ok(t) = DateTime::parse_from_rfc3339(raw) {
        return Some(t.with_timezone(&Utc).naive_utc());
    }
    if let Ok(d) = NaiveDate::parse_from_str(raw, "%Y-%m-%d") {
        return d
            .and_hms_opt(0, 0, 0)
            .map(|t| t - chrono::Duration::hours(7));
    }
    errors.push(FieldError::new(
        field,
        "invalid_time",
        "use RFC 3339 (2026-03-15T08:00:00+07:00) or a date (2026-03-15)",
    ));
    None
}

fn list_filter(q: ListQuery) -> Result<ListFilter, ApiError> {
    let mut errors = Vec::new();
    let state = q.state.as_deref().and_then(|s| {
        let parsed = DeliveryState::parse(s);
        if parsed.is_none() {
            errors.push(FieldError::new(
                "state",
                "unknown_state",
                format!("'{s}' is not a delivery state"),
            ));
        }
        parsed
    });
    let created_from = q
        .created_from
        .as_deref()
        .and_then(|t| parse_time("created_from", t, &mut errors));
    let created_to = q
        .created_to
        .as_deref()
        .and_then(|t| parse_time("created_to", t, &mut errors));
    let limit = q.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        errors.push(FieldError::new("limit", "out_of_range", "must be 1 to 200"));
    }
    if q.cursor
        .as_deref()
        .is_some_and(|c| uuid::Uuid::parse_str(c).is_err())
    {
        errors.push(FieldError::new(
            "cursor",
            "invalid_cursor",
            "pass next_cursor from the previous page unchanged",
        ));
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    Ok(ListFilter {
        dossier_code: q.dossier_code,
        state,
        created_from,
        created_to,
        after_id: q.cursor,
        limit,
    })
}

/// The agency's deliveries, newest first, a page at a time.
#[utoipa::path(
    context_path = "/v1/deliveries",
    tag = "deliveries",
    security(("bearer" = [])),
    params(ListQuery),
    responses(
        (status = 200, body = DeliveryPage),
        (status = 400, description = "Invalid filter", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("")]
pub async fn list_deliveries(
    state: web::Data<AppState>,
    caller: AgencyCaller,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let filter = list_filter(query.into_inner())?;
    let limit = filter.limit;
    let rows = state
        .db
        .run(move |conn| deliveries::list_for_agency(conn, &caller.agency_id, &filter))
        .await?;
    let next_cursor = (rows.len() as i64 == limit)
        .then(|| rows.last().map(|r| r.id.clone()))
        .flatten();
    let base = &state.settings.app.public_base_url;
    let items = rows
        .into_iter()
        .map(|r| DeliveryView::new(r, &state.units, base))
        .collect();
    Ok(HttpResponse::Ok().json(DeliveryPage { items, next_cursor }))
}

/// The delivery's history, in the order things happened.
#[utoipa::path(
    context_path = "/v1/deliveries",
    tag = "deliveries",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Delivery id (UUID)")),
    responses(
        (status = 200, body = Vec<EventView>),
        (status = 404, description = "No such delivery for this agency", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/{id}/events")]
pub async fn delivery_events(
    state: web::Data<AppState>,
    caller: AgencyCaller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let events = of_own_delivery(&state, caller, id.into_inner(), deliveries::events).await?;
    let views: Vec<EventView> = events.into_iter().map(EventView::from).collect();
    Ok(HttpResponse::Ok().json(views))
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct CancelRequest {
    /// Why, for the record.
    #[schema(example = "Công dân đến nhận trực tiếp tại bộ phận một cửa")]
    pub reason: Option<String>,
}

/// Cancel before the courier picks the parcel up (409 after, with the current state).
#[utoipa::path(
    context_path = "/v1/deliveries",
    tag = "deliveries",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Delivery id (UUID)")),
    request_body(content = Option<CancelRequest>, description = "Optional"),
    responses(
        (status = 200, description = "Cancelled (also when it already was)", body = DeliveryView),
        (status = 404, description = "No such delivery for this agency", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Too late: the courier has it", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/{id}/cancel")]
pub async fn cancel_delivery(
    state: web::Data<AppState>,
    caller: AgencyCaller,
    id: web::Path<String>,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let request: CancelRequest = if body.iter().all(u8::is_ascii_whitespace) {
        CancelRequest::default()
    } else {
        parse_body(&req, &body)?
    };
    let reason = request
        .reason
        .map(|r| r.trim().to_owned())
        .filter(|r| !r.is_empty());
    if reason.as_ref().is_some_and(|r| r.chars().count() > 500) {
        return Err(ApiError::Validation(vec![FieldError::new(
            "reason",
            "too_long",
            "at most 500 characters",
        )]));
    }
    let id = id.into_inner();
    let target = id.clone();
    let result = state
        .db
        .run(move |conn| {
            Ok::<_, crate::store::StoreError>(deliveries::cancel(
                conn,
                &caller.agency_id,
                &target,
                reason.as_deref(),
            ))
        })
        .await?;
    if let Ok(row) = &result {
        // Committed: the citizen's page says cancelled from the next read on.
        crate::tracking::codes_changed(&state, std::slice::from_ref(&row.tracking_code)).await;
    }
    match result {
        Ok(row) => Ok(HttpResponse::Ok().json(DeliveryView::new(
            row,
            &state.units,
            &state.settings.app.public_base_url,
        ))),
        Err(CancelError::NotFound) => Err(not_found(&id)),
        Err(CancelError::TooLate(current)) => Err(ApiError::Conflict {
            detail: format!(
                "the delivery is already {current}; it can be cancelled only before the courier picks it up"
            ),
            errors: vec![FieldError::new("state", "too_late", current)],
        }),
        Err(CancelError::Store(e)) => Err(ApiError::internal(e)),
    }
}
