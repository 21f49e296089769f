//! ANYON's own settings: one typed struct with defaults, read from and written to the rows of the
//! `app_settings` table (key → text).
//!
//! This module is the one place that knows the rows' keys and value texts. They are the same as before
//! the settings were typed, so existing databases keep their values. Reading never fails: a value that
//! cannot be read falls back to its default (with a warning), and rows of keys it does not know are
//! left alone in the table (settings are written one row at a time, never all at once).

pub mod requests;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use rusqlite::Connection;
use serde::{Deserialize, Serialize};

use crate::domain::checkpoint::Retention;
use crate::domain::claude_config::child_env::{self, BadEnvLine, ProxyEnv};
use crate::domain::db;

const THEME_KEY: &str = "theme";
const LAST_SCREEN_KEY: &str = "last_screen";
const LAST_PROJECT_KEY: &str = "chat.last_project";
const CLAUDE_PATH_KEY: &str = "claude.binary_path";
const GRACE_KEY: &str = "process.grace_secs";
const KEEP_LAST_KEY: &str = "checkpoints.keep_last";
const KEEP_DAYS_KEY: &str = "checkpoints.keep_days";
const MAX_FILE_MB_KEY: &str = "checkpoints.max_file_mb";
const HTTP_PROXY_KEY: &str = "claude.env.http_proxy";
const HTTPS_PROXY_KEY: &str = "claude.env.https_proxy";
const NO_PROXY_KEY: &str = "claude.env.no_proxy";
const EXTRA_ENV_KEY: &str = "claude.env.extra";
/// Followed by the project folder; "1" turns automatic checkpoints on there, "0" off.
const AUTO_CHECKPOINTS_PREFIX: &str = "checkpoints.auto:";
/// Followed by the memory file's path; the text is its unsaved draft ("" when there is none).
const MEMORY_DRAFT_PREFIX: &str = "memory.draft:";
/// The SQL console's history (a JSON array, newest first): kept beside the settings, but not one of
/// them (see [`sql_history`]).
const SQL_HISTORY_KEY: &str = "storage.sql_history";

const MIB: u64 = 1024 * 1024;

/// The seconds between SIGTERM and SIGKILL a person may choose.
pub const GRACE_RANGE: std::ops::RangeInclusive<u64> = 1..=300;
/// The largest file a checkpoint may be set to store, in MiB (1 MiB to 64 GiB).
pub const MAX_FILE_MB_RANGE: std::ops::RangeInclusive<u32> = 1..=65_536;

/// The grace period when none is chosen.
pub const DEFAULT_GRACE_SECS: u64 = crate::domain::process::DEFAULT_GRACE.as_secs();

/// The person's theme choice (row text: `system`, `light`, `dark`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Theme {
    #[default]
    System,
    Light,
    Dark,
}

impl Theme {
    pub const ALL: [Theme; 3] = [Theme::System, Theme::Light, Theme::Dark];

    /// The text stored for it.
    pub fn key(self) -> &'static str {
        match self {
            Theme::System => "system",
            Theme::Light => "light",
            Theme::Dark => "dark",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Theme::System => "Follow the system",
            Theme::Light => "Light",
            Theme::Dark => "Dark",
        }
    }

    pub fn from_key(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|choice| choice.key() == key)
    }
}

/// Every setting of the app, each with its default.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    pub theme: Theme,
    /// The screen open when the window last closed, by the window's name for it (`usage`); the window
    /// knows its screens and ignores a name it does not.
    pub last_screen: Option<String>,
    /// The project folder the last chat ran in (where a new chat starts).
    pub last_project: Option<String>,
    /// The `claude` binary the person picked (None: found by searching).
    pub claude_binary_path: Option<PathBuf>,
    /// Seconds between SIGTERM and SIGKILL when a run is stopped, in [`GRACE_RANGE`].
    pub grace_secs: u64,
    /// Checkpoints each session keeps: the last `keep_last`…
    pub keep_last: u32,
    /// …and every one younger than `keep_days` days.
    pub keep_days: u32,
    /// The largest file a checkpoint stores, in MiB (larger ones are left out, and a restore keeps them).
    pub checkpoint_max_file_mb: u32,
    /// The proxy and extra variables every Claude process gets.
    pub env: ProxyEnv,
    /// Projects with automatic checkpoints on.
    pub auto_checkpoints: BTreeSet<PathBuf>,
    /// Unsaved text of memory files (`CLAUDE.md`), by path, so a crash loses nothing.
    pub memory_drafts: BTreeMap<PathBuf, String>,
}

