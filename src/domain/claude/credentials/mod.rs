//! How Claude Code is authenticated, and the Anthropic API key ANYON can keep for it.
//!
//! Sources, as [`ClaudeAuthReport`] lists them: what `claude auth status` says, `ANTHROPIC_API_KEY` in
//! ANYON's environment, a key saved in ANYON (secrets store), and Claude's own login file
//! (`$CLAUDE_CONFIG_DIR/.credentials.json`, default `~/.claude/.credentials.json`).
//!
//! Which key a Claude process started by ANYON gets: an `ANTHROPIC_API_KEY` already in ANYON's environment
//! wins (the person set it on purpose, for this session); otherwise the saved key is added. Nothing is
//! added when neither exists, so Claude's own login applies.

pub mod requests;

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;
use serde_json::Value;

use crate::domain::secrets::{Secret, SecretBackend};

/// The secrets-store name of the saved key.
pub const API_KEY_SECRET: &str = "anthropic-api-key";

/// The variable Claude reads its API key from.
pub const API_KEY_ENV: &str = "ANTHROPIC_API_KEY";

/// The API's address when `ANTHROPIC_BASE_URL` is not set.
pub const DEFAULT_BASE_URL: &str = "https://api.anthropic.com";

/// The `anthropic-version` header the key check sends.
const ANTHROPIC_VERSION: &str = "2023-06-01";

/// Limit for `claude auth status` and for the key check's request.
pub const CHECK_TIMEOUT: Duration = Duration::from_secs(10);

/// Why a key is not saved.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KeyError {
    #[error("an Anthropic API key starts with `sk-ant-`")]
    Prefix,
    #[error("an Anthropic API key is 40 to 256 characters long (this one has {0})")]
    Length(usize),
    #[error("an Anthropic API key holds only letters, digits, `-` and `_`")]
    Characters,
    #[error("the API rejected the key ({status}): {message}")]
    Rejected { status: u16, message: String },
    #[error("cannot check the key with {url}: {message}")]
    Unreachable { url: String, message: String },
    /// Nothing to save (an empty stdin).
    #[error("no key given: {0}")]
    Missing(String),
}

/// Trims the key (a pasted line keeps its newline) and checks its form: `sk-ant-`, then letters, digits,
/// `-` and `_`, 40 to 256 characters in all.
pub fn check_key_form(key: &Secret) -> Result<Secret, KeyError> {
    let key = key.expose().trim();
    if !key.starts_with("sk-ant-") {
        return Err(KeyError::Prefix);
    }
    if !key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
        return Err(KeyError::Characters);
    }
    let length = key.chars().count();
    if !(40..=256).contains(&length) {
        return Err(KeyError::Length(length));
    }
    Ok(Secret::new(key))
}

/// The API base: `base_url`, else `ANTHROPIC_BASE_URL` (as Claude reads it), else Anthropic's.
pub fn base_url(base_url: Option<&str>) -> String {
    let from_env = std::env::var("ANTHROPIC_BASE_URL").ok();
    let base = base_url
        .or(from_env.as_deref())
        .map(str::trim)
        .filter(|base| !base.is_empty())
        .unwrap_or(DEFAULT_BASE_URL);
    base.trim_end_matches('/').to_owned()
}

/// Asks the API whether it accepts `key`: `GET {base}/v1/models` with `x-api-key`. 401 and 403 are
/// [`KeyError::Rejected`]; a network failure or another status is [`KeyError::Unreachable`].
pub async fn verify_key(key: &Secret, base: &str) -> Result<(), KeyError> {
    crate::util::net::install_crypto();
    let url = format!("{base}/v1/models");
    let unreachable = |message: String| KeyError::Unreachable {
        url: url.clone(),
        message,
    };
    let client = reqwest::Client::builder()
        .timeout(CHECK_TIMEOUT)
        .build()
        .map_err(|error| unreachable(error.to_string()))?;
    let response = client
        .get(&url)
        .header("x-api-key", key.expose())
        .header("anthropic-version", ANTHROPIC_VERSION)
        .send()
        .await
        .map_err(|error| unreachable(plain_error(&error)))?;
    let status = response.status();
    if status.is_success() {
        return Ok(());
    }
    let body = response.text().await.unwrap_or_default();
    let message = serde_json::from_str::<Value>(&body)
        .ok()
        .and_then(|value| value["error"]["message"].as_str().map(str::to_owned))
        .unwrap_or_else(|| status.canonical_reason().unwrap_or("no reason given").to_owned());
    let message: String = message.chars().take(300).collect();
    if matches!(status.as_u16(), 401 | 403) {
        Err(KeyError::Rejected {
            status: status.as_u16(),
            message,
        })
    } else {
        Err(unreachable(format!("the API answered {status}: {message}")))
    }
}

