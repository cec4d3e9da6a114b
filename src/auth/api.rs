//! Server functions for accounts. Each is thin: who is asking, the domain call, the answer.

use super::{SessionInfo, TotpSetup, User};
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
#[server(endpoint = "sign_up", output = crate::infra::wire::Wire)]
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

/// Signs in; answers the path to continue to. With two-factor on, a first call without
/// `code` answers a validation error on "code", and the form asks for it.
#[server(endpoint = "sign_in", output = crate::infra::wire::Wire)]
pub async fn sign_in(
    email: String,
    password: String,
    next: Option<String>,
    code: Option<String>,
) -> Result<String, AppError> {
    Caller::run(async |caller: &Caller| {
        let accounts = &caller.state.accounts;
        let signed_in = accounts
            .authenticate(
                &email,
                &password,
                &caller.client_addr,
                caller.user_agent(),
                caller.device_token(),
                code.as_deref(),
            )
            .await?;
        continue_signed_in(caller, &signed_in, next).await
    })
    .await
}

/// Ends the current session: its row is deleted and the cookie cleared.
#[server(endpoint = "sign_out", output = crate::infra::wire::Wire)]
pub async fn sign_out() -> Result<(), AppError> {
    Caller::run(async |caller: &Caller| caller.end_session().await).await
}

/// The signed-in person, or `None`.
#[server(endpoint = "current_user", output = crate::infra::wire::Wire)]
pub async fn current_user() -> Result<Option<User>, AppError> {
    Caller::run(async |caller: &Caller| match caller.user().await {
        Ok(user) => Ok(Some(user)),
        Err(AppError::Unauthenticated) => Ok(None),
        Err(other) => Err(other),
    })
    .await
}

/// Sends another link to verify the signed-in person's address.
#[server(endpoint = "resend_verification", output = crate::infra::wire::Wire)]
pub async fn resend_verification() -> Result<(), AppError> {
    Caller::signed_in(async |caller: &Caller, user: User| {
        caller.state.accounts.resend_verification(&user).await
    })
    .await
}

/// Uses a verification link's token.
#[server(endpoint = "verify_email", output = crate::infra::wire::Wire)]
pub async fn verify_email(token: String) -> Result<(), AppError> {
    Caller::run(async |caller: &Caller| caller.state.accounts.verify_email(&token).await).await
}

/// Emails a reset link when a verified account uses this address; answers alike either way.
#[server(endpoint = "request_password_reset", output = crate::infra::wire::Wire)]
pub async fn request_password_reset(email: String) -> Result<(), AppError> {
    Caller::run(async |caller: &Caller| {
        let accounts = &caller.state.accounts;
        accounts
            .request_password_reset(&email, &caller.client_addr)
            .await
    })
    .await
}

/// Sets a new password from a reset link; every session of the account ends. A link
/// that claims an account never verified also revokes every key it had.
#[server(endpoint = "reset_password", output = crate::infra::wire::Wire)]
pub async fn reset_password(token: String, password: String) -> Result<(), AppError> {
    Caller::run(async |caller: &Caller| {
        let state = &caller.state;
        let reset = state.accounts.reset_password(&token, &password).await?;
        if reset.claimed {
            let revoked = state
                .keys
                .revoke_all_made_by(&reset.user_id, &caller.client_addr)
                .await?;
            tracing::warn!(user_id = %reset.user_id, revoked, "keys of a claimed account revoked");
        }
        Ok(())
    })
    .await
}

/// Changes the password, given the current one (and a current code when two-factor is
/// on); other sessions are signed out.
#[server(endpoint = "change_password", output = crate::infra::wire::Wire)]
pub async fn change_password(
    current_password: String,
    new_password: String,
    code: Option<String>,
) -> Result<(), AppError> {
    Caller::signed_in(async |caller: &Caller, user: User| {
        let accounts = &caller.state.accounts;
        accounts
            .change_password(
                &user.id,
                &current_password,
                code.as_deref(),
                &new_password,
                caller.session_token(),
            )
            .await
    })
    .await
}

