//! Keys whose maker goes: an organization's keys when the member who made them leaves
//! (revoked or kept, as the person removing them chose), and every key a person made
//! when their account is claimed by its address's rightful owner.

use super::audit::{record_event, Actor};
use super::store::KeyStore;
use crate::error::AppError;
use crate::workspace::{owned_by, Owner};

impl KeyStore {
    /// Deletes (`revoke`) or keeps an organization's keys when the member who made them
    /// leaves it, inside the transaction that removes the member; either way the key's
    /// history says so. The guards forget the keys in this process's cache when dropped,
    /// after the commit.
    pub async fn settle_member_keys(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        actor: &Actor,
        keys: &[(String, String)],
        revoke: bool,
        now: i64,
    ) -> Result<Vec<super::cache::InvalidateOnDrop>, AppError> {
        let mut guards = Vec::new();
        for (key_id, name) in keys {
            if revoke {
                let deleted = sqlx::query(&format!(
                    "DELETE FROM api_keys WHERE id = $1 AND {}",
                    owned_by(&actor.owner, 2)
                ))
                .bind(key_id)
                .bind(actor.owner.id())
                .execute(&mut **tx)
                .await?
                .rows_affected();
                if deleted == 0 {
                    continue;
                }
                record_event(
                    tx,
                    actor,
                    key_id,
                    name,
                    "revoked with its maker's membership",
                    now,
                )
                .await?;
                guards.push(self.changes.announce(tx, key_id).await?);
            } else {
                record_event(tx, actor, key_id, name, "kept after its maker left", now).await?;
            }
        }
        Ok(guards)
    }

    /// Deletes every key a person created, their own and organizations' (their account
    /// was claimed by its address's rightful owner: whoever opened it knew those values).
    /// Answers how many.
    pub async fn revoke_all_made_by(
        &self,
        user_id: &str,
        client_addr: &str,
    ) -> Result<usize, AppError> {
        let now = self.clock.now_ms();
        let mut tx = self.db.begin_write().await?;
        let deleted: Vec<(String, String, Option<String>)> =
            sqlx::query_as("DELETE FROM api_keys WHERE user_id = $1 RETURNING id, name, org_id")
                .bind(user_id)
                .fetch_all(&mut *tx)
                .await?;
        let mut forget_cached = Vec::with_capacity(deleted.len());
        for (key_id, name, org_id) in &deleted {
            let actor = Actor {
                user_id: user_id.to_string(),
                owner: match org_id {
                    Some(org) => Owner::Org(org.clone()),
                    None => Owner::User(user_id.to_string()),
                },
                label: "account claimed by its address's owner".into(),
                client_addr: client_addr.to_string(),
            };
            record_event(
                &mut tx,
                &actor,
                key_id,
                name,
                "revoked when the account was claimed",
                now,
            )
            .await?;
            forget_cached.push(self.changes.announce(&mut tx, key_id).await?);
        }
        tx.commit().await?;
        drop(forget_cached);
        Ok(deleted.len())
    }
}

/// The organization's keys a member created or last regenerated: the ones whose value
/// they may have seen and kept. Newest first, as (id, name).
pub async fn made_by_member<'e>(
    executor: impl sqlx::Executor<'e, Database = sqlx::Any>,
    org_id: &str,
    user_id: &str,
) -> Result<Vec<(String, String)>, AppError> {
    Ok(sqlx::query_as(
        "SELECT k.id, k.name FROM api_keys k WHERE k.org_id = $1 AND (k.user_id = $2 \
           OR $2 = (SELECT e.user_id FROM key_events e WHERE e.key_id = k.id \
               AND e.event = 'regenerated' ORDER BY e.at DESC, e.id DESC LIMIT 1)) \
         ORDER BY k.created_at DESC",
    )
    .bind(org_id)
    .bind(user_id)
    .fetch_all(executor)
    .await?)
}
