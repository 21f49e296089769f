//! Reading and writing Claude's MCP files: `.claude.json` (user and local scopes) and each project's
//! `.mcp.json`, one `mcpServers` object at a time, every other key kept.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde_json::{Map, Value};

use super::{
    McpError, McpScope, McpServer, McpServerRef, McpServerSpec, local_key, mcp_json_path, validate_config,
    validate_name,
};
use crate::util::sync::LockExt;

/// One writer at a time within ANYON: every change is read, modify, write.
static WRITE_LOCK: Mutex<()> = Mutex::new(());

/// Claude's MCP files: `.claude.json` (user and local scopes) and each project's `.mcp.json`.
#[derive(Debug, Clone)]
pub struct McpFiles {
    pub claude_json: PathBuf,
}

impl McpFiles {
    pub fn new(claude_json: PathBuf) -> Self {
        Self { claude_json }
    }

    /// Every server of every scope: user, local (every project in `.claude.json`), and project scope for
    /// every project `.claude.json` knows plus `extra_projects`.
    pub fn list(&self, extra_projects: &[PathBuf]) -> Result<Vec<McpServer>, McpError> {
        let doc = read_object(&self.claude_json)?;
        let mut servers = Vec::new();
        push_servers(&mut servers, doc.get("mcpServers"), McpScope::User, None);
        let mut folders: Vec<PathBuf> = Vec::new();
        if let Some(Value::Object(projects)) = doc.get("projects") {
            for (key, project) in projects {
                push_servers(
                    &mut servers,
                    project.get("mcpServers"),
                    McpScope::Local,
                    Some(PathBuf::from(key)),
                );
                folders.push(PathBuf::from(key));
            }
        }
        folders.extend(extra_projects.iter().cloned());
        let mut seen = std::collections::HashSet::new();
        for folder in folders {
            let path = mcp_json_path(&folder);
            if !seen.insert(path.clone()) {
                continue;
            }
            let doc = match read_object(&path) {
                Ok(doc) => doc,
                Err(error) => {
                    tracing::warn!(%error, "skipping a project's .mcp.json");
                    continue;
                }
            };
            let folder = path.parent().map(Path::to_path_buf);
            push_servers(&mut servers, doc.get("mcpServers"), McpScope::Project, folder);
        }
        Ok(servers)
    }

    /// Adds `spec` (or, with `overwrite`, replaces an entry of the same name in that scope).
    pub fn add(&self, spec: &McpServerSpec) -> Result<McpServer, McpError> {
        validate_name(&spec.name)?;
        validate_config(&spec.name, &spec.config)?;
        let _guard = WRITE_LOCK.lock_or_recover();
        self.edit(spec.scope, spec.project_path.as_deref(), |servers| {
            if servers.contains_key(&spec.name) && !spec.overwrite {
                return Err(McpError::Exists {
                    name: spec.name.clone(),
                    scope: spec.scope,
                });
            }
            servers.insert(spec.name.clone(), spec.config.clone());
            Ok(())
        })?;
        Ok(McpServer::from_config(
            &spec.name,
            spec.scope,
            self.project_of(spec.scope, spec.project_path.as_deref()),
            &spec.config,
        ))
    }

    /// Removes one server.
    pub fn remove(&self, target: &McpServerRef) -> Result<(), McpError> {
        let _guard = WRITE_LOCK.lock_or_recover();
        self.edit(target.scope, target.project_path.as_deref(), |servers| {
            servers
                .shift_remove(&target.name)
                .map(|_| ())
                .ok_or_else(|| McpError::NotFound {
                    name: target.name.clone(),
                    scope: target.scope,
                })
        })
    }

