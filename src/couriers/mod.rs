//! Courier adapters: one module per courier (client, wire types and status mapping in a
//! `transformers` file, webhook verification), behind one trait, plus protocol-faithful
//! simulators. No courier detail leaks outside its module.

pub mod breaker;
pub mod exchange;
pub mod order;
pub mod registry;
pub mod sandbox;
mod sim_official;
pub mod sync_units;
pub mod viettelpost;
pub mod vnpost;

use async_trait::async_trait;
use chrono::NaiveDateTime;

use crate::domain::courier::Courier;
use crate::domain::state::DeliveryState;

/// One side of a shipment, with the official codes and the courier's own address ids.
#[derive(Debug, Clone)]
pub struct Party {
    pub name: String,
    /// National form, `0912345678`.
    pub phone: String,
    pub email: Option<String>,
    pub address_line: String,
    /// Official 2025 codes (for messages and errors).
    pub province_code: String,
    pub ward_code: String,
    /// The courier's own ids for this ward (from `courier_unit_mappings`).
    pub courier_province_id: String,
    pub courier_district_id: Option<String>,
    pub courier_ward_id: String,
}

/// What dispatch asks a courier to carry.
#[derive(Debug, Clone)]
pub struct OrderRequest {
    /// Our delivery id: the courier-side order reference, which makes creation idempotent.
    pub reference: String,
    pub service_code: String,
    pub sender: Party,
    pub receiver: Party,
    pub weight_grams: i32,
    pub declared_value_vnd: i64,
    /// Fees the postman collects for the agency.
    pub collect_on_delivery_vnd: i64,
    /// True when the recipient pays the postage.
    pub receiver_pays_postage: bool,
    pub product_name: String,
    pub note: Option<String>,
}

/// A route and weight to price.
#[derive(Debug, Clone)]
pub struct QuoteRequest {
    pub sender: Party,
    pub receiver: Party,
    pub weight_grams: i32,
    pub declared_value_vnd: i64,
    pub collect_on_delivery_vnd: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Quote {
    pub service_code: String,
    pub service_name: String,
    pub fee_vnd: i64,
    /// Promised hours, when the courier says.
    pub hours: Option<i32>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CreatedOrder {
    /// The courier's tracking number (Viettel `ORDER_NUMBER`, VNPost `itemCode`).
    pub tracking_number: String,
    pub fee_vnd: Option<i64>,
}

/// One status update from a courier, mapped onto our states.
#[derive(Debug, Clone, PartialEq)]
pub struct CourierEvent {
    pub tracking_number: String,
    /// Our delivery id when the courier echoes it.
    pub reference: Option<String>,
    pub raw_code: String,
    pub raw_text: Option<String>,
    /// `None`: not a state change (fee payouts, waybill edits) or an unknown code.
    pub state: Option<DeliveryState>,
    /// Reason vocabulary of couriers.md §4 (`consignee_not_home`, …).
    pub reason: Option<String>,
    pub known_code: bool,
    pub location: Option<String>,
    /// The courier's own event time, in UTC (Asia/Ho_Chi_Minh when the courier gives no zone).
    pub occurred_at: NaiveDateTime,
}

/// A ward as the courier lists it, with its own ids.
#[derive(Debug, Clone, PartialEq)]
pub struct CourierUnit {
    pub province_id: String,
    pub province_name: String,
    pub district_id: Option<String>,
    pub ward_id: String,
    pub ward_name: String,
}

#[derive(Debug, thiserror::Error)]
pub enum CourierError {
    /// Credentials refused (after one renewal attempt).
    #[error("authentication refused: {0}")]
    Auth(String),
    /// The courier will not take this order as it is (route, data): retrying will not help;
    /// try the fallback courier.
    #[error("refused: {0}")]
    Refused(String),
    /// Timeouts, 5xx, connection errors: retry later, count against the breaker.
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// The answer does not match the protocol.
    #[error("unexpected answer: {0}")]
    Protocol(String),
    #[error("not offered by this courier")]
    Unsupported,
}

#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    #[error("webhook credential missing or wrong")]
    Unauthenticated,
    #[error("webhook body unreadable: {0}")]
    Malformed(String),
}

#[async_trait]
pub trait CourierAdapter: Send + Sync {
    fn courier(&self) -> Courier;
    /// Gets (or renews) the courier's token.
    async fn authenticate(&self) -> Result<(), CourierError>;
    async fn quote(&self, request: &QuoteRequest) -> Result<Vec<Quote>, CourierError>;
    async fn create_order(&self, order: &OrderRequest) -> Result<CreatedOrder, CourierError>;
    async fn cancel_order(
        &self,
        tracking_number: &str,
        reference: &str,
    ) -> Result<(), CourierError>;
    /// The courier's history of a parcel, where it offers one (VNPost).
    async fn tracking_history(
        &self,
        tracking_number: &str,
    ) -> Result<Vec<CourierEvent>, CourierError>;
    async fn address_units(&self) -> Result<Vec<CourierUnit>, CourierError>;
    /// Checks the webhook's credential (constant time / signature) before anything is stored.
    fn verify_webhook(
        &self,
        headers: &actix_web::http::header::HeaderMap,
        body: &[u8],
    ) -> Result<(), WebhookError>;
    /// Parses a verified webhook body into events.
    fn parse_webhook(&self, body: &[u8]) -> Result<Vec<CourierEvent>, WebhookError>;
}
