//! Password hashing: argon2id with OWASP's minimum (19 MiB, 2 iterations, 1 lane),
//! off the async runtime and at most four at a time.

use crate::error::AppError;
use crate::infra::random;
use argon2::{
    password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString},
    Algorithm, Argon2, Params, Version,
};
use std::sync::OnceLock;

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
pub async fn hash(password: String) -> Result<String, AppError> {
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

/// Whether `password` matches `stored_hash`.
pub async fn verify(stored_hash: String, password: String) -> Result<bool, AppError> {
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
pub async fn decoy_hash() -> Result<String, AppError> {
    static DECOY: OnceLock<String> = OnceLock::new();
    if let Some(hash) = DECOY.get() {
        return Ok(hash.clone());
    }
    let hash = hash(random::base62(24)?).await?;
    Ok(DECOY.get_or_init(|| hash).clone())
}
