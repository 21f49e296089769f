//! What the Projects and Usage screens show: the transcript catalog the backend pushes, the scan's
//! progress, the usage report for the chosen range, the price table, and a session opened read-only.

use std::sync::Arc;

use crate::backend::command::RequestId;
use crate::domain::transcripts::catalog::{Catalog, SessionSummary};
use crate::domain::transcripts::index::Progress;
use crate::domain::transcripts::page::SessionPage;
use crate::domain::transcripts::prices::PriceTable;
use crate::domain::transcripts::report::Report;
use crate::domain::transcripts::requests::{Blocks, Prices, Reply};
use crate::domain::transcripts::search::SearchResult;

use super::{ChatSession, Requested, SessionRows};

/// Lines read per page when a session is opened read-only.
pub const PAGE_LINES: usize = 400;

/// The grouping the Usage screen's table shows.
pub use crate::domain::transcripts::report::Grouping as UsageTab;

/// A session opened read-only: its files are read page by page, never whole.
#[derive(Debug, Clone, Default)]
pub struct SessionViewer {
    pub session: Option<SessionSummary>,
    /// Which of the session's files is shown (its own first, then subagents).
    pub file: String,
    /// Lines read so far (their text is kept by `view`, for the messages it shows).
    pub lines_read: usize,
    pub next_offset: u64,
    pub file_size: u64,
    pub eof: bool,
    pub pending: Option<RequestId>,
    pub error: Option<String>,
    /// Bumped whenever lines are read or the file changes.
    pub generation: u64,
    /// Where in `file` reading began (a search hit's message); 0 from the start.
    pub opened_at: u64,
    /// The conversation as the chat view draws it, built from the lines read so far.
    pub view: ChatSession,
    /// The index changed since `session` was read: read it again (it may have grown).
    pub session_stale: bool,
    /// The session asked for again.
    pub refreshing: Option<RequestId>,
}

impl SessionViewer {
    pub fn open(session: SessionSummary) -> Self {
        let file = session.files.first().cloned().unwrap_or_default();
        let project = session.cwd.clone().unwrap_or_default();
        SessionViewer {
            view: ChatSession::new(session.title.clone(), project),
            session: Some(session),
            file,
            ..Default::default()
        }
    }

    /// Opens `session` at the line starting at `offset` of `file` (a search hit).
    pub fn open_at(session: SessionSummary, file: String, offset: u64) -> Self {
        let mut viewer = Self::open(session);
        viewer.file = file;
        viewer.next_offset = offset;
        viewer.opened_at = offset;
        viewer
    }

    /// Shows another of the session's files from its start.
    pub fn switch_file(&mut self, file: String) {
        self.file = file;
        self.lines_read = 0;
        self.next_offset = 0;
        self.opened_at = 0;
        self.file_size = 0;
        self.eof = false;
        self.pending = None;
        self.error = None;
        self.generation += 1;
        let (title, project) = (self.view.title.clone(), self.view.project.clone());
        self.view = ChatSession::new(title, project);
    }

    /// Whether another page should be asked for.
    pub fn wants_more(&self) -> bool {
        !self.eof && self.pending.is_none() && self.error.is_none() && !self.file.is_empty()
    }

    fn apply_page(&mut self, page: &SessionPage) {
        if page.file != self.file || page.offset != self.next_offset {
            return;
        }
        for line in &page.lines {
            self.view.apply_transcript_line(line);
        }
        self.lines_read += page.lines.len();
        self.next_offset = page.next_offset;
        self.file_size = page.file_size;
        self.eof = page.eof;
        self.generation += 1;
    }
}

/// A chat tab the Projects screen asks the window to open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenChat {
    pub title: String,
    pub project: String,
    /// The session to resume; None for a new conversation.
    pub resume: Option<String>,
    /// The resumed session's transcript (relative to `projects/`), whose conversation so far the tab shows.
    pub transcript: Option<String>,
}

