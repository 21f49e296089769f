//! The Claude config screen's state: the settings of every scope, the slash commands, the forms, and a
//! save refused because the file changed on disk (offered for reload or to apply the edit on top).

use crate::domain::claude_config::requests::{Deleted, Reply};
use std::path::PathBuf;

use crate::backend::command::RequestId;
use crate::backend::event::ErrorDetail;
use crate::domain::claude::stream::SlashCommandInfo;
use crate::domain::claude_config::commands::{CommandScope, SlashCommand};
use crate::domain::claude_config::{ConfigSnapshot, SettingsEdit, SettingsScope, Version};

use super::Requested;

/// The screen's tabs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ConfigTab {
    #[default]
    Hooks,
    PermissionsEnv,
    Commands,
    Memory,
}

/// The new-hook form.
#[derive(Debug, Clone, PartialEq)]
pub struct HookForm {
    /// The hook being edited (scope, event, group, hook); None when adding.
    pub editing: Option<(SettingsScope, String, usize, usize)>,
    pub scope: SettingsScope,
    pub event: String,
    pub matcher: String,
    pub command: String,
    pub timeout: String,
}

impl Default for HookForm {
    fn default() -> Self {
        Self {
            editing: None,
            scope: SettingsScope::Project,
            event: "PreToolUse".into(),
            matcher: String::new(),
            command: String::new(),
            timeout: String::new(),
        }
    }
}

/// The add-rule / add-variable form of the permissions and env tab.
#[derive(Debug, Clone, PartialEq)]
pub struct EntryForm {
    pub scope: SettingsScope,
    /// `allow`, `deny`, `ask` or `additionalDirectories`.
    pub list: &'static str,
    pub rule: String,
    pub env_key: String,
    pub env_value: String,
    pub default_mode: String,
}

impl Default for EntryForm {
    fn default() -> Self {
        Self {
            scope: SettingsScope::Local,
            list: "allow",
            rule: String::new(),
            env_key: String::new(),
            env_value: String::new(),
            default_mode: String::new(),
        }
    }
}

/// A slash command being written.
#[derive(Debug, Clone, PartialEq)]
pub struct CommandEditor {
    pub scope: CommandScope,
    pub name: String,
    pub text: String,
    /// The version read (None: a new command).
    pub expected: Option<Version>,
}

/// An edit refused because its file changed since it was read.
#[derive(Debug, Clone, PartialEq)]
pub struct Conflict {
    pub scope: SettingsScope,
    pub edit: SettingsEdit,
    /// The file as it is now (None: deleted).
    pub theirs: Option<String>,
}

/// The `/` picker of the chat prompt box: the slash commands of the chat's project.
#[derive(Debug, Default)]
pub struct SlashPicker {
    pub commands: Requested<Vec<SlashCommand>>,
    /// The project the list was asked for.
    pub project: Option<String>,
    /// The highlighted entry among the matches.
    pub selected: usize,
}

/// One entry of the `/` picker: the command's name (without `/`) and what it does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlashRow {
    pub name: String,
    pub about: String,
}

impl SlashPicker {
    /// The commands matching what follows `/` in `input`, while the command name is being typed: the
    /// project's and the user's command files first, then what the CLI offers (built-ins and skills, from
    /// its answer to `initialize`) that no file already names.
    pub fn matches(&self, input: &str, offered: &[SlashCommandInfo]) -> Vec<SlashRow> {
        let Some(query) = input.strip_prefix('/').filter(|q| !q.contains(char::is_whitespace)) else {
            return Vec::new();
        };
        let query = query.to_lowercase();
        let mut found: Vec<SlashRow> = self
            .commands
            .value()
            .map(|list| {
                list.iter()
                    .filter(|c| c.name.to_lowercase().contains(&query))
                    .map(|c| SlashRow {
                        name: c.name.clone(),
                        about: format!(
                            "{} {}",
                            c.scope.as_str(),
                            c.description.clone().or(c.argument_hint.clone()).unwrap_or_default()
                        ),
                    })
                    .collect()
            })
            .unwrap_or_default();
        for command in offered {
            if command.name.to_lowercase().contains(&query) && !found.iter().any(|row| row.name == command.name) {
                let about = if command.description.is_empty() {
                    command.argument_hint.clone()
                } else {
                    command.description.clone()
                };
                found.push(SlashRow {
                    name: command.name.clone(),
                    about: format!("Claude Code {about}"),
                });
            }
        }
        // Names that start with the query first (the sort keeps each group's order).
        found.sort_by_key(|row| !row.name.to_lowercase().starts_with(&query));
        found
    }
}

