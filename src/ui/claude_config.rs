//! The Claude config screen: Claude Code's own settings (hooks, permissions, env of the user, project and
//! local files, with their effective merge) and slash commands, edited in Claude's files. A file that is not
//! valid JSON is shown, never written; a save refused because the file changed on disk offers a reload or
//! applying the change on top of the new file.

use egui::{RichText, Ui};
use serde_json::{Value, json};

use super::widgets::{dismissable_note, error_line, screen_heading};
use super::{ScreenContext, theme};
use crate::backend::Requests;
use crate::domain::claude_config::commands::CommandScope;
use crate::domain::claude_config::requests::{
    ClaudeConfigEdit, ClaudeConfigRead, SlashCommandDelete, SlashCommandSave, SlashCommandsList,
};
use crate::domain::claude_config::{HOOK_EVENTS, SettingsEdit, SettingsScope, SettingsView, Version};
use crate::state::nav::Screen;
use crate::state::{ClaudeConfigStore, CommandEditor, ConfigTab, HookForm};

pub fn ui(ui: &mut Ui, cx: &mut ScreenContext<'_>) {
    screen_heading(ui, Screen::ClaudeConfig.heading());
    let ScreenContext { stores, backend, .. } = cx;
    let store = &mut stores.claude_config;
    if store.project.is_empty() {
        store.project = stores.settings.default_project();
    }
    if (store.snapshot.never_requested() || store.stale) && !store.snapshot.is_pending() {
        refresh(store, backend);
    }
    toolbar_ui(ui, store, backend);
    if let Some(snapshot) = store.snapshot.value()
        && let (Some(user), Some(project)) = (
            snapshot.file(crate::domain::claude_config::SettingsScope::User),
            snapshot.file(crate::domain::claude_config::SettingsScope::Project),
        )
        && user.path == project.path
    {
        ui.label(
            RichText::new(
                "This folder holds Claude's own settings, so its project settings are your user settings: \
                 enter a project folder above to see a project's own.",
            )
            .color(theme::muted(ui.visuals())),
        );
    }
    dismissable_note(ui, &mut store.message);
    if let Some(error) = store.error.clone() {
        error_line(ui, &error);
    }
    if let Some(error) = store.snapshot.error() {
        error_line(ui, error);
    }
    conflict_ui(ui, store, backend);
    if store.tab == ConfigTab::Memory {
        let project = store.project_path();
        super::claude_memory::ui(ui, cx, project);
        return;
    }
    egui::ScrollArea::vertical()
        .auto_shrink([false, false])
        .show(ui, |ui| match store.tab {
            ConfigTab::Hooks => hooks_ui(ui, store, backend),
            ConfigTab::PermissionsEnv => permissions_ui(ui, store, backend),
            ConfigTab::Commands => commands_ui(ui, store, backend),
            ConfigTab::Memory => {}
        });
}

fn refresh(store: &mut ClaudeConfigStore, backend: &Requests) {
    store.stale = false;
    let project = store.project_path();
    store.snapshot.start(backend.dispatch(ClaudeConfigRead {
        project: project.clone(),
    }));
    store.commands.start(backend.dispatch(SlashCommandsList { project }));
}

fn toolbar_ui(ui: &mut Ui, store: &mut ClaudeConfigStore, backend: &Requests) {
    ui.horizontal(|ui| {
        for (tab, label) in [
            (ConfigTab::Hooks, "Hooks"),
            (ConfigTab::PermissionsEnv, "Permissions & env"),
            (ConfigTab::Commands, "Commands"),
            (ConfigTab::Memory, "Memory"),
        ] {
            if ui.selectable_label(store.tab == tab, label).clicked() {
                store.tab = tab;
            }
        }
        ui.separator();
        let label = ui.label("Project");
        let edit = ui
            .add(egui::TextEdit::singleline(&mut store.project).desired_width(280.0))
            .labelled_by(label.id)
            .on_hover_text("Whose .claude/settings.json, settings.local.json and commands are shown");
        if edit.lost_focus() {
            store.stale = true;
        }
        if ui.button("⟳ Reload").clicked() && !store.snapshot.is_pending() {
            refresh(store, backend);
        }
    });
    ui.add_space(6.0);
}