/// A reqwest error with its causes, without the type names.
fn plain_error(error: &reqwest::Error) -> String {
    let mut message = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}

/// What `claude auth status` said.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum CliAuthStatus {
    /// No `claude` binary was found; `message` says where ANYON looked.
    NotInstalled { message: String },
    /// It answered with its JSON (`loggedIn`, `authMethod`, `apiKeySource`, ...).
    Answered {
        logged_in: bool,
        auth_method: Option<String>,
        api_key_source: Option<String>,
        raw: Value,
    },
    /// It could not be run, timed out, or printed no JSON.
    Failed { message: String },
}

impl CliAuthStatus {
    /// Reads the JSON `claude auth status` prints (exit 1 when logged out, so the status is not used).
    pub fn parse(stdout: &str) -> Self {
        let Some(raw) = serde_json::from_str::<Value>(stdout.trim())
            .ok()
            .filter(Value::is_object)
        else {
            let excerpt: String = stdout.trim().chars().take(200).collect();
            return CliAuthStatus::Failed {
                message: format!("`claude auth status` printed no JSON: {excerpt:?}"),
            };
        };
        let text = |field: &str| raw[field].as_str().map(str::to_owned);
        CliAuthStatus::Answered {
            logged_in: raw["loggedIn"] == true,
            auth_method: text("authMethod"),
            api_key_source: text("apiKeySource"),
            raw: raw.clone(),
        }
    }
}

/// Runs `bin auth status` with `env` added, killed after `timeout`.
pub async fn cli_status(bin: &Path, env: &[(OsString, OsString)], timeout: Duration) -> CliAuthStatus {
    let mut command = tokio::process::Command::new(bin);
    command
        .args(["auth", "status"])
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true);
    match tokio::time::timeout(timeout, command.output()).await {
        Ok(Ok(output)) => CliAuthStatus::parse(&String::from_utf8_lossy(&output.stdout)),
        Ok(Err(error)) => CliAuthStatus::Failed {
            message: format!("cannot run {} auth status: {error}", bin.display()),
        },
        Err(_) => CliAuthStatus::Failed {
            message: format!("`claude auth status` did not answer within {} s", timeout.as_secs()),
        },
    }
}

/// Claude's own login file: `$CLAUDE_CONFIG_DIR/.credentials.json`, default `~/.claude/.credentials.json`.
/// `config_dir` and `home` come from the environment Claude runs with.
pub fn credentials_path(config_dir: Option<&Path>, home: Option<&Path>) -> Option<PathBuf> {
    match config_dir {
        Some(dir) => Some(dir.join(".credentials.json")),
        None => home.map(|home| home.join(".claude/.credentials.json")),
    }
}

/// A key saved in ANYON, shown masked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SavedKey {
    pub masked: String,
    pub stored_in: SecretBackend,
}

/// Which `ANTHROPIC_API_KEY` the Claude processes ANYON starts get.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyInUse {
    /// The one in ANYON's environment (it wins over a saved key).
    Environment,
    /// The key saved in ANYON.
    Saved,
    /// None: Claude uses its own login, if any.
    None,
}

/// Every source of Claude's credentials and its state.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClaudeAuthReport {
    /// `claude auth status`, run as ANYON runs Claude (with the key ANYON would give it).
    pub claude_status: CliAuthStatus,
    /// `ANTHROPIC_API_KEY` in ANYON's environment, masked.
    pub env_api_key: Option<String>,
    /// The key saved in ANYON.
    pub saved_api_key: Option<SavedKey>,
    /// Why the saved key could not be read, if it could not.
    pub saved_api_key_error: Option<String>,
    /// Claude's login file, and whether it exists.
    pub credentials_file: Option<PathBuf>,
    pub credentials_file_present: bool,
    /// Which key Claude processes started by ANYON get.
    pub key_in_use: KeyInUse,
    /// Where a key saved now would be kept.
    pub secret_store: SecretBackend,
}

