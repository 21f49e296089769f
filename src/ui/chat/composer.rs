//! The prompt box: project, model and permission mode, the text, attachments, send and stop.
//! Enter sends, Shift+Enter starts a new line, Esc stops the running turn.

use egui::{Key, Modifiers, RichText};

use crate::backend::Requests;
use crate::domain::claude::permission::PermissionMode;
use crate::domain::claude::requests::CancelClaudeExecution;
use crate::domain::dropped::ReadDroppedFile;
use crate::state::{Attachment, ChatSession, MentionPicker, SlashPicker, image_media_type};
use crate::ui::theme;

/// Model choices offered besides typing any id.
const MODELS: [(&str, &str); 7] = [
    ("", "Default model"),
    ("opus", "Opus (alias)"),
    ("sonnet", "Sonnet (alias)"),
    ("haiku", "Haiku (alias)"),
    ("claude-opus-4-8", "claude-opus-4-8"),
    ("claude-sonnet-5", "claude-sonnet-5"),
    ("claude-haiku-4-5-20251001", "claude-haiku-4-5-20251001"),
];
/// Largest image accepted from a drop.
const MAX_IMAGE_BYTES: u64 = 5 * 1024 * 1024;

/// The prompt box's pickers: `/` commands and `@` files.
pub struct Pickers<'a> {
    pub slash: &'a mut SlashPicker,
    pub mention: &'a mut MentionPicker,
}

/// Returns the tab's new title after its first prompt.
pub fn ui(
    ui: &mut egui::Ui,
    tab_id: u64,
    session: &mut ChatSession,
    pickers: Pickers<'_>,
    backend: &Requests,
) -> Option<String> {
    let Pickers { slash, mention } = pickers;
    let mut retitle = None;
    take_dropped_images(ui.ctx(), session, backend);
    // Queued prompts go out, in order, once the turn before them ended.
    if !session.is_busy()
        && !session.loading_earlier()
        && let Some(next) = session.queue.pop_front()
    {
        retitle = super::send_prompt(session, next, backend);
    }
    options_ui(ui, tab_id, session);
    if !session.attachments.is_empty() {
        ui.horizontal_wrapped(|ui| {
            ui.label(RichText::new("Attached:").small());
            let mut remove = None;
            for (index, attachment) in session.attachments.iter().enumerate() {
                if ui
                    .small_button(format!("🖼 {} ×", attachment.name))
                    .on_hover_text("Remove")
                    .clicked()
                {
                    remove = Some(index);
                }
            }
            if let Some(index) = remove {
                session.attachments.remove(index);
            }
        });
    }
    let input_id = egui::Id::unique(("chat-input", tab_id));
    let focused = ui.memory(|m| m.has_focus(input_id));
    // Ctrl+V in the prompt box also takes an image from the clipboard (text pastes as usual).
    let pasted = focused
        && ui.input(|i| {
            i.events.iter().any(|e| matches!(e, egui::Event::Paste(_)))
                || (i.modifiers.command && i.key_pressed(Key::V))
        });
    if pasted {
        paste_image(session, false);
    }
    // With the `/` or `@` picker open, Enter picks from it; else Enter sends and Shift+Enter is a newline.
    let picking = super::slash::keys(ui, input_id, focused, session, slash, backend)
        || super::mention::keys(ui, input_id, focused, session, mention, backend);
    let enter = !picking && focused && ui.input_mut(|i| i.consume_key(Modifiers::NONE, Key::Enter));
    let escape = session.is_busy() && ui.input_mut(|i| i.consume_key(Modifiers::NONE, Key::Escape));
    ui.horizontal(|ui| {
        let width = ui.available_width() - 110.0;
        let hint = if session.is_busy() {
            "Claude is working… a prompt sent now waits its turn"
        } else {
            "Ask Claude (Enter sends, Shift+Enter for a new line)"
        };
        // While a picker is open, Tab and Escape are its keys: they must not move the focus off the box.
        let (mention_tab, mention_escape) = super::mention::held_keys(ui.ctx(), input_id, session, mention);
        let filter = egui::EventFilter {
            horizontal_arrows: true,
            vertical_arrows: true,
            tab: mention_tab || !slash.matches(&session.input, super::slash::offered(session)).is_empty(),
            escape: mention_escape,
        };
        let edit = egui::TextEdit::multiline(&mut session.input)
            .id(input_id)
            .event_filter(filter)
            .desired_rows(3)
            .desired_width(width)
            .hint_text(hint);
        ui.add(edit);
        ui.vertical(|ui| {
            let send = ui.add_sized([100.0, 28.0], egui::Button::new("Send"));
            if send.clicked() || enter {
                let text = std::mem::take(&mut session.input);
                if let Some(title) = super::send_prompt(session, text, backend) {
                    retitle = Some(title);
                }
            }
            if session.is_busy() {
                let stop = ui
                    .add_sized([100.0, 28.0], egui::Button::new("⏹ Stop"))
                    .on_hover_text("Stop (Esc)");
                if stop.clicked() || escape {
                    stop_run(session, backend);
                }
            }
            if ui
                .small_button("Paste image")
                .on_hover_text("Attach the image on the clipboard")
                .clicked()
            {
                paste_image(session, true);
            }
            if !session.queue.is_empty() {
                ui.label(
                    RichText::new(format!("{} queued", session.queue.len()))
                        .small()
                        .color(theme::muted(ui.visuals())),
                );
            }
        });
    });
    super::slash::list_ui(ui, input_id, session, slash);
    super::mention::list_ui(ui, input_id, session, mention);
    retitle
}

