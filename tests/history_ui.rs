//! The Projects and Usage screens in the real window (headless), over the sample transcripts.

use std::time::Duration;

use anyon::app::{AnyonApp, StartOptions};
use anyon::backend::command::UsageRange;
use anyon::state::nav::Screen;
use egui::accesskit::Role;
use egui::{Key, Modifiers};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;

use crate::support::ui::{settle, shows};
use crate::support::{self, TempHome};
use anyon::domain::transcripts::requests::UsageReport;

fn click_starting_with(harness: &mut Harness<'_, AnyonApp>, prefix: &str) {
    harness
        .query_all_by(|n| n.role() == Role::Button && n.label().is_some_and(|l| l.starts_with(prefix)))
        .next()
        .unwrap_or_else(|| panic!("no button starting with {prefix:?}"))
        .click();
    harness.run_ok();
}

struct Window {
    _home: TempHome,
    _config: tempfile::TempDir,
    runtime: tokio::runtime::Runtime,
    backend: anyon::backend::Backend,
    harness: Harness<'static, AnyonApp>,
}

fn window(screen: Screen) -> Window {
    let runtime = support::runtime();
    let home = TempHome::new();
    let config = tempfile::tempdir().unwrap();
    let projects = config.path().join("projects");
    copy(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/transcripts/projects"),
        &projects,
    );
    let (backend, events) = support::backend(&runtime, &home);
    backend.set_projects_root(projects);
    let options = StartOptions {
        screen: Some(screen),
        ..StartOptions::default()
    };
    let for_app = backend.clone();
    let harness = Harness::builder()
        .with_size(egui::vec2(1400.0, 900.0))
        .build_eframe(move |cc| AnyonApp::new(cc, for_app, events, options));
    Window {
        _home: home,
        _config: config,
        runtime,
        backend,
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

#[test]
fn projects_screen_lists_searches_opens_read_only_and_resumes() {
    let mut w = window(Screen::Projects);
    let harness = &mut w.harness;
    settle(harness, "the project list", "alpha-app");
    // The most recently active project is selected first and shows its sessions.
    settle(harness, "alpha-app's sessions", "SUBAGENT please");

    // Search narrows the list of projects.
    let search = harness
        .query_all_by(|n| n.role() == Role::TextInput)
        .nth(1)
        .expect("the project search field");
    search.focus();
    search.type_text("beta-lib");
    harness.run_ok();
    assert!(!shows(harness, "alpha-app\n"), "alpha-app is filtered out");
    click_starting_with(harness, "beta-lib");
    settle(harness, "beta-lib's header", "/home/ada/work/beta-lib");

    // Open the first session read-only: its conversation is drawn from the transcript.
    click_starting_with(harness, "Open");
    settle(harness, "the read-only banner", "Read-only");
    settle(harness, "lines read", "lines read");
    let viewer = harness.state().stores().transcripts.viewer.as_ref().expect("a viewer");
    assert!(viewer.lines_read > 0);
    assert!(!viewer.view.items.is_empty(), "the transcript became a conversation");
    let session_id = viewer.session.as_ref().unwrap().session_id.clone();

    // Resume it in a chat tab, in the project's real folder.
    click_starting_with(harness, "▶ Resume in a chat tab");
    harness.run_ok();
    let chats = harness.state().open_chats();
    assert_eq!(chats.len(), 1);
    assert_eq!(chats[0].session_id.as_deref(), Some(session_id.as_str()));
    assert_eq!(chats[0].project, "/home/ada/work/beta-lib");
}

#[test]
fn a_new_project_appears_in_the_list() {
    let mut w = window(Screen::Projects);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("brand-new-app");
    let harness = &mut w.harness;
    settle(harness, "the project list", "alpha-app");
    let field = harness.get_by(|n| n.role() == Role::TextInput && n.label().as_deref() == Some("New project"));
    field.focus();
    harness
        .get_by(|n| n.role() == Role::TextInput && n.label().as_deref() == Some("New project"))
        .type_text(&path.display().to_string());
    harness.run_ok();
    harness.get_by_label("Add").click();
    settle(harness, "the new project", "brand-new-app");
    assert!(path.is_dir(), "the folder was created");
    settle(harness, "its empty session list", "No sessions yet");
}

#[test]
fn usage_screen_shows_totals_tables_unpriced_models_and_exports() {
    let mut w = window(Screen::Usage);
    let harness = &mut w.harness;
    settle(harness, "the totals", "Total tokens");
    // The cost card shows what the backend counts for the same (local-zone, all-time) range.
    let report = w
        .runtime
        .block_on(w.backend.call(UsageReport {
            range: UsageRange {
                fresh: true,
                ..UsageRange::default()
            },
            sessions: false,
        }))
        .unwrap();
    settle(
        harness,
        "the total cost",
        &anyon::ui::projects::money(report.totals.cost),
    );
    settle(harness, "the unpriced warning", "Unpriced: claude-imaginary-9");

    harness.get_by_label("By model").click();
    settle(harness, "the model table", "claude-opus-4-6");
    settle(harness, "an unpriced row", "unpriced");

    // A range with no usage says so.
    let since = harness.get_by(|n| n.role() == Role::TextInput && n.label().as_deref() == Some("From"));
    since.focus();
    harness.key_press_modifiers(Modifiers::COMMAND, Key::A);
    harness
        .get_by(|n| n.role() == Role::TextInput && n.label().as_deref() == Some("From"))
        .type_text("2030-01-01");
    harness.key_press(Key::Enter);
    settle(harness, "the empty range", "No usage in this range");
    harness.get_by_label("All").click();
    settle(harness, "the models again", "claude-opus-4-6");

    // Export the table as CSV into a chosen folder.
    let out = tempfile::tempdir().unwrap();
    let into = harness.get_by(|n| n.role() == Role::TextInput && n.label().as_deref() == Some("Export to"));
    into.focus();
    harness.key_press_modifiers(Modifiers::COMMAND, Key::A);
    harness
        .get_by(|n| n.role() == Role::TextInput && n.label().as_deref() == Some("Export to"))
        .type_text(&out.path().display().to_string());
    harness.run_ok();
    harness.get_by_label("CSV").click();
    // The file is complete once the window confirms it (before, only the writer's temporary file exists).
    settle(harness, "the confirmation", "Exported");
    let files: Vec<_> = std::fs::read_dir(out.path())
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    assert_eq!(files.len(), 1, "one file and no temporary one left: {files:?}");
    assert_eq!(files[0].extension().and_then(|e| e.to_str()), Some("csv"));
    let csv = std::fs::read_to_string(&files[0]).unwrap();
    assert!(csv.starts_with("model,inputTokens"), "{csv}");
    assert_eq!(csv.lines().count(), report.models.len() + 1);
}

#[test]
fn full_text_search_finds_a_message_and_opens_the_session_there() {
    let mut w = window(Screen::Projects);
    let harness = &mut w.harness;
    settle(harness, "the project list", "alpha-app");
    let is_search = |n: &egui_kittest::kittest::AccessKitNode<'_>| {
        n.role() == Role::TextInput && n.placeholder().is_some_and(|p| p.contains("Search every prompt"))
    };
    // Ctrl+F puts the cursor in the search box.
    harness.key_press_modifiers(Modifiers::COMMAND, Key::F);
    harness.run_ok();
    assert!(harness.get_by(is_search).is_focused(), "Ctrl+F focuses the search");
    harness.get_by(is_search).type_text("subagent");
    harness.run_ok();
    // Across all projects: the two sessions that say it, and two whose tools' text does, with their
    // project and the word in the snippet.
    settle(harness, "a hit in alpha-app", "/home/ada/work/alpha-app");
    settle(harness, "a hit in proj", "/home/ada/proj");
    settle(harness, "the count", "4 sessions · best match first");
    let results = harness
        .state()
        .stores()
        .transcripts
        .search_results
        .value()
        .cloned()
        .expect("results");
    assert!(
        results.iter().all(|r| r.snippet.to_lowercase().contains("subagent")),
        "{results:?}"
    );
    assert_eq!(results.iter().filter(|r| r.tool).count(), 2, "{results:?}");
    // Tool text left out: only what was said.
    harness.get_by_label("Tool text").click();
    settle(harness, "the narrower count", "2 sessions · best match first");

    // This project only: the list narrows to the selected (most recent) project.
    harness.get_by_label("This project").click();
    settle(harness, "one result", "1 session · best match first");

    // Open the hit: the session is read from the matching message on.
    click_starting_with(harness, "Open");
    settle(harness, "the read-only banner", "Read-only");
    settle(harness, "where it opened", "Opened at the matching message");
    settle(harness, "lines read", "lines read");
    let viewer = harness.state().stores().transcripts.viewer.as_ref().expect("a viewer");
    assert!(viewer.opened_at > 0);
    assert!(
        matches!(viewer.view.items.first(), Some(anyon::state::ChatItem::Prompt { text }) if text.contains("SUBAGENT")),
        "the first message shown is the match: {:?}",
        viewer.view.items.first()
    );
    let from_match = viewer.lines_read;
    // And from the start on request.
    harness.get_by_label("Read from the start").click();
    settle(harness, "lines read", "lines read");
    support::wait_for("the whole file", Duration::from_secs(30), || {
        harness.step();
        let viewer = harness.state().stores().transcripts.viewer.as_ref()?;
        (viewer.opened_at == 0 && viewer.lines_read > from_match).then_some(())
    });
}

/// A project of hundreds of sessions: the list reads them a page at a time as they scroll into view, and
/// its filter asks the index rather than searching rows in memory.
#[test]
fn a_long_session_list_is_read_a_page_at_a_time() {
    let runtime = support::runtime();
    let home = TempHome::new();
    let config = tempfile::tempdir().unwrap();
    let projects = config.path().join("projects");
    crate::support::transcripts::generate(
        &projects,
        &crate::support::transcripts::Shape {
            projects: 1,
            sessions: 450,
            responses: 1,
            payload: 10,
            seed: 3,
        },
    );
    let (backend, events) = support::backend(&runtime, &home);
    backend.set_projects_root(projects);
    let mut harness = support::ui::window(backend.clone(), events, Screen::Projects, egui::vec2(1400.0, 900.0));
    // The generated project's folder is the only one: ask by it.
    let folder = std::fs::read_dir(config.path().join("projects"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .file_name()
        .to_string_lossy()
        .to_string();
    let all = runtime
        .block_on(backend.call(anyon::domain::transcripts::requests::GetProjectSessions {
            project_path: folder.into(),
            filter: String::new(),
            offset: 0,
            limit: None,
            fresh: true,
        }))
        .unwrap()
        .sessions;
    assert!(all.len() > 300, "{} sessions", all.len());
    let (first, last) = (all[0].title.clone(), all[all.len() - 1].session_id.clone());
    settle(&mut harness, "the newest session", &first);
    let rows = &harness.state().stores().transcripts.session_rows;
    assert_eq!(rows.total(), Some(all.len()));
    assert!(
        rows.row(0).is_some() && rows.row(all.len() - 1).is_none(),
        "only the first page is read"
    );

    // Scrolled to the end, the oldest sessions are read and shown.
    harness
        .input_mut()
        .events
        .push(egui::Event::PointerMoved(egui::pos2(900.0, 600.0)));
    support::wait_for("the end of the list", Duration::from_secs(60), || {
        harness.input_mut().events.push(egui::Event::MouseWheel {
            unit: egui::MouseWheelUnit::Page,
            delta: egui::vec2(0.0, -5.0),
            phase: egui::TouchPhase::Move,
            source: egui::MouseWheelSource::Unknown,
            modifiers: Modifiers::NONE,
        });
        harness.step();
        std::thread::sleep(Duration::from_millis(10));
        let rows = &harness.state().stores().transcripts.session_rows;
        rows.row(all.len() - 1)
            .is_some_and(|s| s.session_id == last)
            .then_some(())
    });

    // The filter asks the index: one session by a part of its id.
    let filter = harness
        .query_all_by(|n| n.role() == Role::TextInput)
        .last()
        .expect("the session filter");
    filter.focus();
    filter.type_text(&last[..13]);
    harness.run_ok();
    settle(&mut harness, "the one match", &all[all.len() - 1].title);
    assert_eq!(harness.state().stores().transcripts.session_rows.total(), Some(1));
}
