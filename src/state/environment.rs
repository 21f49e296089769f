//! Where the app runs, as the screens show it: the data folder, whether the database opened, the embedded
//! auth server, Claude's projects folder. The window fills this in at start, so screens look nothing up.

use std::path::PathBuf;

use crate::domain::auth_server::EmbeddedStatus;

/// Facts about this running app that screens show.
#[derive(Debug, Clone, Default)]
pub struct Environment {
    /// ANYON's data folder, its database and its logs.
    pub data_folder: PathBuf,
    pub database: PathBuf,
    pub logs: PathBuf,
    /// Why the database could not be opened, if it could not.
    pub database_error: Option<String>,
    /// The embedded auth server.
    pub auth_server: EmbeddedStatus,
    /// Where Claude's transcripts are read from (None: no home folder).
    pub projects_root: Option<PathBuf>,
}

impl Environment {
    /// Claude's projects folder as the person would type it.
    pub fn projects_folder(&self) -> String {
        self.projects_root
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| "~/.claude/projects".to_string())
    }
}