impl Default for Settings {
    fn default() -> Self {
        let retention = Retention::default();
        Self {
            theme: Theme::default(),
            last_screen: None,
            last_project: None,
            claude_binary_path: None,
            grace_secs: DEFAULT_GRACE_SECS,
            keep_last: retention.keep_last,
            keep_days: retention.keep_days,
            checkpoint_max_file_mb: (crate::domain::checkpoint::DEFAULT_MAX_FILE_BYTES / MIB) as u32,
            env: ProxyEnv::default(),
            auto_checkpoints: BTreeSet::new(),
            memory_drafts: BTreeMap::new(),
        }
    }
}

/// One change of one setting: what a screen saves, and what the save answers with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "setting", content = "value", rename_all = "snake_case")]
pub enum Setting {
    Theme(Theme),
    LastScreen(String),
    LastProject(String),
    /// None: search for `claude` again.
    ClaudeBinaryPath(Option<PathBuf>),
    /// Refused outside [`GRACE_RANGE`].
    GraceSecs(u64),
    KeepLast(u32),
    KeepDays(u32),
    /// The largest file a checkpoint stores, in MiB; refused outside [`MAX_FILE_MB_RANGE`].
    CheckpointMaxFileMb(u32),
    HttpProxy(String),
    HttpsProxy(String),
    NoProxy(String),
    /// `NAME=value` lines (`#` starts a comment); refused when a line is not one.
    ExtraEnv(String),
    AutoCheckpoints {
        project: PathBuf,
        on: bool,
    },
    /// An empty text drops the draft.
    MemoryDraft {
        path: PathBuf,
        text: String,
    },
}

/// Why a setting was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettingError {
    #[error("the wait before killing a stopped run must be 1 to 300 seconds, not {0}")]
    GraceOutOfRange(u64),
    #[error("the largest file a checkpoint stores must be 1 to 65536 MiB, not {0}")]
    MaxFileOutOfRange(u32),
    #[error("extra environment variables, {0}")]
    BadEnvLine(#[from] BadEnvLine),
}

impl Setting {
    /// The `app_settings` row it is stored in.
    pub fn key(&self) -> String {
        match self {
            Setting::Theme(_) => THEME_KEY.into(),
            Setting::LastScreen(_) => LAST_SCREEN_KEY.into(),
            Setting::LastProject(_) => LAST_PROJECT_KEY.into(),
            Setting::ClaudeBinaryPath(_) => CLAUDE_PATH_KEY.into(),
            Setting::GraceSecs(_) => GRACE_KEY.into(),
            Setting::KeepLast(_) => KEEP_LAST_KEY.into(),
            Setting::KeepDays(_) => KEEP_DAYS_KEY.into(),
            Setting::CheckpointMaxFileMb(_) => MAX_FILE_MB_KEY.into(),
            Setting::HttpProxy(_) => HTTP_PROXY_KEY.into(),
            Setting::HttpsProxy(_) => HTTPS_PROXY_KEY.into(),
            Setting::NoProxy(_) => NO_PROXY_KEY.into(),
            Setting::ExtraEnv(_) => EXTRA_ENV_KEY.into(),
            Setting::AutoCheckpoints { project, .. } => format!("{AUTO_CHECKPOINTS_PREFIX}{}", project.display()),
            Setting::MemoryDraft { path, .. } => format!("{MEMORY_DRAFT_PREFIX}{}", path.display()),
        }
    }

    /// The text stored in its row.
    pub fn value(&self) -> String {
        match self {
            Setting::Theme(theme) => theme.key().into(),
            Setting::ClaudeBinaryPath(path) => path.as_ref().map(|p| p.display().to_string()).unwrap_or_default(),
            Setting::GraceSecs(secs) => secs.to_string(),
            Setting::KeepLast(count) | Setting::KeepDays(count) | Setting::CheckpointMaxFileMb(count) => {
                count.to_string()
            }
            Setting::AutoCheckpoints { on, .. } => if *on { "1" } else { "0" }.into(),
            Setting::LastScreen(text)
            | Setting::LastProject(text)
            | Setting::HttpProxy(text)
            | Setting::HttpsProxy(text)
            | Setting::NoProxy(text)
            | Setting::ExtraEnv(text)
            | Setting::MemoryDraft { text, .. } => text.clone(),
        }
    }

