//! MCP servers: Claude's own files read and written on the blocking pool; connection tests on the runtime.

use std::path::PathBuf;

use super::{Backend, BackendError};
use crate::backend::command::{Command, McpImportSource, McpScope};
use crate::backend::event::Output;
use crate::domain::mcp::{self, McpError, McpFiles, import};
use crate::util::sync::RwLockExt;

impl Backend {
    /// Reads and writes MCP servers in this `.claude.json` instead of Claude's (tests).
    pub fn set_claude_json(&self, path: PathBuf) {
        *self.inner.claude_json.write_or_recover() = Some(path);
    }

    fn mcp_files(&self) -> Result<McpFiles, BackendError> {
        let path = self.inner.claude_json.read_or_recover().clone();
        Ok(McpFiles::new(path.ok_or(McpError::NoHome)?))
    }

    pub(super) async fn mcp(&self, command: Command) -> Result<Output, BackendError> {
        if let Command::McpTestConnection {
            name,
            config,
            project_path,
            timeout,
        } = command
        {
            let report = mcp::probe::probe(&name, &config, project_path.as_deref(), timeout).await;
            return Ok(Output::McpTested(report));
        }
        let files = self.mcp_files()?;
        tokio::task::spawn_blocking(move || mcp_blocking(&files, command)).await?
    }
}

fn mcp_blocking(files: &McpFiles, command: Command) -> Result<Output, BackendError> {
    match command {
        Command::McpList { project } => Ok(Output::McpServers(files.list(project.as_slice())?)),
        Command::McpAdd(spec) => Ok(Output::McpSaved(files.add(&spec)?)),
        Command::McpUpdate { previous, spec } => Ok(Output::McpSaved(files.update(&previous, &spec)?)),
        Command::McpRemove(target) => {
            files.remove(&target)?;
            Ok(Output::McpRemoved(target))
        }
        Command::McpImportPreview {
            source,
            scope,
            project_path,
        } => {
            let (path, name) = match source {
                McpImportSource::File { path, name } => (path, name),
                McpImportSource::ClaudeDesktop { path } => (
                    path.or_else(import::claude_desktop_config)
                        .ok_or_else(|| McpError::Import("no home folder to find Claude Desktop's config in".into()))?,
                    None,
                ),
            };
            if !path.is_file() {
                return Err(McpError::Import(format!("{} does not exist", path.display())).into());
            }
            let mut entries = import::read(&path, name.as_deref())?;
            let existing = files.list(project_path.as_slice())?;
            let place = project_path.as_deref().map(|p| match scope {
                McpScope::Local => PathBuf::from(mcp::local_key(p)),
                _ => mcp::mcp_json_path(p).parent().map(PathBuf::from).unwrap_or_default(),
            });
            for entry in &mut entries {
                entry.exists = existing.iter().any(|s| {
                    s.name == entry.name && s.scope == scope && (scope == McpScope::User || s.project == place)
                });
            }
            Ok(Output::McpImportPreview { source: path, entries })
        }
        Command::McpImport { servers } => {
            let mut added = Vec::new();
            for spec in &servers {
                added.push(files.add(spec)?);
            }
            Ok(Output::McpImported(added))
        }
        Command::McpExport { path, servers, project } => {
            let all = files.list(project.as_slice())?;
            let chosen: Vec<mcp::McpServer> = if servers.is_empty() {
                all
            } else {
                let mut chosen = Vec::new();
                for wanted in &servers {
                    let found = all
                        .iter()
                        .find(|s| {
                            s.name == wanted.name
                                && s.scope == wanted.scope
                                && (wanted.project_path.is_none() || s.project == project_place(wanted))
                        })
                        .ok_or_else(|| McpError::NotFound {
                            name: wanted.name.clone(),
                            scope: wanted.scope,
                        })?;
                    chosen.push(found.clone());
                }
                chosen
            };
            let mut text = serde_json::to_string_pretty(&import::export(&chosen)).unwrap_or_default();
            text.push('\n');
            crate::util::fs::write_atomic(&path, text.as_bytes()).map_err(|source| McpError::Write {
                path: path.clone(),
                source,
            })?;
            Ok(Output::McpExported {
                path,
                count: chosen.len(),
            })
        }
        other => Err(BackendError::NotAvailable { command: other.name() }),
    }
}

fn project_place(target: &mcp::McpServerRef) -> Option<PathBuf> {
    let project = target.project_path.as_deref()?;
    match target.scope {
        McpScope::User => None,
        McpScope::Local => Some(PathBuf::from(mcp::local_key(project))),
        McpScope::Project => mcp::mcp_json_path(project).parent().map(PathBuf::from),
    }
}
