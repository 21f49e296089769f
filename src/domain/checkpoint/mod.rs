//! Checkpoints: snapshots of a project's files along a session.
//!
//! A checkpoint records the root of a content-addressed [`tree`] of the project's files: each folder's
//! sorted entries stored once under their hash, so a checkpoint where nothing changed adds no tree and
//! one changed file adds its content and the folders above it. Contents live once each in the
//! [`blobs`] store. Checkpoints taken before trees existed keep their full manifest in
//! `checkpoint_files` and are read from there. `.gitignore` rules are honoured; files over the store's
//! limit and files that cannot be read are left out and listed (a restore never deletes or overwrites
//! them). A file whose size, modification and change time and inode match what the last checkpoint saw
//! is not read again (the stat cache).
//!
//! - [`restore`]: preview and restore (atomic writes, a "before restore" checkpoint first).
//! - [`diff`]: unified diffs between checkpoints or against the working tree.

pub mod blobs;
pub mod diff;
pub mod journal;
pub mod requests;
pub mod restore;
mod stat_cache;
pub mod tree;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

pub use blobs::Blobs;

/// Files larger than this are not snapshotted (they are listed as skipped) unless the store is given
/// another limit ([`Blobs::with_max_file_bytes`], the `checkpoints.max_file_mb` setting).
pub const DEFAULT_MAX_FILE_BYTES: u64 = 256 * 1024 * 1024;

/// Files up to this size are read whole; larger ones are hashed and stored in pieces.
const READ_WHOLE_BYTES: u64 = 1024 * 1024;

/// Why a checkpoint operation failed.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    #[error("the project folder {0} does not exist")]
    NoProject(PathBuf),
    #[error("no checkpoint {0}")]
    NotFound(String),
    #[error("checkpoint {id} is of the folder {checkpoint_project}, not of {given}; nothing was changed")]
    OtherProject {
        id: String,
        checkpoint_project: String,
        given: PathBuf,
    },
    #[error(
        "the restore stopped part way ({source}); the files as they were before it are in checkpoint {before}: restore that one to undo"
    )]
    RestoreStopped {
        before: String,
        source: Box<CheckpointError>,
    },
    #[error("file error at {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    /// The disk is full: nothing was recorded, the checkpoints taken before are intact.
    #[error(
        "no space left on the device to write {path}: nothing was recorded and the earlier checkpoints are intact. Free some space and try again"
    )]
    NoSpace { path: PathBuf },
    /// Another restore (or recovery) of the project is running.
    #[error("a restore of {0} is running; wait for it to end")]
    RestoreRunning(String),
    /// A restore of the project stopped part way (the process was killed): the files may be a mix.
    #[error(
        "a restore of {project} to checkpoint {target} was interrupted, so its files may be a mix of two \
         checkpoints. Finish it with `anyon checkpoints recover --project {project} --finish`, or undo it with \
         `anyon checkpoints recover --project {project} --rollback` (the files before it are in checkpoint \
         {before}); the window offers the same",
        project = .0.project_path, target = .0.target_id, before = .0.before_id
    )]
    RestoreInterrupted(Box<journal::Interrupted>),
    #[error("no interrupted restore of {0}: nothing to recover")]
    NothingToRecover(String),
    /// Something stored is missing or does not match its hash.
    #[error("{0} is missing or damaged in the checkpoint store")]
    Damaged(String),
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> CheckpointError + '_ {
    move |source| {
        if source.kind() == std::io::ErrorKind::StorageFull {
            return CheckpointError::NoSpace {
                path: path.to_path_buf(),
            };
        }
        CheckpointError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

impl CheckpointError {
    /// A stable name for the kind of failure (CLI JSON errors).
    pub fn kind(&self) -> &'static str {
        match self {
            CheckpointError::NoSpace { .. } => "no_space",
            CheckpointError::RestoreRunning(_) => "restore_running",
            CheckpointError::RestoreInterrupted(_) => "restore_interrupted",
            CheckpointError::NothingToRecover(_) => "nothing_to_recover",
            CheckpointError::RestoreStopped { source, .. } => match source.kind() {
                "no_space" => "no_space",
                _ => "checkpoint",
            },
            CheckpointError::Io { source, .. } if source.kind() == std::io::ErrorKind::StorageFull => "no_space",
            _ => "checkpoint",
        }
    }
}

/// One file of a manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileEntry {
    /// Relative to the project, `/`-separated.
    pub path: String,
    /// None for a file deleted since the parent checkpoint.
    pub hash: Option<String>,
    pub size: u64,
    pub mode: u32,
    pub deleted: bool,
}

