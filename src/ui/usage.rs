//! The Usage screen: tokens and cost from Claude's transcripts over a date range, by day, month, model,
//! project and session, with a chart, a table, CSV/JSON export and the editable price table.

use egui::{RichText, Ui};
use egui_extras::{Column, TableBuilder};
use egui_plot::{Bar, BarChart, Plot};

use super::projects::{money, tokens};
use super::widgets::{EmptyState, error_line, screen_heading};
use super::{ScreenContext, theme};
use crate::backend::command::UsageRange;
use crate::domain::transcripts::prices::PriceTable;
use crate::domain::transcripts::report::{Group, Report};
use crate::state::nav::Screen;
use crate::state::{TranscriptsStore, UsageTab};

pub fn ui(ui: &mut Ui, cx: &mut ScreenContext<'_>) {
    screen_heading(ui, Screen::Usage.heading());
    let ScreenContext { stores, backend, .. } = cx;
    rate_limit_ui(ui, &stores.chat);
    let store = &mut stores.transcripts;
    if store.catalog.is_none() {
        ui.horizontal(|ui| {
            ui.spinner();
            ui.label("Reading Claude's transcripts…");
        });
        return;
    }
    let range_changed = range_ui(ui, store);
    if let Some(error) = range_error(store) {
        error_line(ui, &error);
        return;
    }
    // The sessions grouping (tens of thousands of rows for a heavy user) only while its tab is shown.
    let sessions = store.usage_tab == UsageTab::Sessions && !store.show_blocks;
    if (!store.usage_current || range_changed || store.usage_sessions != sessions) && !store.usage.is_pending() {
        store.usage_current = true;
        store.usage_sessions = sessions;
        store.usage.start(backend.dispatch(UsageReport {
            range: range_of(store),
            sessions,
        }));
    }
    let stale = store
        .blocks_asked
        .is_none_or(|at| at.elapsed() > std::time::Duration::from_secs(60));
    if store.show_blocks && (!store.blocks_current || range_changed || stale) && !store.blocks.is_pending() {
        store.blocks_current = true;
        store.blocks_asked = Some(std::time::Instant::now());
        store
            .blocks
            .start(backend.dispatch(UsageBlocks { range: range_of(store) }));
    }
    if store.show_blocks {
        // The active block's time left moves on: ask again each minute.
        ui.ctx().request_repaint_after(std::time::Duration::from_secs(30));
    }
    if store.prices.never_requested() {
        store.prices.start(backend.dispatch(LoadPrices));
    }
    if let Some(error) = store.usage.error() {
        error_line(ui, error);
    }
    let Some(report) = store.usage.value().cloned() else {
        ui.spinner();
        return;
    };
    totals_ui(ui, &report);
    ui.add_space(8.0);
    ui.horizontal(|ui| {
        for tab in UsageTab::ALL {
            if ui
                .selectable_label(!store.show_blocks && store.usage_tab == tab, tab.label())
                .clicked()
            {
                store.usage_tab = tab;
                store.show_blocks = false;
            }
        }
        if ui
            .selectable_label(store.show_blocks, "5-hour blocks")
            .on_hover_text("Claude's 5-hour billing windows, counted as ccusage's blocks")
            .clicked()
        {
            store.show_blocks = true;
        }
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            export_ui(ui, store, backend);
        });
    });
    ui.add_space(4.0);
    egui::Panel::bottom("usage-prices")
        .frame(egui::Frame::new().inner_margin(egui::Margin::symmetric(0, 6)))
        .show(ui, |ui| prices_ui(ui, store, backend));
    egui::CentralPanel::no_frame().show(ui, |ui| {
        if store.show_blocks {
            blocks_ui(ui, store);
            return;
        }
        let rows = store.usage_tab.rows(&report);
        if rows.is_empty() {
            EmptyState {
                icon: "📊",
                title: "No usage in this range",
                body: "Claude's transcripts hold no API usage between these days. Widen the range or choose All.",
                detail: None,
            }
            .ui(ui);
            return;
        }
        chart_ui(ui, store.usage_tab, rows);
        ui.add_space(6.0);
        ui.add(
            egui::TextEdit::singleline(&mut store.usage_filter)
                .hint_text("🔍 Filter rows")
                .desired_width(260.0),
        );
        table_ui(ui, store, rows);
    });
}

