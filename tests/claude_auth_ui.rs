//! The Account screen's "Claude authentication" section in the real window (headless): an invalid key shows
//! its error inline, a valid one is saved and shown masked, never whole.

use anyon::app::AnyonApp;
use anyon::domain::secrets::{SecretStore, StoreMode};
use anyon::state::nav::Screen;
use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;

use crate::support::ui::{self, click, settle, shows};
use crate::support::{self, TempHome};

/// The key field (a password input).
macro_rules! key_field {
    ($harness:expr) => {
        $harness.get_by(|n| {
            matches!(n.role(), Role::PasswordInput | Role::TextInput) && n.label().as_deref() == Some("API key")
        })
    };
}

fn type_key(harness: &mut Harness<'_, AnyonApp>, text: &str) {
    key_field!(harness).focus();
    harness.step();
    key_field!(harness).type_text(text);
    harness.step();
}

#[test]
fn account_screen_saves_a_masked_key_and_shows_errors_inline() {
    let runtime = support::runtime();
    let home = TempHome::new();
    let (backend, events) = support::backend(&runtime, &home);
    backend.set_secret_store(SecretStore::new(home.path(), StoreMode::FileOnly));
    let for_app = backend.clone();
    let mut harness = ui::window(for_app, events, Screen::Account, egui::vec2(1400.0, 900.0));

    settle(&mut harness, "the first check", "Saved in ANYON");
    assert!(shows(&harness, "Claude authentication"));
    assert!(shows(&harness, "Keys are kept in the file"), "where keys go is said");

    type_key(&mut harness, "sk-live-not-a-key");
    click(&mut harness, "Save key");
    settle(&mut harness, "the form error", "starts with `sk-ant-`");
    assert!(!home.path().join("secrets.json").exists(), "nothing saved");

    // The field keeps what was typed after an error; start over with a valid key.
    let key = format!("sk-ant-api03-{}wxyz", "k".repeat(50));
    harness
        .get_by(|n| {
            matches!(n.role(), Role::PasswordInput | Role::TextInput) && n.label().as_deref() == Some("API key")
        })
        .focus();
    harness.step();
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    harness.key_press(egui::Key::Backspace);
    harness.step();
    type_key(&mut harness, &key);
    assert!(!shows(&harness, &key), "the field shows dots, not the key");
    click(&mut harness, "Save key");
    settle(&mut harness, "the confirmation", "Saved sk-ant-…wxyz in the file");
    settle(&mut harness, "the check after saving", "sk-ant-…wxyz (file");
    assert!(!shows(&harness, &key), "the whole key is never shown");
    let stored = SecretStore::new(home.path(), StoreMode::FileOnly)
        .get("anthropic-api-key")
        .unwrap();
    assert_eq!(stored.map(|s| s.value.expose().to_owned()), Some(key));

    click(&mut harness, "Remove key");
    settle(&mut harness, "the removal", "Removed the saved key");
    assert!(!home.path().join("secrets.json").exists());
}
