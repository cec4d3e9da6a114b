//! `/api/v1/keys`: a key managing its owner's keys.

use super::auth::ApiCaller;
use super::error::{parse_body, ApiError, ApiResult, ErrorBody};
use crate::keys::{emails, rules::NewKey, Expiry, KeyDetails, KeySummary, RevealedKey};
use crate::usage::{DailyCount, RequestLogEntry, UsageStats};
use crate::web::state::AppState;
use axum::{
    body::Bytes,
    extract::{Path, State},
    http::StatusCode,
    Extension, Json,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[utoipa::path(get, path = "/api/v1/keys", tag = "keys", security(("api_key" = [])),
    responses((status = 200, body = Vec<KeySummary>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub(super) async fn list_keys(
    State(state): State<AppState>,
    Extension(caller): Extension<ApiCaller>,
) -> ApiResult<Json<Vec<KeySummary>>> {
    caller.require("keys:read")?;
    Ok(Json(state.keys.list(&caller.key.owner()).await?))
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
pub(super) async fn create_key(
    State(state): State<AppState>,
    Extension(caller): Extension<ApiCaller>,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<RevealedKey>)> {
    caller.may_manage_keys()?;
    let request: CreateKeyRequest = parse_body(&body, false)?;
    // A key can hand out only what it holds itself (unknown names fail validation below).
    let grants_more = |s: &&String| state.keys.offers_scope(s) && !caller.key.has_scope(s);
    if let Some(extra) = request.scopes.iter().find(grants_more) {
        return Err(ApiError::cannot_grant(extra, "create"));
    }
    let input = NewKey {
        name: request.name,
        scopes: request.scopes,
        expiry: request.expiry.unwrap_or_default(),
        // A key cannot outlive the key that made it.
        not_after: caller.key.expires_at,
    };
    let revealed = state.keys.create(&caller.actor(), input).await?;
    tell_owner(&state, &caller, "created", &revealed.key.name);
    Ok((StatusCode::CREATED, Json(revealed)))
}

#[utoipa::path(get, path = "/api/v1/keys/{id}", tag = "keys", security(("api_key" = [])),
    params(("id" = String, Path, description = "Key ID (kid_…)")),
    responses((status = 200, body = KeyDetails), (status = 404, body = ErrorBody)))]
pub(super) async fn get_key(
    State(state): State<AppState>,
    Extension(caller): Extension<ApiCaller>,
    Path(id): Path<String>,
) -> ApiResult<Json<KeyDetails>> {
    caller.require("keys:read")?;
    Ok(Json(state.keys.details(&caller.key.owner(), &id).await?))
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
pub(super) async fn regenerate_key(
    State(state): State<AppState>,
    Extension(caller): Extension<ApiCaller>,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<Json<RevealedKey>> {
    caller.may_manage_keys()?;
    let request: RegenerateRequest = parse_body(&body, true)?;
    // Regenerating reveals the new value, so it needs every scope the target key holds.
    let target = state.keys.get(&caller.key.owner(), &id).await?;
    if let Some(extra) = target.scopes.iter().find(|s| !caller.key.has_scope(s)) {
        return Err(ApiError::cannot_grant(extra, "regenerate"));
    }
    let revealed = state
        .keys
        .regenerate(&caller.actor(), &id, request.grace_secs)
        .await?;
    tell_owner(&state, &caller, "regenerated", &revealed.key.name);
    Ok(Json(revealed))
}

#[utoipa::path(delete, path = "/api/v1/keys/{id}", tag = "keys", security(("api_key" = [])),
    params(("id" = String, Path, description = "Key ID (kid_…)")),
    responses((status = 204, description = "Revoked"), (status = 404, body = ErrorBody)))]
pub(super) async fn delete_key(
    State(state): State<AppState>,
    Extension(caller): Extension<ApiCaller>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    caller.may_manage_keys()?;
    // Deleting a more powerful key would let a weak leaked key take its owner's tools down.
    let target = state.keys.get(&caller.key.owner(), &id).await?;
    if let Some(extra) = target.scopes.iter().find(|s| !caller.key.has_scope(s)) {
        return Err(ApiError::cannot_grant(extra, "delete"));
    }
    state.keys.delete(&caller.actor(), &id).await?;
    tell_owner(&state, &caller, "deleted", &target.name);
    Ok(StatusCode::NO_CONTENT)
}

/// Emails the owner that one of their keys changed their keys.
fn tell_owner(state: &AppState, caller: &ApiCaller, action: &str, key_name: &str) {
    state.mailer.send(emails::changed_by_key(
        &caller.key.owner_email,
        action,
        key_name,
        &caller.key.key_id,
    ));
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
pub(super) async fn key_usage(
    State(state): State<AppState>,
    Extension(caller): Extension<ApiCaller>,
    Path(id): Path<String>,
) -> ApiResult<Json<KeyUsage>> {
    caller.require("keys:read")?;
    let details = state.keys.details(&caller.key.owner(), &id).await?;
    Ok(Json(KeyUsage {
        usage: details.usage,
        daily: details.daily,
        recent: details.recent,
    }))
}

#[cfg(test)]
mod tests {
    use super::super::service::VerifyRequest;
    use super::*;
    use crate::keys::rules;
    use proptest::prelude::*;

    /// Raw bytes, JSON-shaped bodies with odd values, and valid bodies cut and extended.
    fn bodies() -> impl Strategy<Value = Vec<u8>> {
        let scalar = prop_oneof![
            Just("null".to_string()),
            any::<i64>().prop_map(|n| n.to_string()),
            any::<f64>().prop_map(|f| format!("{f:?}")),
            proptest::collection::vec(any::<char>(), 0..12)
                .prop_map(|c| serde_json::Value::String(c.into_iter().collect()).to_string()),
            Just("[\"account:read\",\"keys:write\"]".to_string()),
            Just("\"never\"".to_string()),
            Just("{\"days\":90}".to_string()),
            Just("{\"date\":\"2027-01-31\"}".to_string()),
        ];
        let field = prop_oneof![
            Just("name"),
            Just("scopes"),
            Just("expiry"),
            Just("grace_secs"),
            Just("key"),
            Just("scope"),
        ];
        prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..64),
            proptest::collection::vec((field, scalar), 0..4).prop_map(|pairs| {
                let inner: Vec<String> = pairs
                    .into_iter()
                    .map(|(k, v)| format!("\"{k}\":{v}"))
                    .collect();
                format!("{{{}}}", inner.join(",")).into_bytes()
            }),
            (0usize..60, proptest::collection::vec(any::<u8>(), 0..8)).prop_map(|(at, junk)| {
                let valid = br#"{"name":"n","scopes":["account:read"],"expiry":{"days":3}}"#;
                let mut body = valid[..at.min(valid.len())].to_vec();
                body.extend(junk);
                body
            }),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(crate::property_cases(20_000)))]

        /// Bodies through every JSON request type and the key rules (20,000 on every
        /// `make test`, a million in `make fuzz`): each is refused with a 4xx or
        /// accepted, none panics.
        #[test]
        fn every_json_body_is_answered_without_a_panic(bytes in bodies()) {
            let body = Bytes::from(bytes);
            let catalog = rules::catalog([]);
            match parse_body::<CreateKeyRequest>(&body, false) {
                Ok(request) => {
                    let input = NewKey {
                        name: request.name,
                        scopes: request.scopes,
                        expiry: request.expiry.unwrap_or_default(),
                        not_after: Some(1_000),
                    };
                    if let Err(error) = rules::validate(&catalog, &input, 0) {
                        prop_assert!(ApiError::from(error).status.is_client_error());
                    }
                }
                Err(error) => prop_assert!(error.status.is_client_error()),
            }
            if let Err(error) = parse_body::<RegenerateRequest>(&body, true) {
                prop_assert!(error.status.is_client_error());
            }
            if let Err(error) = parse_body::<VerifyRequest>(&body, false) {
                prop_assert!(error.status.is_client_error());
            }
        }
    }
}
