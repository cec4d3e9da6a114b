//! What the HTTP layer knows about a request: who is calling (`Caller`, for server
//! functions), the session cookie, bearer tokens, and the client's address.

use super::state::AppState;
use crate::auth::{devices::DEVICE_TTL_SECS, sessions::Origin, store::SignedIn, User};
use crate::error::AppError;
use crate::workspace::access::{workspace, Need, Workspace};
use axum::extract::ConnectInfo;
use axum::http::{header, request::Parts, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use leptos::prelude::*;
use leptos_axum::ResponseOptions;
use std::net::SocketAddr;

/// The session cookie's name; `__Host-` is prefixed when cookies are `Secure`, so that
/// no subdomain or plain-http page can plant one.
pub const SESSION_COOKIE: &str = "keyward_session";
/// The trusted-device cookie's name (see `auth::devices`), prefixed the same way.
pub const DEVICE_COOKIE: &str = "keyward_device";
/// At most this many cookies of one name are looked at.
const MAX_SAME_NAME_COOKIES: usize = 4;

/// The request a server function is answering, and the state to answer it with.
pub struct Caller {
    pub state: AppState,
    pub headers: HeaderMap,
    pub client_addr: String,
}

impl Caller {
    /// Runs a server function's body for whoever is asking, then gives an error its
    /// HTTP status (and `Retry-After`) before it goes back.
    pub async fn run<T>(
        body: impl AsyncFnOnce(&Caller) -> Result<T, AppError>,
    ) -> Result<T, AppError> {
        let result = match Self::from_context() {
            Ok(caller) => body(&caller).await,
            Err(error) => Err(error),
        };
        reply(result)
    }

    /// Like [`run`](Self::run), for a signed-in person only: anyone else gets
    /// `Unauthenticated` and the body never runs.
    pub async fn signed_in<T>(
        body: impl AsyncFnOnce(&Caller, User) -> Result<T, AppError>,
    ) -> Result<T, AppError> {
        Self::run(async |caller: &Caller| {
            let user = caller.user().await?;
            body(caller, user).await
        })
        .await
    }

    /// Like [`signed_in`](Self::signed_in), acting in the workspace `org` names (an
    /// organization's slug, or None for the person's own) with the role `need` asks for.
    /// Someone who is not a member, or lacks the role, gets what
    /// `workspace::access::workspace` answers, and the body never runs.
    pub async fn in_workspace<T>(
        org: Option<String>,
        need: Need,
        body: impl AsyncFnOnce(&Caller, User, Workspace) -> Result<T, AppError>,
    ) -> Result<T, AppError> {
        Self::signed_in(async |caller: &Caller, user: User| {
            let state = &caller.state;
            let space =
                workspace(&state.db, org.as_deref(), &user.id, state.now_ms(), need).await?;
            body(caller, user, space).await
        })
        .await
    }

    /// Like [`signed_in`](Self::signed_in), for an operator (an admin) only; anyone else
    /// gets `NotFound`, as for a page that does not exist.
    pub async fn admin<T>(
        body: impl AsyncFnOnce(&Caller, User) -> Result<T, AppError>,
    ) -> Result<T, AppError> {
        Self::signed_in(async |caller: &Caller, user: User| {
            if !crate::auth::admin::is_admin(&caller.state.db, &user.id).await? {
                return Err(AppError::NotFound);
            }
            body(caller, user).await
        })
        .await
    }

    /// Reads the state and request that leptos_axum provides to every server function.
    fn from_context() -> Result<Self, AppError> {
        let state = use_context::<AppState>()
            .ok_or_else(|| AppError::internal("server function context", "AppState missing"))?;
        let parts = use_context::<Parts>().ok_or_else(|| {
            AppError::internal("server function context", "request parts missing")
        })?;
        Ok(Self {
            client_addr: client_addr(&parts, state.config.trust_proxy),
            headers: parts.headers,
            state,
        })
    }

    /// The signed-in user, or `Unauthenticated`.
    pub async fn user(&self) -> Result<User, AppError> {
        let user = session_user(&self.state, &self.headers)
            .await?
            .ok_or(AppError::Unauthenticated)?;
        super::request_id::record_user(&user.id);
        Ok(user)
    }

    /// The session token the browser presented (the first of its name).
    pub fn session_token(&self) -> Option<&str> {
        cookie_values(&self.headers, &cookie_name(&self.state, SESSION_COOKIE))
            .into_iter()
            .next()
    }

    /// The browser's `User-Agent`, or "" when it sent none.
    pub fn user_agent(&self) -> &str {
        self.headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    /// The device token the browser presented, if any.
    pub fn device_token(&self) -> Option<&str> {
        cookie_values(&self.headers, &cookie_name(&self.state, DEVICE_COOKIE))
            .into_iter()
            .next()
    }

    /// Starts a session for a person who just signed up or in, ending any session the
    /// browser presented, and sets the session and device cookies on the answer.
    pub async fn start_session(&self, signed_in: &SignedIn) -> Result<(), AppError> {
        let presented = cookie_values(&self.headers, &cookie_name(&self.state, SESSION_COOKIE));
        let origin = Origin {
            user_agent: self.user_agent(),
            client_addr: &self.client_addr,
        };
        let sessions = &self.state.sessions;
        let token = sessions
            .start(&signed_in.user.id, origin, &presented)
            .await?;
        self.set_cookie(cookie(
            &self.state,
            SESSION_COOKIE,
            &token.0,
            sessions.ttl_secs(),
        ));
        self.set_cookie(cookie(
            &self.state,
            DEVICE_COOKIE,
            &signed_in.device_token,
            DEVICE_TTL_SECS,
        ));
        Ok(())
    }

    /// Ends the sessions the request carries (if any) and clears the session cookie.
    pub async fn end_session(&self) -> Result<(), AppError> {
        for token in cookie_values(&self.headers, &cookie_name(&self.state, SESSION_COOKIE)) {
            self.state.sessions.end(token).await?;
        }
        self.set_cookie(cookie(&self.state, SESSION_COOKIE, "", 0));
        Ok(())
    }

    fn set_cookie(&self, cookie: HeaderValue) {
        if let Some(response) = use_context::<ResponseOptions>() {
            response.append_header(header::SET_COOKIE, cookie);
        }
    }
}

/// Gives a server function's error its HTTP status (and `Retry-After`).
fn reply<T>(result: Result<T, AppError>) -> Result<T, AppError> {
    if let (Err(error), Some(response)) = (&result, use_context::<ResponseOptions>()) {
        response.set_status(status_of(error));
        if let AppError::TooManyAttempts { retry_after_secs } = error {
            response.insert_header(header::RETRY_AFTER, HeaderValue::from(*retry_after_secs));
        }
    }
    result
}

/// The answer of an endpoint outside the REST API (exports, OAuth, the session gate):
/// the error's status, `Retry-After` when it has one, and its message as plain text.
impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = status_of(&self);
        let retry_after = match &self {
            AppError::TooManyAttempts { retry_after_secs } => Some(*retry_after_secs),
            _ => None,
        };
        let mut response = (status, self.to_string()).into_response();
        if let Some(secs) = retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

pub fn status_of(error: &AppError) -> StatusCode {
    match error {
        AppError::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
        AppError::Unauthenticated | AppError::InvalidCredentials => StatusCode::UNAUTHORIZED,
        AppError::NotFound => StatusCode::NOT_FOUND,
        AppError::TooManyAttempts { .. } => StatusCode::TOO_MANY_REQUESTS,
        AppError::LimitReached(_) => StatusCode::CONFLICT,
        AppError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        AppError::Internal | AppError::Network => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// The user whose session cookie the request carries. When a browser sends several
/// cookies of the name (one planted by someone else, say), each is checked; none is
/// trusted for being first.
pub async fn session_user(state: &AppState, headers: &HeaderMap) -> Result<Option<User>, AppError> {
    for token in cookie_values(headers, &cookie_name(state, SESSION_COOKIE)) {
        if let Some(user) = state.sessions.user(token).await? {
            return Ok(Some(user));
        }
    }
    Ok(None)
}

fn cookie_name(state: &AppState, base: &str) -> String {
    if state.config.secure_cookies() {
        format!("__Host-{base}")
    } else {
        base.to_string()
    }
}

/// The non-empty values of every cookie called `name`, in the order sent (a few at most).
pub fn cookie_values<'h>(headers: &'h HeaderMap, name: &str) -> Vec<&'h str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .filter(|(n, value)| *n == name && !value.is_empty())
        .map(|(_, value)| value)
        .take(MAX_SAME_NAME_COOKIES)
        .collect()
}

/// `HttpOnly; SameSite=Lax; Path=/`, and `Secure` (with the `__Host-` name) behind https.
fn cookie(state: &AppState, base: &str, value: &str, max_age_secs: i64) -> HeaderValue {
    let secure = if state.config.secure_cookies() {
        "; Secure"
    } else {
        ""
    };
    let name = cookie_name(state, base);
    let cookie =
        format!("{name}={value}; HttpOnly; SameSite=Lax; Path=/; Max-Age={max_age_secs}{secure}");
    // Tokens are hex, so the header is always valid ASCII.
    HeaderValue::from_str(&cookie).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// The token of an `Authorization: Bearer <token>` header. The scheme name is
/// case-insensitive (RFC 6750 via RFC 9110), and surrounding spaces are ignored.
pub fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// The client's address: the connection's peer, or with `trust_proxy` the address
/// the proxy appended to `X-Forwarded-For`. That is the last entry: the ones before
/// it are whatever the client sent, so trusting them would let anyone pick a fresh
/// address for each request and walk past every per-address throttle.
pub fn client_addr(parts: &Parts, trust_proxy: bool) -> String {
    if trust_proxy {
        // Several header lines form one list: the proxy's entry is the last of the last.
        let forwarded = parts
            .headers
            .get_all("x-forwarded-for")
            .iter()
            .next_back()
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next())
            .and_then(ip_without_port);
        if let Some(ip) = forwarded {
            return ip.to_string();
        }
    }
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip().to_string())
        .unwrap_or_else(|| "unknown".to_string())
}

/// `203.0.113.7`, `203.0.113.7:4711`, `2001:db8::1` or `[2001:db8::1]:443` → the address.
fn ip_without_port(entry: &str) -> Option<std::net::IpAddr> {
    let entry = entry.trim();
    entry
        .parse::<std::net::IpAddr>()
        .ok()
        .or_else(|| entry.parse::<SocketAddr>().ok().map(|a| a.ip()))
        .or_else(|| {
            let inner = entry.strip_prefix('[')?.strip_suffix(']')?;
            inner.parse().ok()
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::Request;

    fn parts(forwarded_for: &str) -> Parts {
        let mut parts = Request::builder()
            .header("x-forwarded-for", forwarded_for)
            .body(())
            .expect("request")
            .into_parts()
            .0;
        parts
            .extensions
            .insert(ConnectInfo(SocketAddr::from(([10, 0, 0, 9], 443))));
        parts
    }

    #[test]
    fn bearer_scheme_is_case_insensitive() {
        let with = |value: &'static str| {
            let mut headers = HeaderMap::new();
            headers.insert(header::AUTHORIZATION, HeaderValue::from_static(value));
            headers
        };
        assert_eq!(bearer_token(&with("Bearer abc")), Some("abc"));
        assert_eq!(bearer_token(&with("bearer abc")), Some("abc"));
        assert_eq!(bearer_token(&with("BEARER   abc ")), Some("abc"));
        assert_eq!(bearer_token(&with("Basic abc")), None);
        assert_eq!(bearer_token(&with("Bearer ")), None);
        assert_eq!(bearer_token(&with("Bearerabc")), None);
        assert_eq!(bearer_token(&HeaderMap::new()), None);
    }

    #[test]
    fn behind_a_proxy_the_address_it_appended_counts() {
        // The first entry is whatever the client claimed; the proxy appended the last.
        let parts = parts("203.0.113.7, 198.51.100.2");
        assert_eq!(client_addr(&parts, true), "198.51.100.2");
        assert_eq!(client_addr(&parts, false), "10.0.0.9");
        assert_eq!(
            client_addr(&super::tests::parts("not an ip"), true),
            "10.0.0.9"
        );
        assert_eq!(
            client_addr(&super::tests::parts("203.0.113.7, 198.51.100.2:4711"), true),
            "198.51.100.2"
        );
        assert_eq!(
            client_addr(&super::tests::parts("[2001:db8::7]:443"), true),
            "2001:db8::7"
        );
        // Two header lines: the proxy appended its entry to the last one.
        let mut two = super::tests::parts("198.51.100.2");
        two.headers
            .append("x-forwarded-for", HeaderValue::from_static("203.0.113.9"));
        assert_eq!(client_addr(&two, true), "203.0.113.9");
    }
}