fn range_of(store: &TranscriptsStore) -> UsageRange {
    UsageRange {
        since: Some(store.usage_since.trim().to_string()).filter(|s| !s.is_empty()),
        until: Some(store.usage_until.trim().to_string()).filter(|s| !s.is_empty()),
        timezone: Some(store.usage_zone.trim().to_string()).filter(|s| !s.is_empty()),
        fresh: false,
    }
}

/// The range as typed, checked before asking (a half-typed date is not sent).
fn range_error(store: &TranscriptsStore) -> Option<String> {
    let range = range_of(store);
    range.to_range().err().map(|e| e.to_string())
}

/// The date range and zone; true when the person changed them.
fn range_ui(ui: &mut Ui, store: &mut TranscriptsStore) -> bool {
    let mut changed = false;
    ui.horizontal(|ui| {
        let today = chrono::Local::now().date_naive();
        let day = |d: chrono::NaiveDate| d.format("%Y-%m-%d").to_string();
        let mut preset = |ui: &mut Ui, label: &str, since: Option<chrono::NaiveDate>| {
            let active = store.usage_since == since.map(day).unwrap_or_default() && store.usage_until.is_empty();
            if ui.selectable_label(active, label).clicked() {
                store.usage_since = since.map(day).unwrap_or_default();
                store.usage_until.clear();
                changed = true;
            }
        };
        preset(ui, "7 days", Some(today - chrono::Days::new(6)));
        preset(ui, "30 days", Some(today - chrono::Days::new(29)));
        preset(ui, "This month", Some(today.with_day0(0).unwrap_or(today)));
        preset(ui, "All", None);
        ui.separator();
        let label = ui.label("From");
        changed |= ui
            .add(
                egui::TextEdit::singleline(&mut store.usage_since)
                    .hint_text("YYYY-MM-DD")
                    .desired_width(90.0),
            )
            .labelled_by(label.id)
            .lost_focus();
        let label = ui.label("to");
        changed |= ui
            .add(
                egui::TextEdit::singleline(&mut store.usage_until)
                    .hint_text("YYYY-MM-DD")
                    .desired_width(90.0),
            )
            .labelled_by(label.id)
            .lost_focus();
        let label = ui.label("Time zone");
        changed |= ui
            .add(
                egui::TextEdit::singleline(&mut store.usage_zone)
                    .hint_text("local")
                    .desired_width(120.0),
            )
            .labelled_by(label.id)
            .on_hover_text("An IANA zone such as Europe/Berlin or UTC; empty for this computer's zone")
            .lost_focus();
        if store.usage.is_pending() {
            ui.spinner();
        }
    });
    changed
}

use crate::domain::transcripts::requests::{ExportUsage, LoadPrices, SavePrices, UsageBlocks, UsageReport};
use chrono::Datelike;

fn totals_ui(ui: &mut Ui, report: &Report) {
    let muted = theme::muted(ui.visuals());
    ui.horizontal_wrapped(|ui| {
        let card = |ui: &mut Ui, label: &str, value: String| {
            egui::Frame::new()
                .fill(theme::card_fill(ui.visuals()))
                .corner_radius(theme::CARD_RADIUS)
                .inner_margin(egui::Margin::symmetric(14, 8))
                .show(ui, |ui| {
                    ui.vertical(|ui| {
                        ui.label(RichText::new(label).small().color(muted));
                        ui.label(RichText::new(value).strong().size(18.0));
                    });
                });
        };
        let t = &report.totals;
        card(ui, "Cost", money(t.cost));
        card(ui, "Total tokens", tokens(t.total()));
        card(ui, "Input", tokens(t.input));
        card(ui, "Output", tokens(t.output));
        card(ui, "Cache writes", tokens(t.cache_write));
        card(ui, "Cache reads", tokens(t.cache_read));
    });
    if !report.unpriced_models.is_empty() {
        ui.label(
            RichText::new(format!(
                "⚠ Unpriced: {}. Their tokens are counted; their cost is not in these totals. Add prices below.",
                report.unpriced_models.join(", ")
            ))
            .color(theme::error(ui.visuals())),
        );
    }
}

