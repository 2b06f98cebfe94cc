//! Redis coordinator: shared across every instance of the service.
//!
//! Keys are `<namespace><space>:<key>`, for example `civicpost:kv:session:42`, so that the
//! operations cannot collide with each other or with other users of the same Redis.

use std::future::Future;
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{ErrorKind, RedisError, Script, ServerErrorKind};
use secrecy::{ExposeSecret, SecretString};

use super::CacheOptions;
use super::coordinator::{
    CacheError, Coordinator, LockToken, RateDecision, RateLimit, validate_ttl,
};

/// Token bucket, atomically. The clock is the server's `TIME`, so buckets shared by many
/// instances stay consistent however far apart the instances' clocks are. Redis 5+ replicates
/// script effects rather than the script, which makes reading `TIME` before writing safe.
///
/// KEYS[1] bucket hash; ARGV[1] capacity; ARGV[2] tokens per second.
/// Returns {allowed (0/1), whole tokens remaining, microseconds until the next token}.
const TOKEN_BUCKET_LUA: &str = r"
local capacity = tonumber(ARGV[1])
local per_second = tonumber(ARGV[2])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1])
local at = tonumber(state[2])
if tokens == nil or at == nil then
  tokens = capacity
  at = now
end
tokens = math.min(capacity, tokens + math.max(0, now - at) * per_second / 1000000)
local allowed = 0
local wait_us = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
else
  wait_us = math.ceil((1 - tokens) * 1000000 / per_second)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
-- Once full again the bucket carries no information; let Redis drop it then.
local full_ms = math.ceil((capacity - tokens) * 1000 / per_second)
redis.call('PEXPIRE', KEYS[1], full_ms + 1000)
return {allowed, math.floor(tokens), wait_us}
";

/// Deletes the lock only if it still holds our token, so a holder whose lock expired and
/// was taken by someone else cannot release the new holder's lock.
const COMPARE_AND_DELETE_LUA: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
";

pub struct RedisCoordinator {
    connection: ConnectionManager,
    namespace: String,
    /// `host:port` only: safe to log, unlike the URL, which may carry a password.
    endpoint: String,
    /// Upper bound for one call, including a reconnect attempt. The connection manager has its
    /// own timeouts; this one guarantees that no call can hang whatever happens inside it.
    call_timeout: Duration,
    ping_timeout: Duration,
    token_bucket: Script,
    compare_and_delete: Script,
}

impl std::fmt::Debug for RedisCoordinator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisCoordinator")
            .field("endpoint", &self.endpoint)
            .field("namespace", &self.namespace)
            .finish_non_exhaustive()
    }
}

impl RedisCoordinator {
    /// Prepares a coordinator without touching the network; the connection is made on first
    /// use. Fails only for a malformed URL. Must be called inside a tokio runtime.
    pub fn open(url: &SecretString, options: &CacheOptions) -> Result<Self, CacheError> {
        // Errors from URL parsing are static descriptions, never the URL itself.
        let client = redis::Client::open(url.expose_secret())
            .map_err(|err| CacheError::Command(format!("invalid redis url: {err}")))?;
        let endpoint = client.get_connection_info().addr().to_string();
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(options.connect_timeout))
            .set_response_timeout(Some(options.response_timeout))
            // No retry loop inside a call: a call should fail fast and let the caller fall
            // back. The next call (or the health probe) starts a fresh connection attempt.
            .set_number_of_retries(0);
        let connection = ConnectionManager::new_lazy_with_config(client, config)
            .map_err(|err| CacheError::Command(format!("redis client setup: {err}")))?;
        Ok(Self {
            connection,
            namespace: options.namespace.clone(),
            endpoint,
            call_timeout: options.connect_timeout + options.response_timeout,
            ping_timeout: options.response_timeout,
            token_bucket: Script::new(TOKEN_BUCKET_LUA),
            compare_and_delete: Script::new(COMPARE_AND_DELETE_LUA),
        })
    }

    /// `host:port` of the server, for log lines and error messages.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// A single `PING` limited to the response timeout, for readiness checks that must answer
    /// quickly even while a reconnect is pending.
    pub async fn quick_ping(&self) -> Result<(), CacheError> {
        match tokio::time::timeout(self.ping_timeout, self.ping()).await {
            Ok(result) => result,
            Err(_) => Err(CacheError::Unavailable(format!(
                "no answer to PING within {:?}",
                self.ping_timeout
            ))),
        }
    }

    fn key(&self, space: &str, key: &str) -> String {
        format!("{}{space}:{key}", self.namespace)
    }

    /// Runs one call against a fresh handle of the shared connection, bounded in time.
    async fn run<T, F, Fut>(&self, call: F) -> Result<T, CacheError>
    where
        F: FnOnce(ConnectionManager) -> Fut,
        Fut: Future<Output = Result<T, RedisError>>,
    {
        // Cloning the manager is cheap (an Arc); it multiplexes every clone over one socket.
        match tokio::time::timeout(self.call_timeout, call(self.connection.clone())).await {
            Ok(result) => result.map_err(classify),
            Err(_) => Err(CacheError::Unavailable(format!(
                "no answer from redis at {} within {:?}",
                self.endpoint, self.call_timeout
            ))),
        }
    }

    /// `SET key value NX PX ttl`: true if the key was created.
    async fn set_if_absent(
        &self,
        key: String,
        value: &str,
        ttl: Duration,
    ) -> Result<bool, CacheError> {
        let created: Option<String> = self
            .run(|mut con| async move {
                redis::cmd("SET")
                    .arg(key)
                    .arg(value)
                    .arg("NX")
                    .arg("PX")
                    .arg(ttl_millis(ttl))
                    .query_async(&mut con)
                    .await
            })
            .await?;
        Ok(created.is_some())
    }
}

