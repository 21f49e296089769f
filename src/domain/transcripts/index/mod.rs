//! The incremental index of the transcripts, in the app's SQLite.
//!
//! Per file it keeps the size, the modification time and the offset parsed so far (always the end of a
//! complete line). A scan stats every file: unchanged files are not opened; a file that grew is read from
//! the saved offset; a file that shrank or whose start changed is read again from the beginning; a file
//! that is gone leaves the index. Unparseable lines are counted and skipped.

mod scan;

use std::collections::BTreeSet;
use std::path::PathBuf;

use rusqlite::{Connection, params};

use super::line::{LineMeta, UsageRecord};
use super::prices::PriceTable;
use super::report::{Builder, Range, Report};

pub use scan::{SearchCatchUp, catch_up_search, scan};

/// Why an index operation failed.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error("index database error: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error("cannot read {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("the scan was stopped")]
    Stopped,
}

/// What a scan did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ScanStats {
    pub files: usize,
    pub unchanged: usize,
    pub new: usize,
    pub appended: usize,
    pub reindexed: usize,
    pub removed: usize,
    pub bytes_read: u64,
    pub lines_read: u64,
    pub malformed: u64,
    /// Files that could not be read (permissions, vanished mid-scan): kept as they were.
    pub unreadable: usize,
}

impl ScanStats {
    pub fn changed(&self) -> bool {
        self.new + self.appended + self.reindexed + self.removed > 0
    }
}

/// Progress of a running scan, for the status bar.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Progress {
    pub files_done: usize,
    pub files_total: usize,
    pub bytes_done: u64,
    pub bytes_total: u64,
}

/// One indexed file as the Projects screen needs it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FileRow {
    pub path: String,
    pub project_dir: String,
    pub session_id: String,
    pub subagent: bool,
    pub size: u64,
    pub lines: u64,
    pub malformed: u64,
    pub inner_session: Option<String>,
    pub cwd: Option<String>,
    pub git_branch: Option<String>,
    pub first_ms: Option<i64>,
    pub last_ms: Option<i64>,
    pub messages: u64,
    pub first_prompt: Option<String>,
    pub custom_title: Option<String>,
    pub ai_title: Option<String>,
    pub summary: Option<String>,
    pub models: Vec<String>,
}

impl FileRow {
    /// A row carrying what the file's lines said (`meta`); the caller fills in where it is and its counts.
    fn with_meta(meta: FileMeta) -> Self {
        Self {
            inner_session: meta.inner_session,
            cwd: meta.cwd,
            git_branch: meta.git_branch,
            first_ms: meta.first_ms,
            last_ms: meta.last_ms,
            messages: meta.messages,
            first_prompt: meta.first_prompt,
            custom_title: meta.custom_title,
            ai_title: meta.ai_title,
            summary: meta.summary,
            models: meta.models.into_iter().collect(),
            ..Self::default()
        }
    }

    /// The session this file belongs to on the Projects screen: old-style agent files name theirs inside.
    pub fn owner_session(&self) -> &str {
        if self.subagent && self.path.matches('/').count() == 1 {
            return self.inner_session.as_deref().unwrap_or(&self.session_id);
        }
        &self.session_id
    }
}

/// What the catalog is built from: every file's row and the all-time usage report (in the local zone),
/// counted from the records streamed out of the index (never all held at once).
#[derive(Debug, Default)]
pub struct Loaded {
    pub files: Vec<FileRow>,
    pub report: Report,
    pub added_projects: Vec<String>,
    /// The index's [`fingerprint`] when it was read.
    pub fingerprint: String,
}

/// The metadata of one file (or of its new part, merged into the stored one).
#[derive(Debug, Clone, Default)]
struct FileMeta {
    inner_session: Option<String>,
    cwd: Option<String>,
    git_branch: Option<String>,
    first_ms: Option<i64>,
    last_ms: Option<i64>,
    messages: u64,
    first_prompt: Option<String>,
    custom_title: Option<String>,
    ai_title: Option<String>,
    summary: Option<String>,
    models: BTreeSet<String>,
}

