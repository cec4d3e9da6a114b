//! Endpoints for the operator's services: key verification and health.

use super::error::{parse_body, ApiError, ApiResult, ErrorBody};
use crate::keys::verify::Refusal;
use crate::wallet::charges::{self, RefundOutcome};
use crate::wallet::{ChargeOutcome, ChargeRequest};
use crate::web::request::{bearer_token, client_addr};
use crate::web::state::AppState;
use axum::{
    extract::{Path, Request, State},
    http::{header, HeaderValue, StatusCode},
    Json,
};
use secrecy::ExposeSecret;
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
    /// Credits to charge the key's owner if the key is valid, in the same step.
    #[serde(default)]
    cost: Option<i64>,
    /// Sent again with the same value, the charge is not made twice.
    #[serde(default)]
    idempotency_key: Option<String>,
    /// Shown in the owner's transactions.
    #[serde(default)]
    description: Option<String>,
    /// Small JSON kept with the charge (at most 4 KB).
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    metadata: Option<serde_json::Value>,
}

#[derive(Serialize, ToSchema)]
pub struct VerifyResponse {
    valid: bool,
    key_id: Option<String>,
    /// `user` for a personal key, `org` for an organization's key.
    owner_type: Option<String>,
    /// The person's or the organization's id: whose wallet a `cost` is charged to.
    owner_id: Option<String>,
    scopes: Vec<String>,
    /// Why the key is not valid (`unknown_key`, `expired_key`, `insufficient_scope`,
    /// `insufficient_credits`, ...).
    reason: Option<String>,
    /// With a `cost`: the charge made (or, for a repeated idempotency key, made before).
    #[serde(skip_serializing_if = "Option::is_none")]
    charge_id: Option<String>,
    /// With a `cost`: the owner's balance after the charge, or the balance that could
    /// not cover it.
    #[serde(skip_serializing_if = "Option::is_none")]
    balance: Option<i64>,
}

impl VerifyResponse {
    fn refused(reason: &str) -> Self {
        Self {
            valid: false,
            key_id: None,
            owner_type: None,
            owner_id: None,
            scopes: Vec::new(),
            reason: Some(reason.to_string()),
            charge_id: None,
            balance: None,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct RefundResponse {
    refund_id: String,
    charge_id: String,
    /// Credits given back.
    credits: i64,
    /// The owner's balance after the refund.
    balance: i64,
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
    require_service_token(&state, &headers, &client)?;
    let request: VerifyRequest = parse_body(&body, false)?;
    let metadata = request.metadata.as_ref().map(serde_json::Value::to_string);
    if let Some(cost) = request.cost {
        charges::validate(
            cost,
            request.idempotency_key.as_deref(),
            request.description.as_deref(),
            metadata.as_deref(),
        )?;
    }
    let key = match state.verifier.verify(request.key.trim()).await {
        Ok(key) => key,
        Err(Refusal::Unavailable) => return Err(ApiError::unauthorized(Refusal::Unavailable)),
        Err(refusal) => return Ok(Json(VerifyResponse::refused(refusal.code()))),
    };
    let owner = key.owner();
    let mut answer = VerifyResponse {
        valid: true,
        key_id: Some(key.key_id.clone()),
        owner_type: Some(owner.kind().to_string()),
        owner_id: Some(owner.id().to_string()),
        scopes: key.scopes.clone(),
        reason: None,
        charge_id: None,
        balance: None,
    };
    if request.scope.as_deref().is_some_and(|s| !key.has_scope(s)) {
        answer.valid = false;
        answer.reason = Some("insufficient_scope".to_string());
        return Ok(Json(answer));
    }
    let Some(cost) = request.cost else {
        return Ok(Json(answer));
    };
    let outcome = state
        .charger
        .charge(ChargeRequest {
            owner,
            key_id: key.key_id.clone(),
            cost,
            idempotency_key: request.idempotency_key,
            description: request.description.unwrap_or_else(|| "Charge".to_string()),
            metadata,
            key_spend_limit: key.monthly_spend_limit,
        })
        .await?;
    match outcome {
        ChargeOutcome::Charged { charge_id, balance }
        | ChargeOutcome::Replayed { charge_id, balance } => {
            answer.charge_id = Some(charge_id);
            answer.balance = Some(balance);
        }
        ChargeOutcome::Insufficient { balance } => {
            answer.valid = false;
            answer.reason = Some("insufficient_credits".to_string());
            answer.balance = Some(balance);
        }
        ChargeOutcome::KeyLimitReached { balance, .. } => {
            answer.valid = false;
            answer.reason = Some("key_spending_limit".to_string());
            answer.balance = Some(balance);
        }
        ChargeOutcome::KeyReused => return Err(ApiError::new(
            StatusCode::CONFLICT,
            "idempotency_key_reused",
            "This idempotency key was used for a different charge. Use a new key for a new charge.",
        )),
    }
    Ok(Json(answer))
}

#[utoipa::path(post, path = "/api/v1/charges/{id}/refund", tag = "service", security(("service_token" = [])),
    params(("id" = String, Path, description = "The charge's ID (`charge_id` from a verify with a cost)")),
    responses((status = 200, body = RefundResponse), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "Refunded before (`charge_already_refunded`)")))]
pub(super) async fn refund_charge(
    State(state): State<AppState>,
    Path(charge_id): Path<String>,
    request: Request,
) -> ApiResult<Json<RefundResponse>> {
    let (parts, _body) = request.into_parts();
    let client = client_addr(&parts, state.config.trust_proxy);
    require_service_token(&state, &parts.headers, &client)?;
    match charges::refund(&state.db, &charge_id, "service", state.now_ms()).await? {
        RefundOutcome::Refunded {
            refund_id,
            credits,
            balance,
        } => Ok(Json(RefundResponse {
            refund_id,
            charge_id,
            credits,
            balance,
        })),
        RefundOutcome::AlreadyRefunded { refund_id } => Err(ApiError::new(
            StatusCode::CONFLICT,
            "charge_already_refunded",
            format!("This charge was refunded before, by {refund_id}."),
        )),
        RefundOutcome::NotFound => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "No charge with that ID.",
        )),
    }
}

/// Services present `KEYWARD_SERVICE_TOKEN` as a bearer token; without one configured,
/// the service endpoints are off.
pub(super) fn require_service_token(
    state: &AppState,
    headers: &axum::http::HeaderMap,
    client: &str,
) -> ApiResult<()> {
    let Some(expected) = state
        .config
        .service_token
        .as_ref()
        .map(|t| t.expose_secret())
    else {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "verify_disabled",
            "Key verification for services is off. Set KEYWARD_SERVICE_TOKEN to enable it.",
        ));
    };
    let presented = bearer_token(headers).unwrap_or("");
    // Digests have a fixed length, so the comparison says nothing about the token's.
    let matches = sha2::Sha256::digest(presented.as_bytes())
        .ct_eq(&sha2::Sha256::digest(expected.as_bytes()));
    // The token first: a service holding it is never held back by its address, which
    // it may share with clients that fail (a NAT, a pod network).
    if !bool::from(matches) {
        let now = state.now_ms();
        if let Some(wait) = state.api_auth_failures.retry_after(client, now) {
            return Err(ApiError::too_many(
                wait,
                "Too many failed authentications from your address. Wait and try again.",
            ));
        }
        state.api_auth_failures.record(client, now);
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
    Ok(())
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
