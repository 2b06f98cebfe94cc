//! Intake: turns a valid request into a stored delivery, its first event and its dispatch
//! job, routed by ward. The HTTP layer calls this; it calls the domain rules and the store.

use chrono::Duration;

use crate::domain::delivery::{PaidBy, ValidDelivery};
use crate::domain::fingerprint::{field_hashes, fingerprint};
use crate::domain::ids::{new_id, now_utc};
use crate::domain::state::DeliveryState;
use crate::domain::tracking::TrackingCode;
use crate::routing::RoutingDecision;
use crate::store::deliveries::{self, DeliveryRow, Intake};
use crate::store::{DbConnection, StoreError, routing};

/// The request as stored for comparison: field hashes and their fingerprint.
fn request_identity(valid: &ValidDelivery<'_>) -> (String, String) {
    let mut value = serde_json::to_value(&valid.request).unwrap_or_default();
    // Compare the phone as normalised, so `0912 345 678` and `+84912345678` are one request.
    value["recipient"]["phone"] = serde_json::Value::String(valid.phone.e164().to_owned());
    let fields = field_hashes(&value);
    let json = serde_json::to_string(&fields).unwrap_or_default();
    (fingerprint(&fields), json)
}

/// Routes and stores the delivery (or finds the one an identical request made).
pub fn enqueue(
    conn: &mut DbConnection,
    agency_id: &str,
    default_paid_by: &str,
    valid: &ValidDelivery<'_>,
    idempotency_key: Option<&str>,
) -> Result<(Intake, RoutingDecision), StoreError> {
    let ward = valid.address.ward;
    let mut decision = routing::decide(conn, agency_id, &ward.province_code, &ward.code)?;
    if let Some(asked) = valid
        .request
        .courier
        .courier()
        .filter(|c| *c != decision.courier)
    {
        // The agency named a courier: honour it, keeping the rule's SLA and falling back to
        // the routed courier only if this one refuses.
        decision.fallback_courier = Some(decision.courier);
        decision.service_code = crate::routing::standard_service_code(asked).to_owned();
        decision.courier = asked;
    }
    let row = build_row(agency_id, default_paid_by, valid, &decision);
    let outcome = deliveries::create(conn, row, idempotency_key, || {
        TrackingCode::generate().as_str().to_owned()
    })?;
    Ok((outcome, decision))
}

fn build_row(
    agency_id: &str,
    default_paid_by: &str,
    valid: &ValidDelivery<'_>,
    decision: &RoutingDecision,
) -> DeliveryRow {
    let r = &valid.request;
    let now = now_utc();
    let (request_fingerprint, request_fields) = request_identity(valid);
    let paid_by = r
        .payment
        .postage_paid_by
        .or(PaidBy::parse(default_paid_by))
        .unwrap_or(PaidBy::Recipient);
    let has_email = r.recipient.email.is_some();
    DeliveryRow {
        id: new_id(),
        agency_id: agency_id.to_owned(),
        dossier_code: r.dossier_code.clone(),
        tracking_code: TrackingCode::generate().as_str().to_owned(),
        state: DeliveryState::Received.as_str().to_owned(),
        state_reason: None,
        procedure_code: r.procedure_code.clone(),
        procedure_name: r.procedure_name.clone(),
        agency_office: r.agency_office.clone(),
        recipient_name: r.recipient.name.clone(),
        recipient_phone: valid.phone.e164().to_owned(),
        recipient_email: r.recipient.email.clone(),
        address_line: r.recipient.address.line.clone().unwrap_or_default(),
        ward_code: valid.address.ward.code.clone(),
        province_code: valid.address.province.code.clone(),
        legacy_ward_code: valid.address.legacy_ward_code.clone(),
        latitude: r.recipient.address.lat,
        longitude: r.recipient.address.lon,
        weight_grams: r.parcel.weight_grams,
        document_count: r.parcel.document_count,
        declared_value_vnd: r.parcel.declared_value_vnd,
        postage_paid_by: paid_by.as_str().to_owned(),
        collect_on_delivery_vnd: r.payment.collect_on_delivery_vnd,
        courier: decision.courier.as_str().to_owned(),
        service_code: decision.service_code.clone(),
        sla_hours: decision.sla_hours,
        fallback_courier: decision.fallback_courier.map(|c| c.as_str().to_owned()),
        routing_rule_id: decision.rule_id.clone(),
        courier_tracking_number: None,
        notes: r.notes.clone(),
        notify_sms: r.notify.sms,
        notify_email: r.notify.email && has_email,
        request_fingerprint,
        request_fields,
        created_at: now,
        updated_at: now,
        last_event_at: Some(now),
        ended_at: None,
        anonymised_at: None,
    }
}

/// When the delivery is due under its SLA.
pub fn expected_by(row: &DeliveryRow) -> chrono::NaiveDateTime {
    row.created_at + Duration::hours(i64::from(row.sla_hours))
}
