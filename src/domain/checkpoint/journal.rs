//! The restore journal and the per-project restore lock: what makes a restore safe to kill.
//!
//! A restore takes the project's lock (a file lock in the data folder, let go by the system when the
//! process dies), takes its "before restore" checkpoint, then commits a `restore_journal` row saying it
//! is `running` before it changes any file, and marks it done after the last one. A `running` row whose
//! lock nobody holds is an interrupted restore: the project may be a mix of the two checkpoints, so every
//! other checkpoint operation on it is refused until it is finished (the target restored again) or rolled
//! back (the "before restore" checkpoint restored), see [`super::restore::recover`].

use std::fs::File;
use std::path::{Path, PathBuf};

use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

use super::{Blobs, CheckpointError, io};

/// A restore that started and never ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Interrupted {
    /// The project folder, links resolved.
    pub project_path: String,
    /// The checkpoint being restored ("finish" restores it).
    pub target_id: String,
    /// The "before restore" checkpoint ("roll back" restores it).
    pub before_id: String,
    pub started_at: String,
}

/// How a journal row ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// The restore ran to its end.
    Done,
    /// A recovery restored the target.
    Finished,
    /// A recovery restored the "before restore" checkpoint.
    RolledBack,
}

impl Ended {
    fn as_str(self) -> &'static str {
        match self {
            Ended::Done => "done",
            Ended::Finished => "finished",
            Ended::RolledBack => "rolled_back",
        }
    }
}

/// The key a project is journalled and locked under: its folder with links resolved (as written when it
/// cannot be resolved).
pub fn project_key(project: &Path) -> String {
    std::fs::canonicalize(project)
        .unwrap_or_else(|_| project.to_path_buf())
        .display()
        .to_string()
}

/// The restore of `key` that is recorded as running, if any (whether or not a live process runs it).
pub fn running(conn: &Connection, key: &str) -> Result<Option<Interrupted>, CheckpointError> {
    Ok(conn
        .query_row(
            "SELECT project_path, target_id, before_id, started_at FROM restore_journal
             WHERE project_path = ?1 AND state = 'running'",
            [key],
            |row| {
                Ok(Interrupted {
                    project_path: row.get(0)?,
                    target_id: row.get(1)?,
                    before_id: row.get(2)?,
                    started_at: row.get(3)?,
                })
            },
        )
        .optional()?)
}

/// Records, committed, that a restore of `key` to `target_id` is about to change files.
pub fn begin(conn: &Connection, key: &str, target_id: &str, before_id: &str) -> Result<(), CheckpointError> {
    let tx = conn.unchecked_transaction()?;
    tx.execute(
        "INSERT OR REPLACE INTO restore_journal (project_path, target_id, before_id, state) VALUES (?1, ?2, ?3, 'running')",
        params![key, target_id, before_id],
    )?;
    tx.commit()?;
    Ok(())
}

/// Marks the restore of `key` as ended.
pub fn end(conn: &Connection, key: &str, how: Ended) -> Result<(), CheckpointError> {
    let tx = conn.unchecked_transaction()?;
    tx.execute(
        "UPDATE restore_journal SET state = ?2, ended_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
         WHERE project_path = ?1 AND state = 'running'",
        params![key, how.as_str()],
    )?;
    tx.commit()?;
    Ok(())
}

/// The project's restore lock (in [`locks`]), held while this value lives (and let go by the system if the process dies).
#[derive(Debug)]
pub struct RestoreLock {
    _file: File,
}

/// Where the restore locks are: `locks/` beside the blob store, in the data folder.
pub fn locks(blobs: &Blobs) -> PathBuf {
    let root = blobs.root();
    root.parent().unwrap_or(root).join("locks")
}

fn lock_path(dir: &Path, key: &str) -> PathBuf {
    dir.join(format!("restore-{}.lock", &super::blobs::hash(key.as_bytes())[..32]))
}

impl RestoreLock {
    /// Takes the lock of project `key` in `dir`; refused with [`CheckpointError::RestoreRunning`] while
    /// another restore or recovery of it runs.
    pub fn acquire(dir: &Path, key: &str) -> Result<Self, CheckpointError> {
        std::fs::create_dir_all(dir).map_err(io(dir))?;
        let path = lock_path(dir, key);
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(io(&path))?;
        if try_lock(&file).map_err(io(&path))? {
            Ok(Self { _file: file })
        } else {
            Err(CheckpointError::RestoreRunning(key.to_owned()))
        }
    }
}

#[cfg(unix)]
fn try_lock(file: &File) -> std::io::Result<bool> {
    use rustix::fs::{FlockOperation, flock};
    match flock(file, FlockOperation::NonBlockingLockExclusive) {
        Ok(()) => Ok(true),
        Err(rustix::io::Errno::WOULDBLOCK) => Ok(false),
        Err(error) => Err(error.into()),
    }
}

#[cfg(not(unix))]
fn try_lock(file: &File) -> std::io::Result<bool> {
    match file.try_lock() {
        Ok(()) => Ok(true),
        Err(std::fs::TryLockError::WouldBlock) => Ok(false),
        Err(std::fs::TryLockError::Error(error)) => Err(error),
    }
}

/// The interrupted restore of `project`: one recorded as running whose process is gone. A restore that
/// is still running is refused as [`CheckpointError::RestoreRunning`].
pub fn interrupted(conn: &Connection, blobs: &Blobs, project: &Path) -> Result<Option<Interrupted>, CheckpointError> {
    let key = project_key(project);
    let Some(found) = running(conn, &key)? else {
        return Ok(None);
    };
    // Held by a live restore: it is not interrupted, only running.
    drop(RestoreLock::acquire(&locks(blobs), &key)?);
    Ok(Some(found))
}

/// Refuses any checkpoint operation on `project` while a restore of it runs or lies interrupted.
pub fn refuse_while_unfinished(conn: &Connection, blobs: &Blobs, project: &Path) -> Result<(), CheckpointError> {
    match interrupted(conn, blobs, project)? {
        Some(found) => Err(CheckpointError::RestoreInterrupted(Box::new(found))),
        None => Ok(()),
    }
}
