//! The Agents screen: the agents as cards, their editor, runs with live output, and the history.

mod dialogs;
mod editor;
mod runs;

use egui::RichText;

use super::widgets::{EmptyState, error_line, screen_heading};
use super::{ScreenContext, theme};
use crate::domain::agents::icon_glyph;
use crate::domain::agents::requests::{DuplicateAgent, ListAgentRuns, ListAgents};
use crate::state::nav::Screen;
use crate::state::{AgentEditor, AgentsView, ImportDialog, RunDialog};

pub fn ui(ui: &mut egui::Ui, cx: &mut ScreenContext<'_>) {
    screen_heading(ui, Screen::Agents.heading());
    let store = &mut cx.stores.agents;
    if store.agents.never_requested() || (store.stale && !store.agents.is_pending()) {
        store.agents.start(cx.backend.dispatch(ListAgents));
    }
    if store.runs.never_requested() || (store.stale && !store.runs.is_pending()) {
        let command = ListAgentRuns {
            agent_id: store.filter_agent,
            status: store.filter_status,
        };
        store.runs.start(cx.backend.dispatch(command));
    }
    store.stale = false;
    toolbar_ui(ui, cx);
    ui.add_space(6.0);
    match cx.stores.agents.view.clone() {
        AgentsView::List => list_ui(ui, cx),
        AgentsView::History => runs::history_ui(ui, cx),
        AgentsView::Run(id) => runs::run_ui(ui, cx, id),
    }
    editor::editor_ui(ui.ctx(), cx);
    dialogs::run_dialog_ui(ui.ctx(), cx);
    dialogs::import_dialog_ui(ui.ctx(), cx);
    dialogs::export_dialog_ui(ui.ctx(), cx);
    dialogs::delete_dialog_ui(ui.ctx(), cx);
}

fn toolbar_ui(ui: &mut egui::Ui, cx: &mut ScreenContext<'_>) {
    let store = &mut cx.stores.agents;
    ui.horizontal(|ui| {
        if ui.selectable_label(store.view == AgentsView::List, "Agents").clicked() {
            store.view = AgentsView::List;
        }
        if ui
            .selectable_label(
                matches!(store.view, AgentsView::History | AgentsView::Run(_)),
                "Run history",
            )
            .clicked()
        {
            store.view = AgentsView::History;
        }
        ui.separator();
        if ui.button("+ New agent").clicked() {
            store.editor = Some(AgentEditor::new());
        }
        if ui.button("Import…").clicked() {
            store.import = Some(ImportDialog::default());
        }
        if ui
            .add_enabled(
                store.agents.value().is_some_and(|a| !a.is_empty()),
                egui::Button::new("Export all…"),
            )
            .clicked()
        {
            store.export = Some((None, default_file("agents")));
        }
        if store.agents.is_pending() || store.runs.is_pending() {
            ui.spinner();
        }
    });
}

/// A file in the person's home (or downloads) folder for an export.
pub(super) fn default_file(what: &str) -> String {
    let dir = crate::util::paths::downloads_dir().unwrap_or_else(std::env::temp_dir);
    let name: String = what
        .chars()
        .map(|c| if c.is_alphanumeric() { c } else { '-' })
        .collect();
    dir.join(format!("{name}.anyon-agents.json")).display().to_string()
}

fn list_ui(ui: &mut egui::Ui, cx: &mut ScreenContext<'_>) {
    let store = &mut cx.stores.agents;
    if let Some(error) = store.agents.error() {
        error_line(ui, error);
    }
    let Some(agents) = store.agents.value().cloned() else {
        return;
    };
    if agents.is_empty() {
        EmptyState {
            icon: "🛠",
            title: "No agents yet",
            body: "An agent is a reusable Claude setup: a name, an icon, a system prompt, a default task, a \
                   model and the tools it may use. Create one, or import agent files from another app.",
            detail: None,
        }
        .ui(ui);
        return;
    }
    egui::ScrollArea::vertical().auto_shrink([false, false]).show(ui, |ui| {
        for agent in &agents {
            egui::Frame::new()
                .fill(theme::card_fill(ui.visuals()))
                .corner_radius(theme::CARD_RADIUS)
                .inner_margin(10)
                .show(ui, |ui| {
                    ui.set_width(ui.available_width());
                    ui.horizontal(|ui| {
                        ui.label(RichText::new(icon_glyph(&agent.draft.icon)).size(22.0));
                        ui.vertical(|ui| {
                            ui.label(RichText::new(&agent.draft.name).strong());
                            let task = agent.draft.default_task.as_deref().unwrap_or("No default task");
                            ui.label(
                                RichText::new(format!(
                                    "{} · {} · {task}",
                                    agent.draft.model, agent.draft.permission_mode
                                ))
                                .color(theme::muted(ui.visuals())),
                            );
                        });
                        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                            if ui.button("Delete").clicked() {
                                store.confirm_delete = Some(agent.clone());
                            }
                            if ui.button("Export").clicked() {
                                store.export = Some((Some(vec![agent.id]), default_file(&agent.draft.name)));
                            }
                            if ui.button("Duplicate").clicked() {
                                cx.backend.dispatch(DuplicateAgent { id: agent.id });
                            }
                            if ui.button("Edit").clicked() {
                                store.editor = Some(AgentEditor::edit(agent));
                            }
                            if ui
                                .button(RichText::new("▶ Run").strong())
                                .on_hover_text(format!("Run {}", agent.draft.name))
                                .clicked()
                            {
                                store.run_dialog = Some(RunDialog {
                                    agent_id: agent.id,
                                    agent_name: agent.draft.name.clone(),
                                    project: cx.stores.settings.default_project(),
                                    task: agent.draft.default_task.clone().unwrap_or_default(),
                                    model: String::new(),
                                });
                            }
                        });
                    });
                });
            ui.add_space(6.0);
        }
    });
}
