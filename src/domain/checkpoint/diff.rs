//! Differences between checkpoints, or between a checkpoint and the working tree: unified diffs
//! per file, binary files named as changed.

use std::collections::BTreeMap;
use std::path::Path;

use rusqlite::Connection;
use serde::Serialize;
use similar::TextDiff;

use super::{Blobs, CheckpointError, FileEntry, present_files, walk};

/// Text files larger than this are compared by hash only.
const MAX_DIFF_BYTES: u64 = 2 * 1024 * 1024;

/// How one file differs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FileDiff {
    pub path: String,
    /// `added`, `removed`, `modified` or `mode`.
    pub change: &'static str,
    pub binary: bool,
    /// The unified diff (empty for binary files).
    pub unified: String,
    pub lines_added: usize,
    pub lines_removed: usize,
}

/// One side of a comparison.
enum Side<'a> {
    Blob(&'a Blobs, &'a FileEntry),
    Disk(&'a Path),
}

fn bytes(side: &Side<'_>) -> Vec<u8> {
    match side {
        Side::Blob(blobs, entry) => entry
            .hash
            .as_deref()
            .and_then(|h| blobs.get(h).ok())
            .unwrap_or_default(),
        Side::Disk(path) => std::fs::read(path).unwrap_or_default(),
    }
}

fn text_diff(path: &str, old: &[u8], new: &[u8]) -> (bool, String, usize, usize) {
    let (Ok(old), Ok(new)) = (std::str::from_utf8(old), std::str::from_utf8(new)) else {
        return (true, String::new(), 0, 0);
    };
    if old.len() as u64 > MAX_DIFF_BYTES
        || new.len() as u64 > MAX_DIFF_BYTES
        || old.contains('\0')
        || new.contains('\0')
    {
        return (true, String::new(), 0, 0);
    }
    let diff = TextDiff::from_lines(old, new);
    let (mut added, mut removed) = (0, 0);
    for change in diff.iter_all_changes() {
        match change.tag() {
            similar::ChangeTag::Insert => added += 1,
            similar::ChangeTag::Delete => removed += 1,
            similar::ChangeTag::Equal => {}
        }
    }
    let unified = diff
        .unified_diff()
        .context_radius(3)
        .header(&format!("a/{path}"), &format!("b/{path}"))
        .to_string();
    (false, unified, added, removed)
}

fn compare(path: &str, old: Option<Side<'_>>, new: Option<Side<'_>>) -> FileDiff {
    let change = match (&old, &new) {
        (None, Some(_)) => "added",
        (Some(_), None) => "removed",
        _ => "modified",
    };
    let old_bytes = old.as_ref().map(bytes).unwrap_or_default();
    let new_bytes = new.as_ref().map(bytes).unwrap_or_default();
    let (binary, unified, lines_added, lines_removed) = text_diff(path, &old_bytes, &new_bytes);
    FileDiff {
        path: path.to_owned(),
        change,
        binary,
        unified,
        lines_added,
        lines_removed,
    }
}

/// What changed from checkpoint `from` to checkpoint `to`.
pub fn between(conn: &Connection, blobs: &Blobs, from: &str, to: &str) -> Result<Vec<FileDiff>, CheckpointError> {
    let old = present_files(conn, from)?;
    let new = present_files(conn, to)?;
    let mut paths: Vec<&String> = old.keys().chain(new.keys()).collect();
    paths.sort();
    paths.dedup();
    let mut diffs = Vec::new();
    for path in paths {
        let (a, b) = (old.get(path), new.get(path));
        match (a, b) {
            (Some(a), Some(b)) if a.hash == b.hash && a.mode == b.mode => {}
            (Some(a), Some(b)) if a.hash == b.hash => diffs.push(FileDiff {
                path: path.clone(),
                change: "mode",
                binary: false,
                unified: format!("mode {:o} -> {:o}\n", a.mode, b.mode),
                lines_added: 0,
                lines_removed: 0,
            }),
            _ => diffs.push(compare(
                path,
                a.map(|e| Side::Blob(blobs, e)),
                b.map(|e| Side::Blob(blobs, e)),
            )),
        }
    }
    Ok(diffs)
}

