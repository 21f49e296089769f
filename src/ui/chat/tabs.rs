//! The chat tabs: which are open, which is shown, and the strip that switches between them.

use egui::{RichText, Sense};

use crate::ui::theme;

/// One open chat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatTab {
    pub id: u64,
    pub title: String,
}

/// The open chats and which one is shown (none: a navigation screen is shown).
#[derive(Debug, Default)]
pub struct ChatTabs {
    tabs: Vec<ChatTab>,
    active: Option<usize>,
    next_id: u64,
}

impl ChatTabs {
    /// Opens a new chat tab and shows it.
    pub fn open(&mut self, title: impl Into<String>) -> u64 {
        self.next_id += 1;
        self.tabs.push(ChatTab {
            id: self.next_id,
            title: title.into(),
        });
        self.active = Some(self.tabs.len() - 1);
        self.next_id
    }

    /// Closes the tab `id`; the neighbour to its right (else left) becomes active if it was.
    pub fn close(&mut self, id: u64) {
        let Some(index) = self.tabs.iter().position(|tab| tab.id == id) else {
            return;
        };
        self.tabs.remove(index);
        self.active = match self.active {
            Some(active) if active == index => {
                if self.tabs.is_empty() {
                    None
                } else {
                    Some(index.min(self.tabs.len() - 1))
                }
            }
            Some(active) if active > index => Some(active - 1),
            other => other,
        };
    }

    /// Closes the shown tab, if any.
    pub fn close_active(&mut self) {
        if let Some(tab) = self.active_tab() {
            let id = tab.id;
            self.close(id);
        }
    }

    /// Shows the next (or previous) tab, wrapping around; from a screen, the first (or last).
    pub fn cycle(&mut self, forward: bool) {
        let count = self.tabs.len();
        if count == 0 {
            return;
        }
        self.active = Some(match (self.active, forward) {
            (Some(index), true) => (index + 1) % count,
            (Some(index), false) => (index + count - 1) % count,
            (None, true) => 0,
            (None, false) => count - 1,
        });
    }

    /// Changes a tab's title (after its first prompt).
    pub fn rename(&mut self, id: u64, title: impl Into<String>) {
        if let Some(tab) = self.tabs.iter_mut().find(|tab| tab.id == id) {
            tab.title = title.into();
        }
    }

    pub fn activate(&mut self, id: u64) {
        self.active = self.tabs.iter().position(|tab| tab.id == id);
    }

    /// Leaves the tabs open but shows a navigation screen.
    pub fn deactivate(&mut self) {
        self.active = None;
    }

    pub fn active_tab(&self) -> Option<&ChatTab> {
        self.active.and_then(|index| self.tabs.get(index))
    }

    pub fn tabs(&self) -> &[ChatTab] {
        &self.tabs
    }
}

/// What the tab strip asks the shell to do.
pub enum TabAction {
    Activate(u64),
    Close(u64),
    New,
}

/// Draws the strip of chat tabs.
pub fn tab_strip_ui(ui: &mut egui::Ui, tabs: &ChatTabs) -> Option<TabAction> {
    let mut action = None;
    let active = tabs.active_tab().map(|tab| tab.id);
    ui.horizontal(|ui| {
        ui.spacing_mut().item_spacing.x = 2.0;
        if tabs.tabs().is_empty() {
            ui.label(RichText::new("No open chats").color(theme::muted(ui.visuals())));
            ui.add_space(8.0);
        }
        for tab in tabs.tabs() {
            let selected = active == Some(tab.id);
            let button = egui::Button::selectable(selected, truncate(&tab.title, 28))
                .min_size(egui::vec2(0.0, theme::TAB_HEIGHT - 4.0))
                .sense(Sense::click());
            let response = ui.add(button).on_hover_text(&tab.title);
            if response.clicked() {
                action = Some(TabAction::Activate(tab.id));
            }
            if response.middle_clicked() {
                action = Some(TabAction::Close(tab.id));
            }
            let close = ui
                .add(egui::Button::new(RichText::new("×").small()).frame(false))
                .on_hover_text(format!("Close {}", tab.title));
            if close.clicked() {
                action = Some(TabAction::Close(tab.id));
            }
            ui.separator();
        }
        let new = ui.button("+ New chat").on_hover_text(format!(
            "Open a new chat ({})",
            crate::ui::widgets::shortcut_text(ui.ctx(), &crate::ui::shortcuts::NEW_TAB)
        ));
        if new.clicked() {
            action = Some(TabAction::New);
        }
    });
    action
}

fn truncate(title: &str, max_chars: usize) -> String {
    if title.chars().count() <= max_chars {
        return title.to_owned();
    }
    let mut cut: String = title.chars().take(max_chars - 1).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn titles(tabs: &ChatTabs) -> Vec<&str> {
        tabs.tabs().iter().map(|t| t.title.as_str()).collect()
    }

    #[test]
    fn closing_and_cycling_keep_a_sensible_active_tab() {
        let mut tabs = ChatTabs::default();
        let a = tabs.open("a");
        let b = tabs.open("b");
        let c = tabs.open("c");
        assert_eq!(tabs.active_tab().map(|t| t.id), Some(c));
        tabs.activate(b);
        tabs.close(b);
        assert_eq!(titles(&tabs), ["a", "c"]);
        assert_eq!(
            tabs.active_tab().map(|t| t.id),
            Some(c),
            "the right neighbour takes over"
        );
        tabs.cycle(true);
        assert_eq!(tabs.active_tab().map(|t| t.id), Some(a), "cycling wraps");
        tabs.cycle(false);
        assert_eq!(tabs.active_tab().map(|t| t.id), Some(c));
        tabs.close(a);
        assert_eq!(
            tabs.active_tab().map(|t| t.id),
            Some(c),
            "closing a tab left of the active one keeps it"
        );
        tabs.close_active();
        assert!(tabs.active_tab().is_none() && tabs.tabs().is_empty());
        tabs.cycle(true);
        assert!(tabs.active_tab().is_none());
    }

    #[test]
    fn long_titles_are_cut() {
        assert_eq!(truncate("short", 10), "short");
        assert_eq!(truncate("a very long conversation title", 10), "a very lo…");
    }
}
