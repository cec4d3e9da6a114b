//! The REST API that keys unlock, under `/api/v1`. JSON in and out; every refusal
//! has a JSON body with a stable `code`, and none ever echoes the key.

use super::{request::client_addr, state::AppState};
use crate::error::AppError;
use crate::keys::{
    store::{self, Actor, NewKey},
    verify::{self, Refusal, VerifiedKey},
    DailyCount, Expiry, KeyDetails, KeySummary, RequestLogEntry, RevealedKey, UsageStats,
};
use crate::usage::recorder::LoggedRequest;
use axum::{
    body::Bytes,
    extract::{OriginalUri, Path, Request, State},
    http::{header, HeaderMap, HeaderValue, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
    routing::{get, post},
    Extension, Json, Router,
};
use governor::clock::{Clock as _, DefaultClock};
use serde::{Deserialize, Serialize};
use sha2::Digest;
use std::collections::BTreeMap;
use std::sync::Arc;
use subtle::ConstantTimeEq;
use utoipa::{OpenApi, ToSchema};

pub fn router(state: AppState) -> Router<AppState> {
    let authenticated = Router::new()
        .route("/me", get(me))
        .route("/keys", get(list_keys).post(create_key))
        .route("/keys/{id}", get(get_key).delete(delete_key))
        .route("/keys/{id}/regenerate", post(regenerate_key))
        .route("/keys/{id}/usage", get(key_usage))
        .route_layer(axum::middleware::from_fn_with_state(state, authenticate));
    Router::new()
        .merge(authenticated)
        .route("/verify", post(verify_key))
        .route("/healthz", get(healthz))
        .route("/openapi.json", get(openapi))
        .fallback(|| async {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "not_found",
                "No such endpoint. See /api/v1/openapi.json.",
            )
        })
}

// ---------------------------------------------------------------------------
// Errors

#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable machine-readable code, e.g. `unknown_key`, `insufficient_scope`.
    code: String,
    message: String,
    /// Validation messages by field name.
    #[serde(skip_serializing_if = "Option::is_none")]
    fields: Option<BTreeMap<String, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    required_scope: Option<String>,
}

pub struct ApiError {
    status: StatusCode,
    // Boxed: errors are rare, and a small `Result` keeps the happy path lean.
    body: Box<ErrorBody>,
    headers: Vec<(header::HeaderName, HeaderValue)>,
}

impl ApiError {
    fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        Self {
            status,
            body: Box::new(ErrorBody {
                error: ErrorDetail {
                    code: code.to_string(),
                    message: message.into(),
                    fields: None,
                    required_scope: None,
                },
            }),
            headers: Vec::new(),
        }
    }

    fn unauthorized(refusal: Refusal) -> Self {
        let status = if refusal == Refusal::Unavailable {
            StatusCode::SERVICE_UNAVAILABLE
        } else {
            StatusCode::UNAUTHORIZED
        };
        let mut error = Self::new(status, refusal.code(), refusal.message());
        let challenge = if refusal == Refusal::Missing {
            r#"Bearer realm="keyward""#
        } else {
            r#"Bearer realm="keyward", error="invalid_token""#
        };
        error.headers.push((
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static(challenge),
        ));
        error
    }

    fn insufficient_scope(scope: &'static str) -> Self {
        let mut error = Self::new(
            StatusCode::FORBIDDEN,
            "insufficient_scope",
            format!("This key lacks the `{scope}` scope. Create a key that has it."),
        );
        error.body.error.required_scope = Some(scope.to_string());
        let challenge =
            format!(r#"Bearer realm="keyward", error="insufficient_scope", scope="{scope}""#);
        if let Ok(value) = HeaderValue::from_str(&challenge) {
            error.headers.push((header::WWW_AUTHENTICATE, value));
        }
        error
    }

    /// The caller asked for a key more powerful than itself.
    fn cannot_grant(scope: &str) -> Self {
        let shown: String = scope.chars().take(64).collect();
        let mut error = Self::new(
            StatusCode::FORBIDDEN,
            "scope_escalation",
            format!(
                "This key does not hold `{shown}`, so it cannot create or reveal a key that does."
            ),
        );
        error.body.error.required_scope = Some(shown);
        error
    }

    fn too_many(retry_after_secs: u64, message: &str) -> Self {
        let mut error = Self::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", message);
        error.headers.push((
            header::RETRY_AFTER,
            HeaderValue::from(retry_after_secs.max(1)),
        ));
        error
    }
}

