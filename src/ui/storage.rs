//! The Storage screen: the app's own tables with their row counts.

use egui::RichText;
use egui_extras::{Column, TableBuilder};

use super::widgets::{EmptyState, error_line, screen_heading};
use super::{ScreenContext, theme};
use crate::command::Command;
use crate::nav::Screen;

pub fn ui(ui: &mut egui::Ui, cx: &mut ScreenContext<'_>) {
    screen_heading(ui, Screen::Storage.heading());
    let tables = &mut cx.stores.storage.tables;
    if tables.never_requested() {
        tables.start(cx.backend.dispatch(Command::StorageListTables));
    }
    ui.horizontal(|ui| {
        ui.label(RichText::new("Tables of ANYON's database").color(theme::muted(ui.visuals())));
        if ui
            .add_enabled(!tables.is_pending(), egui::Button::new("⟳ Refresh"))
            .clicked()
        {
            tables.start(cx.backend.dispatch(Command::StorageListTables));
        }
        if tables.is_pending() {
            ui.spinner();
        }
    });
    if let Some(error) = tables.error() {
        error_line(ui, error);
    }
    let Some(list) = tables.value() else { return };
    if list.is_empty() {
        EmptyState {
            icon: "🗄",
            title: "The database has no tables",
            body: "ANYON creates its tables when it opens the database.",
            detail: None,
        }
        .ui(ui);
        return;
    }
    ui.add_space(6.0);
    TableBuilder::new(ui)
        .id_salt("storage-tables")
        .striped(true)
        .column(Column::initial(240.0).at_least(120.0).resizable(true))
        .column(Column::initial(80.0))
        .column(Column::remainder())
        .header(22.0, |mut header| {
            for title in ["Table", "Kind", "Rows"] {
                header.col(|ui| {
                    ui.strong(title);
                });
            }
        })
        .body(|body| {
            body.rows(22.0, list.len(), |mut row| {
                let table = &list[row.index()];
                row.col(|ui| {
                    ui.label(RichText::new(&table.name).monospace());
                });
                row.col(|ui| {
                    ui.label(&table.kind);
                });
                row.col(|ui| {
                    ui.label(table.row_count.to_string());
                });
            });
        });
    ui.add_space(8.0);
    ui.label(
        RichText::new(
            "Browsing rows and running SQL from here is not part of this build yet; use `anyon storage sql`.",
        )
        .small()
        .color(theme::muted(ui.visuals())),
    );
}
