//! The Claude config screen in the real window (headless): hooks of Claude's settings shown and added
//! through the form with the file's other keys kept, and a save refused because the file changed on disk,
//! then reloaded.

use std::time::Duration;

use anyon::app::{AnyonApp, StartOptions};
use anyon::domain::settings::requests::LoadSettings;
use anyon::state::nav::Screen;
use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use serde_json::{Value, json};

use crate::support::ui::{self, click, settle, shows};
use crate::support::{self, TempHome};

fn type_into(harness: &mut Harness<'_, AnyonApp>, label: &str, text: &str) {
    let input = |role| matches!(role, Role::TextInput | Role::MultilineTextInput);
    harness
        .get_by(|n| input(n.role()) && n.label().as_deref() == Some(label))
        .focus();
    harness.step();
    harness
        .get_by(|n| input(n.role()) && n.label().as_deref() == Some(label))
        .type_text(text);
    harness.step();
}

#[test]
fn hooks_tab_shows_adds_and_survives_a_file_changed_on_disk() {
    let runtime = support::runtime();
    let home = TempHome::new();
    let config = tempfile::tempdir().unwrap();
    let settings = config.path().join("settings.json");
    let original = json!({
        "model": "opus",
        "hooks": {"Stop": [{"hooks": [{"type": "command", "command": "echo existing"}]}]}
    });
    std::fs::write(&settings, serde_json::to_string_pretty(&original).unwrap()).unwrap();
    let (backend, events) = support::backend(&runtime, &home);
    backend.set_claude_config_dir(config.path().into());
    let for_app = backend.clone();
    let mut harness = ui::window(for_app, events, Screen::ClaudeConfig, egui::vec2(1400.0, 900.0));

    settle(&mut harness, "the existing hook", "echo existing");

    // Add a user hook through the form.
    click(&mut harness, "user");
    type_into(&mut harness, "Matcher", "Bash");
    type_into(&mut harness, "Command", "echo added");
    click(&mut harness, "Add hook");
    settle(&mut harness, "the new hook", "echo added");
    let written: Value = serde_json::from_str(&std::fs::read_to_string(&settings).unwrap()).unwrap();
    assert_eq!(written["model"], "opus", "other keys stay");
    assert_eq!(
        written["hooks"]["PreToolUse"],
        json!([{"matcher": "Bash", "hooks": [{"type": "command", "command": "echo added"}]}])
    );

    // Edit the new hook's command in place (the second Edit button: the Stop hook comes first).
    harness
        .query_all_by(|n| n.role() == Role::Button && n.label().as_deref() == Some("Edit"))
        .nth(1)
        .expect("an Edit button per hook")
        .click();
    harness.step();
    harness.step();
    assert!(shows(&harness, "Edit the hook"));
    type_into(&mut harness, "Command", " --edited");
    click(&mut harness, "Save hook");
    settle(&mut harness, "the edited hook", "echo added --edited");
    let written: Value = serde_json::from_str(&std::fs::read_to_string(&settings).unwrap()).unwrap();
    assert_eq!(
        written["hooks"]["PreToolUse"][0]["hooks"][0]["command"],
        "echo added --edited"
    );

    // Someone else changes the file: removing a hook is refused, not written over their change.
    let mut theirs = written.clone();
    theirs["model"] = json!("sonnet");
    let theirs_text = serde_json::to_string_pretty(&theirs).unwrap();
    std::fs::write(&settings, &theirs_text).unwrap();
    harness
        .query_all_by(|n| n.role() == Role::Button && n.label().as_deref() == Some("Remove"))
        .next()
        .expect("a Remove button")
        .click();
    settle(&mut harness, "the conflict banner", "changed on disk");
    assert_eq!(std::fs::read_to_string(&settings).unwrap(), theirs_text);

    // Applying the change on top keeps their change and removes the hook.
    click(&mut harness, "Apply my change on top");
    support::wait_for("the hook removed", Duration::from_secs(30), || {
        harness.step();
        std::thread::sleep(Duration::from_millis(10));
        (!shows(&harness, "echo existing") && !shows(&harness, "changed on disk")).then_some(())
    });
    let written: Value = serde_json::from_str(&std::fs::read_to_string(&settings).unwrap()).unwrap();
    assert_eq!(written["model"], "sonnet", "their change stays");
    assert!(written["hooks"].get("Stop").is_none(), "{written}");
    assert!(shows(&harness, "echo added --edited"));
}

