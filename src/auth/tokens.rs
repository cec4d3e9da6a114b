//! Bearer secrets for browsers (session and device tokens): 256 random bits as hex.
//! Only their SHA-256 is ever stored.

use crate::error::AppError;
use crate::infra::random;
use sha2::{Digest, Sha256};

/// A fresh token: 64 hex characters.
pub fn new_token() -> Result<String, AppError> {
    Ok(hex::encode(random::bytes::<32>()?))
}

/// What the database keeps of a token.
pub fn digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Whether a presented value could be a token at all (anything else is not looked up).
pub fn is_well_formed(token: &str) -> bool {
    token.len() == 64 && token.bytes().all(|b| b.is_ascii_hexdigit())
}
