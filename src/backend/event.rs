//! Everything the backend tells the front ends, as one enum: the design's events plus
//! command completions and errors.

use std::sync::Arc;

use serde::Serialize;

use crate::domain::agents::table::AgentRun;
use crate::domain::claude::run::RunOutcome;
use crate::domain::claude::stream::StreamMessage;
use crate::domain::process::{RunId, RunKind};

use crate::backend::command::RequestId;
use crate::domain::db::console::WriteRisk;

/// The typed result of a command that completed.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", content = "data", rename_all = "snake_case")]
pub enum Output {
    #[serde(untagged)]
    Settings(crate::domain::settings::requests::Reply),
    #[serde(untagged)]
    Checkpoints(crate::domain::checkpoint::requests::Reply),
    #[serde(untagged)]
    Mcp(crate::domain::mcp::requests::Reply),
    #[serde(untagged)]
    Transcripts(crate::domain::transcripts::requests::Reply),
    #[serde(untagged)]
    Console(crate::domain::db::console::requests::Reply),
    #[serde(untagged)]
    Claude(crate::domain::claude::requests::Reply),
    #[serde(untagged)]
    SignIn(crate::domain::signin::requests::Reply),
    #[serde(untagged)]
    Credentials(crate::domain::claude::credentials::requests::Reply),
    #[serde(untagged)]
    ClaudeConfig(crate::domain::claude_config::requests::Reply),
    #[serde(untagged)]
    Dropped(crate::domain::dropped::Reply),
    /// The agents domain's reply.
    #[serde(untagged)]
    Agents(crate::domain::agents::requests::Reply),
}

/// A domain's reply enum, as carried in [`Output`].
pub trait Replies: Sized {
    fn into_output(self) -> Output;
    fn from_output(output: Output) -> Option<Self>;
}

impl Replies for crate::domain::agents::requests::Reply {
    fn into_output(self) -> Output {
        Output::Agents(self)
    }
    fn from_output(output: Output) -> Option<Self> {
        match output {
            Output::Agents(reply) => Some(reply),
            _ => None,
        }
    }
}

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

impl Replies for crate::domain::settings::requests::Reply {
    fn into_output(self) -> Output {
        Output::Settings(self)
    }
    fn from_output(output: Output) -> Option<Self> {
        match output {
            Output::Settings(reply) => Some(reply),
            _ => None,
        }
    }
}

impl Replies for crate::domain::checkpoint::requests::Reply {
    fn into_output(self) -> Output {
        Output::Checkpoints(self)
    }
    fn from_output(output: Output) -> Option<Self> {
        match output {
            Output::Checkpoints(reply) => Some(reply),
            _ => None,
        }
    }
}

impl Replies for crate::domain::mcp::requests::Reply {
    fn into_output(self) -> Output {
        Output::Mcp(self)
    }
    fn from_output(output: Output) -> Option<Self> {
        match output {
            Output::Mcp(reply) => Some(reply),
            _ => None,
        }
    }
}

impl Replies for crate::domain::transcripts::requests::Reply {
    fn into_output(self) -> Output {
        Output::Transcripts(self)
    }
    fn from_output(output: Output) -> Option<Self> {
        match output {
            Output::Transcripts(reply) => Some(reply),
            _ => None,
        }
    }
}

impl Replies for crate::domain::db::console::requests::Reply {
    fn into_output(self) -> Output {
        Output::Console(self)
    }
    fn from_output(output: Output) -> Option<Self> {
        match output {
            Output::Console(reply) => Some(reply),
            _ => None,
        }
    }
}

impl Replies for crate::domain::claude::requests::Reply {
    fn into_output(self) -> Output {
        Output::Claude(self)
    }
    fn from_output(output: Output) -> Option<Self> {
        match output {
            Output::Claude(reply) => Some(reply),
            _ => None,
        }
    }
}

impl Replies for crate::domain::signin::requests::Reply {
    fn into_output(self) -> Output {
        Output::SignIn(self)
    }
    fn from_output(output: Output) -> Option<Self> {
        match output {
            Output::SignIn(reply) => Some(reply),
            _ => None,
        }
    }
}

impl Replies for crate::domain::claude::credentials::requests::Reply {
    fn into_output(self) -> Output {
        Output::Credentials(self)
    }
    fn from_output(output: Output) -> Option<Self> {
        match output {
            Output::Credentials(reply) => Some(reply),
            _ => None,
        }
    }
}

impl Replies for crate::domain::claude_config::requests::Reply {
    fn into_output(self) -> Output {
        Output::ClaudeConfig(self)
    }
    fn from_output(output: Output) -> Option<Self> {
        match output {
            Output::ClaudeConfig(reply) => Some(reply),
            _ => None,
        }
    }
}

impl Replies for crate::domain::dropped::Reply {
    fn into_output(self) -> Output {
        Output::Dropped(self)
    }
    fn from_output(output: Output) -> Option<Self> {
        match output {
            Output::Dropped(reply) => Some(reply),
            _ => None,
        }
    }
}
