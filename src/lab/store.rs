//! Lab's tables: a person's plan and hub name, sessions, compute per month, and the
//! runner's lease.

use super::{LabSession, StopNotice, StopReason, CPU_HOUR_MS};
use crate::auth::oauth::hub_username;
use crate::error::AppError;
use crate::infra::db::Db;

type Tx<'c> = sqlx::Transaction<'c, sqlx::Any>;

/// A person's Lab settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LabAccount {
    pub user_id: String,
    pub hub_name: String,
    /// The plan's id; the catalog (`infra::plans`) says what it gives.
    pub plan: String,
    pub continue_with_credits: bool,
}

/// A session that has not ended, with its person's hub name.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct OpenSession {
    pub id: String,
    pub user_id: String,
    pub hub_name: String,
    pub email: String,
    pub started_at: i64,
    pub metered_until: i64,
    pub cpu_ms: i64,
    pub stop_requested: Option<String>,
}

/// The calendar month (UTC) of `ms`, as stored: "202612".
pub fn month_key(ms: i64) -> String {
    crate::time_fmt::month_of(ms).0.to_string()
}

/// When the month after the one holding `ms` begins.
pub fn next_month_start(ms: i64) -> i64 {
    let (_, start) = crate::time_fmt::month_of(ms);
    crate::time_fmt::month_of(start + 32 * crate::time_fmt::DAY_MS).1
}

/// The person's Lab row, made on first use. Read first, so that the page loads which
/// ask for it (the sidebar, on every account page) write nothing once it exists.
pub async fn ensure_account(db: &Db, user_id: &str, now: i64) -> Result<LabAccount, AppError> {
    if let Some(account) = account_of(db, user_id).await? {
        return Ok(account);
    }
    sqlx::query(
        "INSERT INTO lab_accounts (user_id, hub_name, plan, continue_with_credits, created_at) \
         VALUES ($1, $2, 'free', 0, $3) ON CONFLICT (user_id) DO NOTHING",
    )
    .bind(user_id)
    .bind(hub_username(user_id))
    .bind(now)
    .execute(&db.pool)
    .await?;
    account_of(db, user_id)
        .await?
        .ok_or_else(|| AppError::internal("Lab account", "missing right after it was made"))
}

pub async fn account_of(db: &Db, user_id: &str) -> Result<Option<LabAccount>, AppError> {
    let row: Option<(String, String, i64)> = sqlx::query_as(
        "SELECT hub_name, plan, continue_with_credits FROM lab_accounts WHERE user_id = $1",
    )
    .bind(user_id)
    .fetch_optional(&db.pool)
    .await?;
    Ok(
        row.map(|(hub_name, plan, continue_with_credits)| LabAccount {
            user_id: user_id.to_string(),
            hub_name,
            plan,
            continue_with_credits: continue_with_credits != 0,
        }),
    )
}

/// Puts the account with this email on `plan` (an id the caller found in the catalog);
/// false when no account has the email.
pub async fn set_plan(db: &Db, email: &str, plan: &str, now: i64) -> Result<bool, AppError> {
    let user: Option<(String,)> = sqlx::query_as("SELECT id FROM users WHERE email = $1")
        .bind(email.trim().to_lowercase())
        .fetch_optional(&db.pool)
        .await?;
    let Some((user_id,)) = user else {
        return Ok(false);
    };
    ensure_account(db, &user_id, now).await?;
    sqlx::query("UPDATE lab_accounts SET plan = $1 WHERE user_id = $2")
        .bind(plan)
        .bind(&user_id)
        .execute(&db.pool)
        .await?;
    Ok(true)
}

pub async fn set_continue_with_credits(db: &Db, user_id: &str, on: bool) -> Result<(), AppError> {
    sqlx::query("UPDATE lab_accounts SET continue_with_credits = $1 WHERE user_id = $2")
        .bind(i64::from(on))
        .bind(user_id)
        .execute(&db.pool)
        .await?;
    Ok(())
}

/// CPU-milliseconds used and CPU hours paid for in the month holding `now`.
pub async fn month_usage(db: &Db, user_id: &str, now: i64) -> Result<(i64, i64), AppError> {
    let row: Option<(i64, i64)> = sqlx::query_as(
        "SELECT cpu_ms, paid_hours FROM lab_usage WHERE user_id = $1 AND month = $2",
    )
    .bind(user_id)
    .bind(month_key(now))
    .fetch_optional(&db.pool)
    .await?;
    Ok(row.unwrap_or((0, 0)))
}

/// Records that the person's server started at `started_at`, unless a session is open.
pub async fn open_session(db: &Db, user_id: &str, started_at: i64) -> Result<(), AppError> {
    sqlx::query(
        "INSERT INTO lab_sessions (id, user_id, started_at, metered_until) VALUES ($1, $2, $3, $3) \
         ON CONFLICT (user_id) WHERE stopped_at IS NULL DO NOTHING",
    )
    .bind(crate::infra::random::id("lab")?)
    .bind(user_id)
    .bind(started_at)
    .execute(&db.pool)
    .await?;
    Ok(())
}

