//! The command palette (Ctrl+K) drawn over the window: a text field that has the keyboard at once and the
//! matching entries below it, best first, each with its kind and a short detail. The matching and the
//! selection live in [`crate::state::palette`]; the window moves the selection with Up/Down, runs it with
//! Enter and closes with Escape before anything else sees those keys.

use std::sync::Arc;

use egui::text::{LayoutJob, TextWrapping};
use egui::{Align2, Color32, FontId, Galley, Id, Modal, RichText, Sense, TextEdit, Ui, WidgetInfo};

use super::theme;
use super::widgets::shortcut_text;
use crate::state::palette::{Entry, EntryKind, Palette, PaletteCommand};

/// The palette's width at most (narrower in a small window).
pub const WIDTH: f32 = 640.0;
/// Height of one entry.
pub const ROW_HEIGHT: f32 = 30.0;
/// Entries shown at once; the list scrolls beyond.
pub const VISIBLE_ROWS: usize = 12;
/// Width of the kind column.
const KIND_WIDTH: f32 = 64.0;

/// Draws the palette when it is open; gives the command of an entry clicked (the palette closes).
pub fn ui(ctx: &egui::Context, palette: &mut Palette) -> Option<PaletteCommand> {
    if !palette.is_open() {
        return None;
    }
    let window = ctx.content_rect();
    let width = WIDTH.min(window.width() - 48.0).max(240.0);
    let top = (window.height() * 0.12).clamp(16.0, 96.0);
    let id = Id::unique("command-palette");
    let area = Modal::default_area(id).anchor(Align2::CENTER_TOP, egui::vec2(0.0, top));
    let frame = egui::Frame::popup(&ctx.global_style())
        .inner_margin(12)
        .corner_radius(theme::CARD_RADIUS);
    let modal = Modal::new(id)
        .area(area)
        .frame(frame)
        .show(ctx, |ui| contents_ui(ui, palette, width));
    if modal.backdrop_response.clicked() {
        palette.close();
    }
    modal.inner
}

fn contents_ui(ui: &mut Ui, palette: &mut Palette, width: f32) -> Option<PaletteCommand> {
    ui.set_width(width);
    let muted = theme::muted(ui.visuals());
    let label = ui
        .horizontal(|ui| {
            let label = ui.label(RichText::new("Command palette").strong());
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                ui.label(
                    RichText::new(format!(
                        "Up/Down select · Enter run · Esc close · {}",
                        shortcut_text(ui.ctx(), &super::shortcuts::COMMAND_PALETTE)
                    ))
                    .small()
                    .color(muted),
                );
            });
            label
        })
        .inner;
    let field = ui
        .add(
            TextEdit::singleline(&mut palette.query)
                .hint_text("Screens, projects, sessions, agents, actions")
                .font(egui::TextStyle::Heading)
                .desired_width(f32::INFINITY)
                .margin(egui::Margin::symmetric(8, 6)),
        )
        .labelled_by(label.id);
    // The field keeps the keyboard while the palette is open: it is the only thing to type into.
    if palette.take_focus() || !field.has_focus() {
        field.request_focus();
    }
    if field.changed() {
        palette.rank();
    }
    ui.add_space(8.0);
    if palette.is_empty() {
        ui.label(RichText::new("Nothing matches.").color(muted));
        return None;
    }
    // Rows touch: the list's height and the scrolling below count exactly ROW_HEIGHT per row.
    ui.scope(|ui| {
        ui.spacing_mut().item_spacing.y = 0.0;
        list_ui(ui, palette)
    })
    .inner
}

