//! Counts events per subject (an email, a client address) in a sliding window:
//! failed sign-ins, failed key authentications, accounts created.
//! Only recorded events fill the window; a check alone costs nothing.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

#[derive(Debug)]
pub struct FailureThrottle {
    max_failures: usize,
    window_ms: i64,
    failures: Mutex<HashMap<String, VecDeque<i64>>>,
}

impl FailureThrottle {
    pub fn new(max_failures: u32, window_secs: i64) -> Self {
        Self {
            max_failures: max_failures.max(1) as usize,
            window_ms: window_secs.max(1) * 1000,
            failures: Mutex::new(HashMap::new()),
        }
    }

    /// Seconds to wait if `subject` has used up its failures, else `None`.
    pub fn retry_after(&self, subject: &str, now_ms: i64) -> Option<u64> {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let times = map.get_mut(subject)?;
        while times.front().is_some_and(|&t| t <= now_ms - self.window_ms) {
            times.pop_front();
        }
        if times.len() < self.max_failures {
            if times.is_empty() {
                map.remove(subject);
            }
            return None;
        }
        let oldest = *times.front()?;
        let wait_ms = oldest + self.window_ms - now_ms;
        Some(((wait_ms + 999) / 1000).max(1) as u64)
    }

    pub fn record(&self, subject: &str, now_ms: i64) {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        // Keep memory bounded when many subjects fail once and never return.
        if map.len() > 100_000 {
            let cutoff = now_ms - self.window_ms;
            map.retain(|_, times| times.back().is_some_and(|&t| t > cutoff));
        }
        let times = map.entry(subject.to_string()).or_default();
        times.push_back(now_ms);
        while times.len() > self.max_failures {
            times.pop_front();
        }
    }

    /// Takes back one failure recorded at `at` (an attempt that turned out fine).
    pub fn forgive(&self, subject: &str, at: i64) {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(times) = map.get_mut(subject) {
            if let Some(i) = times.iter().rposition(|&t| t == at) {
                times.remove(i);
            }
        }
    }

    pub fn clear(&self, subject: &str) {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        map.remove(subject);
    }
}

#[cfg(test)]
mod tests {
    use super::FailureThrottle;

    #[test]
    fn blocks_after_max_failures_until_window_passes() {
        let throttle = FailureThrottle::new(3, 60);
        for t in 0..3 {
            assert_eq!(throttle.retry_after("a", t * 1000), None);
            throttle.record("a", t * 1000);
        }
        assert_eq!(throttle.retry_after("a", 3_000), Some(57));
        assert_eq!(throttle.retry_after("b", 3_000), None);
        assert_eq!(throttle.retry_after("a", 60_001), None);
    }
}