#[test]
fn settings_saves_the_proxy_and_extra_variables_for_claude() {
    let runtime = support::runtime();
    let home = TempHome::new();
    let (backend, events) = support::backend(&runtime, &home);
    let for_app = backend.clone();
    let mut harness = ui::window(for_app, events, Screen::Settings, egui::vec2(1400.0, 2000.0));
    harness.run_ok();
    type_into(&mut harness, "HTTPS proxy", "http://proxy.test:3128");
    type_into(&mut harness, "Extra variables", "BAD LINE");
    assert!(shows(&harness, "expected NAME=value"), "a bad line is pointed out");
    harness
        .get_by(|n| n.role() == Role::MultilineTextInput && n.label().as_deref() == Some("Extra variables"))
        .focus();
    harness.step();
    for _ in 0.."BAD LINE".len() {
        harness.key_press(egui::Key::Backspace);
    }
    harness.step();
    type_into(&mut harness, "Extra variables", "TEAM=core");
    click(&mut harness, "Save environment");
    let saved = support::wait_for("the settings saved", Duration::from_secs(30), || {
        harness.step();
        let settings = runtime.block_on(backend.call(LoadSettings)).ok()?;
        (settings.env.extra == "TEAM=core").then_some(settings)
    });
    assert_eq!(saved.env.https_proxy, "http://proxy.test:3128");
}

#[test]
fn memory_tab_edits_saves_keeps_a_draft_and_merges_a_change_on_disk() {
    let runtime = support::runtime();
    let home = TempHome::new();
    let config = tempfile::tempdir().unwrap();
    let memory = config.path().join("CLAUDE.md");
    std::fs::write(&memory, "# Rules\n").unwrap();
    let (backend, events) = support::backend(&runtime, &home);
    backend.set_claude_config_dir(config.path().into());
    let for_app = backend.clone();
    let mut harness = ui::window(for_app, events, Screen::ClaudeConfig, egui::vec2(1400.0, 900.0));
    harness.run_ok();
    click(&mut harness, "Memory");
    settle(&mut harness, "the memory files", "CLAUDE.md (user)");
    click(&mut harness, "CLAUDE.md (user)");
    settle(&mut harness, "the open file", "Preview");
    type_into(&mut harness, "Memory text", "Be brief.\n");
    settle(&mut harness, "the unsaved mark", "unsaved");
    // The unsaved text is kept as a draft in ANYON's settings.
    support::wait_for("the draft saved", Duration::from_secs(30), || {
        harness.step();
        std::thread::sleep(Duration::from_millis(20));
        let settings = runtime.block_on(backend.call(LoadSettings)).ok()?;
        settings
            .memory_draft(&memory)
            .filter(|d| d.contains("Be brief."))
            .map(|_| ())
    });
    click(&mut harness, "Save");
    support::wait_for("the file saved", Duration::from_secs(30), || {
        harness.step();
        std::thread::sleep(Duration::from_millis(10));
        let text = std::fs::read_to_string(&memory).ok()?;
        (text.contains("Be brief.") && text.contains("# Rules")).then_some(())
    });

    // Someone else writes the file while there are unsaved changes: it is offered, not overwritten.
    type_into(&mut harness, "Memory text", "Mine.\n");
    std::fs::write(&memory, "# Theirs\n").unwrap();
    settle(&mut harness, "the change on disk", "changed on disk");
    assert_eq!(std::fs::read_to_string(&memory).unwrap(), "# Theirs\n");
    click(&mut harness, "Merge");
    click(&mut harness, "Save");
    support::wait_for("the merged file", Duration::from_secs(30), || {
        harness.step();
        std::thread::sleep(Duration::from_millis(10));
        let text = std::fs::read_to_string(&memory).ok()?;
        (text.contains("<<<<<<< mine") && text.contains("Mine.") && text.contains("# Theirs")).then_some(())
    });

    click(&mut harness, "Preview");
    assert!(shows(&harness, "Theirs"), "the Markdown is rendered");
}

