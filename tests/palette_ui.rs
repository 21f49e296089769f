//! The command palette (Ctrl+K) in the real window, headless through AccessKit: the keyboard alone opens
//! it, types into it, moves the selection and runs an entry; Escape closes it; a click runs an entry too.

use std::time::Duration;

use anyon::app::AnyonApp;
use anyon::domain::agents::requests::CreateAgent;
use anyon::state::nav::Screen;
use anyon::state::palette::{EntryKind, PaletteCommand};
use egui::accesskit::Role;
use egui::{Event, Key, Modifiers};
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT as _, Queryable};

use crate::support::ui::{settle, shows, window};
use crate::support::{self, TempHome};

const SIZE: egui::Vec2 = egui::vec2(1280.0, 800.0);

struct Window {
    _home: TempHome,
    _config: Option<tempfile::TempDir>,
    _runtime: tokio::runtime::Runtime,
    harness: Harness<'static, AnyonApp>,
}

/// The window on `screen`; with `transcripts`, Claude's projects folder holds the sample transcripts; `setup`
/// may ask the backend for anything before the window opens.
fn open(
    screen: Screen,
    transcripts: bool,
    setup: impl FnOnce(&tokio::runtime::Runtime, &anyon::backend::Backend),
) -> Window {
    let runtime = support::runtime();
    let home = TempHome::new();
    let (backend, events) = support::backend(&runtime, &home);
    let config = transcripts.then(|| {
        let config = tempfile::tempdir().unwrap();
        let projects = config.path().join("projects");
        copy(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/transcripts/projects"),
            &projects,
        );
        backend.set_projects_root(projects);
        config
    });
    setup(&runtime, &backend);
    let mut harness = window(backend, events, screen, SIZE);
    harness.run_ok();
    Window {
        _home: home,
        _config: config,
        _runtime: runtime,
        harness,
    }
}

fn copy(from: &std::path::Path, to: &std::path::Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let target = to.join(path.file_name().unwrap());
        if path.is_dir() {
            copy(&path, &target);
        } else {
            std::fs::create_dir_all(to).unwrap();
            std::fs::copy(&path, &target).unwrap();
        }
    }
}

/// The palette's text field, if it is shown.
fn field_shown(harness: &Harness<'_, AnyonApp>) -> bool {
    harness
        .query_all_by(|n| n.role() == Role::TextInput && n.label().as_deref() == Some("Command palette"))
        .next()
        .is_some()
}

/// Ctrl+K, then `query` typed with no click first: the field must have the keyboard at once.
fn palette(harness: &mut Harness<'_, AnyonApp>, query: &str) {
    harness.key_press_modifiers(Modifiers::COMMAND, Key::K);
    harness.run_ok();
    assert!(harness.state().stores().palette.is_open(), "Ctrl+K opens the palette");
    assert!(field_shown(harness), "its text field is shown");
    let field = harness.get_by(|n| n.role() == Role::TextInput && n.label().as_deref() == Some("Command palette"));
    assert!(field.is_focused(), "the field has the keyboard at once");
    if !query.is_empty() {
        harness.event(Event::Text(query.to_string()));
        harness.run_ok();
        assert_eq!(
            harness.state().stores().palette.query,
            query,
            "typing goes into the palette"
        );
    }
}

/// The first `n` rows as AccessKit shows them ("Kind: title — detail").
fn rows(harness: &Harness<'_, AnyonApp>) -> Vec<String> {
    harness
        .query_all_by(|n| {
            n.role() == Role::Button
                && n.label().is_some_and(|l| {
                    ["Action: ", "Screen: ", "Session: ", "Project: ", "Agent: "]
                        .iter()
                        .any(|k| l.starts_with(k))
                })
        })
        .filter_map(|n| n.accesskit_node().label())
        .collect()
}

fn press(harness: &mut Harness<'_, AnyonApp>, key: Key) {
    harness.key_press(key);
    harness.run_ok();
}

#[test]
fn palette_typing_usage_and_enter_shows_the_usage_screen() {
    let mut w = open(Screen::Projects, false, |_, _| {});
    let harness = &mut w.harness;
    assert!(!field_shown(harness), "closed at start");
    palette(harness, "usage");
    let shown = rows(harness);
    assert!(
        shown.first().is_some_and(|r| r.starts_with("Screen: Usage — ")),
        "the Usage screen is the best match: {shown:?}"
    );
    assert!(
        shown.iter().all(|r| !r.starts_with("Screen: Projects")),
        "screens that do not match are gone: {shown:?}"
    );
    press(harness, Key::Enter);
    assert_eq!(harness.state().screen(), Screen::Usage);
    assert!(harness.query_by_role_and_label(Role::Heading, "Usage").is_some());
    assert!(
        !harness.state().stores().palette.is_open(),
        "running an entry closes the palette"
    );
    assert!(!field_shown(harness));
}

