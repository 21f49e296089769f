//! What can be asked of the MCP domain, and what each request answers.

use std::path::PathBuf;

use serde::Serialize;

use super::import::ImportEntry;
use super::probe::ProbeReport;
use super::{McpImportSource, McpScope, McpServer, McpServerRef, McpServerSpec};

/// The MCP domain's answers (as JSON: `{"kind": "mcp_servers", "data": [...]}`).
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", content = "data", rename_all = "snake_case")]
pub enum Reply {
    McpServers(Vec<McpServer>),
    McpSaved(McpServer),
    McpRemoved(McpServerRef),
    McpTested(ProbeReport),
    McpImportPreview(ImportPreview),
    McpImported(Vec<McpServer>),
    McpExported(Exported),
}

/// What an import would add.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ImportPreview {
    /// The file read.
    pub source: PathBuf,
    pub entries: Vec<ImportEntry>,
}

/// Servers written to a file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Exported {
    pub path: PathBuf,
    pub count: usize,
}

crate::requests! {
    /// Every MCP server of every scope (`project`: also read that folder's `.mcp.json`).
    McpList { pub project: Option<PathBuf> } = "mcp_list" => McpServers(Vec<McpServer>);
    McpAdd { pub spec: McpServerSpec } = "mcp_add", ordered => McpSaved(McpServer);
    /// Replaces one server (rename and change of scope included).
    McpUpdate { pub previous: McpServerRef, pub spec: McpServerSpec } = "mcp_update", ordered => McpSaved(McpServer);
    McpRemove { pub server: McpServerRef } = "mcp_remove", ordered => McpRemoved(McpServerRef);
    /// A real handshake with one server.
    McpTestConnection {
        pub name: String,
        pub config: serde_json::Value,
        /// Where a stdio server runs.
        pub project_path: Option<PathBuf>,
        pub timeout: std::time::Duration,
    } = "mcp_test_connection" => McpTested(ProbeReport);
    /// What an import would add to `scope`, before anything is written.
    McpImportPreview {
        pub source: McpImportSource,
        pub scope: McpScope,
        pub project_path: Option<PathBuf>,
    } = "mcp_import_preview" => McpImportPreview(ImportPreview);
    /// Adds each server (as previewed, perhaps renamed).
    McpImport { pub servers: Vec<McpServerSpec> } = "mcp_import", ordered => McpImported(Vec<McpServer>);
    /// Writes `{"mcpServers":{...}}` with the given servers (all when empty).
    McpExport {
        pub path: PathBuf,
        pub servers: Vec<McpServerRef>,
        pub project: Option<PathBuf>,
    } = "mcp_export" => McpExported(Exported);
}
