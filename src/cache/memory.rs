//! In-process coordinator: used on its own for single-instance deployments and tests, and as
//! the fallback while Redis is unreachable. It coordinates only within this process.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use super::coordinator::{
    CacheError, Coordinator, LockToken, RateDecision, RateLimit, validate_ttl,
};

/// Enough for the fallback to carry a busy instance through an outage, small enough that a
/// flood of unique keys cannot exhaust memory.
pub const DEFAULT_MAX_ENTRIES: usize = 100_000;

/// How often, at most, a call pays for a full scan that drops expired entries.
const SWEEP_INTERVAL: Duration = Duration::from_secs(10);

/// Keys of different operations never collide, mirroring the separate prefixes used in Redis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Space {
    Value,
    Seen,
    Lock,
    Rate,
}

enum Slot {
    Value(Vec<u8>),
    Seen,
    Lock(LockToken),
    Bucket { tokens: f64, refilled_at: Instant },
}

/// Every entry expires, which is what makes eviction by "soonest expiry" meaningful.
struct Entry {
    slot: Slot,
    expires_at: Instant,
}

struct Store {
    entries: HashMap<(Space, String), Entry>,
    last_sweep: Instant,
}

pub struct MemoryCoordinator {
    store: Mutex<Store>,
    max_entries: usize,
}

// Written by hand: the derived form would print every stored value and lock token.
impl std::fmt::Debug for MemoryCoordinator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryCoordinator")
            .field("entries", &self.len())
            .field("max_entries", &self.max_entries)
            .finish()
    }
}

impl Default for MemoryCoordinator {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryCoordinator {
    pub fn new() -> Self {
        Self::with_max_entries(DEFAULT_MAX_ENTRIES)
    }

    /// `max_entries` is clamped to at least 1.
    pub fn with_max_entries(max_entries: usize) -> Self {
        Self {
            store: Mutex::new(Store {
                entries: HashMap::new(),
                last_sweep: Instant::now(),
            }),
            max_entries: max_entries.max(1),
        }
    }

    /// Number of entries held, including expired ones not yet swept.
    pub fn len(&self) -> usize {
        self.lock_store().entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Forgets everything.
    pub fn clear(&self) {
        self.lock_store().entries.clear();
    }

    fn lock_store(&self) -> MutexGuard<'_, Store> {
        // A panic while holding the lock can only have happened between plain map operations,
        // which leave the map structurally valid; at worst one entry is stale, which a cache
        // tolerates. Refusing service forever would be worse.
        let mut store = self.store.lock().unwrap_or_else(PoisonError::into_inner);
        let now = Instant::now();
        if now.duration_since(store.last_sweep) >= SWEEP_INTERVAL {
            store.sweep_expired(now);
        }
        store
    }
}

impl Store {
    fn sweep_expired(&mut self, now: Instant) {
        self.entries.retain(|_, entry| entry.expires_at > now);
        self.last_sweep = now;
    }

    /// The live entry under `key`; an expired one is removed on the spot (lazy expiry).
    fn live(&mut self, space: Space, key: &str, now: Instant) -> Option<&mut Entry> {
        let map_key = (space, key.to_owned());
        let expired = self
            .entries
            .get(&map_key)
            .is_some_and(|entry| entry.expires_at <= now);
        if expired {
            self.entries.remove(&map_key);
            return None;
        }
        self.entries.get_mut(&map_key)
    }

    /// Inserts or replaces, making room first if the store is full.
    fn put(&mut self, space: Space, key: &str, entry: Entry, max_entries: usize, now: Instant) {
        let map_key = (space, key.to_owned());
        if !self.entries.contains_key(&map_key) && self.entries.len() >= max_entries {
            self.make_room(max_entries, now);
        }
        self.entries.insert(map_key, entry);
    }

