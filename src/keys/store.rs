//! Server-only key storage. Every query is scoped by the owner's user id, so
//! another person's key answers `NotFound` exactly as a missing one does.

use super::audit::record_event;
pub use super::audit::Actor;
use super::cache::KeyChanges;
use super::rules::{
    name_taken, name_used_elsewhere, validate, NewKey, ValidKey, NAME_PER_CREATOR,
    NAME_PER_ORGANIZATION,
};
use super::{secret, KeyDetails, KeyEvent, KeyStatus, KeySummary, RevealedKey, ScopeInfo};
use crate::error::AppError;
use crate::infra::{clock::Clock, db::Db, random};
use crate::usage::queries as usage;
use crate::workspace::owned_by;
use crate::workspace::Owner;
use std::sync::Arc;

/// Keys one owner may hold unless the operator says otherwise.
pub const DEFAULT_MAX_KEYS_PER_OWNER: i64 = 200;
const KEY_COLUMNS: &str =
    "id, name, preview, scopes, active, created_at, last_used_at, expires_at, regenerated_at, monthly_spend_limit";

/// The `api_keys` columns a summary is built from.
#[derive(sqlx::FromRow)]
struct KeyRow {
    id: String,
    name: String,
    preview: String,
    scopes: String,
    active: i64,
    created_at: i64,
    last_used_at: Option<i64>,
    expires_at: Option<i64>,
    regenerated_at: Option<i64>,
    monthly_spend_limit: Option<i64>,
}

impl KeyRow {
    fn summary(self, now: i64) -> KeySummary {
        let active = self.active != 0;
        KeySummary {
            status: KeyStatus::of(active, self.expires_at, now),
            id: self.id,
            name: self.name,
            preview: self.preview,
            scopes: self.scopes.split_whitespace().map(str::to_string).collect(),
            active,
            created_at: self.created_at,
            last_used_at: self.last_used_at,
            expires_at: self.expires_at,
            regenerated_at: self.regenerated_at,
            monthly_spend_limit: self.monthly_spend_limit,
        }
    }
}

/// A key's totals for the dashboard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::FromRow)]
pub struct KeyTotals {
    pub total: i64,
    pub active: i64,
    pub last_used_at: Option<i64>,
}

/// Key storage and lifecycle, built from what it needs.
#[derive(Clone)]
pub struct KeyStore {
    pub(super) db: Db,
    pub(super) clock: Clock,
    max_keys_per_owner: i64,
    pub(super) prefix: Arc<str>,
    catalog: Arc<[ScopeInfo]>,
    pub(super) changes: KeyChanges,
}

impl KeyStore {
    pub fn new(
        db: Db,
        clock: Clock,
        prefix: &str,
        catalog: Vec<ScopeInfo>,
        changes: KeyChanges,
    ) -> Self {
        Self {
            db,
            clock,
            max_keys_per_owner: DEFAULT_MAX_KEYS_PER_OWNER,
            prefix: prefix.into(),
            catalog: catalog.into(),
            changes,
        }
    }

    /// Caps how many keys one owner may hold.
    pub fn with_max_keys_per_owner(mut self, max: i64) -> Self {
        self.max_keys_per_owner = max.max(1);
        self
    }

    /// The scopes keys may carry: the built-in ones and the operator's.
    pub fn catalog(&self) -> Vec<ScopeInfo> {
        self.catalog.to_vec()
    }

    pub fn offers_scope(&self, name: &str) -> bool {
        self.catalog.iter().any(|s| s.name == name)
    }

    pub async fn list(&self, owner: &Owner) -> Result<Vec<KeySummary>, AppError> {
        let now = self.clock.now_ms();
        let rows: Vec<KeyRow> = sqlx::query_as(&format!(
            "SELECT {KEY_COLUMNS} FROM api_keys WHERE {} ORDER BY created_at DESC, id",
            owned_by(owner, 1)
        ))
        .bind(owner.id())
        .fetch_all(&self.db.pool)
        .await?;
        Ok(rows.into_iter().map(|r| r.summary(now)).collect())
    }

    pub async fn get(&self, owner: &Owner, key_id: &str) -> Result<KeySummary, AppError> {
        let row: KeyRow = sqlx::query_as(&format!(
            "SELECT {KEY_COLUMNS} FROM api_keys WHERE id = $1 AND {}",
            owned_by(owner, 2)
        ))
        .bind(key_id)
        .bind(owner.id())
        .fetch_optional(&self.db.pool)
        .await?
        .ok_or(AppError::NotFound)?;
        Ok(row.summary(self.clock.now_ms()))
    }

