//! Named secrets (API keys, tokens) kept in the OS keychain, or in an owner-only file when there is none.
//!
//! The keychain is the `keyring` crate's platform store: the Secret Service over D-Bus on Linux (pure Rust,
//! zbus), the Keychain on macOS, the credential manager on Windows. A headless Linux box or CI has no Secret
//! Service; then [`SecretStore`] keeps secrets in `secrets.json` in ANYON's data folder, created with mode 0600
//! and replaced atomically. `ANYON_SECRET_STORE=file` forces the file (tests, CI, people who prefer it);
//! `keychain` or `auto` (the default) try the keychain first.
//!
//! Reading checks both, so a secret saved while the keychain was away is not lost when it comes back.
//! Keychain calls can block (D-Bus, an unlock prompt): call these methods from a worker thread, never from
//! the UI thread. Nothing here panics or logs a secret's value.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::util::sync::LockExt;

/// The environment variable choosing the store: `file`, or `auto` / `keychain` (the default).
pub const SECRET_STORE_ENV: &str = "ANYON_SECRET_STORE";

/// The keychain service name every ANYON secret is filed under (the secret's name is the account).
pub const KEYCHAIN_SERVICE: &str = "anyon";

/// The fallback file's name in the data folder.
pub const FALLBACK_FILE: &str = "secrets.json";

/// A value that must never reach a log or the screen whole (API keys, tokens).
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The value itself, for the one place that must send or store it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// A form safe to show: the first seven and last four characters (`sk-ant-…abcd`), or dots when short.
    pub fn masked(&self) -> String {
        let chars: Vec<char> = self.0.chars().collect();
        if chars.len() <= 12 {
            return "•".repeat(chars.len().min(8));
        }
        let head: String = chars[..7].iter().collect();
        let tail: String = chars[chars.len() - 4..].iter().collect();
        format!("{head}…{tail}")
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret({})", self.masked())
    }
}

/// Where a secret is (or would be) kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SecretBackend {
    Keychain,
    File { path: PathBuf },
}

impl fmt::Display for SecretBackend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SecretBackend::Keychain => f.write_str("OS keychain"),
            SecretBackend::File { path } => write!(f, "file {}", path.display()),
        }
    }
}

/// Which stores [`SecretStore`] uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreMode {
    /// The keychain when it answers, else the file.
    Auto,
    /// Only the file.
    FileOnly,
}

impl StoreMode {
    /// From the value of [`SECRET_STORE_ENV`]; anything unknown is `Auto` (and logged).
    pub fn parse(value: Option<&str>) -> Self {
        match value.map(|v| v.trim().to_ascii_lowercase()).as_deref() {
            Some("file") => StoreMode::FileOnly,
            None | Some("" | "auto" | "keychain") => StoreMode::Auto,
            Some(other) => {
                tracing::warn!(
                    value = other,
                    "unknown {SECRET_STORE_ENV}; using the keychain when available"
                );
                StoreMode::Auto
            }
        }
    }
}

/// Why a secret could not be read, kept or removed.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("cannot read the secrets file {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("the secrets file {path} is damaged ({source}); move it away to start afresh")]
    Damaged { path: PathBuf, source: serde_json::Error },
    #[error("cannot write the secrets file {path}: {source}")]
    Write { path: PathBuf, source: std::io::Error },
    #[error("a secret name must be 1 to 128 letters, digits, `.`, `-` or `_`: {0:?}")]
    InvalidName(String),
}

/// A secret read back, and where it was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    pub value: Secret,
    pub backend: SecretBackend,
}

/// Get, set and delete named secrets. Cheap to share (`Arc`); every method may block.
#[derive(Debug)]
pub struct SecretStore {
    mode: StoreMode,
    file: PathBuf,
    /// Serialises this process's read-modify-write of the file.
    file_lock: Mutex<()>,
}

impl SecretStore {
    /// A store whose fallback file lives in `data_dir`.
    pub fn new(data_dir: &Path, mode: StoreMode) -> Self {
        Self {
            mode,
            file: data_dir.join(FALLBACK_FILE),
            file_lock: Mutex::new(()),
        }
    }

    /// A store in `data_dir` in the mode [`SECRET_STORE_ENV`] asks for.
    pub fn from_env(data_dir: &Path) -> Self {
        let value = std::env::var(SECRET_STORE_ENV).ok();
        Self::new(data_dir, StoreMode::parse(value.as_deref()))
    }

    pub fn mode(&self) -> StoreMode {
        self.mode
    }

    /// The fallback file.
    pub fn file_path(&self) -> &Path {
        &self.file
    }