fn chart_ui(ui: &mut Ui, tab: UsageTab, rows: &[Group]) {
    // Days and months in order; models, projects and sessions: the ten costliest.
    let mut shown: Vec<&Group> = rows.iter().collect();
    if matches!(tab, UsageTab::Models | UsageTab::Projects | UsageTab::Sessions) {
        shown.sort_by(|a, b| b.tally.cost.total_cmp(&a.tally.cost));
        shown.truncate(10);
    }
    let labels: Vec<String> = shown.iter().map(|g| short_key(tab, g)).collect();
    let bars: Vec<Bar> = shown
        .iter()
        .enumerate()
        .map(|(i, g)| Bar::new(i as f64, g.tally.cost).name(&labels[i]).width(0.7))
        .collect();
    let chart = BarChart::new("Cost (USD)", bars).color(theme::accent(ui.visuals()));
    let axis_labels = labels.clone();
    Plot::new(("usage-chart", tab.label()))
        .height(180.0)
        .allow_drag(false)
        .allow_zoom(false)
        .allow_scroll(false)
        .show_grid([false, true])
        .y_axis_formatter(|mark, _| format!("${:.2}", mark.value))
        .x_axis_formatter(move |mark, _| {
            let i = mark.value.round();
            if (mark.value - i).abs() < 1e-6 && i >= 0.0 {
                axis_labels.get(i as usize).cloned().unwrap_or_default()
            } else {
                String::new()
            }
        })
        .label_formatter(move |hover| match hover {
            egui_plot::HoverPosition::NearDataPoint { position, .. } => {
                let i = position.x.round();
                let name = if i >= 0.0 {
                    labels.get(i as usize).cloned()
                } else {
                    None
                };
                name.map(|n| format!("{n}\n${:.2}", position.y))
            }
            _ => None,
        })
        .show(ui, |plot| plot.bar_chart(chart));
}

fn short_key(tab: UsageTab, group: &Group) -> String {
    match tab {
        UsageTab::Daily => group.key.get(5..).unwrap_or(&group.key).to_string(),
        UsageTab::Sessions => group.key.chars().take(8).collect(),
        UsageTab::Projects => group
            .key
            .rsplit(['-', '/'])
            .find(|s| !s.is_empty())
            .unwrap_or(&group.key)
            .to_string(),
        _ => group.key.clone(),
    }
}

/// The latest usage-limit state Claude reported in a chat (`rate_limit_event`), when any did.
fn rate_limit_ui(ui: &mut Ui, chat: &crate::state::ChatStore) {
    let Some((info, seen_ms)) = chat.latest_rate_limit() else {
        return;
    };
    let color = if info.limited() {
        theme::error(ui.visuals())
    } else if info.needs_attention() {
        theme::warning(ui.visuals())
    } else {
        theme::muted(ui.visuals())
    };
    let text = info.summary(info.resets_at_ms().and_then(super::chat::reset_time));
    ui.horizontal(|ui| {
        ui.label(RichText::new(format!("Claude's usage limit: {text}")).color(color));
        ui.label(RichText::new(format!("(as of {})", local_time(seen_ms))).color(theme::muted(ui.visuals())));
    });
}

/// A time in this computer's zone: `2026-03-01 10:00`.
fn local_time(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.with_timezone(&chrono::Local).format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_default()
}

/// `2h 05m`.
pub fn hours_minutes(minutes: u64) -> String {
    format!("{}h {:02}m", minutes / 60, minutes % 60)
}

