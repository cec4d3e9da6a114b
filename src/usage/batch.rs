//! A usage batch in memory: what each key did since the last flush (its last use, a
//! count per hour, the first requests' log entries), and how batches are split into
//! slices for writing and merged back after a failed write.

use super::RequestLogEntry;
use std::collections::HashMap;

/// Log entries held across all keys, so a database outage cannot exhaust memory;
/// beyond it requests are still counted, only not logged.
pub(super) const MAX_LOGGED: usize = 1_000_000;

/// What one key did since the last flush.
#[derive(Debug, Default)]
pub(super) struct KeyTally {
    pub(super) last_used_at: i64,
    /// Requests per Unix hour: one entry unless the batch spans an hour boundary.
    pub(super) per_hour: Vec<(i64, i64)>,
    /// The first requests of the batch, oldest first, up to the per-key cap.
    pub(super) log: Vec<RequestLogEntry>,
}

impl KeyTally {
    pub(super) fn count(&mut self, hour: i64, requests: i64) {
        match self.per_hour.iter_mut().find(|(h, _)| *h == hour) {
            Some((_, n)) => *n += requests,
            None => self.per_hour.push((hour, requests)),
        }
    }
}

#[derive(Debug, Default)]
pub(super) struct Batch {
    pub(super) keys: HashMap<String, KeyTally>,
    pub(super) requests: u64,
    pub(super) logged: usize,
}

impl Batch {
    /// Splits into slices of whole keys, in key order, of about `rows` rows each.
    pub(super) fn split(self, rows: usize) -> Vec<Batch> {
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
    pub(super) fn absorb(&mut self, newer: Batch, log_rows_per_key: usize) {
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
