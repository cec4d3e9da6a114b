//! Per-key monthly spending limits: the most credits a key may charge in a calendar
//! month (UTC). The charge writer enforces them (`wallet::charge_batch`) against
//! `key_spending`, which it writes in the same transaction as the charges.

use super::audit::{record_event, Actor};
use super::cache::KeyChanges;
use crate::error::AppError;
use crate::infra::db::Db;
use crate::time_fmt::month_of;
use crate::workspace::Owner;

/// The largest monthly limit a key may have.
pub const MAX_SPEND_LIMIT: i64 = 1_000_000_000_000;

/// Checks a limit a person typed; None (no limit) is always fine.
pub fn validate(limit: Option<i64>) -> Result<(), AppError> {
    match limit {
        Some(limit) if !(1..=MAX_SPEND_LIMIT).contains(&limit) => Err(AppError::invalid(
            "monthly_spend_limit",
            "A monthly limit is a whole number of credits, at least 1. Leave it empty for no limit.",
        )),
        _ => Ok(()),
    }
}

/// Sets or removes a key's monthly limit (`KeyStore::set_spend_limit`). Charges made
/// earlier this month count against a new limit.
pub async fn set(
    db: &Db,
    changes: &KeyChanges,
    actor: &Actor,
    key_id: &str,
    limit: Option<i64>,
    now: i64,
) -> Result<(), AppError> {
    validate(limit)?;
    let mut tx = db.begin_write().await?;
    let (name,): (String,) = sqlx::query_as(&format!(
        "UPDATE api_keys SET monthly_spend_limit = $1 WHERE id = $2 AND {} RETURNING name",
        crate::workspace::owned_by(&actor.owner, 3)
    ))
    .bind(limit)
    .bind(key_id)
    .bind(actor.owner.id())
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(AppError::NotFound)?;
    if limit.is_some() {
        let spent = spent_in(&mut *tx, &actor.owner, key_id, now).await?;
        sqlx::query(
            "INSERT INTO key_spending (key_id, month, spent) VALUES ($1, $2, $3) \
             ON CONFLICT (key_id, month) DO UPDATE SET spent = \
             CASE WHEN key_spending.spent > excluded.spent THEN key_spending.spent ELSE excluded.spent END",
        )
        .bind(key_id)
        .bind(month_of(now).0)
        .bind(spent)
        .execute(&mut *tx)
        .await?;
    }
    let event = match limit {
        Some(limit) => format!(
            "monthly spending limit set to {}",
            crate::wallet::format_credits(limit)
        ),
        None => "monthly spending limit removed".to_string(),
    };
    record_event(&mut tx, actor, key_id, &name, &event, now).await?;
    let _forget_cached = changes.announce(&mut tx, key_id).await?;
    tx.commit().await?;
    Ok(())
}

/// Credits the owner's key charged this calendar month, less nothing: a refund gives
/// the wallet its credits back but not the key its allowance.
pub async fn spent_this_month(
    db: &Db,
    owner: &Owner,
    key_id: &str,
    now: i64,
) -> Result<i64, AppError> {
    spent_in(&db.pool, owner, key_id, now).await
}

async fn spent_in<'e>(
    executor: impl sqlx::Executor<'e, Database = sqlx::Any>,
    owner: &Owner,
    key_id: &str,
    now: i64,
) -> Result<i64, AppError> {
    // Through the owner's wallet, whose (wallet_id, created_at) index bounds the scan.
    let (spent,): (i64,) = sqlx::query_as(
        "SELECT CAST(COALESCE(SUM(-amount), 0) AS BIGINT) FROM ledger_entries \
         WHERE wallet_id = $1 AND created_at >= $2 AND key_id = $3 AND kind = 'charge'",
    )
    .bind(crate::wallet::wallet_id(owner))
    .bind(month_of(now).1)
    .bind(key_id)
    .fetch_one(executor)
    .await?;
    Ok(spent)
}
