//! The in-memory usage batch and its flusher: every write of usage data.
//!
//! `record` adds one request to its key's tally under a short lock: the last-used
//! time, a count per hour, and (up to a cap per key per batch) a request-log entry.
//! A background task flushes the batch at least every second (and once more on
//! shutdown), in short transactions of a slice of the keys each, so that SQLite's one
//! write lock is never held long enough to stall the charge writer behind it. Counts
//! are exact; only the log is capped, and a request past the cap costs no allocation.

use super::RequestLogEntry;
use crate::error::AppError;
use crate::infra::db::{placeholders, Backend, Db};
use crate::time_fmt::{DAY_MS, HOUR_MS};
use sqlx::Row;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Mutex;

/// Orders one key's requests within a millisecond (the log's `seq` column).
static LOG_SEQUENCE: AtomicI64 = AtomicI64::new(0);

/// Log entries held across all keys, so a database outage cannot exhaust memory;
/// beyond it requests are still counted, only not logged.
const MAX_LOGGED: usize = 1_000_000;
/// Rows per multi-row INSERT: 8 columns each, well under both databases' parameter limits.
const LOG_ROWS_PER_INSERT: usize = 250;
/// A flush writes its keys in slices of about this many rows (log rows plus one per
/// key), each its own transaction: a second of heavy traffic is tens of thousands of
/// rows, and one transaction for all of them would hold SQLite's write lock for tens
/// of milliseconds while every charge waits.
const ROWS_PER_TRANSACTION: usize = 500;

/// What one key did since the last flush.
#[derive(Debug, Default)]
struct KeyTally {
    last_used_at: i64,
    /// Requests per Unix hour: one entry unless the batch spans an hour boundary.
    per_hour: Vec<(i64, i64)>,
    /// The first requests of the batch, oldest first, up to the per-key cap.
    log: Vec<RequestLogEntry>,
}

impl KeyTally {
    fn count(&mut self, hour: i64, requests: i64) {
        match self.per_hour.iter_mut().find(|(h, _)| *h == hour) {
            Some((_, n)) => *n += requests,
            None => self.per_hour.push((hour, requests)),
        }
    }
}

#[derive(Debug, Default)]
struct Batch {
    keys: HashMap<String, KeyTally>,
    requests: u64,
    logged: usize,
}

impl Batch {
    /// Splits into slices of whole keys, in key order, of about `rows` rows each.
    fn split(self, rows: usize) -> Vec<Batch> {
        let mut keys: Vec<(String, KeyTally)> = self.keys.into_iter().collect();
        keys.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        let mut parts = Vec::new();
        let mut part = Batch::default();
        let mut part_rows = 0;
        for (key_id, tally) in keys {
            let key_rows = 1 + tally.log.len();
            if part_rows > 0 && part_rows + key_rows > rows {
                parts.push(std::mem::take(&mut part));
                part_rows = 0;
            }
            part_rows += key_rows;
            part.requests += tally.per_hour.iter().map(|(_, n)| *n as u64).sum::<u64>();
            part.logged += tally.log.len();
            part.keys.insert(key_id, tally);
        }
        if !part.keys.is_empty() {
            parts.push(part);
        }
        parts
    }

    /// Folds a newer batch into this one (after a failed flush), keeping the caps.
    fn absorb(&mut self, newer: Batch, log_rows_per_key: usize) {
        self.requests += newer.requests;
        for (key_id, tally) in newer.keys {
            let mine = self.keys.entry(key_id).or_default();
            mine.last_used_at = mine.last_used_at.max(tally.last_used_at);
            for (hour, n) in tally.per_hour {
                mine.count(hour, n);
            }
            let room = log_rows_per_key
                .saturating_sub(mine.log.len())
                .min(MAX_LOGGED.saturating_sub(self.logged));
            let kept = tally.log.len().min(room);
            mine.log.extend(tally.log.into_iter().take(kept));
            self.logged += kept;
        }
    }
}

