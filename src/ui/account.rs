//! The Account screen: signing in to ANYON and Claude's own authentication.

use super::ScreenContext;
use super::widgets::screen_heading;
use crate::state::nav::Screen;

pub fn ui(ui: &mut egui::Ui, cx: &mut ScreenContext<'_>) {
    screen_heading(ui, Screen::Account.heading());
    super::signin::ui(ui, cx);
    ui.add_space(12.0);
    let server = match &cx.stores.environment.auth_server {
        crate::domain::auth_server::EmbeddedStatus::Running(addr) => format!("Auth server: http://{addr}"),
        crate::domain::auth_server::EmbeddedStatus::Failed(error) => format!("Auth server not running: {error}"),
        crate::domain::auth_server::EmbeddedStatus::NotStarted => "Auth server not started".to_owned(),
    };
    ui.weak(server);
    ui.add_space(16.0);
    super::credentials::section_ui(ui, cx);
}