fn options_ui(ui: &mut egui::Ui, tab_id: u64, session: &mut ChatSession) {
    ui.horizontal(|ui| {
        let locked = session.session_id.is_some() || session.is_busy();
        let label = ui.label("Project");
        ui.add_enabled(
            !locked,
            egui::TextEdit::singleline(&mut session.project)
                .desired_width(280.0)
                .hint_text("/path/to/project"),
        )
        .labelled_by(label.id)
        .on_disabled_hover_text("A session stays in the folder it started in");
        let model_label = MODELS
            .iter()
            .find(|(id, _)| *id == session.model)
            .map_or(session.model.as_str(), |(_, l)| l);
        let label = ui.label("Model");
        egui::ComboBox::from_id_salt(("chat-model", tab_id))
            .selected_text(model_label.to_owned())
            .show_ui(ui, |ui| {
                for (id, label) in MODELS {
                    ui.selectable_value(&mut session.model, id.to_owned(), label);
                }
                // What this Claude Code offers (its answer to `initialize`), once a turn has run.
                if let Some(offered) = session.offered.clone().filter(|o| !o.models.is_empty()) {
                    ui.separator();
                    ui.label(
                        RichText::new("Offered by Claude Code")
                            .small()
                            .color(theme::muted(ui.visuals())),
                    );
                    for model in &offered.models {
                        let name = if model.display_name.is_empty() {
                            model.value.clone()
                        } else {
                            format!("{} ({})", model.display_name, model.value)
                        };
                        ui.selectable_value(&mut session.model, model.value.clone(), name)
                            .on_hover_text(&model.description);
                    }
                }
                ui.separator();
                let custom = ui.label("Custom model id:");
                ui.text_edit_singleline(&mut session.model).labelled_by(custom.id);
            })
            .response
            .labelled_by(label.id);
        let mode_label = session.permission_mode.unwrap_or_default().label();
        let label = ui.label("Permissions");
        egui::ComboBox::from_id_salt(("chat-mode", tab_id))
            .selected_text(mode_label)
            .show_ui(ui, |ui| {
                // Claude's own default is no flag at all, shown as the default mode.
                ui.selectable_value(&mut session.permission_mode, None, PermissionMode::Default.label());
                for mode in &PermissionMode::ALL[1..] {
                    ui.selectable_value(&mut session.permission_mode, Some(*mode), mode.label());
                }
            })
            .response
            .labelled_by(label.id);
    });
    egui::CollapsingHeader::new("More options")
        .id_salt(("chat-system", tab_id))
        .show(ui, |ui| {
            let label = ui.label("System prompt addition");
            ui.add(
                egui::TextEdit::multiline(&mut session.append_system_prompt)
                    .desired_rows(2)
                    .desired_width(f32::INFINITY)
                    .hint_text("Added to Claude's own system prompt for the next turns"),
            )
            .labelled_by(label.id);
            egui::Grid::new(("chat-extras", tab_id)).num_columns(2).show(ui, |ui| {
                let label = ui.label("Extra folders");
                ui.add(
                    egui::TextEdit::multiline(&mut session.add_dirs)
                        .desired_rows(1)
                        .desired_width(360.0)
                        .hint_text("One folder per line: Claude's tools may work there too"),
                )
                .labelled_by(label.id);
                ui.end_row();
                let label = ui.label("Budget per turn ($)");
                let budget = ui
                    .add(
                        egui::TextEdit::singleline(&mut session.budget)
                            .desired_width(100.0)
                            .hint_text("no limit"),
                    )
                    .labelled_by(label.id)
                    .on_hover_text("The turn stops once it has cost this much");
                if let Err(error) = session.budget_usd() {
                    budget.on_hover_text(error.clone());
                    ui.end_row();
                    ui.label("");
                    ui.label(RichText::new(error).small().color(theme::error(ui.visuals())));
                }
                ui.end_row();
                let label = ui.label("Output style");
                let styles = session
                    .offered
                    .as_ref()
                    .map(|o| o.available_output_styles.clone())
                    .unwrap_or_default();
                let shown = if session.output_style.is_empty() {
                    "As configured".to_owned()
                } else {
                    session.output_style.clone()
                };
                egui::ComboBox::from_id_salt(("chat-output-style", tab_id))
                    .selected_text(shown)
                    .show_ui(ui, |ui| {
                        ui.selectable_value(&mut session.output_style, String::new(), "As configured");
                        for style in &styles {
                            ui.selectable_value(&mut session.output_style, style.clone(), style);
                        }
                        if styles.is_empty() {
                            ui.label(
                                RichText::new("Claude Code lists its styles after the first turn")
                                    .small()
                                    .color(theme::muted(ui.visuals())),
                            );
                        }
                    })
                    .response
                    .labelled_by(label.id);
                ui.end_row();
                let label = ui.label("Fallback model");
                ui.add(
                    egui::TextEdit::singleline(&mut session.fallback_model)
                        .desired_width(200.0)
                        .hint_text("none (e.g. sonnet)"),
                )
                .labelled_by(label.id)
                .on_hover_text("Used when the chosen model is overloaded");
                ui.end_row();
            });
        });
}

