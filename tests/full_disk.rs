//! Full disks (issue 27): with the data folder, Claude's configuration or an export's target on a small
//! tmpfs filled to the last page, each write fails with an error that says there is no space and names
//! what could not be written; nothing written before is damaged (the database passes `integrity_check`,
//! files keep their last good version, no partial file is left under the chosen name); once space
//! returns, the same operation works.
//!
//! Mounting needs root (CI runs as root). Elsewhere the tests skip, saying so; in CI they never skip.
#![cfg(target_os = "linux")]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Output;

use anyon::domain::db::console::ExportFormat;
use anyon::domain::db::console::requests::{ExportSource, StorageExecuteSql, StorageExport};
use anyon::domain::transcripts::requests::{RefreshHistory, UsageRange, UsageReport};
use serde_json::Value;

use crate::support::transcripts::{Shape, generate};
use crate::support::{self, TempHome};

/// A tmpfs of a few megabytes, unmounted when dropped.
struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    fn mount(test: &str, megabytes: u64) -> Option<Self> {
        let dir = tempfile::Builder::new().prefix("anyon-small-disk").tempdir().unwrap();
        let mounted = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={megabytes}m"), "tmpfs"])
            .arg(dir.path())
            .output();
        match mounted {
            Ok(output) if output.status.success() => Some(Self { dir }),
            Ok(output) => {
                support::skip(
                    test,
                    &format!(
                        "cannot mount a tmpfs (needs root): {}",
                        String::from_utf8_lossy(&output.stderr).trim()
                    ),
                );
                None
            }
            Err(error) => {
                support::skip(test, &format!("cannot run mount: {error}"));
                None
            }
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Takes every free byte: one big file, then small ones for the last pages.
    fn fill(&self) {
        let chunk = vec![0u8; 64 * 1024];
        let mut file = std::fs::File::create(self.path().join("filler")).unwrap();
        while file.write_all(&chunk).is_ok() {}
        let _ = file.sync_all();
        for n in 0.. {
            let Ok(mut small) = std::fs::File::create(self.path().join(format!("filler-{n}"))) else {
                break;
            };
            if small.write_all(&[0u8; 4096]).and_then(|()| small.sync_all()).is_err() {
                break;
            }
        }
    }

    /// Gives the space back.
    fn free(&self) {
        for entry in std::fs::read_dir(self.path()).unwrap().flatten() {
            if entry.file_name().to_string_lossy().starts_with("filler") {
                std::fs::remove_file(entry.path()).unwrap();
            }
        }
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .status();
    }
}

/// Output and error text together, for looking for a message.
fn said(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn assert_no_space_error(output: &Output, names: &str, what: &str) {
    let text = said(output);
    assert!(!output.status.success(), "{what} succeeded on a full disk: {text}");
    assert!(
        text.to_lowercase().contains("no space left"),
        "{what}: the error does not say the disk is full: {text}"
    );
    assert!(text.contains(names), "{what}: the error does not name {names}: {text}");
}

fn integrity(path: &Path) -> String {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.query_row("PRAGMA integrity_check", [], |row| row.get(0)).unwrap()
}

#[test]
fn claude_settings_and_mcp_writes_on_a_full_disk_fail_clearly_and_keep_the_last_good_file() {
    let Some(disk) = SmallDisk::mount("claude_settings_and_mcp_writes_on_a_full_disk", 4) else {
        return;
    };
    let home = TempHome::new();
    let settings = disk.path().join("settings.json");
    let claude_json = disk.path().join(".claude.json");
    let cli = |args: &[&str]| {
        home.anyon_command(args)
            .env("CLAUDE_CONFIG_DIR", disk.path())
            .env("HOME", disk.path())
            .current_dir(disk.path())
            .output()
            .unwrap()
    };
    let first = cli(&["config", "set", "--scope", "user", "model", "opus", "--json"]);
    assert!(first.status.success(), "{}", said(&first));
    let added = cli(&["mcp", "add", "--scope", "user", "first", "--json", "--", "echo", "one"]);
    assert!(added.status.success(), "{}", said(&added));
    let good_settings = std::fs::read(&settings).unwrap();
    let good_claude_json = std::fs::read(&claude_json).unwrap();

    disk.fill();
    let refused = cli(&["config", "set", "--scope", "user", "model", "sonnet", "--json"]);
    assert_no_space_error(&refused, "settings.json", "config set");
    let refused = cli(&["mcp", "add", "--scope", "user", "second", "--json", "--", "echo", "two"]);
    assert_no_space_error(&refused, ".claude.json", "mcp add");
    assert_eq!(
        std::fs::read(&settings).unwrap(),
        good_settings,
        "settings.json changed"
    );
    assert_eq!(
        std::fs::read(&claude_json).unwrap(),
        good_claude_json,
        ".claude.json changed"
    );
    let partial: Vec<PathBuf> = std::fs::read_dir(disk.path())
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.to_string_lossy().ends_with(".partial"))
        .collect();
    assert!(partial.is_empty(), "partial files left behind: {partial:?}");

    disk.free();
    let again = cli(&["config", "set", "--scope", "user", "model", "sonnet", "--json"]);
    assert!(again.status.success(), "once space returns: {}", said(&again));
    let value: Value = serde_json::from_slice(&std::fs::read(&settings).unwrap()).unwrap();
    assert_eq!(value["model"], "sonnet");
    let again = cli(&["mcp", "add", "--scope", "user", "second", "--json", "--", "echo", "two"]);
    assert!(again.status.success(), "once space returns: {}", said(&again));
}

#[test]
fn the_transcript_index_on_a_full_disk_fails_clearly_and_catches_up_once_space_returns() {
    let Some(disk) = SmallDisk::mount("the_transcript_index_on_a_full_disk", 24) else {
        return;
    };
    let config = tempfile::tempdir().unwrap();
    let projects = config.path().join("projects");
    let shape = |seed, sessions| Shape {
        projects: 3,
        sessions,
        responses: 10,
        payload: 100,
        seed,
    };
    generate(&projects, &shape(1, 20));
    let data = disk.path().join("data");
    let usage = || {
        std::process::Command::new(support::anyon_bin())
            .args(["usage", "daily", "--json"])
            .env("ANYON_HOME", &data)
            .env("CLAUDE_CONFIG_DIR", config.path())
            .env("TZ", "UTC")
            .env_remove("ANYON_LOG")
            .env_remove("DISPLAY")
            .env_remove("WAYLAND_DISPLAY")
            .output()
            .unwrap()
    };
    let first = usage();
    assert!(first.status.success(), "{}", said(&first));

    // Many more sessions, then no space for their rows.
    generate(&projects.join("more"), &shape(2, 400));
    disk.fill();
    let full = usage();
    assert_no_space_error(&full, "anyon.db", "the index");
    let database = data.join("anyon.db");

    // (SQLite needs room for its shared-memory file even to read, so the check waits for space.)
    disk.free();
    assert_eq!(integrity(&database), "ok");
    let after = usage();
    assert!(after.status.success(), "once space returns: {}", said(&after));
    let clean = TempHome::new()
        .anyon_command(&["usage", "daily", "--json"])
        .env("CLAUDE_CONFIG_DIR", config.path())
        .env("TZ", "UTC")
        .output()
        .unwrap();
    let totals = |output: &Output| serde_json::from_slice::<Value>(&output.stdout).unwrap()["totals"].clone();
    assert_eq!(
        totals(&after),
        totals(&clean),
        "the index after the full disk differs from a clean one"
    );
    assert_eq!(integrity(&database), "ok");
}

#[test]
fn an_export_to_a_full_disk_fails_clearly_and_leaves_nothing_under_its_name() {
    let Some(disk) = SmallDisk::mount("an_export_to_a_full_disk", 2) else {
        return;
    };
    let runtime = support::runtime();
    let home = TempHome::new();
    let (backend, _events) = support::backend(&runtime, &home);
    let sql = |sql: &str| {
        runtime
            .block_on(backend.call(StorageExecuteSql {
                sql: sql.into(),
                allow_write: true,
                max_rows: None,
                record: false,
            }))
            .unwrap();
    };
    sql("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)");
    sql(
        "INSERT INTO notes (body) WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 100000) \
         SELECT 'a note of some length, number ' || x FROM c",
    );
    let target = disk.path().join("notes.csv");
    std::fs::write(&target, "the previous export\n").unwrap();
    let export = || {
        runtime.block_on(backend.call(StorageExport {
            source: ExportSource::Table("notes".into()),
            format: ExportFormat::Csv,
            path: target.clone(),
        }))
    };
    let error = export().expect_err("an export of 4 MB fitted on a 2 MB disk");
    let message = error.to_string();
    assert!(message.to_lowercase().contains("no space left"), "{message}");
    assert!(message.contains("notes.csv"), "{message}");
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "the previous export\n");
    let left: Vec<_> = std::fs::read_dir(disk.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(
        left.len(),
        1,
        "something besides the previous export was left: {left:?}"
    );
}

/// The window's case: the backend opened the database while there was room, then the disk filled under
/// it. The index's writes fail with SQLite's "full" (not at open), the error says so and names the
/// database, and the same backend indexes everything once space returns.
#[test]
fn a_running_backend_reports_a_full_disk_and_keeps_working_once_space_returns() {
    let Some(disk) = SmallDisk::mount("a_running_backend_reports_a_full_disk", 24) else {
        return;
    };
    let config = tempfile::tempdir().unwrap();
    let projects = config.path().join("projects");
    let shape = |seed, sessions| Shape {
        projects: 3,
        sessions,
        responses: 10,
        payload: 100,
        seed,
    };
    generate(&projects, &shape(3, 10));
    let runtime = support::runtime();
    let (backend, _events) = anyon::backend::Backend::open(
        runtime.handle().clone(),
        anyon::util::paths::DataPaths::at(disk.path().join("data")),
    );
    backend.set_projects_root(projects.clone());
    runtime.block_on(backend.call(RefreshHistory)).unwrap();

    generate(&projects.join("more"), &shape(4, 400));
    disk.fill();
    let error = runtime
        .block_on(backend.call(RefreshHistory))
        .expect_err("400 sessions were indexed on a full disk");
    let message = error.to_string();
    assert!(message.contains("no space left"), "{message}");
    assert!(message.contains("anyon.db"), "{message}");
    assert_eq!(error.kind(), "no_space");

    disk.free();
    runtime.block_on(backend.call(RefreshHistory)).unwrap();
    let report = runtime
        .block_on(backend.call(UsageReport {
            range: UsageRange {
                timezone: Some("UTC".into()),
                ..Default::default()
            },
            sessions: false,
        }))
        .unwrap();
    let clean_home = TempHome::new();
    let (clean, _events) = support::backend(&runtime, &clean_home);
    clean.set_projects_root(projects);
    runtime.block_on(clean.call(RefreshHistory)).unwrap();
    let expected = runtime
        .block_on(clean.call(UsageReport {
            range: UsageRange {
                timezone: Some("UTC".into()),
                ..Default::default()
            },
            sessions: false,
        }))
        .unwrap();
    assert_eq!(
        report.totals, expected.totals,
        "the index after the full disk differs from a clean one"
    );
    backend.stop_history();
    clean.stop_history();
    assert_eq!(integrity(&disk.path().join("data").join("anyon.db")), "ok");
}

/// Every file under `root` with its bytes.
fn files_under(root: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    let mut files = std::collections::BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let relative = path.strip_prefix(root).unwrap().to_string_lossy().into_owned();
                files.insert(relative, std::fs::read(&path).unwrap());
            }
        }
    }
    files
}

