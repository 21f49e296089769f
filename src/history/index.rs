//! The incremental index of the transcripts, in the app's SQLite.
//!
//! Per file it keeps the size, the modification time and the offset parsed so far (always the end of a
//! complete line). A scan stats every file: unchanged files are not opened; a file that grew is read from
//! the saved offset; a file that shrank or whose start changed is read again from the beginning; a file
//! that is gone leaves the index. Unparseable lines are counted and skipped.

use std::collections::{BTreeSet, HashMap};
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, mpsc};

use rusqlite::{Connection, OptionalExtension, params};
use sha2::{Digest, Sha256};

use super::layout::{self, FilePlace};
use super::line::{self, Line, LineMeta, UsageRecord};
use super::report::Entry;

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
}

struct Known {
    id: i64,
    size: u64,
    mtime_ns: i64,
    offset: u64,
    checksum: Option<Vec<u8>>,
}

enum Job {
    /// Read from `offset` (0 for new and rewritten files).
    Read {
        path: String,
        full: PathBuf,
        place: FilePlace,
        size: u64,
        mtime_ns: i64,
        offset: u64,
        /// Existing row to extend (appended) or None (new, or rewritten: row replaced).
        extend: Option<i64>,
        replace: Option<i64>,
    },
}

/// What reading one file (or its new part) produced.
struct Parsed {
    job: Job,
    end_offset: u64,
    checksum: Vec<u8>,
    lines: u64,
    malformed: u64,
    meta: FileMeta,
    records: Vec<UsageRecord>,
    error: Option<std::io::Error>,
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

fn mtime_ns(meta: &std::fs::Metadata) -> i64 {
    meta.modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_nanos() as i64)
        .unwrap_or(0)
}

/// Hash of the first 4 KiB and of the 256 bytes before `offset`: what an append leaves alone.
fn checksum_of(file: &mut File, offset: u64) -> std::io::Result<Vec<u8>> {
    let mut hasher = Sha256::new();
    let head_len = offset.min(4096);
    let mut head = vec![0u8; head_len as usize];
    file.seek(SeekFrom::Start(0))?;
    file.read_exact(&mut head)?;
    hasher.update(&head);
    let tail_start = offset.saturating_sub(256);
    let mut tail = vec![0u8; (offset - tail_start) as usize];
    file.seek(SeekFrom::Start(tail_start))?;
    file.read_exact(&mut tail)?;
    hasher.update(&tail);
    Ok(hasher.finalize().to_vec())
}

/// Every `.jsonl` under `root`, relative paths with '/' separators.
fn walk(root: &Path) -> Vec<(String, PathBuf, std::fs::Metadata)> {
    let mut found = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for entry in entries.flatten() {
            let Ok(kind) = entry.file_type() else { continue };
            let full = entry.path();
            if kind.is_dir() {
                stack.push(full);
            } else if kind.is_file() && full.extension().and_then(|e| e.to_str()) == Some("jsonl") {
                let Ok(meta) = entry.metadata() else { continue };
                let Ok(rel) = full.strip_prefix(root) else { continue };
                let rel = rel
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect::<Vec<_>>()
                    .join("/");
                found.push((rel, full, meta));
            }
        }
    }
    found
}

fn read_job(job: Job) -> Parsed {
    let Job::Read { full, offset, .. } = &job;
    let (full, offset) = (full.clone(), *offset);
    let mut parsed = Parsed {
        job,
        end_offset: offset,
        checksum: Vec::new(),
        lines: 0,
        malformed: 0,
        meta: FileMeta::default(),
        records: Vec::new(),
        error: None,
    };
    let result = (|| -> std::io::Result<()> {
        let mut file = File::open(&full)?;
        file.seek(SeekFrom::Start(offset))?;
        let mut reader = BufReader::with_capacity(256 * 1024, &mut file);
        let mut buf = Vec::with_capacity(64 * 1024);
        let mut position = offset;
        loop {
            buf.clear();
            let n = reader.read_until(b'\n', &mut buf)?;
            if n == 0 {
                break;
            }
            let complete = buf.last() == Some(&b'\n');
            // Valid UTF-8 (nearly every line) is checked by the fast validator; only a broken line pays for
            // the lossy conversion.
            let text = match std::str::from_utf8(&buf) {
                Ok(text) => std::borrow::Cow::Borrowed(text),
                Err(_) => String::from_utf8_lossy(&buf),
            };
            let parsed_line = line::parse(text.trim_end_matches(['\n', '\r']));
            if !complete && parsed_line == Line::Malformed {
                // A line still being written: read it again once it is whole.
                break;
            }
            position += n as u64;
            match parsed_line {
                Line::Blank => {}
                Line::Malformed => {
                    parsed.lines += 1;
                    parsed.malformed += 1;
                }
                Line::Facts { meta, usage } => {
                    parsed.lines += 1;
                    parsed.meta.add(meta);
                    if let Some(usage) = usage {
                        parsed.records.push(usage);
                    }
                }
            }
        }
        drop(reader);
        parsed.end_offset = position;
        parsed.checksum = checksum_of(&mut file, position)?;
        Ok(())
    })();
    if let Err(error) = result {
        parsed.error = Some(error);
    }
    parsed
}

