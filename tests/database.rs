//! Opening the database file: corrupt and newer files are refused untouched.

use anyon::domain::db::{Db, DbError, latest_version};

use crate::support::{self, TempHome};
use anyon::domain::db::console::requests::{StorageExecuteSql, StorageListTables};

#[test]
fn a_corrupt_file_is_reported_and_never_overwritten() {
    let home = TempHome::new();
    let path = home.path().join("anyon.db");
    let garbage: Vec<u8> = (0..8192u32).map(|i| (i * 7 % 251) as u8).collect();
    std::fs::write(&path, &garbage).unwrap();
    let error = Db::open(&path).unwrap_err();
    assert!(matches!(error, DbError::Corrupt { .. }), "{error:?}");
    assert!(error.to_string().contains("untouched"));
    assert_eq!(
        std::fs::read(&path).unwrap(),
        garbage,
        "the file is byte-for-byte unchanged"
    );

    // The CLI says so clearly too, and the backend keeps working for what does not need the database.
    let output = home.anyon(&["storage", "tables", "--json"]);
    assert_eq!(output.status.code(), Some(1));
    let message = String::from_utf8_lossy(&output.stderr);
    assert!(message.contains("not a readable SQLite database"), "{message}");
    assert_eq!(std::fs::read(&path).unwrap(), garbage);
}

#[test]
fn a_database_from_a_newer_version_is_refused() {
    let home = TempHome::new();
    let path = home.path().join("anyon.db");
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.pragma_update(None, "user_version", latest_version() + 1).unwrap();
    }
    let error = Db::open(&path).unwrap_err();
    assert!(matches!(error, DbError::TooNew { .. }), "{error:?}");
    let runtime = support::runtime();
    let (backend, _events) = support::backend(&runtime, &home);
    assert!(
        backend
            .database_error()
            .unwrap()
            .to_string()
            .contains("newer than this build")
    );
    let failure = runtime.block_on(backend.execute(StorageListTables)).unwrap_err();
    assert!(failure.to_string().contains("newer than this build"), "{failure}");
}

#[test]
fn pragmas_are_set_on_open() {
    let home = TempHome::new();
    let db = Db::open(&home.path().join("anyon.db")).unwrap();
    let conn = db.writer();
    let mode: String = conn.pragma_query_value(None, "journal_mode", |r| r.get(0)).unwrap();
    let fks: i64 = conn.pragma_query_value(None, "foreign_keys", |r| r.get(0)).unwrap();
    let timeout: i64 = conn.pragma_query_value(None, "busy_timeout", |r| r.get(0)).unwrap();
    assert_eq!((mode.as_str(), fks), ("wal", 1));
    assert!(timeout >= 1000, "busy timeout {timeout}");
    drop(conn);
    let read_only = db.open_read_only().unwrap();
    let error = read_only
        .execute("INSERT INTO app_settings (key, value) VALUES ('a', 'b')", [])
        .unwrap_err();
    assert!(
        error.to_string().contains("readonly") || error.to_string().contains("read-only"),
        "{error}"
    );
}

#[test]
fn runs_left_running_by_a_crash_are_marked_interrupted_at_start() {
    let home = TempHome::new();
    {
        let db = Db::open(&home.path().join("anyon.db")).unwrap();
        let conn = db.writer();
        // A dead pid (no such process), no pid at all, and this test's own live pid.
        let own = std::process::id();
        conn.execute_batch(&format!(
            "INSERT INTO agent_runs (agent_name, task, model, project_path, status, pid) VALUES
               ('a', 't', 'm', '/p', 'running', 999999999),
               ('b', 't', 'm', '/p', 'pending', NULL),
               ('c', 't', 'm', '/p', 'running', {own}),
               ('d', 't', 'm', '/p', 'completed', NULL);"
        ))
        .unwrap();
    }
    let runtime = support::runtime();
    let (backend, _events) = support::backend(&runtime, &home);
    let output = runtime
        .block_on(backend.call(StorageExecuteSql {
            sql: "SELECT agent_name, status FROM agent_runs ORDER BY agent_name".into(),
            allow_write: false,
            max_rows: None,
            record: false,
        }))
        .unwrap();
    let result = output;
    let statuses: Vec<String> = result.rows.iter().map(|r| format!("{:?}", r[1])).collect();
    assert_eq!(
        statuses,
        [
            "Text(\"interrupted\")",
            "Text(\"interrupted\")",
            "Text(\"running\")",
            "Text(\"completed\")"
        ],
        "a run whose process lives is left alone"
    );
}