    /// How many keys an owner has, how many work, and when any was last used.
    pub async fn totals(&self, owner: &Owner) -> Result<KeyTotals, AppError> {
        Ok(sqlx::query_as(&format!(
            "SELECT COUNT(*) AS total, \
             CAST(COALESCE(SUM(CASE WHEN active = 1 AND (expires_at IS NULL OR expires_at > $2) \
             THEN 1 ELSE 0 END), 0) AS BIGINT) AS active, \
             MAX(last_used_at) AS last_used_at FROM api_keys WHERE {}",
            owned_by(owner, 1)
        ))
        .bind(owner.id())
        .bind(self.clock.now_ms())
        .fetch_one(&self.db.pool)
        .await?)
    }

    /// Creates a key and answers its value, the only time it is ever sent.
    pub async fn create(&self, actor: &Actor, input: NewKey) -> Result<RevealedKey, AppError> {
        let now = self.clock.now_ms();
        let key = validate(&self.catalog, &input, now)?;
        let owner = &actor.owner;
        let mut tx = self.db.begin_write().await?;
        // The owner's row is locked first, so two creations are counted one at a time
        // and the limit holds however many arrive at once.
        lock_owner(&mut tx, owner).await?;
        still_manages(&mut tx, actor).await?;
        let (held,): (i64,) = sqlx::query_as(&format!(
            "SELECT COUNT(*) FROM api_keys WHERE {}",
            owned_by(owner, 1)
        ))
        .bind(owner.id())
        .fetch_one(&mut *tx)
        .await?;
        if held >= self.max_keys_per_owner {
            return Err(AppError::LimitReached(format!(
                "You have {held} keys, the most this server allows. Delete keys you no longer use to create new ones."
            )));
        }
        let taken = sqlx::query(&format!(
            "SELECT 1 FROM api_keys WHERE {} AND name = $2",
            owned_by(owner, 1)
        ))
        .bind(owner.id())
        .bind(&key.name)
        .fetch_optional(&mut *tx)
        .await?
        .is_some();
        if taken {
            return Err(name_taken());
        }
        let org_id = match owner {
            Owner::Org(id) => Some(id.as_str()),
            Owner::User(_) => None,
        };
        let inserted = self
            .insert_for(&mut tx, &actor.user_id, org_id, &key, now)
            .await;
        let (id, value) = match inserted {
            Ok(inserted) => inserted,
            // A name the person used for a key in another workspace (one rule covers
            // every key a person created).
            Err(e) if NAME_PER_CREATOR.broken_by(&e) => return Err(name_used_elsewhere()),
            // The same name created in this organization at the same moment.
            Err(e) if NAME_PER_ORGANIZATION.broken_by(&e) => return Err(name_taken()),
            Err(e) => return Err(e.into()),
        };
        record_event(&mut tx, actor, &id, &key.name, "created", now).await?;
        tx.commit().await?;
        tracing::info!(key_id = %id, user_id = %actor.user_id, "API key created");
        Ok(RevealedKey {
            key: self.get(owner, &id).await?,
            secret: value,
        })
    }

    /// Writes a validated key and its first value inside `tx`; answers (id, value).
    /// `create` and the benchmark seeder both come through here.
    pub async fn insert(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        owner_id: &str,
        key: &ValidKey,
        now: i64,
    ) -> Result<(String, String), sqlx::Error> {
        self.insert_for(tx, owner_id, None, key, now).await
    }

    /// `insert` for a creator and, for an organization's key, that organization.
    async fn insert_for(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        creator_id: &str,
        org_id: Option<&str>,
        key: &ValidKey,
        now: i64,
    ) -> Result<(String, String), sqlx::Error> {
        let value = secret::generate(&self.prefix).map_err(random_failed)?;
        let id = random::id("kid").map_err(random_failed)?;
        sqlx::query(
            "INSERT INTO api_keys (id, user_id, name, preview, scopes, active, created_at, expires_at, ttl_days, org_id) \
             VALUES ($1, $2, $3, $4, $5, 1, $6, $7, $8, $9)",
        )
        .bind(&id)
        .bind(creator_id)
        .bind(&key.name)
        .bind(secret::preview(&self.prefix, &value))
        .bind(&key.scopes)
        .bind(now)
        .bind(key.expires_at)
        .bind(key.ttl_days)
        .bind(org_id)
        .execute(&mut **tx)
        .await?;
        insert_secret(tx, &id, &value, now).await?;
        Ok((id, value))
    }