/// Bytes that do not compress, so storing them needs their full size.
fn noise(seed: u64, len: usize) -> Vec<u8> {
    let mut rng = crate::support::transcripts::Rng::new(seed);
    (0..len).map(|_| rng.next() as u8).collect()
}

#[test]
fn a_checkpoint_on_a_full_disk_fails_clearly_and_the_last_one_still_restores_exactly() {
    let Some(disk) = SmallDisk::mount("a_checkpoint_on_a_full_disk", 16) else {
        return;
    };
    let data = disk.path().join("data");
    let project = disk.path().join("project");
    for n in 0..40 {
        let path = project.join(format!("dir{}/file{n}.bin", n % 4));
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, noise(n + 1, 16 * 1024)).unwrap();
    }
    let cli = |args: &[&str]| {
        std::process::Command::new(support::anyon_bin())
            .args(args)
            .env("ANYON_HOME", &data)
            .env_remove("ANYON_LOG")
            .env_remove("DISPLAY")
            .env_remove("WAYLAND_DISPLAY")
            .output()
            .unwrap()
    };
    let shown = project.display().to_string();
    let create = || cli(&["checkpoints", "create", "--project", &shown, "--session", "s", "--json"]);
    let first = create();
    assert!(first.status.success(), "{}", said(&first));
    let first: Value = serde_json::from_slice(&first.stdout).unwrap();
    let good_id = first["data"]["checkpoint"]["id"].as_str().unwrap().to_owned();
    let good = files_under(&project);

    // New contents that need room in the store, then no room.
    for n in 0..40 {
        let path = project.join(format!("dir{}/file{n}.bin", n % 4));
        std::fs::write(&path, noise(n + 100, 16 * 1024)).unwrap();
    }
    disk.fill();
    let refused = create();
    let text = said(&refused);
    assert!(
        !refused.status.success(),
        "a checkpoint was taken on a full disk: {text}"
    );
    assert!(text.to_lowercase().contains("no space left"), "{text}");
    assert!(
        text.contains("blobs") || text.contains("anyon.db"),
        "the error does not name what could not be written: {text}"
    );
    let error: Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
    assert_eq!(error["error"]["kind"], "no_space", "{text}");

    disk.free();
    assert_eq!(integrity(&data.join("anyon.db")), "ok");
    let listed = cli(&["checkpoints", "list", "--project", &shown, "--json"]);
    assert!(listed.status.success(), "{}", said(&listed));
    let listed: Value = serde_json::from_slice(&listed.stdout).unwrap();
    let ids: Vec<&str> = listed["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [good_id.as_str()], "the failed checkpoint is listed");
    let restored = cli(&["checkpoints", "restore", "--project", &shown, &good_id, "--json"]);
    assert!(restored.status.success(), "{}", said(&restored));
    assert!(
        files_under(&project) == good,
        "the last good checkpoint does not restore exactly"
    );
}
