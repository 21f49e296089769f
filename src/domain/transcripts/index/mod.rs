//! The incremental index of the transcripts, in the app's SQLite.
//!
//! Per file it keeps the size, the modification time and the offset parsed so far (always the end of a
//! complete line). A scan stats every file: unchanged files are not opened; a file that grew is read from
//! the saved offset; a file that shrank or whose start changed is read again from the beginning; a file
//! that is gone leaves the index. Unparseable lines are counted and skipped.

mod scan;

use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::Arc;

use rusqlite::{Connection, params};

use super::line::{LineMeta, UsageRecord};
use super::report::Entry;

pub use scan::scan;

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

/// Everything the index holds, loaded.
#[derive(Debug, Default)]
pub struct Loaded {
    pub files: Vec<FileRow>,
    pub entries: Vec<Entry>,
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

/// Loads everything the index holds.
pub fn load(conn: &Connection) -> Result<Loaded, IndexError> {
    // One read transaction: a scan committing meanwhile is either wholly in or wholly out.
    let tx = conn.unchecked_transaction()?;
    let conn: &Connection = &tx;
    let mut loaded = Loaded {
        fingerprint: fingerprint(conn)?,
        ..Loaded::default()
    };
    let mut places: HashMap<i64, (Arc<str>, Arc<str>)> = HashMap::new();
    let mut file_ids: Vec<i64> = Vec::new();
    let mut stmt = conn.prepare(&format!(
        "SELECT id, path, project_dir, session_id, subagent, size, lines, malformed, {META_COLUMNS} FROM transcript_files"
    ))?;
    let mut rows = stmt.query([])?;
    let mut interned: HashMap<String, Arc<str>> = HashMap::new();
    let mut intern = |s: &str| -> Arc<str> { interned.entry(s.to_string()).or_insert_with(|| s.into()).clone() };
    while let Some(r) = rows.next()? {
        let id: i64 = r.get(0)?;
        let meta = meta_from(r, 8)?;
        let row = FileRow {
            path: r.get(1)?,
            project_dir: r.get(2)?,
            session_id: r.get(3)?,
            subagent: r.get(4)?,
            size: r.get::<_, i64>(5)? as u64,
            lines: r.get::<_, i64>(6)? as u64,
            malformed: r.get::<_, i64>(7)? as u64,
            ..FileRow::with_meta(meta)
        };
        places.insert(id, (intern(&row.project_dir), intern(&row.session_id)));
        file_ids.push(id);
        loaded.files.push(row);
    }
    drop(rows);
    drop(stmt);
    // Records are kept in ccusage's order: files by path, lines in file order. Among copies of one response
    // with equal tokens (a resumed or forked session), the first wins.
    let mut order: Vec<usize> = (0..loaded.files.len()).collect();
    order.sort_by(|&a, &b| loaded.files[a].path.cmp(&loaded.files[b].path));
    let mut rank: HashMap<i64, usize> = HashMap::with_capacity(order.len());
    for (r, i) in order.into_iter().enumerate() {
        rank.insert(file_ids[i], r);
    }
    let mut ranked: Vec<usize> = Vec::new();
    let mut stmt = conn.prepare(
        "SELECT file_id, ts_ms, message_id, request_id, model, input, output, cache_write_5m, cache_write_1h,
         cache_read, cost_usd, sidechain, fast FROM usage_records",
    )?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        let file_id: i64 = r.get(0)?;
        let (Some((project, session)), Some(&file_rank)) = (places.get(&file_id), rank.get(&file_id)) else {
            continue;
        };
        ranked.push(file_rank);
        loaded.entries.push(Entry {
            record: UsageRecord {
                timestamp_ms: r.get(1)?,
                message_id: r.get(2)?,
                request_id: r.get(3)?,
                model: r.get(4)?,
                input: r.get::<_, i64>(5)? as u64,
                output: r.get::<_, i64>(6)? as u64,
                cache_write_5m: r.get::<_, i64>(7)? as u64,
                cache_write_1h: r.get::<_, i64>(8)? as u64,
                cache_read: r.get::<_, i64>(9)? as u64,
                cost_usd: r.get(10)?,
                sidechain: r.get(11)?,
                fast: r.get(12)?,
            },
            project: project.clone(),
            session: session.clone(),
        });
    }
    drop(rows);
    drop(stmt);
    if ranked.windows(2).any(|w| w[0] > w[1]) {
        // In place: a sorted copy would hold every record twice at the peak.
        let mut from: Vec<usize> = (0..ranked.len()).collect();
        from.sort_by_key(|&i| ranked[i]);
        drop(ranked);
        permute(&mut loaded.entries, from);
    }
    loaded.added_projects = added_projects(conn)?;
    tx.commit()?;
    Ok(loaded)
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
            "SELECT {RECORD_COLUMNS} FROM usage_records r JOIN transcript_files f ON f.id = r.file_id
             WHERE ((r.message_id IS NULL OR r.request_id IS NULL) AND NOT {REPLAY})
                OR r.rowid IN (SELECT id FROM temp.counted_responses)
             ORDER BY r.ts_ms, f.path, r.rowid"
        ))?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            each(&record_from(row, 0)?);
        }
    }
    tx.execute("DELETE FROM temp.counted_responses", [])?;
    tx.commit()?;
    Ok(())
}