impl FileMeta {
    fn add(&mut self, meta: LineMeta) {
        if self.inner_session.is_none() {
            self.inner_session = meta.session_id.filter(|s| !s.is_empty());
        }
        if let Some(cwd) = meta.cwd.filter(|c| !c.is_empty()) {
            self.cwd = Some(cwd);
        }
        if let Some(branch) = meta.git_branch.filter(|b| !b.is_empty()) {
            self.git_branch = Some(branch);
        }
        if let Some(ts) = meta.timestamp_ms {
            self.first_ms = Some(self.first_ms.map_or(ts, |f| f.min(ts)));
            self.last_ms = Some(self.last_ms.map_or(ts, |l| l.max(ts)));
        }
        if meta.is_message {
            self.messages += 1;
        }
        if self.first_prompt.is_none() {
            self.first_prompt = meta.prompt.map(|p| truncate(&p, 500));
        }
        if let Some(t) = meta.custom_title {
            self.custom_title = Some(truncate(&t, 300));
        }
        if let Some(t) = meta.ai_title {
            self.ai_title = Some(truncate(&t, 300));
        }
        if let Some(t) = meta.summary {
            self.summary = Some(truncate(&t, 300));
        }
        if let Some(model) = meta.model {
            self.models.insert(model);
        }
    }

    /// Merges an earlier part (`self`, from the database) with a later one.
    fn then(mut self, later: FileMeta) -> FileMeta {
        self.inner_session = self.inner_session.or(later.inner_session);
        self.cwd = later.cwd.or(self.cwd);
        self.git_branch = later.git_branch.or(self.git_branch);
        self.first_ms = match (self.first_ms, later.first_ms) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self.last_ms = match (self.last_ms, later.last_ms) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        self.messages += later.messages;
        self.first_prompt = self.first_prompt.or(later.first_prompt);
        self.custom_title = later.custom_title.or(self.custom_title);
        self.ai_title = later.ai_title.or(self.ai_title);
        self.summary = later.summary.or(self.summary);
        self.models.extend(later.models);
        self
    }
}

fn truncate(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_string(),
    }
}

/// The metadata columns of `transcript_files`, in the order [`meta_from`] reads them.
const META_COLUMNS: &str = "inner_session, cwd, git_branch, first_ms, last_ms, messages, first_prompt, custom_title, ai_title, summary, models";

/// Reads [`META_COLUMNS`] from `row`, starting at column `at`.
fn meta_from(row: &rusqlite::Row<'_>, at: usize) -> rusqlite::Result<FileMeta> {
    let models: String = row.get(at + 10)?;
    Ok(FileMeta {
        inner_session: row.get(at)?,
        cwd: row.get(at + 1)?,
        git_branch: row.get(at + 2)?,
        first_ms: row.get(at + 3)?,
        last_ms: row.get(at + 4)?,
        messages: row.get::<_, i64>(at + 5)? as u64,
        first_prompt: row.get(at + 6)?,
        custom_title: row.get(at + 7)?,
        ai_title: row.get(at + 8)?,
        summary: row.get(at + 9)?,
        models: models.lines().map(str::to_string).collect(),
    })
}

/// Loads the files and the all-time usage report (the local zone, `prices`), in one read transaction: a
/// scan committing meanwhile is either wholly in or wholly out.
pub fn load(conn: &Connection, prices: &PriceTable) -> Result<Loaded, IndexError> {
    let tx = conn.unchecked_transaction()?;
    let conn: &Connection = &tx;
    let mut loaded = Loaded {
        fingerprint: fingerprint(conn)?,
        ..Loaded::default()
    };
    let mut stmt = conn.prepare(&format!(
        "SELECT path, project_dir, session_id, subagent, size, lines, malformed, {META_COLUMNS} FROM transcript_files"
    ))?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        let meta = meta_from(r, 7)?;
        loaded.files.push(FileRow {
            path: r.get(0)?,
            project_dir: r.get(1)?,
            session_id: r.get(2)?,
            subagent: r.get(3)?,
            size: r.get::<_, i64>(4)? as u64,
            lines: r.get::<_, i64>(5)? as u64,
            malformed: r.get::<_, i64>(6)? as u64,
            ..FileRow::with_meta(meta)
        });
    }
    drop(rows);
    drop(stmt);
    loaded.report = build_report(conn, prices, &Range::default())?;
    loaded.added_projects = added_projects(conn)?;
    tx.commit()?;
    Ok(loaded)
}

/// The usage report over `range` with `prices`, from the counted records streamed out of the index: its
/// memory is that of the groups (days, sessions, models, projects), not of the records.
pub fn report(conn: &Connection, prices: &PriceTable, range: &Range) -> Result<Report, IndexError> {
    let tx = conn.unchecked_transaction()?;
    let report = build_report(&tx, prices, range)?;
    tx.commit()?;
    Ok(report)
}

