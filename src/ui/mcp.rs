//! The MCP screen: Claude's MCP servers in every scope, read from and written to Claude's own files, each
//! with a real connection test that runs in the background (a hanging server never blocks the window).

use std::path::PathBuf;
use std::time::Duration;

use egui::{Modal, RichText, Ui};

use super::widgets::{EmptyState, dismissable_note, error_line, screen_heading};
use super::{ScreenContext, theme};
use crate::backend::Requests;
use crate::backend::command::Command;
use crate::domain::mcp::probe::DEFAULT_TIMEOUT;
use crate::domain::mcp::requests::{
    McpAdd, McpExport, McpImport, McpImportPreview, McpList, McpRemove, McpTestConnection, McpUpdate,
};
use crate::domain::mcp::{McpImportSource, McpScope, McpServerSpec};
use crate::domain::mcp::{McpServer, Transport, mask};
use crate::state::nav::Screen;
use crate::state::{McpEditor, McpImportDialog, McpStore, TestStatus, mcp_key};

/// Connection tests started by the screen give up after this long.
const TEST_TIMEOUT: Duration = DEFAULT_TIMEOUT;

pub fn ui(ui: &mut Ui, cx: &mut ScreenContext<'_>) {
    screen_heading(ui, Screen::Mcp.heading());
    let ScreenContext { stores, backend, .. } = cx;
    let store = &mut stores.mcp;
    if store.project.is_empty() {
        store.project = stores.settings.default_project();
    }
    if (store.servers.never_requested() || store.stale) && !store.servers.is_pending() {
        refresh(store, backend);
    }
    toolbar_ui(ui, store, backend);
    dismissable_note(ui, &mut store.message);
    if let Some(error) = store.servers.error() {
        error_line(ui, error);
    }
    let Some(servers) = store.servers.value().cloned() else {
        ui.spinner();
        return;
    };
    // Every listed server is tested once in the background; results come in as they finish.
    for server in &servers {
        if !store.statuses.contains_key(&mcp_key(server)) {
            start_test(store, backend, server);
        }
    }
    if servers.is_empty() {
        EmptyState {
            icon: "🔌",
            title: "No MCP servers yet",
            body: "Add a server, or import them from Claude Desktop or a JSON file. ANYON writes them to \
                   Claude's own files (~/.claude.json and the project's .mcp.json), as `claude mcp add` does.",
            detail: None,
        }
        .ui(ui);
    } else {
        egui::ScrollArea::vertical().auto_shrink([false, false]).show(ui, |ui| {
            for server in &servers {
                server_ui(ui, store, backend, server);
                ui.separator();
            }
        });
    }
    editor_ui(ui.ctx(), store, backend);
    import_ui(ui.ctx(), store, backend);
}

fn refresh(store: &mut McpStore, backend: &Requests) {
    store.stale = false;
    let project = (!store.project.trim().is_empty()).then(|| PathBuf::from(store.project.trim()));
    store.servers.start(backend.dispatch(McpList { project }));
}

fn start_test(store: &mut McpStore, backend: &Requests, server: &McpServer) {
    let cwd = match server.scope {
        McpScope::User => (!store.project.trim().is_empty()).then(|| PathBuf::from(store.project.trim())),
        _ => server.project.clone(),
    };
    let id = backend.dispatch(McpTestConnection {
        name: server.name.clone(),
        config: server.config.clone(),
        project_path: cwd,
        timeout: TEST_TIMEOUT,
    });
    store.testing(id, mcp_key(server));
}

fn toolbar_ui(ui: &mut Ui, store: &mut McpStore, backend: &Requests) {
    ui.horizontal(|ui| {
        if ui.button("Add server").clicked() {
            store.editor = Some(McpEditor::new(store.project.clone()));
        }
        if ui.button("Import…").clicked() {
            store.import = Some(McpImportDialog::default());
        }
        if ui.button("⟳ Refresh").clicked() && !store.servers.is_pending() {
            store.statuses.clear();
            refresh(store, backend);
        }
        ui.separator();
        let label = ui.label("Project");
        let edit = ui
            .add(egui::TextEdit::singleline(&mut store.project).desired_width(280.0))
            .labelled_by(label.id)
            .on_hover_text("Whose .mcp.json is read, and where new local and project servers go");
        if edit.lost_focus() {
            store.stale = true;
        }
    });
    ui.horizontal(|ui| {
        let label = ui.label("Export all to");
        ui.add(
            egui::TextEdit::singleline(&mut store.export_path)
                .hint_text("/path/to/mcp-servers.json")
                .desired_width(280.0),
        )
        .labelled_by(label.id);
        let ready = !store.export_path.trim().is_empty() && store.exporting.is_none();
        if ui.add_enabled(ready, egui::Button::new("Export all")).clicked() {
            export(store, backend, Vec::new());
        }
    });
    ui.add_space(6.0);
}

