//! The SQL editor: one statement at a time, Ctrl+Enter to run, cancel, history, export.

use egui::{Key, KeyboardShortcut, Modifiers, RichText};

use super::confirm::default_export_path;
use super::grid::{Grid, grid_ui};
use crate::domain::db::console::requests::{ExportSource, StorageCancel, StorageExecuteSql, StorageHistory};
use crate::state::{EDITOR_MAX_ROWS, StorageStore};
use crate::ui::widgets::{error_line, shortcut_text};
use crate::ui::{ScreenContext, theme};

/// Runs the statement in the editor.
pub const RUN_SQL: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::Enter);

pub fn ui(ui: &mut egui::Ui, cx: &mut ScreenContext<'_>) {
    let store = &mut cx.stores.storage;
    if store.history.never_requested() {
        store.history.start(cx.backend.dispatch(StorageHistory));
    }
    // Taken before the text box sees the key, so Ctrl+Enter never inserts a newline.
    let mut run = ui.input_mut(|input| input.consume_shortcut(&RUN_SQL));
    let running = store.query.is_pending();
    ui.horizontal(|ui| {
        let hint = format!("Run ({})", shortcut_text(ui.ctx(), &RUN_SQL));
        run |= ui
            .add_enabled(!running, egui::Button::new("▶ Run"))
            .on_hover_text(hint)
            .clicked();
        if running {
            if ui
                .button("⏹ Cancel")
                .on_hover_text("Interrupt the running statement")
                .clicked()
                && let Some(request_id) = store.query.pending_request()
            {
                cx.backend.dispatch(StorageCancel { request_id });
            }
            ui.spinner();
        }
        history_menu_ui(ui, store);
        let can_export = store.query.value().is_some_and(|r| !r.columns.is_empty()) && !store.query_sql.is_empty();
        if ui
            .add_enabled(can_export, egui::Button::new("Export…"))
            .on_hover_text("Write every row of the result to a file")
            .clicked()
        {
            store.export_dialog = Some((
                ExportSource::Query(store.query_sql.clone()),
                default_export_path("query"),
            ));
        }
    });
    ui.add(
        egui::TextEdit::multiline(&mut store.sql)
            .code_editor()
            .desired_rows(6)
            .desired_width(f32::INFINITY)
            .hint_text("SELECT * FROM agents ORDER BY updated_at DESC"),
    );
    if run && !running && !store.sql.trim().is_empty() {
        store.query_sql = store.sql.clone();
        store.query_failure = None;
        // Always read-only first: a refused write comes back with its risk for the confirmation.
        let request_id = cx.backend.dispatch(StorageExecuteSql {
            sql: store.sql.clone(),
            allow_write: false,
            max_rows: Some(EDITOR_MAX_ROWS),
            record: true,
        });
        store.query.start(request_id);
    }
    if store.history_stale && !store.history.is_pending() {
        store.history_stale = false;
        store.history.start(cx.backend.dispatch(StorageHistory));
    }
    ui.add_space(4.0);
    if let Some(failure) = &store.query_failure {
        let message = match failure.position {
            Some((line, column)) => format!("Line {line}, column {column}: {}", failure.message),
            None => failure.message.clone(),
        };
        if failure.cancelled {
            ui.label(RichText::new("Cancelled.").color(theme::muted(ui.visuals())));
        } else {
            error_line(ui, &message);
        }
    }
    if let Some(error) = store.export.error() {
        error_line(ui, error);
    }
    let Some(result) = store.query.value() else { return };
    let muted = theme::muted(ui.visuals());
    if result.columns.is_empty() {
        ui.label(format!(
            "{} row(s) changed ({:.1} ms)",
            result.rows_affected, result.elapsed_ms
        ));
        return;
    }
    ui.horizontal(|ui| {
        ui.label(format!("{} row(s)", result.rows.len()));
        ui.label(RichText::new(format!("{:.1} ms", result.elapsed_ms)).color(muted));
        if result.truncated {
            ui.label(
                RichText::new(format!(
                    "Showing the first {EDITOR_MAX_ROWS} rows; export to get them all."
                ))
                .color(theme::error(ui.visuals())),
            );
        }
    });
    egui::ScrollArea::horizontal()
        .id_salt("storage-sql-scroll")
        .show(ui, |ui| {
            let grid = Grid {
                id_salt: "storage-sql-result",
                columns: &result.columns,
                rows: &result.rows,
                first_row_number: 1,
                selected: None,
                sort: None,
                sortable: false,
            };
            grid_ui(ui, grid)
        });
}

/// A menu of past statements; choosing one puts it in the editor.
fn history_menu_ui(ui: &mut egui::Ui, store: &mut StorageStore) {
    let history = store.history.value().cloned().unwrap_or_default();
    ui.add_enabled_ui(!history.is_empty(), |ui| {
        ui.menu_button("History ⏷", |ui| {
            egui::ScrollArea::vertical().max_height(320.0).show(ui, |ui| {
                for sql in &history {
                    let first_line: String = sql.lines().next().unwrap_or("").chars().take(80).collect();
                    if ui
                        .button(RichText::new(first_line).monospace())
                        .on_hover_text(sql)
                        .clicked()
                    {
                        store.sql = sql.clone();
                        ui.close();
                    }
                }
            });
        });
    });
}