#[derive(Debug, Default)]
pub struct ClaudeConfigStore {
    /// The chat prompt box's `/` picker.
    pub picker: SlashPicker,
    pub tab: ConfigTab,
    /// The project whose project and local settings and commands are shown.
    pub project: String,
    pub snapshot: Requested<std::sync::Arc<ConfigSnapshot>>,
    pub commands: Requested<Vec<SlashCommand>>,
    pub hook_form: HookForm,
    pub entry_form: EntryForm,
    pub command_editor: Option<CommandEditor>,
    /// The settings edit being saved, kept to retry it on top of a changed file.
    pub saving: Option<(RequestId, SettingsScope, SettingsEdit)>,
    pub saving_command: Option<RequestId>,
    pub conflict: Option<Conflict>,
    pub message: Option<String>,
    pub error: Option<String>,
    /// Something was written: read again.
    pub stale: bool,
}

impl ClaudeConfigStore {
    pub fn project_path(&self) -> Option<PathBuf> {
        let project = self.project.trim();
        (!project.is_empty()).then(|| PathBuf::from(project))
    }

    /// The version of `scope`'s file as last read.
    pub fn version(&self, scope: SettingsScope) -> Option<Version> {
        self.snapshot.value()?.file(scope).map(|f| f.version.clone())
    }

    pub fn apply_output(&mut self, request_id: RequestId, output: &Reply) -> bool {
        match output {
            Reply::ClaudeConfig(snapshot) => self.snapshot.finish(request_id, snapshot.clone()),
            Reply::SlashCommands(list) => {
                self.commands.finish(request_id, list.clone()) || self.picker.commands.finish(request_id, list.clone())
            }
            Reply::ClaudeSettingsSaved(view) if self.saving.as_ref().is_some_and(|s| s.0 == request_id) => {
                self.saving = None;
                self.conflict = None;
                self.error = None;
                self.stale = true;
                self.message = Some(format!("Saved {}", view.path.display()));
                true
            }
            Reply::SlashCommandSaved(command) if self.saving_command == Some(request_id) => {
                self.saving_command = None;
                self.command_editor = None;
                self.stale = true;
                self.message = Some(format!("Saved /{}", command.name));
                true
            }
            Reply::SlashCommandDeleted(Deleted { path }) if self.saving_command == Some(request_id) => {
                self.saving_command = None;
                self.stale = true;
                self.message = Some(format!("Deleted {}", path.display()));
                true
            }
            _ => false,
        }
    }

