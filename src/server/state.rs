//! Everything a request handler or server function may need, cloned cheaply.

use super::{clock::Clock, config::Config, db::Db, throttle::FailureThrottle};
use axum::extract::FromRef;
use leptos::config::LeptosOptions;
use std::sync::Arc;

#[derive(Clone)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub db: Db,
    pub config: Arc<Config>,
    pub clock: Clock,
    /// Failed sign-ins per email address.
    pub sign_in_by_email: Arc<FailureThrottle>,
    /// Failed sign-ins per client address.
    pub sign_in_by_client: Arc<FailureThrottle>,
}

impl AppState {
    pub fn new(leptos_options: LeptosOptions, db: Db, config: Config) -> Self {
        let window = config.sign_in_window_secs;
        let max = config.sign_in_max_failures;
        Self {
            leptos_options,
            db,
            sign_in_by_email: Arc::new(FailureThrottle::new(max, window)),
            // One address may serve a whole office; allow it more room than one email.
            sign_in_by_client: Arc::new(FailureThrottle::new(max.saturating_mul(4), window)),
            config: Arc::new(config),
            clock: Clock::default(),
        }
    }

    pub fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

impl AppState {
    /// Called once the server stops accepting requests: flushes what is buffered.
    pub async fn shutdown(&self) {
        self.db.pool.close().await;
    }
}

impl AppState {
    /// Called after a key's row or values changed and the change committed.
    pub async fn key_changed(&self, _key_id: &str) {}
}
