//! What can be asked about a project's files, and what each request answers.

use std::path::PathBuf;
use std::sync::Arc;

use serde::Serialize;

use super::{FileList, Matches};

/// The answers (as JSON: `{"kind": "files", "data": {...}}`).
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", content = "data", rename_all = "snake_case")]
pub enum Reply {
    Files(Arc<FileList>),
    Matches(Matches),
}

crate::requests! {
    /// Every file of the project in `root` (see [`super::list`]).
    ListProjectFiles { pub root: PathBuf } = "list_project_files" => Files(Arc<FileList>);
    /// The at most `limit` files of `files` best matching `query`, best first (see [`super::find`]).
    MatchProjectFiles { pub files: Arc<FileList>, pub query: String, pub limit: usize } = "match_project_files" => Matches(Matches);
}
