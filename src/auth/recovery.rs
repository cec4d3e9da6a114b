//! Proving an email address, and getting back into an account: verification links,
//! password reset by email, and changing a password.

use super::email_links::Purpose;
use super::sessions::end_all_for_user;
use super::store::Accounts;
use super::{check_new_password, emails, password};
use crate::error::AppError;

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

    /// Emails a reset link if an account uses `email`. Answers the same either way, so
    /// it tells nobody which addresses have accounts. An account whose address was never
    /// verified gets one too: the link proves the address, so its owner can claim an
    /// account someone else opened in their name (see `reset_password`).
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
        let found: Option<(String,)> = sqlx::query_as("SELECT id FROM users WHERE email = $1")
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

    /// Sets a new password from a reset link and signs the account out everywhere. When
    /// the account's address was never verified, the link proves it: the address's
    /// owner claims the account, which is then verified, and whatever its opener set up
    /// (two-factor, trusted devices, Lab sign-ins) ends; the caller revokes its keys.
    pub async fn reset_password(
        &self,
        token: &str,
        new_password: &str,
    ) -> Result<PasswordReset, AppError> {
        check_new_password(new_password).map_err(|e| AppError::Validation(vec![e]))?;
        let owner = self
            .links
            .consume(token, Purpose::ResetPassword)
            .await?
            .ok_or_else(expired_link)?;
        self.set_password(&owner.user_id, new_password).await?;
        let claimed = self.claim_unverified(&owner.user_id, &owner.email).await?;
        let ended = end_all_for_user(&self.db, &owner.user_id, None).await?;
        tracing::info!(user_id = %owner.user_id, sessions_ended = ended, claimed, "password reset");
        self.mailer.send(emails::password_changed(&owner.email));
        Ok(PasswordReset {
            user_id: owner.user_id,
            claimed,
        })
    }

    /// Verifies an unverified account by a reset link to its address, ending what its
    /// opener set up; answers whether it was unverified.
    async fn claim_unverified(&self, user_id: &str, email: &str) -> Result<bool, AppError> {
        let mut tx = self.db.begin_write().await?;
        let claimed = sqlx::query(
            "UPDATE users SET email_verified_at = $1, totp_secret = NULL, totp_pending_secret = NULL, \
             totp_last_step = NULL WHERE id = $2 AND email = $3 AND email_verified_at IS NULL",
        )
        .bind(self.clock.now_ms())
        .bind(user_id)
        .bind(email)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            > 0;
        if claimed {
            for sql in [
                "DELETE FROM recovery_codes WHERE user_id = $1",
                "DELETE FROM trusted_devices WHERE user_id = $1",
                "DELETE FROM oauth_tokens WHERE user_id = $1",
            ] {
                sqlx::query(sql).bind(user_id).execute(&mut *tx).await?;
            }
            self.links
                .revoke_all(&mut tx, user_id, Purpose::VerifyEmail)
                .await?;
        }
        tx.commit().await?;
        if claimed {
            tracing::warn!(
                user_id,
                "an unverified account was claimed by its address's owner"
            );
        }
        Ok(claimed)
    }

    /// Changes a password, given the current one (and a current code when two-factor is
    /// on); every other session and every reset link ends.
    pub async fn change_password(
        &self,
        user_id: &str,
        current: &str,
        code: Option<&str>,
        new_password: &str,
        keep_session: Option<&str>,
    ) -> Result<(), AppError> {
        let weak = check_new_password(new_password).err().map(|mut e| {
            e.field = "new_password".into();
            e
        });
        let email = match (
            self.reauthenticate(user_id, current, code, "code").await,
            weak,
        ) {
            (Ok(email), None) => email,
            (Ok(_), Some(weak)) => return Err(AppError::Validation(vec![weak])),
            (Err(AppError::Validation(mut errors)), weak) => {
                errors.extend(weak);
                return Err(AppError::Validation(errors));
            }
            (Err(other), _) => return Err(other),
        };
        self.set_password(user_id, new_password).await?;
        end_all_for_user(&self.db, user_id, keep_session).await?;
        self.mailer.send(emails::password_changed(&email));
        Ok(())
    }

    /// Sets the password and ends every reset link the account has: a link sent before
    /// the change must not change it again.
    async fn set_password(&self, user_id: &str, new_password: &str) -> Result<(), AppError> {
        let hash = password::hash(new_password.to_string()).await?;
        let mut tx = self.db.begin_write().await?;
        sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
            .bind(hash)
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        self.links
            .revoke_all(&mut tx, user_id, Purpose::ResetPassword)
            .await?;
        tx.commit().await?;
        Ok(())
    }
}

fn expired_link() -> AppError {
    AppError::invalid(
        "token",
        "This link has expired or was already used. Ask for a new one.",
    )
}

/// A password set from a reset link: whose, and whether the link claimed an account
/// whose address was never verified (its keys must then be revoked too).
#[derive(Debug)]
pub struct PasswordReset {
    pub user_id: String,
    pub claimed: bool,
}
