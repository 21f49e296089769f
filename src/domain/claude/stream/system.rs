//! `system` lines: session start (`init`), retries, subagent tasks and informational notices.

use serde::Deserialize;
use serde_json::{Map, Value};

use super::lenient::{count, null_as_default, opt_count, opt_f64, opt_string};

/// A `system` line, by `subtype`. Subtypes this version does not know are kept whole.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "subtype", rename_all = "snake_case")]
pub enum SystemMessage {
    /// The first line of every turn.
    Init(Box<InitInfo>),
    /// The CLI is waiting before retrying a failed API call.
    ApiRetry(ApiRetry),
    /// A subagent task started.
    TaskStarted(TaskInfo),
    /// A subagent task reports progress.
    TaskProgress(TaskInfo),
    /// A subagent task finished or changed state.
    TaskNotification(TaskInfo),
    /// The conversation was compacted here.
    CompactBoundary(CompactBoundary),
    /// The session's status or permission mode changed.
    Status(StatusInfo),
    /// A running estimate of thinking tokens.
    ThinkingTokens(ThinkingTokens),
    /// A subtype this version does not know, as written (without the `type` field).
    #[serde(untagged)]
    Unknown(Value),
}

/// `system`/`init`: what the session runs with.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct InitInfo {
    #[serde(default, deserialize_with = "opt_string")]
    pub session_id: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    pub cwd: Option<String>,
    /// The resolved model, possibly with a context suffix (`claude-opus-4-8[1m]`).
    #[serde(default, deserialize_with = "opt_string")]
    pub model: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub tools: Vec<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub mcp_servers: Vec<McpServerStatus>,
    #[serde(default, rename = "permissionMode", deserialize_with = "opt_string")]
    pub permission_mode: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub slash_commands: Vec<String>,
    #[serde(default, deserialize_with = "opt_string")]
    pub claude_code_version: Option<String>,
    /// Where the credentials come from (`ANTHROPIC_API_KEY`, `none`, ...).
    #[serde(default, rename = "apiKeySource", deserialize_with = "opt_string")]
    pub api_key_source: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    pub output_style: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub agents: Vec<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub skills: Vec<String>,
    #[serde(default, deserialize_with = "opt_string")]
    pub uuid: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One MCP server as the session sees it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct McpServerStatus {
    #[serde(default, deserialize_with = "null_as_default")]
    pub name: String,
    /// `connected`, `failed`, `pending`, `needs-auth`, ...
    #[serde(default, deserialize_with = "null_as_default")]
    pub status: String,
}

/// `system`/`api_retry`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct ApiRetry {
    #[serde(default, deserialize_with = "count")]
    pub attempt: u64,
    #[serde(default, deserialize_with = "count")]
    pub max_retries: u64,
    /// A float on CLI 2.1.197 (`613.75`).
    #[serde(default, deserialize_with = "opt_f64")]
    pub retry_delay_ms: Option<f64>,
    /// The HTTP status that failed (529, 500, ...), absent for connection errors.
    #[serde(default, deserialize_with = "opt_count")]
    pub error_status: Option<u64>,
    /// A short name for the failure (`overloaded`, ...).
    #[serde(default, deserialize_with = "opt_string")]
    pub error: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    pub session_id: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `system`/`task_started`, `task_progress`, `task_notification`: a subagent's lifecycle.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct TaskInfo {
    #[serde(default, deserialize_with = "opt_string")]
    pub task_id: Option<String>,
    /// The `tool_use` id of the Task/Agent call that started the subagent.
    #[serde(default, deserialize_with = "opt_string")]
    pub tool_use_id: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    pub description: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    pub status: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    pub session_id: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `system`/`compact_boundary`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct CompactBoundary {
    /// `{trigger: "manual"|"auto", pre_tokens}` on current versions.
    #[serde(default)]
    pub compact_metadata: Option<Value>,
    #[serde(default, deserialize_with = "opt_string")]
    pub session_id: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `system`/`status`: `status` is `requesting` while a request is in flight and `null` otherwise; a
/// `permissionMode` appears when the mode changed (for example after a `setMode` permission update).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct StatusInfo {
    #[serde(default, deserialize_with = "opt_string")]
    pub status: Option<String>,
    #[serde(default, rename = "permissionMode", deserialize_with = "opt_string")]
    pub permission_mode: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    pub session_id: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `system`/`thinking_tokens`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct ThinkingTokens {
    #[serde(default, deserialize_with = "count")]
    pub estimated_tokens: u64,
    #[serde(default, deserialize_with = "count")]
    pub estimated_tokens_delta: u64,
    #[serde(default, deserialize_with = "opt_string")]
    pub session_id: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}
