//! Everything a request handler or server function may need, cloned cheaply.

use super::{
    clock::Clock,
    config::Config,
    db::{Backend, Db},
    throttle::FailureThrottle,
};
use crate::keys::verify::KeyCache;
use crate::usage::recorder::UsageRecorder;
use axum::extract::FromRef;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use leptos::config::LeptosOptions;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Postgres channel on which processes announce changed keys.
pub const KEY_CHANGES_CHANNEL: &str = "keyward_key_changed";

/// Shared by every request: cloning it is one reference-count increment, which
/// matters because axum clones the state for each layer and handler a request meets.
#[derive(Clone)]
pub struct AppState(Arc<SharedState>);

impl std::ops::Deref for AppState {
    type Target = SharedState;

    fn deref(&self) -> &SharedState {
        &self.0
    }
}

pub struct SharedState {
    pub leptos_options: LeptosOptions,
    pub db: Db,
    pub config: Arc<Config>,
    pub clock: Clock,
    /// Failed sign-ins per email address.
    pub sign_in_by_email: Arc<FailureThrottle>,
    /// Failed sign-ins per client address.
    pub sign_in_by_client: Arc<FailureThrottle>,
    /// Accounts created per client address: each costs an argon2 hash and a row.
    pub sign_ups_by_client: FailureThrottle,
    /// Failed API key authentications per client address.
    pub api_auth_failures: Arc<FailureThrottle>,
    /// Requests per API key (GCRA).
    pub key_rate_limit: Arc<DefaultKeyedRateLimiter<String>>,
    pub key_cache: Arc<KeyCache>,
    pub usage: Arc<UsageRecorder>,
    /// When the database last answered a health probe (Unix ms).
    last_healthy_ms: AtomicI64,
}

impl AppState {
    pub fn new(leptos_options: LeptosOptions, db: Db, config: Config) -> Self {
        let window = config.sign_in_window_secs;
        let max = config.sign_in_max_failures;
        let per_sec = NonZeroU32::new(config.rate_limit_per_sec).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(config.rate_limit_burst).unwrap_or(NonZeroU32::MIN);
        Self(Arc::new(SharedState {
            leptos_options,
            db,
            sign_in_by_email: Arc::new(FailureThrottle::new(max, window)),
            // One address may serve a whole office; allow it more room than one email.
            sign_in_by_client: Arc::new(FailureThrottle::per_network(
                max.saturating_mul(4),
                window,
            )),
            sign_ups_by_client: FailureThrottle::per_network(config.sign_ups_per_hour, 3600),
            api_auth_failures: Arc::new(FailureThrottle::per_network(
                config.auth_failures_per_min,
                60,
            )),
            key_rate_limit: Arc::new(RateLimiter::keyed(
                Quota::per_second(per_sec).allow_burst(burst),
            )),
            key_cache: Arc::new(KeyCache::default()),
            usage: Arc::new(UsageRecorder::new(config.request_log_per_key_per_sec)),
            last_healthy_ms: AtomicI64::new(i64::MIN),
            config: Arc::new(config),
            clock: Clock::default(),
        }))
    }

    pub fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }

    /// Whether the database answers; a success is trusted for one second, so health
    /// checks under load do not queue behind the database.
    pub async fn database_reachable(&self) -> bool {
        let now = self.now_ms();
        if now.saturating_sub(self.last_healthy_ms.load(Ordering::Relaxed)) < 1_000 {
            return true;
        }
        match sqlx::query("SELECT 1").execute(&self.db.pool).await {
            Ok(_) => {
                self.last_healthy_ms.store(now, Ordering::Relaxed);
                true
            }
            Err(error) => {
                tracing::error!(%error, "health check: database unreachable");
                false
            }
        }
    }

    /// Call inside the transaction that changes a key, before committing it. Postgres
    /// delivers the NOTIFY to every process (this one included) only if the transaction
    /// commits. The returned guard clears this process's cache when dropped: after the
    /// commit, before the answer, and even if the request is abandoned half-way.
    pub async fn announce_key_change(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        key_id: &str,
    ) -> Result<InvalidateOnDrop, sqlx::Error> {
        if self.db.backend == Backend::Postgres {
            sqlx::query("SELECT CAST(1 AS BIGINT) FROM pg_notify($1, $2)")
                .bind(KEY_CHANGES_CHANNEL)
                .bind(key_id)
                .execute(&mut **tx)
                .await?;
        }
        Ok(InvalidateOnDrop {
            cache: self.key_cache.clone(),
            key_id: key_id.to_string(),
        })
    }

    /// Usage flushing (every second), request-log pruning (hourly), and on Postgres
    /// the listener for key changes made by other processes.
    pub fn start_background_tasks(&self) {
        let state = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(1));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                if let Err(error) = state.usage.flush(&state.db).await {
                    tracing::error!(%error, "usage flush failed; will retry");
                }
            }
        });
        let state = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(3600));
            loop {
                tick.tick().await;
                match UsageRecorder::prune(&state.db, state.now_ms(), state.config.request_log_days)
                    .await
                {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(rows = n, "pruned old request-log rows"),
                    Err(error) => tracing::error!(%error, "request-log pruning failed"),
                }
                state.key_rate_limit.retain_recent();
            }
        });
        if self.db.backend == Backend::Postgres {
            tokio::spawn(listen_for_key_changes(self.clone()));
        }
    }

    /// Called once the server stops accepting requests: flushes what is buffered.
    pub async fn shutdown(&self) {
        match self.usage.flush(&self.db).await {
            Ok(()) => tracing::info!("usage flushed"),
            Err(error) => tracing::error!(%error, "final usage flush failed"),
        }
        self.db.pool.close().await;
    }
}

/// Forgets a key in this process's cache when dropped.
#[must_use = "the cache is cleared when this guard is dropped"]
pub struct InvalidateOnDrop {
    cache: Arc<KeyCache>,
    key_id: String,
}

impl Drop for InvalidateOnDrop {
    fn drop(&mut self) {
        self.cache.invalidate(&self.key_id);
    }
}

async fn listen_for_key_changes(state: AppState) {
    use sqlx::postgres::PgListener;
    loop {
        match PgListener::connect(&state.config.database_url).await {
            Ok(mut listener) => match listener.listen(KEY_CHANGES_CHANNEL).await {
                Ok(()) => {
                    // Anything may have changed while we were not listening.
                    state.key_cache.clear();
                    loop {
                        match listener.try_recv().await {
                            Ok(Some(notification)) => {
                                state.key_cache.invalidate(notification.payload())
                            }
                            // The connection dropped and was re-established: notifications may be lost.
                            Ok(None) => state.key_cache.clear(),
                            Err(error) => {
                                tracing::warn!(%error, "key-change listener stopped");
                                break;
                            }
                        }
                    }
                }
                Err(error) => tracing::warn!(%error, "cannot LISTEN for key changes"),
            },
            Err(error) => tracing::warn!(%error, "cannot connect the key-change listener"),
        }
        state.key_cache.clear();
        tokio::time::sleep(Duration::from_secs(5)).await;
    }
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}
