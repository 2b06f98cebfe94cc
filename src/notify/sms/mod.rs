//! SMS: a brandname gateway over HTTP (`gateway`, shaped by `shape`), a local JSON-lines
//! outbox standing in for phones on first run (`outbox`), and a simulator of the built-in
//! gateway profile for sandbox mode (`sim`).

pub mod gateway;
pub mod outbox;
pub mod shape;
pub mod sim;

use std::path::PathBuf;

use secrecy::SecretString;
use serde::{Deserialize, Serialize};

pub use gateway::{GatewayClient, GatewayConfig};

use super::{SendError, Sent, SetupError};
use crate::config::{Settings, SmsTransport};

/// One text to one phone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SmsMessage {
    /// As stored: E.164 (`+84912345678`) or national (`0912345678`).
    pub phone: String,
    /// Already GSM-7 and at most one segment; transports send it as it is.
    pub text: String,
    /// Our idempotency key, the same for every retry of one notification.
    pub request_id: String,
}

pub enum SmsBackend {
    Gateway(GatewayClient),
    /// The outbox folder.
    Outbox(PathBuf),
}

impl SmsBackend {
    /// The transport of `notify.sms`. A gateway without `url` in sandbox mode is the
    /// built-in simulator under `service_base` (this service's own address, as for the
    /// courier simulators), with the simulator's credentials.
    pub fn from_settings(settings: &Settings, service_base: &str) -> Result<Self, SetupError> {
        let sms = &settings.notify.sms;
        if sms.transport == SmsTransport::Outbox {
            return Ok(Self::Outbox(sms.outbox_dir.clone()));
        }
        let g = &sms.gateway;
        let shape = shape::Shape::resolve(g).map_err(|e| SetupError(e.to_string()))?;
        let config = match &g.url {
            Some(url) => GatewayConfig {
                url: url.clone(),
                profile: g.profile.clone(),
                api_key: g.api_key.clone(),
                secret_key: g.secret_key.clone(),
                brandname: g.brandname.clone(),
                timeout: g.timeout(),
                shape,
            },
            None if settings.app.sandbox && g.profile == shape::ESMS => GatewayConfig {
                url: sim::send_url(service_base),
                profile: g.profile.clone(),
                api_key: SecretString::from(sim::API_KEY),
                secret_key: SecretString::from(sim::SECRET_KEY),
                brandname: sim::BRANDNAME.into(),
                timeout: g.timeout(),
                shape,
            },
            None => {
                return Err(SetupError(
                    "notify.sms.gateway.url is unset: set the gateway's send endpoint".into(),
                ));
            }
        };
        GatewayClient::new(config).map(Self::Gateway)
    }

    /// What [`Sent::provider`] will say.
    pub fn provider(&self) -> &str {
        match self {
            Self::Gateway(client) => client.profile(),
            Self::Outbox(_) => "outbox",
        }
    }

    /// Whether an interrupted send may be repeated without a second SMS reaching the phone.
    /// The outbox cannot tell; a gateway can when the request carries our request id.
    pub fn deduplicates_request_ids(&self) -> bool {
        match self {
            Self::Gateway(client) => client.sends_request_id(),
            Self::Outbox(_) => false,
        }
    }

    pub async fn send(&self, sms: &SmsMessage) -> Result<Sent, SendError> {
        match self {
            Self::Gateway(client) => client.send(sms).await,
            Self::Outbox(dir) => outbox::append(dir, sms).await,
        }
    }
}