#[test]
fn slash_in_the_prompt_box_offers_the_commands_and_inserts_one() {
    let runtime = support::runtime();
    let home = TempHome::new();
    let config = tempfile::tempdir().unwrap();
    let commands = config.path().join("commands/git");
    std::fs::create_dir_all(&commands).unwrap();
    std::fs::write(
        commands.join("ship.md"),
        "---\ndescription: Ship the branch\n---\nShip it\n",
    )
    .unwrap();
    std::fs::write(config.path().join("commands/review.md"), "Review\n").unwrap();
    let (backend, events) = support::backend(&runtime, &home);
    backend.set_claude_config_dir(config.path().into());
    let mut harness = Harness::builder()
        .with_size(egui::vec2(1280.0, 900.0))
        .build_eframe(move |cc| AnyonApp::new(cc, backend, events, StartOptions::default()));
    harness.run_ok();
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::T);
    harness.run_ok();
    harness.get_by_role(Role::MultilineTextInput).focus();
    harness.step();
    harness.get_by_role(Role::MultilineTextInput).type_text("/sh");
    settle(&mut harness, "the picker", "Ship the branch");
    assert!(!shows(&harness, "/review"), "only matches are listed");
    harness.key_press(egui::Key::Enter);
    harness.run_ok();
    let input = harness.get_by_role(Role::MultilineTextInput);
    assert_eq!(
        input.value().as_deref(),
        Some("/git:ship "),
        "Enter inserted the command, not sent"
    );
    assert!(
        !shows(&harness, "Ship the branch"),
        "the picker closes once arguments follow"
    );
}

#[test]
fn closing_the_window_with_unsaved_memory_text_asks_first() {
    let runtime = support::runtime();
    let home = TempHome::new();
    let config = tempfile::tempdir().unwrap();
    std::fs::write(config.path().join("CLAUDE.md"), "# Rules\n").unwrap();
    let (backend, events) = support::backend(&runtime, &home);
    backend.set_claude_config_dir(config.path().into());
    let mut harness = ui::window(backend, events, Screen::ClaudeConfig, egui::vec2(1400.0, 900.0));
    harness.run_ok();
    click(&mut harness, "Memory");
    settle(&mut harness, "the memory files", "CLAUDE.md (user)");
    click(&mut harness, "CLAUDE.md (user)");
    settle(&mut harness, "the open file", "Preview");
    let request_close = |harness: &mut Harness<'_, AnyonApp>| {
        harness
            .input_mut()
            .viewports
            .entry(egui::ViewportId::ROOT)
            .or_default()
            .events
            .push(egui::ViewportEvent::Close);
        harness.step();
        harness.step();
    };
    request_close(&mut harness);
    assert!(!shows(&harness, "unsaved changes"), "nothing unsaved: no question");
    type_into(&mut harness, "Memory text", "More.\n");
    request_close(&mut harness);
    settle(&mut harness, "the question", "A CLAUDE.md file has unsaved changes.");
    click(&mut harness, "Cancel");
    assert!(!shows(&harness, "A CLAUDE.md file has unsaved changes."));
    assert!(shows(&harness, "unsaved"), "the text is still there");
}

#[test]
fn commands_and_permissions_tabs_write_claude_files() {
    let runtime = support::runtime();
    let home = TempHome::new();
    let config = tempfile::tempdir().unwrap();
    let settings = config.path().join("settings.json");
    std::fs::write(&settings, "{\n  \"env\": {\n    \"A\": \"1\"\n  }\n}\n").unwrap();
    let (backend, events) = support::backend(&runtime, &home);
    backend.set_claude_config_dir(config.path().into());
    let mut harness = ui::window(backend, events, Screen::ClaudeConfig, egui::vec2(1400.0, 1200.0));
    harness.run_ok();

    click(&mut harness, "Permissions & env");
    settle(&mut harness, "the user's variable", "A=1");
    click(&mut harness, "user");
    type_into(&mut harness, "Rule", "Bash(ls:*)");
    click(&mut harness, "Add rule");
    settle(&mut harness, "the rule", "allow:");
    let written: Value = serde_json::from_str(&std::fs::read_to_string(&settings).unwrap()).unwrap();
    assert_eq!(
        written,
        json!({"env": {"A": "1"}, "permissions": {"allow": ["Bash(ls:*)"]}})
    );
    assert!(shows(&harness, "1 (user)"), "the effective env names its scope");

    click(&mut harness, "Commands");
    click(&mut harness, "New command");
    type_into(&mut harness, "Name", "docs:check");
    type_into(&mut harness, "Text", "Check the docs\n");
    click(&mut harness, "Save command");
    settle(&mut harness, "the new command", "/docs:check");
    let file = config.path().join("commands/docs/check.md");
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains("Check the docs"), "{text}");
    click(&mut harness, "Delete");
    support::wait_for("the command deleted", Duration::from_secs(30), || {
        harness.step();
        std::thread::sleep(Duration::from_millis(10));
        (!file.exists()).then_some(())
    });
}

