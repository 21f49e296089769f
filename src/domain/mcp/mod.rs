//! Claude's MCP servers, read from and written to Claude's own files, the way `claude mcp add` writes them:
//!
//! - user scope: `mcpServers` at the top of `$CLAUDE_CONFIG_DIR/.claude.json` (default `~/.claude.json`);
//! - local scope: `.claude.json` → `projects["<project>"].mcpServers`;
//! - project scope: `<project>/.mcp.json` → `mcpServers`.
//!
//! A write reads the whole file, changes only the one `mcpServers` object, and replaces the file atomically
//! with its mode kept; every other key stays, in its order (serde_json's `preserve_order`).

mod files;
pub mod import;
pub mod probe;
pub mod requests;

pub use files::{McpFiles, read_object};

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize, Serializer};
use serde_json::{Map, Value};

/// Where an MCP server's configuration lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum McpScope {
    /// `.claude.json` → `projects[<path>].mcpServers`.
    Local,
    /// `<project>/.mcp.json`.
    Project,
    /// `.claude.json` → `mcpServers`.
    User,
}

/// An MCP server to add.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct McpServerSpec {
    pub name: String,
    pub scope: McpScope,
    /// The server's JSON as Claude stores it (`{"type":"stdio","command":...}`).
    pub config: serde_json::Value,
    /// The project the `local` and `project` scopes refer to.
    pub project_path: Option<PathBuf>,
    /// Replace a server of the same name in that scope instead of refusing.
    #[serde(default)]
    pub overwrite: bool,
}

/// Where MCP servers are imported from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum McpImportSource {
    /// A JSON file: `mcpServers`, an object of servers, or one server (named `name`, else by the file).
    File { path: PathBuf, name: Option<String> },
    /// Claude Desktop's `claude_desktop_config.json` (this platform's place, or `path`).
    ClaudeDesktop { path: Option<PathBuf> },
}

/// Why an MCP configuration could not be read or changed.
#[derive(Debug, thiserror::Error)]
pub enum McpError {
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{path} is not valid JSON ({source}); it was left untouched")]
    Parse { path: PathBuf, source: serde_json::Error },
    #[error("{path} does not hold a JSON object; it was left untouched")]
    NotAnObject { path: PathBuf },
    #[error("{key:?} in {path} is not a JSON object; ANYON left the file as it is")]
    NotAnObjectAt { path: PathBuf, key: String },
    #[error("cannot write {path}: {source}")]
    Write { path: PathBuf, source: std::io::Error },
    #[error("invalid name {0:?}: names can only contain letters, numbers, hyphens and underscores")]
    InvalidName(String),
    #[error("invalid server {name:?}: {reason}")]
    InvalidServer { name: String, reason: String },
    #[error("an MCP server named {name:?} already exists in the {scope} scope")]
    Exists { name: String, scope: McpScope },
    #[error("no MCP server named {name:?} in the {scope} scope")]
    NotFound { name: String, scope: McpScope },
    #[error("the {0} scope needs a project folder")]
    NeedsProject(McpScope),
    #[error("no home folder: set CLAUDE_CONFIG_DIR")]
    NoHome,
    #[error("{0}")]
    Import(String),
}

impl McpScope {
    pub const ALL: [McpScope; 3] = [McpScope::User, McpScope::Local, McpScope::Project];

    pub fn as_str(self) -> &'static str {
        match self {
            McpScope::Local => "local",
            McpScope::Project => "project",
            McpScope::User => "user",
        }
    }
}

impl std::fmt::Display for McpScope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for McpScope {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "local" => Ok(McpScope::Local),
            "project" => Ok(McpScope::Project),
            "user" => Ok(McpScope::User),
            other => Err(format!("unknown scope {other:?} (user, local or project)")),
        }
    }
}

/// How Claude reaches a server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    Stdio,
    Http,
    Sse,
}

impl Transport {
    pub fn as_str(self) -> &'static str {
        match self {
            Transport::Stdio => "stdio",
            Transport::Http => "http",
            Transport::Sse => "sse",
        }
    }
}

