//! Approval cards: a tool Claude wants to use, its input and the CLI's suggestion, with Allow,
//! Allow for this session and Deny with a reason.

use egui::RichText;

use crate::backend::Requests;
use crate::domain::claude::requests::ClaudeRespondPermission;
use crate::domain::claude::run::PermissionAnswer;
use crate::state::ChatSession;
use crate::ui::theme;

pub fn cards_ui(ui: &mut egui::Ui, session: &mut ChatSession, backend: &Requests) {
    let mut answered = Vec::new();
    for (index, prompt) in session.permissions.iter_mut().enumerate() {
        let accent = theme::accent(ui.visuals());
        egui::Frame::new()
            .stroke(egui::Stroke::new(1.5, accent))
            .fill(theme::card_fill(ui.visuals()))
            .corner_radius(theme::CARD_RADIUS)
            .inner_margin(10)
            .show(ui, |ui| {
                let request = &prompt.request;
                let name = request.display_name.as_deref().unwrap_or(&request.tool_name);
                ui.label(RichText::new(format!("Claude wants to use {name}")).strong());
                if let Some(description) = &request.description {
                    ui.label(RichText::new(description).color(theme::muted(ui.visuals())));
                }
                if let Some(path) = &request.blocked_path {
                    ui.label(format!("Path: {path}"));
                }
                let input = serde_json::to_string_pretty(&request.input).unwrap_or_default();
                egui::ScrollArea::vertical()
                    .max_height(140.0)
                    .id_salt(("permission-input", &prompt.request_id))
                    .show(ui, |ui| {
                        ui.add(egui::Label::new(RichText::new(input).monospace()).wrap());
                    });
                if !request.permission_suggestions.is_empty() {
                    let rules: Vec<String> = request
                        .allow_for_session_updates()
                        .iter()
                        .map(|u| u.describe())
                        .collect();
                    let text = format!("“Allow for this session” also allows: {}", rules.join("; "));
                    ui.label(RichText::new(text).small().color(theme::muted(ui.visuals())));
                }
                ui.horizontal(|ui| {
                    if ui.button(RichText::new("Allow").strong()).clicked() {
                        answered.push((index, PermissionAnswer::Allow));
                    }
                    if ui.button("Allow for this session").clicked() {
                        answered.push((index, PermissionAnswer::AllowForSession));
                    }
                    ui.add(
                        egui::TextEdit::singleline(&mut prompt.reason)
                            .hint_text("Reason (optional)")
                            .desired_width(220.0),
                    );
                    if ui.button("Deny").clicked() {
                        let message = if prompt.reason.trim().is_empty() {
                            "The user denied this tool use.".to_owned()
                        } else {
                            prompt.reason.trim().to_owned()
                        };
                        answered.push((index, PermissionAnswer::Deny { message }));
                    }
                });
            });
        ui.add_space(4.0);
    }
    for (index, answer) in answered.into_iter().rev() {
        let prompt = session.permissions.remove(index);
        backend.dispatch(ClaudeRespondPermission {
            run_id: prompt.run_id,
            request_id: prompt.request_id,
            answer,
        });
    }
}
