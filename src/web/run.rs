//! The server process: configuration, database, router, and a graceful shutdown.

use super::state::AppState;
use crate::infra::{
    config::{redact_url, Config},
    db::Db,
};
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
    let addr = config.addr;
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
    let served = axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await;
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