fn added_projects(conn: &Connection) -> Result<Vec<String>, IndexError> {
    let mut stmt = conn.prepare("SELECT path FROM added_projects ORDER BY added_ms")?;
    let paths = stmt.query_map([], |r| r.get(0))?.collect::<Result<_, _>>()?;
    Ok(paths)
}

/// What a scan of an empty index read (and stored), kept to become what [`load`] would read back.
#[derive(Default)]
struct Kept {
    /// Each file with where its records are in `entries`.
    files: Vec<(FileRow, usize, usize)>,
    /// In the order the files were read.
    entries: Vec<Entry>,
    interned: HashMap<String, Arc<str>>,
}

impl Kept {
    fn push(&mut self, row: FileRow, records: Vec<UsageRecord>) {
        let mut intern =
            |s: &str| -> Arc<str> { self.interned.entry(s.to_string()).or_insert_with(|| s.into()).clone() };
        let (project, session) = (intern(&row.project_dir), intern(&row.session_id));
        let start = self.entries.len();
        self.entries.extend(records.into_iter().map(|record| Entry {
            record,
            project: project.clone(),
            session: session.clone(),
        }));
        self.files.push((row, start, self.entries.len() - start));
    }

    /// The records put in [`load`]'s order (files by path, lines in file order), in place.
    fn into_loaded(self, conn: &Connection) -> Result<Loaded, IndexError> {
        let Kept {
            mut files, mut entries, ..
        } = self;
        let tx = conn.unchecked_transaction()?;
        let fingerprint = fingerprint(&tx)?;
        let added_projects = added_projects(&tx)?;
        tx.commit()?;
        files.sort_by(|a, b| a.0.path.cmp(&b.0.path));
        let mut from: Vec<usize> = Vec::with_capacity(entries.len());
        for (_, start, len) in &files {
            from.extend(*start..start + len);
        }
        permute(&mut entries, from);
        Ok(Loaded {
            files: files.into_iter().map(|(row, _, _)| row).collect(),
            entries,
            added_projects,
            fingerprint,
        })
    }
}

/// Reorders `items` so that position `i` holds what was at `from[i]` (a permutation), in place: swaps
/// only, so the items are never held twice.
fn permute<T>(items: &mut [T], mut from: Vec<usize>) {
    for i in 0..from.len() {
        // Earlier swaps moved the item wanted here: follow where each moved until a position not yet
        // filled.
        let mut j = from[i];
        while j < i {
            j = from[j];
        }
        items.swap(i, j);
        from[i] = j;
    }
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

/// Remembers a project the person added (before Claude ran there).
pub fn add_project(conn: &Connection, path: &str) -> Result<(), IndexError> {
    let now = chrono::Utc::now().timestamp_millis();
    conn.execute(
        "INSERT INTO added_projects (path, added_ms) VALUES (?1, ?2) ON CONFLICT(path) DO NOTHING",
        params![path, now],
    )?;
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn record(ts: i64) -> UsageRecord {
        UsageRecord {
            timestamp_ms: ts,
            message_id: None,
            request_id: None,
            model: None,
            input: 0,
            output: 0,
            cache_write_5m: 0,
            cache_write_1h: 0,
            cache_read: 0,
            cost_usd: None,
            sidechain: false,
            fast: false,
        }
    }

    #[test]
    fn permute_puts_every_item_where_asked() {
        for n in 0..9usize {
            // A few permutations of each size: reversed, rotated, and interleaved.
            let mut cases = vec![
                (0..n).rev().collect::<Vec<_>>(),
                (0..n).map(|i| (i + 3) % n.max(1)).collect(),
            ];
            cases.push(
                (0..n)
                    .filter(|i| i % 2 == 1)
                    .chain((0..n).filter(|i| i % 2 == 0))
                    .collect(),
            );
            for from in cases {
                let mut items: Vec<usize> = (0..n).map(|i| i * 10).collect();
                permute(&mut items, from.clone());
                assert_eq!(items, from.iter().map(|i| i * 10).collect::<Vec<_>>(), "{from:?}");
            }
        }
    }

    #[test]
    fn what_a_first_scan_kept_comes_out_in_load_order() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/migrations/0003_transcript_index.sql"
        )))
        .unwrap();
        let mut kept = Kept::default();
        // Read in another order than the paths', as the parallel readers deliver them.
        for (path, records) in [
            ("p/c.jsonl", vec![5, 6]),
            ("p/a.jsonl", vec![1, 2, 3]),
            ("p/b.jsonl", vec![]),
            ("q/a.jsonl", vec![7]),
            ("p/ab.jsonl", vec![4]),
        ] {
            let row = FileRow {
                path: path.into(),
                project_dir: path[..1].into(),
                session_id: path[2..].into(),
                ..FileRow::default()
            };
            kept.push(row, records.into_iter().map(record).collect());
        }
        let loaded = kept.into_loaded(&conn).unwrap();
        let paths: Vec<&str> = loaded.files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(
            paths,
            ["p/a.jsonl", "p/ab.jsonl", "p/b.jsonl", "p/c.jsonl", "q/a.jsonl"]
        );
        let order: Vec<i64> = loaded.entries.iter().map(|e| e.record.timestamp_ms).collect();
        assert_eq!(order, [1, 2, 3, 4, 5, 6, 7]);
        assert_eq!(&*loaded.entries[6].project, "q");
        assert_eq!(&*loaded.entries[3].session, "ab.jsonl");
        assert_eq!(loaded.fingerprint, fingerprint(&conn).unwrap());
    }
}
