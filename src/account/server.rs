use super::AccountSummary;
use crate::auth::User;
use crate::error::AppError;
use crate::server::state::AppState;
use crate::time_fmt::DAY_MS;
use sqlx::Row;

pub async fn overview(state: &AppState, user: &User) -> Result<AccountSummary, AppError> {
    let now = state.now_ms();
    let keys = sqlx::query(
        "SELECT COUNT(*) AS total, \
         CAST(COALESCE(SUM(CASE WHEN active = 1 AND (expires_at IS NULL OR expires_at > $2) THEN 1 ELSE 0 END), 0) AS BIGINT) AS active, \
         MAX(last_used_at) AS last_used FROM api_keys WHERE user_id = $1",
    )
    .bind(&user.id)
    .bind(now)
    .fetch_one(&state.db.pool)
    .await?;
    let today = now.div_euclid(DAY_MS);
    let requests = sqlx::query(
        "SELECT CAST(COALESCE(SUM(d.requests), 0) AS BIGINT) AS requests FROM key_usage_daily d \
         JOIN api_keys k ON k.id = d.key_id WHERE k.user_id = $1 AND d.day > $2",
    )
    .bind(&user.id)
    .bind(today - 30)
    .fetch_one(&state.db.pool)
    .await?;
    Ok(AccountSummary {
        email: user.email.clone(),
        member_since: user.created_at,
        total_keys: keys.try_get("total")?,
        active_keys: keys.try_get("active")?,
        last_used_at: keys.try_get("last_used")?,
        requests_30d: requests.try_get("requests")?,
    })
}
