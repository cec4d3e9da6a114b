//! Everything a request handler or server function may need, cloned cheaply.

use crate::auth::{sessions::Sessions, store::Accounts};
use crate::infra::{billing::BillingProvider, payments::PaymentProvider, stripe::Stripe};
use crate::infra::{
    clock::Clock,
    config::Config,
    db::{Backend, Db},
    mail::Mailer,
    throttle::FailureThrottle,
};
use crate::keys::{
    cache::{listen_for_key_changes, KeyCache, KeyChanges},
    rules,
    store::KeyStore,
    verify::Verifier,
    ScopeInfo,
};
use crate::lab::{control::Lab, runner::Runner};
use crate::usage::recorder::UsageRecorder;
use crate::wallet::charges::Charger;
use axum::extract::FromRef;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use leptos::config::LeptosOptions;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

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
    pub accounts: Accounts,
    pub mailer: Mailer,
    pub sessions: Sessions,
    pub keys: KeyStore,
    pub verifier: Verifier,
    pub key_cache: Arc<KeyCache>,
    /// Failed API key authentications per client address.
    pub api_auth_failures: FailureThrottle,
    /// Wrong OAuth client credentials at the token endpoint, per client address.
    pub oauth_client_failures: FailureThrottle,
    /// Requests per API key (GCRA).
    pub key_rate_limit: DefaultKeyedRateLimiter<String>,
    pub usage: UsageRecorder,
    /// Writes charges in groups, one transaction per group.
    pub charger: Charger,
    /// Card payments (Stripe), when configured.
    pub payments: Option<Arc<dyn PaymentProvider>>,
    /// Subscriptions (Stripe Billing), when Stripe is configured.
    pub billing: Option<Arc<dyn BillingProvider>>,
    /// The subscription page's next invoice, a minute per subscription.
    pub upcoming_invoices: crate::billing::upcoming::UpcomingInvoices,
    /// Lab servers on a JupyterHub, when configured.
    pub lab: Option<Lab>,
    /// When the database last answered a health probe (Unix ms).
    last_healthy_ms: AtomicI64,
    /// Process health for `/health/ready` (`web::health`).
    pub vitals: super::vitals::Vitals,
}

/// Stripe when it is configured, for card payments and for subscriptions; a client that
/// cannot be built is logged and leaves both off.
fn stripe(config: &Config) -> Option<Arc<Stripe>> {
    let stripe = Stripe::new(config.stripe.clone()?)
        .map_err(|error| tracing::error!(%error, "card payments and subscriptions are off"))
        .ok()?;
    Some(Arc::new(stripe))
}

/// The hub when it is configured; a client that cannot be built is logged and leaves
/// Lab off.
fn lab_hub(config: &Config) -> Option<Lab> {
    Lab::new(
        config.hub.as_ref()?,
        config.lab.clone(),
        config.plans.clone(),
    )
    .map_err(|error| tracing::error!(%error, "Lab is off"))
    .ok()
}