#[test]
fn palette_new_chat_opens_a_chat_tab() {
    let mut w = open(Screen::Usage, false, |_, _| {});
    let harness = &mut w.harness;
    assert!(harness.state().open_chats().is_empty());
    palette(harness, "new chat");
    assert!(
        rows(harness).first().is_some_and(|r| r.starts_with("Action: New chat")),
        "{:?}",
        rows(harness)
    );
    press(harness, Key::Enter);
    assert_eq!(harness.state().open_chats().len(), 1, "a chat tab opened");
    assert!(
        harness.query_by_role_and_label(Role::Heading, "New chat").is_some(),
        "and it is shown"
    );
    assert!(!field_shown(harness));

    // With a tab shown, the palette offers to close it.
    palette(harness, "close the chat tab");
    press(harness, Key::Enter);
    assert!(harness.state().open_chats().is_empty(), "the tab closed");
}

#[test]
fn palette_escape_closes_and_ctrl_k_toggles() {
    let mut w = open(Screen::Settings, false, |_, _| {});
    let harness = &mut w.harness;
    palette(harness, "usage");
    press(harness, Key::Escape);
    assert!(!harness.state().stores().palette.is_open(), "Escape closes the palette");
    assert!(!field_shown(harness));
    assert_eq!(harness.state().screen(), Screen::Settings, "and runs nothing");
    assert!(harness.query_by_role_and_label(Role::Heading, "Settings").is_some());

    palette(harness, "");
    assert_eq!(harness.state().stores().palette.query, "", "it opens empty again");
    let listed = harness.state().stores().palette.len();
    let drawn = rows(harness).len();
    assert!(listed > 12, "everything is listed before anything is typed: {listed}");
    assert!(
        (10..=13).contains(&drawn),
        "about twelve rows are drawn at once, the rest scroll: {drawn}"
    );
    harness.key_press_modifiers(Modifiers::COMMAND, Key::K);
    harness.run_ok();
    assert!(!field_shown(harness), "Ctrl+K again closes it");
}

#[test]
fn palette_down_and_up_move_the_selection() {
    let mut w = open(Screen::Projects, false, |_, _| {});
    let harness = &mut w.harness;
    palette(harness, "mcp");
    let shown = rows(harness);
    assert!(shown[0].starts_with("Screen: MCP — "), "{shown:?}");
    assert!(shown[1].starts_with("Action: Add an MCP server"), "{shown:?}");
    // Down, Down, Up: the second entry.
    press(harness, Key::ArrowDown);
    press(harness, Key::ArrowDown);
    press(harness, Key::ArrowUp);
    assert_eq!(harness.state().stores().palette.selected(), 1);
    press(harness, Key::Enter);
    assert_eq!(harness.state().screen(), Screen::Mcp);
    assert!(
        harness.state().stores().mcp.editor.is_some(),
        "the second entry ran: the MCP server form is open"
    );

    // Up from the first entry wraps to the last.
    palette(harness, "");
    let last = harness.state().stores().palette.len() - 1;
    let first_rows = rows(harness);
    let last_title = harness.state().stores().palette.ranked_at(last).unwrap().title.clone();
    assert!(
        !first_rows.iter().any(|r| r.contains(&last_title)),
        "the last entry is out of view at first: {first_rows:?}"
    );
    press(harness, Key::ArrowUp);
    assert_eq!(harness.state().stores().palette.selected(), last);
    let now = rows(harness);
    assert!(
        now.iter().any(|r| r.contains(&last_title)),
        "the list scrolled to the selected entry: {now:?}"
    );
    press(harness, Key::Escape);
}

#[test]
fn palette_rows_run_on_click() {
    let mut w = open(Screen::Projects, false, |_, _| {});
    let harness = &mut w.harness;
    palette(harness, "");
    assert!(
        rows(harness).iter().all(|r| !r.starts_with("Screen: Storage")),
        "below the rows in view"
    );
    harness.event(Event::Text("stor".into()));
    harness.run_ok();
    harness
        .get_by(|n| n.role() == Role::Button && n.label().is_some_and(|l| l.starts_with("Screen: Storage")))
        .click();
    harness.run_ok();
    assert_eq!(harness.state().screen(), Screen::Storage);
    assert!(!field_shown(harness));
}

