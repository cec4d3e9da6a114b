//! The server process: configuration, database, router, and a graceful shutdown.

use super::state::AppState;
use crate::infra::{
    config::{redact_url, Config},
    db::Db,
};
use std::future::IntoFuture;
use std::net::SocketAddr;
use std::process::ExitCode;

/// Serves the app until SIGINT or SIGTERM, then flushes what is buffered.
pub async fn serve(config: Config) -> ExitCode {
    match (&config.smtp_url, config.mail_log_bodies) {
        (_, true) => tracing::warn!(
            "KEYWARD_MAIL_LOG_BODIES is set: every email, with its verification, reset and invitation links, is written to this log (development only)"
        ),
        (None, false) => tracing::warn!(
            "KEYWARD_SMTP_URL is not set: no email is sent (verification, reset and invitation links included); set KEYWARD_MAIL_LOG_BODIES=1 to read them in this log while developing"
        ),
        (Some(_), false) => {}
    }
    if config.service_token.is_none() {
        tracing::info!(
            "KEYWARD_SERVICE_TOKEN is not set: POST /api/v1/verify (key checks and charges) is off"
        );
    }
    match &config.stripe {
        Some(stripe) => tracing::info!(api = %stripe.api_base, "card payments through Stripe are on"),
        None => tracing::info!(
            "KEYWARD_STRIPE_* are not set: card payments are off, and an order for credits completes only when a promotion code pays all of it"
        ),
    }
    match (&config.hub, &config.hub_oauth) {
        (Some(hub), Some(_)) => {
            tracing::info!(hub = %hub.url, "Lab servers on JupyterHub are on, with single sign-on")
        }
        (Some(hub), None) => tracing::warn!(
            hub = %hub.url,
            "Lab servers are on but KEYWARD_OAUTH_* are not set: the hub cannot sign people in through Keyward"
        ),
        (None, _) => tracing::info!(
            "KEYWARD_JUPYTERHUB_URL is not set: Lab is off, and its pages say it is not set up"
        ),
    }
    let db = match Db::connect(&config.database_url).await {
        Ok(db) => db,
        Err(error) => {
            eprintln!(
                "keyward: cannot open the database ({}): {error}",
                redact_url(&config.database_url)
            );
            return ExitCode::FAILURE;
        }
    };
    // A restore refuses to replace an SQLite database while this is held.
    let _serving = match crate::infra::backup::sqlite_path(&config.database_url) {
        Some(path) => match crate::infra::backup::hold_serving_lock(&path) {
            Ok(lock) => Some(lock),
            Err(why) => {
                tracing::warn!("{why}; SQLite is for one process: use Postgres for several");
                None
            }
        },
        None => None,
    };
    let addr = config.addr;
    let grace = std::time::Duration::from_secs(config.operations.shutdown_grace_secs);
    let state = match AppState::new(super::leptos_options(&config), db, config) {
        Ok(state) => state,
        Err(message) => {
            eprintln!("keyward: configuration error: {message}");
            return ExitCode::FAILURE;
        }
    };
    state.start_background_tasks();
    let app = super::router(state.clone());

    let listener = match tokio::net::TcpListener::bind(addr).await {
        Ok(listener) => listener,
        Err(error) => {
            eprintln!(
                "keyward: cannot listen on {addr}: {error} (set KEYWARD_ADDR to another address)"
            );
            return ExitCode::FAILURE;
        }
    };
    tracing::info!("listening on http://{addr}");
    // On SIGTERM: report not ready at once, stop accepting, give requests under way
    // `KEYWARD_SHUTDOWN_GRACE_SECS` to finish, then flush what is buffered.
    let (stopping, stopped) = tokio::sync::oneshot::channel::<()>();
    let signalled = state.clone();
    let serving = axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        shutdown_signal().await;
        signalled.vitals.begin_shutdown();
        tracing::info!("stopping: not ready, finishing requests under way");
        let _ = stopping.send(());
    })
    .into_future();
    let served = tokio::select! {
        served = serving => served,
        () = async {
            let _ = stopped.await;
            tokio::time::sleep(grace).await;
        } => {
            tracing::warn!(grace_secs = grace.as_secs(), "requests still under way after the grace period; stopping anyway");
            Ok(())
        }
    };
    state.shutdown().await;
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("keyward: server error: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Resolves on SIGINT or SIGTERM.
async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = interrupt => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down");
}
