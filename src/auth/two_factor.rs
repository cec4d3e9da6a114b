//! Two-factor sign-in: TOTP codes (RFC 6238, 30-second steps, 6 digits, one step of
//! clock drift either way) with ten single-use recovery codes.

use super::{tokens, TotpSetup};
use crate::error::AppError;
use crate::infra::{clock::Clock, db::Db, random, url::percent_encode};
use totp_rs::{Algorithm, Secret, TOTP};

const STEP_SECS: i64 = 30;
pub const RECOVERY_CODES: usize = 10;

#[derive(Clone)]
pub struct TwoFactor {
    db: Db,
    clock: Clock,
}

fn totp(secret_base32: &str) -> Result<TOTP, AppError> {
    let bytes = Secret::Encoded(secret_base32.to_string())
        .to_bytes()
        .map_err(|e| AppError::internal("stored TOTP secret", format!("{e:?}")))?;
    TOTP::new(Algorithm::SHA1, 6, 1, STEP_SECS as u64, bytes)
        .map_err(|e| AppError::internal("TOTP parameters", e))
}

/// `xxxxx-xxxxx` from 10 base62 characters, lower-cased for easy typing.
fn recovery_code() -> Result<String, AppError> {
    let raw = random::base62(10)?.to_lowercase();
    Ok(format!("{}-{}", &raw[..5], &raw[5..]))
}

fn normalize_code(code: &str) -> String {
    code.chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_lowercase()
}

impl TwoFactor {
    pub fn new(db: Db, clock: Clock) -> Self {
        Self { db, clock }
    }

    pub async fn is_enabled(&self, user_id: &str) -> Result<bool, AppError> {
        let row: Option<(Option<String>,)> =
            sqlx::query_as("SELECT totp_secret FROM users WHERE id = $1")
                .bind(user_id)
                .fetch_optional(&self.db.pool)
                .await?;
        Ok(row.is_some_and(|(secret,)| secret.is_some()))
    }

    /// Starts set-up: a new secret, kept pending until a code from it confirms it.
    pub async fn begin(&self, user_id: &str, email: &str) -> Result<TotpSetup, AppError> {
        let secret = match Secret::Raw(random::bytes::<20>()?.to_vec()).to_encoded() {
            Secret::Encoded(s) => s,
            Secret::Raw(_) => return Err(AppError::internal("TOTP secret", "not encoded")),
        };
        sqlx::query("UPDATE users SET totp_pending_secret = $1 WHERE id = $2")
            .bind(&secret)
            .bind(user_id)
            .execute(&self.db.pool)
            .await?;
        let url = format!(
            "otpauth://totp/Keyward:{}?secret={secret}&issuer=Keyward&algorithm=SHA1&digits=6&period={STEP_SECS}",
            percent_encode(email)
        );
        let qr_svg = qrcode::QrCode::new(url.as_bytes())
            .map_err(|e| AppError::internal("QR code", e))?
            .render::<qrcode::render::svg::Color>()
            .min_dimensions(180, 180)
            .quiet_zone(true)
            .build();
        Ok(TotpSetup {
            secret,
            otpauth_url: url,
            qr_svg,
        })
    }

    /// Checks a code from the pending secret without using it: asked before the
    /// re-authentication, so a mistyped new code never spends a current or recovery code.
    pub async fn check_pending(&self, user_id: &str, code: &str) -> Result<(), AppError> {
        self.pending_step(user_id, code).await.map(|_| ())
    }

    /// The pending secret, and the time step of `code` in it.
    async fn pending_step(&self, user_id: &str, code: &str) -> Result<(String, i64), AppError> {
        let row: Option<(Option<String>,)> =
            sqlx::query_as("SELECT totp_pending_secret FROM users WHERE id = $1")
                .bind(user_id)
                .fetch_optional(&self.db.pool)
                .await?;
        let Some((Some(pending),)) = row else {
            return Err(set_up_again());
        };
        let step = self.matching_step(&pending, code)?.ok_or_else(wrong_code)?;
        Ok((pending, step))
    }