/// Every open session, oldest first.
pub async fn open_sessions(db: &Db) -> Result<Vec<OpenSession>, AppError> {
    Ok(sqlx::query_as(
        "SELECT s.id, s.user_id, a.hub_name, u.email, s.started_at, s.metered_until, s.cpu_ms, s.stop_requested \
         FROM lab_sessions s JOIN lab_accounts a ON a.user_id = s.user_id JOIN users u ON u.id = s.user_id \
         WHERE s.stopped_at IS NULL ORDER BY s.started_at",
    )
    .fetch_all(&db.pool)
    .await?)
}

/// The user ids behind these hub names (names Keyward does not know are left out).
pub async fn users_by_hub_name(
    db: &Db,
    names: &[String],
) -> Result<Vec<(String, String)>, AppError> {
    if names.is_empty() {
        return Ok(Vec::new());
    }
    let placeholders: Vec<String> = (1..=names.len()).map(|i| format!("${i}")).collect();
    let placeholders = placeholders.join(", ");
    let sql =
        format!("SELECT hub_name, user_id FROM lab_accounts WHERE hub_name IN ({placeholders})");
    let mut query = sqlx::query_as(&sql);
    for name in names {
        query = query.bind(name);
    }
    Ok(query.fetch_all(&db.pool).await?)
}

/// Counts running time from the session's last mark to `until` into it and into the
/// month of `until`. Two processes metering the same session count it once (the mark
/// moves by a conditional UPDATE). Answers the CPU-milliseconds added.
pub async fn meter_in(
    tx: &mut Tx<'_>,
    session: &OpenSession,
    until: i64,
    cpus: i64,
) -> Result<i64, AppError> {
    let (mark,): (i64,) = sqlx::query_as("SELECT metered_until FROM lab_sessions WHERE id = $1")
        .bind(&session.id)
        .fetch_one(&mut **tx)
        .await?;
    if until <= mark {
        return Ok(0);
    }
    let added = (until - mark).saturating_mul(cpus);
    let moved = sqlx::query(
        "UPDATE lab_sessions SET cpu_ms = cpu_ms + $1, metered_until = $2 WHERE id = $3 AND metered_until = $4",
    )
    .bind(added)
    .bind(until)
    .bind(&session.id)
    .bind(mark)
    .execute(&mut **tx)
    .await?
    .rows_affected();
    if moved == 0 {
        return Ok(0);
    }
    sqlx::query(
        "INSERT INTO lab_usage (user_id, month, cpu_ms, paid_hours) VALUES ($1, $2, $3, 0) \
         ON CONFLICT (user_id, month) DO UPDATE SET cpu_ms = lab_usage.cpu_ms + excluded.cpu_ms",
    )
    .bind(&session.user_id)
    .bind(month_key(until))
    .bind(added)
    .execute(&mut **tx)
    .await?;
    Ok(added)
}

/// Meters the session up to `now` and ends it for `reason`, in one transaction.
pub async fn close_session(
    db: &Db,
    session: &OpenSession,
    now: i64,
    cpus: i64,
    reason: StopReason,
) -> Result<(), AppError> {
    let mut tx = db.begin_write().await?;
    meter_in(&mut tx, session, now, cpus).await?;
    sqlx::query(
        "UPDATE lab_sessions SET stopped_at = $1, stop_reason = $2 WHERE id = $3 AND stopped_at IS NULL",
    )
    .bind(now)
    .bind(reason.as_str())
    .bind(&session.id)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The person's open session, if any.
pub async fn open_session_of(db: &Db, user_id: &str) -> Result<Option<OpenSession>, AppError> {
    Ok(sqlx::query_as(
        "SELECT s.id, s.user_id, a.hub_name, u.email, s.started_at, s.metered_until, s.cpu_ms, s.stop_requested \
         FROM lab_sessions s JOIN lab_accounts a ON a.user_id = s.user_id JOIN users u ON u.id = s.user_id \
         WHERE s.user_id = $1 AND s.stopped_at IS NULL",
    )
    .bind(user_id)
    .fetch_optional(&db.pool)
    .await?)
}

/// Marks the open session as being stopped by Keyward for `reason`, so the stop is
/// recorded with that reason even if the hub takes a while.
pub async fn request_stop(db: &Db, session_id: &str, reason: StopReason) -> Result<(), AppError> {
    sqlx::query(
        "UPDATE lab_sessions SET stop_requested = $1 WHERE id = $2 AND stopped_at IS NULL AND stop_requested IS NULL",
    )
    .bind(reason.as_str())
    .bind(session_id)
    .execute(&db.pool)
    .await?;
    Ok(())
}

#[derive(sqlx::FromRow)]
struct SessionRow {
    id: String,
    started_at: i64,
    metered_until: i64,
    stopped_at: Option<i64>,
    cpu_ms: i64,
    stop_reason: Option<String>,
}

/// The person's last `limit` sessions, newest first.
pub async fn history(db: &Db, user_id: &str, limit: i64) -> Result<Vec<LabSession>, AppError> {
    let rows: Vec<SessionRow> = sqlx::query_as(
        "SELECT id, started_at, metered_until, stopped_at, cpu_ms, stop_reason FROM lab_sessions \
         WHERE user_id = $1 ORDER BY started_at DESC, id DESC LIMIT $2",
    )
    .bind(user_id)
    .bind(limit)
    .fetch_all(&db.pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| LabSession {
            duration_ms: row.stopped_at.unwrap_or(row.metered_until) - row.started_at,
            id: row.id,
            started_at: row.started_at,
            stopped_at: row.stopped_at,
            cpu_ms: row.cpu_ms,
            stop_reason: row.stop_reason.as_deref().and_then(StopReason::parse),
        })
        .collect())
}