impl From<AppError> for ApiError {
    fn from(error: AppError) -> Self {
        let status = super::request::status_of(&error);
        match error {
            AppError::Validation(fields) => {
                let mut api = Self::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "validation_failed",
                    "Some fields are invalid.",
                );
                api.body.error.fields =
                    Some(fields.into_iter().map(|f| (f.field, f.message)).collect());
                api
            }
            AppError::NotFound => Self::new(status, "not_found", "No key with that ID."),
            other => Self::new(status, "internal_error", other.to_string()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, Json(*self.body)).into_response();
        for (name, value) in self.headers {
            response.headers_mut().insert(name, value);
        }
        response
    }
}

type ApiResult<T> = Result<T, ApiError>;

/// Parses a JSON body; malformed JSON is 400, well-formed but wrong is 422.
fn parse_body<T: serde::de::DeserializeOwned + Default>(
    body: &Bytes,
    allow_empty: bool,
) -> ApiResult<T> {
    if allow_empty && body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(body).map_err(|error| {
        if error.is_syntax() || error.is_eof() {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "malformed_json",
                "The request body is not valid JSON.",
            )
        } else {
            let mut api = ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation_failed",
                "Some fields are invalid.",
            );
            let message = error.to_string();
            let field = message
                .split('`')
                .nth(1)
                .filter(|_| {
                    message.starts_with("missing field") || message.starts_with("unknown field")
                })
                .unwrap_or("body")
                .to_string();
            api.body.error.fields = Some(BTreeMap::from([(field, message)]));
            api
        }
    })
}

// ---------------------------------------------------------------------------
// Authentication and usage

/// The key that authenticated this request.
#[derive(Clone)]
pub struct ApiCaller {
    pub key: Arc<VerifiedKey>,
    pub client_addr: String,
}

impl ApiCaller {
    fn require(&self, scope: &'static str) -> ApiResult<()> {
        if self.key.has_scope(scope) {
            Ok(())
        } else {
            Err(ApiError::insufficient_scope(scope))
        }
    }

    fn actor(&self) -> Actor {
        Actor {
            user_id: self.key.user_id.clone(),
            label: format!("API key {}", self.key.key_id),
            client_addr: self.client_addr.clone(),
        }
    }
}

/// The key from `Authorization: Bearer`, `X-API-Key` or `api-key`.
pub fn presented_key(headers: &HeaderMap) -> Option<&str> {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        });
    bearer
        .or_else(|| headers.get("x-api-key").and_then(|v| v.to_str().ok()))
        .or_else(|| headers.get("api-key").and_then(|v| v.to_str().ok()))
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

async fn authenticate(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let (parts, body) = request.into_parts();
    let client = client_addr(&parts, state.config.trust_proxy);
    request = Request::from_parts(parts, body);
    let now = state.now_ms();
    if let Some(wait) = state.api_auth_failures.retry_after(&client, now) {
        return ApiError::too_many(
            wait,
            "Too many failed authentications from your address. Wait and try again.",
        )
        .into_response();
    }
    let key = match presented_key(request.headers()) {
        None => Err(Refusal::Missing),
        Some(presented) => verify::verify(&state, presented).await,
    };
    let key = match key {
        Ok(key) => key,
        Err(refusal) => {
            if !matches!(refusal, Refusal::Missing | Refusal::Unavailable) {
                state.api_auth_failures.record(&client, now);
            }
            return ApiError::unauthorized(refusal).into_response();
        }
    };

    // Kept by reference count only; copied into the log only if the key is under its
    // log cap (see `UsageRecorder::record`). Inside the nested router `uri()` has lost
    // the `/api/v1` prefix, so the path comes from `OriginalUri`.
    let method = request.method().clone();
    let uri = request
        .extensions()
        .get::<OriginalUri>()
        .map_or_else(|| request.uri().clone(), |original| original.0.clone());
    let user_agent = request.headers().get(header::USER_AGENT).cloned();
    let response = match state.key_rate_limit.check_key(&key.key_id) {
        Ok(()) => {
            request.extensions_mut().insert(ApiCaller {
                key: key.clone(),
                client_addr: client.clone(),
            });
            next.run(request).await
        }
        Err(not_until) => {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            ApiError::too_many(
                wait.as_secs_f64().ceil() as u64,
                "This key is over its rate limit. Slow down.",
            )
            .into_response()
        }
    };
    let status = response.status().as_u16();
    state.usage.record(&key.key_id, now, || LoggedRequest {
        at: now,
        method,
        path: uri.path().chars().take(256).collect(),
        status,
        client_addr: client,
        user_agent: user_agent
            .as_ref()
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .chars()
            .take(256)
            .collect(),
    });
    response
}

