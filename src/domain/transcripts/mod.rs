//! Claude's own history: the transcripts under `$CLAUDE_CONFIG_DIR/projects` (default `~/.claude/projects`).
//!
//! - [`line`]: one JSONL line to the facts ANYON keeps (usage, session metadata), tolerant of every format.
//! - [`layout`]: which session and project a file belongs to, from its place in the tree.
//! - [`prices`]: the model price table (versioned data, editable by the person).
//! - [`report`]: usage counted by ccusage's rules (deduplication, cache tiers, `costUSD`) and grouped by day,
//!   month, session, model and project.
//! - [`blocks`]: 5-hour billing blocks by ccusage's rules, with the active block's burn rate.
//! - [`index`]: the incremental index in the app's SQLite (per file: size, mtime, bytes parsed so far).
//! - [`catalog`]: projects, sessions and the all-time report, built from the index.
//! - [`search`]: full-text search over prompts, answers and tool text (FTS5, kept by the index).
//! - [`snapshot`]: the catalog's first-screen data saved for the next start.
//! - [`watch`]: keeps the index current while the app runs.

pub mod blocks;
pub mod catalog;
pub mod index;
pub mod layout;
pub mod line;
pub mod page;
pub mod prices;
pub mod report;
pub mod requests;
pub mod search;
pub mod snapshot;
pub mod watch;

use std::path::PathBuf;

/// Why a history command (projects, sessions, usage, prices, a transcript page) failed.
#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    #[error(transparent)]
    Index(#[from] index::IndexError),
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
    #[error(transparent)]
    Snapshot(#[from] snapshot::SnapshotError),
    #[error(transparent)]
    Prices(#[from] prices::PriceError),
    #[error(transparent)]
    Page(#[from] page::PageError),
    #[error(transparent)]
    Range(#[from] report::RangeError),
    #[error(transparent)]
    Json(#[from] serde_json::Error),
    #[error(transparent)]
    Csv(#[from] csv::Error),
    #[error("no home folder: set CLAUDE_CONFIG_DIR")]
    NoHome,
    #[error("no projects folder")]
    NoProjectsFolder,
    #[error("no project at {0}")]
    NoProject(String),
    #[error("the project was not recorded")]
    NotRecorded,
    #[error("choose a folder for the project")]
    NoFolderChosen,
    #[error("{} is not an absolute path", .0.display())]
    NotAbsolute(PathBuf),
    #[error("{} is a file, not a folder", .0.display())]
    IsAFile(PathBuf),
    #[error("{} is not a folder", .0.display())]
    NotAFolder(PathBuf),
    #[error("cannot create {}: {source}", path.display())]
    Create { path: PathBuf, source: std::io::Error },
    #[error("cannot open {}: {source}", path.display())]
    Open { path: PathBuf, source: std::io::Error },
    #[error("cannot write {}: {source}", path.display())]
    Write { path: PathBuf, source: std::io::Error },
    #[error("cannot save {}: {source}", path.display())]
    Save { path: PathBuf, source: std::io::Error },
    #[error("cannot remove {}: {source}", path.display())]
    Remove { path: PathBuf, source: std::io::Error },
}

/// Where Claude keeps its transcripts: `$CLAUDE_CONFIG_DIR/projects`, else `~/.claude/projects`.
pub fn projects_root() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("CLAUDE_CONFIG_DIR").filter(|v| !v.is_empty()) {
        return Some(PathBuf::from(dir).join("projects"));
    }
    directories::BaseDirs::new().map(|dirs| dirs.home_dir().join(".claude").join("projects"))
}
