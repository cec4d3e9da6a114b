//! What submitting and settling a job share: its timeline, the key's monthly spending
//! and the checks on the service's text.

use super::{JobStatus, MAX_MESSAGE_CHARS};
use crate::error::AppError;
use crate::infra::random;

type Tx<'c> = sqlx::Transaction<'c, sqlx::Any>;

/// A status message the service sends: printable, bounded.
pub fn validate_message(message: &str) -> Result<(), AppError> {
    if printable(message, MAX_MESSAGE_CHARS) {
        Ok(())
    } else {
        Err(AppError::invalid(
            "status_message",
            format!("A status message is at most {MAX_MESSAGE_CHARS} printable characters."),
        ))
    }
}

pub(super) fn printable(text: &str, max_chars: usize) -> bool {
    text.chars().count() <= max_chars && !text.chars().any(char::is_control)
}

/// Adds a step to the job's timeline.
pub(super) async fn record_event(
    tx: &mut Tx<'_>,
    job_id: &str,
    status: JobStatus,
    message: Option<&str>,
    now: i64,
) -> Result<(), AppError> {
    sqlx::query(
        "INSERT INTO job_events (id, job_id, status, message, created_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(random::ordered_id("jev", now)?)
    .bind(job_id)
    .bind(status.as_str())
    .bind(message)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// This month's spending of a key with a limit, its row locked (created if new).
pub(super) async fn lock_key_spending(
    tx: &mut Tx<'_>,
    key_id: &str,
    now: i64,
) -> Result<i64, AppError> {
    let month = crate::time_fmt::month_of(now).0;
    sqlx::query(
        "INSERT INTO key_spending (key_id, month) VALUES ($1, $2) ON CONFLICT (key_id, month) DO NOTHING",
    )
    .bind(key_id)
    .bind(month)
    .execute(&mut **tx)
    .await?;
    // An UPDATE that changes nothing takes the row's lock on Postgres.
    let (spent,): (i64,) = sqlx::query_as(
        "UPDATE key_spending SET spent = spent WHERE key_id = $1 AND month = $2 RETURNING spent",
    )
    .bind(key_id)
    .bind(month)
    .fetch_one(&mut **tx)
    .await?;
    Ok(spent)
}

/// Moves a key's spending in `month` (YYYYMM) by `credits` (negative when a hold is
/// released), never below zero. A key without a limit has no row, and nothing changes.
pub(super) async fn add_key_spending(
    tx: &mut Tx<'_>,
    key_id: &str,
    credits: i64,
    month: i64,
) -> Result<(), AppError> {
    sqlx::query(
        "UPDATE key_spending SET spent = CASE WHEN spent + $1 > 0 THEN spent + $1 ELSE 0 END \
         WHERE key_id = $2 AND month = $3",
    )
    .bind(credits)
    .bind(key_id)
    .bind(month)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The key's monthly limit now, if it has one, and what it has spent this month (its
/// row locked, created if new).
pub(super) async fn limit_and_spent(
    tx: &mut Tx<'_>,
    key_id: &str,
    now: i64,
) -> Result<Option<(i64, i64)>, AppError> {
    let limit: Option<(Option<i64>,)> =
        sqlx::query_as("SELECT monthly_spend_limit FROM api_keys WHERE id = $1")
            .bind(key_id)
            .fetch_optional(&mut **tx)
            .await?;
    let Some(limit) = limit.and_then(|(l,)| l) else {
        return Ok(None);
    };
    let spent = lock_key_spending(tx, key_id, now).await?;
    Ok(Some((limit, spent)))
}
