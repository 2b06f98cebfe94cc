//! A brandname SMS gateway over HTTP: one POST per message (JSON or form, fields named by the
//! [`Shape`]), answered with a status code and a message id.
//!
//! Failure kinds: a timeout, a refused connection, HTTP 408, 429 and 5xx, an answer that is
//! not what the shape says, and status codes not known to be final are transient; other
//! HTTP 4xx and the shape's permanent codes are permanent.

use std::sync::Arc;
use std::time::Duration;

use reqwest::header::CONTENT_TYPE;
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;

use super::SmsMessage;
use super::shape::{ESMS, Shape, esms_meaning, lookup};
use crate::config::{PhoneFormat, RequestFormat};
use crate::domain::phone::MobileNumber;
use crate::notify::{SendError, Sent, SetupError, mask_phone};

/// Where and how to reach one gateway.
#[derive(Debug, Clone)]
pub struct GatewayConfig {
    /// The send endpoint.
    pub url: String,
    /// Names the provider in [`Sent`]: `esms`, or the custom profile's name.
    pub profile: String,
    pub api_key: SecretString,
    pub secret_key: SecretString,
    pub brandname: String,
    /// Limit of one whole call.
    pub timeout: Duration,
    pub shape: Shape,
}

#[derive(Clone)]
pub struct GatewayClient {
    config: Arc<GatewayConfig>,
    http: reqwest::Client,
}

impl std::fmt::Debug for GatewayClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GatewayClient")
            .field("profile", &self.config.profile)
            .finish_non_exhaustive()
    }
}

