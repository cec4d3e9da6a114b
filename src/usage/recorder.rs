//! The usage recorder: every authenticated request is counted into the in-memory
//! batch (`batch`), which is flushed to the database (`batch_writer`).
//!
//! `record` adds one request to its key's tally under a short lock: the last-used
//! time, a count per hour, and (up to a cap per key per batch) a request-log entry.
//! A background task flushes the batch at least every second (and once more on
//! shutdown), in short transactions of a slice of the keys each, so that SQLite's one
//! write lock is never held long enough to stall the charge writer behind it. Counts
//! are exact; only the log is capped, and a request past the cap costs no allocation.

use super::batch::{Batch, KeyTally, MAX_LOGGED};
use super::batch_writer::write;
use super::RequestLogEntry;
use crate::error::AppError;
use crate::infra::db::Db;
use crate::time_fmt::{DAY_MS, HOUR_MS};
use std::sync::Mutex;

/// A flush writes its keys in slices of about this many rows (log rows plus one per
/// key), each its own transaction: a second of heavy traffic is tens of thousands of
/// rows, and one transaction for all of them would hold SQLite's write lock for tens
/// of milliseconds while every charge waits.
const ROWS_PER_TRANSACTION: usize = 500;

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
