//! Single-use links sent by email: verifying an address, resetting a password. The
//! link carries a random token; only its SHA-256 is stored, with an expiry and the
//! time it was used.

use super::tokens;
use crate::error::AppError;
use crate::infra::{clock::Clock, db::Db};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    VerifyEmail,
    ResetPassword,
}

impl Purpose {
    fn as_str(self) -> &'static str {
        match self {
            Purpose::VerifyEmail => "verify_email",
            Purpose::ResetPassword => "reset_password",
        }
    }

    /// How long a link works: a day to verify, 30 minutes to reset.
    pub fn lifetime_ms(self) -> i64 {
        match self {
            Purpose::VerifyEmail => 24 * 3_600_000,
            Purpose::ResetPassword => 30 * 60_000,
        }
    }
}

/// Who a used link was for.
#[derive(Debug, sqlx::FromRow)]
pub struct LinkOwner {
    pub user_id: String,
    pub email: String,
}

#[derive(Clone)]
pub struct EmailLinks {
    db: Db,
    clock: Clock,
}

impl EmailLinks {
    pub fn new(db: Db, clock: Clock) -> Self {
        Self { db, clock }
    }

    /// A new link token for `user_id` at `email`.
    pub async fn issue(
        &self,
        user_id: &str,
        email: &str,
        purpose: Purpose,
    ) -> Result<String, AppError> {
        let token = tokens::new_token()?;
        let now = self.clock.now_ms();
        sqlx::query(
            "INSERT INTO email_tokens (token_digest, user_id, purpose, email, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(tokens::digest(&token))
        .bind(user_id)
        .bind(purpose.as_str())
        .bind(email)
        .bind(now)
        .bind(now + purpose.lifetime_ms())
        .execute(&self.db.pool)
        .await?;
        Ok(token)
    }

    /// Uses a link: answers whose it was, once, while it is fresh; `None` otherwise.
    /// One statement, so two clicks racing cannot both succeed.
    pub async fn consume(
        &self,
        token: &str,
        purpose: Purpose,
    ) -> Result<Option<LinkOwner>, AppError> {
        if !tokens::is_well_formed(token.trim()) {
            return Ok(None);
        }
        let now = self.clock.now_ms();
        Ok(sqlx::query_as(
            "UPDATE email_tokens SET used_at = $1 WHERE token_digest = $2 AND purpose = $3 \
             AND used_at IS NULL AND expires_at > $1 RETURNING user_id, email",
        )
        .bind(now)
        .bind(tokens::digest(token.trim()))
        .bind(purpose.as_str())
        .fetch_optional(&self.db.pool)
        .await?)
    }

    /// Ends every unused link of `purpose` the account has, inside `tx`.
    pub async fn revoke_all(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        user_id: &str,
        purpose: Purpose,
    ) -> Result<(), AppError> {
        sqlx::query(
            "UPDATE email_tokens SET used_at = $1 WHERE user_id = $2 AND purpose = $3 AND used_at IS NULL",
        )
        .bind(self.clock.now_ms())
        .bind(user_id)
        .bind(purpose.as_str())
        .execute(&mut **tx)
        .await?;
        Ok(())
    }
}
