//! HTTP client for the Viettel Post partner API: one reqwest client, the `Token` header, the
//! envelope decided on `error`, and the long-term token shared through the cache.

use std::time::{Duration, Instant};

use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};
use tokio::sync::Mutex;

use super::transformers::{Envelope, LoginData, LoginRequest};
use crate::cache::{Cache, Coordinator};
use crate::couriers::{CourierError, exchange};
use crate::domain::courier::Courier;

/// Used when VTP does not say when the token expires; renewal on "Token invalid" covers
/// an earlier expiry anyway.
const DEFAULT_TOKEN_TTL: Duration = Duration::from_secs(24 * 3600);
const MAX_TOKEN_TTL: Duration = Duration::from_secs(30 * 24 * 3600);

#[derive(Debug, Clone)]
pub struct ViettelConfig {
    /// `https://partner.viettelpost.vn`, without the `/v2`.
    pub base_url: String,
    pub username: String,
    pub password: SecretString,
    /// The "Secret parameters" value VTP echoes in the webhook body `TOKEN`.
    pub webhook_token: SecretString,
    /// Limit for one whole HTTP call.
    pub timeout: Duration,
}

pub struct Client {
    http: reqwest::Client,
    config: ViettelConfig,
    cache: Option<Cache>,
    cache_key: String,
    /// The token this replica uses; the lock also keeps one replica from logging in twice
    /// at once.
    token: Mutex<Option<String>>,
}

/// A failed call, before the auth retry decides what it becomes.
enum CallError {
    TokenRejected(String),
    Other(CourierError),
}

