//! HTTP to MyVNPost: one pooled client, the `token` header, and token renewal.
//!
//! The token lifetime is undocumented (couriers.md §2A), so we keep it for 50 minutes (one
//! client caches for about an hour) and renew it once whenever VNPost rejects it, then retry
//! the call once. With a shared `Cache`, replicas reuse one token instead of each logging in.

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode, Url};
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use serde_json::Value;
use tokio::sync::{Mutex, RwLock};

use super::transformers::{ErrorBody, TokenRequest, TokenResponse};
use crate::cache::{Cache, Coordinator};
use crate::couriers::{CourierError, exchange};
use crate::domain::courier::Courier;

const TOKEN_TTL: Duration = Duration::from_secs(50 * 60);
/// Idle connections kept per host: dispatch runs a handful of calls at once.
const POOL_IDLE_PER_HOST: usize = 8;

pub struct Client {
    http: reqwest::Client,
    base_url: String,
    username: String,
    password: SecretString,
    customer_code: String,
    cache: Option<Cache>,
    token: RwLock<Option<String>>,
    /// One login at a time per process, so a burst of 401s renews once.
    login: Mutex<()>,
}

/// Why one attempt failed: a rejected token is worth one renewal, nothing else is.
enum Failure {
    TokenRejected,
    Other(CourierError),
}

