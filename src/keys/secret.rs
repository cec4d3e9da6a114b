//! The API key format: `<prefix><30 base62 random><6 base62 CRC32>`.
//!
//! The prefix lets secret scanners recognise a leaked key; the checksum lets the
//! server refuse a mistyped or tampered key before touching the database.
//! Only the SHA-256 digest of a key is ever stored.

use crate::error::AppError;
use crate::infra::random::{self, BASE62};
use sha2::{Digest, Sha256};

pub const BODY_CHARS: usize = 30;
pub const CHECKSUM_CHARS: usize = 6;

/// SHA-256 of a key value. Not `Serialize`: it stays on the server.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct KeyDigest(pub [u8; 32]);

impl KeyDigest {
    pub fn of(secret: &str) -> Self {
        Self(Sha256::digest(secret.as_bytes()).into())
    }

    pub fn to_hex(self) -> String {
        hex::encode(self.0)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MalformedKey {
    WrongPrefix,
    WrongLength,
    BadCharacter,
    BadChecksum,
}

/// A fresh key value from the OS CSPRNG (30 base62 characters, about 178 bits).
pub fn generate(prefix: &str) -> Result<String, AppError> {
    let mut key = format!("{prefix}{}", random::base62(BODY_CHARS)?);
    let checksum = checksum_chars(&key);
    key.extend(checksum.iter().map(|&b| char::from(b)));
    Ok(key)
}

/// Checks shape and checksum without any I/O.
pub fn check(prefix: &str, candidate: &str) -> Result<(), MalformedKey> {
    let rest = candidate
        .strip_prefix(prefix)
        .ok_or(MalformedKey::WrongPrefix)?;
    if rest.len() != BODY_CHARS + CHECKSUM_CHARS {
        return Err(MalformedKey::WrongLength);
    }
    if !rest.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(MalformedKey::BadCharacter);
    }
    let (head, checksum) = candidate.split_at(candidate.len() - CHECKSUM_CHARS);
    if checksum_chars(head) != checksum.as_bytes() {
        return Err(MalformedKey::BadChecksum);
    }
    Ok(())
}

/// `kw_AbCd…wXyZ`: enough to recognise a key, useless to an attacker.
pub fn preview(prefix: &str, secret: &str) -> String {
    let body = secret.strip_prefix(prefix).unwrap_or(secret);
    let first: String = body.chars().take(4).collect();
    let last: String = {
        let chars: Vec<char> = secret.chars().collect();
        chars[chars.len().saturating_sub(4)..].iter().collect()
    };
    format!("{prefix}{first}…{last}")
}

/// The checksum as base62 ASCII; no allocation, since `check` runs on every request.
fn checksum_chars(head: &str) -> [u8; CHECKSUM_CHARS] {
    let mut n = u64::from(crc32fast::hash(head.as_bytes()));
    let mut out = [b'0'; CHECKSUM_CHARS];
    for slot in out.iter_mut().rev() {
        *slot = BASE62[(n % 62) as usize];
        n /= 62;
    }
    // 62^6 > 2^32, so every CRC32 fits.
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_have_the_documented_shape() {
        let key = generate("kw_").unwrap();
        assert_eq!(key.len(), 3 + 30 + 6);
        assert!(key.starts_with("kw_"));
        assert!(key[3..].bytes().all(|b| b.is_ascii_alphanumeric()));
        assert_eq!(check("kw_", &key), Ok(()));
        assert_ne!(generate("kw_").unwrap(), key);
    }

    #[test]
    fn tampering_is_caught_without_a_lookup() {
        let key = generate("kw_").unwrap();
        // Change each character of the body and checksum in turn.
        for i in 3..key.len() {
            let mut bytes = key.clone().into_bytes();
            bytes[i] = if bytes[i] == b'a' { b'b' } else { b'a' };
            let tampered = String::from_utf8(bytes).unwrap();
            assert_eq!(
                check("kw_", &tampered),
                Err(MalformedKey::BadChecksum),
                "position {i}"
            );
        }
        assert_eq!(
            check("kw_", &key[..key.len() - 1]),
            Err(MalformedKey::WrongLength)
        );
        assert_eq!(
            check("kw_", &format!("xx_{}", &key[3..])),
            Err(MalformedKey::WrongPrefix)
        );
        assert_eq!(
            check("kw_", &format!("{}!", &key[..key.len() - 1])),
            Err(MalformedKey::BadCharacter)
        );
        assert_eq!(check("kw_", ""), Err(MalformedKey::WrongPrefix));
        assert_eq!(check("kw_", "kw_é"), Err(MalformedKey::WrongLength));
    }

    #[test]
    fn custom_prefixes_work() {
        let key = generate("acme_live_").unwrap();
        assert_eq!(check("acme_live_", &key), Ok(()));
        assert_eq!(check("kw_", &key), Err(MalformedKey::WrongPrefix));
    }

    use proptest::strategy::Strategy as _;

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(crate::property_cases(20_000)))]

        /// Arbitrary strings (20,000 on every `make test`, a million in `make fuzz`):
        /// the parser answers, never panics.
        #[test]
        fn any_string_is_answered_without_a_panic(
            candidate in proptest::collection::vec(proptest::prelude::any::<char>(), 0..48)
                .prop_map(|chars| chars.into_iter().collect::<String>())
        ) {
            let _ = check("kw_", &candidate);
            let _ = preview("kw_", &candidate);
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(100_000))]

        /// Real keys with one byte changed, cut or extended: all refused, none panics.
        #[test]
        fn mutated_keys_are_refused(position in 0usize..39, byte in proptest::prelude::any::<u8>(), cut in 0usize..45) {
            let key = generate("kw_").unwrap();
            let mut bytes = key.clone().into_bytes();
            bytes[position] = byte;
            let mutated = String::from_utf8_lossy(&bytes).into_owned();
            if mutated != key {
                proptest::prop_assert!(check("kw_", &mutated).is_err());
            }
            let cut = &key[..cut.min(key.len())];
            if cut.len() != key.len() {
                proptest::prop_assert!(check("kw_", cut).is_err());
            }
        }
    }

    #[test]
    fn preview_shows_only_the_ends() {
        let key = "kw_ABCDefghijklmnopqrstuvwxyz0123WXYZ12";
        assert_eq!(preview("kw_", key), "kw_ABCD…YZ12");
        assert_eq!(KeyDigest::of(key).to_hex().len(), 64);
    }
}
