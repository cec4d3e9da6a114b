//! `/api/v1/lab`: a key reading its owner's Lab server and compute hours, and stopping
//! the server.

use super::auth::ApiCaller;
use super::error::{ApiError, ApiResult, ErrorBody};
use crate::lab::{control, Availability, ComputeUse, ServerStatus, StopReason};
use crate::web::state::AppState;
use axum::{extract::State, http::StatusCode, Extension, Json};
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
pub struct LabState {
    /// The server as the hub reports it.
    server: ServerStatus,
    /// The plan's id: "free", "standard", "pro" or one the operator configured.
    plan: String,
    /// Compute hours (vCPU hours) used this calendar month (UTC).
    hours_used: f64,
    /// The plan's monthly compute hours.
    hours_limit: i64,
    /// Past the limit, further CPU hours are charged to the wallet.
    continue_with_credits: bool,
    /// When the month's hours reset (Unix milliseconds).
    resets_at: i64,
}

fn not_set_up() -> ApiError {
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "lab_not_set_up",
        control::NOT_SET_UP,
    )
}

fn unavailable() -> ApiError {
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "unavailable",
        control::UNAVAILABLE,
    )
}

fn state_of(server: ServerStatus, compute: ComputeUse) -> LabState {
    LabState {
        server,
        plan: compute.plan.clone(),
        hours_used: (compute.used_hours() * 1000.0).round() / 1000.0,
        hours_limit: compute.limit_hours,
        continue_with_credits: compute.continue_with_credits,
        resets_at: compute.resets_at,
    }
}

#[utoipa::path(get, path = "/api/v1/lab", tag = "lab", security(("api_key" = [])),
    responses((status = 200, body = LabState), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 503, description = "Lab is not set up, or the hub does not answer", body = ErrorBody)))]
pub(super) async fn lab(
    State(state): State<AppState>,
    Extension(caller): Extension<ApiCaller>,
) -> ApiResult<Json<LabState>> {
    caller.require("lab:read")?;
    let user_id = caller.personal_user()?;
    let lab = state.lab.as_ref().ok_or_else(not_set_up)?;
    let overview = control::overview(Some(lab), &state.db, user_id, state.now_ms()).await?;
    match (overview.availability, overview.compute) {
        (Availability::Available(server), Some(compute)) => Ok(Json(state_of(server, compute))),
        _ => Err(unavailable()),
    }
}

#[utoipa::path(post, path = "/api/v1/lab/stop", tag = "lab", security(("api_key" = [])),
    responses((status = 200, description = "The server is stopping or stopped", body = LabState),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 503, description = "Lab is not set up, or the hub does not answer", body = ErrorBody)))]
pub(super) async fn stop(
    State(state): State<AppState>,
    Extension(caller): Extension<ApiCaller>,
) -> ApiResult<Json<LabState>> {
    caller.require("lab:write")?;
    let user_id = caller.personal_user()?;
    let lab = state.lab.as_ref().ok_or_else(not_set_up)?;
    let now = state.now_ms();
    let server = control::stop(lab, &state.db, user_id, StopReason::User, now).await?;
    let account = crate::lab::store::ensure_account(&state.db, user_id, now).await?;
    let compute = control::compute_use(&state.db, lab, &account, now).await?;
    Ok(Json(state_of(server, compute)))
}