/// What changed from checkpoint `from` to the project's files now.
pub fn against_working_tree(
    conn: &Connection,
    blobs: &Blobs,
    from: &str,
    project: &Path,
) -> Result<Vec<FileDiff>, CheckpointError> {
    let old = present_files(conn, from)?;
    let now: BTreeMap<String, super::WorkingFile> =
        walk(project).into_iter().map(|f| (f.relative.clone(), f)).collect();
    let mut paths: Vec<&String> = old.keys().chain(now.keys()).collect();
    paths.sort();
    paths.dedup();
    let mut diffs = Vec::new();
    for path in paths {
        let (a, b) = (old.get(path), now.get(path));
        if let (Some(a), Some(b)) = (a, b)
            && a.size == b.size
            && std::fs::read(&b.absolute).is_ok_and(|bytes| Some(super::blobs::hash(&bytes)) == a.hash)
        {
            continue;
        }
        diffs.push(compare(
            path,
            a.map(|e| Side::Blob(blobs, e)),
            b.map(|f| Side::Disk(&f.absolute)),
        ));
    }
    Ok(diffs)
}

/// Files changed and lines added/removed between a parent manifest and new entries.
pub(super) fn change_counts(
    blobs: &Blobs,
    before: &BTreeMap<String, FileEntry>,
    entries: &[FileEntry],
    deleted: usize,
) -> (usize, usize, usize) {
    let (mut files, mut added, mut removed) = (deleted, 0, 0);
    for entry in entries {
        match before.get(&entry.path) {
            Some(old) if old.hash == entry.hash && old.mode == entry.mode => {}
            old => {
                files += 1;
                let old_bytes = old.map(|o| bytes(&Side::Blob(blobs, o))).unwrap_or_default();
                let new_bytes = bytes(&Side::Blob(blobs, entry));
                let (_, _, a, r) = text_diff(&entry.path, &old_bytes, &new_bytes);
                added += a;
                removed += r;
            }
        }
    }
    for old in before.values() {
        if !entries.iter().any(|e| e.path == old.path) {
            let (_, _, _, r) = text_diff(&old.path, &bytes(&Side::Blob(blobs, old)), b"");
            removed += r;
        }
    }
    (files, added, removed)
}

/// One row of a side-by-side view of a unified diff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SideBySide<'a> {
    /// A hunk header (`@@ -a,b +c,d @@`).
    Hunk(&'a str),
    /// A line present on both sides.
    Same(&'a str),
    /// Removed lines on the left beside added lines on the right, paired in order; the shorter side is
    /// padded with None.
    Changed(Option<&'a str>, Option<&'a str>),
}

/// Pairs a unified diff's removed and added lines for a two-column view.
pub fn side_by_side(unified: &str) -> Vec<SideBySide<'_>> {
    let mut rows = Vec::new();
    let (mut removed, mut added): (Vec<&str>, Vec<&str>) = (Vec::new(), Vec::new());
    fn flush<'a>(rows: &mut Vec<SideBySide<'a>>, removed: &mut Vec<&'a str>, added: &mut Vec<&'a str>) {
        for i in 0..removed.len().max(added.len()) {
            rows.push(SideBySide::Changed(removed.get(i).copied(), added.get(i).copied()));
        }
        removed.clear();
        added.clear();
    }
    for line in unified.lines() {
        if line.starts_with("---") || line.starts_with("+++") || line.starts_with('\\') {
            continue;
        }
        if let Some(rest) = line.strip_prefix('-') {
            removed.push(rest);
        } else if let Some(rest) = line.strip_prefix('+') {
            added.push(rest);
        } else {
            flush(&mut rows, &mut removed, &mut added);
            if line.starts_with("@@") {
                rows.push(SideBySide::Hunk(line));
            } else {
                rows.push(SideBySide::Same(line.strip_prefix(' ').unwrap_or(line)));
            }
        }
    }
    flush(&mut rows, &mut removed, &mut added);
    rows
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod side_by_side_tests {
    use super::*;

    #[test]
    fn removed_and_added_lines_pair_up_within_a_hunk() {
        let old = "a\nb\nc\nd\n";
        let new = "a\nB\nB2\nc\n";
        let (_, unified, _, _) = text_diff("f.txt", old.as_bytes(), new.as_bytes());
        let rows = side_by_side(&unified);
        assert!(matches!(rows[0], SideBySide::Hunk(h) if h.starts_with("@@")));
        assert_eq!(
            rows[1..],
            [
                SideBySide::Same("a"),
                SideBySide::Changed(Some("b"), Some("B")),
                SideBySide::Changed(None, Some("B2")),
                SideBySide::Same("c"),
                SideBySide::Changed(Some("d"), None),
            ]
        );
    }
}
