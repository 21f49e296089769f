//! Chat tabs: one conversation with Claude per tab, each with its own process.
//!
//! - [`tabs`]: which tabs are open and the strip above the content.
//! - [`transcript`]: the conversation, virtualized so long sessions stay fast.
//! - [`tools`]: the specific views of tool calls (Bash, edits as diffs, todo lists, subagents, ...).
//! - [`composer`]: the prompt box with model and permission-mode pickers, send, stop and the queue.
//! - [`slash`] and [`mention`]: the prompt box's `/` command and `@` file pickers.
//! - [`permission`]: the approval cards for tools Claude asks to use.

mod composer;
mod mention;
pub mod permission;
mod slash;
pub mod tabs;
mod timeline;
mod tools;
pub mod transcript;

pub use tabs::{ChatTab, ChatTabs, TabAction, tab_strip_ui};
pub use transcript::TranscriptCache;

use egui::RichText;

use super::widgets::screen_heading;
use super::{ScreenContext, theme};
use crate::domain::claude::requests::ExecuteClaudeCode;
use crate::domain::transcripts::requests::ReadSessionPage;
use crate::state::{ChatSession, EARLIER_PAGE_LINES, Setting};

/// UI state of the chat tabs that is not part of any conversation (layout caches).
#[derive(Default)]
pub struct ChatUiState {
    pub markdown: egui_commonmark::CommonMarkCache,
    pub transcripts: std::collections::HashMap<u64, TranscriptCache>,
}

/// Draws a chat tab. Returns a new title for the tab once its first prompt is sent.
pub fn chat_ui(ui: &mut egui::Ui, tab: &ChatTab, cx: &mut ScreenContext<'_>) -> Option<String> {
    let ScreenContext {
        stores,
        backend,
        conversations,
    } = cx;
    let backend: &crate::backend::Requests = backend;
    let Some(session) = stores.chat.sessions.get_mut(&tab.id) else {
        screen_heading(ui, &tab.title);
        return None;
    };
    let mut retitle = None;
    read_earlier(session, backend);
    header_ui(ui, tab, session, backend);
    auto_checkpoints_ui(ui, &mut stores.settings, &session.project, backend);
    context_ui(ui, session, backend);
    let run_before = session.run.as_ref().map(|run| run.request_id);
    egui::Panel::bottom(egui::Id::unique(("chat-composer", tab.id)))
        .frame(egui::Frame::new().inner_margin(egui::Margin::symmetric(0, 6)))
        .show(ui, |ui| {
            permission::cards_ui(ui, session, backend, &mut conversations.markdown);
            let pickers = composer::Pickers {
                slash: &mut stores.claude_config.picker,
                mention: &mut stores.mentions,
            };
            if let Some(title) = composer::ui(ui, tab.id, session, pickers, backend) {
                retitle = Some(title);
            }
        });
    // A prompt went out (typed or queued): a new chat starts in this project from now on.
    if let Some(run) = &session.run
        && Some(run.request_id) != run_before
    {
        backend.dispatch(
            stores
                .settings
                .change(Setting::LastProject(session.project.trim().to_owned())),
        );
    }
    if session.show_timeline
        && let Some(session_id) = session.session_id.clone()
    {
        egui::Panel::right(egui::Id::unique(("chat-timeline", tab.id)))
            .resizable(true)
            .default_size(250.0)
            .show(ui, |ui| {
                timeline::timeline_ui(
                    ui,
                    &mut stores.checkpoints,
                    &session_id,
                    session.project.trim(),
                    backend,
                )
            });
    }
    timeline::dialogs_ui(ui.ctx(), &mut stores.checkpoints, backend);
    egui::CentralPanel::no_frame().show(ui, |ui| {
        if let Some(error) = session.error.clone() {
            error_banner_ui(ui, &error, session);
        }
        rate_limit_banner_ui(ui, session);
        earlier_status_ui(ui, session);
        let cache = conversations.transcripts.entry(tab.id).or_default();
        transcript::ui(ui, tab.id, session, cache, &mut conversations.markdown);
    });
    retitle
}

fn header_ui(ui: &mut egui::Ui, tab: &ChatTab, session: &mut ChatSession, backend: &crate::backend::Requests) {
    ui.horizontal(|ui| {
        screen_heading(ui, &tab.title);
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            if session.session_id.is_some() {
                ui.toggle_value(&mut session.show_timeline, "Checkpoints");
            }
            ui.menu_button("Copy ⏷", |ui| {
                if ui.button("Conversation as Markdown").clicked() {
                    ui.ctx().copy_text(session.to_markdown());
                    ui.close();
                }
                if ui.button("Stream as JSONL").clicked() {
                    ui.ctx().copy_text(session.to_jsonl());
                    ui.close();
                }
            });
            mcp_status_ui(ui, session);
            if let Some(id) = &session.session_id {
                let short: String = id.chars().take(8).collect();
                ui.label(
                    RichText::new(format!("session {short}"))
                        .monospace()
                        .color(theme::muted(ui.visuals())),
                )
                .on_hover_text(id.clone());
            }
            if session.is_busy() {
                ui.spinner();
                if let Some(run_id) = session.run.as_ref().and_then(|r| r.run_id) {
                    let _ = backend;
                    ui.label(RichText::new(format!("run {run_id}")).color(theme::muted(ui.visuals())));
                }
            }
        });
    });
}

