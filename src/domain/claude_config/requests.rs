//! What can be asked of Claude's own configuration (settings scopes, slash commands, memory files), and
//! what each request answers.

use std::path::PathBuf;
use std::sync::Arc;

use serde::Serialize;

use super::commands::{CommandScope, SlashCommand};
use super::memory::{MemoryDoc, MemoryFile};
use super::{ConfigSnapshot, SettingsEdit, SettingsScope, SettingsView, Version};

/// The configuration's answers (as JSON: `{"kind": "slash_commands", "data": [...]}`).
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", content = "data", rename_all = "snake_case")]
pub enum Reply {
    /// Claude's settings files and what they add up to.
    ClaudeConfig(Arc<ConfigSnapshot>),
    /// A settings file as written.
    ClaudeSettingsSaved(Box<SettingsView>),
    SlashCommands(Vec<SlashCommand>),
    SlashCommandSaved(Box<SlashCommand>),
    SlashCommandDeleted(Deleted),
    MemoryFiles(Vec<MemoryFile>),
    MemoryDoc(MemoryDoc),
    MemorySaved(MemoryDoc),
}

/// The file a deleted slash command was in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Deleted {
    pub path: PathBuf,
}

crate::requests! {
    /// Claude's settings of every scope (`project`: also that folder's project and local files) and
    /// their effective merge.
    ClaudeConfigRead { pub project: Option<PathBuf> } = "claude_config_read" => ClaudeConfig(Arc<ConfigSnapshot>);
    /// Changes one settings file; refused when it is no longer the `expected` version (when given).
    ClaudeConfigEdit {
        pub scope: SettingsScope,
        pub project: Option<PathBuf>,
        pub edit: SettingsEdit,
        pub expected: Option<Version>,
    } = "claude_config_edit", ordered => ClaudeSettingsSaved(Box<SettingsView>);
    /// The slash commands of the user and (with `project`) of that project.
    SlashCommandsList { pub project: Option<PathBuf> } = "slash_commands_list" => SlashCommands(Vec<SlashCommand>);
    /// Creates (`expected` None) or rewrites a slash command file with `text`.
    SlashCommandSave {
        pub scope: CommandScope,
        pub project: Option<PathBuf>,
        pub name: String,
        pub text: String,
        pub expected: Option<Version>,
        pub overwrite: bool,
    } = "slash_command_save", ordered => SlashCommandSaved(Box<SlashCommand>);
    SlashCommandDelete {
        pub scope: CommandScope,
        pub project: Option<PathBuf>,
        pub name: String,
    } = "slash_command_delete", ordered => SlashCommandDeleted(Deleted);
    /// The memory files (`CLAUDE.md`) of the user and, with `project`, of that project.
    MemoryList { pub project: Option<PathBuf> } = "memory_list" => MemoryFiles(Vec<MemoryFile>);
    MemoryRead { pub path: PathBuf } = "memory_read" => MemoryDoc(MemoryDoc);
    /// Writes a memory file; refused when it is no longer the `expected` version (when given).
    MemorySave { pub path: PathBuf, pub text: String, pub expected: Option<Version> } = "memory_save", ordered => MemorySaved(MemoryDoc);
}
