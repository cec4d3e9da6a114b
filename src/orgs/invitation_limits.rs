//! How many invitations may go out: per organization per hour, per address per day
//! (from one organization and from all), and the count behind each, read inside the
//! transaction that records the sends.

use crate::error::AppError;
use crate::time_fmt::DAY_MS;

/// Most addresses one bulk invitation takes.
pub const MAX_BULK: usize = 50;
/// Invitations one organization may send in an hour (GitHub allows 50 a day to a new
/// organization); every invitation names the organization in its subject.
pub const PER_ORG_PER_HOUR: i64 = 50;
/// Invitations one address may receive in a day from one organization.
pub const PER_ADDRESS_PER_DAY: i64 = 3;
/// Invitations one address may receive in a day from every organization together.
pub const PER_ADDRESS_PER_DAY_ALL: i64 = 10;
pub(super) const HOUR_MS: i64 = 3_600_000;

/// How many invitations went to `column = value` within `window_ms`, and the seconds
/// until the oldest of them leaves the window.
pub(super) async fn recent<'e>(
    executor: impl sqlx::Executor<'e, Database = sqlx::Any>,
    column: &str,
    value: &str,
    window_ms: i64,
    now: i64,
) -> Result<(i64, u64), AppError> {
    let sql = format!(
        "SELECT COUNT(*), MIN(sent_at) FROM invitation_sends WHERE {column} = $1 AND sent_at > $2"
    );
    let (count, oldest): (i64, Option<i64>) = sqlx::query_as(&sql)
        .bind(value)
        .bind(now - window_ms)
        .fetch_one(executor)
        .await?;
    let wait_ms = oldest.unwrap_or(now) + window_ms - now;
    Ok((count, (wait_ms.max(1000) / 1000) as u64))
}

/// How many invitations went to `email` within a day (from `org_id`, or from every
/// organization), and the seconds until the oldest of them leaves the day.
pub(super) async fn recent_to(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    org_id: Option<&str>,
    email: &str,
    now: i64,
) -> Result<(i64, u64), AppError> {
    let (count, oldest): (i64, Option<i64>) = sqlx::query_as(
        "SELECT COUNT(*), MIN(sent_at) FROM invitation_sends \
         WHERE email = $1 AND sent_at > $2 AND ($3 IS NULL OR org_id = $3)",
    )
    .bind(email)
    .bind(now - DAY_MS)
    .bind(org_id)
    .fetch_one(&mut **tx)
    .await?;
    let wait_ms = oldest.unwrap_or(now) + DAY_MS - now;
    Ok((count, (wait_ms.max(1000) / 1000) as u64))
}
