//! Endpoints for the operator's services: key verification and health.

use super::error::{parse_body, ApiError, ApiResult, ErrorBody};
use crate::keys::verify::Refusal;
use crate::web::request::{bearer_token, client_addr};
use crate::web::state::AppState;
use axum::{
    extract::{Request, State},
    http::{header, HeaderValue, StatusCode},
    Json,
};
use serde::{Deserialize, Serialize};
use sha2::Digest;
use subtle::ConstantTimeEq;
use utoipa::ToSchema;

#[derive(Deserialize, Default, ToSchema)]
pub struct VerifyRequest {
    key: String,
    /// If given, the key must also carry this scope.
    #[serde(default)]
    scope: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct VerifyResponse {
    valid: bool,
    key_id: Option<String>,
    owner_id: Option<String>,
    scopes: Vec<String>,
    /// Why the key is not valid (`unknown_key`, `expired_key`, `insufficient_scope`, ...).
    reason: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/verify", tag = "service", security(("service_token" = [])), request_body = VerifyRequest,
    responses((status = 200, body = VerifyResponse), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody, description = "No service token is configured")))]
pub(super) async fn verify_key(
    State(state): State<AppState>,
    request: Request,
) -> ApiResult<Json<VerifyResponse>> {
    let (parts, body) = request.into_parts();
    let client = client_addr(&parts, state.config.trust_proxy);
    let headers = parts.headers;
    let body = axum::body::to_bytes(body, 64 * 1024).await.map_err(|_| {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            "The request body is too large.",
        )
    })?;
    let Some(expected) = state.config.service_token.as_deref() else {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "verify_disabled",
            "Key verification for services is off. Set KEYWARD_SERVICE_TOKEN to enable it.",
        ));
    };
    let presented = bearer_token(&headers).unwrap_or("");
    // Digests have a fixed length, so the comparison says nothing about the token's.
    let matches = sha2::Sha256::digest(presented.as_bytes())
        .ct_eq(&sha2::Sha256::digest(expected.as_bytes()));
    // The token first: a service holding it is never held back by its address, which
    // it may share with clients that fail (a NAT, a pod network).
    if !bool::from(matches) {
        let now = state.now_ms();
        if let Some(wait) = state.api_auth_failures.retry_after(&client, now) {
            return Err(ApiError::too_many(
                wait,
                "Too many failed authentications from your address. Wait and try again.",
            ));
        }
        state.api_auth_failures.record(&client, now);
        let mut error = ApiError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_service_token",
            "Present the service token as `Authorization: Bearer <token>`.",
        );
        error.headers.push((
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static(r#"Bearer realm="keyward-services""#),
        ));
        return Err(error);
    }
    let request: VerifyRequest = parse_body(&body, false)?;
    let answer = match state.verifier.verify(request.key.trim()).await {
        Ok(key) => {
            let scope_ok = request.scope.as_deref().is_none_or(|s| key.has_scope(s));
            VerifyResponse {
                valid: scope_ok,
                key_id: Some(key.key_id.clone()),
                owner_id: Some(key.user_id.clone()),
                scopes: key.scopes.clone(),
                reason: (!scope_ok).then(|| "insufficient_scope".to_string()),
            }
        }
        Err(Refusal::Unavailable) => return Err(ApiError::unauthorized(Refusal::Unavailable)),
        Err(refusal) => VerifyResponse {
            valid: false,
            key_id: None,
            owner_id: None,
            scopes: Vec::new(),
            reason: Some(refusal.code().to_string()),
        },
    };
    Ok(Json(answer))
}

#[derive(Serialize, ToSchema)]
pub struct Health {
    status: &'static str,
    database: &'static str,
}

#[utoipa::path(get, path = "/api/v1/healthz", tag = "service",
    responses((status = 200, body = Health), (status = 503, body = Health)))]
pub(super) async fn healthz(State(state): State<AppState>) -> (StatusCode, Json<Health>) {
    if state.database_reachable().await {
        (
            StatusCode::OK,
            Json(Health {
                status: "ok",
                database: "ok",
            }),
        )
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(Health {
                status: "degraded",
                database: "unreachable",
            }),
        )
    }
}