/// One configured server, as listed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct McpServer {
    pub name: String,
    pub scope: McpScope,
    /// Local scope: the project's key in `.claude.json`; project scope: the folder holding `.mcp.json`.
    pub project: Option<PathBuf>,
    pub transport: Transport,
    pub command: Option<String>,
    pub args: Vec<String>,
    pub url: Option<String>,
    #[serde(serialize_with = "pairs_as_object")]
    pub env: Vec<(String, String)>,
    #[serde(serialize_with = "pairs_as_object")]
    pub headers: Vec<(String, String)>,
    /// The entry exactly as stored.
    pub config: Value,
}

fn pairs_as_object<S: Serializer>(pairs: &[(String, String)], s: S) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeMap;
    let mut map = s.serialize_map(Some(pairs.len()))?;
    for (k, v) in pairs {
        map.serialize_entry(k, v)?;
    }
    map.end()
}

fn string_pairs(value: Option<&Value>) -> Vec<(String, String)> {
    let Some(Value::Object(map)) = value else {
        return Vec::new();
    };
    map.iter()
        .map(|(k, v)| {
            let v = match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            (k.clone(), v)
        })
        .collect()
}

/// A server entry's transport: its `type`, else stdio when it has a `command` (Claude Desktop's form),
/// else http when it has a `url`.
pub fn transport_of(config: &Value) -> Option<Transport> {
    match config.get("type").and_then(Value::as_str) {
        Some("stdio") => Some(Transport::Stdio),
        Some("http") => Some(Transport::Http),
        Some("sse") => Some(Transport::Sse),
        Some(_) => None,
        None if config.get("command").is_some() => Some(Transport::Stdio),
        None if config.get("url").is_some() => Some(Transport::Http),
        None => None,
    }
}

impl McpServer {
    pub fn from_config(name: &str, scope: McpScope, project: Option<PathBuf>, config: &Value) -> Self {
        let text = |key: &str| config.get(key).and_then(Value::as_str).map(str::to_owned);
        Self {
            name: name.to_owned(),
            scope,
            project,
            transport: transport_of(config).unwrap_or(Transport::Stdio),
            command: text("command"),
            args: config
                .get("args")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .map(|v| v.as_str().map(str::to_owned).unwrap_or_else(|| v.to_string()))
                        .collect()
                })
                .unwrap_or_default(),
            url: text("url"),
            env: string_pairs(config.get("env")),
            headers: string_pairs(config.get("headers")),
            config: config.clone(),
        }
    }

    /// What identifies this entry for edits and removal.
    pub fn reference(&self) -> McpServerRef {
        McpServerRef {
            name: self.name.clone(),
            scope: self.scope,
            project_path: self.project.clone(),
        }
    }

    /// The same server with every env and header value replaced by a mask (also inside `config`).
    pub fn masked(&self) -> Self {
        let mut out = self.clone();
        for (_, v) in out.env.iter_mut().chain(out.headers.iter_mut()) {
            *v = mask(v);
        }
        for key in ["env", "headers"] {
            if let Some(Value::Object(map)) = out.config.get_mut(key) {
                for v in map.values_mut() {
                    if let Value::String(s) = v {
                        *s = mask(s);
                    }
                }
            }
        }
        out
    }

    /// The command line (stdio) or URL, for one line of a list.
    pub fn target(&self) -> String {
        match self.transport {
            Transport::Stdio => {
                let mut line = self.command.clone().unwrap_or_default();
                for arg in &self.args {
                    line.push(' ');
                    line.push_str(arg);
                }
                line
            }
            Transport::Http | Transport::Sse => self.url.clone().unwrap_or_default(),
        }
    }
}

/// A secret's masked form: its length hidden, nothing of it shown.
pub fn mask(value: &str) -> String {
    if value.is_empty() {
        String::new()
    } else {
        "••••••".into()
    }
}

