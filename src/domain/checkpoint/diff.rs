//! Differences between checkpoints, or between a checkpoint and the working tree: unified diffs
//! per file, binary files named as changed.

use std::collections::{BTreeMap, HashMap};
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
    /// `unified` split into the rows a screen draws, found once when the diff is made (see
    /// [`FileDiff::inline_rows`] and [`FileDiff::side_by_side_rows`]).
    #[serde(skip)]
    rows: Rows,
}

impl FileDiff {
    pub fn new(
        path: String,
        change: &'static str,
        binary: bool,
        unified: String,
        lines_added: usize,
        lines_removed: usize,
    ) -> Self {
        let rows = Rows::of(&unified);
        FileDiff {
            path,
            change,
            binary,
            unified,
            lines_added,
            lines_removed,
            rows,
        }
    }

    /// Each line of the unified diff with how it is tinted.
    pub fn inline_rows(&self) -> impl ExactSizeIterator<Item = (&str, Tone)> + '_ {
        self.rows.inline.iter().map(|(span, tone)| (self.text(*span), *tone))
    }

    /// The rows of a two-column view (as [`side_by_side`] pairs them).
    pub fn side_by_side_rows(&self) -> impl ExactSizeIterator<Item = SideBySide<'_>> + '_ {
        self.rows.side.iter().map(|row| row.resolve(&self.unified))
    }

    fn text(&self, span: Span) -> &str {
        span.of(&self.unified)
    }
}

/// How a line of a unified diff is tinted when shown inline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    Added,
    Removed,
    Plain,
}

/// A line (or part of one) of a unified diff, by its bytes in the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Span {
    start: usize,
    end: usize,
}

impl Span {
    fn of(self, text: &str) -> &str {
        text.get(self.start..self.end).unwrap_or("")
    }

    /// The span without its first `bytes` bytes.
    fn skip(self, bytes: usize) -> Span {
        Span {
            start: (self.start + bytes).min(self.end),
            end: self.end,
        }
    }
}

/// A [`SideBySide`] row by spans of the unified text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SideSpan {
    Hunk(Span),
    Same(Span),
    Changed(Option<Span>, Option<Span>),
}

impl SideSpan {
    fn resolve(self, text: &str) -> SideBySide<'_> {
        match self {
            SideSpan::Hunk(span) => SideBySide::Hunk(span.of(text)),
            SideSpan::Same(span) => SideBySide::Same(span.of(text)),
            SideSpan::Changed(old, new) => SideBySide::Changed(old.map(|s| s.of(text)), new.map(|s| s.of(text))),
        }
    }
}

/// The rows of both views of a unified diff.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Rows {
    inline: Vec<(Span, Tone)>,
    side: Vec<SideSpan>,
}

impl Rows {
    fn of(unified: &str) -> Self {
        let inline = line_spans(unified)
            .map(|span| {
                let line = span.of(unified);
                let tone = if line.starts_with('+') && !line.starts_with("+++") {
                    Tone::Added
                } else if line.starts_with('-') && !line.starts_with("---") {
                    Tone::Removed
                } else {
                    Tone::Plain
                };
                (span, tone)
            })
            .collect();
        Rows {
            inline,
            side: side_spans(unified),
        }
    }
}

/// The lines of `text` as [`str::lines`] splits them (`\n` or `\r\n` endings, the last one optional).
fn line_spans(text: &str) -> impl Iterator<Item = Span> + '_ {
    let mut start = 0;
    text.split_inclusive('\n').map(move |piece| {
        let begin = start;
        start += piece.len();
        let line = match piece.strip_suffix('\n') {
            Some(line) => line.strip_suffix('\r').unwrap_or(line),
            None => piece,
        };
        Span {
            start: begin,
            end: begin + line.len(),
        }
    })
}

/// One side of a comparison.
enum Side<'a> {
    Blob(&'a Blobs, &'a FileEntry),
    Disk(&'a Path),
}

/// How large one side is, without reading it.
fn size(side: &Side<'_>) -> u64 {
    match side {
        Side::Blob(_, entry) => entry.size,
        Side::Disk(path) => std::fs::metadata(path).map_or(0, |m| m.len()),
    }
}

/// A side's bytes, or None when it is too large to compare as text (it is then never read whole).
fn small_bytes(side: &Side<'_>) -> Option<Vec<u8>> {
    (size(side) <= MAX_DIFF_BYTES).then(|| bytes(side))
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
    let old_bytes = old.as_ref().map_or(Some(Vec::new()), small_bytes);
    let new_bytes = new.as_ref().map_or(Some(Vec::new()), small_bytes);
    let (binary, unified, lines_added, lines_removed) = match (old_bytes, new_bytes) {
        (Some(old), Some(new)) => text_diff(path, &old, &new),
        // Too large for a text diff: named as changed, like a binary file.
        _ => (true, String::new(), 0, 0),
    };
    FileDiff::new(path.to_owned(), change, binary, unified, lines_added, lines_removed)
}

