//! A simulator of eSMS.vn's `SendMultipleMessage_V4_post_json` (the built-in `esms`
//! profile), mounted at `/sim/sms` in sandbox mode and served alone by `civicpost sim`.
//!
//! Like eSMS it answers HTTP 200 with `CodeResult` "100" and an `SMSID`, or an error code:
//! 101 wrong keys, 104 unknown brandname, 108 bad phone number, 118 unsupported `SmsType`,
//! 146 content it will not carry (here: not GSM-7 or longer than one 160-character segment;
//! `IsUnicode` "1" allows 70 UCS-2 characters). A repeated `RequestId` gets the first answer
//! again and is not recorded twice. `/_control/…` (not eSMS) records and injects faults.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::domain::phone::MobileNumber;

/// The sandbox credentials the simulator accepts (public by design, like the couriers').
pub const API_KEY: &str = "sandbox-esms-api-key";
pub const SECRET_KEY: &str = "sandbox-esms-secret-key";
/// The one brandname registered with the simulator.
pub const BRANDNAME: &str = "CIVICPOST";
/// Where the simulator lives under the service's base URL.
pub const SIM_PATH: &str = "/sim/sms";
/// eSMS's send endpoint, under the simulator's root.
pub const SEND_PATH: &str = "/MainService.svc/json/SendMultipleMessage_V4_post_json";

/// The send endpoint of the simulator mounted in the service at `service_base`.
pub fn send_url(service_base: &str) -> String {
    format!(
        "{}{SIM_PATH}{SEND_PATH}/",
        service_base.trim_end_matches('/')
    )
}

/// How the next calls fail.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultMode {
    /// HTTP 500 with an HTML error page.
    #[default]
    Http500,
    /// No answer for `delay_ms` (default 30 s), then HTTP 504.
    Timeout,
    /// `CodeResult` 108, whatever the number.
    InvalidPhone,
    /// `CodeResult` 104, whatever the brandname.
    Brandname,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Faults {
    /// The next N send calls fail as `mode` says.
    pub fail_next: u32,
    pub mode: FaultMode,
    pub delay_ms: Option<u64>,
}

/// A message the simulator accepted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SimSms {
    pub sms_id: String,
    pub phone: String,
    pub content: String,
    pub brandname: String,
    pub request_id: Option<String>,
    pub received_at: DateTime<Utc>,
}

#[derive(Default)]
struct Inner {
    messages: Vec<SimSms>,
    by_request: HashMap<String, String>,
    faults: Faults,
    calls: u64,
}

#[derive(Clone, Default)]
pub struct SmsSim {
    inner: Arc<Mutex<Inner>>,
}

impl SmsSim {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn set_faults(&self, faults: Faults) {
        self.lock().faults = faults;
    }

    /// Accepted messages, oldest first.
    pub fn messages(&self) -> Vec<SimSms> {
        self.lock().messages.clone()
    }

    /// Send calls received, answered or not.
    pub fn calls(&self) -> u64 {
        self.lock().calls
    }

    /// Forgets messages, request ids, faults and the call count.
    pub fn reset(&self) {
        *self.lock() = Inner::default();
    }

    /// The fault to apply to this call, if one is pending.
    fn take_fault(&self) -> Option<Faults> {
        let mut inner = self.lock();
        inner.calls += 1;
        (inner.faults.fail_next > 0).then(|| {
            inner.faults.fail_next -= 1;
            inner.faults.clone()
        })
    }

    /// Records an accepted message; a known request id gets its first SMSID back.
    fn accept(&self, sms: SimSms) -> String {
        let mut inner = self.lock();
        if let Some(id) = sms
            .request_id
            .as_ref()
            .and_then(|r| inner.by_request.get(r))
        {
            return id.clone();
        }
        let id = sms.sms_id.clone();
        if let Some(request) = &sms.request_id {
            inner.by_request.insert(request.clone(), id.clone());
        }
        inner.messages.push(sms);
        id
    }
}

pub fn configure(state: SmsSim) -> impl FnOnce(&mut web::ServiceConfig) {
    move |cfg| {
        cfg.app_data(web::Data::new(state))
            .route(SEND_PATH, web::post().to(send))
            .route(&format!("{SEND_PATH}/"), web::post().to(send))
            .route("/_control/faults", web::post().to(control_faults))
            .route("/_control/messages", web::get().to(control_messages))
            .route("/_control/reset", web::post().to(control_reset));
    }
}

