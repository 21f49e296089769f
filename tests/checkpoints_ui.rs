//! The checkpoint timeline of a chat tab in the real window (headless): a diff with the files now, inline
//! and side by side.

use std::time::Duration;

use anyon::app::{AnyonApp, StartOptions};
use anyon::state::ChatSession;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;

use crate::support::ui::{settle, shows};
use crate::support::{self, TempHome};
use anyon::domain::checkpoint::requests::CheckpointCreate;

#[test]
fn a_checkpoint_diff_shows_inline_and_side_by_side() {
    let runtime = support::runtime();
    let home = TempHome::new();
    let project = tempfile::tempdir().unwrap();
    std::fs::write(project.path().join("notes.txt"), "alpha\nbravo\ncharlie\n").unwrap();
    let (backend, events) = support::backend(&runtime, &home);
    let session = "5e55i0n0-0000-4000-8000-000000000001";
    runtime
        .block_on(backend.execute(CheckpointCreate {
            project_path: project.path().to_path_buf(),
            session_id: session.into(),
            trigger: anyon::domain::checkpoint::Trigger::Manual,
            description: Some("Before the edit".into()),
        }))
        .expect("checkpoint");
    std::fs::write(project.path().join("notes.txt"), "alpha\nBRAVO\ncharlie\ndelta\n").unwrap();

    let for_app = backend.clone();
    let mut harness = Harness::builder()
        .with_size(egui::vec2(1400.0, 900.0))
        .build_eframe(move |cc| AnyonApp::new(cc, for_app, events, StartOptions::default()));
    let mut tab = ChatSession::new("Edited notes", project.path().display().to_string());
    tab.session_id = Some(session.into());
    tab.show_timeline = true;
    harness.state_mut().open_session_tab(tab);
    settle(&mut harness, "the timeline", "Before the edit");

    harness.get_by_label("Diff with now").click();
    settle(&mut harness, "the inline diff", "-bravo");
    assert!(shows(&harness, "+BRAVO"));
    assert!(shows(&harness, "+delta"));

    // Through AccessKit, as assistive technology would (the modal is laid out again as the diff arrives).
    harness.get_by_label("Side by side").click_accesskit();
    harness.run_ok();
    // Side by side, the lines stand without their +/- marks, old facing new.
    support::wait_for("the two columns", Duration::from_secs(30), || {
        harness.step();
        (!shows(&harness, "-bravo")).then_some(())
    });
    harness.run_ok();
    assert!(shows(&harness, "bravo"));
    assert!(shows(&harness, "delta"));
    assert!(harness.state().stores().checkpoints.side_by_side);
}

#[test]
fn the_restore_preview_lists_the_files_kept_because_they_cannot_be_restored() {
    let runtime = support::runtime();
    let home = TempHome::new();
    let project = tempfile::tempdir().unwrap();
    std::fs::write(project.path().join("notes.txt"), "alpha\n").unwrap();
    let (backend, events) = support::backend(&runtime, &home);
    runtime
        .block_on(backend.call(anyon::domain::settings::requests::SaveSetting {
            setting: anyon::domain::settings::Setting::CheckpointMaxFileMb(1),
        }))
        .expect("the size limit");
    let session = "5e55i0n0-0000-4000-8000-000000000002";
    runtime
        .block_on(backend.execute(CheckpointCreate {
            project_path: project.path().to_path_buf(),
            session_id: session.into(),
            trigger: anyon::domain::checkpoint::Trigger::Manual,
            description: Some("Before the big file".into()),
        }))
        .expect("checkpoint");
    std::fs::write(project.path().join("notes.txt"), "bravo\n").unwrap();
    let big = vec![7u8; 1024 * 1024 + 1];
    std::fs::write(project.path().join("big.bin"), &big).unwrap();

    let for_app = backend.clone();
    let mut harness = Harness::builder()
        .with_size(egui::vec2(1400.0, 900.0))
        .build_eframe(move |cc| AnyonApp::new(cc, for_app, events, StartOptions::default()));
    let mut tab = ChatSession::new("Big file", project.path().display().to_string());
    tab.session_id = Some(session.into());
    tab.show_timeline = true;
    harness.state_mut().open_session_tab(tab);
    settle(&mut harness, "the timeline", "Before the big file");
    harness.get_by_label("Restore…").click();
    settle(
        &mut harness,
        "the restore preview",
        "kept   big.bin (cannot be restored: over the size limit)",
    );
    assert!(shows(&harness, "1 file(s) written, 0 deleted, 1 kept as they are"));
    assert!(shows(&harness, "write  notes.txt"));
    assert!(!shows(&harness, "delete big.bin"));
    harness.get_by_label("Restore").click_accesskit();
    support::wait_for("the restore", Duration::from_secs(30), || {
        harness.step();
        (std::fs::read_to_string(project.path().join("notes.txt")).ok()? == "alpha\n").then_some(())
    });
    assert_eq!(std::fs::read(project.path().join("big.bin")).unwrap().len(), big.len());
}

