//! Viettel Post wire types (field names exactly as on the wire, couriers.md §1) and the pure
//! mapping of its ORDER_STATUS / REASON_CODE onto our states and reasons (couriers.md §4).

use chrono::{Duration, NaiveDateTime};
use serde::{Deserialize, Serialize};

use crate::couriers::{CourierEvent, WebhookError};
use crate::domain::state::DeliveryState;

/// Every endpoint but `getPriceAll` answers in this envelope; success is decided on `error`,
/// never on the HTTP code (VTP often answers 200 on errors).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Envelope<T> {
    #[serde(default)]
    pub status: i64,
    #[serde(default)]
    pub error: bool,
    #[serde(default)]
    pub message: String,
    #[serde(default = "none")]
    pub data: Option<T>,
}

fn none<T>() -> Option<T> {
    None
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LoginData {
    pub token: String,
    /// Epoch milliseconds in real answers; 0 in the doc sample.
    #[serde(default)]
    pub expired: Option<i64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub struct PriceRequest {
    pub sender_province: i64,
    pub sender_district: i64,
    pub sender_ward: i64,
    pub receiver_province: i64,
    pub receiver_district: i64,
    pub receiver_ward: i64,
    pub product_type: String,
    pub product_weight: i64,
    pub product_price: i64,
    pub money_collection: i64,
    /// 1 = domestic price table.
    #[serde(rename = "TYPE")]
    pub kind: i32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub struct PriceItem {
    pub ma_dv_chinh: String,
    #[serde(default)]
    pub ten_dichvu: String,
    pub gia_cuoc: i64,
    #[serde(default)]
    pub thoi_gian: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub struct CreateOrderRequest {
    pub order_number: String,
    pub groupaddress_id: i64,
    pub cus_id: i64,
    pub sender_fullname: String,
    pub sender_phone: String,
    #[serde(default)]
    pub sender_email: Option<String>,
    pub sender_address: String,
    pub sender_province: i64,
    pub sender_district: i64,
    pub sender_ward: i64,
    pub receiver_fullname: String,
    pub receiver_phone: String,
    #[serde(default)]
    pub receiver_email: Option<String>,
    pub receiver_address: String,
    pub receiver_province: i64,
    pub receiver_district: i64,
    pub receiver_ward: i64,
    pub product_name: String,
    pub product_quantity: i64,
    pub product_price: i64,
    pub product_weight: i64,
    pub product_type: String,
    pub order_payment: i64,
    pub order_service: String,
    #[serde(default)]
    pub order_note: Option<String>,
    pub money_collection: i64,
    #[serde(default)]
    pub check_unique: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CreateOrderData {
    /// The tracking number VTP generates (not our reference).
    #[serde(rename = "ORDER_NUMBER")]
    pub order_number: String,
    #[serde(rename = "MONEY_TOTAL", default)]
    pub money_total: Option<i64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UpdateOrderRequest {
    #[serde(rename = "TYPE")]
    pub kind: i32,
    #[serde(rename = "ORDER_NUMBER")]
    pub order_number: String,
    #[serde(rename = "NOTE")]
    pub note: String,
}

/// UpdateOrder TYPE that cancels (VTP-DOC §9.1).
pub const UPDATE_CANCEL: i32 = 4;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ProvinceItem {
    #[serde(rename = "PROVINCE_ID")]
    pub province_id: i64,
    #[serde(rename = "PROVINCE_CODE", default)]
    pub province_code: Option<String>,
    #[serde(rename = "PROVINCE_NAME")]
    pub province_name: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WardItem {
    #[serde(rename = "WARDS_ID")]
    pub wards_id: i64,
    #[serde(rename = "WARDS_NAME")]
    pub wards_name: String,
    #[serde(rename = "DISTRICT_ID", default)]
    pub district_id: Option<i64>,
    #[serde(rename = "PROVINCE_ID", default)]
    pub province_id: Option<i64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WebhookBody {
    #[serde(rename = "DATA")]
    pub data: WebhookData,
    #[serde(rename = "TOKEN", default)]
    pub token: String,
}

/// DATA is an open object (older payloads carry fewer fields), so everything but the
/// number, status and date is optional.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct WebhookData {
    #[serde(rename = "ORDER_NUMBER")]
    pub order_number: String,
    #[serde(rename = "ORDER_REFERENCE", default)]
    pub order_reference: Option<String>,
    #[serde(rename = "ORDER_STATUSDATE")]
    pub order_statusdate: String,
    #[serde(rename = "ORDER_STATUS")]
    pub order_status: i64,
    #[serde(rename = "STATUS_NAME", default)]
    pub status_name: Option<String>,
    /// VTP sends both spellings in one body, so they are two fields: a serde alias would
    /// reject the body as a duplicate field.
    #[serde(rename = "LOCALION_CURRENTLY", default)]
    pub localion_currently: Option<String>,
    #[serde(rename = "LOCATION_CURRENTLY", default)]
    pub location_currently: Option<String>,
    #[serde(rename = "NOTE", default)]
    pub note: Option<String>,
    /// Number in the doc; accepted as a string too since nothing pins it.
    #[serde(rename = "REASON_CODE", default)]
    pub reason_code: Option<serde_json::Value>,
}

impl WebhookData {
    /// The correct spelling first; a blank one falls back on the other.
    pub fn location(&self) -> Option<&str> {
        given(&self.location_currently).or_else(|| given(&self.localion_currently))
    }

    pub fn reason_code(&self) -> Option<i64> {
        match self.reason_code.as_ref()? {
            serde_json::Value::Number(n) => n.as_i64(),
            serde_json::Value::String(s) => s.trim().parse().ok(),
            _ => None,
        }
    }
}

fn given(text: &Option<String>) -> Option<&str> {
    text.as_deref().filter(|s| !s.trim().is_empty())
}

/// What one ORDER_STATUS means for us.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusMapping {
    pub state: Option<DeliveryState>,
    pub reason: Option<&'static str>,
    pub known_code: bool,
}

/// couriers.md §4. 202 (waybill edited) and 106 (partner asks for the goods back, old list,
/// no mapping given) are known events that change nothing; unknown codes change nothing and
/// are flagged so the operator is alerted.
pub fn map_status(code: i64, reason_code: Option<i64>) -> StatusMapping {
    use DeliveryState as S;
    let state = match code {
        -100 | -108 | 100 | 102 | 103 | 104 => Some(S::AwaitingPickup),
        105 | 200 => Some(S::PickedUp),
        -109 | -110 | 300..=303 | 320 | 400..=403 | 509 | 510 => Some(S::InTransit),
        500 | 508 | 550 | 570 => Some(S::OutForDelivery),
        507 => Some(S::ReadyForPickup),
        505 | 506 => Some(S::DeliveryFailed),
        502 | 515 => Some(S::Returning),
        504 => Some(S::Returned),
        501 => Some(S::Delivered),
        101 | 107 | 201 | 503 => Some(S::Cancelled),
        106 | 202 => {
            return StatusMapping {
                state: None,
                reason: None,
                known_code: true,
            };
        }
        _ => {
            return StatusMapping {
                state: None,
                reason: None,
                known_code: false,
            };
        }
    };
    let reason = match code {
        505..=507 => Some(map_reason(reason_code, code)),
        _ => None,
    };
    StatusMapping {
        state,
        reason,
        known_code: true,
    }
}

/// REASON_CODE (VTP-DOC §8, 08/2025) → our reason vocabulary.
fn map_reason(reason_code: Option<i64>, status: i64) -> &'static str {
    match reason_code {
        Some(35) => "consignee_rescheduled",
        // A malformed phone number means the postman could not call the receiver.
        Some(36) | Some(27) => "consignee_unreachable",
        Some(37) => "carrier_rescheduled",
        Some(38) => "consignee_collects_at_office",
        Some(32) => "incorrect_address",
        // Wrong colour/size/style/quality/quantity/COD, not allowed to inspect, no longer
        // wanted, did not order: all are the receiver refusing the parcel.
        Some(20..=26) | Some(30) | Some(31) => "consignee_refused",
        Some(46) | Some(47) => "repeated_failures",
        Some(43) => "sender_requested_return",
        None if status == 507 => "consignee_collects_at_office",
        _ => "unknown",
    }
}

/// `dd/MM/yyyy HH:mm:ss` in Asia/Ho_Chi_Minh (UTC+7, no DST) → UTC.
pub fn parse_status_date(text: &str) -> Option<NaiveDateTime> {
    let local = NaiveDateTime::parse_from_str(text.trim(), "%d/%m/%Y %H:%M:%S").ok()?;
    local.checked_sub_signed(Duration::hours(7))
}

/// Cuts `text` to at most `max` bytes without splitting a UTF-8 character: VTP limits
/// strings in bytes and Vietnamese letters take 2–3 bytes each.
pub fn truncate_bytes(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_owned()
}

/// `ORDER_PAYMENT` from who pays the postage and the fees the postman collects.
pub fn order_payment(collect_on_delivery_vnd: i64, receiver_pays_postage: bool) -> i64 {
    match (collect_on_delivery_vnd > 0, receiver_pays_postage) {
        (false, false) => 1,
        (true, false) => 3,
        (true, true) => 2,
        (false, true) => 4,
    }
}

/// `THOI_GIAN` such as "48 giờ" → 48.
pub fn parse_hours(text: Option<&str>) -> Option<i32> {
    let digits: String = text?
        .trim()
        .chars()
        .take_while(|c| c.is_ascii_digit())
        .collect();
    digits.parse().ok()
}

/// A webhook body (couriers.md §1.4) as the one event it reports.
pub fn parse_webhook(body: &[u8]) -> Result<Vec<CourierEvent>, WebhookError> {
    let parsed: WebhookBody =
        serde_json::from_slice(body).map_err(|e| WebhookError::Malformed(e.to_string()))?;
    let data = parsed.data;
    let occurred_at = parse_status_date(&data.order_statusdate).ok_or_else(|| {
        WebhookError::Malformed("ORDER_STATUSDATE is not dd/MM/yyyy HH:mm:ss".to_owned())
    })?;
    let mapping = map_status(data.order_status, data.reason_code());
    let raw_text = data
        .status_name
        .clone()
        .or_else(|| data.note.clone())
        .filter(|s| !s.is_empty());
    Ok(vec![CourierEvent {
        location: data.location().map(str::to_owned),
        reference: data.order_reference.clone().filter(|s| !s.is_empty()),
        tracking_number: data.order_number,
        raw_code: data.order_status.to_string(),
        raw_text,
        state: mapping.state,
        reason: mapping.reason.map(str::to_owned),
        known_code: mapping.known_code,
        occurred_at,
    }])
}

#[cfg(test)]
#[path = "transformers_tests.rs"]
mod tests;
