//! State stores fed by backend events.
//!
//! Each store's `apply` is a pure function of the event, so it is unit-tested without a window.
//! The window drains events into [`Stores::apply`] once per frame.

mod account;
mod agents;
mod attachments;
mod chat;
mod checkpoints;
mod claude_config;
mod credentials;
pub mod environment;
pub mod handover;
mod mcp;
mod memory;
pub mod mentions;
pub mod nav;
mod notices;
pub mod palette;
mod requested;
mod session_list;
mod settings;
mod storage;
mod transcripts;

pub use account::AccountStore;
pub use agents::{AgentEditor, AgentsStore, AgentsView, ImportDialog, RunDialog};
pub use attachments::{Attachment, image_media_type, rgba_to_png};
pub use chat::{
    ActiveRun, ChatItem, ChatSession, ChatStore, EARLIER_PAGE_LINES, EarlierMessages, MAX_ITEMS as MAX_CHAT_ITEMS,
    PermissionPrompt, RunFooter, TaskState, ToolCall, ToolOutcome, default_context_window, default_project,
};
pub use checkpoints::{CheckpointsStore, PendingRestore};
pub use claude_config::{ClaudeConfigStore, CommandEditor, ConfigTab, Conflict, EntryForm, HookForm, SlashPicker};
pub use credentials::CredentialsStore;
pub use mcp::{McpEditor, McpImportDialog, McpStore, ServerKey, TestStatus, key_of as mcp_key};
pub use memory::{MemoryEditor, MemoryState, merge_text};
pub use mentions::MentionPicker;
pub use notices::{Notice, NoticeLevel, Notices};
pub use requested::Requested;
pub use session_list::{SESSION_PAGE, SessionRows};
pub use settings::{Setting, Settings, SettingsStore, Theme, theme_preference};
pub use storage::{EDITOR_MAX_ROWS, PAGE_SIZES, PendingWrite, SqlFailure, StorageStore, StorageView};
pub use transcripts::{OpenChat, PAGE_LINES, SearchAsked, SessionViewer, TranscriptsStore, UsageTab};

use crate::backend::event::{Event, Output};
use crate::domain::claude::requests::{Reply as ClaudeReply, RunStart};
use crate::domain::claude_config::requests::Reply as ConfigReply;
use crate::domain::db::console::requests::{Exported as ConsoleExported, Reply as ConsoleReply, RowChange};
use crate::domain::dropped::Reply as DroppedReply;
use crate::domain::transcripts::requests::{Exported as TranscriptsExported, Reply as TranscriptsReply};

/// Every store the window reads.
#[derive(Debug, Default)]
pub struct Stores {
    pub settings: SettingsStore,
    pub storage: StorageStore,
    pub chat: ChatStore,
    pub agents: AgentsStore,
    pub checkpoints: CheckpointsStore,
    pub transcripts: TranscriptsStore,
    pub mcp: McpStore,
    pub notices: Notices,
    pub account: AccountStore,
    /// Claude's authentication (Account screen).
    pub credentials: CredentialsStore,
    /// Claude's own settings and slash commands (Claude config screen).
    pub claude_config: ClaudeConfigStore,
    /// Where the app runs (data folder, database, auth server, projects folder), set at start.
    pub environment: environment::Environment,
    /// The CLAUDE.md editor (Claude config screen).
    pub memory: MemoryState,
    /// The chat prompt box's `@` picker: each project's files and the matches for what follows `@`.
    pub mentions: MentionPicker,
    /// Live Claude and agent processes.
    pub running_processes: usize,
    /// The process list, while its popup is open.
    pub processes: Requested<Vec<crate::domain::process::ProcessInfo>>,
    pub show_processes: bool,
    pub processes_stale: bool,
    /// The Claude installations found (Settings).
    pub claude: Requested<std::sync::Arc<crate::domain::claude::discovery::Discovery>>,
    /// The path typed in Settings to locate `claude` by hand.
    pub claude_path_input: String,
    /// The command palette (Ctrl+K).
    pub palette: palette::Palette,
}

