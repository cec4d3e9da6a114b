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
    let wallet = wallet_id(&grant.owner);
    // Live grants are kept in the order they expire (spends take the first first, and
    // expiry counts on it): a grant may not expire before one already there.
    let (latest,): (Option<i64>,) = sqlx::query_as(
        "SELECT MAX(expires_at) FROM credit_grants WHERE wallet_id = $1 AND expired_at IS NULL",
    )
    .bind(&wallet)
    .fetch_one(&mut **tx)
    .await?;
    if let Some(latest) = latest.filter(|latest| grant.expires_at < *latest) {
        return Err(AppError::invalid(
            "expires_at",
            format!(
                "This wallet has included credits that expire later ({}); new ones must not expire before them.",
                crate::time_fmt::exact(latest)
            ),
        ));
    }
    let posted = post_in(tx, &posting, now).await?;
    if let Posted::New { entry_id, balance } = &posted {
        // Never more included than the balance: a grant into a wallet below zero first
        // pays what it owes, and only the rest is included (and expires).
        let (included,): (i64,) = sqlx::query_as("SELECT included FROM wallets WHERE id = $1")
            .bind(&wallet)
            .fetch_one(&mut **tx)
            .await?;
        let after = (included + grant.credits)
            .min((*balance).max(0))
            .max(included);
        let added = after - included;
        if added > 0 {
            sqlx::query("UPDATE wallets SET included = $1 WHERE id = $2")
                .bind(after)
                .bind(&wallet)
                .execute(&mut **tx)
                .await?;
            sqlx::query(
                "INSERT INTO credit_grants (entry_id, wallet_id, amount, expires_at, created_at) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(entry_id)
            .bind(&wallet)
            .bind(added)
            .bind(grant.expires_at)
            .bind(now)
            .execute(&mut **tx)
            .await?;
        }
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

/// What is left of the owner's included credits, and when the first grant that still
/// has some expires.
pub async fn left(db: &Db, owner: &Owner) -> Result<IncludedLeft, AppError> {
    let wallet = wallet_id(owner);
    let included: Option<(i64,)> = sqlx::query_as("SELECT included FROM wallets WHERE id = $1")
        .bind(&wallet)
        .fetch_optional(&db.pool)
        .await?;
    let included = included.map_or(0, |(n,)| n);
    if included <= 0 {
        return Ok(IncludedLeft::default());
    }
    let live: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT amount, expires_at FROM credit_grants WHERE wallet_id = $1 AND expired_at IS NULL \
         ORDER BY expires_at, entry_id",
    )
    .bind(&wallet)
    .fetch_all(&db.pool)
    .await?;
    Ok(IncludedLeft {
        credits: included,
        first_expiry: first_with_credits_left(included, &live),
    })
}

/// Of live grants (amount, expires_at) in the order they expire, when the first one with
/// anything left expires: spends took the earliest first, so the later grants are whole
/// and the included credits not in them are the earlier ones'.
fn first_with_credits_left(included: i64, live: &[(i64, i64)]) -> Option<i64> {
    let mut later = 0;
    let mut first = None;
    for (amount, expires_at) in live.iter().rev() {
        if included - later > 0 {
            first = Some(*expires_at);
        }
        later += amount;
    }
    first
}

/// Wallets whose included part is not between 0 and the balance (`keyward ledger
/// verify`): (wallet, included, balance). None, if every spend took included first.
pub async fn out_of_bounds(db: &Db) -> Result<Vec<(String, i64, i64)>, AppError> {
    Ok(sqlx::query_as(
        "SELECT id, included, balance FROM wallets \
         WHERE included < 0 OR (included > 0 AND included > balance)",
    )
    .fetch_all(&db.pool)
    .await?)
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
        // One grant that fails (and is tried again next time) holds up none of the rest.
        match expire_one(db, &entry_id, now).await {
            Ok(true) => expired += 1,
            Ok(false) => {}
            Err(error) => {
                tracing::error!(grant = %entry_id, %error, "expiring included credits failed")
            }
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
    if left == 0 {
        sqlx::query("UPDATE credit_grants SET expired_amount = 0 WHERE entry_id = $1")
            .bind(entry_id)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    tracing::info!(grant = %entry_id, expired = left, "included credits expired");
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::first_with_credits_left;

    #[test]
    fn the_first_expiry_shown_is_of_a_grant_with_credits_left() {
        // 100 tomorrow, 100 in a month; 150 spent: the month's grant holds what is left.
        assert_eq!(
            first_with_credits_left(50, &[(100, 1), (100, 30)]),
            Some(30)
        );
        assert_eq!(
            first_with_credits_left(150, &[(100, 1), (100, 30)]),
            Some(1)
        );
        assert_eq!(
            first_with_credits_left(100, &[(100, 1), (100, 30)]),
            Some(30)
        );
        assert_eq!(
            first_with_credits_left(101, &[(100, 1), (100, 30)]),
            Some(1)
        );
        assert_eq!(first_with_credits_left(0, &[(100, 1)]), None);
    }
}
