//! The agent form: every field a person edits, validated by the backend on save.

use egui::{Modal, RichText};

use crate::backend::command::Command;
use crate::domain::agents::requests::{CreateAgent, UpdateAgent};
use crate::domain::agents::{ICONS, PermissionMode, PromptMode, parse_tools};
use crate::ui::{ScreenContext, theme};

pub fn editor_ui(ctx: &egui::Context, cx: &mut ScreenContext<'_>) {
    let store = &mut cx.stores.agents;
    let Some(editor) = store.editor.as_mut() else { return };
    let mut close = false;
    let mut save = false;
    let modal = Modal::new(egui::Id::unique("agent-editor")).show(ctx, |ui| {
        ui.set_width(700.0);
        ui.heading(if editor.id.is_some() { "Edit agent" } else { "New agent" });
        ui.add_space(6.0);
        egui::Grid::new("agent-form")
            .num_columns(2)
            .spacing([12.0, 8.0])
            .show(ui, |ui| {
                let label = ui.label("Name");
                ui.add(egui::TextEdit::singleline(&mut editor.draft.name).desired_width(360.0))
                    .labelled_by(label.id);
                ui.end_row();
                ui.label("Icon");
                ui.horizontal_wrapped(|ui| {
                    for (key, glyph) in ICONS {
                        let selected = editor.draft.icon == key;
                        if ui
                            .selectable_label(selected, RichText::new(glyph).size(16.0))
                            .on_hover_text(key)
                            .clicked()
                        {
                            editor.draft.icon = key.to_owned();
                        }
                    }
                });
                ui.end_row();
                let label = ui.label("Model");
                ui.add(
                    egui::TextEdit::singleline(&mut editor.draft.model)
                        .hint_text("sonnet, opus, haiku or a model id")
                        .desired_width(360.0),
                )
                .labelled_by(label.id);
                ui.end_row();
                let label = ui.label("Permissions");
                egui::ComboBox::from_id_salt("agent-mode")
                    .selected_text(editor.draft.permission_mode.as_str())
                    .show_ui(ui, |ui| {
                        for mode in PermissionMode::ALL {
                            ui.selectable_value(&mut editor.draft.permission_mode, mode, mode.as_str());
                        }
                    })
                    .response
                    .labelled_by(label.id);
                ui.end_row();
                let label = ui.label("System prompt");
                ui.vertical(|ui| {
                    ui.add(
                        egui::TextEdit::multiline(&mut editor.draft.system_prompt)
                            .desired_rows(5)
                            .desired_width(420.0),
                    )
                    .labelled_by(label.id);
                    let mut replace = editor.draft.prompt_mode == PromptMode::Replace;
                    if ui
                        .checkbox(
                            &mut replace,
                            "Replace Claude's own system prompt (instead of adding to it)",
                        )
                        .changed()
                    {
                        editor.draft.prompt_mode = if replace {
                            PromptMode::Replace
                        } else {
                            PromptMode::Append
                        };
                    }
                });
                ui.end_row();
                let label = ui.label("Default task");
                let mut task = editor.draft.default_task.clone().unwrap_or_default();
                if ui
                    .add(
                        egui::TextEdit::multiline(&mut task)
                            .desired_rows(2)
                            .desired_width(420.0),
                    )
                    .labelled_by(label.id)
                    .changed()
                {
                    editor.draft.default_task = Some(task);
                }
                ui.end_row();
                let label = ui.label("Allowed tools");
                ui.add(
                    egui::TextEdit::multiline(&mut editor.allowed_text)
                        .desired_rows(2)
                        .desired_width(420.0)
                        .hint_text("One rule per line, e.g. Read or Bash(git diff:*)"),
                )
                .labelled_by(label.id);
                ui.end_row();
                let label = ui.label("Disallowed tools");
                ui.add(
                    egui::TextEdit::multiline(&mut editor.disallowed_text)
                        .desired_rows(2)
                        .desired_width(420.0)
                        .hint_text("One rule per line, e.g. WebFetch"),
                )
                .labelled_by(label.id);
                ui.end_row();
            });
        if let Some(error) = &editor.error {
            ui.label(RichText::new(format!("⚠ {error}")).color(theme::error(ui.visuals())));
        }
        ui.horizontal(|ui| {
            if ui
                .add_enabled(
                    editor.saving.is_none(),
                    egui::Button::new(RichText::new("Save").strong()),
                )
                .clicked()
            {
                save = true;
            }
            if ui.button("Cancel").clicked() {
                close = true;
            }
            if editor.saving.is_some() {
                ui.spinner();
            }
        });
    });
    if modal.should_close() {
        close = true;
    }
    if save {
        let mut draft = editor.draft.clone();
        draft.allowed_tools = parse_tools(&editor.allowed_text);
        draft.disallowed_tools = parse_tools(&editor.disallowed_text);
        let command: Command = match editor.id {
            Some(id) => UpdateAgent { id, draft }.into(),
            None => CreateAgent { draft }.into(),
        };
        editor.error = None;
        editor.saving = Some(cx.backend.dispatch(command));
    } else if close {
        store.editor = None;
    }
}
