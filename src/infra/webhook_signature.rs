//! Stripe's webhook signatures: `Stripe-Signature: t=…,v1=…`, an HMAC-SHA256 over
//! `{t}.{payload}` with the endpoint's secret, as Stripe documents.

use super::payments::WebhookRefusal;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// How old a signed webhook may be (and how far in the future), as Stripe's libraries do.
pub const WEBHOOK_TOLERANCE_SECS: i64 = 300;

/// Checks `Stripe-Signature: t=…,v1=…[,v1=…]` against `secret`: any v1 may match (Stripe
/// sends several while a secret is rolled); the time must be within the tolerance.
pub fn check_signature(
    payload: &[u8],
    header: &str,
    secret: &str,
    now_secs: i64,
) -> Result<(), WebhookRefusal> {
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',').take(16) {
        match part.trim().split_once('=') {
            Some(("t", t)) => timestamp = t.parse::<i64>().ok(),
            Some(("v1", v)) => signatures.push(v),
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or(WebhookRefusal::BadSignature)?;
    let expected = sign(payload, timestamp, secret);
    let matches = signatures.iter().any(|given| {
        hex::decode(given).is_ok_and(|given| {
            subtle::ConstantTimeEq::ct_eq(given.as_slice(), expected.as_slice()).into()
        })
    });
    if !matches {
        return Err(WebhookRefusal::BadSignature);
    }
    if (now_secs - timestamp).abs() > WEBHOOK_TOLERANCE_SECS {
        return Err(WebhookRefusal::Stale);
    }
    Ok(())
}

/// HMAC-SHA256 of `{timestamp}.{payload}`.
pub fn sign(payload: &[u8], timestamp: i64, secret: &str) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes a key of any length"));
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(payload);
    mac.finalize().into_bytes().to_vec()
}

/// The header a sender with `secret` would send; for tests and tools.
pub fn signature_header(payload: &[u8], timestamp: i64, secret: &str) -> String {
    format!(
        "t={timestamp},v1={}",
        hex::encode(sign(payload, timestamp, secret))
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_are_checked_in_constant_time_and_within_the_tolerance() {
        let body = br#"{"id":"evt_1"}"#;
        let header = signature_header(body, 1_000, "whsec_x");
        assert_eq!(check_signature(body, &header, "whsec_x", 1_000), Ok(()));
        assert_eq!(check_signature(body, &header, "whsec_x", 1_300), Ok(()));
        assert_eq!(
            check_signature(body, &header, "whsec_x", 1_301),
            Err(WebhookRefusal::Stale)
        );
        assert_eq!(
            check_signature(body, &header, "whsec_y", 1_000),
            Err(WebhookRefusal::BadSignature)
        );
        assert_eq!(
            check_signature(br#"{"id":"evt_2"}"#, &header, "whsec_x", 1_000),
            Err(WebhookRefusal::BadSignature)
        );
        let rolled = format!("t=1000,v1=00ff,{}", &header[7..]);
        assert_eq!(check_signature(body, &rolled, "whsec_x", 1_000), Ok(()));
        for junk in ["", "t=", "v1=zz", "t=abc,v1=00", "t=1000"] {
            assert_eq!(
                check_signature(body, junk, "whsec_x", 1_000),
                Err(WebhookRefusal::BadSignature),
                "{junk}"
            );
        }
    }
}
