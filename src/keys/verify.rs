//! The hot path: is this presented key valid, and whose is it?
//!
//! Shape and checksum are checked first, with no I/O. Then the SHA-256 digest is
//! looked up in an in-process cache of verified keys, falling back to one indexed
//! query. A change to a key invalidates the cache before the change is answered;
//! other processes hear of it through Postgres NOTIFY, and every entry lives at most
//! `CACHE_TTL_MS` as a safety net. Expiry and grace periods are checked on every call.

use super::cache::{KeyCache, KeyOrg, VerifiedKey};
use super::secret::{self, KeyDigest};
use crate::infra::{clock::Clock, db::Db};
use std::sync::Arc;
use subtle::ConstantTimeEq;

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

/// Everything verification needs, and nothing more.
#[derive(Clone)]
pub struct Verifier {
    prefix: Arc<str>,
    clock: Clock,
    db: Db,
    cache: Arc<KeyCache>,
}

/// The columns a verified key is built from.
#[derive(sqlx::FromRow)]
struct KeyRow {
    digest: String,
    retires_at: Option<i64>,
    id: String,
    user_id: String,
    scopes: String,
    active: i64,
    expires_at: Option<i64>,
    email: String,
    owner_created_at: i64,
    monthly_spend_limit: Option<i64>,
    org_id: Option<String>,
    org_name: Option<String>,
}

impl Verifier {
    pub fn new(prefix: &str, clock: Clock, db: Db, cache: Arc<KeyCache>) -> Self {
        Self {
            prefix: prefix.into(),
            clock,
            db,
            cache,
        }
    }

    /// Whether a value has this server's key shape and a correct checksum (no I/O).
    pub fn well_formed(&self, presented: &str) -> bool {
        secret::check(&self.prefix, presented).is_ok()
    }

