//! The control protocol that shares stdin/stdout with the conversation (`--input-format stream-json`).
//!
//! The CLI asks ANYON before running a tool (`can_use_tool`, with `--permission-prompt-tool stdio`) and
//! answers ANYON's own requests (`initialize`, `interrupt`, `set_permission_mode`, `set_model`). Requests
//! and responses are matched by `request_id`.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::lenient::{null_as_default, opt_string};

/// A `control_request` line from the CLI.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ControlRequest {
    /// Echo this id in the answer.
    pub request_id: String,
    pub request: IncomingRequest,
}

/// What the CLI asks, by `subtype`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "subtype", rename_all = "snake_case")]
pub enum IncomingRequest {
    /// May this tool run with this input?
    CanUseTool(Box<CanUseTool>),
    /// A request this version does not know, as written (without `subtype`); answer it with an error so the
    /// CLI does not wait forever.
    #[serde(untagged)]
    Unknown(Value),
}

/// `can_use_tool`: the CLI waits for an allow or deny before running the tool.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct CanUseTool {
    pub tool_name: String,
    /// The tool's name for people (equal to `tool_name` for built-in tools on 2.1.197).
    #[serde(default, deserialize_with = "opt_string")]
    pub display_name: Option<String>,
    /// The input the model asked for; send it back (possibly edited) as `updatedInput` to allow.
    #[serde(default)]
    pub input: Value,
    /// A short description (the Bash `description`, the file name for Write, ...).
    #[serde(default, deserialize_with = "opt_string")]
    pub description: Option<String>,
    /// What "allow always" could save, as the CLI proposes it.
    #[serde(default, deserialize_with = "null_as_default")]
    pub permission_suggestions: Vec<PermissionUpdate>,
    #[serde(default, deserialize_with = "opt_string")]
    pub tool_use_id: Option<String>,
    /// The path outside the allowed directories that triggered the question, if that was the reason.
    #[serde(default, deserialize_with = "opt_string")]
    pub blocked_path: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl CanUseTool {
    /// The updates to send for "allow always".
    ///
    /// The CLI's suggestions can mix a rule for this exact call with broader changes (adding the project
    /// directory, switching the session to `acceptEdits`): sending them all switches the whole session's
    /// mode. So "always" means the rule suggestions when there are any; only when the CLI offers no rule
    /// (file edits, whose only suggestion is `setMode acceptEdits` for the session) are all suggestions used.
    /// A `localSettings` rule is written to `<project>/.claude/settings.local.json`, but the CLI ignores it
    /// (and asks again) while the project has not been trusted in an interactive session.
    pub fn allow_always_updates(&self) -> Vec<PermissionUpdate> {
        let rules: Vec<PermissionUpdate> = self
            .permission_suggestions
            .iter()
            .filter(|update| matches!(update, PermissionUpdate::AddRules { .. }))
            .cloned()
            .collect();
        if rules.is_empty() {
            self.permission_suggestions.clone()
        } else {
            rules
        }
    }

    /// The "allow always" updates, kept to this session: nothing is written to settings files, and the CLI
    /// honours them even in a project that was never trusted.
    pub fn allow_for_session_updates(&self) -> Vec<PermissionUpdate> {
        self.allow_always_updates()
            .into_iter()
            .map(|mut update| {
                match &mut update {
                    PermissionUpdate::AddRules { destination, .. }
                    | PermissionUpdate::SetMode { destination, .. }
                    | PermissionUpdate::AddDirectories { destination, .. } => *destination = "session".to_owned(),
                    PermissionUpdate::Unknown(value) => {
                        if let Some(object) = value.as_object_mut() {
                            object.insert("destination".to_owned(), Value::from("session"));
                        }
                    }
                }
                update
            })
            .collect()
    }
}

/// A change to permission settings, as the CLI suggests it and as ANYON sends it back in
/// `updatedPermissions`. Unknown kinds and fields are kept so a suggestion goes back exactly as it came.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum PermissionUpdate {
    /// Allow (or deny/ask) rules such as `Bash(touch x)`.
    AddRules {
        #[serde(default)]
        rules: Vec<PermissionRule>,
        /// `allow`, `deny` or `ask`.
        #[serde(default)]
        behavior: String,
        /// `localSettings` (`<project>/.claude/settings.local.json`), `projectSettings`, `userSettings`,
        /// `session`, ...
        #[serde(default)]
        destination: String,
        #[serde(flatten)]
        extra: Map<String, Value>,
    },
    /// Switches the permission mode (`acceptEdits`, `plan`, ...).
    SetMode {
        #[serde(default)]
        mode: String,
        #[serde(default)]
        destination: String,
        #[serde(flatten)]
        extra: Map<String, Value>,
    },
    /// Adds working directories the tools may touch.
    AddDirectories {
        #[serde(default)]
        directories: Vec<String>,
        #[serde(default)]
        destination: String,
        #[serde(flatten)]
        extra: Map<String, Value>,
    },
    /// Any other kind (`replaceRules`, `removeRules`, `removeDirectories`, future ones), as written.
    #[serde(untagged)]
    Unknown(Value),
}