/// Names one configured server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct McpServerRef {
    pub name: String,
    pub scope: McpScope,
    pub project_path: Option<PathBuf>,
}

/// Where Claude keeps `.claude.json`: `$CLAUDE_CONFIG_DIR/.claude.json`, else `~/.claude.json`.
pub fn claude_json_path() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("CLAUDE_CONFIG_DIR").filter(|v| !v.is_empty()) {
        return Some(PathBuf::from(dir).join(".claude.json"));
    }
    directories::BaseDirs::new().map(|b| b.home_dir().join(".claude.json"))
}

/// The key of `project` in `.claude.json`'s `projects`: its absolute, symlink-free path, or its git
/// root when it is inside a git work tree (as Claude keys local servers).
pub fn local_key(project: &Path) -> String {
    let path = std::fs::canonicalize(project)
        .or_else(|_| std::path::absolute(project))
        .unwrap_or_else(|_| project.to_path_buf());
    let root = path
        .ancestors()
        .find(|dir| dir.join(".git").exists())
        .map(Path::to_path_buf)
        .unwrap_or(path);
    root.to_string_lossy().into_owned()
}

/// `<project>/.mcp.json`.
pub fn mcp_json_path(project: &Path) -> PathBuf {
    let path = std::fs::canonicalize(project).unwrap_or_else(|_| project.to_path_buf());
    path.join(".mcp.json")
}

/// Checks a server name the way `claude mcp add` does.
pub fn validate_name(name: &str) -> Result<(), McpError> {
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
        return Err(McpError::InvalidName(name.to_owned()));
    }
    Ok(())
}

/// Checks a server entry: a JSON object with a known transport and the fields it needs.
pub fn validate_config(name: &str, config: &Value) -> Result<(), McpError> {
    let invalid = |reason: &str| McpError::InvalidServer {
        name: name.to_owned(),
        reason: reason.to_owned(),
    };
    let Value::Object(map) = config else {
        return Err(invalid("a server is a JSON object"));
    };
    let strings = |key: &str| match map.get(key) {
        None => Ok(()),
        Some(Value::Object(m)) if m.values().all(Value::is_string) => Ok(()),
        Some(_) => Err(invalid(&format!("`{key}` must be an object of strings"))),
    };
    match transport_of(config) {
        None => match map.get("type") {
            Some(t) => Err(invalid(&format!("unknown type {t} (stdio, http or sse)"))),
            None => Err(invalid("needs a `command` (stdio) or a `type` and `url` (http, sse)")),
        },
        Some(Transport::Stdio) => {
            match map.get("command") {
                Some(Value::String(c)) if !c.trim().is_empty() => {}
                _ => return Err(invalid("a stdio server needs a `command`")),
            }
            match map.get("args") {
                None => {}
                Some(Value::Array(a)) if a.iter().all(Value::is_string) => {}
                Some(_) => return Err(invalid("`args` must be an array of strings")),
            }
            strings("env")
        }
        Some(Transport::Http | Transport::Sse) => {
            match map.get("url") {
                Some(Value::String(u)) if u.starts_with("http://") || u.starts_with("https://") => {}
                Some(_) => return Err(invalid("`url` must start with http:// or https://")),
                None => return Err(invalid("an http or sse server needs a `url`")),
            }
            strings("headers")
        }
    }
}

/// The entry `claude mcp add` writes for a stdio server.
pub fn stdio_config(command: &str, args: &[String], env: &[(String, String)]) -> Value {
    let mut map = Map::new();
    map.insert("type".into(), "stdio".into());
    map.insert("command".into(), command.into());
    map.insert("args".into(), args.iter().map(|a| Value::from(a.as_str())).collect());
    map.insert("env".into(), pairs_to_object(env));
    Value::Object(map)
}

/// The entry `claude mcp add --transport http|sse` writes (headers only when there are some).
pub fn remote_config(transport: Transport, url: &str, headers: &[(String, String)]) -> Value {
    let mut map = Map::new();
    map.insert("type".into(), transport.as_str().into());
    map.insert("url".into(), url.into());
    if !headers.is_empty() {
        map.insert("headers".into(), pairs_to_object(headers));
    }
    Value::Object(map)
}

