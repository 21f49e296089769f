//! Projects, sessions and usage: the transcript index kept current in the background.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::{Backend, BackendError};
use crate::backend::event::Event;
use crate::domain::transcripts::HistoryError;
use crate::domain::transcripts::blocks;
use crate::domain::transcripts::catalog::Catalog;
use crate::domain::transcripts::index::{self, ScanStats};
use crate::domain::transcripts::prices::PriceTable;
use crate::domain::transcripts::report::{self};
use crate::domain::transcripts::requests::{
    Blocks, CreateProject, ExportUsage, Exported, GetProjectSessions, GetSession, ListProjects, LoadPrices, Prices,
    ReadSessionPage, RefreshHistory, Reply, Request, SavePrices, SearchSessions, UsageBlocks, UsageRange, UsageReport,
};
use crate::domain::transcripts::search::{self, SearchResult};
use crate::domain::transcripts::snapshot;
use crate::domain::transcripts::watch::TranscriptWatcher;
use crate::util::request::Ask;
use crate::util::sync::LockExt;

/// The index's state inside the backend.
pub(super) struct HistoryState {
    root: Mutex<Option<PathBuf>>,
    catalog: Mutex<Option<Arc<Catalog>>>,
    /// Held while a scan runs: one at a time.
    scanning: Mutex<()>,
    /// A change arrived during a scan: scan again after it.
    dirty: AtomicBool,
    stop: AtomicBool,
    watcher: Mutex<Option<TranscriptWatcher>>,
}

impl HistoryState {
    pub(super) fn new() -> Self {
        Self {
            root: Mutex::new(crate::domain::transcripts::projects_root()),
            catalog: Mutex::new(None),
            scanning: Mutex::new(()),
            dirty: AtomicBool::new(false),
            stop: AtomicBool::new(false),
            watcher: Mutex::new(None),
        }
    }
}

impl Backend {
    /// Reads Claude's transcripts from `root` instead of `$CLAUDE_CONFIG_DIR/projects` (tests).
    pub fn set_projects_root(&self, root: PathBuf) {
        *self.inner.history.root.lock_or_recover() = Some(root);
        *self.inner.history.catalog.lock_or_recover() = None;
    }

    /// The folder the index reads.
    pub fn projects_root(&self) -> Option<PathBuf> {
        self.inner.history.root.lock_or_recover().clone()
    }

    /// The person's price table file.
    pub fn prices_path(&self) -> PathBuf {
        self.paths().root().join("prices.json")
    }

    fn prices(&self) -> PriceTable {
        PriceTable::load(&self.prices_path()).unwrap_or_else(|error| {
            tracing::warn!(%error, "using the built-in prices");
            PriceTable::built_in()
        })
    }

    /// The window's start: shows what the last run knew, then brings it up to date in the background and
    /// keeps it current with a file watcher. Never blocks the caller.
    pub fn start_history(&self, watch: bool) {
        let backend = self.clone();
        self.runtime().spawn_blocking(move || {
            backend.show_saved();
            if watch && let Some(root) = backend.projects_root() {
                let again = backend.clone();
                match crate::domain::transcripts::watch::watch(&root, Duration::from_millis(300), move || {
                    if let Err(error) = again.refresh_history() {
                        tracing::warn!(%error, "transcript rescan failed");
                    }
                    again.catch_up_search_logged();
                }) {
                    Ok(watcher) => *backend.inner.history.watcher.lock_or_recover() = Some(watcher),
                    Err(error) => tracing::warn!(%error, root = %root.display(), "cannot watch the transcripts"),
                }
            }
            // After a snapshot, the scan also loads the index (the catalog is partial until then). The watcher
            // is already on: a file changed while this scan runs makes it scan again, never goes unseen.
            if let Err(error) = backend.refresh_history() {
                tracing::warn!(%error, "transcript scan failed");
            }
            // Then the words, for search: after the first screen and the usage totals are up.
            backend.catch_up_search_logged();
        });
    }

    /// Brings the search index up to the usage index, a slice at a time: a scan (the watcher's) can run
    /// between slices rather than wait for all of it.
    pub(crate) fn catch_up_search(&self) -> Result<(), BackendError> {
        const SLICE: u64 = 64 * 1024 * 1024;
        let state = &self.inner.history;
        loop {
            let done = {
                let _guard = state.scanning.lock_or_recover();
                let root = self.projects_root().ok_or(HistoryError::NoHome)?;
                let mut conn = self.index_connection()?;
                index::catch_up_search(&mut conn, &root, &state.stop, SLICE).map_err(HistoryError::from)?
            };
            tracing::debug!(?done, "search index caught up");
            if !done.more {
                return Ok(());
            }
        }
    }