/// A restore killed part way: the timeline shows a banner, a dialog offers Finish / Roll back / Later, and
/// Finish completes it.
#[test]
fn an_interrupted_restore_is_offered_to_finish_or_roll_back() {
    let runtime = support::runtime();
    let home = TempHome::new();
    let project = tempfile::tempdir().unwrap();
    let root = std::fs::canonicalize(project.path()).unwrap();
    std::fs::write(root.join("notes.txt"), "alpha\n").unwrap();
    let (backend, events) = support::backend(&runtime, &home);
    let session = "5e55i0n0-0000-4000-8000-000000000003";
    let take = |description: &str| {
        runtime
            .block_on(backend.call(CheckpointCreate {
                project_path: root.clone(),
                session_id: session.into(),
                trigger: anyon::domain::checkpoint::Trigger::Manual,
                description: Some(description.into()),
            }))
            .expect("checkpoint")
            .checkpoint
            .id
    };
    let target = take("The first notes");
    std::fs::write(root.join("notes.txt"), "bravo\n").unwrap();
    std::fs::write(root.join("extra.txt"), "extra\n").unwrap();
    let before = take("Before restoring");
    // As a restore killed part way leaves it: the journal says running, one file is written, one not yet
    // deleted.
    let conn = rusqlite::Connection::open(home.paths().database()).unwrap();
    conn.execute(
        "INSERT INTO restore_journal (project_path, target_id, before_id, state) VALUES (?1, ?2, ?3, 'running')",
        rusqlite::params![root.display().to_string(), target, before],
    )
    .unwrap();
    drop(conn);
    std::fs::write(root.join("notes.txt"), "alpha\n").unwrap();

    let for_app = backend.clone();
    let mut harness = Harness::builder()
        .with_size(egui::vec2(1400.0, 900.0))
        .build_eframe(move |cc| AnyonApp::new(cc, for_app, events, StartOptions::default()));
    let mut tab = ChatSession::new("Interrupted", root.display().to_string());
    tab.session_id = Some(session.into());
    tab.show_timeline = true;
    harness.state_mut().open_session_tab(tab);
    settle(&mut harness, "the dialog", "A restore was interrupted");
    assert!(shows(&harness, "Roll back"));
    harness.get_by_label("Later").click_accesskit();
    support::wait_for("the dialog to go", Duration::from_secs(30), || {
        harness.step();
        (!shows(&harness, "A restore was interrupted")).then_some(())
    });
    harness.run_ok();
    assert!(
        shows(&harness, "was interrupted: the files may be a mix"),
        "the banner stays"
    );

    harness.get_by_label("Finish or roll back…").click_accesskit();
    settle(&mut harness, "the dialog again", "A restore was interrupted");
    harness.get_by_label("Finish").click_accesskit();
    support::wait_for("the restore to finish", Duration::from_secs(30), || {
        harness.step();
        (!root.join("extra.txt").exists() && !shows(&harness, "was interrupted")).then_some(())
    });
    assert_eq!(std::fs::read_to_string(root.join("notes.txt")).unwrap(), "alpha\n");
    assert!(!shows(&harness, "A restore was interrupted"));
}
