//! The MCP screen in the real window (headless): servers of Claude's files with masked secrets, a
//! background connection test, add through the form, remove.

use std::time::Duration;

use anyon::app::{AnyonApp, StartOptions};
use anyon::state::nav::Screen;
use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use serde_json::{Value, json};

use crate::support::{self, TempHome};

fn shows(harness: &Harness<'_, AnyonApp>, part: &str) -> bool {
    harness
        .query_all_by(|n| {
            matches!(n.role(), Role::Label | Role::Heading | Role::Button | Role::CheckBox)
                && [n.value(), n.label()].into_iter().flatten().any(|t| t.contains(part))
        })
        .next()
        .is_some()
}

fn settle(harness: &mut Harness<'_, AnyonApp>, what: &str, part: &str) {
    support::wait_for(what, Duration::from_secs(60), || {
        harness.step();
        std::thread::sleep(Duration::from_millis(10));
        shows(harness, part).then_some(())
    });
}

fn click(harness: &mut Harness<'_, AnyonApp>, prefix: &str) {
    harness
        .query_all_by(|n| n.role() == Role::Button && n.label().is_some_and(|l| l.contains(prefix)))
        .next()
        .unwrap_or_else(|| panic!("no button {prefix:?}"))
        .click();
    harness.step();
    harness.step();
}

fn type_into(harness: &mut Harness<'_, AnyonApp>, label: &str, text: &str) {
    let field = harness.get_by(|n| n.role() == Role::TextInput && n.label().as_deref() == Some(label));
    field.focus();
    harness.step();
    harness
        .get_by(|n| n.role() == Role::TextInput && n.label().as_deref() == Some(label))
        .type_text(text);
    harness.step();
}

#[test]
fn mcp_screen_lists_masks_tests_adds_and_removes() {
    let runtime = support::runtime();
    let home = TempHome::new();
    let config = tempfile::tempdir().unwrap();
    let claude_json = config.path().join(".claude.json");
    std::fs::write(
        &claude_json,
        serde_json::to_string_pretty(&json!({
            "userID": "u",
            "mcpServers": {
                "ghost": {"type": "stdio", "command": "/no/such/ghost-server", "args": [], "env": {"API_KEY": "hunter2"}}
            }
        }))
        .unwrap(),
    )
    .unwrap();
    let (backend, events) = support::backend(&runtime, &home);
    backend.set_claude_json(claude_json.clone());
    let options = StartOptions {
        screen: Some(Screen::Mcp),
        ..StartOptions::default()
    };
    let for_app = backend.clone();
    let mut harness = Harness::builder()
        .with_size(egui::vec2(1400.0, 900.0))
        .build_eframe(move |cc| AnyonApp::new(cc, for_app, events, options));

    settle(&mut harness, "the server list", "ghost");
    assert!(shows(&harness, "/no/such/ghost-server"));
    assert!(shows(&harness, "API_KEY = ••••••"), "the secret is masked");
    assert!(!shows(&harness, "hunter2"));
    settle(&mut harness, "the background test's failure", "cannot start");
    click(&mut harness, "Reveal values");
    assert!(shows(&harness, "API_KEY = hunter2"), "revealed on request");

    // Add a server through the form: it lands in Claude's file as `claude mcp add -s user` writes it.
    click(&mut harness, "Add server");
    type_into(&mut harness, "Name", "echo-srv");
    click(&mut harness, "user");
    type_into(&mut harness, "Command", "/no/such/echo-server");
    click(&mut harness, "Save");
    settle(&mut harness, "the new server", "echo-srv");
    let written: Value = serde_json::from_str(&std::fs::read_to_string(&claude_json).unwrap()).unwrap();
    assert_eq!(
        written["mcpServers"]["echo-srv"],
        json!({"type": "stdio", "command": "/no/such/echo-server", "args": [], "env": {}})
    );
    assert_eq!(written["userID"], "u", "other keys stay");

    // Remove the first one.
    click(&mut harness, "Remove");
    settle(
        &mut harness,
        "the removal's confirmation",
        "Removed ghost from the user scope",
    );
    support::wait_for("the list without ghost", Duration::from_secs(30), || {
        harness.step();
        std::thread::sleep(Duration::from_millis(10));
        (!shows(&harness, "/no/such/ghost-server")).then_some(())
    });
    assert!(shows(&harness, "/no/such/echo-server"));
    let written: Value = serde_json::from_str(&std::fs::read_to_string(&claude_json).unwrap()).unwrap();
    assert!(written["mcpServers"].get("ghost").is_none());
    assert!(written["mcpServers"].get("echo-srv").is_some());
}
