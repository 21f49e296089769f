//! The MCP screen's state: the servers of every scope, each one's last connection test, the add/edit
//! form, and the import preview.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

use crate::backend::command::{McpScope, RequestId};
use crate::domain::mcp::import::ImportEntry;
use crate::domain::mcp::probe::ProbeReport;
use crate::domain::mcp::requests::{Exported, ImportPreview, Reply};
use crate::domain::mcp::{McpServer, McpServerRef, Transport};

use super::Requested;

/// One server's place: scope, project and name.
pub type ServerKey = (McpScope, Option<PathBuf>, String);

pub fn key_of(server: &McpServer) -> ServerKey {
    (server.scope, server.project.clone(), server.name.clone())
}

/// A server's connection test.
#[derive(Debug, Clone, PartialEq)]
pub enum TestStatus {
    Testing,
    Done(ProbeReport),
}

/// The add/edit form.
#[derive(Debug, Clone, PartialEq)]
pub struct McpEditor {
    /// The server being edited; None when adding.
    pub previous: Option<McpServerRef>,
    pub name: String,
    pub scope: McpScope,
    pub project: String,
    pub transport: Transport,
    pub command: String,
    /// One argument per line.
    pub args: String,
    pub url: String,
    pub env: Vec<(String, String)>,
    pub headers: Vec<(String, String)>,
    /// Edit the entry as JSON instead (add from JSON).
    pub json_mode: bool,
    pub json: String,
    pub error: Option<String>,
}

impl McpEditor {
    pub fn new(project: String) -> Self {
        Self {
            previous: None,
            name: String::new(),
            scope: McpScope::Local,
            project,
            transport: Transport::Stdio,
            command: String::new(),
            args: String::new(),
            url: String::new(),
            env: Vec::new(),
            headers: Vec::new(),
            json_mode: false,
            json: String::new(),
            error: None,
        }
    }

    pub fn edit(server: &McpServer, fallback_project: String) -> Self {
        Self {
            previous: Some(server.reference()),
            name: server.name.clone(),
            scope: server.scope,
            project: server
                .project
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or(fallback_project),
            transport: server.transport,
            command: server.command.clone().unwrap_or_default(),
            args: server.args.join("\n"),
            url: server.url.clone().unwrap_or_default(),
            env: server.env.clone(),
            headers: server.headers.clone(),
            json_mode: false,
            json: serde_json::to_string_pretty(&server.config).unwrap_or_default(),
            error: None,
        }
    }

    /// The entry to write, as `claude mcp add` (or, in JSON mode, `add-json`) would write it.
    pub fn config(&self) -> Result<serde_json::Value, NotJson> {
        if self.json_mode {
            return serde_json::from_str(&self.json).map_err(NotJson);
        }
        let pairs = |list: &[(String, String)]| -> Vec<(String, String)> {
            list.iter()
                .filter(|(k, _)| !k.trim().is_empty())
                .map(|(k, v)| (k.trim().to_owned(), v.clone()))
                .collect()
        };
        Ok(match self.transport {
            Transport::Stdio => {
                let args: Vec<String> = self
                    .args
                    .lines()
                    .map(str::trim)
                    .filter(|a| !a.is_empty())
                    .map(str::to_owned)
                    .collect();
                crate::domain::mcp::stdio_config(self.command.trim(), &args, &pairs(&self.env))
            }
            Transport::Http | Transport::Sse => {
                crate::domain::mcp::remote_config(self.transport, self.url.trim(), &pairs(&self.headers))
            }
        })
    }

    pub fn project_path(&self) -> Option<PathBuf> {
        (self.scope != McpScope::User && !self.project.trim().is_empty()).then(|| PathBuf::from(self.project.trim()))
    }
}

/// The editor's JSON entry does not parse.
#[derive(Debug, thiserror::Error)]
#[error("not valid JSON: {0}")]
pub struct NotJson(#[source] pub serde_json::Error);

/// The import dialog.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct McpImportDialog {
    pub path: String,
    pub scope: Option<McpScope>,
    pub pending: Option<RequestId>,
    pub source: Option<PathBuf>,
    pub entries: Vec<ImportEntry>,
    /// Which entries to import.
    pub chosen: Vec<bool>,
    pub error: Option<String>,
}

#[derive(Debug, Default)]
pub struct McpStore {
    pub servers: Requested<Vec<McpServer>>,
    pub statuses: HashMap<ServerKey, TestStatus>,
    tests: HashMap<RequestId, ServerKey>,
    pub revealed: HashSet<ServerKey>,
    pub expanded: HashSet<ServerKey>,
    pub editor: Option<McpEditor>,
    pub saving: Option<RequestId>,
    pub import: Option<McpImportDialog>,
    pub import_running: Option<RequestId>,
    pub export_path: String,
    pub exporting: Option<RequestId>,
    /// The project whose `.mcp.json` is read, and the default for new local and project servers.
    pub project: String,
    /// The list changed since the last load (a save, a removal).
    pub stale: bool,
    pub message: Option<String>,
}

impl McpStore {
    /// Marks a connection test as running.
    pub fn testing(&mut self, request_id: RequestId, key: ServerKey) {
        self.statuses.insert(key.clone(), TestStatus::Testing);
        self.tests.insert(request_id, key);
    }

