//! The screens. Each reads stores and sends commands through the [`ScreenContext`]; none touches a
//! database, a process or a socket.

pub mod account;
pub mod agents;
pub mod chat;
pub mod claude_config;
pub mod claude_memory;
pub mod credentials;
pub mod mcp;
pub mod palette;
pub mod projects;
pub mod settings;
pub mod shortcuts;
pub mod signin;
pub mod storage;
pub mod theme;
pub mod usage;
pub mod widgets;

use crate::backend::Requests;
use crate::state::Stores;
use crate::state::nav::Screen;

/// What a screen may use while it draws.
pub struct ScreenContext<'a> {
    pub stores: &'a mut Stores,
    pub backend: &'a Requests,
    /// Layout caches of conversations (chat tabs and agent runs).
    pub conversations: &'a mut chat::ChatUiState,
}

/// Draws `screen` into the central area.
pub fn screen_ui(ui: &mut egui::Ui, screen: Screen, cx: &mut ScreenContext<'_>) {
    match screen {
        Screen::Projects => projects::ui(ui, cx),
        Screen::Agents => agents::ui(ui, cx),
        Screen::Mcp => mcp::ui(ui, cx),
        Screen::ClaudeConfig => claude_config::ui(ui, cx),
        Screen::Storage => storage::ui(ui, cx),
        Screen::Usage => usage::ui(ui, cx),
        Screen::Settings => settings::ui(ui, cx),
        Screen::Account => account::ui(ui, cx),
    }
}