    /// Where [`set`](Self::set) would keep a secret now: the keychain when it answers, else the file.
    pub fn backend(&self) -> SecretBackend {
        match self.mode {
            StoreMode::Auto if keychain::available() => SecretBackend::Keychain,
            _ => self.file_backend(),
        }
    }

    /// The secret `name` from the file or the keychain; `None` when neither has it. The file comes first: a
    /// copy is there only when the keychain refused the latest [`set`](Self::set), so it is the newer one.
    pub fn get(&self, name: &str) -> Result<Option<Stored>, SecretError> {
        check_name(name)?;
        let from_file = {
            let _guard = self.lock();
            self.read_file()?.remove(name)
        };
        if let Some(value) = from_file {
            return Ok(Some(Stored {
                value: Secret::new(value),
                backend: self.file_backend(),
            }));
        }
        if self.mode == StoreMode::FileOnly {
            return Ok(None);
        }
        match keychain::get(name) {
            Ok(value) => Ok(value.map(|value| Stored {
                value: Secret::new(value),
                backend: SecretBackend::Keychain,
            })),
            Err(error) => {
                tracing::debug!(%error, name, "keychain unavailable for reading");
                Ok(None)
            }
        }
    }

    /// Keeps `value` as `name` and says where. In the keychain when it takes it (then any copy in the file
    /// is removed), else in the file.
    pub fn set(&self, name: &str, value: &Secret) -> Result<SecretBackend, SecretError> {
        check_name(name)?;
        if self.mode == StoreMode::Auto {
            match keychain::set(name, value.expose()) {
                Ok(()) => {
                    // A copy left from a time without keychain would shadow the new value (reads take the
                    // file first) and is plain text: it must go.
                    self.remove_from_file(name)?;
                    return Ok(SecretBackend::Keychain);
                }
                Err(error) => tracing::info!(%error, name, "keychain unavailable; keeping the secret in the file"),
            }
        }
        let _guard = self.lock();
        let mut secrets = self.read_file()?;
        secrets.insert(name.to_owned(), value.expose().to_owned());
        self.write_file(&secrets)?;
        Ok(self.file_backend())
    }

    /// Removes `name` from the keychain and the file. True when it was in either.
    pub fn delete(&self, name: &str) -> Result<bool, SecretError> {
        check_name(name)?;
        let mut removed = false;
        if self.mode == StoreMode::Auto {
            match keychain::delete(name) {
                Ok(found) => removed = found,
                Err(error) => tracing::debug!(%error, name, "keychain unavailable for removing"),
            }
        }
        Ok(self.remove_from_file(name)? || removed)
    }