/// The signed-in person's sessions.
#[server(endpoint = "list_sessions", output = crate::infra::wire::Wire)]
pub async fn list_sessions() -> Result<Vec<SessionInfo>, AppError> {
    Caller::signed_in(async |caller: &Caller, user: User| {
        caller
            .state
            .sessions
            .list(&user.id, caller.session_token())
            .await
    })
    .await
}

/// Signs out one of the person's sessions (another browser, or this one).
#[server(endpoint = "sign_out_session", output = crate::infra::wire::Wire)]
pub async fn sign_out_session(id: String) -> Result<(), AppError> {
    Caller::signed_in(async |caller: &Caller, user: User| {
        caller.state.sessions.end_by_id(&user.id, &id).await
    })
    .await
}

/// Signs out every session but this one; answers how many ended.
#[server(endpoint = "sign_out_other_sessions", output = crate::infra::wire::Wire)]
pub async fn sign_out_other_sessions() -> Result<u64, AppError> {
    Caller::signed_in(async |caller: &Caller, user: User| {
        caller
            .state
            .sessions
            .end_others(&user.id, caller.session_token())
            .await
    })
    .await
}

/// Whether two-factor sign-in is on for the signed-in person.
#[server(endpoint = "two_factor_enabled", output = crate::infra::wire::Wire)]
pub async fn two_factor_enabled() -> Result<bool, AppError> {
    Caller::signed_in(async |caller: &Caller, user: User| {
        caller.state.accounts.two_factor.is_enabled(&user.id).await
    })
    .await
}

/// Starts two-factor set-up: a new secret and its QR code.
#[server(endpoint = "begin_two_factor", output = crate::infra::wire::Wire)]
pub async fn begin_two_factor() -> Result<TotpSetup, AppError> {
    Caller::signed_in(async |caller: &Caller, user: User| {
        let two_factor = &caller.state.accounts.two_factor;
        two_factor.begin(&user.id, &user.email).await
    })
    .await
}

/// Turns two-factor on (or replaces it) with a first code from the new secret; answers
/// the recovery codes, shown once. Needs the current password, and a current code
/// (`current_code`) when it is already on.
#[server(endpoint = "confirm_two_factor", output = crate::infra::wire::Wire)]
pub async fn confirm_two_factor(
    code: String,
    current_password: String,
    current_code: Option<String>,
) -> Result<Vec<String>, AppError> {
    Caller::signed_in(async |caller: &Caller, user: User| {
        let accounts = &caller.state.accounts;
        let was_on = accounts.two_factor.is_enabled(&user.id).await?;
        accounts.two_factor.check_pending(&user.id, &code).await?;
        let email = accounts
            .reauthenticate(
                &user.id,
                &current_password,
                current_code.as_deref(),
                "current_code",
            )
            .await?;
        let codes = accounts.two_factor.confirm(&user.id, &code).await?;
        let what = if was_on { "replaced" } else { "turned on" };
        caller
            .state
            .mailer
            .send(crate::auth::emails::two_factor_changed(&email, what));
        Ok(codes)
    })
    .await
}

/// Turns two-factor off; needs the current password and a code.
#[server(endpoint = "disable_two_factor", output = crate::infra::wire::Wire)]
pub async fn disable_two_factor(current_password: String, code: String) -> Result<(), AppError> {
    Caller::signed_in(async |caller: &Caller, user: User| {
        let accounts = &caller.state.accounts;
        let email = accounts
            .reauthenticate(&user.id, &current_password, Some(&code), "code")
            .await?;
        accounts.two_factor.turn_off(&user.id).await?;
        caller
            .state
            .mailer
            .send(crate::auth::emails::two_factor_changed(
                &email,
                "turned off",
            ));
        Ok(())
    })
    .await
}
