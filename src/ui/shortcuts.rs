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

/// Opens (or closes) the command palette.
pub const COMMAND_PALETTE: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::K);

/// The window-wide shortcuts besides the screens' (the palette, chat tabs) with what they do, for the Settings screen.
pub const WINDOW_SHORTCUTS: [(KeyboardShortcut, &str); 5] = [
    (
        COMMAND_PALETTE,
        "Command palette: go to a screen, project, session or agent, or run an action",
    ),
    (NEW_TAB, "New chat tab"),
    (CLOSE_TAB, "Close the chat tab"),
    (NEXT_TAB, "Next chat tab"),
    (PREVIOUS_TAB, "Previous chat tab"),
];
