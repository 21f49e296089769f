//! A resumed chat tab's conversation so far, read from Claude's transcript a page at a time (off the
//! UI thread, by the backend) and folded into the tab before any new turn.

use crate::backend::command::RequestId;
use crate::domain::transcripts::page::SessionPage;

/// Lines asked for per page while a resumed tab reads its conversation so far.
pub const EARLIER_PAGE_LINES: usize = 1_000;

/// Where reading a resumed session's transcript stands.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EarlierMessages {
    /// The transcript file, relative to Claude's `projects/` folder.
    pub file: String,
    pub next_offset: u64,
    pub file_size: u64,
    pub lines_read: usize,
    pub eof: bool,
    /// The page asked for and not yet answered.
    pub pending: Option<RequestId>,
    /// Why reading stopped early (the tab says so; new prompts go out regardless).
    pub error: Option<String>,
}

impl EarlierMessages {
    pub fn new(file: impl Into<String>) -> Self {
        Self {
            file: file.into(),
            ..Self::default()
        }
    }

    /// Still reading: prompts wait in the queue so the new turns come after the earlier ones.
    pub fn loading(&self) -> bool {
        !self.eof && self.error.is_none()
    }

    /// The next page to ask for (file, offset), when one is due.
    pub fn next_page(&self) -> Option<(String, u64)> {
        (self.loading() && self.pending.is_none()).then(|| (self.file.clone(), self.next_offset))
    }

    /// Moves on past `page` (the answer to the pending request); false when it is not the page that was
    /// due (another file, another offset), which then adds nothing.
    pub(super) fn advance(&mut self, page: &SessionPage) -> bool {
        self.pending = None;
        if page.file != self.file || page.offset != self.next_offset {
            return false;
        }
        self.next_offset = page.next_offset;
        self.file_size = page.file_size;
        self.lines_read += page.lines.len();
        // A page that moved nothing on would be asked for forever.
        self.eof = page.eof || page.next_offset <= page.offset;
        true
    }

    /// The share of the file read, 0..=1, for the progress line.
    pub fn fraction(&self) -> f32 {
        if self.file_size == 0 {
            0.0
        } else {
            (self.next_offset as f64 / self.file_size as f64).clamp(0.0, 1.0) as f32
        }
    }
}
