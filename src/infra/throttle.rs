//! Counts events per subject (an email, a client address) in a sliding window:
//! failed sign-ins, failed key authentications, accounts created.
//! Only recorded events fill the window; a check alone costs nothing.

use lru::LruCache;
use std::borrow::Cow;
use std::collections::VecDeque;
use std::net::IpAddr;
use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// Subjects one throttle remembers; past this the least recently seen is forgotten,
/// in constant time, so a flood of one-off subjects cannot exhaust memory.
pub const MAX_SUBJECTS: usize = 100_000;

#[derive(Debug)]
pub struct FailureThrottle {
    max_failures: usize,
    window_ms: i64,
    /// Subjects are client addresses, counted per network (see `network_of`).
    by_network: bool,
    failures: Mutex<LruCache<String, VecDeque<i64>>>,
    /// How many subjects `failures` holds, readable without the lock: the API key
    /// path asks `retry_after` on every request, and almost always nobody is listed.
    subjects: AtomicUsize,
}

impl FailureThrottle {
    pub fn new(max_failures: u32, window_secs: i64) -> Self {
        Self::with_capacity(max_failures, window_secs, MAX_SUBJECTS)
    }

    /// A throttle that remembers at most `max_subjects` subjects.
    pub fn with_capacity(max_failures: u32, window_secs: i64, max_subjects: usize) -> Self {
        Self {
            max_failures: max_failures.max(1) as usize,
            window_ms: window_secs.max(1) * 1000,
            by_network: false,
            failures: Mutex::new(LruCache::new(
                NonZeroUsize::new(max_subjects).unwrap_or(NonZeroUsize::MIN),
            )),
            subjects: AtomicUsize::new(0),
        }
    }

    /// A throttle whose subjects are client addresses: an IPv6 address counts as its
    /// /64, since one subscriber is usually handed a whole /64 and could otherwise
    /// take a fresh address for every attempt.
    pub fn per_network(max_failures: u32, window_secs: i64) -> Self {
        Self {
            by_network: true,
            ..Self::new(max_failures, window_secs)
        }
    }

    fn subject_key<'a>(&self, subject: &'a str) -> Cow<'a, str> {
        if self.by_network {
            network_of(subject)
        } else {
            Cow::Borrowed(subject)
        }
    }

    /// Seconds to wait if `subject` has used up its failures, else `None`.
    pub fn retry_after(&self, subject: &str, now_ms: i64) -> Option<u64> {
        if self.subjects.load(Ordering::Acquire) == 0 {
            return None;
        }
        let subject = &*self.subject_key(subject);
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let times = map.get_mut(subject)?;
        while times.front().is_some_and(|&t| t <= now_ms - self.window_ms) {
            times.pop_front();
        }
        if times.len() < self.max_failures {
            if times.is_empty() {
                map.pop(subject);
                self.subjects.store(map.len(), Ordering::Release);
            }
            return None;
        }
        let oldest = *times.front()?;
        let wait_ms = oldest + self.window_ms - now_ms;
        Some(((wait_ms + 999) / 1000).max(1) as u64)
    }

    /// `retry_after`, and when it is `None` an attempt recorded, under one lock: parallel
    /// attempts cannot all pass the check before any is counted.
    pub fn check_and_record(&self, subject: &str, now_ms: i64) -> Option<u64> {
        let subject = &*self.subject_key(subject);
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let times = map.get_or_insert_mut(subject.to_string(), VecDeque::new);
        while times.front().is_some_and(|&t| t <= now_ms - self.window_ms) {
            times.pop_front();
        }
        let wait = (times.len() >= self.max_failures).then(|| {
            let oldest = times.front().copied().unwrap_or(now_ms);
            (((oldest + self.window_ms - now_ms) + 999) / 1000).max(1) as u64
        });
        if wait.is_none() {
            times.push_back(now_ms);
        }
        self.subjects.store(map.len(), Ordering::Release);
        wait
    }

    /// Failures recorded for `subject` within the window.
    pub fn count(&self, subject: &str, now_ms: i64) -> usize {
        if self.subjects.load(Ordering::Acquire) == 0 {
            return 0;
        }
        let subject = &*self.subject_key(subject);
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        map.get(subject).map_or(0, |times| {
            times
                .iter()
                .filter(|&&t| t > now_ms - self.window_ms)
                .count()
        })
    }

    pub fn record(&self, subject: &str, now_ms: i64) {
        let subject = &*self.subject_key(subject);
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let times = map.get_or_insert_mut(subject.to_string(), VecDeque::new);
        times.push_back(now_ms);
        while times.len() > self.max_failures {
            times.pop_front();
        }
        self.subjects.store(map.len(), Ordering::Release);
    }

    /// Takes back one failure recorded at `at` (an attempt that turned out fine).
    pub fn forgive(&self, subject: &str, at: i64) {
        let subject = &*self.subject_key(subject);
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(times) = map.get_mut(subject) {
            if let Some(i) = times.iter().rposition(|&t| t == at) {
                times.remove(i);
            }
        }
    }

    pub fn clear(&self, subject: &str) {
        let subject = &*self.subject_key(subject);
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        map.pop(subject);
        self.subjects.store(map.len(), Ordering::Release);
    }
}

