//! Tool calls, each paired with its result and collapsible, with views made for the common tools.

use std::sync::Arc;

use egui::RichText;
use serde_json::Value;
use similar::{ChangeTag, TextDiff};

use crate::state::ToolCall;
use crate::ui::theme;

/// Characters of a tool result shown before "show more" would be needed.
const RESULT_PREVIEW_CHARS: usize = 4000;

pub fn tool_ui(ui: &mut egui::Ui, tab_id: u64, key: usize, call: &ToolCall) {
    let visuals = ui.visuals().clone();
    let (status, color) = match &call.result {
        None => ("…", theme::muted(&visuals)),
        Some(result) if result.is_error => ("✖", theme::error(&visuals)),
        Some(_) => ("✔", theme::success(&visuals)),
    };
    let title = RichText::new(format!("{status} {}  {}", call.name, summary(call))).color(color);
    let indent = if call.parent.is_some() { 16.0 } else { 0.0 };
    ui.horizontal(|ui| {
        ui.add_space(indent);
        ui.vertical(|ui| {
            egui::CollapsingHeader::new(title)
                .id_salt(("tool", tab_id, key))
                .default_open(call.result.as_ref().is_some_and(|r| r.is_error))
                .show(ui, |ui| body_ui(ui, call));
        });
    });
}

/// One line that says what the call does.
fn summary(call: &ToolCall) -> String {
    let input = &call.input;
    let text = |key: &str| input.get(key).and_then(Value::as_str).unwrap_or("").to_owned();
    let line = match call.name.as_str() {
        "Bash" => text("command"),
        "Read" | "Write" | "Edit" | "MultiEdit" | "NotebookEdit" => text("file_path"),
        "Grep" => format!("{} {}", text("pattern"), text("path")),
        name if name.starts_with("mcp__") => name.trim_start_matches("mcp__").replacen("__", " · ", 1),
        "Glob" => text("pattern"),
        "Task" | "Agent" => text("description"),
        "TodoWrite" => format!(
            "{} items",
            input.get("todos").and_then(Value::as_array).map_or(0, Vec::len)
        ),
        "WebFetch" => text("url"),
        "WebSearch" => text("query"),
        _ => String::new(),
    };
    let first: String = line.lines().next().unwrap_or("").chars().take(100).collect();
    first
}

fn body_ui(ui: &mut egui::Ui, call: &ToolCall) {
    let input = &call.input;
    let text = |key: &str| input.get(key).and_then(Value::as_str).unwrap_or("");
    match call.name.as_str() {
        "Bash" => {
            code_ui(ui, &format!("$ {}", text("command")));
            if let Some(result) = &call.result {
                let structured = result.structured.as_ref();
                let stdout = structured.and_then(|s| s.get("stdout")).and_then(Value::as_str);
                let stderr = structured
                    .and_then(|s| s.get("stderr"))
                    .and_then(Value::as_str)
                    .filter(|s| !s.is_empty());
                match stdout {
                    Some(out) => code_ui(ui, out),
                    None => code_ui(ui, &result.text),
                }
                if let Some(err) = stderr {
                    ui.label(RichText::new("stderr").small().color(theme::error(ui.visuals())));
                    code_ui(ui, err);
                }
            }
            return;
        }
        "Edit" => diff_ui(ui, text("old_string"), text("new_string")),
        "MultiEdit" => {
            for edit in input.get("edits").and_then(Value::as_array).into_iter().flatten() {
                let part = |key: &str| edit.get(key).and_then(Value::as_str).unwrap_or("");
                diff_ui(ui, part("old_string"), part("new_string"));
            }
        }
        "Write" => diff_ui(ui, "", text("content")),
        "TodoWrite" => {
            for todo in input.get("todos").and_then(Value::as_array).into_iter().flatten() {
                let status = todo.get("status").and_then(Value::as_str).unwrap_or("pending");
                let content = todo.get("content").and_then(Value::as_str).unwrap_or("");
                let mark = match status {
                    "completed" => "☑",
                    "in_progress" => "▶",
                    _ => "☐",
                };
                ui.label(format!("{mark} {content}"));
            }
            return;
        }
        "Task" | "Agent" => {
            ui.label(RichText::new(text("prompt")).italics());
        }
        "Read" => {
            let range = match (
                input.get("offset").and_then(Value::as_u64),
                input.get("limit").and_then(Value::as_u64),
            ) {
                (Some(offset), Some(limit)) => format!(" (lines {offset}–{})", offset + limit),
                (Some(offset), None) => format!(" (from line {offset})"),
                _ => String::new(),
            };
            ui.label(RichText::new(format!("{}{range}", text("file_path"))).monospace());
        }
        "Grep" | "Glob" => {
            let place = [text("path"), text("glob"), text("type")]
                .into_iter()
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join(" · ");
            ui.label(RichText::new(format!("{}  {place}", text("pattern"))).monospace());
        }
        name if name.starts_with("mcp__") => {
            let mut parts = name.splitn(3, "__").skip(1);
            let (server, tool) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
            ui.label(format!("MCP server {server}, tool {tool}"));
            code_ui(ui, &serde_json::to_string_pretty(input).unwrap_or_default());
        }
        _ => {
            let pretty = serde_json::to_string_pretty(input).unwrap_or_default();
            code_ui(ui, &pretty);
        }
    }
    if let Some(result) = &call.result {
        let color = if result.is_error {
            theme::error(ui.visuals())
        } else {
            theme::muted(ui.visuals())
        };
        ui.label(
            RichText::new(if result.is_error { "Error" } else { "Result" })
                .small()
                .color(color),
        );
        let shown: String = result.text.chars().take(RESULT_PREVIEW_CHARS).collect();
        code_ui(ui, &shown);
        if shown.len() < result.text.len() {
            ui.label(
                RichText::new(format!(
                    "… {} more characters",
                    result.text.chars().count() - RESULT_PREVIEW_CHARS
                ))
                .small(),
            );
        }
    }
}