    /// Drops expired entries; if that is not enough, drops the tenth of the store that would
    /// expire soonest. Evicting a batch keeps a store under pressure from paying a full scan
    /// on every insert.
    fn make_room(&mut self, max_entries: usize, now: Instant) {
        self.sweep_expired(now);
        if self.entries.len() < max_entries {
            return;
        }
        let batch = (max_entries / 10).max(1);
        let mut by_expiry: Vec<(Instant, (Space, String))> = self
            .entries
            .iter()
            .map(|(key, entry)| (entry.expires_at, key.clone()))
            .collect();
        let Some(split) = batch.min(by_expiry.len()).checked_sub(1) else {
            return;
        };
        by_expiry.select_nth_unstable_by_key(split, |(expires_at, _)| *expires_at);
        for (_, key) in by_expiry.into_iter().take(batch) {
            self.entries.remove(&key);
        }
    }
}

#[async_trait::async_trait]
impl Coordinator for MemoryCoordinator {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, CacheError> {
        let now = Instant::now();
        let mut store = self.lock_store();
        Ok(match store.live(Space::Value, key, now) {
            Some(Entry {
                slot: Slot::Value(bytes),
                ..
            }) => Some(bytes.clone()),
            _ => None,
        })
    }

    async fn set(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), CacheError> {
        validate_ttl(ttl)?;
        let now = Instant::now();
        let entry = Entry {
            slot: Slot::Value(value.to_vec()),
            expires_at: now + ttl,
        };
        self.lock_store()
            .put(Space::Value, key, entry, self.max_entries, now);
        Ok(())
    }

    async fn delete(&self, key: &str) -> Result<(), CacheError> {
        self.lock_store()
            .entries
            .remove(&(Space::Value, key.to_owned()));
        Ok(())
    }

    async fn rate_limit(&self, key: &str, limit: RateLimit) -> Result<RateDecision, CacheError> {
        limit.validate()?;
        let now = Instant::now();
        let capacity = f64::from(limit.capacity);
        let mut store = self.lock_store();

        // A missing (or forgotten) bucket is a full one.
        let mut tokens = match store.live(Space::Rate, key, now) {
            Some(Entry {
                slot:
                    Slot::Bucket {
                        tokens,
                        refilled_at,
                    },
                ..
            }) => {
                let elapsed = now.saturating_duration_since(*refilled_at).as_secs_f64();
                (*tokens + elapsed * limit.per_second).min(capacity)
            }
            _ => capacity,
        };

        let allowed = tokens >= 1.0;
        let retry_after = if allowed {
            tokens -= 1.0;
            Duration::ZERO
        } else {
            limit.wait_for_one_token(tokens)
        };

        let entry = Entry {
            slot: Slot::Bucket {
                tokens,
                refilled_at: now,
            },
            // Once full again the bucket carries no information, so it may go.
            expires_at: now + limit.time_to_full(tokens) + Duration::from_secs(1),
        };
        store.put(Space::Rate, key, entry, self.max_entries, now);

        Ok(RateDecision {
            allowed,
            // Truncation is intended: only whole tokens can be spent.
            remaining: tokens.floor() as u32,
            retry_after,
        })
    }

    async fn first_seen(&self, key: &str, ttl: Duration) -> Result<bool, CacheError> {
        validate_ttl(ttl)?;
        let now = Instant::now();
        let mut store = self.lock_store();
        if store.live(Space::Seen, key, now).is_some() {
            return Ok(false);
        }
        let entry = Entry {
            slot: Slot::Seen,
            expires_at: now + ttl,
        };
        store.put(Space::Seen, key, entry, self.max_entries, now);
        Ok(true)
    }

    async fn try_lock(&self, key: &str, ttl: Duration) -> Result<Option<LockToken>, CacheError> {
        validate_ttl(ttl)?;
        let now = Instant::now();
        let mut store = self.lock_store();
        if store.live(Space::Lock, key, now).is_some() {
            return Ok(None);
        }
        let token = LockToken::generate();
        let entry = Entry {
            slot: Slot::Lock(token.clone()),
            expires_at: now + ttl,
        };
        store.put(Space::Lock, key, entry, self.max_entries, now);
        Ok(Some(token))
    }

    async fn unlock(&self, key: &str, token: &LockToken) -> Result<bool, CacheError> {
        let now = Instant::now();
        let mut store = self.lock_store();
        let owned = matches!(
            store.live(Space::Lock, key, now),
            Some(Entry { slot: Slot::Lock(held), .. }) if held == token
        );
        if owned {
            store.entries.remove(&(Space::Lock, key.to_owned()));
        }
        Ok(owned)
    }

