//! The conversation, virtualized: item heights are measured once drawn and estimated before, so a
//! frame lays out only what is on screen however long the session is.

use egui::{RichText, UiBuilder};
use egui_commonmark::{CommonMarkCache, CommonMarkViewer};

use super::tools;
use crate::state::{ChatItem, ChatSession, RunFooter};
use crate::ui::theme;

/// The height assumed for an item not drawn yet.
const ESTIMATED_HEIGHT: f32 = 48.0;
/// Space between items.
const GAP: f32 = 8.0;
/// Room kept clear at the right edge (for the scroll bar), so text never touches the window's border.
const RIGHT_MARGIN: f32 = 14.0;

/// Measured item heights of one tab.
#[derive(Debug, Default)]
pub struct TranscriptCache {
    heights: Vec<f32>,
    /// Heights depend on the width; a new width measures again.
    width: f32,
    /// Items dropped from the front when the heights were taken.
    dropped: usize,
}

impl TranscriptCache {
    /// Brings the cache in line with the items: new items get an estimate, dropped ones leave.
    fn sync(&mut self, session: &ChatSession, width: f32) {
        if (self.width - width).abs() > 1.0 {
            self.heights.iter_mut().for_each(|h| *h = ESTIMATED_HEIGHT);
            self.width = width;
        }
        if session.dropped != self.dropped {
            let gone = session.dropped.saturating_sub(self.dropped).min(self.heights.len());
            self.heights.drain(..gone);
            self.dropped = session.dropped;
        }
        self.heights.resize(session.items.len(), ESTIMATED_HEIGHT);
    }

    /// The items that intersect `top..bottom`, with each one's y offset.
    pub fn visible(&self, top: f32, bottom: f32) -> (Vec<(usize, f32)>, f32) {
        let mut y = 0.0;
        let mut shown = Vec::new();
        for (index, height) in self.heights.iter().enumerate() {
            let next = y + height + GAP;
            if next >= top && y <= bottom {
                shown.push((index, y));
            }
            y = next;
        }
        (shown, y)
    }
}

pub fn ui(
    ui: &mut egui::Ui,
    tab_id: u64,
    session: &ChatSession,
    cache: &mut TranscriptCache,
    markdown: &mut CommonMarkCache,
) {
    if session.items.is_empty() {
        empty_ui(ui);
        return;
    }
    let width = (ui.available_width() - RIGHT_MARGIN).max(120.0);
    cache.sync(session, width);
    egui::ScrollArea::vertical()
        .id_salt(("chat-transcript", tab_id))
        .stick_to_bottom(true)
        .auto_shrink([false, false])
        .show_viewport(ui, |ui, viewport| {
            if session.dropped > 0 {
                ui.label(
                    RichText::new(format!(
                        "{} earlier items are in Claude's transcript file.",
                        session.dropped
                    ))
                    .small()
                    .color(theme::muted(ui.visuals())),
                );
            }
            let (shown, total) = cache.visible(viewport.min.y, viewport.max.y);
            let origin = ui.min_rect().min;
            let (_, full) = ui.allocate_space(egui::vec2(width, total));
            for (index, y) in shown {
                let rect = egui::Rect::from_min_size(
                    origin + egui::vec2(0.0, y),
                    egui::vec2(full.width().min(width), f32::INFINITY),
                );
                let drawn = ui.scope_builder(
                    UiBuilder::new()
                        .max_rect(rect)
                        .id_salt(("chat-item", tab_id, index + session.dropped)),
                    |ui| {
                        item_ui(ui, tab_id, index + session.dropped, &session.items[index], markdown);
                    },
                );
                cache.heights[index] = drawn.response.rect.height();
            }
        });
}

fn empty_ui(ui: &mut egui::Ui) {
    crate::ui::widgets::EmptyState {
        icon: "💬",
        title: "Start a conversation",
        body: "Choose the project folder below and send a prompt. Claude's answer, its thinking and its \
               tool calls stream in here; tools it asks to use wait for your approval.",
        detail: None,
    }
    .ui(ui);
}

fn item_ui(ui: &mut egui::Ui, tab_id: u64, key: usize, item: &ChatItem, markdown: &mut CommonMarkCache) {
    let visuals = ui.visuals().clone();
    match item {
        ChatItem::Prompt { text } => {
            egui::Frame::new()
                .fill(theme::card_fill(&visuals))
                .stroke(egui::Stroke::new(1.0, theme::accent(&visuals).gamma_multiply(0.6)))
                .corner_radius(theme::CARD_RADIUS)
                .inner_margin(10)
                .show(ui, |ui| {
                    ui.set_width(ui.available_width());
                    ui.label(RichText::new("You").strong().color(theme::accent(&visuals)));
                    ui.add(egui::Label::new(text.as_str()).wrap().selectable(true));
                });
        }
        ChatItem::Text { text, subagent } => {
            if *subagent {
                ui.label(RichText::new("Subagent").small().color(theme::muted(&visuals)));
            }
            CommonMarkViewer::new().show(ui, markdown, text);
        }
        ChatItem::Thinking { text } => {
            egui::CollapsingHeader::new(RichText::new("💭 Thinking").color(theme::muted(&visuals)))
                .id_salt(("thinking", tab_id, key))
                .show(ui, |ui| {
                    ui.add(egui::Label::new(RichText::new(text).italics().color(theme::muted(&visuals))).wrap());
                });
        }
        ChatItem::Tool(call) => tools::tool_ui(ui, tab_id, key, call),
        ChatItem::Footer(footer) => footer_ui(ui, footer),
        ChatItem::Notice { text, error } => {
            let color = if *error {
                theme::error(&visuals)
            } else {
                theme::muted(&visuals)
            };
            ui.label(RichText::new(text).italics().color(color));
        }
    }
}

fn footer_ui(ui: &mut egui::Ui, footer: &RunFooter) {
    let cost = footer
        .cost_usd
        .map_or("cost unknown".to_owned(), |c| format!("${c:.4}"));
    let duration = footer
        .duration_ms
        .map_or(String::new(), |ms| format!(" · {:.1} s", ms as f64 / 1000.0));
    let turns = footer.turns.map_or(String::new(), |t| {
        format!(" · {t} turn{}", if t == 1 { "" } else { "s" })
    });
    let text = format!(
        "{cost} · {} in / {} out tokens · {} cached{duration}{turns}",
        footer.input_tokens,
        footer.output_tokens,
        footer.cache_read_tokens + footer.cache_creation_tokens
    );
    let color = if footer.is_error {
        theme::error(ui.visuals())
    } else {
        theme::muted(ui.visuals())
    };
    ui.separator();
    ui.label(RichText::new(text).small().color(color));
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn only_items_in_the_viewport_are_chosen() {
        let cache = TranscriptCache {
            heights: vec![100.0; 50_000],
            width: 500.0,
            dropped: 0,
        };
        let (shown, total) = cache.visible(10_800.0, 11_400.0);
        assert_eq!(total, 50_000.0 * (100.0 + GAP));
        assert!(shown.len() <= 8, "{}", shown.len());
        assert_eq!(shown[0].0, 99);
    }
}