/// Saves `edit` to `scope`'s file, refused by the backend when the file changed since it was read.
fn save(store: &mut ClaudeConfigStore, backend: &Requests, scope: SettingsScope, edit: SettingsEdit) {
    save_on(store, backend, scope, edit, store.version(scope));
}

fn save_on(
    store: &mut ClaudeConfigStore,
    backend: &Requests,
    scope: SettingsScope,
    edit: SettingsEdit,
    expected: Option<Version>,
) {
    store.error = None;
    let id = backend.dispatch(ClaudeConfigEdit {
        scope,
        project: store.project_path(),
        edit: edit.clone(),
        expected,
    });
    store.saving = Some((id, scope, edit));
}

fn conflict_ui(ui: &mut Ui, store: &mut ClaudeConfigStore, backend: &Requests) {
    let Some(conflict) = store.conflict.clone() else {
        return;
    };
    egui::Frame::group(ui.style()).show(ui, |ui| {
        error_line(
            ui,
            &format!(
                "The {} settings file changed on disk since it was read; nothing was written.",
                conflict.scope
            ),
        );
        ui.horizontal(|ui| {
            if ui
                .button("Reload")
                .on_hover_text("Drop my change and show the file as it is")
                .clicked()
            {
                store.conflict = None;
                refresh(store, backend);
            }
            if ui
                .button("Apply my change on top")
                .on_hover_text("Make the same change to the file as it is now, keeping its other changes")
                .clicked()
            {
                store.conflict = None;
                let version = Version::of(conflict.theirs.as_deref().map(str::as_bytes));
                save_on(store, backend, conflict.scope, conflict.edit.clone(), Some(version));
            }
        });
        if let Some(theirs) = &conflict.theirs {
            ui.collapsing("The file now", |ui| code_ui(ui, theirs));
        }
    });
}

fn code_ui(ui: &mut Ui, text: &str) {
    egui::Frame::new()
        .fill(theme::code_fill(ui.visuals()))
        .inner_margin(6.0)
        .show(ui, |ui| ui.label(RichText::new(text).monospace()));
}

/// A file's heading, and whether it can be edited (a malformed one is shown as it is instead).
fn file_heading_ui(ui: &mut Ui, file: &SettingsView) -> bool {
    ui.add_space(6.0);
    let state = if file.exists { "" } else { " (not created yet)" };
    ui.label(RichText::new(format!("{} — {}{state}", file.scope, file.path.display())).strong());
    match &file.malformed {
        Some(malformed) => {
            error_line(
                ui,
                &format!("Not valid JSON: {}. ANYON leaves it untouched.", malformed.error),
            );
            code_ui(ui, &malformed.text);
            false
        }
        None => true,
    }
}

fn scope_picker_ui(ui: &mut Ui, id: &str, scope: &mut SettingsScope) {
    ui.push_id(id, |ui| {
        ui.horizontal(|ui| {
            ui.label("Scope");
            for choice in SettingsScope::ALL {
                ui.selectable_value(scope, choice, choice.as_str());
            }
        });
    });
}

fn field(ui: &mut Ui, label: &str, text: &mut String, width: f32) {
    let label = ui.label(label);
    ui.add(egui::TextEdit::singleline(text).desired_width(width))
        .labelled_by(label.id);
}

