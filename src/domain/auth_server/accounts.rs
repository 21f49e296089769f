//! The auth tables (migration `0004_auth.sql`): users, subscriptions, per-user settings, revoked tokens.

use std::collections::BTreeMap;

use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

/// Longest settings key.
pub const MAX_KEY_LEN: usize = 64;
/// Largest settings value, as serialized JSON.
pub const MAX_VALUE_BYTES: usize = 16 * 1024;
/// Most settings one user may keep.
pub const MAX_KEYS_PER_USER: usize = 256;

/// A signed-in person, keyed by the provider's `sub`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    pub sub: String,
    pub email: String,
    pub email_verified: bool,
    pub name: Option<String>,
    pub picture: Option<String>,
}

/// A user's plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Subscription {
    pub plan: String,
    pub status: String,
    pub updated_at: Option<i64>,
}

impl Default for Subscription {
    fn default() -> Self {
        Self {
            plan: "free".into(),
            status: "active".into(),
            updated_at: None,
        }
    }
}

/// Whether `key` is a valid settings key: 1 to [`MAX_KEY_LEN`] of `A-Z a-z 0-9 _ . -`, starting with a
/// letter or digit (so never `.` or `..`).
pub fn valid_key(key: &str) -> bool {
    key.as_bytes().first().is_some_and(u8::is_ascii_alphanumeric)
        && key.len() <= MAX_KEY_LEN
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

/// Inserts or refreshes a user.
pub fn upsert_user(conn: &Connection, user: &User, now: i64) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO users (sub, email, email_verified, name, picture, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)
         ON CONFLICT(sub) DO UPDATE SET email = excluded.email, email_verified = excluded.email_verified,
             name = excluded.name, picture = excluded.picture, updated_at = excluded.updated_at",
        params![user.sub, user.email, user.email_verified, user.name, user.picture, now],
    )?;
    Ok(())
}

/// The user with `sub`.
pub fn user(conn: &Connection, sub: &str) -> rusqlite::Result<Option<User>> {
    conn.query_row(
        "SELECT sub, email, email_verified, name, picture FROM users WHERE sub = ?1",
        [sub],
        |row| {
            Ok(User {
                sub: row.get(0)?,
                email: row.get(1)?,
                email_verified: row.get(2)?,
                name: row.get(3)?,
                picture: row.get(4)?,
            })
        },
    )
    .optional()
}

/// The user's subscription, `free` when none was recorded.
pub fn subscription(conn: &Connection, sub: &str) -> rusqlite::Result<Subscription> {
    let found = conn
        .query_row(
            "SELECT plan, status, updated_at FROM subscriptions WHERE sub = ?1",
            [sub],
            |row| {
                Ok(Subscription {
                    plan: row.get(0)?,
                    status: row.get(1)?,
                    updated_at: row.get(2)?,
                })
            },
        )
        .optional()?;
    Ok(found.unwrap_or_default())
}

/// Sets the user's plan.
pub fn set_subscription(conn: &Connection, sub: &str, plan: &str, status: &str, now: i64) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO subscriptions (sub, plan, status, updated_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT(sub) DO UPDATE SET plan = excluded.plan, status = excluded.status,
             updated_at = excluded.updated_at",
        params![sub, plan, status, now],
    )?;
    Ok(())
}

/// All of a user's settings, values as JSON.
pub fn settings(conn: &Connection, sub: &str) -> rusqlite::Result<BTreeMap<String, serde_json::Value>> {
    let mut stmt = conn.prepare_cached("SELECT key, value FROM user_settings WHERE sub = ?1")?;
    let rows = stmt.query_map([sub], |row| Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?)))?;
    let mut out = BTreeMap::new();
    for row in rows {
        let (key, value) = row?;
        // Only valid JSON is ever written; a damaged row reads as null rather than failing the list.
        out.insert(key, serde_json::from_str(&value).unwrap_or(serde_json::Value::Null));
    }
    Ok(out)
}

/// How many settings the user has.
pub fn settings_count(conn: &Connection, sub: &str) -> rusqlite::Result<usize> {
    conn.query_row("SELECT COUNT(*) FROM user_settings WHERE sub = ?1", [sub], |row| {
        row.get::<_, i64>(0)
    })
    .map(|n| n.max(0) as usize)
}

/// Whether the user has `key`.
pub fn has_setting(conn: &Connection, sub: &str, key: &str) -> rusqlite::Result<bool> {
    conn.query_row(
        "SELECT 1 FROM user_settings WHERE sub = ?1 AND key = ?2",
        [sub, key],
        |_| Ok(()),
    )
    .optional()
    .map(|found| found.is_some())
}

/// Writes one setting (`value` is serialized JSON, already size-checked).
pub fn put_setting(conn: &Connection, sub: &str, key: &str, value: &str, now: i64) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO user_settings (sub, key, value, updated_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT(sub, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
        params![sub, key, value, now],
    )?;
    Ok(())
}

/// Deletes one setting; whether it existed.
pub fn delete_setting(conn: &Connection, sub: &str, key: &str) -> rusqlite::Result<bool> {
    Ok(conn.execute("DELETE FROM user_settings WHERE sub = ?1 AND key = ?2", [sub, key])? > 0)
}

/// Records a revoked token id until its expiry.
pub fn revoke(conn: &Connection, jti: &str, exp: i64) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT OR IGNORE INTO revoked_tokens (jti, exp) VALUES (?1, ?2)",
        params![jti, exp],
    )?;
    Ok(())
}

/// Revoked ids still unexpired at `now` (expired ones are deleted: the tokens fail on `exp` anyway).
pub fn revoked(conn: &Connection, now: i64) -> rusqlite::Result<Vec<String>> {
    conn.execute("DELETE FROM revoked_tokens WHERE exp <= ?1", [now])?;
    let mut stmt = conn.prepare("SELECT jti FROM revoked_tokens")?;
    let rows = stmt.query_map([], |row| row.get(0))?;
    rows.collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_validated() {
        assert!(valid_key("theme"));
        assert!(valid_key("editor.font-size_2"));
        assert!(!valid_key(""));
        assert!(!valid_key(&"k".repeat(MAX_KEY_LEN + 1)));
        assert!(valid_key(&"k".repeat(MAX_KEY_LEN)));
        for bad in ["a b", "a/b", "a%2Fb", "ключ", "a\0b", "../x", ".", "..", "-x"] {
            assert!(!valid_key(bad), "{bad:?}");
        }
    }
}
