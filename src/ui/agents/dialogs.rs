//! The Agents screen's small dialogs: run an agent, import, export, delete.

use egui::{Modal, RichText};

use crate::domain::agents::files::{Conflict, ImportPreview};
use crate::domain::agents::requests::{DeleteAgent, ExecuteAgent, ExportAgents, ImportAgents, PreviewAgentImport};
use crate::domain::agents::trust;
use crate::ui::{ScreenContext, theme};

pub fn run_dialog_ui(ctx: &egui::Context, cx: &mut ScreenContext<'_>) {
    let store = &mut cx.stores.agents;
    let Some(dialog) = store.run_dialog.as_mut() else {
        return;
    };
    let (mut run, mut close) = (false, false);
    let modal = Modal::new(egui::Id::unique("agent-run")).show(ctx, |ui| {
        ui.set_width(560.0);
        ui.heading(format!("Run {}", dialog.agent_name));
        egui::Grid::new("agent-run-form")
            .num_columns(2)
            .spacing([12.0, 8.0])
            .show(ui, |ui| {
                let label = ui.label("Project");
                ui.add(egui::TextEdit::singleline(&mut dialog.project).desired_width(400.0))
                    .labelled_by(label.id);
                ui.end_row();
                let label = ui.label("Task");
                ui.add(
                    egui::TextEdit::multiline(&mut dialog.task)
                        .desired_rows(3)
                        .desired_width(400.0),
                )
                .labelled_by(label.id);
                ui.end_row();
                let label = ui.label("Model");
                ui.add(
                    egui::TextEdit::singleline(&mut dialog.model)
                        .hint_text("the agent's model")
                        .desired_width(400.0),
                )
                .labelled_by(label.id);
                ui.end_row();
            });
        ui.horizontal(|ui| {
            let ready = !dialog.project.trim().is_empty() && !dialog.task.trim().is_empty();
            if ui
                .add_enabled(ready, egui::Button::new(RichText::new("▶ Run").strong()))
                .clicked()
            {
                run = true;
            }
            if ui.button("Cancel").clicked() {
                close = true;
            }
        });
    });
    if run {
        cx.backend.dispatch(ExecuteAgent {
            agent_id: dialog.agent_id,
            project_path: std::path::PathBuf::from(dialog.project.trim()),
            task: dialog.task.clone(),
            model: Some(dialog.model.clone()).filter(|m| !m.trim().is_empty()),
            interactive: true,
        });
        store.run_dialog = None;
    } else if close || modal.should_close() {
        store.run_dialog = None;
    }
}

pub fn import_dialog_ui(ctx: &egui::Context, cx: &mut ScreenContext<'_>) {
    let store = &mut cx.stores.agents;
    let Some(dialog) = store.import.as_mut() else { return };
    let (mut close, mut import) = (false, None);
    let modal = Modal::new(egui::Id::unique("agent-import")).show(ctx, |ui| {
        ui.set_width(560.0);
        ui.heading("Import agents");
        ui.label(
            RichText::new("ANYON agent files, and .opcode.json / .claudia.json files of earlier apps.")
                .color(theme::muted(ui.visuals())),
        );
        ui.horizontal(|ui| {
            let label = ui.label("File");
            ui.add(egui::TextEdit::singleline(&mut dialog.path).desired_width(360.0))
                .labelled_by(label.id);
            if ui.button("Preview").clicked() && !dialog.path.trim().is_empty() {
                let path = std::path::PathBuf::from(dialog.path.trim());
                dialog.trusted = false;
                dialog.preview.start(cx.backend.dispatch(PreviewAgentImport { path }));
            }
        });
        if let Some(error) = dialog.preview.error() {
            ui.label(RichText::new(format!("⚠ {error}")).color(theme::error(ui.visuals())));
        }
        let can_import = dialog.can_import();
        let needs_trust = dialog.needs_trust();
        if let Some(preview) = dialog.preview.value() {
            let conflicts = preview.iter().filter(|p| p.conflicts_with.is_some()).count();
            egui::ScrollArea::vertical().max_height(420.0).show(ui, |ui| {
                for item in preview {
                    preview_item_ui(ui, item);
                }
            });
            if needs_trust {
                ui.checkbox(
                    &mut dialog.trusted,
                    "I trust these hooks and permission modes (Claude runs the hooks without asking)",
                );
            }
            ui.add_enabled_ui(can_import, |ui| {
                ui.horizontal(|ui| {
                    if conflicts == 0 {
                        if ui.button(RichText::new("Import").strong()).clicked() {
                            import = Some(Conflict::Rename);
                        }
                    } else {
                        ui.label(format!("{conflicts} name(s) taken:"));
                        if ui.button("Import renamed").clicked() {
                            import = Some(Conflict::Rename);
                        }
                        let replaces_hooks = preview.iter().any(|p| p.replaces_hooks);
                        let replace = ui.button("Replace existing");
                        let replace = if replaces_hooks {
                            replace.on_hover_text("Also replaces the hooks of the agents it replaces")
                        } else {
                            replace
                        };
                        if replace.clicked() {
                            import = Some(Conflict::Replace);
                        }
                        if ui.button("Skip those").clicked() {
                            import = Some(Conflict::Skip);
                        }
                    }
                });
            });
        }
        if let Some(error) = &dialog.error {
            ui.label(RichText::new(format!("⚠ {error}")).color(theme::error(ui.visuals())));
        }
        if ui.button("Cancel").clicked() {
            close = true;
        }
    });
    if let Some(conflict) = import
        && dialog.can_import()
    {
        let path = std::path::PathBuf::from(dialog.path.trim());
        dialog.conflict = Some(conflict);
        dialog.error = None;
        let trust = dialog.trust();
        dialog.importing = Some(cx.backend.dispatch(ImportAgents { path, conflict, trust }));
    } else if close || modal.should_close() {
        store.import = None;
    }
}