/// Why a checkpoint was taken, as stored in `checkpoints.trigger_kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Trigger {
    /// The person asked for it.
    #[default]
    Manual,
    /// Before a prompt was sent (automatic checkpoints).
    BeforePrompt,
    /// Before a tool changed files (Claude's PreToolUse hook).
    BeforeTool,
    /// Before a restore, so the restore can be undone.
    BeforeRestore,
    /// Where a conversation was branched off.
    Fork,
}

impl Trigger {
    pub const ALL: [Trigger; 5] = [
        Trigger::Manual,
        Trigger::BeforePrompt,
        Trigger::BeforeTool,
        Trigger::BeforeRestore,
        Trigger::Fork,
    ];

    /// The stored name (`before_tool`).
    pub fn as_str(self) -> &'static str {
        match self {
            Trigger::Manual => "manual",
            Trigger::BeforePrompt => "before_prompt",
            Trigger::BeforeTool => "before_tool",
            Trigger::BeforeRestore => "before_restore",
            Trigger::Fork => "fork",
        }
    }

    /// The name as a person reads it (`before tool`).
    pub fn label(self) -> &'static str {
        match self {
            Trigger::Manual => "manual",
            Trigger::BeforePrompt => "before prompt",
            Trigger::BeforeTool => "before tool",
            Trigger::BeforeRestore => "before restore",
            Trigger::Fork => "fork",
        }
    }
}

impl std::fmt::Display for Trigger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl rusqlite::types::FromSql for Trigger {
    fn column_result(value: rusqlite::types::ValueRef<'_>) -> rusqlite::types::FromSqlResult<Self> {
        let text = value.as_str()?;
        Self::ALL
            .into_iter()
            .find(|trigger| trigger.as_str() == text)
            .ok_or_else(|| rusqlite::types::FromSqlError::Other(format!("unknown checkpoint trigger {text:?}").into()))
    }
}

impl rusqlite::types::ToSql for Trigger {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        Ok(self.as_str().into())
    }
}

/// A stored checkpoint.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Checkpoint {
    pub id: String,
    pub session_id: String,
    pub project_path: String,
    pub parent_id: Option<String>,
    pub message_index: i64,
    pub trigger: Trigger,
    pub description: Option<String>,
    pub files_changed: i64,
    pub lines_added: i64,
    pub lines_removed: i64,
    pub total_bytes: i64,
    pub created_at: String,
}

/// What a new checkpoint is for.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CreateRequest {
    pub project: PathBuf,
    pub session_id: String,
    pub trigger: Trigger,
    pub description: Option<String>,
    pub message_index: i64,
}

/// A new checkpoint and the files it could not hold.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Created {
    pub checkpoint: Checkpoint,
    /// Left out for their size: (path, bytes).
    pub skipped: Vec<(String, u64)>,
    /// Left out because they could not be read.
    pub unreadable: Vec<String>,
}

/// A file found in the working tree.
pub(crate) struct WorkingFile {
    pub relative: String,
    pub absolute: PathBuf,
    pub size: u64,
    pub mode: u32,
    pub mtime_ns: i64,
    /// When its metadata last changed (a rewrite changes it even when the modification time is put back).
    pub ctime_ns: i64,
    pub inode: u64,
}

/// The project's files, `.gitignore` honoured, `.git` and symlinks left out.
pub(crate) fn walk(project: &Path) -> Vec<WorkingFile> {
    let walker = ignore::WalkBuilder::new(project)
        .hidden(false)
        .git_ignore(true)
        .git_global(false)
        .git_exclude(true)
        .require_git(false)
        .parents(false)
        .filter_entry(|entry| entry.file_name() != ".git")
        .build();
    let mut files = Vec::new();
    for entry in walker.flatten() {
        if !entry.file_type().is_some_and(|t| t.is_file()) {
            continue;
        }
        let Ok(meta) = entry.metadata() else { continue };
        let Ok(relative) = entry.path().strip_prefix(project) else {
            continue;
        };
        let relative = relative
            .components()
            .map(|c| c.as_os_str().to_string_lossy())
            .collect::<Vec<_>>()
            .join("/");
        let (ctime_ns, inode) = change_time_and_inode(&meta);
        files.push(WorkingFile {
            relative,
            absolute: entry.path().to_path_buf(),
            size: meta.len(),
            mode: file_mode(&meta),
            mtime_ns: meta
                .modified()
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_nanos() as i64),
            ctime_ns,
            inode,
        });
    }
    files.sort_by(|a, b| a.relative.cmp(&b.relative));
    files
}

