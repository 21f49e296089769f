//! The Storage capability through the backend, the CLI and the window.

use std::time::{Duration, Instant};

use anyon::app::{AnyonApp, StartOptions};
use anyon::backend::command::Command;
use anyon::backend::event::{ErrorDetail, Event};
use anyon::domain::db::console::{ExportFormat, PageRequest, SqlValue};
use anyon::state::nav::Screen;
use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;

use crate::support::{self, TempHome};
use anyon::backend::event::Replies;
use anyon::domain::db::console::requests::{
    ExportSource, Exported, StorageCancel, StorageExecuteSql, StorageExport, StorageHistory, StorageReadTable,
};
use anyon::util::request::Ask;

fn run<Q>(runtime: &tokio::runtime::Runtime, backend: &anyon::backend::Backend, request: Q) -> Q::Reply
where
    Q: Ask,
    Command: From<Q::Request>,
    Q::Replies: Replies,
{
    runtime.block_on(backend.call(request)).expect("command succeeds")
}

fn write(runtime: &tokio::runtime::Runtime, backend: &anyon::backend::Backend, sql: &str) {
    run(
        runtime,
        backend,
        StorageExecuteSql {
            sql: sql.into(),
            allow_write: true,
            max_rows: None,
            record: false,
        },
    );
}

#[test]
fn a_million_row_table_pages_with_bounded_pages() {
    let runtime = support::runtime();
    let home = TempHome::new();
    let (backend, _events) = support::backend(&runtime, &home);
    write(
        &runtime,
        &backend,
        "CREATE TABLE big (id INTEGER PRIMARY KEY, label TEXT)",
    );
    write(
        &runtime,
        &backend,
        "INSERT INTO big (label) WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 1000000) \
         SELECT 'row ' || x FROM c",
    );
    for (offset, first_id) in [(0u64, 1i64), (500_000, 500_001), (999_900, 999_901)] {
        let request = PageRequest {
            table: "big".into(),
            offset,
            limit: 100,
            sort: None,
            filter: None,
        };
        let page = run(&runtime, &backend, StorageReadTable { page: request });
        assert_eq!(page.total_rows, 1_000_000);
        assert_eq!(page.rows.len(), 100);
        assert_eq!(page.rows[0][0], SqlValue::Integer(first_id));
        assert_eq!(page.keys.len(), 100);
    }
    // However many rows are asked for, a page never holds more than the cap.
    let greedy = PageRequest {
        table: "big".into(),
        offset: 0,
        limit: u32::MAX,
        sort: None,
        filter: None,
    };
    let page = run(&runtime, &backend, StorageReadTable { page: greedy });
    assert_eq!(page.rows.len(), anyon::domain::db::console::MAX_PAGE_ROWS as usize);
    // And the SQL editor's result is capped, with truncation said.
    let result = run(
        &runtime,
        &backend,
        StorageExecuteSql {
            sql: "SELECT * FROM big".into(),
            allow_write: false,
            max_rows: Some(10_000),
            record: false,
        },
    );
    assert_eq!(result.rows.len(), 10_000);
    assert!(result.truncated);
}

#[test]
fn a_long_query_is_cancelled() {
    let runtime = support::runtime();
    let home = TempHome::new();
    let (backend, mut events) = support::backend(&runtime, &home);
    let endless = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c";
    let request_id = backend.dispatch(StorageExecuteSql {
        sql: endless.into(),
        allow_write: false,
        max_rows: None,
        record: true,
    });
    std::thread::sleep(Duration::from_millis(200));
    let started = Instant::now();
    backend.dispatch(StorageCancel { request_id });
    let (error, detail) = support::wait_for("the cancelled query to end", Duration::from_secs(10), || {
        let mut failed = None;
        events.drain(Duration::from_millis(5), |event| {
            if let Event::Failed {
                request_id: id,
                error,
                detail,
                ..
            } = event
                && id == request_id
            {
                failed = Some((error, detail));
            }
        });
        failed
    });
    assert_eq!(detail, ErrorDetail::Cancelled, "{error}");
    assert!(started.elapsed() < Duration::from_secs(5));
    let history = run(&runtime, &backend, StorageHistory);
    assert!(history.is_empty(), "a cancelled statement is not recorded");
}

