//! VNPost wire types, status mapping and time handling (couriers.md §2A, §2B, §4).
//!
//! VNPost's records vary between endpoints and clients (`originalId`/`originalID`, `status` as
//! number or string, `vasFee`/`vasfee`), so order records are read from `serde_json::Value`
//! through the small lenient helpers below rather than strict structs.

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::domain::state::DeliveryState;

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenRequest<'a> {
    pub username: &'a str,
    pub password: &'a str,
    pub customer_code: &'a str,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenResponse {
    #[serde(default)]
    pub success: bool,
    pub token: Option<String>,
    pub error_message: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, Clone)]
#[serde(rename_all = "camelCase")]
pub struct AddonService {
    pub code: String,
    pub prop_value: String,
}

/// `POST /orderCancel` body: PascalCase, unlike the rest of the API.
#[derive(Debug, Serialize, Deserialize)]
pub struct CancelRequest {
    #[serde(rename = "OriginalId")]
    pub original_id: String,
}

/// Spring Boot error body: `{status, timestamp, error, message, description, path}`.
#[derive(Debug, Deserialize, Serialize, Default)]
pub struct ErrorBody {
    pub status: Option<i64>,
    pub error: Option<String>,
    pub message: Option<String>,
    pub description: Option<String>,
}

/// A `ServicesCharge` line.
#[derive(Debug, Clone, PartialEq)]
pub struct Charge {
    pub service_code: String,
    pub service_name: String,
    pub total_fee: i64,
}

/// A `getNewProvinceAll` item.
#[derive(Debug, Deserialize)]
pub struct ProvinceItem {
    #[serde(rename = "provinceCode", default, deserialize_with = "text_or_number")]
    pub code: Option<String>,
    #[serde(rename = "provinceName", default)]
    pub name: Option<String>,
}

/// A `getNewCommuneAll` item. The parent province sits under `provinceCode` or, in the
/// post-merger list, sometimes `districtCode` (couriers.md §2A).
#[derive(Debug, Deserialize)]
pub struct CommuneItem {
    #[serde(rename = "communeCode", default, deserialize_with = "text_or_number")]
    pub code: Option<String>,
    #[serde(rename = "communeName", default)]
    pub name: Option<String>,
    #[serde(rename = "provinceCode", default, deserialize_with = "text_or_number")]
    pub province_code: Option<String>,
    #[serde(rename = "districtCode", default, deserialize_with = "text_or_number")]
    pub district_code: Option<String>,
}

/// Codes come as strings or numbers: both as text, anything else as absent.
fn text_or_number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        Some(Value::String(s)) => Some(s),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    })
}

/// First of several keys that holds a non-null value.
pub fn field<'a>(record: &'a Value, keys: &[&str]) -> Option<&'a Value> {
    keys.iter()
        .filter_map(|k| record.get(*k))
        .find(|v| !v.is_null())
}