impl GatewayClient {
    pub fn new(config: GatewayConfig) -> Result<Self, SetupError> {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(config.timeout)
            .connect_timeout(config.timeout.min(Duration::from_secs(5)))
            .pool_idle_timeout(Duration::from_secs(30))
            .user_agent(concat!("civicpost-sms/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| SetupError(format!("SMS gateway HTTP client: {e}")))?;
        Ok(Self {
            config: Arc::new(config),
            http,
        })
    }

    pub fn profile(&self) -> &str {
        &self.config.profile
    }

    /// Whether requests carry our idempotency key, so a repeated request id is answered
    /// with the first message instead of a second one (eSMS `RequestId`).
    pub fn sends_request_id(&self) -> bool {
        self.config.shape.request_id_field.is_some()
    }

    /// The request's fields, in the shape's names.
    fn fields(&self, sms: &SmsMessage) -> Vec<(String, String)> {
        let c = &*self.config;
        let s = &c.shape;
        let mut fields = vec![
            (s.phone_field.clone(), phone_for(s.phone_format, &sms.phone)),
            (s.text_field.clone(), sms.text.clone()),
        ];
        let optional = [
            (&s.brandname_field, c.brandname.as_str()),
            (&s.request_id_field, sms.request_id.as_str()),
            (&s.api_key_field, c.api_key.expose_secret()),
            (&s.secret_key_field, c.secret_key.expose_secret()),
        ];
        for (field, value) in optional {
            if let Some(field) = field {
                fields.push((field.clone(), value.to_owned()));
            }
        }
        for (k, v) in &s.extra {
            if !fields.iter().any(|(name, _)| name == k) {
                fields.push((k.clone(), v.clone()));
            }
        }
        fields
    }

    /// Sends one SMS. The same `request_id` may be sent again after a failure: gateways
    /// that know request ids (eSMS) accept it once.
    pub async fn send(&self, sms: &SmsMessage) -> Result<Sent, SendError> {
        let profile = &self.config.profile;
        let fields = self.fields(sms);
        let request = self.http.post(&self.config.url);
        let request = match self.config.shape.format {
            RequestFormat::Json => {
                let body: serde_json::Map<String, Value> = fields
                    .into_iter()
                    .map(|(k, v)| (k, Value::String(v)))
                    .collect();
                request.json(&body)
            }
            RequestFormat::Form => {
                let body = url::form_urlencoded::Serializer::new(String::new())
                    .extend_pairs(fields)
                    .finish();
                request
                    .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
                    .body(body)
            }
        };
        let outcome = match request.send().await {
            Ok(response) => self.answer(sms, response).await,
            Err(e) => Err(self.http_failure(&e)),
        };
        match &outcome {
            Ok(sent) => tracing::debug!(
                provider = %profile, provider_id = %sent.provider_id,
                phone = %mask_phone(&sms.phone), "SMS accepted by the gateway"
            ),
            Err(e) => tracing::debug!(
                provider = %profile, kind = ?e.kind, detail = %e.detail,
                phone = %mask_phone(&sms.phone), "SMS not accepted by the gateway"
            ),
        }
        outcome
    }

    fn http_failure(&self, e: &reqwest::Error) -> SendError {
        let profile = &self.config.profile;
        if e.is_timeout() {
            SendError::transient(format!(
                "{profile}: no answer within {} ms",
                self.config.timeout.as_millis()
            ))
        } else if e.is_connect() {
            SendError::transient(format!("{profile}: cannot connect to the gateway"))
        } else {
            // The causes without the URL, which may carry credentials in its query.
            let mut text = String::from("request failed");
            let mut source = std::error::Error::source(e);
            while let Some(cause) = source {
                text = format!("{text}: {cause}");
                source = cause.source();
            }
            SendError::transient(format!("{profile}: {text}"))
        }
    }

    async fn answer(
        &self,
        sms: &SmsMessage,
        response: reqwest::Response,
    ) -> Result<Sent, SendError> {
        let profile = &self.config.profile;
        let status = response.status();
        let body = match response.bytes().await {
            Ok(body) => body,
            Err(e) if e.is_timeout() => return Err(self.http_failure(&e)),
            Err(_) => {
                return Err(SendError::transient(format!(
                    "{profile}: answer cut short (HTTP {})",
                    status.as_u16()
                )));
            }
        };
        let code = status.as_u16();
        if code == 408 || code == 429 || status.is_server_error() {
            return Err(SendError::transient(format!("{profile}: HTTP {code}")));
        }
        if status.is_client_error() {
            return Err(SendError::permanent(format!(
                "{profile}: HTTP {code} (the gateway refuses the request as made)"
            )));
        }
        if !status.is_success() {
            return Err(SendError::transient(format!("{profile}: HTTP {code}")));
        }
        let shape = &self.config.shape;
        let json: Option<Value> = serde_json::from_slice(&body).ok();
        let message_id = || {
            shape
                .message_id_field
                .as_deref()
                .zip(json.as_ref())
                .and_then(|(field, json)| lookup(json, field))
                .filter(|id| !id.is_empty())
                .unwrap_or_else(|| sms.request_id.clone())
        };
        let sent = || Sent {
            provider: profile.clone(),
            provider_id: message_id(),
        };
        let Some(status_field) = &shape.status_field else {
            return Ok(sent());
        };
        let Some(value) = json.as_ref().and_then(|j| lookup(j, status_field)) else {
            return Err(SendError::transient(format!(
                "{profile}: answer without {status_field} (HTTP {code})"
            )));
        };
        if shape.success_codes.contains(&value) || shape.duplicate_codes.contains(&value) {
            return Ok(sent());
        }
        let meaning = (profile == ESMS)
            .then(|| esms_meaning(&value))
            .flatten()
            .map(str::to_owned)
            .or_else(|| {
                shape
                    .error_field
                    .as_deref()
                    .zip(json.as_ref())
                    .and_then(|(field, json)| lookup(json, field))
            })
            .unwrap_or_else(|| "no explanation".into());
        let detail = format!("{profile}: {status_field} {value} ({meaning})");
        if shape.permanent_codes.contains(&value) {
            Err(SendError::permanent(detail))
        } else {
            Err(SendError::transient(detail))
        }
    }
}

/// The number as the gateway wants it; a number that is not a Vietnamese mobile goes as
/// stored, for the gateway to judge.
fn phone_for(format: PhoneFormat, raw: &str) -> String {
    match (format, MobileNumber::parse(raw)) {
        (PhoneFormat::AsIs, _) | (_, Err(_)) => raw.trim().to_owned(),
        (PhoneFormat::National, Ok(n)) => n.national(),
        (PhoneFormat::E164, Ok(n)) => n.e164().to_owned(),
        (PhoneFormat::International, Ok(n)) => n.e164().trim_start_matches('+').to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_formats() {
        assert_eq!(
            phone_for(PhoneFormat::National, "+84912345678"),
            "0912345678"
        );
        assert_eq!(phone_for(PhoneFormat::E164, "0912345678"), "+84912345678");
        assert_eq!(
            phone_for(PhoneFormat::International, "0912 345 678"),
            "84912345678"
        );
        assert_eq!(
            phone_for(PhoneFormat::AsIs, " +84912345678"),
            "+84912345678"
        );
        assert_eq!(phone_for(PhoneFormat::National, "0241234567"), "0241234567");
    }

    #[test]
    fn esms_fields() {
        let client = GatewayClient::new(GatewayConfig {
            url: "http://127.0.0.1:9/send".into(),
            profile: ESMS.into(),
            api_key: SecretString::from("key"),
            secret_key: SecretString::from("secret"),
            brandname: "BRAND".into(),
            timeout: Duration::from_secs(1),
            shape: Shape::esms(),
        })
        .expect("client");
        let fields = client.fields(&SmsMessage {
            phone: "+84912345678".into(),
            text: "Ho so da duoc gui".into(),
            request_id: "n-1".into(),
        });
        let get = |k: &str| {
            fields
                .iter()
                .find(|(name, _)| name == k)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(get("Phone"), Some("0912345678"));
        assert_eq!(get("Content"), Some("Ho so da duoc gui"));
        assert_eq!(get("Brandname"), Some("BRAND"));
        assert_eq!(get("RequestId"), Some("n-1"));
        assert_eq!(get("ApiKey"), Some("key"));
        assert_eq!(get("SecretKey"), Some("secret"));
        assert_eq!(get("SmsType"), Some("2"));
        assert_eq!(get("IsUnicode"), Some("0"));
    }
}
