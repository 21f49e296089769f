//! The app's SQLite database: opening it safely and migrating it.
//!
//! One writer connection behind a mutex serves the backend; read-only connections are opened on demand
//! for the Storage screen so that a person's query can never write unless they allow it.

pub mod console;
mod migrate;

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use crate::util::sync::LockExt;

pub use migrate::{MIGRATIONS, Migration, latest_version, migrate};

/// How long a connection waits for another one's lock before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Why the database could not be opened or migrated.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("cannot open the database at {path}: {source}")]
    Open { path: PathBuf, source: rusqlite::Error },
    #[error(
        "the file at {path} is not a readable SQLite database ({detail}); ANYON left it untouched. \
         Move it aside (or set ANYON_HOME to another folder) to start with a new one"
    )]
    Corrupt { path: PathBuf, detail: String },
    #[error(
        "the database at {path} has schema version {found}, newer than this build of ANYON knows \
         ({supported}); ANYON left it untouched. Update ANYON, or set ANYON_HOME to another folder"
    )]
    TooNew { path: PathBuf, found: i64, supported: i64 },
    #[error("migration {name} failed: {source}")]
    Migration {
        name: &'static str,
        source: rusqlite::Error,
    },
    /// The disk holding the database is full: SQLite rolled the change back, so what was saved before is
    /// intact.
    #[error(
        "no space left on the device holding the database {}: the change was not saved, and what was \
         saved before is intact. Free some space and try again",
        path.display()
    )]
    NoSpace { path: PathBuf },
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
}

/// Below this many free bytes, an I/O error of SQLite's is taken to mean the disk is full: SQLite reports
/// a failed write of its journal or shared memory as a plain I/O error.
const NEARLY_FULL: u64 = 1024 * 1024;

/// Whether the SQLite result `code` means the disk holding `database` is full.
pub fn is_no_space(code: rusqlite::ffi::ErrorCode, database: &Path) -> bool {
    use rusqlite::ffi::ErrorCode;
    match code {
        ErrorCode::DiskFull => true,
        ErrorCode::SystemIoFailure | ErrorCode::CannotOpen => {
            crate::util::fs::available_space(database).is_some_and(|free| free < NEARLY_FULL)
        }
        _ => false,
    }
}

/// The app database: its path and the writer connection.
#[derive(Debug)]
pub struct Db {
    path: PathBuf,
    writer: Mutex<Connection>,
}

impl Db {
    /// Opens (creating if missing) and migrates the database at `path`.
    pub fn open(path: &Path) -> Result<Self, DbError> {
        let mut conn = Connection::open(path).map_err(|source| DbError::Open {
            path: path.to_path_buf(),
            source,
        })?;
        configure(&conn, path)?;
        migrate(&mut conn, path)?;
        Ok(Self {
            path: path.to_path_buf(),
            writer: Mutex::new(conn),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The writer connection. A poisoned lock (a panic elsewhere) still yields the connection:
    /// SQLite's own transactions keep the data consistent.
    pub fn writer(&self) -> MutexGuard<'_, Connection> {
        self.writer.lock_or_recover()
    }

    /// A new connection that SQLite itself refuses to write through.
    pub fn open_read_only(&self) -> Result<Connection, DbError> {
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI;
        let conn = Connection::open_with_flags(&self.path, flags).map_err(|source| DbError::Open {
            path: self.path.clone(),
            source,
        })?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        conn.pragma_update(None, "query_only", true)?;
        Ok(conn)
    }

    /// A new read-write connection (the Storage screen with writes allowed).
    pub fn open_read_write(&self) -> Result<Connection, DbError> {
        let conn = Connection::open(&self.path).map_err(|source| DbError::Open {
            path: self.path.clone(),
            source,
        })?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        conn.pragma_update(None, "foreign_keys", true)?;
        Ok(conn)
    }
}

/// Checks that the file is a database, then sets WAL, foreign keys and the busy timeout.
/// The check comes first so that nothing is written into a file that is not ours.
fn configure(conn: &Connection, path: &Path) -> Result<(), DbError> {
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.query_row("SELECT count(*) FROM sqlite_schema", [], |row| row.get::<_, i64>(0))
        .map_err(|error| classify(error, path))?;
    conn.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get::<_, String>(0))
        .map_err(|error| classify(error, path))?;
    conn.pragma_update(None, "foreign_keys", true)?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    Ok(())
}

/// Turns SQLite's "not a database" and "corrupt" codes into [`DbError::Corrupt`].
fn classify(error: rusqlite::Error, path: &Path) -> DbError {
    use rusqlite::ffi::ErrorCode;
    match error.sqlite_error_code() {
        Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt) => DbError::Corrupt {
            path: path.to_path_buf(),
            detail: error.to_string(),
        },
        _ => DbError::Sqlite(error),
    }
}

/// Marks agent runs that were pending or running when a previous ANYON ended, and whose process is
/// gone, as interrupted. Returns how many. A run whose process still lives (another instance's, or
/// the CLI's) is left alone.
pub fn recover_interrupted_runs(conn: &Connection) -> rusqlite::Result<usize> {
    let mut stmt = conn.prepare("SELECT id, pid FROM agent_runs WHERE status IN ('pending', 'running')")?;
    let runs: Vec<(i64, Option<i64>)> = stmt
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect::<Result<_, _>>()?;
    let mut recovered = 0;
    for (id, pid) in runs {
        let alive = pid
            .and_then(|pid| u32::try_from(pid).ok())
            .is_some_and(crate::domain::process::is_alive);
        if !alive {
            recovered += conn.execute(
                "UPDATE agent_runs SET status = 'interrupted', finished_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now'),
                 error = coalesce(error, 'ANYON ended while this run was going') WHERE id = ?1",
                [id],
            )?;
        }
    }
    Ok(recovered)
}

/// Reads one value from `app_settings`.
pub fn get_setting(conn: &Connection, key: &str) -> rusqlite::Result<Option<String>> {
    use rusqlite::OptionalExtension;
    conn.query_row("SELECT value FROM app_settings WHERE key = ?1", [key], |row| row.get(0))
        .optional()
}

/// Reads every row of `app_settings`.
pub fn all_settings(conn: &Connection) -> rusqlite::Result<Vec<(String, String)>> {
    let mut stmt = conn.prepare("SELECT key, value FROM app_settings ORDER BY key")?;
    let rows = stmt.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?;
    rows.collect()
}

/// Inserts or replaces one value in `app_settings`.
pub fn set_setting(conn: &Connection, key: &str, value: &str) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO app_settings (key, value) VALUES (?1, ?2)
         ON CONFLICT(key) DO UPDATE SET value = excluded.value,
             updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')",
        [key, value],
    )?;
    Ok(())
}
