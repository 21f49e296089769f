//! The Memory tab of the Claude config screen: `CLAUDE.md` files edited with a Markdown preview. Unsaved
//! text is kept as a draft in ANYON's settings, switching files or closing the window asks first, and a
//! file changed on disk is detected and offered for reload, merge or keeping mine; never overwritten blindly.

use std::path::PathBuf;
use std::time::Duration;

use egui::{Modal, RichText, Ui};

use super::widgets::error_line;
use super::{ScreenContext, theme};
use crate::backend::Requests;
use crate::domain::claude_config::requests::{MemoryList, MemoryRead, MemorySave};
use crate::state::{MemoryState, Setting, SettingsStore, Stores, merge_text};

/// How often the open file is compared with the disk.
const CHECK_EVERY: Duration = Duration::from_secs(2);

pub fn ui(ui: &mut Ui, cx: &mut ScreenContext<'_>, project: Option<PathBuf>) {
    let backend = cx.backend;
    let stores = &mut *cx.stores;
    let state = &mut stores.memory;
    if state.listed_for.as_ref() != Some(&project) && !state.files.is_pending() {
        state.listed_for = Some(project.clone());
        state.files.start(backend.dispatch(MemoryList { project }));
    }
    if let Some(error) = state.error.clone() {
        error_line(ui, &error);
    }
    check_disk(ui, state, backend);
    save_draft(stores, backend, ui.input(|i| i.time));
    let state = &mut stores.memory;
    ui.horizontal_top(|ui| {
        ui.vertical(|ui| {
            ui.set_width(220.0);
            files_ui(ui, state, backend);
        });
        ui.separator();
        ui.vertical(|ui| editor_ui(ui, state, &mut stores.settings, backend, &mut cx.conversations.markdown));
    });
    switch_prompt_ui(ui.ctx(), state, backend);
}

fn open(state: &mut MemoryState, backend: &Requests, path: PathBuf) {
    state.loading = Some(backend.dispatch(MemoryRead { path }));
}

/// Reads the open file again now and then, so a change on disk shows while editing.
fn check_disk(ui: &Ui, state: &mut MemoryState, backend: &Requests) {
    let Some(editor) = &state.editor else { return };
    let now = ui.input(|i| i.time);
    let id = egui::Id::unique("memory-last-check");
    let last: f64 = ui.data(|d| d.get_temp(id)).unwrap_or(0.0);
    if state.checking.is_none() && state.saving.is_none() && now - last >= CHECK_EVERY.as_secs_f64() {
        ui.data_mut(|d| d.insert_temp(id, now));
        state.checking = Some(backend.dispatch(MemoryRead {
            path: editor.path.clone(),
        }));
    }
    ui.ctx().request_repaint_after(CHECK_EVERY);
}

/// Keeps unsaved text in the settings (written when it changes, at most once a second).
fn save_draft(stores: &mut Stores, backend: &Requests, now: f64) {
    let Some(editor) = stores.memory.editor.as_mut() else {
        return;
    };
    // Runs every frame: compare in place and copy the text only when a write is due.
    let draft = if editor.dirty() { editor.text.as_str() } else { "" };
    if draft == editor.draft_saved || (!draft.is_empty() && now - editor.draft_at < 1.0) {
        return;
    }
    let draft = draft.to_owned();
    editor.draft_at = now;
    editor.draft_saved = draft.clone();
    backend.dispatch(stores.settings.change(Setting::MemoryDraft {
        path: editor.path.clone(),
        text: draft,
    }));
}

fn files_ui(ui: &mut Ui, state: &mut MemoryState, backend: &Requests) {
    if let Some(error) = state.files.error() {
        error_line(ui, error);
    }
    let Some(files) = state.files.value().cloned() else {
        ui.spinner();
        return;
    };
    for file in files {
        let open_now = state.editor.as_ref().is_some_and(|e| e.path == file.path);
        let label = if file.exists {
            file.label.clone()
        } else {
            format!("{} (new)", file.label)
        };
        if ui
            .selectable_label(open_now, label)
            .on_hover_text(file.path.display().to_string())
            .clicked()
            && !open_now
        {
            if state.dirty() {
                state.switch_to = Some(file.path.clone());
            } else {
                open(state, backend, file.path.clone());
            }
        }
    }
}