#[cfg(unix)]
fn change_time_and_inode(meta: &std::fs::Metadata) -> (i64, u64) {
    use std::os::unix::fs::MetadataExt;
    (
        meta.ctime()
            .saturating_mul(1_000_000_000)
            .saturating_add(meta.ctime_nsec()),
        meta.ino(),
    )
}

#[cfg(not(unix))]
fn change_time_and_inode(_meta: &std::fs::Metadata) -> (i64, u64) {
    (0, 0)
}

#[cfg(unix)]
fn file_mode(meta: &std::fs::Metadata) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode() & 0o7777
}

#[cfg(not(unix))]
fn file_mode(meta: &std::fs::Metadata) -> u32 {
    if meta.permissions().readonly() { 0o444 } else { 0o644 }
}

fn checkpoint_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Checkpoint> {
    Ok(Checkpoint {
        id: row.get(0)?,
        session_id: row.get(1)?,
        project_path: row.get(2)?,
        parent_id: row.get(3)?,
        message_index: row.get(4)?,
        trigger: row.get(5)?,
        description: row.get(6)?,
        files_changed: row.get(7)?,
        lines_added: row.get(8)?,
        lines_removed: row.get(9)?,
        total_bytes: row.get(10)?,
        created_at: row.get(11)?,
    })
}

const COLUMNS: &str = "id, session_id, project_path, parent_id, message_index, trigger_kind, description, \
     files_changed, lines_added, lines_removed, total_bytes, created_at";

/// A session's checkpoints, oldest first (all sessions of the project when `session` is None).
pub fn list(conn: &Connection, project: &str, session: Option<&str>) -> Result<Vec<Checkpoint>, CheckpointError> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {COLUMNS} FROM checkpoints WHERE project_path = ?1 AND (?2 IS NULL OR session_id = ?2)
         ORDER BY created_at, rowid"
    ))?;
    let rows = stmt
        .query_map(params![project, session], checkpoint_from_row)?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

pub fn get(conn: &Connection, id: &str) -> Result<Checkpoint, CheckpointError> {
    conn.query_row(
        &format!("SELECT {COLUMNS} FROM checkpoints WHERE id = ?1"),
        [id],
        checkpoint_from_row,
    )
    .optional()?
    .ok_or_else(|| CheckpointError::NotFound(id.to_owned()))
}

/// Whether two paths name the same folder: compared canonically (links and `..` resolved), or as written
/// when one cannot be resolved (a folder since moved away).
pub fn same_folder(a: &Path, b: &Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

/// The checkpoint `id`, refused unless it was taken of `project`: its files must never be written into,
/// or compared with, another folder.
pub fn get_for(conn: &Connection, id: &str, project: &Path) -> Result<Checkpoint, CheckpointError> {
    let checkpoint = get(conn, id)?;
    if !same_folder(Path::new(&checkpoint.project_path), project) {
        return Err(CheckpointError::OtherProject {
            id: checkpoint.id,
            checkpoint_project: checkpoint.project_path,
            given: project.to_path_buf(),
        });
    }
    Ok(checkpoint)
}

/// What a checkpoint's files are recorded as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Snapshot {
    /// The root of its tree.
    Tree(tree::Hash),
    /// A checkpoint taken before trees: its manifest rows in `checkpoint_files`, by checkpoint id.
    Manifest(String),
}

/// How the checkpoint `id` records its files.
pub fn snapshot(conn: &Connection, id: &str) -> Result<Snapshot, CheckpointError> {
    let root: Option<Vec<u8>> = conn
        .prepare_cached("SELECT root_tree FROM checkpoints WHERE id = ?1")?
        .query_row([id], |row| row.get(0))
        .optional()?
        .ok_or_else(|| CheckpointError::NotFound(id.to_owned()))?;
    match root {
        None => Ok(Snapshot::Manifest(id.to_owned())),
        Some(bytes) => bytes
            .try_into()
            .map(Snapshot::Tree)
            .map_err(|_| CheckpointError::Damaged(format!("the root folder of checkpoint {id}"))),
    }
}