fn hooks_ui(ui: &mut Ui, store: &mut ClaudeConfigStore, backend: &Requests) {
    let Some(snapshot) = store.snapshot.value().cloned() else {
        ui.spinner();
        return;
    };
    for file in &snapshot.files {
        if !file_heading_ui(ui, file) {
            continue;
        }
        if file.hooks.iter().all(|(_, groups)| groups.is_empty()) {
            ui.label(RichText::new("No hooks").color(theme::muted(ui.visuals())));
        }
        for (event, groups) in &file.hooks {
            for (g, group) in groups.iter().enumerate() {
                for (h, hook) in group.hooks.iter().enumerate() {
                    ui.horizontal(|ui| {
                        ui.label(RichText::new(event).strong());
                        let matcher = if group.matcher.is_empty() { "*" } else { &group.matcher };
                        ui.label(RichText::new(matcher).color(theme::accent(ui.visuals())));
                        ui.label(RichText::new(&hook.command).monospace());
                        if let Some(timeout) = hook.timeout_secs {
                            ui.label(RichText::new(format!("{timeout} s")).color(theme::muted(ui.visuals())));
                        }
                        if ui.small_button("Edit").clicked() {
                            store.hook_form = HookForm {
                                editing: Some((file.scope, event.clone(), g, h)),
                                scope: file.scope,
                                event: event.clone(),
                                matcher: group.matcher.clone(),
                                command: hook.command.clone(),
                                timeout: hook.timeout_secs.map(|t| t.to_string()).unwrap_or_default(),
                            };
                        }
                        if ui.small_button("Remove").clicked() {
                            let edit = SettingsEdit::RemoveHook {
                                event: event.clone(),
                                group: g,
                                hook: h,
                            };
                            save(store, backend, file.scope, edit);
                        }
                    });
                }
            }
        }
    }
    ui.separator();
    let form = &mut store.hook_form;
    let editing = form.editing.clone();
    ui.label(
        RichText::new(if editing.is_some() {
            "Edit the hook"
        } else {
            "Add a hook"
        })
        .strong(),
    );
    // Where a hook lives and its matcher (shared by its group) are fixed while editing it.
    ui.add_enabled_ui(editing.is_none(), |ui| {
        scope_picker_ui(ui, "hook-scope", &mut form.scope);
        ui.horizontal(|ui| {
            let label = ui.label("Event");
            egui::ComboBox::from_id_salt("hook-event")
                .selected_text(form.event.clone())
                .show_ui(ui, |ui| {
                    for event in HOOK_EVENTS {
                        ui.selectable_value(&mut form.event, event.to_owned(), event);
                    }
                })
                .response
                .labelled_by(label.id);
            field(ui, "Matcher", &mut form.matcher, 140.0);
        });
    });
    ui.horizontal(|ui| {
        field(ui, "Command", &mut form.command, 420.0);
        field(ui, "Timeout (s)", &mut form.timeout, 50.0);
    });
    let timeout = form.timeout.trim();
    let timeout_secs = timeout.parse::<u64>().ok();
    let valid = !form.command.trim().is_empty() && (timeout.is_empty() || timeout_secs.is_some());
    let mut edit = None;
    ui.horizontal(|ui| {
        let label = if editing.is_some() { "Save hook" } else { "Add hook" };
        if ui.add_enabled(valid, egui::Button::new(label)).clicked() {
            let command = form.command.trim().to_owned();
            edit = Some(match &editing {
                Some((scope, event, group, hook)) => (
                    *scope,
                    SettingsEdit::ReplaceHook {
                        event: event.clone(),
                        group: *group,
                        hook: *hook,
                        command,
                        timeout_secs,
                    },
                ),
                None => (
                    form.scope,
                    SettingsEdit::AddHook {
                        event: form.event.clone(),
                        matcher: Some(form.matcher.trim().to_owned()).filter(|m| !m.is_empty()),
                        command,
                        timeout_secs,
                    },
                ),
            });
        }
        if editing.is_some() && ui.button("Cancel").clicked() {
            *form = HookForm::default();
        }
    });
    if let Some((scope, edit)) = edit {
        store.hook_form.editing = None;
        store.hook_form.command.clear();
        save(store, backend, scope, edit);
    }
}

