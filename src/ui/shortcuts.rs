//! The window's keyboard shortcuts, in one place: the shell acts on them and screens list them.

use egui::{Key, KeyboardShortcut, Modifiers};

/// Opens a new chat tab.
pub const NEW_TAB: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::T);
/// Closes the shown chat tab.
pub const CLOSE_TAB: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::W);
/// Shows the next chat tab.
pub const NEXT_TAB: KeyboardShortcut = KeyboardShortcut::new(Modifiers::CTRL, Key::Tab);
/// Shows the previous chat tab.
pub const PREVIOUS_TAB: KeyboardShortcut = KeyboardShortcut::new(Modifiers::CTRL.plus(Modifiers::SHIFT), Key::Tab);

/// The chat-tab shortcuts with what they do, for the Settings screen.
pub const TAB_SHORTCUTS: [(KeyboardShortcut, &str); 4] = [
    (NEW_TAB, "New chat tab"),
    (CLOSE_TAB, "Close the chat tab"),
    (NEXT_TAB, "Next chat tab"),
    (PREVIOUS_TAB, "Previous chat tab"),
];
