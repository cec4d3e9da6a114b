//! Included credits: what a plan grants with each paid period, expiring at the period's
//! end. Bought credits never expire. The wallet keeps how much of its balance is
//! included (`wallets.included`); every spend takes included credits first, so of the
//! grants still live the one that expires first is the one being spent. When a grant
//! expires, an `expiry` entry removes what is left of it: balance = sum of entries
//! still holds, and `keyward ledger verify` checks it.

use super::ledger::{post_in, wallet_id, Posted, Posting};
use super::EntryKind;
use crate::error::AppError;
use crate::infra::db::Db;
use crate::workspace::Owner;

type Tx<'c> = sqlx::Transaction<'c, sqlx::Any>;

/// A grant of included credits.
#[derive(Clone, Debug)]
pub struct IncludedGrant {
    pub owner: Owner,
    pub credits: i64,
    /// When what is left of it expires (Unix milliseconds).
    pub expires_at: i64,
    pub description: String,
    pub actor: String,
    /// The invoice (or other) it was granted for.
    pub reference: Option<String>,
    /// The grant is written once under this key, however often it is sent.
    pub idempotency_key: String,
}

/// Grants included credits inside the caller's transaction: the ledger entry, the
/// wallet's included part, and the grant's row the expiry sweep finds.
pub async fn grant_in(
    tx: &mut Tx<'_>,
    grant: &IncludedGrant,
    now: i64,
) -> Result<Posted, AppError> {
    if grant.credits <= 0 {
        return Err(AppError::invalid(
            "credits",
            "Included credits are a positive number.",
        ));
    }
    if grant.expires_at <= now {
        return Err(AppError::invalid(
            "expires_at",
            "Included credits expire in the future.",
        ));
    }
    let posting = Posting {
        owner: grant.owner.clone(),
        amount: grant.credits,
        kind: EntryKind::IncludedGrant,
        reference: grant.reference.clone(),
        description: grant.description.clone(),
        actor: grant.actor.clone(),
        key_id: None,
        metadata: None,
        idempotency_key: grant.idempotency_key.clone(),
        may_overdraw: false,
    };
    let posted = post_in(tx, &posting, now).await?;
    if let Posted::New { entry_id, .. } = &posted {
        let wallet = wallet_id(&grant.owner);
        sqlx::query("UPDATE wallets SET included = included + $1 WHERE id = $2")
            .bind(grant.credits)
            .bind(&wallet)
            .execute(&mut **tx)
            .await?;
        sqlx::query(
            "INSERT INTO credit_grants (entry_id, wallet_id, amount, expires_at, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(entry_id)
        .bind(&wallet)
        .bind(grant.credits)
        .bind(grant.expires_at)
        .bind(now)
        .execute(&mut **tx)
        .await?;
    }
    Ok(posted)
}

/// `grant_in` in its own transaction.
pub async fn grant(db: &Db, grant: &IncludedGrant, now: i64) -> Result<Posted, AppError> {
    let mut tx = db.begin_write().await?;
    let posted = grant_in(&mut tx, grant, now).await?;
    tx.commit().await?;
    Ok(posted)
}

/// A wallet's included credits: how many are left, and when the first of them expire.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IncludedLeft {
    pub credits: i64,
    pub first_expiry: Option<i64>,
}

/// What is left of the owner's included credits.
pub async fn left(db: &Db, owner: &Owner) -> Result<IncludedLeft, AppError> {
    let wallet = wallet_id(owner);
    let row: Option<(i64, Option<i64>)> = sqlx::query_as(
        "SELECT w.included, (SELECT MIN(g.expires_at) FROM credit_grants g \
             WHERE g.wallet_id = w.id AND g.expired_at IS NULL) \
         FROM wallets w WHERE w.id = $1",
    )
    .bind(&wallet)
    .fetch_optional(&db.pool)
    .await?;
    Ok(match row {
        Some((credits, first_expiry)) if credits > 0 => IncludedLeft {
            credits,
            first_expiry,
        },
        _ => IncludedLeft::default(),
    })
}

/// Expires every grant whose time has come (at most `limit` of them), each in its own
/// transaction: claimed by one conditional UPDATE, so two processes sweeping at once
/// expire it once. Answers how many grants it expired.
pub async fn expire_due(db: &Db, now: i64, limit: i64) -> Result<usize, AppError> {
    let due: Vec<(String,)> = sqlx::query_as(
        "SELECT entry_id FROM credit_grants WHERE expired_at IS NULL AND expires_at <= $1 \
         ORDER BY expires_at, entry_id LIMIT $2",
    )
    .bind(now)
    .bind(limit)
    .fetch_all(&db.pool)
    .await?;
    let mut expired = 0;
    for (entry_id,) in due {
        if expire_one(db, &entry_id, now).await? {
            expired += 1;
        }
    }
    Ok(expired)
}

async fn expire_one(db: &Db, entry_id: &str, now: i64) -> Result<bool, AppError> {
    let mut tx = db.begin_write().await?;
    let claimed: Option<(String, i64, i64)> = sqlx::query_as(
        "UPDATE credit_grants SET expired_at = $1 WHERE entry_id = $2 AND expired_at IS NULL \
         RETURNING wallet_id, amount, expires_at",
    )
    .bind(now)
    .bind(entry_id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some((wallet, amount, expires_at)) = claimed else {
        return Ok(false);
    };
    // The wallet's row, locked for the rest of the transaction (its included part and
    // its live grants are read and written below).
    let (included, owner_kind, owner_id): (i64, String, String) = sqlx::query_as(
        "UPDATE wallets SET included = included WHERE id = $1 RETURNING included, owner_kind, owner_id",
    )
    .bind(&wallet)
    .fetch_one(&mut *tx)
    .await?;
    // Spends take the grant that expires first: the grants expiring after this one are
    // whole as long as anything of it is left.
    let (later,): (i64,) = sqlx::query_as(
        "SELECT CAST(COALESCE(SUM(amount), 0) AS BIGINT) FROM credit_grants \
         WHERE wallet_id = $1 AND expired_at IS NULL \
           AND (expires_at > $2 OR (expires_at = $2 AND entry_id > $3))",
    )
    .bind(&wallet)
    .bind(expires_at)
    .bind(entry_id)
    .fetch_one(&mut *tx)
    .await?;
    let left = (included - later).clamp(0, amount);
    if left > 0 {
        let owner = Owner::from_parts(&owner_kind, owner_id).ok_or_else(|| {
            AppError::internal("included credits", "a wallet with an unknown owner kind")
        })?;
        let posting = Posting {
            owner,
            amount: -left,
            kind: EntryKind::Expiry,
            reference: Some(entry_id.to_string()),
            description: "Included credits expired".into(),
            actor: "Keyward".into(),
            key_id: None,
            metadata: None,
            idempotency_key: format!("expire:{entry_id}"),
            may_overdraw: true,
        };
        let posted = post_in(&mut tx, &posting, now).await?;
        if let Posted::New {
            entry_id: expiry, ..
        } = posted
        {
            sqlx::query("UPDATE credit_grants SET expired_amount = $1, expiry_entry_id = $2 WHERE entry_id = $3")
                .bind(left)
                .bind(&expiry)
                .bind(entry_id)
                .execute(&mut *tx)
                .await?;
        }
    }
    tx.commit().await?;
    tracing::info!(grant = %entry_id, expired = left, "included credits expired");
    Ok(true)
}