/// A field as text: strings as they are, numbers in decimal.
pub fn text(record: &Value, keys: &[&str]) -> Option<String> {
    match field(record, keys)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A money or weight field sent as number or numeric string; fractions are truncated (VND).
pub fn amount(record: &Value, keys: &[&str]) -> Option<i64> {
    match field(record, keys)? {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        Value::String(s) => s.trim().parse::<f64>().ok().map(|f| f as i64),
        _ => None,
    }
}

pub fn parse_charges(body: &Value) -> Result<Vec<Charge>, String> {
    let items = body
        .as_array()
        .ok_or_else(|| "ServicesCharge did not answer an array".to_string())?;
    items
        .iter()
        .map(|item| {
            Ok(Charge {
                service_code: text(item, &["serviceCode"]).ok_or("charge without serviceCode")?,
                service_name: text(item, &["serviceName"]).unwrap_or_default(),
                total_fee: amount(item, &["totalFee"]).ok_or("charge without totalFee")?,
            })
        })
        .collect::<Result<_, &str>>()
        .map_err(str::to_string)
}

/// `CreateOrder` answers the record, sometimes wrapped in `data`.
pub fn unwrap_record(body: &Value) -> &Value {
    match body.get("data") {
        Some(inner) if inner.is_object() => inner,
        _ => body,
    }
}

/// `getOrder` answers `[{results:[order…]}]`; also accepts a bare list of orders.
pub fn orders_from_lookup(body: &Value) -> Vec<Value> {
    let mut out = Vec::new();
    if let Some(items) = body.as_array() {
        for item in items {
            match item.get("results").and_then(Value::as_array) {
                Some(results) => out.extend(results.iter().cloned()),
                None if item.get("itemCode").is_some() => out.push(item.clone()),
                None => {}
            }
        }
    } else if let Some(results) = body.get("results").and_then(Value::as_array) {
        out.extend(results.iter().cloned());
    }
    out
}

/// `orderCancel` answers `[{type, message, …}]` or `{Type, Message, …}`: the outcome code and
/// message of the first entry.
pub fn cancel_outcome(body: &Value) -> (Option<String>, Option<String>) {
    let entry = body.as_array().and_then(|a| a.first()).unwrap_or(body);
    (
        text(entry, &["type", "Type"]),
        text(entry, &["message", "Message", "note", "Note"]),
    )
}

/// What a status code means for us: `(state, known)`. Codes 21, 28 and 29 are payouts: known,
/// but not state changes (couriers.md §4).
pub fn map_status(code: i64) -> (Option<DeliveryState>, bool) {
    use DeliveryState::*;
    let state = match code {
        0..=4 => AwaitingPickup,
        5 | 8 => OnHold,
        6 | 7 => PickedUp,
        9 | 22 => Cancelled,
        10 | 11 | 13 => InTransit,
        12 => OutForDelivery,
        14 | 23 | 109 => Delivered,
        15 => DeliveryFailed,
        16..=18 | 24 => Returning,
        19 | 20 => Returned,
        21 | 28 | 29 => return (None, true),
        _ => return (None, false),
    };
    (Some(state), true)
}

/// Legacy `OrderStatusId` (couriers.md §2B, §4).
pub fn map_legacy_status(code: i64) -> (Option<DeliveryState>, bool) {
    use DeliveryState::*;
    let state = match code {
        -1 | 20 => AwaitingPickup,
        10 | 60 | 62 => Cancelled,
        70 => InTransit,
        91 => DeliveryFailed,
        100 => Delivered,
        170 => Returned,
        // Cancellation requested, return failed, COD movements: events only.
        61 | 110 | 120 | 161 => return (None, true),
        _ => return (None, false),
    };
    (Some(state), true)
}

/// Reason vocabulary of couriers.md §4 where the code alone implies one.
pub fn reason_for(code: i64) -> Option<&'static str> {
    match code {
        15 | 5 | 8 => Some("unknown"),
        _ => None,
    }
}

/// Vietnam has used UTC+7 without daylight saving since 1975.
const VIETNAM_OFFSET: TimeDelta = TimeDelta::hours(7);

/// Parses a VNPost time into UTC. A zone, when given, is honoured; times without one are
/// Asia/Ho_Chi_Minh. The `sendDate` format is unconfirmed (couriers.md §3), so ISO with or
/// without fraction, `dd/MM/yyyy HH:mm:ss` and `dd-MM-yyyy HH:mm:ss` are all accepted.
pub fn parse_time(raw: &str) -> Option<NaiveDateTime> {
    let raw = raw.trim();
    if let Ok(with_zone) = DateTime::parse_from_rfc3339(raw) {
        return Some(with_zone.naive_utc());
    }
    const FORMATS: [&str; 6] = [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%d/%m/%Y %H:%M:%S",
        "%d-%m-%Y %H:%M:%S",
        "%d/%m/%Y %H:%M",
        "%Y-%m-%dT%H:%M",
    ];
    FORMATS
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(raw, f).ok())
        .or_else(|| {
            NaiveDate::parse_from_str(raw, "%d/%m/%Y")
                .ok()
                .map(|d| d.and_time(NaiveTime::MIN))
        })
        .map(|local| local - VIETNAM_OFFSET)
}

