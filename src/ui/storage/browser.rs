//! Browsing one table: filter, sort, pages, a detail pane for the selected cell, and edits that
//! go through the same confirmation as SQL.

use egui::RichText;

use super::confirm::default_export_path;
use super::grid::{Grid, grid_ui};
use crate::domain::db::console::requests::{
    ExportSource, Request, StorageDeleteRow, StorageReadTable, StorageTableSchema, StorageUpdateCell,
};
use crate::domain::db::console::{SortOrder, SqlValue};
use crate::state::PAGE_SIZES;
use crate::ui::widgets::error_line;
use crate::ui::{ScreenContext, theme};

pub fn ui(ui: &mut egui::Ui, cx: &mut ScreenContext<'_>, table: &str) {
    // The detail pane is laid out first so the grid gets the rest of the width.
    if let Some(columns) = cx.stores.storage.page.value().map(|page| page.columns.clone()) {
        egui::Panel::right("storage-detail")
            .resizable(true)
            .default_size(280.0)
            .size_range(200.0..=600.0)
            .show(ui, |ui| detail_ui(ui, cx, table, &columns));
    }
    egui::CentralPanel::no_frame().show(ui, |ui| main_ui(ui, cx, table));
}

fn main_ui(ui: &mut egui::Ui, cx: &mut ScreenContext<'_>, table: &str) {
    let store = &mut cx.stores.storage;
    if store.page.never_requested() || store.page_stale {
        store.page_stale = false;
        store.page.start(cx.backend.dispatch(StorageReadTable {
            page: store.page_request(table),
        }));
    }
    if store.schema.never_requested() {
        store.schema.start(cx.backend.dispatch(StorageTableSchema {
            table: table.to_owned(),
        }));
    }
    let mut reload = false;
    ui.horizontal(|ui| {
        ui.label(RichText::new(table).strong().monospace());
        let filter = ui.add(
            egui::TextEdit::singleline(&mut store.browse.filter_text)
                .hint_text("Filter rows…")
                .desired_width(220.0),
        );
        if filter.changed() && store.browse.filter_text != store.browse.applied_filter {
            store.browse.applied_filter = store.browse.filter_text.clone();
            store.browse.offset = 0;
            reload = true;
        }
        egui::ComboBox::new("storage-page-size", "per page")
            .width(64.0)
            .selected_text(store.browse.limit.to_string())
            .show_ui(ui, |ui| {
                for size in PAGE_SIZES {
                    if ui
                        .selectable_value(&mut store.browse.limit, size, size.to_string())
                        .changed()
                    {
                        store.browse.offset = 0;
                        reload = true;
                    }
                }
            });
        if ui.button("⟳").on_hover_text("Read the page again").clicked() {
            reload = true;
        }
        if ui
            .button("Export…")
            .on_hover_text("Write the whole table (with the filter unapplied) to a file")
            .clicked()
        {
            store.export_dialog = Some((ExportSource::Table(table.to_owned()), default_export_path(table)));
        }
        if store.page.is_pending() || store.export.is_pending() || store.row_change.is_pending() {
            ui.spinner();
        }
    });
    if let Some(error) = store.page.error().or(store.row_change.error()).or(store.export.error()) {
        error_line(ui, error);
    }
    let Some(page) = store.page.value().cloned() else {
        if reload {
            store.page.start(cx.backend.dispatch(StorageReadTable {
                page: store.page_request(table),
            }));
        }
        return;
    };

    // Paging.
    let limit = u64::from(store.browse.limit);
    let last_offset = page.total_rows.saturating_sub(1) / limit * limit;
    ui.horizontal(|ui| {
        let first = page.offset + u64::from(!page.rows.is_empty());
        let shown_to = page.offset + page.rows.len() as u64;
        ui.label(format!("Rows {first}–{shown_to} of {}", page.total_rows));
        ui.label(RichText::new(format!("({:.1} ms)", page.elapsed_ms)).color(theme::muted(ui.visuals())));
        let offset = &mut store.browse.offset;
        let mut go = |ui: &mut egui::Ui, enabled: bool, label: &str, hint: &str, to: u64| {
            if ui
                .add_enabled(enabled, egui::Button::new(label))
                .on_hover_text(hint)
                .clicked()
            {
                *offset = to;
                reload = true;
            }
        };
        let at_start = page.offset == 0;
        let at_end = page.offset >= last_offset;
        go(ui, !at_start, "⏮", "First page", 0);
        go(ui, !at_start, "◀", "Previous page", page.offset.saturating_sub(limit));
        go(ui, !at_end, "▶", "Next page", (page.offset + limit).min(last_offset));
        go(ui, !at_end, "⏭", "Last page", last_offset);
    });

    let sort = store.browse.sort.as_ref().map(|(c, o)| (c.as_str(), *o));
    let selected = store.browse.selected;
    let grid = egui::ScrollArea::horizontal()
        .id_salt("storage-browser-scroll")
        .show(ui, |ui| {
            let grid = Grid {
                id_salt: "storage-browser",
                columns: &page.columns,
                rows: &page.rows,
                first_row_number: page.offset + 1,
                selected,
                sort,
                sortable: true,
            };
            grid_ui(ui, grid)
        })
        .inner;
    if let Some(cell) = grid.clicked {
        store.browse.selected = Some(cell);
        store.browse.edit_text = page.rows[cell.0][cell.1].to_plain_text();
    }
    if let Some(column) = grid.sort_clicked {
        let name = page.columns[column].clone();
        store.browse.sort = match &store.browse.sort {
            Some((current, SortOrder::Ascending)) if *current == name => Some((name, SortOrder::Descending)),
            Some((current, SortOrder::Descending)) if *current == name => None,
            _ => Some((name, SortOrder::Ascending)),
        };
        store.browse.offset = 0;
        reload = true;
    }
    if reload {
        store.page.start(cx.backend.dispatch(StorageReadTable {
            page: store.page_request(table),
        }));
    }
}

