//! What can be asked of the agents domain, and what each request answers.

use std::path::PathBuf;

use serde::Serialize;

use super::files::{Conflict, ImportPreview, Imported};
use super::table::{AgentRun, RunStatus};
use super::trust::Trust;
use super::{Agent, AgentDraft};
use crate::domain::process::RunId;

/// The agents domain's answers (as JSON: `{"kind": "agents", "data": [...]}`).
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", content = "data", rename_all = "snake_case")]
#[allow(clippy::large_enum_variant, reason = "one reply a request, moved once")]
pub enum Reply {
    Agents(Vec<Agent>),
    Agent(Agent),
    AgentDeleted(Deleted),
    /// An agent run started: its history id and its process's run id.
    AgentRunStarted(RunStarted),
    AgentRuns(Vec<AgentRun>),
    /// An agent run's recorded stream-json lines.
    AgentRunOutput(RunOutput),
    AgentsExported(Exported),
    AgentImportPreview(Vec<ImportPreview>),
    AgentsImported(Vec<Imported>),
    /// The stop request reached the run.
    Delivered,
}

/// The agent deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Deleted {
    pub id: i64,
}

/// A started agent run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RunStarted {
    pub agent_run_id: i64,
    pub run_id: RunId,
    pub pid: u32,
}

/// The recorded output of an agent run, parsed.
#[derive(Debug, Clone, Serialize)]
pub struct RunOutput {
    pub agent_run_id: i64,
    pub lines: Vec<crate::domain::claude::stream::RecordedLine>,
}

/// Agents written to a file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Exported {
    pub path: PathBuf,
    pub count: usize,
}

crate::requests! {
    /// Every agent.
    ListAgents = "list_agents" => Agents(Vec<Agent>);
    /// Saves a new agent.
    CreateAgent { pub draft: AgentDraft } = "create_agent" => Agent(Agent);
    /// Saves an agent's edited fields (hooks and unknown fields are kept).
    UpdateAgent { pub id: i64, pub draft: AgentDraft } = "update_agent" => Agent(Agent);
    DuplicateAgent { pub id: i64 } = "duplicate_agent" => Agent(Agent);
    DeleteAgent { pub id: i64 } = "delete_agent" => AgentDeleted(Deleted);
    /// Runs an agent in a project. `interactive`: ask the window before tools (else what is not allowed
    /// is denied).
    ExecuteAgent {
        pub agent_id: i64,
        pub project_path: PathBuf,
        pub task: String,
        /// Another model for this run only.
        pub model: Option<String>,
        pub interactive: bool,
    } = "execute_agent" => AgentRunStarted(RunStarted);
    /// Stops an agent run (by its history id): interrupt, SIGTERM, then SIGKILL.
    KillAgentSession { pub agent_run_id: i64 } = "kill_agent_session" => Delivered;
    /// The run history, newest first.
    ListAgentRuns { pub agent_id: Option<i64>, pub status: Option<RunStatus> } = "list_agent_runs" => AgentRuns(Vec<AgentRun>);
    /// The recorded output of an agent run (its stream-json lines).
    ReadAgentRunOutput { pub agent_run_id: i64 } = "read_agent_run_output" => AgentRunOutput(RunOutput);
    /// Writes agents (all when `ids` is None) to a file in ANYON's format.
    ExportAgents { pub ids: Option<Vec<i64>>, pub path: PathBuf } = "export_agents" => AgentsExported(Exported);
    /// Reads an agent file and says which names are taken.
    PreviewAgentImport { pub path: PathBuf } = "preview_agent_import" => AgentImportPreview(Vec<ImportPreview>);
    /// Imports an agent file. A file whose agents carry hooks or a permission mode other than default,
    /// plan or acceptEdits that `trust` does not cover is refused (kind `untrusted`), naming each hook
    /// and mode.
    ImportAgents { pub path: PathBuf, pub conflict: Conflict, pub trust: Trust } = "import_agents" => AgentsImported(Vec<Imported>);
}
