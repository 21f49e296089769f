//! The Account screen: signing in to ANYON and Claude's own authentication.

use super::ScreenContext;
use super::widgets::screen_heading;
use crate::nav::Screen;

pub fn ui(ui: &mut egui::Ui, cx: &mut ScreenContext<'_>) {
    screen_heading(ui, Screen::Account.heading());
    super::signin::ui(ui, cx);
    ui.add_space(12.0);
    let server = match crate::auth::embedded_status() {
        crate::auth::EmbeddedStatus::Running(addr) => format!("Auth server: http://{addr}"),
        crate::auth::EmbeddedStatus::Failed(error) => format!("Auth server not running: {error}"),
        crate::auth::EmbeddedStatus::NotStarted => "Auth server not started".to_owned(),
    };
    ui.weak(server);
    ui.add_space(16.0);
    super::claude_auth::section_ui(ui, cx);
}