pub struct UsageRecorder {
    batch: Mutex<Batch>,
    /// One flush at a time, so the shutdown flush waits for one already under way.
    flushing: tokio::sync::Mutex<()>,
    /// Request-log entries kept per key per batch (about a second). Counters and
    /// last-used times always count every request; only the log is capped.
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
            batch: Mutex::new(Batch::default()),
            flushing: tokio::sync::Mutex::new(()),
            log_rows_per_key: log_rows_per_key.max(1),
        }
    }

    /// Counts one request of `key_id` at `at` (Unix ms). `entry` builds its log
    /// entry and is called only while the key is under its log cap.
    pub fn record(&self, key_id: &str, at: i64, entry: impl FnOnce() -> RequestLogEntry) {
        let mut batch = self.batch.lock().unwrap_or_else(|p| p.into_inner());
        let batch = &mut *batch;
        batch.requests += 1;
        if !batch.keys.contains_key(key_id) {
            batch.keys.insert(key_id.to_owned(), KeyTally::default());
        }
        let Some(tally) = batch.keys.get_mut(key_id) else {
            return;
        };
        tally.last_used_at = tally.last_used_at.max(at);
        tally.count(at.div_euclid(HOUR_MS), 1);
        if tally.log.len() < self.log_rows_per_key && batch.logged < MAX_LOGGED {
            tally.log.push(entry());
            batch.logged += 1;
        }
    }

    /// Writes everything recorded. On failure the batch is kept for the next flush.
    pub async fn flush(&self, db: &Db) -> Result<(), AppError> {
        let _one_at_a_time = self.flushing.lock().await;
        let taken = std::mem::take(&mut *self.batch.lock().unwrap_or_else(|p| p.into_inner()));
        if taken.requests == 0 {
            return Ok(());
        }
        let started = std::time::Instant::now();
        let (requests, keys) = (taken.requests, taken.keys.len());
        let mut parts = taken.split(ROWS_PER_TRANSACTION).into_iter();
        while let Some(part) = parts.next() {
            if let Err(error) = write(db, &part).await {
                // What did not commit goes back, to be written by the next flush.
                let mut batch = self.batch.lock().unwrap_or_else(|p| p.into_inner());
                let newer = std::mem::take(&mut *batch);
                let mut unwritten = part;
                for later in parts {
                    unwritten.absorb(later, usize::MAX);
                }
                unwritten.absorb(newer, self.log_rows_per_key);
                *batch = unwritten;
                return Err(error);
            }
        }
        tracing::debug!(
            requests,
            keys,
            millis = started.elapsed().as_millis() as u64,
            "usage flushed"
        );
        Ok(())
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
async fn write(db: &Db, batch: &Batch) -> Result<(), AppError> {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(at: i64) -> RequestLogEntry {
        RequestLogEntry {
            at,
            method: "GET".into(),
            path: "/api/v1/me".into(),
            status: 200,
            client_addr: "127.0.0.1".into(),
            user_agent: String::new(),
        }
    }

    fn take(recorder: &UsageRecorder) -> Batch {
        std::mem::take(&mut *recorder.batch.lock().unwrap_or_else(|p| p.into_inner()))
    }

    #[test]
    fn counts_every_request_and_logs_only_up_to_the_cap() {
        let recorder = UsageRecorder::new(2);
        let mut built = 0;
        // Five requests straddling the first hour boundary.
        for at in HOUR_MS - 2..HOUR_MS + 3 {
            recorder.record("kid_a", at, || {
                built += 1;
                entry(at)
            });
        }
        recorder.record("kid_b", 7, || entry(7));
        let batch = take(&recorder);
        assert_eq!(batch.requests, 6);
        assert_eq!(batch.logged, 3);
        assert_eq!(built, 2, "no log entry is built past the cap");
        let a = &batch.keys["kid_a"];
        assert_eq!(a.per_hour, vec![(0, 2), (1, 3)]);
        assert_eq!(a.last_used_at, HOUR_MS + 2);
        let logged: Vec<i64> = a.log.iter().map(|e| e.at).collect();
        assert_eq!(
            logged,
            vec![HOUR_MS - 2, HOUR_MS - 1],
            "the first requests, in order"
        );
        assert_eq!(batch.keys["kid_b"].per_hour, vec![(0, 1)]);
    }

    #[test]
    fn a_batch_kept_after_a_failed_flush_absorbs_the_next_within_the_caps() {
        let recorder = UsageRecorder::new(2);
        recorder.record("kid_a", 10, || entry(10));
        let mut kept = take(&recorder);
        recorder.record("kid_a", 20, || entry(20));
        recorder.record("kid_a", HOUR_MS + 5, || entry(HOUR_MS + 5));
        recorder.record("kid_c", 30, || entry(30));
        kept.absorb(take(&recorder), 2);
        assert_eq!(kept.requests, 4);
        let a = &kept.keys["kid_a"];
        assert_eq!(a.per_hour, vec![(0, 2), (1, 1)]);
        assert_eq!(a.last_used_at, HOUR_MS + 5);
        assert_eq!(a.log.iter().map(|e| e.at).collect::<Vec<_>>(), vec![10, 20]);
        assert_eq!(kept.logged, 3);
        assert_eq!(kept.keys["kid_c"].log.len(), 1);
    }

    #[test]
    fn a_batch_splits_into_slices_of_whole_keys_that_add_up_to_it() {
        let recorder = UsageRecorder::new(10);
        for (key, n) in [("kid_a", 4), ("kid_b", 9), ("kid_c", 2), ("kid_d", 1)] {
            for at in 0..n {
                recorder.record(key, at, || entry(at));
            }
        }
        let parts = take(&recorder).split(8);
        let names: Vec<Vec<&str>> = parts
            .iter()
            .map(|p| {
                let mut keys: Vec<&str> = p.keys.keys().map(String::as_str).collect();
                keys.sort_unstable();
                keys
            })
            .collect();
        // 5 rows for kid_a; kid_b's 10 rows alone (a key is never cut); kid_c and kid_d.
        assert_eq!(
            names,
            vec![vec!["kid_a"], vec!["kid_b"], vec!["kid_c", "kid_d"]]
        );
        assert_eq!(
            parts.iter().map(|p| p.requests).collect::<Vec<_>>(),
            vec![4, 9, 3]
        );
        assert_eq!(
            parts.iter().map(|p| p.logged).collect::<Vec<_>>(),
            vec![4, 9, 3]
        );
    }
}
