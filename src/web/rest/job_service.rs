//! `/api/v1/jobs` for the operator's job service (service token): submit a job for a
//! key, holding its estimated cost, and report its progress until it ends.

use super::error::{parse_body, ApiError, ApiResult, ErrorBody};
use super::service::require_service_token;
use crate::jobs::holds::{self, Submission, Submitted};
use crate::jobs::settle::{self, Change, Changed};
use crate::jobs::{JobStatus, JobView};
use crate::keys::verify::Refusal;
use crate::web::request::client_addr;
use crate::web::state::AppState;
use axum::{
    extract::{Path, Request, State},
    http::StatusCode,
    Json,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Deserialize, Default, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubmitJob {
    /// The API key the person's script presented.
    key: String,
    /// The scope the key must carry besides `jobs:submit`, if any.
    #[serde(default)]
    scope: Option<String>,
    /// The machine it runs on ("ibm_brisbane", "simulator", ...).
    device: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    shots: Option<i64>,
    /// Credits held on the owner's wallet until the job ends.
    estimated_cost: i64,
    /// The same key never holds twice.
    idempotency_key: String,
    /// Small JSON kept with the job (at most 4 KB).
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    metadata: Option<serde_json::Value>,
}

#[derive(Serialize, ToSchema)]
pub struct SubmittedJob {
    job: JobView,
    /// The owner's balance that can still be spent, after the hold.
    available: i64,
    /// True when this idempotency key made the job before.
    replayed: bool,
}

async fn body_of(state: &AppState, request: Request) -> ApiResult<axum::body::Bytes> {
    let (parts, body) = request.into_parts();
    let client = client_addr(&parts, state.config.trust_proxy);
    let body = axum::body::to_bytes(body, 64 * 1024).await.map_err(|_| {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            "The request body is too large.",
        )
    })?;
    require_service_token(state, &parts.headers, &client)?;
    Ok(body)
}

#[utoipa::path(post, path = "/api/v1/jobs", tag = "service", security(("service_token" = [])), request_body = SubmitJob,
    responses((status = 201, body = SubmittedJob), (status = 200, body = SubmittedJob, description = "Made before under this idempotency key"),
        (status = 401, body = ErrorBody), (status = 402, body = ErrorBody, description = "`insufficient_credits` or `key_spending_limit`"),
        (status = 403, body = ErrorBody, description = "The key lacks a scope, or is not valid"), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub(super) async fn submit(
    State(state): State<AppState>,
    request: Request,
) -> ApiResult<(StatusCode, Json<SubmittedJob>)> {
    let body = body_of(&state, request).await?;
    let request: SubmitJob = parse_body(&body, false)?;
    let key = match state.verifier.verify(request.key.trim()).await {
        Ok(key) => key,
        Err(Refusal::Unavailable) => return Err(ApiError::unauthorized(Refusal::Unavailable)),
        Err(refusal) => {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                refusal.code(),
                "The key is not valid: no job was made.",
            ))
        }
    };
    for scope in ["jobs:submit"].into_iter().chain(request.scope.as_deref()) {
        if !key.has_scope(scope) {
            let mut error = ApiError::new(
                StatusCode::FORBIDDEN,
                "insufficient_scope",
                "The key lacks a scope this job needs: no job was made.",
            );
            error.body.error.required_scope = Some(scope.chars().take(64).collect());
            return Err(error);
        }
    }
    let submission = Submission {
        owner: key.owner(),
        key_id: key.key_id.clone(),
        key_spend_limit: key.monthly_spend_limit,
        name: request.name,
        device: request.device,
        shots: request.shots,
        estimated_cost: request.estimated_cost,
        idempotency_key: request.idempotency_key,
        metadata: request.metadata.as_ref().map(serde_json::Value::to_string),
    };
    match holds::submit(&state.db, &submission, state.now_ms()).await? {
        Submitted::Created { job, available } => Ok((
            StatusCode::CREATED,
            Json(SubmittedJob {
                job,
                available,
                replayed: false,
            }),
        )),
        Submitted::Replayed { job, available } => Ok((
            StatusCode::OK,
            Json(SubmittedJob {
                job,
                available,
                replayed: true,
            }),
        )),
        Submitted::Insufficient { available } => {
            let mut error = ApiError::new(
                StatusCode::PAYMENT_REQUIRED,
                "insufficient_credits",
                format!("The owner's available balance ({available} credits) cannot cover the hold: no job was made."),
            );
            error.body.error.available = Some(available);
            Err(error)
        }
        Submitted::KeyLimitReached { spent, limit } => Err(ApiError::new(
            StatusCode::PAYMENT_REQUIRED,
            "key_spending_limit",
            format!("This key has spent or holds {spent} of its {limit} credits this month: no job was made."),
        )),
        Submitted::KeyReused => Err(ApiError::new(
            StatusCode::CONFLICT,
            "idempotency_key_reused",
            "This idempotency key was used for a different job. Use a new key for a new job.",
        )),
    }
}

#[derive(Deserialize, Default, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateJob {
    /// queued, running, completed, failed or cancelled.
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    status_message: Option<String>,
    #[serde(default)]
    queue_position: Option<i64>,
    /// With `completed`: the credits the job cost.
    #[serde(default)]
    final_cost: Option<i64>,
}

#[utoipa::path(patch, path = "/api/v1/jobs/{id}", tag = "service", security(("service_token" = [])), request_body = UpdateJob,
    params(("id" = String, Path, description = "The job's ID")),
    responses((status = 200, body = JobView), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "`illegal_transition`, with the allowed statuses"), (status = 422, body = ErrorBody)))]
pub(super) async fn update(
    State(state): State<AppState>,
    Path(job_id): Path<String>,
    request: Request,
) -> ApiResult<Json<JobView>> {
    let body = body_of(&state, request).await?;
    let request: UpdateJob = parse_body(&body, false)?;
    let status = match request.status.as_deref() {
        None => None,
        Some(text) => Some(
            JobStatus::parse(text)
                .filter(|s| !matches!(s, JobStatus::CancelRequested | JobStatus::Expired))
                .ok_or_else(|| {
                    crate::error::AppError::invalid(
                        "status",
                        "The status is queued, running, completed, failed or cancelled.",
                    )
                })?,
        ),
    };
    let change = Change {
        status,
        status_message: request.status_message,
        queue_position: request.queue_position,
        final_cost: request.final_cost,
    };
    match settle::change(&state.db, &job_id, &change, state.now_ms()).await? {
        Changed::Updated(job) => Ok(Json(*job)),
        Changed::NotFound => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "No job with that ID.",
        )),
        Changed::Illegal { current, allowed } => {
            let allowed: Vec<&str> = allowed.iter().map(|s| s.as_str()).collect();
            let mut error = ApiError::new(
                StatusCode::CONFLICT,
                "illegal_transition",
                if allowed.is_empty() {
                    format!(
                        "The job is {} and has ended: it changes no more.",
                        current.as_str()
                    )
                } else {
                    format!(
                        "The job is {}; it can move to {} only.",
                        current.as_str(),
                        allowed.join(", ")
                    )
                },
            );
            error.body.error.allowed = Some(allowed.into_iter().map(String::from).collect());
            Err(error)
        }
    }
}
