//! The server's notion of "now", which tests move forward instead of sleeping.

use std::sync::{
    atomic::{AtomicBool, AtomicI64, Ordering},
    Arc,
};

#[derive(Clone, Debug, Default)]
pub struct Clock {
    /// Added to the real time; while pinned, the time itself.
    offset_ms: Arc<AtomicI64>,
    pinned: Arc<AtomicBool>,
}

impl Clock {
    /// Unix milliseconds.
    pub fn now_ms(&self) -> i64 {
        let offset = self.offset_ms.load(Ordering::SeqCst);
        if self.pinned.load(Ordering::SeqCst) {
            offset
        } else {
            crate::time_fmt::now_ms() + offset
        }
    }

    /// Moves this clock (and every clone of it) forward; for tests.
    pub fn advance_secs(&self, secs: i64) {
        self.offset_ms.fetch_add(secs * 1000, Ordering::SeqCst);
    }

    /// Stops this clock (and every clone of it) at `ms` (Unix milliseconds): it reads
    /// that until moved with `advance_secs`. For tests at a chosen moment, such as the
    /// last second of a month.
    pub fn pin_at(&self, ms: i64) {
        self.offset_ms.store(ms, Ordering::SeqCst);
        self.pinned.store(true, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::Clock;

    #[test]
    fn a_pinned_clock_reads_its_moment_until_moved() {
        let clock = Clock::default();
        let shared = clock.clone();
        clock.pin_at(1_764_547_199_000);
        assert_eq!(shared.now_ms(), 1_764_547_199_000);
        std::thread::sleep(std::time::Duration::from_millis(5));
        assert_eq!(shared.now_ms(), 1_764_547_199_000);
        shared.advance_secs(2);
        assert_eq!(clock.now_ms(), 1_764_547_201_000);
    }
}
