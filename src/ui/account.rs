//! The Account screen: signing in to ANYON and Claude's own authentication.

use super::ScreenContext;
use super::widgets::{EmptyState, screen_heading};
use crate::nav::Screen;
use crate::store::LoginState;

pub fn ui(ui: &mut egui::Ui, cx: &mut ScreenContext<'_>) {
    screen_heading(ui, Screen::Account.heading());
    match &cx.stores.login {
        LoginState::SignedOut => EmptyState {
            icon: "👤",
            title: "Not signed in",
            body: "Signing in with Google keeps your ANYON settings and subscription with your account. \
                   Signing in is not part of this build yet; everything else works without an account.",
            detail: None,
        }
        .ui(ui),
        LoginState::SignedIn { name, email } => {
            ui.label(format!("Signed in as {name} <{email}>"));
        }
    }
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
