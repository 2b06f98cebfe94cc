//! The operator's API (operator keys only): routing rules, agencies, deliveries, callbacks,
//! the failure queue and the audit log.
//!
//! Each area has its own narrow scope (`/v1/admin/routing-rules`, `/v1/admin/agencies`)
//! rather than one `/v1/admin` scope, so other operator areas can add theirs beside it.

pub mod agencies;
mod agencies_check;
pub mod callbacks;
pub mod deliveries;
pub mod failures;
pub mod rules;

use serde::{Deserialize, Deserializer};

pub fn rules_scope() -> actix_web::Scope {
    actix_web::web::scope("/v1/admin/routing-rules")
        .service(rules::list_rules)
        .service(rules::create_rule)
        .service(rules::get_rule)
        .service(rules::update_rule)
        .service(rules::deactivate_rule)
}

pub fn agencies_scope() -> actix_web::Scope {
    actix_web::web::scope("/v1/admin/agencies")
        .service(agencies::list_agencies)
        .service(agencies::create_agency)
        .service(agencies::get_agency)
        .service(agencies::update_agency)
}

pub fn deliveries_scope() -> actix_web::Scope {
    actix_web::web::scope("/v1/admin/deliveries")
        .service(deliveries::list_deliveries)
        .service(deliveries::get_delivery)
        .service(deliveries::retry_delivery)
        .service(callbacks::delivery_callbacks)
}

pub fn callbacks_scope() -> actix_web::Scope {
    actix_web::web::scope("/v1/admin/callbacks").service(callbacks::replay)
}

pub fn failures_scope() -> actix_web::Scope {
    actix_web::web::scope("/v1/admin/failures")
        .service(failures::list_failures)
        .service(failures::act_on_failure)
}

pub fn audit_scope() -> actix_web::Scope {
    actix_web::web::scope("/v1/admin/audit").service(failures::audit_log)
}

/// For PATCH bodies: tells a field left out (`None`) from one set to `null` (`Some(None)`).
/// Use with `#[serde(default, deserialize_with = "double_option")]`.
pub(crate) fn double_option<'de, T, D>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    T: Deserialize<'de>,
    D: Deserializer<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}