fn pairs_to_object(pairs: &[(String, String)]) -> Value {
    Value::Object(
        pairs
            .iter()
            .map(|(k, v)| (k.clone(), Value::from(v.as_str())))
            .collect(),
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn spec(name: &str, scope: McpScope, project: Option<&Path>, config: Value) -> McpServerSpec {
        McpServerSpec {
            name: name.into(),
            scope,
            config,
            project_path: project.map(Path::to_path_buf),
            overwrite: false,
        }
    }

    #[test]
    fn every_scope_lands_in_its_own_file_and_lists_back() {
        let dir = tempfile::tempdir().unwrap();
        let project = dir.path().join("proj");
        std::fs::create_dir(&project).unwrap();
        let files = McpFiles::new(dir.path().join(".claude.json"));
        let stdio = stdio_config("node", &["a.js".into()], &[("KEY".into(), "v".into())]);
        files.add(&spec("u", McpScope::User, None, stdio.clone())).unwrap();
        files
            .add(&spec("l", McpScope::Local, Some(&project), stdio.clone()))
            .unwrap();
        let http = remote_config(Transport::Http, "http://127.0.0.1:1/mcp", &[]);
        files.add(&spec("p", McpScope::Project, Some(&project), http)).unwrap();
        let listed = files.list(&[]).unwrap();
        let names: Vec<(&str, McpScope)> = listed.iter().map(|s| (s.name.as_str(), s.scope)).collect();
        assert_eq!(
            names,
            [("u", McpScope::User), ("l", McpScope::Local), ("p", McpScope::Project)]
        );
        assert_eq!(listed[2].transport, Transport::Http);
        assert_eq!(listed[0].env, [("KEY".to_string(), "v".to_string())]);
        assert!(project.join(".mcp.json").is_file());
        let err = files.add(&spec("u", McpScope::User, None, stdio)).unwrap_err();
        assert!(matches!(err, McpError::Exists { .. }), "{err}");
        files
            .remove(&McpServerRef {
                name: "l".into(),
                scope: McpScope::Local,
                project_path: Some(project.clone()),
            })
            .unwrap();
        assert_eq!(files.list(&[]).unwrap().len(), 2);
    }

    #[test]
    fn bad_names_and_shapes_are_refused_before_any_write() {
        let dir = tempfile::tempdir().unwrap();
        let files = McpFiles::new(dir.path().join(".claude.json"));
        assert!(files.add(&spec("bad.name", McpScope::User, None, json_cmd())).is_err());
        let no_url = serde_json::json!({"type": "http"});
        assert!(files.add(&spec("x", McpScope::User, None, no_url)).is_err());
        let odd = serde_json::json!({"type": "carrier-pigeon", "url": "http://x"});
        assert!(files.add(&spec("x", McpScope::User, None, odd)).is_err());
        assert!(files.add(&spec("x", McpScope::Local, None, json_cmd())).is_err());
        assert!(!dir.path().join(".claude.json").exists());
    }

    #[test]
    fn a_file_that_is_not_json_is_never_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".claude.json");
        std::fs::write(&path, "{ not json").unwrap();
        let files = McpFiles::new(path.clone());
        assert!(matches!(
            files.add(&spec("x", McpScope::User, None, json_cmd())),
            Err(McpError::Parse { .. })
        ));
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "{ not json");
    }

    #[test]
    fn masking_hides_env_and_header_values_everywhere() {
        let config = serde_json::json!({"type":"http","url":"http://h","headers":{"Authorization":"Bearer s3cret"}});
        let server = McpServer::from_config("w", McpScope::User, None, &config).masked();
        let shown = serde_json::to_string(&server).unwrap();
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(shown.contains("Authorization"));
    }

    fn json_cmd() -> Value {
        serde_json::json!({"command": "x"})
    }
}
