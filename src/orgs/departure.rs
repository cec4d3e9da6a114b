//! A member going: removed by an Owner or Admin, or leaving. Their unspent allocation
//! goes back to the organization and the keys they made are revoked or kept, in the
//! transaction that ends the membership.

use super::access;
use super::members::role_of;
use super::{MemberKey, Role};
use crate::error::AppError;
use crate::infra::db::Db;
use crate::keys::store::{Actor, KeyStore};
use crate::workspace::access::Membership;

/// What happens to the organization keys a departing member created or last
/// regenerated (whose values they may have kept): revoked (deleted), or kept working.
/// Either way each key's history records it, with who decided.
pub struct DepartingKeys<'a> {
    pub store: &'a KeyStore,
    /// The person removing (or leaving), acting on the organization's keys.
    pub actor: &'a Actor,
    pub revoke: bool,
}

/// The organization keys `user_id` created or last regenerated.
pub async fn keys_of(
    db: &Db,
    acting: &Membership,
    asking_id: &str,
    user_id: &str,
) -> Result<Vec<MemberKey>, AppError> {
    if asking_id != user_id {
        acting.require_manager()?;
    }
    Ok(
        crate::keys::departing::made_by_member(&db.pool, &acting.org_id, user_id)
            .await?
            .into_iter()
            .map(|(id, name)| MemberKey { id, name })
            .collect(),
    )
}

/// Takes a member out of the organization. Their next request no longer sees it (every
/// request reads the membership); their unspent allocation goes back to it, and the
/// keys they made are revoked or kept as the remover chose.
pub async fn remove(
    db: &Db,
    acting: &Membership,
    user_id: &str,
    keys: DepartingKeys<'_>,
    now: i64,
) -> Result<(), AppError> {
    acting.require_manager()?;
    let current = role_of(db, &acting.org_id, user_id)
        .await?
        .ok_or(AppError::NotFound)?;
    if current == Role::Owner {
        return Err(AppError::invalid("member", "The Owner cannot be removed."));
    }
    if current == Role::Admin && acting.role != Role::Owner {
        return Err(AppError::invalid(
            "member",
            "Only the Owner removes an Admin.",
        ));
    }
    delete_member(db, acting, user_id, keys, now).await
}

/// The asking person leaves; the Owner must transfer ownership first. The keys they
/// made for the organization are revoked: only they knew those values.
pub async fn leave(
    db: &Db,
    acting: &Membership,
    user_id: &str,
    keys: DepartingKeys<'_>,
    now: i64,
) -> Result<(), AppError> {
    if acting.role == Role::Owner {
        return Err(AppError::invalid(
            "member",
            "Transfer ownership to an Admin before you leave.",
        ));
    }
    let keys = DepartingKeys {
        revoke: true,
        ..keys
    };
    delete_member(db, acting, user_id, keys, now).await
}

/// Takes anyone but the Owner out of the organization, returning what is left of their
/// allocation and settling their keys in the same transaction.
async fn delete_member(
    db: &Db,
    org: &Membership,
    user_id: &str,
    keys: DepartingKeys<'_>,
    now: i64,
) -> Result<(), AppError> {
    let mut tx = db.begin_write().await?;
    // The organization's row is locked first, as key creation locks it: a key made at the
    // same moment is either seen here or refused there.
    access::lock_org(&mut tx, &org.org_id).await?;
    let made = crate::keys::departing::made_by_member(&mut *tx, &org.org_id, user_id).await?;
    let removed = sqlx::query(
        "DELETE FROM org_members WHERE org_id = $1 AND user_id = $2 AND role <> 'owner'",
    )
    .bind(&org.org_id)
    .bind(user_id)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    let mut forget_cached = Vec::new();
    if removed > 0 {
        super::credits::return_unspent(&mut tx, org, user_id, now).await?;
        // Invitations they sent and nobody answered yet would let them back in.
        sqlx::query(
            "UPDATE org_invitations SET outcome = 'revoked', decided_at = $1 \
             WHERE org_id = $2 AND invited_by = $3 AND outcome IS NULL",
        )
        .bind(now)
        .bind(&org.org_id)
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
        forget_cached = keys
            .store
            .settle_member_keys(&mut tx, keys.actor, &made, keys.revoke, now)
            .await?;
    }
    tx.commit().await?;
    drop(forget_cached);
    if removed > 0 {
        tracing::info!(org = %org.org_id, member = %user_id, keys = made.len(), revoked = keys.revoke,
            "member left the organization");
    }
    Ok(())
}
