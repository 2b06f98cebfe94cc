//! What the citizen was told, for the agency: a delivery's messages (where to masked, when,
//! through which provider, with what outcome), and the agency passing on a citizen's wish to
//! hear nothing more on a channel.

use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::auth::AgencyCaller;
use super::problem::{ApiError, FieldError, Problem};
use crate::app::AppState;
use crate::domain::phone::MobileNumber;
use crate::store::notifications::{self as store, NotificationRow};

/// One message to the citizen about one state, on one channel.
#[derive(Debug, Serialize, ToSchema)]
pub struct NotificationView {
    pub id: String,
    /// The delivery state the message is about.
    #[schema(example = "out_for_delivery")]
    pub state: String,
    /// `sms` or `email`.
    #[schema(example = "sms")]
    pub channel: String,
    /// `pending`, `sending`, `sent`, `failed`, `skipped` (opted out, or the agency turned the
    /// channel off) or `unconfirmed` (a send was interrupted; not repeated, to never send twice).
    #[schema(example = "sent")]
    pub status: String,
    /// Masked phone or email address.
    #[schema(example = "09xx xxx 678")]
    pub destination: Option<String>,
    #[schema(example = "esms")]
    pub provider: Option<String>,
    pub provider_message_id: Option<String>,
    pub attempts: i32,
    /// Why it failed, was skipped or is being retried.
    pub note: Option<String>,
    /// The failed message on the other channel this one stands in for.
    pub fallback_of: Option<String>,
    /// When it may be sent (quiet hours move SMS to the morning).
    pub due_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

fn utc(t: NaiveDateTime) -> DateTime<Utc> {
    t.and_utc()
}

impl From<NotificationRow> for NotificationView {
    fn from(n: NotificationRow) -> Self {
        Self {
            id: n.id,
            state: n.state,
            channel: n.channel,
            status: n.status,
            destination: n.destination_masked,
            provider: n.provider,
            provider_message_id: n.provider_message_id,
            attempts: n.attempts,
            note: n.last_error,
            fallback_of: n.fallback_of,
            due_at: n.due_at.map(utc),
            created_at: utc(n.created_at),
            sent_at: n.sent_at.map(utc),
        }
    }
}

/// The messages sent (or not) to the delivery's recipient, oldest first.
#[utoipa::path(
    context_path = "/v1/deliveries",
    tag = "deliveries",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Delivery id (UUID)")),
    responses(
        (status = 200, body = Vec<NotificationView>),
        (status = 404, description = "No such delivery for this agency", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/{id}/notifications")]
pub async fn delivery_notifications(
    state: web::Data<AppState>,
    caller: AgencyCaller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let rows = super::agency::of_own_delivery(&state, caller, id.into_inner(), store::for_delivery)
        .await?;
    let views: Vec<NotificationView> = rows.into_iter().map(NotificationView::from).collect();
    Ok(HttpResponse::Ok().json(views))
}

/// A citizen's wish, passed on by the agency: no more messages on one channel.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OptOutRequest {
    /// `sms` or `email`.
    #[schema(example = "sms")]
    pub channel: String,
    /// The mobile number (with `channel: sms`), in any usual writing.
    #[schema(example = "0912 345 678")]
    pub phone: Option<String>,
    /// The address (with `channel: email`).
    pub email: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct OptOutView {
    pub channel: String,
    /// `false` when the address was already on the list.
    pub added: bool,
}

pub fn optouts_scope() -> actix_web::Scope {
    web::scope("/v1/optouts").service(create_optout)
}

/// The normalised address the request names, or which field is wrong and why.
fn address(req: &OptOutRequest) -> Result<(&'static str, String), ApiError> {
    let invalid = |field: &str, code: &str, message: &str| {
        ApiError::Validation(vec![FieldError::new(field, code, message)])
    };
    match req.channel.as_str() {
        "sms" => {
            let phone = req
                .phone
                .as_deref()
                .ok_or_else(|| invalid("phone", "required", "give the phone number to opt out"))?;
            let parsed = MobileNumber::parse(phone)
                .map_err(|e| invalid("phone", "invalid_phone", &e.to_string()))?;
            Ok((store::SMS, parsed.e164().to_owned()))
        }
        "email" => {
            let email = req
                .email
                .as_deref()
                .map(str::trim)
                .filter(|e| e.contains('@') && !e.starts_with('@') && !e.ends_with('@'))
                .ok_or_else(|| {
                    invalid(
                        "email",
                        "invalid_email",
                        "give the email address to opt out",
                    )
                })?;
            Ok((store::EMAIL, email.to_lowercase()))
        }
        _ => Err(invalid("channel", "invalid_value", "use sms or email")),
    }
}

/// Puts an address on the opt-out list: no message of any delivery goes to it on that
/// channel from now on (messages already planned are checked again before sending).
#[utoipa::path(
    context_path = "/v1/optouts",
    tag = "deliveries",
    security(("bearer" = [])),
    request_body = OptOutRequest,
    responses(
        (status = 200, body = OptOutView),
        (status = 400, description = "The channel or address is not valid", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("")]
pub async fn create_optout(
    state: web::Data<AppState>,
    _caller: AgencyCaller,
    body: web::Json<OptOutRequest>,
) -> Result<HttpResponse, ApiError> {
    let (channel, address) = address(&body)?;
    let added = state
        .db
        .run(move |c| store::opt_out(c, channel, &address, "agency"))
        .await?;
    metrics::counter!("civicpost_notification_optouts_total", "channel" => channel).increment(1);
    Ok(HttpResponse::Ok().json(OptOutView {
        channel: channel.to_owned(),
        added,
    }))
}
