//! The app's own settings as the window knows them: the typed [`Settings`], which screens change only
//! through [`SettingsStore::change`] (shown at once, saved in the background).

use crate::backend::command::RequestId;
use crate::domain::settings::requests::{Reply, SaveSetting};
pub use crate::domain::settings::{Setting, Settings, Theme};
use crate::state::nav::Screen;

/// How egui should draw a theme choice.
pub fn theme_preference(theme: Theme) -> egui::ThemePreference {
    match theme {
        Theme::System => egui::ThemePreference::System,
        Theme::Light => egui::ThemePreference::Light,
        Theme::Dark => egui::ThemePreference::Dark,
    }
}

/// Settings as the window knows them.
#[derive(Debug, Clone, Default)]
pub struct SettingsStore {
    settings: Settings,
}

impl SettingsStore {
    pub fn new(settings: Settings) -> Self {
        Self { settings }
    }

    /// Every setting, as the window shows it.
    pub fn get(&self) -> &Settings {
        &self.settings
    }

    pub fn theme(&self) -> Theme {
        self.settings.theme
    }

    /// The screen open when the window last closed (None: none saved, or a name this version lacks).
    pub fn last_screen(&self) -> Option<Screen> {
        let name = self.settings.last_screen.as_deref()?;
        let screen = Screen::from_key(name);
        if screen.is_none() {
            tracing::warn!(name, "ignoring a saved screen this version does not have");
        }
        screen
    }

    /// Where a new chat, agent run or project-scoped screen starts: the last chat's project, else home.
    pub fn default_project(&self) -> String {
        super::default_project(self.settings.last_project.as_deref())
    }

    /// Changes a setting in the window at once and gives the request that saves it:
    /// `backend.dispatch(stores.settings.change(Setting::Theme(Theme::Dark)))`.
    pub fn change(&mut self, setting: Setting) -> SaveSetting {
        self.settings.apply(&setting);
        SaveSetting { setting }
    }

    /// Applies a completion of the settings' requests.
    pub fn apply_output(&mut self, _request_id: RequestId, reply: &Reply) -> bool {
        match reply {
            Reply::Settings(settings) => {
                self.settings = settings.clone();
                true
            }
            // The window already shows what it saved ([`Self::change`]); applying the echo here would
            // let the echo of an older save undo a newer choice for a frame.
            Reply::SettingSaved(_) => true,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn rows_become_typed_settings_and_bad_values_fall_back() {
        let rows = [("theme", "dark"), ("last_screen", "usage")].map(|(k, v)| (k.to_string(), v.to_string()));
        let store = SettingsStore::new(Settings::from_rows(rows));
        assert_eq!((store.theme(), store.last_screen()), (Theme::Dark, Some(Screen::Usage)));
        let bad = SettingsStore::new(Settings::from_rows([("theme".to_string(), "purple".to_string())]));
        assert_eq!((bad.theme(), bad.last_screen()), (Theme::System, None));
        let unknown = SettingsStore::new(Settings::from_rows([("last_screen".to_string(), "gone".to_string())]));
        assert_eq!(unknown.last_screen(), None);
        let mut store = store;
        let save = store.change(Setting::Theme(Theme::Light));
        assert_eq!(save.setting, Setting::Theme(Theme::Light));
        assert_eq!(store.theme(), Theme::Light, "shown at once");
        assert!(store.apply_output(1, &Reply::SettingSaved(Setting::Theme(Theme::Dark))));
        assert_eq!(
            store.theme(),
            Theme::Light,
            "an echo of an older save does not undo a newer choice"
        );
        assert!(store.apply_output(2, &Reply::Settings(Settings::default())));
        assert_eq!(store.theme(), Theme::System, "a load replaces everything");
    }
}
