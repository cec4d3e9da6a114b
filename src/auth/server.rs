//! Server-only account logic: password hashing, the users table, database sessions.

use super::{check_new_password, normalize_email, User};
use crate::error::{AppError, FieldError};
use crate::server::{random, request::Caller, state::AppState};
use argon2::{
    password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString},
    Algorithm, Argon2, Params, Version,
};
use axum::http::{header, HeaderMap, HeaderValue};
use sha2::{Digest, Sha256};
use sqlx::Row;
use std::sync::OnceLock;

pub const SESSION_COOKIE: &str = "keyward_session";

/// argon2id with OWASP's minimum: 19 MiB, 2 iterations, 1 lane.
fn hasher() -> Result<Argon2<'static>, AppError> {
    let params =
        Params::new(19 * 1024, 2, 1, None).map_err(|e| AppError::internal("argon2 params", e))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// At most this many argon2 computations (19 MiB each) run at once; the rest wait.
static HASHING_SLOTS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(4);

async fn hashing_slot() -> Result<tokio::sync::SemaphorePermit<'static>, AppError> {
    HASHING_SLOTS
        .acquire()
        .await
        .map_err(|e| AppError::internal("hashing semaphore", e))
}

/// Hashes off the async runtime: argon2 is deliberately slow.
pub async fn hash_password(password: String) -> Result<String, AppError> {
    let salt_bytes = random::bytes::<16>()?;
    let _slot = hashing_slot().await?;
    tokio::task::spawn_blocking(move || {
        let salt =
            SaltString::encode_b64(&salt_bytes).map_err(|e| AppError::internal("salt", e))?;
        hasher()?
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| AppError::internal("password hashing", e))
    })
    .await
    .map_err(|e| AppError::internal("hashing task", e))?
}

pub async fn verify_password(stored_hash: String, password: String) -> Result<bool, AppError> {
    let _slot = hashing_slot().await?;
    tokio::task::spawn_blocking(move || {
        let parsed =
            PasswordHash::new(&stored_hash).map_err(|e| AppError::internal("stored hash", e))?;
        Ok(hasher()?
            .verify_password(password.as_bytes(), &parsed)
            .is_ok())
    })
    .await
    .map_err(|e| AppError::internal("hashing task", e))?
}

/// A hash to verify against when the email is unknown, so both cases take as long.
async fn decoy_hash() -> Result<String, AppError> {
    static DECOY: OnceLock<String> = OnceLock::new();
    if let Some(hash) = DECOY.get() {
        return Ok(hash.clone());
    }
    let hash = hash_password(random::base62(24)?).await?;
    Ok(DECOY.get_or_init(|| hash).clone())
}

/// Creates an account. One client address may create `sign_ups_per_hour` of them.
pub async fn register(
    state: &AppState,
    email: &str,
    password: &str,
    client_addr: &str,
) -> Result<User, AppError> {
    let now = state.now_ms();
    if let Some(retry_after_secs) = state.sign_ups_by_client.retry_after(client_addr, now) {
        tracing::warn!(client = %client_addr, "sign-up throttled");
        return Err(AppError::TooManyAttempts { retry_after_secs });
    }
    // Counted before the slow hash, so parallel sign-ups cannot all slip under the
    // limit; a sign-up that creates nothing takes its count back.
    state.sign_ups_by_client.record(client_addr, now);
    let created = create_account(state, email, password).await;
    if created.is_err() {
        state.sign_ups_by_client.forgive(client_addr, now);
    }
    created
}