/// Formats a UTC time as VNPost's local `yyyy-MM-ddTHH:mm:ss` (the simulator's `sendDate`).
pub fn format_local(utc: NaiveDateTime) -> String {
    (utc + VIETNAM_OFFSET)
        .format("%Y-%m-%dT%H:%M:%S")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use DeliveryState::*;

    #[test]
    fn every_documented_status_maps_as_in_section_4() {
        let expected: [(i64, Option<DeliveryState>); 27] = [
            (0, Some(AwaitingPickup)),
            (1, Some(AwaitingPickup)),
            (2, Some(AwaitingPickup)),
            (3, Some(AwaitingPickup)),
            (4, Some(AwaitingPickup)),
            (5, Some(OnHold)),
            (6, Some(PickedUp)),
            (7, Some(PickedUp)),
            (8, Some(OnHold)),
            (9, Some(Cancelled)),
            (10, Some(InTransit)),
            (11, Some(InTransit)),
            (12, Some(OutForDelivery)),
            (13, Some(InTransit)),
            (14, Some(Delivered)),
            (15, Some(DeliveryFailed)),
            (16, Some(Returning)),
            (17, Some(Returning)),
            (18, Some(Returning)),
            (19, Some(Returned)),
            (20, Some(Returned)),
            (21, None),
            (22, Some(Cancelled)),
            (23, Some(Delivered)),
            (24, Some(Returning)),
            (28, None),
            (29, None),
        ];
        for (code, state) in expected {
            assert_eq!(map_status(code), (state, true), "code {code}");
        }
        assert_eq!(map_status(109), (Some(Delivered), true));
    }

    #[test]
    fn unknown_codes_are_flagged_and_change_nothing() {
        for code in [-1, 25, 26, 27, 30, 99, 1000] {
            assert_eq!(map_status(code), (None, false), "code {code}");
        }
    }

    #[test]
    fn legacy_codes_map() {
        assert_eq!(map_legacy_status(100), (Some(Delivered), true));
        assert_eq!(map_legacy_status(60), (Some(Cancelled), true));
        assert_eq!(map_legacy_status(70), (Some(InTransit), true));
        assert_eq!(map_legacy_status(91), (Some(DeliveryFailed), true));
        assert_eq!(map_legacy_status(170), (Some(Returned), true));
        assert_eq!(map_legacy_status(120), (None, true));
        assert_eq!(map_legacy_status(55), (None, false));
    }

    #[test]
    fn times_without_zone_are_vietnam_local() {
        let utc = |s: &str| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap();
        assert_eq!(
            parse_time("2026-11-22T09:30:00"),
            Some(utc("2026-11-22 02:30:00"))
        );
        assert_eq!(
            parse_time("22/11/2026 06:00:00"),
            Some(utc("2026-11-21 23:00:00"))
        );
        assert_eq!(
            parse_time("2026-11-22T09:30:00Z"),
            Some(utc("2026-11-22 09:30:00"))
        );
        assert_eq!(parse_time("yesterday"), None);
        assert_eq!(
            format_local(utc("2026-11-21 23:00:00")),
            "2026-11-22T06:00:00"
        );
    }

    #[test]
    fn lenient_fields_and_shapes() {
        let rec = serde_json::json!({"originalID": 42, "totalFee": "15000.0", "status": "14"});
        assert_eq!(
            text(&rec, &["originalId", "originalID"]).as_deref(),
            Some("42")
        );
        assert_eq!(amount(&rec, &["totalFee"]), Some(15000));
        let lookup = serde_json::json!([{"results": [{"itemCode": "EL1VN"}]}]);
        assert_eq!(orders_from_lookup(&lookup).len(), 1);
        let cancel = serde_json::json!({"Type": "00", "Message": "ok"});
        assert_eq!(cancel_outcome(&cancel).0.as_deref(), Some("00"));
        let cancel = serde_json::json!([{"type": "01", "message": "picked up"}]);
        assert_eq!(cancel_outcome(&cancel).0.as_deref(), Some("01"));
    }
}