// ---------------------------------------------------------------------------
// Endpoints

#[derive(Serialize, ToSchema)]
pub struct Me {
    id: String,
    email: String,
    /// Sign-up time, Unix milliseconds.
    created_at: i64,
}

#[utoipa::path(get, path = "/api/v1/me", tag = "account", security(("api_key" = [])),
    responses((status = 200, body = Me), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn me(Extension(caller): Extension<ApiCaller>) -> ApiResult<Json<Me>> {
    caller.require("account:read")?;
    Ok(Json(Me {
        id: caller.key.user_id.clone(),
        email: caller.key.owner_email.clone(),
        created_at: caller.key.owner_created_at,
    }))
}

#[utoipa::path(get, path = "/api/v1/keys", tag = "keys", security(("api_key" = [])),
    responses((status = 200, body = Vec<KeySummary>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn list_keys(
    State(state): State<AppState>,
    Extension(caller): Extension<ApiCaller>,
) -> ApiResult<Json<Vec<KeySummary>>> {
    caller.require("keys:read")?;
    Ok(Json(store::list(&state, &caller.key.user_id).await?))
}

#[derive(Deserialize, Default, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateKeyRequest {
    name: String,
    scopes: Vec<String>,
    /// Defaults to 90 days.
    #[serde(default)]
    expiry: Option<Expiry>,
}

#[utoipa::path(post, path = "/api/v1/keys", tag = "keys", security(("api_key" = [])), request_body = CreateKeyRequest,
    responses((status = 201, body = RevealedKey, description = "The only response that carries the key's value"),
        (status = 422, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn create_key(
    State(state): State<AppState>,
    Extension(caller): Extension<ApiCaller>,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<RevealedKey>)> {
    caller.require("keys:write")?;
    let request: CreateKeyRequest = parse_body(&body, false)?;
    // A key can hand out only what it holds itself (unknown names fail validation below).
    let catalog = store::catalog(&state);
    let grants_more =
        |s: &&String| catalog.iter().any(|c| &c.name == *s) && !caller.key.has_scope(s);
    if let Some(extra) = request.scopes.iter().find(grants_more) {
        return Err(ApiError::cannot_grant(extra));
    }
    let input = NewKey {
        name: request.name,
        scopes: request.scopes,
        expiry: request.expiry.unwrap_or_default(),
    };
    let revealed = store::create(&state, &caller.actor(), input).await?;
    Ok((StatusCode::CREATED, Json(revealed)))
}

#[utoipa::path(get, path = "/api/v1/keys/{id}", tag = "keys", security(("api_key" = [])),
    params(("id" = String, Path, description = "Key ID (kid_…)")),
    responses((status = 200, body = KeyDetails), (status = 404, body = ErrorBody)))]
async fn get_key(
    State(state): State<AppState>,
    Extension(caller): Extension<ApiCaller>,
    Path(id): Path<String>,
) -> ApiResult<Json<KeyDetails>> {
    caller.require("keys:read")?;
    Ok(Json(
        store::details(&state, &caller.key.user_id, &id).await?,
    ))
}

#[derive(Deserialize, Default, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegenerateRequest {
    /// How long the old value keeps working: 0 (default), 3600, 86400 or 604800 seconds.
    #[serde(default)]
    grace_secs: i64,
}

#[utoipa::path(post, path = "/api/v1/keys/{id}/regenerate", tag = "keys", security(("api_key" = [])),
    params(("id" = String, Path, description = "Key ID (kid_…)")), request_body(content = RegenerateRequest, description = "Optional"),
    responses((status = 200, body = RevealedKey), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn regenerate_key(
    State(state): State<AppState>,
    Extension(caller): Extension<ApiCaller>,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<Json<RevealedKey>> {
    caller.require("keys:write")?;
    let request: RegenerateRequest = parse_body(&body, true)?;
    // Regenerating reveals the new value, so it needs every scope the target key holds.
    let target = store::get(&state, &caller.key.user_id, &id).await?;
    if let Some(extra) = target.scopes.iter().find(|s| !caller.key.has_scope(s)) {
        return Err(ApiError::cannot_grant(extra));
    }
    Ok(Json(
        store::regenerate(&state, &caller.actor(), &id, request.grace_secs).await?,
    ))
}

#[utoipa::path(delete, path = "/api/v1/keys/{id}", tag = "keys", security(("api_key" = [])),
    params(("id" = String, Path, description = "Key ID (kid_…)")),
    responses((status = 204, description = "Revoked"), (status = 404, body = ErrorBody)))]
async fn delete_key(
    State(state): State<AppState>,
    Extension(caller): Extension<ApiCaller>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    caller.require("keys:write")?;
    store::delete(&state, &caller.actor(), &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, ToSchema)]
pub struct KeyUsage {
    usage: UsageStats,
    /// The last 30 UTC days, oldest first.
    daily: Vec<DailyCount>,
    /// The 20 most recent requests, newest first.
    recent: Vec<RequestLogEntry>,
}

#[utoipa::path(get, path = "/api/v1/keys/{id}/usage", tag = "keys", security(("api_key" = [])),
    params(("id" = String, Path, description = "Key ID (kid_…)")),
    responses((status = 200, body = KeyUsage), (status = 404, body = ErrorBody)))]
