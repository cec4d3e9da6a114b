//! What the process knows of its own health, for `/health/ready` (`health`): kept in
//! the application state, written by the background tasks and the shutdown.

use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};

/// What the process knows of its own health.
#[derive(Debug, Default)]
pub struct Vitals {
    shutting_down: AtomicBool,
    /// When the usage flusher last finished a flush (0: never).
    usage_flushed_ms: AtomicI64,
}

impl Vitals {
    pub fn usage_flushed(&self, now: i64) {
        self.usage_flushed_ms.store(now, Ordering::Relaxed);
    }

    /// From now on the process reports not ready, so the load balancer sends it nothing new.
    pub fn begin_shutdown(&self) {
        self.shutting_down.store(true, Ordering::Relaxed);
    }

    /// When the usage flusher last finished a flush (0: never).
    pub fn usage_flushed_at(&self) -> i64 {
        self.usage_flushed_ms.load(Ordering::Relaxed)
    }

    pub fn shutting_down(&self) -> bool {
        self.shutting_down.load(Ordering::Relaxed)
    }
}
