//! Checkpoints killed mid-way (issue 27): a real `anyon checkpoints create` or `restore` of a project of a
//! few thousand files is sent SIGKILL at random moments of a clean run's length, many times, and started
//! again. After every kill the database passes `PRAGMA integrity_check`; every listed checkpoint holds
//! exactly the files it was taken of; a killed restore leaves the project as it was, as the checkpoint, or
//! reported as interrupted, and then both finishing and rolling back (themselves killed once first) give
//! exactly the checkpoint's files or the files before.
//!
//! The seed of the kill moments is printed; `ANYON_KILL_SEED=N` replays it, `ANYON_KILLS=N` changes the
//! number of kills per operation (20).
#![cfg(unix)]

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output};

use anyon::domain::checkpoint::{self, Blobs};
use serde_json::Value;

use crate::killed::{Kills, assert_database_intact, kill_after, time_of};
use crate::support::transcripts::Rng;
use crate::support::{self, TempHome};

/// Every file under a folder: its bytes and mode.
type Tree = BTreeMap<String, (Vec<u8>, u32)>;

const FILES: usize = 3000;

/// The project's files at `version`: `FILES` files of 1–3 KB in 60 folders; each version changes about
/// half of them, drops some and adds others, and flips some modes.
fn version(version: u64) -> Tree {
    let mut tree = Tree::new();
    for n in 0..FILES {
        let mut rng = Rng::new(n as u64 * 7919 + 1);
        let changes = rng.below(2) == 0;
        let stamp = if changes { version } else { 0 };
        // A few files exist only in some versions.
        if n.is_multiple_of(50) && (version + n as u64 / 50).is_multiple_of(3) {
            continue;
        }
        let size = 1024 + rng.below(2048) as usize;
        let line = format!("file {n} version {stamp} ");
        let mut bytes = line.repeat(size / line.len() + 1).into_bytes();
        bytes.truncate(size);
        let mode = if n.is_multiple_of(40) && !(version + stamp).is_multiple_of(2) {
            0o755
        } else {
            0o644
        };
        tree.insert(format!("dir{:02}/sub{}/file{n}.txt", n % 60, n % 3), (bytes, mode));
    }
    tree
}

/// Every file under `root` (temporary files included), with its bytes and mode.
fn tree_of(root: &Path) -> Tree {
    let mut tree = Tree::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            let meta = entry.metadata().unwrap();
            if meta.is_dir() {
                stack.push(path);
            } else {
                let relative = path.strip_prefix(root).unwrap().to_string_lossy().into_owned();
                tree.insert(
                    relative,
                    (std::fs::read(&path).unwrap(), meta.permissions().mode() & 0o7777),
                );
            }
        }
    }
    tree
}

/// Makes the files under `root` exactly `tree`.
fn write_tree(root: &Path, tree: &Tree) {
    let now = tree_of(root);
    for path in now.keys() {
        if !tree.contains_key(path) {
            std::fs::remove_file(root.join(path)).unwrap();
        }
    }
    for (path, (bytes, mode)) in tree {
        if now.get(path) == Some(&(bytes.clone(), *mode)) {
            continue;
        }
        let full = root.join(path);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(&full, bytes).unwrap();
        std::fs::set_permissions(&full, std::fs::Permissions::from_mode(*mode)).unwrap();
    }
}

/// Says which files differ, briefly.
fn differences(got: &Tree, wanted: &Tree) -> String {
    let mut out = Vec::new();
    for (path, value) in got {
        match wanted.get(path) {
            None => out.push(format!("extra {path}")),
            Some(w) if w.1 != value.1 => out.push(format!("mode of {path}: {:o} not {:o}", value.1, w.1)),
            Some(w) if w.0 != value.0 => out.push(format!("content of {path}")),
            Some(_) => {}
        }
    }
    for path in wanted.keys() {
        if !got.contains_key(path) {
            out.push(format!("missing {path}"));
        }
    }
    let total = out.len();
    out.truncate(8);
    format!("{total} difference(s): {}", out.join(", "))
}

