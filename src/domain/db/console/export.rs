//! Writing results as CSV or JSON: a result already in memory, or a whole query streamed row by
//! row so that exporting a large table never holds it in memory.

use std::io::Write;

use rusqlite::Connection;
use serde::{Deserialize, Serialize};

use super::{QueryResult, SqlValue, StorageError, assess_write, read_row};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum ExportFormat {
    /// RFC 4180 CSV with a header row; NULL is an empty field, blobs are `0x` hex.
    Csv,
    /// An array of objects, one per row, keyed by column name.
    Json,
}

impl ExportFormat {
    pub fn extension(self) -> &'static str {
        match self {
            ExportFormat::Csv => "csv",
            ExportFormat::Json => "json",
        }
    }
}

/// Writes a result that is already in memory.
pub fn write_result(result: &QueryResult, format: ExportFormat, out: impl Write) -> Result<(), StorageError> {
    let mut sink = RowSink::new(format, out, &result.columns)?;
    for row in &result.rows {
        sink.row(row)?;
    }
    sink.finish()
}

/// Runs a read-only query and streams every row it returns to `out`. Returns the row count.
pub fn export_query(conn: &Connection, sql: &str, format: ExportFormat, out: impl Write) -> Result<u64, StorageError> {
    let mut stmt = conn.prepare(sql.trim())?;
    if !stmt.readonly() {
        return Err(StorageError::WriteRefused {
            risk: assess_write(sql),
        });
    }
    let columns: Vec<String> = stmt.column_names().map(str::to_owned).collect();
    let width = columns.len();
    let mut sink = RowSink::new(format, out, &columns)?;
    let mut count = 0;
    let mut cursor = stmt.query([])?;
    while let Some(row) = cursor.next()? {
        sink.row(&read_row(row, width)?)?;
        count += 1;
    }
    sink.finish()?;
    Ok(count)
}

enum RowSink<'a, W: Write> {
    Csv(Box<csv::Writer<W>>),
    Json { out: W, columns: &'a [String], first: bool },
}

impl<'a, W: Write> RowSink<'a, W> {
    fn new(format: ExportFormat, out: W, columns: &'a [String]) -> Result<Self, StorageError> {
        Ok(match format {
            ExportFormat::Csv => {
                let mut writer = csv::Writer::from_writer(out);
                writer.write_record(columns).map_err(csv_error)?;
                RowSink::Csv(Box::new(writer))
            }
            ExportFormat::Json => {
                let mut out = out;
                out.write_all(b"[")?;
                RowSink::Json {
                    out,
                    columns,
                    first: true,
                }
            }
        })
    }

    fn row(&mut self, row: &[SqlValue]) -> Result<(), StorageError> {
        match self {
            RowSink::Csv(writer) => writer
                .write_record(row.iter().map(SqlValue::to_plain_text))
                .map_err(csv_error),
            RowSink::Json { out, columns, first } => {
                let object: serde_json::Map<String, serde_json::Value> = columns
                    .iter()
                    .cloned()
                    .zip(
                        row.iter()
                            .map(|value| serde_json::to_value(value).unwrap_or(serde_json::Value::Null)),
                    )
                    .collect();
                out.write_all(if *first { b"\n  " } else { b",\n  " })?;
                *first = false;
                serde_json::to_writer(&mut *out, &object).map_err(std::io::Error::other)?;
                Ok(())
            }
        }
    }

    fn finish(self) -> Result<(), StorageError> {
        match self {
            RowSink::Csv(mut writer) => writer.flush().map_err(StorageError::Io),
            RowSink::Json { mut out, first, .. } => {
                out.write_all(if first { b"]\n" } else { b"\n]\n" })?;
                out.flush().map_err(StorageError::Io)
            }
        }
    }
}

fn csv_error(error: csv::Error) -> StorageError {
    match error.into_kind() {
        csv::ErrorKind::Io(io) => StorageError::Io(io),
        other => StorageError::Io(std::io::Error::other(format!("{other:?}"))),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn result() -> QueryResult {
        QueryResult {
            columns: vec!["id".into(), "text".into(), "blob".into()],
            rows: vec![
                vec![SqlValue::Integer(1), SqlValue::Text("plain".into()), SqlValue::Null],
                vec![
                    SqlValue::Integer(2),
                    SqlValue::Text("commas, \"quotes\"\nand a newline\r\n".into()),
                    SqlValue::Blob(vec![0xde, 0xad]),
                ],
            ],
            rows_affected: 0,
            truncated: false,
            elapsed_ms: 0.0,
        }
    }

    #[test]
    fn csv_round_trips_commas_quotes_and_newlines() {
        let mut out = Vec::new();
        write_result(&result(), ExportFormat::Csv, &mut out).unwrap();
        let mut reader = csv::Reader::from_reader(out.as_slice());
        assert_eq!(reader.headers().unwrap(), vec!["id", "text", "blob"]);
        let records: Vec<Vec<String>> = reader
            .records()
            .map(|r| r.unwrap().iter().map(str::to_owned).collect())
            .collect();
        assert_eq!(records[0], ["1", "plain", ""]);
        assert_eq!(records[1], ["2", "commas, \"quotes\"\nand a newline\r\n", "0xdead"]);
    }

    #[test]
    fn json_is_an_array_of_objects() {
        let mut out = Vec::new();
        write_result(&result(), ExportFormat::Json, &mut out).unwrap();
        let value: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(value[0], serde_json::json!({"id": 1, "text": "plain", "blob": null}));
        assert_eq!(value[1]["blob"], serde_json::json!({"blob_hex": "dead", "bytes": 2}));
        let mut empty = Vec::new();
        let none = QueryResult {
            rows: vec![],
            ..result()
        };
        write_result(&none, ExportFormat::Json, &mut empty).unwrap();
        assert_eq!(
            serde_json::from_slice::<serde_json::Value>(&empty).unwrap(),
            serde_json::json!([])
        );
    }

    #[test]
    fn streamed_export_refuses_writes_and_counts_rows() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE t (a); INSERT INTO t VALUES (1), (2), (3);")
            .unwrap();
        let mut out = Vec::new();
        assert_eq!(
            export_query(&conn, "SELECT a FROM t", ExportFormat::Csv, &mut out).unwrap(),
            3
        );
        assert_eq!(String::from_utf8(out).unwrap(), "a\n1\n2\n3\n");
        let refused = export_query(&conn, "DELETE FROM t", ExportFormat::Csv, Vec::new());
        assert!(matches!(refused, Err(StorageError::WriteRefused { .. })));
    }
}
