//! The Settings screen: appearance, where ANYON keeps its files, keyboard shortcuts.

use egui::RichText;

use super::widgets::{screen_heading, shortcut_text};
use super::{ScreenContext, theme};
use crate::domain::claude::requests::{ClaudeFindInstallations, ClaudeUseBinary};
use crate::state::nav::Screen;
use crate::state::{Setting, Theme};

/// The setting a field's value makes.
type ToSetting<T> = fn(T) -> Setting;

pub fn ui(ui: &mut egui::Ui, cx: &mut ScreenContext<'_>) {
    screen_heading(ui, Screen::Settings.heading());
    egui::ScrollArea::vertical().auto_shrink([false, false]).show(ui, |ui| {
        section(ui, "Appearance");
        ui.horizontal(|ui| {
            ui.label("Theme");
            for choice in Theme::ALL {
                let selected = cx.stores.settings.theme() == choice;
                if ui.selectable_label(selected, choice.label()).clicked() && !selected {
                    cx.backend.dispatch(cx.stores.settings.change(Setting::Theme(choice)));
                }
            }
        });

        section(ui, "Claude Code");
        claude_ui(ui, cx);

        section(ui, "Network and environment for Claude");
        child_env_ui(ui, cx);

        section(ui, "Checkpoints");
        retention_ui(ui, cx);

        section(ui, "Files");
        let places = &cx.stores.environment;
        egui::Grid::new("settings-files")
            .num_columns(2)
            .spacing([16.0, 6.0])
            .show(ui, |ui| {
                path_row(ui, "Data folder", &places.data_folder.display().to_string());
                path_row(ui, "Database", &places.database.display().to_string());
                path_row(ui, "Logs", &places.logs.display().to_string());
            });
        ui.label(
            RichText::new("Set ANYON_HOME to keep everything in another folder.")
                .small()
                .color(theme::muted(ui.visuals())),
        );
        if let Some(error) = &cx.stores.environment.database_error {
            super::widgets::error_line(ui, error);
        }

        section(ui, "Keyboard shortcuts");
        let ctx = ui.ctx().clone();
        egui::Grid::new("settings-shortcuts")
            .num_columns(2)
            .spacing([16.0, 4.0])
            .show(ui, |ui| {
                for screen in Screen::ALL {
                    ui.label(RichText::new(shortcut_text(&ctx, &screen.shortcut())).monospace());
                    ui.label(format!("Open {}", screen.heading()));
                    ui.end_row();
                }
                for (shortcut, what) in crate::ui::shortcuts::WINDOW_SHORTCUTS {
                    ui.label(RichText::new(shortcut_text(&ctx, &shortcut)).monospace());
                    ui.label(what);
                    ui.end_row();
                }
            });
    });
}

/// The Claude installations found, which one runs, and a way to pick another or locate one by hand.
fn claude_ui(ui: &mut egui::Ui, cx: &mut ScreenContext<'_>) {
    let stores = &mut *cx.stores;
    if stores.claude.never_requested() {
        stores
            .claude
            .start(cx.backend.dispatch(ClaudeFindInstallations { refresh: false }));
    }
    let mut choose: Option<String> = None;
    ui.horizontal(|ui| {
        if ui
            .add_enabled(!stores.claude.is_pending(), egui::Button::new("⟳ Search again"))
            .clicked()
        {
            stores
                .claude
                .start(cx.backend.dispatch(ClaudeFindInstallations { refresh: true }));
        }
        if stores.claude.is_pending() {
            ui.spinner();
            ui.label("Looking for Claude Code…");
        }
    });
    if let Some(error) = stores.claude.error() {
        super::widgets::error_line(ui, error);
    }
    if let Some(found) = stores.claude.value().cloned() {
        if found.installations.is_empty() {
            super::widgets::error_line(
                ui,
                "Claude Code was not found. Install it with npm install -g @anthropic-ai/claude-code, or locate it below.",
            );
            egui::CollapsingHeader::new(format!("Places searched ({})", found.searched.len())).show(ui, |ui| {
                for place in &found.searched {
                    ui.label(
                        RichText::new(format!("{}  ({:?})", place.path.display(), place.outcome))
                            .monospace()
                            .small(),
                    );
                }
            });
        }
        let chosen = found.chosen().map(|i| i.path.clone());
        egui::Grid::new("settings-claude")
            .num_columns(3)
            .spacing([12.0, 6.0])
            .show(ui, |ui| {
                for installation in &found.installations {
                    let selected = chosen.as_ref() == Some(&installation.path);
                    if ui.radio(selected, "").on_hover_text("Use this installation").clicked() && !selected {
                        choose = Some(installation.path.display().to_string());
                    }
                    ui.label(RichText::new(installation.path.display().to_string()).monospace());
                    match &installation.version {
                        Ok(version) => ui.label(format!("{version} · {:?}", installation.source)),
                        Err(error) => ui.label(RichText::new(error.to_string()).color(theme::error(ui.visuals()))),
                    };
                    ui.end_row();
                }
            });
    }
    ui.horizontal(|ui| {
        let label = ui.label("Locate");
        ui.add(
            egui::TextEdit::singleline(&mut stores.claude_path_input)
                .hint_text("/path/to/claude")
                .desired_width(320.0),
        )
        .labelled_by(label.id);
        if ui.button("Use this file").clicked() && !stores.claude_path_input.trim().is_empty() {
            choose = Some(stores.claude_path_input.trim().to_owned());
        }
    });
    if let Some(path) = choose {
        stores.claude.start(cx.backend.dispatch(ClaudeUseBinary { path }));
    }
    ui.horizontal(|ui| {
        let current = stores.settings.get().grace_secs;
        let mut secs = current;
        let label = ui.label("Stop: wait before killing");
        ui.add(egui::Slider::new(&mut secs, 1..=30).suffix(" s"))
            .labelled_by(label.id)
            .on_hover_text("After Stop, Claude gets an interrupt, then SIGTERM; after this long, SIGKILL.");
        if secs != current {
            cx.backend.dispatch(stores.settings.change(Setting::GraceSecs(secs)));
        }
    });
}

