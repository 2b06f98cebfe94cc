//! The public views, cached (Redis when configured, in process otherwise) and never served
//! stale after a committed event.
//!
//! Each tracking code has a *version* key, set to a fresh random value after every commit
//! that changes the delivery ([`invalidate`]). A cached view remembers the version it was
//! built under and is served only while that is still the current one. A reader reads the
//! version *before* the database, so a view built from data older than a commit is filed
//! under the version that commit replaced and is never served again: deleting the entry
//! instead would race (a slow reader could put the old view back after the delete).
//!
//! Invalidation runs after the writer's transaction returns, never inside it (a reader could
//! otherwise rebuild from the not-yet-committed past and file it under the new version).
//! The entry's TTL (`tracking.cache_ttl_secs`) bounds staleness only where invalidation
//! cannot reach: a process that dies between commit and invalidation, or, on several nodes,
//! an outage of Redis while each node falls back to its own memory.

use std::future::Future;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::view::TrackingView;
use crate::cache::{Cache, Coordinator};
use crate::store::StoreError;

/// How much longer than the entries a version lives. An entry filed under "no version" by a
/// reader that read before the first invalidation is gone (its TTL, plus the time that slow
/// reader took) long before the version expires and "no version" could be current again.
const VERSION_MARGIN: Duration = Duration::from_secs(3600);

fn version_key(code: &str) -> String {
    format!("track:ver:{code}")
}

fn view_key(code: &str) -> String {
    format!("track:view:{code}")
}

#[derive(Serialize, Deserialize)]
struct Entry {
    version: Option<String>,
    view: TrackingView,
}

/// The current version of `code` (None: nothing changed since the version key expired, or
/// never). `Err` when the cache cannot answer at all: the caller then goes to the database.
pub async fn current_version(cache: &Cache, code: &str) -> Result<Option<String>, ()> {
    match cache.get(&version_key(code)).await {
        Ok(v) => Ok(v.map(|bytes| String::from_utf8_lossy(&bytes).into_owned())),
        Err(e) => {
            tracing::warn!(error = %e, "tracking cache unreadable; reading the database");
            Err(())
        }
    }
}

/// The masked view of `code` and the version it is at least as new as: from the cache when
/// current, else built by `load` (the database) and cached. A view of `None`: no such
/// delivery (not cached: codes are issued all the time, and the rate limit already bounds
/// lookups of unknown ones). A version of `None`: no version key (yet), or no cache.
pub async fn get_or_load<F, Fut>(
    cache: &Cache,
    code: &str,
    ttl: Duration,
    load: F,
) -> Result<(Option<TrackingView>, Option<String>), StoreError>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<Option<TrackingView>, StoreError>>,
{
    let Ok(version) = current_version(cache, code).await else {
        return Ok((load().await?, None));
    };
    if let Some(view) = cached(cache, code, &version).await {
        metrics::counter!("civicpost_tracking_cache_total", "result" => "hit").increment(1);
        return Ok((Some(view), version));
    }
    metrics::counter!("civicpost_tracking_cache_total", "result" => "miss").increment(1);
    let view = load().await?;
    if let Some(view) = &view {
        store(cache, code, version.clone(), view, ttl).await;
    }
    Ok((view, version))
}

async fn cached(cache: &Cache, code: &str, version: &Option<String>) -> Option<TrackingView> {
    let bytes = cache.get(&view_key(code)).await.ok()??;
    let entry: Entry = serde_json::from_slice(&bytes).ok()?;
    (entry.version == *version).then_some(entry.view)
}

async fn store(
    cache: &Cache,
    code: &str,
    version: Option<String>,
    view: &TrackingView,
    ttl: Duration,
) {
    let entry = Entry {
        version,
        view: view.clone(),
    };
    let Ok(bytes) = serde_json::to_vec(&entry) else {
        return;
    };
    if let Err(e) = cache.set(&view_key(code), &bytes, ttl).await {
        tracing::warn!(error = %e, "tracking view not cached");
    }
}

/// Marks these codes changed: the next read of each rebuilds from the database. Call after
/// the transaction that changed them has committed. `entry_ttl`: what views are cached for.
pub async fn invalidate(cache: &Cache, codes: &[String], entry_ttl: Duration) {
    for code in codes {
        let version = format!("{:016x}", rand::random::<u64>());
        if let Err(e) = cache
            .set(
                &version_key(code),
                version.as_bytes(),
                entry_ttl + VERSION_MARGIN,
            )
            .await
        {
            // Nothing more to do here: the entry's TTL bounds how long it may be served.
            tracing::warn!(error = %e, "tracking view not invalidated");
            continue;
        }
        // Not needed for correctness (the version decides); frees the memory early.
        let _ = cache.delete(&view_key(code)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::state::DeliveryState;
    use crate::tracking::view::{RecipientInfo, local};

    fn view(state: DeliveryState) -> TrackingView {
        let t = local(chrono::DateTime::UNIX_EPOCH.naive_utc());
        TrackingView {
            tracking_code: "K7RM-2XQ9-H4".into(),
            state,
            state_label: String::new(),
            state_description: String::new(),
            reason: None,
            reason_label: None,
            advice: None,
            terminal: false,
            masked: true,
            agency: String::new(),
            recipient: RecipientInfo {
                name: String::new(),
                phone: String::new(),
                address_line: None,
                ward: String::new(),
                province: String::new(),
            },
            courier: None,
            collect_on_delivery_vnd: 0,
            expected_by: t,
            created_at: t,
            events: Vec::new(),
            dossier_code: None,
            procedure_name: None,
        }
    }

    async fn read(cache: &Cache, from_db: DeliveryState) -> (DeliveryState, bool) {
        let mut loaded = false;
        let (got, _) = get_or_load(cache, "K7RM2XQ9H4", Duration::from_secs(60), || {
            loaded = true;
            async move { Ok(Some(view(from_db))) }
        })
        .await
        .expect("read");
        (got.expect("view").state, loaded)
    }

    #[tokio::test]
    async fn served_from_the_cache_until_invalidated() {
        let cache = Cache::in_process();
        assert_eq!(
            read(&cache, DeliveryState::InTransit).await,
            (DeliveryState::InTransit, true)
        );
        // The database moved on without telling: the cached view is still served.
        let stale = read(&cache, DeliveryState::OutForDelivery).await;
        assert_eq!(stale, (DeliveryState::InTransit, false));
        invalidate(&cache, &["K7RM2XQ9H4".to_owned()], Duration::from_secs(60)).await;
        let fresh = read(&cache, DeliveryState::OutForDelivery).await;
        assert_eq!(fresh, (DeliveryState::OutForDelivery, true));
        assert!(
            !read(&cache, DeliveryState::Delivered).await.1,
            "served from the cache"
        );
    }

    #[tokio::test]
    async fn a_commit_during_a_slow_read_is_not_hidden_by_it() {
        let cache = Cache::in_process();
        let code = "K7RM2XQ9H4".to_owned();
        // A reader loads the old state; a writer commits and invalidates before the reader
        // stores what it read.
        let (old, _) = get_or_load(&cache, &code, Duration::from_secs(60), || async {
            invalidate(&cache, std::slice::from_ref(&code), Duration::from_secs(60)).await;
            Ok(Some(view(DeliveryState::InTransit)))
        })
        .await
        .expect("read");
        assert_eq!(old.map(|v| v.state), Some(DeliveryState::InTransit));
        let next = read(&cache, DeliveryState::OutForDelivery).await;
        assert_eq!(
            next,
            (DeliveryState::OutForDelivery, true),
            "rebuilt, not the old view"
        );
    }
}