impl Client {
    pub fn new(
        base_url: &str,
        username: String,
        password: SecretString,
        customer_code: String,
        timeout: Duration,
        cache: Option<Cache>,
    ) -> Result<Self, CourierError> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            .pool_max_idle_per_host(POOL_IDLE_PER_HOST)
            .build()
            .map_err(|e| CourierError::Protocol(format!("HTTP client: {e}")))?;
        Ok(Self {
            http,
            base_url: base_url.trim_end_matches('/').to_string(),
            username,
            password,
            customer_code,
            cache,
            token: RwLock::new(None),
            login: Mutex::new(()),
        })
    }

    pub fn customer_code(&self) -> &str {
        &self.customer_code
    }

    fn cache_key(&self) -> String {
        format!("vnpost:token:{}", self.customer_code)
    }

    fn url(&self, path: &str, query: &[(&str, &str)]) -> Result<Url, CourierError> {
        let mut url = Url::parse(&format!("{}/{}", self.base_url, path))
            .map_err(|e| CourierError::Protocol(format!("base URL: {e}")))?;
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        Ok(url)
    }

    /// A token: from this process, else the shared cache, else a login.
    async fn current_token(&self) -> Result<String, CourierError> {
        if let Some(token) = self.token.read().await.clone() {
            return Ok(token);
        }
        self.renew(None).await
    }

    /// Replaces `stale` (or nothing) with a fresh token, unless another task or replica already
    /// did.
    async fn renew(&self, stale: Option<&str>) -> Result<String, CourierError> {
        let _guard = self.login.lock().await;
        if let Some(token) = self.token.read().await.clone()
            && Some(token.as_str()) != stale
        {
            return Ok(token);
        }
        if let Some(cache) = &self.cache {
            match cache.get(&self.cache_key()).await {
                Ok(Some(bytes)) => {
                    if let Ok(token) = String::from_utf8(bytes)
                        && Some(token.as_str()) != stale
                    {
                        *self.token.write().await = Some(token.clone());
                        return Ok(token);
                    }
                }
                Ok(None) => {}
                Err(e) => tracing::warn!(error = %e, "vnpost: token cache unreadable, logging in"),
            }
        }
        let token = self.login().await?;
        *self.token.write().await = Some(token.clone());
        if let Some(cache) = &self.cache
            && let Err(e) = cache
                .set(&self.cache_key(), token.as_bytes(), TOKEN_TTL)
                .await
        {
            tracing::warn!(error = %e, "vnpost: token not shared through the cache");
        }
        Ok(token)
    }

    pub async fn login(&self) -> Result<String, CourierError> {
        let body = TokenRequest {
            username: &self.username,
            password: self.password.expose_secret(),
            customer_code: &self.customer_code,
        };
        let started = Instant::now();
        let sent = self
            .http
            .post(self.url("GetAccessToken", &[])?)
            .json(&body)
            .send()
            .await;
        let call = |status_code, response, error| exchange::Call {
            courier: Courier::Vnpost,
            operation: "GetAccessToken",
            started,
            status_code,
            // The body is all credentials: not kept.
            request: None,
            response,
            error,
        };
        let response = sent.map_err(|e| {
            let error = transport(e);
            exchange::record(call(None, None, Some(error.to_string())));
            error
        })?;
        let status = response.status();
        let text = response.text().await.map_err(transport)?;
        exchange::record(call(Some(status.as_u16()), Some(&text), None));
        if status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS {
            return Err(CourierError::Unavailable(format!(
                "GetAccessToken: HTTP {status}"
            )));
        }
        let answer: TokenResponse = serde_json::from_str(&text)
            .map_err(|e| CourierError::Protocol(format!("GetAccessToken: {e}")))?;
        match answer.token {
            Some(token) if answer.success && !token.is_empty() => Ok(token),
            _ => Err(CourierError::Auth(answer.error_message.unwrap_or_else(
                || format!("GetAccessToken refused (HTTP {status})"),
            ))),
        }
    }

    /// Drops the token everywhere and logs in again (the adapter's `authenticate`).
    pub async fn force_renew(&self) -> Result<(), CourierError> {
        let stale = self.token.read().await.clone();
        self.renew(stale.as_deref()).await.map(|_| ())
    }

    /// One business call, renewing the token once if VNPost rejects it.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        body: Option<&Value>,
    ) -> Result<Value, CourierError> {
        self.call_as(method, path, query, body).await
    }

    /// As [`Client::call`], the answer read straight into `T` (for long lists, which as a
    /// `Value` tree would take several times the memory).
    pub async fn call_as<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        body: Option<&Value>,
    ) -> Result<T, CourierError> {
        let url = self.url(path, query)?;
        let token = self.current_token().await?;
        match self.attempt(&method, path, &url, body, &token).await {
            Ok(value) => Ok(value),
            Err(Failure::Other(e)) => Err(e),
            Err(Failure::TokenRejected) => {
                let fresh = self.renew(Some(&token)).await?;
                match self.attempt(&method, path, &url, body, &fresh).await {
                    Ok(value) => Ok(value),
                    Err(Failure::Other(e)) => Err(e),
                    Err(Failure::TokenRejected) => Err(CourierError::Auth(format!(
                        "{path}: token rejected right after renewal"
                    ))),
                }
            }
        }
    }

    async fn attempt<T: DeserializeOwned>(
        &self,
        method: &Method,
        operation: &str,
        url: &Url,
        body: Option<&Value>,
        token: &str,
    ) -> Result<T, Failure> {
        let payload = body.map(Value::to_string);
        let mut request = self
            .http
            .request(method.clone(), url.clone())
            .header("token", token);
        if let Some(payload) = &payload {
            request = request
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(payload.clone());
        }
        let started = Instant::now();
        let call = |status_code, response, error| exchange::Call {
            courier: Courier::Vnpost,
            operation,
            started,
            status_code,
            request: payload.as_deref(),
            response,
            error,
        };
        let response = request.send().await.map_err(|e| {
            let error = transport(e);
            exchange::record(call(None, None, Some(error.to_string())));
            Failure::Other(error)
        })?;
        let status = response.status();
        let bytes = response.bytes().await.map_err(|e| {
            let error = transport(e);
            exchange::record(call(Some(status.as_u16()), None, Some(error.to_string())));
            Failure::Other(error)
        })?;
        let text = String::from_utf8_lossy(&bytes);
        exchange::record(call(Some(status.as_u16()), Some(&text), None));
        let path = url.path();
        if status.is_success() {
            return serde_json::from_slice(&bytes)
                .map_err(|e| Failure::Other(CourierError::Protocol(format!("{path}: {e}"))));
        }
        let error: ErrorBody = serde_json::from_slice(&bytes).unwrap_or_default();
        let message = error
            .message
            .or(error.description)
            .or(error.error)
            .unwrap_or_default();
        if status == StatusCode::UNAUTHORIZED
            || status == StatusCode::FORBIDDEN
            || (status == StatusCode::BAD_REQUEST && message.to_lowercase().contains("token"))
        {
            return Err(Failure::TokenRejected);
        }
        Err(Failure::Other(classify(status, path, &message)))
    }
}

/// Status → error kind: overload and server faults are worth a retry, other refusals are not.
fn classify(status: StatusCode, path: &str, message: &str) -> CourierError {
    let detail = format!("{path}: HTTP {} {message}", status.as_u16());
    if status.is_server_error()
        || status == StatusCode::TOO_MANY_REQUESTS
        || status == StatusCode::REQUEST_TIMEOUT
    {
        CourierError::Unavailable(detail)
    } else if status.is_client_error() {
        CourierError::Refused(detail)
    } else {
        CourierError::Protocol(detail)
    }
}

/// Transport failures (timeouts, refused connections, resets) are all "try later". The URL is
/// dropped from the message: it can carry a parcel code, which is not needed in logs.
fn transport(e: reqwest::Error) -> CourierError {
    let kind = if e.is_timeout() {
        "timeout"
    } else if e.is_connect() {
        "connection failed"
    } else {
        "transport error"
    };
    CourierError::Unavailable(format!("{kind}: {}", e.without_url()))
}