#[test]
fn a_cancel_that_arrives_first_still_stops_the_query() {
    let runtime = support::runtime();
    let home = TempHome::new();
    let (backend, _events) = support::backend(&runtime, &home);
    // The cancel is handled before the statement's blocking task can have registered itself.
    let endless = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c";
    let backend2 = backend.clone();
    let outcome = runtime.block_on(async move {
        let query = backend2.execute(StorageExecuteSql {
            sql: endless.into(),
            allow_write: false,
            max_rows: None,
            record: false,
        });
        let cancel = async {
            // The request id `execute` takes is the next one; cancel everything near it.
            for request_id in 1..64 {
                let _ = backend.execute(StorageCancel { request_id }).await;
            }
        };
        let (result, ()) = tokio::time::timeout(Duration::from_secs(10), async { tokio::join!(query, cancel) })
            .await
            .expect("the query stopped");
        result
    });
    assert!(outcome.is_err());
}

#[test]
fn history_keeps_successful_statements_newest_first_across_restarts() {
    let runtime = support::runtime();
    let home = TempHome::new();
    {
        let (backend, _events) = support::backend(&runtime, &home);
        for sql in ["SELECT 1", "SELECT 2", "SELECT nope FROM nowhere", "SELECT 1"] {
            let _ = runtime.block_on(backend.execute(StorageExecuteSql {
                sql: sql.into(),
                allow_write: false,
                max_rows: None,
                record: true,
            }));
        }
    }
    let (backend, _events) = support::backend(&runtime, &home);
    let history = run(&runtime, &backend, StorageHistory);
    assert_eq!(history, ["SELECT 1", "SELECT 2"]);
}

#[test]
fn export_streams_every_row_to_a_file_and_round_trips() {
    let runtime = support::runtime();
    let home = TempHome::new();
    let (backend, _events) = support::backend(&runtime, &home);
    write(
        &runtime,
        &backend,
        "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)",
    );
    let tricky = "a, b \"quoted\"\nnext line";
    write(
        &runtime,
        &backend,
        &format!(
            "INSERT INTO notes (body) VALUES ('{}'), (NULL), ('plain')",
            tricky.replace('\'', "''")
        ),
    );
    let path = home.path().join("out.csv");
    let Exported { rows, .. } = run(
        &runtime,
        &backend,
        StorageExport {
            source: ExportSource::Query("SELECT * FROM notes ORDER BY id".into()),
            format: ExportFormat::Csv,
            path: path.clone(),
        },
    );
    assert_eq!(rows, 3);
    let mut reader = csv::Reader::from_path(&path).unwrap();
    let bodies: Vec<String> = reader.records().map(|r| r.unwrap()[1].to_string()).collect();
    assert_eq!(bodies, [tricky, "", "plain"]);
    assert!(no_partial_files(home.path()));

    // A failing export leaves nothing under the chosen name.
    let bad = home.path().join("bad.json");
    let failed = runtime.block_on(backend.execute(StorageExport {
        source: ExportSource::Table("missing".into()),
        format: ExportFormat::Json,
        path: bad.clone(),
    }));
    assert!(failed.is_err());
    assert!(!bad.exists() && no_partial_files(home.path()));
}

