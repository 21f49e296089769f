//! Signed subscription webhooks (serve mode): `X-Anyon-Timestamp: <unix seconds>` and
//! `X-Anyon-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<raw body>">` with `ANYON_WEBHOOK_SECRET`.
//! The timestamp must be within [`MAX_SKEW_SECS`] of now, so a captured request cannot be replayed later.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// The signature header.
pub const SIGNATURE_HEADER: &str = "x-anyon-signature";
/// The timestamp header.
pub const TIMESTAMP_HEADER: &str = "x-anyon-timestamp";
/// How far the timestamp may be from now, either way.
pub const MAX_SKEW_SECS: i64 = 5 * 60;

/// Why a webhook was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    #[error("the {TIMESTAMP_HEADER} header is missing or not a number of seconds")]
    BadTimestamp,
    #[error("the timestamp is more than {MAX_SKEW_SECS} seconds from now")]
    Stale,
    #[error("the {SIGNATURE_HEADER} header must be sha256=<hex>")]
    Malformed,
    #[error("the signature does not match")]
    Mismatch,
}

/// The header value signing `body` at `timestamp` with `secret` (for senders and tests).
pub fn sign(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    let tag = mac(secret, timestamp, body).finalize().into_bytes();
    format!("sha256={}", crate::util::hex::encode(&tag))
}

/// Checks the headers' values against `body` at `now`; the comparison takes constant time.
pub fn verify(
    secret: &[u8],
    timestamp: Option<&str>,
    signature: Option<&str>,
    body: &[u8],
    now: i64,
) -> Result<(), WebhookError> {
    let timestamp: i64 = timestamp
        .and_then(|value| value.trim().parse().ok())
        .ok_or(WebhookError::BadTimestamp)?;
    if now.abs_diff(timestamp) > MAX_SKEW_SECS as u64 {
        return Err(WebhookError::Stale);
    }
    let tag = signature
        .and_then(|value| value.trim().strip_prefix("sha256="))
        .and_then(decode_hex)
        .ok_or(WebhookError::Malformed)?;
    mac(secret, timestamp, body)
        .verify_slice(&tag)
        .map_err(|_| WebhookError::Mismatch)
}

#[allow(
    clippy::expect_used,
    reason = "HMAC takes keys of any length (longer ones are hashed), so new_from_slice cannot fail"
)]
fn mac(secret: &[u8], timestamp: i64, body: &[u8]) -> Hmac<Sha256> {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret).expect("HMAC accepts any key length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) || !text.is_ascii() {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|at| u8::from_str_radix(&text[at..at + 2], 16).ok())
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"webhook-secret";

    #[test]
    fn a_good_signature_passes_and_everything_else_fails() {
        let body = br#"{"sub":"a","plan":"pro"}"#;
        let signature = sign(SECRET, 1_000, body);
        let check = |timestamp: Option<&str>, signature: Option<&str>, body: &[u8], now| {
            verify(SECRET, timestamp, signature, body, now)
        };
        assert_eq!(check(Some("1000"), Some(&signature), body, 1_000), Ok(()));
        assert_eq!(
            check(Some("1000"), Some(&signature), body, 1_000 + MAX_SKEW_SECS),
            Ok(())
        );
        assert_eq!(
            check(Some("1000"), Some(&signature), body, 1_001 + MAX_SKEW_SECS),
            Err(WebhookError::Stale)
        );
        assert_eq!(
            check(Some("1000"), Some(&signature), b"{}", 1_000),
            Err(WebhookError::Mismatch)
        );
        assert_eq!(
            check(Some("1001"), Some(&signature), body, 1_000),
            Err(WebhookError::Mismatch)
        );
        assert_eq!(
            check(None, Some(&signature), body, 1_000),
            Err(WebhookError::BadTimestamp)
        );
        assert_eq!(
            check(Some("x"), Some(&signature), body, 1_000),
            Err(WebhookError::BadTimestamp)
        );
        assert_eq!(check(Some("1000"), None, body, 1_000), Err(WebhookError::Malformed));
        for bad in ["md5=00", "sha256=zz", "sha256=abc", "sha256=ééé"] {
            assert_eq!(
                check(Some("1000"), Some(bad), body, 1_000),
                Err(WebhookError::Malformed),
                "{bad}"
            );
        }
        let other = sign(b"another secret", 1_000, body);
        assert_eq!(
            check(Some("1000"), Some(&other), body, 1_000),
            Err(WebhookError::Mismatch)
        );
    }
}
