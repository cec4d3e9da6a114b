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

/// Decodes `%XX` escapes; `None` for a broken escape or bytes that are not UTF-8.
pub fn percent_decode(value: &str) -> Option<String> {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = value.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::{percent_decode, percent_encode};

    #[test]
    fn decodes_what_it_encodes_and_refuses_broken_escapes() {
        assert_eq!(percent_decode("%C3%A9%20a").as_deref(), Some("é a"));
        assert_eq!(
            percent_decode(&percent_encode("a:b/c?d")).as_deref(),
            Some("a:b/c?d")
        );
        assert_eq!(percent_decode("%4"), None);
        assert_eq!(percent_decode("%zz"), None);
        assert_eq!(percent_decode("%FF"), None);
    }

    #[test]
    fn keeps_paths_readable_and_escapes_the_rest() {
        assert_eq!(
            percent_encode("/account/api-keys?x=1&y"),
            "/account/api-keys%3Fx%3D1%26y"
        );
        assert_eq!(percent_encode("é "), "%C3%A9%20");
    }
}