fn manifest_rows(conn: &Connection, id: &str) -> Result<Vec<FileEntry>, CheckpointError> {
    let mut stmt = conn.prepare(
        "SELECT path, content_hash, size, mode, is_deleted FROM checkpoint_files WHERE checkpoint_id = ?1 ORDER BY path",
    )?;
    let rows = stmt
        .query_map([id], |row| {
            Ok(FileEntry {
                path: row.get(0)?,
                hash: row.get(1)?,
                size: row.get::<_, i64>(2)?.max(0) as u64,
                mode: row.get::<_, i64>(3)? as u32,
                deleted: row.get::<_, i64>(4)? != 0,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// Every file entry of a checkpoint, by path (a checkpoint taken before trees also lists the files
/// deleted since its parent, marked so).
pub fn manifest(conn: &Connection, id: &str) -> Result<Vec<FileEntry>, CheckpointError> {
    match snapshot(conn, id)? {
        Snapshot::Tree(root) => Ok(tree::files(conn, &root)?.into_values().collect()),
        Snapshot::Manifest(id) => manifest_rows(conn, &id),
    }
}

/// The files a snapshot holds, by path.
pub fn snapshot_files(conn: &Connection, snapshot: &Snapshot) -> Result<BTreeMap<String, FileEntry>, CheckpointError> {
    match snapshot {
        Snapshot::Tree(root) => tree::files(conn, root),
        Snapshot::Manifest(id) => Ok(manifest_rows(conn, id)?
            .into_iter()
            .filter(|e| !e.deleted)
            .map(|e| (e.path.clone(), e))
            .collect()),
    }
}

/// The files a checkpoint holds (deleted ones left out), by path.
pub fn present_files(conn: &Connection, id: &str) -> Result<BTreeMap<String, FileEntry>, CheckpointError> {
    snapshot_files(conn, &snapshot(conn, id)?)
}

/// The files that differ (content or mode) from `old` (None: nothing) to `new`, by path. Between two
/// trees, equal subtrees are skipped without being read.
pub fn changes(
    conn: &Connection,
    old: Option<&Snapshot>,
    new: &Snapshot,
) -> Result<Vec<tree::Change>, CheckpointError> {
    if let (Some(Snapshot::Tree(a)), Snapshot::Tree(b)) = (old, new) {
        return tree::changes(conn, a, b);
    }
    let before = old.map(|s| snapshot_files(conn, s)).transpose()?.unwrap_or_default();
    let mut after = snapshot_files(conn, new)?;
    let mut out = Vec::new();
    for (path, a) in before {
        match after.remove(&path) {
            Some(b) if a.hash == b.hash && a.mode == b.mode => {}
            b => out.push((path, Some(a), b)),
        }
    }
    out.extend(after.into_iter().map(|(path, b)| (path, None, Some(b))));
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

fn new_id(request: &CreateRequest) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos();
    let seed = format!(
        "{}|{}|{now}|{}",
        request.session_id,
        request.project.display(),
        std::process::id()
    );
    blobs::hash(seed.as_bytes())[..24].to_owned()
}

/// What became of one file's content.
enum Stored {
    /// Its hash, and its lines when it was read whole and is text (for the checkpoint's line counts).
    Hash(String, Option<usize>),
    /// Deleted since the walk found it.
    Gone,
    /// It could not be read (or kept changing while it was).
    Unreadable,
}

/// Stores one file's content: read whole when small, in pieces otherwise.
fn store(blobs: &mut blobs::BlobBatch<'_>, root: &Path, file: &WorkingFile) -> Result<Stored, CheckpointError> {
    let unreadable = |error: std::io::Error| {
        if error.kind() == std::io::ErrorKind::NotFound {
            return Stored::Gone;
        }
        tracing::warn!(path = %file.absolute.display(), %error, "checkpoint: cannot read a file");
        Stored::Unreadable
    };
    if file.size <= READ_WHOLE_BYTES {
        return match std::fs::read(&file.absolute) {
            Ok(bytes) => Ok(Stored::Hash(
                blobs.put(&bytes).map_err(io(root))?,
                diff::text_lines(&bytes),
            )),
            Err(error) => Ok(unreadable(error)),
        };
    }
    let hash = match blobs::hash_file(&file.absolute) {
        Ok(hash) => hash,
        Err(error) => return Ok(unreadable(error)),
    };
    if blobs.put_file(&file.absolute, &hash).map_err(io(root))? {
        Ok(Stored::Hash(hash, None))
    } else {
        Ok(unreadable(std::io::Error::other("it changed while it was read")))
    }
}

/// What one thread of [`store_all`] read, and its contents not yet committed.
type Part<'a> = (Vec<(usize, Stored)>, blobs::BlobBatch<'a>);

/// Reads and stores the files at `indices` of `files`, split over the machine's cores (at most four),
/// each part's new contents made durable together. Returns (index, what became of it) in index order.
fn store_all(blobs: &Blobs, files: &[WorkingFile], indices: &[usize]) -> Result<Vec<(usize, Stored)>, CheckpointError> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 4)
        .min(indices.len().max(1));
    let root = blobs.root();
    let parts: Vec<Result<Part<'_>, CheckpointError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|part| {
                scope.spawn(move || {
                    let mut batch = blobs.batch();
                    let mut out = Vec::new();
                    // Interleaved, so a folder of large files does not land on one thread.
                    for &index in indices.iter().skip(part).step_by(threads) {
                        if let Some(file) = files.get(index) {
                            out.push((index, store(&mut batch, root, file)?));
                        }
                    }
                    Ok((out, batch))
                })
            })
            .collect();
        crate::util::sync::join_all(handles, || {
            CheckpointError::Damaged("a checkpoint's reading thread".into())
        })
    });
    let mut stored = Vec::with_capacity(indices.len());
    let mut batches = Vec::new();
    for part in parts {
        let (out, batch) = part?;
        stored.extend(out);
        batches.push(batch);
    }
    // New contents are made durable before the checkpoint that needs them is recorded.
    for batch in batches {
        batch.commit().map_err(io(root))?;
    }
    stored.sort_by_key(|(index, _)| *index);
    Ok(stored)
}

