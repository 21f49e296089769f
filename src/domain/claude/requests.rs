//! What can be asked of the Claude domain (chat runs, permission answers, processes, installations),
//! and what each request answers.

use std::path::PathBuf;
use std::sync::Arc;

use serde::Serialize;

use super::discovery::Discovery;
use super::permission::PermissionMode;
use super::run::PermissionAnswer;
use crate::domain::process::{ProcessInfo, RunId};

/// One chat turn to run.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ClaudeRunRequest {
    pub project_path: PathBuf,
    pub prompt: String,
    /// Pasted or dropped images: (media type, bytes).
    pub images: Vec<(String, Vec<u8>)>,
    /// An alias (`sonnet`), a full id, or empty for Claude's default.
    pub model: String,
    /// None for Claude's default.
    pub permission_mode: Option<PermissionMode>,
    /// Added to Claude's system prompt; empty for none.
    pub append_system_prompt: String,
    /// Continue this session (`--resume`); None starts a new one.
    pub resume_session: Option<String>,
    /// With `resume_session`: branch off it as a new session (`--fork-session`).
    pub fork_session: bool,
    /// More folders the tools may work in (`--add-dir`).
    pub add_dirs: Vec<PathBuf>,
    /// Stop the turn once it has cost this many dollars (`--max-budget-usd`).
    pub max_budget_usd: Option<f64>,
    /// The model to fall back to when the chosen one is overloaded (`--fallback-model`); empty for none.
    pub fallback_model: String,
    /// The output style for this turn (Claude Code's `outputStyle` setting); empty for the configured one.
    pub output_style: String,
}

/// The Claude domain's answers (as JSON: `{"kind": "run_started", "data": {...}}`).
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", content = "data", rename_all = "snake_case")]
pub enum Reply {
    /// A chat run started.
    RunStarted(RunStart),
    /// A cancel or permission answer was delivered.
    Delivered,
    Processes(Vec<ProcessInfo>),
    /// The Claude installations found, and which one runs.
    Installations(Arc<Discovery>),
}

/// A started chat run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RunStart {
    pub run_id: RunId,
    pub pid: u32,
}

crate::requests! {
    /// Starts a chat turn (a new session unless `run.resume_session` names one).
    ExecuteClaudeCode { pub run: ClaudeRunRequest } = "execute_claude_code" => RunStarted(RunStart);
    /// Continues the project's latest session (or the one named).
    ContinueClaudeCode { pub run: ClaudeRunRequest } = "continue_claude_code" => RunStarted(RunStart);
    /// Stops a chat run: interrupt, then SIGTERM, then SIGKILL after the grace period.
    CancelClaudeExecution { pub run_id: RunId } = "cancel_claude_execution" => Delivered;
    /// Answers a run's permission prompt.
    ClaudeRespondPermission {
        pub run_id: RunId,
        pub request_id: String,
        pub answer: PermissionAnswer,
    } = "claude_respond_permission" => Delivered;
    /// Every live Claude and agent process.
    ListProcesses = "list_processes" => Processes(Vec<ProcessInfo>);
    /// Stops any registered process by its run id (interrupt, SIGTERM, SIGKILL).
    KillProcess { pub run_id: RunId } = "kill_process" => Delivered;
    /// Finds the Claude installations (again, with `refresh`).
    ClaudeFindInstallations { pub refresh: bool } = "claude_find_installations", ordered => Installations(Arc<Discovery>);
    /// Saves the `claude` binary to use (empty: search again) and finds the installations anew.
    ClaudeUseBinary { pub path: String } = "claude_use_binary" => Installations(Arc<Discovery>);
}
