//! The REST API that keys unlock, under `/api/v1`. JSON in and out; every refusal
//! has a JSON body with a stable `code`, and none ever echoes the key.
//!
//! One file per resource (`account`, `keys`, `service`), plus the error envelope
//! (`error`), key authentication and limits (`auth`), and the OpenAPI document.

mod account;
pub mod auth;
mod credits;
pub mod error;
mod job_service;
mod jobs;
mod keys;
mod lab;
mod openapi;
mod orgs;
mod service;
mod subscription;

use super::state::AppState;
use axum::{
    http::StatusCode,
    routing::{get, post},
    Router,
};
use error::ApiError;

pub fn router(state: AppState) -> Router<AppState> {
    let authenticated = Router::new()
        .route("/me", get(account::me))
        .route("/keys", get(keys::list_keys).post(keys::create_key))
        .route("/keys/{id}", get(keys::get_key).delete(keys::delete_key))
        .route("/keys/{id}/regenerate", post(keys::regenerate_key))
        .route("/keys/{id}/usage", get(keys::key_usage))
        .route("/credits", get(credits::credits))
        .route("/credits/transactions", get(credits::transactions))
        .route("/subscription", get(subscription::subscription))
        .route("/lab", get(lab::lab))
        .route("/lab/stop", post(lab::stop))
        .route("/jobs", get(jobs::list))
        .route("/jobs/{id}", get(jobs::get))
        .route("/jobs/{id}/cancel", post(jobs::cancel))
        .route("/orgs", get(orgs::list_orgs))
        .route("/orgs/{id}/members", get(orgs::org_members))
        .route_layer(axum::middleware::from_fn_with_state(
            state,
            auth::authenticate,
        ));
    Router::new()
        .merge(authenticated)
        .route("/verify", post(service::verify_key))
        .route("/jobs", post(job_service::submit))
        .route("/jobs/{id}", axum::routing::patch(job_service::update))
        .route("/charges/{id}/refund", post(service::refund_charge))
        .route("/healthz", get(service::healthz))
        .route("/openapi.json", get(openapi::openapi))
        .fallback(|| async {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "not_found",
                "No such endpoint. See /api/v1/openapi.json.",
            )
        })
}