/// Asks for the next page of a resumed session's transcript, one at a time until the end.
fn read_earlier(session: &mut ChatSession, backend: &crate::backend::Requests) {
    let Some(earlier) = session.earlier.as_mut() else {
        return;
    };
    if let Some((file, offset)) = earlier.next_page() {
        earlier.pending = Some(backend.dispatch(ReadSessionPage {
            file,
            offset,
            max_lines: EARLIER_PAGE_LINES,
        }));
    }
}

/// While a resumed tab reads its conversation so far: how far it got; if that failed: why.
fn earlier_status_ui(ui: &mut egui::Ui, session: &ChatSession) {
    let Some(earlier) = &session.earlier else {
        return;
    };
    let muted = theme::muted(ui.visuals());
    if let Some(error) = &earlier.error {
        ui.add(
            egui::Label::new(
                RichText::new(format!(
                    "The conversation so far could not be read ({error}); new turns continue it anyway."
                ))
                .color(theme::warning(ui.visuals())),
            )
            .wrap(),
        );
    } else if earlier.loading() {
        ui.horizontal(|ui| {
            ui.spinner();
            ui.label(
                RichText::new(format!(
                    "Reading the conversation so far: {} lines, {:.0}%{}",
                    earlier.lines_read,
                    earlier.fraction() * 100.0,
                    if session.queue.is_empty() {
                        ""
                    } else {
                        " (your prompt goes out once it is shown)"
                    }
                ))
                .color(muted),
            );
        });
    } else if session.dropped > 0 {
        ui.label(
            RichText::new(format!(
                "{} earlier messages are not shown here; the session's transcript keeps them.",
                session.dropped
            ))
            .small()
            .color(muted),
        );
    }
}

/// How full the model's context is, with "Compact" (Claude Code's `/compact`), and the session's
/// background tasks with their state.
fn context_ui(ui: &mut egui::Ui, session: &mut ChatSession, backend: &crate::backend::Requests) {
    let context = session.context();
    if context.is_none() && session.tasks.is_empty() {
        return;
    }
    let muted = theme::muted(ui.visuals());
    ui.horizontal(|ui| {
        if let Some((used, window)) = context {
            let share = (used as f64 / window.max(1) as f64).clamp(0.0, 1.0) as f32;
            let color = if share >= 0.9 {
                theme::error(ui.visuals())
            } else if share >= 0.75 {
                theme::warning(ui.visuals())
            } else {
                theme::accent(ui.visuals())
            };
            ui.label(RichText::new("Context").small().color(muted));
            ui.add(
                egui::ProgressBar::new(share)
                    .desired_width(140.0)
                    .desired_height(8.0)
                    .fill(color),
            )
            .on_hover_text("Tokens the conversation fills of the model's context window, as of the latest request");
            ui.label(
                RichText::new(format!(
                    "{} of {} tokens ({:.0}%)",
                    crate::ui::projects::tokens(used),
                    crate::ui::projects::tokens(window),
                    share * 100.0
                ))
                .small()
                .color(muted),
            );
            let can_compact = session.session_id.is_some() && !session.is_busy();
            if ui
                .add_enabled(can_compact, egui::Button::new("Compact").small())
                .on_hover_text("Summarize the conversation so far to free context (Claude Code's /compact)")
                .on_disabled_hover_text("Once the turn has ended")
                .clicked()
            {
                send_prompt(session, "/compact".to_owned(), backend);
            }
        }
        if !session.tasks.is_empty() {
            let running = session.tasks.iter().filter(|t| t.status == "running").count();
            ui.menu_button(format!("Tasks: {running} running of {}", session.tasks.len()), |ui| {
                for task in &session.tasks {
                    let name = if task.description.is_empty() {
                        &task.id
                    } else {
                        &task.description
                    };
                    ui.label(format!("{name} · {}", task.status));
                }
            });
        }
    });
}

/// The session's MCP servers as the latest turn started with them: a dot per server coloured by its state.
fn mcp_status_ui(ui: &mut egui::Ui, session: &ChatSession) {
    for server in session.mcp_servers.iter().rev() {
        let color = match server.status.as_str() {
            "connected" => theme::success(ui.visuals()),
            "failed" => theme::error(ui.visuals()),
            "needs-auth" | "needs_auth" => theme::warning(ui.visuals()),
            _ => theme::muted(ui.visuals()),
        };
        let state = match server.status.as_str() {
            "needs-auth" | "needs_auth" => "needs sign-in",
            "" => "unknown",
            other => other,
        };
        ui.label(
            RichText::new(format!("• {}: {state}", server.name))
                .small()
                .color(color),
        )
        .on_hover_text(format!("MCP server {} is {state} in this session", server.name));
    }
}