    /// Whether it may be saved.
    pub fn validate(&self) -> Result<(), SettingError> {
        match self {
            Setting::GraceSecs(secs) if !GRACE_RANGE.contains(secs) => Err(SettingError::GraceOutOfRange(*secs)),
            Setting::CheckpointMaxFileMb(mb) if !MAX_FILE_MB_RANGE.contains(mb) => {
                Err(SettingError::MaxFileOutOfRange(*mb))
            }
            Setting::ExtraEnv(text) => child_env::parse_extra(text)
                .map(|_| ())
                .map_err(SettingError::BadEnvLine),
            _ => Ok(()),
        }
    }

    /// Whether it changes the variables Claude processes get.
    pub fn is_env(&self) -> bool {
        matches!(
            self,
            Setting::HttpProxy(_) | Setting::HttpsProxy(_) | Setting::NoProxy(_) | Setting::ExtraEnv(_)
        )
    }
}

impl Settings {
    /// Reads the rows of `app_settings`. A value that cannot be read keeps its default (logged); rows
    /// of other keys are skipped here and stay in the table.
    pub fn from_rows(rows: impl IntoIterator<Item = (String, String)>) -> Self {
        let mut settings = Settings::default();
        for (key, value) in rows {
            match settings.read_row(&key, &value) {
                Ok(()) => {}
                Err(Unreadable::UnknownKey) => tracing::debug!(key, "kept a setting ANYON does not know"),
                Err(Unreadable::BadValue(expected)) => {
                    tracing::warn!(
                        key,
                        value,
                        expected,
                        "ignoring an unreadable setting; using its default"
                    )
                }
            }
        }
        settings
    }

    /// Folds one row in.
    fn read_row(&mut self, key: &str, value: &str) -> Result<(), Unreadable> {
        let setting = match key {
            THEME_KEY => Setting::Theme(Theme::from_key(value).ok_or(Unreadable::BadValue("system, light or dark"))?),
            LAST_SCREEN_KEY => Setting::LastScreen(value.to_owned()),
            LAST_PROJECT_KEY => Setting::LastProject(value.to_owned()),
            CLAUDE_PATH_KEY => {
                Setting::ClaudeBinaryPath(Some(value.trim()).filter(|p| !p.is_empty()).map(PathBuf::from))
            }
            GRACE_KEY => Setting::GraceSecs(
                value
                    .trim()
                    .parse()
                    .ok()
                    .filter(|secs| GRACE_RANGE.contains(secs))
                    .ok_or(Unreadable::BadValue("whole seconds from 1 to 300"))?,
            ),
            KEEP_LAST_KEY => Setting::KeepLast(value.trim().parse().map_err(|_| Unreadable::BadValue("a count"))?),
            KEEP_DAYS_KEY => Setting::KeepDays(value.trim().parse().map_err(|_| Unreadable::BadValue("whole days"))?),
            MAX_FILE_MB_KEY => Setting::CheckpointMaxFileMb(
                value
                    .trim()
                    .parse()
                    .ok()
                    .filter(|mb| MAX_FILE_MB_RANGE.contains(mb))
                    .ok_or(Unreadable::BadValue("whole MiB from 1 to 65536"))?,
            ),
            HTTP_PROXY_KEY => Setting::HttpProxy(value.to_owned()),
            HTTPS_PROXY_KEY => Setting::HttpsProxy(value.to_owned()),
            NO_PROXY_KEY => Setting::NoProxy(value.to_owned()),
            // Kept as written even with a bad line: the variables skip that line (with a warning) and
            // the Settings screen shows the text to fix.
            EXTRA_ENV_KEY => Setting::ExtraEnv(value.to_owned()),
            SQL_HISTORY_KEY => return Ok(()),
            _ => {
                if let Some(project) = key.strip_prefix(AUTO_CHECKPOINTS_PREFIX) {
                    let on = match value {
                        "1" => true,
                        "0" => false,
                        _ => return Err(Unreadable::BadValue("1 or 0")),
                    };
                    Setting::AutoCheckpoints {
                        project: PathBuf::from(project),
                        on,
                    }
                } else if let Some(path) = key.strip_prefix(MEMORY_DRAFT_PREFIX) {
                    Setting::MemoryDraft {
                        path: PathBuf::from(path),
                        text: value.to_owned(),
                    }
                } else {
                    return Err(Unreadable::UnknownKey);
                }
            }
        };
        self.apply(&setting);
        Ok(())
    }

