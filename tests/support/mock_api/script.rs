//! What the mock answers: scripts of replies, picked from the conversation each request carries.
//!
//! A [`Script`] holds two lists of [`Reply`]: one for the main conversation and one for subagents. The reply for a
//! request is chosen by its *step*: how many assistant turns ending in `tool_use` the conversation holds since
//! the last assistant turn that did not (see [`step_of`]). The first request of a prompt is step 0; each
//! tool_result sent back moves one step on; a reply without tool_use ends the prompt, so the next prompt of the
//! same session starts again at step 0. Counting from the conversation rather than from a request counter keeps
//! the script right when the CLI makes extra calls or retries.

use std::time::Duration;

use serde_json::{Value, json};

/// One content block of a scripted assistant message.
#[derive(Clone, Debug)]
pub enum Block {
    /// Sent as one `text_delta`.
    Text(String),
    /// One text block sent as one `text_delta` per piece.
    TextChunks(Vec<String>),
    /// Sent as `thinking_delta`s followed by one `signature_delta`.
    Thinking(String),
    /// Sent as `input_json_delta`s; the id is made by the server (`toolu_mock_N`) so every call is unique.
    ToolUse { name: String, input: Value },
}

/// Token figures reported for every scripted message, so tests can check that the CLI carries them through.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Usage {
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cache_read_input_tokens: u64,
    pub cache_creation_5m_input_tokens: u64,
    pub cache_creation_1h_input_tokens: u64,
}

impl Usage {
    /// Distinct numbers so a mix-up between fields shows in assertions.
    pub const MOCK: Usage = Usage {
        input_tokens: 12,
        output_tokens: 34,
        cache_read_input_tokens: 200,
        cache_creation_5m_input_tokens: 60,
        cache_creation_1h_input_tokens: 40,
    };

    pub fn cache_creation_input_tokens(&self) -> u64 {
        self.cache_creation_5m_input_tokens + self.cache_creation_1h_input_tokens
    }

    /// The usage object as the API writes it; `output_tokens` is given because `message_start` reports 1.
    pub fn to_json(self, output_tokens: u64) -> Value {
        json!({
            "input_tokens": self.input_tokens,
            "output_tokens": output_tokens,
            "cache_read_input_tokens": self.cache_read_input_tokens,
            "cache_creation_input_tokens": self.cache_creation_input_tokens(),
            "cache_creation": {
                "ephemeral_5m_input_tokens": self.cache_creation_5m_input_tokens,
                "ephemeral_1h_input_tokens": self.cache_creation_1h_input_tokens,
            },
            "service_tier": "standard",
        })
    }
}

/// A scripted assistant message.
#[derive(Clone, Debug)]
pub struct Message {
    pub blocks: Vec<Block>,
    /// Pause before each delta event; zero sends the whole stream at once.
    pub delta_interval: Duration,
    pub usage: Usage,
}

impl Message {
    /// `tool_use` when a block calls a tool, as the API does; the CLI runs tools only then.
    pub fn stop_reason(&self) -> &'static str {
        if self.calls_tool() { "tool_use" } else { "end_turn" }
    }

    pub fn calls_tool(&self) -> bool {
        self.blocks.iter().any(|block| matches!(block, Block::ToolUse { .. }))
    }
}

/// An Anthropic-style error answer: status plus `{"type":"error","error":{"type","message"}}`.
#[derive(Clone, Debug)]
pub struct ApiError {
    pub status: u16,
    pub error_type: String,
    pub message: String,
}

impl ApiError {
    pub fn internal() -> Self {
        Self {
            status: 500,
            error_type: "api_error".into(),
            message: "Internal server error".into(),
        }
    }

    pub fn overloaded() -> Self {
        Self {
            status: 529,
            error_type: "overloaded_error".into(),
            message: "Overloaded".into(),
        }
    }

    pub fn invalid_request(message: impl Into<String>) -> Self {
        Self {
            status: 400,
            error_type: "invalid_request_error".into(),
            message: message.into(),
        }
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self {
            status: 404,
            error_type: "not_found_error".into(),
            message: message.into(),
        }
    }

    pub fn authentication() -> Self {
        Self {
            status: 401,
            error_type: "authentication_error".into(),
            message: "invalid x-api-key".into(),
        }
    }

    pub fn body(&self) -> Value {
        json!({"type": "error", "error": {"type": self.error_type, "message": self.message}})
    }
}

/// The answer to one request.
#[derive(Clone, Debug)]
pub enum Reply {
    Message(Message),
    Error(ApiError),
}

impl Reply {
    pub fn message(blocks: Vec<Block>) -> Self {
        Reply::Message(Message {
            blocks,
            delta_interval: Duration::ZERO,
            usage: Usage::MOCK,
        })
    }

    pub fn text(text: impl Into<String>) -> Self {
        Self::message(vec![Block::Text(text.into())])
    }

    pub fn tool_use(name: impl Into<String>, input: Value) -> Self {
        Self::message(vec![Block::ToolUse {
            name: name.into(),
            input,
        }])
    }

    /// Puts a thinking block in front of the message's blocks (no effect on errors).
    pub fn with_thinking(mut self, thinking: impl Into<String>) -> Self {
        if let Reply::Message(message) = &mut self {
            message.blocks.insert(0, Block::Thinking(thinking.into()));
        }
        self
    }

