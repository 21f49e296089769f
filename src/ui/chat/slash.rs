//! The `/` picker of the prompt box: typing `/` lists the slash commands of the chat's project and the
//! user (from `.claude/commands`); Up and Down choose, Tab or Enter (or a click) puts `/name ` in the box.

use egui::{Key, Modifiers, RichText};

use crate::backend::Requests;
use crate::domain::claude_config::requests::SlashCommandsList;
use crate::state::{ChatSession, SlashPicker};
use crate::ui::theme;

/// Handles the picker's keys before the text box sees them. Returns true when it is open (so Enter
/// does not send).
pub fn keys(
    ui: &egui::Ui,
    input_id: egui::Id,
    focused: bool,
    session: &mut ChatSession,
    picker: &mut SlashPicker,
    backend: &Requests,
) -> bool {
    if !session.input.starts_with('/') {
        picker.selected = 0;
        return false;
    }
    if picker.project.as_deref() != Some(session.project.as_str()) && !picker.commands.is_pending() {
        picker.project = Some(session.project.clone());
        let project = (!session.project.trim().is_empty()).then(|| session.project.trim().into());
        picker.commands.start(backend.dispatch(SlashCommandsList { project }));
    }
    let count = picker.matches(&session.input, offered(session)).len();
    if count == 0 || !focused {
        return false;
    }
    picker.selected = picker.selected.min(count - 1);
    let (down, up, pick) = ui.input_mut(|i| {
        (
            i.consume_key(Modifiers::NONE, Key::ArrowDown),
            i.consume_key(Modifiers::NONE, Key::ArrowUp),
            i.consume_key(Modifiers::NONE, Key::Tab) || i.consume_key(Modifiers::NONE, Key::Enter),
        )
    });
    if down {
        picker.selected = (picker.selected + 1) % count;
    }
    if up {
        picker.selected = (picker.selected + count - 1) % count;
    }
    if pick {
        insert(ui.ctx(), input_id, session, picker, picker.selected);
    }
    true
}

/// Replaces the box's text with the command and puts the cursor after it, ready for arguments.
fn insert(ctx: &egui::Context, input_id: egui::Id, session: &mut ChatSession, picker: &mut SlashPicker, index: usize) {
    if let Some(command) = picker.matches(&session.input, offered(session)).get(index) {
        session.input = format!("/{} ", command.name);
        if let Some(mut state) = egui::text_edit::TextEditState::load(ctx, input_id) {
            let end = egui::text::CCursor::new(session.input.chars().count());
            state.cursor.set_char_range(Some(egui::text::CCursorRange::one(end)));
            state.store(ctx, input_id);
        }
    }
    picker.selected = 0;
}

/// The commands the CLI offered this session (built-ins and skills), once a turn has run.
pub fn offered(session: &ChatSession) -> &[crate::domain::claude::stream::SlashCommandInfo] {
    session
        .offered
        .as_ref()
        .map_or(&[], |offered| offered.commands.as_slice())
}

/// The list of matches under the prompt box.
pub fn list_ui(ui: &mut egui::Ui, input_id: egui::Id, session: &mut ChatSession, picker: &mut SlashPicker) {
    let rows: Vec<(String, String)> = picker
        .matches(&session.input, offered(session))
        .into_iter()
        .map(|row| (format!("/{}", row.name), row.about))
        .collect();
    if rows.is_empty() {
        return;
    }
    let mut chosen = None;
    egui::Frame::group(ui.style()).show(ui, |ui| {
        for (index, (name, about)) in rows.iter().enumerate() {
            ui.horizontal(|ui| {
                if ui.selectable_label(index == picker.selected, name).clicked() {
                    chosen = Some(index);
                }
                ui.label(RichText::new(about).small().color(theme::muted(ui.visuals())));
            });
        }
        ui.label(
            RichText::new("Up and Down choose; Tab or Enter inserts")
                .small()
                .color(theme::muted(ui.visuals())),
        );
    });
    if let Some(index) = chosen {
        insert(ui.ctx(), input_id, session, picker, index);
    }
}
