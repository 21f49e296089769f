//! Typed reading of the CLI's `--output-format stream-json --verbose` stdout, and the lines ANYON writes
//! back with `--input-format stream-json`.
//!
//! Every stdout line is one JSON object tagged by `type`. The CLI adds types, subtypes, block types and
//! fields with every release, so nothing here fails on what it does not know: unknown types, subtypes and
//! blocks come back as `Unknown(serde_json::Value)` holding the line as written, and unknown fields land in
//! each struct's `extra` map. Only lines that are not JSON objects at all are [`ParsedLine::Garbage`] (a
//! child's stray print, a half-written line), which the caller counts and skips.

mod control;
mod input;
mod lenient;
mod message;
mod rate_limit;
mod result;
mod system;
#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests;

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

pub use control::{
    CanUseTool, ControlRequest, ControlResponse, IncomingRequest, InitializeResponse, ModelInfo, OutgoingRequest,
    OutgoingResponse, PermissionDecision, PermissionRule, PermissionUpdate, ResponseBody, SlashCommandInfo,
};
pub use input::{ImageSource, InputBlock, OutgoingMessage, UserInput, UserInputContent};
pub use message::{
    ApiMessage, AssistantMessage, CacheCreation, ContentBlock, ToolResult, ToolResultContent, Usage, UserContent,
    UserMessage, UserTurn,
};
pub use rate_limit::{RateLimitEvent, RateLimitInfo};
pub use result::{ModelUsage, PermissionDenial, ResultMessage, ResultSubtype};
pub use system::{
    ApiRetry, CompactBoundary, InitInfo, McpServerStatus, StatusInfo, SystemMessage, TaskInfo, ThinkingTokens,
};

use lenient::opt_string;

/// How much of a garbage line to keep for the log: enough to recognise it, bounded for huge lines.
const GARBAGE_EXCERPT_CHARS: usize = 200;

/// One stdout line of the CLI, by `type`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum StreamMessage {
    System(SystemMessage),
    Assistant(Box<AssistantMessage>),
    User(Box<UserMessage>),
    /// The last line of a turn.
    Result(Box<ResultMessage>),
    /// A raw API streaming event (only with `--include-partial-messages`).
    StreamEvent(StreamEvent),
    /// The CLI asks ANYON something (tool permission).
    ControlRequest(ControlRequest),
    /// The CLI answers one of ANYON's requests.
    ControlResponse(ControlResponse),
    /// The subscription's usage-limit state changed.
    RateLimitEvent(Box<RateLimitEvent>),
    /// A type this version does not know, or a known type whose shape did not fit, as written.
    #[serde(untagged)]
    Unknown(Value),
}

impl StreamMessage {
    /// Reads an already parsed JSON value; never fails (what does not fit is [`StreamMessage::Unknown`]).
    pub fn from_value(value: Value) -> Self {
        // Deserializing from a reference leaves `value` intact for the fallback.
        match Self::deserialize(&value) {
            Ok(message) => message,
            Err(error) => {
                tracing::debug!(%error, "stream line did not fit its type; kept as unknown");
                Self::Unknown(value)
            }
        }
    }

    /// The session this line belongs to, when the line says.
    pub fn session_id(&self) -> Option<&str> {
        match self {
            Self::System(SystemMessage::Init(init)) => init.session_id.as_deref(),
            Self::System(SystemMessage::ApiRetry(retry)) => retry.session_id.as_deref(),
            Self::System(
                SystemMessage::TaskStarted(task)
                | SystemMessage::TaskProgress(task)
                | SystemMessage::TaskNotification(task),
            ) => task.session_id.as_deref(),
            Self::System(SystemMessage::CompactBoundary(compact)) => compact.session_id.as_deref(),
            Self::System(SystemMessage::Status(status)) => status.session_id.as_deref(),
            Self::System(SystemMessage::ThinkingTokens(thinking)) => thinking.session_id.as_deref(),
            Self::System(SystemMessage::Unknown(value)) | Self::Unknown(value) => {
                value.get("session_id").and_then(Value::as_str)
            }
            Self::Assistant(assistant) => assistant.session_id.as_deref(),
            Self::User(user) => user.session_id.as_deref(),
            Self::Result(result) => result.session_id.as_deref(),
            Self::StreamEvent(event) => event.session_id.as_deref(),
            Self::RateLimitEvent(event) => event.session_id.as_deref(),
            Self::ControlRequest(_) | Self::ControlResponse(_) => None,
        }
    }
}

