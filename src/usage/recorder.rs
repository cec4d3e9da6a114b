//! The in-memory usage buffer and its flusher.
//!
//! `record` only pushes onto a mutex-guarded list. A background task flushes it at
//! least every second (and once more on shutdown) in one transaction, deriving the
//! last-used times and per-day counters from the entries as it writes them.

use crate::error::AppError;
use crate::server::db::Db;
use crate::server::random;
use crate::time_fmt::{DAY_MS, HOUR_MS};
use sqlx::Row;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
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

static LOG_SEQUENCE: AtomicU64 = AtomicU64::new(0);

/// Random per process, so two processes writing in the same millisecond never collide.
fn process_tag() -> Result<&'static str, AppError> {
    static TAG: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    if let Some(tag) = TAG.get() {
        return Ok(tag);
    }
    let tag = random::base62(8)?;
    Ok(TAG.get_or_init(|| tag))
}
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
        let result = sqlx::query("DELETE FROM key_requests WHERE at < $1")
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

/// Writes one batch; answers how many keys it touched.
async fn write(db: &Db, events: &[UsageEvent], log_rows_per_key: usize) -> Result<usize, AppError> {
    let mut last_used: HashMap<&str, i64> = HashMap::new();
    let mut daily: HashMap<(&str, i64), i64> = HashMap::new();
    let mut hourly: HashMap<(&str, i64), i64> = HashMap::new();
    for event in events {
        *hourly
            .entry((&event.key_id, event.at.div_euclid(HOUR_MS)))
            .or_insert(0) += 1;
        let at = last_used.entry(&event.key_id).or_insert(event.at);
        *at = (*at).max(event.at);
        *daily
            .entry((&event.key_id, event.at.div_euclid(DAY_MS)))
            .or_insert(0) += 1;
    }
    let mut tx = db.pool.begin().await?;
    // Writes first: on SQLite a transaction that reads before it writes cannot wait
    // for the lock and fails with SQLITE_BUSY instead. Updating a deleted key is a no-op.
    // Sorted, so concurrent flushers in several processes lock rows in one order. Every
    // live row is written (and so locked until commit), so none can vanish mid-flush.
    let mut in_order: Vec<(&str, i64)> = last_used.iter().map(|(k, at)| (*k, *at)).collect();
    in_order.sort_unstable();
    for (key_id, at) in in_order {
        sqlx::query(
            "UPDATE api_keys SET last_used_at = CASE WHEN last_used_at IS NULL OR last_used_at < $1 \
             THEN $1 ELSE last_used_at END WHERE id = $2",
        )
            .bind(at)
            .bind(key_id)
            .execute(&mut *tx)
            .await?;
    }
    // Keys deleted since their requests were made get no counters or log rows.
    let mut live: HashSet<String> = HashSet::new();
    let ids: Vec<&str> = last_used.keys().copied().collect();
    for chunk in ids.chunks(500) {
        let placeholders = (1..=chunk.len())
            .map(|i| format!("${i}"))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!("SELECT id FROM api_keys WHERE id IN ({placeholders})");
        let mut query = sqlx::query(&sql);
        for id in chunk {
            query = query.bind(*id);
        }
        for row in query.fetch_all(&mut *tx).await? {
            live.insert(row.try_get::<String, _>(0)?);
        }
    }
    for ((key_id, day), n) in daily.iter().filter(|((k, _), _)| live.contains(*k)) {
        sqlx::query(
            "INSERT INTO key_usage_daily (key_id, day, requests) VALUES ($1, $2, $3) \
             ON CONFLICT (key_id, day) DO UPDATE SET requests = key_usage_daily.requests + excluded.requests",
        )
        .bind(key_id)
        .bind(*day)
        .bind(*n)
        .execute(&mut *tx)
        .await?;
    }
    for ((key_id, hour), n) in hourly.iter().filter(|((k, _), _)| live.contains(*k)) {
        sqlx::query(
            "INSERT INTO key_usage_hourly (key_id, hour, requests) VALUES ($1, $2, $3) \
             ON CONFLICT (key_id, hour) DO UPDATE SET requests = key_usage_hourly.requests + excluded.requests",
        )
        .bind(key_id)
        .bind(*hour)
        .bind(*n)
        .execute(&mut *tx)
        .await?;
    }
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
    if rows.len() < events.len() {
        tracing::debug!(
            skipped = events.len() - rows.len(),
            "request log capped for busy keys"
        );
    }
    for chunk in rows.chunks(LOG_ROWS_PER_INSERT) {
        let values = (0..chunk.len())
            .map(|i| {
                let b = i * 8;
                format!(
                    "(${}, ${}, ${}, ${}, ${}, ${}, ${}, ${})",
                    b + 1,
                    b + 2,
                    b + 3,
                    b + 4,
                    b + 5,
                    b + 6,
                    b + 7,
                    b + 8
                )
            })
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "INSERT INTO key_requests (id, key_id, at, method, path, status, client_addr, user_agent) VALUES {values}"
        );
        let mut query = sqlx::query(&sql);
        for event in chunk {
            // Sortable: time, then this process's sequence; the random tail keeps processes apart.
            let seq = LOG_SEQUENCE.fetch_add(1, Ordering::Relaxed);
            let id = format!("req_{:013}{seq:012}{}", event.at.max(0), process_tag()?);
            query = query
                .bind(id)
                .bind(&event.key_id)
                .bind(event.at)
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