/// The transcript-backed state of the window.
#[derive(Debug, Default)]
pub struct TranscriptsStore {
    /// The latest catalog the backend pushed.
    pub catalog: Option<Arc<Catalog>>,
    /// The running scan's progress, until the next catalog arrives.
    pub progress: Option<Progress>,
    pub project_search: String,
    pub session_search: String,
    /// The selected project's folder under `projects/`, or its path when it has no folder yet.
    pub selected_project: Option<String>,
    /// The folder typed into "New project".
    pub new_project_path: String,
    pub creating: Option<RequestId>,
    pub viewer: Option<SessionViewer>,
    /// The usage report for the Usage screen's range.
    pub usage: Requested<Arc<Report>>,
    /// The report asked for carries the sessions grouping (only while its tab is shown).
    pub usage_sessions: bool,
    /// The selected project's sessions, a page at a time.
    pub session_rows: SessionRows,
    /// False when the report should be asked for again (range changed, catalog changed).
    pub usage_current: bool,
    pub usage_since: String,
    pub usage_until: String,
    pub usage_zone: String,
    pub usage_tab: UsageTab,
    /// The 5-hour blocks view is shown instead of the table.
    pub show_blocks: bool,
    /// The 5-hour billing blocks over the Usage screen's range.
    pub blocks: Requested<Arc<Blocks>>,
    /// False when the blocks should be asked for again (range or catalog changed, or a minute passed).
    pub blocks_current: bool,
    /// When the blocks were last asked for (the active block's time left moves on).
    pub blocks_asked: Option<std::time::Instant>,
    pub usage_filter: String,
    /// The price table in use and whether it is the person's own.
    pub prices: Requested<(PriceTable, bool)>,
    /// The price table's JSON while the person edits it.
    pub price_editor: Option<String>,
    pub price_error: Option<String>,
    pub saving_prices: Option<RequestId>,
    /// A chat tab to open after this frame.
    pub open_chat: Option<OpenChat>,
    /// The folder usage exports are written to (typed by the person).
    pub export_dir: String,
    pub exporting: Option<RequestId>,
    /// Words searched in every session's prompts and answers.
    pub text_search: String,
    /// Search the selected project only (else every project).
    pub search_this_project: bool,
    /// Leave tool inputs and results out of the search.
    pub search_without_tools: bool,
    pub search_results: Requested<Vec<SearchResult>>,
    /// The search the results answer (words, project, tools): another one is sent when it changes.
    pub searched: Option<SearchAsked>,
}

/// A full-text search as sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchAsked {
    pub words: String,
    pub project: Option<String>,
    pub tools: bool,
}

impl TranscriptsStore {
    pub fn apply_catalog(&mut self, catalog: Arc<Catalog>) {
        self.catalog = Some(catalog);
        self.progress = None;
        self.usage_current = false;
        self.blocks_current = false;
        self.session_rows.catalog_changed();
        if let Some(viewer) = &mut self.viewer {
            viewer.session_stale = viewer.session.is_some();
        }
    }

    pub fn apply_progress(&mut self, progress: Progress) {
        self.progress = Some(progress);
    }

    /// Takes the answers addressed to this store; false when `output` is someone else's.
    pub fn apply_output(&mut self, request_id: RequestId, output: &Reply) -> bool {
        match output {
            Reply::Usage(report) => self.usage.finish(request_id, report.clone()),
            Reply::SearchResults(results) => self.search_results.finish(request_id, results.clone()),
            Reply::Blocks(blocks) => self.blocks.finish(request_id, blocks.clone()),
            Reply::Prices(Prices { table, custom }) => {
                if self.saving_prices == Some(request_id) {
                    self.saving_prices = None;
                    self.price_editor = None;
                    self.price_error = None;
                    self.usage_current = false;
                    self.blocks_current = false;
                    self.prices.replace((table.clone(), *custom));
                    return true;
                }
                self.prices.finish(request_id, (table.clone(), *custom))
            }
            Reply::Exported(_) if self.exporting == Some(request_id) => {
                self.exporting = None;
                true
            }
            Reply::Sessions(list) => self.session_rows.apply(request_id, list),
            Reply::Session(now) => match &mut self.viewer {
                Some(viewer) if viewer.refreshing == Some(request_id) => {
                    viewer.refreshing = None;
                    if let (Some(open), Some(now)) = (&viewer.session, now) {
                        // The open session grew: let the view read on from where it stopped.
                        if now.bytes != open.bytes {
                            viewer.eof = false;
                        }
                        viewer.session = Some(now.clone());
                    }
                    true
                }
                _ => false,
            },
            Reply::SessionPage(page) => match &mut self.viewer {
                Some(viewer) if viewer.pending == Some(request_id) => {
                    viewer.pending = None;
                    viewer.apply_page(page);
                    true
                }
                _ => false,
            },
            Reply::ProjectCreated(project) if self.creating == Some(request_id) => {
                self.creating = None;
                self.new_project_path.clear();
                self.selected_project = Some(if project.folder.is_empty() {
                    project.path.clone()
                } else {
                    project.folder.clone()
                });
                true
            }
            _ => false,
        }
    }