/// The matching entries, [`VISIBLE_ROWS`] at a time; only the rows in view are laid out.
fn list_ui(ui: &mut Ui, palette: &mut Palette) -> Option<PaletteCommand> {
    let rows = palette.len();
    let view = ROW_HEIGHT * rows.min(VISIBLE_ROWS) as f32;
    // The height is set, not shrunk to fit: a scroll area that shrinks keeps the height of a short list
    // it showed before and lays out only that many rows when the list grows again.
    let mut area = egui::ScrollArea::vertical()
        .id_salt("command-palette-list")
        .min_scrolled_height(view)
        .max_height(view)
        .auto_shrink([false, false]);
    if palette.take_scroll() {
        // Scroll just enough to show the selected row.
        let top = palette.selected() as f32 * ROW_HEIGHT;
        let offset = palette.list_offset;
        let offset = if top < offset {
            top
        } else if top + ROW_HEIGHT > offset + view {
            top + ROW_HEIGHT - view
        } else {
            offset
        };
        area = area.vertical_scroll_offset(offset);
    }
    let selected = palette.selected();
    let output = area.show_rows(ui, ROW_HEIGHT, rows, |ui, range| {
        let mut clicked = None;
        for position in range {
            if let Some(entry) = palette.ranked_at(position)
                && row_ui(ui, entry, position == selected).clicked()
            {
                clicked = Some(position);
            }
        }
        clicked
    });
    palette.list_offset = output.state.clamped_offset().y;
    output.inner.and_then(|position| palette.choose(position))
}

/// One entry: its kind, title, detail and (for projects and sessions) when it was last active.
fn row_ui(ui: &mut Ui, entry: &Entry, selected: bool) -> egui::Response {
    let (rect, response) = ui.allocate_exact_size(egui::vec2(ui.available_width(), ROW_HEIGHT), Sense::click());
    response.widget_info(|| {
        let text = if entry.detail.is_empty() {
            format!("{}: {}", entry.kind.label(), entry.title)
        } else {
            format!("{}: {} — {}", entry.kind.label(), entry.title, entry.detail)
        };
        WidgetInfo::selected(egui::Role::Button, true, selected, text)
    });
    if !ui.is_rect_visible(rect) {
        return response;
    }
    let visuals = ui.visuals().clone();
    if selected {
        ui.painter()
            .rect_filled(rect, 4.0, visuals.selection.bg_fill.gamma_multiply(0.45));
    } else if response.hovered() {
        ui.painter()
            .rect_filled(rect, 4.0, visuals.widgets.hovered.weak_bg_fill);
    }
    let muted = theme::muted(&visuals);
    let text = visuals.strong_text_color();
    let inner = rect.shrink2(egui::vec2(8.0, 0.0));
    let small = FontId::proportional(11.5);
    let body = FontId::proportional(14.0);

    let kind = one_line(
        ui,
        entry.kind.label(),
        small.clone(),
        kind_color(entry.kind, &visuals),
        KIND_WIDTH,
    );
    ui.painter().galley(
        egui::pos2(inner.left(), inner.center().y - kind.size().y / 2.0),
        kind,
        text,
    );
    let mut right = inner.right();
    if entry.when_ms.is_some() {
        let when = one_line(
            ui,
            &super::projects::relative_time(entry.when_ms),
            small.clone(),
            muted,
            90.0,
        );
        right -= when.size().x;
        ui.painter()
            .galley(egui::pos2(right, inner.center().y - when.size().y / 2.0), when, muted);
        right -= 12.0;
    }
    let left = inner.left() + KIND_WIDTH + 8.0;
    let room = (right - left).max(0.0);
    let title = one_line(ui, &entry.title, body, text, room * 0.65);
    ui.painter().galley(
        egui::pos2(left, inner.center().y - title.size().y / 2.0),
        title.clone(),
        text,
    );
    let after = left + title.size().x + 10.0;
    if !entry.detail.is_empty() && right - after > 40.0 {
        let detail = one_line(ui, &entry.detail, FontId::proportional(12.5), muted, right - after);
        ui.painter().galley(
            egui::pos2(after, inner.center().y - detail.size().y / 2.0),
            detail,
            muted,
        );
    }
    response
}

fn kind_color(kind: EntryKind, visuals: &egui::Visuals) -> Color32 {
    match kind {
        EntryKind::Action => theme::accent(visuals),
        EntryKind::Screen => theme::success(visuals),
        EntryKind::Session => theme::number(visuals),
        EntryKind::Project => theme::warning(visuals),
        EntryKind::Agent => visuals.hyperlink_color,
    }
}

/// `text` on one line, cut with "…" at `max_width`.
fn one_line(ui: &Ui, text: &str, font: FontId, color: Color32, max_width: f32) -> Arc<Galley> {
    let mut job = LayoutJob::simple_singleline(text.to_owned(), font, color);
    job.wrap = TextWrapping::truncate_at_width(max_width.max(1.0));
    ui.fonts_mut(|fonts| fonts.layout_job(job))
}
