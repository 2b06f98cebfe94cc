//! What each courier call sent and got back, for support and metrics.
//!
//! The clients report every HTTP call here. Metrics are always recorded; the exchange itself
//! (bodies masked) is kept only inside [`capture`], which dispatch wraps around its calls to
//! store them on the delivery. Masking happens before anything is kept: names, phone numbers,
//! addresses, e-mails, notes, credentials and signatures become `***`.

use std::cell::RefCell;
use std::future::Future;
use std::time::Instant;

use serde_json::Value;

use crate::domain::courier::Courier;

/// Longest body kept, in bytes; the rest is cut with a marker.
const MAX_BODY_BYTES: usize = 4096;

#[derive(Debug, Clone, PartialEq)]
pub struct Exchange {
    pub courier: Courier,
    /// The courier's endpoint path, e.g. `/v2/order/createOrder` or `CreateOrder`.
    pub operation: String,
    pub status_code: Option<u16>,
    pub duration_ms: i32,
    pub request_body: Option<String>,
    pub response_body: Option<String>,
    pub error: Option<String>,
}

tokio::task_local! {
    static CAPTURED: RefCell<Vec<Exchange>>;
}

/// Runs `work`, collecting the exchanges its courier calls make.
pub async fn capture<F: Future>(work: F) -> (F::Output, Vec<Exchange>) {
    CAPTURED
        .scope(RefCell::new(Vec::new()), async move {
            let output = work.await;
            let exchanges = CAPTURED.with(|c| c.take());
            (output, exchanges)
        })
        .await
}

/// One finished call. `request` and `response` are raw bodies; they are masked here.
pub struct Call<'a> {
    pub courier: Courier,
    pub operation: &'a str,
    pub started: Instant,
    pub status_code: Option<u16>,
    pub request: Option<&'a str>,
    pub response: Option<&'a str>,
    pub error: Option<String>,
}

pub fn record(call: Call<'_>) {
    let elapsed = call.started.elapsed();
    let outcome = match (&call.error, call.status_code) {
        (Some(_), _) => "error",
        (None, Some(code)) if code >= 500 => "error",
        _ => "ok",
    };
    let labels = [
        ("courier", call.courier.as_str().to_owned()),
        ("operation", call.operation.to_owned()),
    ];
    metrics::histogram!("civicpost_courier_call_seconds", &labels).record(elapsed.as_secs_f64());
    metrics::counter!(
        "civicpost_courier_calls_total",
        "courier" => call.courier.as_str(),
        "operation" => call.operation.to_owned(),
        "outcome" => outcome,
    )
    .increment(1);
    let _ = CAPTURED.try_with(|captured| {
        captured.borrow_mut().push(Exchange {
            courier: call.courier,
            operation: call.operation.to_owned(),
            status_code: call.status_code,
            duration_ms: i32::try_from(elapsed.as_millis()).unwrap_or(i32::MAX),
            request_body: call.request.map(mask_body),
            response_body: call.response.map(mask_body),
            error: call.error,
        });
    });
}

/// A body fit to keep: JSON with personal and secret values replaced, cut to a size.
pub fn mask_body(body: &str) -> String {
    let masked = match serde_json::from_str::<Value>(body) {
        Ok(mut value) => {
            mask_value(&mut value);
            value.to_string()
        }
        Err(_) if body.trim().is_empty() => String::new(),
        Err(_) => format!("[not JSON, {} bytes]", body.len()),
    };
    cut(masked)
}

fn mask_value(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map.iter_mut() {
                if is_sensitive(key) && !inner.is_null() {
                    *inner = Value::String("***".into());
                } else {
                    mask_value(inner);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(mask_value),
        _ => {}
    }
}

/// Keys holding personal data or secrets in either courier's protocol.
fn is_sensitive(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    const PARTS: [&str; 11] = [
        "phone",
        "address",
        "mail",
        "password",
        "token",
        "fullname",
        "username",
        "signature",
        "signdata",
        "note",
        "instruction",
    ];
    let person_name = key.ends_with("name")
        && ["sender", "receiver", "consignee", "customer", "recipient"]
            .iter()
            .any(|who| key.starts_with(who));
    person_name || PARTS.iter().any(|part| key.contains(part))
}

fn cut(mut text: String) -> String {
    if text.len() <= MAX_BODY_BYTES {
        return text;
    }
    let mut end = MAX_BODY_BYTES;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.truncate(end);
    text.push_str("…[cut]");
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn personal_values_and_secrets_are_masked_ids_kept() {
        let body = r#"{"ORDER_NUMBER":"d-1","RECEIVER_FULLNAME":"Nguyễn Văn A",
            "RECEIVER_PHONE":"0912345678","RECEIVER_ADDRESS":"1 Lê Lợi","RECEIVER_WARD":123,
            "informationOrder":{"receiverName":"B","senderMail":"a@b.vn","serviceCode":"CTN009",
            "deliveryInstruction":"gọi trước"},"token":"abc","PRODUCT_NAME":"Giấy phép"}"#;
        let masked = mask_body(body);
        for secret in [
            "Nguyễn",
            "0912345678",
            "Lê Lợi",
            "a@b.vn",
            "abc",
            "gọi trước",
            "\"B\"",
        ] {
            assert!(!masked.contains(secret), "{secret} leaked: {masked}");
        }
        for kept in ["d-1", "123", "CTN009", "Giấy phép"] {
            assert!(masked.contains(kept), "{kept} lost: {masked}");
        }
    }

    #[test]
    fn non_json_and_long_bodies_are_summarised_or_cut() {
        assert_eq!(mask_body("<html>502</html>"), "[not JSON, 16 bytes]");
        let long = format!("{{\"a\":\"{}\"}}", "đ".repeat(5000));
        let masked = mask_body(&long);
        assert!(masked.len() <= MAX_BODY_BYTES + "…[cut]".len());
        assert!(masked.ends_with("…[cut]"));
    }

    #[tokio::test]
    async fn capture_keeps_only_calls_made_inside() {
        let call = |operation| Call {
            courier: Courier::Vnpost,
            operation,
            started: Instant::now(),
            status_code: Some(200),
            request: Some("{\"receiverPhone\":\"0912345678\"}"),
            response: None,
            error: None,
        };
        record(call("outside"));
        let ((), kept) = capture(async { record(call("CreateOrder")) }).await;
        assert_eq!(kept.len(), 1);
        assert_eq!(kept[0].operation, "CreateOrder");
        assert_eq!(
            kept[0].request_body.as_deref(),
            Some("{\"receiverPhone\":\"***\"}")
        );
    }
}
