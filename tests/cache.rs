//! Behaviour of the cache backends against a real Redis, and of the resilient `Cache` front
//! when its Redis disappears and comes back.
//!
//! The shared Redis comes from `CIVICPOST_TEST_REDIS_URL` (default `redis://127.0.0.1:6379`);
//! every test uses its own random key namespace, so tests can run in parallel with each other
//! and with other suites. Outage tests start private `redis-server` processes.

#[path = "cache/support.rs"]
mod support;

use std::time::{Duration, Instant};

use civicpost::cache::{
    Cache, CacheError, CacheOptions, CacheStatus, Coordinator, MemoryCoordinator, RateLimit,
    RedisCoordinator,
};
use secrecy::SecretString;
use support::{LogCapture, RedisServer, free_port, raw_get, wait_for_status};

const MINUTE: Duration = Duration::from_secs(60);

fn shared_redis_url() -> String {
    std::env::var("CIVICPOST_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

fn test_options() -> CacheOptions {
    CacheOptions {
        namespace: format!(
            "civicpost-test:{}:{:016x}:",
            std::process::id(),
            rand::random::<u64>()
        ),
        connect_timeout: Duration::from_millis(500),
        response_timeout: Duration::from_millis(500),
        retry_interval: Duration::from_millis(200),
        ..CacheOptions::default()
    }
}

async fn shared_redis_coordinator() -> RedisCoordinator {
    let url = shared_redis_url();
    let redis = RedisCoordinator::open(&SecretString::from(url.clone()), &test_options())
        .expect("valid test redis url");
    redis
        .ping()
        .await
        .unwrap_or_else(|err| panic!("test redis at {url} must be reachable: {err}"));
    redis
}

async fn cache_over_shared_redis() -> Cache {
    let cache = Cache::connect(SecretString::from(shared_redis_url()), test_options()).await;
    assert_eq!(
        cache.status(),
        CacheStatus::Redis,
        "test redis must be reachable"
    );
    cache
}

/// Runs one behavioural check against every backend, each as its own test:
/// the in-process store, Redis directly, and the `Cache` front in both of its modes.
macro_rules! for_each_backend {
    ($check:ident) => {
        mod $check {
            use super::*;

            #[tokio::test]
            async fn memory() {
                super::$check(&MemoryCoordinator::new()).await;
            }

            #[tokio::test]
            async fn redis() {
                super::$check(&shared_redis_coordinator().await).await;
            }

            #[tokio::test]
            async fn cache_in_process() {
                super::$check(&Cache::in_process()).await;
            }

            #[tokio::test]
            async fn cache_over_redis() {
                super::$check(&cache_over_shared_redis().await).await;
            }
        }
    };
}

// ---------------------------------------------------------------------------------------------
// Behaviour every backend shares
// ---------------------------------------------------------------------------------------------

async fn values_round_trip_and_expire(backend: &dyn Coordinator) {
    assert_eq!(backend.get("missing").await.unwrap(), None);

    backend.set("greeting", b"xin chao", MINUTE).await.unwrap();
    assert_eq!(
        backend.get("greeting").await.unwrap(),
        Some(b"xin chao".to_vec())
    );

    backend
        .set("greeting", b"\x00\xffbinary", MINUTE)
        .await
        .unwrap();
    assert_eq!(
        backend.get("greeting").await.unwrap(),
        Some(b"\x00\xffbinary".to_vec())
    );

    backend
        .set("short", b"x", Duration::from_millis(150))
        .await
        .unwrap();
    assert_eq!(backend.get("short").await.unwrap(), Some(b"x".to_vec()));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(backend.get("short").await.unwrap(), None);
}
for_each_backend!(values_round_trip_and_expire);

async fn delete_removes_values(backend: &dyn Coordinator) {
    backend.set("doomed", b"x", MINUTE).await.unwrap();
    backend.delete("doomed").await.unwrap();
    assert_eq!(backend.get("doomed").await.unwrap(), None);
    // Deleting what is not there is not an error.
    backend.delete("doomed").await.unwrap();
}
for_each_backend!(delete_removes_values);

async fn token_bucket_bursts_refuses_and_refills(backend: &dyn Coordinator) {
    // 3 at once, then one every half second: the burst below is far quicker than that.
    let limit = RateLimit::new(3, 2.0);
    for expected_remaining in [2, 1, 0] {
        let decision = backend.rate_limit("citizen:42", limit).await.unwrap();
        assert!(decision.allowed, "burst call refused: {decision:?}");
        assert_eq!(decision.remaining, expected_remaining);
        assert_eq!(decision.retry_after, Duration::ZERO);
    }

    let refused = backend.rate_limit("citizen:42", limit).await.unwrap();
    assert!(!refused.allowed, "call past the burst allowed: {refused:?}");
    assert_eq!(refused.remaining, 0);
    assert!(
        refused.retry_after > Duration::ZERO && refused.retry_after <= Duration::from_millis(500),
        "retry_after should be up to one refill period, got {:?}",
        refused.retry_after
    );

    // Other keys have their own buckets.
    assert!(
        backend
            .rate_limit("citizen:43", limit)
            .await
            .unwrap()
            .allowed
    );

    tokio::time::sleep(refused.retry_after + Duration::from_millis(50)).await;
    let refilled = backend.rate_limit("citizen:42", limit).await.unwrap();
    assert!(
        refilled.allowed,
        "no refill after retry_after: {refilled:?}"
    );
    assert_eq!(refilled.remaining, 0);
}
for_each_backend!(token_bucket_bursts_refuses_and_refills);

async fn first_seen_is_true_once_per_ttl(backend: &dyn Coordinator) {
    let ttl = Duration::from_millis(200);
    assert!(backend.first_seen("delivery:7", ttl).await.unwrap());
    assert!(!backend.first_seen("delivery:7", ttl).await.unwrap());
    assert!(backend.first_seen("delivery:8", ttl).await.unwrap());
    tokio::time::sleep(Duration::from_millis(350)).await;
    assert!(backend.first_seen("delivery:7", ttl).await.unwrap());
}
for_each_backend!(first_seen_is_true_once_per_ttl);

async fn locks_are_exclusive_owned_and_expire(backend: &dyn Coordinator) {
    let held = backend
        .try_lock("route:hanoi", MINUTE)
        .await
        .unwrap()
        .expect("free lock");
    assert!(
        backend
            .try_lock("route:hanoi", MINUTE)
            .await
            .unwrap()
            .is_none()
    );

    // A token for another lock does not release this one.
    let other = backend
        .try_lock("route:hue", MINUTE)
        .await
        .unwrap()
        .expect("free lock");
    assert!(!backend.unlock("route:hanoi", &other).await.unwrap());
    assert!(
        backend
            .try_lock("route:hanoi", MINUTE)
            .await
            .unwrap()
            .is_none()
    );

    assert!(backend.unlock("route:hanoi", &held).await.unwrap());
    assert!(
        !backend.unlock("route:hanoi", &held).await.unwrap(),
        "released twice"
    );
    let again = backend.try_lock("route:hanoi", MINUTE).await.unwrap();
    assert!(again.is_some(), "lock not free after unlock");

    // An expired lock is free for the next taker, and its old token is worthless.
    let brief = backend
        .try_lock("route:danang", Duration::from_millis(150))
        .await
        .unwrap()
        .expect("free lock");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let next = backend
        .try_lock("route:danang", MINUTE)
        .await
        .unwrap()
        .expect("expired lock should be free");
    assert!(!backend.unlock("route:danang", &brief).await.unwrap());
    assert!(backend.unlock("route:danang", &next).await.unwrap());
}
for_each_backend!(locks_are_exclusive_owned_and_expire);

async fn operations_do_not_share_keys(backend: &dyn Coordinator) {
    assert!(backend.first_seen("same", MINUTE).await.unwrap());
    assert!(backend.try_lock("same", MINUTE).await.unwrap().is_some());
    assert!(
        backend
            .rate_limit("same", RateLimit::new(1, 1.0))
            .await
            .unwrap()
            .allowed
    );
    assert_eq!(backend.get("same").await.unwrap(), None);
}
for_each_backend!(operations_do_not_share_keys);

async fn bad_requests_are_rejected(backend: &dyn Coordinator) {
    assert!(matches!(
        backend.set("k", b"x", Duration::ZERO).await,
        Err(CacheError::InvalidRequest(_))
    ));
    assert!(matches!(
        backend.try_lock("k", Duration::ZERO).await,
        Err(CacheError::InvalidRequest(_))
    ));
    assert!(matches!(
        backend.rate_limit("k", RateLimit::new(0, 1.0)).await,
        Err(CacheError::InvalidRequest(_))
    ));
    assert!(matches!(
        backend.rate_limit("k", RateLimit::new(1, f64::NAN)).await,
        Err(CacheError::InvalidRequest(_))
    ));
    backend.ping().await.unwrap();
}
for_each_backend!(bad_requests_are_rejected);

// ---------------------------------------------------------------------------------------------
// The resilient front
// ---------------------------------------------------------------------------------------------

// The default single-threaded test runtime keeps the cache's background task on this thread,
// where the thread-local log capture sees its events too.
#[tokio::test]
async fn outage_is_served_in_process_and_recovery_is_automatic() {
    use tracing_subscriber::layer::SubscriberExt;
    let logs = LogCapture::default();
    let _log_guard =
        tracing::subscriber::set_default(tracing_subscriber::registry().with(logs.clone()));

    let password = "s3cret-redis-password";
    let mut server = RedisServer::start(password);
    let options = test_options();
    let namespace = options.namespace.clone();
    let cache = Cache::connect(SecretString::from(server.url()), options).await;
    assert_eq!(cache.status(), CacheStatus::Redis);
    assert_eq!(cache.check().await, Ok(()));

    cache.set("before", b"in redis", MINUTE).await.unwrap();
    assert_eq!(
        cache.get("before").await.unwrap(),
        Some(b"in redis".to_vec())
    );
    let redis_key = format!("{namespace}kv:before");
    assert_eq!(
        raw_get(&server.url(), &redis_key).await,
        Some(b"in redis".to_vec())
    );

    server.kill();

    // Every call keeps succeeding, served in-process, and only the first one pays for
    // discovering the outage.
    cache.set("during", b"in process", MINUTE).await.unwrap();
    let started = Instant::now();
    for i in 0..50 {
        let key = format!("during:{i}");
        cache.set(&key, b"x", MINUTE).await.unwrap();
        assert_eq!(cache.get(&key).await.unwrap(), Some(b"x".to_vec()));
        assert!(cache.first_seen(&key, MINUTE).await.unwrap());
        assert!(
            cache
                .rate_limit(&key, RateLimit::new(5, 1.0))
                .await
                .unwrap()
                .allowed
        );
    }
    assert!(
        started.elapsed() < Duration::from_millis(300),
        "degraded calls should not wait for redis, took {:?}",
        started.elapsed()
    );
    assert_eq!(
        cache.get("during").await.unwrap(),
        Some(b"in process".to_vec())
    );
    let lock = cache
        .try_lock("job", MINUTE)
        .await
        .unwrap()
        .expect("free lock");

    let CacheStatus::Degraded { reason, .. } = cache.status() else {
        panic!("expected degraded, got {:?}", cache.status());
    };
    assert!(
        !reason.contains(password),
        "reason leaks the password: {reason}"
    );
    let readiness = cache.check().await;
    assert!(
        matches!(&readiness, Err(message) if message.starts_with("redis: ")),
        "readiness while degraded: {readiness:?}"
    );

    server.restart();
    let status = wait_for_status(&cache, |status| *status == CacheStatus::Redis).await;
    assert_eq!(status, CacheStatus::Redis, "did not recover within 5 s");
    assert_eq!(cache.check().await, Ok(()));

    // Writes go to Redis again, and a lock taken during the outage can still be released.
    cache.set("after", b"in redis again", MINUTE).await.unwrap();
    let redis_key = format!("{namespace}kv:after");
    assert_eq!(
        raw_get(&server.url(), &redis_key).await,
        Some(b"in redis again".to_vec())
    );
    assert!(cache.unlock("job", &lock).await.unwrap());

    // One warning for the whole outage, one note on recovery, and no password anywhere.
    let warnings = logs.ours(tracing::Level::WARN);
    assert_eq!(warnings.len(), 1, "expected one warning, got {warnings:#?}");
    let endpoint = format!("127.0.0.1:{}", server.port);
    assert!(
        warnings[0].contains(&endpoint),
        "warning should name {endpoint}: {warnings:?}"
    );
    let recoveries: Vec<_> = logs
        .ours(tracing::Level::INFO)
        .into_iter()
        .filter(|text| text.contains("reachable again"))
        .collect();
    assert_eq!(
        recoveries.len(),
        1,
        "expected one recovery note, got {recoveries:#?}"
    );
    assert!(
        !logs.all_text().contains(password),
        "logs leak the password"
    );
}

#[tokio::test]
async fn frozen_redis_costs_one_timeout_then_calls_are_served_in_process() {
    let server = RedisServer::start("frozen-test");
    let options = test_options();
    let response_timeout = options.response_timeout;
    let namespace = options.namespace.clone();
    let cache = Cache::connect(SecretString::from(server.url()), options).await;
    assert_eq!(cache.status(), CacheStatus::Redis);
    cache.set("k", b"v", MINUTE).await.unwrap();

    server.signal("-STOP");
    let started = Instant::now();
    cache.set("k", b"local", MINUTE).await.unwrap();
    let first = started.elapsed();
    assert!(
        first >= response_timeout && first < response_timeout * 3,
        "first call should give up after the response timeout, took {first:?}"
    );
    assert!(matches!(cache.status(), CacheStatus::Degraded { .. }));

    let started = Instant::now();
    for _ in 0..20 {
        assert_eq!(cache.get("k").await.unwrap(), Some(b"local".to_vec()));
    }
    assert!(
        started.elapsed() < Duration::from_millis(100),
        "degraded calls waited on redis"
    );

    server.signal("-CONT");
    let status = wait_for_status(&cache, |status| *status == CacheStatus::Redis).await;
    assert_eq!(status, CacheStatus::Redis, "did not recover within 5 s");
    // Not checked: the value of "k". The SET that timed out sat in the frozen server's socket
    // buffer and may have been applied on SIGCONT; a timeout means "outcome unknown".
    cache.set("after", b"in redis", MINUTE).await.unwrap();
    let redis_key = format!("{namespace}kv:after");
    assert_eq!(
        raw_get(&server.url(), &redis_key).await,
        Some(b"in redis".to_vec())
    );
}

#[tokio::test]
async fn connect_without_redis_starts_degraded_and_serves() {
    let url = format!("redis://:hunter2@127.0.0.1:{}/", free_port());
    let started = Instant::now();
    let cache = Cache::connect(SecretString::from(url), test_options()).await;
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "connect took {:?}",
        started.elapsed()
    );

    assert!(
        matches!(cache.status(), CacheStatus::Degraded { .. }),
        "status: {:?}",
        cache.status()
    );
    assert!(cache.check().await.is_err());

    cache.set("k", b"v", MINUTE).await.unwrap();
    assert_eq!(cache.get("k").await.unwrap(), Some(b"v".to_vec()));
    assert!(cache.first_seen("k", MINUTE).await.unwrap());
    let token = cache
        .try_lock("k", MINUTE)
        .await
        .unwrap()
        .expect("free lock");
    assert!(cache.unlock("k", &token).await.unwrap());
    cache.ping().await.unwrap();

    // Clones share one state: what one clone wrote, another reads.
    let clone = cache.clone();
    assert_eq!(clone.get("k").await.unwrap(), Some(b"v".to_vec()));
}

#[tokio::test]
async fn connect_with_unusable_url_starts_degraded_and_serves() {
    let cache = Cache::connect(SecretString::from("not a url"), test_options()).await;
    assert!(matches!(cache.status(), CacheStatus::Degraded { .. }));
    assert!(cache.check().await.is_err());
    cache.set("k", b"v", MINUTE).await.unwrap();
    assert_eq!(cache.get("k").await.unwrap(), Some(b"v".to_vec()));
}

#[tokio::test]
async fn in_process_cache_is_always_ready() {
    let cache = Cache::in_process();
    assert_eq!(cache.status(), CacheStatus::InProcess);
    assert_eq!(cache.check().await, Ok(()));
}