/// The proxy and extra variables every Claude process ANYON starts gets; edited as a draft, saved together.
fn child_env_ui(ui: &mut egui::Ui, cx: &mut ScreenContext<'_>) {
    use crate::domain::claude_config::child_env::parse_extra;
    const FIELDS: [(ToSetting<String>, &str); 4] = [
        (Setting::HttpProxy, "HTTP proxy"),
        (Setting::HttpsProxy, "HTTPS proxy"),
        (Setting::NoProxy, "No proxy for"),
        (Setting::ExtraEnv, "Extra variables"),
    ];
    const NO_PROXY: usize = 2;
    const EXTRA: usize = 3;
    let id = egui::Id::unique("settings-child-env-draft");
    let settings = &mut cx.stores.settings;
    let env = &settings.get().env;
    let saved: Vec<String> = vec![
        env.http_proxy.clone(),
        env.https_proxy.clone(),
        env.no_proxy.clone(),
        env.extra.clone(),
    ];
    let mut draft: Vec<String> = ui.data(|d| d.get_temp(id)).unwrap_or_else(|| saved.clone());
    egui::Grid::new("settings-child-env")
        .num_columns(2)
        .spacing([16.0, 6.0])
        .show(ui, |ui| {
            for (index, ((_, label), value)) in FIELDS.iter().zip(draft.iter_mut()).enumerate() {
                let label = ui.label(*label);
                let edit = if index == EXTRA {
                    egui::TextEdit::multiline(value)
                        .hint_text("NAME=value, one a line")
                        .desired_rows(3)
                } else {
                    egui::TextEdit::singleline(value).hint_text(if index == NO_PROXY {
                        "localhost,127.0.0.1,.internal"
                    } else {
                        "http://proxy.example:3128"
                    })
                };
                ui.add(edit.desired_width(360.0)).labelled_by(label.id);
                ui.end_row();
            }
        });
    let problem = parse_extra(&draft[EXTRA]).err();
    if let Some(problem) = &problem {
        super::widgets::error_line(ui, &problem.to_string());
    }
    let changed = draft != saved;
    if ui
        .add_enabled(changed && problem.is_none(), egui::Button::new("Save environment"))
        .clicked()
    {
        for ((setting, _), value) in FIELDS.iter().zip(&draft) {
            cx.backend.dispatch(settings.change(setting(value.clone())));
        }
    }
    ui.data_mut(|d| d.insert_temp(id, draft));
    ui.label(
        RichText::new("Every Claude process ANYON starts from now on gets these (HTTP_PROXY, HTTPS_PROXY, NO_PROXY).")
            .small()
            .color(theme::muted(ui.visuals())),
    );
}

/// How many checkpoints each session keeps: the last N, and all younger than N days.
fn retention_ui(ui: &mut egui::Ui, cx: &mut ScreenContext<'_>) {
    let settings = &mut cx.stores.settings;
    let (keep_last, keep_days) = (settings.get().keep_last, settings.get().keep_days);
    let fields: [(ToSetting<u32>, &str, u32, &str); 2] = [
        (Setting::KeepLast, "Keep the last", keep_last, " per session"),
        (Setting::KeepDays, "and everything younger than", keep_days, " days"),
    ];
    for (setting, label, current, suffix) in fields {
        let mut value = current;
        ui.horizontal(|ui| {
            let label = ui.label(label);
            ui.add(egui::DragValue::new(&mut value).range(1..=10_000).suffix(suffix))
                .labelled_by(label.id);
        });
        if value != current {
            cx.backend.dispatch(settings.change(setting(value)));
        }
    }
    let current = settings.get().checkpoint_max_file_mb;
    let mut value = current;
    ui.horizontal(|ui| {
        let label = ui.label("Store files up to");
        ui.add(
            egui::DragValue::new(&mut value)
                .range(crate::domain::settings::MAX_FILE_MB_RANGE)
                .suffix(" MiB"),
        )
        .labelled_by(label.id);
    });
    if value != current {
        cx.backend
            .dispatch(settings.change(Setting::CheckpointMaxFileMb(value)));
    }
    ui.label(
        RichText::new(
            "Larger files are left out of checkpoints, and a restore keeps them as they are (it could not bring them back).",
        )
        .small()
        .color(theme::muted(ui.visuals())),
    );
    ui.label(
        RichText::new("Older checkpoints are removed after each new one, with the file contents only they held.")
            .small()
            .color(theme::muted(ui.visuals())),
    );
}

fn section(ui: &mut egui::Ui, title: &str) {
    ui.add_space(10.0);
    ui.label(RichText::new(title).strong().size(15.0));
    ui.separator();
}

fn path_row(ui: &mut egui::Ui, label: &str, path: &str) {
    ui.label(label);
    ui.horizontal(|ui| {
        ui.label(RichText::new(path).monospace());
        if ui.small_button("Copy").on_hover_text("Copy the path").clicked() {
            ui.ctx().copy_text(path.to_owned());
        }
    });
    ui.end_row();
}
