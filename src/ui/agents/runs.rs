//! The run history and one run's output (live or read back from its record).

use egui::RichText;
use egui_extras::{Column, TableBuilder};

use crate::domain::agents::icon_glyph;
use crate::domain::agents::requests::{KillAgentSession, ListAgentRuns, ReadAgentRunOutput};
use crate::domain::agents::table::{AgentRun, RunStatus};
use crate::state::{AgentsView, RunDialog};
use crate::ui::chat::{permission, transcript};
use crate::ui::widgets::error_line;
use crate::ui::{ScreenContext, theme};

/// Offsets agent-run ids in the shared transcript caches so they never meet chat tab ids.
const TRANSCRIPT_KEY_BASE: u64 = 1 << 40;

pub fn history_ui(ui: &mut egui::Ui, cx: &mut ScreenContext<'_>) {
    let store = &mut cx.stores.agents;
    let mut refilter = false;
    ui.horizontal(|ui| {
        let agents = store.agents.value().cloned().unwrap_or_default();
        let current = store
            .filter_agent
            .and_then(|id| agents.iter().find(|a| a.id == id))
            .map_or("All agents".to_owned(), |a| a.draft.name.clone());
        let label = ui.label("Agent");
        egui::ComboBox::from_id_salt("runs-agent")
            .selected_text(current)
            .show_ui(ui, |ui| {
                refilter |= ui
                    .selectable_value(&mut store.filter_agent, None, "All agents")
                    .changed();
                for agent in &agents {
                    refilter |= ui
                        .selectable_value(&mut store.filter_agent, Some(agent.id), &agent.draft.name)
                        .changed();
                }
            })
            .response
            .labelled_by(label.id);
        let label = ui.label("Status");
        egui::ComboBox::from_id_salt("runs-status")
            .selected_text(store.filter_status.map_or("Any", RunStatus::as_str))
            .show_ui(ui, |ui| {
                refilter |= ui.selectable_value(&mut store.filter_status, None, "Any").changed();
                for status in RunStatus::ALL {
                    refilter |= ui
                        .selectable_value(&mut store.filter_status, Some(status), status.as_str())
                        .changed();
                }
            })
            .response
            .labelled_by(label.id);
    });
    if refilter {
        let command = ListAgentRuns {
            agent_id: store.filter_agent,
            status: store.filter_status,
        };
        store.runs.start(cx.backend.dispatch(command));
    }
    if let Some(error) = store.runs.error() {
        error_line(ui, error);
    }
    let runs: Vec<AgentRun> = store
        .runs
        .value()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|r| store.filter_agent.is_none_or(|id| r.agent_id == Some(id)))
        .filter(|r| store.filter_status.is_none_or(|s| r.status == s))
        .collect();
    if runs.is_empty() {
        ui.label(RichText::new("No runs yet.").color(theme::muted(ui.visuals())));
        return;
    }
    let mut open = None;
    let visuals = ui.visuals().clone();
    TableBuilder::new(ui)
        .id_salt("agent-runs")
        .striped(true)
        .sense(egui::Sense::click())
        .column(Column::exact(50.0))
        .column(Column::initial(160.0).resizable(true).clip(true))
        .column(Column::exact(90.0))
        .column(Column::initial(260.0).resizable(true).clip(true))
        .column(Column::exact(150.0))
        .column(Column::exact(70.0))
        .column(Column::exact(110.0))
        .column(Column::remainder())
        .header(22.0, |mut header| {
            for title in ["#", "Agent", "Status", "Task", "Started", "Time", "Tokens", "Cost"] {
                header.col(|ui| {
                    ui.strong(title);
                });
            }
        })
        .body(|body| {
            body.rows(22.0, runs.len(), |mut row| {
                let run = &runs[row.index()];
                let cells = [
                    format!("{}", run.id),
                    format!("{} {}", icon_glyph(&run.agent_icon), run.agent_name),
                    run.status.as_str().to_owned(),
                    run.task.lines().next().unwrap_or("").to_owned(),
                    run.started_at.replace('T', " ").chars().take(19).collect(),
                    run.duration_ms
                        .map_or("-".into(), |ms| format!("{:.1} s", ms as f64 / 1000.0)),
                    format!("{} / {}", run.input_tokens, run.output_tokens),
                    run.total_cost_usd.map_or("-".into(), |c| format!("${c:.4}")),
                ];
                let mut clicked = false;
                for (index, cell) in cells.iter().enumerate() {
                    let (_, response) = row.col(|ui| {
                        let text = RichText::new(cell);
                        let text = if index == 2 {
                            text.color(status_color(run.status, &visuals))
                        } else {
                            text
                        };
                        ui.add(egui::Label::new(text).truncate().selectable(false));
                    });
                    clicked |= response.clicked();
                }
                if clicked {
                    open = Some(run.id);
                }
            });
        });
    if let Some(id) = open {
        open_run(cx, id);
    }
}