/// Why the person's last session stopped, if Keyward stopped it for them and they have
/// not dismissed the notice.
pub async fn notice(db: &Db, user_id: &str) -> Result<Option<StopNotice>, AppError> {
    let row: Option<(String, String, i64, i64)> = sqlx::query_as(
        "SELECT id, stop_reason, stopped_at, notice_seen FROM lab_sessions \
         WHERE user_id = $1 AND stopped_at IS NOT NULL ORDER BY stopped_at DESC, id DESC LIMIT 1",
    )
    .bind(user_id)
    .fetch_optional(&db.pool)
    .await?;
    Ok(row.and_then(|(session_id, reason, stopped_at, seen)| {
        let reason = StopReason::parse(&reason)?;
        (seen == 0 && reason.needs_notice()).then_some(StopNotice {
            session_id,
            reason,
            stopped_at,
        })
    }))
}

pub async fn dismiss_notice(db: &Db, user_id: &str, session_id: &str) -> Result<(), AppError> {
    sqlx::query("UPDATE lab_sessions SET notice_seen = 1 WHERE id = $1 AND user_id = $2")
        .bind(session_id)
        .bind(user_id)
        .execute(&db.pool)
        .await?;
    Ok(())
}

/// Records `paid` (one more than before) as the CPU hours paid for this month, inside
/// the transaction that posts their charge. False when another writer got there first.
pub async fn mark_hour_paid(
    tx: &mut Tx<'_>,
    user_id: &str,
    month: &str,
    paid: i64,
) -> Result<bool, AppError> {
    sqlx::query(
        "INSERT INTO lab_usage (user_id, month, cpu_ms, paid_hours) VALUES ($1, $2, 0, 0) \
         ON CONFLICT (user_id, month) DO NOTHING",
    )
    .bind(user_id)
    .bind(month)
    .execute(&mut **tx)
    .await?;
    let moved = sqlx::query(
        "UPDATE lab_usage SET paid_hours = $1 WHERE user_id = $2 AND month = $3 AND paid_hours = $4",
    )
    .bind(paid)
    .bind(user_id)
    .bind(month)
    .bind(paid - 1)
    .execute(&mut **tx)
    .await?
    .rows_affected();
    Ok(moved == 1)
}

/// CPU hours past the limit that must be paid for now: the hour being used and every
/// one before it.
pub fn hours_due(used_cpu_ms: i64, limit_hours: i64) -> i64 {
    let over = used_cpu_ms - limit_hours.saturating_mul(CPU_HOUR_MS);
    if over < 0 {
        0
    } else {
        over / CPU_HOUR_MS + 1
    }
}

/// Takes or renews the runner's lease for `ttl_ms`; true when `holder` has it.
pub async fn hold_lease(db: &Db, holder: &str, now: i64, ttl_ms: i64) -> Result<bool, AppError> {
    sqlx::query(
        "INSERT INTO lab_runner_lease (name, holder, expires_at) VALUES ('lab', $1, $2) \
         ON CONFLICT (name) DO NOTHING",
    )
    .bind(holder)
    .bind(now + ttl_ms)
    .execute(&db.pool)
    .await?;
    let taken = sqlx::query(
        "UPDATE lab_runner_lease SET holder = $1, expires_at = $2 \
         WHERE name = 'lab' AND (holder = $1 OR expires_at < $3)",
    )
    .bind(holder)
    .bind(now + ttl_ms)
    .bind(now)
    .execute(&db.pool)
    .await?
    .rows_affected();
    Ok(taken == 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hours_due_past_the_limit() {
        assert_eq!(hours_due(0, 25), 0);
        assert_eq!(hours_due(25 * CPU_HOUR_MS - 1, 25), 0);
        assert_eq!(hours_due(25 * CPU_HOUR_MS, 25), 1);
        assert_eq!(hours_due(26 * CPU_HOUR_MS + 5, 25), 2);
    }

    #[test]
    fn months() {
        // 2026-12-02 → December; the next month starts 2027-01-01.
        let at = 1_796_192_354_787;
        assert_eq!(month_key(at), "202612");
        assert_eq!(next_month_start(at), 1_798_761_600_000);
    }
}
