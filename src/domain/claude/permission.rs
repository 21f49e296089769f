//! The Claude CLI's permission modes (`--permission-mode`): a closed set, stored and sent by name.

use serde::{Deserialize, Serialize};

/// How a Claude run asks before it acts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum PermissionMode {
    /// Ask before edits and commands.
    #[default]
    Default,
    AcceptEdits,
    Plan,
    Auto,
    DontAsk,
    BypassPermissions,
}

impl PermissionMode {
    pub const ALL: [PermissionMode; 6] = [
        PermissionMode::Default,
        PermissionMode::AcceptEdits,
        PermissionMode::Plan,
        PermissionMode::Auto,
        PermissionMode::DontAsk,
        PermissionMode::BypassPermissions,
    ];

    /// The name the CLI takes (and ANYON stores).
    pub fn as_str(self) -> &'static str {
        match self {
            PermissionMode::Default => "default",
            PermissionMode::AcceptEdits => "acceptEdits",
            PermissionMode::Plan => "plan",
            PermissionMode::Auto => "auto",
            PermissionMode::DontAsk => "dontAsk",
            PermissionMode::BypassPermissions => "bypassPermissions",
        }
    }

    /// What the mode does, for pickers.
    pub fn label(self) -> &'static str {
        match self {
            PermissionMode::Default => "Ask before edits (default)",
            PermissionMode::AcceptEdits => "Accept edits",
            PermissionMode::Plan => "Plan only",
            PermissionMode::Auto => "Auto",
            PermissionMode::DontAsk => "Don't ask",
            PermissionMode::BypassPermissions => "Bypass permissions",
        }
    }
}

/// A permission mode name the CLI does not have.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown permission mode {0:?} (one of default, acceptEdits, plan, auto, dontAsk, bypassPermissions)")]
pub struct UnknownMode(pub String);

impl std::str::FromStr for PermissionMode {
    type Err = UnknownMode;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        Self::ALL
            .into_iter()
            .find(|mode| mode.as_str() == text)
            .ok_or_else(|| UnknownMode(text.to_owned()))
    }
}

impl TryFrom<String> for PermissionMode {
    type Error = UnknownMode;
    fn try_from(text: String) -> Result<Self, Self::Error> {
        text.parse()
    }
}

impl From<PermissionMode> for String {
    fn from(mode: PermissionMode) -> Self {
        mode.as_str().to_owned()
    }
}

impl std::fmt::Display for PermissionMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl rusqlite::types::FromSql for PermissionMode {
    fn column_result(value: rusqlite::types::ValueRef<'_>) -> rusqlite::types::FromSqlResult<Self> {
        value
            .as_str()?
            .parse()
            .map_err(|error: UnknownMode| rusqlite::types::FromSqlError::Other(Box::new(error)))
    }
}

impl rusqlite::types::ToSql for PermissionMode {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        Ok(self.as_str().into())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn modes_go_by_the_cli_names_and_others_are_refused() {
        for mode in PermissionMode::ALL {
            assert_eq!(mode.as_str().parse::<PermissionMode>(), Ok(mode));
            let json = serde_json::to_string(&mode).unwrap();
            assert_eq!(json, format!("\"{}\"", mode.as_str()));
            assert_eq!(serde_json::from_str::<PermissionMode>(&json).unwrap(), mode);
        }
        assert_eq!(" plan ".parse::<PermissionMode>(), Ok(PermissionMode::Plan));
        assert_eq!("yolo".parse::<PermissionMode>(), Err(UnknownMode("yolo".into())));
        let error = serde_json::from_str::<PermissionMode>("\"yolo\"")
            .unwrap_err()
            .to_string();
        assert!(error.contains("unknown permission mode \"yolo\""), "{error}");
    }
}