fn code_ui(ui: &mut egui::Ui, text: &str) {
    egui::Frame::new()
        .fill(theme::code_fill(ui.visuals()))
        .corner_radius(4)
        .inner_margin(6)
        .show(ui, |ui| {
            ui.set_width(ui.available_width());
            ui.add(
                egui::Label::new(RichText::new(text).monospace())
                    .wrap()
                    .selectable(true),
            );
        });
}

/// The lines of an edit's diff, each with the change it is.
type EditLines = Arc<[(ChangeTag, String)]>;

/// Diffs an edit's old and new text into the lines [`diff_ui`] draws.
#[derive(Default)]
struct EditDiff;

impl<'a> egui::cache::ComputerMut<(&'a str, &'a str), EditLines> for EditDiff {
    fn compute(&mut self, (old, new): (&'a str, &'a str)) -> EditLines {
        TextDiff::from_lines(old, new)
            .iter_all_changes()
            .map(|change| {
                let sign = match change.tag() {
                    ChangeTag::Delete => "-",
                    ChangeTag::Insert => "+",
                    ChangeTag::Equal => " ",
                };
                (
                    change.tag(),
                    format!("{sign} {}", change.value().trim_end_matches('\n')),
                )
            })
            .collect()
    }
}

/// Edits diffed for the frames that show them: an open tool call is diffed once, not every frame.
type EditDiffCache = egui::cache::FrameCache<EditLines, EditDiff>;

/// A unified, line-based diff with added and removed lines colored.
pub fn diff_ui(ui: &mut egui::Ui, old: &str, new: &str) {
    let lines = ui.memory_mut(|memory| memory.caches.cache::<EditDiffCache>().get((old, new)).clone());
    let added = theme::success(ui.visuals());
    let removed = theme::error(ui.visuals());
    egui::Frame::new()
        .fill(theme::code_fill(ui.visuals()))
        .corner_radius(4)
        .inner_margin(6)
        .show(ui, |ui| {
            ui.set_width(ui.available_width());
            for (tag, line) in lines.iter() {
                let color = match tag {
                    ChangeTag::Delete => Some(removed),
                    ChangeTag::Insert => Some(added),
                    ChangeTag::Equal => None,
                };
                let text = RichText::new(line).monospace();
                ui.label(match color {
                    Some(color) => text.color(color),
                    None => text,
                });
            }
        });
}
