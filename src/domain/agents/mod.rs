//! Agents: reusable Claude setups (a name, an icon, a system prompt, a default task, a model, a
//! permission mode and the tools it may use), their validation, and their file formats.
//!
//! - [`table`]: the `agents` and `agent_runs` tables; [`requests`]: what can be asked of agents.
//! - [`files`]: ANYON's versioned export format, and import from older agent files.

pub mod files;
pub mod requests;
pub mod table;
pub mod trust;

use serde::{Deserialize, Serialize};

pub use crate::domain::claude::permission::PermissionMode;
use serde_json::{Map, Value};

/// The icons an agent may have: a key stored in the database and the glyph drawn for it.
pub const ICONS: [(&str, &str); 12] = [
    ("bot", "🛠"),
    ("code", "⌨"),
    ("search", "🔍"),
    ("shield", "🛡"),
    ("bug", "🐛"),
    ("book", "📖"),
    ("rocket", "🚀"),
    ("sparkles", "✨"),
    ("terminal", "🖥"),
    ("chart", "📊"),
    ("globe", "🌐"),
    ("lightning", "⚡"),
];

/// The glyph for an icon key (unknown keys get the default).
pub fn icon_glyph(key: &str) -> &'static str {
    ICONS
        .iter()
        .find(|(k, _)| *k == key)
        .map_or(ICONS[0].1, |(_, glyph)| glyph)
}

/// How the agent's system prompt combines with Claude's own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PromptMode {
    /// Added to Claude's system prompt (`--append-system-prompt`).
    #[default]
    Append,
    /// Instead of Claude's system prompt (`--system-prompt`).
    Replace,
}

impl PromptMode {
    pub fn key(self) -> &'static str {
        match self {
            PromptMode::Append => "append",
            PromptMode::Replace => "replace",
        }
    }

    pub fn from_key(key: &str) -> Self {
        if key == "replace" {
            PromptMode::Replace
        } else {
            PromptMode::Append
        }
    }
}

/// The fields a person edits. `hooks` and fields ANYON does not know are carried separately, so a
/// form that does not show them never loses them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentDraft {
    pub name: String,
    pub icon: String,
    pub system_prompt: String,
    #[serde(default)]
    pub prompt_mode: PromptMode,
    #[serde(default)]
    pub default_task: Option<String>,
    pub model: String,
    #[serde(default)]
    pub permission_mode: PermissionMode,
    #[serde(default)]
    pub allowed_tools: Vec<String>,
    #[serde(default)]
    pub disallowed_tools: Vec<String>,
}

impl Default for AgentDraft {
    fn default() -> Self {
        Self {
            name: String::new(),
            icon: "bot".into(),
            system_prompt: String::new(),
            prompt_mode: PromptMode::Append,
            default_task: None,
            model: "sonnet".into(),
            permission_mode: PermissionMode::Default,
            allowed_tools: Vec::new(),
            disallowed_tools: Vec::new(),
        }
    }
}

/// A stored agent.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Agent {
    pub id: i64,
    #[serde(flatten)]
    pub draft: AgentDraft,
    /// Claude's settings `hooks` object, when the agent has one.
    pub hooks: Option<Value>,
    /// Fields from imports or newer versions, kept verbatim.
    pub extra: Map<String, Value>,
    pub created_at: String,
    pub updated_at: String,
}

/// Why a draft cannot be saved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AgentError {
    #[error("the name is empty")]
    EmptyName,
    #[error("the name is longer than 80 characters")]
    NameTooLong,
    #[error("an agent named {0:?} already exists")]
    NameTaken(String),
    #[error("unknown icon {0:?}")]
    UnknownIcon(String),
    #[error("the model is empty")]
    EmptyModel,
    #[error("a tool rule is empty")]
    EmptyTool,
    /// A rule the CLI could read as one of its own flags (`--dangerously-skip-permissions`).
    #[error(
        "the tool rule {0:?} starts with '-': a rule names a tool (e.g. Read or Bash(git diff:*)), never a command-line flag"
    )]
    FlagLikeTool(String),
    #[error("no agent with id {0}")]
    NotFound(i64),
    #[error("no agent named {0:?}")]
    NotFoundByName(String),
}