fn code(code: &str, message: &str) -> HttpResponse {
    HttpResponse::Ok()
        .json(json!({"CodeResult": code, "CountRegenerate": 0, "ErrorMessage": message}))
}

/// GSM 03.38 septets of `text`, or `None` if a character is outside the default alphabet
/// and its extension table.
pub fn gsm7_septets(text: &str) -> Option<usize> {
    const BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?\
                         ¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
    const EXTENSION: &str = "\u{c}^{}\\[~]|€";
    text.chars().try_fold(0, |n, c| {
        if BASIC.contains(c) {
            Some(n + 1)
        } else if EXTENSION.contains(c) {
            Some(n + 2)
        } else {
            None
        }
    })
}

fn field(body: &Value, name: &str) -> Option<String> {
    match body.get(name)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

async fn send(state: web::Data<SmsSim>, body: web::Bytes) -> HttpResponse {
    if let Some(fault) = state.take_fault() {
        match fault.mode {
            FaultMode::Http500 => {
                return HttpResponse::InternalServerError()
                    .content_type("text/html")
                    .body("<html><body><h1>500 Internal Server Error</h1></body></html>");
            }
            FaultMode::Timeout => {
                let delay = fault.delay_ms.unwrap_or(30_000);
                tokio::time::sleep(Duration::from_millis(delay)).await;
                return HttpResponse::GatewayTimeout().finish();
            }
            FaultMode::InvalidPhone => return code("108", "Phone number is not in correct format"),
            FaultMode::Brandname => return code("104", "Brandname does not exist"),
        }
    }
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return HttpResponse::BadRequest()
            .body("The server encountered an error processing the request.");
    };
    let get = |name: &str| field(&body, name).unwrap_or_default();
    if get("ApiKey") != API_KEY || get("SecretKey") != SECRET_KEY {
        return code("101", "Incorrect ApiKey or SecretKey");
    }
    match field(&body, "SmsType").as_deref() {
        None | Some("") => return code("300", "Missing message type"),
        Some("2") => {}
        Some(_) => return code("118", "Unsupported message type"),
    }
    if get("Brandname") != BRANDNAME {
        return code("104", "Brandname does not exist");
    }
    let Ok(phone) = MobileNumber::parse(&get("Phone")) else {
        return code("108", "Phone number is not in correct format");
    };
    let content = get("Content");
    let fits = if get("IsUnicode") == "1" {
        (1..=70).contains(&content.encode_utf16().count())
    } else {
        gsm7_septets(&content).is_some_and(|n| (1..=160).contains(&n))
    };
    if !fits {
        return code("146", "Wrong customer care template");
    }
    let request_id = Some(get("RequestId")).filter(|r| !r.is_empty());
    let sms_id = state.accept(SimSms {
        sms_id: format!("{:032x}", rand::random::<u128>()),
        phone: phone.national(),
        content,
        brandname: get("Brandname"),
        request_id,
        received_at: Utc::now(),
    });
    HttpResponse::Ok().json(json!({"CodeResult": "100", "CountRegenerate": 0, "SMSID": sms_id}))
}

async fn control_faults(state: web::Data<SmsSim>, faults: web::Json<Faults>) -> HttpResponse {
    state.set_faults(faults.into_inner());
    HttpResponse::NoContent().finish()
}

async fn control_messages(state: web::Data<SmsSim>) -> HttpResponse {
    HttpResponse::Ok().json(json!({"messages": state.messages(), "calls": state.calls()}))
}

async fn control_reset(state: web::Data<SmsSim>) -> HttpResponse {
    state.reset();
    HttpResponse::NoContent().finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gsm7_counts_septets() {
        assert_eq!(gsm7_septets("Ho so 000.00.01.H42"), Some(19));
        assert_eq!(gsm7_septets("[x]"), Some(5));
        assert_eq!(gsm7_septets("Hồ sơ"), None);
        assert_eq!(gsm7_septets(""), Some(0));
    }

    #[test]
    fn repeated_request_ids_are_recorded_once() {
        let sim = SmsSim::new();
        let sms = |id: &str| SimSms {
            sms_id: id.into(),
            phone: "0912345678".into(),
            content: "x".into(),
            brandname: BRANDNAME.into(),
            request_id: Some("r-1".into()),
            received_at: Utc::now(),
        };
        assert_eq!(sim.accept(sms("a")), "a");
        assert_eq!(sim.accept(sms("b")), "a");
        assert_eq!(sim.messages().len(), 1);
        sim.reset();
        assert!(sim.messages().is_empty());
    }
}