    fn catch_up_search_logged(&self) {
        if let Err(error) = self.catch_up_search() {
            tracing::warn!(%error, "the search index could not catch up");
        }
    }

    /// Shows what the last run indexed: its saved first screen when it matches the index (milliseconds),
    /// else the index itself. A first start shows nothing here: it waits for its scan (with progress)
    /// rather than showing an empty list.
    fn show_saved(&self) {
        let started = std::time::Instant::now();
        let conn = match self.index_connection() {
            Ok(conn) => conn,
            Err(error) => {
                tracing::warn!(%error, "could not open the transcript index");
                return;
            }
        };
        let prices = self.prices();
        let key = index::fingerprint(&conn).map(|fingerprint| snapshot::key(&fingerprint, &prices));
        if let Ok(key) = key
            && let Some(catalog) = snapshot::load(&conn, &key, &prices)
        {
            tracing::debug!(elapsed = ?started.elapsed(), "catalog shown from the snapshot");
            self.show_snapshot(catalog);
            return;
        }
        match index::is_empty(&conn) {
            Ok(false) => {
                if let Err(error) = self.publish_from_index() {
                    tracing::warn!(%error, "could not show the transcript index");
                }
            }
            Ok(true) => {}
            Err(error) => tracing::warn!(%error, "could not load the transcript index"),
        }
    }

    /// Makes a catalog read from the saved snapshot the current one.
    fn show_snapshot(&self, catalog: Catalog) -> Arc<Catalog> {
        let catalog = Arc::new(catalog);
        *self.inner.history.catalog.lock_or_recover() = Some(catalog.clone());
        self.sink().try_send(Event::HistoryUpdated(catalog.clone()));
        catalog
    }

    /// Stops a running scan (app exit).
    pub fn stop_history(&self) {
        self.inner.history.stop.store(true, Ordering::Relaxed);
        self.inner.history.watcher.lock_or_recover().take();
    }

    fn index_connection(&self) -> Result<rusqlite::Connection, BackendError> {
        let db = self.inner.db.clone().map_err(BackendError::DatabaseUnavailable)?;
        let conn = db.open_read_write()?;
        // The index is rebuilt from the transcripts at any time: WAL's NORMAL (no sync per commit) is enough.
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(HistoryError::from)?;
        // The reports sort every usage record (duplicates, then time order): sorts larger than the page
        // cache spill to a temporary file rather than to memory, so memory does not grow with the history.
        conn.pragma_update(None, "temp_store", "FILE")
            .map_err(HistoryError::from)?;
        Ok(conn)
    }

    /// Builds the catalog from the index as it stands (its report streamed from the usage records), saves
    /// it with its sessions (which the window then reads a page at a time) and tells the window.
    fn publish_from_index(&self) -> Result<Arc<Catalog>, BackendError> {
        let mut conn = self.index_connection()?;
        let started = std::time::Instant::now();
        let prices = self.prices();
        let loaded = index::load(&conn, &prices).map_err(HistoryError::from)?;
        let key = snapshot::key(&loaded.fingerprint, &prices);
        let built = Catalog::build(loaded, &prices, key.clone());
        tracing::debug!(elapsed = ?started.elapsed(), records = built.catalog.report.records, "catalog built");
        // Saved before it is shown, so that the sessions the window asks for next are this catalog's. A
        // start with nothing changed finds its save already there.
        let saved = snapshot::saved_key(&conn).and_then(|saved| match saved.as_deref() == Some(key.as_str()) {
            true => Ok(()),
            false => snapshot::save(&mut conn, &built, &key),
        });
        if let Err(error) = saved {
            // A full disk, say: the screen is still right; its session list is the last one saved.
            tracing::warn!(%error, "could not save the history's first screen");
        }
        let catalog = Arc::new(built.catalog);
        *self.inner.history.catalog.lock_or_recover() = Some(catalog.clone());
        self.sink().try_send(Event::HistoryUpdated(catalog.clone()));
        Ok(catalog)
    }

    /// The catalog of the index as it stands: the current one when nothing changed since it was built, else
    /// the saved snapshot when it matches (a command run with nothing changed), else built from the index.
    fn catalog_up_to_date(&self, conn: &rusqlite::Connection) -> Result<Arc<Catalog>, BackendError> {
        let prices = self.prices();
        let key = snapshot::key(&index::fingerprint(conn).map_err(HistoryError::from)?, &prices);
        let current = self.inner.history.catalog.lock_or_recover().clone();
        match current {
            Some(catalog) if catalog.key == key => Ok(catalog),
            None => match snapshot::load(conn, &key, &prices) {
                Some(catalog) => Ok(self.show_snapshot(catalog)),
                None => self.publish_from_index(),
            },
            Some(_) => self.publish_from_index(),
        }
    }

