//! What can be asked about Claude's credentials (the API key ANYON keeps), and what each request answers.

use serde::Serialize;

use super::{ClaudeAuthReport, SavedKey};
use crate::domain::secrets::Secret;

/// The credentials' answers (as JSON: `{"kind": "claude_auth", "data": {...}}`).
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", content = "data", rename_all = "snake_case")]
pub enum Reply {
    /// How Claude is authenticated.
    ClaudeAuth(Box<ClaudeAuthReport>),
    ApiKeySaved(KeySaved),
    ApiKeyRemoved(KeyRemoved),
}

/// The API key was saved (masked) there; `verified`: the API accepted it first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeySaved {
    pub key: SavedKey,
    pub verified: bool,
}

/// The saved API key was removed (`removed`: there was one).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct KeyRemoved {
    pub removed: bool,
}

crate::requests! {
    /// How Claude is authenticated: every source and its state.
    ClaudeAuthCheck = "claude_auth_check" => ClaudeAuth(Box<ClaudeAuthReport>);
    /// Checks an Anthropic API key's form, optionally asks the API whether it is accepted, then keeps it in
    /// the secrets store; every Claude process ANYON starts gets it as `ANTHROPIC_API_KEY`.
    ClaudeAuthSaveApiKey {
        pub api_key: Secret,
        /// Ask the API (`GET /v1/models`) before saving.
        pub verify: bool,
        /// The API to ask; None: `ANTHROPIC_BASE_URL`, else Anthropic's.
        pub base_url: Option<String>,
    } = "claude_auth_save_api_key", ordered => ApiKeySaved(KeySaved);
    /// Forgets the saved API key.
    ClaudeAuthRemoveApiKey = "claude_auth_remove_api_key", ordered => ApiKeyRemoved(KeyRemoved);
}