/// The selected cell in full, with edit and delete when writes are allowed.
fn detail_ui(ui: &mut egui::Ui, cx: &mut ScreenContext<'_>, table: &str, columns: &[String]) {
    let store = &mut cx.stores.storage;
    let (Some(value), Some((_, column))) = (store.selected_value().cloned(), store.browse.selected) else {
        ui.label(RichText::new("Select a cell to see its whole value.").color(theme::muted(ui.visuals())));
        return;
    };
    let name = &columns[column];
    let name_label = ui.strong(name);
    let kind = match &value {
        SqlValue::Null => "NULL".to_string(),
        SqlValue::Integer(_) => "integer".to_string(),
        SqlValue::Real(_) => "real".to_string(),
        SqlValue::Text(text) => format!("text, {} characters", text.chars().count()),
        SqlValue::Blob(bytes) => format!("blob, {}", crate::util::fmt::bytes(bytes.len() as u64)),
    };
    ui.label(RichText::new(kind).color(theme::muted(ui.visuals())));
    let key = store.selected_key().cloned();
    let editable = store.allow_writes && key.is_some() && !matches!(value, SqlValue::Blob(_));
    egui::ScrollArea::vertical()
        .max_height(ui.available_height() - 80.0)
        .show(ui, |ui| {
            let mut text = store.browse.edit_text.clone();
            let edit = egui::TextEdit::multiline(&mut text)
                .code_editor()
                .desired_width(f32::INFINITY)
                .interactive(editable);
            ui.add(edit).labelled_by(name_label.id);
            if editable {
                store.browse.edit_text = text;
            }
            if ui.small_button("Copy").clicked() {
                ui.ctx().copy_text(value.to_plain_text());
            }
        });
    let Some(key) = key else {
        ui.label(
            RichText::new("Rows of a view cannot be edited.")
                .small()
                .color(theme::muted(ui.visuals())),
        );
        return;
    };
    if !store.allow_writes {
        ui.label(
            RichText::new("Turn on “Allow writes” to edit.")
                .small()
                .color(theme::muted(ui.visuals())),
        );
        return;
    }
    ui.separator();
    ui.horizontal_wrapped(|ui| {
        let mut preview = None;
        if editable && ui.button("Save value").clicked() {
            let new_value = typed_like(&value, &store.browse.edit_text);
            preview = Some(Request::from(StorageUpdateCell {
                table: table.to_owned(),
                key: key.clone(),
                column: name.clone(),
                value: new_value,
                dry_run: true,
            }));
        }
        if ui.button("Set NULL").clicked() {
            preview = Some(Request::from(StorageUpdateCell {
                table: table.to_owned(),
                key: key.clone(),
                column: name.clone(),
                value: SqlValue::Null,
                dry_run: true,
            }));
        }
        if ui
            .button(RichText::new("Delete row").color(theme::error(ui.visuals())))
            .clicked()
        {
            preview = Some(Request::from(StorageDeleteRow {
                table: table.to_owned(),
                key: key.clone(),
                dry_run: true,
            }));
        }
        if let Some(dry_run) = preview {
            let real = with_dry_run(&dry_run, false);
            store.preview = Some((cx.backend.dispatch(dry_run), real));
        }
    });
}

/// The edited text as a value of the cell's current type when it parses as one, else text.
fn typed_like(current: &SqlValue, text: &str) -> SqlValue {
    match current {
        SqlValue::Integer(_) => text
            .trim()
            .parse()
            .map(SqlValue::Integer)
            .unwrap_or_else(|_| SqlValue::Text(text.into())),
        SqlValue::Real(_) => text
            .trim()
            .parse()
            .map(SqlValue::Real)
            .unwrap_or_else(|_| SqlValue::Text(text.into())),
        _ => SqlValue::Text(text.to_owned()),
    }
}

fn with_dry_run(request: &Request, dry_run: bool) -> Request {
    let mut request = request.clone();
    match &mut request {
        Request::StorageUpdateCell(StorageUpdateCell { dry_run: flag, .. })
        | Request::StorageDeleteRow(StorageDeleteRow { dry_run: flag, .. }) => *flag = dry_run,
        _ => {}
    }
    request
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn edits_keep_the_cell_type_when_they_can() {
        assert_eq!(typed_like(&SqlValue::Integer(1), " 42 "), SqlValue::Integer(42));
        assert_eq!(typed_like(&SqlValue::Integer(1), "4x"), SqlValue::Text("4x".into()));
        assert_eq!(typed_like(&SqlValue::Real(1.0), "2.5"), SqlValue::Real(2.5));
        assert_eq!(typed_like(&SqlValue::Null, "7"), SqlValue::Text("7".into()));
    }
}
