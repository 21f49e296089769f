//! The Projects screen: Claude's projects and their sessions.

use super::ScreenContext;
use super::widgets::{EmptyState, screen_heading};
use crate::nav::Screen;

pub fn ui(ui: &mut egui::Ui, _cx: &mut ScreenContext<'_>) {
    screen_heading(ui, Screen::Projects.heading());
    EmptyState {
        icon: "🗀",
        title: "No projects to show yet",
        body: "Every folder you have run Claude Code in appears here, newest first, with its sessions \
               ready to browse, search and resume. Reading Claude's transcripts is not part of this \
               build yet.",
        detail: Some(format!("Transcripts are read from {}", claude_projects_dir())),
    }
    .ui(ui);
}

/// `$CLAUDE_CONFIG_DIR/projects`, else `~/.claude/projects`, as the person would type it.
fn claude_projects_dir() -> String {
    if let Some(dir) = std::env::var_os("CLAUDE_CONFIG_DIR").filter(|v| !v.is_empty()) {
        return std::path::Path::new(&dir).join("projects").display().to_string();
    }
    match directories::BaseDirs::new() {
        Some(base) => base.home_dir().join(".claude").join("projects").display().to_string(),
        None => "~/.claude/projects".to_string(),
    }
}