fn export(store: &mut McpStore, backend: &Requests, servers: Vec<crate::domain::mcp::McpServerRef>) {
    let project = (!store.project.trim().is_empty()).then(|| PathBuf::from(store.project.trim()));
    store.exporting = Some(backend.dispatch(McpExport {
        path: PathBuf::from(store.export_path.trim()),
        servers,
        project,
    }));
}

fn scope_label(server: &McpServer) -> String {
    match &server.project {
        Some(project) => format!("{} · {}", server.scope, project.display()),
        None => server.scope.to_string(),
    }
}

fn server_ui(ui: &mut Ui, store: &mut McpStore, backend: &Requests, server: &McpServer) {
    let key = mcp_key(server);
    let revealed = store.revealed.contains(&key);
    ui.horizontal(|ui| {
        ui.label(RichText::new(&server.name).strong().size(15.0));
        ui.label(RichText::new(server.transport.as_str()).monospace());
        ui.label(RichText::new(scope_label(server)).color(theme::muted(ui.visuals())));
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            if ui.button("Remove").clicked() && store.saving.is_none() {
                store.saving = Some(backend.dispatch(McpRemove {
                    server: server.reference(),
                }));
            }
            if ui.button("Edit").clicked() {
                store.editor = Some(McpEditor::edit(server, store.project.clone()));
            }
            let testing = matches!(store.statuses.get(&key), Some(TestStatus::Testing));
            if ui.add_enabled(!testing, egui::Button::new("Test")).clicked() {
                start_test(store, backend, server);
            }
            let has_secrets = !server.env.is_empty() || !server.headers.is_empty();
            if has_secrets {
                let text = if revealed { "Hide values" } else { "Reveal values" };
                if ui.button(text).clicked() {
                    if revealed {
                        store.revealed.remove(&key);
                    } else {
                        store.revealed.insert(key.clone());
                    }
                }
            }
            if !store.export_path.trim().is_empty()
                && store.exporting.is_none()
                && ui
                    .button("Export")
                    .on_hover_text("Write this server to the export file")
                    .clicked()
            {
                export(store, backend, vec![server.reference()]);
            }
        });
    });
    ui.label(RichText::new(server.target()).monospace());
    for (kind, pairs) in [("env", &server.env), ("header", &server.headers)] {
        for (k, v) in pairs.iter() {
            let shown = if revealed { v.clone() } else { mask(v) };
            ui.label(RichText::new(format!("{kind} {k} = {shown}")).monospace().small());
        }
    }
    match store.statuses.get(&key) {
        None | Some(TestStatus::Testing) => {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label("Testing connection…");
            });
        }
        Some(TestStatus::Done(report)) => match &report.failure {
            None => {
                let text = format!(
                    "✔ Connected: {} {} · {} tools · {} ms",
                    report.server_name.as_deref().unwrap_or("?"),
                    report.server_version.as_deref().unwrap_or(""),
                    report.tools.len(),
                    report.elapsed_ms
                );
                ui.label(RichText::new(text).color(theme::success(ui.visuals())));
                if !report.tools.is_empty() {
                    egui::CollapsingHeader::new(format!("Tools ({})", report.tools.len()))
                        .id_salt(("mcp-tools", &key))
                        .show(ui, |ui| {
                            for tool in &report.tools {
                                ui.horizontal_wrapped(|ui| {
                                    ui.label(RichText::new(&tool.name).monospace());
                                    if let Some(description) = &tool.description {
                                        ui.label(RichText::new(description).small().color(theme::muted(ui.visuals())));
                                    }
                                });
                            }
                        });
                }
            }
            Some(failure) => error_line(ui, &format!("Failed: {failure}")),
        },
    }
}

