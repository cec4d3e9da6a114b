//! The hot path: is this presented key valid, and whose is it?
//!
//! Shape and checksum are checked first, with no I/O. Then the SHA-256 digest is
//! looked up in an in-process cache of verified keys, falling back to one indexed
//! query. A change to a key invalidates the cache before the change is answered;
//! other processes hear of it through Postgres NOTIFY, and every entry lives at most
//! `CACHE_TTL_MS` as a safety net. Expiry and grace periods are checked on every call.

use super::secret::{self, KeyDigest};
use crate::server::state::AppState;
use sqlx::Row;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use subtle::ConstantTimeEq;

pub const CACHE_TTL_MS: i64 = 30_000;
const CACHE_MAX_ENTRIES: usize = 1_000_000;

/// What the server knows about a verified key value. Holds a digest, never the value.
#[derive(Debug)]
pub struct VerifiedKey {
    pub key_id: String,
    pub user_id: String,
    /// The owner's email and sign-up time: fixed for an account's life, so `/me`
    /// answers from the cache without a query.
    pub owner_email: String,
    pub owner_created_at: i64,
    pub scopes: Vec<String>,
    active: bool,
    expires_at: Option<i64>,
    /// Set on a regenerated key's previous value: it works until then.
    retires_at: Option<i64>,
    digest: [u8; 32],
    cached_at: i64,
}

impl VerifiedKey {
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s == scope)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    Missing,
    Malformed,
    Unknown,
    Inactive,
    Expired,
    /// A regenerated key's old value after its grace period.
    Retired,
    /// The database could not be asked.
    Unavailable,
}

impl Refusal {
    pub fn code(self) -> &'static str {
        match self {
            Refusal::Missing => "missing_key",
            Refusal::Malformed => "malformed_key",
            Refusal::Unknown => "unknown_key",
            Refusal::Inactive => "inactive_key",
            Refusal::Expired => "expired_key",
            Refusal::Retired => "replaced_key",
            Refusal::Unavailable => "unavailable",
        }
    }

    pub fn message(self) -> &'static str {
        match self {
            Refusal::Missing => {
                "Send your API key as `Authorization: Bearer <key>` (or in an `X-API-Key` header)."
            }
            Refusal::Malformed => {
                "That is not a well-formed API key; check it was copied completely."
            }
            Refusal::Unknown => "This API key does not exist or was revoked.",
            Refusal::Inactive => "This API key is deactivated. Activate it on the API Keys page.",
            Refusal::Expired => "This API key has expired. Regenerate it on the API Keys page.",
            Refusal::Retired => {
                "This API key value was replaced by a newer one. Use the new value."
            }
            Refusal::Unavailable => "Keys cannot be verified right now. Try again shortly.",
        }
    }
}

#[derive(Default)]
struct Entries {
    by_digest: HashMap<[u8; 32], Arc<VerifiedKey>>,
    by_key: HashMap<String, Vec<[u8; 32]>>,
}

/// Verified keys by digest. Every invalidation bumps a generation, so a lookup that
/// started before a change can never store what it read.
#[derive(Default)]
pub struct KeyCache {
    entries: RwLock<Entries>,
    generation: AtomicU64,
}

impl KeyCache {
    fn get(&self, digest: &[u8; 32]) -> Option<Arc<VerifiedKey>> {
        let entries = self.entries.read().unwrap_or_else(|p| p.into_inner());
        entries.by_digest.get(digest).cloned()
    }

    fn insert(&self, entry: Arc<VerifiedKey>, loaded_at_generation: u64) {
        let mut entries = self.entries.write().unwrap_or_else(|p| p.into_inner());
        if self.generation.load(Ordering::Acquire) != loaded_at_generation {
            return;
        }
        if entries.by_digest.len() >= CACHE_MAX_ENTRIES {
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

/// Verifies a presented key value.
pub async fn verify(state: &AppState, presented: &str) -> Result<Arc<VerifiedKey>, Refusal> {
    secret::check(&state.config.key_prefix, presented).map_err(|_| Refusal::Malformed)?;
    let digest = KeyDigest::of(presented).0;
    let now = state.now_ms();
    let cache = &state.key_cache;
    let entry = match cache
        .get(&digest)
        .filter(|e| now - e.cached_at < CACHE_TTL_MS)
    {
        Some(entry) => entry,
        None => {
            let generation = cache.generation.load(Ordering::Acquire);
            let entry = Arc::new(load(state, &digest, now).await?.ok_or(Refusal::Unknown)?);
            cache.insert(entry.clone(), generation);
            entry
        }
    };
    if !bool::from(entry.digest.ct_eq(&digest)) {
        return Err(Refusal::Unknown);
    }
    if entry.expires_at.is_some_and(|at| at <= now) {
        return Err(Refusal::Expired);
    }
    if !entry.active {
        return Err(Refusal::Inactive);
    }
    if entry.retires_at.is_some_and(|at| at <= now) {
        return Err(Refusal::Retired);
    }
    Ok(entry)
}

async fn load(
    state: &AppState,
    digest: &[u8; 32],
    now: i64,
) -> Result<Option<VerifiedKey>, Refusal> {
    let row = sqlx::query(
        "SELECT s.digest, s.retires_at, k.id, k.user_id, k.scopes, k.active, k.expires_at, \
         u.email, u.created_at AS owner_created_at \
         FROM key_secrets s JOIN api_keys k ON k.id = s.key_id JOIN users u ON u.id = k.user_id \
         WHERE s.digest = $1",
    )
    .bind(hex::encode(digest))
    .fetch_optional(&state.db.pool)
    .await
    .map_err(|error| {
        tracing::error!(%error, "key lookup failed");
        Refusal::Unavailable
    })?;
    let Some(row) = row else { return Ok(None) };
    let parse = || -> Result<VerifiedKey, sqlx::Error> {
        let stored: String = row.try_get("digest")?;
        let mut stored_bytes = [0u8; 32];
        hex::decode_to_slice(stored.as_bytes(), &mut stored_bytes)
            .map_err(|e| sqlx::Error::Decode(Box::new(e)))?;
        let scopes: String = row.try_get("scopes")?;
        Ok(VerifiedKey {
            key_id: row.try_get("id")?,
            user_id: row.try_get("user_id")?,
            owner_email: row.try_get("email")?,
            owner_created_at: row.try_get("owner_created_at")?,
            scopes: scopes.split_whitespace().map(str::to_string).collect(),
            active: row.try_get::<i64, _>("active")? != 0,
            expires_at: row.try_get("expires_at")?,
            retires_at: row.try_get("retires_at")?,
            digest: stored_bytes,
            cached_at: now,
        })
    };
    parse().map(Some).map_err(|error| {
        tracing::error!(%error, "key row unreadable");
        Refusal::Unavailable
    })
}