/// A link planted where an export used to write its temporary file (`<path>.partial`) is never
/// followed: the export goes through the one atomic writer, whose temporary file has a random name and
/// is created exclusively.
#[cfg(unix)]
#[test]
fn an_export_never_writes_through_a_planted_link() {
    let runtime = support::runtime();
    let home = TempHome::new();
    let (backend, _events) = support::backend(&runtime, &home);
    write(&runtime, &backend, "CREATE TABLE notes (body TEXT)");
    write(&runtime, &backend, "INSERT INTO notes VALUES ('exported')");
    let elsewhere = tempfile::tempdir().unwrap();
    let victim = elsewhere.path().join("victim.txt");
    std::fs::write(&victim, "someone else's\n").unwrap();
    let path = home.path().join("out.csv");
    let planted = home.path().join("out.csv.partial");
    std::os::unix::fs::symlink(&victim, &planted).unwrap();
    let Exported { rows, .. } = run(
        &runtime,
        &backend,
        StorageExport {
            source: ExportSource::Table("notes".into()),
            format: ExportFormat::Csv,
            path: path.clone(),
        },
    );
    assert_eq!(rows, 1);
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "someone else's\n");
    assert!(std::fs::read_to_string(&path).unwrap().contains("exported"));
    assert!(std::fs::symlink_metadata(&planted).unwrap().is_symlink());
}

/// Whether no temporary file of an export (`.<name>.<random>.partial`) is left in `dir`.
fn no_partial_files(dir: &std::path::Path) -> bool {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .all(|entry| !entry.file_name().to_string_lossy().ends_with(".partial"))
}

