//! Everything the backend tells the front ends, as one enum: the design's events plus
//! command completions and errors.

use std::sync::Arc;

use crate::domain::agents::table::AgentRun;
use crate::domain::claude::run::RunOutcome;
use crate::domain::claude::stream::StreamMessage;
use crate::domain::process::{RunId, RunKind};

use crate::backend::command::RequestId;
use crate::domain::db::console::WriteRisk;

pub use super::routes::{Output, Replies};

/// Structured facts about a failure that a screen can act on.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum ErrorDetail {
    #[default]
    None,
    /// SQLite located the error at this byte offset of the statement.
    SqlOffset(usize),
    /// The statement would write and writes were not allowed.
    WriteRefused(WriteRisk),
    /// The request was cancelled.
    Cancelled,
    /// The file changed on disk since it was read: its text now (None: it was deleted).
    ChangedOnDisk(Option<String>),
}

/// What the backend sends to the window (and, line by line, to the CLI).
#[derive(Debug, Clone)]
pub enum Event {
    /// A line of Claude's stream-json output from a chat run (`claude-output:{session_id}`); the
    /// session id is known from the run's `init` line on.
    ClaudeOutput {
        run_id: RunId,
        session_id: Option<String>,
        message: Arc<StreamMessage>,
        /// The line as the CLI wrote it (for `anyon chat --json` and copying as JSONL).
        raw: Arc<str>,
    },
    /// A line of output from an agent run (`agent-output:{run_id}`).
    AgentOutput {
        run_id: RunId,
        session_id: Option<String>,
        message: Arc<StreamMessage>,
        raw: Arc<str>,
    },
    /// An error from an agent run (`agent-error:{run_id}`).
    AgentError { run_id: RunId, message: String },
    /// An agent run's history row changed (started running, ended).
    AgentRunUpdated { run: AgentRun },
    /// A chat or agent process ended.
    RunFinished { kind: RunKind, outcome: RunOutcome },
    /// A checkpoint was written (`checkpoint-created`).
    CheckpointCreated {
        checkpoint_id: String,
        session_id: String,
        project_path: String,
    },
    /// The transcript index changed: projects, sessions and all-time usage as they now are.
    HistoryUpdated(Arc<crate::domain::transcripts::catalog::Catalog>),
    /// A transcript scan is reading files.
    HistoryProgress(crate::domain::transcripts::index::Progress),
    /// A command finished and produced `output`.
    Completed {
        request_id: RequestId,
        command: &'static str,
        output: Output,
    },
    /// A command failed; `error` is written for the person, `detail` is for the screen to act on.
    Failed {
        request_id: RequestId,
        command: &'static str,
        error: String,
        detail: ErrorDetail,
    },
    /// The number of live Claude and agent processes changed.
    ProcessCount { running: usize },
    /// The signed-in person's picture, fetched after the profile.
    AccountPicture {
        url: String,
        image: std::sync::Arc<crate::domain::signin::client::Picture>,
    },
}

impl From<crate::domain::claude::run::RunEvent> for Event {
    fn from(event: crate::domain::claude::run::RunEvent) -> Self {
        use crate::domain::claude::run::RunEvent;
        match event {
            RunEvent::Output {
                run_id,
                kind: RunKind::Chat,
                session_id,
                message,
                raw,
            } => Event::ClaudeOutput {
                run_id,
                session_id,
                message,
                raw,
            },
            RunEvent::Output {
                run_id,
                kind: RunKind::Agent,
                session_id,
                message,
                raw,
            } => Event::AgentOutput {
                run_id,
                session_id,
                message,
                raw,
            },
            RunEvent::Finished { kind, outcome } => Event::RunFinished { kind, outcome },
        }
    }
}
