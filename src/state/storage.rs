//! What the Storage screen shows and edits: the table list, the open table's page, the SQL editor
//! with its history and result, and writes waiting for the person's confirmation.

use std::path::PathBuf;

use crate::backend::command::RequestId;
use crate::backend::event::ErrorDetail;
use crate::domain::db::console::{
    PageRequest, QueryResult, RowKey, SortOrder, SqlValue, TableInfo, TablePage, TableSchema, WriteRisk,
};

use super::Requested;
use crate::domain::db::console::requests::{ExportSource, Exported, Reply, Request, RowChange, StorageExecuteSql};

/// Rows the SQL editor keeps from one result; the rest can be exported.
pub const EDITOR_MAX_ROWS: usize = 10_000;
/// Page sizes offered by the table browser.
pub const PAGE_SIZES: [u32; 4] = [50, 100, 500, 1000];

/// Which pane the Storage screen shows.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum StorageView {
    #[default]
    Tables,
    Table(String),
    Sql,
}

/// A write that waits for the person to confirm the statement.
#[derive(Debug, Clone, PartialEq)]
pub struct PendingWrite {
    /// The statement as it will run, shown in the confirmation.
    pub statement: String,
    pub risk: WriteRisk,
    /// The command to dispatch on confirmation.
    pub command: Request,
}

/// An SQL error with the place SQLite pointed at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqlFailure {
    pub message: String,
    /// 1-based line and column in the editor's text, when SQLite gave a position.
    pub position: Option<(usize, usize)>,
    pub cancelled: bool,
}

/// The table browser's request parameters and selection.
#[derive(Debug, Clone)]
pub struct Browse {
    pub offset: u64,
    pub limit: u32,
    pub sort: Option<(String, SortOrder)>,
    /// The filter being typed; `applied_filter` is what the page was read with.
    pub filter_text: String,
    pub applied_filter: String,
    /// The selected cell (row within the page, column).
    pub selected: Option<(usize, usize)>,
    /// The detail pane's edit buffer for the selected cell.
    pub edit_text: String,
}

impl Default for Browse {
    fn default() -> Self {
        Self {
            offset: 0,
            limit: 100,
            sort: None,
            filter_text: String::new(),
            applied_filter: String::new(),
            selected: None,
            edit_text: String::new(),
        }
    }
}

#[derive(Debug, Default)]
pub struct StorageStore {
    pub view: StorageView,
    pub tables: Requested<Vec<TableInfo>>,
    pub browse: Browse,
    pub page: Requested<TablePage>,
    pub schema: Requested<TableSchema>,
    /// "Allow writes": off at every start.
    pub allow_writes: bool,
    pub sql: String,
    pub history: Requested<Vec<String>>,
    /// A statement ran since the history was read.
    pub history_stale: bool,
    pub query: Requested<QueryResult>,
    /// The SQL the last run used (for error positions and export).
    pub query_sql: String,
    pub query_failure: Option<SqlFailure>,
    pub pending_write: Option<PendingWrite>,
    /// A dry run waiting to become a [`PendingWrite`], with the command to confirm.
    pub preview: Option<(RequestId, Request)>,
    /// A confirmed edit of a cell or row, in flight.
    pub row_change: Requested<String>,
    /// The open page no longer shows what the database holds (after an edit).
    pub page_stale: bool,
    /// Row counts may have changed (after any write).
    pub tables_stale: bool,
    pub export: Requested<(PathBuf, u64)>,
    /// The export dialog: what to export and the file to write.
    pub export_dialog: Option<(ExportSource, String)>,
}

impl StorageStore {
    /// The page request for the open table.
    pub fn page_request(&self, table: &str) -> PageRequest {
        PageRequest {
            table: table.to_owned(),
            offset: self.browse.offset,
            limit: self.browse.limit,
            sort: self.browse.sort.clone(),
            filter: Some(self.browse.applied_filter.clone()).filter(|f| !f.trim().is_empty()),
        }
    }

    /// Opens `table` in the browser with fresh paging.
    pub fn open_table(&mut self, table: &str) {
        self.view = StorageView::Table(table.to_owned());
        self.browse = Browse::default();
        self.page = Requested::default();
        self.schema = Requested::default();
    }

    /// Applies a completion if a storage request waits for it.
    pub fn apply_output(&mut self, request_id: RequestId, output: Reply) -> bool {
        match output {
            Reply::Tables(tables) => self.tables.finish(request_id, tables),
            Reply::Page(page) => {
                let done = self.page.finish(request_id, page);
                if done {
                    self.browse.selected = None;
                }
                done
            }
            Reply::Schema(schema) => self.schema.finish(request_id, schema),
            Reply::Query(result) => {
                let wrote = result.columns.is_empty() || result.rows_affected > 0;
                let done = self.query.finish(request_id, result);
                if done {
                    self.tables_stale |= wrote;
                    self.page_stale |= wrote;
                    self.query_failure = None;
                    self.history_stale = true;
                }
                done
            }
            Reply::SqlHistory(history) => self.history.finish(request_id, history),
            Reply::RowChanged(RowChange {
                statement,
                dry_run: true,
            }) => match self.preview.take() {
                Some((preview_id, command)) if preview_id == request_id => {
                    self.pending_write = Some(PendingWrite {
                        statement,
                        risk: WriteRisk::Normal,
                        command,
                    });
                    true
                }
                other => {
                    self.preview = other;
                    false
                }
            },
            Reply::RowChanged(RowChange {
                statement,
                dry_run: false,
            }) => {
                let done = self.row_change.finish(request_id, statement);
                self.page_stale |= done;
                self.tables_stale |= done;
                done
            }
            Reply::Exported(Exported { path, rows }) => self.export.finish(request_id, (path, rows)),
            Reply::Cancelled(_) => false,
        }
    }