/// `stream_event`: one raw SSE event of the API response, for live token-by-token display.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct StreamEvent {
    /// The API event (`message_start`, `content_block_delta`, ...), as sent.
    #[serde(default)]
    pub event: Value,
    #[serde(default, deserialize_with = "opt_string")]
    pub session_id: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    pub parent_tool_use_id: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl StreamEvent {
    /// The API event's own type (`content_block_delta`, ...).
    pub fn event_type(&self) -> Option<&str> {
        self.event.get("type").and_then(Value::as_str)
    }

    /// New text of a `text_delta`.
    pub fn text_delta(&self) -> Option<&str> {
        self.delta_field("text_delta", "text")
    }

    /// New thinking of a `thinking_delta`.
    pub fn thinking_delta(&self) -> Option<&str> {
        self.delta_field("thinking_delta", "thinking")
    }

    fn delta_field(&self, delta_type: &str, field: &str) -> Option<&str> {
        if self.event_type() != Some("content_block_delta") {
            return None;
        }
        let delta = self.event.get("delta")?;
        if delta.get("type").and_then(Value::as_str) != Some(delta_type) {
            return None;
        }
        delta.get(field).and_then(Value::as_str)
    }
}

/// What one stdout line turned out to be.
#[derive(Debug, Clone, PartialEq)]
pub enum ParsedLine {
    /// A JSON object: a known or unknown message.
    Message(StreamMessage),
    /// An empty or whitespace-only line.
    Blank,
    /// Not a JSON object: count it and go on.
    Garbage(GarbageLine),
}

/// A line that is not a JSON object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GarbageLine {
    /// Why it was rejected (the JSON error, or "not a JSON object").
    pub reason: String,
    /// The start of the line, for the log.
    pub excerpt: String,
}

/// Reads one stdout line. Never panics, never fails: see [`ParsedLine`].
pub fn parse_line(line: &str) -> ParsedLine {
    let trimmed = line.trim();
    if trimmed.is_empty() {
        return ParsedLine::Blank;
    }
    let garbage = |reason: String| {
        ParsedLine::Garbage(GarbageLine {
            reason,
            excerpt: trimmed.chars().take(GARBAGE_EXCERPT_CHARS).collect(),
        })
    };
    match serde_json::from_str::<Value>(trimmed) {
        Ok(value @ Value::Object(_)) => ParsedLine::Message(StreamMessage::from_value(value)),
        Ok(_) => garbage("not a JSON object".to_owned()),
        Err(error) => garbage(error.to_string()),
    }
}

/// A message of recorded stream-json output (an agent run read back), parsed, with the line it came
/// from (kept for copying as JSONL). Serialized as that line.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedLine {
    pub message: StreamMessage,
    pub raw: Arc<str>,
}

impl Serialize for RecordedLine {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.raw)
    }
}

/// Reads recorded stream-json output: its first `max_lines` lines, keeping the messages (blank lines
/// and garbage are skipped, as a run's reader skips them).
pub fn parse_recorded(text: &str, max_lines: usize) -> Vec<RecordedLine> {
    text.lines()
        .take(max_lines)
        .filter_map(|line| match parse_line(line) {
            ParsedLine::Message(message) => Some(RecordedLine {
                message,
                raw: Arc::from(line),
            }),
            ParsedLine::Blank | ParsedLine::Garbage(_) => None,
        })
        .collect()
}
