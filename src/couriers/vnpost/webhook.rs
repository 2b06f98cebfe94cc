//! VNPost webhooks: the current `{data[], sendDate, signature}` body and the legacy
//! `{Data, SendDate, SignData}` body (couriers.md §2A, §2B).
//!
//! Multi-item bodies: VNPost's doc signs only the **first** record (`"MYVNP" + sendDate +
//! data[0].itemCode + data[0].status`). A valid signature therefore authenticates the batch as
//! VNPost sent it; we accept every record of a body whose first-record signature verifies, and
//! reject the whole body otherwise. Records after the first are not individually protected:
//! the whitelist of VNPost's IPs (§2A) is the remaining control.

use rsa::RsaPublicKey;
use serde::Deserialize;
use serde_json::Value;

use super::signature;
use super::transformers::{map_legacy_status, map_status, parse_time, reason_for, text};
use crate::couriers::{CourierEvent, WebhookError};

#[derive(Debug, Deserialize)]
pub struct CurrentBody {
    pub data: Vec<Value>,
    #[serde(rename = "sendDate")]
    pub send_date: String,
    pub signature: String,
}

#[derive(Debug, Deserialize)]
pub struct LegacyBody {
    /// A JSON document inside a string.
    #[serde(rename = "Data")]
    pub data: String,
    #[serde(rename = "SendDate")]
    pub send_date: String,
    #[serde(rename = "SignData")]
    pub sign_data: String,
}

pub enum Body {
    Current(CurrentBody),
    Legacy(LegacyBody),
}

pub fn read(body: &[u8]) -> Result<Body, WebhookError> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| WebhookError::Malformed(e.to_string()))?;
    if value.get("Data").is_some() {
        serde_json::from_value(value)
            .map(Body::Legacy)
            .map_err(|e| WebhookError::Malformed(format!("legacy body: {e}")))
    } else {
        serde_json::from_value(value)
            .map(Body::Current)
            .map_err(|e| WebhookError::Malformed(e.to_string()))
    }
}

/// Signature check over the documented text. A body that is not JSON is `Malformed`; a JSON
/// body without the parts a signature needs, or whose signature does not match, is
/// `Unauthenticated`: the credential is judged before the rest of the body is read.
pub fn verify(key: &RsaPublicKey, body: &[u8]) -> Result<(), WebhookError> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| WebhookError::Malformed(e.to_string()))?;
    let (signed_text, signature_b64) = signed_parts(&value).ok_or(WebhookError::Unauthenticated)?;
    if signature::verify(key, &signed_text, signature_b64) {
        Ok(())
    } else {
        Err(WebhookError::Unauthenticated)
    }
}

/// The signed text and the signature, when the body has what they are made of.
fn signed_parts(value: &Value) -> Option<(String, &str)> {
    let field = |name: &str| value.get(name).and_then(Value::as_str);
    if value.get("Data").is_some() {
        let text = format!("{}{}", field("Data")?, field("SendDate")?);
        return Some((text, field("SignData")?));
    }
    let first = value.get("data")?.as_array()?.first()?;
    let item_code = text(first, &["itemCode"]).unwrap_or_default();
    let status = text(first, &["status", "statusCode"]).unwrap_or_default();
    let text = signature::current_signed_text(field("sendDate")?, &item_code, &status);
    Some((text, field("signature")?))
}

pub fn parse(body: &[u8]) -> Result<Vec<CourierEvent>, WebhookError> {
    match read(body)? {
        Body::Current(b) => {
            let sent = parse_time(&b.send_date)
                .ok_or_else(|| WebhookError::Malformed("sendDate unreadable".into()))?;
            b.data.iter().map(|r| current_event(r, sent)).collect()
        }
        Body::Legacy(b) => {
            let record: Value = serde_json::from_str(&b.data)
                .map_err(|e| WebhookError::Malformed(format!("Data: {e}")))?;
            let sent = parse_time(&b.send_date)
                .ok_or_else(|| WebhookError::Malformed("SendDate unreadable".into()))?;
            legacy_event(&record, sent).map(|e| vec![e])
        }
    }
}

fn status_code(raw: &str) -> Result<i64, WebhookError> {
    raw.trim()
        .parse()
        .map_err(|_| WebhookError::Malformed(format!("status {raw:?} is not a number")))
}

/// The record's own update time when it has one, else the send time. .NET senders fill unset
/// times with `0001-01-01T00:00:00`, hence the year floor.
fn record_time(
    record: &Value,
    keys: &[&str],
    fallback: chrono::NaiveDateTime,
) -> chrono::NaiveDateTime {
    use chrono::Datelike;
    text(record, keys)
        .and_then(|t| parse_time(&t))
        .filter(|t| t.year() >= 2000)
        .unwrap_or(fallback)
}

fn current_event(
    record: &Value,
    sent: chrono::NaiveDateTime,
) -> Result<CourierEvent, WebhookError> {
    let tracking_number = text(record, &["itemCode"])
        .ok_or_else(|| WebhookError::Malformed("record without itemCode".into()))?;
    let raw_code = text(record, &["status", "statusCode"])
        .ok_or_else(|| WebhookError::Malformed("record without status".into()))?;
    let code = status_code(&raw_code)?;
    let (state, known_code) = map_status(code);
    Ok(CourierEvent {
        tracking_number,
        reference: text(record, &["saleOrderCode"]),
        raw_text: text(record, &["statusName", "statusText"]),
        state,
        reason: reason_for(code).map(str::to_string),
        known_code,
        location: text(record, &["locateName", "orgCodeAccept"]),
        occurred_at: record_time(record, &["updatedDate", "lastUpdateTime"], sent),
        raw_code,
    })
}

fn legacy_event(record: &Value, sent: chrono::NaiveDateTime) -> Result<CourierEvent, WebhookError> {
    let tracking_number = text(record, &["ItemCode"])
        .ok_or_else(|| WebhookError::Malformed("Data without ItemCode".into()))?;
    let raw_code = text(record, &["OrderStatusId"])
        .ok_or_else(|| WebhookError::Malformed("Data without OrderStatusId".into()))?;
    let code = status_code(&raw_code)?;
    let (state, known_code) = map_legacy_status(code);
    Ok(CourierEvent {
        tracking_number,
        reference: text(record, &["OrderCode"]),
        raw_text: text(record, &["CauseName"]),
        state,
        reason: None,
        known_code,
        location: None,
        occurred_at: record_time(record, &["LastUpdateTime"], sent),
        raw_code,
    })
}
