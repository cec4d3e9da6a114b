//! Writes one slice of a usage batch in one transaction: last-used times, daily and
//! hourly counters, and the request log.

use super::batch::{Batch, KeyTally};
use super::RequestLogEntry;
use crate::error::AppError;
use crate::infra::db::{placeholders, Backend, Db};
use sqlx::Row;
use std::collections::HashSet;
use std::sync::atomic::{AtomicI64, Ordering};

/// Orders one key's requests within a millisecond (the log's `seq` column).
static LOG_SEQUENCE: AtomicI64 = AtomicI64::new(0);
/// Rows per multi-row INSERT: 8 columns each, well under both databases' parameter limits.
const LOG_ROWS_PER_INSERT: usize = 250;

/// Adds per-period counts with multi-row upserts (each key/period appears once).
async fn add_counts(
    backend: Backend,
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    table: &str,
    period: &str,
    counts: &[(&str, i64, i64)],
) -> Result<(), AppError> {
    for chunk in counts.chunks(300) {
        let sql = format!(
            "INSERT INTO {table} (key_id, {period}, requests) VALUES {} \
             ON CONFLICT (key_id, {period}) DO UPDATE SET requests = {table}.requests + excluded.requests",
            placeholders(backend, chunk.len(), 3)
        );
        let mut query = sqlx::query(&sql);
        for (key_id, when, n) in chunk {
            query = query.bind(*key_id).bind(*when).bind(*n);
        }
        query.execute(&mut **tx).await?;
    }
    Ok(())
}

/// Writes one slice of a batch in one transaction.
pub(super) async fn write(db: &Db, batch: &Batch) -> Result<(), AppError> {
    let backend = db.backend;
    // Key order throughout: rows are locked in one order by every flush, and the log's
    // (key_id, at) index is written page by page instead of at random.
    let mut in_order: Vec<(&str, &KeyTally)> =
        batch.keys.iter().map(|(k, t)| (k.as_str(), t)).collect();
    in_order.sort_unstable_by_key(|(k, _)| *k);

    let _turn = db.sqlite_write_turn().await;
    let mut tx = db.pool.begin().await?;
    // Writes first: on SQLite a transaction that reads before it writes cannot wait for
    // the lock and fails with SQLITE_BUSY instead. Every live row is written (and so
    // locked until commit, in key order), so none can be deleted mid-flush; a key
    // deleted before the flush simply matches nothing.
    for chunk in in_order.chunks(400) {
        let sql = format!(
            "UPDATE api_keys SET last_used_at = CASE \
             WHEN api_keys.last_used_at IS NULL OR api_keys.last_used_at < v.column2 THEN v.column2 \
             ELSE api_keys.last_used_at END \
             FROM (VALUES {}) AS v WHERE api_keys.id = v.column1",
            placeholders(backend, chunk.len(), 2)
        );
        let mut query = sqlx::query(&sql);
        for (key_id, tally) in chunk {
            query = query.bind(*key_id).bind(tally.last_used_at);
        }
        query.execute(&mut *tx).await?;
    }
    // Keys deleted since their requests were made get no counters or log rows.
    let mut live: HashSet<String> = HashSet::new();
    for chunk in in_order.chunks(500) {
        let sql = format!(
            "SELECT id FROM api_keys WHERE id IN {}",
            placeholders(backend, 1, chunk.len())
        );
        let mut query = sqlx::query(&sql);
        for (key_id, _) in chunk {
            query = query.bind(*key_id);
        }
        for row in query.fetch_all(&mut *tx).await? {
            live.insert(row.try_get::<String, _>(0)?);
        }
    }
    let in_order: Vec<(&str, &KeyTally)> = in_order
        .into_iter()
        .filter(|(k, _)| live.contains(*k))
        .collect();

    let mut hourly: Vec<(&str, i64, i64)> = Vec::new();
    let mut daily: Vec<(&str, i64, i64)> = Vec::new();
    for (key_id, tally) in &in_order {
        let mut per_hour = tally.per_hour.clone();
        per_hour.sort_unstable();
        for (hour, n) in per_hour {
            hourly.push((key_id, hour, n));
            // Hours and days both count from the Unix epoch in UTC.
            let day = hour.div_euclid(24);
            match daily.last_mut() {
                Some((k, d, total)) if k == key_id && *d == day => *total += n,
                _ => daily.push((key_id, day, n)),
            }
        }
    }
    add_counts(backend, &mut tx, "key_usage_daily", "day", &daily).await?;
    add_counts(backend, &mut tx, "key_usage_hourly", "hour", &hourly).await?;

    let rows: Vec<(&str, &RequestLogEntry)> = in_order
        .iter()
        .flat_map(|(key_id, tally)| tally.log.iter().map(move |entry| (*key_id, entry)))
        .collect();
    for chunk in rows.chunks(LOG_ROWS_PER_INSERT) {
        let sql = format!(
            "INSERT INTO key_requests (key_id, at, seq, method, path, status, client_addr, user_agent) VALUES {}",
            placeholders(backend, chunk.len(), 8)
        );
        let mut query = sqlx::query(&sql);
        for (key_id, entry) in chunk {
            let seq = LOG_SEQUENCE.fetch_add(1, Ordering::Relaxed);
            query = query
                .bind(*key_id)
                .bind(entry.at)
                .bind(seq)
                .bind(&entry.method)
                .bind(&entry.path)
                .bind(i64::from(entry.status))
                .bind(&entry.client_addr)
                .bind(&entry.user_agent);
        }
        query.execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(())
}
