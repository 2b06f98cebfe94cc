//! What the API shows of a delivery to its agency (full details: the agency owns the data).

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::state::DeliveryState;
use crate::domain::tracking::TrackingCode;
use crate::store::deliveries::{DeliveryRow, EventRow};
use crate::units::Units;

pub fn utc(t: NaiveDateTime) -> DateTime<Utc> {
    DateTime::from_naive_utc_and_offset(t, Utc)
}

#[derive(Serialize, ToSchema)]
pub struct UnitRef {
    #[schema(example = "00004")]
    pub code: String,
    #[schema(example = "Phường Ba Đình")]
    pub name: String,
}

#[derive(Serialize, ToSchema)]
pub struct AddressView {
    #[schema(example = "Số 12 ngõ 3 Đội Cấn")]
    pub line: String,
    pub ward: UnitRef,
    pub province: UnitRef,
    /// The pre-2025 ward code the agency sent, when it sent one.
    pub legacy_ward_code: Option<String>,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
}

#[derive(Serialize, ToSchema)]
pub struct RecipientView {
    #[schema(example = "Nguyễn Văn An")]
    pub name: String,
    /// E.164.
    #[schema(example = "+84912345678")]
    pub phone: String,
    pub email: Option<String>,
    pub address: AddressView,
}

#[derive(Serialize, ToSchema)]
pub struct ParcelView {
    pub weight_grams: i32,
    pub document_count: Option<i32>,
    pub declared_value_vnd: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct PaymentView {
    #[schema(example = "recipient")]
    pub postage_paid_by: String,
    pub collect_on_delivery_vnd: i64,
}

#[derive(Serialize, ToSchema)]
pub struct RoutingView {
    /// `vnpost` or `viettelpost`.
    #[schema(example = "vnpost")]
    pub courier: String,
    #[schema(example = "CTN007")]
    pub service_code: String,
    pub sla_hours: i32,
    pub fallback_courier: Option<String>,
    /// The routing rule that decided; absent when the built-in default did.
    pub rule_id: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct NotifyView {
    pub sms: bool,
    pub email: bool,
}

#[derive(Serialize, ToSchema)]
pub struct DeliveryView {
    /// UUID v7; also the order reference sent to the courier.
    #[schema(example = "01937a4e-8c2b-7d3e-9f10-2b4c6d8e0a12")]
    pub id: String,
    #[schema(example = "000.00.01.H42-260315-0001")]
    pub dossier_code: String,
    /// Public tracking code, for citizens (case-insensitive; dashes optional).
    #[schema(example = "K7RM-2XQ9-H4")]
    pub tracking_code: String,
    #[schema(example = "https://civicpost.example.gov.vn/track/K7RM2XQ9H4")]
    pub tracking_url: String,
    pub state: DeliveryState,
    pub state_reason: Option<String>,
    pub procedure_code: Option<String>,
    pub procedure_name: Option<String>,
    pub agency_office: Option<String>,
    pub recipient: RecipientView,
    pub parcel: ParcelView,
    pub payment: PaymentView,
    pub routing: RoutingView,
    pub courier_tracking_number: Option<String>,
    pub notify: NotifyView,
    /// Created + SLA.
    pub expected_by: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

fn unit_ref(code: &str, name: Option<&str>) -> UnitRef {
    UnitRef {
        code: code.to_owned(),
        name: name.unwrap_or_default().to_owned(),
    }
}

impl DeliveryView {
    pub fn new(row: DeliveryRow, units: &Units, public_base_url: &str) -> Self {
        let code = TrackingCode::parse(&row.tracking_code)
            .map(|c| c.display())
            .unwrap_or_else(|_| row.tracking_code.clone());
        let expected_by = utc(crate::intake::expected_by(&row));
        let ward = unit_ref(
            &row.ward_code,
            units.ward(&row.ward_code).map(|w| w.name.as_str()),
        );
        let province = unit_ref(
            &row.province_code,
            units.province(&row.province_code).map(|p| p.name.as_str()),
        );
        Self {
            tracking_url: format!(
                "{}/track/{}",
                public_base_url.trim_end_matches('/'),
                row.tracking_code
            ),
            tracking_code: code,
            id: row.id,
            dossier_code: row.dossier_code,
            state: DeliveryState::parse(&row.state).unwrap_or(DeliveryState::Received),
            state_reason: row.state_reason,
            procedure_code: row.procedure_code,
            procedure_name: row.procedure_name,
            agency_office: row.agency_office,
            recipient: RecipientView {
                name: row.recipient_name,
                phone: row.recipient_phone,
                email: row.recipient_email,
                address: AddressView {
                    line: row.address_line,
                    ward,
                    province,
                    legacy_ward_code: row.legacy_ward_code,
                    lat: row.latitude,
                    lon: row.longitude,
                },
            },
            parcel: ParcelView {
                weight_grams: row.weight_grams,
                document_count: row.document_count,
                declared_value_vnd: row.declared_value_vnd,
            },
            payment: PaymentView {
                postage_paid_by: row.postage_paid_by,
                collect_on_delivery_vnd: row.collect_on_delivery_vnd,
            },
            routing: RoutingView {
                courier: row.courier,
                service_code: row.service_code,
                sla_hours: row.sla_hours,
                fallback_courier: row.fallback_courier,
                rule_id: row.routing_rule_id,
            },
            courier_tracking_number: row.courier_tracking_number,
            notify: NotifyView {
                sms: row.notify_sms,
                email: row.notify_email,
            },
            expected_by,
            created_at: utc(row.created_at),
            updated_at: utc(row.updated_at),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct EventView {
    pub state: DeliveryState,
    pub reason: Option<String>,
    /// False for duplicates and late or out-of-order courier events, kept for the record.
    pub applied: bool,
    /// `intake`, `courier`, `pull`, `agency` or `operator`.
    #[schema(example = "intake")]
    pub source: String,
    pub courier: Option<String>,
    pub raw_code: Option<String>,
    pub raw_text: Option<String>,
    pub location: Option<String>,
    /// When it happened, by the courier's clock.
    pub occurred_at: DateTime<Utc>,
    pub recorded_at: DateTime<Utc>,
}

impl From<EventRow> for EventView {
    fn from(e: EventRow) -> Self {
        Self {
            state: DeliveryState::parse(&e.state).unwrap_or(DeliveryState::Received),
            reason: e.reason,
            applied: e.applied,
            source: e.source,
            courier: e.courier,
            raw_code: e.raw_code,
            raw_text: e.raw_text,
            location: e.location,
            occurred_at: utc(e.occurred_at),
            recorded_at: utc(e.recorded_at),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct DeliveryPage {
    pub items: Vec<DeliveryView>,
    /// Pass as `cursor` for the next (older) page; absent on the last page.
    pub next_cursor: Option<String>,
}
