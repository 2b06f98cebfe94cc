//! The shape of a brandname gateway's send call: the built-in `esms` profile, and how the
//! `[notify.sms.gateway.request]` / `[notify.sms.gateway.response]` tables change it, so
//! another gateway works without code.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::config::{ConfigError, GatewaySettings, PhoneFormat, RequestFormat};

/// eSMS.vn (ViHAT), `SendMultipleMessage_V4_post_json`.
pub const ESMS: &str = "esms";

/// eSMS answer codes (developers.esms.vn, "Table of error codes"), with whether retrying can
/// help. `100` accepts; `124` ("Duplicate RequestId") means this request id was already
/// accepted; `103` (balance) clears once the account is topped up, so it is transient.
/// Codes not listed here are transient too: a retry with backoff costs little, a message
/// dropped for a code nobody knew costs a citizen their notice.
pub const ESMS_CODES: [(&str, &str, bool); 14] = [
    ("99", "phone number blocked", true),
    ("100", "accepted", false),
    ("101", "wrong ApiKey or SecretKey", true),
    ("102", "no price list for the account", true),
    ("103", "balance too low", false),
    ("104", "brandname not registered", true),
    ("108", "phone number not in a valid format", true),
    ("118", "message type not supported", true),
    ("124", "duplicate RequestId", false),
    ("140", "caller IP not whitelisted", true),
    (
        "146",
        "content does not match a registered customer-care template",
        true,
    ),
    (
        "177",
        "brandname not registered on the recipient's network",
        true,
    ),
    ("300", "message type missing", true),
    ("301", "service not supported", true),
];

/// A gateway's request and answer, resolved from a profile and the overrides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shape {
    pub format: RequestFormat,
    pub phone_format: PhoneFormat,
    pub phone_field: String,
    pub text_field: String,
    pub brandname_field: Option<String>,
    pub request_id_field: Option<String>,
    pub api_key_field: Option<String>,
    pub secret_key_field: Option<String>,
    /// Sent as they are in every request.
    pub extra: BTreeMap<String, String>,
    pub message_id_field: Option<String>,
    /// Unset: any HTTP 2xx answer is a success.
    pub status_field: Option<String>,
    pub error_field: Option<String>,
    pub success_codes: Vec<String>,
    pub permanent_codes: Vec<String>,
    pub duplicate_codes: Vec<String>,
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

impl Shape {
    /// eSMS customer-care (brandname) messages: `SmsType` 2, unaccented (`IsUnicode` 0).
    pub fn esms() -> Self {
        let permanent: Vec<String> = ESMS_CODES
            .iter()
            .filter(|(_, _, permanent)| *permanent)
            .map(|(code, ..)| (*code).to_owned())
            .collect();
        Self {
            format: RequestFormat::Json,
            phone_format: PhoneFormat::National,
            phone_field: "Phone".into(),
            text_field: "Content".into(),
            brandname_field: Some("Brandname".into()),
            request_id_field: Some("RequestId".into()),
            api_key_field: Some("ApiKey".into()),
            secret_key_field: Some("SecretKey".into()),
            extra: [("SmsType", "2"), ("IsUnicode", "0")]
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
            message_id_field: Some("SMSID".into()),
            status_field: Some("CodeResult".into()),
            error_field: Some("ErrorMessage".into()),
            success_codes: strings(&["100"]),
            permanent_codes: permanent,
            duplicate_codes: strings(&["124"]),
        }
    }

    /// A gateway described only by the overrides.
    fn custom() -> Self {
        Self {
            format: RequestFormat::Json,
            phone_format: PhoneFormat::E164,
            phone_field: String::new(),
            text_field: String::new(),
            brandname_field: None,
            request_id_field: None,
            api_key_field: None,
            secret_key_field: None,
            extra: BTreeMap::new(),
            message_id_field: None,
            status_field: None,
            error_field: None,
            success_codes: Vec::new(),
            permanent_codes: Vec::new(),
            duplicate_codes: Vec::new(),
        }
    }