/// The 5-hour blocks: the active one (time left, burn rate, projection) above the list, newest first.
fn blocks_ui(ui: &mut Ui, store: &TranscriptsStore) {
    if let Some(error) = store.blocks.error() {
        error_line(ui, error);
    }
    let Some(blocks) = store.blocks.value() else {
        ui.spinner();
        return;
    };
    let now = chrono::Utc::now().timestamp_millis();
    let muted = theme::muted(ui.visuals());
    egui::Frame::new()
        .fill(theme::card_fill(ui.visuals()))
        .corner_radius(theme::CARD_RADIUS)
        .inner_margin(egui::Margin::symmetric(14, 10))
        .show(ui, |ui| match blocks.active() {
            Some(active) => {
                let left = active.minutes_left(now).unwrap_or(0);
                ui.label(RichText::new(format!("Active block: {} left", hours_minutes(left))).strong());
                ui.label(
                    RichText::new(format!(
                        "Started {}, ends {} · {} so far · {}",
                        local_time(active.start_ms),
                        local_time(active.end_ms),
                        tokens(active.tally.total()),
                        money(active.tally.cost)
                    ))
                    .color(muted),
                );
                match active.burn_rate {
                    Some(rate) => {
                        ui.label(format!(
                            "Burn rate: {} tokens/min ({} input+output/min) · {}/h",
                            tokens(rate.tokens_per_minute.round() as u64),
                            tokens(rate.tokens_per_minute_for_indicator.round() as u64),
                            money(rate.cost_per_hour)
                        ));
                    }
                    None => {
                        ui.label(RichText::new("Burn rate: not enough activity yet").color(muted));
                    }
                }
                if let Some(p) = active.projection {
                    ui.label(format!(
                        "Projected by its end: {} tokens · {}",
                        tokens(p.total_tokens),
                        money(p.total_cost)
                    ));
                }
            }
            None => {
                ui.label(RichText::new("No active block").strong());
                ui.label(
                    RichText::new("A block starts with the next request to Claude and lasts 5 hours.").color(muted),
                );
            }
        });
    ui.add_space(6.0);
    let shown: Vec<&crate::domain::transcripts::blocks::Block> = blocks.blocks.iter().rev().collect();
    if shown.is_empty() {
        EmptyState {
            icon: "⏱",
            title: "No blocks in this range",
            body: "Claude's transcripts hold no API usage between these days.",
            detail: None,
        }
        .ui(ui);
        return;
    }
    TableBuilder::new(ui)
        .id_salt("usage-blocks")
        .striped(true)
        .column(Column::initial(150.0).resizable(true))
        .column(Column::initial(150.0).resizable(true))
        .columns(Column::initial(90.0).resizable(true), 3)
        .column(Column::remainder().clip(true))
        .header(22.0, |mut header| {
            for title in ["Start", "Status", "Requests", "Tokens", "Cost", "Models"] {
                header.col(|ui| {
                    ui.strong(title);
                });
            }
        })
        .body(|body| {
            body.rows(22.0, shown.len(), |mut row| {
                let b = shown[row.index()];
                row.col(|ui| {
                    ui.label(local_time(b.start_ms));
                });
                if b.gap {
                    let hours = (b.end_ms - b.start_ms) / 3_600_000;
                    row.col(|ui| {
                        ui.label(RichText::new(format!("gap, {hours} h idle")).color(muted));
                    });
                    return;
                }
                row.col(|ui| match b.minutes_left(now) {
                    Some(left) => {
                        ui.label(RichText::new(format!("active, {} left", hours_minutes(left))).strong());
                    }
                    None => {
                        ui.label(format!("ended {}", local_time(b.end_ms)));
                    }
                });
                row.col(|ui| {
                    ui.label(b.entries.to_string());
                });
                row.col(|ui| {
                    ui.label(tokens(b.tally.total()))
                        .on_hover_text(b.tally.total().to_string());
                });
                row.col(|ui| {
                    ui.label(money(b.tally.cost));
                });
                row.col(|ui| {
                    ui.label(b.models.join(", "));
                });
            });
        });
}

fn table_ui(ui: &mut Ui, store: &TranscriptsStore, rows: &[Group]) {
    let needle = store.usage_filter.to_lowercase();
    let shown: Vec<&Group> = rows
        .iter()
        .filter(|g| {
            needle.is_empty()
                || g.key.to_lowercase().contains(&needle)
                || g.project.to_lowercase().contains(&needle)
                || g.models.iter().any(|m| m.model.contains(&needle))
        })
        .collect();
    let key_title = match store.usage_tab {
        UsageTab::Daily => "Day",
        UsageTab::Monthly => "Month",
        UsageTab::Models => "Model",
        UsageTab::Projects => "Project",
        UsageTab::Sessions => "Session",
    };
    let error = theme::error(ui.visuals());
    TableBuilder::new(ui)
        .id_salt(("usage-table", key_title))
        .striped(true)
        .column(Column::initial(220.0).resizable(true).clip(true))
        .columns(Column::initial(90.0).resizable(true), 5)
        .column(Column::initial(90.0))
        .column(Column::remainder().clip(true))
        .header(22.0, |mut header| {
            for title in [
                key_title,
                "Input",
                "Output",
                "Cache write",
                "Cache read",
                "Total",
                "Cost",
                "Models",
            ] {
                header.col(|ui| {
                    ui.strong(title);
                });
            }
        })
        .body(|body| {
            body.rows(22.0, shown.len(), |mut row| {
                let g = shown[row.index()];
                let unpriced = g.unpriced_models();
                let key = if store.usage_tab == UsageTab::Sessions {
                    format!("{} · {}", g.key, g.project)
                } else {
                    g.key.clone()
                };
                row.col(|ui| {
                    ui.label(key).on_hover_text(&g.key);
                });
                for n in [
                    g.tally.input,
                    g.tally.output,
                    g.tally.cache_write,
                    g.tally.cache_read,
                    g.tally.total(),
                ] {
                    row.col(|ui| {
                        ui.label(tokens(n)).on_hover_text(n.to_string());
                    });
                }
                row.col(|ui| {
                    if unpriced.is_empty() {
                        ui.label(money(g.tally.cost));
                    } else if g.tally.cost > 0.0 {
                        ui.label(RichText::new(format!("{} +unpriced", money(g.tally.cost))).color(error))
                            .on_hover_text(format!("No price for {}", unpriced.join(", ")));
                    } else {
                        ui.label(RichText::new("unpriced").color(error))
                            .on_hover_text(format!("No price for {}", unpriced.join(", ")));
                    }
                });
                row.col(|ui| {
                    let models: Vec<&str> = g.models.iter().map(|m| m.model.as_str()).collect();
                    ui.label(models.join(", "));
                });
            });
        });
}