/// Opens the window on the Memory tab with `CLAUDE.md` of `config` open.
fn memory_window(
    runtime: &tokio::runtime::Runtime,
    home: &TempHome,
    config: &std::path::Path,
) -> Harness<'static, AnyonApp> {
    let (backend, events) = support::backend(runtime, home);
    backend.set_claude_config_dir(config.into());
    let settings = match runtime.block_on(backend.call(LoadSettings)) {
        Ok(settings) => anyon::state::SettingsStore::new(settings),
        other => panic!("settings: {other:?}"),
    };
    let options = StartOptions {
        screen: Some(Screen::ClaudeConfig),
        settings,
        ..StartOptions::default()
    };
    let mut harness = Harness::builder()
        .with_size(egui::vec2(1400.0, 900.0))
        .build_eframe(move |cc| AnyonApp::new(cc, backend, events, options));
    harness.run_ok();
    click(&mut harness, "Memory");
    settle(&mut harness, "the memory files", "CLAUDE.md (user)");
    click(&mut harness, "CLAUDE.md (user)");
    settle(&mut harness, "the open file", "Preview");
    harness
}

#[test]
fn unsaved_memory_text_survives_a_restart_as_a_draft() {
    let runtime = support::runtime();
    let home = TempHome::new();
    let config = tempfile::tempdir().unwrap();
    std::fs::write(config.path().join("CLAUDE.md"), "# Rules\n").unwrap();
    let memory = config.path().join("CLAUDE.md");
    {
        let mut harness = memory_window(&runtime, &home, config.path());
        type_into(&mut harness, "Memory text", "Remember me.\n");
        let (backend, _events) = support::backend(&runtime, &home);
        support::wait_for("the draft saved", Duration::from_secs(30), || {
            harness.step();
            std::thread::sleep(Duration::from_millis(20));
            match runtime.block_on(backend.call(LoadSettings)) {
                Ok(settings) => settings
                    .memory_draft(&memory)
                    .filter(|d| d.contains("Remember me."))
                    .map(|_| ()),
                _ => None,
            }
        });
    }
    let mut harness = memory_window(&runtime, &home, config.path());
    settle(&mut harness, "the draft offer", "An unsaved draft of this file");
    click(&mut harness, "Restore draft");
    let text = harness
        .get_by_role(Role::MultilineTextInput)
        .value()
        .unwrap_or_default();
    assert!(text.contains("Remember me.") && text.contains("# Rules"), "{text}");
    assert!(shows(&harness, "unsaved"));
    assert_eq!(
        std::fs::read_to_string(config.path().join("CLAUDE.md")).unwrap(),
        "# Rules\n"
    );
}

#[test]
fn a_malformed_settings_file_is_shown_not_written() {
    let runtime = support::runtime();
    let home = TempHome::new();
    let config = tempfile::tempdir().unwrap();
    let settings = config.path().join("settings.json");
    std::fs::write(&settings, "{ \"hooks\": nope }").unwrap();
    let (backend, events) = support::backend(&runtime, &home);
    backend.set_claude_config_dir(config.path().into());
    let mut harness = ui::window(backend, events, Screen::ClaudeConfig, egui::vec2(1400.0, 900.0));
    settle(&mut harness, "the malformed file", "Not valid JSON");
    assert!(shows(&harness, "{ \"hooks\": nope }"), "its text is shown as it is");
    click(&mut harness, "user");
    type_into(&mut harness, "Command", "echo x");
    click(&mut harness, "Add hook");
    settle(&mut harness, "the refusal", "left untouched");
    assert_eq!(std::fs::read_to_string(&settings).unwrap(), "{ \"hooks\": nope }");
}
