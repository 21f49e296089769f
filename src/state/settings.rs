//! The app's own settings (rows of `app_settings`): theme and the screen last open.

use std::collections::BTreeMap;

use crate::backend::command::RequestId;
use crate::backend::event::Output;
use crate::state::nav::Screen;

/// The person's theme choice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ThemeChoice {
    #[default]
    System,
    Light,
    Dark,
}

impl ThemeChoice {
    pub const ALL: [ThemeChoice; 3] = [ThemeChoice::System, ThemeChoice::Light, ThemeChoice::Dark];

    pub fn key(self) -> &'static str {
        match self {
            ThemeChoice::System => "system",
            ThemeChoice::Light => "light",
            ThemeChoice::Dark => "dark",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ThemeChoice::System => "Follow the system",
            ThemeChoice::Light => "Light",
            ThemeChoice::Dark => "Dark",
        }
    }

    pub fn from_key(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|choice| choice.key() == key)
    }

    pub fn preference(self) -> egui::ThemePreference {
        match self {
            ThemeChoice::System => egui::ThemePreference::System,
            ThemeChoice::Light => egui::ThemePreference::Light,
            ThemeChoice::Dark => egui::ThemePreference::Dark,
        }
    }
}

/// Keys of `app_settings` used by the shell.
pub const THEME_KEY: &str = "theme";
pub const LAST_SCREEN_KEY: &str = "last_screen";
/// The project folder the last chat ran in (where a new chat starts).
pub const LAST_PROJECT_KEY: &str = "chat.last_project";

/// Settings as the window knows them.
#[derive(Debug, Clone, Default)]
pub struct SettingsStore {
    pub theme: ThemeChoice,
    pub last_screen: Option<Screen>,
    /// Every row, including keys later features own.
    pub raw: BTreeMap<String, String>,
}

impl SettingsStore {
    /// Builds the store from the rows of `app_settings`; unknown values fall back to defaults.
    pub fn from_rows(rows: BTreeMap<String, String>) -> Self {
        let theme = rows
            .get(THEME_KEY)
            .and_then(|v| ThemeChoice::from_key(v))
            .unwrap_or_default();
        let last_screen = rows.get(LAST_SCREEN_KEY).and_then(|v| Screen::from_key(v));
        Self {
            theme,
            last_screen,
            raw: rows,
        }
    }

    /// Where a new chat, agent run or project-scoped screen starts: the last chat's project, else home.
    pub fn default_project(&self) -> String {
        super::default_project(self.raw.get(LAST_PROJECT_KEY).map(String::as_str))
    }

    /// Applies a completion if it concerns settings.
    pub fn apply_output(&mut self, _request_id: RequestId, output: &Output) -> bool {
        match output {
            Output::Settings(rows) => {
                *self = Self::from_rows(rows.clone());
                true
            }
            // The window already shows what it saved; re-deriving the typed fields here would let
            // the echo of an older save undo a newer choice for a frame.
            Output::SettingSaved { key, value } => {
                self.raw.insert(key.clone(), value.clone());
                true
            }
            _ => false,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn rows_become_typed_settings_and_bad_values_fall_back() {
        let rows = BTreeMap::from([
            (THEME_KEY.to_string(), "dark".to_string()),
            (LAST_SCREEN_KEY.to_string(), "usage".to_string()),
        ]);
        let store = SettingsStore::from_rows(rows);
        assert_eq!(
            (store.theme, store.last_screen),
            (ThemeChoice::Dark, Some(Screen::Usage))
        );
        let bad = SettingsStore::from_rows(BTreeMap::from([(THEME_KEY.to_string(), "purple".to_string())]));
        assert_eq!((bad.theme, bad.last_screen), (ThemeChoice::System, None));
        let mut store = store;
        store.theme = ThemeChoice::Light;
        assert!(store.apply_output(
            1,
            &Output::SettingSaved {
                key: THEME_KEY.into(),
                value: "dark".into()
            }
        ));
        assert_eq!(
            store.theme,
            ThemeChoice::Light,
            "an echo of an older save does not undo a newer choice"
        );
        assert_eq!(store.raw.get(THEME_KEY).map(String::as_str), Some("dark"));
    }
}
