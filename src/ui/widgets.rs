//! Small pieces shared by the screens.

use egui::{Align, Layout, RichText, Ui};

use super::theme;

/// A screen's heading, announced to assistive technology (and tests) as a heading.
pub fn screen_heading(ui: &mut Ui, text: &str) -> egui::Response {
    // Wrapped even in a row (a long session title), so it never widens the screen past the window.
    let response = ui.add(egui::Label::new(egui::RichText::new(text).heading()).wrap());
    // egui exposes a label's text as its value; a heading carries it as its name.
    ui.ctx().accesskit_node_builder(response.id, |node| {
        node.set_role(egui::accesskit::Role::Heading);
        node.set_label(text);
    });
    ui.add_space(theme::HEADING_GAP);
    response
}

/// What a screen shows when it has nothing yet: what will be here, and why it is empty.
pub struct EmptyState<'a> {
    pub icon: &'a str,
    pub title: &'a str,
    pub body: &'a str,
    /// A muted line under the body (e.g. where the data will come from).
    pub detail: Option<String>,
}

impl EmptyState<'_> {
    pub fn ui(self, ui: &mut Ui) {
        let visuals = ui.visuals().clone();
        ui.with_layout(Layout::top_down(Align::Center), |ui| {
            ui.add_space(48.0);
            ui.label(RichText::new(self.icon).size(40.0).color(theme::muted(&visuals)));
            ui.add_space(8.0);
            ui.label(RichText::new(self.title).strong().size(18.0));
            ui.add_space(4.0);
            ui.set_max_width(theme::PROSE_WIDTH);
            ui.label(RichText::new(self.body).color(theme::muted(&visuals)));
            if let Some(detail) = self.detail {
                ui.add_space(6.0);
                ui.label(RichText::new(detail).small().color(theme::muted(&visuals)));
            }
        });
    }
}

/// A one-line error shown where the failed thing would be.
pub fn error_line(ui: &mut Ui, text: &str) {
    let color = theme::error(ui.visuals());
    ui.label(RichText::new(format!("⚠ {text}")).color(color));
}

/// A muted one-line message with a × that clears it (what a screen's last action did).
pub fn dismissable_note(ui: &mut Ui, message: &mut Option<String>) {
    let Some(text) = message.as_deref() else { return };
    let mut dismissed = false;
    ui.horizontal(|ui| {
        ui.label(RichText::new(text).color(theme::muted(ui.visuals())));
        dismissed = ui.small_button("×").on_hover_text("Dismiss").clicked();
    });
    if dismissed {
        *message = None;
    }
}

/// A short, human description of a shortcut ("Ctrl+3", "⌘3").
pub fn shortcut_text(ctx: &egui::Context, shortcut: &egui::KeyboardShortcut) -> String {
    ctx.format_shortcut(shortcut)
}
