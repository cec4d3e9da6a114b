//! Proving an email address, and getting back into an account: verification links,
//! password reset by email, and changing a password.

use super::email_links::Purpose;
use super::sessions::end_all_for_user;
use super::store::Accounts;
use super::{check_new_password, emails, password};
use crate::error::{AppError, FieldError};

impl Accounts {
    /// Marks the address a verification link was sent to as verified (if the account
    /// still uses that address).
    pub async fn verify_email(&self, token: &str) -> Result<(), AppError> {
        let owner = self
            .links
            .consume(token, Purpose::VerifyEmail)
            .await?
            .ok_or_else(expired_link)?;
        sqlx::query(
            "UPDATE users SET email_verified_at = $1 WHERE id = $2 AND email = $3 \
             AND email_verified_at IS NULL",
        )
        .bind(self.clock.now_ms())
        .bind(&owner.user_id)
        .bind(&owner.email)
        .execute(&self.db.pool)
        .await?;
        tracing::info!(user_id = %owner.user_id, "email address verified");
        Ok(())
    }

    /// Sends another verification link, a few an hour at most.
    pub async fn resend_verification(&self, user: &super::User) -> Result<(), AppError> {
        if user.email_verified_at.is_some() {
            return Ok(());
        }
        let now = self.clock.now_ms();
        let subject = format!("verify:{}", user.id);
        if let Some(retry_after_secs) = self.resets_by_email.retry_after(&subject, now) {
            return Err(AppError::TooManyAttempts { retry_after_secs });
        }
        self.resets_by_email.record(&subject, now);
        self.send_verification(user).await
    }

    /// Emails a reset link if a verified account uses `email`. Answers the same either
    /// way, so it tells nobody which addresses have accounts.
    pub async fn request_password_reset(
        &self,
        email: &str,
        client_addr: &str,
    ) -> Result<(), AppError> {
        let email = super::normalize_email(email).map_err(|e| AppError::Validation(vec![e]))?;
        let now = self.clock.now_ms();
        let wait = self
            .resets_by_client
            .retry_after(client_addr, now)
            .max(self.resets_by_email.retry_after(&email, now));
        if let Some(retry_after_secs) = wait {
            return Err(AppError::TooManyAttempts { retry_after_secs });
        }
        self.resets_by_client.record(client_addr, now);
        self.resets_by_email.record(&email, now);
        let found: Option<(String,)> = sqlx::query_as(
            "SELECT id FROM users WHERE email = $1 AND email_verified_at IS NOT NULL",
        )
        .bind(&email)
        .fetch_optional(&self.db.pool)
        .await?;
        if let Some((user_id,)) = found {
            let token = self
                .links
                .issue(&user_id, &email, Purpose::ResetPassword)
                .await?;
            let link = format!("{}/reset-password?token={token}", self.base_url);
            self.mailer.send(emails::reset_password(&email, &link));
        }
        Ok(())
    }

    /// Sets a new password from a reset link and signs the account out everywhere.
    pub async fn reset_password(&self, token: &str, new_password: &str) -> Result<(), AppError> {
        check_new_password(new_password).map_err(|e| AppError::Validation(vec![e]))?;
        let owner = self
            .links
            .consume(token, Purpose::ResetPassword)
            .await?
            .ok_or_else(expired_link)?;
        self.set_password(&owner.user_id, new_password).await?;
        let ended = end_all_for_user(&self.db, &owner.user_id, None).await?;
        tracing::info!(user_id = %owner.user_id, sessions_ended = ended, "password reset");
        self.mailer.send(emails::password_changed(&owner.email));
        Ok(())
    }

    /// Changes a password, given the current one; every other session is signed out.
    pub async fn change_password(
        &self,
        user_id: &str,
        current: &str,
        new_password: &str,
        keep_session: Option<&str>,
    ) -> Result<(), AppError> {
        let found: Option<(String, String)> =
            sqlx::query_as("SELECT password_hash, email FROM users WHERE id = $1")
                .bind(user_id)
                .fetch_optional(&self.db.pool)
                .await?;
        let (hash, email) = found.ok_or(AppError::Unauthenticated)?;
        let mut errors = Vec::new();
        if current.is_empty() || !password::verify(hash, current.to_string()).await? {
            errors.push(FieldError::new(
                "current_password",
                "That is not your current password.",
            ));
        }
        if let Err(mut e) = check_new_password(new_password) {
            e.field = "new_password".into();
            errors.push(e);
        }
        if !errors.is_empty() {
            return Err(AppError::Validation(errors));
        }
        self.set_password(user_id, new_password).await?;
        end_all_for_user(&self.db, user_id, keep_session).await?;
        self.mailer.send(emails::password_changed(&email));
        Ok(())
    }

    async fn set_password(&self, user_id: &str, new_password: &str) -> Result<(), AppError> {
        let hash = password::hash(new_password.to_string()).await?;
        sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
            .bind(hash)
            .bind(user_id)
            .execute(&self.db.pool)
            .await?;
        Ok(())
    }
}

fn expired_link() -> AppError {
    AppError::invalid(
        "token",
        "This link has expired or was already used. Ask for a new one.",
    )
}