    /// Scans for changes (one scan at a time; a request during a scan runs one more afterwards) and
    /// republishes the catalog when anything changed.
    pub(crate) fn refresh_history(&self) -> Result<ScanStats, BackendError> {
        let state = &self.inner.history;
        let Ok(_guard) = state.scanning.try_lock() else {
            state.dirty.store(true, Ordering::Relaxed);
            let _wait = state.scanning.lock_or_recover();
            return Ok(ScanStats::default());
        };
        let mut total = ScanStats::default();
        loop {
            state.dirty.store(false, Ordering::Relaxed);
            let Some(root) = self.projects_root() else {
                return Err(HistoryError::NoHome.into());
            };
            let mut conn = self.index_connection()?;
            let sink = self.sink();
            let stats = index::scan(&mut conn, &root, &state.stop, |progress| {
                sink.try_send(Event::HistoryProgress(progress));
            })
            .map_err(HistoryError::from)?;
            tracing::debug!(?stats, "transcript scan");
            self.catalog_up_to_date(&conn)?;
            total.files = stats.files;
            total.unchanged = stats.unchanged;
            total.new += stats.new;
            total.appended += stats.appended;
            total.reindexed += stats.reindexed;
            total.removed += stats.removed;
            total.bytes_read += stats.bytes_read;
            total.lines_read += stats.lines_read;
            total.malformed += stats.malformed;
            total.unreadable += stats.unreadable;
            if !state.dirty.load(Ordering::Relaxed) {
                return Ok(total);
            }
        }
    }

    /// The current catalog, scanning first when asked (the CLI) or when there is none yet.
    fn catalog(&self, fresh: bool) -> Result<Arc<Catalog>, BackendError> {
        if fresh || self.inner.history.catalog.lock_or_recover().is_none() {
            self.refresh_history()?;
        }
        match self.inner.history.catalog.lock_or_recover().clone() {
            Some(c) => Ok(c),
            None => self.publish_from_index(),
        }
    }

    /// The usage report over `range`: the catalog's own for all time in the local zone (a saved first
    /// screen has it; its sessions, when asked for, read from beside it), else counted from the records
    /// streamed out of the index.
    fn usage_report(&self, range: &UsageRange, sessions: bool) -> Result<Arc<report::Report>, BackendError> {
        let prices = self.prices();
        let zone_range = range.to_range().map_err(HistoryError::from)?;
        if zone_range == report::Range::default() {
            let catalog = self.catalog(range.fresh)?;
            if let Some(report) = catalog.report_for(&prices, &zone_range) {
                if !sessions {
                    return Ok(report);
                }
                let conn = self.index_connection()?;
                // Read in one transaction with the key check: the sessions are the catalog's.
                let tx = conn.unchecked_transaction().map_err(HistoryError::from)?;
                if snapshot::saved_key(&tx).map_err(HistoryError::from)?.as_deref() == Some(catalog.key.as_str()) {
                    let mut full = (*report).clone();
                    full.sessions = snapshot::usage_sessions(&tx).map_err(HistoryError::from)?;
                    return Ok(Arc::new(full));
                }
            }
        } else if range.fresh || self.inner.history.catalog.lock_or_recover().is_none() {
            self.scan_index()?;
        }
        let conn = self.index_connection()?;
        let report = index::report(&conn, &prices, &zone_range).map_err(HistoryError::from)?;
        Ok(Arc::new(report))
    }

    /// The 5-hour blocks over `range`, streamed from the index's counted records in time order (only the
    /// block being filled is held besides the list).
    fn usage_blocks(&self, range: &UsageRange) -> Result<Arc<Blocks>, BackendError> {
        let prices = self.prices();
        let zone_range = range.to_range().map_err(HistoryError::from)?;
        if range.fresh || self.inner.history.catalog.lock_or_recover().is_none() {
            self.scan_index()?;
        }
        let conn = self.index_connection()?;
        let now_ms = chrono::Utc::now().timestamp_millis();
        let mut builder = blocks::Builder::new(now_ms);
        index::for_each_counted(
            &conn,
            |r| prices.cost(r).unwrap_or(0.0),
            |r| builder.push(r, prices.cost(r).unwrap_or(0.0)),
        )
        .map_err(HistoryError::from)?;
        let mut blocks = builder.finish();
        blocks::keep_range(&mut blocks, &zone_range);
        Ok(Arc::new(Blocks { blocks, now_ms }))
    }

