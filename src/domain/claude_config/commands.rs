//! Slash commands: Markdown files under `commands/` of Claude's config folder (user) and of
//! `<project>/.claude` (project). Subfolders are namespaces (`frontend/test.md` is `frontend:test`); an
//! optional YAML-style frontmatter carries `description`, `allowed-tools`, `argument-hint`, `model`.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{ConfigError, Version, check_version, read_text, write_file};

/// Where a command lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CommandScope {
    User,
    Project,
}

impl CommandScope {
    pub fn as_str(self) -> &'static str {
        match self {
            CommandScope::User => "user",
            CommandScope::Project => "project",
        }
    }
}

impl std::str::FromStr for CommandScope {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "user" => Ok(CommandScope::User),
            "project" => Ok(CommandScope::Project),
            other => Err(format!("unknown scope {other:?} (user or project)")),
        }
    }
}

/// The commands folder of `scope`.
pub fn commands_dir(config_dir: &Path, project: Option<&Path>, scope: CommandScope) -> Result<PathBuf, ConfigError> {
    match scope {
        CommandScope::User => Ok(config_dir.join("commands")),
        CommandScope::Project => project
            .map(|p| p.join(".claude").join("commands"))
            .ok_or_else(|| ConfigError::Invalid("the project scope needs a project folder".into())),
    }
}

/// One slash command file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SlashCommand {
    pub scope: CommandScope,
    /// `namespace:name`, or `name` at the top of the folder.
    pub name: String,
    /// The subfolders, joined by `:`; None at the top.
    pub namespace: Option<String>,
    pub path: PathBuf,
    pub description: Option<String>,
    pub allowed_tools: Option<String>,
    pub argument_hint: Option<String>,
    pub model: Option<String>,
    /// Every frontmatter field, in order.
    pub frontmatter: Vec<(String, String)>,
    /// The prompt after the frontmatter.
    pub body: String,
    /// The whole file.
    pub text: String,
    pub version: Version,
}

impl SlashCommand {
    fn field(&self, key: &str) -> Option<String> {
        self.frontmatter.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone())
    }
}

/// Splits `text` into frontmatter fields and the body. Lists (`- item` lines under a key) are joined by
/// `, `; quotes around a value are dropped. Text without a closing `---` has no frontmatter.
pub fn parse_frontmatter(text: &str) -> (Vec<(String, String)>, String) {
    let Some(rest) = text.strip_prefix("---\n").or_else(|| text.strip_prefix("---\r\n")) else {
        return (Vec::new(), text.to_owned());
    };
    let mut fields: Vec<(String, String)> = Vec::new();
    let mut offset = 0;
    for line in rest.split_inclusive('\n') {
        offset += line.len();
        let line = line.trim_end_matches(['\n', '\r']);
        if line.trim_end() == "---" {
            return (fields, rest[offset..].to_owned());
        }
        if let Some(item) = line.trim_start().strip_prefix("- ")
            && line.starts_with([' ', '-'])
            && let Some((_, value)) = fields.last_mut()
        {
            if !value.is_empty() {
                value.push_str(", ");
            }
            value.push_str(unquote(item.trim()));
        } else if let Some((key, value)) = line.split_once(':')
            && !key.starts_with([' ', '#'])
        {
            fields.push((key.trim().to_owned(), unquote(value.trim()).to_owned()));
        }
    }
    (Vec::new(), text.to_owned())
}

fn unquote(value: &str) -> &str {
    for quote in ['"', '\''] {
        if let Some(inner) = value.strip_prefix(quote).and_then(|v| v.strip_suffix(quote)) {
            return inner;
        }
    }
    value
}

/// A command file's text from its fields: frontmatter only for the fields given.
pub fn compose(description: Option<&str>, allowed_tools: Option<&str>, body: &str) -> String {
    let fields: Vec<(&str, &str)> = [("description", description), ("allowed-tools", allowed_tools)]
        .into_iter()
        .filter_map(|(k, v)| v.filter(|v| !v.trim().is_empty()).map(|v| (k, v)))
        .collect();
    let mut text = String::new();
    if !fields.is_empty() {
        text.push_str("---\n");
        for (key, value) in fields {
            text.push_str(&format!("{key}: {}\n", value.replace('\n', " ")));
        }
        text.push_str("---\n");
    }
    text.push_str(body);
    if !text.ends_with('\n') {
        text.push('\n');
    }
    text
}

