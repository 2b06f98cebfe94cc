//! The contract every cache backend fulfils, and the small value types it speaks in.

use std::fmt;
use std::time::Duration;

/// What can go wrong when talking to a cache backend.
#[derive(Debug, Clone, thiserror::Error)]
pub enum CacheError {
    /// The backend could not be reached or did not answer in time. The resilient
    /// [`Cache`](super::Cache) reacts to this one by switching to its in-process fallback.
    #[error("cache backend unavailable: {0}")]
    Unavailable(String),
    /// The backend answered, but with an error (a bug on our side or a misconfigured server).
    /// Switching backends would not help, so this is passed to the caller.
    #[error("cache command failed: {0}")]
    Command(String),
    /// The caller asked for something that cannot be done, such as a zero TTL.
    #[error("invalid cache request: {0}")]
    InvalidRequest(&'static str),
}

impl CacheError {
    /// True when the error means "the backend is not there", as opposed to "the request was wrong".
    pub fn is_unavailable(&self) -> bool {
        matches!(self, CacheError::Unavailable(_))
    }
}

/// A token bucket: up to `capacity` requests in a burst, refilled continuously at `per_second`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimit {
    pub capacity: u32,
    pub per_second: f64,
}

impl RateLimit {
    pub fn new(capacity: u32, per_second: f64) -> Self {
        Self {
            capacity,
            per_second,
        }
    }

    /// `count` requests per minute, all of which may arrive at once.
    pub fn per_minute(count: u32) -> Self {
        Self::new(count, f64::from(count) / 60.0)
    }

    /// Rejects limits that would divide by zero or never allow anything.
    pub(crate) fn validate(&self) -> Result<(), CacheError> {
        if self.capacity == 0 {
            return Err(CacheError::InvalidRequest(
                "rate limit capacity must be at least 1",
            ));
        }
        if !(self.per_second.is_finite() && self.per_second > 0.0) {
            return Err(CacheError::InvalidRequest(
                "rate limit refill rate must be a positive number",
            ));
        }
        Ok(())
    }

    /// How long until a bucket holding `tokens` has one whole token again.
    pub(crate) fn wait_for_one_token(&self, tokens: f64) -> Duration {
        let missing = (1.0 - tokens).max(0.0);
        Duration::from_secs_f64(missing / self.per_second)
    }

    /// How long an idle bucket holding `tokens` takes to fill up; after that its state is
    /// indistinguishable from a fresh bucket and can be forgotten.
    pub(crate) fn time_to_full(&self, tokens: f64) -> Duration {
        let missing = (f64::from(self.capacity) - tokens).max(0.0);
        Duration::from_secs_f64(missing / self.per_second)
    }
}

/// The answer to one [`Coordinator::rate_limit`] call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateDecision {
    pub allowed: bool,
    /// Whole tokens left after this call.
    pub remaining: u32,
    /// Zero when allowed; otherwise how long until the next token is available.
    pub retry_after: Duration,
}

/// Proof of holding a lock; only the holder of the matching token can release it.
#[derive(Clone, PartialEq, Eq)]
pub struct LockToken(String);

impl LockToken {
    /// A fresh random token; 128 random bits make accidental collisions irrelevant.
    pub(crate) fn generate() -> Self {
        Self(format!("{:032x}", rand::random::<u128>()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

// Debug shows only a prefix: the full token is a capability and has no business in logs.
impl fmt::Debug for LockToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let prefix = self.0.get(..6).unwrap_or("");
        write!(f, "LockToken({prefix}…)")
    }
}

/// Rejects a zero TTL: Redis refuses `PX 0`, and a key that expires immediately is a caller bug.
pub(crate) fn validate_ttl(ttl: Duration) -> Result<(), CacheError> {
    if ttl.is_zero() {
        return Err(CacheError::InvalidRequest("ttl must be greater than zero"));
    }
    Ok(())
}

/// Shared cache, rate limiting, deduplication and locking for the service.
///
/// Keys live in separate spaces per kind of operation, so `set("x")`, `first_seen("x")`,
/// `try_lock("x")` and `rate_limit("x")` never step on each other.
#[async_trait::async_trait]
pub trait Coordinator: Send + Sync {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, CacheError>;
    async fn set(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), CacheError>;
    async fn delete(&self, key: &str) -> Result<(), CacheError>;
    /// Token bucket: `capacity` tokens, refilled continuously at `per_second`; takes one token.
    async fn rate_limit(&self, key: &str, limit: RateLimit) -> Result<RateDecision, CacheError>;
    /// Short-lived dedupe key: true the first time `key` is seen within `ttl`.
    async fn first_seen(&self, key: &str, ttl: Duration) -> Result<bool, CacheError>;
    /// Lock with expiry; the token proves ownership on release.
    async fn try_lock(&self, key: &str, ttl: Duration) -> Result<Option<LockToken>, CacheError>;
    /// Releases the lock if `token` still owns it; false if it expired or belongs to someone else.
    async fn unlock(&self, key: &str, token: &LockToken) -> Result<bool, CacheError>;
    async fn ping(&self) -> Result<(), CacheError>;
}