fn status_color(status: RunStatus, visuals: &egui::Visuals) -> egui::Color32 {
    match status {
        RunStatus::Completed => theme::success(visuals),
        RunStatus::Failed | RunStatus::Interrupted => theme::error(visuals),
        RunStatus::Running | RunStatus::Pending => theme::accent(visuals),
        RunStatus::Cancelled => theme::muted(visuals),
    }
}

/// Shows a run: live output when it runs in this window, else its record read back.
fn open_run(cx: &mut ScreenContext<'_>, agent_run_id: i64) {
    let store = &mut cx.stores.agents;
    if store.outputs.contains_key(&agent_run_id) {
        store.view = AgentsView::Run(agent_run_id);
    } else {
        cx.backend.dispatch(ReadAgentRunOutput { agent_run_id });
    }
}

pub fn run_ui(ui: &mut egui::Ui, cx: &mut ScreenContext<'_>, agent_run_id: i64) {
    let ScreenContext {
        stores,
        backend,
        conversations,
    } = cx;
    let backend: &crate::backend::Requests = backend;
    let store = &mut stores.agents;
    let run = store.run(agent_run_id).cloned();
    let live = store.is_live(agent_run_id);
    ui.horizontal(|ui| {
        if ui.button("⏴ History").clicked() {
            store.view = AgentsView::History;
        }
        match &run {
            Some(run) => {
                ui.label(
                    RichText::new(format!(
                        "{} {} · run #{}",
                        icon_glyph(&run.agent_icon),
                        run.agent_name,
                        run.id
                    ))
                    .strong(),
                );
                ui.label(RichText::new(run.status.as_str()).color(status_color(run.status, ui.visuals())));
                if let Some(cost) = run.total_cost_usd {
                    ui.label(format!(
                        "${cost:.4} · {} in / {} out",
                        run.input_tokens, run.output_tokens
                    ));
                }
                if live {
                    ui.spinner();
                    if ui.button("⏹ Kill").clicked() {
                        backend.dispatch(KillAgentSession { agent_run_id });
                    }
                } else if let Some(agent_id) = run.agent_id
                    && ui
                        .button("Run again")
                        .on_hover_text("Same agent, task, model and project")
                        .clicked()
                {
                    store.run_dialog = Some(RunDialog {
                        agent_id,
                        agent_name: run.agent_name.clone(),
                        project: run.project_path.clone(),
                        task: run.task.clone(),
                        model: run.model.clone(),
                    });
                }
            }
            None => {
                ui.label(format!("Run #{agent_run_id}"));
            }
        }
    });
    if let Some(error) = run.as_ref().and_then(|r| r.error.clone()) {
        error_line(ui, &error);
    }
    let Some(session) = store.outputs.get_mut(&agent_run_id) else {
        ui.label(RichText::new("Loading the run's output…").color(theme::muted(ui.visuals())));
        return;
    };
    permission::cards_ui(ui, session, backend, &mut conversations.markdown);
    let key = TRANSCRIPT_KEY_BASE + agent_run_id as u64;
    let cache = conversations.transcripts.entry(key).or_default();
    transcript::ui(ui, key, session, cache, &mut conversations.markdown);
}
