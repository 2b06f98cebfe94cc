//! The operator's dashboard (`/admin`): one server-rendered page with the period's figures,
//! charts drawn as SVG, the failure queue with its actions, and the audit log. No script
//! and no external asset. Login with an operator key opens a session (an HttpOnly,
//! SameSite=Strict cookie); an `Authorization: Bearer cpo_…` header works too.

use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieDuration};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, ResponseError, get, post, web};
use askama::Template;
use serde::Deserialize;

use super::admin::failures::take_action;
use super::auth::{Caller, OperatorCaller};
use super::dashboard_view::{self, DashboardQuery};
use super::problem::ApiError;
use super::reports::ReportQuery;
use crate::app::AppState;
use crate::store::failures::{FailureAction, FailureKind};
use crate::store::{agencies, sessions};

const COOKIE: &str = "civicpost_admin";

pub fn scope() -> actix_web::Scope {
    web::scope("/admin")
        .service(dashboard)
        .service(login_form)
        .service(login)
        .service(logout)
        .service(failure_action)
        .service(csv_download)
}

#[derive(Template)]
#[template(path = "admin/login.html")]
struct LoginPage {
    title: &'static str,
    message: Option<String>,
    session_hours: u32,
}

/// Every page: not cached, not framed, nothing loaded from elsewhere.
pub(super) fn html(status: StatusCode, body: String) -> HttpResponse {
    let mut res = HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(body);
    let headers = res.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'; frame-ancestors 'none'",
        ),
    );
    res
}

fn login_page(state: &AppState, status: StatusCode, message: Option<String>) -> HttpResponse {
    let page = LoginPage {
        title: "Đăng nhập",
        message,
        session_hours: state.settings.reports.session_hours,
    };
    match page.render() {
        Ok(body) => html(status, body),
        Err(e) => ApiError::internal(e).error_response(),
    }
}

fn to_login() -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, "/admin/login"))
        .finish()
}

/// The operator behind the request: a session cookie, or a bearer operator key.
async fn operator(state: &AppState, req: &HttpRequest) -> Option<OperatorCaller> {
    if let Some(cookie) = req.cookie(COOKIE) {
        let token = cookie.value().to_owned();
        if let Ok(Some(key_id)) = state.db.run(move |conn| sessions::find(conn, &token)).await {
            return Some(OperatorCaller { key_id });
        }
    }
    if req.headers().contains_key(header::AUTHORIZATION) {
        let mut payload = actix_web::dev::Payload::None;
        if let Ok(Caller::Operator(op)) =
            <Caller as actix_web::FromRequest>::from_request(req, &mut payload).await
        {
            return Some(op);
        }
    }
    None
}

/// A form posted from another site is refused: the cookie is SameSite=Strict already, and
/// a browser's `Origin` must name this host.
fn same_origin(req: &HttpRequest) -> bool {
    let Some(origin) = req
        .headers()
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
    else {
        return true;
    };
    let host = req.connection_info().host().to_owned();
    origin
        .split_once("://")
        .is_some_and(|(_, rest)| rest.trim_end_matches('/') == host)
}

#[get("")]
pub async fn dashboard(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<DashboardQuery>,
) -> HttpResponse {
    if operator(&state, &req).await.is_none() {
        return to_login();
    }
    match dashboard_view::render(&state, query.into_inner()).await {
        Ok(body) => html(StatusCode::OK, body),
        Err(ApiError::Validation(errors)) => {
            let message = errors
                .iter()
                .map(|e| format!("{}: {}", e.field, e.message))
                .collect::<Vec<_>>()
                .join("; ");
            let retry = dashboard_view::render(
                &state,
                DashboardQuery {
                    error: Some(message),
                    ..DashboardQuery::default()
                },
            )
            .await;
            match retry {
                Ok(body) => html(StatusCode::BAD_REQUEST, body),
                Err(e) => e.error_response(),
            }
        }
        Err(e) => e.error_response(),
    }
}