    pub fn apply_failure(&mut self, request_id: RequestId, error: &str, detail: &ErrorDetail) -> bool {
        if self.snapshot.fail(request_id, error.to_owned())
            || self.commands.fail(request_id, error.to_owned())
            || self.picker.commands.fail(request_id, error.to_owned())
        {
            return true;
        }
        if self.saving_command == Some(request_id) {
            self.saving_command = None;
            self.error = Some(error.to_owned());
            return true;
        }
        match self.saving.take() {
            Some((id, scope, edit)) if id == request_id => {
                match detail {
                    ErrorDetail::ChangedOnDisk(theirs) => {
                        self.conflict = Some(Conflict {
                            scope,
                            edit,
                            theirs: theirs.clone(),
                        })
                    }
                    _ => self.error = Some(error.to_owned()),
                }
                true
            }
            other => {
                self.saving = other;
                false
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use serde_json::json;

    fn edit() -> SettingsEdit {
        SettingsEdit::Set {
            key: "env.A".into(),
            value: Some(json!("1")),
        }
    }

    #[test]
    fn a_save_refused_for_a_changed_file_becomes_a_conflict_keeping_the_edit() {
        let mut store = ClaudeConfigStore {
            saving: Some((4, SettingsScope::User, edit())),
            ..Default::default()
        };
        assert!(!store.apply_failure(9, "other", &ErrorDetail::None), "not ours");
        assert!(store.saving.is_some());
        assert!(store.apply_failure(4, "changed", &ErrorDetail::ChangedOnDisk(Some("{}".into()))));
        assert_eq!(
            store.conflict,
            Some(Conflict {
                scope: SettingsScope::User,
                edit: edit(),
                theirs: Some("{}".into())
            })
        );
        assert!(store.error.is_none());

        store.saving = Some((5, SettingsScope::User, edit()));
        assert!(store.apply_failure(5, "not valid JSON", &ErrorDetail::None));
        assert_eq!(store.error.as_deref(), Some("not valid JSON"));
    }

    #[test]
    fn the_picker_matches_while_the_name_is_typed() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["review", "git:ship", "preview-docs"] {
            crate::domain::claude_config::commands::save(dir.path(), CommandScope::User, name, "x", None, false)
                .unwrap();
        }
        let list = crate::domain::claude_config::commands::list(dir.path(), CommandScope::User).unwrap();
        let mut picker = SlashPicker::default();
        picker.commands.start(1);
        let mut store = ClaudeConfigStore {
            picker,
            ..Default::default()
        };
        assert!(store.apply_output(1, &Reply::SlashCommands(list)));
        let offered = [
            SlashCommandInfo {
                name: "compact".into(),
                description: "Clear history but keep a summary".into(),
                ..Default::default()
            },
            SlashCommandInfo {
                name: "review".into(),
                description: "The CLI's own review".into(),
                ..Default::default()
            },
        ];
        let names = |input: &str, offered: &[SlashCommandInfo]| -> Vec<String> {
            store
                .picker
                .matches(input, offered)
                .into_iter()
                .map(|c| c.name)
                .collect()
        };
        assert_eq!(names("/rev", &[]), ["review", "preview-docs"], "prefix matches first");
        assert_eq!(names("/", &[]), ["git:ship", "preview-docs", "review"]);
        assert!(names("/review now", &[]).is_empty(), "arguments close the picker");
        assert!(names("review", &[]).is_empty());
        // What the CLI offers follows the files; a name a file already has is not listed twice.
        assert_eq!(names("/", &offered), ["git:ship", "preview-docs", "review", "compact"]);
        let rows = store.picker.matches("/comp", &offered);
        assert_eq!(rows.len(), 1);
        assert!(rows[0].about.contains("Clear history"), "{rows:?}");
    }

    #[test]
    fn a_save_clears_the_conflict_and_asks_for_a_fresh_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("settings.json");
        let file = crate::domain::claude_config::SettingsFile::edit(
            &path,
            crate::domain::claude_config::SettingsScope::Project,
            None,
            &edit(),
        )
        .unwrap();
        let view = crate::domain::claude_config::SettingsView::of(SettingsScope::User, &file);
        let mut store = ClaudeConfigStore {
            saving: Some((2, SettingsScope::User, edit())),
            conflict: Some(Conflict {
                scope: SettingsScope::User,
                edit: edit(),
                theirs: None,
            }),
            ..Default::default()
        };
        let output = Reply::ClaudeSettingsSaved(Box::new(view));
        assert!(!store.apply_output(3, &output));
        assert!(store.apply_output(2, &output));
        assert!(store.conflict.is_none() && store.saving.is_none() && store.stale);
    }
}