/// Takes an image from the system clipboard as an attachment. `say_why`: report an empty clipboard
/// (a click on the button) rather than stay quiet (Ctrl+V with text on the clipboard).
fn paste_image(session: &mut ChatSession, say_why: bool) {
    let image = arboard::Clipboard::new().and_then(|mut clipboard| clipboard.get_image());
    match image {
        Ok(image) => match crate::state::rgba_to_png(image.width as u32, image.height as u32, &image.bytes) {
            Ok(bytes) => session.attachments.push(Attachment {
                name: format!("pasted-{}.png", session.attachments.len() + 1),
                media_type: "image/png".into(),
                bytes,
            }),
            Err(error) => session.error = Some(error.to_string()),
        },
        Err(error) if say_why => session.error = Some(format!("No image on the clipboard ({error})")),
        Err(_) => {}
    }
}

/// Stop: the run is interrupted, then terminated, then killed (see the process registry).
fn stop_run(session: &mut ChatSession, backend: &Requests) {
    let Some(run) = session.run.as_mut() else { return };
    let Some(run_id) = run.run_id else { return };
    if !run.stopping {
        run.stopping = true;
        session.queue.clear();
        backend.dispatch(CancelClaudeExecution { run_id });
    }
}

/// Image files dropped on the window become attachments of the shown chat (the backend reads them).
fn take_dropped_images(ctx: &egui::Context, session: &mut ChatSession, backend: &Requests) {
    let dropped = ctx.input(|i| i.raw.dropped_files.clone());
    for file in dropped {
        let path = file.path().to_path_buf();
        if image_media_type(&path).is_none() {
            continue;
        }
        let request = backend.dispatch(ReadDroppedFile {
            path,
            max_bytes: MAX_IMAGE_BYTES,
        });
        session.reading.push(request);
    }
}