fn editor_ui(
    ui: &mut Ui,
    state: &mut MemoryState,
    settings: &mut SettingsStore,
    backend: &Requests,
    markdown: &mut egui_commonmark::CommonMarkCache,
) {
    let saving = state.saving.is_some();
    let Some(editor) = state.editor.as_mut() else {
        ui.label(RichText::new("Pick a memory file to edit").color(theme::muted(ui.visuals())));
        return;
    };
    let mut save = false;
    ui.horizontal(|ui| {
        ui.label(RichText::new(editor.path.display().to_string()).monospace());
        if editor.dirty() {
            ui.label(RichText::new("• unsaved").color(theme::accent(ui.visuals())));
        }
    });
    if let Some(draft) = editor.draft.clone() {
        ui.horizontal(|ui| {
            ui.label("An unsaved draft of this file was kept from before.");
            if ui.button("Restore draft").clicked() {
                editor.text = draft;
                editor.draft = None;
            }
            if ui.button("Discard draft").clicked() {
                editor.draft = None;
                editor.draft_saved.clear();
                backend.dispatch(settings.change(Setting::MemoryDraft {
                    path: editor.path.clone(),
                    text: String::new(),
                }));
            }
        });
    }
    if let Some(theirs) = editor.theirs.clone() {
        egui::Frame::group(ui.style()).show(ui, |ui| {
            error_line(ui, "This file changed on disk while you were editing it.");
            ui.horizontal(|ui| {
                let text = theirs.clone().unwrap_or_default();
                if ui
                    .button("Reload")
                    .on_hover_text("Take the file as it is; drop my changes")
                    .clicked()
                {
                    editor.base = text.clone();
                    editor.text = text.clone();
                    editor.theirs = None;
                }
                if ui
                    .button("Merge")
                    .on_hover_text("Put both versions in the text with conflict markers")
                    .clicked()
                {
                    editor.text = merge_text(&editor.text, &text);
                    editor.base = text.clone();
                    editor.theirs = None;
                }
                if ui
                    .button("Keep mine")
                    .on_hover_text("Save my text over the file")
                    .clicked()
                {
                    editor.theirs = None;
                    save = true;
                }
            });
            if let Some(text) = &theirs {
                ui.collapsing("The file now", |ui| ui.label(RichText::new(text).monospace()));
            }
        });
    }
    ui.horizontal(|ui| {
        ui.selectable_value(&mut editor.preview, false, "Edit");
        ui.selectable_value(&mut editor.preview, true, "Preview");
        let can_save = !saving && editor.theirs.is_none();
        if ui.add_enabled(can_save, egui::Button::new("Save")).clicked() {
            save = true;
        }
        if ui.add_enabled(editor.dirty(), egui::Button::new("Revert")).clicked() {
            editor.text = editor.base.clone();
        }
    });
    egui::ScrollArea::vertical().id_salt("memory-text").show(ui, |ui| {
        if editor.preview {
            egui_commonmark::CommonMarkViewer::new().show(ui, markdown, &editor.text);
        } else {
            let label = ui.label("Memory text");
            ui.add(
                egui::TextEdit::multiline(&mut editor.text)
                    .code_editor()
                    .desired_rows(20)
                    .desired_width(f32::INFINITY),
            )
            .labelled_by(label.id);
        }
    });
    if save {
        let command = MemorySave {
            path: editor.path.clone(),
            text: editor.text.clone(),
            expected: Some(editor.version.clone()),
        };
        // A disk check still under way may have read the file before this save: its answer is dropped.
        state.checking = None;
        state.saving = Some(backend.dispatch(command));
    }
}

fn switch_prompt_ui(ctx: &egui::Context, state: &mut MemoryState, backend: &Requests) {
    let Some(path) = state.switch_to.clone() else { return };
    Modal::new(egui::Id::unique("memory-switch")).show(ctx, |ui| {
        ui.label("The open memory file has unsaved changes. They stay as a draft if you discard them here.");
        ui.horizontal(|ui| {
            if ui.button("Discard changes").clicked() {
                state.switch_to = None;
                open(state, backend, path.clone());
            }
            if ui.button("Keep editing").clicked() {
                state.switch_to = None;
            }
        });
    });
}

/// The window asks to close: with unsaved memory text, cancel and ask. Returns true once closing is fine.
pub fn may_close(ctx: &egui::Context, stores: &mut Stores) -> bool {
    let state = &mut stores.memory;
    if ctx.input(|i| i.viewport().close_requested()) && state.dirty() && !state.close_anyway {
        ctx.send_viewport_cmd(egui::ViewportCommand::CancelClose);
        state.close_prompt = true;
        return false;
    }
    true
}

/// The unsaved-changes prompt on close.
pub fn close_prompt_ui(ctx: &egui::Context, stores: &mut Stores, backend: &Requests) {
    if !stores.memory.close_prompt {
        return;
    }
    Modal::new(egui::Id::unique("memory-close")).show(ctx, |ui| {
        ui.label("A CLAUDE.md file has unsaved changes.");
        ui.horizontal(|ui| {
            let state = &mut stores.memory;
            if ui.button("Save and close").clicked()
                && let Some(editor) = &state.editor
            {
                state.saving = Some(backend.dispatch(MemorySave {
                    path: editor.path.clone(),
                    text: editor.text.clone(),
                    expected: Some(editor.version.clone()),
                }));
                state.close_prompt = false;
                state.close_anyway = true;
                ctx.send_viewport_cmd(egui::ViewportCommand::Close);
            }
            if ui.button("Close without saving").clicked() {
                state.close_prompt = false;
                state.close_anyway = true;
                ctx.send_viewport_cmd(egui::ViewportCommand::Close);
            }
            if ui.button("Cancel").clicked() {
                state.close_prompt = false;
            }
        });
    });
}