/// The project's "checkpoint before prompts and file-changing tools" switch.
fn auto_checkpoints_ui(
    ui: &mut egui::Ui,
    settings: &mut crate::state::SettingsStore,
    project: &str,
    backend: &crate::backend::Requests,
) {
    if project.trim().is_empty() {
        return;
    }
    let project = std::path::Path::new(project.trim());
    let mut on = settings.get().auto_checkpoints_on(project);
    let toggle = ui
        .checkbox(&mut on, "Checkpoints before each prompt and file change")
        .on_hover_text("Snapshots of the project's files (respecting .gitignore) that can be diffed and restored");
    if toggle.changed() {
        backend.dispatch(settings.change(Setting::AutoCheckpoints {
            project: project.to_path_buf(),
            on,
        }));
    }
}

/// A time of day (or a date further off) in this computer's zone, for "resets ...".
pub fn reset_time(ms: i64) -> Option<String> {
    let at = chrono::DateTime::from_timestamp_millis(ms)?.with_timezone(&chrono::Local);
    let today = chrono::Local::now().date_naive();
    Some(if at.date_naive() == today {
        at.format("%H:%M").to_string()
    } else {
        at.format("%a %d %b %H:%M").to_string()
    })
}

/// The usage limit, when Claude says it is near or reached (`rate_limit_event`).
fn rate_limit_banner_ui(ui: &mut egui::Ui, session: &mut ChatSession) {
    let Some(info) = session.rate_limit.as_ref().filter(|r| r.needs_attention()) else {
        return;
    };
    if session.rate_limit_dismissed {
        return;
    }
    let color = if info.limited() {
        theme::error(ui.visuals())
    } else {
        theme::warning(ui.visuals())
    };
    let text = info.summary(info.resets_at_ms().and_then(reset_time));
    egui::Frame::new()
        .stroke(egui::Stroke::new(1.0, color))
        .corner_radius(theme::CARD_RADIUS)
        .inner_margin(8)
        .show(ui, |ui| {
            ui.horizontal_top(|ui| {
                ui.label(RichText::new("⏳").color(color));
                ui.add(egui::Label::new(RichText::new(text).color(color)).wrap());
                if ui.small_button("×").on_hover_text("Dismiss").clicked() {
                    session.rate_limit_dismissed = true;
                }
            });
        });
    ui.add_space(4.0);
}

fn error_banner_ui(ui: &mut egui::Ui, error: &str, session: &mut ChatSession) {
    let color = theme::error(ui.visuals());
    egui::Frame::new()
        .stroke(egui::Stroke::new(1.0, color))
        .corner_radius(theme::CARD_RADIUS)
        .inner_margin(8)
        .show(ui, |ui| {
            ui.horizontal_top(|ui| {
                ui.label(RichText::new("⚠").color(color));
                ui.add(egui::Label::new(RichText::new(error).color(color)).wrap());
                if ui.small_button("×").on_hover_text("Dismiss").clicked() {
                    session.error = None;
                }
            });
        });
    ui.add_space(4.0);
}

/// Sends the session's prompt (or queues it while a turn runs). Returns the tab's new title after
/// the first prompt.
pub(super) fn send_prompt(
    session: &mut ChatSession,
    text: String,
    backend: &crate::backend::Requests,
) -> Option<String> {
    let text = text.trim().to_owned();
    if text.is_empty() && session.attachments.is_empty() {
        return None;
    }
    if session.is_busy() || session.loading_earlier() {
        session.queue.push_back(text);
        return None;
    }
    let max_budget_usd = match session.budget_usd() {
        Ok(budget) => budget,
        Err(error) => {
            // Nothing is lost: the prompt goes back into the box until the budget is fixed.
            session.error = Some(error);
            if session.input.trim().is_empty() {
                session.input = text;
            }
            return None;
        }
    };
    let first = session.items.is_empty() && session.session_id.is_none();
    let images = std::mem::take(&mut session.attachments)
        .into_iter()
        .map(|a| (a.media_type, a.bytes))
        .collect();
    let request = crate::backend::command::ClaudeRunRequest {
        project_path: std::path::PathBuf::from(session.project.trim()),
        prompt: text.clone(),
        images,
        model: session.model.clone(),
        permission_mode: session.permission_mode,
        append_system_prompt: session.append_system_prompt.clone(),
        resume_session: session.session_id.clone().or_else(|| session.fork_from.clone()),
        fork_session: session.session_id.is_none() && session.fork_from.is_some(),
        add_dirs: session.extra_dirs(),
        max_budget_usd,
        fallback_model: session.fallback_model.trim().to_owned(),
        output_style: session.output_style.trim().to_owned(),
    };
    let request_id = backend.dispatch(ExecuteClaudeCode { run: request });
    session.run = Some(crate::state::ActiveRun {
        request_id,
        run_id: None,
        stopping: false,
    });
    session.push_prompt(&text);
    first.then(|| {
        let title: String = text.lines().next().unwrap_or("").chars().take(40).collect();
        if title.is_empty() { "Images".to_owned() } else { title }
    })
}
