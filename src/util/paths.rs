//! Where ANYON keeps its files.
//!
//! The data directory follows the platform's conventions (the `directories` crate:
//! `~/.local/share/anyon` on Linux, `~/Library/Application Support/dev.anyon.anyon` on macOS,
//! `%APPDATA%\anyon\anyon\data` on Windows) and is overridden by `ANYON_HOME`.

use std::path::{Path, PathBuf};

/// Environment variable that moves every file ANYON writes.
pub const ANYON_HOME_ENV: &str = "ANYON_HOME";

/// The resolved locations of ANYON's own files.
#[derive(Debug, Clone)]
pub struct DataPaths {
    root: PathBuf,
}

impl DataPaths {
    /// Resolves the data directory from `ANYON_HOME` or the platform's conventions.
    pub fn from_env() -> anyhow::Result<Self> {
        if let Some(home) = std::env::var_os(ANYON_HOME_ENV).filter(|v| !v.is_empty()) {
            return Ok(Self::at(PathBuf::from(home)));
        }
        let dirs = directories::ProjectDirs::from("dev", "anyon", "anyon")
            .ok_or_else(|| anyhow::anyhow!("cannot find a home directory for ANYON's data; set {ANYON_HOME_ENV}"))?;
        Ok(Self::at(dirs.data_dir().to_path_buf()))
    }

    /// Uses `root` as the data directory (tests, `ANYON_HOME`).
    pub fn at(root: PathBuf) -> Self {
        Self { root }
    }

    /// Creates the data directory (and its log folder) if missing.
    pub fn ensure(&self) -> std::io::Result<()> {
        std::fs::create_dir_all(self.logs())?;
        restrict_dir(&self.root);
        Ok(())
    }

    /// The data directory itself.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The app's SQLite database.
    pub fn database(&self) -> PathBuf {
        self.root.join("anyon.db")
    }

    /// Rotating log files.
    pub fn logs(&self) -> PathBuf {
        self.root.join("logs")
    }

    /// eframe's window state (size, position, egui memory).
    pub fn window_state(&self) -> PathBuf {
        self.root.join("window.ron")
    }

    /// The single-instance socket.
    pub fn instance_socket(&self) -> PathBuf {
        self.root.join("anyon.sock")
    }
}

/// Where exports go by default: the person's downloads folder, else their home folder; `None` when the
/// platform knows neither.
pub fn downloads_dir() -> Option<PathBuf> {
    let dirs = directories::UserDirs::new()?;
    Some(dirs.download_dir().unwrap_or(dirs.home_dir()).to_path_buf())
}

/// Keeps the data directory private to its owner: it will hold tokens, transcripts and keys.
fn restrict_dir(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Err(error) = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o700)) {
            tracing::warn!(path = %path.display(), %error, "could not restrict the data directory to its owner");
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}