/// A report section as CSV for the signed-in operator: the dashboard's download links
/// (the API's own CSV wants a bearer key, which a browser link cannot send).
#[get("/csv/{section}")]
pub async fn csv_download(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    query: web::Query<ReportQuery>,
) -> HttpResponse {
    let Some(op) = operator(&state, &req).await else {
        return to_login();
    };
    let caller = Caller::Operator(op);
    match super::reports::answer_section(&state, &caller, &path, &query, true).await {
        Ok(res) => res,
        Err(e) => e.error_response(),
    }
}

#[get("/login")]
pub async fn login_form(state: web::Data<AppState>) -> HttpResponse {
    login_page(&state, StatusCode::OK, None)
}

#[derive(Deserialize)]
pub struct LoginForm {
    key: String,
}

#[post("/login")]
pub async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: web::Form<LoginForm>,
) -> HttpResponse {
    if !same_origin(&req) {
        return login_page(
            &state,
            StatusCode::FORBIDDEN,
            Some("Yêu cầu không hợp lệ.".into()),
        );
    }
    let key = form.into_inner().key;
    let hours = state.settings.reports.session_hours;
    let opened = state
        .db
        .run(
            move |conn| match agencies::authenticate(conn, key.trim())? {
                Some(agencies::KeyOwner::Operator { key_id }) => {
                    sessions::open(conn, &key_id, hours).map(Some)
                }
                _ => Ok(None),
            },
        )
        .await;
    match opened {
        Ok(Some(token)) => {
            let secure = state.settings.app.public_base_url.starts_with("https://");
            let cookie = Cookie::build(COOKIE, token)
                .path("/admin")
                .http_only(true)
                .secure(secure)
                .same_site(SameSite::Strict)
                .max_age(CookieDuration::hours(i64::from(hours)))
                .finish();
            HttpResponse::SeeOther()
                .insert_header((header::LOCATION, "/admin"))
                .cookie(cookie)
                .finish()
        }
        Ok(None) => login_page(
            &state,
            StatusCode::UNAUTHORIZED,
            Some("Khoá không đúng, đã bị thu hồi, hoặc không phải khoá vận hành.".into()),
        ),
        Err(e) => ApiError::from(e).error_response(),
    }
}

#[post("/logout")]
pub async fn logout(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    if let Some(cookie) = req.cookie(COOKIE) {
        let token = cookie.value().to_owned();
        if let Err(e) = state
            .db
            .run(move |conn| sessions::close(conn, &token))
            .await
        {
            return ApiError::from(e).error_response();
        }
    }
    let mut gone = Cookie::build(COOKIE, "").path("/admin").finish();
    gone.make_removal();
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, "/admin/login"))
        .cookie(gone)
        .finish()
}

/// A button of the failure queue: the action, then back to the dashboard with its outcome.
#[post("/failures/{kind}/{id}/{action}")]
pub async fn failure_action(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, String, String)>,
    view: web::Query<DashboardQuery>,
) -> HttpResponse {
    let Some(op) = operator(&state, &req).await else {
        return to_login();
    };
    if !same_origin(&req) {
        return html(StatusCode::FORBIDDEN, "Yêu cầu không hợp lệ.".into());
    }
    let (kind, id, action) = path.into_inner();
    let (Some(kind), Some(action)) = (FailureKind::parse(&kind), FailureAction::parse(&action))
    else {
        return html(StatusCode::NOT_FOUND, "Không có thao tác này.".into());
    };
    let outcome = take_action(&state, &op, kind, id, action).await;
    let outcome = match outcome {
        Ok(done) => format!("notice={}", urlencode(&done)),
        Err(e) => format!("error={}", urlencode(&e.to_string())),
    };
    let back = dashboard_view::back_to(&view);
    let query = if back.is_empty() {
        outcome
    } else {
        format!("{back}&{outcome}")
    };
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, format!("/admin?{query}#failures")))
        .finish()
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}
