//! Approval cards: a tool Claude wants to use, its input and the CLI's suggestion, with Allow,
//! Allow for this session and Deny with a reason; Claude's plan to approve (plan mode) and its
//! multiple-choice questions to answer.

use egui::RichText;
use egui_commonmark::{CommonMarkCache, CommonMarkViewer};

use crate::backend::Requests;
use crate::domain::claude::questions::PLAN_FOLLOW_UP_MODES;
use crate::domain::claude::requests::ClaudeRespondPermission;
use crate::domain::claude::run::PermissionAnswer;
use crate::state::{ChatSession, PermissionPrompt};
use crate::ui::theme;

/// The tallest a plan is drawn in its card before it scrolls.
const PLAN_MAX_HEIGHT: f32 = 280.0;

pub fn cards_ui(ui: &mut egui::Ui, session: &mut ChatSession, backend: &Requests, markdown: &mut CommonMarkCache) {
    let mut answered = Vec::new();
    for (index, prompt) in session.permissions.iter_mut().enumerate() {
        let accent = theme::accent(ui.visuals());
        egui::Frame::new()
            .stroke(egui::Stroke::new(1.5, accent))
            .fill(theme::card_fill(ui.visuals()))
            .corner_radius(theme::CARD_RADIUS)
            .inner_margin(10)
            .show(ui, |ui| {
                let answer = if prompt.is_plan() {
                    plan_ui(ui, prompt, markdown)
                } else if prompt.is_questions() {
                    questions_ui(ui, prompt)
                } else {
                    tool_ui(ui, prompt)
                };
                if let Some(answer) = answer {
                    answered.push((index, answer));
                }
            });
        ui.add_space(4.0);
    }
    for (index, answer) in answered.into_iter().rev() {
        let prompt = session.permissions.remove(index);
        if let PermissionAnswer::ApprovePlan { mode } = &answer {
            // The next turn starts in the chosen mode too (the CLI confirms it with a status line).
            session.permission_mode = Some(*mode);
        }
        backend.dispatch(ClaudeRespondPermission {
            run_id: prompt.run_id,
            request_id: prompt.request_id,
            answer,
        });
    }
}

/// `ExitPlanMode`: the plan as Markdown, "Approve and start" in a chosen mode, or "Keep planning" with
/// what should change.
fn plan_ui(
    ui: &mut egui::Ui,
    prompt: &mut PermissionPrompt,
    markdown: &mut CommonMarkCache,
) -> Option<PermissionAnswer> {
    let mut answer = None;
    ui.label(RichText::new("📋 Claude's plan").strong());
    match crate::domain::claude::questions::plan_text(&prompt.request.input) {
        Some(plan) => {
            egui::ScrollArea::vertical()
                .max_height(PLAN_MAX_HEIGHT)
                .id_salt(("plan", &prompt.request_id))
                .show(ui, |ui| {
                    CommonMarkViewer::new().show(ui, markdown, plan);
                });
        }
        None => {
            ui.label(RichText::new("Claude is ready to leave plan mode and start.").color(theme::muted(ui.visuals())));
        }
    }
    ui.horizontal(|ui| {
        if ui
            .button(RichText::new("Approve and start").strong())
            .on_hover_text("Claude leaves plan mode and carries the plan out")
            .clicked()
        {
            answer = Some(PermissionAnswer::ApprovePlan { mode: prompt.plan_mode });
        }
        ui.label("in");
        egui::ComboBox::from_id_salt(("plan-mode", &prompt.request_id))
            .selected_text(prompt.plan_mode.label())
            .show_ui(ui, |ui| {
                for mode in PLAN_FOLLOW_UP_MODES {
                    ui.selectable_value(&mut prompt.plan_mode, mode, mode.label());
                }
            });
    });
    ui.horizontal(|ui| {
        ui.add(
            egui::TextEdit::singleline(&mut prompt.reason)
                .hint_text("What should change? (optional)")
                .desired_width(320.0),
        );
        if ui
            .button("Keep planning")
            .on_hover_text("Claude stays in plan mode and revises the plan")
            .clicked()
        {
            let message = match prompt.reason.trim() {
                "" => "The user wants to keep planning: do not start yet; refine the plan.".to_owned(),
                feedback => format!("The user wants to keep planning. Their feedback on the plan: {feedback}"),
            };
            answer = Some(PermissionAnswer::Deny { message });
        }
    });
    answer
}

