//! Every request gets an id (`req_…`): a `tracing` span around its handling names it
//! with the method and path (never the query, which may hold a token), and later the
//! signed-in person or the key (`user_id`, `key_id`; ids, never secrets), so a database
//! error in the log says which request caused it. The id goes back in `x-request-id`,
//! and a 5xx answer carries it in its body too, for a person to quote.

use crate::infra::random;
use axum::body::{to_bytes, Body};
use axum::extract::Request;
use axum::http::{header, HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use tracing::Instrument;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
/// A 5xx body larger than this keeps its text (only the header names the request).
const MAX_ERROR_BODY: usize = 64 * 1024;

/// This process's random prefix and a counter: unique across processes and restarts,
/// without a system call per request (key checks answer in microseconds).
fn next_id() -> String {
    static PREFIX: OnceLock<String> = OnceLock::new();
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let prefix = PREFIX.get_or_init(|| random::base62(10).unwrap_or_else(|_| "0".repeat(10)));
    format!("req_{prefix}{:x}", COUNTER.fetch_add(1, Ordering::Relaxed))
}

pub async fn tag_requests(request: Request, next: Next) -> Response {
    let id = next_id();
    let span = tracing::info_span!(
        "request",
        method = %request.method(),
        path = %request.uri().path(),
        request_id = %id,
        user_id = tracing::field::Empty,
        key_id = tracing::field::Empty,
    );
    let rest_api = request.uri().path().starts_with("/api/v1/");
    let mut response = next.run(request).instrument(span).await;
    if response.status().is_server_error() {
        response = with_id_in_body(response, &id, rest_api).await;
    }
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    response
}

/// Names the signed-in person on the current request's span.
pub fn record_user(user_id: &str) {
    tracing::Span::current().record("user_id", tracing::field::display(user_id));
}

/// Names the key a REST call authenticated with on the current request's span.
pub fn record_key(key_id: &str) {
    tracing::Span::current().record("key_id", tracing::field::display(key_id));
}

async fn with_id_in_body(response: Response, id: &str, rest_api: bool) -> Response {
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = to_bytes(body, MAX_ERROR_BODY).await else {
        return Response::from_parts(parts, Body::from("Internal error."));
    };
    let content_type = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let body = body_with_id(&bytes, &content_type, id, rest_api).unwrap_or(bytes.to_vec());
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(body))
}

/// A REST API error object gets a `request_id` field; plain text gets a last line.
/// Anything else (a server function's encoded error, which the page decodes) is left
/// as it is: None.
pub fn body_with_id(body: &[u8], content_type: &str, id: &str, rest_api: bool) -> Option<Vec<u8>> {
    if rest_api && content_type.starts_with("application/json") {
        let mut value: serde_json::Value = serde_json::from_slice(body).ok()?;
        value
            .as_object_mut()?
            .insert("request_id".into(), id.into());
        return serde_json::to_vec(&value).ok();
    }
    if content_type.starts_with("text/plain") {
        let mut text = String::from_utf8_lossy(body).trim_end().to_string();
        text.push_str(&format!("\nRequest ID: {id}"));
        return Some(text.into_bytes());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::body_with_id;

    #[test]
    fn a_5xx_body_names_its_request_where_its_reader_can_take_it() {
        let json = br#"{"error":{"code":"internal_error","message":"Something went wrong."}}"#;
        let with = body_with_id(json, "application/json", "req_abc", true).unwrap();
        let value: serde_json::Value = serde_json::from_slice(&with).unwrap();
        assert_eq!(value["request_id"], "req_abc");
        assert_eq!(value["error"]["code"], "internal_error");
        let text = body_with_id(
            b"Something went wrong.\n",
            "text/plain; charset=utf-8",
            "req_abc",
            false,
        );
        assert_eq!(text.unwrap(), b"Something went wrong.\nRequest ID: req_abc");
        // A server function's encoded error is decoded by the page: left alone.
        assert_eq!(
            body_with_id(br#""Internal""#, "application/json", "req_abc", false),
            None
        );
    }
}
