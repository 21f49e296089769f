//! The "Claude authentication" section of the Account screen: every source of Claude's credentials, and a
//! masked field to save (or remove) the Anthropic API key ANYON gives the Claude processes it starts.
//!
//! Everything goes through commands: the keychain can block, so the screen never reads or writes it.

use egui::RichText;

use super::ScreenContext;
use super::theme;
use super::widgets::error_line;
use crate::backend::command::Secret;
use crate::domain::claude::credentials::requests::{ClaudeAuthCheck, ClaudeAuthRemoveApiKey, ClaudeAuthSaveApiKey};
use crate::domain::claude::credentials::{ClaudeAuthReport, CliAuthStatus, KeyInUse};

pub fn section_ui(ui: &mut egui::Ui, cx: &mut ScreenContext<'_>) {
    let store = &mut cx.stores.credentials;
    if store.report.never_requested() || (store.needs_check && !store.report.is_pending()) {
        store.needs_check = false;
        store.report.start(cx.backend.dispatch(ClaudeAuthCheck));
    }
    ui.horizontal(|ui| {
        ui.heading("Claude authentication");
        if ui
            .add_enabled(!store.report.is_pending(), egui::Button::new("⟳ Check again"))
            .clicked()
        {
            store.report.start(cx.backend.dispatch(ClaudeAuthCheck));
        }
        if store.report.is_pending() {
            ui.spinner();
        }
    });
    if let Some(error) = store.report.error() {
        error_line(ui, error);
    }
    if let Some(report) = store.report.value() {
        sources_ui(ui, report);
    }

    ui.add_space(8.0);
    ui.label("Anthropic API key for the Claude processes ANYON starts:");
    let busy = store.pending.is_some();
    ui.horizontal(|ui| {
        let label = ui.label("API key");
        ui.add(
            egui::TextEdit::singleline(&mut store.key_input)
                .password(true)
                .hint_text("sk-ant-…")
                .desired_width(320.0),
        )
        .labelled_by(label.id);
        let can_save = !busy && !store.key_input.trim().is_empty();
        if ui.add_enabled(can_save, egui::Button::new("Save key")).clicked() {
            store.outcome = None;
            store.pending = Some(cx.backend.dispatch(ClaudeAuthSaveApiKey {
                api_key: Secret::new(store.key_input.trim()),
                verify: store.verify,
                base_url: None,
            }));
        }
        let saved = store
            .report
            .value()
            .is_some_and(|report| report.saved_api_key.is_some());
        if ui
            .add_enabled(!busy && saved, egui::Button::new("Remove key"))
            .clicked()
        {
            store.outcome = None;
            store.pending = Some(cx.backend.dispatch(ClaudeAuthRemoveApiKey));
        }
        if busy {
            ui.spinner();
        }
    });
    ui.checkbox(&mut store.verify, "Verify with the API before saving");
    match &store.outcome {
        Some(Ok(text)) => {
            ui.label(RichText::new(text).color(theme::success(ui.visuals())));
        }
        Some(Err(error)) => error_line(ui, error),
        None => {}
    }
    if let Some(report) = store.report.value() {
        ui.weak(format!("Keys are kept in the {}.", report.secret_store));
    }
}

/// One row per source with its state.
fn sources_ui(ui: &mut egui::Ui, report: &ClaudeAuthReport) {
    let muted = theme::muted(ui.visuals());
    egui::Grid::new("claude-auth-sources")
        .num_columns(2)
        .spacing([16.0, 4.0])
        .show(ui, |ui| {
            ui.label("claude auth status");
            match &report.claude_status {
                CliAuthStatus::NotInstalled { .. } => ui.label("Claude Code is not installed"),
                CliAuthStatus::Failed { message } => ui.label(RichText::new(message).color(muted)),
                CliAuthStatus::Answered {
                    logged_in,
                    auth_method,
                    api_key_source,
                    ..
                } => {
                    let state = if *logged_in { "Logged in" } else { "Not logged in" };
                    let how = [auth_method.as_deref(), api_key_source.as_deref()]
                        .into_iter()
                        .flatten()
                        .collect::<Vec<_>>()
                        .join(", ");
                    ui.label(if how.is_empty() {
                        state.to_owned()
                    } else {
                        format!("{state} ({how})")
                    })
                }
            };
            ui.end_row();
            ui.label("ANTHROPIC_API_KEY");
            ui.label(report.env_api_key.as_deref().unwrap_or("not set"));
            ui.end_row();
            ui.label("Saved in ANYON");
            match (&report.saved_api_key, &report.saved_api_key_error) {
                (Some(key), _) => ui.label(format!("{} ({})", key.masked, key.stored_in)),
                (None, Some(error)) => ui.label(RichText::new(error).color(theme::error(ui.visuals()))),
                (None, None) => ui.label("none"),
            };
            ui.end_row();
            ui.label("Claude login file");
            match &report.credentials_file {
                Some(path) if report.credentials_file_present => ui.label(format!("{} (present)", path.display())),
                Some(path) => ui.label(RichText::new(format!("{} (absent)", path.display())).color(muted)),
                None => ui.label("no home folder"),
            };
            ui.end_row();
            ui.label("Key Claude gets");
            ui.label(match report.key_in_use {
                KeyInUse::Environment => "ANTHROPIC_API_KEY from ANYON's environment (wins over a saved key)",
                KeyInUse::Saved => "the key saved in ANYON",
                KeyInUse::None => "none: Claude's own login applies",
            });
            ui.end_row();
        });
}