impl AgentDraft {
    /// Trims what should be trimmed and checks every field.
    pub fn validated(mut self) -> Result<Self, AgentError> {
        self.name = self.name.trim().to_owned();
        self.model = self.model.trim().to_owned();
        self.default_task = self.default_task.map(|t| t.trim().to_owned()).filter(|t| !t.is_empty());
        let clean = |tools: Vec<String>| tools.into_iter().map(|t| t.trim().to_owned()).collect::<Vec<_>>();
        self.allowed_tools = clean(self.allowed_tools);
        self.disallowed_tools = clean(self.disallowed_tools);
        if self.name.is_empty() {
            return Err(AgentError::EmptyName);
        }
        if self.name.chars().count() > 80 {
            return Err(AgentError::NameTooLong);
        }
        if !ICONS.iter().any(|(key, _)| *key == self.icon) {
            return Err(AgentError::UnknownIcon(self.icon));
        }
        if self.model.is_empty() {
            return Err(AgentError::EmptyModel);
        }
        if self
            .allowed_tools
            .iter()
            .chain(&self.disallowed_tools)
            .any(String::is_empty)
        {
            return Err(AgentError::EmptyTool);
        }
        if let Some(flag) = self
            .allowed_tools
            .iter()
            .chain(&self.disallowed_tools)
            .find(|rule| rule.starts_with('-'))
        {
            return Err(AgentError::FlagLikeTool(flag.clone()));
        }
        Ok(self)
    }
}

/// Splits a text of tool rules (one per line, or separated by commas outside parentheses).
pub fn parse_tools(text: &str) -> Vec<String> {
    let mut tools = Vec::new();
    let mut current = String::new();
    let mut depth = 0u32;
    for c in text.chars() {
        match c {
            '(' => {
                depth += 1;
                current.push(c);
            }
            ')' => {
                depth = depth.saturating_sub(1);
                current.push(c);
            }
            ',' | '\n' if depth == 0 => tools.push(std::mem::take(&mut current)),
            _ => current.push(c),
        }
    }
    tools.push(current);
    tools
        .into_iter()
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty())
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn drafts_are_checked_and_trimmed() {
        let draft = AgentDraft {
            name: "  Reviewer ".into(),
            default_task: Some("  ".into()),
            ..AgentDraft::default()
        };
        let ok = draft.validated().unwrap();
        assert_eq!((ok.name.as_str(), ok.default_task), ("Reviewer", None));
        let bad = |draft: AgentDraft| draft.validated().unwrap_err();
        assert_eq!(bad(AgentDraft::default()), AgentError::EmptyName);
        let named = AgentDraft {
            name: "x".into(),
            ..AgentDraft::default()
        };
        assert_eq!(
            bad(AgentDraft {
                icon: "cat".into(),
                ..named.clone()
            }),
            AgentError::UnknownIcon("cat".into())
        );
        assert_eq!(
            bad(AgentDraft {
                model: " ".into(),
                ..named.clone()
            }),
            AgentError::EmptyModel
        );
        // A mode the CLI does not have cannot be part of a draft: reading one fails and names it.
        let mut json = serde_json::to_value(&named).unwrap();
        json["permission_mode"] = "yolo".into();
        let refused = serde_json::from_value::<AgentDraft>(json).unwrap_err().to_string();
        assert!(refused.contains("unknown permission mode \"yolo\""), "{refused}");
        assert_eq!(
            bad(AgentDraft {
                name: "n".repeat(81),
                ..named
            }),
            AgentError::NameTooLong
        );
    }

    #[test]
    fn rules_that_look_like_flags_are_refused() {
        let named = AgentDraft {
            name: "x".into(),
            ..AgentDraft::default()
        };
        for rule in ["--dangerously-skip-permissions", "-p", " --model=opus"] {
            let allowed = AgentDraft {
                allowed_tools: vec!["Read".into(), rule.into()],
                ..named.clone()
            };
            assert_eq!(
                allowed.validated().unwrap_err(),
                AgentError::FlagLikeTool(rule.trim().into())
            );
            let disallowed = AgentDraft {
                disallowed_tools: vec![rule.into()],
                ..named.clone()
            };
            let error = disallowed.validated().unwrap_err();
            assert!(error.to_string().contains("starts with '-'"), "{error}");
        }
        let fine = AgentDraft {
            allowed_tools: vec!["Bash(git diff --stat:*)".into()],
            ..named
        };
        assert!(fine.validated().is_ok(), "a '-' inside a rule is fine");
    }

    #[test]
    fn tool_rules_split_on_commas_outside_parentheses() {
        assert_eq!(
            parse_tools("Read, Bash(git diff:*, git log:*)\nWebFetch"),
            ["Read", "Bash(git diff:*, git log:*)", "WebFetch"]
        );
        assert!(parse_tools(" , \n").is_empty());
        assert_eq!(icon_glyph("nope"), ICONS[0].1);
    }
}