#[test]
fn cli_schema_and_csv() {
    let home = TempHome::new();
    let output = home.anyon(&["storage", "schema", "checkpoint_files", "--json"]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let schema: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(schema[0]["without_rowid"], true);
    let columns: Vec<&str> = schema[0]["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        columns,
        ["checkpoint_id", "path", "content_hash", "size", "mode", "is_deleted"]
    );

    let output = home.anyon(&[
        "storage",
        "sql",
        "SELECT 'a,b' AS x, NULL AS y, 3 AS z",
        "--format",
        "csv",
    ]);
    assert!(output.status.success());
    assert_eq!(String::from_utf8(output.stdout).unwrap(), "x,y,z\n\"a,b\",,3\n");

    let output = home.anyon(&["storage", "schema", "nope", "--json"]);
    assert_eq!(output.status.code(), Some(1));
    let error: serde_json::Value = serde_json::from_slice(&output.stderr).unwrap();
    assert_eq!(error["error"]["kind"], "no_such_table");
}

/// A text label showing exactly `text` (not its inner text-run node).
/// A text label whose text contains `part`.
fn text_contains(node: &egui_kittest::kittest::AccessKitNode<'_>, part: &str) -> bool {
    node.role() == Role::Label && node.value().is_some_and(|v| v.contains(part))
}

fn is_text(node: &egui_kittest::kittest::AccessKitNode<'_>, text: &str) -> bool {
    node.role() == Role::Label && node.value().as_deref() == Some(text)
}

fn storage_harness<'a>(runtime: &tokio::runtime::Runtime, home: &TempHome) -> Harness<'a, AnyonApp> {
    let (backend, events) = support::backend(runtime, home);
    Harness::builder()
        .with_size(egui::vec2(1280.0, 860.0))
        .build_eframe(move |cc| {
            AnyonApp::new(
                cc,
                backend,
                events,
                StartOptions {
                    screen: Some(Screen::Storage),
                    ..Default::default()
                },
            )
        })
}

/// Steps the window until `check` finds what it waits for.
fn settle<'a, T>(
    harness: &mut Harness<'a, AnyonApp>,
    what: &str,
    mut check: impl FnMut(&Harness<'a, AnyonApp>) -> Option<T>,
) -> T {
    support::wait_for(what, Duration::from_secs(10), || {
        harness.step();
        check(harness)
    })
}

#[test]
fn window_deletes_a_row_only_after_confirmation() {
    let runtime = support::runtime();
    let home = TempHome::new();
    {
        let (backend, _events) = support::backend(&runtime, &home);
        write(
            &runtime,
            &backend,
            "INSERT INTO agents (name) VALUES ('keep-me'), ('delete-me')",
        );
    }
    let mut harness = storage_harness(&runtime, &home);
    settle(&mut harness, "the table list", |h| {
        h.query_by_label_contains("agents  (2)").map(|_| ())
    });
    harness.get_by_label_contains("agents  (2)").click();
    settle(&mut harness, "the agents page", |h| {
        h.query_by(|n| is_text(n, "delete-me")).map(|_| ())
    });
    harness.get_by(|n| is_text(n, "delete-me")).click();
    harness.run_ok();
    assert!(
        harness.query_by_label("Delete row").is_none(),
        "no delete while read-only"
    );
    harness.get_by_label_contains("Read-only").click();
    harness.run_ok();
    harness.get_by_label("Delete row").click();
    settle(&mut harness, "the confirmation", |h| {
        h.query_by(|n| is_text(n, "DELETE FROM \"agents\" WHERE rowid = 2"))
            .map(|_| ())
    });
    harness.get_by_label("Cancel").click();
    harness.run_ok();
    assert!(
        harness.query_by(|n| is_text(n, "delete-me")).is_some(),
        "cancel changes nothing"
    );

    harness.get_by_label("Delete row").click();
    settle(&mut harness, "the confirmation", |h| {
        h.query_by_label("Run it").map(|_| ())
    });
    harness.get_by_label("Run it").click();
    settle(&mut harness, "the row to disappear", |h| {
        h.query_by(|n| is_text(n, "delete-me")).is_none().then_some(())
    });
    assert!(harness.query_by(|n| is_text(n, "keep-me")).is_some());
    let (backend, _events) = support::backend(&runtime, &home);
    let result = run(
        &runtime,
        &backend,
        StorageExecuteSql {
            sql: "SELECT name FROM agents".into(),
            allow_write: false,
            max_rows: None,
            record: false,
        },
    );
    assert_eq!(result.rows, vec![vec![SqlValue::Text("keep-me".into())]]);
}

#[test]
fn window_runs_sql_with_ctrl_enter_and_points_at_errors() {
    let runtime = support::runtime();
    let home = TempHome::new();
    let mut harness = storage_harness(&runtime, &home);
    settle(&mut harness, "the editor entry", |h| {
        h.query_by_label("⌨  SQL editor").map(|_| ())
    });
    harness.get_by_label("⌨  SQL editor").click();
    harness.run_ok();
    let editor = harness.get_by_role(Role::MultilineTextInput);
    editor.focus();
    editor.type_text("SELECT 40 + 2 AS answer");
    harness.run_ok();
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Enter);
    settle(&mut harness, "the result", |h| {
        h.query_by(|n| is_text(n, "42")).map(|_| ())
    });
    assert!(harness.query_by(|n| is_text(n, "1 row(s)")).is_some());

    let editor = harness.get_by_role(Role::MultilineTextInput);
    editor.focus();
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    let editor = harness.get_by_role(Role::MultilineTextInput);
    editor.type_text("SELECT *\nFROM agents WHER x");
    harness.run_ok();
    harness.get_by_label_contains("Run").click();
    let message = settle(&mut harness, "the error", |h| {
        h.query_by(|n| text_contains(n, "syntax error"))
            .map(|n| n.value().unwrap_or_default())
    });
    assert!(message.contains("Line 2, column"), "{message}");

    // A write is refused while read-only, and says how to allow it.
    let editor = harness.get_by_role(Role::MultilineTextInput);
    editor.focus();
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    let editor = harness.get_by_role(Role::MultilineTextInput);
    editor.type_text("DELETE FROM agents");
    harness.run_ok();
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Enter);
    settle(&mut harness, "the refusal", |h| {
        h.query_by(|n| text_contains(n, "Allow writes")).map(|_| ())
    });

    // With writes allowed, the destructive statement is shown with a warning before it runs.
    harness.get_by_label_contains("Read-only").click();
    harness.run_ok();
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Enter);
    settle(&mut harness, "the warning", |h| {
        h.query_by(|n| text_contains(n, "deletes every row of agents"))
            .map(|_| ())
    });
    assert!(harness.query_by_label("Run it anyway").is_some());
}
