//! Re-authentication: the changes that could lock an owner out of their account (a new
//! password, two-factor turned on, replaced or off) ask for the current password, and a
//! current code when two-factor is on, not only a session, which a stolen cookie is
//! enough for. Wrong answers are throttled per account like sign-ins.

use super::password;
use super::store::Accounts;
use crate::error::{AppError, FieldError};

impl Accounts {
    /// Checks that the person at the keyboard knows the account's password and, when
    /// two-factor is on, holds its authenticator (a code, or a recovery code, given in
    /// the field `code_field`). Answers the account's email.
    pub async fn reauthenticate(
        &self,
        user_id: &str,
        current_password: &str,
        code: Option<&str>,
        code_field: &str,
    ) -> Result<String, AppError> {
        let now = self.clock.now_ms();
        // Counted as a failure before anything is awaited, in the same step as the check,
        // so parallel guesses cannot all slip under the limit; a success clears it.
        if let Some(retry_after_secs) = self.reauth_failures.check_and_record(user_id, now) {
            return Err(AppError::TooManyAttempts { retry_after_secs });
        }
        let found: Option<(String, String, Option<String>)> =
            sqlx::query_as("SELECT password_hash, email, totp_secret FROM users WHERE id = $1")
                .bind(user_id)
                .fetch_optional(&self.db.pool)
                .await?;
        let (hash, email, totp_secret) = found.ok_or(AppError::Unauthenticated)?;
        let mut errors = Vec::new();
        if current_password.is_empty()
            || !password::verify(hash, current_password.to_string()).await?
        {
            errors.push(FieldError::new(
                "current_password",
                "That is not your current password.",
            ));
        }
        let code = code.map(str::trim).filter(|c| !c.is_empty());
        if totp_secret.is_some() {
            match code {
                None => errors.push(FieldError::new(
                    code_field,
                    "Enter the code your authenticator app shows now, or a recovery code.",
                )),
                // Only with the right password, so a wrong one never uses up a code.
                Some(code) if errors.is_empty() => {
                    if !self.two_factor.verify(user_id, code).await? {
                        errors.push(FieldError::new(
                            code_field,
                            "That code is not right. Enter the 6-digit code your authenticator app shows now, or an unused recovery code.",
                        ));
                    }
                }
                Some(_) => {}
            }
        }
        if !errors.is_empty() {
            tracing::warn!(user_id, "re-authentication failed");
            return Err(AppError::Validation(errors));
        }
        self.reauth_failures.clear(user_id);
        Ok(email)
    }
}