    fn file_backend(&self) -> SecretBackend {
        SecretBackend::File {
            path: self.file.clone(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, ()> {
        self.file_lock.lock_or_recover()
    }

    fn remove_from_file(&self, name: &str) -> Result<bool, SecretError> {
        let _guard = self.lock();
        let mut secrets = self.read_file()?;
        if secrets.remove(name).is_none() {
            return Ok(false);
        }
        if secrets.is_empty() {
            std::fs::remove_file(&self.file).map_err(|source| SecretError::Write {
                path: self.file.clone(),
                source,
            })?;
        } else {
            self.write_file(&secrets)?;
        }
        Ok(true)
    }

    fn read_file(&self) -> Result<BTreeMap<String, String>, SecretError> {
        let text = match std::fs::read_to_string(&self.file) {
            Ok(text) => text,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(BTreeMap::new()),
            Err(source) => {
                return Err(SecretError::Read {
                    path: self.file.clone(),
                    source,
                });
            }
        };
        serde_json::from_str(&text).map_err(|source| SecretError::Damaged {
            path: self.file.clone(),
            source,
        })
    }

    fn write_file(&self, secrets: &BTreeMap<String, String>) -> Result<(), SecretError> {
        let error = |source| SecretError::Write {
            path: self.file.clone(),
            source,
        };
        if let Some(dir) = self.file.parent() {
            std::fs::create_dir_all(dir).map_err(error)?;
        }
        let mut bytes = serde_json::to_vec_pretty(secrets).map_err(|e| error(std::io::Error::other(e)))?;
        bytes.push(b'\n');
        crate::util::fs::write_atomic_private(&self.file, &bytes).map_err(error)
    }
}

fn check_name(name: &str) -> Result<(), SecretError> {
    let valid = (1..=128).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'));
    if valid {
        Ok(())
    } else {
        Err(SecretError::InvalidName(name.to_owned()))
    }
}

/// The `keyring` crate behind a panic guard: a store that panics reads as an unavailable keychain.
mod keychain {
    use std::panic::{AssertUnwindSafe, catch_unwind};

    use keyring::{Entry, Error};

    use super::KEYCHAIN_SERVICE;

    /// Why the keychain was not used (logged; the file takes over).
    #[derive(Debug, thiserror::Error)]
    pub enum KeychainError {
        #[error(transparent)]
        Keyring(#[from] Error),
        #[error("the keychain library panicked")]
        Panicked,
    }

    fn guarded<T>(work: impl FnOnce() -> Result<T, Error>) -> Result<T, KeychainError> {
        match catch_unwind(AssertUnwindSafe(work)) {
            Ok(result) => Ok(result?),
            Err(_) => Err(KeychainError::Panicked),
        }
    }

    /// Whether the platform store could be opened (a D-Bus connection on Linux; tried once per process).
    pub fn available() -> bool {
        catch_unwind(Entry::store_status).is_ok_and(|status| status.is_ok())
    }

    pub fn get(name: &str) -> Result<Option<String>, KeychainError> {
        guarded(|| match Entry::new(KEYCHAIN_SERVICE, name)?.get_password() {
            Ok(value) => Ok(Some(value)),
            Err(Error::NoEntry) => Ok(None),
            Err(error) => Err(error),
        })
    }

    pub fn set(name: &str, value: &str) -> Result<(), KeychainError> {
        guarded(|| Entry::new(KEYCHAIN_SERVICE, name)?.set_password(value))
    }

    pub fn delete(name: &str) -> Result<bool, KeychainError> {
        guarded(|| match Entry::new(KEYCHAIN_SERVICE, name)?.delete_credential() {
            Ok(()) => Ok(true),
            Err(Error::NoEntry) => Ok(false),
            Err(error) => Err(error),
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_print_whole() {
        let key = Secret::new("sk-ant-api03-abcdefghijklmnopqrstuvwxyz-SECRET");
        assert_eq!(key.masked(), "sk-ant-…CRET");
        assert_eq!(format!("{key:?}"), "Secret(sk-ant-…CRET)");
        assert_eq!(Secret::new("short").masked(), "•••••");
    }

    #[test]
    fn the_env_value_picks_the_mode() {
        assert_eq!(StoreMode::parse(Some("file")), StoreMode::FileOnly);
        assert_eq!(StoreMode::parse(Some(" FILE ")), StoreMode::FileOnly);
        assert_eq!(StoreMode::parse(None), StoreMode::Auto);
        assert_eq!(StoreMode::parse(Some("keychain")), StoreMode::Auto);
        assert_eq!(StoreMode::parse(Some("nonsense")), StoreMode::Auto);
    }

    #[test]
    fn file_store_round_trips_several_names() {
        let dir = tempfile::tempdir().unwrap();
        let store = SecretStore::new(dir.path(), StoreMode::FileOnly);
        assert_eq!(store.get("a").unwrap(), None);
        let backend = store.set("a", &Secret::new("one")).unwrap();
        assert_eq!(
            backend.to_string(),
            format!("file {}", dir.path().join(FALLBACK_FILE).display())
        );
        store.set("b.jwt", &Secret::new("two")).unwrap();
        store.set("a", &Secret::new("three")).unwrap();
        assert_eq!(store.get("a").unwrap().unwrap().value.expose(), "three");
        assert!(store.delete("a").unwrap());
        assert!(!store.delete("a").unwrap(), "already gone");
        assert_eq!(store.get("a").unwrap(), None);
        assert_eq!(store.get("b.jwt").unwrap().unwrap().value.expose(), "two");
        assert!(store.delete("b.jwt").unwrap());
        assert!(!store.file_path().exists(), "an empty store leaves no file");
    }

    #[test]
    fn bad_names_and_damaged_files_are_errors_not_panics() {
        let dir = tempfile::tempdir().unwrap();
        let store = SecretStore::new(dir.path(), StoreMode::FileOnly);
        for name in ["", "a b", "../x", &"n".repeat(129)] {
            assert!(matches!(store.get(name), Err(SecretError::InvalidName(_))), "{name:?}");
        }
        std::fs::write(store.file_path(), "{not json").unwrap();
        let error = store.get("a").unwrap_err();
        assert!(matches!(error, SecretError::Damaged { .. }), "{error}");
        assert!(
            store.set("a", &Secret::new("x")).is_err(),
            "a damaged file is never overwritten"
        );
        assert_eq!(std::fs::read_to_string(store.file_path()).unwrap(), "{not json");
    }
}
