//! What can be asked of the transcripts domain (projects, sessions, usage, prices), and what each
//! request answers.

use std::path::PathBuf;
use std::sync::Arc;

use serde::Serialize;

use super::blocks::Block;
use super::catalog::{ProjectSummary, SessionSummary};
use super::index::ScanStats;
use super::page::SessionPage;
use super::prices::PriceTable;
use super::report::{Grouping, Range, RangeError, Report, Zone, parse_day};
use super::search::SearchResult;
use super::snapshot::SessionList;

/// The days a usage report covers.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UsageRange {
    /// `YYYYMMDD` or `YYYY-MM-DD`, inclusive.
    pub since: Option<String>,
    pub until: Option<String>,
    /// An IANA zone name; None for the system's zone.
    pub timezone: Option<String>,
    /// Scan the transcripts before counting (the CLI); the window relies on the watcher.
    pub fresh: bool,
}

impl UsageRange {
    /// The report range these days and zone mean; a day or zone that does not parse says which.
    pub fn to_range(&self) -> Result<Range, RangeError> {
        let zone = match self.timezone.as_deref().filter(|z| !z.is_empty()) {
            Some(name) => Zone::parse(name)?,
            None => Zone::Local,
        };
        let day = |d: &Option<String>| d.as_deref().filter(|d| !d.is_empty()).map(parse_day).transpose();
        Ok(Range {
            since: day(&self.since)?,
            until: day(&self.until)?,
            zone,
        })
    }
}

/// The transcripts domain's answers (as JSON: `{"kind": "projects", "data": [...]}`).
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", content = "data", rename_all = "snake_case")]
pub enum Reply {
    Projects(Vec<ProjectSummary>),
    Sessions(SessionList),
    Session(Option<SessionSummary>),
    ProjectCreated(ProjectSummary),
    HistoryScanned(ScanStats),
    Usage(Arc<Report>),
    Blocks(Arc<Blocks>),
    Prices(Prices),
    SessionPage(Arc<SessionPage>),
    Exported(Exported),
    SearchResults(Vec<SearchResult>),
}

/// The price table in use.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Prices {
    pub table: PriceTable,
    /// The person's own table (else the built-in one).
    pub custom: bool,
}

/// The 5-hour billing blocks over a range, as of `now_ms`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Blocks {
    pub blocks: Vec<Block>,
    /// When they were counted: what decided the active block.
    pub now_ms: i64,
}

impl Blocks {
    /// The active block, if any.
    pub fn active(&self) -> Option<&Block> {
        self.blocks.iter().rev().find(|b| b.active)
    }
}

/// A usage table written to a file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Exported {
    pub path: PathBuf,
    pub rows: u64,
}

crate::requests! {
    ListProjects = "list_projects" => Projects(Vec<ProjectSummary>);
    /// Adds a project folder (created when missing).
    CreateProject { pub path: PathBuf } = "create_project" => ProjectCreated(ProjectSummary);
    /// A project's sessions (its path or folder name) matching `filter` (see
    /// [`super::snapshot::sessions_page`]), most recent first: `limit` of them (None for all) from `offset`.
    /// `fresh` scans the transcripts first (the CLI); the window relies on the watcher.
    GetProjectSessions { pub project_path: PathBuf, pub filter: String, pub offset: usize, pub limit: Option<usize>, pub fresh: bool } = "get_project_sessions" => Sessions(SessionList);
    /// One session of a project folder, as the index has it now.
    GetSession { pub folder: String, pub session_id: String } = "get_session" => Session(Option<SessionSummary>);
    /// Scans Claude's transcripts for changes now.
    RefreshHistory = "refresh_history" => HistoryScanned(ScanStats);
    /// Usage over a date range, every grouping; the sessions grouping only when `sessions` is set (for all
    /// time, tens of thousands of rows the other groupings need not carry).
    UsageReport { pub range: UsageRange, pub sessions: bool } = "usage_report" => Usage(Arc<Report>);
    /// The 5-hour billing blocks over a date range, with the active block's burn rate.
    UsageBlocks { pub range: UsageRange } = "usage_blocks" => Blocks(Arc<Blocks>);
    /// The price table in use and whether it is the person's own.
    LoadPrices = "load_prices" => Prices(Prices);
    /// Saves the person's price table (None: back to the built-in one).
    SavePrices { pub table: Option<PriceTable> } = "save_prices" => Prices(Prices);
    /// Writes one usage table as CSV or JSON into `dir`.
    ExportUsage { pub range: UsageRange, pub grouping: Grouping, pub json: bool, pub dir: PathBuf } = "export_usage" => Exported(Exported);
    /// Lines of a transcript file (relative to `projects/`) from a byte offset.
    ReadSessionPage { pub file: String, pub offset: u64, pub max_lines: usize } = "read_session_page" => SessionPage(Arc<SessionPage>);
    /// Sessions whose prompts, answers (and with `tools`, tool text) hold every word of `query`, best first;
    /// in one project (its path or folder name) or all. `fresh` scans the transcripts first (the CLI).
    SearchSessions { pub query: String, pub project: Option<PathBuf>, pub limit: usize, pub tools: bool, pub fresh: bool } = "search_sessions" => SearchResults(Vec<SearchResult>);
}
