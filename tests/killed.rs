//! Killed mid-write (issue 27): a real `anyon` process is sent SIGKILL at random moments of an operation,
//! many times, and started again. After every kill the database passes `PRAGMA integrity_check` and each
//! file ANYON writes is whole (the old version or the new one); after the last, the operation run to its
//! end gives what a run never killed gives.
//!
//! The kill moments are drawn from a seed printed at the start of each test (shown when it fails);
//! `ANYON_KILL_SEED=N` replays one, `ANYON_KILLS=N` changes the number of kills per operation (20).
#![cfg(unix)]

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::claude::{Sandbox, require_claude_bin};
use crate::support::mock_api::{MockApi, Script};
use crate::support::transcripts::{Rng, Shape, generate};
use crate::support::{self, TempHome};

/// Where the kills fall, from a seed that is printed.
pub(crate) struct Kills {
    rng: Rng,
    pub(crate) count: usize,
}

impl Kills {
    pub(crate) fn new(test: &str) -> Self {
        let seed = std::env::var("ANYON_KILL_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(1, |d| d.as_nanos() as u64)
            });
        let count = std::env::var("ANYON_KILLS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(20);
        eprintln!("{test}: {count} kills, seed {seed} (replay with ANYON_KILL_SEED={seed})");
        Self {
            rng: Rng::new(seed),
            count,
        }
    }

    /// A moment within `span`, uniformly.
    pub(crate) fn within(&mut self, span: Duration) -> Duration {
        let micros = span.as_micros().max(1) as u64;
        Duration::from_micros(self.rng.below(micros))
    }
}

/// Starts `command`, sends SIGKILL after `after` (unless it ended first) and reaps it. Says whether the
/// kill landed while it ran.
pub(crate) fn kill_after(mut command: Command, after: Duration) -> bool {
    let mut child: Child = command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn anyon");
    let deadline = Instant::now() + after;
    loop {
        if child.try_wait().expect("try_wait").is_some() {
            return false;
        }
        let now = Instant::now();
        if now >= deadline {
            break;
        }
        std::thread::sleep((deadline - now).min(Duration::from_millis(2)));
    }
    let _ = child.kill();
    let _ = child.wait();
    true
}

/// How long `command` takes when left alone.
pub(crate) fn time_of(mut command: Command) -> Duration {
    let started = Instant::now();
    let output = command.output().expect("run anyon");
    assert!(
        output.status.success(),
        "the operation fails even unkilled: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    started.elapsed()
}

pub(crate) fn assert_database_intact(home: &TempHome, when: &str) {
    let path = home.paths().database();
    if !path.exists() {
        return;
    }
    let conn = rusqlite::Connection::open(&path).expect("open the database");
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |row| row.get(0))
        .expect("integrity_check");
    assert_eq!(check, "ok", "database damaged {when}");
}

