//! The in-memory usage buffer and its flusher.
//!
//! `record` only pushes onto a mutex-guarded list. A background task flushes it at
//! least every second (and once more on shutdown) in one transaction, deriving the
//! last-used times and per-day counters from the entries as it writes them.

use crate::error::AppError;
use crate::server::db::{Backend, Db};
use crate::time_fmt::{DAY_MS, HOUR_MS};
use sqlx::Row;
use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Mutex;

/// One authenticated request, as the request log keeps it. Never holds the key.
#[derive(Clone, Debug)]
pub struct UsageEvent {
    pub key_id: String,
    pub at: i64,
    pub method: String,
    pub path: String,
    pub status: u16,
    pub client_addr: String,
    pub user_agent: String,
}

/// Orders one key's requests within a millisecond (the log's `seq` column).
static LOG_SEQUENCE: AtomicI64 = AtomicI64::new(0);

const MAX_BUFFERED: usize = 1_000_000;
/// Rows per multi-row INSERT: 8 columns each, well under both databases' parameter limits.
const LOG_ROWS_PER_INSERT: usize = 250;

pub struct UsageRecorder {
    buffer: Mutex<Vec<UsageEvent>>,
    /// One flush at a time, so the shutdown flush waits for one already under way.
    flushing: tokio::sync::Mutex<()>,
    /// Request-log rows kept per key per flush (the newest). Counters and last-used
    /// times always count every request; only the log is capped.
    log_rows_per_key: usize,
}

impl Default for UsageRecorder {
    fn default() -> Self {
        Self::new(1_000)
    }
}

impl UsageRecorder {
    pub fn new(log_rows_per_key: usize) -> Self {
        Self {
            buffer: Mutex::new(Vec::new()),
            flushing: tokio::sync::Mutex::new(()),
            log_rows_per_key: log_rows_per_key.max(1),
        }
    }

    pub fn record(&self, event: UsageEvent) {
        self.buffer
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(event);
    }

    /// Writes everything buffered. On failure the entries go back into the buffer.
    pub async fn flush(&self, db: &Db) -> Result<(), AppError> {
        let _one_at_a_time = self.flushing.lock().await;
        let taken = std::mem::take(&mut *self.buffer.lock().unwrap_or_else(|p| p.into_inner()));
        if taken.is_empty() {
            return Ok(());
        }
        let started = std::time::Instant::now();
        match write(db, &taken, self.log_rows_per_key).await {
            Ok(keys) => {
                tracing::debug!(
                    requests = taken.len(),
                    keys,
                    millis = started.elapsed().as_millis() as u64,
                    "usage flushed"
                );
                Ok(())
            }
            Err(error) => {
                let mut buffer = self.buffer.lock().unwrap_or_else(|p| p.into_inner());
                let newer = std::mem::replace(&mut *buffer, taken);
                buffer.extend(newer);
                // A database outage must not eat all memory: keep the newest entries.
                if buffer.len() > MAX_BUFFERED {
                    let excess = buffer.len() - MAX_BUFFERED;
                    buffer.drain(..excess);
                    tracing::warn!(
                        dropped = excess,
                        "usage buffer full; oldest requests dropped"
                    );
                }
                Err(error)
            }
        }
    }

    /// Deletes request-log rows older than `days`, and hourly counters older than two days.
    pub async fn prune(db: &Db, now: i64, days: i64) -> Result<u64, AppError> {
        // Through the (key_id, at) index, key by key; deleting a key deletes its log.
        let result = sqlx::query(
            "DELETE FROM key_requests WHERE key_id IN (SELECT id FROM api_keys) AND at < $1",
        )
        .bind(now - days * DAY_MS)
        .execute(&db.pool)
        .await?;
        sqlx::query("DELETE FROM key_usage_hourly WHERE hour < $1")
            .bind(now.div_euclid(HOUR_MS) - 48)
            .execute(&db.pool)
            .await?;
        Ok(result.rows_affected())
    }
}

