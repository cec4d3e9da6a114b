//! Every text a request carries is checked once, here, before any handler or server
//! function sees it: a NUL character, or bytes that are not UTF-8, in the path, the query
//! or a form or JSON body answer 422 naming the field. Postgres refuses NUL in text, and
//! a value that reached a query would otherwise surface as a database error (a 500), or
//! fail a group commit that other people's requests share.
//!
//! The common case costs one scan of the bytes for an encoded NUL; only a hit decodes
//! the body to name the field.

use crate::error::AppError;
use crate::web::rest::error::ApiError;
use axum::{
    body::{Body, Bytes},
    extract::Request,
    http::{header, Method, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
};
use std::collections::BTreeMap;

/// The largest body this guard reads; the handlers' own limits are smaller.
const MAX_BODY_BYTES: usize = 2 * 1024 * 1024;
/// The REST API's largest body.
const REST_MAX_BODY_BYTES: usize = 64 * 1024;
const MESSAGE: &str =
    "This text contains a character that is not allowed (NUL) or is not valid UTF-8.";

/// Refuses a request whose path, query or body holds NUL or invalid UTF-8.
pub async fn refuse_malformed_text(request: Request, next: Next) -> Response {
    let path = request.uri().path();
    // Signed by the sender over the exact bytes; the signature check reads them raw.
    if path.starts_with("/webhooks/") {
        return next.run(request).await;
    }
    let rest = path.starts_with("/api/v1/");
    let server_fn = !rest && path.starts_with("/api/");
    if bad_percent_text(path.as_bytes()) {
        return refusal(rest, server_fn, "path");
    }
    if let Some(query) = request.uri().query() {
        if let Some(field) = bad_form_field(query.as_bytes()) {
            return refusal(rest, server_fn, &field);
        }
    }
    if matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    ) {
        return next.run(request).await;
    }
    let kind = body_kind(&request);
    if kind == BodyKind::Other {
        return next.run(request).await;
    }
    // The REST API's bodies are small (its handlers take 64 KiB at most); reading more
    // before the key is checked would only help someone flood it.
    let limit = if rest {
        REST_MAX_BODY_BYTES
    } else {
        MAX_BODY_BYTES
    };
    let (parts, body) = request.into_parts();
    let bytes = match axum::body::to_bytes(body, limit).await {
        Ok(bytes) => bytes,
        Err(_) if rest => {
            return ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "body_too_large",
                "The request body is too large.",
            )
            .into_response()
        }
        Err(_) => {
            return (
                StatusCode::PAYLOAD_TOO_LARGE,
                "The request body is too large.",
            )
                .into_response()
        }
    };
    let bad = match kind {
        BodyKind::Form => bad_form_field(&bytes),
        BodyKind::Json => bad_json_field(&bytes),
        BodyKind::Other => None,
    };
    if let Some(field) = bad {
        return refusal(rest, server_fn, &field);
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum BodyKind {
    Form,
    Json,
    Other,
}

/// Server functions whose arguments travel as JSON (`input = …::codec::Json`); every
/// other server function takes a url-encoded form. A test checks this list against the
/// source.
pub const JSON_SERVER_FUNCTIONS: [&str; 5] = [
    "create_key",
    "create_promo_code",
    "allocate_credits",
    "list_jobs",
    "add_webhook_endpoint",
];

/// How the handler behind the path decodes its body. Server functions, the REST API and
/// the OAuth token endpoint decode it whatever its `Content-Type` says, so the path, not
/// the header, decides what is checked: a body that is valid JSON can still be a form
/// with a NUL in one of its fields.
fn body_kind(request: &Request) -> BodyKind {
    let path = request.uri().path();
    if path.starts_with("/api/v1/") {
        return BodyKind::Json;
    }
    if let Some(endpoint) = path.strip_prefix("/api/") {
        return if JSON_SERVER_FUNCTIONS.contains(&endpoint) {
            BodyKind::Json
        } else {
            BodyKind::Form
        };
    }
    if path.starts_with("/oauth/") {
        return BodyKind::Form;
    }
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    if content_type.starts_with("application/x-www-form-urlencoded") {
        BodyKind::Form
    } else if content_type.starts_with("application/json") || content_type.contains("+json") {
        BodyKind::Json
    } else {
        BodyKind::Other
    }
}

/// The answer in the shape the caller reads: the REST envelope, a server function's
/// `AppError`, or plain text for pages.
fn refusal(rest: bool, server_fn: bool, field: &str) -> Response {
    tracing::info!(field, "request refused: NUL or invalid UTF-8 in its text");
    if rest {
        let mut api = ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
            "Some fields are invalid.",
        );
        api.body.error.fields = Some(BTreeMap::from([(field.to_string(), MESSAGE.to_string())]));
        return api.into_response();
    }
    if server_fn {
        let error = AppError::invalid(field, MESSAGE);
        let body = serde_json::to_string(&error).unwrap_or_default();
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            [(header::CONTENT_TYPE, "application/json")],
            body,
        )
            .into_response();
    }
    (StatusCode::UNPROCESSABLE_ENTITY, MESSAGE).into_response()
}

