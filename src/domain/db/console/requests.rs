//! What can be asked of the storage console (the app's own tables and SQL), and what each request answers.

use std::path::PathBuf;

use serde::Serialize;

use super::{ExportFormat, PageRequest, QueryResult, RowKey, SqlValue, TableInfo, TablePage, TableSchema};

/// The console's answers (as JSON: `{"kind": "tables", "data": [...]}`).
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", content = "data", rename_all = "snake_case")]
pub enum Reply {
    Tables(Vec<TableInfo>),
    Query(QueryResult),
    Schema(TableSchema),
    Page(TablePage),
    /// A row edit ran (or, for a dry run, would run) this statement.
    RowChanged(RowChange),
    /// A cancel request reached a running query (or it had already finished).
    Cancelled(CancelOutcome),
    Exported(Exported),
    SqlHistory(Vec<String>),
}

/// The statement a row edit ran, or would run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowChange {
    pub statement: String,
    pub dry_run: bool,
}

/// Whether a cancel found its query still running.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CancelOutcome {
    pub request_id: u64,
    pub found: bool,
}

/// What an export writes: a whole table, or what a read-only query returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExportSource {
    Table(String),
    Query(String),
}

impl ExportSource {
    /// The statement that reads the rows (a table's name quoted as an identifier).
    pub fn sql(&self) -> String {
        match self {
            ExportSource::Table(table) => format!("SELECT * FROM {}", super::quote_identifier(table)),
            ExportSource::Query(sql) => sql.clone(),
        }
    }
}

/// Rows written to a file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Exported {
    pub path: PathBuf,
    pub rows: u64,
}

crate::requests! {
    StorageListTables = "storage_list_tables" => Tables(Vec<TableInfo>);
    /// Columns, keys and indexes of one table or view.
    StorageTableSchema { pub table: String } = "storage_table_schema" => Schema(TableSchema);
    /// One page of a table or view.
    StorageReadTable { pub page: PageRequest } = "storage_read_table" => Page(TablePage);
    /// Sets one cell (`dry_run`: only describe the statement).
    StorageUpdateCell {
        pub table: String,
        pub key: RowKey,
        pub column: String,
        pub value: SqlValue,
        pub dry_run: bool,
    } = "storage_update_cell" => RowChanged(RowChange);
    /// Deletes one row (`dry_run`: only describe the statement).
    StorageDeleteRow { pub table: String, pub key: RowKey, pub dry_run: bool } = "storage_delete_row" => RowChanged(RowChange);
    /// Interrupts the running `StorageExecuteSql` dispatched as request `request_id`.
    StorageCancel { pub request_id: u64 } = "storage_cancel" => Cancelled(CancelOutcome);
    /// Streams a table's or a read-only query's rows to a file.
    StorageExport { pub source: ExportSource, pub format: ExportFormat, pub path: PathBuf } = "storage_export" => Exported(Exported);
    /// The SQL editor's history, newest first.
    StorageHistory = "storage_history" => SqlHistory(Vec<String>);
    /// Runs one statement. `record` adds it to the editor's history when it succeeds.
    StorageExecuteSql {
        pub sql: String,
        pub allow_write: bool,
        pub max_rows: Option<usize>,
        pub record: bool,
    } = "storage_execute_sql" => Query(QueryResult);
}