/// [`report`] inside the caller's transaction.
fn build_report(conn: &Connection, prices: &PriceTable, range: &Range) -> Result<Report, IndexError> {
    let mut builder = Builder::new(prices, range);
    stream_counted(
        conn,
        |r| prices.cost(r).unwrap_or(0.0),
        span(range),
        |record, project, session| builder.push(record, project, session),
    )?;
    Ok(builder.finish())
}

/// The timestamps (ms, inclusive) that can fall on the range's days in any zone: two days of margin on
/// each side (zones are at most 14 hours from UTC). The exact days are chosen by the report.
fn span(range: &Range) -> (i64, i64) {
    const DAY_MS: i64 = 86_400_000;
    let midnight = |day: chrono::NaiveDate| day.and_time(chrono::NaiveTime::MIN).and_utc().timestamp_millis();
    let from = range.since.map_or(i64::MIN, |d| midnight(d).saturating_sub(2 * DAY_MS));
    let to = range.until.map_or(i64::MAX, |d| midnight(d).saturating_add(3 * DAY_MS));
    (from, to)
}

/// The columns of a [`UsageRecord`] in `usage_records` (as `r`), in the order [`record_from`] reads them.
const RECORD_COLUMNS: &str = "r.ts_ms, r.message_id, r.request_id, r.model, r.input, r.output, r.cache_write_5m, \
     r.cache_write_1h, r.cache_read, r.cost_usd, r.sidechain, r.fast";

/// Reads [`RECORD_COLUMNS`] from `row`, starting at column `at`.
fn record_from(r: &rusqlite::Row<'_>, at: usize) -> rusqlite::Result<UsageRecord> {
    Ok(UsageRecord {
        timestamp_ms: r.get(at)?,
        message_id: r.get(at + 1)?,
        request_id: r.get(at + 2)?,
        model: r.get(at + 3)?,
        input: r.get::<_, i64>(at + 4)? as u64,
        output: r.get::<_, i64>(at + 5)? as u64,
        cache_write_5m: r.get::<_, i64>(at + 6)? as u64,
        cache_write_1h: r.get::<_, i64>(at + 7)? as u64,
        cache_read: r.get::<_, i64>(at + 8)? as u64,
        cost_usd: r.get(at + 9)?,
        sidechain: r.get(at + 10)?,
        fast: r.get(at + 11)?,
    })
}

/// A sidechain line whose `message.id` a main-chain line also has: a replay, never counted.
const REPLAY: &str = "coalesce(r.sidechain = 1 AND r.message_id IN \
     (SELECT message_id FROM usage_records WHERE sidechain = 0 AND message_id IS NOT NULL), 0)";

/// Streams the records that count (the rules of [`super::report::counted_indices`]: no sidechain replays,
/// one line per response — the most tokens, then the costliest by `cost`, then the earliest, then the first
/// in file order) to `each`, in time order, straight from the index: memory stays flat however long the
/// history. The winners of duplicated responses go through a temporary table, chosen one response at a time.
pub fn for_each_counted(
    conn: &Connection,
    cost: impl Fn(&UsageRecord) -> f64,
    mut each: impl FnMut(&UsageRecord),
) -> Result<(), IndexError> {
    let tx = conn.unchecked_transaction()?;
    stream_counted(&tx, cost, (i64::MIN, i64::MAX), |record, _, _| each(record))?;
    tx.commit()?;
    Ok(())
}