const LISTS: [&str; 4] = ["allow", "deny", "ask", "additionalDirectories"];

fn permissions_ui(ui: &mut Ui, store: &mut ClaudeConfigStore, backend: &Requests) {
    let Some(snapshot) = store.snapshot.value().cloned() else {
        ui.spinner();
        return;
    };
    for file in &snapshot.files {
        if !file_heading_ui(ui, file) {
            continue;
        }
        let p = &file.permissions;
        for (name, items) in LISTS.iter().zip([&p.allow, &p.deny, &p.ask, &p.additional_directories]) {
            for item in items {
                ui.horizontal(|ui| {
                    ui.label(format!("{name}:"));
                    ui.label(RichText::new(item).monospace());
                    if ui.small_button("Remove").clicked() {
                        let rest: Vec<Value> = items.iter().filter(|i| *i != item).map(|i| json!(i)).collect();
                        let key = format!("permissions.{name}");
                        save(
                            store,
                            backend,
                            file.scope,
                            SettingsEdit::Set {
                                key,
                                value: Some(Value::Array(rest)),
                            },
                        );
                    }
                });
            }
        }
        if let Some(mode) = &p.default_mode {
            ui.label(format!("defaultMode: {mode}"));
        }
        for (key, value) in &file.env {
            ui.horizontal(|ui| {
                ui.label(RichText::new(format!("{key}={value}")).monospace());
                if ui.small_button("Remove").clicked() {
                    let key = format!("env.{key}");
                    save(store, backend, file.scope, SettingsEdit::Set { key, value: None });
                }
            });
        }
    }
    ui.separator();
    ui.label(RichText::new("Add").strong());
    let form = &mut store.entry_form;
    scope_picker_ui(ui, "entry-scope", &mut form.scope);
    let mut edit = None;
    ui.horizontal(|ui| {
        egui::ComboBox::from_label("List")
            .selected_text(form.list)
            .show_ui(ui, |ui| {
                for list in LISTS {
                    ui.selectable_value(&mut form.list, list, list);
                }
            });
        field(ui, "Rule", &mut form.rule, 260.0);
        if ui
            .add_enabled(!form.rule.trim().is_empty(), egui::Button::new("Add rule"))
            .clicked()
        {
            let current = snapshot.file(form.scope).map(|f| &f.permissions);
            let mut items: Vec<String> = current
                .map(|p| match form.list {
                    "allow" => p.allow.clone(),
                    "deny" => p.deny.clone(),
                    "ask" => p.ask.clone(),
                    _ => p.additional_directories.clone(),
                })
                .unwrap_or_default();
            items.push(form.rule.trim().to_owned());
            edit = Some(SettingsEdit::Set {
                key: format!("permissions.{}", form.list),
                value: Some(json!(items)),
            });
            form.rule.clear();
        }
    });
    ui.horizontal(|ui| {
        field(ui, "Variable", &mut form.env_key, 160.0);
        field(ui, "Value", &mut form.env_value, 200.0);
        let valid = !form.env_key.trim().is_empty() && !form.env_key.contains('.');
        if ui.add_enabled(valid, egui::Button::new("Set variable")).clicked() {
            edit = Some(SettingsEdit::Set {
                key: format!("env.{}", form.env_key.trim()),
                value: Some(json!(form.env_value)),
            });
            form.env_key.clear();
            form.env_value.clear();
        }
    });
    ui.horizontal(|ui| {
        field(ui, "Default mode", &mut form.default_mode, 160.0);
        if ui.button("Set default mode").clicked() {
            let mode = form.default_mode.trim();
            edit = Some(SettingsEdit::Set {
                key: "permissions.defaultMode".into(),
                value: (!mode.is_empty()).then(|| json!(mode)),
            });
        }
    });
    let scope = form.scope;
    if let Some(edit) = edit {
        save(store, backend, scope, edit);
    }

    ui.separator();
    ui.label(RichText::new("Effective (user < project < local)").strong());
    let e = &snapshot.effective;
    egui::Grid::new("effective")
        .num_columns(2)
        .spacing([16.0, 4.0])
        .show(ui, |ui| {
            for (name, items) in LISTS.iter().zip([
                &e.permissions.allow,
                &e.permissions.deny,
                &e.permissions.ask,
                &e.permissions.additional_directories,
            ]) {
                ui.label(*name);
                ui.label(RichText::new(items.join(", ")).monospace());
                ui.end_row();
            }
            ui.label("defaultMode");
            ui.label(e.permissions.default_mode.as_deref().unwrap_or("—"));
            ui.end_row();
            for (key, entry) in &e.env {
                ui.label(RichText::new(key).monospace());
                ui.label(format!("{} ({})", entry.value, entry.scope));
                ui.end_row();
            }
        });
}

