//! Reading the tree: which files changed since the last scan, and parsing what is new in them.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, mpsc};

use rusqlite::{Connection, OptionalExtension, params};
use sha2::{Digest, Sha256};

use super::{FileMeta, IndexError, META_COLUMNS, Progress, ScanStats, meta_from};
use crate::domain::transcripts::layout::{self, FilePlace};
use crate::domain::transcripts::line::{self, Line, UsageRecord};
use crate::util::lines::{CappedLines, MAX_JSON_LINE, Piece};

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

/// One message's searchable text.
struct Said {
    uuid: Option<String>,
    /// Where the line starts in the file.
    offset: u64,
    ts_ms: Option<i64>,
    from_claude: bool,
    /// The tools' side (inputs, results) rather than the conversation's words.
    tool: bool,
    text: String,
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

/// One transcript file as the walk found it: only what tells whether it changed (a warm scan of tens of
/// thousands of files holds no more than this for each).
struct Found {
    /// Relative to the root, '/' separators.
    rel: String,
    size: u64,
    mtime_ns: i64,
}

/// Every `.jsonl` under `root`. The project folders are shared between two threads: a warm scan is mostly
/// `stat` calls, which then run on two cores.
fn walk(root: &Path) -> Vec<Found> {
    let mut found = Vec::new();
    let mut folders = Vec::new();
    walk_folder(root, String::new(), &mut found, Some(&mut folders));
    let next = AtomicUsize::new(0);
    let take = || {
        let mut mine = Vec::new();
        loop {
            let at = next.fetch_add(1, Ordering::Relaxed);
            let Some((full, rel)) = folders.get(at) else { break };
            walk_folder(full, rel.clone(), &mut mine, None);
        }
        mine
    };
    std::thread::scope(|scope| {
        let helper = scope.spawn(take);
        found.extend(take());
        match helper.join() {
            Ok(theirs) => found.extend(theirs),
            Err(_) => tracing::warn!("a transcript folder walk failed"),
        }
    });
    found
}

/// The `.jsonl` files under `dir` (whose path relative to the root is `rel`, "" for the root) into
/// `found`; its subfolders are walked too, or, when `folders` is given, listed there instead.
fn walk_folder(dir: &Path, rel: String, found: &mut Vec<Found>, mut folders: Option<&mut Vec<(PathBuf, String)>>) {
    let mut stack = vec![(dir.to_path_buf(), rel)];
    while let Some((dir, rel)) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for entry in entries.flatten() {
            let Ok(kind) = entry.file_type() else { continue };
            let name = entry.file_name();
            let jsonl = Path::new(&name).extension().is_some_and(|e| e == "jsonl");
            let name = name.to_string_lossy();
            let child = if rel.is_empty() {
                name.into_owned()
            } else {
                format!("{rel}/{name}")
            };
            if kind.is_dir() {
                match folders.as_deref_mut() {
                    Some(list) => list.push((entry.path(), child)),
                    None => stack.push((entry.path(), child)),
                }
            } else if kind.is_file() && jsonl {
                let Ok(meta) = entry.metadata() else { continue };
                found.push(Found {
                    rel: child,
                    size: meta.len(),
                    mtime_ns: mtime_ns(&meta),
                });
            }
        }
    }
}

/// One line as [`each_line`] hands it over.
enum Seen<'a> {
    Line(&'a str),
    /// Far longer than any real record: skipped, never held in memory.
    TooLong,
}