    /// Replaces `previous` with `spec` (a rename or a move to another scope included) in one step per file.
    pub fn update(&self, previous: &McpServerRef, spec: &McpServerSpec) -> Result<McpServer, McpError> {
        validate_name(&spec.name)?;
        validate_config(&spec.name, &spec.config)?;
        let same_place = previous.scope == spec.scope
            && self.project_of(previous.scope, previous.project_path.as_deref())
                == self.project_of(spec.scope, spec.project_path.as_deref());
        if same_place {
            let _guard = WRITE_LOCK.lock_or_recover();
            self.edit(spec.scope, spec.project_path.as_deref(), |servers| {
                if previous.name != spec.name && servers.contains_key(&spec.name) && !spec.overwrite {
                    return Err(McpError::Exists {
                        name: spec.name.clone(),
                        scope: spec.scope,
                    });
                }
                // Keep the entry's place among the others.
                let entries: Vec<(String, Value)> = std::mem::take(servers).into_iter().collect();
                let mut found = false;
                for (name, config) in entries {
                    if name == previous.name {
                        found = true;
                        servers.insert(spec.name.clone(), spec.config.clone());
                    } else if name != spec.name {
                        servers.insert(name, config);
                    }
                }
                if !found {
                    return Err(McpError::NotFound {
                        name: previous.name.clone(),
                        scope: previous.scope,
                    });
                }
                Ok(())
            })?;
            return Ok(McpServer::from_config(
                &spec.name,
                spec.scope,
                self.project_of(spec.scope, spec.project_path.as_deref()),
                &spec.config,
            ));
        }
        let added = self.add(spec)?;
        self.remove(previous)?;
        Ok(added)
    }

    fn project_of(&self, scope: McpScope, project: Option<&Path>) -> Option<PathBuf> {
        match (scope, project) {
            (McpScope::User, _) | (_, None) => None,
            (McpScope::Local, Some(p)) => Some(PathBuf::from(local_key(p))),
            (McpScope::Project, Some(p)) => mcp_json_path(p).parent().map(Path::to_path_buf),
        }
    }

    /// Reads the scope's file, hands its `mcpServers` object to `change`, and writes the file back.
    fn edit(
        &self,
        scope: McpScope,
        project: Option<&Path>,
        change: impl FnOnce(&mut Map<String, Value>) -> Result<(), McpError>,
    ) -> Result<(), McpError> {
        let (path, key) = match scope {
            McpScope::User => (self.claude_json.clone(), None),
            McpScope::Local => (
                self.claude_json.clone(),
                Some(local_key(project.ok_or(McpError::NeedsProject(scope))?)),
            ),
            McpScope::Project => (mcp_json_path(project.ok_or(McpError::NeedsProject(scope))?), None),
        };
        let mut doc = read_object(&path)?;
        let holder: &mut Map<String, Value> = match &key {
            None => &mut doc,
            Some(key) => {
                let projects = object_entry(&mut doc, "projects", &path)?;
                object_entry(projects, key, &path)?
            }
        };
        let servers = object_entry(holder, "mcpServers", &path)?;
        change(servers)?;
        let mut text = serde_json::to_string_pretty(&doc).map_err(|source| McpError::Parse {
            path: path.clone(),
            source,
        })?;
        if scope == McpScope::Project {
            text.push('\n');
        }
        crate::util::fs::write_atomic_keep_mode(&path, text.as_bytes())
            .map_err(|source| McpError::Write { path, source })
    }
}

/// `map[key]` as an object, created (at the end) when missing. A value of another type is refused, not
/// replaced: it is the person's (or Claude's), and a write must change only the server it was asked to.
fn object_entry<'a>(
    map: &'a mut Map<String, Value>,
    key: &str,
    path: &Path,
) -> Result<&'a mut Map<String, Value>, McpError> {
    match map.entry(key.to_owned()).or_insert_with(|| Value::Object(Map::new())) {
        Value::Object(map) => Ok(map),
        _ => Err(McpError::NotAnObjectAt {
            path: path.to_path_buf(),
            key: key.to_owned(),
        }),
    }
}

fn push_servers(out: &mut Vec<McpServer>, servers: Option<&Value>, scope: McpScope, project: Option<PathBuf>) {
    let Some(Value::Object(servers)) = servers else {
        return;
    };
    for (name, config) in servers {
        if config.is_object() {
            out.push(McpServer::from_config(name, scope, project.clone(), config));
        }
    }
}

/// A JSON file's top-level object; a missing or empty file is an empty object.
pub fn read_object(path: &Path) -> Result<Map<String, Value>, McpError> {
    let max = if path.file_name().is_some_and(|name| name == ".claude.json") {
        crate::util::fs::MAX_CLAUDE_JSON
    } else {
        crate::util::fs::MAX_CONFIG_FILE
    };
    let bytes = match crate::util::fs::read_capped(path, max) {
        Ok(bytes) => bytes,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Map::new()),
        Err(source) => {
            return Err(McpError::Read {
                path: path.to_path_buf(),
                source,
            });
        }
    };
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match serde_json::from_slice(&bytes) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(McpError::NotAnObject {
            path: path.to_path_buf(),
        }),
        Err(source) => Err(McpError::Parse {
            path: path.to_path_buf(),
            source,
        }),
    }
}
