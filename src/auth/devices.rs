//! Trusted devices (OWASP "device cookies"): a browser that signed in to an account
//! carries a long-lived token naming it, and failed sign-ins from anywhere else never
//! hold that browser back.

use super::tokens;
use crate::error::AppError;
use crate::infra::{clock::Clock, db::Db};

/// How long a device stays trusted without signing in again: a year.
pub const DEVICE_TTL_SECS: i64 = 365 * 24 * 3600;

/// A device a presented token vouches for.
pub struct TrustedDevice {
    pub digest: String,
    pub user_id: String,
}

#[derive(Clone)]
pub struct Devices {
    db: Db,
    clock: Clock,
}

impl Devices {
    pub fn new(db: Db, clock: Clock) -> Self {
        Self { db, clock }
    }

    /// The device a token names, if it is still trusted.
    pub async fn find(&self, token: &str) -> Result<Option<TrustedDevice>, AppError> {
        if !tokens::is_well_formed(token) {
            return Ok(None);
        }
        let digest = tokens::digest(token);
        let row: Option<(String,)> = sqlx::query_as(
            "SELECT user_id FROM trusted_devices WHERE token_digest = $1 AND last_seen_at > $2",
        )
        .bind(&digest)
        .bind(self.clock.now_ms() - DEVICE_TTL_SECS * 1000)
        .fetch_optional(&self.db.pool)
        .await?;
        Ok(row.map(|(user_id,)| TrustedDevice { digest, user_id }))
    }

    /// Trusts a new device for `user_id`; answers the token for its cookie.
    pub async fn trust(&self, user_id: &str) -> Result<String, AppError> {
        let token = tokens::new_token()?;
        let now = self.clock.now_ms();
        sqlx::query(
            "INSERT INTO trusted_devices (token_digest, user_id, created_at, last_seen_at) \
             VALUES ($1, $2, $3, $3)",
        )
        .bind(tokens::digest(&token))
        .bind(user_id)
        .bind(now)
        .execute(&self.db.pool)
        .await?;
        Ok(token)
    }

    /// Renews a device's trust after a successful sign-in from it.
    pub async fn touch(&self, device: &TrustedDevice) -> Result<(), AppError> {
        sqlx::query("UPDATE trusted_devices SET last_seen_at = $1 WHERE token_digest = $2")
            .bind(self.clock.now_ms())
            .bind(&device.digest)
            .execute(&self.db.pool)
            .await?;
        Ok(())
    }
}
