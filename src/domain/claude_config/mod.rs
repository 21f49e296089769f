//! Claude Code's own configuration, read and edited in Claude's files:
//!
//! - settings of three scopes, each holding `hooks`, `permissions` and `env` among other keys:
//!   user `$CLAUDE_CONFIG_DIR/settings.json` (default `~/.claude/settings.json`), project
//!   `<project>/.claude/settings.json` and local `<project>/.claude/settings.local.json`;
//! - slash commands under `commands/` of the config folder and of `<project>/.claude` ([`commands`]).
//!
//! A write re-reads the file, refuses when it changed since the caller read it (the caller's
//! [`Version`]), changes only the targeted key and replaces the file atomically with its mode kept. A file
//! that is not valid JSON is reported with its text and never written.

pub mod child_env;
pub mod commands;
pub mod memory;
pub mod requests;
pub mod view;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

pub use view::{ConfigSnapshot, Effective, EnvEntry, HookCommand, HookGroup, Permissions, SettingsView};

/// The hook events Claude Code runs hooks for.
pub const HOOK_EVENTS: [&str; 9] = [
    "PreToolUse",
    "PostToolUse",
    "UserPromptSubmit",
    "Notification",
    "Stop",
    "SubagentStop",
    "PreCompact",
    "SessionStart",
    "SessionEnd",
];

/// Which settings file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SettingsScope {
    /// `$CLAUDE_CONFIG_DIR/settings.json`.
    User,
    /// `<project>/.claude/settings.json`, shared through the repository.
    Project,
    /// `<project>/.claude/settings.local.json`, this machine only.
    Local,
}

impl SettingsScope {
    /// In merge order: a later scope wins.
    pub const ALL: [SettingsScope; 3] = [SettingsScope::User, SettingsScope::Project, SettingsScope::Local];

    /// Whether the file is this user's alone: the user's and the local file can hold `env` secrets, so a
    /// new one is created owner-only (0600). The project file is shared through the repository.
    pub fn is_private(self) -> bool {
        matches!(self, SettingsScope::User | SettingsScope::Local)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            SettingsScope::User => "user",
            SettingsScope::Project => "project",
            SettingsScope::Local => "local",
        }
    }
}

impl std::fmt::Display for SettingsScope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for SettingsScope {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "user" => Ok(SettingsScope::User),
            "project" => Ok(SettingsScope::Project),
            "local" => Ok(SettingsScope::Local),
            other => Err(format!("unknown scope {other:?} (user, project or local)")),
        }
    }
}

/// Why Claude's configuration could not be read or changed.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{path} is not valid JSON ({error}); it was left untouched")]
    Malformed { path: PathBuf, error: String, text: String },
    #[error("{path} changed on disk since it was read; reload it or merge before saving")]
    Changed { path: PathBuf, text: Option<String> },
    #[error("cannot write {path}: {source}")]
    Write { path: PathBuf, source: std::io::Error },
    #[error("the {0} scope needs a project folder")]
    NeedsProject(SettingsScope),
    #[error("no home folder: set CLAUDE_CONFIG_DIR")]
    NoHome,
    #[error("{0}")]
    Invalid(String),
    /// The edited settings could not be written out as JSON.
    #[error("{0}")]
    Encode(#[source] serde_json::Error),
    #[error("{0} not found")]
    NotFound(String),
}

impl ConfigError {
    /// A stable name for the kind of failure (CLI JSON errors).
    pub fn kind(&self) -> &'static str {
        match self {
            ConfigError::Malformed { .. } => "malformed",
            ConfigError::Changed { .. } => "changed_on_disk",
            ConfigError::NeedsProject(_) | ConfigError::Invalid(_) | ConfigError::Encode(_) => "invalid",
            ConfigError::NotFound(_) => "not_found",
            _ => "claude_config",
        }
    }
}

/// Claude's config folder: `$CLAUDE_CONFIG_DIR`, else `~/.claude`.
pub fn config_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("CLAUDE_CONFIG_DIR").filter(|v| !v.is_empty()) {
        return Some(PathBuf::from(dir));
    }
    directories::BaseDirs::new().map(|b| b.home_dir().join(".claude"))
}

/// The settings file of `scope`.
pub fn settings_path(config_dir: &Path, project: Option<&Path>, scope: SettingsScope) -> Result<PathBuf, ConfigError> {
    let project_file = |name: &str| {
        project
            .map(|p| p.join(".claude").join(name))
            .ok_or(ConfigError::NeedsProject(scope))
    };
    match scope {
        SettingsScope::User => Ok(config_dir.join("settings.json")),
        SettingsScope::Project => project_file("settings.json"),
        SettingsScope::Local => project_file("settings.local.json"),
    }
}

/// What a file held when it was read: the SHA-256 of its bytes, or `"absent"`. A write given a version
/// refuses when the file no longer matches it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Version(pub String);

impl Version {
    pub fn of(bytes: Option<&[u8]>) -> Self {
        match bytes {
            None => Version("absent".into()),
            Some(bytes) => Version(crate::util::hex::encode(&Sha256::digest(bytes))),
        }
    }
}

