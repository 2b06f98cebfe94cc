//! The OpenAPI document and the interactive API page; the page's assets ship in the binary.

use actix_web::{HttpResponse, get};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_swagger_ui::SwaggerUi;

use super::{
    admin, agency, health, notifications, problem, reports, routing, track, units, webhooks,
};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "civicpost",
        description = "Carries the results of administrative procedures from one-stop shops to citizens' homes. \
Errors are RFC 9457 problem details (`application/problem+json`) listing every invalid field in `errors[]`. \
Ward codes are always the 2025 scheme (34 provinces, 3,321 communes); pre-2025 codes are only read where a field or path says `legacy`."
    ),
    paths(
        health::healthz,
        health::readyz,
        health::metrics,
        units::list_provinces,
        units::get_ward,
        units::search_wards,
        units::get_legacy_ward,
        units::locate,
        units::resolve_address,
        agency::create_delivery,
        agency::list_deliveries,
        agency::get_delivery,
        agency::delivery_events,
        notifications::delivery_notifications,
        notifications::create_optout,
        agency::cancel_delivery,
        routing::preview,
        admin::rules::list_rules,
        admin::rules::create_rule,
        admin::rules::get_rule,
        admin::rules::update_rule,
        admin::rules::deactivate_rule,
        admin::agencies::list_agencies,
        admin::agencies::create_agency,
        admin::agencies::get_agency,
        admin::agencies::update_agency,
        admin::deliveries::list_deliveries,
        admin::deliveries::get_delivery,
        admin::deliveries::retry_delivery,
        admin::callbacks::delivery_callbacks,
        admin::callbacks::replay,
        webhooks::viettelpost,
        webhooks::vnpost,
        track::track_by_code,
        track::track_by_dossier,
        reports::summary,
        reports::section,
        reports::put_result_totals,
        reports::get_result_totals,
        admin::failures::list_failures,
        admin::failures::act_on_failure,
        admin::failures::audit_log,
    ),
    modifiers(&BearerAuth),
    components(schemas(problem::Problem, problem::FieldError)),
    tags(
        (name = "operations", description = "Health, readiness and metrics"),
        (name = "deliveries", description = "Agencies enqueue results for home delivery and follow them (agency key)"),
        (name = "units", description = "Official administrative units (after 1 July 2025) and the old-to-new ward table"),
        (name = "routing", description = "Which courier, service and promised time a delivery gets, and why"),
        (name = "admin", description = "Operator API: routing rules, agencies, the delivery failure queue and agency callbacks (operator keys only)"),
        (name = "tracking", description = "Citizens track a parcel by tracking code (masked) or by dossier code plus the phone's last 4 digits (full); no key, rate limited per address. HTML pages: /track"),
        (name = "callbacks", description = "Signed status callbacks to agencies (Standard Webhooks). On every state change civicpost POSTs `{\"type\": \"delivery.state_changed\", \"timestamp\", \"data\": {event_id, delivery_id, dossier_code, tracking_code, state, reason, courier, courier_tracking_number, occurred_at}}` to the agency's callback_url with headers `webhook-id` (the event id, the same on retries and replays), `webhook-timestamp` (Unix seconds of the attempt) and `webhook-signature: v1,<base64 HMAC-SHA256 of id.timestamp.body>` keyed with the base64-decoded part of the agency's `whsec_` secret. A 2xx ends it; 410 Gone disables the endpoint; anything else is retried with exponential backoff and jitter for about 3 days. Operators see the attempts at GET /v1/admin/deliveries/{id}/callbacks and replay with POST /v1/admin/callbacks/replay."),
        (name = "reports", description = "Public-service figures for a period (days in Asia/Ho_Chi_Minh): deliveries by state, share of results returned by post against the target of the agency's level, on-time rate against each delivery's SLA, median and p90 time from enqueue to delivery, failed-attempt and return reasons, per courier and per ward; JSON or CSV. Operator keys see every agency, an agency key its own. Agencies report their total results per day at PUT /v1/reports/result-totals."),
        (name = "webhooks", description = "Couriers' status updates in their native formats, authenticated by the courier's own credential (no API key)"),
    )
)]
pub struct ApiDoc;

/// `Authorization: Bearer <key>`: agency keys (`cpa_…`) and operator keys (`cpo_…`).
struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "Agency key (cpa_…) or operator key (cpo_…), printed once when created",
                    ))
                    .build(),
            ),
        );
    }
}

pub fn swagger_ui() -> SwaggerUi {
    SwaggerUi::new("/docs/{_:.*}").url("/openapi.json", ApiDoc::openapi())
}

#[get("/docs")]
pub async fn docs_redirect() -> HttpResponse {
    HttpResponse::PermanentRedirect()
        .insert_header(("Location", "/docs/"))
        .finish()
}
