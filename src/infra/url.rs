//! Percent-encoding of a URL path or query value, in the server and the browser alike.

/// Encodes everything but unreserved characters and `/`, so a path survives as one
/// query value (`/account/api-keys?x=1` → `/account/api-keys%3Fx%3D1`).
pub fn percent_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'/') {
            out.push(char::from(b));
        } else {
            const HEX: &[u8; 16] = b"0123456789ABCDEF";
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0xF)]));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::percent_encode;

    #[test]
    fn keeps_paths_readable_and_escapes_the_rest() {
        assert_eq!(
            percent_encode("/account/api-keys?x=1&y"),
            "/account/api-keys%3Fx%3D1%26y"
        );
        assert_eq!(percent_encode("é "), "%C3%A9%20");
    }
}