/// Reads a file's text (None when it does not exist) and its version.
pub fn read_text(path: &Path) -> Result<(Option<String>, Version), ConfigError> {
    let max = if path.file_name().is_some_and(|name| name == ".claude.json") {
        crate::util::fs::MAX_CLAUDE_JSON
    } else {
        crate::util::fs::MAX_CONFIG_FILE
    };
    match crate::util::fs::read_capped(path, max) {
        Ok(bytes) => {
            let version = Version::of(Some(&bytes));
            let text = String::from_utf8(bytes).map_err(|_| ConfigError::Malformed {
                path: path.into(),
                error: "not UTF-8".into(),
                text: String::new(),
            })?;
            Ok((Some(text), version))
        }
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok((None, Version::of(None))),
        Err(source) => Err(ConfigError::Read {
            path: path.into(),
            source,
        }),
    }
}

/// Refuses when the file at `path` is no longer the `expected` version.
pub fn check_version(
    path: &Path,
    current: &Version,
    text: Option<&str>,
    expected: Option<&Version>,
) -> Result<(), ConfigError> {
    match expected {
        Some(expected) if expected != current => Err(ConfigError::Changed {
            path: path.into(),
            text: text.map(str::to_owned),
        }),
        _ => Ok(()),
    }
}

/// Writes `bytes` atomically, creating the folder, keeping the old file's mode (new files 0600 would hide a
/// shared project file from others, so they get the process default).
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<(), ConfigError> {
    write_file_as(path, bytes, false)
}

/// [`write_file`], but a new file is owner-only (0600) when `private` (an existing file's mode is kept
/// either way).
pub fn write_file_as(path: &Path, bytes: &[u8], private: bool) -> Result<(), ConfigError> {
    let write = |source| ConfigError::Write {
        path: path.into(),
        source,
    };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(write)?;
    }
    if private || path.exists() {
        crate::util::fs::write_atomic_keep_mode(path, bytes).map_err(write)
    } else {
        crate::util::fs::write_atomic(path, bytes).map_err(write)
    }
}

/// One settings file as read: its whole JSON kept for writes.
#[derive(Debug, Clone, PartialEq)]
pub struct SettingsFile {
    pub path: PathBuf,
    pub exists: bool,
    pub version: Version,
    pub root: Map<String, Value>,
}

impl SettingsFile {
    /// Reads `path`; a missing file is an empty object, a malformed one an error carrying its text.
    pub fn read(path: &Path) -> Result<Self, ConfigError> {
        let (text, version) = read_text(path)?;
        let root = match &text {
            None => Map::new(),
            Some(text) => parse_object(path, text)?,
        };
        Ok(Self {
            path: path.into(),
            exists: text.is_some(),
            version,
            root,
        })
    }

    /// Applies `edit` to the file on disk: refuses when it is not the `expected` version (when given),
    /// changes only the edited key, writes atomically. Returns the file as written. A new file of a
    /// private `scope` (user, local) is created 0600; an existing file keeps its mode.
    pub fn edit(
        path: &Path,
        scope: SettingsScope,
        expected: Option<&Version>,
        edit: &SettingsEdit,
    ) -> Result<Self, ConfigError> {
        let (text, current) = read_text(path)?;
        check_version(path, &current, text.as_deref(), expected)?;
        let mut root = match &text {
            None => Map::new(),
            Some(text) => parse_object(path, text)?,
        };
        edit.apply(&mut root)?;
        let mut out = serde_json::to_string_pretty(&root).map_err(ConfigError::Encode)?;
        out.push('\n');
        write_file_as(path, out.as_bytes(), scope.is_private())?;
        Ok(Self {
            path: path.into(),
            exists: true,
            version: Version::of(Some(out.as_bytes())),
            root,
        })
    }
}

fn parse_object(path: &Path, text: &str) -> Result<Map<String, Value>, ConfigError> {
    let malformed = |error: String| ConfigError::Malformed {
        path: path.into(),
        error,
        text: text.to_owned(),
    };
    if text.trim().is_empty() {
        return Ok(Map::new());
    }
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(malformed("the top level is not an object".into())),
        Err(error) => Err(malformed(error.to_string())),
    }
}

/// One change to a settings file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum SettingsEdit {
    /// Sets (or, with None, removes) the value at a dotted key path (`permissions.allow`, `env.FOO`);
    /// objects on the way are created. Removing the last key of an object leaves it empty.
    Set { key: String, value: Option<Value> },
    /// Adds one command hook to `event`, in the group of the same matcher (created when missing).
    AddHook {
        event: String,
        matcher: Option<String>,
        command: String,
        timeout_secs: Option<u64>,
    },
    /// Removes hook `hook` of group `group` of `event`; a group left without hooks goes too, and an event
    /// left without groups.
    RemoveHook { event: String, group: usize, hook: usize },
    /// Changes the command and timeout of one hook, keeping its other fields.
    ReplaceHook {
        event: String,
        group: usize,
        hook: usize,
        command: String,
        timeout_secs: Option<u64>,
    },
}

