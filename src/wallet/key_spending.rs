//! What each key with a monthly spending limit has charged this calendar month (UTC):
//! the `key_spending` table. Every statement that touches it is here. The charge
//! writer (`charge_batch`) locks and raises the rows in the transaction that writes the
//! charges; setting a limit (`keys::spend_limit`) seeds the row from the ledger.

use super::batch_sql::case_of;
use super::ledger::wallet_id;
use crate::error::AppError;
use crate::infra::db::{
    padded_len, param, placeholders, placeholders_from, Backend, Db, Outcome, Script, Value,
};
use crate::time_fmt::month_of;
use crate::workspace::Owner;
use std::collections::HashMap;

/// Adds to `reads` two statements: create each key's row for `month` if the month is
/// new (so two processes cannot both miss it), then read the rows (locked on Postgres).
/// `keys` is sorted and free of duplicates; [`spent_of`] reads the two answers.
pub(super) fn lock_rows(reads: &mut Script, backend: Backend, keys: &[&str], month: i64) {
    if keys.is_empty() {
        return;
    }
    let mut values = Vec::with_capacity(keys.len() * 2);
    for key in keys {
        values.push(Value::from(*key));
        values.push(Value::Int(month));
    }
    reads.push(
        format!(
            "INSERT INTO key_spending (key_id, month) VALUES {} ON CONFLICT (key_id, month) DO NOTHING",
            placeholders(backend, keys.len(), 2)
        ),
        values,
    );
    let mut values: Vec<Value> = keys.iter().map(|k| Value::from(*k)).collect();
    values.push(Value::Int(month));
    let lock = match backend {
        Backend::Postgres => " ORDER BY key_id FOR UPDATE",
        Backend::Sqlite => "",
    };
    reads.push(
        format!(
            "SELECT key_id, spent FROM key_spending WHERE key_id IN {} AND month = {}{lock}",
            placeholders(backend, 1, keys.len()),
            param(backend, keys.len() + 1),
        ),
        values,
    );
}

/// What each key has spent this month, from the answers of [`lock_rows`]' two statements.
pub(super) fn spent_of(
    _created: Option<Outcome>,
    read: Option<Outcome>,
) -> Result<HashMap<String, i64>, AppError> {
    use sqlx::Row as _;
    let mut spent = HashMap::new();
    for row in read.map(|o| o.rows).unwrap_or_default() {
        spent.insert(row.try_get(0)?, row.try_get(1)?);
    }
    Ok(spent)
}

/// Adds to `writes` one statement raising each key's month by what it charged now.
pub(super) fn add_spent(
    writes: &mut Script,
    backend: Backend,
    charged: HashMap<&str, i64>,
    month: i64,
) {
    let mut charged: Vec<(&str, i64)> = charged.into_iter().collect();
    let Some(&last) = charged.last() else {
        return;
    };
    // The list is padded by repeating its last key: CASE takes the first match and an
    // UPDATE touches each row once, so the repeat adds nothing.
    charged.resize(padded_len(charged.len()), last);
    let (case, mut values) = case_of(backend, "key_id", &charged, 1);
    let n = 2 * charged.len();
    values.push(Value::Int(month));
    values.extend(charged.iter().map(|(k, _)| Value::from(*k)));
    writes.push(
        format!(
            "UPDATE key_spending SET spent = spent + {case} WHERE month = {} AND key_id IN {}",
            param(backend, n + 1),
            placeholders_from(backend, 1, charged.len(), n + 2)
        ),
        values,
    );
}

/// Seeds a key's row for this month from its charges in the ledger when a limit is set,
/// so charges made earlier in the month count against it. Never lowers the row.
pub async fn seed_from_ledger(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    owner: &Owner,
    key_id: &str,
    now: i64,
) -> Result<(), AppError> {
    let spent = spent_in(&mut **tx, owner, key_id, now).await?;
    sqlx::query(
        "INSERT INTO key_spending (key_id, month, spent) VALUES ($1, $2, $3) \
         ON CONFLICT (key_id, month) DO UPDATE SET spent = \
         CASE WHEN key_spending.spent > excluded.spent THEN key_spending.spent ELSE excluded.spent END",
    )
    .bind(key_id)
    .bind(month_of(now).0)
    .bind(spent)
    .execute(&mut **tx)
    .await?;
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
    .bind(wallet_id(owner))
    .bind(month_of(now).1)
    .bind(key_id)
    .fetch_one(executor)
    .await?;
    Ok(spent)
}
