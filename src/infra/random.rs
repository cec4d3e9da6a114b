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

/// Like [`id`], but ordered by time: 9 base62 characters of `now_ms` (fixed width, so
/// they sort as text), then 11 random ones. Rows keyed by these are appended at the end
/// of their B-tree instead of written into random pages, which is what the ledger's
/// hot path needs.
pub fn ordered_id(prefix: &str, now_ms: i64) -> Result<String, AppError> {
    let mut stamp = [b'0'; 9];
    let mut rest = now_ms.max(0) as u64;
    for slot in stamp.iter_mut().rev() {
        *slot = BASE62[(rest % 62) as usize];
        rest /= 62;
    }
    let stamp = std::str::from_utf8(&stamp).unwrap_or("000000000");
    Ok(format!("{prefix}_{stamp}{}", base62(11)?))
}

#[cfg(test)]
mod tests {
    #[test]
    fn ordered_ids_sort_by_time() {
        let a = super::ordered_id("led", 1_796_000_000_000).unwrap();
        let b = super::ordered_id("led", 1_796_000_000_001).unwrap();
        let c = super::ordered_id("led", 1_896_000_000_000).unwrap();
        assert!(a < b && b < c, "{a} {b} {c}");
        assert_eq!(a.len(), "led_".len() + 20);
    }
}
