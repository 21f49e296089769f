//! MCP servers: Claude's own files read and written on the blocking pool; connection tests on the runtime.

use std::path::PathBuf;

use super::{Backend, BackendError};
use crate::domain::mcp::requests::{Exported, ImportPreview, McpExport, McpImportPreview, McpRemove, Reply, Request};
use crate::domain::mcp::{self, McpError, McpFiles, import};
use crate::domain::mcp::{McpImportSource, McpScope};
use crate::util::request::Ask;
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

    pub(super) async fn mcp(&self, request: Request) -> Result<Reply, BackendError> {
        match request {
            Request::McpTestConnection(q) => {
                let report = mcp::probe::probe(&q.name, &q.config, q.project_path.as_deref(), q.timeout).await;
                Ok(q.answer(report))
            }
            Request::McpList(q) => {
                let project = q.project.clone();
                let servers = self
                    .with_mcp_files(move |files| Ok(files.list(project.as_slice())?))
                    .await?;
                Ok(q.answer(servers))
            }
            Request::McpAdd(q) => {
                let spec = q.spec.clone();
                Ok(q.answer(self.with_mcp_files(move |files| Ok(files.add(&spec)?)).await?))
            }
            Request::McpUpdate(q) => {
                let (previous, spec) = (q.previous.clone(), q.spec.clone());
                let saved = self
                    .with_mcp_files(move |files| Ok(files.update(&previous, &spec)?))
                    .await?;
                Ok(q.answer(saved))
            }
            Request::McpRemove(q) => {
                let server = q.server.clone();
                self.with_mcp_files(move |files| Ok(files.remove(&server)?)).await?;
                Ok(McpRemove::wrap(q.server))
            }
            Request::McpImportPreview(q) => {
                let preview = self.with_mcp_files(move |files| import_preview(files, q)).await?;
                Ok(McpImportPreview::wrap(preview))
            }
            Request::McpImport(q) => {
                let servers = q.servers.clone();
                let added = self
                    .with_mcp_files(move |files| {
                        let mut added = Vec::new();
                        for spec in &servers {
                            added.push(files.add(spec)?);
                        }
                        Ok(added)
                    })
                    .await?;
                Ok(q.answer(added))
            }
            Request::McpExport(q) => Ok(McpExport::wrap(
                self.with_mcp_files(move |files| export(files, q)).await?,
            )),
        }
    }

    /// Runs `work` on Claude's MCP files on the blocking pool.
    async fn with_mcp_files<T: Send + 'static>(
        &self,
        work: impl FnOnce(&McpFiles) -> Result<T, BackendError> + Send + 'static,
    ) -> Result<T, BackendError> {
        let files = self.mcp_files()?;
        tokio::task::spawn_blocking(move || work(&files)).await?
    }
}

/// What importing `request.source` would add to its scope.
fn import_preview(files: &McpFiles, request: McpImportPreview) -> Result<ImportPreview, BackendError> {
    let McpImportPreview {
        source,
        scope,
        project_path,
    } = request;
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
        entry.exists = existing
            .iter()
            .any(|s| s.name == entry.name && s.scope == scope && (scope == McpScope::User || s.project == place));
    }
    Ok(ImportPreview { source: path, entries })
}

/// Writes the chosen servers (all when none are named) to a file in Claude's format.
fn export(files: &McpFiles, request: McpExport) -> Result<Exported, BackendError> {
    let McpExport { path, servers, project } = request;
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
    Ok(Exported {
        path,
        count: chosen.len(),
    })
}

fn project_place(target: &mcp::McpServerRef) -> Option<PathBuf> {
    let project = target.project_path.as_deref()?;
    match target.scope {
        McpScope::User => None,
        McpScope::Local => Some(PathBuf::from(mcp::local_key(project))),
        McpScope::Project => mcp::mcp_json_path(project).parent().map(PathBuf::from),
    }
}