impl Client {
    pub fn new(config: ViettelConfig, cache: Option<Cache>) -> Result<Self, CourierError> {
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.timeout.min(Duration::from_secs(5)))
            .pool_max_idle_per_host(8)
            .build()
            .map_err(|e| CourierError::Protocol(format!("http client: {e}")))?;
        // The username is a phone number: hash it so the key holds no personal data.
        let user_hash = hex::encode(Sha256::digest(config.username.as_bytes()));
        let cache_key = format!("courier:viettelpost:token:{}", &user_hash[..16]);
        Ok(Self {
            http,
            config,
            cache,
            cache_key,
            token: Mutex::new(None),
        })
    }

    pub fn config(&self) -> &ViettelConfig {
        &self.config
    }

    fn url(&self, path: &str) -> String {
        format!("{}{}", self.config.base_url.trim_end_matches('/'), path)
    }

    /// The current token: this replica's, else the shared one, else a fresh login.
    pub async fn token(&self) -> Result<String, CourierError> {
        let mut held = self.token.lock().await;
        if let Some(token) = held.as_ref() {
            return Ok(token.clone());
        }
        if let Some(token) = self.cached_token().await {
            *held = Some(token.clone());
            return Ok(token);
        }
        let token = self.login().await?;
        *held = Some(token.clone());
        Ok(token)
    }

    /// Replaces `stale` with a new token, unless another task or replica already did.
    pub async fn renew(&self, stale: Option<&str>) -> Result<String, CourierError> {
        let mut held = self.token.lock().await;
        if let Some(token) = held.as_ref()
            && Some(token.as_str()) != stale
        {
            return Ok(token.clone());
        }
        if let Some(token) = self.cached_token().await
            && Some(token.as_str()) != stale
        {
            *held = Some(token.clone());
            return Ok(token);
        }
        let token = self.login().await?;
        *held = Some(token.clone());
        Ok(token)
    }

    async fn cached_token(&self) -> Option<String> {
        let cache = self.cache.as_ref()?;
        match cache.get(&self.cache_key).await {
            Ok(Some(bytes)) => String::from_utf8(bytes).ok(),
            Ok(None) => None,
            Err(e) => {
                tracing::warn!(error = %e, "viettelpost: token cache unreadable");
                None
            }
        }
    }

    /// Login (short-term token) then ownerconnect (long-term token), couriers.md §1.1.
    async fn login(&self) -> Result<String, CourierError> {
        let body = LoginRequest {
            username: self.config.username.clone(),
            password: self.config.password.expose_secret().to_owned(),
        };
        let short: LoginData = self
            .send("/v2/user/Login", None, &body)
            .await
            .map_err(auth_failure)?;
        let long: LoginData = self
            .send("/v2/user/ownerconnect", Some(&short.token), &body)
            .await
            .map_err(auth_failure)?;
        if let Some(cache) = &self.cache {
            let ttl = token_ttl(long.expired);
            if let Err(e) = cache.set(&self.cache_key, long.token.as_bytes(), ttl).await {
                tracing::warn!(error = %e, "viettelpost: token not shared through the cache");
            }
        }
        tracing::info!("viettelpost: new partner token obtained");
        Ok(long.token)
    }

    /// A business call with the token, renewed once and retried once if VTP rejects it.
    pub async fn call<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, CourierError> {
        self.with_token(|token| async move { self.send(path, Some(&token), body).await })
            .await
    }

    /// `getPriceAll`: a bare array on success, the envelope on errors.
    pub async fn call_bare<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, CourierError> {
        self.with_token(|token| async move {
            let text = self.post_raw(path, Some(&token), body).await?;
            if let Ok(value) = serde_json::from_str::<T>(&text) {
                return Ok(value);
            }
            match serde_json::from_str::<Envelope<serde_json::Value>>(&text) {
                // Tolerates a deployment that wraps the array like every other endpoint.
                Ok(envelope) if !envelope.error => decode_envelope(path, &text),
                Ok(envelope) => Err(classify(&envelope)),
                Err(e) => Err(CallError::Other(CourierError::Protocol(format!(
                    "{path}: {e}"
                )))),
            }
        })
        .await
    }

    async fn with_token<T, F, Fut>(&self, call: F) -> Result<T, CourierError>
    where
        F: Fn(String) -> Fut,
        Fut: Future<Output = Result<T, CallError>>,
    {
        let token = self.token().await?;
        match call(token.clone()).await {
            Ok(value) => Ok(value),
            Err(CallError::Other(e)) => Err(e),
            Err(CallError::TokenRejected(_)) => {
                let fresh = self.renew(Some(&token)).await?;
                match call(fresh).await {
                    Ok(value) => Ok(value),
                    Err(CallError::Other(e)) => Err(e),
                    Err(CallError::TokenRejected(message)) => Err(CourierError::Auth(message)),
                }
            }
        }
    }

    /// GET without a token: the address lists are public (couriers.md §1.6).
    pub async fn get_public<T: DeserializeOwned>(&self, path: &str) -> Result<T, CourierError> {
        let started = Instant::now();
        let sent = self.http.get(self.url(path)).send().await;
        let text = read_body(path, None, started, sent)
            .await
            .map_err(into_courier)?;
        decode_envelope(path, &text).map_err(into_courier)
    }

    async fn send<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        token: Option<&str>,
        body: &B,
    ) -> Result<T, CallError> {
        let text = self.post_raw(path, token, body).await?;
        decode_envelope(path, &text)
    }

    async fn post_raw<B: Serialize>(
        &self,
        path: &str,
        token: Option<&str>,
        body: &B,
    ) -> Result<String, CallError> {
        let payload = serde_json::to_string(body)
            .map_err(|e| CallError::Other(CourierError::Protocol(format!("{path}: {e}"))))?;
        let mut request = self
            .http
            .post(self.url(path))
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(payload.clone());
        if let Some(token) = token {
            request = request.header("Token", token);
        }
        let started = Instant::now();
        let sent = request.send().await;
        read_body(path, Some(&payload), started, sent).await
    }
}