fn pairs_ui(ui: &mut Ui, id: &str, pairs: &mut Vec<(String, String)>, key_hint: &str) {
    let mut remove = None;
    for (index, (k, v)) in pairs.iter_mut().enumerate() {
        ui.horizontal(|ui| {
            ui.add(egui::TextEdit::singleline(k).hint_text(key_hint).desired_width(160.0));
            ui.add(egui::TextEdit::singleline(v).hint_text("value").desired_width(260.0));
            if ui.small_button("×").on_hover_text("Remove").clicked() {
                remove = Some(index);
            }
        });
    }
    if let Some(index) = remove {
        pairs.remove(index);
    }
    if ui.small_button(format!("Add {id}")).clicked() {
        pairs.push((String::new(), String::new()));
    }
}

fn editor_ui(ctx: &egui::Context, store: &mut McpStore, backend: &Requests) {
    let Some(editor) = store.editor.as_mut() else { return };
    let mut close = false;
    let mut save = false;
    Modal::new(egui::Id::unique("mcp-editor")).show(ctx, |ui| {
        ui.set_width(620.0);
        ui.heading(if editor.previous.is_some() {
            "Edit MCP server"
        } else {
            "Add MCP server"
        });
        ui.add_space(6.0);
        egui::Grid::new("mcp-form")
            .num_columns(2)
            .spacing([12.0, 8.0])
            .show(ui, |ui| {
                let label = ui.label("Name");
                ui.add(egui::TextEdit::singleline(&mut editor.name).desired_width(320.0))
                    .labelled_by(label.id);
                ui.end_row();
                ui.label("Scope");
                ui.horizontal(|ui| {
                    for scope in McpScope::ALL {
                        ui.selectable_value(&mut editor.scope, scope, scope.as_str());
                    }
                });
                ui.end_row();
                if editor.scope != McpScope::User {
                    let label = ui.label("Project");
                    ui.add(egui::TextEdit::singleline(&mut editor.project).desired_width(420.0))
                        .labelled_by(label.id);
                    ui.end_row();
                }
                ui.label("Form");
                ui.horizontal(|ui| {
                    ui.selectable_value(&mut editor.json_mode, false, "Fields");
                    if ui.selectable_value(&mut editor.json_mode, true, "JSON").clicked()
                        && let Ok(config) = editor.clone().with_json_mode(false).config()
                    {
                        editor.json = serde_json::to_string_pretty(&config).unwrap_or_default();
                    }
                });
                ui.end_row();
            });
        ui.add_space(6.0);
        if editor.json_mode {
            ui.label("The server's entry, stored as given (like `claude mcp add-json`)");
            ui.add(
                egui::TextEdit::multiline(&mut editor.json)
                    .code_editor()
                    .desired_rows(8)
                    .desired_width(f32::INFINITY),
            );
        } else {
            ui.horizontal(|ui| {
                ui.label("Transport");
                for transport in [Transport::Stdio, Transport::Http, Transport::Sse] {
                    ui.selectable_value(&mut editor.transport, transport, transport.as_str());
                }
            });
            match editor.transport {
                Transport::Stdio => {
                    ui.horizontal(|ui| {
                        let label = ui.label("Command");
                        ui.add(
                            egui::TextEdit::singleline(&mut editor.command)
                                .hint_text("npx")
                                .desired_width(420.0),
                        )
                        .labelled_by(label.id);
                    });
                    let label = ui.label("Arguments, one per line");
                    ui.add(
                        egui::TextEdit::multiline(&mut editor.args)
                            .desired_rows(3)
                            .desired_width(f32::INFINITY),
                    )
                    .labelled_by(label.id);
                    ui.label("Environment");
                    pairs_ui(ui, "variable", &mut editor.env, "NAME");
                }
                Transport::Http | Transport::Sse => {
                    ui.horizontal(|ui| {
                        let label = ui.label("URL");
                        ui.add(
                            egui::TextEdit::singleline(&mut editor.url)
                                .hint_text("https://example.com/mcp")
                                .desired_width(420.0),
                        )
                        .labelled_by(label.id);
                    });
                    ui.label("Headers");
                    pairs_ui(ui, "header", &mut editor.headers, "Authorization");
                }
            }
        }
        if let Some(error) = &editor.error {
            error_line(ui, error);
        }
        ui.add_space(8.0);
        ui.horizontal(|ui| {
            if ui.button("Save").clicked() {
                save = true;
            }
            if ui.button("Cancel").clicked() {
                close = true;
            }
        });
    });
    if close {
        store.editor = None;
        return;
    }
    if save && store.saving.is_none() {
        let config = match editor.config() {
            Ok(config) => config,
            Err(error) => {
                editor.error = Some(error.to_string());
                return;
            }
        };
        let spec = McpServerSpec {
            name: editor.name.trim().to_owned(),
            scope: editor.scope,
            config,
            project_path: editor.project_path(),
            overwrite: false,
        };
        let command: Command = match editor.previous.clone() {
            Some(previous) => McpUpdate { previous, spec }.into(),
            None => McpAdd { spec }.into(),
        };
        editor.error = None;
        store.saving = Some(backend.dispatch(command));
    }
}

