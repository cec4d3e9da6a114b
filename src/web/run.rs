//! The server process: configuration, database, router, and a graceful shutdown.

use super::state::AppState;
use crate::infra::{
    config::{redact_url, Config},
    db::Db,
    mail::Mailer,
};
use std::net::SocketAddr;
use std::process::ExitCode;

pub async fn main() -> ExitCode {
    let _ = dotenvy::dotenv();
    tracing_subscriber::fmt()
        // Colour only for a person at a terminal, not in log files.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "keyward=info,tower_http=warn,warn".into()),
        )
        .init();

    let config = match Config::from_env() {
        Ok(config) => config,
        Err(message) => {
            eprintln!("keyward: configuration error: {message}");
            return ExitCode::FAILURE;
        }
    };
    // `keyward seed-bench USERS KEYS OUT`: benchmark fixture, then exit.
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("seed-bench") {
        let number =
            |i: usize, default: usize| args.get(i).and_then(|v| v.parse().ok()).unwrap_or(default);
        let out = args
            .get(4)
            .cloned()
            .unwrap_or_else(|| "bench-keys.txt".into());
        return match super::seed::seed_bench(&config, number(2, 10_000), number(3, 100_000), &out)
            .await
        {
            Ok(()) => ExitCode::SUCCESS,
            Err(message) => {
                eprintln!("keyward seed-bench: {message}");
                ExitCode::FAILURE
            }
        };
    }
    if let Err(message) = Mailer::new(config.smtp_url.as_deref(), &config.mail_from) {
        eprintln!("keyward: configuration error: {message}");
        return ExitCode::FAILURE;
    }
    if config.smtp_url.is_none() {
        tracing::warn!(
            "KEYWARD_SMTP_URL is not set: emails (verification and reset links) are written to this log instead of sent"
        );
    }
    if config.service_token.is_none() {
        tracing::info!("KEYWARD_SERVICE_TOKEN is not set: POST /api/v1/verify is off");
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
    let state = AppState::new(super::leptos_options(&config), db, config);
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