    /// Takes one change in (not validated here: saving is where a bad value is refused).
    pub fn apply(&mut self, setting: &Setting) {
        match setting {
            Setting::Theme(theme) => self.theme = *theme,
            Setting::LastScreen(screen) => self.last_screen = Some(screen.clone()),
            Setting::LastProject(project) => self.last_project = Some(project.clone()),
            Setting::ClaudeBinaryPath(path) => {
                self.claude_binary_path = path.clone().filter(|p| !p.as_os_str().is_empty())
            }
            Setting::GraceSecs(secs) => self.grace_secs = *secs,
            Setting::KeepLast(count) => self.keep_last = *count,
            Setting::KeepDays(days) => self.keep_days = *days,
            Setting::CheckpointMaxFileMb(mb) => self.checkpoint_max_file_mb = *mb,
            Setting::HttpProxy(text) => self.env.http_proxy = text.clone(),
            Setting::HttpsProxy(text) => self.env.https_proxy = text.clone(),
            Setting::NoProxy(text) => self.env.no_proxy = text.clone(),
            Setting::ExtraEnv(text) => self.env.extra = text.clone(),
            Setting::AutoCheckpoints { project, on: true } => {
                self.auto_checkpoints.insert(project.clone());
            }
            Setting::AutoCheckpoints { project, on: false } => {
                self.auto_checkpoints.remove(project);
            }
            Setting::MemoryDraft { path, text } if text.is_empty() => {
                self.memory_drafts.remove(path);
            }
            Setting::MemoryDraft { path, text } => {
                self.memory_drafts.insert(path.clone(), text.clone());
            }
        }
    }

    /// The checkpoint retention.
    pub fn retention(&self) -> Retention {
        Retention {
            keep_last: self.keep_last,
            keep_days: self.keep_days,
        }
    }

    /// The largest file a checkpoint stores, in bytes.
    pub fn checkpoint_max_file_bytes(&self) -> u64 {
        u64::from(self.checkpoint_max_file_mb) * MIB
    }

    /// Whether `project` has automatic checkpoints on.
    pub fn auto_checkpoints_on(&self, project: &Path) -> bool {
        self.auto_checkpoints.contains(project)
    }

    /// The unsaved draft of a memory file, if one was kept.
    pub fn memory_draft(&self, path: &Path) -> Option<&str> {
        self.memory_drafts.get(path).map(String::as_str)
    }
}

/// Why a row was not taken.
enum Unreadable {
    UnknownKey,
    /// What the value should have been.
    BadValue(&'static str),
}

/// Reads the settings from the table.
pub fn load(conn: &Connection) -> rusqlite::Result<Settings> {
    Ok(Settings::from_rows(db::all_settings(conn)?))
}

/// Writes one setting's row (validate it first: this stores what it is given).
pub fn save(conn: &Connection, setting: &Setting) -> rusqlite::Result<()> {
    db::set_setting(conn, &setting.key(), &setting.value())
}

/// The SQL console's history, newest first; an unreadable value counts as empty. It is kept in
/// `app_settings` but is not one of the [`Settings`]: the backend rewrites it after every statement
/// and only the Storage screen asks for it.
pub fn sql_history(conn: &Connection) -> rusqlite::Result<Vec<String>> {
    let Some(json) = db::get_setting(conn, SQL_HISTORY_KEY)? else {
        return Ok(Vec::new());
    };
    Ok(serde_json::from_str(&json).unwrap_or_else(|error| {
        tracing::warn!(%error, "ignoring an unreadable SQL history");
        Vec::new()
    }))
}

/// Replaces the SQL console's history.
pub fn set_sql_history(conn: &Connection, history: &[String]) -> rusqlite::Result<()> {
    let json = serde_json::Value::from(history.to_vec()).to_string();
    db::set_setting(conn, SQL_HISTORY_KEY, &json)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests;