/// Brings the index in `conn` up to date with the files under `root`.
pub fn scan(
    conn: &mut Connection,
    root: &Path,
    stop: &AtomicBool,
    mut progress: impl FnMut(Progress),
) -> Result<ScanStats, IndexError> {
    let mut stats = ScanStats::default();
    let mut known: HashMap<String, Known> = HashMap::new();
    {
        let mut stmt =
            conn.prepare("SELECT path, id, size, mtime_ns, parsed_offset, checksum FROM transcript_files")?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                Known {
                    id: r.get(1)?,
                    size: r.get::<_, i64>(2)? as u64,
                    mtime_ns: r.get(3)?,
                    offset: r.get::<_, i64>(4)? as u64,
                    checksum: r.get(5)?,
                },
            ))
        })?;
        for row in rows {
            let (path, k) = row?;
            known.insert(path, k);
        }
    }
    let found = if root.is_dir() { walk(root) } else { Vec::new() };
    stats.files = found.len();
    let mut jobs = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (rel, full, meta) in found {
        let Some(place) = layout::place(Path::new(&rel)) else {
            stats.files -= 1;
            continue;
        };
        seen.insert(rel.clone());
        let size = meta.len();
        let mtime = mtime_ns(&meta);
        match known.get(&rel) {
            Some(k) if k.size == size && k.mtime_ns == mtime => stats.unchanged += 1,
            Some(k) => {
                let appended = size >= k.offset
                    && File::open(&full)
                        .and_then(|mut f| checksum_of(&mut f, k.offset))
                        .ok()
                        .is_some_and(|sum| Some(sum) == k.checksum);
                let (offset, extend, replace) = if appended {
                    stats.appended += 1;
                    (k.offset, Some(k.id), None)
                } else {
                    stats.reindexed += 1;
                    (0, None, Some(k.id))
                };
                jobs.push(Job::Read {
                    path: rel,
                    full,
                    place,
                    size,
                    mtime_ns: mtime,
                    offset,
                    extend,
                    replace,
                });
            }
            None => {
                stats.new += 1;
                jobs.push(Job::Read {
                    path: rel,
                    full,
                    place,
                    size,
                    mtime_ns: mtime,
                    offset: 0,
                    extend: None,
                    replace: None,
                });
            }
        }
    }
    let gone: Vec<i64> = known
        .iter()
        .filter(|(path, _)| !seen.contains(*path))
        .map(|(_, k)| k.id)
        .collect();
    stats.removed = gone.len();
    if !gone.is_empty() {
        let tx = conn.transaction()?;
        for id in &gone {
            tx.execute("DELETE FROM transcript_files WHERE id = ?1", [id])?;
        }
        tx.commit()?;
    }
    if jobs.is_empty() {
        return Ok(stats);
    }
    // Big files first, so the two readers finish together.
    jobs.sort_by_key(|Job::Read { size, offset, .. }| std::cmp::Reverse(size - offset.min(size)));
    let total = Progress {
        files_done: 0,
        files_total: jobs.len(),
        bytes_done: 0,
        bytes_total: jobs
            .iter()
            .map(|Job::Read { size, offset, .. }| size.saturating_sub(*offset))
            .sum(),
    };
    progress(total);
    let jobs: Vec<std::sync::Mutex<Option<Job>>> = jobs.into_iter().map(|j| std::sync::Mutex::new(Some(j))).collect();
    let jobs = Arc::new(jobs);
    let next = Arc::new(AtomicUsize::new(0));
    let (tx, rx) = mpsc::sync_channel::<Parsed>(8);
    let readers = std::thread::available_parallelism().map_or(2, |n| n.get()).clamp(1, 4);
    std::thread::scope(|scope| -> Result<(), IndexError> {
        for _ in 0..readers {
            let (jobs, next, tx) = (jobs.clone(), next.clone(), tx.clone());
            scope.spawn(move || {
                loop {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(slot) = jobs.get(i) else { break };
                    let Some(job) = slot.lock().ok().and_then(|mut j| j.take()) else {
                        continue;
                    };
                    if tx.send(read_job(job)).is_err() {
                        break;
                    }
                }
            });
        }
        drop(tx);
        let mut done = total;
        done.files_done = 0;
        done.bytes_done = 0;
        let mut batch = conn.transaction()?;
        let mut in_batch = 0usize;
        let mut reported = std::time::Instant::now();
        progress(done);
        for parsed in rx {
            let Job::Read { size, offset, .. } = &parsed.job;
            done.files_done += 1;
            done.bytes_done += size.saturating_sub(*offset);
            if parsed.error.is_some() {
                stats.unreadable += 1;
            } else {
                stats.bytes_read += parsed.end_offset - offset;
                stats.lines_read += parsed.lines;
                stats.malformed += parsed.malformed;
                in_batch += parsed.records.len() + 1;
                store(&batch, parsed)?;
            }
            if in_batch > 20_000 {
                batch.commit()?;
                batch = conn.transaction()?;
                in_batch = 0;
            }
            if reported.elapsed() >= std::time::Duration::from_millis(100) {
                reported = std::time::Instant::now();
                progress(done);
            }
        }
        batch.commit()?;
        progress(done);
        Ok(())
    })?;
    if stop.load(Ordering::Relaxed) {
        return Err(IndexError::Stopped);
    }
    Ok(stats)
}