    /// Applies a failure if a storage request waits for it.
    pub fn apply_failure(&mut self, request_id: RequestId, error: &str, detail: &ErrorDetail) -> bool {
        if self.query.awaits(request_id) {
            self.query.fail(request_id, error.to_owned());
            match detail {
                ErrorDetail::WriteRefused(risk) if self.allow_writes => {
                    self.query_failure = None;
                    self.pending_write = Some(PendingWrite {
                        statement: self.query_sql.clone(),
                        risk: risk.clone(),
                        command: Request::from(StorageExecuteSql {
                            sql: self.query_sql.clone(),
                            allow_write: true,
                            max_rows: Some(EDITOR_MAX_ROWS),
                            record: true,
                        }),
                    });
                }
                ErrorDetail::WriteRefused(_) => {
                    self.query_failure = Some(SqlFailure {
                        message: "This statement changes the database. Turn on \u{201c}Allow writes\u{201d} to run it."
                            .into(),
                        position: None,
                        cancelled: false,
                    });
                }
                _ => {
                    self.query_failure = Some(SqlFailure {
                        message: error.to_owned(),
                        position: match detail {
                            ErrorDetail::SqlOffset(offset) => Some(line_and_column(&self.query_sql, *offset)),
                            _ => None,
                        },
                        cancelled: matches!(detail, ErrorDetail::Cancelled),
                    });
                }
            }
            return true;
        }
        if let Some((preview_id, _)) = &self.preview
            && *preview_id == request_id
        {
            self.preview = None;
            self.row_change.start(request_id);
            return self.row_change.fail(request_id, error.to_owned());
        }
        self.tables.fail(request_id, error.to_owned())
            || self.page.fail(request_id, error.to_owned())
            || self.schema.fail(request_id, error.to_owned())
            || self.history.fail(request_id, error.to_owned())
            || self.row_change.fail(request_id, error.to_owned())
            || self.export.fail(request_id, error.to_owned())
    }

    /// The selected cell's value in the open page.
    pub fn selected_value(&self) -> Option<&SqlValue> {
        let (row, column) = self.browse.selected?;
        self.page.value()?.rows.get(row)?.get(column)
    }

    /// The key of the selected row, when the page can be edited.
    pub fn selected_key(&self) -> Option<&RowKey> {
        let (row, _) = self.browse.selected?;
        self.page.value()?.keys.get(row)
    }
}

/// 1-based line and column of a byte offset (clamped to the text, snapped to a char boundary).
pub fn line_and_column(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::domain::db::console::requests::StorageDeleteRow;

    #[test]
    fn answers_go_to_the_request_that_waits() {
        let mut store = StorageStore::default();
        store.tables.start(4);
        let tables = vec![TableInfo {
            name: "agents".into(),
            kind: "table".into(),
            row_count: 0,
        }];
        assert!(!store.apply_output(5, Reply::Tables(tables.clone())));
        assert!(store.apply_output(4, Reply::Tables(tables.clone())));
        assert_eq!(store.tables.value(), Some(&tables));
        assert!(!store.apply_failure(99, "nobody asked", &ErrorDetail::None));
    }

    #[test]
    fn sql_errors_point_at_line_and_column() {
        let mut store = StorageStore {
            query_sql: "SELECT *\nFROM t WHER x".into(),
            ..Default::default()
        };
        store.query.start(1);
        assert!(store.apply_failure(1, "near \"x\": syntax error", &ErrorDetail::SqlOffset(21)));
        let failure = store.query_failure.clone().unwrap();
        assert_eq!(failure.position, Some((2, 13)));
        assert!(failure.message.contains("syntax error"));
        assert_eq!(
            line_and_column("héllo", 2),
            (1, 2),
            "offsets inside a character snap back"
        );
    }

    #[test]
    fn refused_writes_ask_for_confirmation_only_when_allowed() {
        let risk = WriteRisk::Destructive {
            reason: "deletes every row of agents".into(),
            app_table: true,
        };
        let mut store = StorageStore {
            query_sql: "DELETE FROM agents".into(),
            ..Default::default()
        };
        store.query.start(1);
        store.apply_failure(1, "refused", &ErrorDetail::WriteRefused(risk.clone()));
        assert!(store.pending_write.is_none());
        assert!(store.query_failure.as_ref().unwrap().message.contains("Allow writes"));

        store.allow_writes = true;
        store.query.start(2);
        store.apply_failure(2, "refused", &ErrorDetail::WriteRefused(risk.clone()));
        let pending = store.pending_write.clone().unwrap();
        assert_eq!((pending.statement.as_str(), pending.risk), ("DELETE FROM agents", risk));
        assert!(matches!(
            pending.command,
            Request::StorageExecuteSql(StorageExecuteSql { allow_write: true, .. })
        ));
    }

    #[test]
    fn a_dry_run_becomes_a_pending_write() {
        let mut store = StorageStore::default();
        let command = Request::from(StorageDeleteRow {
            table: "t".into(),
            key: RowKey::RowId(3),
            dry_run: false,
        });
        store.preview = Some((7, command.clone()));
        assert!(!store.apply_output(
            6,
            Reply::RowChanged(RowChange {
                statement: "x".into(),
                dry_run: true
            })
        ));
        assert!(store.apply_output(
            7,
            Reply::RowChanged(RowChange {
                statement: "DELETE FROM \"t\" WHERE rowid = 3".into(),
                dry_run: true
            })
        ));
        let pending = store.pending_write.unwrap();
        assert_eq!(pending.command, command);
        assert!(pending.statement.starts_with("DELETE"));
    }
}