trait WithJsonMode {
    fn with_json_mode(self, on: bool) -> Self;
}

impl WithJsonMode for McpEditor {
    fn with_json_mode(mut self, on: bool) -> Self {
        self.json_mode = on;
        self
    }
}

fn import_ui(ctx: &egui::Context, store: &mut McpStore, backend: &Requests) {
    let project = store.project.clone();
    let running = store.import_running.is_some();
    let Some(dialog) = store.import.as_mut() else { return };
    let mut close = false;
    let mut import = false;
    let mut to_import = None;
    Modal::new(egui::Id::unique("mcp-import")).show(ctx, |ui| {
        ui.set_width(620.0);
        ui.heading("Import MCP servers");
        ui.add_space(6.0);
        let scope = dialog.scope.get_or_insert(McpScope::Local);
        ui.horizontal(|ui| {
            ui.label("Into scope");
            for s in McpScope::ALL {
                ui.selectable_value(scope, s, s.as_str());
            }
        });
        let scope = *scope;
        let project_path = (scope != McpScope::User).then(|| PathBuf::from(project.trim()));
        ui.horizontal(|ui| {
            let label = ui.label("JSON file");
            ui.add(
                egui::TextEdit::singleline(&mut dialog.path)
                    .hint_text("/path/to/servers.json")
                    .desired_width(360.0),
            )
            .labelled_by(label.id);
            if ui
                .add_enabled(!dialog.path.trim().is_empty(), egui::Button::new("Preview"))
                .clicked()
            {
                dialog.pending = Some(backend.dispatch(McpImportPreview {
                    source: McpImportSource::File {
                        path: PathBuf::from(dialog.path.trim()),
                        name: None,
                    },
                    scope,
                    project_path: project_path.clone(),
                }));
            }
        });
        if ui.button("From Claude Desktop").clicked() {
            dialog.pending = Some(backend.dispatch(McpImportPreview {
                source: McpImportSource::ClaudeDesktop { path: None },
                scope,
                project_path: project_path.clone(),
            }));
        }
        if dialog.pending.is_some() {
            ui.spinner();
        }
        if let Some(source) = &dialog.source {
            ui.label(RichText::new(format!("From {}", source.display())).color(theme::muted(ui.visuals())));
        }
        for (entry, chosen) in dialog.entries.iter().zip(dialog.chosen.iter_mut()) {
            ui.horizontal(|ui| {
                let transport = entry.transport.map(Transport::as_str).unwrap_or("?");
                let label = format!("{}  ({transport})", entry.name);
                ui.add_enabled(entry.problem.is_none(), egui::Checkbox::new(chosen, label));
                if let Some(problem) = &entry.problem {
                    error_line(ui, problem);
                } else if entry.exists {
                    ui.label(RichText::new("exists: replaces it").color(theme::muted(ui.visuals())));
                }
            });
        }
        if let Some(error) = &dialog.error {
            error_line(ui, error);
        }
        ui.add_space(8.0);
        ui.horizontal(|ui| {
            let any = dialog.chosen.iter().any(|c| *c);
            if ui.add_enabled(any && !running, egui::Button::new("Import")).clicked() {
                import = true;
            }
            if ui.button("Cancel").clicked() {
                close = true;
            }
        });
        if import {
            let servers: Vec<McpServerSpec> = dialog
                .entries
                .iter()
                .zip(&dialog.chosen)
                .filter(|(e, chosen)| **chosen && e.problem.is_none())
                .map(|(e, _)| McpServerSpec {
                    name: e.name.clone(),
                    scope,
                    config: e.config.clone(),
                    project_path: project_path.clone(),
                    overwrite: e.exists,
                })
                .collect();
            to_import = Some(servers);
        }
    });
    if let Some(servers) = to_import {
        store.import_running = Some(backend.dispatch(McpImport { servers }));
    }
    if close {
        store.import = None;
    }
}
