//! The screens of the left navigation, their names, headings and shortcuts.

use serde::{Deserialize, Serialize};

/// A screen reachable from the left navigation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Screen {
    Projects,
    Agents,
    Mcp,
    ClaudeConfig,
    Storage,
    Usage,
    Settings,
    Account,
}

impl Screen {
    /// Every screen, in navigation order.
    pub const ALL: [Screen; 8] = [
        Screen::Projects,
        Screen::Agents,
        Screen::Mcp,
        Screen::ClaudeConfig,
        Screen::Storage,
        Screen::Usage,
        Screen::Settings,
        Screen::Account,
    ];

    /// The label in the navigation.
    pub fn label(self) -> &'static str {
        match self {
            Screen::Projects => "Projects",
            Screen::Agents => "Agents",
            Screen::Mcp => "MCP",
            Screen::ClaudeConfig => "Claude config",
            Screen::Storage => "Storage",
            Screen::Usage => "Usage",
            Screen::Settings => "Settings",
            Screen::Account => "Account",
        }
    }

    /// The heading at the top of the screen.
    pub fn heading(self) -> &'static str {
        match self {
            Screen::Projects => "Projects",
            Screen::Agents => "Agents",
            Screen::Mcp => "MCP servers",
            Screen::ClaudeConfig => "Claude Code configuration",
            Screen::Storage => "Storage",
            Screen::Usage => "Usage",
            Screen::Settings => "Settings",
            Screen::Account => "Account",
        }
    }

    /// A glyph drawn before the label (in egui's default fonts).
    pub fn icon(self) -> &'static str {
        match self {
            Screen::Projects => "🗀",
            Screen::Agents => "🛠",
            Screen::Mcp => "🔌",
            Screen::ClaudeConfig => "📝",
            Screen::Storage => "🗄",
            Screen::Usage => "📊",
            Screen::Settings => "⚙",
            Screen::Account => "👤",
        }
    }

    /// The key stored in `app_settings` and accepted by `--screen`.
    pub fn key(self) -> &'static str {
        match self {
            Screen::Projects => "projects",
            Screen::Agents => "agents",
            Screen::Mcp => "mcp",
            Screen::ClaudeConfig => "claude-config",
            Screen::Storage => "storage",
            Screen::Usage => "usage",
            Screen::Settings => "settings",
            Screen::Account => "account",
        }
    }

    /// Parses [`Screen::key`].
    pub fn from_key(key: &str) -> Option<Screen> {
        Screen::ALL.into_iter().find(|screen| screen.key() == key)
    }

    /// The number key that, with Ctrl (Cmd on macOS), opens this screen.
    pub fn shortcut(self) -> egui::KeyboardShortcut {
        let key = match self {
            Screen::Projects => egui::Key::Num1,
            Screen::Agents => egui::Key::Num2,
            Screen::Mcp => egui::Key::Num3,
            Screen::Storage => egui::Key::Num4,
            Screen::Usage => egui::Key::Num5,
            Screen::Settings => egui::Key::Num6,
            Screen::Account => egui::Key::Num7,
            Screen::ClaudeConfig => egui::Key::Num8,
        };
        egui::KeyboardShortcut::new(egui::Modifiers::COMMAND, key)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_and_shortcuts_are_distinct() {
        let mut shortcuts = std::collections::HashSet::new();
        for screen in Screen::ALL {
            assert_eq!(Screen::from_key(screen.key()), Some(screen));
            assert!(shortcuts.insert(format!("{:?}", screen.shortcut())));
        }
        assert_eq!(Screen::from_key("nope"), None);
    }
}
