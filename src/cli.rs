//! The headless command line: `anyon <noun> <verb> [--json]`, over the same [`Backend`] as the window.
//!
//! With `--json`, results go to stdout as JSON and failures to stderr as
//! `{"error":{"kind":...,"message":...}}`, with exit status 1.

use std::io::Write;

use clap::{Parser, Subcommand};

use crate::backend::{Backend, BackendError};
use crate::command::Command;
use crate::db::storage::{QueryResult, SqlValue, TableInfo};
use crate::event::Output;
use crate::nav::Screen;

/// ANYON: a native desktop home for Claude Code.
///
/// Without a subcommand, opens the window (or brings the running one to the front).
#[derive(Debug, Parser)]
#[command(name = "anyon", version, about, long_about = None)]
pub struct Cli {
    /// Open the window on this screen.
    #[arg(long, value_enum, global = false)]
    pub screen: Option<Screen>,

    #[command(subcommand)]
    pub command: Option<Noun>,
}

/// The headless nouns.
#[derive(Debug, Subcommand)]
pub enum Noun {
    /// The app's own SQLite database.
    Storage {
        #[command(subcommand)]
        verb: StorageVerb,
    },
}

#[derive(Debug, Subcommand)]
pub enum StorageVerb {
    /// List tables and views with their row counts.
    Tables {
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
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

/// Runs a headless subcommand and returns the process exit status.
pub fn run(backend: &Backend, noun: Noun) -> i32 {
    let (command, json) = match noun {
        Noun::Storage { verb } => match verb {
            StorageVerb::Tables { json } => (Command::StorageListTables, json),
            StorageVerb::Sql { sql, write, json } => (
                Command::StorageExecuteSql {
                    sql,
                    allow_write: write,
                    max_rows: None,
                },
                json,
            ),
        },
    };
    let result = backend.runtime().block_on(backend.execute(command));
    match result {
        Ok(output) => match print_output(&output, json) {
            Ok(()) => 0,
            // A closed pipe (`anyon ... | head`) is not an error worth a message.
            Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => 0,
            Err(error) => {
                eprintln!("error: cannot write the output: {error}");
                1
            }
        },
        Err(error) => {
            print_error(&error, json);
            1
        }
    }
}

fn print_error(error: &BackendError, json: bool) {
    if json {
        let body = serde_json::json!({"error": {"kind": error.kind(), "message": error.to_string()}});
        eprintln!("{body}");
    } else {
        eprintln!("error: {error}");
    }
}

fn print_output(output: &Output, json: bool) -> std::io::Result<()> {
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    if json {
        match output {
            Output::Tables(tables) => serde_json::to_writer_pretty(&mut out, tables)?,
            Output::Query(result) => serde_json::to_writer_pretty(&mut out, result)?,
            other => serde_json::to_writer_pretty(&mut out, other)?,
        }
        writeln!(out)?;
    } else {
        match output {
            Output::Tables(tables) => write_tables(&mut out, tables)?,
            Output::Query(result) => write_query(&mut out, result)?,
            other => writeln!(out, "{}", serde_json::to_string_pretty(other).unwrap_or_default())?,
        }
    }
    out.flush()
}

fn write_tables(out: &mut impl Write, tables: &[TableInfo]) -> std::io::Result<()> {
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

fn write_query(out: &mut impl Write, result: &QueryResult) -> std::io::Result<()> {
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
mod tests {
    use super::*;

    #[test]
    fn cli_definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }

    #[test]
    fn plain_cells_escape_what_would_break_lines() {
        assert_eq!(plain_cell(&SqlValue::Text("a\tb\nc".into())), "a\\tb\\nc");
        assert_eq!(plain_cell(&SqlValue::Null), "NULL");
        assert_eq!(plain_cell(&SqlValue::Blob(vec![1, 2, 3])), "<blob 3 bytes>");
    }
}