/// One agent of the file: its name, model and mode, tool rules and every hook command.
fn preview_item_ui(ui: &mut egui::Ui, item: &ImportPreview) {
    let draft = &item.record.draft;
    let warn = theme::error(ui.visuals());
    let muted = theme::muted(ui.visuals());
    let note = if item.conflicts_with.is_some() {
        "  (name taken)"
    } else {
        ""
    };
    ui.label(
        RichText::new(format!(
            "{} {} · {}{note}",
            crate::domain::agents::icon_glyph(&draft.icon),
            draft.name,
            draft.model
        ))
        .strong(),
    );
    let mode = draft.permission_mode;
    let mode_text = format!("Permission mode: {}", mode.as_str());
    if trust::mode_needs_trust(mode) {
        ui.label(RichText::new(format!("⚠ {mode_text} (skips questions)")).color(warn));
    } else {
        ui.label(mode_text);
    }
    let rules = |rules: &[String]| {
        if rules.is_empty() {
            "none".to_owned()
        } else {
            rules.join(", ")
        }
    };
    ui.label(format!("Allowed tools: {}", rules(&draft.allowed_tools)));
    ui.label(format!("Disallowed tools: {}", rules(&draft.disallowed_tools)));
    if item.hook_commands.is_empty() {
        ui.label(RichText::new("Hooks: none").color(muted));
    } else {
        ui.label(RichText::new("⚠ Hooks (commands Claude runs without asking):").color(warn));
        for hook in &item.hook_commands {
            ui.label(RichText::new(format!("  {hook}")).monospace());
        }
    }
    if item.replaces_hooks {
        if item.existing_hook_commands.is_empty() {
            ui.label(format!(
                "Replace existing: {} has no hooks now; it would get these",
                draft.name
            ));
        } else {
            ui.label(RichText::new(format!("Replace existing also replaces the hooks of {}:", draft.name)).color(warn));
            for hook in &item.existing_hook_commands {
                ui.label(RichText::new(format!("  {hook}")).monospace());
            }
        }
    }
    if let Some(invalid) = &item.invalid {
        ui.label(RichText::new(format!("⚠ Cannot be imported: {invalid}")).color(warn));
    }
    ui.separator();
}

pub fn export_dialog_ui(ctx: &egui::Context, cx: &mut ScreenContext<'_>) {
    let store = &mut cx.stores.agents;
    let Some((ids, path)) = store.export.as_mut() else {
        return;
    };
    let (mut export, mut close) = (false, false);
    let modal = Modal::new(egui::Id::unique("agent-export")).show(ctx, |ui| {
        ui.set_width(520.0);
        ui.heading(if ids.is_some() {
            "Export agent"
        } else {
            "Export all agents"
        });
        ui.horizontal(|ui| {
            let label = ui.label("File");
            ui.add(egui::TextEdit::singleline(path).desired_width(380.0))
                .labelled_by(label.id);
        });
        ui.horizontal(|ui| {
            if ui.button(RichText::new("Export").strong()).clicked() {
                export = true;
            }
            if ui.button("Cancel").clicked() {
                close = true;
            }
        });
    });
    if export {
        let command = ExportAgents {
            ids: ids.clone(),
            path: std::path::PathBuf::from(path.trim()),
        };
        cx.backend.dispatch(command);
    } else if close || modal.should_close() {
        store.export = None;
    }
}

pub fn delete_dialog_ui(ctx: &egui::Context, cx: &mut ScreenContext<'_>) {
    let store = &mut cx.stores.agents;
    let Some(agent) = store.confirm_delete.clone() else {
        return;
    };
    let (mut delete, mut close) = (false, false);
    let modal = Modal::new(egui::Id::unique("agent-delete")).show(ctx, |ui| {
        ui.heading(format!("Delete {}?", agent.draft.name));
        ui.label("Its run history stays, under its name.");
        ui.horizontal(|ui| {
            if ui
                .button(RichText::new("Delete").color(theme::error(ui.visuals())))
                .clicked()
            {
                delete = true;
            }
            if ui.button("Cancel").clicked() {
                close = true;
            }
        });
    });
    if delete {
        cx.backend.dispatch(DeleteAgent { id: agent.id });
        store.confirm_delete = None;
    } else if close || modal.should_close() {
        store.confirm_delete = None;
    }
}
