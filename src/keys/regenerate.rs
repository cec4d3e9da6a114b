//! Regenerating a key: a new value, and the old one retired now or after a grace period.

use super::audit::{record_event, Actor};
use super::store::{insert_secret, KeyStore};
use super::{secret, RevealedKey, GRACE_CHOICES};
use crate::error::AppError;
use crate::time_fmt::DAY_MS;
use crate::workspace::owned_by;
use crate::workspace::Owner;

impl KeyStore {
    /// Replaces a key's value. With `grace_secs == 0` every earlier value stops working
    /// before this returns; otherwise the current one keeps working for that long. One
    /// transaction, whose first statement takes the write lock, so racing regenerations
    /// leave exactly one current value.
    pub async fn regenerate(
        &self,
        actor: &Actor,
        key_id: &str,
        grace_secs: i64,
    ) -> Result<RevealedKey, AppError> {
        if !GRACE_CHOICES.iter().any(|(secs, _)| *secs == grace_secs) {
            return Err(AppError::invalid(
                "grace",
                "Choose when the old value stops working.",
            ));
        }
        let now = self.clock.now_ms();
        let value = secret::generate(&self.prefix)?;
        let mut tx = self.db.pool.begin().await?;
        if let Owner::Org(_) = &actor.owner {
            // Under the organization's lock, as a member's removal takes it: a departing
            // Admin cannot regenerate a value the removal would not see.
            super::store::lock_owner(&mut tx, &actor.owner).await?;
            super::store::still_manages(&mut tx, actor).await?;
        }
        // The first statement writes, so it takes the lock; it changes nothing else yet,
        // so RETURNING shows the expiry as it was.
        let row: Option<(String, Option<i64>, Option<i64>)> = sqlx::query_as(&format!(
            "UPDATE api_keys SET regenerated_at = $1 WHERE id = $2 AND {} \
             RETURNING name, expires_at, ttl_days",
            owned_by(&actor.owner, 3)
        ))
        .bind(now)
        .bind(key_id)
        .bind(actor.owner.id())
        .fetch_optional(&mut *tx)
        .await?;
        let Some((name, old_expiry, ttl_days)) = row else {
            return Err(AppError::NotFound);
        };
        let expires_at = match ttl_days {
            Some(days) => Some(now + days * DAY_MS),
            None => old_expiry,
        };
        sqlx::query("UPDATE api_keys SET preview = $1, expires_at = $2 WHERE id = $3")
            .bind(secret::preview(&self.prefix, &value))
            .bind(expires_at)
            .bind(key_id)
            .execute(&mut *tx)
            .await?;
        // An expired key's old values must not come back to life with the renewed expiry.
        let was_expired = old_expiry.is_some_and(|at| at <= now);
        if grace_secs == 0 || was_expired {
            // "Immediately" means every earlier value, including ones still in a grace period.
            sqlx::query("DELETE FROM key_secrets WHERE key_id = $1")
                .bind(key_id)
                .execute(&mut *tx)
                .await?;
        } else {
            // Values whose grace already ran out are gone for good.
            sqlx::query(
                "DELETE FROM key_secrets WHERE key_id = $1 AND retires_at IS NOT NULL AND retires_at <= $2",
            )
            .bind(key_id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "UPDATE key_secrets SET retires_at = $1 WHERE key_id = $2 AND retires_at IS NULL",
            )
            .bind(now + grace_secs * 1000)
            .bind(key_id)
            .execute(&mut *tx)
            .await?;
        }
        insert_secret(&mut tx, key_id, &value, now).await?;
        record_event(&mut tx, actor, key_id, &name, "regenerated", now).await?;
        let _forget_cached = self.changes.announce(&mut tx, key_id).await?;
        tx.commit().await?;
        tracing::info!(key_id = %key_id, grace_secs, "API key regenerated");
        Ok(RevealedKey {
            key: self.get(&actor.owner, key_id).await?,
            secret: value,
        })
    }
}
