//! Cache and coordination: values with a TTL, rate limits, dedupe keys and locks.
//!
//! The rest of the app holds a [`Cache`]. It talks to Redis when one is configured and
//! reachable, and otherwise serves every call from an in-process store, so an outage of Redis
//! degrades coordination across instances but never fails a request.

mod coordinator;
pub mod memory;
pub mod redis;

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::time::{Duration, SystemTime};

use secrecy::SecretString;

pub use coordinator::{CacheError, Coordinator, LockToken, RateDecision, RateLimit};
pub use memory::MemoryCoordinator;
pub use redis::RedisCoordinator;

/// Settings for [`Cache::connect`].
#[derive(Debug, Clone)]
pub struct CacheOptions {
    /// Prefix of every Redis key, so several apps or environments can share one server.
    pub namespace: String,
    /// Limit for establishing a TCP connection to Redis.
    pub connect_timeout: Duration,
    /// Limit for Redis to answer one command. Short: a slow Redis should cost a request
    /// little before the cache falls back.
    pub response_timeout: Duration,
    /// How often to check whether Redis is back while running on the fallback.
    pub retry_interval: Duration,
    /// Bound on entries held by the in-process store.
    pub max_local_entries: usize,
}

impl Default for CacheOptions {
    fn default() -> Self {
        Self {
            namespace: "civicpost:".to_owned(),
            connect_timeout: Duration::from_secs(1),
            response_timeout: Duration::from_secs(1),
            retry_interval: Duration::from_secs(5),
            max_local_entries: memory::DEFAULT_MAX_ENTRIES,
        }
    }
}

/// Which backend is serving calls right now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CacheStatus {
    /// No Redis configured; in-process by design.
    InProcess,
    /// Redis configured and answering.
    Redis,
    /// Redis configured but unreachable since `since`; calls are served in-process.
    Degraded { since: SystemTime, reason: String },
}

/// The cache handle the app holds. Cheap to clone; all clones share one state.
#[derive(Clone, Debug)]
pub struct Cache {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    /// `None` for an in-process cache; `Some` once a Redis URL was given.
    redis: Option<RedisCoordinator>,
    /// Serves every call while Redis is unreachable, and all calls of an in-process cache.
    fallback: MemoryCoordinator,
    /// Fast check on every call, kept in step with `outage` (both change under its lock).
    degraded: AtomicBool,
    /// Details of the current outage, if any.
    outage: Mutex<Option<Outage>>,
}

#[derive(Debug, Clone)]
struct Outage {
    since: SystemTime,
    reason: String,
}

type CallFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, CacheError>> + Send + 'a>>;

impl Cache {
    /// A cache living in this process only: for single-instance deployments and tests.
    pub fn in_process() -> Self {
        Self::with_parts(None, MemoryCoordinator::new())
    }

    /// A Redis-backed cache. Never fails: if Redis cannot be reached (or the URL is unusable),
    /// the cache starts degraded on the in-process store and a background task keeps checking
    /// every `retry_interval` until Redis answers. Must be called inside a tokio runtime.
    pub async fn connect(url: SecretString, options: CacheOptions) -> Cache {
        let fallback = MemoryCoordinator::with_max_entries(options.max_local_entries);
        let redis = match RedisCoordinator::open(&url, &options) {
            Ok(redis) => redis,
            Err(err) => {
                // Retrying cannot fix a malformed URL: stay degraded and say so once.
                let cache = Self::with_parts(None, fallback);
                cache.enter_degraded(&err.to_string(), "(unparsable url)");
                return cache;
            }
        };
        let cache = Self::with_parts(Some(redis), fallback);
        if let Some(redis) = &cache.inner.redis {
            match redis.ping().await {
                Ok(()) => {
                    tracing::info!(endpoint = redis.endpoint(), "redis cache connected");
                    // Publish the healthy state too, so dashboards see 0 rather than no series.
                    metrics::gauge!("civicpost_cache_degraded").set(0.0);
                }
                Err(err) => cache.enter_degraded(&err.to_string(), redis.endpoint()),
            }
        }
        spawn_recovery_probe(Arc::downgrade(&cache.inner), options.retry_interval);
        cache
    }

    fn with_parts(redis: Option<RedisCoordinator>, fallback: MemoryCoordinator) -> Self {
        Self {
            inner: Arc::new(Inner {
                redis,
                fallback,
                degraded: AtomicBool::new(false),
                outage: Mutex::new(None),
            }),
        }
    }

    pub fn status(&self) -> CacheStatus {
        if let Some(outage) = self.inner.lock_outage().as_ref() {
            return CacheStatus::Degraded {
                since: outage.since,
                reason: outage.reason.clone(),
            };
        }
        match self.inner.redis {
            Some(_) => CacheStatus::Redis,
            None => CacheStatus::InProcess,
        }
    }

    /// For the readiness endpoint. In-process: always ready. Redis: a fresh `PING` bounded by
    /// the response timeout; while degraded, reports the outage without touching Redis (the
    /// background probe is already on it).
    pub async fn check(&self) -> Result<(), String> {
        if let Some(outage) = self.inner.lock_outage().as_ref() {
            return Err(format!("redis: {}", outage.reason));
        }
        let Some(redis) = &self.inner.redis else {
            return Ok(());
        };
        match redis.quick_ping().await {
            Ok(()) => Ok(()),
            Err(err) => {
                if err.is_unavailable() {
                    self.enter_degraded(&err.to_string(), redis.endpoint());
                }
                Err(format!("redis: {err}"))
            }
        }
    }

