//! Accounts and sessions on the server: tokens in, tokens out. No cookies and no HTTP
//! types here; `web::request` turns tokens into cookies and back.

use super::{check_new_password, normalize_email, password, User};
use crate::error::{AppError, FieldError};
use crate::infra::{clock::Clock, config::Config, db::Db, random, throttle::FailureThrottle};
use sha2::{Digest, Sha256};
use std::sync::Arc;

/// A session token as the browser holds it: 64 hex characters. Only its SHA-256 is stored.
pub struct SessionToken(pub String);

impl std::fmt::Debug for SessionToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionToken(<redacted>)")
    }
}

/// A user row with its password hash: server-only, never serialised.
#[derive(sqlx::FromRow)]
struct Credentials {
    #[sqlx(flatten)]
    user: User,
    password_hash: String,
}

/// Accounts, sign-in throttles and sessions.
#[derive(Clone)]
pub struct Accounts {
    db: Db,
    clock: Clock,
    session_ttl_secs: i64,
    /// Failed sign-ins per email address.
    sign_in_by_email: Arc<FailureThrottle>,
    /// Failed sign-ins per client address.
    sign_in_by_client: Arc<FailureThrottle>,
    /// Accounts created per client address: each costs an argon2 hash and a row.
    sign_ups_by_client: Arc<FailureThrottle>,
}

impl Accounts {
    pub fn new(db: Db, clock: Clock, config: &Config) -> Self {
        let (max, window) = (config.sign_in_max_failures, config.sign_in_window_secs);
        Self {
            db,
            clock,
            session_ttl_secs: config.session_ttl_secs,
            sign_in_by_email: Arc::new(FailureThrottle::new(max, window)),
            // One address may serve a whole office; allow it more room than one email.
            sign_in_by_client: Arc::new(FailureThrottle::per_network(
                max.saturating_mul(4),
                window,
            )),
            sign_ups_by_client: Arc::new(FailureThrottle::per_network(
                config.sign_ups_per_hour,
                3600,
            )),
        }
    }

    pub fn session_ttl_secs(&self) -> i64 {
        self.session_ttl_secs
    }

    /// Creates an account. One client address may create `sign_ups_per_hour` of them.
    pub async fn register(
        &self,
        email: &str,
        password: &str,
        client_addr: &str,
    ) -> Result<User, AppError> {
        let now = self.clock.now_ms();
        if let Some(retry_after_secs) = self.sign_ups_by_client.retry_after(client_addr, now) {
            tracing::warn!(client = %client_addr, "sign-up throttled");
            return Err(AppError::TooManyAttempts { retry_after_secs });
        }
        // Every attempt counts, those for taken emails included, so testing which
        // emails have accounts is as slow as creating accounts. Counted before the slow
        // hash, so parallel sign-ups cannot all slip under the limit.
        self.sign_ups_by_client.record(client_addr, now);
        self.create_account(email, password).await
    }

    async fn create_account(&self, email: &str, password: &str) -> Result<User, AppError> {
        let mut errors = Vec::new();
        let email = normalize_email(email).map_err(|e| errors.push(e)).ok();
        if let Err(e) = check_new_password(password) {
            errors.push(e);
        }
        let Some(email) = email.filter(|_| errors.is_empty()) else {
            return Err(AppError::Validation(errors));
        };
        let taken = sqlx::query("SELECT 1 FROM users WHERE email = $1")
            .bind(&email)
            .fetch_optional(&self.db.pool)
            .await?
            .is_some();
        if taken {
            return Err(email_taken());
        }
        let password_hash = password::hash(password.to_string()).await?;
        let user = User {
            id: random::id("usr")?,
            email,
            created_at: self.clock.now_ms(),
        };
        match insert_user(&self.db.pool, &user, &password_hash).await {
            Ok(()) => {
                tracing::info!(user_id = %user.id, "account created");
                Ok(user)
            }
            // Two sign-ups for one email racing: the unique constraint decides.
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Err(email_taken()),
            Err(e) => Err(e.into()),
        }
    }