#[test]
fn a_cold_transcript_index_killed_anywhere_ends_with_the_totals_of_a_clean_run() {
    let _cpu = support::kill_lock();
    let mut kills = Kills::new("a_cold_transcript_index_killed_anywhere");
    let config = tempfile::tempdir().unwrap();
    generate(
        &config.path().join("projects"),
        &Shape {
            projects: 6,
            sessions: 240,
            responses: 25,
            payload: 1500,
            seed: 27,
        },
    );
    let usage = |home: &TempHome| {
        let mut command = home.anyon_command(&["usage", "daily", "--json"]);
        command.env("CLAUDE_CONFIG_DIR", config.path()).env("TZ", "UTC");
        command
    };
    let clean_home = TempHome::new();
    let clean = usage(&clean_home).output().unwrap();
    assert!(clean.status.success());
    let clean: Value = serde_json::from_slice(&clean.stdout).unwrap();
    // The time of a cold run: the kills fall anywhere in it, and a little after.
    let span = time_of(usage(&TempHome::new())).mul_f64(1.2);

    // The index resumes where a killed run stopped, so each run has less left to do: once one ends on its
    // own, its result is checked and the next kills start again from an empty data folder.
    let totals_of = |home: &TempHome, when: &str| {
        let output = usage(home).output().unwrap();
        assert!(
            output.status.success(),
            "{when}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let after: Value = serde_json::from_slice(&output.stdout).unwrap();
        assert_eq!(
            after["totals"], clean["totals"],
            "totals {when} differ from a clean run's"
        );
        assert_eq!(after["daily"], clean["daily"], "days {when} differ from a clean run's");
    };
    let mut home = TempHome::new();
    let mut landed = 0;
    let mut since_fresh = 0;
    for kill in 0..kills.count {
        let after = kills.within(span);
        let hit = kill_after(usage(&home), after);
        assert_database_intact(&home, &format!("after kill {kill} at {after:?}"));
        if hit {
            landed += 1;
            since_fresh += 1;
        } else {
            totals_of(
                &home,
                &format!("after a run that ended on its own, {since_fresh} kills after a fresh start"),
            );
            home = TempHome::new();
            since_fresh = 0;
        }
    }
    // Uniform over 1.2 times a cold run, most kills land mid-index; a quarter is the floor whatever the load.
    assert!(
        landed >= kills.count / 4,
        "only {landed} of {} kills landed while the index ran",
        kills.count
    );
    totals_of(&home, &format!("after the last {since_fresh} kills"));
    assert_database_intact(&home, "at the end");
}

/// A settings file large enough that writing it takes a while (inside the read cap).
fn big_settings() -> serde_json::Map<String, Value> {
    (0..40_000)
        .map(|i| {
            (
                format!("note{i}"),
                json!(format!("value number {i} of a long settings file")),
            )
        })
        .collect()
}

#[test]
fn claude_settings_killed_mid_write_are_the_old_file_or_the_new_one() {
    let _cpu = support::kill_lock();
    let mut kills = Kills::new("claude_settings_killed_mid_write");
    let home = TempHome::new();
    let config = tempfile::tempdir().unwrap();
    let path = config.path().join("settings.json");
    let base = big_settings();
    std::fs::write(&path, serde_json::to_vec_pretty(&base).unwrap()).unwrap();
    let set = |value: usize| {
        let mut command = home.anyon_command(&[
            "config",
            "set",
            "--scope",
            "user",
            "counter",
            &value.to_string(),
            "--json",
        ]);
        command
            .env("CLAUDE_CONFIG_DIR", config.path())
            .env("HOME", config.path());
        command
    };
    let span = time_of(set(0)).mul_f64(1.2);
    let mut current = 0;
    let mut landed = 0;
    for kill in 1..=kills.count {
        let after = kills.within(span);
        landed += usize::from(kill_after(set(kill), after));
        let text = std::fs::read(&path).unwrap();
        let value: serde_json::Map<String, Value> = serde_json::from_slice(&text)
            .unwrap_or_else(|e| panic!("settings.json is not whole after kill {kill} at {after:?}: {e}"));
        let counter = value.get("counter").and_then(Value::as_u64).unwrap() as usize;
        assert!(
            counter == current || counter == kill,
            "after kill {kill} the counter is {counter}, neither the old {current} nor the new {kill}"
        );
        current = counter;
        let mut rest = value.clone();
        rest.remove("counter");
        assert_eq!(
            rest, base,
            "a key the write was not asked to change changed after kill {kill}"
        );
        assert_database_intact(&home, &format!("after kill {kill}"));
    }
    // Uniform over 1.2 times a clean run most kills land mid-write; a quarter is the floor under any load.
    assert!(
        landed >= kills.count / 4,
        "only {landed} of {} kills landed while the write ran",
        kills.count
    );
}

#[test]
fn mcp_config_killed_mid_write_is_the_old_file_or_the_new_one() {
    let _cpu = support::kill_lock();
    let mut kills = Kills::new("mcp_config_killed_mid_write");
    let home = TempHome::new();
    let dir = tempfile::tempdir().unwrap();
    // ~/.claude.json also holds Claude's own state, often large: ANYON must keep all of it.
    let claude_json = dir.path().join(".claude.json");
    let projects: serde_json::Map<String, Value> = (0..4_000)
        .map(|i| {
            (
                format!("/work/project-{i}"),
                json!({"allowedTools": [], "history": [format!("prompt {i}")]}),
            )
        })
        .collect();
    std::fs::write(
        &claude_json,
        serde_json::to_vec(&json!({"projects": projects})).unwrap(),
    )
    .unwrap();
    let add = |n: usize| {
        let name = format!("server-{n}");
        let mut command = home.anyon_command(&["mcp", "add", "--scope", "user", &name, "--json", "--", "echo", "hi"]);
        command
            .env("HOME", dir.path())
            .env("CLAUDE_CONFIG_DIR", dir.path())
            .current_dir(dir.path());
        command
    };
    let span = time_of(add(0)).mul_f64(1.2);
    let names = |value: &Value| -> std::collections::BTreeSet<String> {
        value["mcpServers"]
            .as_object()
            .map(|o| o.keys().cloned().collect())
            .unwrap_or_default()
    };
    let mut known = names(&serde_json::from_slice(&std::fs::read(&claude_json).unwrap()).unwrap());
    assert!(known.contains("server-0"));
    let mut landed = 0;
    for kill in 1..=kills.count {
        let after = kills.within(span);
        landed += usize::from(kill_after(add(kill), after));
        let text = std::fs::read(&claude_json).unwrap();
        let value: Value = serde_json::from_slice(&text)
            .unwrap_or_else(|e| panic!(".claude.json is not whole after kill {kill} at {after:?}: {e}"));
        assert_eq!(
            value["projects"],
            Value::Object(projects.clone()),
            "Claude's own state changed"
        );
        let now = names(&value);
        assert!(
            now.is_superset(&known),
            "kill {kill} lost servers: {known:?} -> {now:?}"
        );
        let mut allowed = known.clone();
        allowed.insert(format!("server-{kill}"));
        assert!(
            now.is_subset(&allowed),
            "kill {kill} left servers nobody added: {now:?}"
        );
        known = now;
    }
    // Uniform over 1.2 times a clean run most kills land mid-write; a quarter is the floor under any load.
    assert!(
        landed >= kills.count / 4,
        "only {landed} of {} kills landed while the write ran",
        kills.count
    );
}

#[test]
fn an_agent_run_killed_anywhere_is_recorded_as_interrupted_or_finished_never_running() {
    let Some(bin) = require_claude_bin("an_agent_run_killed_anywhere") else {
        return;
    };
    let _cpu = support::kill_lock();
    let mut kills = Kills::new("an_agent_run_killed_anywhere");
    let home = TempHome::new();
    let sandbox = Sandbox::new();
    let api = MockApi::start(Script::text("Done."));
    let agents = |args: &[&str]| {
        let mut all = vec!["agents"];
        all.extend_from_slice(args);
        let mut command = home.anyon_command(&all);
        command.env("ANYON_CLAUDE_BIN", &bin);
        for (key, value) in sandbox.env(&api.base_url()) {
            command.env(key, value);
        }
        command
    };
    let created = agents(&[
        "create",
        "--name",
        "Killed",
        "--system-prompt",
        "Be brief.",
        "--default-task",
        "Go",
        "--json",
    ])
    .output()
    .unwrap();
    assert!(created.status.success(), "{}", String::from_utf8_lossy(&created.stderr));
    let project = sandbox.project.display().to_string();
    let run = || agents(&["run", "Killed", "--project", &project, "--json"]);
    let span = time_of(run()).mul_f64(1.2);
    let mut landed = 0;
    for kill in 0..kills.count {
        let after = kills.within(span);
        landed += usize::from(kill_after(run(), after));
        assert_database_intact(&home, &format!("after kill {kill} at {after:?}"));
    }
    assert!(
        landed >= kills.count / 4,
        "only {landed} of {} kills landed while the run went",
        kills.count
    );
    // Claude itself may outlive a killed ANYON for a moment; then the next start marks what it left.
    let runs = support::wait_for("every run to be settled", Duration::from_secs(60), || {
        let output = agents(&["runs", "--json"]).output().unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        let runs: Value = serde_json::from_slice(&output.stdout).unwrap();
        let rows = match &runs {
            Value::Array(rows) => rows.clone(),
            other => other
                .as_object()
                .and_then(|o| o.values().find_map(Value::as_array).cloned())
                .unwrap_or_else(|| panic!("no list of runs in {other}")),
        };
        rows.iter()
            .all(|r| !matches!(r["status"].as_str(), Some("running" | "pending")))
            .then_some(rows)
    });
    // A kill before a run's row is written leaves no row; every run that ended on its own has one.
    let started = kills.count + 1;
    let unkilled = started - landed;
    assert!(
        (unkilled..=started).contains(&runs.len()),
        "{} runs recorded for {started} runs started, {unkilled} of them never killed",
        runs.len()
    );
    for run in &runs {
        let status = run["status"].as_str().unwrap();
        assert!(
            matches!(status, "completed" | "interrupted" | "cancelled"),
            "a killed run ended as {status}: {run}"
        );
    }
    assert_database_intact(&home, "at the end");
}