fn store(tx: &rusqlite::Transaction, parsed: Parsed) -> Result<(), IndexError> {
    let Job::Read {
        path,
        place,
        size,
        mtime_ns,
        extend,
        replace,
        ..
    } = parsed.job;
    if let Some(id) = replace {
        tx.execute("DELETE FROM transcript_files WHERE id = ?1", [id])?;
    }
    let (file_id, meta, lines, malformed) = match extend {
        Some(id) => {
            let (earlier, lines, malformed) = stored_meta(tx, id)?;
            (
                Some(id),
                earlier.then(parsed.meta),
                lines + parsed.lines,
                malformed + parsed.malformed,
            )
        }
        None => (None, parsed.meta, parsed.lines, parsed.malformed),
    };
    let models = meta.models.iter().cloned().collect::<Vec<_>>().join("\n");
    let values = params![
        path,
        place.project_dir,
        place.session_id,
        place.subagent,
        size as i64,
        mtime_ns,
        parsed.end_offset as i64,
        parsed.checksum,
        lines as i64,
        malformed as i64,
        meta.inner_session,
        meta.cwd,
        meta.git_branch,
        meta.first_ms,
        meta.last_ms,
        meta.messages as i64,
        meta.first_prompt,
        meta.custom_title,
        meta.ai_title,
        meta.summary,
        models,
    ];
    let id = match file_id {
        Some(id) => {
            tx.execute(
                "UPDATE transcript_files SET path=?1, project_dir=?2, session_id=?3, subagent=?4, size=?5, mtime_ns=?6,
                 parsed_offset=?7, checksum=?8, lines=?9, malformed=?10, inner_session=?11, cwd=?12, git_branch=?13,
                 first_ms=?14, last_ms=?15, messages=?16, first_prompt=?17, custom_title=?18, ai_title=?19,
                 summary=?20, models=?21 WHERE id = ?22",
                rusqlite::params_from_iter(
                    values
                        .iter()
                        .copied()
                        .chain(std::iter::once(&id as &dyn rusqlite::ToSql)),
                ),
            )?;
            id
        }
        None => {
            tx.execute(
                "INSERT INTO transcript_files (path, project_dir, session_id, subagent, size, mtime_ns, parsed_offset,
                 checksum, lines, malformed, inner_session, cwd, git_branch, first_ms, last_ms, messages, first_prompt,
                 custom_title, ai_title, summary, models)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21)",
                values,
            )?;
            tx.last_insert_rowid()
        }
    };
    let mut insert = tx.prepare_cached(
        "INSERT INTO usage_records (file_id, ts_ms, message_id, request_id, model, input, output, cache_write_5m,
         cache_write_1h, cache_read, cost_usd, sidechain, fast) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
    )?;
    for r in &parsed.records {
        insert.execute(params![
            id,
            r.timestamp_ms,
            r.message_id,
            r.request_id,
            r.model,
            r.input as i64,
            r.output as i64,
            r.cache_write_5m as i64,
            r.cache_write_1h as i64,
            r.cache_read as i64,
            r.cost_usd,
            r.sidechain,
            r.fast,
        ])?;
    }
    Ok(())
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

fn stored_meta(tx: &rusqlite::Transaction, id: i64) -> Result<(FileMeta, u64, u64), IndexError> {
    let row = tx
        .query_row(
            &format!("SELECT {META_COLUMNS}, lines, malformed FROM transcript_files WHERE id = ?1"),
            [id],
            |r| {
                Ok((
                    meta_from(r, 0)?,
                    r.get::<_, i64>(11)? as u64,
                    r.get::<_, i64>(12)? as u64,
                ))
            },
        )
        .optional()?;
    Ok(row.unwrap_or_default())
}

/// Loads everything the index holds.
pub fn load(conn: &Connection) -> Result<Loaded, IndexError> {
    let mut loaded = Loaded::default();
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
        let mut keyed: Vec<(usize, Entry)> = ranked.into_iter().zip(loaded.entries.drain(..)).collect();
        keyed.sort_by_key(|(r, _)| *r);
        loaded.entries = keyed.into_iter().map(|(_, e)| e).collect();
    }
    let mut stmt = conn.prepare("SELECT path FROM added_projects ORDER BY added_ms")?;
    loaded.added_projects = stmt.query_map([], |r| r.get(0))?.collect::<Result<_, _>>()?;
    Ok(loaded)
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
