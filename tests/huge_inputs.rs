//! Huge inputs from outside (issue 27): a transcript line of hundreds of megabytes with no newline, a
//! transcript of gigabytes, a settings file of millions of keys, a Claude that prints a line of hundreds
//! of megabytes. Each is read with memory that does not grow with it (skipped and counted, or refused with
//! a clear error), and what comes after it is still read. Peak memory is the process's own `ru_maxrss`.
#![cfg(target_os = "linux")]

use std::io::{Seek, SeekFrom, Write};
use std::path::Path;

use serde_json::Value;

use crate::support::{self, TempHome};

const MIB: u64 = 1024 * 1024;

/// One assistant line with known usage, as Claude writes it.
fn record(session: &str, id: &str, input: u64, output: u64) -> String {
    format!(
        r#"{{"type":"assistant","sessionId":"{session}","cwd":"/work/big","timestamp":"2026-03-02T10:00:00.000Z","uuid":"u-{id}","requestId":"r-{id}","message":{{"id":"msg_{id}","model":"claude-sonnet-4-5-20250929","role":"assistant","content":[{{"type":"text","text":"hi"}}],"usage":{{"input_tokens":{input},"output_tokens":{output},"cache_read_input_tokens":0,"cache_creation_input_tokens":0}}}}}}"#
    )
}

/// `anyon usage daily --json` on a fresh data folder: its totals and the process's peak RSS in KiB.
fn usage(config: &Path) -> (Value, u64) {
    let home = TempHome::new();
    let (output, rss) = support::run_measured(
        home.anyon_command(&["usage", "daily", "--json"])
            .env("CLAUDE_CONFIG_DIR", config)
            .env("TZ", "UTC"),
    );
    assert!(
        output.status.success(),
        "usage failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    (report["totals"].clone(), rss)
}

#[test]
fn a_line_of_hundreds_of_megabytes_and_a_transcript_of_gigabytes_are_read_in_bounded_memory() {
    let config = tempfile::tempdir().unwrap();
    let project = config.path().join("projects").join("-work-big");
    std::fs::create_dir_all(&project).unwrap();
    std::fs::write(project.join("small.jsonl"), record("s-small", "1", 1000, 7) + "\n").unwrap();
    let (clean, clean_rss) = usage(config.path());
    assert_eq!(clean["inputTokens"], 1000);

    // 300 MB with no newline at all, at the end of a session that has a record before it.
    let mut file = std::fs::File::create(project.join("one-long-line.jsonl")).unwrap();
    writeln!(file, "{}", record("s-long", "2", 20, 3)).unwrap();
    let chunk = vec![b'x'; MIB as usize];
    for _ in 0..300 {
        file.write_all(&chunk).unwrap();
    }
    drop(file);
    // A 3 GB transcript (sparse: one line of zero bytes), then a newline and one more record.
    let mut file = std::fs::File::create(project.join("three-gigabytes.jsonl")).unwrap();
    file.set_len(3 * 1024 * MIB).unwrap();
    file.seek(SeekFrom::End(0)).unwrap();
    writeln!(file, "\n{}", record("s-sparse", "3", 300, 40)).unwrap();
    drop(file);

    let (totals, rss) = usage(config.path());
    assert_eq!(totals["inputTokens"], 1000 + 20 + 300, "{totals}");
    assert_eq!(totals["outputTokens"], 7 + 3 + 40, "{totals}");
    // The long lines are never held: at most one line's cap (32 MiB) per reading thread (one per core)
    // over the clean run, whatever the size of the files (without the cap: over 3 GB).
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()) as u64;
    assert!(
        rss < clean_rss + threads * 40 * 1024,
        "peak RSS {} MiB against {} MiB without the huge files",
        rss / 1024,
        clean_rss / 1024
    );
}

#[test]
fn a_settings_file_of_millions_of_keys_is_refused_clearly_and_left_alone() {
    let home = TempHome::new();
    let config = tempfile::tempdir().unwrap();
    let path = config.path().join("settings.json");
    let mut text = String::with_capacity(40 * MIB as usize);
    text.push('{');
    for key in 0..2_000_000 {
        if key > 0 {
            text.push(',');
        }
        text.push_str(&format!("\"key{key}\":{key}"));
    }
    text.push('}');
    std::fs::write(&path, &text).unwrap();

    for args in [
        &["config", "get", "--scope", "user", "--json"][..],
        &["config", "set", "--scope", "user", "model", "opus", "--json"][..],
    ] {
        let (output, rss) = support::run_measured(
            home.anyon_command(args)
                .env("CLAUDE_CONFIG_DIR", config.path())
                .env("HOME", config.path()),
        );
        let stderr = String::from_utf8_lossy(&output.stderr).to_string() + &String::from_utf8_lossy(&output.stdout);
        assert!(!output.status.success(), "{args:?} accepted a file of 2,000,000 keys");
        assert!(
            stderr.contains("settings.json") && stderr.contains("MiB ANYON reads"),
            "{args:?}: the error must name the file and the limit: {stderr}"
        );
        assert!(rss < 150 * 1024, "{args:?}: peak RSS {} MiB", rss / 1024);
    }
    assert!(std::fs::read_to_string(&path).unwrap() == text, "the file was changed");
}

#[test]
fn a_claude_that_prints_a_line_of_hundreds_of_megabytes_does_not_fill_memory() {
    let home = TempHome::new();
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("project");
    std::fs::create_dir_all(&project).unwrap();
    // A stand-in for the CLI that answers `--version`, then prints a normal start, a 200 MB line and a
    // normal result.
    let script = dir.path().join("claude");
    std::fs::write(
        &script,
        r#"#!/bin/sh
if [ "$1" = "--version" ]; then echo "2.1.197 (Claude Code)"; exit 0; fi
cat >/dev/null &
echo '{"type":"system","subtype":"init","session_id":"s-huge","model":"claude-sonnet-4-5","tools":[],"cwd":"/"}'
head -c 209715200 /dev/zero | tr '\0' 'x'
echo
echo '{"type":"assistant","session_id":"s-huge","message":{"id":"m1","role":"assistant","model":"claude-sonnet-4-5","content":[{"type":"text","text":"after the long line"}]}}'
echo '{"type":"result","subtype":"success","is_error":false,"session_id":"s-huge","result":"after the long line","num_turns":1,"duration_ms":1,"total_cost_usd":0,"usage":{"input_tokens":1,"output_tokens":1}}'
"#,
    )
    .unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let (output, rss) = support::run_measured(
        home.anyon_command(&[
            "chat",
            "--project",
            project.to_str().unwrap(),
            "--prompt",
            "hello",
            "--json",
        ])
        .env("ANYON_CLAUDE_BIN", &script)
        .env("HOME", dir.path()),
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "chat failed: {}\n{stdout}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains("after the long line"),
        "what came after the long line was lost: {stdout}"
    );
    assert!(rss < 150 * 1024, "peak RSS {} MiB", rss / 1024);
}
