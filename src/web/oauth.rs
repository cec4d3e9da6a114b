//! The OAuth 2.0 endpoints the JupyterHub signs people in through (see
//! `auth::oauth`): `GET /oauth/authorize` in the person's browser, `POST /oauth/token`
//! and `GET /oauth/userinfo` from the hub's server. None of them sit behind the page
//! guards: the browser step checks the session itself, and the other two are called
//! server to server with the client's secret or an access token.

use super::request::{bearer_token, client_addr, session_user};
use super::state::AppState;
use crate::auth::oauth::{self, AuthorizeRefusal, AuthorizeRequest, TokenRefusal, TokenRequest};
use crate::infra::url::percent_encode;
use axum::extract::{Form, FromRequest, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine as _;
use std::collections::HashMap;

/// A token request is a short form.
const MAX_BODY_BYTES: usize = 16 * 1024;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/oauth/authorize", get(authorize))
        .route("/oauth/token", post(token))
        .route("/oauth/userinfo", get(userinfo))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES))
}

fn not_set_up() -> Response {
    (
        StatusCode::NOT_FOUND,
        "Single sign-on for Lab is not set up on this server.",
    )
        .into_response()
}

/// Nothing these endpoints answer may be cached (RFC 6749 §5.1).
fn no_store(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// `redirect_uri` with `params` appended to its query.
fn with_query(uri: &str, params: &[(&str, &str)]) -> String {
    let mut out = uri.to_string();
    for (i, (name, value)) in params.iter().enumerate() {
        let sep = if i == 0 && !uri.contains('?') {
            '?'
        } else {
            '&'
        };
        out.push(sep);
        out.push_str(name);
        out.push('=');
        out.push_str(&percent_encode(value));
    }
    out
}

async fn authorize(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let Some(client) = state.config.hub_oauth.as_ref() else {
        return not_set_up();
    };
    let field = |name: &str| query.get(name).cloned();
    let request = AuthorizeRequest {
        response_type: field("response_type"),
        client_id: field("client_id"),
        redirect_uri: field("redirect_uri"),
        state: field("state"),
        code_challenge: field("code_challenge"),
        code_challenge_method: field("code_challenge_method"),
    };
    let state_param = request.state.clone().unwrap_or_default();
    let with_state = |mut params: Vec<(&'static str, String)>| {
        if !state_param.is_empty() {
            params.push(("state", state_param.clone()));
        }
        params
    };
    match oauth::check_authorize(client, &request) {
        Ok(()) => {}
        Err(AuthorizeRefusal::UnknownClient) => {
            return no_store(
                (
                    StatusCode::BAD_REQUEST,
                    "This sign-in link is not valid: it names an application Keyward does not know.",
                )
                    .into_response(),
            )
        }
        Err(AuthorizeRefusal::WrongRedirectUri) => {
            return no_store(
                (
                    StatusCode::BAD_REQUEST,
                    "This sign-in link is not valid: it would send you somewhere the application did not register.",
                )
                    .into_response(),
            )
        }
        Err(AuthorizeRefusal::Redirect { error, description }) => {
            let params = with_state(vec![
                ("error", error.to_string()),
                ("error_description", description.to_string()),
            ]);
            let refs: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
            return no_store(Redirect::to(&with_query(&client.redirect_uri, &refs)).into_response());
        }
    }
    let user = match session_user(&state, &headers).await {
        Ok(Some(user)) => user,
        Ok(None) => {
            // Sign in first, then come back to this very request.
            let here = with_query(
                "/oauth/authorize",
                &query
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str()))
                    .collect::<Vec<_>>(),
            );
            return no_store(
                Redirect::to(&format!("/sign-in?next={}", percent_encode(&here))).into_response(),
            );
        }
        Err(error) => return error.into_response(),
    };
    let challenge = request.code_challenge.as_deref().unwrap_or_default();
    let code = match oauth::issue_code(&state.db, client, &user.id, challenge, state.now_ms()).await
    {
        Ok(code) => code,
        Err(error) => return error.into_response(),
    };
    let params = with_state(vec![("code", code)]);
    let refs: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
    no_store(Redirect::to(&with_query(&client.redirect_uri, &refs)).into_response())
}

