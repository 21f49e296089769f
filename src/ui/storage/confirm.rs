//! Dialogs of the Storage screen: confirming a write, choosing where to export.

use egui::{Modal, RichText};

use crate::domain::db::console::requests::{Request, StorageExport};
use crate::domain::db::console::{ExportFormat, WriteRisk};
use crate::ui::{ScreenContext, theme};

/// Shows the statement of a pending write; runs it only on explicit confirmation.
pub fn pending_write_ui(ctx: &egui::Context, cx: &mut ScreenContext<'_>) {
    let store = &mut cx.stores.storage;
    let Some(pending) = store.pending_write.clone() else {
        return;
    };
    let mut decision = None;
    let modal = Modal::new(egui::Id::unique("storage-confirm-write")).show(ctx, |ui| {
        ui.set_max_width(560.0);
        ui.heading("Run this change?");
        ui.add_space(6.0);
        if let WriteRisk::Destructive { reason, app_table } = &pending.risk {
            let error = theme::error(ui.visuals());
            ui.label(
                RichText::new(format!("⚠ This statement {reason}."))
                    .strong()
                    .color(error),
            );
            if *app_table {
                ui.label(
                    RichText::new("It touches one of ANYON's own tables: the app may lose data or stop working.")
                        .color(error),
                );
            }
            ui.add_space(4.0);
        }
        egui::Frame::new()
            .fill(theme::code_fill(ui.visuals()))
            .corner_radius(theme::CARD_RADIUS)
            .inner_margin(10)
            .show(ui, |ui| {
                egui::ScrollArea::vertical().max_height(240.0).show(ui, |ui| {
                    ui.add(egui::Label::new(RichText::new(&pending.statement).monospace()).wrap());
                });
            });
        ui.add_space(8.0);
        ui.horizontal(|ui| {
            let label = if matches!(pending.risk, WriteRisk::Destructive { .. }) {
                "Run it anyway"
            } else {
                "Run it"
            };
            if ui.button(RichText::new(label).strong()).clicked() {
                decision = Some(true);
            }
            if ui.button("Cancel").clicked() {
                decision = Some(false);
            }
        });
    });
    if modal.should_close() && decision.is_none() {
        decision = Some(false);
    }
    match decision {
        Some(true) => {
            store.pending_write = None;
            let request_id = cx.backend.dispatch(pending.command.clone());
            match pending.command {
                Request::StorageExecuteSql(_) => store.query.start(request_id),
                _ => store.row_change.start(request_id),
            }
        }
        Some(false) => store.pending_write = None,
        None => {}
    }
}

/// Asks where to write an export, then streams it there in the background.
pub fn export_dialog_ui(ctx: &egui::Context, cx: &mut ScreenContext<'_>) {
    let store = &mut cx.stores.storage;
    let Some((source, mut path)) = store.export_dialog.clone() else {
        return;
    };
    let mut start = None;
    let mut close = false;
    let modal = Modal::new(egui::Id::unique("storage-export")).show(ctx, |ui| {
        ui.set_width(520.0);
        ui.heading("Export");
        ui.label(
            RichText::new("Every row the query returns is written, not only those on screen.")
                .color(theme::muted(ui.visuals())),
        );
        ui.add_space(6.0);
        ui.add(
            egui::TextEdit::singleline(&mut path)
                .desired_width(f32::INFINITY)
                .hint_text("File to write"),
        );
        ui.add_space(6.0);
        ui.horizontal(|ui| {
            if ui.button("Export CSV").clicked() {
                start = Some(ExportFormat::Csv);
            }
            if ui.button("Export JSON").clicked() {
                start = Some(ExportFormat::Json);
            }
            if ui.button("Cancel").clicked() {
                close = true;
            }
        });
    });
    if modal.should_close() {
        close = true;
    }
    if let Some(format) = start {
        let path = with_extension(&path, format);
        let request_id = cx.backend.dispatch(StorageExport { source, format, path });
        store.export.start(request_id);
        store.export_dialog = None;
    } else if close {
        store.export_dialog = None;
    } else if let Some(dialog) = store.export_dialog.as_mut() {
        dialog.1 = path;
    }
}

/// The path with the format's extension (replacing a .csv/.json the person left from the other).
fn with_extension(path: &str, format: ExportFormat) -> std::path::PathBuf {
    let path = std::path::PathBuf::from(path.trim());
    match path.extension().and_then(|e| e.to_str()) {
        Some("csv" | "json") | None => path.with_extension(format.extension()),
        Some(_) => path,
    }
}

/// A default export file: `<home>/anyon-<what>-<timestamp>`.
pub fn default_export_path(what: &str) -> String {
    let stamp = chrono::Local::now().format("%Y%m%d-%H%M%S");
    let name: String = what
        .chars()
        .map(|c| if c.is_alphanumeric() { c } else { '-' })
        .collect();
    let dir = crate::util::paths::downloads_dir().unwrap_or_else(std::env::temp_dir);
    dir.join(format!("anyon-{name}-{stamp}.csv")).display().to_string()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn export_paths_get_the_chosen_extension() {
        assert_eq!(
            with_extension("/x/out.csv", ExportFormat::Json),
            std::path::PathBuf::from("/x/out.json")
        );
        assert_eq!(
            with_extension("/x/out", ExportFormat::Csv),
            std::path::PathBuf::from("/x/out.csv")
        );
        assert_eq!(
            with_extension("/x/out.txt", ExportFormat::Csv),
            std::path::PathBuf::from("/x/out.txt")
        );
        assert!(default_export_path("my table").contains("anyon-my-table-"));
    }
}
