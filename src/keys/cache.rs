//! The verified-key cache and the protocol that keeps it honest.
//!
//! A change to a key (regenerate, deactivate, delete) calls [`KeyChanges::announce`]
//! inside its transaction: on Postgres that queues a `NOTIFY` delivered to every
//! process when the transaction commits, and the returned guard clears this process's
//! entries when dropped (after the commit, before the answer, or if the request is
//! abandoned). Each invalidation bumps a generation, so a lookup that started before a
//! change can never store the row it read. Entries also expire after [`CACHE_TTL_MS`].

use crate::infra::db::Backend;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

/// Postgres channel on which processes announce changed keys.
pub const KEY_CHANGES_CHANNEL: &str = "keyward_key_changed";
/// The safety net: an entry is trusted this long at most.
pub const CACHE_TTL_MS: i64 = 30_000;
const DEFAULT_MAX_ENTRIES: usize = 1_000_000;

/// The organization an organization key belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyOrg {
    pub id: String,
    pub name: String,
}

/// What the server knows about a verified key value. Holds a digest, never the value.
#[derive(Debug)]
pub struct VerifiedKey {
    pub key_id: String,
    /// For a personal key its owner; for an organization's key the person who created it.
    pub user_id: String,
    /// Set for an organization's key: it acts as the organization.
    pub org: Option<KeyOrg>,
    /// The owner's email and sign-up time: fixed for an account's life, so `/me`
    /// answers from the cache without a query.
    pub owner_email: String,
    pub owner_created_at: i64,
    pub scopes: Vec<String>,
    pub active: bool,
    pub expires_at: Option<i64>,
    /// Set on a regenerated key's previous value: it works until then.
    pub retires_at: Option<i64>,
    /// Credits the key may charge per calendar month.
    pub monthly_spend_limit: Option<i64>,
    pub digest: [u8; 32],
    pub cached_at: i64,
}

impl VerifiedKey {
    /// Whose keys and wallet this key acts on.
    pub fn owner(&self) -> crate::workspace::Owner {
        match &self.org {
            Some(org) => crate::workspace::Owner::Org(org.id.clone()),
            None => crate::workspace::Owner::User(self.user_id.clone()),
        }
    }

    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s == scope)
    }
}

#[derive(Default)]
struct Entries {
    by_digest: HashMap<[u8; 32], Arc<VerifiedKey>>,
    by_key: HashMap<String, Vec<[u8; 32]>>,
}

/// Verified keys by digest, bounded in size and age.
pub struct KeyCache {
    entries: RwLock<Entries>,
    generation: AtomicU64,
    max_entries: usize,
    /// Whether this process is subscribed to other processes' key changes (Postgres).
    listening: tokio::sync::watch::Sender<bool>,
}

impl Default for KeyCache {
    fn default() -> Self {
        Self::with_capacity(DEFAULT_MAX_ENTRIES)
    }
}

impl KeyCache {
    /// A cache that holds at most `max_entries` values (it starts over when full).
    pub fn with_capacity(max_entries: usize) -> Self {
        Self {
            entries: RwLock::default(),
            generation: AtomicU64::new(0),
            max_entries: max_entries.max(1),
            listening: tokio::sync::watch::Sender::new(false),
        }
    }

    /// Waits until this process hears of key changes made by others (its Postgres
    /// listener has subscribed); a start-up probe and tests wait for it instead of
    /// guessing how long subscribing takes.
    pub async fn listening(&self) {
        let mut listening = self.listening.subscribe();
        // The sender lives as long as the cache, so this only ends when it is true.
        let _ = listening.wait_for(|on| *on).await;
    }

    /// The entry for a digest, unless it is older than the time-to-live.
    pub fn get(&self, digest: &[u8; 32], now: i64) -> Option<Arc<VerifiedKey>> {
        let entries = self.entries.read().unwrap_or_else(|p| p.into_inner());
        entries
            .by_digest
            .get(digest)
            .filter(|e| now - e.cached_at < CACHE_TTL_MS)
            .cloned()
    }

    /// Read before loading a row; hand it back to [`insert`](Self::insert).
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Stores an entry loaded at `loaded_at_generation`, unless anything was
    /// invalidated since: then the row may be stale, and it is not kept.
    pub fn insert(&self, entry: Arc<VerifiedKey>, loaded_at_generation: u64) {
        let mut entries = self.entries.write().unwrap_or_else(|p| p.into_inner());
        if self.generation.load(Ordering::Acquire) != loaded_at_generation {
            return;
        }
        if entries.by_digest.len() >= self.max_entries {
            *entries = Entries::default();
        }
        let digests = entries.by_key.entry(entry.key_id.clone()).or_default();
        if !digests.contains(&entry.digest) {
            digests.push(entry.digest);
        }
        entries.by_digest.insert(entry.digest, entry);
    }

    /// Forgets every value of one key.
    pub fn invalidate(&self, key_id: &str) {
        let mut entries = self.entries.write().unwrap_or_else(|p| p.into_inner());
        self.generation.fetch_add(1, Ordering::AcqRel);
        if let Some(digests) = entries.by_key.remove(key_id) {
            for digest in digests {
                entries.by_digest.remove(&digest);
            }
        }
    }

    /// Forgets everything (e.g. after missing notifications from other processes).
    pub fn clear(&self) {
        let mut entries = self.entries.write().unwrap_or_else(|p| p.into_inner());
        self.generation.fetch_add(1, Ordering::AcqRel);
        *entries = Entries::default();
    }

