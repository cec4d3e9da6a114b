//! Randomness from the operating system's CSPRNG.

use crate::error::AppError;

pub const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

pub fn bytes<const N: usize>() -> Result<[u8; N], AppError> {
    let mut buf = [0u8; N];
    getrandom::fill(&mut buf).map_err(|e| AppError::internal("operating system RNG failed", e))?;
    Ok(buf)
}

/// `len` uniformly distributed base62 characters (rejection sampling, no modulo bias).
pub fn base62(len: usize) -> Result<String, AppError> {
    let mut out = String::with_capacity(len);
    while out.len() < len {
        for b in bytes::<64>()? {
            // 248 = 4 * 62: bytes at or above it would favour the first characters.
            if b < 248 && out.len() < len {
                out.push(BASE62[(b % 62) as usize] as char);
            }
        }
    }
    Ok(out)
}

/// A public identifier such as `usr_3fK9...`: not secret, just unguessable and unique.
pub fn id(prefix: &str) -> Result<String, AppError> {
    Ok(format!("{prefix}_{}", base62(20)?))
}
