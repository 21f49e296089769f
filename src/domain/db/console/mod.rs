//! Reading the app's own tables and running a person's SQL on them: listing, paging through a
//! table, editing cells, running statements, exporting results.
//!
//! Read-only is the default and is enforced twice: the statement must be one SQLite itself
//! calls read-only, and it runs on a connection opened read-only.

mod browse;
mod export;
pub mod requests;
mod risk;

pub use browse::{
    ColumnInfo, KeyPart, KeyValue, MAX_PAGE_ROWS, PageRequest, RowKey, SortOrder, TablePage, TableSchema, delete_row,
    read_page, table_schema, update_cell,
};
pub use export::{ExportFormat, export_query, write_result};
pub use risk::{WriteRisk, assess_write};

use std::time::Instant;

use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Connection, ToSql};
use serde::Serialize;

use crate::util::hex;

/// A table or view with its row count.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TableInfo {
    pub name: String,
    /// `table` or `view`.
    pub kind: String,
    pub row_count: u64,
}

/// One cell, typed as SQLite stored it.
#[derive(Debug, Clone, PartialEq)]
pub enum SqlValue {
    Null,
    Integer(i64),
    Real(f64),
    Text(String),
    Blob(Vec<u8>),
}

impl Serialize for SqlValue {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        match self {
            SqlValue::Null => serializer.serialize_none(),
            SqlValue::Integer(value) => serializer.serialize_i64(*value),
            SqlValue::Real(value) => serializer.serialize_f64(*value),
            SqlValue::Text(value) => serializer.serialize_str(value),
            SqlValue::Blob(bytes) => {
                let mut map = serializer.serialize_map(Some(2))?;
                map.serialize_entry("blob_hex", &hex::encode(bytes))?;
                map.serialize_entry("bytes", &bytes.len())?;
                map.end()
            }
        }
    }
}

impl ToSql for SqlValue {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Borrowed(match self {
            SqlValue::Null => ValueRef::Null,
            SqlValue::Integer(v) => ValueRef::Integer(*v),
            SqlValue::Real(v) => ValueRef::Real(*v),
            SqlValue::Text(v) => ValueRef::Text(v.as_bytes()),
            SqlValue::Blob(v) => ValueRef::Blob(v),
        }))
    }
}

impl SqlValue {
    /// An SQL literal for showing a statement to the person (values are bound as parameters when run).
    pub fn to_sql_literal(&self) -> String {
        match self {
            SqlValue::Null => "NULL".into(),
            SqlValue::Integer(v) => v.to_string(),
            SqlValue::Real(v) => v.to_string(),
            SqlValue::Text(v) => format!("'{}'", v.replace('\'', "''")),
            SqlValue::Blob(v) => format!("x'{}'", hex::encode(v)),
        }
    }

    /// The value as text for a cell or a CSV field (NULL as empty, blobs as hex with a `0x` prefix).
    pub fn to_plain_text(&self) -> String {
        match self {
            SqlValue::Null => String::new(),
            SqlValue::Integer(v) => v.to_string(),
            SqlValue::Real(v) => v.to_string(),
            SqlValue::Text(v) => v.clone(),
            SqlValue::Blob(v) => format!("0x{}", hex::encode(v)),
        }
    }
}

impl From<ValueRef<'_>> for SqlValue {
    fn from(value: ValueRef<'_>) -> Self {
        match value {
            ValueRef::Null => SqlValue::Null,
            ValueRef::Integer(v) => SqlValue::Integer(v),
            ValueRef::Real(v) => SqlValue::Real(v),
            ValueRef::Text(bytes) => SqlValue::Text(String::from_utf8_lossy(bytes).into_owned()),
            ValueRef::Blob(bytes) => SqlValue::Blob(bytes.to_vec()),
        }
    }
}

/// What a statement gave back.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QueryResult {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<SqlValue>>,
    /// Rows changed by a writing statement (0 for a query).
    pub rows_affected: u64,
    /// True when more rows existed than `max_rows` allowed.
    pub truncated: bool,
    pub elapsed_ms: f64,
}