/// Reads `reader`'s lines, the first starting at `position`: `each` gets each one with where it starts
/// and whether it ended with a newline, and returns false to stop before it (that line is not read).
/// Returns where the lines taken end.
fn each_line(
    reader: &mut impl std::io::BufRead,
    mut position: u64,
    mut each: impl FnMut(Seen<'_>, u64, bool) -> bool,
) -> std::io::Result<u64> {
    let mut lines = CappedLines::new(MAX_JSON_LINE);
    while let Some(piece) = lines.next(reader)? {
        let complete = piece.complete();
        let n = piece.len();
        let seen = match piece {
            Piece::Line { bytes, .. } => match std::str::from_utf8(bytes) {
                // Valid UTF-8 (nearly every line) is checked by the fast validator; only a broken line pays
                // for the lossy conversion.
                Ok(text) => {
                    if !each(Seen::Line(text.trim_end_matches(['\n', '\r'])), position, complete) {
                        break;
                    }
                    position += n;
                    continue;
                }
                Err(_) => String::from_utf8_lossy(bytes).into_owned(),
            },
            Piece::TooLong { .. } => {
                each(Seen::TooLong, position, complete);
                position += n;
                continue;
            }
        };
        if !each(Seen::Line(seen.trim_end_matches(['\n', '\r'])), position, complete) {
            break;
        }
        position += n;
    }
    Ok(position)
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
        let position = each_line(&mut reader, offset, |seen, _, complete| {
            let text = match seen {
                Seen::TooLong => {
                    parsed.lines += 1;
                    parsed.malformed += 1;
                    return true;
                }
                Seen::Line(text) => text,
            };
            // Once the file's first prompt is known, tool results need not be searched for one. The
            // messages' text is read for search separately ([`catch_up_search`]).
            let prompts = parsed.meta.first_prompt.is_none();
            let parsed_line = line::parse_for(text, prompts, false);
            if !complete && parsed_line == Line::Malformed {
                // A line still being written: read it again once it is whole.
                return false;
            }
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
            true
        })?;
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

/// Brings the index in `conn` up to date with the files under `root`. What it reads is stored as it goes,
/// never kept: the catalog and the reports are streamed from the index afterwards.
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
    for Found {
        rel,
        size,
        mtime_ns: mtime,
    } in found
    {
        let Some(place) = layout::place(Path::new(&rel)) else {
            stats.files -= 1;
            continue;
        };
        // What is left of `known` afterwards is gone from the tree.
        match known.remove(&rel) {
            Some(k) if k.size == size && k.mtime_ns == mtime => stats.unchanged += 1,
            Some(k) => {
                let full = root.join(&rel);
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
                    full: root.join(&rel),
                    path: rel,
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
    let gone: Vec<i64> = known.into_values().map(|k| k.id).collect();
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
            if in_batch > 5_000 {
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

/// Writes what was read.
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

/// A file whose lines the usage index has read further than the search index.
struct Behind {
    id: i64,
    full: PathBuf,
    from: u64,
    to: u64,
}

/// What one file's catch-up read: its messages' text, and where it got to.
struct Texts {
    id: i64,
    from: u64,
    to: u64,
    said: Vec<Said>,
}

/// What [`catch_up_search`] did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SearchCatchUp {
    pub files: usize,
    pub bytes: u64,
    /// Files still behind (another call continues).
    pub more: bool,
}

/// Brings the search index up to where the usage index has read, reading at most about `budget` bytes
/// (at least one file) so that a caller can let a scan run between calls. The usage index reads the
/// transcripts without their text ([`scan`] stays fast on a first start); this reads the same lines
/// again for each message's words and tools' text. A file rewritten meanwhile is caught by the next
/// scan, which replaces its row and with it what this stored.
pub fn catch_up_search(
    conn: &mut Connection,
    root: &Path,
    stop: &AtomicBool,
    budget: u64,
) -> Result<SearchCatchUp, IndexError> {
    let mut behind = Vec::new();
    let mut more = false;
    {
        let mut stmt = conn.prepare(
            "SELECT id, path, searched_offset, parsed_offset FROM transcript_files
             WHERE searched_offset < parsed_offset ORDER BY id",
        )?;
        let mut rows = stmt.query([])?;
        let mut taken = 0u64;
        while let Some(row) = rows.next()? {
            if !behind.is_empty() && taken >= budget {
                more = true;
                break;
            }
            let (from, to) = (row.get::<_, i64>(2)?.max(0) as u64, row.get::<_, i64>(3)?.max(0) as u64);
            taken += to - from;
            behind.push(Behind {
                id: row.get(0)?,
                full: root.join(row.get::<_, String>(1)?),
                from,
                to,
            });
        }
    }
    let done = SearchCatchUp {
        files: behind.len(),
        bytes: behind.iter().map(|b| b.to - b.from).sum(),
        more,
    };
    if behind.is_empty() {
        return Ok(done);
    }
    // Few files' texts in flight and small transactions: this runs once over the whole history, and what
    // it holds at its peak stays with the process afterwards (the allocator keeps it).
    let (tx, rx) = mpsc::sync_channel::<Texts>(2);
    std::thread::scope(|scope| -> Result<(), IndexError> {
        scope.spawn(move || {
            for file in behind {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                if tx.send(read_texts(file)).is_err() {
                    break;
                }
            }
        });
        let mut batch = conn.transaction()?;
        let mut in_batch = 0usize;
        for texts in rx {
            in_batch += texts.said.len() + 1;
            store_texts(&batch, &texts)?;
            if in_batch > 5_000 {
                batch.commit()?;
                batch = conn.transaction()?;
                in_batch = 0;
            }
        }
        batch.commit()?;
        Ok(())
    })?;
    if stop.load(Ordering::Relaxed) {
        return Err(IndexError::Stopped);
    }
    Ok(done)
}

/// Each message's text in `file` between the offsets. An unreadable file gives none (and is marked read:
/// its next change makes the scan read it again).
fn read_texts(file: Behind) -> Texts {
    let mut texts = Texts {
        id: file.id,
        from: file.from,
        to: file.to,
        said: Vec::new(),
    };
    let result = (|| -> std::io::Result<()> {
        let mut handle = File::open(&file.full)?;
        handle.seek(SeekFrom::Start(file.from))?;
        let mut reader = BufReader::with_capacity(256 * 1024, handle.take(file.to - file.from));
        each_line(&mut reader, file.from, |seen, start, _| {
            let Seen::Line(text) = seen else { return true };
            if let Line::Facts { mut meta, .. } = line::parse_for(text, false, true) {
                for (text, tool) in [(meta.said.take(), false), (meta.tool_text.take(), true)] {
                    if let Some(text) = text {
                        texts.said.push(Said {
                            uuid: meta.uuid.clone(),
                            offset: start,
                            ts_ms: meta.timestamp_ms,
                            from_claude: meta.from_claude,
                            tool,
                            text,
                        });
                    }
                }
            }
            true
        })?;
        Ok(())
    })();
    if let Err(error) = result {
        tracing::debug!(%error, file = %file.full.display(), "not read for search");
    }
    texts
}

/// Stores what was read, unless the file's row changed since (another process's scan replaced it, or
/// another catch-up stored it): then its text is left to the catch-up that reads the row as it is now.
fn store_texts(tx: &rusqlite::Transaction, texts: &Texts) -> Result<(), IndexError> {
    let moved = tx.execute(
        "UPDATE transcript_files SET searched_offset = ?1
         WHERE id = ?2 AND searched_offset = ?3 AND parsed_offset >= ?1",
        params![texts.to as i64, texts.id, texts.from as i64],
    )?;
    if moved == 0 {
        return Ok(());
    }
    let mut message = tx.prepare_cached(
        "INSERT INTO transcript_messages (file_id, uuid, line_offset, ts_ms, from_claude, tool)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    let mut text = tx.prepare_cached("INSERT INTO transcript_search (rowid, body) VALUES (?1, ?2)")?;
    for said in &texts.said {
        message.execute(params![
            texts.id,
            said.uuid,
            said.offset as i64,
            said.ts_ms,
            said.from_claude,
            said.tool
        ])?;
        text.execute(params![tx.last_insert_rowid(), said.text])?;
    }
    Ok(())
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