impl Stores {
    /// Folds one event into the stores.
    pub fn apply(&mut self, event: Event) {
        match event {
            Event::Completed {
                request_id,
                command,
                output,
            } => {
                let confirmation = match &output {
                    Output::Console(ConsoleReply::Exported(ConsoleExported { path, rows }))
                    | Output::Transcripts(TranscriptsReply::Exported(TranscriptsExported { path, rows })) => {
                        Some(format!("Exported {rows} rows to {}", path.display()))
                    }
                    Output::Console(ConsoleReply::RowChanged(RowChange {
                        statement,
                        dry_run: false,
                    })) => Some(format!("Done: {statement}")),
                    _ => None,
                };
                let handled = match &output {
                    Output::Claude(ClaudeReply::RunStarted(RunStart { run_id, .. })) => {
                        self.chat.run_started(request_id, *run_id)
                    }
                    // Taken, not copied: a dropped image may be megabytes.
                    Output::Dropped(_) => match output {
                        Output::Dropped(DroppedReply::FileRead(file)) => {
                            self.chat.image_read(request_id, &file.path, file.bytes)
                        }
                        _ => false,
                    },
                    Output::Claude(ClaudeReply::Installations(found)) => self.claude.finish(request_id, found.clone()),
                    Output::Claude(ClaudeReply::Processes(list)) => self.processes.finish(request_id, list.clone()),
                    Output::Claude(ClaudeReply::Delivered) => true,
                    Output::Agents(reply) => self.agents.apply_output(request_id, reply),
                    Output::Checkpoints(reply) => self.checkpoints.apply_output(request_id, reply),
                    Output::Mcp(reply) => self.mcp.apply_output(request_id, reply),
                    Output::ClaudeConfig(
                        reply @ (ConfigReply::MemoryFiles(_) | ConfigReply::MemoryDoc(_) | ConfigReply::MemorySaved(_)),
                    ) => {
                        let settings = self.settings.get();
                        self.memory
                            .apply_output(request_id, reply, |path| settings.memory_draft(path).map(str::to_owned))
                    }
                    Output::ClaudeConfig(reply) => self.claude_config.apply_output(request_id, reply),
                    Output::Credentials(reply) => self.credentials.apply_output(request_id, reply),
                    Output::SignIn(reply) => self.account.apply_output(request_id, reply),
                    Output::Transcripts(TranscriptsReply::SessionPage(page))
                        if self.chat.earlier_page(request_id, page) =>
                    {
                        true
                    }
                    Output::Transcripts(reply) => {
                        self.transcripts.apply_output(request_id, reply) || self.palette.apply_output(request_id, reply)
                    }
                    Output::Console(_) => match output {
                        Output::Console(reply) => self.storage.apply_output(request_id, reply),
                        _ => false,
                    },
                    Output::Settings(reply) => self.settings.apply_output(request_id, reply),
                    Output::ProjectFiles(reply) => self.mentions.apply_output(request_id, reply),
                };
                match (handled, confirmation) {
                    (true, Some(text)) => self.notices.push(NoticeLevel::Info, text),
                    (true, None) => {}
                    (false, _) => tracing::debug!(command, request_id, "completion nobody waited for"),
                }
            }
            Event::Failed {
                request_id,
                command,
                error,
                detail,
            } => {
                if !self.storage.apply_failure(request_id, &error, &detail)
                    && !self.chat.run_failed(request_id, &error)
                    && !self.chat.image_failed(request_id, &error)
                    && !self.chat.earlier_failed(request_id, &error)
                    && !self.transcripts.apply_failure(request_id, &error)
                    && !self.mcp.apply_failure(request_id, &error)
                    && !self.agents.apply_failure(request_id, &error)
                    && !self.claude_config.apply_failure(request_id, &error, &detail)
                    && !self.memory.apply_failure(request_id, &error, &detail)
                    && !self.credentials.apply_failure(request_id, &error)
                    && !self.mentions.apply_failure(request_id, &error)
                    && !self.account.apply_failure(command, request_id, &error)
                    && !self.palette.apply_failure(request_id)
                {
                    self.transcripts.create_failed(request_id);
                    if self.transcripts.exporting == Some(request_id) {
                        self.transcripts.exporting = None;
                    }
                    self.notices.push(NoticeLevel::Error, format!("{command}: {error}"));
                }
            }
            Event::ProcessCount { running } => {
                self.running_processes = running;
                self.processes_stale = true;
            }
            Event::AccountPicture { url, image } => {
                let image = egui::ColorImage::from_rgba_unmultiplied([image.width, image.height], &image.rgba);
                self.account.apply_picture(url, std::sync::Arc::new(image))
            }
            Event::ClaudeOutput {
                run_id,
                session_id,
                message,
                raw,
            } => {
                // A tool result may follow a checkpoint the hook process took: read the timeline again.
                if let (Some(session_id), crate::domain::claude::stream::StreamMessage::User(_)) =
                    (&session_id, &*message)
                {
                    self.checkpoints.created(session_id);
                }
                self.chat.apply_output(run_id, message, raw)
            }
            Event::RunFinished { outcome, .. } => {
                // The turn may have added, moved or deleted files: list them again at the next `@`.
                self.mentions.refresh();
                self.chat.apply_finished(outcome)
            }
            Event::AgentRunUpdated { run } => self.agents.apply_run(run),
            Event::AgentOutput {
                run_id, message, raw, ..
            } => self.agents.apply_agent_output(run_id, message, raw),
            Event::AgentError { run_id, message } => self.agents.apply_agent_error(run_id, message),
            Event::CheckpointCreated { session_id, .. } => {
                self.checkpoints.created(&session_id);
                self.notices.push(NoticeLevel::Info, "Checkpoint saved");
            }
            Event::HistoryUpdated(catalog) => self.transcripts.apply_catalog(catalog),
            Event::HistoryProgress(progress) => self.transcripts.apply_progress(progress),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn failures_nobody_waits_for_become_notices() {
        let mut stores = Stores::default();
        stores.apply(Event::Failed {
            request_id: 7,
            command: "list_agents",
            error: "not there yet".into(),
            detail: Default::default(),
        });
        assert_eq!(stores.notices.iter().count(), 1);
        assert!(
            stores
                .notices
                .iter()
                .next()
                .unwrap()
                .text
                .contains("list_agents: not there yet")
        );
        stores.apply(Event::ProcessCount { running: 3 });
        assert_eq!(stores.running_processes, 3);
    }
}