    pub fn len(&self) -> usize {
        self.entries
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .by_digest
            .len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Announces key changes: to this process's cache, and on Postgres to every process.
#[derive(Clone)]
pub struct KeyChanges {
    cache: Arc<KeyCache>,
    backend: Backend,
}

impl KeyChanges {
    pub fn new(cache: Arc<KeyCache>, backend: Backend) -> Self {
        Self { cache, backend }
    }

    /// Call inside the transaction that changes a key, before committing it. Postgres
    /// delivers the NOTIFY to every process (this one included) only if it commits.
    pub async fn announce(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        key_id: &str,
    ) -> Result<InvalidateOnDrop, sqlx::Error> {
        if self.backend == Backend::Postgres {
            sqlx::query("SELECT CAST(1 AS BIGINT) FROM pg_notify($1, $2)")
                .bind(KEY_CHANGES_CHANNEL)
                .bind(key_id)
                .execute(&mut **tx)
                .await?;
        }
        Ok(InvalidateOnDrop {
            cache: self.cache.clone(),
            key_id: key_id.to_string(),
        })
    }
}

/// Forgets a key in this process's cache when dropped.
#[must_use = "the cache is cleared when this guard is dropped"]
pub struct InvalidateOnDrop {
    cache: Arc<KeyCache>,
    key_id: String,
}

impl Drop for InvalidateOnDrop {
    fn drop(&mut self) {
        self.cache.invalidate(&self.key_id);
    }
}

/// Runs for the life of the process on Postgres: forgets keys other processes changed.
/// Whenever notifications may have been missed (not yet listening, reconnecting), it
/// forgets everything.
pub async fn listen_for_key_changes(database_url: String, cache: Arc<KeyCache>) {
    use sqlx::postgres::PgListener;
    loop {
        match PgListener::connect(&database_url).await {
            Ok(mut listener) => match listener.listen(KEY_CHANGES_CHANNEL).await {
                Ok(()) => {
                    cache.clear();
                    cache.listening.send_replace(true);
                    loop {
                        match listener.try_recv().await {
                            Ok(Some(notification)) => cache.invalidate(notification.payload()),
                            // The connection dropped and was re-established: notifications may be lost.
                            Ok(None) => cache.clear(),
                            Err(error) => {
                                tracing::warn!(%error, "key-change listener stopped");
                                break;
                            }
                        }
                    }
                }
                Err(error) => tracing::warn!(%error, "cannot LISTEN for key changes"),
            },
            Err(error) => tracing::warn!(%error, "cannot connect the key-change listener"),
        }
        cache.listening.send_replace(false);
        cache.clear();
        tokio::time::sleep(Duration::from_secs(5)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(key_id: &str, digest_byte: u8, cached_at: i64) -> Arc<VerifiedKey> {
        Arc::new(VerifiedKey {
            key_id: key_id.into(),
            user_id: "usr_1".into(),
            org: None,
            owner_email: "a@example.com".into(),
            owner_created_at: 0,
            scopes: vec!["account:read".into()],
            active: true,
            expires_at: None,
            retires_at: None,
            monthly_spend_limit: None,
            digest: [digest_byte; 32],
            cached_at,
        })
    }

    #[test]
    fn a_row_read_before_an_invalidation_is_never_stored() {
        let cache = KeyCache::default();
        let before = cache.generation();
        // Another request changes the key while this one is reading the old row.
        cache.invalidate("kid_a");
        cache.insert(entry("kid_a", 1, 0), before);
        assert!(cache.get(&[1; 32], 0).is_none(), "stale row was cached");
        // A lookup that starts after the change may store what it read.
        cache.insert(entry("kid_a", 1, 0), cache.generation());
        assert!(cache.get(&[1; 32], 0).is_some());
        // Any invalidation, even of another key, makes an in-flight load unsafe to keep.
        let before = cache.generation();
        cache.clear();
        cache.insert(entry("kid_b", 2, 0), before);
        assert!(cache.is_empty());
    }

    #[test]
    fn entries_expire_after_the_time_to_live() {
        let cache = KeyCache::default();
        cache.insert(entry("kid_a", 1, 1_000), cache.generation());
        assert!(cache.get(&[1; 32], 1_000 + CACHE_TTL_MS - 1).is_some());
        assert!(cache.get(&[1; 32], 1_000 + CACHE_TTL_MS).is_none());
    }

    #[test]
    fn invalidating_a_key_forgets_all_its_values() {
        let cache = KeyCache::default();
        cache.insert(entry("kid_a", 1, 0), cache.generation());
        cache.insert(entry("kid_a", 2, 0), cache.generation());
        cache.insert(entry("kid_b", 3, 0), cache.generation());
        cache.invalidate("kid_a");
        assert!(cache.get(&[1; 32], 0).is_none());
        assert!(cache.get(&[2; 32], 0).is_none());
        assert!(cache.get(&[3; 32], 0).is_some());
    }

    #[test]
    fn the_cache_never_holds_more_than_its_bound() {
        let cache = KeyCache::with_capacity(3);
        for i in 0..10u8 {
            cache.insert(entry(&format!("kid_{i}"), i, 0), cache.generation());
            assert!(cache.len() <= 3, "{} entries", cache.len());
        }
        // The newest entry is always kept.
        assert!(cache.get(&[9; 32], 0).is_some());
    }

    #[test]
    fn dropping_the_guard_invalidates() {
        let cache = Arc::new(KeyCache::default());
        cache.insert(entry("kid_a", 1, 0), cache.generation());
        drop(InvalidateOnDrop {
            cache: cache.clone(),
            key_id: "kid_a".into(),
        });
        assert!(cache.is_empty());
    }
}