impl AppState {
    /// An error is a mail setting that cannot be used (`Config::from_env` refuses it
    /// first); nothing falls back silently.
    pub fn new(leptos_options: LeptosOptions, db: Db, config: Config) -> Result<Self, String> {
        let clock = Clock::default();
        let mailer = Mailer::new(
            config.smtp_url.as_deref(),
            &config.mail_from,
            config.mail_log_bodies,
        )?;
        let key_cache = Arc::new(KeyCache::default());
        let stripe = stripe(&config);
        let catalog = rules::catalog(config.extra_scopes.iter().map(|s| ScopeInfo {
            name: s.name.clone(),
            description: s.description.clone(),
        }));
        let per_sec = NonZeroU32::new(config.rate_limit_per_sec).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(config.rate_limit_burst).unwrap_or(NonZeroU32::MIN);
        crate::wallet::low_balance::start_sender(
            db.clone(),
            mailer.clone(),
            clock.clone(),
            config.base_url(),
        );
        Ok(Self(Arc::new(SharedState {
            leptos_options,
            accounts: Accounts::new(db.clone(), clock.clone(), &config, mailer.clone()),
            mailer,
            sessions: Sessions::new(db.clone(), clock.clone(), &config),
            keys: KeyStore::new(
                db.clone(),
                clock.clone(),
                &config.key_prefix,
                catalog,
                KeyChanges::new(key_cache.clone(), db.backend),
            )
            .with_max_keys_per_owner(config.max_keys_per_account),
            verifier: Verifier::new(
                &config.key_prefix,
                clock.clone(),
                db.clone(),
                key_cache.clone(),
            ),
            key_cache,
            api_auth_failures: FailureThrottle::per_network(config.auth_failures_per_min, 60),
            oauth_client_failures: FailureThrottle::per_network(
                config.sign_in_max_failures.saturating_mul(2),
                config.sign_in_window_secs,
            ),
            key_rate_limit: RateLimiter::keyed(Quota::per_second(per_sec).allow_burst(burst)),
            usage: UsageRecorder::new(config.request_log_per_key_per_sec),
            charger: Charger::start(db.clone(), clock.clone()),
            payments: stripe.clone().map(|s| s as Arc<dyn PaymentProvider>),
            billing: stripe.map(|s| s as Arc<dyn BillingProvider>),
            upcoming_invoices: Default::default(),
            lab: lab_hub(&config),
            last_healthy_ms: AtomicI64::new(i64::MIN),
            vitals: Default::default(),
            config: Arc::new(config),
            clock,
            db,
        })))
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

    /// Usage flushing (every second), request-log pruning (hourly), and on Postgres
    /// the listener for key changes made by other processes.
    pub fn start_background_tasks(&self) {
        self.db.start_background_checkpoints();
        let state = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(1));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                match state.usage.flush(&state.db).await {
                    Ok(()) => state.vitals.usage_flushed(state.now_ms()),
                    Err(error) => tracing::error!(%error, "usage flush failed; will retry"),
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
                if let Err(error) = crate::auth::oauth::prune(&state.db, state.now_ms()).await {
                    tracing::error!(%error, "pruning expired sign-in codes and tokens failed");
                }
            }
        });
        let state = self.clone();
        tokio::spawn(async move {
            // Promo codes held by orders abandoned for 30 minutes go back to the pool.
            let mut tick = tokio::time::interval(Duration::from_secs(60));
            loop {
                tick.tick().await;
                match crate::wallet::orders::release_stale(&state.db, state.now_ms()).await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(orders = n, "released promo codes of abandoned orders"),
                    Err(error) => tracing::error!(%error, "releasing abandoned promo codes failed"),
                }
                // And codes held for a subscribe call that never finished.
                match crate::billing::discounts::release_stale(&state.db, state.now_ms()).await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(
                        reservations = n,
                        "released promo codes of unfinished subscriptions"
                    ),
                    Err(error) => {
                        tracing::error!(%error, "releasing subscription promo codes failed")
                    }
                }
                // Jobs the job service stopped updating: their holds go back.
                match crate::jobs::cancel::expire_stale(
                    &state.db,
                    state.config.operations.job_hold_hours,
                    state.now_ms(),
                    500,
                )
                .await
                {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(jobs = n, "released the holds of stale jobs"),
                    Err(error) => tracing::error!(%error, "releasing stale job holds failed"),
                }
                // Included credits whose period has ended: what is left of them goes.
                match crate::wallet::included::expire_due(&state.db, state.now_ms(), 500).await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(grants = n, "expired included credits"),
                    Err(error) => tracing::error!(%error, "expiring included credits failed"),
                }
            }
        });
        crate::operator_webhooks::sender::start(self.db.clone(), self.clock.clone());
        let state = self.clone();
        tokio::spawn(async move {
            // Low-balance crossings become `credits.low_balance` webhooks.
            let mut tick = tokio::time::interval(Duration::from_secs(2));
            loop {
                tick.tick().await;
                if let Err(error) =
                    crate::wallet::low_balance::queue_webhooks(&state.db, state.now_ms()).await
                {
                    tracing::error!(%error, "queueing low-balance webhooks failed");
                }
            }
        });
        if let Some(lab) = &self.lab {
            match Runner::new(
                lab.clone(),
                self.db.clone(),
                self.clock.clone(),
                self.mailer.clone(),
                self.config.base_url(),
            ) {
                Ok(runner) => runner.start(),
                Err(error) => tracing::error!(%error, "Lab metering did not start"),
            }
        }
        if self.db.backend == Backend::Postgres {
            tokio::spawn(listen_for_key_changes(
                self.config.database_url.clone(),
                self.key_cache.clone(),
            ));
        }
    }

    /// Called once the server stops accepting requests: flushes what is buffered.
    pub async fn shutdown(&self) {
        match self.usage.flush(&self.db).await {
            Ok(()) => tracing::info!("usage flushed"),
            Err(error) => tracing::error!(%error, "final usage flush failed"),
        }
        // Mail accepted before the signal (a reset link, an invitation) still goes out,
        // within reason: an SMTP server that does not answer does not hold the exit.
        if tokio::time::timeout(std::time::Duration::from_secs(10), self.mailer.flush())
            .await
            .is_err()
        {
            tracing::warn!("some emails were still being sent at exit");
        }
        self.db.pool.close().await;
    }
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}