/// Why a statement did not run.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("the SQL is empty")]
    Empty,
    #[error("run one statement at a time (found more than one)")]
    MultipleStatements,
    #[error(
        "this statement would change the database, and writes are not allowed; \
         allow writes (--write on the command line) to run it"
    )]
    WriteRefused {
        /// How dangerous the refused statement is, so a confirmation can say so.
        risk: WriteRisk,
    },
    #[error("the query was cancelled")]
    Cancelled,
    #[error("no table or view named {0:?}")]
    NoSuchTable(String),
    #[error("{0}")]
    Invalid(String),
    #[error("{message}")]
    Sql {
        message: String,
        /// Byte offset in the SQL where SQLite located the error, when it says.
        offset: Option<usize>,
    },
    #[error("cannot write the export: {0}")]
    Io(#[from] std::io::Error),
    /// The export's file could not be written (a full disk, no permission); nothing was left under its name.
    #[error("cannot write the export to {}: {source}", path.display())]
    WriteFile {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
}

impl StorageError {
    /// A stable, machine-readable name for the failure (CLI JSON errors).
    pub fn kind(&self) -> &'static str {
        match self {
            StorageError::Empty => "empty_sql",
            StorageError::MultipleStatements => "multiple_statements",
            StorageError::WriteRefused { .. } => "write_refused",
            StorageError::Cancelled => "cancelled",
            StorageError::NoSuchTable(_) => "no_such_table",
            StorageError::Invalid(_) => "invalid",
            StorageError::Sql { .. } => "sql",
            StorageError::Io(_) | StorageError::WriteFile { .. } => "io",
        }
    }
}

impl From<rusqlite::Error> for StorageError {
    fn from(error: rusqlite::Error) -> Self {
        if error.sqlite_error_code() == Some(rusqlite::ErrorCode::OperationInterrupted) {
            return StorageError::Cancelled;
        }
        match error {
            rusqlite::Error::MultipleStatement => StorageError::MultipleStatements,
            rusqlite::Error::SqlInputError { msg, offset, .. } => StorageError::Sql {
                message: msg,
                offset: usize::try_from(offset).ok(),
            },
            other => StorageError::Sql {
                message: other.to_string(),
                offset: None,
            },
        }
    }
}

/// Lists tables and views with their row counts. SQLite's internal tables and the shadow tables that hold
/// a virtual table's data (the full-text index's `_data`, `_idx`, ...) are left out: they are not the
/// app's data, and a change to them by hand would corrupt the index they belong to.
pub fn list_tables(conn: &Connection) -> Result<Vec<TableInfo>, StorageError> {
    let mut stmt = conn.prepare(
        "SELECT name, CASE type WHEN 'view' THEN 'view' ELSE 'table' END FROM pragma_table_list
         WHERE schema = 'main' AND type IN ('table', 'view', 'virtual') AND name NOT LIKE 'sqlite_%'
         ORDER BY name",
    )?;
    let names: Vec<(String, String)> = stmt
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect::<Result<_, _>>()?;
    names
        .into_iter()
        .map(|(name, kind)| {
            let sql = format!("SELECT count(*) FROM {}", quote_identifier(&name));
            let row_count: i64 = conn.query_row(&sql, [], |row| row.get(0))?;
            Ok(TableInfo {
                name,
                kind,
                row_count: row_count.max(0) as u64,
            })
        })
        .collect()
}