impl ClaudeAuthReport {
    /// One line per source, for the terminal.
    pub fn lines(&self) -> Vec<String> {
        let claude = match &self.claude_status {
            CliAuthStatus::NotInstalled { message } => {
                format!("not installed ({})", message.lines().next().unwrap_or_default())
            }
            CliAuthStatus::Failed { message } => format!("unknown ({message})"),
            CliAuthStatus::Answered {
                logged_in,
                auth_method,
                api_key_source,
                ..
            } => {
                let state = if *logged_in { "logged in" } else { "not logged in" };
                let method = auth_method.as_deref().unwrap_or("unknown method");
                match api_key_source {
                    Some(source) => format!("{state} ({method}, key from {source})"),
                    None => format!("{state} ({method})"),
                }
            }
        };
        let saved = match (&self.saved_api_key, &self.saved_api_key_error) {
            (Some(key), _) => format!("{} in the {}", key.masked, key.stored_in),
            (None, Some(error)) => format!("unreadable: {error}"),
            (None, None) => "none".to_owned(),
        };
        let credentials = match &self.credentials_file {
            Some(path) if self.credentials_file_present => format!("{} (present)", path.display()),
            Some(path) => format!("{} (absent)", path.display()),
            None => "no home folder to look in".to_owned(),
        };
        let in_use = match self.key_in_use {
            KeyInUse::Environment => "ANTHROPIC_API_KEY from ANYON's environment",
            KeyInUse::Saved => "the key saved in ANYON",
            KeyInUse::None => "none (Claude's own login applies)",
        };
        vec![
            format!("claude auth status:  {claude}"),
            format!(
                "ANTHROPIC_API_KEY:   {}",
                self.env_api_key.as_deref().unwrap_or("not set")
            ),
            format!("saved in ANYON:      {saved}"),
            format!("Claude login file:   {credentials}"),
            format!("key Claude gets:     {in_use}"),
            format!("secrets are kept in: {}", self.secret_store),
        ]
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn key(tail: &str) -> Secret {
        Secret::new(format!("sk-ant-api03-{tail}"))
    }

    #[test]
    fn key_form_is_checked_and_trimmed() {
        let good = key(&"a1_-".repeat(10));
        assert_eq!(
            check_key_form(&Secret::new(format!(" {}\n", good.expose()))),
            Ok(good.clone())
        );
        assert_eq!(check_key_form(&Secret::new("sk-proj-abc")), Err(KeyError::Prefix));
        assert_eq!(check_key_form(&key("short")), Err(KeyError::Length(18)));
        assert_eq!(check_key_form(&key(&"x".repeat(300))), Err(KeyError::Length(313)));
        assert_eq!(
            check_key_form(&key(&format!("{}é", "a".repeat(40)))),
            Err(KeyError::Characters)
        );
        assert_eq!(check_key_form(&key(&"a b".repeat(20))), Err(KeyError::Characters));
        assert_eq!(check_key_form(&Secret::new("")), Err(KeyError::Prefix));
    }

    #[test]
    fn auth_status_json_is_read_and_garbage_is_a_state() {
        let status = CliAuthStatus::parse(
            r#"{"loggedIn":true,"authMethod":"api_key","apiKeySource":"ANTHROPIC_API_KEY","extra":1}"#,
        );
        let CliAuthStatus::Answered {
            logged_in: true,
            auth_method: Some(method),
            api_key_source: Some(source),
            raw,
        } = status
        else {
            panic!("{status:?}");
        };
        assert_eq!((method.as_str(), source.as_str()), ("api_key", "ANTHROPIC_API_KEY"));
        assert_eq!(raw["extra"], 1, "unknown fields are kept");
        let out = CliAuthStatus::parse(r#"{"loggedIn":false,"authMethod":"none"}"#);
        assert!(
            matches!(out, CliAuthStatus::Answered { logged_in: false, .. }),
            "{out:?}"
        );
        for garbage in ["", "Usage: claude", "[1,2]", "{\"loggedIn\":"] {
            assert!(
                matches!(CliAuthStatus::parse(garbage), CliAuthStatus::Failed { .. }),
                "{garbage}"
            );
        }
    }

    #[test]
    fn credentials_file_follows_the_config_dir() {
        let home = Path::new("/h");
        assert_eq!(
            credentials_path(Some(Path::new("/c")), Some(home)),
            Some(PathBuf::from("/c/.credentials.json"))
        );
        assert_eq!(
            credentials_path(None, Some(home)),
            Some(PathBuf::from("/h/.claude/.credentials.json"))
        );
        assert_eq!(credentials_path(None, None), None);
    }

    #[test]
    fn an_explicit_base_url_wins_and_loses_its_trailing_slash() {
        assert_eq!(base_url(Some("http://127.0.0.1:9/")), "http://127.0.0.1:9");
    }
}
