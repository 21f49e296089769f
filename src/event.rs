//! Everything the backend tells the front ends, as one enum: the design's events plus
//! command completions and errors.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::command::RequestId;
use crate::db::storage::{QueryResult, TableInfo, TablePage, TableSchema, WriteRisk};

/// The typed result of a command that completed.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", content = "data", rename_all = "snake_case")]
pub enum Output {
    Tables(Vec<TableInfo>),
    Query(QueryResult),
    Schema(TableSchema),
    Page(TablePage),
    /// A row edit ran (or, for a dry run, would run) this statement.
    RowChanged {
        statement: String,
        dry_run: bool,
    },
    /// A cancel request reached a running query (false: it had already finished).
    Cancelled {
        request_id: RequestId,
        found: bool,
    },
    Exported {
        path: std::path::PathBuf,
        rows: u64,
    },
    SqlHistory(Vec<String>),
    Settings(BTreeMap<String, String>),
    SettingSaved {
        key: String,
        value: String,
    },
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
}

/// What the backend sends to the window (and, line by line, to the CLI).
#[derive(Debug, Clone)]
pub enum Event {
    /// A line of Claude's stream-json output for one chat session (`claude-output:{session_id}`).
    ClaudeOutput {
        session_id: String,
        line: serde_json::Value,
    },
    /// A line of output from an agent run (`agent-output:{run_id}`).
    AgentOutput { run_id: i64, line: serde_json::Value },
    /// An error from an agent run (`agent-error:{run_id}`).
    AgentError { run_id: i64, message: String },
    /// A checkpoint was written (`checkpoint-created`).
    CheckpointCreated {
        checkpoint_id: String,
        session_id: String,
        project_path: String,
    },
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
    /// Another `anyon` started and handed over its arguments.
    InstanceArgs { args: Vec<String> },
}
