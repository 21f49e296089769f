//! The Usage screen: tokens and cost from Claude's transcripts.

use super::ScreenContext;
use super::widgets::{EmptyState, screen_heading};
use crate::nav::Screen;

pub fn ui(ui: &mut egui::Ui, _cx: &mut ScreenContext<'_>) {
    screen_heading(ui, Screen::Usage.heading());
    EmptyState {
        icon: "📊",
        title: "No usage figures yet",
        body: "Tokens and cost by day, model, project and session, counted from Claude's own \
               transcripts, appear here with charts and CSV export. Counting usage is not part of this \
               build yet.",
        detail: None,
    }
    .ui(ui);
}
