//! The unsubscribe link of citizen emails. `GET` asks for confirmation (mail scanners open
//! links, and must not unsubscribe anyone); `POST` — the button, or a mail client's one-click
//! request (RFC 8058, `List-Unsubscribe=One-Click`) — puts the address on the email opt-out
//! list, honoured by every later message of every delivery.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, post, web};
use askama::Template;

use super::track_html::page;
use crate::app::AppState;
use crate::domain::masking::mask_email;
use crate::store::notifications as store;

#[derive(Template)]
#[template(path = "unsubscribe/page.html")]
struct UnsubscribePage {
    title: String,
    valid: bool,
    done: bool,
    /// Masked: the page is reachable by whoever holds the link.
    address: String,
}

pub fn scope() -> actix_web::Scope {
    web::scope("/unsubscribe")
        .service(confirm)
        .service(unsubscribe)
}

/// A token is 32 hex digits; anything else is not looked up.
fn well_formed(token: &str) -> bool {
    token.len() == 32 && token.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The email address the token's message went to, if the delivery still holds it.
async fn address_of(state: &AppState, token: String) -> Result<Option<String>, HttpResponse> {
    if !well_formed(&token) {
        return Ok(None);
    }
    state
        .db
        .run(move |c| {
            let Some(row) = store::find_by_unsubscribe_token(c, &token)? else {
                return Ok(None);
            };
            Ok::<_, crate::store::StoreError>(
                store::recipient(c, &row.delivery_id)?.and_then(|r| r.email),
            )
        })
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "unsubscribe lookup failed");
            HttpResponse::ServiceUnavailable().finish()
        })
}

fn render(status: StatusCode, valid: bool, done: bool, address: Option<&str>) -> HttpResponse {
    let template = UnsubscribePage {
        title: "Ngừng nhận email".to_owned(),
        valid,
        done,
        address: address.map(mask_email).unwrap_or_default(),
    };
    page(status, &template, "no-store")
}

#[get("/{token}")]
async fn confirm(state: web::Data<AppState>, token: web::Path<String>) -> HttpResponse {
    match address_of(&state, token.into_inner()).await {
        Ok(Some(address)) => render(StatusCode::OK, true, false, Some(&address)),
        Ok(None) => render(StatusCode::NOT_FOUND, false, false, None),
        Err(response) => response,
    }
}

#[post("/{token}")]
async fn unsubscribe(state: web::Data<AppState>, token: web::Path<String>) -> HttpResponse {
    let address = match address_of(&state, token.into_inner()).await {
        Ok(Some(address)) => address,
        Ok(None) => return render(StatusCode::NOT_FOUND, false, false, None),
        Err(response) => return response,
    };
    let stored = {
        let address = address.clone();
        state
            .db
            .run(move |c| store::opt_out(c, store::EMAIL, &address, "unsubscribe_link"))
            .await
    };
    match stored {
        Ok(_) => {
            metrics::counter!("civicpost_notification_optouts_total", "channel" => "email")
                .increment(1);
            render(StatusCode::OK, true, true, Some(&address))
        }
        Err(e) => {
            tracing::error!(error = %e, "unsubscribe not recorded");
            HttpResponse::ServiceUnavailable().finish()
        }
    }
}