    /// Takes a failure addressed to this store; false when it is someone else's.
    pub fn apply_failure(&mut self, request_id: RequestId, error: &str) -> bool {
        if self.usage.fail(request_id, error.to_string())
            || self.blocks.fail(request_id, error.to_string())
            || self.prices.fail(request_id, error.to_string())
            || self.search_results.fail(request_id, error.to_string())
            || self.session_rows.fail(request_id, error)
        {
            return true;
        }
        if self.saving_prices == Some(request_id) {
            self.saving_prices = None;
            self.price_error = Some(error.to_string());
            return true;
        }
        if let Some(viewer) = &mut self.viewer
            && viewer.refreshing == Some(request_id)
        {
            viewer.refreshing = None;
            return true;
        }
        if let Some(viewer) = &mut self.viewer
            && viewer.pending == Some(request_id)
        {
            viewer.pending = None;
            viewer.error = Some(error.to_string());
            return true;
        }
        false
    }

    /// Whether a create-project request failed (the notice says why; the typed path stays).
    pub fn create_failed(&mut self, request_id: RequestId) -> bool {
        if self.creating == Some(request_id) {
            self.creating = None;
            return true;
        }
        false
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::domain::transcripts::page::PageLine;

    fn page(file: &str, offset: u64, next: u64, lines: &[&str], eof: bool) -> Arc<SessionPage> {
        Arc::new(SessionPage {
            file: file.to_string(),
            offset,
            next_offset: next,
            file_size: 100,
            lines: lines.iter().map(|l| PageLine::parse(l)).collect(),
            eof,
        })
    }

    #[test]
    fn pages_append_in_order_and_stale_answers_are_dropped() {
        let mut store = TranscriptsStore {
            viewer: Some(SessionViewer {
                file: "p/s.jsonl".into(),
                pending: Some(7),
                ..Default::default()
            }),
            ..Default::default()
        };
        assert!(store.apply_output(7, &Reply::SessionPage(page("p/s.jsonl", 0, 40, &["a", "b"], false))));
        let v = store.viewer.as_ref().unwrap();
        assert_eq!(v.lines_read, 2);
        assert!(v.wants_more());
        // An answer nobody waits for changes nothing.
        assert!(!store.apply_output(8, &Reply::SessionPage(page("p/s.jsonl", 40, 80, &["c"], true))));
        store.viewer.as_mut().unwrap().pending = Some(9);
        // A page of another offset (the file was switched meanwhile) is ignored.
        assert!(store.apply_output(9, &Reply::SessionPage(page("p/s.jsonl", 10, 80, &["x"], true))));
        assert_eq!(store.viewer.as_ref().unwrap().lines_read, 2);
        store.viewer.as_mut().unwrap().pending = Some(10);
        assert!(store.apply_output(10, &Reply::SessionPage(page("p/s.jsonl", 40, 80, &["c"], true))));
        let v = store.viewer.as_ref().unwrap();
        assert_eq!(v.lines_read, 3);
        assert!(!v.wants_more());
    }

    #[test]
    fn pages_become_a_read_only_conversation() {
        let mut store = TranscriptsStore {
            viewer: Some(SessionViewer {
                file: "p/s.jsonl".into(),
                pending: Some(1),
                ..Default::default()
            }),
            ..Default::default()
        };
        let prompt = r#"{"type":"user","message":{"role":"user","content":"fix the build"}}"#;
        let answer = r#"{"type":"assistant","message":{"id":"m","role":"assistant","model":"claude-opus-4-6","content":[{"type":"text","text":"Done."}]}}"#;
        assert!(store.apply_output(
            1,
            &Reply::SessionPage(page("p/s.jsonl", 0, 10, &[prompt, "not json", answer], true))
        ));
        let items = &store.viewer.as_ref().unwrap().view.items;
        assert_eq!(items.len(), 2, "{items:?}");
        assert!(matches!(&items[0], crate::state::ChatItem::Prompt { text } if text == "fix the build"));
        assert!(matches!(&items[1], crate::state::ChatItem::Text { text, .. } if text == "Done."));
    }

    #[test]
    fn a_failed_page_stops_paging_with_the_reason() {
        let mut store = TranscriptsStore {
            viewer: Some(SessionViewer {
                file: "p/s.jsonl".into(),
                pending: Some(3),
                ..Default::default()
            }),
            ..Default::default()
        };
        assert!(store.apply_failure(3, "file is gone"));
        let v = store.viewer.as_ref().unwrap();
        assert_eq!(v.error.as_deref(), Some("file is gone"));
        assert!(!v.wants_more());
    }

    #[test]
    fn a_new_catalog_marks_usage_stale_and_clears_progress() {
        let mut store = TranscriptsStore {
            usage_current: true,
            ..Default::default()
        };
        store.apply_progress(Progress {
            files_done: 1,
            files_total: 2,
            bytes_done: 3,
            bytes_total: 4,
        });
        store.blocks_current = true;
        store.apply_catalog(Arc::new(Catalog::default()));
        assert!(!store.usage_current);
        assert!(!store.blocks_current);
        assert!(store.progress.is_none());
    }
}
