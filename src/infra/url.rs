//! Percent-encoding of a URL path or query value, in the server and the browser alike,
//! through the `percent-encoding` crate (the url crate's own, already in the tree).

use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

/// Everything but unreserved characters (RFC 3986) and `/`.
const VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~')
    .remove(b'/');

/// Encodes everything but unreserved characters and `/`, so a path survives as one
/// query value (`/account/api-keys?x=1` → `/account/api-keys%3Fx%3D1`).
pub fn percent_encode(value: &str) -> String {
    utf8_percent_encode(value, VALUE).to_string()
}

/// Decodes `%XX` escapes; `None` for a broken escape (which the crate would pass
/// through as it is) or bytes that are not UTF-8.
pub fn percent_decode(value: &str) -> Option<String> {
    let bytes = value.as_bytes();
    let hex = |i: usize| bytes.get(i).is_some_and(u8::is_ascii_hexdigit);
    let broken = bytes
        .iter()
        .enumerate()
        .any(|(i, &b)| b == b'%' && !(hex(i + 1) && hex(i + 2)));
    if broken {
        return None;
    }
    percent_decode_str(value)
        .decode_utf8()
        .ok()
        .map(|text| text.into_owned())
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