impl SettingsEdit {
    fn apply(&self, root: &mut Map<String, Value>) -> Result<(), ConfigError> {
        match self {
            SettingsEdit::Set { key, value } => set_path(root, key, value.clone()),
            SettingsEdit::AddHook {
                event,
                matcher,
                command,
                timeout_secs,
            } => {
                if !HOOK_EVENTS.contains(&event.as_str()) {
                    tracing::info!(event, "adding a hook for an event this ANYON does not list");
                }
                if event.trim().is_empty() || command.trim().is_empty() {
                    return Err(ConfigError::Invalid("a hook needs an event and a command".into()));
                }
                let groups = object_at(root, "hooks")?
                    .entry(event.clone())
                    .or_insert_with(|| Value::Array(Vec::new()));
                let Value::Array(groups) = groups else {
                    return Err(ConfigError::Invalid(format!("hooks.{event} is not a list")));
                };
                let matcher = matcher.as_deref().unwrap_or("");
                let position = groups
                    .iter()
                    .position(|g| g.get("matcher").and_then(Value::as_str).unwrap_or("") == matcher);
                let index = match position {
                    Some(index) => index,
                    None => {
                        let mut group = Map::new();
                        if !matcher.is_empty() {
                            group.insert("matcher".into(), matcher.into());
                        }
                        group.insert("hooks".into(), Value::Array(Vec::new()));
                        groups.push(Value::Object(group));
                        groups.len() - 1
                    }
                };
                let mut hook = Map::new();
                hook.insert("type".into(), "command".into());
                hook.insert("command".into(), command.clone().into());
                if let Some(timeout) = timeout_secs {
                    hook.insert("timeout".into(), (*timeout).into());
                }
                match groups[index]
                    .as_object_mut()
                    .map(|g| g.entry("hooks").or_insert(Value::Array(Vec::new())))
                {
                    Some(Value::Array(hooks)) => {
                        hooks.push(Value::Object(hook));
                        Ok(())
                    }
                    _ => Err(ConfigError::Invalid(format!(
                        "hooks.{event}[{index}] is not a hook group"
                    ))),
                }
            }
            SettingsEdit::RemoveHook { event, group, hook } => {
                let missing = || ConfigError::NotFound(format!("hook {hook} of group {group} of {event}"));
                let hooks = root
                    .get_mut("hooks")
                    .and_then(Value::as_object_mut)
                    .ok_or_else(missing)?;
                let groups = hooks.get_mut(event).and_then(Value::as_array_mut).ok_or_else(missing)?;
                let list = groups
                    .get_mut(*group)
                    .and_then(|g| g.get_mut("hooks"))
                    .and_then(Value::as_array_mut)
                    .filter(|list| *hook < list.len())
                    .ok_or_else(missing)?;
                list.remove(*hook);
                if list.is_empty() {
                    groups.remove(*group);
                }
                if groups.is_empty() {
                    hooks.shift_remove(event);
                }
                Ok(())
            }
            SettingsEdit::ReplaceHook {
                event,
                group,
                hook,
                command,
                timeout_secs,
            } => {
                if command.trim().is_empty() {
                    return Err(ConfigError::Invalid("a hook needs a command".into()));
                }
                let entry = root
                    .get_mut("hooks")
                    .and_then(|h| h.get_mut(event))
                    .and_then(|groups| groups.get_mut(*group))
                    .and_then(|g| g.get_mut("hooks"))
                    .and_then(|list| list.get_mut(*hook))
                    .and_then(Value::as_object_mut)
                    .ok_or_else(|| ConfigError::NotFound(format!("hook {hook} of group {group} of {event}")))?;
                entry.insert("command".into(), command.clone().into());
                match timeout_secs {
                    Some(timeout) => entry.insert("timeout".into(), (*timeout).into()),
                    None => entry.shift_remove("timeout"),
                };
                Ok(())
            }
        }
    }
}

/// The object at `key` of `root`, created when missing.
fn object_at<'a>(root: &'a mut Map<String, Value>, key: &str) -> Result<&'a mut Map<String, Value>, ConfigError> {
    root.entry(key.to_owned())
        .or_insert_with(|| Value::Object(Map::new()))
        .as_object_mut()
        .ok_or_else(|| ConfigError::Invalid(format!("{key} is not an object")))
}

fn set_path(root: &mut Map<String, Value>, key: &str, value: Option<Value>) -> Result<(), ConfigError> {
    let parts: Vec<&str> = key.split('.').collect();
    if parts.iter().any(|p| p.is_empty()) {
        return Err(ConfigError::Invalid(format!("invalid key {key:?}")));
    }
    let (last, parents) = parts
        .split_last()
        .ok_or_else(|| ConfigError::Invalid("empty key".into()))?;
    let mut object = root;
    for (depth, part) in parents.iter().enumerate() {
        if value.is_none() && !object.contains_key(*part) {
            return Ok(());
        }
        object = object_at(object, part)
            .map_err(|_| ConfigError::Invalid(format!("{} is not an object", parts[..=depth].join("."))))?;
    }
    match value {
        Some(value) => {
            object.insert((*last).to_owned(), value);
        }
        None => {
            object.shift_remove(*last);
        }
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests;
