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
    window_with(screen, |_| {})
}

/// The window over the sample transcripts plus whatever `prepare` writes into `projects/`.
fn window_with(screen: Screen, prepare: impl FnOnce(&std::path::Path)) -> Window {
    let runtime = support::runtime();
    let home = TempHome::new();
    let config = tempfile::tempdir().unwrap();
    let projects = config.path().join("projects");
    copy(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/transcripts/projects"),
        &projects,
    );
    prepare(&projects);
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
    let first_prompt = viewer
        .view
        .items
        .iter()
        .find_map(|item| match item {
            anyon::state::ChatItem::Prompt { text } => Some(text.clone()),
            _ => None,
        })
        .expect("the session's first prompt");
    let (viewer_items, viewer_whole) = (viewer.view.items.len(), viewer.eof);

    // Resume it in a chat tab, in the project's real folder.
    click_starting_with(harness, "▶ Resume in a chat tab");
    harness.run_ok();
    let chats = harness.state().open_chats();
    assert_eq!(chats.len(), 1);
    assert_eq!(chats[0].session_id.as_deref(), Some(session_id.as_str()));
    assert_eq!(chats[0].project, "/home/ada/work/beta-lib");

    // The tab shows the conversation so far, read from the transcript, not "Start a conversation".
    support::wait_for("the earlier messages", Duration::from_secs(30), || {
        harness.step();
        let chats = harness.state().open_chats();
        chats[0].earlier.as_ref().is_some_and(|e| e.eof).then_some(())
    });
    harness.run_ok();
    let chat = harness.state().open_chats()[0];
    assert!(chat.earlier.as_ref().unwrap().error.is_none());
    if viewer_whole {
        assert_eq!(
            chat.items.len(),
            viewer_items,
            "the whole session is shown, item for item as the read-only view shows it"
        );
    } else {
        assert!(
            chat.items.len() > viewer_items,
            "the tab reads on past the viewer's first page"
        );
    }
    assert!(matches!(&chat.items[0], anyon::state::ChatItem::Prompt { text } if *text == first_prompt));
    settle(harness, "the earlier prompt in the tab", &first_prompt);
    assert!(!shows(harness, "Start a conversation"));
}

/// Every label and heading lies inside the window's width (nothing runs past the right edge).
fn assert_fits(harness: &Harness<'_, AnyonApp>, width: f32, screen: &str) {
    for node in harness.query_all_by(|n| matches!(n.role(), Role::Label | Role::Heading)) {
        let rect = node.rect();
        assert!(
            rect.max.x <= width + 0.5,
            "{screen}: {:?} ends at x = {} in a window {width} wide",
            node.value().map(|t| t.chars().take(60).collect::<String>()),
            rect.max.x
        );
    }
}

#[test]
fn a_session_with_long_lines_fits_the_window_read_only_and_resumed() {
    let id = "11111111-2222-4333-8444-555555555555";
    let title = "Please refactor the configuration loading pipeline so that every setting is validated ".repeat(3);
    let answer = format!(
        "Here is what I did: {} and then {}\n\n```\n{}\n```\n",
        "the_loader_now_validates_every_key_before_merging_".repeat(6),
        "words that go on and on without stopping ".repeat(40),
        "let x = some_function_with_a_really_long_name(argument_one, argument_two, argument_three);".repeat(3)
    );
    let mut w = window_with(Screen::Projects, |projects| {
        let folder = projects.join("-tmp-long-lines");
        std::fs::create_dir_all(&folder).unwrap();
        let lines = [
            serde_json::json!({"type": "user", "message": {"role": "user", "content": title},
                "uuid": "a1", "timestamp": "2026-12-05T10:00:00Z", "cwd": "/tmp/long-lines", "sessionId": id}),
            serde_json::json!({"type": "assistant", "message": {"id": "m1", "role": "assistant",
                "model": "claude-sonnet-5", "content": [{"type": "text", "text": answer}],
                "usage": {"input_tokens": 10, "output_tokens": 20}},
                "uuid": "a2", "timestamp": "2026-12-05T10:00:05Z", "cwd": "/tmp/long-lines", "sessionId": id}),
        ];
        let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
        std::fs::write(folder.join(format!("{id}.jsonl")), text).unwrap();
    });
    let harness = &mut w.harness;
    settle(harness, "the project list", "long-lines");
    click_starting_with(harness, "long-lines");
    settle(harness, "its session", "Please refactor the configuration");
    click_starting_with(harness, "Open");
    settle(harness, "the read-only view", "words that go on and on");
    harness.run_ok();
    assert_fits(harness, 1400.0, "the read-only view");

    click_starting_with(harness, "▶ Resume in a chat tab");
    support::wait_for("the earlier messages", Duration::from_secs(30), || {
        harness.step();
        let chats = harness.state().open_chats();
        chats
            .first()
            .and_then(|c| c.earlier.as_ref())
            .is_some_and(|e| e.eof)
            .then_some(())
    });
    settle(harness, "the answer in the tab", "words that go on and on");
    harness.run_ok();
    assert_fits(harness, 1400.0, "the resumed tab");
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