/// The file of command `name` (`ns:name` or `ns/name`) under `dir`; names are letters, digits, `-`, `_`, `.`.
pub fn command_path(dir: &Path, name: &str) -> Result<PathBuf, ConfigError> {
    let parts: Vec<&str> = name.split([':', '/']).collect();
    let valid = |p: &&str| {
        !p.is_empty() && *p != "." && *p != ".." && p.chars().all(|c| c.is_alphanumeric() || "-_.".contains(c))
    };
    if !parts.iter().all(valid) {
        return Err(ConfigError::Invalid(format!(
            "invalid command name {name:?}: use letters, digits, '-', '_' and ':' between namespaces"
        )));
    }
    let mut path = dir.to_path_buf();
    for part in &parts {
        path.push(part);
    }
    path.set_extension("md");
    Ok(path)
}

/// How deep below the commands folder commands are looked for.
pub const MAX_DEPTH: usize = 16;

/// Every command under `dir`, sorted by name; a missing folder has none. Links to folders are not
/// followed (a link to its own folder would make the walk endless), and folders deeper than
/// [`MAX_DEPTH`] are not read; a link to a command file is a command.
pub fn list(dir: &Path, scope: CommandScope) -> Result<Vec<SlashCommand>, ConfigError> {
    let mut found = Vec::new();
    let mut folders = vec![(dir.to_path_buf(), 0usize)];
    while let Some((folder, depth)) = folders.pop() {
        let entries = match std::fs::read_dir(&folder) {
            Ok(entries) => entries,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => continue,
            Err(source) => return Err(ConfigError::Read { path: folder, source }),
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(kind) = entry.file_type() else { continue };
            if kind.is_dir() {
                if depth < MAX_DEPTH {
                    folders.push((path, depth + 1));
                }
                continue;
            }
            // A link counts by what it points to, and only a file is read through it.
            let is_file = kind.is_file() || (kind.is_symlink() && path.metadata().is_ok_and(|m| m.is_file()));
            if is_file && path.extension().is_some_and(|e| e == "md") {
                match read(dir, &path, scope) {
                    Ok(command) => found.push(command),
                    Err(error) => tracing::warn!(%error, "skipping a slash command"),
                }
            }
        }
    }
    found.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(found)
}

/// Reads one command file below `dir`.
pub fn read(dir: &Path, path: &Path, scope: CommandScope) -> Result<SlashCommand, ConfigError> {
    let (text, version) = read_text(path)?;
    let text = text.ok_or_else(|| ConfigError::NotFound(path.display().to_string()))?;
    let relative = path.strip_prefix(dir).unwrap_or(path).with_extension("");
    let parts: Vec<String> = relative.iter().map(|p| p.to_string_lossy().into_owned()).collect();
    let (namespace, name) = match parts.split_last() {
        Some((_, [])) | None => (None, parts.join(":")),
        Some((_, folders)) => (Some(folders.join(":")), parts.join(":")),
    };
    let (frontmatter, body) = parse_frontmatter(&text);
    let mut command = SlashCommand {
        scope,
        name,
        namespace,
        path: path.to_path_buf(),
        description: None,
        allowed_tools: None,
        argument_hint: None,
        model: None,
        frontmatter,
        body,
        text,
        version,
    };
    command.description = command.field("description");
    command.allowed_tools = command.field("allowed-tools");
    command.argument_hint = command.field("argument-hint");
    command.model = command.field("model");
    Ok(command)
}

/// Writes command `name` with `text`. `expected`: the version read before editing (refused when the file
/// changed since), or None to create (refused when it exists unless `overwrite`).
pub fn save(
    dir: &Path,
    scope: CommandScope,
    name: &str,
    text: &str,
    expected: Option<&Version>,
    overwrite: bool,
) -> Result<SlashCommand, ConfigError> {
    let path = command_path(dir, name)?;
    let (current_text, current) = read_text(&path)?;
    if expected.is_none() && current_text.is_some() && !overwrite {
        return Err(ConfigError::Invalid(format!("a command named {name:?} already exists")));
    }
    check_version(&path, &current, current_text.as_deref(), expected)?;
    write_file(&path, text.as_bytes())?;
    read(dir, &path, scope)
}

/// Deletes command `name`; empty namespace folders it leaves are removed too.
pub fn delete(dir: &Path, name: &str) -> Result<PathBuf, ConfigError> {
    let path = command_path(dir, name)?;
    match std::fs::remove_file(&path) {
        Ok(()) => {}
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            return Err(ConfigError::NotFound(format!("command {name:?}")));
        }
        Err(source) => return Err(ConfigError::Write { path, source }),
    }
    let mut folder = path.parent();
    while let Some(f) = folder.filter(|f| *f != dir && f.starts_with(dir)) {
        if std::fs::remove_dir(f).is_err() {
            break;
        }
        folder = f.parent();
    }
    Ok(path)
}