fn commands_ui(ui: &mut Ui, store: &mut ClaudeConfigStore, backend: &Requests) {
    if ui.button("New command").clicked() {
        store.command_editor = Some(CommandEditor {
            scope: CommandScope::User,
            name: String::new(),
            text: "---\ndescription: \n---\n".into(),
            expected: None,
        });
    }
    if let Some(error) = store.commands.error() {
        error_line(ui, error);
    }
    if let Some(editor) = &mut store.command_editor {
        let mut action = None;
        egui::Frame::group(ui.style()).show(ui, |ui| {
            ui.horizontal(|ui| {
                if editor.expected.is_none() {
                    ui.label("Scope");
                    for scope in [CommandScope::User, CommandScope::Project] {
                        ui.selectable_value(&mut editor.scope, scope, scope.as_str());
                    }
                    field(ui, "Name", &mut editor.name, 200.0);
                } else {
                    ui.label(RichText::new(format!("/{} ({})", editor.name, editor.scope.as_str())).strong());
                }
            });
            let label = ui.label("Text");
            ui.add(
                egui::TextEdit::multiline(&mut editor.text)
                    .code_editor()
                    .desired_rows(10)
                    .desired_width(f32::INFINITY),
            )
            .labelled_by(label.id);
            ui.horizontal(|ui| {
                if ui
                    .add_enabled(!editor.name.trim().is_empty(), egui::Button::new("Save command"))
                    .clicked()
                {
                    action = Some(true);
                }
                if ui.button("Cancel").clicked() {
                    action = Some(false);
                }
            });
        });
        match action {
            Some(true) => {
                let editor = editor.clone();
                store.error = None;
                store.saving_command = Some(backend.dispatch(SlashCommandSave {
                    scope: editor.scope,
                    project: store.project_path(),
                    name: editor.name.trim().to_owned(),
                    text: editor.text,
                    expected: editor.expected,
                    overwrite: false,
                }));
            }
            Some(false) => store.command_editor = None,
            None => {}
        }
    }
    let Some(list) = store.commands.value().cloned() else {
        ui.spinner();
        return;
    };
    if list.is_empty() {
        ui.label(RichText::new("No slash commands yet").color(theme::muted(ui.visuals())));
    }
    for command in &list {
        ui.horizontal(|ui| {
            ui.label(RichText::new(format!("/{}", command.name)).monospace().strong());
            ui.label(RichText::new(command.scope.as_str()).color(theme::muted(ui.visuals())));
            ui.label(command.description.as_deref().unwrap_or(""));
            if ui.small_button("Edit").clicked() {
                store.command_editor = Some(CommandEditor {
                    scope: command.scope,
                    name: command.name.clone(),
                    text: command.text.clone(),
                    expected: Some(command.version.clone()),
                });
            }
            if ui.small_button("Delete").clicked() {
                store.saving_command = Some(backend.dispatch(SlashCommandDelete {
                    scope: command.scope,
                    project: store.project_path(),
                    name: command.name.clone(),
                }));
            }
        });
    }
}