/// Quotes a name for use as an SQL identifier.
pub fn quote_identifier(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Runs one statement. Unless `allow_write`, a statement that would write is refused before it runs.
/// At most `max_rows` rows are kept (all when `None`); the rest are counted as truncated, not read.
pub fn execute_sql(
    conn: &Connection,
    sql: &str,
    allow_write: bool,
    max_rows: Option<usize>,
) -> Result<QueryResult, StorageError> {
    let sql = sql.trim();
    if sql.trim_end_matches(';').trim().is_empty() {
        return Err(StorageError::Empty);
    }
    let started = Instant::now();
    let mut stmt = conn.prepare(sql)?;
    if !allow_write && !stmt.readonly() {
        return Err(StorageError::WriteRefused {
            risk: assess_write(sql),
        });
    }
    let columns: Vec<String> = stmt.column_names().map(str::to_owned).collect();
    if columns.is_empty() {
        let rows_affected = stmt.execute([])? as u64;
        return Ok(QueryResult {
            columns,
            rows: Vec::new(),
            rows_affected,
            truncated: false,
            elapsed_ms: started.elapsed().as_secs_f64() * 1000.0,
        });
    }
    let width = columns.len();
    let limit = max_rows.unwrap_or(usize::MAX);
    let mut rows = Vec::new();
    let mut truncated = false;
    let mut cursor = stmt.query([])?;
    while let Some(row) = cursor.next()? {
        if rows.len() == limit {
            truncated = true;
            break;
        }
        rows.push(read_row(row, width)?);
    }
    // A statement that returns rows may still write (INSERT ... RETURNING).
    let rows_affected = if allow_write { conn.changes() } else { 0 };
    Ok(QueryResult {
        columns,
        rows,
        rows_affected,
        truncated,
        elapsed_ms: started.elapsed().as_secs_f64() * 1000.0,
    })
}

/// Reads the first `width` cells of a row.
pub(crate) fn read_row(row: &rusqlite::Row<'_>, width: usize) -> rusqlite::Result<Vec<SqlValue>> {
    (0..width).map(|index| row.get_ref(index).map(SqlValue::from)).collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn db() -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, score REAL, data BLOB);
             INSERT INTO t (name, score, data) VALUES ('a', 1.5, x'00ff'), (NULL, NULL, NULL);
             CREATE VIEW v AS SELECT name FROM t;",
        )
        .unwrap();
        conn
    }

    #[test]
    fn lists_tables_and_views_with_counts() {
        let tables = list_tables(&db()).unwrap();
        assert_eq!(
            tables,
            vec![
                TableInfo {
                    name: "t".into(),
                    kind: "table".into(),
                    row_count: 2
                },
                TableInfo {
                    name: "v".into(),
                    kind: "view".into(),
                    row_count: 2
                },
            ]
        );
    }

    #[test]
    fn values_keep_their_types() {
        let result = execute_sql(&db(), "SELECT id, name, score, data FROM t ORDER BY id", false, None).unwrap();
        assert_eq!(result.columns, ["id", "name", "score", "data"]);
        assert_eq!(result.rows[0][3], SqlValue::Blob(vec![0, 255]));
        assert_eq!(result.rows[1][1], SqlValue::Null);
        let json = serde_json::to_value(&result.rows).unwrap();
        assert_eq!(
            json[0],
            serde_json::json!([1, "a", 1.5, {"blob_hex": "00ff", "bytes": 2}])
        );
        assert_eq!(json[1], serde_json::json!([2, null, null, null]));
    }

    #[test]
    fn writes_are_refused_without_permission_and_change_nothing() {
        let conn = db();
        for sql in [
            "DELETE FROM t",
            "INSERT INTO t (name) VALUES ('x')",
            "DROP TABLE t",
            "PRAGMA user_version = 9",
        ] {
            let error = execute_sql(&conn, sql, false, None).unwrap_err();
            assert!(matches!(error, StorageError::WriteRefused { .. }), "{sql}: {error}");
        }
        let count = execute_sql(&conn, "SELECT count(*) FROM t", false, None).unwrap();
        assert_eq!(count.rows[0][0], SqlValue::Integer(2));
        let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0)).unwrap();
        assert_eq!(version, 0);
        let deleted = execute_sql(&conn, "DELETE FROM t WHERE name IS NULL", true, None).unwrap();
        assert_eq!(deleted.rows_affected, 1);
    }

    #[test]
    fn malformed_sql_says_where() {
        let error = execute_sql(&db(), "SELECT * FROM t WHER id = 1", false, None).unwrap_err();
        let StorageError::Sql { message, .. } = &error else {
            panic!("{error:?}")
        };
        assert!(message.contains("syntax error"), "{message}");
        assert!(matches!(
            execute_sql(&db(), "  ;  ", false, None),
            Err(StorageError::Empty)
        ));
        let missing = execute_sql(&db(), "SELECT * FROM nope", false, None).unwrap_err();
        assert!(missing.to_string().contains("no such table"), "{missing}");
    }

    #[test]
    fn one_statement_at_a_time() {
        let error = execute_sql(&db(), "SELECT 1; SELECT 2", false, None).unwrap_err();
        assert!(matches!(error, StorageError::MultipleStatements), "{error:?}");
        let ok = execute_sql(&db(), "SELECT 1;", false, None).unwrap();
        assert_eq!(ok.rows, vec![vec![SqlValue::Integer(1)]]);
    }

    #[test]
    fn an_interrupted_query_reports_cancelled() {
        let conn = db();
        let handle = conn.get_interrupt_handle();
        let interrupter = std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(100));
            handle.interrupt();
        });
        let endless = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c";
        let error = execute_sql(&conn, endless, false, None).unwrap_err();
        interrupter.join().unwrap();
        assert!(matches!(error, StorageError::Cancelled), "{error:?}");
    }

    #[test]
    fn literals_quote_what_they_must() {
        assert_eq!(SqlValue::Text("it's".into()).to_sql_literal(), "'it''s'");
        assert_eq!(SqlValue::Blob(vec![1, 171]).to_sql_literal(), "x'01ab'");
        assert_eq!(SqlValue::Null.to_sql_literal(), "NULL");
    }

    #[test]
    fn row_limit_marks_truncation() {
        let result = execute_sql(&db(), "SELECT * FROM t", false, Some(1)).unwrap();
        assert_eq!(result.rows.len(), 1);
        assert!(result.truncated);
    }
}
