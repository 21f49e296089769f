//! The MCP screen: Claude's MCP servers in every scope.

use super::ScreenContext;
use super::widgets::{EmptyState, screen_heading};
use crate::nav::Screen;

pub fn ui(ui: &mut egui::Ui, _cx: &mut ScreenContext<'_>) {
    screen_heading(ui, Screen::Mcp.heading());
    EmptyState {
        icon: "🔌",
        title: "No MCP servers listed yet",
        body: "The MCP servers Claude Code can use (user, local and project scope) appear here, with a \
               real connection test for each. Managing them is not part of this build yet.",
        detail: None,
    }
    .ui(ui);
}