fn export_ui(ui: &mut Ui, store: &mut TranscriptsStore, backend: &crate::backend::Requests) {
    if store.export_dir.is_empty() {
        store.export_dir = crate::util::paths::downloads_dir()
            .map(|p| p.display().to_string())
            .unwrap_or_default();
    }
    let busy = store.exporting.is_some();
    let mut export = None;
    // Right to left: the buttons, then the folder, then its label.
    if ui
        .add_enabled(!busy, egui::Button::new("JSON"))
        .on_hover_text("Export this table as JSON, with ccusage's field names")
        .clicked()
    {
        export = Some(true);
    }
    if ui
        .add_enabled(!busy, egui::Button::new("CSV"))
        .on_hover_text("Export this table as CSV")
        .clicked()
    {
        export = Some(false);
    }
    let field = ui
        .add(egui::TextEdit::singleline(&mut store.export_dir).desired_width(200.0))
        .on_hover_text("The folder the export is written to");
    let label = ui.label("Export to");
    field.labelled_by(label.id);
    if let Some(json) = export {
        store.exporting = Some(backend.dispatch(ExportUsage {
            range: range_of(store),
            grouping: store.usage_tab,
            json,
            dir: store.export_dir.clone().into(),
        }));
    }
}

fn prices_ui(ui: &mut Ui, store: &mut TranscriptsStore, backend: &crate::backend::Requests) {
    let muted = theme::muted(ui.visuals());
    let Some((table, custom)) = store.prices.value().cloned() else {
        return;
    };
    ui.horizontal(|ui| {
        ui.label(
            RichText::new(format!(
                "Prices: {} table, version {} ({} models)",
                if custom { "your own" } else { "built-in" },
                table.version,
                table.models.len()
            ))
            .small()
            .color(muted),
        );
        if store.price_editor.is_none() && ui.small_button("Edit prices…").clicked() {
            store.price_editor = Some(serde_json::to_string_pretty(&table).unwrap_or_default());
            store.price_error = None;
        }
        if custom
            && store.price_editor.is_none()
            && ui
                .small_button("Use built-in prices")
                .on_hover_text("Remove your price table")
                .clicked()
        {
            store.saving_prices = Some(backend.dispatch(SavePrices { table: None }));
        }
    });
    let mut close = false;
    if let Some(text) = &mut store.price_editor {
        ui.label(
            RichText::new(
                "USD per million tokens. above_200k: rates beyond 200,000 tokens of one kind in one response.",
            )
            .small()
            .color(muted),
        );
        egui::ScrollArea::vertical().max_height(220.0).show(ui, |ui| {
            ui.add(
                egui::TextEdit::multiline(text)
                    .code_editor()
                    .desired_rows(10)
                    .desired_width(f32::INFINITY),
            );
        });
        if let Some(error) = &store.price_error {
            error_line(ui, error);
        }
        ui.horizontal(|ui| {
            let busy = store.saving_prices.is_some();
            if ui.add_enabled(!busy, egui::Button::new("Save prices")).clicked() {
                match serde_json::from_str::<PriceTable>(text) {
                    Ok(table) => match table.validate() {
                        Ok(()) => {
                            store.price_error = None;
                            store.saving_prices = Some(backend.dispatch(SavePrices { table: Some(table) }));
                        }
                        Err(e) => store.price_error = Some(e.to_string()),
                    },
                    Err(e) => store.price_error = Some(format!("Not a price table: {e}")),
                }
            }
            if ui.button("Cancel").clicked() {
                close = true;
            }
            if busy {
                ui.spinner();
            }
        });
    }
    if close {
        store.price_editor = None;
        store.price_error = None;
    }
}
