//! The error envelope every REST refusal shares, and JSON body parsing.

use crate::error::AppError;
use crate::keys::verify::Refusal;
use crate::web::request::status_of;
use axum::{
    body::Bytes,
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use serde::Serialize;
use std::collections::BTreeMap;
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable machine-readable code, e.g. `unknown_key`, `insufficient_scope`.
    pub code: String,
    pub message: String,
    /// Validation messages by field name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fields: Option<BTreeMap<String, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub required_scope: Option<String>,
    /// With `insufficient_credits` on a job: the balance that could not cover its hold.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub available: Option<i64>,
    /// With `illegal_transition`: the statuses the job can move to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allowed: Option<Vec<String>>,
}

pub struct ApiError {
    pub status: StatusCode,
    // Boxed: errors are rare, and a small `Result` keeps the happy path lean.
    pub body: Box<ErrorBody>,
    pub headers: Vec<(header::HeaderName, HeaderValue)>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        Self {
            status,
            body: Box::new(ErrorBody {
                error: ErrorDetail {
                    code: code.to_string(),
                    message: message.into(),
                    fields: None,
                    required_scope: None,
                    available: None,
                    allowed: None,
                },
            }),
            headers: Vec::new(),
        }
    }

    pub fn unauthorized(refusal: Refusal) -> Self {
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

    pub fn insufficient_scope(scope: &'static str) -> Self {
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

    /// The caller asked to `action` (create, regenerate, delete) a key more powerful than itself.
    pub fn cannot_grant(scope: &str, action: &str) -> Self {
        let shown: String = scope.chars().take(64).collect();
        let mut error = Self::new(
            StatusCode::FORBIDDEN,
            "scope_escalation",
            format!("This key does not hold `{shown}`, so it cannot {action} a key that does."),
        );
        error.body.error.required_scope = Some(shown);
        error
    }

    /// A replaced value still in its grace period tried to manage keys.
    pub fn replaced_key_read_only() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "replaced_key_read_only",
            "This key value was replaced and only keeps working for ordinary calls until its \
             grace period ends. Use the new value to create, regenerate or delete keys.",
        )
    }

    pub fn too_many(retry_after_secs: u64, message: &str) -> Self {
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
        let status = status_of(&error);
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
            AppError::LimitReached(message) => Self::new(status, "limit_reached", message),
            AppError::Unavailable(message) => Self::new(status, "unavailable", message),
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

pub type ApiResult<T> = Result<T, ApiError>;

/// Parses a JSON body; malformed JSON is 400, well-formed but wrong is 422.
pub fn parse_body<T: serde::de::DeserializeOwned + Default>(
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
