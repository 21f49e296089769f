//! Claude's own configuration (settings of three scopes, slash commands), on the blocking pool.

use std::path::{Path, PathBuf};

use super::{Backend, BackendError};
use crate::domain::claude_config::commands::{self, CommandScope, SlashCommand};
use crate::domain::claude_config::memory;
use crate::domain::claude_config::requests::{
    ClaudeConfigEdit, ClaudeConfigRead, Deleted, MemoryList, MemoryRead, MemorySave, Reply, Request,
    SlashCommandDelete, SlashCommandSave, SlashCommandsList,
};
use crate::domain::claude_config::{ConfigError, ConfigSnapshot, SettingsFile, SettingsView, settings_path};
use crate::util::request::Ask;
use crate::util::sync::RwLockExt;

impl Backend {
    /// Reads and writes Claude's user settings, commands and memory in this folder instead of
    /// `$CLAUDE_CONFIG_DIR` or `~/.claude` (tests).
    pub fn set_claude_config_dir(&self, path: PathBuf) {
        *self.inner.claude_config_dir.write_or_recover() = Some(path);
    }

    pub(crate) fn claude_config_dir(&self) -> Result<PathBuf, ConfigError> {
        let dir = self.inner.claude_config_dir.read_or_recover().clone();
        dir.ok_or(ConfigError::NoHome)
    }

    pub(super) async fn claude_config(&self, request: Request) -> Result<Reply, BackendError> {
        let config_dir = self.claude_config_dir()?;
        tokio::task::spawn_blocking(move || config_blocking(&config_dir, request).map_err(BackendError::from)).await?
    }
}

fn config_blocking(config_dir: &Path, request: Request) -> Result<Reply, ConfigError> {
    match request {
        Request::ClaudeConfigRead(ClaudeConfigRead { project }) => Ok(ClaudeConfigRead::wrap(std::sync::Arc::new(
            ConfigSnapshot::load(config_dir, project.as_deref())?,
        ))),
        Request::ClaudeConfigEdit(ClaudeConfigEdit {
            scope,
            project,
            edit,
            expected,
        }) => {
            let path = settings_path(config_dir, project.as_deref(), scope)?;
            let file = SettingsFile::edit(&path, scope, expected.as_ref(), &edit)?;
            Ok(ClaudeConfigEdit::wrap(Box::new(SettingsView::of(scope, &file))))
        }
        Request::SlashCommandsList(SlashCommandsList { project }) => {
            let mut all = commands::list(
                &commands::commands_dir(config_dir, None, CommandScope::User)?,
                CommandScope::User,
            )?;
            if let Some(project) = project.as_deref() {
                let dir = commands::commands_dir(config_dir, Some(project), CommandScope::Project)?;
                all.extend(commands::list(&dir, CommandScope::Project)?);
            }
            Ok(SlashCommandsList::wrap(all))
        }
        Request::SlashCommandSave(SlashCommandSave {
            scope,
            project,
            name,
            text,
            expected,
            overwrite,
        }) => {
            let dir = commands::commands_dir(config_dir, project.as_deref(), scope)?;
            let saved: SlashCommand = commands::save(&dir, scope, &name, &text, expected.as_ref(), overwrite)?;
            Ok(SlashCommandSave::wrap(Box::new(saved)))
        }
        Request::SlashCommandDelete(SlashCommandDelete { scope, project, name }) => {
            let dir = commands::commands_dir(config_dir, project.as_deref(), scope)?;
            Ok(SlashCommandDelete::wrap(Deleted {
                path: commands::delete(&dir, &name)?,
            }))
        }
        Request::MemoryList(MemoryList { project }) => {
            Ok(MemoryList::wrap(memory::list(config_dir, project.as_deref())))
        }
        Request::MemoryRead(MemoryRead { path }) => Ok(MemoryRead::wrap(memory::read(&path)?)),
        Request::MemorySave(MemorySave { path, text, expected }) => {
            Ok(MemorySave::wrap(memory::save(&path, &text, expected.as_ref())?))
        }
    }
}