/// `AskUserQuestion`: each question with its options (one or several), an "Other" answer in the person's
/// own words, then "Send answers" once every question has one.
fn questions_ui(ui: &mut egui::Ui, prompt: &mut PermissionPrompt) -> Option<PermissionAnswer> {
    let mut answer = None;
    let muted = theme::muted(ui.visuals());
    ui.label(RichText::new("❓ Claude asks").strong());
    for (q, (question, chosen)) in prompt.questions.iter().zip(prompt.answers.iter_mut()).enumerate() {
        ui.add_space(4.0);
        ui.horizontal_wrapped(|ui| {
            if !question.header.is_empty() {
                ui.label(
                    RichText::new(&question.header)
                        .small()
                        .color(theme::accent(ui.visuals())),
                );
            }
            ui.add(egui::Label::new(RichText::new(&question.question).strong()).wrap());
            if question.multi_select {
                ui.label(RichText::new("(choose any)").small().color(muted));
            }
        });
        for (index, option) in question.options.iter().enumerate() {
            ui.horizontal_wrapped(|ui| {
                let on = chosen.chosen.get(index).copied().unwrap_or(false);
                let clicked = if question.multi_select {
                    let mut checked = on;
                    ui.checkbox(&mut checked, &option.label).clicked()
                } else {
                    ui.radio(on, &option.label).clicked()
                };
                if clicked {
                    chosen.choose(question, index, if question.multi_select { !on } else { true });
                }
                if !option.description.is_empty() {
                    ui.label(RichText::new(&option.description).small().color(muted));
                }
            });
        }
        ui.horizontal(|ui| {
            let on = chosen.other.is_some();
            let clicked = if question.multi_select {
                let mut checked = on;
                ui.checkbox(&mut checked, "Other").clicked()
            } else {
                ui.radio(on, "Other").clicked()
            };
            if clicked {
                chosen.choose_other(question, if question.multi_select { !on } else { true });
            }
            if let Some(text) = chosen.other.as_mut() {
                ui.add(
                    egui::TextEdit::singleline(text)
                        .id_salt(("question-other", &prompt.request_id, q))
                        .hint_text("Your answer")
                        .desired_width(280.0),
                );
            }
        });
    }
    ui.add_space(4.0);
    ui.horizontal(|ui| {
        let ready = prompt.answered_input();
        if ui
            .add_enabled(
                ready.is_some(),
                egui::Button::new(RichText::new("Send answers").strong()),
            )
            .on_disabled_hover_text("Answer every question first")
            .clicked()
            && let Some(input) = ready
        {
            answer = Some(PermissionAnswer::AllowWithInput { input });
        }
        if ui
            .button("Skip")
            .on_hover_text("Claude goes on without answers")
            .clicked()
        {
            answer = Some(PermissionAnswer::Deny {
                message: "The user chose not to answer these questions.".to_owned(),
            });
        }
    });
    answer
}

/// Any other tool: what it would run, with Allow, Allow for this session, and Deny with a reason.
fn tool_ui(ui: &mut egui::Ui, prompt: &mut PermissionPrompt) -> Option<PermissionAnswer> {
    let mut answer = None;
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
            answer = Some(PermissionAnswer::Allow);
        }
        if ui.button("Allow for this session").clicked() {
            answer = Some(PermissionAnswer::AllowForSession);
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
            answer = Some(PermissionAnswer::Deny { message });
        }
    });
    answer
}