/// Takes a checkpoint of `request.project`.
///
/// Only files the stat cache does not vouch for are read; the trees are built in memory and only
/// those the store lacks are written, so a checkpoint where nothing changed adds a row and no tree.
pub fn create(conn: &Connection, blobs: &Blobs, request: &CreateRequest) -> Result<Created, CheckpointError> {
    if !request.project.is_dir() {
        return Err(CheckpointError::NoProject(request.project.clone()));
    }
    let project_key = request.project.display().to_string();
    let parent: Option<String> = conn
        .query_row(
            "SELECT id FROM checkpoints WHERE session_id = ?1 AND project_path = ?2 ORDER BY created_at DESC, rowid DESC LIMIT 1",
            params![request.session_id, project_key],
            |row| row.get(0),
        )
        .optional()?;
    let mut cache = stat_cache::Cache::load(conn, &project_key)?;
    let mut entries = Vec::new();
    let mut skipped = Vec::new();
    let mut unreadable = Vec::new();
    // The lines of the files read now, by content: what an added file counts without reading it again.
    let mut lines_read: HashMap<String, usize> = HashMap::new();
    let files = walk(&request.project);
    // What the cache vouches for, and the rest, which is read (on every core: reading, hashing and
    // compressing dominate a first checkpoint).
    let mut known: Vec<Option<tree::Hash>> = Vec::with_capacity(files.len());
    let mut to_read = Vec::new();
    for (index, file) in files.iter().enumerate() {
        let hash = if file.size > blobs.max_file_bytes() {
            None
        } else {
            cache.lookup(file)
        };
        if hash.is_none() && file.size <= blobs.max_file_bytes() {
            to_read.push(index);
        }
        known.push(hash);
    }
    let mut read = store_all(blobs, &files, &to_read)?.into_iter();
    let mut next_read = read.next();
    for (index, (file, hash)) in files.into_iter().zip(known).enumerate() {
        if file.size > blobs.max_file_bytes() {
            skipped.push((file.relative, file.size));
            continue;
        }
        let hash = match hash {
            Some(hash) => crate::util::hex::encode(&hash),
            None => {
                let stored = match next_read.take() {
                    Some((at, stored)) if at == index => {
                        next_read = read.next();
                        stored
                    }
                    other => {
                        next_read = other;
                        continue;
                    }
                };
                // A file that cannot be read is left out and named, not a reason to take no checkpoint
                // at all (a restore then keeps it, as it cannot bring it back).
                match stored {
                    Stored::Hash(hash, lines) => {
                        if let Some(raw) = tree::content_hash(&hash) {
                            cache.record(&file, raw);
                        }
                        if let Some(lines) = lines {
                            lines_read.insert(hash.clone(), lines);
                        }
                        hash
                    }
                    Stored::Gone => continue,
                    Stored::Unreadable => {
                        unreadable.push(file.relative);
                        continue;
                    }
                }
            }
        };
        entries.push(FileEntry {
            path: file.relative,
            hash: Some(hash),
            size: file.size,
            mode: file.mode,
            deleted: false,
        });
    }
    let built = tree::build(&entries)?;
    let root = built
        .last()
        .map(|tree| tree.hash)
        .ok_or_else(|| CheckpointError::Damaged("the project's root folder".into()))?;
    let total_bytes: u64 = entries.iter().map(|e| e.size).sum();
    let id = new_id(request);
    let tx = conn.unchecked_transaction()?;
    tree::store(&tx, &built)?;
    let old = parent.as_deref().map(|p| snapshot(&tx, p)).transpose()?;
    let changed = changes(&tx, old.as_ref(), &Snapshot::Tree(root))?;
    let (files_changed, lines_added, lines_removed) = diff::change_counts(blobs, &changed, &lines_read);
    tx.execute(
        "INSERT INTO checkpoints (id, session_id, project_path, parent_id, message_index, trigger_kind, description,
                                  files_changed, lines_added, lines_removed, total_bytes, root_tree)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        params![
            id,
            request.session_id,
            project_key,
            parent,
            request.message_index,
            request.trigger,
            request.description,
            files_changed as i64,
            lines_added as i64,
            lines_removed as i64,
            total_bytes as i64,
            &root[..],
        ],
    )?;
    cache.save(&tx, &project_key, &entries)?;
    tx.commit()?;
    Ok(Created {
        checkpoint: get(conn, &id)?,
        skipped,
        unreadable,
    })
}

