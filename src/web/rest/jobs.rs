//! `/api/v1/jobs` for people's keys: list their jobs, read one, ask to cancel one.

use super::auth::ApiCaller;
use super::error::{ApiError, ApiResult, ErrorBody};
use crate::error::AppError;
use crate::jobs::api::FilterForm;
use crate::jobs::{cancel, store, JobPage, JobView, PAGE_SIZE};
use crate::web::state::AppState;
use axum::{
    extract::{Path, Query, State},
    http::StatusCode,
    Extension, Json,
};
use serde::Deserialize;
use utoipa::IntoParams;

#[derive(Deserialize, IntoParams)]
pub struct JobsQuery {
    /// queued, running, cancel_requested, completed, failed, cancelled or expired.
    status: Option<String>,
    device: Option<String>,
    /// The key that submitted them.
    key_id: Option<String>,
    /// Submitted on or after this day (`YYYY-MM-DD`, UTC).
    from: Option<String>,
    /// Submitted on or before this day.
    until: Option<String>,
    /// `next_before` from the previous page.
    before: Option<String>,
    /// Jobs per page, 1 to 25 (default 25).
    limit: Option<usize>,
}

fn no_job() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", "No job with that ID.")
}

#[utoipa::path(get, path = "/api/v1/jobs", tag = "jobs", security(("api_key" = [])), params(JobsQuery),
    responses((status = 200, body = JobPage), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub(super) async fn list(
    State(state): State<AppState>,
    Extension(caller): Extension<ApiCaller>,
    query: Result<Query<JobsQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<JobPage>> {
    caller.require("jobs:read")?;
    let Ok(Query(query)) = query else {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
            "Query parameters are status, device, key_id, from, until, before and limit (1 to 25).",
        ));
    };
    let filter = FilterForm {
        status: query.status.unwrap_or_default(),
        device: query.device.unwrap_or_default(),
        key_id: query.key_id.unwrap_or_default(),
        from: query.from.unwrap_or_default(),
        until: query.until.unwrap_or_default(),
    }
    .parse()?;
    let page = store::list(
        &state.db,
        &caller.key.owner(),
        &filter,
        query.before.as_deref().filter(|b| !b.is_empty()),
        query.limit.unwrap_or(PAGE_SIZE),
    )
    .await?;
    Ok(Json(page))
}

#[utoipa::path(get, path = "/api/v1/jobs/{id}", tag = "jobs", security(("api_key" = [])),
    params(("id" = String, Path, description = "The job's ID")),
    responses((status = 200, body = JobView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub(super) async fn get(
    State(state): State<AppState>,
    Extension(caller): Extension<ApiCaller>,
    Path(job_id): Path<String>,
) -> ApiResult<Json<JobView>> {
    caller.require("jobs:read")?;
    store::get(&state.db, &caller.key.owner(), &job_id)
        .await?
        .map(Json)
        .ok_or_else(no_job)
}

#[utoipa::path(post, path = "/api/v1/jobs/{id}/cancel", tag = "jobs", security(("api_key" = [])),
    params(("id" = String, Path, description = "The job's ID")),
    responses((status = 200, body = JobView, description = "Marked cancel_requested; the job service confirms"),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "The job has ended")))]
pub(super) async fn cancel(
    State(state): State<AppState>,
    Extension(caller): Extension<ApiCaller>,
    Path(job_id): Path<String>,
) -> ApiResult<Json<JobView>> {
    caller.require("jobs:write")?;
    let actor = format!("API key {}", caller.key.key_id);
    match cancel::request_cancel(
        &state.db,
        &caller.key.owner(),
        &job_id,
        &actor,
        state.now_ms(),
    )
    .await
    {
        Ok(job) => Ok(Json(job)),
        Err(AppError::NotFound) => Err(no_job()),
        Err(AppError::Validation(fields)) => Err(ApiError::new(
            StatusCode::CONFLICT,
            "job_ended",
            fields
                .into_iter()
                .next()
                .map_or_else(|| "This job has ended.".to_string(), |f| f.message),
        )),
        Err(other) => Err(other.into()),
    }
}