    /// The profile's shape with the settings' overrides applied.
    pub fn resolve(g: &GatewaySettings) -> Result<Self, ConfigError> {
        let invalid = |setting: &'static str, problem: &str, fix: &str| ConfigError::Invalid {
            setting,
            problem: problem.into(),
            fix: fix.into(),
        };
        let name_ok = !g.profile.is_empty()
            && g.profile.len() <= 32
            && g.profile
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
        if !name_ok {
            return Err(invalid(
                "notify.sms.gateway.profile",
                &format!("'{}' is not a profile name", g.profile),
                "use esms (built in), or a short lowercase name of your own with \
                 [notify.sms.gateway.request] and [notify.sms.gateway.response]",
            ));
        }
        let mut shape = if g.profile == ESMS {
            Self::esms()
        } else {
            Self::custom()
        };
        let r = &g.request;
        let optional = |value: &Option<String>, base: &mut Option<String>| {
            if let Some(v) = value {
                *base = Some(v.trim().to_owned()).filter(|v| !v.is_empty());
            }
        };
        shape.format = r.format.unwrap_or(shape.format);
        shape.phone_format = r.phone_format.unwrap_or(shape.phone_format);
        if let Some(v) = &r.phone_field {
            shape.phone_field = v.trim().to_owned();
        }
        if let Some(v) = &r.text_field {
            shape.text_field = v.trim().to_owned();
        }
        optional(&r.brandname_field, &mut shape.brandname_field);
        optional(&r.request_id_field, &mut shape.request_id_field);
        optional(&r.api_key_field, &mut shape.api_key_field);
        optional(&r.secret_key_field, &mut shape.secret_key_field);
        for (k, v) in &r.extra {
            if v.is_empty() {
                shape.extra.remove(k);
            } else {
                shape.extra.insert(k.clone(), v.clone());
            }
        }
        let a = &g.response;
        optional(&a.message_id_field, &mut shape.message_id_field);
        optional(&a.status_field, &mut shape.status_field);
        optional(&a.error_field, &mut shape.error_field);
        for (value, base) in [
            (&a.success_codes, &mut shape.success_codes),
            (&a.permanent_codes, &mut shape.permanent_codes),
            (&a.duplicate_codes, &mut shape.duplicate_codes),
        ] {
            if let Some(codes) = value {
                *base = codes.iter().map(|c| c.trim().to_owned()).collect();
            }
        }
        if shape.phone_field.is_empty() {
            return Err(invalid(
                "notify.sms.gateway.request.phone_field",
                "is unset",
                "name the request field that carries the phone number, e.g. \"to\"",
            ));
        }
        if shape.text_field.is_empty() {
            return Err(invalid(
                "notify.sms.gateway.request.text_field",
                "is unset",
                "name the request field that carries the message, e.g. \"text\"",
            ));
        }
        if shape.status_field.is_some() && shape.success_codes.is_empty() {
            return Err(invalid(
                "notify.sms.gateway.response.success_codes",
                "is empty while response.status_field is set",
                "list the status values that mean accepted, e.g. [\"0\"]",
            ));
        }
        Ok(shape)
    }
}

/// The value at a dotted path (`data.id`, `messages.0.id`) of a JSON answer, as text.
pub fn lookup(body: &Value, path: &str) -> Option<String> {
    let mut at = body;
    for part in path.split('.') {
        at = match at {
            Value::Object(map) => map.get(part)?,
            Value::Array(items) => items.get(part.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    match at {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// What an eSMS code means, for failure details.
pub fn esms_meaning(code: &str) -> Option<&'static str> {
    ESMS_CODES
        .iter()
        .find(|(c, ..)| *c == code)
        .map(|(_, meaning, _)| *meaning)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Settings;
    use serde_json::json;

    fn gateway(overrides: Value) -> Result<Shape, ConfigError> {
        let settings =
            Settings::with_overrides(json!({"notify": {"sms": {"gateway": overrides}}}))?;
        Shape::resolve(&settings.notify.sms.gateway)
    }

    #[test]
    fn esms_is_the_default_profile() {
        let shape = gateway(json!({})).expect("esms");
        assert_eq!(shape, Shape::esms());
        assert_eq!(shape.extra.get("SmsType").map(String::as_str), Some("2"));
        assert!(shape.permanent_codes.contains(&"108".to_owned()));
        assert!(!shape.permanent_codes.contains(&"103".to_owned()));
    }

    #[test]
    fn overrides_replace_and_drop_profile_keys() {
        let shape = gateway(json!({
            "request": {"format": "form", "brandname_field": "", "extra": {"IsUnicode": "", "Sandbox": "1"}},
            "response": {"permanent_codes": ["108"]},
        }))
        .expect("overridden");
        assert_eq!(shape.format, RequestFormat::Form);
        assert_eq!(shape.brandname_field, None);
        assert_eq!(shape.extra.get("IsUnicode"), None);
        assert_eq!(shape.extra.get("Sandbox").map(String::as_str), Some("1"));
        assert_eq!(shape.permanent_codes, vec!["108".to_owned()]);
    }

    #[test]
    fn a_custom_profile_needs_its_fields() {
        let err = gateway(json!({"profile": "acme"})).unwrap_err();
        assert!(err.to_string().contains("request.phone_field"), "{err}");
        let err = gateway(
            json!({"profile": "acme", "request": {"phone_field": "to", "text_field": "body"},
                                 "response": {"status_field": "code"}}),
        )
        .unwrap_err();
        assert!(err.to_string().contains("response.success_codes"), "{err}");
        let err = gateway(json!({"profile": "Not Ok"})).unwrap_err();
        assert!(
            err.to_string().contains("notify.sms.gateway.profile"),
            "{err}"
        );
    }

    #[test]
    fn lookup_walks_dotted_paths() {
        let body = json!({"CodeResult": "100", "data": {"id": 42, "list": [{"id": "x"}]}});
        assert_eq!(lookup(&body, "CodeResult").as_deref(), Some("100"));
        assert_eq!(lookup(&body, "data.id").as_deref(), Some("42"));
        assert_eq!(lookup(&body, "data.list.0.id").as_deref(), Some("x"));
        assert_eq!(lookup(&body, "data.missing"), None);
    }
}