/// [`for_each_counted`] inside the caller's transaction, each record given with its file's project folder
/// and session, only those whose timestamp is within `span` (inclusive; the winners of duplicates are
/// still chosen among all the lines).
fn stream_counted(
    tx: &Connection,
    cost: impl Fn(&UsageRecord) -> f64,
    span: (i64, i64),
    mut each: impl FnMut(&UsageRecord, &str, &str),
) -> Result<(), IndexError> {
    tx.execute_batch(
        "CREATE TEMP TABLE IF NOT EXISTS counted_responses (id INTEGER PRIMARY KEY);
         DELETE FROM temp.counted_responses;",
    )?;
    {
        let mut insert = tx.prepare("INSERT INTO temp.counted_responses (id) VALUES (?1)")?;
        let mut stmt = tx.prepare(&format!(
            "SELECT r.rowid, {RECORD_COLUMNS} FROM usage_records r JOIN transcript_files f ON f.id = r.file_id
             WHERE r.message_id IS NOT NULL AND r.request_id IS NOT NULL AND NOT {REPLAY}
             ORDER BY r.message_id, r.request_id, f.path, r.rowid"
        ))?;
        let mut rows = stmt.query([])?;
        let mut best: Option<(i64, UsageRecord)> = None;
        while let Some(row) = rows.next()? {
            let id: i64 = row.get(0)?;
            let record = record_from(row, 1)?;
            match &mut best {
                Some((best_id, current))
                    if current.message_id == record.message_id && current.request_id == record.request_id =>
                {
                    let (a, b) = (current.total_tokens(), record.total_tokens());
                    let better = b > a
                        || (b == a && {
                            let (ca, cb) = (cost(current), cost(&record));
                            cb > ca || (cb == ca && record.timestamp_ms < current.timestamp_ms)
                        });
                    if better {
                        *best_id = id;
                        *current = record;
                    }
                }
                _ => {
                    if let Some((winner, _)) = best.replace((id, record)) {
                        insert.execute([winner])?;
                    }
                }
            }
        }
        if let Some((winner, _)) = best {
            insert.execute([winner])?;
        }
    }
    {
        let mut stmt = tx.prepare(&format!(
            "SELECT {RECORD_COLUMNS}, f.project_dir, f.session_id FROM usage_records r
             JOIN transcript_files f ON f.id = r.file_id
             WHERE (((r.message_id IS NULL OR r.request_id IS NULL) AND NOT {REPLAY})
                OR r.rowid IN (SELECT id FROM temp.counted_responses))
               AND r.ts_ms BETWEEN ?1 AND ?2
             ORDER BY r.ts_ms, f.path, r.rowid"
        ))?;
        let mut rows = stmt.query(params![span.0, span.1])?;
        while let Some(row) = rows.next()? {
            let record = record_from(row, 0)?;
            let (project, session) = (text(row, 12)?, text(row, 13)?);
            each(&record, project, session);
        }
    }
    tx.execute("DELETE FROM temp.counted_responses", [])?;
    Ok(())
}

/// A text column, borrowed from the row.
fn text<'r>(row: &'r rusqlite::Row<'_>, at: usize) -> rusqlite::Result<&'r str> {
    row.get_ref(at)?
        .as_str()
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(at, rusqlite::types::Type::Text, Box::new(e)))
}

fn added_projects(conn: &Connection) -> Result<Vec<String>, IndexError> {
    let mut stmt = conn.prepare("SELECT path FROM added_projects ORDER BY added_ms")?;
    let paths = stmt.query_map([], |r| r.get(0))?.collect::<Result<_, _>>()?;
    Ok(paths)
}

/// Changes whenever a scan stores or removes a file, or a project is added: what a saved catalog
/// ([`crate::domain::transcripts::snapshot`]) was built from. A few milliseconds for ten thousand files.
pub fn fingerprint(conn: &Connection) -> Result<String, IndexError> {
    let files = conn.query_row(
        "SELECT count(*), total(id), total(size), total(parsed_offset), total(lines), total(messages),
         total(mtime_ns % 4294967296) FROM transcript_files",
        [],
        |r| {
            Ok(format!(
                "{}/{}/{}/{}/{}/{}/{}",
                r.get::<_, i64>(0)?,
                r.get::<_, f64>(1)?,
                r.get::<_, f64>(2)?,
                r.get::<_, f64>(3)?,
                r.get::<_, f64>(4)?,
                r.get::<_, f64>(5)?,
                r.get::<_, f64>(6)?
            ))
        },
    )?;
    let added = conn.query_row(
        "SELECT count(*), total(added_ms % 4294967296) FROM added_projects",
        [],
        |r| Ok(format!("{}/{}", r.get::<_, i64>(0)?, r.get::<_, f64>(1)?)),
    )?;
    Ok(format!("{files}+{added}"))
}

/// Whether the index holds no file and no added project.
pub fn is_empty(conn: &Connection) -> Result<bool, IndexError> {
    let empty = conn.query_row(
        "SELECT NOT EXISTS (SELECT 1 FROM transcript_files) AND NOT EXISTS (SELECT 1 FROM added_projects)",
        [],
        |r| r.get(0),
    )?;
    Ok(empty)
}

/// Remembers a project the person added (before Claude ran there).
pub fn add_project(conn: &Connection, path: &str) -> Result<(), IndexError> {
    let now = chrono::Utc::now().timestamp_millis();
    conn.execute(
        "INSERT INTO added_projects (path, added_ms) VALUES (?1, ?2) ON CONFLICT(path) DO NOTHING",
        params![path, now],
    )?;
    Ok(())
}