    /// Brings the index up to date without loading it (one scan at a time); a window's catalog is
    /// published again when something changed.
    fn scan_index(&self) -> Result<(), BackendError> {
        let state = &self.inner.history;
        let stats = {
            let _guard = state.scanning.lock_or_recover();
            let root = self.projects_root().ok_or(HistoryError::NoHome)?;
            let mut conn = self.index_connection()?;
            index::scan(&mut conn, &root, &state.stop, |_| {}).map_err(HistoryError::from)?
        };
        if stats.changed() && state.catalog.lock_or_recover().is_some() {
            self.publish_from_index()?;
        }
        Ok(())
    }

    pub(super) async fn transcripts(&self, request: Request) -> Result<Reply, BackendError> {
        let backend = self.clone();
        tokio::task::spawn_blocking(move || backend.history_blocking(request))
            .await
            .map_err(BackendError::Task)?
    }

    fn history_blocking(&self, request: Request) -> Result<Reply, BackendError> {
        match request {
            Request::ListProjects(ListProjects) => Ok(ListProjects::wrap(self.catalog(true)?.projects.clone())),
            Request::GetProjectSessions(GetProjectSessions {
                project_path,
                filter,
                offset,
                limit,
                fresh,
            }) => {
                let catalog = self.catalog(fresh)?;
                let key = project_path.to_string_lossy();
                let project = catalog
                    .project(&key)
                    .ok_or_else(|| HistoryError::NoProject(key.to_string()))?;
                let conn = self.index_connection()?;
                let list = snapshot::sessions_page(&conn, &project.folder, &filter, offset, limit)
                    .map_err(HistoryError::from)?;
                Ok(GetProjectSessions::wrap(list))
            }
            Request::GetSession(GetSession { folder, session_id }) => {
                let conn = self.index_connection()?;
                let session = snapshot::session(&conn, &folder, &session_id).map_err(HistoryError::from)?;
                Ok(GetSession::wrap(session))
            }
            Request::CreateProject(CreateProject { path }) => {
                let path = create_project_dir(&path)?;
                let conn = self.index_connection()?;
                index::add_project(&conn, &path.to_string_lossy()).map_err(HistoryError::from)?;
                let catalog = self.publish_from_index()?;
                let project = catalog
                    .projects
                    .iter()
                    .find(|p| Path::new(&p.path) == path)
                    .cloned()
                    .ok_or(HistoryError::NotRecorded)?;
                Ok(CreateProject::wrap(project))
            }
            Request::RefreshHistory(RefreshHistory) => Ok(RefreshHistory::wrap(self.refresh_history()?)),
            Request::UsageReport(UsageReport { range, sessions }) => {
                Ok(UsageReport::wrap(self.usage_report(&range, sessions)?))
            }
            Request::UsageBlocks(UsageBlocks { range }) => Ok(UsageBlocks::wrap(self.usage_blocks(&range)?)),
            Request::ExportUsage(ExportUsage {
                range,
                grouping,
                json,
                dir,
            }) => {
                let report = self.usage_report(&range, grouping == report::Grouping::Sessions)?;
                let text = if json {
                    serde_json::to_string_pretty(&report::to_json(&report, grouping)).map_err(HistoryError::from)?
                } else {
                    report::to_csv(&report, grouping).map_err(HistoryError::from)?
                };
                if dir.as_os_str().is_empty() || !dir.is_dir() {
                    return Err(HistoryError::NotAFolder(dir).into());
                }
                let name = format!(
                    "anyon-usage-{}-{}.{}",
                    grouping.file_stem(),
                    chrono::Local::now().format("%Y%m%d-%H%M%S"),
                    if json { "json" } else { "csv" }
                );
                let path = dir.join(name);
                crate::util::fs::write_atomic(&path, text.as_bytes()).map_err(|source| HistoryError::Write {
                    path: path.clone(),
                    source,
                })?;
                Ok(ExportUsage::wrap(Exported {
                    path,
                    rows: grouping.rows(&report).len() as u64,
                }))
            }
            Request::LoadPrices(LoadPrices) => {
                let custom = self.prices_path().exists();
                let table = PriceTable::load(&self.prices_path()).map_err(HistoryError::from)?;
                Ok(LoadPrices::wrap(Prices { table, custom }))
            }
            Request::SavePrices(SavePrices { table }) => {
                let path = self.prices_path();
                match table {
                    Some(table) => {
                        table.validate().map_err(HistoryError::from)?;
                        let text = serde_json::to_string_pretty(&table).map_err(HistoryError::from)?;
                        crate::util::fs::write_atomic(&path, text.as_bytes()).map_err(|source| HistoryError::Save {
                            path: path.clone(),
                            source,
                        })?;
                    }
                    None => match std::fs::remove_file(&path) {
                        Ok(()) => {}
                        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                        Err(source) => return Err(HistoryError::Remove { path, source }.into()),
                    },
                }
                // Costs changed: publish again.
                self.publish_from_index()?;
                let table = PriceTable::load(&path).map_err(HistoryError::from)?;
                Ok(SavePrices::wrap(Prices {
                    custom: path.exists(),
                    table,
                }))
            }
            Request::SearchSessions(SearchSessions {
                query,
                project,
                limit,
                tools,
                fresh,
            }) => Ok(SearchSessions::wrap(self.search(query, project, limit, tools, fresh)?)),
            Request::ReadSessionPage(ReadSessionPage {
                file,
                offset,
                max_lines,
            }) => {
                let root = self.projects_root().ok_or(HistoryError::NoProjectsFolder)?;
                let page = crate::domain::transcripts::page::read(&root, &file, offset, max_lines)
                    .map_err(HistoryError::from)?;
                Ok(ReadSessionPage::wrap(Arc::new(page)))
            }
        }
    }
}

