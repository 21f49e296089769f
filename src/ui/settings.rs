//! The Settings screen: appearance, where ANYON keeps its files, keyboard shortcuts.

use egui::RichText;

use super::widgets::{screen_heading, shortcut_text};
use super::{ScreenContext, theme};
use crate::command::Command;
use crate::nav::Screen;
use crate::store::THEME_KEY;
use crate::store::ThemeChoice;

pub fn ui(ui: &mut egui::Ui, cx: &mut ScreenContext<'_>) {
    screen_heading(ui, Screen::Settings.heading());
    egui::ScrollArea::vertical().auto_shrink([false, false]).show(ui, |ui| {
        section(ui, "Appearance");
        ui.horizontal(|ui| {
            ui.label("Theme");
            for choice in ThemeChoice::ALL {
                let selected = cx.stores.settings.theme == choice;
                if ui.selectable_label(selected, choice.label()).clicked() && !selected {
                    cx.stores.settings.theme = choice;
                    cx.backend.dispatch(Command::SaveSetting {
                        key: THEME_KEY.into(),
                        value: choice.key().into(),
                    });
                }
            }
        });

        section(ui, "Files");
        let paths = cx.backend.paths();
        egui::Grid::new("settings-files")
            .num_columns(2)
            .spacing([16.0, 6.0])
            .show(ui, |ui| {
                path_row(ui, "Data folder", &paths.root().display().to_string());
                path_row(ui, "Database", &paths.database().display().to_string());
                path_row(ui, "Logs", &paths.logs().display().to_string());
            });
        ui.label(
            RichText::new("Set ANYON_HOME to keep everything in another folder.")
                .small()
                .color(theme::muted(ui.visuals())),
        );
        if let Some(error) = cx.backend.database_error() {
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
                for (shortcut, what) in crate::app::TAB_SHORTCUTS {
                    ui.label(RichText::new(shortcut_text(&ctx, &shortcut)).monospace());
                    ui.label(what);
                    ui.end_row();
                }
            });
    });
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
