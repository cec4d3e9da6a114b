//! Server functions for accounts. Each is thin: who is asking, the domain call, the answer.

use super::User;
use crate::error::AppError;
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use crate::server::request::Caller;

/// Creates an account and signs it in; answers the path to continue to.
#[server(endpoint = "sign_up")]
pub async fn sign_up(
    email: String,
    password: String,
    next: Option<String>,
) -> Result<String, AppError> {
    let caller = Caller::from_context()?;
    let result = async {
        let user =
            super::server::register(&caller.state, &email, &password, &caller.client_addr).await?;
        super::server::start_session(&caller, &user.id).await?;
        Ok(super::safe_next(next.as_deref()))
    }
    .await;
    caller.reply(result)
}

/// Signs in; answers the path to continue to.
#[server(endpoint = "sign_in")]
pub async fn sign_in(
    email: String,
    password: String,
    next: Option<String>,
) -> Result<String, AppError> {
    let caller = Caller::from_context()?;
    let result = async {
        let user =
            super::server::authenticate(&caller.state, &email, &password, &caller.client_addr)
                .await?;
        super::server::start_session(&caller, &user.id).await?;
        Ok(super::safe_next(next.as_deref()))
    }
    .await;
    caller.reply(result)
}

/// Ends the current session: its row is deleted and the cookie cleared.
#[server(endpoint = "sign_out")]
pub async fn sign_out() -> Result<(), AppError> {
    let caller = Caller::from_context()?;
    let result = super::server::end_session(&caller).await;
    caller.reply(result)
}

/// The signed-in person, or `None`.
#[server(endpoint = "current_user")]
pub async fn current_user() -> Result<Option<User>, AppError> {
    let caller = Caller::from_context()?;
    let result = caller.user().await.map(Some).or_else(|e| match e {
        AppError::Unauthenticated => Ok(None),
        other => Err(other),
    });
    caller.reply(result)
}
