//! The real window, driven headless through AccessKit with egui_kittest.

use std::time::Duration;

use anyon::app::{AnyonApp, StartOptions};
use anyon::domain::settings::requests::LoadSettings;
use anyon::state::SettingsStore;
use anyon::state::nav::Screen;
use egui::accesskit::Role;
use egui::{Key, Modifiers};
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT as _, Queryable};

use crate::support::{self, TempHome};
use anyon::domain::claude::credentials::requests::ClaudeAuthSaveApiKey;

fn harness<'a>(runtime: &tokio::runtime::Runtime, home: &TempHome, options: StartOptions) -> Harness<'a, AnyonApp> {
    let (backend, events) = support::backend(runtime, home);
    Harness::builder()
        .with_size(egui::vec2(1200.0, 800.0))
        .build_eframe(move |cc| AnyonApp::new(cc, backend, events, options))
}

fn heading_shown(harness: &Harness<'_, AnyonApp>, text: &str) -> bool {
    harness.query_by_role_and_label(Role::Heading, text).is_some()
}

fn click_nav(harness: &mut Harness<'_, AnyonApp>, screen: Screen) {
    harness
        .get_by(|node| node.role() == Role::Button && node.label().is_some_and(|l| l.ends_with(screen.label())))
        .click();
    // The Storage screen shows a spinner while it loads, so do not insist on settling.
    harness.run_ok();
}

fn saved_settings(runtime: &tokio::runtime::Runtime, home: &TempHome) -> SettingsStore {
    let (backend, _events) = support::backend(runtime, home);
    SettingsStore::new(runtime.block_on(backend.call(LoadSettings)).unwrap())
}

#[test]
fn every_navigation_label_opens_its_screen() {
    let runtime = support::runtime();
    let home = TempHome::new();
    let mut harness = harness(&runtime, &home, StartOptions::default());
    harness.run_ok();
    assert!(heading_shown(&harness, "Projects"), "Projects is the first screen");
    for screen in Screen::ALL.into_iter().rev() {
        click_nav(&mut harness, screen);
        assert!(
            heading_shown(&harness, screen.heading()),
            "{screen:?} shows its heading"
        );
        for other in Screen::ALL.into_iter().filter(|s| *s != screen) {
            assert!(
                !heading_shown(&harness, other.heading()),
                "{other:?} is hidden while {screen:?} is open"
            );
        }
        assert_eq!(harness.state().screen(), screen);
    }
}

#[test]
fn keyboard_shortcuts_open_screens_and_manage_tabs() {
    let runtime = support::runtime();
    let home = TempHome::new();
    let mut harness = harness(&runtime, &home, StartOptions::default());
    harness.run_ok();
    harness.key_press_modifiers(Modifiers::COMMAND, Key::Num5);
    harness.run_ok();
    assert!(heading_shown(&harness, "Usage"));

    harness.key_press_modifiers(Modifiers::COMMAND, Key::T);
    harness.run_ok();
    assert!(heading_shown(&harness, "New chat"), "Ctrl+T opens a chat tab");
    assert!(!heading_shown(&harness, "Usage"));
    harness.get_by_label("+ New chat").click();
    harness.run_ok();
    assert_eq!(
        harness.query_all_by_label("New chat").count(),
        3,
        "two tabs and the shown tab's heading"
    );

    harness.key_press_modifiers(Modifiers::COMMAND, Key::W);
    harness.run_ok();
    harness.key_press_modifiers(Modifiers::COMMAND, Key::W);
    harness.run_ok();
    assert!(
        heading_shown(&harness, "Usage"),
        "closing the last tab shows the screen again"
    );
    assert!(harness.query_by_label("No open chats").is_some());
}

#[test]
fn open_screen_and_theme_are_remembered_across_restarts() {
    let runtime = support::runtime();
    let home = TempHome::new();
    {
        let mut harness = harness(&runtime, &home, StartOptions::default());
        harness.run_ok();
        click_nav(&mut harness, Screen::Settings);
        harness.get_by_label("Dark").click();
        harness.run_ok();
        assert_eq!(harness.ctx.theme(), egui::Theme::Dark);
        harness.get_by_label("Light").click();
        harness.run_ok();
        assert_eq!(harness.ctx.theme(), egui::Theme::Light);
    }
    let saved = support::wait_for("settings to be saved", Duration::from_secs(10), || {
        let saved = saved_settings(&runtime, &home);
        (saved.last_screen() == Some(Screen::Settings) && saved.theme() == anyon::state::Theme::Light).then_some(saved)
    });
    let mut harness = harness(
        &runtime,
        &home,
        StartOptions {
            settings: saved,
            ..StartOptions::default()
        },
    );
    harness.run_ok();
    assert!(heading_shown(&harness, "Settings"), "the last screen opens again");
    assert_eq!(harness.ctx.theme(), egui::Theme::Light);
}

#[test]
fn storage_screen_lists_the_tables_from_the_backend() {
    let runtime = support::runtime();
    let home = TempHome::new();
    let mut harness = harness(
        &runtime,
        &home,
        StartOptions {
            screen: Some(Screen::Storage),
            ..StartOptions::default()
        },
    );
    harness.run_ok();
    support::wait_for("the table list", Duration::from_secs(10), || {
        harness.run_ok();
        harness.query_by_label("checkpoint_files").map(|_| ())
    });
    for table in ["agent_runs", "agents", "app_settings", "checkpoints"] {
        assert!(harness.query_by_label(table).is_some(), "{table} is listed");
    }
}

#[test]
fn failed_commands_show_a_notice() {
    let runtime = support::runtime();
    let home = TempHome::new();
    let (backend, events) = support::backend(&runtime, &home);
    let sender = backend.clone();
    let mut harness = Harness::builder()
        .with_size(egui::vec2(1200.0, 800.0))
        .build_eframe(move |cc| AnyonApp::new(cc, backend, events, StartOptions::default()));
    sender.dispatch(ClaudeAuthSaveApiKey {
        api_key: anyon::backend::command::Secret::new("not-a-key"),
        verify: false,
        base_url: None,
    });
    support::wait_for("the error notice", Duration::from_secs(10), || {
        harness.step();
        harness.query_by_label_contains("claude_auth_save_api_key").map(|_| ())
    });
    let notice = harness.get_by_label_contains("claude_auth_save_api_key");
    let text = notice.accesskit_node().value().unwrap_or_default();
    assert!(text.contains("starts with `sk-ant-`"), "{text}");
}

#[cfg(unix)]
#[test]
fn settings_locates_a_claude_binary_by_hand() {
    use std::os::unix::fs::PermissionsExt;
    let runtime = support::runtime();
    let home = TempHome::new();
    let fake = home.path().join("my-claude");
    std::fs::write(&fake, "#!/bin/sh\necho '9.8.7 (Claude Code)'\n").unwrap();
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    let mut harness = harness(
        &runtime,
        &home,
        StartOptions {
            screen: Some(Screen::Settings),
            ..StartOptions::default()
        },
    );
    harness.run_ok();
    let field = harness.get_by(|n| n.role() == Role::TextInput && n.label().as_deref() == Some("Locate"));
    field.focus();
    field.type_text(&fake.display().to_string());
    harness.run_ok();
    harness.get_by_label("Use this file").click();
    support::wait_for("the located binary", Duration::from_secs(20), || {
        harness.step();
        harness
            .query_all_by(|n| n.value().is_some_and(|v| v.starts_with("9.8.7")))
            .next()
            .map(|_| ())
    });
    let saved = saved_settings(&runtime, &home);
    assert_eq!(saved.get().claude_binary_path.as_deref(), Some(fake.as_path()));
}
