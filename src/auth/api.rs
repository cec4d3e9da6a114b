//! Server functions for accounts. Each is thin: who is asking, the domain call, the answer.

use super::User;
use crate::error::AppError;
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use {super::store::SignedIn, crate::web::request::Caller};

/// Starts the session and answers where the browser goes next.
#[cfg(feature = "ssr")]
async fn continue_signed_in(
    caller: &Caller,
    signed_in: &SignedIn,
    next: Option<String>,
) -> Result<String, AppError> {
    caller.start_session(signed_in).await?;
    Ok(super::safe_next(next.as_deref()))
}

/// Creates an account and signs it in; answers the path to continue to.
#[server(endpoint = "sign_up")]
pub async fn sign_up(
    email: String,
    password: String,
    next: Option<String>,
) -> Result<String, AppError> {
    Caller::run(async |caller: &Caller| {
        let accounts = &caller.state.accounts;
        let signed_in = accounts
            .register(&email, &password, &caller.client_addr)
            .await?;
        continue_signed_in(caller, &signed_in, next).await
    })
    .await
}

/// Signs in; answers the path to continue to.
#[server(endpoint = "sign_in")]
pub async fn sign_in(
    email: String,
    password: String,
    next: Option<String>,
) -> Result<String, AppError> {
    Caller::run(async |caller: &Caller| {
        let accounts = &caller.state.accounts;
        let signed_in = accounts
            .authenticate(
                &email,
                &password,
                &caller.client_addr,
                caller.device_token(),
            )
            .await?;
        continue_signed_in(caller, &signed_in, next).await
    })
    .await
}

/// Ends the current session: its row is deleted and the cookie cleared.
#[server(endpoint = "sign_out")]
pub async fn sign_out() -> Result<(), AppError> {
    Caller::run(async |caller: &Caller| caller.end_session().await).await
}

/// The signed-in person, or `None`.
#[server(endpoint = "current_user")]
pub async fn current_user() -> Result<Option<User>, AppError> {
    Caller::run(async |caller: &Caller| match caller.user().await {
        Ok(user) => Ok(Some(user)),
        Err(AppError::Unauthenticated) => Ok(None),
        Err(other) => Err(other),
    })
    .await
}