/// Percent-decoded text that holds NUL or is not UTF-8.
fn bad_percent_text(raw: &[u8]) -> bool {
    if raw.contains(&0) || std::str::from_utf8(raw).is_err() {
        return true;
    }
    // Only an escape can hide NUL or a byte above 0x7F.
    if memchr::memchr(b'%', raw).is_none() {
        return false;
    }
    let decoded: Vec<u8> = percent_encoding::percent_decode(raw).collect();
    decoded.contains(&0) || std::str::from_utf8(&decoded).is_err()
}

/// The first field of `a=b&c=d` (query or form body) whose name or value, decoded, holds
/// NUL or is not UTF-8.
fn bad_form_field(raw: &[u8]) -> Option<String> {
    if !raw.contains(&0) && std::str::from_utf8(raw).is_ok() && memchr::memchr(b'%', raw).is_none()
    {
        return None;
    }
    for pair in raw.split(|b| *b == b'&') {
        let mut halves = pair.splitn(2, |b| *b == b'=');
        let name = halves.next().unwrap_or_default();
        let value = halves.next().unwrap_or_default();
        let name_bad = bad_percent_text(&plus_as_space(name));
        if name_bad || bad_percent_text(&plus_as_space(value)) {
            let shown = if name_bad {
                "form".to_string()
            } else {
                let decoded: Vec<u8> = percent_encoding::percent_decode(name).collect();
                String::from_utf8_lossy(&decoded).chars().take(64).collect()
            };
            return Some(shown);
        }
    }
    None
}

fn plus_as_space(raw: &[u8]) -> Vec<u8> {
    raw.iter()
        .map(|b| if *b == b'+' { b' ' } else { *b })
        .collect()
}

/// The path (`a.b[2]`) of the first JSON string or name holding NUL, or `body` when the
/// bytes are not UTF-8. JSON escapes NUL as `\u0000`, so only that needs a closer look.
fn bad_json_field(raw: &Bytes) -> Option<String> {
    if raw.contains(&0) || std::str::from_utf8(raw).is_err() {
        return Some("body".to_string());
    }
    memchr::memmem::find(raw, b"\\u0000")?;
    // Malformed JSON is the handler's to refuse (400); only a parsed NUL is named here.
    let value: serde_json::Value = serde_json::from_slice(raw).ok()?;
    let mut path = Vec::new();
    nul_path(&value, &mut path).then(|| {
        let joined = path.join("");
        let joined = joined.trim_start_matches('.');
        if joined.is_empty() {
            "body".to_string()
        } else {
            joined.to_string()
        }
    })
}

fn nul_path(value: &serde_json::Value, path: &mut Vec<String>) -> bool {
    match value {
        serde_json::Value::String(s) => s.contains('\0'),
        serde_json::Value::Array(items) => items.iter().enumerate().any(|(i, item)| {
            path.push(format!("[{i}]"));
            let found = nul_path(item, path);
            if !found {
                path.pop();
            }
            found
        }),
        serde_json::Value::Object(map) => map.iter().any(|(name, item)| {
            let shown: String = name.replace('\0', "").chars().take(64).collect();
            path.push(format!(".{shown}"));
            let found = name.contains('\0') || nul_path(item, path);
            if !found {
                path.pop();
            }
            found
        }),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_field_that_holds_nul() {
        assert_eq!(
            bad_form_field(b"email=a%00b&password=x").as_deref(),
            Some("email")
        );
        assert_eq!(bad_form_field(b"email=a%C3%A9&password=x"), None);
        assert_eq!(bad_form_field(b"email=%FF").as_deref(), Some("email"));
        assert_eq!(bad_form_field(b"a=b&c=d"), None);
        assert!(bad_percent_text(b"/api/v1/charges/%00/refund"));
        assert!(!bad_percent_text(b"/api/v1/charges/ch_1/refund"));
        let body = Bytes::from_static(br#"{"a":{"b":["x","y\u0000"]}}"#);
        assert_eq!(bad_json_field(&body).as_deref(), Some("a.b[1]"));
        let fine = Bytes::from_static(br#"{"a":"\\u0000"}"#);
        assert_eq!(bad_json_field(&fine), None);
        assert_eq!(
            bad_json_field(&Bytes::from_static(b"{\"a\":\"\xff\"}")).as_deref(),
            Some("body")
        );
        // A body that is valid JSON and a form with a NUL in a field, both at once:
        // form server functions are checked as forms whatever the body looks like.
        assert_eq!(
            bad_form_field(br#"{"a":"&name=%00&b":1}"#).as_deref(),
            Some("name")
        );
    }

    /// The list of JSON server functions is the one the source declares.
    #[test]
    fn json_server_functions_are_the_ones_the_source_declares() {
        fn walk(dir: &std::path::Path, found: &mut Vec<String>) {
            for entry in std::fs::read_dir(dir).unwrap().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    walk(&path, found);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    let text = std::fs::read_to_string(&path).unwrap();
                    for line in text.lines().map(str::trim) {
                        if line.starts_with("#[server(") && line.contains("codec::Json") {
                            let name = line.split('"').nth(1).unwrap_or_default();
                            found.push(name.to_string());
                        }
                    }
                }
            }
        }
        let mut found = Vec::new();
        walk(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
            &mut found,
        );
        found.sort();
        let mut listed: Vec<String> = JSON_SERVER_FUNCTIONS
            .iter()
            .map(|s| s.to_string())
            .collect();
        listed.sort();
        assert_eq!(found, listed);
    }
}