/// `($1, $2), ($3, $4)` for `rows` rows of `columns` parameters, bound in order.
///
/// SQLite gets anonymous `(?, ?), (?, ?)` instead: sqlx resolves each numbered
/// parameter through `sqlite3_bind_parameter_name`, a linear scan, so numbered
/// placeholders make binding a 2,000-parameter statement quadratic (it was a sixth
/// of the server's CPU under load).
fn placeholders(backend: Backend, rows: usize, columns: usize) -> String {
    let mut sql = String::with_capacity(rows * columns * 6);
    for r in 0..rows {
        sql.push_str(if r == 0 { "(" } else { ", (" });
        for c in 1..=columns {
            if c > 1 {
                sql.push_str(", ");
            }
            match backend {
                Backend::Sqlite => sql.push('?'),
                Backend::Postgres => {
                    let _ = write!(sql, "${}", r * columns + c);
                }
            }
        }
        sql.push(')');
    }
    sql
}

/// The counts of keys that still exist, in a stable order.
fn live_counts<'a>(
    map: &HashMap<(&'a str, i64), i64>,
    live: &HashSet<String>,
) -> Vec<(&'a str, i64, i64)> {
    let mut counts: Vec<_> = map
        .iter()
        .filter(|((k, _), _)| live.contains(*k))
        .map(|((k, when), n)| (*k, *when, *n))
        .collect();
    counts.sort_unstable();
    counts
}

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

/// Writes one batch in one transaction; answers how many keys it touched.
async fn write(db: &Db, events: &[UsageEvent], log_rows_per_key: usize) -> Result<usize, AppError> {
    let mut last_used: HashMap<&str, i64> = HashMap::new();
    let mut daily: HashMap<(&str, i64), i64> = HashMap::new();
    let mut hourly: HashMap<(&str, i64), i64> = HashMap::new();
    for event in events {
        let at = last_used.entry(&event.key_id).or_insert(event.at);
        *at = (*at).max(event.at);
        *daily
            .entry((&event.key_id, event.at.div_euclid(DAY_MS)))
            .or_insert(0) += 1;
        *hourly
            .entry((&event.key_id, event.at.div_euclid(HOUR_MS)))
            .or_insert(0) += 1;
    }
    let backend = db.backend;
    let mut in_order: Vec<(&str, i64)> = last_used.iter().map(|(k, at)| (*k, *at)).collect();
    in_order.sort_unstable();

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
        for (key_id, at) in chunk {
            query = query.bind(*key_id).bind(*at);
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
        for (id, _) in chunk {
            query = query.bind(*id);
        }
        for row in query.fetch_all(&mut *tx).await? {
            live.insert(row.try_get::<String, _>(0)?);
        }
    }
    add_counts(
        backend,
        &mut tx,
        "key_usage_daily",
        "day",
        &live_counts(&daily, &live),
    )
    .await?;
    add_counts(
        backend,
        &mut tx,
        "key_usage_hourly",
        "hour",
        &live_counts(&hourly, &live),
    )
    .await?;

    // The newest entries of each key, up to the cap, oldest first.
    let mut kept: HashMap<&str, usize> = HashMap::new();
    let mut rows: Vec<&UsageEvent> = events
        .iter()
        .rev()
        .filter(|e| live.contains(&e.key_id))
        .filter(|e| {
            let n = kept.entry(e.key_id.as_str()).or_insert(0);
            *n += 1;
            *n <= log_rows_per_key
        })
        .collect();
    rows.reverse();
    // Grouped by key (a stable sort keeps each key's requests in order), so that
    // consecutive inserts land on the same pages of the (key_id, at) index instead
    // of one random page each: a flush of 50,000 rows across 10,000 keys went from
    // 2.5 s to a fraction of that.
    rows.sort_by(|a, b| a.key_id.cmp(&b.key_id));
    if rows.len() < events.len() {
        tracing::debug!(
            skipped = events.len() - rows.len(),
            "request log capped for busy keys"
        );
    }
    for chunk in rows.chunks(LOG_ROWS_PER_INSERT) {
        let sql = format!(
            "INSERT INTO key_requests (key_id, at, seq, method, path, status, client_addr, user_agent) VALUES {}",
            placeholders(backend, chunk.len(), 8)
        );
        let mut query = sqlx::query(&sql);
        for event in chunk {
            let seq = LOG_SEQUENCE.fetch_add(1, Ordering::Relaxed);
            query = query
                .bind(&event.key_id)
                .bind(event.at)
                .bind(seq)
                .bind(&event.method)
                .bind(&event.path)
                .bind(i64::from(event.status))
                .bind(&event.client_addr)
                .bind(&event.user_agent);
        }
        query.execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(last_used.len())
}
