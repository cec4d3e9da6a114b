//! `Caller`: what a server function knows about the request it is answering.

use super::state::AppState;
use crate::auth::{server::user_for_request, User};
use crate::error::AppError;
use axum::extract::ConnectInfo;
use axum::http::{header, request::Parts, HeaderMap, HeaderValue, StatusCode};
use leptos::prelude::*;
use leptos_axum::ResponseOptions;
use std::net::SocketAddr;

pub struct Caller {
    pub state: AppState,
    pub headers: HeaderMap,
    pub client_addr: String,
}

impl Caller {
    /// Reads the state and request that leptos_axum provides to every server function.
    pub fn from_context() -> Result<Self, AppError> {
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
        user_for_request(&self.state, &self.headers)
            .await?
            .ok_or(AppError::Unauthenticated)
    }

    pub fn set_cookie(&self, cookie: HeaderValue) {
        if let Some(response) = use_context::<ResponseOptions>() {
            response.append_header(header::SET_COOKIE, cookie);
        }
    }

    /// Gives an error its HTTP status (and `Retry-After`) before it goes back.
    pub fn reply<T>(&self, result: Result<T, AppError>) -> Result<T, AppError> {
        if let (Err(error), Some(response)) = (&result, use_context::<ResponseOptions>()) {
            response.set_status(status_of(error));
            if let AppError::TooManyAttempts { retry_after_secs } = error {
                response.insert_header(header::RETRY_AFTER, HeaderValue::from(*retry_after_secs));
            }
        }
        result
    }
}

pub fn status_of(error: &AppError) -> StatusCode {
    match error {
        AppError::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
        AppError::Unauthenticated | AppError::InvalidCredentials => StatusCode::UNAUTHORIZED,
        AppError::NotFound => StatusCode::NOT_FOUND,
        AppError::TooManyAttempts { .. } => StatusCode::TOO_MANY_REQUESTS,
        AppError::Internal | AppError::Network => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// The client's address: the connection's peer, or with `trust_proxy` the address
/// the proxy appended to `X-Forwarded-For`. That is the last entry: the ones before
/// it are whatever the client sent, so trusting them would let anyone pick a fresh
/// address for each request and walk past every per-address throttle.
pub fn client_addr(parts: &Parts, trust_proxy: bool) -> String {
    if trust_proxy {
        let forwarded = parts
            .headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next())
            .map(str::trim)
            .and_then(|v| v.parse::<std::net::IpAddr>().ok());
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
    fn behind_a_proxy_the_address_it_appended_counts() {
        // The first entry is whatever the client claimed; the proxy appended the last.
        let parts = parts("203.0.113.7, 198.51.100.2");
        assert_eq!(client_addr(&parts, true), "198.51.100.2");
        assert_eq!(client_addr(&parts, false), "10.0.0.9");
        assert_eq!(
            client_addr(&super::tests::parts("not an ip"), true),
            "10.0.0.9"
        );
    }
}
