//! The `@` picker of the prompt box: typing `@` lists the chat project's files (`.gitignore` honoured),
//! what follows `@` filters them fuzzily, best first; Up and Down choose, Tab or Enter (or a click) puts
//! `@path ` in place of the `@query` with the cursor after it, Escape closes the list. The files are
//! listed and matched by the backend (see [`crate::state::mentions`]).

use std::time::Instant;

use egui::text::{CCursor, CCursorRange, LayoutJob, TextFormat};
use egui::text_edit::TextEditState;
use egui::{Key, Modifiers, RichText};

use crate::backend::Requests;
use crate::domain::project_files::FileMatch;
use crate::state::mentions::{Mention, insert_mention, mention_at};
use crate::state::{ChatSession, MentionPicker};
use crate::ui::theme;

/// Rows visible at once; the rest scroll.
const LIST_HEIGHT: f32 = 220.0;

/// The mention the text box's cursor is in, unless Escape closed the picker on this very text.
fn active<'a>(ctx: &egui::Context, input_id: egui::Id, input: &'a str, picker: &MentionPicker) -> Option<Mention<'a>> {
    if picker.dismissed.as_deref() == Some(input) {
        return None;
    }
    let cursor = TextEditState::load(ctx, input_id)?.cursor.char_range()?.primary.index.0;
    mention_at(input, cursor)
}

/// Which keys the text box must leave to the picker next frame (`tab`: a match is to pick; `escape`: the
/// picker is open), so neither moves the focus away from the box first.
pub fn held_keys(
    ctx: &egui::Context,
    input_id: egui::Id,
    session: &ChatSession,
    picker: &MentionPicker,
) -> (bool, bool) {
    match active(ctx, input_id, &session.input, picker) {
        Some(_) => (!picker.shown(&session.project).is_empty(), true),
        None => (false, false),
    }
}

/// Handles the picker's keys before the text box sees them. Returns true when it is open with matches
/// (so Enter does not send).
pub fn keys(
    ui: &egui::Ui,
    input_id: egui::Id,
    focused: bool,
    session: &mut ChatSession,
    picker: &mut MentionPicker,
    backend: &Requests,
) -> bool {
    if picker.dismissed.as_deref().is_some_and(|text| text != session.input) {
        picker.dismissed = None;
    }
    let Some(mention) = active(ui.ctx(), input_id, &session.input, picker) else {
        picker.close();
        return false;
    };
    picker.update(&session.project, mention.query, Instant::now(), &mut |command| {
        backend.dispatch(command)
    });
    let count = picker.shown(&session.project).len();
    if !focused {
        return false;
    }
    if ui.input_mut(|i| i.consume_key(Modifiers::NONE, Key::Escape)) {
        picker.dismissed = Some(session.input.clone());
        picker.close();
        return true;
    }
    if count == 0 {
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

/// Replaces the `@query` at the cursor with the chosen path and puts the cursor after it.
fn insert(
    ctx: &egui::Context,
    input_id: egui::Id,
    session: &mut ChatSession,
    picker: &mut MentionPicker,
    index: usize,
) {
    let Some(path) = picker.shown(&session.project).get(index).map(|m| m.path.clone()) else {
        return;
    };
    let Some(mention) = active(ctx, input_id, &session.input, picker) else {
        return;
    };
    let (text, cursor) = insert_mention(&session.input, &mention, &path);
    session.input = text;
    if let Some(mut state) = TextEditState::load(ctx, input_id) {
        state
            .cursor
            .set_char_range(Some(CCursorRange::one(CCursor::new(cursor))));
        state.store(ctx, input_id);
    }
    picker.close();
}

/// The list of matches under the prompt box, while a mention is typed.
pub fn list_ui(ui: &mut egui::Ui, input_id: egui::Id, session: &mut ChatSession, picker: &mut MentionPicker) {
    if active(ui.ctx(), input_id, &session.input, picker).is_none() {
        return;
    }
    let project = session.project.trim().to_owned();
    let muted = theme::muted(ui.visuals());
    let note = |ui: &mut egui::Ui, text: &str| {
        egui::Frame::group(ui.style()).show(ui, |ui| {
            ui.label(RichText::new(text).small().color(muted));
        });
    };
    if project.is_empty() {
        note(ui, "Choose the chat's project folder to mention its files");
        return;
    }
    let shown = picker.shown(&project);
    if shown.is_empty() {
        if let Some(error) = picker.error(&project) {
            note(ui, &format!("Cannot list the project's files: {error}"));
        } else if picker.listing(&project) {
            note(ui, "Listing the project's files…");
        } else if !picker.is_matching() && picker.files(&project).is_some() {
            note(ui, "No file matches");
        }
        return;
    }
    let total = picker.total(&project);
    let selected = picker.selected;
    let mut chosen = None;
    egui::Frame::group(ui.style()).show(ui, |ui| {
        egui::ScrollArea::vertical()
            .id_salt(("mention-list", input_id))
            .max_height(LIST_HEIGHT)
            .auto_shrink([false, true])
            .show(ui, |ui| {
                for (index, found) in shown.iter().enumerate() {
                    let row = ui.selectable_label(index == selected, highlighted(ui, found));
                    if index == selected && ui.input(|i| i.key_pressed(Key::ArrowDown) || i.key_pressed(Key::ArrowUp)) {
                        row.scroll_to_me(None);
                    }
                    if row.clicked() {
                        chosen = Some(index);
                    }
                }
            });
        let count = if total > shown.len() {
            format!("{} of {total} files; ", shown.len())
        } else {
            String::new()
        };
        ui.label(
            RichText::new(format!("{count}Up and Down choose; Tab or Enter inserts; Esc closes"))
                .small()
                .color(muted),
        );
    });
    if let Some(index) = chosen {
        picker.selected = index;
        insert(ui.ctx(), input_id, session, picker, index);
    }
}

/// `@path`, the characters the query matched in the accent colour.
fn highlighted(ui: &egui::Ui, found: &FileMatch) -> LayoutJob {
    let font_id = egui::TextStyle::Body.resolve(ui.style());
    let plain = TextFormat::simple(font_id.clone(), ui.visuals().text_color());
    let hit = TextFormat::simple(font_id, theme::accent(ui.visuals()));
    let mut job = LayoutJob::default();
    job.append("@", 0.0, plain.clone());
    let mut run = String::new();
    let mut run_hit = false;
    for (index, c) in found.path.chars().enumerate() {
        let is_hit = u32::try_from(index).is_ok_and(|i| found.positions.binary_search(&i).is_ok());
        if is_hit != run_hit && !run.is_empty() {
            job.append(
                &std::mem::take(&mut run),
                0.0,
                if run_hit { hit.clone() } else { plain.clone() },
            );
        }
        run_hit = is_hit;
        run.push(c);
    }
    if !run.is_empty() {
        job.append(&run, 0.0, if run_hit { hit } else { plain });
    }
    job
}
