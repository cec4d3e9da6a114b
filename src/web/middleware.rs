//! Request guards that run before Leptos: cross-site refusal and the signed-out redirect.

use super::request::session_user;
use super::state::AppState;
use crate::infra::{config::Config, url::percent_encode};
use axum::{
    extract::{Request, State},
    http::{header, HeaderMap, HeaderValue, Method, StatusCode},
    middleware::Next,
    response::{IntoResponse, Redirect, Response},
};

/// Refuses state-changing requests that a browser sent from another site.
/// Leptos does no CSRF checking of its own; `SameSite=Lax` cookies are the second line.
/// The key-authenticated REST API carries no cookies and is mounted outside this layer.
pub async fn refuse_cross_site(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let safe_method = matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    if safe_method {
        return next.run(request).await;
    }
    if !is_same_origin(&state.config, request.headers()) {
        tracing::warn!(path = %request.uri().path(), "cross-site request refused");
        return (
            StatusCode::FORBIDDEN,
            "This request came from another site and was refused. Open Keyward directly and try again.",
        )
            .into_response();
    }
    next.run(request).await
}

/// True when the browser says the request comes from this app's own origin: the
/// `Host` is this server's own name (a name an attacker pointed at it, as in DNS
/// rebinding, is not), and the `Origin` is that host with the right scheme.
pub fn is_same_origin(config: &Config, headers: &HeaderMap) -> bool {
    let fetch_site = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok());
    if matches!(fetch_site, Some("cross-site" | "same-site")) {
        return false;
    }
    let Some(host) = headers.get(header::HOST).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    if !is_own_host(config, host) {
        return false;
    }
    match headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        Some(origin) => match config.public_url.as_deref() {
            Some(public) => origin == public,
            None => origin.strip_prefix("http://") == Some(host),
        },
        // No Origin: only a browser's own same-origin marker vouches for it.
        None => matches!(fetch_site, Some("same-origin")),
    }
}

/// The public URL's host, or without one the address Keyward listens on (and
/// `localhost` on its port). Listening on every interface without a public URL
/// accepts any host: set `KEYWARD_PUBLIC_URL` there.
fn is_own_host(config: &Config, host: &str) -> bool {
    match config.public_url.as_deref() {
        Some(public) => public.split_once("://").map(|(_, authority)| authority) == Some(host),
        None if config.addr.ip().is_unspecified() => true,
        None => {
            host == config.addr.to_string() || host == format!("localhost:{}", config.addr.port())
        }
    }
}

/// Signed-out visitors to `/account...` go to sign-in (and come back after);
/// signed-in visitors to the sign-in and sign-up pages go to their account.
pub async fn route_by_session(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    if request.method() != Method::GET {
        return next.run(request).await;
    }
    let path = request.uri().path();
    if path == "/" {
        return Redirect::to("/account").into_response();
    }
    let is_account = path == "/account" || path.starts_with("/account/");
    let is_entry = path == "/sign-in" || path == "/sign-up";
    if !is_account && !is_entry {
        return next.run(request).await;
    }
    let user = match session_user(&state, request.headers()).await {
        Ok(user) => user,
        Err(error) => return error.into_response(),
    };
    match (is_account, user.is_some()) {
        (true, false) => {
            let here = request
                .uri()
                .path_and_query()
                .map(|pq| pq.as_str())
                .unwrap_or("/account");
            Redirect::to(&format!("/sign-in?next={}", percent_encode(here))).into_response()
        }
        (false, true) => Redirect::to("/account").into_response(),
        (true, true) => {
            let mut response = next.run(request).await;
            // Account pages are personal; keep them out of shared caches and history snapshots.
            response
                .headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
        (false, false) => next.run(request).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.insert(*k, HeaderValue::from_static(v));
        }
        map
    }

    #[test]
    fn origin_rules() {
        let config = Config::default();
        assert!(is_same_origin(
            &config,
            &headers(&[
                ("origin", "http://127.0.0.1:3000"),
                ("host", "127.0.0.1:3000")
            ])
        ));
        assert!(!is_same_origin(
            &config,
            &headers(&[
                ("origin", "http://evil.example"),
                ("host", "127.0.0.1:3000")
            ])
        ));
        assert!(!is_same_origin(
            &config,
            &headers(&[("origin", "null"), ("host", "127.0.0.1:3000")])
        ));
        assert!(!is_same_origin(
            &config,
            &headers(&[
                ("sec-fetch-site", "cross-site"),
                ("origin", "http://127.0.0.1:3000"),
                ("host", "127.0.0.1:3000")
            ])
        ));
        assert!(is_same_origin(
            &config,
            &headers(&[
                ("sec-fetch-site", "same-origin"),
                ("host", "127.0.0.1:3000")
            ])
        ));
        assert!(!is_same_origin(&config, &headers(&[])));
        // The right host under the wrong scheme is another origin.
        assert!(!is_same_origin(
            &config,
            &headers(&[
                ("origin", "https://127.0.0.1:3000"),
                ("host", "127.0.0.1:3000")
            ])
        ));
        // DNS rebinding: a name resolving to this server, with a matching Origin.
        assert!(!is_same_origin(
            &config,
            &headers(&[
                ("origin", "http://rebind.example:3000"),
                ("host", "rebind.example:3000")
            ])
        ));
        let public = Config {
            public_url: Some("https://keys.example.com".into()),
            ..Config::default()
        };
        assert!(is_same_origin(
            &public,
            &headers(&[
                ("origin", "https://keys.example.com"),
                ("host", "keys.example.com")
            ])
        ));
        assert!(!is_same_origin(
            &public,
            &headers(&[
                ("origin", "https://keys.example.com"),
                ("host", "127.0.0.1:3000")
            ])
        ));
    }
}