    /// Sends one call to Redis while it is healthy; on an availability error switches to the
    /// fallback and serves the same call from there. While degraded, Redis is not touched.
    async fn route<'a, T>(
        &'a self,
        call: impl Fn(&'a dyn Coordinator) -> CallFuture<'a, T> + Send + 'a,
    ) -> Result<T, CacheError> {
        if let Some(redis) = self.healthy_redis() {
            match call(redis).await {
                Err(CacheError::Unavailable(reason)) => {
                    self.enter_degraded(&reason, redis.endpoint());
                }
                answered => return answered,
            }
        }
        call(&self.inner.fallback).await
    }

    fn healthy_redis(&self) -> Option<&RedisCoordinator> {
        if self.inner.degraded.load(Ordering::Acquire) {
            return None;
        }
        self.inner.redis.as_ref()
    }

    /// Switches to the fallback. Only the call that actually flips the state logs, so a burst
    /// of failing calls produces one warning.
    fn enter_degraded(&self, reason: &str, endpoint: &str) {
        let mut outage = self.inner.lock_outage();
        if outage.is_some() {
            return;
        }
        *outage = Some(Outage {
            since: SystemTime::now(),
            reason: reason.to_owned(),
        });
        // Leftovers from an earlier outage may be older than what Redis has since stored;
        // starting each outage empty avoids serving them.
        self.inner.fallback.clear();
        self.inner.degraded.store(true, Ordering::Release);
        drop(outage);
        tracing::warn!(
            endpoint,
            reason,
            "redis cache unavailable; serving from the in-process fallback until it answers again"
        );
        metrics::gauge!("civicpost_cache_degraded").set(1.0);
        metrics::counter!("civicpost_cache_fallbacks_total").increment(1);
    }
}

impl Inner {
    fn lock_outage(&self) -> MutexGuard<'_, Option<Outage>> {
        // The guarded value is a plain Option replaced in one assignment; a panic elsewhere
        // while holding the lock cannot leave it half-written, so the poison can be ignored.
        self.outage.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn leave_degraded(&self, endpoint: &str) {
        let mut outage = self.lock_outage();
        let Some(ended) = outage.take() else {
            return;
        };
        self.degraded.store(false, Ordering::Release);
        drop(outage);
        let down_for = SystemTime::now()
            .duration_since(ended.since)
            .unwrap_or_default();
        tracing::info!(
            endpoint,
            down_for_secs = down_for.as_secs_f64(),
            "redis cache reachable again; leaving the in-process fallback"
        );
        metrics::gauge!("civicpost_cache_degraded").set(0.0);
    }
}

/// While degraded, pings Redis every `interval` and switches back once it answers. Holds only
/// a weak reference, so the task ends when the last `Cache` clone is dropped.
fn spawn_recovery_probe(inner: Weak<Inner>, interval: Duration) {
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        tracing::warn!("no tokio runtime: the redis cache will not recover from an outage");
        return;
    };
    runtime.spawn(async move {
        loop {
            tokio::time::sleep(interval).await;
            let Some(inner) = inner.upgrade() else {
                return;
            };
            if !inner.degraded.load(Ordering::Acquire) {
                continue;
            }
            let Some(redis) = &inner.redis else {
                continue;
            };
            // The first ping after an outage may only discard the dead connection and start a
            // new one in the background, so one failure is followed by a second attempt.
            let back = match redis.quick_ping().await {
                Ok(()) => true,
                Err(_) => redis.quick_ping().await.is_ok(),
            };
            if back {
                inner.leave_degraded(redis.endpoint());
            }
        }
    });
}

#[async_trait::async_trait]
impl Coordinator for Cache {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, CacheError> {
        self.route(|backend| backend.get(key)).await
    }

    async fn set(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), CacheError> {
        self.route(|backend| backend.set(key, value, ttl)).await
    }

    async fn delete(&self, key: &str) -> Result<(), CacheError> {
        self.route(|backend| backend.delete(key)).await
    }

    async fn rate_limit(&self, key: &str, limit: RateLimit) -> Result<RateDecision, CacheError> {
        self.route(|backend| backend.rate_limit(key, limit)).await
    }

    async fn first_seen(&self, key: &str, ttl: Duration) -> Result<bool, CacheError> {
        self.route(|backend| backend.first_seen(key, ttl)).await
    }

    async fn try_lock(&self, key: &str, ttl: Duration) -> Result<Option<LockToken>, CacheError> {
        self.route(|backend| backend.try_lock(key, ttl)).await
    }

    async fn unlock(&self, key: &str, token: &LockToken) -> Result<bool, CacheError> {
        let released = self.route(|backend| backend.unlock(key, token)).await?;
        if released || self.inner.redis.is_none() {
            return Ok(released);
        }
        // The lock may have been taken in-process during an outage that has since ended;
        // tokens are random, so asking the fallback cannot release someone else's lock.
        self.inner.fallback.unlock(key, token).await
    }

    async fn ping(&self) -> Result<(), CacheError> {
        self.route(|backend| backend.ping()).await
    }
}
