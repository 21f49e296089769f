//! Signed subscription webhooks (serve mode): `X-Anyon-Timestamp: <unix seconds>` and
//! `X-Anyon-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<raw body>">` with `ANYON_WEBHOOK_SECRET`.
//! The timestamp must be within [`MAX_SKEW_SECS`] of now, so a captured request cannot be replayed later;
//! inside that window [`EventIds`] refuses an `event_id` seen before, and the server refuses an event older
//! than the subscription's last change.
//!
//! Event ids are kept in memory, not in SQLite: an id only needs remembering while its timestamp passes the
//! window check (at most [`MAX_SKEW_SECS`] past the timestamp), only signed events reach the map, and it is
//! bounded. A restart forgets them; a replay after one is still refused by the timestamp window once it
//! passes, and before that by the last-change check unless it is the very last event, which then only
//! applies the same change again.

use std::collections::{BTreeSet, HashSet};
use std::sync::Mutex;

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::util::sync::LockExt;

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

/// Checks the headers' values against `body` at `now`; the comparison takes constant time. Answers the
/// event's timestamp.
pub fn verify(
    secret: &[u8],
    timestamp: Option<&str>,
    signature: Option<&str>,
    body: &[u8],
    now: i64,
) -> Result<i64, WebhookError> {
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
        .map_err(|_| WebhookError::Mismatch)?;
    Ok(timestamp)
}

/// Event ids the map holds at most.
pub const MAX_EVENT_IDS: usize = 100_000;
/// Longest `event_id`.
pub const MAX_EVENT_ID_LEN: usize = 128;

/// Why an event id was not taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum EventError {
    #[error("this event was already received")]
    Replayed,
    #[error("too many events in the last {MAX_SKEW_SECS} seconds; send it again shortly")]
    Full,
}

/// The ids of the events received within the window, each kept until its timestamp leaves it.
#[derive(Default)]
pub struct EventIds {
    inner: Mutex<Seen>,
}

#[derive(Default)]
struct Seen {
    ids: HashSet<String>,
    /// (the second after which the id is no longer needed, id), soonest first.
    by_expiry: BTreeSet<(i64, String)>,
}

impl EventIds {
    /// Remembers `id` of an event stamped `timestamp`, unless it was seen before. A full map refuses
    /// rather than forgets an id that could still be replayed.
    pub fn remember(&self, id: &str, timestamp: i64, now: i64) -> Result<(), EventError> {
        let mut seen = self.inner.lock_or_recover();
        while let Some(first) = seen.by_expiry.first().filter(|(until, _)| *until < now).cloned() {
            seen.by_expiry.remove(&first);
            seen.ids.remove(&first.1);
        }
        if seen.ids.contains(id) {
            return Err(EventError::Replayed);
        }
        if seen.ids.len() >= MAX_EVENT_IDS {
            return Err(EventError::Full);
        }
        seen.ids.insert(id.to_owned());
        seen.by_expiry
            .insert((timestamp.saturating_add(MAX_SKEW_SECS), id.to_owned()));
        Ok(())
    }

    /// Forgets `id` of an event stamped `timestamp` that was not applied, so it can be sent again.
    pub fn forget(&self, id: &str, timestamp: i64) {
        let mut seen = self.inner.lock_or_recover();
        seen.ids.remove(id);
        seen.by_expiry
            .remove(&(timestamp.saturating_add(MAX_SKEW_SECS), id.to_owned()));
    }

    /// How many ids are remembered.
    pub fn len(&self) -> usize {
        self.inner.lock_or_recover().ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Whether `id` can be an event id: 1 to [`MAX_EVENT_ID_LEN`] visible ASCII characters.
pub fn valid_event_id(id: &str) -> bool {
    (1..=MAX_EVENT_ID_LEN).contains(&id.len()) && id.bytes().all(|byte| byte.is_ascii_graphic())
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
        assert_eq!(check(Some("1000"), Some(&signature), body, 1_000), Ok(1_000));
        assert_eq!(
            check(Some("1000"), Some(&signature), body, 1_000 + MAX_SKEW_SECS),
            Ok(1_000)
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

    #[test]
    fn event_ids_are_refused_twice_within_the_window_and_then_forgotten() {
        let ids = EventIds::default();
        assert_eq!(ids.remember("a", 1_000, 1_000), Ok(()));
        assert_eq!(ids.remember("a", 1_000, 1_100), Err(EventError::Replayed));
        assert_eq!(ids.remember("a", 990, 1_000 + MAX_SKEW_SECS), Err(EventError::Replayed));
        assert_eq!(ids.remember("b", 1_000, 1_000), Ok(()));
        ids.forget("b", 1_000);
        assert_eq!(ids.remember("b", 1_000, 1_000), Ok(()), "a forgotten id can come again");
        // Once the timestamp is out of the window, the id is no longer kept (the window refuses it).
        assert_eq!(ids.remember("c", 2_000, 1_001 + MAX_SKEW_SECS), Ok(()));
        assert_eq!(ids.len(), 1);
        assert!(valid_event_id("evt_123") && !valid_event_id("") && !valid_event_id("a b"));
        assert!(!valid_event_id(&"x".repeat(MAX_EVENT_ID_LEN + 1)));
    }

    #[test]
    fn the_event_map_is_bounded_and_refuses_rather_than_forgets() {
        let ids = EventIds::default();
        for i in 0..MAX_EVENT_IDS {
            ids.remember(&i.to_string(), 1_000, 1_000).unwrap();
        }
        assert_eq!(ids.remember("one more", 1_000, 1_000), Err(EventError::Full));
        assert_eq!(ids.remember("0", 1_000, 1_000), Err(EventError::Replayed));
        assert_eq!(ids.remember("later", 2_000, 1_001 + MAX_SKEW_SECS), Ok(()));
        assert_eq!(ids.len(), 1);
    }
}
