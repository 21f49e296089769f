//! The Storage screen: the app's own tables with row counts, a table browser, and an SQL editor.
//! Read-only unless the person turns on "Allow writes", and even then each write is confirmed.

mod browser;
mod confirm;
mod editor;
mod grid;

use egui::RichText;

use super::widgets::{error_line, screen_heading};
use super::{ScreenContext, theme};
use crate::domain::db::console::requests::StorageListTables;
use crate::state::StorageView;
use crate::state::nav::Screen;

pub fn ui(ui: &mut egui::Ui, cx: &mut ScreenContext<'_>) {
    screen_heading(ui, Screen::Storage.heading());
    let store = &mut cx.stores.storage;
    if store.tables.never_requested() || (store.tables_stale && !store.tables.is_pending()) {
        store.tables_stale = false;
        store.tables.start(cx.backend.dispatch(StorageListTables));
    }
    toolbar_ui(ui, cx);
    ui.add_space(4.0);
    egui::Panel::left("storage-tables")
        .resizable(true)
        .default_size(230.0)
        .size_range(160.0..=420.0)
        .show(ui, |ui| side_ui(ui, cx));
    egui::CentralPanel::no_frame().show(ui, |ui| {
        ui.add_space(2.0);
        match cx.stores.storage.view.clone() {
            StorageView::Tables => overview_ui(ui, cx),
            StorageView::Table(table) => browser::ui(ui, cx, &table),
            StorageView::Sql => editor::ui(ui, cx),
        }
    });
    confirm::pending_write_ui(ui.ctx(), cx);
    confirm::export_dialog_ui(ui.ctx(), cx);
}

fn toolbar_ui(ui: &mut egui::Ui, cx: &mut ScreenContext<'_>) {
    let store = &mut cx.stores.storage;
    ui.horizontal(|ui| {
        let label = if store.allow_writes {
            "🔓 Writes allowed"
        } else {
            "🔒 Read-only"
        };
        let toggle = ui
            .toggle_value(&mut store.allow_writes, label)
            .on_hover_text("Allow statements and edits that change the database. Each one is still confirmed.");
        if toggle.changed() && !store.allow_writes {
            store.pending_write = None;
        }
        let muted = theme::muted(ui.visuals());
        let text = if store.allow_writes {
            "Writes are allowed: every change is shown to you before it runs."
        } else {
            "Queries run on a read-only connection."
        };
        ui.label(RichText::new(text).color(muted));
    });
}

fn side_ui(ui: &mut egui::Ui, cx: &mut ScreenContext<'_>) {
    let store = &mut cx.stores.storage;
    ui.horizontal(|ui| {
        ui.strong("Tables");
        let refresh = ui.add_enabled(!store.tables.is_pending(), egui::Button::new("⟳").small());
        if refresh.on_hover_text("Count rows again").clicked() {
            store.tables.start(cx.backend.dispatch(StorageListTables));
        }
        if store.tables.is_pending() {
            ui.spinner();
        }
    });
    if ui
        .selectable_label(store.view == StorageView::Sql, "⌨  SQL editor")
        .clicked()
    {
        store.view = StorageView::Sql;
    }
    ui.separator();
    if let Some(error) = store.tables.error() {
        error_line(ui, error);
    }
    let Some(tables) = store.tables.value().cloned() else {
        return;
    };
    egui::ScrollArea::vertical().auto_shrink([false, false]).show(ui, |ui| {
        for table in &tables {
            let open = store.view == StorageView::Table(table.name.clone());
            let icon = if table.kind == "view" { "👁" } else { "🗄" };
            let label = format!("{icon}  {}  ({})", table.name, table.row_count);
            if ui.selectable_label(open, label).clicked() && !open {
                store.open_table(&table.name);
            }
        }
    });
}

/// The first view: every table with its row count.
fn overview_ui(ui: &mut egui::Ui, cx: &mut ScreenContext<'_>) {
    let store = &mut cx.stores.storage;
    let Some(tables) = store.tables.value().cloned() else {
        return;
    };
    ui.label(
        RichText::new("ANYON's database. Pick a table to browse it, or open the SQL editor.")
            .color(theme::muted(ui.visuals())),
    );
    ui.add_space(6.0);
    egui::Grid::new("storage-overview")
        .striped(true)
        .num_columns(3)
        .spacing([24.0, 6.0])
        .show(ui, |ui| {
            ui.strong("Table");
            ui.strong("Kind");
            ui.strong("Rows");
            ui.end_row();
            for table in &tables {
                if ui.link(RichText::new(&table.name).monospace()).clicked() {
                    store.open_table(&table.name);
                }
                ui.label(&table.kind);
                ui.label(table.row_count.to_string());
                ui.end_row();
            }
        });
}