    /// Turns two-factor on with the first code from the pending secret; answers the
    /// recovery codes, shown this once.
    pub async fn confirm(&self, user_id: &str, code: &str) -> Result<Vec<String>, AppError> {
        let (pending, step) = self.pending_step(user_id, code).await?;
        let codes: Vec<String> = (0..RECOVERY_CODES)
            .map(|_| recovery_code())
            .collect::<Result<_, _>>()?;
        let mut tx = self.db.pool.begin().await?;
        // The secret the code was checked against, and only while it is still the pending
        // one: a set-up begun again meanwhile is not turned on by this code.
        let turned_on = sqlx::query(
            "UPDATE users SET totp_secret = $1, totp_pending_secret = NULL, totp_last_step = $2 \
             WHERE id = $3 AND totp_pending_secret = $1",
        )
        .bind(&pending)
        .bind(step)
        .bind(user_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if turned_on == 0 {
            return Err(set_up_again());
        }
        sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1")
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        for code in &codes {
            sqlx::query("INSERT INTO recovery_codes (code_digest, user_id) VALUES ($1, $2)")
                .bind(tokens::digest(code))
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        tracing::info!(user_id, "two-factor authentication turned on");
        Ok(codes)
    }

    /// Turns two-factor off; the caller re-authenticated the person first.
    pub async fn turn_off(&self, user_id: &str) -> Result<(), AppError> {
        sqlx::query(
            "UPDATE users SET totp_secret = NULL, totp_pending_secret = NULL, totp_last_step = NULL \
             WHERE id = $1",
        )
        .bind(user_id)
        .execute(&self.db.pool)
        .await?;
        sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1")
            .bind(user_id)
            .execute(&self.db.pool)
            .await?;
        tracing::info!(user_id, "two-factor authentication turned off");
        Ok(())
    }

    /// Whether `code` is a TOTP code not used before, or an unused recovery code (which
    /// is then used up).
    pub async fn verify(&self, user_id: &str, code: &str) -> Result<bool, AppError> {
        let code = normalize_code(code);
        let row: Option<(Option<String>, Option<i64>)> =
            sqlx::query_as("SELECT totp_secret, totp_last_step FROM users WHERE id = $1")
                .bind(user_id)
                .fetch_optional(&self.db.pool)
                .await?;
        let Some((Some(secret), last_step)) = row else {
            return Ok(false);
        };
        if code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()) {
            let Some(step) = self.matching_step(&secret, &code)? else {
                return Ok(false);
            };
            // A code works once: the step must be later than the last one used. The
            // conditional UPDATE settles two racing sign-ins with the same code.
            let used = sqlx::query(
                "UPDATE users SET totp_last_step = $1 WHERE id = $2 \
                 AND (totp_last_step IS NULL OR totp_last_step < $1)",
            )
            .bind(step)
            .bind(user_id)
            .execute(&self.db.pool)
            .await?;
            return Ok(last_step.is_none_or(|last| last < step) && used.rows_affected() == 1);
        }
        let used = sqlx::query(
            "UPDATE recovery_codes SET used_at = $1 WHERE code_digest = $2 AND user_id = $3 \
             AND used_at IS NULL",
        )
        .bind(self.clock.now_ms())
        .bind(tokens::digest(&code))
        .bind(user_id)
        .execute(&self.db.pool)
        .await?;
        Ok(used.rows_affected() == 1)
    }

    /// The time step (now, one before or one after) whose code `code` is.
    fn matching_step(&self, secret: &str, code: &str) -> Result<Option<i64>, AppError> {
        let code = normalize_code(code);
        let totp = totp(secret)?;
        let now = self.clock.now_ms().div_euclid(1000);
        let current = now.div_euclid(STEP_SECS);
        Ok((current - 1..=current + 1).find(|step| {
            let at = u64::try_from(step * STEP_SECS).unwrap_or(0);
            subtle::ConstantTimeEq::ct_eq(totp.generate(at).as_bytes(), code.as_bytes()).into()
        }))
    }
}

fn set_up_again() -> AppError {
    AppError::invalid(
        "code",
        "Start the set-up again: scan the new QR code first.",
    )
}

fn wrong_code() -> AppError {
    AppError::invalid(
        "code",
        "That code is not right. Enter the 6-digit code your authenticator app shows now, or an unused recovery code.",
    )
}
