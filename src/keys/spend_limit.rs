//! Per-key monthly spending limits: the most credits a key may charge in a calendar
//! month (UTC). Setting one is here; what a key has spent (`key_spending`) is the
//! wallet's (`wallet::key_spending`), whose charge writer enforces the limit in the
//! transaction that writes the charges.

use super::audit::{record_event, Actor};
use super::cache::KeyChanges;
use crate::error::AppError;
use crate::infra::db::Db;

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
        crate::wallet::key_spending::seed_from_ledger(&mut tx, &actor.owner, key_id, now).await?;
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