/// Reads the answer, reports the exchange, and sorts out 5xx and 401.
async fn read_body(
    path: &str,
    request: Option<&str>,
    started: Instant,
    sent: reqwest::Result<reqwest::Response>,
) -> Result<String, CallError> {
    let call = |status_code, response, error| exchange::Call {
        courier: Courier::Viettelpost,
        operation: operation(path),
        started,
        status_code,
        request,
        response,
        error,
    };
    let response = match sent {
        Ok(response) => response,
        Err(e) => {
            let error = transport(e);
            exchange::record(call(None, None, Some(error.to_string())));
            return Err(CallError::Other(error));
        }
    };
    let status = response.status();
    let text = match response.text().await {
        Ok(text) => text,
        Err(e) => {
            let error = transport(e);
            exchange::record(call(Some(status.as_u16()), None, Some(error.to_string())));
            return Err(CallError::Other(error));
        }
    };
    exchange::record(call(Some(status.as_u16()), Some(&text), None));
    if status.is_server_error() {
        return Err(CallError::Other(CourierError::Unavailable(format!(
            "{path}: HTTP {status}"
        ))));
    }
    if status == reqwest::StatusCode::UNAUTHORIZED {
        return Err(CallError::TokenRejected(format!("{path}: HTTP 401")));
    }
    Ok(text)
}

/// The path without its query, a bounded metric label.
fn operation(path: &str) -> &str {
    path.split('?').next().unwrap_or(path)
}

fn decode_envelope<T: DeserializeOwned>(path: &str, text: &str) -> Result<T, CallError> {
    let envelope: Envelope<serde_json::Value> = serde_json::from_str(text)
        .map_err(|e| CallError::Other(CourierError::Protocol(format!("{path}: {e}"))))?;
    if envelope.error {
        return Err(classify(&envelope));
    }
    let data = envelope.data.unwrap_or(serde_json::Value::Null);
    serde_json::from_value(data)
        .map_err(|e| CallError::Other(CourierError::Protocol(format!("{path}: {e}"))))
}

/// Sorts an error envelope: token problems trigger one renewal; credentials are `Auth`;
/// VTP's own failure is `Unavailable`; the rest are about the data or route, so `Refused`.
fn classify(envelope: &Envelope<serde_json::Value>) -> CallError {
    let message = envelope.message.clone();
    let lower = message.to_lowercase();
    if envelope.status == 401 || lower.contains("token invalid") || lower.contains("header token") {
        return CallError::TokenRejected(message);
    }
    if lower.contains("owner account or password") {
        return CallError::Other(CourierError::Auth(message));
    }
    if lower.contains("system error") || envelope.status >= 500 {
        return CallError::Other(CourierError::Unavailable(message));
    }
    CallError::Other(CourierError::Refused(message))
}

fn auth_failure(error: CallError) -> CourierError {
    match error {
        CallError::TokenRejected(message) => CourierError::Auth(message),
        CallError::Other(CourierError::Refused(message)) => CourierError::Auth(message),
        CallError::Other(e) => e,
    }
}

fn into_courier(error: CallError) -> CourierError {
    match error {
        CallError::TokenRejected(message) => CourierError::Auth(message),
        CallError::Other(e) => e,
    }
}

/// Timeouts, refused connections and broken answers all mean "try again later". The
/// error text can hold the URL but never the token or the body.
fn transport(error: reqwest::Error) -> CourierError {
    let kind = if error.is_timeout() {
        "timeout"
    } else if error.is_connect() {
        "connection failed"
    } else {
        "transport error"
    };
    CourierError::Unavailable(format!("{kind}: {}", error.without_url()))
}

fn token_ttl(expired_ms: Option<i64>) -> Duration {
    let now_ms = chrono::Utc::now().timestamp_millis();
    match expired_ms {
        Some(ms) if ms > now_ms => {
            let left = Duration::from_millis(u64::try_from(ms - now_ms).unwrap_or(0));
            left.min(MAX_TOKEN_TTL)
        }
        _ => DEFAULT_TOKEN_TTL,
    }
}