    /// Deletes a key, its values and its usage; the lifecycle event stays.
    pub async fn delete(&self, actor: &Actor, key_id: &str) -> Result<(), AppError> {
        let now = self.clock.now_ms();
        let mut tx = self.db.pool.begin().await?;
        // The write comes first: it takes the lock, and RETURNING says whether the key was there.
        let (name,): (String,) = sqlx::query_as(&format!(
            "DELETE FROM api_keys WHERE id = $1 AND {} RETURNING name",
            owned_by(&actor.owner, 2)
        ))
        .bind(key_id)
        .bind(actor.owner.id())
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(AppError::NotFound)?;
        record_event(&mut tx, actor, key_id, &name, "deleted", now).await?;
        let _forget_cached = self.changes.announce(&mut tx, key_id).await?;
        tx.commit().await?;
        tracing::info!(key_id = %key_id, "API key deleted");
        Ok(())
    }

    /// Turns a key on or off without changing its value.
    pub async fn set_active(
        &self,
        actor: &Actor,
        key_id: &str,
        active: bool,
    ) -> Result<KeySummary, AppError> {
        let now = self.clock.now_ms();
        let mut tx = self.db.pool.begin().await?;
        let (name,): (String,) = sqlx::query_as(&format!(
            "UPDATE api_keys SET active = $1 WHERE id = $2 AND {} RETURNING name",
            owned_by(&actor.owner, 3)
        ))
        .bind(i64::from(active))
        .bind(key_id)
        .bind(actor.owner.id())
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(AppError::NotFound)?;
        let event = if active { "activated" } else { "deactivated" };
        record_event(&mut tx, actor, key_id, &name, event, now).await?;
        let _forget_cached = self.changes.announce(&mut tx, key_id).await?;
        tx.commit().await?;
        self.get(&actor.owner, key_id).await
    }

    /// Sets or (None) removes the key's monthly spending limit.
    pub async fn set_spend_limit(
        &self,
        actor: &Actor,
        key_id: &str,
        limit: Option<i64>,
    ) -> Result<KeySummary, AppError> {
        let (db, changes, now) = (&self.db, &self.changes, self.clock.now_ms());
        super::spend_limit::set(db, changes, actor, key_id, limit, now).await?;
        self.get(&actor.owner, key_id).await
    }

    /// The expanded row: the key, its usage, its recent requests and its lifecycle.
    pub async fn details(&self, owner: &Owner, key_id: &str) -> Result<KeyDetails, AppError> {
        let key = self.get(owner, key_id).await?;
        let usage = usage::key_usage(&self.db, key_id, self.clock.now_ms()).await?;
        let events: Vec<KeyEvent> = sqlx::query_as(
            "SELECT event, at, actor, client_addr FROM key_events WHERE key_id = $1 \
             ORDER BY at DESC, id DESC LIMIT 50",
        )
        .bind(key_id)
        .fetch_all(&self.db.pool)
        .await?;
        Ok(KeyDetails {
            key,
            usage: usage.stats,
            daily: usage.daily,
            recent: usage.recent,
            events,
            spent_this_month: crate::wallet::key_spending::spent_this_month(
                &self.db,
                owner,
                key_id,
                self.clock.now_ms(),
            )
            .await?,
        })
    }
}

fn random_failed(error: AppError) -> sqlx::Error {
    sqlx::Error::Protocol(format!("random generation failed: {error}"))
}
pub(super) async fn insert_secret(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    key_id: &str,
    value: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO key_secrets (digest, key_id, created_at, retires_at) VALUES ($1, $2, $3, NULL)",
    )
    .bind(secret::KeyDigest::of(value).to_hex())
    .bind(key_id)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Locks the row of whoever owns keys (a person or an organization) until `tx` ends.
pub(super) async fn lock_owner(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    owner: &Owner,
) -> Result<(), sqlx::Error> {
    let sql = match owner {
        Owner::User(_) => "UPDATE users SET id = id WHERE id = $1",
        Owner::Org(_) => "UPDATE organizations SET id = id WHERE id = $1",
    };
    sqlx::query(sql).bind(owner.id()).execute(&mut **tx).await?;
    Ok(())
}

/// For an organization's key: that the acting person still manages the organization,
/// asked under its lock (`lock_owner`). A member removed since their request was
/// authorised makes or regenerates no key the removal did not see. Another answers
/// `NotFound`.
pub(super) async fn still_manages(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    actor: &Actor,
) -> Result<(), AppError> {
    let Owner::Org(org_id) = &actor.owner else {
        return Ok(());
    };
    let manages: Option<(String,)> = sqlx::query_as(
        "SELECT role FROM org_members WHERE org_id = $1 AND user_id = $2 AND role IN ('owner', 'admin')",
    )
    .bind(org_id)
    .bind(&actor.user_id)
    .fetch_optional(&mut **tx)
    .await?;
    manages.map(|_| ()).ok_or(AppError::NotFound)
}
