//! Which session and project a transcript file belongs to, from its path under `projects/`.
//!
//! The rules are ccusage's, so that per-session reports agree with it:
//! - `<project>/<session>.jsonl`: the session is the file stem.
//! - `<project>/<session>/subagents/agent-<id>.jsonl`: a subagent of `<session>` (CLI 2.1.x).
//! - `<project>/.../<dir>/<file>.jsonl`: the session is the file's folder, the project the path above it.
//! - a file directly in `projects/` belongs to no project and is not counted.

use std::path::Path;

/// Where one transcript file sits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilePlace {
    /// The project folder, relative to `projects/` (one component for Claude's own layout).
    pub project_dir: String,
    /// The session the file's usage is counted under.
    pub session_id: String,
    /// A subagent's transcript (its own file), attached to `session_id`.
    pub subagent: bool,
}

/// Places `relative` (a path under `projects/`, with `/` or the platform separator). None for files
/// that belong to no project (directly in `projects/`) or are not `.jsonl`.
pub fn place(relative: &Path) -> Option<FilePlace> {
    if relative.extension().and_then(|e| e.to_str()) != Some("jsonl") {
        return None;
    }
    let parts: Vec<String> = relative
        .components()
        .filter_map(|c| match c {
            std::path::Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
            _ => None,
        })
        .collect();
    if parts.len() < 2 {
        return None;
    }
    let file = &parts[parts.len() - 1];
    let stem = file.strip_suffix(".jsonl").unwrap_or(file).to_string();
    if parts.len() == 2 {
        // `<project>/agent-<hex>.jsonl` (CLI 2.0 and older) is a subagent whose session is named inside it.
        return Some(FilePlace {
            project_dir: parts[0].clone(),
            subagent: stem.starts_with("agent-"),
            session_id: stem,
        });
    }
    let dirs = &parts[..parts.len() - 1];
    if dirs.len() >= 3 && dirs[dirs.len() - 1] == "subagents" {
        return Some(FilePlace {
            project_dir: dirs[..dirs.len() - 2].join("/"),
            session_id: dirs[dirs.len() - 2].clone(),
            subagent: true,
        });
    }
    Some(FilePlace {
        project_dir: dirs[..dirs.len() - 1].join("/"),
        session_id: dirs[dirs.len() - 1].clone(),
        subagent: false,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn at(path: &str) -> Option<(String, String, bool)> {
        place(Path::new(path)).map(|p| (p.project_dir, p.session_id, p.subagent))
    }

    #[test]
    fn claude_layouts() {
        assert_eq!(at("-home-a/1234.jsonl"), Some(("-home-a".into(), "1234".into(), false)));
        assert_eq!(
            at("-home-a/1234/subagents/agent-a1.jsonl"),
            Some(("-home-a".into(), "1234".into(), true))
        );
        assert_eq!(
            at("-home-a/agent-ff.jsonl"),
            Some(("-home-a".into(), "agent-ff".into(), true))
        );
        assert_eq!(at("a/b/c/d.jsonl"), Some(("a/b".into(), "c".into(), false)));
        assert_eq!(at("a/u2/x/y.jsonl"), Some(("a/u2".into(), "x".into(), false)));
        assert_eq!(at("top.jsonl"), None);
        assert_eq!(at("-home-a/1234.meta.json"), None);
    }
}