impl Backend {
    /// Full-text search, its hits given the session's title and the project's path from the catalog.
    fn search(
        &self,
        text: String,
        project: Option<PathBuf>,
        limit: usize,
        tools: bool,
        fresh: bool,
    ) -> Result<Vec<SearchResult>, BackendError> {
        let catalog = self.catalog(fresh)?;
        self.catch_up_search()?;
        let folder = match project {
            None => None,
            Some(project) => {
                let key = project.to_string_lossy();
                let trimmed = key.trim_end_matches(['/', '\\']);
                let found = catalog
                    .projects
                    .iter()
                    .find(|p| p.path.trim_end_matches(['/', '\\']) == trimmed || p.folder == key);
                match found {
                    Some(p) => Some(p.folder.clone()),
                    None => return Err(HistoryError::NoProject(key.into_owned()).into()),
                }
            }
        };
        let conn = self.index_connection()?;
        let found = search::search(
            &conn,
            &search::Query {
                text,
                folder,
                limit,
                tools,
            },
        )
        .map_err(HistoryError::from)?;
        let mut results = Vec::with_capacity(found.len());
        for hit in found {
            let session = snapshot::session(&conn, &hit.folder, &hit.session_id).map_err(HistoryError::from)?;
            results.push({
                let project = catalog
                    .projects
                    .iter()
                    .find(|p| p.folder == hit.folder)
                    .map(|p| p.path.clone())
                    .or(hit.cwd)
                    .unwrap_or_else(|| hit.folder.clone());
                let title = session
                    .as_ref()
                    .map(|s| s.title.clone())
                    .filter(|t| !t.is_empty())
                    .or(hit.file_title)
                    .unwrap_or_else(|| hit.session_id.clone());
                SearchResult {
                    session_id: hit.session_id,
                    project,
                    folder: hit.folder,
                    title,
                    timestamp: hit
                        .timestamp_ms
                        .and_then(chrono::DateTime::from_timestamp_millis)
                        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)),
                    timestamp_ms: hit.timestamp_ms,
                    snippet: hit.snippet,
                    highlights: hit.highlights,
                    file: hit.file,
                    uuid: hit.uuid,
                    offset: hit.offset,
                    tool: hit.tool,
                    session,
                }
            });
        }
        Ok(results)
    }
}

/// Checks (and if needed creates) the folder of a new project; returns it absolute and canonical.
fn create_project_dir(path: &Path) -> Result<PathBuf, BackendError> {
    if path.as_os_str().is_empty() {
        return Err(HistoryError::NoFolderChosen.into());
    }
    if !path.is_absolute() {
        return Err(HistoryError::NotAbsolute(path.to_path_buf()).into());
    }
    if path.exists() && !path.is_dir() {
        return Err(HistoryError::IsAFile(path.to_path_buf()).into());
    }
    std::fs::create_dir_all(path).map_err(|source| HistoryError::Create {
        path: path.to_path_buf(),
        source,
    })?;
    path.canonicalize().map_err(|source| {
        HistoryError::Open {
            path: path.to_path_buf(),
            source,
        }
        .into()
    })
}