/// What changed from checkpoint `from` to checkpoint `to` (equal folders are skipped unread).
pub fn between(conn: &Connection, blobs: &Blobs, from: &str, to: &str) -> Result<Vec<FileDiff>, CheckpointError> {
    let old = super::snapshot(conn, from)?;
    let new = super::snapshot(conn, to)?;
    let mut diffs = Vec::new();
    for (path, a, b) in super::changes(conn, Some(&old), &new)? {
        match (&a, &b) {
            (Some(a), Some(b)) if a.hash == b.hash => diffs.push(FileDiff::new(
                path,
                "mode",
                false,
                format!("mode {:o} -> {:o}\n", a.mode, b.mode),
                0,
                0,
            )),
            _ => diffs.push(compare(
                &path,
                a.as_ref().map(|e| Side::Blob(blobs, e)),
                b.as_ref().map(|e| Side::Blob(blobs, e)),
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
    super::get_for(conn, from, project)?;
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
            && super::blobs::hash_file(&b.absolute).ok() == a.hash
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

/// The lines of a new file as a diff against nothing counts them, or None when it would not be diffed
/// as text (not UTF-8, a NUL byte, too large).
pub(super) fn text_lines(bytes: &[u8]) -> Option<usize> {
    let text = std::str::from_utf8(bytes).ok()?;
    if text.len() as u64 > MAX_DIFF_BYTES || text.contains('\0') {
        return None;
    }
    Some(text.matches('\n').count() + usize::from(!text.is_empty() && !text.ends_with('\n')))
}

/// Files changed and lines added/removed by `changes`. `lines_read` holds the line counts of contents
/// just read (by hash), so an added file is not read back from the store.
pub(super) fn change_counts(
    blobs: &Blobs,
    changes: &[super::tree::Change],
    lines_read: &HashMap<String, usize>,
) -> (usize, usize, usize) {
    let (mut added, mut removed) = (0, 0);
    for (path, old, new) in changes {
        if let (None, Some(new)) = (old, new)
            && let Some(lines) = new.hash.as_ref().and_then(|h| lines_read.get(h))
        {
            added += lines;
            continue;
        }
        let old_bytes = old
            .as_ref()
            .map_or(Some(Vec::new()), |o| small_bytes(&Side::Blob(blobs, o)));
        let new_bytes = new
            .as_ref()
            .map_or(Some(Vec::new()), |n| small_bytes(&Side::Blob(blobs, n)));
        if let (Some(old_bytes), Some(new_bytes)) = (old_bytes, new_bytes) {
            let (_, _, a, r) = text_diff(path, &old_bytes, &new_bytes);
            added += a;
            removed += r;
        }
    }
    (changes.len(), added, removed)
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
    side_spans(unified)
        .into_iter()
        .map(|row| row.resolve(unified))
        .collect()
}

fn side_spans(unified: &str) -> Vec<SideSpan> {
    let mut rows = Vec::new();
    let (mut removed, mut added): (Vec<Span>, Vec<Span>) = (Vec::new(), Vec::new());
    fn flush(rows: &mut Vec<SideSpan>, removed: &mut Vec<Span>, added: &mut Vec<Span>) {
        for i in 0..removed.len().max(added.len()) {
            rows.push(SideSpan::Changed(removed.get(i).copied(), added.get(i).copied()));
        }
        removed.clear();
        added.clear();
    }
    for span in line_spans(unified) {
        let line = span.of(unified);
        if line.starts_with("---") || line.starts_with("+++") || line.starts_with('\\') {
            continue;
        }
        if line.starts_with('-') {
            removed.push(span.skip(1));
        } else if line.starts_with('+') {
            added.push(span.skip(1));
        } else {
            flush(&mut rows, &mut removed, &mut added);
            if line.starts_with("@@") {
                rows.push(SideSpan::Hunk(span));
            } else if line.starts_with(' ') {
                rows.push(SideSpan::Same(span.skip(1)));
            } else {
                rows.push(SideSpan::Same(span));
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
    fn a_new_files_lines_count_as_a_diff_against_nothing_counts_them() {
        for text in ["", "a", "a\n", "a\nb", "a\r\nb\r\n", "\n\n\n", "x\ny\nz\n"] {
            let (_, _, added, _) = text_diff("f", b"", text.as_bytes());
            assert_eq!(text_lines(text.as_bytes()), Some(added), "{text:?}");
        }
        assert_eq!(text_lines(b"a\0b"), None);
        assert_eq!(text_lines(&[0xff, 0xfe]), None);
    }

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

    #[test]
    fn rows_are_found_once_and_read_as_the_text_says() {
        let old = "keep\r\nold\r\n--- not a header\r\nlast";
        let new = "keep\r\nnew\r\n+++ not a header\r\nlast\\";
        let (_, unified, added, removed) = text_diff("f.txt", old.as_bytes(), new.as_bytes());
        let diff = FileDiff::new("f.txt".into(), "modified", false, unified.clone(), added, removed);
        let inline: Vec<(&str, Tone)> = diff.inline_rows().collect();
        assert_eq!(
            inline.iter().map(|(l, _)| *l).collect::<Vec<_>>(),
            unified.lines().collect::<Vec<_>>()
        );
        for (line, tone) in inline {
            let expected = if line.starts_with('+') && !line.starts_with("+++") {
                Tone::Added
            } else if line.starts_with('-') && !line.starts_with("---") {
                Tone::Removed
            } else {
                Tone::Plain
            };
            assert_eq!(tone, expected, "{line:?}");
        }
        assert!(diff.inline_rows().any(|(_, tone)| tone == Tone::Added));
        assert_eq!(diff.side_by_side_rows().collect::<Vec<_>>(), side_by_side(&unified));
        let mode = FileDiff::new("m".into(), "mode", false, "mode 644 -> 755\n".into(), 0, 0);
        assert_eq!(
            mode.inline_rows().collect::<Vec<_>>(),
            [("mode 644 -> 755", Tone::Plain)]
        );
        assert_eq!(
            mode.side_by_side_rows().collect::<Vec<_>>(),
            [SideBySide::Same("mode 644 -> 755")]
        );
        let binary = FileDiff::new("b".into(), "added", true, String::new(), 0, 0);
        assert_eq!(binary.inline_rows().len(), 0);
        assert_eq!(binary.side_by_side_rows().len(), 0);
    }
}
