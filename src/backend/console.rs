//! The Storage commands: the app's tables, paging, edits, SQL with cancel, export, history.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use rusqlite::InterruptHandle;

use super::{Backend, BackendError};
use crate::backend::command::RequestId;
use crate::domain::db::console;
use crate::domain::db::console::requests::{
    CancelOutcome, Exported, Reply, Request, RowChange, StorageCancel, StorageDeleteRow, StorageExecuteSql,
    StorageExport, StorageHistory, StorageListTables, StorageReadTable, StorageTableSchema, StorageUpdateCell,
};
use crate::util::request::Ask;
use crate::util::sync::LockExt;

/// How many statements the history keeps.
pub const HISTORY_LIMIT: usize = 100;

/// A running statement, or a cancel that arrived before the statement started.
pub(super) enum SqlSlot {
    /// Running: its interrupt handle, and the flag its progress handler reads (an interrupt that comes
    /// before the statement starts stepping is lost by SQLite; the flag is not).
    Running(InterruptHandle, Arc<AtomicBool>),
    CancelRequested,
}

/// How many virtual-machine steps pass between two looks at a running statement's cancel flag.
const PROGRESS_OPS: std::ffi::c_int = 10_000;

impl Backend {
    pub(super) async fn storage(&self, request_id: RequestId, request: Request) -> Result<Reply, BackendError> {
        match request {
            Request::StorageListTables(StorageListTables) => {
                self.blocking(|db| Ok(StorageListTables::wrap(console::list_tables(&db.open_read_only()?)?)))
                    .await
            }
            Request::StorageTableSchema(StorageTableSchema { table }) => {
                self.blocking(move |db| {
                    Ok(StorageTableSchema::wrap(console::table_schema(
                        &db.open_read_only()?,
                        &table,
                    )?))
                })
                .await
            }
            Request::StorageReadTable(StorageReadTable { page: request }) => {
                self.blocking(move |db| {
                    Ok(StorageReadTable::wrap(console::read_page(
                        &db.open_read_only()?,
                        &request,
                    )?))
                })
                .await
            }
            Request::StorageUpdateCell(StorageUpdateCell {
                table,
                key,
                column,
                value,
                dry_run,
            }) => {
                self.blocking(move |db| {
                    let conn = if dry_run {
                        db.open_read_only()?
                    } else {
                        db.open_read_write()?
                    };
                    let statement = console::update_cell(&conn, &table, &key, &column, &value, dry_run)?;
                    Ok(StorageUpdateCell::wrap(RowChange { statement, dry_run }))
                })
                .await
            }
            Request::StorageDeleteRow(StorageDeleteRow { table, key, dry_run }) => {
                self.blocking(move |db| {
                    let conn = if dry_run {
                        db.open_read_only()?
                    } else {
                        db.open_read_write()?
                    };
                    let statement = console::delete_row(&conn, &table, &key, dry_run)?;
                    Ok(StorageDeleteRow::wrap(RowChange { statement, dry_run }))
                })
                .await
            }
            Request::StorageCancel(StorageCancel { request_id: target }) => Ok(StorageCancel::wrap(CancelOutcome {
                request_id: target,
                found: self.cancel_sql(target),
            })),
            Request::StorageExport(StorageExport { source, format, path }) => {
                let sql = source.sql();
                self.blocking(move |db| {
                    let conn = db.open_read_only()?;
                    let rows = export_to_file(&path, |out| console::export_query(&conn, &sql, format, out))?;
                    Ok(StorageExport::wrap(Exported { path, rows }))
                })
                .await
            }
            Request::StorageHistory(StorageHistory) => {
                self.blocking(|db| Ok(StorageHistory::wrap(load_history(&db.writer()))))
                    .await
            }
            Request::StorageExecuteSql(StorageExecuteSql {
                sql,
                allow_write,
                max_rows,
                record,
            }) => {
                let backend = self.clone();
                self.blocking(move |db| {
                    let mut conn = if allow_write {
                        db.open_read_write()?
                    } else {
                        db.open_read_only()?
                    };
                    if !backend.register_sql(request_id, &mut conn) {
                        return Err(console::StorageError::Cancelled.into());
                    }
                    let result = console::execute_sql(&conn, &sql, allow_write, max_rows);
                    backend.unregister_sql(request_id);
                    let result = result?;
                    if record && let Err(error) = record_history(&db.writer(), &sql) {
                        tracing::warn!(%error, "could not save the SQL history");
                    }
                    Ok(StorageExecuteSql::wrap(result))
                })
                .await
            }
        }
    }

    /// Records a running statement; false when a cancel for it already arrived.
    fn register_sql(&self, request_id: RequestId, conn: &mut rusqlite::Connection) -> bool {
        let cancelled = Arc::new(AtomicBool::new(false));
        let flag = cancelled.clone();
        if conn
            .progress_handler(PROGRESS_OPS, Some(move || flag.load(Ordering::Relaxed)))
            .is_err()
        {
            tracing::warn!("no progress handler on the console's connection; a cancel relies on the interrupt alone");
        }
        let mut running = self.inner.running_sql.lock_or_recover();
        if matches!(running.remove(&request_id), Some(SqlSlot::CancelRequested)) {
            return false;
        }
        running.insert(request_id, SqlSlot::Running(conn.get_interrupt_handle(), cancelled));
        true
    }

    fn unregister_sql(&self, request_id: RequestId) {
        self.inner.running_sql.lock_or_recover().remove(&request_id);
    }

    /// Interrupts a running statement, or marks it to stop as soon as it starts.
    fn cancel_sql(&self, request_id: RequestId) -> bool {
        let mut running = self.inner.running_sql.lock_or_recover();
        match running.get(&request_id) {
            Some(SqlSlot::Running(handle, cancelled)) => {
                cancelled.store(true, Ordering::Relaxed);
                handle.interrupt();
                true
            }
            Some(SqlSlot::CancelRequested) => false,
            None => {
                // Only requests that were issued can be waiting to start.
                if request_id < self.inner.next_request.load(Ordering::Relaxed) {
                    running.insert(request_id, SqlSlot::CancelRequested);
                }
                false
            }
        }
    }
}

/// Writes through a temporary file beside `path` and renames it into place, so a failed export
/// never leaves a half-written file under the chosen name.
fn export_to_file<T>(
    path: &Path,
    write: impl FnOnce(&mut std::io::BufWriter<std::fs::File>) -> Result<T, console::StorageError>,
) -> Result<T, BackendError> {
    crate::util::fs::write_atomic_with(path, crate::util::fs::Mode::Keep, write).map_err(|error| match error {
        console::StorageError::Io(source) => BackendError::Storage(console::StorageError::WriteFile {
            path: path.to_path_buf(),
            source,
        }),
        other => BackendError::Storage(other),
    })
}

/// The history, newest first; an unreadable value counts as empty.
pub fn load_history(conn: &rusqlite::Connection) -> Vec<String> {
    crate::domain::settings::sql_history(conn).unwrap_or_default()
}

/// Puts `sql` first in the history (once), keeping at most [`HISTORY_LIMIT`] statements.
fn record_history(conn: &rusqlite::Connection, sql: &str) -> Result<(), BackendError> {
    let sql = sql.trim();
    let mut history = load_history(conn);
    history.retain(|past| past != sql);
    history.insert(0, sql.to_owned());
    history.truncate(HISTORY_LIMIT);
    crate::domain::settings::set_sql_history(conn, &history)?;
    Ok(())
}
