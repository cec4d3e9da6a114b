//! The HTTP layer, on top of everything else: state, request context, guards, the
//! REST API, and the process that serves them. Nothing below imports it, except the
//! domains' `api.rs` files (their server functions), which use `request::Caller`.

pub mod assets;
pub mod card_frame;
pub mod cli;
pub mod exports;
pub mod headers;
pub mod health;
pub mod input_text;
pub mod middleware;
pub mod oauth;
pub mod receipts;
pub mod request;
pub mod request_id;
pub mod rest;
pub mod run;
pub mod seed;
pub mod state;
pub mod vitals;
pub mod webhooks;

use crate::app::{shell, App};
use crate::infra::config::Config;
use axum::Router;
use leptos::config::LeptosOptions;
use leptos_axum::{generate_route_list, AxumRouteListing, LeptosRoutes};
use state::AppState;
use std::sync::OnceLock;

/// Leptos options from cargo-leptos's `LEPTOS_*` variables, with the project's defaults.
pub fn leptos_options(config: &Config) -> LeptosOptions {
    let var =
        |name: &str, default: &str| std::env::var(name).unwrap_or_else(|_| default.to_string());
    LeptosOptions::builder()
        .output_name(var("LEPTOS_OUTPUT_NAME", "keyward"))
        .site_root(var("LEPTOS_SITE_ROOT", "target/site"))
        .site_pkg_dir(var("LEPTOS_SITE_PKG_DIR", "pkg"))
        .site_addr(config.addr)
        .hash_files(assets::hash_files_enabled())
        .build()
}

/// The pages' routes, found once per process by rendering the app without a request.
///
/// While Leptos renders it, a process-wide flag parks every resource that is first
/// polled anywhere in the process, for good (leptos_server 0.8.8's
/// `SuppressResourceLoad`; leptos-rs/leptos#4773). Rendering it a second time while a
/// page is being served (another router built in the same process, as the tests do)
/// could leave that page waiting forever, so it happens once, before any page is served.
fn page_routes() -> Vec<AxumRouteListing> {
    static ROUTES: OnceLock<Vec<AxumRouteListing>> = OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(App)).clone()
}

/// The whole application: pages, server functions, static files and guards.
pub fn router(state: AppState) -> Router {
    let routes = page_routes();
    let pages = Router::new()
        .route(
            "/account/wallet/transactions.csv",
            axum::routing::get(exports::transactions_csv),
        )
        .route("/account/jobs.csv", axum::routing::get(exports::jobs_csv))
        .route("/health/live", axum::routing::get(health::live))
        .route("/health/ready", axum::routing::get(health::ready))
        .route(
            "/account/subscription/receipts/{invoice}",
            axum::routing::get(receipts::receipt),
        )
        .route(
            "/account/wallet/card-form",
            axum::routing::get(card_frame::card_form),
        )
        .leptos_routes(&state, routes, {
            let options = state.leptos_options.clone();
            move || shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::route_by_session,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::refuse_cross_site,
        ));
    // The REST API sits outside the page guards: it has no cookies, only keys.
    let https = state.config.secure_cookies();
    let options = &state.leptos_options;
    let pkg = assets::pkg_router(&options.site_root, &options.site_pkg_dir);
    let app = Router::new()
        .nest("/api/v1", rest::router(state.clone()))
        .merge(webhooks::router())
        .merge(oauth::router())
        .nest(&format!("/{}", options.site_pkg_dir), pkg)
        .merge(pages)
        .with_state(state)
        .layer(axum::middleware::from_fn(assets::cache_policy))
        .layer(axum::middleware::from_fn(input_text::refuse_malformed_text))
        .layer(axum::middleware::from_fn(request_id::tag_requests));
    headers::with_security_headers(app, https)
}
