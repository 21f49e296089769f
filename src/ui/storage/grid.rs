//! The result grid shared by the table browser and the SQL editor: virtualized rows, typed cells,
//! sortable headers, one selected cell.

use egui::{Align, Layout, RichText, Sense};
use egui_extras::{Column, TableBuilder};

use crate::domain::db::console::{SortOrder, SqlValue};
use crate::ui::theme;

/// Row height of the grid.
const ROW_HEIGHT: f32 = 22.0;
/// Characters of a long value shown in its cell (the detail pane shows all).
const CELL_PREVIEW_CHARS: usize = 120;

/// What the person did in the grid this frame.
#[derive(Debug, Default)]
pub struct GridResponse {
    /// A cell was clicked: (row, column).
    pub clicked: Option<(usize, usize)>,
    /// A column header was clicked (sortable grids only).
    pub sort_clicked: Option<usize>,
}

/// A grid to draw: `rows` under `columns`.
pub struct Grid<'a> {
    pub id_salt: &'a str,
    pub columns: &'a [String],
    pub rows: &'a [Vec<SqlValue>],
    /// The number shown for the first row (1-based, the page's offset + 1).
    pub first_row_number: u64,
    pub selected: Option<(usize, usize)>,
    pub sort: Option<(&'a str, SortOrder)>,
    pub sortable: bool,
}

/// Draws `grid`.
pub fn grid_ui(ui: &mut egui::Ui, grid: Grid<'_>) -> GridResponse {
    let Grid {
        id_salt,
        columns,
        rows,
        first_row_number,
        selected,
        sort,
        sortable,
    } = grid;
    let mut response = GridResponse::default();
    let visuals = ui.visuals().clone();
    let number_width = (format!("{}", first_row_number + rows.len() as u64).len() as f32 * 8.0 + 16.0).max(36.0);
    let mut table = TableBuilder::new(ui)
        .id_salt(id_salt)
        .striped(true)
        .sense(Sense::click())
        .auto_shrink([false, false])
        .cell_layout(Layout::left_to_right(Align::Center))
        .column(Column::exact(number_width));
    for _ in columns {
        table = table.column(Column::initial(150.0).at_least(40.0).resizable(true).clip(true));
    }
    table
        .header(ROW_HEIGHT + 2.0, |mut header| {
            header.col(|ui| {
                ui.label(RichText::new("#").color(theme::muted(&visuals)));
            });
            for (index, name) in columns.iter().enumerate() {
                header.col(|ui| {
                    let arrow = match sort {
                        Some((column, SortOrder::Ascending)) if column == name => " ⏶",
                        Some((column, SortOrder::Descending)) if column == name => " ⏷",
                        _ => "",
                    };
                    let text = RichText::new(format!("{name}{arrow}")).strong();
                    if sortable {
                        if ui
                            .add(egui::Button::new(text).frame(false))
                            .on_hover_text("Sort by this column")
                            .clicked()
                        {
                            response.sort_clicked = Some(index);
                        }
                    } else {
                        ui.label(text);
                    }
                });
            }
        })
        .body(|body| {
            body.rows(ROW_HEIGHT, rows.len(), |mut row| {
                let index = row.index();
                row.set_selected(selected.is_some_and(|(r, _)| r == index));
                row.col(|ui| {
                    ui.label(
                        RichText::new((first_row_number + index as u64).to_string()).color(theme::muted(&visuals)),
                    );
                });
                for (column, value) in rows[index].iter().enumerate() {
                    let (_, cell) = row.col(|ui| cell_ui(ui, value, &visuals));
                    if cell.clicked() {
                        response.clicked = Some((index, column));
                    }
                }
            });
        });
    response
}

/// One cell: NULL, numbers, text and blobs each look different.
fn cell_ui(ui: &mut egui::Ui, value: &SqlValue, visuals: &egui::Visuals) {
    let text = match value {
        SqlValue::Null => RichText::new("NULL").italics().color(theme::muted(visuals)),
        SqlValue::Integer(v) => RichText::new(v.to_string()).monospace().color(theme::number(visuals)),
        SqlValue::Real(v) => RichText::new(v.to_string()).monospace().color(theme::number(visuals)),
        SqlValue::Text(v) => RichText::new(preview(v)),
        SqlValue::Blob(bytes) => RichText::new(format!("‹blob, {}›", crate::util::fmt::bytes(bytes.len() as u64)))
            .color(theme::muted(visuals)),
    };
    ui.add(egui::Label::new(text).truncate().selectable(false));
}

/// The first line of a long text, cut to a readable length.
fn preview(text: &str) -> String {
    let first_line = text.lines().next().unwrap_or("");
    let cut: String = first_line.chars().take(CELL_PREVIEW_CHARS).collect();
    if cut.len() < text.len() {
        format!("{cut}…")
    } else {
        cut
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn previews_cut_long_and_multiline_text() {
        assert_eq!(preview("short"), "short");
        assert_eq!(preview("line one\nline two"), "line one…");
        assert_eq!(preview(&"x".repeat(500)).chars().count(), CELL_PREVIEW_CHARS + 1);
    }
}