    /// Checks an email and password, throttling repeated failures per email and per client.
    pub async fn authenticate(
        &self,
        email: &str,
        password: &str,
        client_addr: &str,
    ) -> Result<User, AppError> {
        check_sign_in_input(email, password)?;
        let email = email.trim().to_lowercase();
        let now = self.clock.now_ms();
        let wait = self
            .sign_in_by_email
            .retry_after(&email, now)
            .max(self.sign_in_by_client.retry_after(client_addr, now));
        if let Some(retry_after_secs) = wait {
            tracing::warn!(client = %client_addr, "sign-in throttled");
            return Err(AppError::TooManyAttempts { retry_after_secs });
        }
        // Count the attempt before the slow check, so parallel guesses cannot all slip
        // under the limit; a correct password takes it back.
        self.sign_in_by_email.record(&email, now);
        self.sign_in_by_client.record(client_addr, now);

        let found: Option<Credentials> = sqlx::query_as(
            "SELECT id, email, created_at, password_hash FROM users WHERE email = $1",
        )
        .bind(&email)
        .fetch_optional(&self.db.pool)
        .await?;
        let (user, hash) = match found {
            Some(found) => (Some(found.user), found.password_hash),
            None => (None, password::decoy_hash().await?),
        };
        let password_ok = password::verify(hash, password.to_string()).await?;
        match user {
            Some(user) if password_ok => {
                self.sign_in_by_email.clear(&email);
                self.sign_in_by_client.forgive(client_addr, now);
                Ok(user)
            }
            _ => Err(AppError::InvalidCredentials),
        }
    }

    /// Creates a session for a user and answers its token; only the digest is stored.
    pub async fn start_session(&self, user_id: &str) -> Result<SessionToken, AppError> {
        let token = hex::encode(random::bytes::<32>()?);
        let now = self.clock.now_ms();
        sqlx::query(
            "INSERT INTO sessions (token_digest, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(token_digest(&token))
        .bind(user_id)
        .bind(now)
        .bind(now + self.session_ttl_secs * 1000)
        .execute(&self.db.pool)
        .await?;
        // Expired sessions are swept whenever someone signs in.
        sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
            .bind(now)
            .execute(&self.db.pool)
            .await?;
        Ok(SessionToken(token))
    }

    pub async fn end_session(&self, token: &str) -> Result<(), AppError> {
        sqlx::query("DELETE FROM sessions WHERE token_digest = $1")
            .bind(token_digest(token))
            .execute(&self.db.pool)
            .await?;
        Ok(())
    }

    /// The user whose unexpired session this token is.
    pub async fn user_for_session(&self, token: &str) -> Result<Option<User>, AppError> {
        // A well-formed token is 64 hex characters; anything else cannot match.
        if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Ok(None);
        }
        Ok(sqlx::query_as(
            "SELECT u.id, u.email, u.created_at FROM sessions s JOIN users u ON u.id = s.user_id \
             WHERE s.token_digest = $1 AND s.expires_at > $2",
        )
        .bind(token_digest(token))
        .bind(self.clock.now_ms())
        .fetch_optional(&self.db.pool)
        .await?)
    }
}

/// Writes a user row; registration and the benchmark seeder both come through here.
pub async fn insert_user<'e>(
    executor: impl sqlx::Executor<'e, Database = sqlx::Any>,
    user: &User,
    password_hash: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO users (id, email, password_hash, created_at) VALUES ($1, $2, $3, $4)")
        .bind(&user.id)
        .bind(&user.email)
        .bind(password_hash)
        .bind(user.created_at)
        .execute(executor)
        .await?;
    Ok(())
}

fn email_taken() -> AppError {
    AppError::Validation(vec![FieldError::new(
        "email",
        "An account with this email already exists. Sign in instead.",
    )])
}

/// Sign-in only checks that something plausible was given; the rules are for new passwords.
fn check_sign_in_input(email: &str, password: &str) -> Result<(), AppError> {
    let mut errors = Vec::new();
    if email.trim().is_empty() {
        errors.push(FieldError::new("email", "Enter your email address."));
    } else if email.chars().count() > super::MAX_EMAIL_CHARS {
        errors.push(FieldError::new(
            "email",
            "That is longer than any email address we accept.",
        ));
    }
    if password.is_empty() {
        errors.push(FieldError::new("password", "Enter your password."));
    } else if password.chars().count() > super::MAX_PASSWORD_CHARS {
        errors.push(FieldError::new(
            "password",
            "That is longer than any password we accept.",
        ));
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(AppError::Validation(errors))
    }
}

fn token_digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}