    pub fn apply_output(&mut self, request_id: RequestId, output: &Reply) -> bool {
        match output {
            Reply::McpServers(list) => {
                if !self.servers.finish(request_id, list.clone()) {
                    return false;
                }
                let keys: HashSet<ServerKey> = list.iter().map(key_of).collect();
                self.statuses.retain(|k, _| keys.contains(k));
                true
            }
            Reply::McpTested(report) => match self.tests.remove(&request_id) {
                Some(key) => {
                    self.statuses.insert(key, TestStatus::Done(report.clone()));
                    true
                }
                None => false,
            },
            Reply::McpSaved(server) if self.saving == Some(request_id) => {
                self.saving = None;
                self.editor = None;
                self.stale = true;
                // The saved entry may have changed: its old status no longer says anything.
                self.statuses.remove(&key_of(server));
                self.message = Some(format!("Saved {} in the {} scope", server.name, server.scope));
                true
            }
            Reply::McpRemoved(target) if self.saving == Some(request_id) => {
                self.saving = None;
                self.stale = true;
                self.message = Some(format!("Removed {} from the {} scope", target.name, target.scope));
                true
            }
            Reply::McpImportPreview(ImportPreview { source, entries }) => match &mut self.import {
                Some(dialog) if dialog.pending == Some(request_id) => {
                    dialog.pending = None;
                    dialog.error = None;
                    dialog.source = Some(source.clone());
                    dialog.chosen = entries.iter().map(|e| e.problem.is_none() && !e.exists).collect();
                    dialog.entries = entries.clone();
                    true
                }
                _ => false,
            },
            Reply::McpImported(added) if self.import_running == Some(request_id) => {
                self.import_running = None;
                self.import = None;
                self.stale = true;
                self.message = Some(format!("Imported {} servers", added.len()));
                true
            }
            Reply::McpExported(Exported { path, count }) if self.exporting == Some(request_id) => {
                self.exporting = None;
                self.message = Some(format!("Exported {count} servers to {}", path.display()));
                true
            }
            _ => false,
        }
    }

    pub fn apply_failure(&mut self, request_id: RequestId, error: &str) -> bool {
        if self.servers.fail(request_id, error.to_owned()) {
            return true;
        }
        if let Some(key) = self.tests.remove(&request_id) {
            self.statuses.remove(&key);
            self.message = Some(error.to_owned());
            return true;
        }
        if self.saving == Some(request_id) {
            self.saving = None;
            match &mut self.editor {
                Some(editor) => editor.error = Some(error.to_owned()),
                None => self.message = Some(error.to_owned()),
            }
            return true;
        }
        if let Some(dialog) = &mut self.import
            && dialog.pending == Some(request_id)
        {
            dialog.pending = None;
            dialog.error = Some(error.to_owned());
            return true;
        }
        if self.import_running == Some(request_id) {
            self.import_running = None;
            match &mut self.import {
                Some(dialog) => dialog.error = Some(error.to_owned()),
                None => self.message = Some(error.to_owned()),
            }
            return true;
        }
        if self.exporting == Some(request_id) {
            self.exporting = None;
            self.message = Some(error.to_owned());
            return true;
        }
        false
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::domain::mcp::probe::ProbeFailure;

    fn server(name: &str) -> McpServer {
        McpServer::from_config(name, McpScope::User, None, &serde_json::json!({"command": "x"}))
    }

    fn report(ok: bool) -> ProbeReport {
        ProbeReport {
            name: "a".into(),
            ok,
            server_name: ok.then(|| "srv".into()),
            server_version: None,
            protocol_version: None,
            tools: Vec::new(),
            failure: (!ok).then(|| ProbeFailure::Connect { message: "no".into() }),
            elapsed_ms: 1,
        }
    }

    #[test]
    fn tests_land_on_their_server_and_stale_statuses_go() {
        let mut store = McpStore::default();
        store.servers.start(1);
        assert!(store.apply_output(1, &Reply::McpServers(vec![server("a"), server("b")])));
        store.testing(2, key_of(&server("a")));
        assert_eq!(store.statuses[&key_of(&server("a"))], TestStatus::Testing);
        assert!(store.apply_output(2, &Reply::McpTested(report(true))));
        assert!(matches!(&store.statuses[&key_of(&server("a"))], TestStatus::Done(r) if r.ok));
        assert!(
            !store.apply_output(2, &Reply::McpTested(report(false))),
            "answered once"
        );
        store.servers.start(3);
        store.apply_output(3, &Reply::McpServers(vec![server("b")]));
        assert!(store.statuses.is_empty(), "a removed server's status goes with it");
    }

    #[test]
    fn the_form_writes_what_claude_mcp_add_writes() {
        let mut editor = McpEditor::new("/p".into());
        editor.command = "node".into();
        editor.args = "a.js\n--x\n".into();
        editor.env = vec![("K".into(), "v".into()), (" ".into(), "ignored".into())];
        assert_eq!(
            editor.config().unwrap(),
            serde_json::json!({"type":"stdio","command":"node","args":["a.js","--x"],"env":{"K":"v"}})
        );
        editor.transport = Transport::Http;
        editor.url = "http://h/mcp".into();
        assert_eq!(
            editor.config().unwrap(),
            serde_json::json!({"type":"http","url":"http://h/mcp"})
        );
        editor.json_mode = true;
        editor.json = "{".into();
        assert!(editor.config().is_err());
    }
}
