//! Reading a session's transcript a page at a time, so a large file is never loaded whole.

use std::fs::File;
use std::io::{BufReader, Seek, SeekFrom};
use std::path::{Component, Path};
use std::sync::Arc;

use serde::{Serialize, Serializer};

use super::line::{Line, LineMeta};
use crate::domain::claude::stream::{ParsedLine, StreamMessage, parse_line};
use crate::util::lines::{CappedLines, MAX_JSON_LINE, Piece};

/// Lines of one file from a byte offset, each already read for what the conversation shows (parsed
/// where the page is read, so whoever shows it only appends).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SessionPage {
    /// The file, relative to `projects/`.
    pub file: String,
    pub offset: u64,
    /// Where the next page starts.
    pub next_offset: u64,
    pub file_size: u64,
    /// The page's non-blank lines, in order (not valid UTF-8: replacement characters are kept).
    pub lines: Vec<PageLine>,
    pub eof: bool,
}

/// One line of a transcript page: its text and what it adds to the conversation. Serialized as its text.
#[derive(Debug, Clone, PartialEq)]
pub struct PageLine {
    /// The line as written (without its newline); shared with whatever keeps it for copying.
    pub raw: Arc<str>,
    pub content: LineContent,
}

/// What a transcript line adds to a read-only conversation.
#[derive(Debug, Clone, PartialEq)]
pub enum LineContent {
    /// A prompt the person typed.
    Prompt(String),
    /// A message of Claude's stream (text, thinking, tool calls and their results, ...).
    Message(StreamMessage),
    /// Not a JSON object: nothing to show.
    Nothing,
}

impl PageLine {
    /// Reads one line: a prompt the person typed, else whatever message it holds.
    pub fn parse(text: &str) -> Self {
        let content = match super::line::parse(text) {
            Line::Facts {
                meta: LineMeta {
                    prompt: Some(prompt), ..
                },
                ..
            } => LineContent::Prompt(prompt),
            _ => match parse_line(text) {
                ParsedLine::Message(message) => LineContent::Message(message),
                ParsedLine::Blank | ParsedLine::Garbage(_) => LineContent::Nothing,
            },
        };
        PageLine {
            raw: Arc::from(text),
            content,
        }
    }
}

impl Serialize for PageLine {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.raw)
    }
}

/// Why a page could not be read.
#[derive(Debug, thiserror::Error)]
pub enum PageError {
    #[error("{0} is not a transcript under the projects folder")]
    Outside(String),
    #[error("cannot read {path}: {source}")]
    Io { path: String, source: std::io::Error },
}

/// Reads up to `max_lines` complete lines of `file` (relative to `root`) from `offset`.
pub fn read(root: &Path, file: &str, offset: u64, max_lines: usize) -> Result<SessionPage, PageError> {
    let relative = Path::new(file);
    let safe = relative.components().all(|c| matches!(c, Component::Normal(_)))
        && relative.extension().and_then(|e| e.to_str()) == Some("jsonl");
    if !safe {
        return Err(PageError::Outside(file.to_string()));
    }
    let path = root.join(relative);
    let io = |source| PageError::Io {
        path: path.display().to_string(),
        source,
    };
    let mut handle = File::open(&path).map_err(io)?;
    let file_size = handle.metadata().map_err(io)?.len();
    let offset = offset.min(file_size);
    handle.seek(SeekFrom::Start(offset)).map_err(io)?;
    let mut reader = BufReader::new(handle);
    let mut lines = Vec::new();
    let mut position = offset;
    let mut reader_lines = CappedLines::new(MAX_JSON_LINE);
    while lines.len() < max_lines.max(1) {
        let Some(piece) = reader_lines.next(&mut reader).map_err(io)? else {
            break;
        };
        position += piece.len();
        match piece {
            Piece::Line { bytes, .. } => {
                let text = String::from_utf8_lossy(bytes);
                let text = text.trim_end_matches(['\n', '\r']);
                if !text.trim().is_empty() {
                    lines.push(PageLine::parse(text));
                }
            }
            // Not held in memory: shown as what it is.
            Piece::TooLong { bytes, .. } => lines.push(PageLine {
                raw: Arc::from(
                    format!(
                        "(a line of {} not shown: longer than any transcript record)",
                        crate::util::fmt::bytes(bytes)
                    )
                    .as_str(),
                ),
                content: LineContent::Nothing,
            }),
        }
    }
    Ok(SessionPage {
        file: file.to_string(),
        offset,
        next_offset: position,
        file_size,
        lines,
        eof: position >= file_size,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn pages_cover_the_file_and_refuse_escapes() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("p")).unwrap();
        let body: String = (0..10).map(|i| format!("{{\"n\":{i}}}\n")).collect();
        std::fs::write(dir.path().join("p/s.jsonl"), &body).unwrap();
        let first = read(dir.path(), "p/s.jsonl", 0, 4).unwrap();
        assert_eq!(first.lines.len(), 4);
        assert!(!first.eof);
        let mut offset = first.next_offset;
        let mut all: Vec<Arc<str>> = first.lines.into_iter().map(|l| l.raw).collect();
        loop {
            let page = read(dir.path(), "p/s.jsonl", offset, 4).unwrap();
            all.extend(page.lines.into_iter().map(|l| l.raw));
            offset = page.next_offset;
            if page.eof {
                break;
            }
        }
        assert_eq!(all.len(), 10);
        assert_eq!(&*all[9], "{\"n\":9}");
        assert!(matches!(
            read(dir.path(), "../x.jsonl", 0, 1),
            Err(PageError::Outside(_))
        ));
        assert!(matches!(
            read(dir.path(), "/etc/passwd", 0, 1),
            Err(PageError::Outside(_))
        ));
        assert!(matches!(
            read(dir.path(), "p/none.jsonl", 0, 1),
            Err(PageError::Io { .. })
        ));
    }
}
