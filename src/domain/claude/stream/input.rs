//! What ANYON writes to the CLI's stdin with `--input-format stream-json`: one JSON object per line.

use serde::Serialize;
use serde_json::Value;

use super::control::{CanUseTool, OutgoingRequest, OutgoingResponse, PermissionDecision};

/// One line for the CLI's stdin.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum OutgoingMessage {
    /// A prompt: each one runs a turn.
    User { message: UserInput },
    /// A request to the CLI; its answer comes back as a `control_response` with the same id.
    ControlRequest {
        request_id: String,
        request: OutgoingRequest,
    },
    /// An answer to a request from the CLI.
    ControlResponse { response: OutgoingResponse },
}

impl OutgoingMessage {
    /// A plain text prompt.
    pub fn user_text(text: impl Into<String>) -> Self {
        Self::User {
            message: UserInput::new(UserInputContent::Text(text.into())),
        }
    }

    /// A prompt made of blocks (text and images).
    pub fn user_blocks(blocks: Vec<InputBlock>) -> Self {
        Self::User {
            message: UserInput::new(UserInputContent::Blocks(blocks)),
        }
    }

    /// `initialize`: asks for the session's commands and models.
    pub fn initialize(request_id: impl Into<String>) -> Self {
        Self::control_request(request_id, OutgoingRequest::Initialize { hooks: None })
    }

    /// `interrupt`: stops the running turn.
    pub fn interrupt(request_id: impl Into<String>) -> Self {
        Self::control_request(request_id, OutgoingRequest::Interrupt)
    }

    /// Any control request.
    pub fn control_request(request_id: impl Into<String>, request: OutgoingRequest) -> Self {
        Self::ControlRequest {
            request_id: request_id.into(),
            request,
        }
    }

    /// Allows one tool call, once, with the input the CLI asked about.
    pub fn allow_once(request_id: impl Into<String>, request: &CanUseTool) -> Self {
        Self::decision(
            request_id,
            PermissionDecision::Allow {
                updated_input: request.input.clone(),
                updated_permissions: Vec::new(),
            },
        )
    }

    /// Allows the call and saves the CLI's suggested rule so it is not asked again
    /// (see [`CanUseTool::allow_always_updates`] for which suggestions are sent).
    pub fn allow_always(request_id: impl Into<String>, request: &CanUseTool) -> Self {
        Self::decision(
            request_id,
            PermissionDecision::Allow {
                updated_input: request.input.clone(),
                updated_permissions: request.allow_always_updates(),
            },
        )
    }

    /// Allows the call and the same kind of call for the rest of this session, without saving anything
    /// (see [`CanUseTool::allow_for_session_updates`]).
    pub fn allow_for_session(request_id: impl Into<String>, request: &CanUseTool) -> Self {
        Self::decision(
            request_id,
            PermissionDecision::Allow {
                updated_input: request.input.clone(),
                updated_permissions: request.allow_for_session_updates(),
            },
        )
    }

    /// Approves Claude's plan (`ExitPlanMode`): the session leaves plan mode for `mode`.
    pub fn approve_plan(
        request_id: impl Into<String>,
        request: &CanUseTool,
        mode: crate::domain::claude::permission::PermissionMode,
    ) -> Self {
        Self::decision(
            request_id,
            PermissionDecision::Allow {
                updated_input: request.input.clone(),
                updated_permissions: vec![super::PermissionUpdate::SetMode {
                    mode: mode.as_str().to_owned(),
                    destination: "session".to_owned(),
                    extra: serde_json::Map::new(),
                }],
            },
        )
    }

    /// Refuses the call; the model sees `message`.
    pub fn deny(request_id: impl Into<String>, message: impl Into<String>) -> Self {
        Self::decision(
            request_id,
            PermissionDecision::Deny {
                message: message.into(),
            },
        )
    }

    /// Answers a `can_use_tool` request.
    pub fn decision(request_id: impl Into<String>, decision: PermissionDecision) -> Self {
        Self::ControlResponse {
            response: OutgoingResponse::Success {
                request_id: request_id.into(),
                response: decision,
            },
        }
    }

    /// Refuses a request from the CLI that ANYON does not handle.
    pub fn error_response(request_id: impl Into<String>, error: impl Into<String>) -> Self {
        Self::ControlResponse {
            response: OutgoingResponse::Error {
                request_id: request_id.into(),
                error: error.into(),
            },
        }
    }

    /// The message as one line, newline included, ready for stdin.
    pub fn to_line(&self) -> Result<String, serde_json::Error> {
        let mut line = serde_json::to_string(self)?;
        line.push('\n');
        Ok(line)
    }
}

/// The `message` of a prompt line.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UserInput {
    role: &'static str,
    pub content: UserInputContent,
}

impl UserInput {
    fn new(content: UserInputContent) -> Self {
        Self { role: "user", content }
    }
}

/// A prompt's content: plain text is sent as a string, anything with images as blocks.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum UserInputContent {
    Text(String),
    Blocks(Vec<InputBlock>),
}

/// One block of a prompt.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum InputBlock {
    Text {
        text: String,
    },
    Image {
        source: ImageSource,
    },
    /// Any other block, written as given.
    #[serde(untagged)]
    Raw(Value),
}

impl InputBlock {
    /// A text block.
    pub fn text(text: impl Into<String>) -> Self {
        Self::Text { text: text.into() }
    }

    /// An image from its file bytes; `media_type` is `image/png`, `image/jpeg`, `image/gif` or `image/webp`.
    pub fn image(media_type: impl Into<String>, bytes: &[u8]) -> Self {
        Self::Image {
            source: ImageSource::Base64 {
                media_type: media_type.into(),
                data: base64_encode(bytes),
            },
        }
    }
}

/// Where an image's bytes come from.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ImageSource {
    /// The bytes inline, base64 encoded (standard alphabet, padded).
    Base64 { media_type: String, data: String },
}

/// Standard base64 with padding (RFC 4648 §4), as the Messages API expects for images.
fn base64_encode(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn images_are_sent_as_padded_standard_base64() {
        assert_eq!(base64_encode(b"fo"), "Zm8=");
        assert_eq!(base64_encode(&[0xff, 0xfe, 0xfd]), "//79");
    }
}