    /// Spaces every delta event by `interval`, for tests that cancel a turn mid-stream.
    pub fn slow(mut self, interval: Duration) -> Self {
        if let Reply::Message(message) = &mut self {
            message.delta_interval = interval;
        }
        self
    }

    /// One text block streamed as one `text_delta` per chunk.
    pub fn chunked_text(chunks: &[&str]) -> Self {
        Self::message(vec![Block::TextChunks(
            chunks.iter().map(|chunk| (*chunk).to_owned()).collect(),
        )])
    }
}

/// The text a reply that ran past the end of its script sends, so a test sees the overrun instead of hanging.
pub const SCRIPT_OVERRUN_TEXT: &str = "(mock: the script has no reply for this step)";

/// The text answered to side requests (no tools or not streamed, e.g. a title), never to the conversation.
pub const SIDE_ANSWER_TEXT: &str = "Mock title";

/// Replies for the main conversation and for subagents, by step.
#[derive(Clone, Debug, Default)]
pub struct Script {
    main: Vec<Reply>,
    subagent: Vec<Reply>,
    /// When set, only these `x-api-key`s are accepted (else 401 `authentication_error`); when empty, any.
    api_keys: Vec<String>,
    /// Extra headers on every Messages answer (`anthropic-ratelimit-unified-*`, ...).
    pub headers: Vec<(String, String)>,
}

impl Script {
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends the reply for the next main-conversation step.
    pub fn then(mut self, reply: Reply) -> Self {
        self.main.push(reply);
        self
    }

    /// Accepts only `keys` as `x-api-key` on every route but the reachability probe; others get a 401.
    pub fn accept_keys(mut self, keys: &[&str]) -> Self {
        self.api_keys = keys.iter().map(|key| (*key).to_owned()).collect();
        self
    }

    /// Sends `headers` with every Messages answer, as the API sends its rate-limit headers.
    pub fn with_headers(mut self, headers: &[(&str, &str)]) -> Self {
        self.headers = headers
            .iter()
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
            .collect();
        self
    }

    /// Whether a request carrying `key` passes the key check.
    pub fn accepts_key(&self, key: Option<&str>) -> bool {
        self.api_keys.is_empty() || key.is_some_and(|key| self.api_keys.iter().any(|k| k == key))
    }

    /// Appends the reply for the next subagent step (every subagent runs the same list).
    pub fn subagent_then(mut self, reply: Reply) -> Self {
        self.subagent.push(reply);
        self
    }

    /// (a) A plain text answer.
    pub fn text(text: &str) -> Self {
        Self::new().then(Reply::text(text))
    }

    /// (b) Thinking, then a Bash call of `command`; after the tool_result, `final_text`.
    pub fn bash(command: &str, final_text: &str) -> Self {
        Self::new()
            .then(
                Reply::tool_use(
                    "Bash",
                    json!({"command": command, "description": "Run a shell command"}),
                )
                .with_thinking("The person wants a command run; Bash does that."),
            )
            .then(Reply::text(final_text))
    }

    /// (c) A Write of a new file (asks for permission in default mode), then `final_text`.
    pub fn write_file(file_path: &str, content: &str, final_text: &str) -> Self {
        Self::new()
            .then(Reply::tool_use(
                "Write",
                json!({"file_path": file_path, "content": content}),
            ))
            .then(Reply::text(final_text))
    }

    /// (d) An `Agent` call (the API name of the tool the `init` line lists as `Task`) whose subagent runs
    /// `inner`'s main replies; then `final_text` in the main conversation.
    pub fn subagent(description: &str, prompt: &str, inner: Script, final_text: &str) -> Self {
        let mut script = Self::new()
            .then(Reply::tool_use(
                "Agent",
                json!({"description": description, "prompt": prompt, "subagent_type": "general-purpose"}),
            ))
            .then(Reply::text(final_text));
        script.subagent = inner.main;
        script
    }

    /// (e) Every request of the main conversation fails with `error`.
    pub fn error(error: ApiError) -> Self {
        Self::new().then(Reply::Error(error))
    }

    /// (f) Text sent as `chunks` text deltas, `interval` apart.
    pub fn slow_text(chunks: &[&str], interval: Duration) -> Self {
        Self::new().then(Reply::chunked_text(chunks).slow(interval))
    }

    /// The reply for `step` of the main conversation or of a subagent.
    pub fn reply(&self, subagent: bool, step: usize) -> Reply {
        let replies = if subagent { &self.subagent } else { &self.main };
        match replies.get(step) {
            Some(reply) => reply.clone(),
            // An error script keeps failing: a retry must not turn into a success.
            None => match replies.last() {
                Some(error @ Reply::Error(_)) => error.clone(),
                _ => Reply::text(SCRIPT_OVERRUN_TEXT),
            },
        }
    }
}

/// How many assistant turns that called a tool follow the last assistant turn that did not.
pub fn step_of(messages: &[Value]) -> usize {
    let mut step = 0;
    for message in messages.iter().filter(|message| message["role"] == "assistant") {
        let calls_tool = message["content"]
            .as_array()
            .is_some_and(|blocks| blocks.iter().any(|block| block["type"] == "tool_use"));
        step = if calls_tool { step + 1 } else { 0 };
    }
    step
}