/// The network a client address belongs to for throttling: an IPv6 address's /64
/// (IPv4-mapped addresses count as IPv4); anything else as it is.
pub fn network_of(client_addr: &str) -> Cow<'_, str> {
    match client_addr.parse::<IpAddr>() {
        Ok(IpAddr::V6(v6)) if v6.to_ipv4_mapped().is_none() => {
            let s = v6.segments();
            Cow::Owned(format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3]))
        }
        Ok(IpAddr::V6(v6)) => Cow::Owned(v6.to_canonical().to_string()),
        _ => Cow::Borrowed(client_addr),
    }
}

#[cfg(test)]
mod tests {
    use super::{network_of, FailureThrottle};

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

    #[test]
    fn memory_is_bounded_and_the_least_recent_subject_goes_first() {
        let throttle = FailureThrottle::with_capacity(1, 60, 3);
        for subject in ["a", "b", "c"] {
            throttle.record(subject, 0);
        }
        // Touching "a" makes "b" the least recently seen.
        assert!(throttle.retry_after("a", 1).is_some());
        throttle.record("d", 1);
        assert!(throttle.retry_after("b", 1).is_none(), "b was forgotten");
        for subject in ["a", "c", "d"] {
            assert!(throttle.retry_after(subject, 1).is_some(), "{subject}");
        }
        for i in 0..1_000 {
            throttle.record(&format!("s{i}"), 2);
        }
        assert!(throttle.failures.lock().unwrap().len() <= 3);
    }

    #[test]
    fn an_ipv6_network_counts_as_one_client() {
        assert_eq!(network_of("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
        assert_eq!(network_of("::ffff:192.0.2.7"), "192.0.2.7");
        assert_eq!(network_of("192.0.2.7"), "192.0.2.7");
        assert_eq!(network_of("unknown"), "unknown");

        let throttle = FailureThrottle::per_network(2, 60);
        throttle.record("2001:db8:1:2::1", 0);
        throttle.record("2001:db8:1:2::2", 0);
        assert!(throttle.retry_after("2001:db8:1:2:ffff::9", 1).is_some());
        assert_eq!(throttle.retry_after("2001:db8:1:3::1", 1), None);
        throttle.forgive("2001:db8:1:2::7", 0);
        assert_eq!(throttle.retry_after("2001:db8:1:2::1", 1), None);
        // Plain throttles (per email) take subjects as they are.
        let by_email = FailureThrottle::new(1, 60);
        by_email.record("2001:db8:1:2::1", 0);
        assert_eq!(by_email.retry_after("2001:db8:1:2::2", 1), None);
    }
}
