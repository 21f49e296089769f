//! The prompt box's `@` picker in the real window (headless, through AccessKit), over a real project
//! folder: typing `@` and a query lists the matching files best first (ignored ones left out), the
//! keyboard chooses one and `@path ` replaces the query, Escape closes the list.

use anyon::app::{AnyonApp, StartOptions};
use egui::accesskit::Role;
use egui::{Key, Modifiers};
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};

use crate::support::ui::settle;
use crate::support::{self, TempHome};

/// Whether any node (label, button, selectable row) shows `part`.
fn shows(harness: &Harness<'_, AnyonApp>, part: &str) -> bool {
    harness
        .query_all_by(|n| {
            n.role() != Role::MultilineTextInput
                && n.role() != Role::TextInput
                && [n.value(), n.label()].into_iter().flatten().any(|t| t.contains(part))
        })
        .next()
        .is_some()
}

fn prompt_text(harness: &Harness<'_, AnyonApp>) -> String {
    harness
        .get_by_role(Role::MultilineTextInput)
        .value()
        .unwrap_or_default()
}

#[test]
fn at_in_the_prompt_box_lists_the_projects_files_and_inserts_the_chosen_one() {
    let runtime = support::runtime();
    let home = TempHome::new();
    let project = tempfile::tempdir().unwrap();
    for (path, text) in [
        (".gitignore", "target/\n"),
        ("main.rs", "fn main() {}\n"),
        ("src/main.rs", "fn main() {}\n"),
        ("src/deeper/domain.rs", "\n"),
        ("target/main.o", "\n"),
        ("docs/guide.md", "# Guide\n"),
    ] {
        let path = project.path().join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    let (backend, events) = support::backend(&runtime, &home);
    let mut harness = Harness::builder()
        .with_size(egui::vec2(1280.0, 900.0))
        .build_eframe(move |cc| AnyonApp::new(cc, backend, events, StartOptions::default()));
    harness.run_ok();
    harness.key_press_modifiers(Modifiers::COMMAND, Key::T);
    harness.run_ok();
    harness
        .get_by(|n| n.role() == Role::TextInput && n.label().as_deref() == Some("Project"))
        .focus();
    harness.key_press_modifiers(Modifiers::COMMAND, Key::A);
    harness
        .get_by(|n| n.role() == Role::TextInput && n.label().as_deref() == Some("Project"))
        .type_text(&project.path().display().to_string());
    harness.run_ok();

    harness.get_by_role(Role::MultilineTextInput).focus();
    harness.step();
    harness.get_by_role(Role::MultilineTextInput).type_text("Look at @main");
    settle(&mut harness, "the file list", "@src/main.rs");
    assert!(shows(&harness, "@main.rs"), "both matches are listed");
    assert!(!shows(&harness, "target/main.o"), "an ignored file is not offered");
    assert!(
        !shows(&harness, "@docs/guide.md"),
        "a file that does not match is not listed"
    );
    // Best first: the file named exactly so, then the one a folder down, then a looser match.
    let rows: Vec<String> = harness
        .query_all_by(|n| n.label().is_some_and(|l| l.starts_with('@')) && n.role() != Role::MultilineTextInput)
        .filter_map(|n| n.accesskit_node().label())
        .collect();
    assert_eq!(rows, ["@main.rs", "@src/main.rs", "@src/deeper/domain.rs"]);

    harness.key_press(Key::ArrowDown);
    harness.run_ok();
    harness.key_press(Key::Enter);
    harness.run_ok();
    assert_eq!(
        prompt_text(&harness),
        "Look at @src/main.rs ",
        "Enter put the second file in place of the query, not sent the prompt"
    );
    assert!(!shows(&harness, "@main.rs"), "the list closed");
    // The cursor sits after the inserted path and its space.
    harness.get_by_role(Role::MultilineTextInput).type_text("and @gui");
    settle(&mut harness, "the list for the second mention", "@docs/guide.md");
    assert_eq!(prompt_text(&harness), "Look at @src/main.rs and @gui");

    // Escape closes the list and leaves the text (and stops nothing).
    harness.key_press(Key::Escape);
    harness.run_ok();
    assert!(!shows(&harness, "@docs/guide.md"), "Escape closed the list");
    assert_eq!(prompt_text(&harness), "Look at @src/main.rs and @gui");
    assert!(
        harness.get_by_role(Role::MultilineTextInput).is_focused(),
        "the box keeps the focus"
    );
    // Typing on opens it again; Tab inserts the only match.
    harness.get_by_role(Role::MultilineTextInput).type_text("de");
    settle(&mut harness, "the list again", "@docs/guide.md");
    harness.key_press(Key::Tab);
    harness.run_ok();
    assert_eq!(prompt_text(&harness), "Look at @src/main.rs and @docs/guide.md ");
    assert!(
        harness.get_by_role(Role::MultilineTextInput).is_focused(),
        "Tab picked without moving the focus on"
    );
}