async fn key_usage(
    State(state): State<AppState>,
    Extension(caller): Extension<ApiCaller>,
    Path(id): Path<String>,
) -> ApiResult<Json<KeyUsage>> {
    caller.require("keys:read")?;
    let details = store::details(&state, &caller.key.user_id, &id).await?;
    Ok(Json(KeyUsage {
        usage: details.usage,
        daily: details.daily,
        recent: details.recent,
    }))
}

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
async fn verify_key(
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
    let now = state.now_ms();
    if let Some(wait) = state.api_auth_failures.retry_after(&client, now) {
        return Err(ApiError::too_many(
            wait,
            "Too many failed authentications from your address. Wait and try again.",
        ));
    }
    let Some(expected) = state.config.service_token.as_deref() else {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "verify_disabled",
            "Key verification for services is off. Set KEYWARD_SERVICE_TOKEN to enable it.",
        ));
    };
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    // Digests have a fixed length, so the comparison says nothing about the token's.
    let matches = sha2::Sha256::digest(presented.as_bytes())
        .ct_eq(&sha2::Sha256::digest(expected.as_bytes()));
    if !bool::from(matches) {
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
    let answer = match verify::verify(&state, request.key.trim()).await {
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
async fn healthz(State(state): State<AppState>) -> (StatusCode, Json<Health>) {
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

#[derive(OpenApi)]
#[openapi(
    info(title = "Keyward API", version = "1.0.0", description = "Programmatic access with Keyward API keys."),
    paths(me, list_keys, create_key, get_key, regenerate_key, delete_key, key_usage, verify_key, healthz),
    modifiers(&SecuritySchemes),
    tags((name = "account"), (name = "keys"), (name = "service"))
)]
struct ApiDoc;

struct SecuritySchemes;

impl utoipa::Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("kw_…")
                    .build(),
            ),
        );
        components.add_security_scheme(
            "service_token",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