/// HTTP Basic credentials (RFC 6749 §2.3.1: each part form-urlencoded first).
fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (id, secret) = text.split_once(':')?;
    let decode = |part: &str| crate::infra::url::percent_decode(&part.replace('+', " "));
    Some((decode(id)?, decode(secret)?))
}

fn token_error(refusal: TokenRefusal) -> Response {
    let status = match refusal {
        TokenRefusal::InvalidClient => StatusCode::UNAUTHORIZED,
        _ => StatusCode::BAD_REQUEST,
    };
    let mut response =
        (status, Json(serde_json::json!({ "error": refusal.code() }))).into_response();
    if refusal == TokenRefusal::InvalidClient {
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"keyward\""),
        );
    }
    no_store(response)
}

async fn token(State(state): State<AppState>, request: axum::extract::Request) -> Response {
    let Some(client) = state.config.hub_oauth.as_ref() else {
        return not_set_up();
    };
    let (parts, body) = request.into_parts();
    let client_address = client_addr(&parts, state.config.trust_proxy);
    let headers = parts.headers.clone();
    let now = state.now_ms();
    let request = axum::extract::Request::from_parts(parts, body);
    let Ok(Form(form)) = Form::<HashMap<String, String>>::from_request(request, &state).await
    else {
        return token_error(TokenRefusal::InvalidRequest);
    };
    // Unknown fields (oauthenticator sends `data=None`) are ignored, as RFC 6749 says.
    let field = |name: &str| form.get(name).filter(|v| !v.is_empty()).cloned();
    let (client_id, client_secret) = match basic_credentials(&headers) {
        Some((id, secret)) => (Some(id), Some(secret)),
        None => (field("client_id"), field("client_secret")),
    };
    let request = TokenRequest {
        grant_type: field("grant_type"),
        code: field("code"),
        redirect_uri: field("redirect_uri"),
        code_verifier: field("code_verifier"),
        client_id,
        client_secret,
    };
    // Guessing the client secret is throttled like guessing a password, per client
    // address: past the limit every request from there waits, the right secret too
    // (otherwise a right guess would still get through). Counted before anything is
    // awaited.
    if let Some(wait) = state
        .oauth_client_failures
        .retry_after(&client_address, now)
    {
        let mut response = token_error(TokenRefusal::InvalidClient);
        *response.status_mut() = StatusCode::TOO_MANY_REQUESTS;
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(wait.max(1)));
        return response;
    }
    if !oauth::client_authenticated(client, &request) {
        state.oauth_client_failures.record(&client_address, now);
        tracing::warn!(client = %client_address, "wrong OAuth client credentials");
        return token_error(TokenRefusal::InvalidClient);
    }
    match oauth::exchange_code(&state.db, client, &request, now).await {
        Ok(Ok(issued)) => no_store(
            Json(serde_json::json!({
                "access_token": issued.access_token,
                "token_type": "Bearer",
                "expires_in": issued.expires_in_secs,
                "scope": oauth::SCOPES,
            }))
            .into_response(),
        ),
        Ok(Err(refusal)) => token_error(refusal),
        Err(error) => error.into_response(),
    }
}

async fn userinfo(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if state.config.hub_oauth.is_none() {
        return not_set_up();
    }
    let identity = match bearer_token(&headers) {
        Some(token) => oauth::identity(&state.db, token, state.now_ms()).await,
        None => Ok(None),
    };
    // The hub now knows this person: the Lab metering task can tell whose server it runs.
    let identity = match identity {
        Ok(Some(identity)) => {
            crate::lab::store::ensure_account(&state.db, &identity.user_id, state.now_ms())
                .await
                .map(|_| Some(identity))
        }
        other => other,
    };
    match identity {
        Ok(Some(identity)) => no_store(
            Json(serde_json::json!({
                "sub": identity.hub_username,
                "preferred_username": identity.hub_username,
                "name": identity.hub_username,
            }))
            .into_response(),
        ),
        Ok(None) => {
            let mut response = (
                StatusCode::UNAUTHORIZED,
                Json(serde_json::json!({ "error": "invalid_token" })),
            )
                .into_response();
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer error=\"invalid_token\""),
            );
            no_store(response)
        }
        Err(error) => error.into_response(),
    }
}