#[test]
fn palette_lists_projects_and_recent_sessions_and_opens_them() {
    let mut w = open(Screen::Usage, true, |_, _| {});
    let harness = &mut w.harness;
    settle(harness, "the usage totals", "Total tokens");
    palette(harness, "");
    // The latest sessions are asked for when the palette opens.
    support::wait_for("the recent sessions", Duration::from_secs(30), || {
        harness.step();
        std::thread::sleep(Duration::from_millis(10));
        let palette = &harness.state().stores().palette;
        palette.ranked().any(|e| e.kind == EntryKind::Session).then_some(())
    });
    let latest = harness.state().stores().palette.sessions()[0].clone();
    assert!(
        harness
            .state()
            .stores()
            .palette
            .sessions()
            .windows(2)
            .all(|w| w[0].last_activity_ms >= w[1].last_activity_ms),
        "most recent first"
    );
    press(harness, Key::Escape);

    // A project: its sessions are shown on the Projects screen.
    palette(harness, "beta-lib");
    let shown = rows(harness);
    assert!(shown[0].starts_with("Project: beta-lib"), "{shown:?}");
    press(harness, Key::Enter);
    assert_eq!(harness.state().screen(), Screen::Projects);
    settle(harness, "beta-lib's sessions", "/home/ada/work/beta-lib");
    assert_eq!(
        harness.state().stores().transcripts.selected_project.as_deref(),
        Some("-home-ada-work-beta-lib")
    );

    // The most recent session resumes in a chat tab.
    palette(harness, "resume the most recent");
    let shown = rows(harness);
    assert!(
        shown[0].starts_with("Action: Resume the most recent session"),
        "{shown:?}"
    );
    press(harness, Key::Enter);
    let chats = harness.state().open_chats();
    assert_eq!(chats.len(), 1);
    assert_eq!(chats[0].session_id.as_deref(), Some(latest.session_id.as_str()));

    // A session opens read-only.
    palette(harness, "");
    let position = {
        let palette = &harness.state().stores().palette;
        (0..palette.len())
            .find(|&i| palette.ranked_at(i).is_some_and(|e| e.kind == EntryKind::Session))
            .unwrap()
    };
    let PaletteCommand::OpenSession(session) = harness
        .state()
        .stores()
        .palette
        .ranked_at(position)
        .unwrap()
        .command
        .clone()
    else {
        panic!("a session entry opens the session");
    };
    for _ in 0..position {
        harness.key_press(Key::ArrowDown);
    }
    harness.run_ok();
    assert_eq!(harness.state().stores().palette.selected(), position);
    press(harness, Key::Enter);
    settle(harness, "the read-only banner", "Read-only");
    assert!(harness.state().open_chats().len() == 1 && harness.state().screen() == Screen::Projects);
    let viewer = harness.state().stores().transcripts.viewer.as_ref().unwrap();
    assert_eq!(viewer.session.as_ref().unwrap().session_id, session.session_id);
}

#[test]
fn palette_runs_an_agent_through_its_run_dialog() {
    let mut w = open(Screen::Projects, false, |runtime, backend| {
        runtime
            .block_on(backend.call(CreateAgent {
                draft: anyon::domain::agents::AgentDraft {
                    name: "Release notes writer".into(),
                    default_task: Some("Summarise the changes".into()),
                    ..Default::default()
                },
            }))
            .unwrap();
    });
    let harness = &mut w.harness;
    palette(harness, "");
    // The agents are asked for when the palette opens (the Agents screen was never shown).
    support::wait_for("the agent", Duration::from_secs(30), || {
        harness.step();
        std::thread::sleep(Duration::from_millis(10));
        let palette = &harness.state().stores().palette;
        palette
            .ranked()
            .any(|e| e.kind == EntryKind::Agent && e.title == "Release notes writer")
            .then_some(())
    });
    press(harness, Key::Escape);
    palette(harness, "release notes");
    assert!(rows(harness)[0].starts_with("Agent: Release notes writer — Run · Summarise the changes"));
    press(harness, Key::Enter);
    assert_eq!(harness.state().screen(), Screen::Agents);
    settle(harness, "the run dialog", "Run Release notes writer");
    let dialog = harness.state().stores().agents.run_dialog.as_ref().unwrap();
    assert_eq!(dialog.task, "Summarise the changes");
    assert!(shows(harness, "Run Release notes writer"));
}
