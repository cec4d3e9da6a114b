//! Key authentication for the REST API: who is calling, with what scopes, within
//! which limits; and the usage record of every authenticated request.

use super::error::{ApiError, ApiResult};
use crate::keys::{cache::VerifiedKey, store::Actor, verify::Refusal};
use crate::usage::RequestLogEntry;
use crate::web::request::{bearer_token, client_addr};
use crate::web::state::AppState;
use axum::{
    extract::{OriginalUri, Request, State},
    http::{header, HeaderMap},
    middleware::Next,
    response::{IntoResponse, Response},
};
use governor::clock::{Clock as _, DefaultClock};
use std::sync::Arc;

/// The key that authenticated this request.
#[derive(Clone)]
pub struct ApiCaller {
    pub key: Arc<VerifiedKey>,
    pub client_addr: String,
}

impl ApiCaller {
    pub fn require(&self, scope: &'static str) -> ApiResult<()> {
        if self.key.has_scope(scope) {
            Ok(())
        } else {
            Err(ApiError::insufficient_scope(scope))
        }
    }

    /// Managing keys needs `keys:write` and a current value: an old value inside its
    /// grace period authenticates ordinary calls only, so a leaked one cannot take over.
    pub fn may_manage_keys(&self) -> ApiResult<()> {
        self.require("keys:write")?;
        if self.key.retires_at.is_some() {
            return Err(ApiError::replaced_key_read_only());
        }
        Ok(())
    }

    /// A person's own resources (their Lab server) answer their personal keys only.
    pub fn personal_user(&self) -> ApiResult<&str> {
        match self.key.org {
            None => Ok(&self.key.user_id),
            Some(_) => Err(ApiError::new(
                axum::http::StatusCode::FORBIDDEN,
                "personal_key_required",
                "An organization's key cannot reach a person's Lab server. Use a personal key.",
            )),
        }
    }

    pub fn actor(&self) -> Actor {
        Actor {
            user_id: self.key.user_id.clone(),
            owner: self.key.owner(),
            label: format!("API key {}", self.key.key_id),
            client_addr: self.client_addr.clone(),
        }
    }
}

/// The key from `Authorization: Bearer`, `X-API-Key` or `api-key`.
pub fn presented_key(headers: &HeaderMap) -> Option<&str> {
    bearer_token(headers)
        .or_else(|| headers.get("x-api-key").and_then(|v| v.to_str().ok()))
        .or_else(|| headers.get("api-key").and_then(|v| v.to_str().ok()))
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

pub async fn authenticate(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let (parts, body) = request.into_parts();
    let client = client_addr(&parts, state.config.trust_proxy);
    request = Request::from_parts(parts, body);
    let now = state.now_ms();
    let over_limit = state.api_auth_failures.retry_after(&client, now);
    let key = match presented_key(request.headers()) {
        None => Err(Refusal::Missing),
        // Over the limit, a value that fails its checksum is not worth a lookup.
        Some(presented) if over_limit.is_some() && !state.verifier.well_formed(presented) => {
            Err(Refusal::Malformed)
        }
        // A key in the cache, or one the database knows, is never refused because
        // others at this address failed: only failures are held back.
        Some(presented) => state.verifier.verify(presented).await,
    };
    let key = match key {
        Ok(key) => key,
        Err(refusal) => {
            if let Some(wait) = over_limit.filter(|_| refusal != Refusal::Unavailable) {
                return ApiError::too_many(
                    wait,
                    "Too many failed authentications from your address. Wait and try again.",
                )
                .into_response();
            }
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
    crate::web::request_id::record_key(&key.key_id);
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
    state.usage.record(&key.key_id, now, || RequestLogEntry {
        at: now,
        method: method.as_str().to_owned(),
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