    async fn ping(&self) -> Result<(), CacheError> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTE: Duration = Duration::from_secs(60);

    #[tokio::test]
    async fn set_get_delete_round_trip() {
        let memory = MemoryCoordinator::new();
        memory.set("a", b"one", MINUTE).await.unwrap();
        assert_eq!(memory.get("a").await.unwrap(), Some(b"one".to_vec()));
        memory.delete("a").await.unwrap();
        assert_eq!(memory.get("a").await.unwrap(), None);
    }

    #[tokio::test]
    async fn expired_entries_are_invisible_and_removed_on_read() {
        let memory = MemoryCoordinator::new();
        memory
            .set("short", b"x", Duration::from_millis(20))
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(40)).await;
        assert_eq!(memory.get("short").await.unwrap(), None);
        assert!(memory.is_empty());
    }

    #[tokio::test]
    async fn operations_use_separate_key_spaces() {
        let memory = MemoryCoordinator::new();
        assert!(memory.first_seen("k", MINUTE).await.unwrap());
        assert!(memory.try_lock("k", MINUTE).await.unwrap().is_some());
        assert_eq!(memory.get("k").await.unwrap(), None);
    }

    #[tokio::test]
    async fn full_store_evicts_expired_entries_first() {
        let memory = MemoryCoordinator::with_max_entries(3);
        memory
            .set("old", b"x", Duration::from_millis(10))
            .await
            .unwrap();
        memory.set("b", b"x", MINUTE).await.unwrap();
        memory.set("c", b"x", MINUTE).await.unwrap();
        tokio::time::sleep(Duration::from_millis(20)).await;
        memory.set("d", b"x", MINUTE).await.unwrap();
        assert_eq!(memory.len(), 3);
        for key in ["b", "c", "d"] {
            assert!(memory.get(key).await.unwrap().is_some(), "{key} evicted");
        }
    }

    #[tokio::test]
    async fn full_store_evicts_soonest_to_expire_when_nothing_has_expired() {
        let memory = MemoryCoordinator::with_max_entries(3);
        memory.set("soon", b"x", MINUTE).await.unwrap();
        memory.set("later", b"x", 2 * MINUTE).await.unwrap();
        memory.set("latest", b"x", 3 * MINUTE).await.unwrap();
        memory.set("new", b"x", 2 * MINUTE).await.unwrap();
        assert_eq!(memory.len(), 3);
        assert_eq!(memory.get("soon").await.unwrap(), None);
        assert!(memory.get("new").await.unwrap().is_some());
    }

    #[tokio::test]
    async fn store_never_exceeds_its_bound() {
        let memory = MemoryCoordinator::with_max_entries(50);
        for i in 0..1_000 {
            memory.set(&format!("k{i}"), b"x", MINUTE).await.unwrap();
            assert!(memory.len() <= 50);
        }
        // Replacing an existing key in a full store does not evict anything.
        let before = memory.len();
        memory.set("k999", b"y", MINUTE).await.unwrap();
        assert_eq!(memory.len(), before);
    }

    #[tokio::test]
    async fn zero_ttl_and_bad_limits_are_rejected() {
        let memory = MemoryCoordinator::new();
        assert!(matches!(
            memory.set("a", b"x", Duration::ZERO).await,
            Err(CacheError::InvalidRequest(_))
        ));
        assert!(matches!(
            memory.rate_limit("a", RateLimit::new(0, 1.0)).await,
            Err(CacheError::InvalidRequest(_))
        ));
        assert!(matches!(
            memory.rate_limit("a", RateLimit::new(1, 0.0)).await,
            Err(CacheError::InvalidRequest(_))
        ));
    }

    #[tokio::test]
    async fn poisoned_store_keeps_serving() {
        let memory = std::sync::Arc::new(MemoryCoordinator::new());
        let poisoner = memory.clone();
        let _ = std::thread::spawn(move || {
            let _guard = poisoner.store.lock().unwrap();
            panic!("poison the store");
        })
        .join();
        assert!(memory.store.is_poisoned());
        memory.set("a", b"x", MINUTE).await.unwrap();
        assert_eq!(memory.get("a").await.unwrap(), Some(b"x".to_vec()));
    }
}