/// Redis expiries are whole milliseconds; round sub-millisecond TTLs up rather than to zero.
fn ttl_millis(ttl: Duration) -> u64 {
    u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1)
}

/// Sorts Redis errors into "the server is not there" (worth falling back for) and "the server
/// said no" (a bug or misconfiguration that the caller should see).
fn classify(err: RedisError) -> CacheError {
    let unreachable = err.is_io_error()
        || err.is_timeout()
        || err.is_connection_dropped()
        || err.is_connection_refusal()
        // Broken protocol stream or failed authentication: the connection must be replaced.
        || err.is_unrecoverable_error()
        || matches!(
            err.kind(),
            ErrorKind::Server(
                ServerErrorKind::BusyLoading
                    | ServerErrorKind::MasterDown
                    | ServerErrorKind::ReadOnly
                    | ServerErrorKind::TryAgain
                    | ServerErrorKind::ClusterDown
            )
        );
    // The error's text describes the failure, never the connection URL.
    if unreachable {
        CacheError::Unavailable(err.to_string())
    } else {
        CacheError::Command(err.to_string())
    }
}

#[async_trait::async_trait]
impl Coordinator for RedisCoordinator {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, CacheError> {
        let key = self.key("kv", key);
        self.run(|mut con| async move { redis::cmd("GET").arg(key).query_async(&mut con).await })
            .await
    }

    async fn set(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), CacheError> {
        validate_ttl(ttl)?;
        let key = self.key("kv", key);
        self.run(|mut con| async move {
            redis::cmd("SET")
                .arg(key)
                .arg(value)
                .arg("PX")
                .arg(ttl_millis(ttl))
                .exec_async(&mut con)
                .await
        })
        .await
    }

    async fn delete(&self, key: &str) -> Result<(), CacheError> {
        let key = self.key("kv", key);
        self.run(|mut con| async move { redis::cmd("DEL").arg(key).exec_async(&mut con).await })
            .await
    }

    async fn rate_limit(&self, key: &str, limit: RateLimit) -> Result<RateDecision, CacheError> {
        limit.validate()?;
        let key = self.key("rate", key);
        let (allowed, remaining, wait_micros): (i64, i64, i64) = self
            .run(|mut con| async move {
                self.token_bucket
                    .key(key)
                    .arg(limit.capacity)
                    .arg(limit.per_second)
                    .invoke_async(&mut con)
                    .await
            })
            .await?;
        Ok(RateDecision {
            allowed: allowed == 1,
            remaining: u32::try_from(remaining.max(0)).unwrap_or(u32::MAX),
            retry_after: Duration::from_micros(u64::try_from(wait_micros.max(0)).unwrap_or(0)),
        })
    }

    async fn first_seen(&self, key: &str, ttl: Duration) -> Result<bool, CacheError> {
        validate_ttl(ttl)?;
        self.set_if_absent(self.key("seen", key), "1", ttl).await
    }

    async fn try_lock(&self, key: &str, ttl: Duration) -> Result<Option<LockToken>, CacheError> {
        validate_ttl(ttl)?;
        let token = LockToken::generate();
        let acquired = self
            .set_if_absent(self.key("lock", key), token.as_str(), ttl)
            .await?;
        Ok(acquired.then_some(token))
    }

    async fn unlock(&self, key: &str, token: &LockToken) -> Result<bool, CacheError> {
        let key = self.key("lock", key);
        let deleted: i64 = self
            .run(|mut con| async move {
                self.compare_and_delete
                    .key(key)
                    .arg(token.as_str())
                    .invoke_async(&mut con)
                    .await
            })
            .await?;
        Ok(deleted == 1)
    }

    async fn ping(&self) -> Result<(), CacheError> {
        let reply: String = self
            .run(|mut con| async move { redis::cmd("PING").query_async(&mut con).await })
            .await?;
        if reply == "PONG" {
            Ok(())
        } else {
            Err(CacheError::Command(format!(
                "unexpected PING reply {reply:?}"
            )))
        }
    }
}