fn said(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// The error kind of a failed `--json` command.
fn error_kind(output: &Output) -> String {
    let text = String::from_utf8_lossy(&output.stderr);
    text.lines()
        .find_map(|line| serde_json::from_str::<Value>(line).ok())
        .and_then(|v| v["error"]["kind"].as_str().map(str::to_owned))
        .unwrap_or_else(|| panic!("no JSON error in: {}", said(output)))
}

/// The database's files (with its write-ahead log), while no process has it open.
fn save_database(home: &TempHome) -> Vec<(std::path::PathBuf, Option<Vec<u8>>)> {
    let database = home.paths().database();
    ["", "-wal", "-shm"]
        .iter()
        .map(|suffix| {
            let path = std::path::PathBuf::from(format!("{}{suffix}", database.display()));
            let bytes = std::fs::read(&path).ok();
            (path, bytes)
        })
        .collect()
}

fn put_back_database(saved: &[(std::path::PathBuf, Option<Vec<u8>>)]) {
    for (path, bytes) in saved {
        match bytes {
            Some(bytes) => std::fs::write(path, bytes).unwrap(),
            None => {
                let _ = std::fs::remove_file(path);
            }
        }
    }
}

struct Project {
    home: TempHome,
    dir: tempfile::TempDir,
}

impl Project {
    fn new() -> Self {
        Self {
            home: TempHome::new(),
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn path(&self) -> String {
        std::fs::canonicalize(self.dir.path()).unwrap().display().to_string()
    }

    fn command(&self, args: &[&str]) -> Command {
        let project = self.path();
        let mut all = vec!["checkpoints", args[0], "--project", &project];
        all.extend_from_slice(&args[1..]);
        all.push("--json");
        self.home.anyon_command(&all)
    }

    fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().unwrap()
    }

    fn create(&self) -> Command {
        self.command(&["create", "--session", "s1"])
    }

    /// The ids of the listed checkpoints, oldest first (the restart after a kill).
    fn listed(&self) -> Vec<String> {
        let output = self.run(&["list"]);
        assert!(output.status.success(), "list: {}", said(&output));
        let value: Value = serde_json::from_slice(&output.stdout).unwrap();
        value["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_str().unwrap().to_owned())
            .collect()
    }

    /// The checkpoint's files read back from the store: each content decoded and checked.
    fn stored(&self, id: &str) -> Tree {
        let conn = rusqlite::Connection::open(self.home.paths().database()).unwrap();
        let blobs = Blobs::new(self.home.path().join("blobs"));
        checkpoint::present_files(&conn, id)
            .unwrap()
            .into_iter()
            .map(|(path, entry)| {
                let mut bytes = Vec::new();
                blobs
                    .copy_to(entry.hash.as_deref().unwrap(), &mut bytes)
                    .unwrap_or_else(|e| panic!("checkpoint {id}: {path}: {e}"));
                (path, (bytes, entry.mode))
            })
            .collect()
    }

    fn tree(&self) -> Tree {
        tree_of(self.dir.path())
    }
}

#[test]
fn a_checkpoint_create_killed_anywhere_is_never_listed_half_taken() {
    let _cpu = support::kill_lock();
    let mut kills = Kills::new("a_checkpoint_create_killed_anywhere");
    let project = Project::new();
    let root = project.dir.path();
    // What each listed checkpoint must hold: the tree it was taken of.
    let mut taken: BTreeMap<String, Tree> = BTreeMap::new();
    write_tree(root, &version(1));
    let span = time_of(project.create());
    let first = project.listed();
    assert_eq!(first.len(), 1);
    taken.insert(first[0].clone(), version(1));
    let span = span.mul_f64(1.2);
    let mut landed = 0;
    for kill in 0..kills.count {
        let tree = version(kill as u64 + 2);
        write_tree(root, &tree);
        let after = kills.within(span);
        landed += usize::from(kill_after(project.create(), after));
        let listed = project.listed();
        assert_database_intact(&project.home, &format!("after kill {kill} at {after:?}"));
        for id in &listed {
            let expected = taken.entry(id.clone()).or_insert_with(|| tree.clone());
            let stored = project.stored(id);
            assert!(
                stored == *expected,
                "after kill {kill} at {after:?}, checkpoint {id} holds other files: {}",
                differences(&stored, expected)
            );
        }
        assert_eq!(
            listed.len(),
            taken.len(),
            "a checkpoint listed once is gone after kill {kill}"
        );
    }
    eprintln!(
        "{landed} of {} kills landed while the create ran; {} checkpoints completed",
        kills.count,
        taken.len()
    );
    assert!(
        landed >= kills.count / 4,
        "only {landed} kills landed while the create ran"
    );
    // Every listed checkpoint restores exactly (the newest first: a restore adds its own).
    let listed = project.listed();
    for id in listed.iter().rev().take(4) {
        let restored = project.run(&["restore", id]);
        assert!(restored.status.success(), "restore {id}: {}", said(&restored));
        let now = project.tree();
        assert!(
            now == taken[id],
            "checkpoint {id} restores other files: {}",
            differences(&now, &taken[id])
        );
    }
    assert_database_intact(&project.home, "at the end");
}

#[test]
fn a_restore_killed_anywhere_is_the_old_files_the_checkpoint_or_recoverable_both_ways() {
    let _cpu = support::kill_lock();
    let mut kills = Kills::new("a_restore_killed_anywhere");
    let project = Project::new();
    let root = project.dir.path();
    let (a, b) = (version(1), version(2));
    write_tree(root, &a);
    let created = project.create().output().unwrap();
    assert!(created.status.success(), "{}", said(&created));
    let target = project.listed()[0].clone();
    let restore = || project.command(&["restore", &target]);
    let recover = |how: &str| {
        if how.is_empty() {
            project.command(&["recover"])
        } else {
            project.command(&["recover", how])
        }
    };
    // The second clean run is the one measured: the first also stores B's contents.
    write_tree(root, &b);
    let first = restore().output().unwrap();
    assert!(first.status.success(), "{}", said(&first));
    write_tree(root, &b);
    let span = time_of(restore()).mul_f64(1.2);
    assert_eq!(project.tree(), a, "a clean restore gives the checkpoint's files");

    let (mut landed, mut interrupted) = (0, 0usize);
    for kill in 0..kills.count {
        write_tree(root, &b);
        let after = kills.within(span);
        landed += usize::from(kill_after(restore(), after));
        let when = format!("after kill {kill} at {after:?}");
        assert_database_intact(&project.home, &when);
        let report = recover("").output().unwrap();
        if !report.status.success() {
            assert_eq!(error_kind(&report), "nothing_to_recover", "{when}: {}", said(&report));
            let now = project.tree();
            assert!(
                now == a || now == b,
                "{when}, with no restore to recover, the files are neither as before nor as the checkpoint: {} / {}",
                differences(&now, &b),
                differences(&now, &a)
            );
            continue;
        }
        interrupted += 1;
        let value: Value = serde_json::from_slice(&report.stdout).unwrap();
        assert_eq!(value["data"]["interrupted"]["target_id"], target.as_str(), "{when}");
        // Meanwhile the project's other checkpoint operations are refused, saying how to recover.
        let refused = project.create().output().unwrap();
        assert!(!refused.status.success(), "{when}: a create went ahead");
        assert_eq!(error_kind(&refused), "restore_interrupted");
        assert!(said(&refused).contains("checkpoints recover"), "{}", said(&refused));
        // Both ways from the same interrupted state (the database and the mixed files put back in between,
        // in either order), each killed once part way first, then run to its end.
        let mixed = project.tree();
        let saved = save_database(&project.home);
        let mut ways = [("--finish", &a), ("--rollback", &b)];
        if interrupted.is_multiple_of(2) {
            ways.reverse();
        }
        for (turn, (how, wanted)) in ways.into_iter().enumerate() {
            if turn > 0 {
                write_tree(root, &mixed);
                put_back_database(&saved);
            }
            kill_after(recover(how), kills.within(span));
            assert_database_intact(&project.home, &format!("{when}, then {how} killed"));
            let recovered = recover(how).output().unwrap();
            if !recovered.status.success() {
                // The killed recovery ran to its end before the kill.
                assert_eq!(
                    error_kind(&recovered),
                    "nothing_to_recover",
                    "{when}: {}",
                    said(&recovered)
                );
            }
            let now = project.tree();
            assert!(
                now == *wanted,
                "{when}, {how} does not give the expected files: {}",
                differences(&now, wanted)
            );
            let again = recover(how).output().unwrap();
            assert_eq!(error_kind(&again), "nothing_to_recover", "{when}: {how} twice");
        }
    }
    eprintln!(
        "{landed} of {} kills landed while the restore ran; {interrupted} left it interrupted",
        kills.count
    );
    assert!(
        landed >= kills.count / 4,
        "only {landed} kills landed while the restore ran"
    );
    assert_database_intact(&project.home, "at the end");
}