/// How long checkpoints are kept, per session: a checkpoint stays while it is one of the last
/// `keep_last` or younger than `keep_days` days.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    pub keep_last: u32,
    pub keep_days: u32,
}

impl Default for Retention {
    fn default() -> Self {
        Self {
            keep_last: 50,
            keep_days: 30,
        }
    }
}

/// Deletes a session's checkpoints that the retention no longer keeps. Returns how many went; their
/// contents go at the next [`gc`].
pub fn prune(
    conn: &Connection,
    session_id: &str,
    project: &str,
    retention: Retention,
) -> Result<usize, CheckpointError> {
    let deleted = conn.execute(
        "DELETE FROM checkpoints WHERE id IN (
             SELECT id FROM checkpoints WHERE session_id = ?1 AND project_path = ?2
             ORDER BY created_at DESC, rowid DESC LIMIT -1 OFFSET ?3)
           AND julianday('now') - julianday(created_at) >= ?4",
        params![session_id, project, retention.keep_last, retention.keep_days],
    )?;
    Ok(deleted)
}

/// Deletes the trees no checkpoint reaches and the contents no checkpoint refers to. Returns how many
/// contents went. Whatever a kept checkpoint reaches is kept, a subtree shared with a dropped one too;
/// a stored tree that cannot be read stops the collection before anything is deleted.
pub fn gc(conn: &Connection, blobs: &Blobs) -> Result<usize, CheckpointError> {
    let roots: Vec<tree::Hash> = conn
        .prepare("SELECT DISTINCT root_tree FROM checkpoints WHERE root_tree IS NOT NULL")?
        .query_map([], |row| row.get::<_, Vec<u8>>(0))?
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .map(|bytes| {
            bytes
                .try_into()
                .map_err(|_| CheckpointError::Damaged("a checkpoint's root folder".into()))
        })
        .collect::<Result<_, _>>()?;
    let (trees, mut keep) = tree::reachable(conn, &roots)?;
    let mut stmt = conn.prepare("SELECT DISTINCT content_hash FROM checkpoint_files WHERE content_hash IS NOT NULL")?;
    for hash in stmt.query_map([], |row| row.get::<_, String>(0))? {
        keep.insert(hash?);
    }
    let stored: Vec<Vec<u8>> = conn
        .prepare("SELECT hash FROM checkpoint_trees")?
        .query_map([], |row| row.get(0))?
        .collect::<Result<_, _>>()?;
    let tx = conn.unchecked_transaction()?;
    {
        let mut delete = tx.prepare("DELETE FROM checkpoint_trees WHERE hash = ?1")?;
        for hash in stored {
            let reached = <[u8; 32]>::try_from(hash.as_slice()).is_ok_and(|h| trees.contains(&h));
            if !reached {
                delete.execute([&hash])?;
            }
        }
    }
    // The cache forgets the contents about to go, so no later checkpoint takes one from it.
    stat_cache::forget_unless(&tx, &keep)?;
    tx.commit()?;
    blobs.gc(&keep).map_err(io(blobs.root()))
}
