//! `AppError`: the one error type that crosses the wire between server and browser.
//!
//! Every variant renders as a sentence a person can act on. Inner causes (database
//! errors, hashing failures) are logged on the server with `tracing` and never sent.

use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};
use std::fmt;

/// A validation message that belongs beside one form field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: &str, message: impl Into<String>) -> Self {
        Self {
            field: field.to_string(),
            message: message.into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum AppError {
    /// Input failed validation; nothing was written.
    Validation(Vec<FieldError>),
    /// No valid session: the person must sign in (again).
    Unauthenticated,
    /// The thing does not exist, or belongs to someone else (the two answer alike).
    NotFound,
    /// Wrong email or password; deliberately does not say which.
    InvalidCredentials,
    /// Too many failed attempts; try again after the given number of seconds.
    TooManyAttempts { retry_after_secs: u64 },
    /// A configured limit (such as keys per account) is reached; the message names it.
    LimitReached(String),
    /// A service the request needs (such as the Lab hub) is off or not answering; the
    /// message says which.
    Unavailable(String),
    /// Something failed on the server; details are in the server log only.
    Internal,
    /// The request never reached the server or its answer was unreadable.
    Network,
}

impl AppError {
    /// The message for one field, if validation failed on it.
    pub fn field_message(&self, field: &str) -> Option<String> {
        match self {
            AppError::Validation(errors) => errors
                .iter()
                .find(|e| e.field == field)
                .map(|e| e.message.clone()),
            _ => None,
        }
    }

    /// A single-field validation failure.
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        AppError::Validation(vec![FieldError::new(field, message)])
    }
}

impl fmt::Display for AppError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AppError::Validation(errors) => match errors.as_slice() {
                [one] => write!(f, "{}", one.message),
                _ => write!(f, "Some fields need attention; see the messages beside them."),
            },
            AppError::Unauthenticated => write!(f, "Your session has ended. Sign in again to continue."),
            AppError::NotFound => write!(f, "That item no longer exists. Reload the page to see the current list."),
            AppError::InvalidCredentials => write!(f, "Incorrect email or password."),
            AppError::LimitReached(message) | AppError::Unavailable(message) => write!(f, "{message}"),
            AppError::TooManyAttempts { retry_after_secs } => write!(
                f,
                "Too many attempts. Wait {} before trying again.",
                crate::time_fmt::duration_words(*retry_after_secs)
            ),
            AppError::Internal => write!(
                f,
                "Something went wrong on our side. Try again in a moment; if it keeps happening, contact your administrator."
            ),
            AppError::Network => write!(f, "Could not reach the server. Check your connection and try again."),
        }
    }
}

impl std::error::Error for AppError {}

impl FromServerFnError for AppError {
    type Encoder = crate::infra::wire::WireEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            ServerFnErrorErr::Request(_) | ServerFnErrorErr::Response(_) => AppError::Network,
            ServerFnErrorErr::Args(_) | ServerFnErrorErr::MissingArg(_) => malformed_arguments(),
            // On the server this is a JSON-encoded argument list that did not decode; in
            // the browser, an answer that did not (below, as `Internal`).
            #[cfg(feature = "ssr")]
            ServerFnErrorErr::Deserialization(_) => malformed_arguments(),
            other => {
                tracing::error!(error = %other, "server function failure");
                AppError::Internal
            }
        }
    }
}

/// Arguments that did not decode: the caller's mistake, answered 422 beside a "form" field.
fn malformed_arguments() -> AppError {
    // Not the message itself: deserializer errors can quote the input, which may be a
    // password.
    tracing::warn!("malformed server function arguments");
    #[cfg(feature = "ssr")]
    if let Some(response) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(axum::http::StatusCode::UNPROCESSABLE_ENTITY);
    }
    AppError::invalid(
        "form",
        "The form was incomplete. Reload the page and try again.",
    )
}

#[cfg(feature = "ssr")]
mod ssr {
    use super::AppError;

    impl From<sqlx::Error> for AppError {
        fn from(error: sqlx::Error) -> Self {
            tracing::error!(%error, "database error");
            AppError::Internal
        }
    }

    impl AppError {
        /// Logs an unexpected failure and hides it behind `Internal`.
        pub fn internal(context: &str, error: impl std::fmt::Display) -> Self {
            tracing::error!(%error, "{context}");
            AppError::Internal
        }
    }
}
