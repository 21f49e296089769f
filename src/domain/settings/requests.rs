//! What can be asked of ANYON's settings, and what each request answers.

use serde::Serialize;

use super::{Setting, Settings};

/// The settings' answers (as JSON: `{"kind": "settings", "data": {...}}`).
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", content = "data", rename_all = "snake_case")]
pub enum Reply {
    Settings(Settings),
    /// The change as it was stored.
    SettingSaved(Setting),
}

crate::requests! {
    /// Every setting, from the rows of `app_settings`.
    LoadSettings = "load_settings" => Settings(Settings);
    /// Validates and stores one change; refused changes leave the table as it was. Ordered: the last
    /// choice wins, and finding Claude again sees a path saved just before it.
    SaveSetting { pub setting: Setting } = "save_setting", ordered => SettingSaved(Setting);
}
