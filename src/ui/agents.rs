//! The Agents screen: reusable agents, their runs and history.

use super::ScreenContext;
use super::widgets::{EmptyState, screen_heading};
use crate::nav::Screen;

pub fn ui(ui: &mut egui::Ui, _cx: &mut ScreenContext<'_>) {
    screen_heading(ui, Screen::Agents.heading());
    EmptyState {
        icon: "🛠",
        title: "No agents yet",
        body: "An agent is a reusable Claude setup: a name, an icon, a system prompt, a default task, a \
               model and the tools it may use. Its runs, live output, cost and history are kept here. \
               Creating and running agents is not part of this build yet.",
        detail: None,
    }
    .ui(ui);
}