async fn create_account(state: &AppState, email: &str, password: &str) -> Result<User, AppError> {
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
        .fetch_optional(&state.db.pool)
        .await?
        .is_some();
    if taken {
        return Err(email_taken());
    }
    let password_hash = hash_password(password.to_string()).await?;
    let user = User {
        id: random::id("usr")?,
        email,
        created_at: state.now_ms(),
    };
    let inserted = sqlx::query(
        "INSERT INTO users (id, email, password_hash, created_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(&user.id)
    .bind(&user.email)
    .bind(&password_hash)
    .bind(user.created_at)
    .execute(&state.db.pool)
    .await;
    match inserted {
        Ok(_) => {
            tracing::info!(user_id = %user.id, "account created");
            Ok(user)
        }
        // Two sign-ups for one email racing: the unique constraint decides.
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Err(email_taken()),
        Err(e) => Err(e.into()),
    }
}

fn email_taken() -> AppError {
    AppError::Validation(vec![FieldError::new(
        "email",
        "An account with this email already exists. Sign in instead.",
    )])
}

/// Checks an email and password, throttling repeated failures per email and per client.
pub async fn authenticate(
    state: &AppState,
    email: &str,
    password: &str,
    client_addr: &str,
) -> Result<User, AppError> {
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
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    let email = email.trim().to_lowercase();
    let now = state.now_ms();
    let wait = state
        .sign_in_by_email
        .retry_after(&email, now)
        .max(state.sign_in_by_client.retry_after(client_addr, now));
    if let Some(retry_after_secs) = wait {
        tracing::warn!(client = %client_addr, "sign-in throttled");
        return Err(AppError::TooManyAttempts { retry_after_secs });
    }

    // Count the attempt before the slow check, so parallel guesses cannot all slip
    // under the limit; a correct password takes it back.
    state.sign_in_by_email.record(&email, now);
    state.sign_in_by_client.record(client_addr, now);

    let row =
        sqlx::query("SELECT id, email, created_at, password_hash FROM users WHERE email = $1")
            .bind(&email)
            .fetch_optional(&state.db.pool)
            .await?;
    let (user, hash) = match row {
        Some(row) => (
            Some(User {
                id: row.try_get("id")?,
                email: row.try_get("email")?,
                created_at: row.try_get("created_at")?,
            }),
            row.try_get::<String, _>("password_hash")?,
        ),
        None => (None, decoy_hash().await?),
    };
    let password_ok = verify_password(hash, password.to_string()).await?;
    match user {
        Some(user) if password_ok => {
            state.sign_in_by_email.clear(&email);
            state.sign_in_by_client.forgive(client_addr, now);
            Ok(user)
        }
        _ => Err(AppError::InvalidCredentials),
    }
}

fn token_digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Creates a session row (digest only) and sets the cookie holding the token.
pub async fn start_session(caller: &Caller, user_id: &str) -> Result<(), AppError> {
    let state = &caller.state;
    let token = hex::encode(random::bytes::<32>()?);
    let now = state.now_ms();
    let ttl = state.config.session_ttl_secs;
    sqlx::query("INSERT INTO sessions (token_digest, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)")
        .bind(token_digest(&token))
        .bind(user_id)
        .bind(now)
        .bind(now + ttl * 1000)
        .execute(&state.db.pool)
        .await?;
    // Expired sessions are swept whenever someone signs in.
    sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
        .bind(now)
        .execute(&state.db.pool)
        .await?;
    caller.set_cookie(session_cookie(state, &token, ttl));
    Ok(())
}

fn session_cookie(state: &AppState, token: &str, max_age_secs: i64) -> HeaderValue {
    let secure = if state.config.secure_cookies() {
        "; Secure"
    } else {
        ""
    };
    let cookie = format!(
        "{SESSION_COOKIE}={token}; HttpOnly; SameSite=Lax; Path=/; Max-Age={max_age_secs}{secure}"
    );
    // The token is hex, so the header is always valid ASCII.
    HeaderValue::from_str(&cookie).unwrap_or_else(|_| HeaderValue::from_static(""))
}

pub async fn end_session(caller: &Caller) -> Result<(), AppError> {
    if let Some(token) = session_token(&caller.headers) {
        sqlx::query("DELETE FROM sessions WHERE token_digest = $1")
            .bind(token_digest(token))
            .execute(&caller.state.db.pool)
            .await?;
    }
    caller.set_cookie(session_cookie(&caller.state, "", 0));
    Ok(())
}

/// The session token from the request's cookies, if any.
pub fn session_token(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, value)| *name == SESSION_COOKIE && !value.is_empty())
        .map(|(_, value)| value)
}

/// The user whose unexpired session the request carries.
pub async fn user_for_request(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Option<User>, AppError> {
    let Some(token) = session_token(headers) else {
        return Ok(None);
    };
    // A well-formed token is 64 hex characters; anything else cannot match.
    if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(None);
    }
    let row = sqlx::query(
        "SELECT u.id, u.email, u.created_at FROM sessions s JOIN users u ON u.id = s.user_id \
         WHERE s.token_digest = $1 AND s.expires_at > $2",
    )
    .bind(token_digest(token))
    .bind(state.now_ms())
    .fetch_optional(&state.db.pool)
    .await?;
    row.map(|row| {
        Ok(User {
            id: row.try_get("id")?,
            email: row.try_get("email")?,
            created_at: row.try_get("created_at")?,
        })
    })
    .transpose()
}
