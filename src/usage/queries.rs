//! Every read of usage data. Callers check ownership first: these take a key id or an
//! owner id that the caller is already allowed to see.

use super::{DailyCount, KeyUsage, RequestLogEntry, UsageStats};
use crate::infra::db::Db;
use crate::time_fmt::{DAY_MS, HOUR_MS};

/// Requests in the recent-request list.
pub const RECENT_REQUESTS: i64 = 20;

#[derive(sqlx::FromRow)]
struct DayRow {
    day: i64,
    requests: i64,
}

/// One key's counters, its last 30 UTC days and its most recent requests.
pub async fn key_usage(db: &Db, key_id: &str, now: i64) -> Result<KeyUsage, sqlx::Error> {
    let today = now.div_euclid(DAY_MS);
    let rows: Vec<DayRow> =
        sqlx::query_as("SELECT day, requests FROM key_usage_daily WHERE key_id = $1 AND day > $2")
            .bind(key_id)
            .bind(today - 30)
            .fetch_all(&db.pool)
            .await?;
    let daily = last_30_days(today, &rows);
    let (total,): (i64,) = sqlx::query_as(
        "SELECT CAST(COALESCE(SUM(requests), 0) AS BIGINT) FROM key_usage_daily WHERE key_id = $1",
    )
    .bind(key_id)
    .fetch_one(&db.pool)
    .await?;
    // The current UTC hour and the 23 before it, from counters the log cap cannot skew.
    let (last_24h,): (i64,) = sqlx::query_as(
        "SELECT CAST(COALESCE(SUM(requests), 0) AS BIGINT) FROM key_usage_hourly \
         WHERE key_id = $1 AND hour > $2",
    )
    .bind(key_id)
    .bind(now.div_euclid(HOUR_MS) - 24)
    .fetch_one(&db.pool)
    .await?;
    let sum_days = |n: usize| daily.iter().rev().take(n).map(|d| d.requests).sum::<i64>();
    let stats = UsageStats {
        last_24h,
        last_7d: sum_days(7),
        last_30d: sum_days(30),
        total,
    };
    let recent: Vec<RequestLogEntry> = sqlx::query_as(
        "SELECT at, method, path, status, client_addr, user_agent FROM key_requests \
         WHERE key_id = $1 ORDER BY at DESC, seq DESC LIMIT $2",
    )
    .bind(key_id)
    .bind(RECENT_REQUESTS)
    .fetch_all(&db.pool)
    .await?;
    Ok(KeyUsage {
        stats,
        daily,
        recent,
    })
}

/// Thirty slots, oldest first, today last; days without requests count zero.
fn last_30_days(today: i64, rows: &[DayRow]) -> Vec<DailyCount> {
    let first = today - 29;
    let mut daily: Vec<DailyCount> = (first..=today)
        .map(|day| DailyCount {
            day_start: day * DAY_MS,
            requests: 0,
        })
        .collect();
    for row in rows {
        if let Some(slot) = usize::try_from(row.day - first)
            .ok()
            .and_then(|i| daily.get_mut(i))
        {
            slot.requests = row.requests;
        }
    }
    daily
}

/// Requests made with any of an owner's keys over the last 30 UTC days.
pub async fn owner_requests_30d(
    db: &Db,
    owner: &crate::workspace::Owner,
    now: i64,
) -> Result<i64, sqlx::Error> {
    let owned = crate::workspace::keys_of_table("k", owner, 1);
    let (requests,): (i64,) = sqlx::query_as(&format!(
        "SELECT CAST(COALESCE(SUM(d.requests), 0) AS BIGINT) FROM key_usage_daily d \
         JOIN api_keys k ON k.id = d.key_id WHERE {owned} AND d.day > $2"
    ))
    .bind(owner.id())
    .bind(now.div_euclid(DAY_MS) - 30)
    .fetch_one(&db.pool)
    .await?;
    Ok(requests)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thirty_days_end_today_and_fill_gaps_with_zero() {
        let today = 20_000;
        let rows = [
            DayRow {
                day: today,
                requests: 5,
            },
            DayRow {
                day: today - 29,
                requests: 2,
            },
            // Outside the window: ignored, never a panic.
            DayRow {
                day: today - 30,
                requests: 9,
            },
        ];
        let daily = last_30_days(today, &rows);
        assert_eq!(daily.len(), 30);
        assert_eq!(daily[0].day_start, (today - 29) * DAY_MS);
        assert_eq!(daily[0].requests, 2);
        assert_eq!(daily[29].requests, 5);
        assert_eq!(daily.iter().map(|d| d.requests).sum::<i64>(), 7);
    }
}