impl PermissionUpdate {
    /// A short description for the person: `Bash(touch x)`, `mode acceptEdits`, `folder /x`.
    pub fn describe(&self) -> String {
        match self {
            PermissionUpdate::AddRules { rules, .. } => rules
                .iter()
                .map(|rule| match &rule.rule_content {
                    Some(content) => format!("{}({content})", rule.tool_name),
                    None => rule.tool_name.clone(),
                })
                .collect::<Vec<_>>()
                .join(", "),
            PermissionUpdate::SetMode { mode, .. } => format!("mode {mode}"),
            PermissionUpdate::AddDirectories { directories, .. } => format!("folders {}", directories.join(", ")),
            PermissionUpdate::Unknown(value) => value
                .get("type")
                .and_then(Value::as_str)
                .unwrap_or("a change")
                .to_owned(),
        }
    }
}

/// One permission rule: a tool, optionally narrowed (`Bash` + `touch made_by_tool.txt`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct PermissionRule {
    #[serde(rename = "toolName")]
    pub tool_name: String,
    #[serde(rename = "ruleContent", default, skip_serializing_if = "Option::is_none")]
    pub rule_content: Option<String>,
}

/// A `control_response` line from the CLI, answering one of ANYON's requests.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ControlResponse {
    pub response: ResponseBody,
}

impl ControlResponse {
    /// The id of the request this answers.
    pub fn request_id(&self) -> Option<&str> {
        match &self.response {
            ResponseBody::Success { request_id, .. } | ResponseBody::Error { request_id, .. } => Some(request_id),
            ResponseBody::Unknown(value) => value.get("request_id").and_then(Value::as_str),
        }
    }

    /// The answer to `initialize`, typed; `None` for other answers.
    pub fn initialize(&self) -> Option<InitializeResponse> {
        match &self.response {
            ResponseBody::Success {
                response: Some(value), ..
            } if value.get("commands").is_some() || value.get("models").is_some() => {
                InitializeResponse::deserialize(value).ok()
            }
            _ => None,
        }
    }
}

/// The body of a `control_response`, by `subtype`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "subtype", rename_all = "snake_case")]
pub enum ResponseBody {
    /// The request worked. `interrupt` and `set_model` carry no `response`; `set_permission_mode` answers
    /// `{mode}`; `initialize` answers with commands, models, agents and the account.
    Success {
        request_id: String,
        #[serde(default)]
        response: Option<Value>,
    },
    /// The request failed (`Unsupported control request subtype: ...`).
    Error {
        request_id: String,
        #[serde(default)]
        error: String,
    },
    #[serde(untagged)]
    Unknown(Value),
}

/// What `initialize` tells ANYON about the session's options.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct InitializeResponse {
    #[serde(default, deserialize_with = "null_as_default")]
    pub commands: Vec<SlashCommandInfo>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub models: Vec<ModelInfo>,
    #[serde(default, deserialize_with = "opt_string")]
    pub output_style: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub available_output_styles: Vec<String>,
    /// `{tokenSource, apiKeySource, apiProvider}` on 2.1.197.
    #[serde(default)]
    pub account: Option<Value>,
    /// The CLI's process id.
    #[serde(default)]
    pub pid: Option<u32>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A slash command or skill the session offers.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct SlashCommandInfo {
    #[serde(default, deserialize_with = "null_as_default")]
    pub name: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub description: String,
    #[serde(default, rename = "argumentHint", deserialize_with = "null_as_default")]
    pub argument_hint: String,
}

/// A model choice the session offers.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct ModelInfo {
    /// What to pass to `--model` or `set_model` (`default`, `opus[1m]`, `sonnet`, ...).
    #[serde(default, deserialize_with = "null_as_default")]
    pub value: String,
    #[serde(default, rename = "resolvedModel", deserialize_with = "opt_string")]
    pub resolved_model: Option<String>,
    #[serde(default, rename = "displayName", deserialize_with = "null_as_default")]
    pub display_name: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub description: String,
}

/// A request ANYON sends to the CLI.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "subtype", rename_all = "snake_case")]
pub enum OutgoingRequest {
    /// Starts the control session; the answer lists commands and models. `hooks` is sent as `null`.
    Initialize { hooks: Option<Value> },
    /// Stops the running turn; it ends with a `result` of `error_during_execution`, and the process stays
    /// usable for the next prompt.
    Interrupt,
    /// Changes the permission mode for the rest of the session.
    SetPermissionMode { mode: String },
    /// Changes the model for the following turns (`None` returns to the default).
    SetModel { model: Option<String> },
}

/// ANYON's answer to a `can_use_tool` request.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "behavior", rename_all = "snake_case")]
pub enum PermissionDecision {
    /// Run the tool with `updated_input` (the request's input, possibly edited), and save
    /// `updated_permissions` ("allow always"; empty for a one-time allow).
    Allow {
        #[serde(rename = "updatedInput")]
        updated_input: Value,
        #[serde(rename = "updatedPermissions", skip_serializing_if = "Vec::is_empty")]
        updated_permissions: Vec<PermissionUpdate>,
    },
    /// Do not run the tool; the model sees `message` as the tool's error result.
    Deny { message: String },
}

/// The body of a `control_response` ANYON sends.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "subtype", rename_all = "snake_case")]
pub enum OutgoingResponse {
    Success {
        request_id: String,
        response: PermissionDecision,
    },
    /// Refuses a request ANYON does not understand, so the CLI stops waiting for it.
    Error { request_id: String, error: String },
}
