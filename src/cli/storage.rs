//! `anyon storage tables|schema|sql`: the app's database from the command line.

use std::io::Write;

use clap::Subcommand;

use super::{answer, call, emit, print_error, write_json};
use crate::backend::Backend;
use crate::domain::db::console::requests::{StorageExecuteSql, StorageListTables, StorageTableSchema};
use crate::domain::db::console::{self, ExportFormat, QueryResult, SqlValue, TableInfo, TableSchema};

#[derive(Debug, Subcommand)]
pub enum StorageVerb {
    /// List tables and views with their row counts.
    Tables {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show the columns, keys and indexes of one table, or of all.
    Schema {
        /// The table or view (all when omitted).
        table: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Run one SQL statement. Read-only unless --write is given.
    Sql {
        /// The statement.
        sql: String,
        /// Allow statements that change the database.
        #[arg(long)]
        write: bool,
        /// Output format.
        #[arg(long, value_enum, default_value = "table")]
        format: SqlFormat,
        /// Print JSON (same as --format json).
        #[arg(long)]
        json: bool,
    },
}

/// How `storage sql` prints its result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SqlFormat {
    /// Tab-separated with a header, for reading.
    Table,
    /// The columns, rows, counts and timing as one JSON object.
    Json,
    /// RFC 4180 CSV with a header row.
    Csv,
}

/// Runs `anyon storage <verb>`.
pub fn run(backend: &Backend, verb: StorageVerb) -> i32 {
    match verb {
        StorageVerb::Tables { json } => answer(backend, StorageListTables, json, |out, tables| {
            if json {
                write_json(out, &tables)
            } else {
                write_tables(out, &tables)
            }
        }),
        StorageVerb::Schema { table, json } => schema(backend, table, json),
        StorageVerb::Sql {
            sql,
            write,
            format,
            json,
        } => {
            let format = if json { SqlFormat::Json } else { format };
            let command = StorageExecuteSql {
                sql,
                allow_write: write,
                max_rows: None,
                record: false,
            };
            answer(
                backend,
                command,
                format == SqlFormat::Json,
                |out, result| match format {
                    SqlFormat::Json => write_json(out, &result),
                    SqlFormat::Table => write_query(out, &result),
                    SqlFormat::Csv => {
                        console::write_result(&result, ExportFormat::Csv, out).map_err(std::io::Error::other)
                    }
                },
            )
        }
    }
}

/// `storage schema [TABLE]`: one table, or every table and view in name order.
fn schema(backend: &Backend, table: Option<String>, json: bool) -> i32 {
    let names = match table {
        Some(table) => vec![table],
        None => match call(backend, StorageListTables) {
            Ok(tables) => tables.into_iter().map(|t| t.name).collect(),
            Err(error) => {
                print_error(&error, json);
                return 1;
            }
        },
    };
    let mut schemas = Vec::new();
    for table in names {
        match call(backend, StorageTableSchema { table }) {
            Ok(schema) => schemas.push(schema),
            Err(error) => {
                print_error(&error, json);
                return 1;
            }
        }
    }
    emit(|out| {
        if json {
            write_json(out, &schemas)
        } else {
            schemas.iter().try_for_each(|schema| write_schema(out, schema))
        }
    })
}

fn write_schema(out: &mut dyn Write, schema: &TableSchema) -> std::io::Result<()> {
    writeln!(
        out,
        "{} ({}{})",
        schema.name,
        schema.kind,
        if schema.without_rowid { ", without rowid" } else { "" }
    )?;
    for column in &schema.columns {
        let mut notes = Vec::new();
        if column.primary_key > 0 {
            notes.push("primary key".to_string());
        }
        if column.not_null {
            notes.push("not null".to_string());
        }
        if let Some(default) = &column.default {
            notes.push(format!("default {default}"));
        }
        writeln!(
            out,
            "  {:<24} {:<10} {}",
            column.name,
            column.decl_type,
            notes.join(", ")
        )?;
    }
    for index in &schema.indexes {
        writeln!(out, "  {index}")?;
    }
    writeln!(out)
}

fn write_tables(out: &mut dyn Write, tables: &[TableInfo]) -> std::io::Result<()> {
    let width = tables.iter().map(|t| t.name.len()).max().unwrap_or(4).max(4);
    writeln!(out, "{:<width$}  {:<5}  {:>10}", "name", "kind", "rows")?;
    for table in tables {
        writeln!(
            out,
            "{:<width$}  {:<5}  {:>10}",
            table.name, table.kind, table.row_count
        )?;
    }
    Ok(())
}

fn write_query(out: &mut dyn Write, result: &QueryResult) -> std::io::Result<()> {
    if result.columns.is_empty() {
        return writeln!(out, "{} row(s) changed", result.rows_affected);
    }
    writeln!(out, "{}", result.columns.join("\t"))?;
    for row in &result.rows {
        let cells: Vec<String> = row.iter().map(plain_cell).collect();
        writeln!(out, "{}", cells.join("\t"))?;
    }
    writeln!(out, "({} row(s), {:.1} ms)", result.rows.len(), result.elapsed_ms)
}

/// A cell for tab-separated output: NULL spelled out, tabs and newlines escaped.
fn plain_cell(value: &SqlValue) -> String {
    match value {
        SqlValue::Null => "NULL".into(),
        SqlValue::Integer(v) => v.to_string(),
        SqlValue::Real(v) => v.to_string(),
        SqlValue::Text(text) => text.replace('\\', "\\\\").replace('\t', "\\t").replace('\n', "\\n"),
        SqlValue::Blob(bytes) => format!("<blob {} bytes>", bytes.len()),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn plain_cells_escape_what_would_break_lines() {
        assert_eq!(plain_cell(&SqlValue::Text("a\tb\nc".into())), "a\\tb\\nc");
        assert_eq!(plain_cell(&SqlValue::Null), "NULL");
        assert_eq!(plain_cell(&SqlValue::Blob(vec![1, 2, 3])), "<blob 3 bytes>");
    }
}