    /// Verifies a presented key value.
    pub async fn verify(&self, presented: &str) -> Result<Arc<VerifiedKey>, Refusal> {
        secret::check(&self.prefix, presented).map_err(|_| Refusal::Malformed)?;
        let digest = KeyDigest::of(presented).0;
        let now = self.clock.now_ms();
        let entry = match self.cache.get(&digest, now) {
            Some(entry) => entry,
            None => {
                let generation = self.cache.generation();
                let entry = Arc::new(self.load(&digest, now).await?.ok_or(Refusal::Unknown)?);
                self.cache.insert(entry.clone(), generation);
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

    async fn load(&self, digest: &[u8; 32], now: i64) -> Result<Option<VerifiedKey>, Refusal> {
        let row: Option<KeyRow> = sqlx::query_as(
            "SELECT s.digest, s.retires_at, k.id, k.user_id, k.scopes, k.active, k.expires_at, \
             u.email, u.created_at AS owner_created_at, k.monthly_spend_limit, \
             o.id AS org_id, o.name AS org_name \
             FROM key_secrets s JOIN api_keys k ON k.id = s.key_id JOIN users u ON u.id = k.user_id \
             LEFT JOIN organizations o ON o.id = k.org_id WHERE s.digest = $1",
        )
        .bind(hex::encode(digest))
        .fetch_optional(&self.db.pool)
        .await
        .map_err(|error| {
            tracing::error!(%error, "key lookup failed");
            Refusal::Unavailable
        })?;
        let Some(row) = row else { return Ok(None) };
        let mut stored = [0u8; 32];
        if let Err(error) = hex::decode_to_slice(row.digest.as_bytes(), &mut stored) {
            tracing::error!(%error, "stored key digest unreadable");
            return Err(Refusal::Unavailable);
        }
        Ok(Some(VerifiedKey {
            key_id: row.id,
            user_id: row.user_id,
            org: row
                .org_id
                .zip(row.org_name)
                .map(|(id, name)| KeyOrg { id, name }),
            owner_email: row.email,
            owner_created_at: row.owner_created_at,
            scopes: row.scopes.split_whitespace().map(str::to_string).collect(),
            active: row.active != 0,
            expires_at: row.expires_at,
            retires_at: row.retires_at,
            monthly_spend_limit: row.monthly_spend_limit,
            digest: stored,
            cached_at: now,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::{store::insert_user, User};
    use crate::keys::{cache::KeyChanges, rules, rules::ValidKey, store::KeyStore};

    struct Fixture {
        _dir: tempfile::TempDir,
        db: Db,
        clock: Clock,
        cache: Arc<KeyCache>,
        verifier: Verifier,
        store: KeyStore,
    }

    async fn fixture() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("verify.db").display());
        let db = Db::connect(&url).await.unwrap();
        let clock = Clock::default();
        let cache = Arc::new(KeyCache::default());
        let changes = KeyChanges::new(cache.clone(), db.backend);
        let store = KeyStore::new(
            db.clone(),
            clock.clone(),
            "kw_",
            rules::catalog([]),
            changes,
        );
        let owner = User {
            id: "usr_test".into(),
            email: "owner@example.com".into(),
            created_at: 0,
            email_verified_at: None,
        };
        insert_user(&db.pool, &owner, "not-a-hash").await.unwrap();
        Fixture {
            verifier: Verifier::new("kw_", clock.clone(), db.clone(), cache.clone()),
            _dir: dir,
            db,
            clock,
            cache,
            store,
        }
    }

    /// A key written straight through the store; answers (id, value).
    async fn key(f: &Fixture, expires_at: Option<i64>) -> (String, String) {
        let valid = ValidKey {
            name: format!("k{}", f.cache.generation()),
            scopes: "account:read".into(),
            expires_at,
            ttl_days: None,
        };
        let mut tx = f.db.pool.begin().await.unwrap();
        let inserted = f
            .store
            .insert(&mut tx, "usr_test", &valid, f.clock.now_ms())
            .await
            .unwrap();
        tx.commit().await.unwrap();
        inserted
    }

    #[tokio::test]
    async fn a_verified_key_is_served_from_the_cache_until_its_time_to_live() {
        let f = fixture().await;
        let (id, value) = key(&f, None).await;
        let verified = f.verifier.verify(&value).await.unwrap();
        assert_eq!(verified.key_id, id);
        assert_eq!(verified.owner_email, "owner@example.com");
        assert_eq!(f.cache.len(), 1);
        // Removed behind the cache's back: the cached entry still answers...
        sqlx::query("DELETE FROM api_keys")
            .execute(&f.db.pool)
            .await
            .unwrap();
        assert!(f.verifier.verify(&value).await.is_ok());
        // ...until it is older than the time-to-live, when the database is asked again.
        f.clock
            .advance_secs(crate::keys::cache::CACHE_TTL_MS / 1000);
        assert_eq!(
            f.verifier.verify(&value).await.unwrap_err(),
            Refusal::Unknown
        );
    }

    #[tokio::test]
    async fn expiry_is_checked_on_every_call_even_when_cached() {
        let f = fixture().await;
        let (_, value) = key(&f, Some(f.clock.now_ms() + 1_000)).await;
        assert!(f.verifier.verify(&value).await.is_ok());
        f.clock.advance_secs(2);
        assert_eq!(
            f.verifier.verify(&value).await.unwrap_err(),
            Refusal::Expired
        );
    }

    #[tokio::test]
    async fn malformed_keys_are_refused_without_the_database() {
        let f = fixture().await;
        f.db.pool.close().await;
        assert_eq!(
            f.verifier.verify("kw_not-a-key").await.unwrap_err(),
            Refusal::Malformed
        );
        // A well-formed key needs the database, which cannot answer.
        let well_formed = secret::generate("kw_").unwrap();
        assert_eq!(
            f.verifier.verify(&well_formed).await.unwrap_err(),
            Refusal::Unavailable
        );
    }
}
