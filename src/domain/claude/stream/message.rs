//! Conversation lines: `assistant` and `user` messages and their content blocks.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::lenient::{count, null_as_default, opt_count, opt_string};

/// An `assistant` line: one content block of a model response (several lines share one `message.id`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct AssistantMessage {
    /// The Anthropic message, with exactly one block in `content` on CLI 2.1.x.
    pub message: ApiMessage,
    /// Set when the line comes from a subagent: the `tool_use` id of the task that runs it.
    #[serde(default, deserialize_with = "opt_string")]
    pub parent_tool_use_id: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    pub session_id: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    pub uuid: Option<String>,
    /// Why the CLI made this message up instead of the model (`authentication_failed`, `server_error`,
    /// `rate_limit`, `overloaded`, `billing_error`, ...). Such messages have the model `<synthetic>`.
    #[serde(default, deserialize_with = "opt_string")]
    pub error: Option<String>,
    /// Fields this version of ANYON does not know, kept for the raw view.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl AssistantMessage {
    /// True when the CLI wrote this message itself (errors, "Not logged in"): it carries no cost.
    pub fn is_synthetic(&self) -> bool {
        self.message.model.as_deref() == Some("<synthetic>")
    }
}

/// The Anthropic Messages API object inside an `assistant` line.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ApiMessage {
    /// Shared by every line of one response; the key to group lines (and count usage once).
    #[serde(default, deserialize_with = "opt_string")]
    pub id: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    pub model: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub content: Vec<ContentBlock>,
    #[serde(default, deserialize_with = "opt_string")]
    pub stop_reason: Option<String>,
    /// A start-of-response snapshot on stream lines, not the final count: use the `result` line for totals.
    #[serde(default, deserialize_with = "null_as_default")]
    pub usage: Option<Usage>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A `user` line: a tool result, an interruption notice or a replayed local command.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct UserMessage {
    pub message: UserTurn,
    #[serde(default, deserialize_with = "opt_string")]
    pub parent_tool_use_id: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    pub session_id: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    pub uuid: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    pub timestamp: Option<String>,
    /// The tool's structured result (Bash: `{stdout, stderr, interrupted, ...}`; a denied tool: a string).
    #[serde(default)]
    pub tool_use_result: Option<Value>,
    /// True for lines the CLI echoes back (`set_model` prints `<local-command-stdout>` this way).
    #[serde(default, rename = "isReplay", deserialize_with = "null_as_default")]
    pub is_replay: bool,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl UserMessage {
    /// The tool results this line carries (usually one).
    pub fn tool_results(&self) -> impl Iterator<Item = ToolResult<'_>> {
        self.message.content.blocks().iter().filter_map(|block| match block {
            ContentBlock::ToolResult {
                tool_use_id,
                content,
                is_error,
            } => Some(ToolResult {
                tool_use_id,
                content,
                is_error: *is_error,
            }),
            _ => None,
        })
    }
}

/// A borrowed view of one `tool_result` block.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ToolResult<'a> {
    pub tool_use_id: &'a str,
    pub content: &'a ToolResultContent,
    pub is_error: bool,
}

/// The `message` of a `user` line.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct UserTurn {
    #[serde(default, deserialize_with = "null_as_default")]
    pub content: UserContent,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// User content is either a plain string or a list of blocks.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum UserContent {
    Text(String),
    Blocks(Vec<ContentBlock>),
}

impl Default for UserContent {
    fn default() -> Self {
        Self::Blocks(Vec::new())
    }
}

impl UserContent {
    /// The blocks, or none for plain text.
    pub fn blocks(&self) -> &[ContentBlock] {
        match self {
            Self::Text(_) => &[],
            Self::Blocks(blocks) => blocks,
        }
    }

    /// The text of the content: the string itself or its text blocks joined by newlines.
    pub fn text(&self) -> String {
        match self {
            Self::Text(text) => text.clone(),
            Self::Blocks(blocks) => join_text(blocks),
        }
    }
}

/// One block of message content. Unknown block types are kept whole.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ContentBlock {
    Text {
        text: String,
    },
    Thinking {
        thinking: String,
        #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "opt_string")]
        signature: Option<String>,
    },
    ToolUse {
        id: String,
        name: String,
        #[serde(default)]
        input: Value,
    },
    ToolResult {
        tool_use_id: String,
        #[serde(default, deserialize_with = "null_as_default")]
        content: ToolResultContent,
        /// Absent on successes of some tools (Write), so it defaults to false.
        #[serde(default, deserialize_with = "null_as_default")]
        is_error: bool,
    },
    Image {
        source: Value,
    },
    /// A block type this version does not know (`redacted_thinking`, `server_tool_use`, ...), as written.
    #[serde(untagged)]
    Unknown(Value),
}

/// What a tool returned: a string, or blocks (text and images).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(untagged)]
pub enum ToolResultContent {
    Text(String),
    Blocks(Vec<ContentBlock>),
}

impl Default for ToolResultContent {
    fn default() -> Self {
        Self::Text(String::new())
    }
}

impl ToolResultContent {
    /// The text of the result: the string itself or its text blocks joined by newlines.
    pub fn text(&self) -> String {
        match self {
            Self::Text(text) => text.clone(),
            Self::Blocks(blocks) => join_text(blocks),
        }
    }
}

fn join_text(blocks: &[ContentBlock]) -> String {
    let texts: Vec<&str> = blocks
        .iter()
        .filter_map(|block| match block {
            ContentBlock::Text { text } => Some(text.as_str()),
            _ => None,
        })
        .collect();
    texts.join("\n")
}

/// Token counts as the API reports them.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct Usage {
    #[serde(default, deserialize_with = "count")]
    pub input_tokens: u64,
    #[serde(default, deserialize_with = "count")]
    pub output_tokens: u64,
    #[serde(default, deserialize_with = "count")]
    pub cache_creation_input_tokens: u64,
    #[serde(default, deserialize_with = "count")]
    pub cache_read_input_tokens: u64,
    /// The 5-minute / 1-hour split of cache writes, when the API gives it (they are priced differently).
    #[serde(default, deserialize_with = "null_as_default")]
    pub cache_creation: Option<CacheCreation>,
    #[serde(default, deserialize_with = "opt_string")]
    pub service_tier: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    pub speed: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Cache writes by lifetime.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
pub struct CacheCreation {
    #[serde(default, deserialize_with = "opt_count")]
    pub ephemeral_5m_input_tokens: Option<u64>,
    #[serde(default, deserialize_with = "opt_count")]
    pub ephemeral_1h_input_tokens: Option<u64>,
}
