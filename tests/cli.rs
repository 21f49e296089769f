//! The headless CLI, run as a real process.

use serde_json::Value;

use crate::support::TempHome;

fn stdout_json(output: &std::process::Output) -> Value {
    assert!(
        output.status.success(),
        "exit {:?}, stderr: {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("stdout is JSON")
}

#[test]
fn version_is_printed() {
    let home = TempHome::new();
    let output = home.anyon(&["--version"]);
    assert!(output.status.success());
    assert_eq!(
        String::from_utf8_lossy(&output.stdout).trim(),
        format!("anyon {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn storage_tables_lists_every_table_with_counts() {
    let home = TempHome::new();
    let tables = stdout_json(&home.anyon(&["storage", "tables", "--json"]));
    let names: Vec<&str> = tables
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "added_projects",
            "agent_runs",
            "agents",
            "app_settings",
            "checkpoint_files",
            "checkpoint_stat_cache",
            "checkpoint_trees",
            "checkpoints",
            "history_first_screen",
            "history_session_usage",
            "history_sessions",
            "restore_journal",
            "revoked_tokens",
            "subscriptions",
            "transcript_files",
            "transcript_messages",
            "transcript_search",
            "usage_records",
            "user_settings",
            "users"
        ],
        "the tables of every migration (the first schema, the checkpoint trees and stat cache, the transcript index, auth, \
         search, the restore journal, the saved first screen), without the full-text index's shadow tables"
    );
    assert!(
        tables
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["row_count"] == 0 && t["kind"] == "table")
    );
    assert!(
        home.path().join("anyon.db").exists(),
        "the database lives in ANYON_HOME"
    );
}

#[test]
fn writes_need_the_write_flag_and_change_nothing_without_it() {
    let home = TempHome::new();
    let insert = "INSERT INTO app_settings (key, value) VALUES ('k', 'v')";
    let refused = home.anyon(&["storage", "sql", insert, "--json"]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(refused.stdout.is_empty(), "nothing on stdout for a failure");
    let error: Value = serde_json::from_slice(&refused.stderr).expect("stderr is JSON");
    assert_eq!(error["error"]["kind"], "write_refused");
    assert!(error["error"]["message"].as_str().unwrap().contains("--write"));

    let count = |home: &TempHome| {
        let result = stdout_json(&home.anyon(&["storage", "sql", "SELECT count(*) AS n FROM app_settings", "--json"]));
        assert_eq!(result["columns"], serde_json::json!(["n"]));
        result["rows"][0][0].as_i64().unwrap()
    };
    assert_eq!(count(&home), 0, "the refused write changed nothing");

    let written = stdout_json(&home.anyon(&["storage", "sql", insert, "--write", "--json"]));
    assert_eq!(written["rows_affected"], 1);
    assert_eq!(count(&home), 1);
}

#[test]
fn malformed_sql_fails_with_a_json_error() {
    let home = TempHome::new();
    let output = home.anyon(&["storage", "sql", "SELEC nonsense", "--json"]);
    assert_eq!(output.status.code(), Some(1));
    let error: Value = serde_json::from_slice(&output.stderr).expect("stderr is JSON");
    assert_eq!(error["error"]["kind"], "sql");
    assert!(error["error"]["message"].as_str().unwrap().contains("syntax error"));
}

#[test]
fn plain_output_is_readable() {
    let home = TempHome::new();
    let output = home.anyon(&["storage", "tables"]);
    assert!(output.status.success());
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(text.lines().next().unwrap().starts_with("name"));
    assert!(text.contains("checkpoint_files"));
}
