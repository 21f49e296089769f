//! Checkpoints on real folders: snapshot, diff, restore, ignore rules, atomic writes, GC.

use std::collections::BTreeMap;
use std::path::Path;

use anyon::domain::checkpoint::Trigger;
use anyon::domain::checkpoint::{self, Blobs, CreateRequest, diff, restore};
use anyon::domain::db::Db;
use anyon::domain::settings::Setting;
use anyon::domain::settings::requests::SaveSetting;

use crate::support::TempHome;
use anyon::domain::checkpoint::requests::{CheckpointCreate, CheckpointList, CheckpointRestore};

struct Rig {
    _home: TempHome,
    db: Db,
    blobs: Blobs,
    project: tempfile::TempDir,
}

impl Rig {
    fn new() -> Self {
        let home = TempHome::new();
        let db = Db::open(&home.path().join("anyon.db")).unwrap();
        let blobs = Blobs::new(home.path().join("blobs"));
        Self {
            _home: home,
            db,
            blobs,
            project: tempfile::tempdir().unwrap(),
        }
    }

    fn path(&self) -> &Path {
        self.project.path()
    }

    fn write(&self, relative: &str, bytes: &[u8]) {
        let path = self.path().join(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }

    fn checkpoint(&self, trigger: Trigger) -> checkpoint::Created {
        let request = CreateRequest {
            project: self.path().to_path_buf(),
            session_id: "session-1".into(),
            trigger,
            description: None,
            message_index: 0,
        };
        checkpoint::create(&self.db.writer(), &self.blobs, &request).unwrap()
    }

    /// Every file under the project (ignored ones too) with its bytes and mode.
    fn tree(&self) -> BTreeMap<String, (Vec<u8>, u32)> {
        let mut tree = BTreeMap::new();
        let mut stack = vec![self.path().to_path_buf()];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).unwrap().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    stack.push(path);
                } else {
                    let relative = path.strip_prefix(self.path()).unwrap().display().to_string();
                    tree.insert(relative, (std::fs::read(&path).unwrap(), mode(&path)));
                }
            }
        }
        tree
    }
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

#[cfg(unix)]
fn chmod(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[cfg(unix)]
#[test]
fn restore_brings_back_the_exact_tree_and_never_touches_ignored_files() {
    let rig = Rig::new();
    let binary: Vec<u8> = (0..=255u8).rev().cycle().take(70_000).collect();
    rig.write(".gitignore", b"node_modules/\ntarget/\n");
    rig.write("src/main.rs", b"fn main() {\n    println!(\"one\");\n}\n");
    rig.write("assets/logo.bin", &binary);
    rig.write("latin1.txt", &[0x63, 0x61, 0x66, 0xe9, 0x0a]);
    rig.write("run.sh", b"#!/bin/sh\necho hi\n");
    chmod(&rig.path().join("run.sh"), 0o755);
    rig.write("node_modules/dep/index.js", b"module.exports = 1;\n");
    rig.write("target/debug/app", b"built");
    let original = rig.tree();
    let first = rig.checkpoint(Trigger::Manual);
    assert_eq!(first.checkpoint.files_changed, 5, "the five tracked files are new");
    let names: Vec<String> = checkpoint::manifest(&rig.db.writer(), &first.checkpoint.id)
        .unwrap()
        .into_iter()
        .map(|e| e.path)
        .collect();
    assert!(
        names
            .iter()
            .all(|n| !n.starts_with("node_modules") && !n.starts_with("target")),
        "{names:?}"
    );

    // Edit, delete, add, change a mode; ignored files change too.
    rig.write(
        "src/main.rs",
        b"fn main() {\n    println!(\"two\");\n    println!(\"three\");\n}\n",
    );
    std::fs::remove_file(rig.path().join("assets/logo.bin")).unwrap();
    rig.write("src/new.rs", b"pub fn added() {}\n");
    chmod(&rig.path().join("run.sh"), 0o644);
    rig.write("node_modules/dep/index.js", b"module.exports = 2;\n");
    let second = rig.checkpoint(Trigger::BeforePrompt);
    assert_eq!(
        second.checkpoint.parent_id.as_deref(),
        Some(first.checkpoint.id.as_str())
    );
    assert_eq!(second.checkpoint.files_changed, 4);
    assert_eq!((second.checkpoint.lines_added, second.checkpoint.lines_removed), (3, 1));

    let diffs = diff::between(
        &rig.db.writer(),
        &rig.blobs,
        &first.checkpoint.id,
        &second.checkpoint.id,
    )
    .unwrap();
    let by_path: BTreeMap<&str, &diff::FileDiff> = diffs.iter().map(|d| (d.path.as_str(), d)).collect();
    assert!(by_path["src/main.rs"].unified.contains("-    println!(\"one\");"));
    assert!(by_path["src/main.rs"].unified.contains("+    println!(\"three\");"));
    assert_eq!(
        (by_path["assets/logo.bin"].change, by_path["assets/logo.bin"].binary),
        ("removed", true)
    );
    assert_eq!(by_path["src/new.rs"].change, "added");
    assert_eq!(by_path["run.sh"].change, "mode");

    let plan = restore::plan(&rig.db.writer(), &rig.blobs, &first.checkpoint.id, rig.path()).unwrap();
    assert_eq!(plan.write, ["assets/logo.bin", "run.sh", "src/main.rs"]);
    assert_eq!(plan.delete, ["src/new.rs"]);
    assert_eq!(plan.unchanged, 2);
    let restored = restore::restore(&rig.db.writer(), &rig.blobs, &first.checkpoint.id, rig.path()).unwrap();
    let mut expected = original.clone();
    expected.insert(
        "node_modules/dep/index.js".into(),
        (b"module.exports = 2;\n".to_vec(), 0o644),
    );
    assert_eq!(
        rig.tree(),
        expected,
        "the tracked tree is back byte for byte; the ignored file kept its new content"
    );

    // The restore itself can be undone.
    restore::restore(&rig.db.writer(), &rig.blobs, &restored.before.id, rig.path()).unwrap();
    assert!(rig.path().join("src/new.rs").exists());
    assert_eq!(restored.before.trigger, Trigger::BeforeRestore);
}

#[test]
fn an_unchanged_project_is_not_read_again_and_a_rewrite_is_seen_even_with_its_time_put_back() {
    let rig = Rig::new();
    rig.write("a.txt", b"aaaa\n");
    let first = rig.checkpoint(Trigger::Manual);
    // The content is gone from the store: a checkpoint that read the file would store it again.
    let hash = |id: &str| {
        checkpoint::manifest(&rig.db.writer(), id).unwrap()[0]
            .hash
            .clone()
            .unwrap()
    };
    let stored = rig
        .blobs
        .root()
        .join(&hash(&first.checkpoint.id)[..2])
        .join(&hash(&first.checkpoint.id)[2..]);
    std::fs::remove_file(&stored).unwrap();
    let second = rig.checkpoint(Trigger::Manual);
    assert_eq!(second.checkpoint.files_changed, 0);
    assert!(
        !stored.exists(),
        "an unchanged file is answered from the cache, not read"
    );
    rig.blobs.put(b"aaaa\n").unwrap();
    // Same size and modification time, new content: the change time tells.
    let path = rig.path().join("a.txt");
    let mtime = std::fs::metadata(&path).unwrap().modified().unwrap();
    std::fs::write(&path, b"bbbb\n").unwrap();
    std::fs::File::options()
        .write(true)
        .open(&path)
        .unwrap()
        .set_modified(mtime)
        .unwrap();
    let third = rig.checkpoint(Trigger::Manual);
    assert_eq!(third.checkpoint.files_changed, 1);
    assert_eq!(hash(&third.checkpoint.id), checkpoint::blobs::hash(b"bbbb\n"));
    let diffs = diff::against_working_tree(&rig.db.writer(), &rig.blobs, &first.checkpoint.id, rig.path()).unwrap();
    assert_eq!(diffs.len(), 1);
    assert!(diffs[0].unified.contains("+bbbb"));
}

/// Rows of a table.
fn count(db: &Db, table: &str) -> i64 {
    db.writer()
        .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
        .unwrap()
}

#[test]
fn a_checkpoint_where_nothing_changed_adds_no_tree_and_one_change_adds_only_its_folders() {
    let rig = Rig::new();
    for dir in ["src/a/deep", "src/b", "docs", "tests"] {
        for n in 0..5 {
            rig.write(&format!("{dir}/file{n}.txt"), format!("{dir} {n}\n").as_bytes());
        }
    }
    let first = rig.checkpoint(Trigger::Manual);
    assert_eq!(first.checkpoint.files_changed, 20);
    assert_eq!(first.checkpoint.lines_added, 20);
    assert_eq!(
        count(&rig.db, "checkpoint_trees"),
        7,
        "the root, src, src/a, src/a/deep, src/b, docs, tests"
    );
    let second = rig.checkpoint(Trigger::BeforePrompt);
    assert_eq!(second.checkpoint.files_changed, 0);
    assert_eq!(count(&rig.db, "checkpoint_trees"), 7, "nothing changed: no tree");
    assert_eq!(count(&rig.db, "checkpoint_files"), 0, "and no manifest rows");
    rig.write("src/a/deep/file3.txt", b"changed\nand longer\n");
    let third = rig.checkpoint(Trigger::BeforeTool);
    assert_eq!(
        (
            third.checkpoint.files_changed,
            third.checkpoint.lines_added,
            third.checkpoint.lines_removed
        ),
        (1, 2, 1)
    );
    assert_eq!(
        count(&rig.db, "checkpoint_trees"),
        11,
        "the changed folder and the three above it"
    );
    // Each checkpoint still reads back whole.
    let files = checkpoint::present_files(&rig.db.writer(), &second.checkpoint.id).unwrap();
    assert_eq!(files.len(), 20);
    assert_eq!(
        files["src/a/deep/file3.txt"].hash.as_deref(),
        Some(checkpoint::blobs::hash(b"src/a/deep 3\n").as_str())
    );
    let diffs = diff::between(
        &rig.db.writer(),
        &rig.blobs,
        &second.checkpoint.id,
        &third.checkpoint.id,
    )
    .unwrap();
    assert_eq!(diffs.len(), 1);
    assert_eq!(diffs[0].path, "src/a/deep/file3.txt");
    // A folder that becomes a file and back is followed.
    std::fs::remove_dir_all(rig.path().join("docs")).unwrap();
    rig.write("docs", b"now a file\n");
    let fourth = rig.checkpoint(Trigger::Manual);
    assert_eq!(fourth.checkpoint.files_changed, 6);
    restore::restore(&rig.db.writer(), &rig.blobs, &third.checkpoint.id, rig.path()).unwrap();
    assert_eq!(std::fs::read(rig.path().join("docs/file4.txt")).unwrap(), b"docs 4\n");
    assert_eq!(
        std::fs::read(rig.path().join("src/a/deep/file3.txt")).unwrap(),
        b"changed\nand longer\n"
    );
}

#[test]
fn gc_keeps_every_tree_and_content_a_kept_checkpoint_reaches_across_sessions() {
    let rig = Rig::new();
    rig.write("shared/lib.rs", b"shared\n");
    rig.write("shared/inner/util.rs", b"util\n");
    rig.write("own.txt", b"one\n");
    let take = |session: &str| {
        let request = CreateRequest {
            project: rig.path().to_path_buf(),
            session_id: session.into(),
            trigger: Trigger::Manual,
            description: None,
            message_index: 0,
        };
        checkpoint::create(&rig.db.writer(), &rig.blobs, &request)
            .unwrap()
            .checkpoint
    };
    let first = take("session-a");
    rig.write("own.txt", b"two\n");
    let second = take("session-b");
    // The first session's checkpoints go; "shared/" (and what is in it) is also the second's.
    rig.db
        .writer()
        .execute("DELETE FROM checkpoints WHERE session_id = 'session-a'", [])
        .unwrap();
    let trees_before = count(&rig.db, "checkpoint_trees");
    let removed = checkpoint::gc(&rig.db.writer(), &rig.blobs).unwrap();
    assert_eq!(removed, 1, "only the first own.txt");
    assert_eq!(
        count(&rig.db, "checkpoint_trees"),
        trees_before - 1,
        "only the first root"
    );
    assert!(checkpoint::get(&rig.db.writer(), &first.id).is_err());
    // The cache no longer vouches for the collected content: the old text, written back, is read and stored again.
    rig.write("own.txt", b"one\n");
    let third = take("session-b");
    assert_eq!(third.files_changed, 1);
    rig.write("own.txt", b"three\n");
    std::fs::remove_dir_all(rig.path().join("shared")).unwrap();
    restore::restore(&rig.db.writer(), &rig.blobs, &second.id, rig.path()).unwrap();
    assert_eq!(
        std::fs::read(rig.path().join("shared/inner/util.rs")).unwrap(),
        b"util\n"
    );
    assert_eq!(std::fs::read(rig.path().join("own.txt")).unwrap(), b"two\n");
    restore::restore(&rig.db.writer(), &rig.blobs, &third.id, rig.path()).unwrap();
    assert_eq!(std::fs::read(rig.path().join("own.txt")).unwrap(), b"one\n");
}

#[cfg(unix)]
#[test]
fn a_checkpoint_taken_before_trees_restores_exactly_after_the_migration() {
    use anyon::domain::db::MIGRATIONS;
    let home = TempHome::new();
    let db_path = home.path().join("anyon.db");
    let blobs = Blobs::new(home.path().join("blobs"));
    let project = tempfile::tempdir().unwrap();
    let root = project.path();
    let files: [(&str, &[u8], u32); 4] = [
        ("README.md", b"# Old\n", 0o644),
        ("src/main.rs", b"fn main() {}\n", 0o644),
        ("src/bin/tool.sh", b"#!/bin/sh\necho old\n", 0o755),
        ("data/blob.bin", &[0, 159, 146, 150, 255], 0o600),
    ];
    // The database as the build before trees left it: every migration up to the trees one.
    let trees_at = MIGRATIONS
        .iter()
        .position(|m| m.name.contains("checkpoint_trees"))
        .unwrap();
    {
        let conn = rusqlite::Connection::open(&db_path).unwrap();
        for migration in &MIGRATIONS[..trees_at] {
            conn.execute_batch(migration.sql).unwrap();
        }
        conn.pragma_update(None, "user_version", trees_at as i64).unwrap();
        // A checkpoint as that build wrote it: a manifest row per file, a deleted one marked.
        conn.execute(
            "INSERT INTO checkpoints (id, session_id, project_path, files_changed, total_bytes) VALUES ('old', 's', ?1, 4, 40)",
            [root.display().to_string()],
        )
        .unwrap();
        for (path, bytes, mode) in files {
            let full = root.join(path);
            std::fs::create_dir_all(full.parent().unwrap()).unwrap();
            std::fs::write(&full, bytes).unwrap();
            chmod(&full, mode);
            let hash = blobs.put(bytes).unwrap();
            conn.execute(
                "INSERT INTO checkpoint_files (checkpoint_id, path, content_hash, size, mode) VALUES ('old', ?1, ?2, ?3, ?4)",
                rusqlite::params![path, hash, bytes.len() as i64, mode],
            )
            .unwrap();
            conn.execute(
                "INSERT INTO checkpoint_file_cache (project_path, path, size, mtime_ns, content_hash) VALUES (?1, ?2, ?3, 0, ?4)",
                rusqlite::params![root.display().to_string(), path, bytes.len() as i64, hash],
            )
            .unwrap();
        }
        conn.execute(
            "INSERT INTO checkpoint_files (checkpoint_id, path, size, is_deleted) VALUES ('old', 'gone.txt', 0, 1)",
            [],
        )
        .unwrap();
    }
    let snapshot_of_files = || {
        files
            .iter()
            .map(|(p, b, m)| (p.to_string(), (b.to_vec(), *m)))
            .collect::<BTreeMap<_, _>>()
    };
    let db = Db::open(&db_path).unwrap();
    // Everything changes after the migration.
    std::fs::write(root.join("README.md"), b"# New\n").unwrap();
    std::fs::remove_file(root.join("src/main.rs")).unwrap();
    chmod(&root.join("src/bin/tool.sh"), 0o644);
    std::fs::write(root.join("added.txt"), b"new\n").unwrap();
    std::fs::remove_dir_all(root.join("data")).unwrap();
    let newer = checkpoint::create(
        &db.writer(),
        &blobs,
        &CreateRequest {
            project: root.to_path_buf(),
            session_id: "s".into(),
            trigger: Trigger::Manual,
            description: None,
            message_index: 1,
        },
    )
    .unwrap();
    assert_eq!(newer.checkpoint.parent_id.as_deref(), Some("old"));
    assert_eq!(
        newer.checkpoint.files_changed, 5,
        "one edited, two removed, one mode, one added"
    );
    let diffs = diff::between(&db.writer(), &blobs, "old", &newer.checkpoint.id).unwrap();
    let paths: Vec<(&str, &str)> = diffs.iter().map(|d| (d.path.as_str(), d.change)).collect();
    assert_eq!(
        paths,
        [
            ("README.md", "modified"),
            ("added.txt", "added"),
            ("data/blob.bin", "removed"),
            ("src/bin/tool.sh", "mode"),
            ("src/main.rs", "removed")
        ]
    );
    // Collection keeps what the old manifest refers to.
    checkpoint::gc(&db.writer(), &blobs).unwrap();
    let restored = restore::restore(&db.writer(), &blobs, "old", root).unwrap();
    assert_eq!(restored.plan.delete, ["added.txt"]);
    let now: BTreeMap<String, (Vec<u8>, u32)> = {
        let mut out = BTreeMap::new();
        for entry in walkdir(root) {
            let relative = entry.strip_prefix(root).unwrap().display().to_string();
            out.insert(relative, (std::fs::read(&entry).unwrap(), mode(&entry)));
        }
        out
    };
    assert_eq!(now, snapshot_of_files(), "byte for byte and mode for mode");
}

fn walkdir(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walkdir(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[test]
fn a_failed_write_leaves_the_old_file_and_no_debris() {
    let rig = Rig::new();
    // The destination is a directory: the final rename fails after the temporary file was written.
    std::fs::create_dir_all(rig.path().join("busy/inner")).unwrap();
    rig.write("busy/inner/keep.txt", b"old\n");
    let error = restore::write_atomically(&rig.path().join("busy"), b"new content", 0o644);
    assert!(error.is_err());
    assert_eq!(std::fs::read(rig.path().join("busy/inner/keep.txt")).unwrap(), b"old\n");
    let debris: Vec<_> = std::fs::read_dir(rig.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(debris.len(), 1, "no temporary file left: {debris:?}");
}

#[test]
fn gc_keeps_every_blob_a_checkpoint_needs() {
    let rig = Rig::new();
    rig.write("a.txt", b"first\n");
    rig.write("b.txt", b"shared\n");
    let first = rig.checkpoint(Trigger::Manual);
    rig.write("a.txt", b"second\n");
    let second = rig.checkpoint(Trigger::Manual);
    // Retention drops the first checkpoint.
    rig.db
        .writer()
        .execute("DELETE FROM checkpoints WHERE id = ?1", [&first.checkpoint.id])
        .unwrap();
    let removed = checkpoint::gc(&rig.db.writer(), &rig.blobs).unwrap();
    assert_eq!(removed, 1, "only the first version of a.txt had no checkpoint left");
    rig.write("a.txt", b"third\n");
    std::fs::remove_file(rig.path().join("b.txt")).unwrap();
    restore::restore(&rig.db.writer(), &rig.blobs, &second.checkpoint.id, rig.path()).unwrap();
    assert_eq!(std::fs::read(rig.path().join("a.txt")).unwrap(), b"second\n");
    assert_eq!(std::fs::read(rig.path().join("b.txt")).unwrap(), b"shared\n");
}

#[test]
fn the_command_line_creates_diffs_restores_and_collects() {
    let home = TempHome::new();
    let project = tempfile::tempdir().unwrap();
    let dir = project.path().display().to_string();
    std::fs::write(project.path().join("notes.md"), "# Notes\n\nfirst\n").unwrap();
    let json = |args: &[&str]| -> serde_json::Value {
        let output = home.anyon(args);
        assert!(
            output.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_slice(&output.stdout).expect("JSON")
    };
    let created = json(&[
        "checkpoints",
        "create",
        "--project",
        &dir,
        "--description",
        "start",
        "--json",
    ]);
    let id = created["data"]["checkpoint"]["id"].as_str().unwrap().to_owned();
    std::fs::write(project.path().join("notes.md"), "# Notes\n\nsecond\n").unwrap();
    let diff = home.anyon(&["checkpoints", "diff", "--project", &dir, &id]);
    let text = String::from_utf8_lossy(&diff.stdout);
    assert!(text.contains("-first") && text.contains("+second"), "{text}");
    let preview = json(&["checkpoints", "restore", "--project", &dir, &id, "--preview", "--json"]);
    assert_eq!(preview["data"]["write"], serde_json::json!(["notes.md"]));
    json(&["checkpoints", "restore", "--project", &dir, &id, "--json"]);
    assert_eq!(
        std::fs::read_to_string(project.path().join("notes.md")).unwrap(),
        "# Notes\n\nfirst\n"
    );
    let list = json(&["checkpoints", "list", "--project", &dir, "--json"]);
    let triggers: Vec<&str> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["trigger"].as_str().unwrap())
        .collect();
    assert_eq!(triggers, ["manual", "before_restore"]);
    let gc = json(&["checkpoints", "gc", "--json"]);
    assert_eq!(gc["data"]["removed"], 0, "both versions are still referenced");
    let missing = home.anyon(&["checkpoints", "create", "--project", "/nonexistent/dir", "--json"]);
    assert_eq!(missing.status.code(), Some(1));
}

#[test]
fn retention_keeps_the_last_checkpoints_and_collects_what_they_no_longer_need() {
    let home = TempHome::new();
    let runtime = crate::support::runtime();
    let (backend, _events) = crate::support::backend(&runtime, &home);
    let project = tempfile::tempdir().unwrap();
    let run = |command: anyon::backend::command::Command| runtime.block_on(backend.execute(command)).unwrap();
    run(SaveSetting {
        setting: Setting::KeepLast(2),
    }
    .into());
    run(SaveSetting {
        setting: Setting::KeepDays(0),
    }
    .into());
    let mut ids = Vec::new();
    for version in 0..5 {
        std::fs::write(project.path().join("file.txt"), format!("version {version}\n")).unwrap();
        let created = runtime
            .block_on(backend.call(CheckpointCreate {
                project_path: project.path().to_path_buf(),
                session_id: "s".into(),
                trigger: Trigger::Manual,
                description: None,
            }))
            .unwrap();
        ids.push(created.checkpoint.id);
    }
    let kept = runtime
        .block_on(backend.call(CheckpointList {
            project_path: project.path().to_path_buf(),
            session_id: Some("s".into()),
        }))
        .unwrap();
    let kept: Vec<&str> = kept.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(kept, [ids[3].as_str(), ids[4].as_str()]);
    let blobs = backend.blobs();
    let stored = std::fs::read_dir(blobs.root())
        .unwrap()
        .flatten()
        .map(|d| std::fs::read_dir(d.path()).unwrap().count())
        .sum::<usize>();
    assert_eq!(stored, 2, "only the two kept versions' contents remain");
    // Both kept checkpoints still restore.
    run(CheckpointRestore {
        project_path: project.path().to_path_buf(),
        id: ids[3].clone(),
    }
    .into());
    assert_eq!(
        std::fs::read_to_string(project.path().join("file.txt")).unwrap(),
        "version 3\n"
    );
}

#[test]
fn a_checkpoint_from_the_command_line_joins_the_projects_latest_session_at_its_position() {
    let home = TempHome::new();
    let project = tempfile::tempdir().unwrap();
    let dir = std::fs::canonicalize(project.path()).unwrap().display().to_string();
    std::fs::write(project.path().join("a.txt"), "a\n").unwrap();
    // Claude's transcripts: an older session and the latest one, three messages in.
    let config = tempfile::tempdir().unwrap();
    let folder = config.path().join("projects").join(dir.replace(['/', '\\', ':'], "-"));
    std::fs::create_dir_all(&folder).unwrap();
    let line = |session: &str, ts: &str, kind: &str, content: &str| {
        serde_json::json!({"type": kind, "sessionId": session, "cwd": dir, "timestamp": ts,
            "message": {"role": kind, "content": content}})
        .to_string()
    };
    let older = "0ld00000-0000-4000-8000-000000000000";
    let latest = "1a7e5700-0000-4000-8000-000000000000";
    std::fs::write(
        folder.join(format!("{older}.jsonl")),
        line(older, "2026-01-01T10:00:00Z", "user", "old work") + "\n",
    )
    .unwrap();
    let transcript = [
        line(latest, "2026-02-01T10:00:00Z", "user", "first"),
        line(latest, "2026-02-01T10:00:05Z", "assistant", "done"),
        "not json".to_string(),
        line(latest, "2026-02-01T10:01:00Z", "user", "second"),
    ]
    .join("\n");
    std::fs::write(folder.join(format!("{latest}.jsonl")), transcript + "\n").unwrap();
    let output = home
        .anyon_command(&["checkpoints", "create", "--project", &dir, "--json"])
        .env("CLAUDE_CONFIG_DIR", config.path())
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let created: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(created["data"]["checkpoint"]["session_id"], latest);
    assert_eq!(created["data"]["checkpoint"]["message_index"], 3);
    // Without transcripts it stays a manual checkpoint.
    let empty = tempfile::tempdir().unwrap();
    let output = home
        .anyon_command(&["checkpoints", "create", "--project", &dir, "--json"])
        .env("CLAUDE_CONFIG_DIR", empty.path())
        .output()
        .unwrap();
    let created: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(created["data"]["checkpoint"]["session_id"], "manual");
    assert_eq!(created["data"]["checkpoint"]["message_index"], 0);
}

#[test]
fn a_checkpoint_is_never_restored_into_another_folder() {
    let home = TempHome::new();
    let first = tempfile::tempdir().unwrap();
    let other = tempfile::tempdir().unwrap();
    std::fs::write(first.path().join("first.txt"), "first's\n").unwrap();
    std::fs::write(other.path().join("own.txt"), "other's own\n").unwrap();
    let dir = first.path().display().to_string();
    let created = home.anyon(&["checkpoints", "create", "--project", &dir, "--json"]);
    assert!(created.status.success(), "{}", String::from_utf8_lossy(&created.stderr));
    let created: serde_json::Value = serde_json::from_slice(&created.stdout).unwrap();
    let id = created["data"]["checkpoint"]["id"].as_str().unwrap().to_owned();
    // The other folder named through `..`: compared canonically, still not the checkpoint's folder.
    let other_dir = other.path().join("..").join(other.path().file_name().unwrap());
    let other_dir = other_dir.display().to_string();
    for extra in [&["--preview"][..], &[]] {
        let mut args = vec!["checkpoints", "restore", "--project", &other_dir, &id];
        args.extend_from_slice(extra);
        let output = home.anyon(&args);
        assert_eq!(output.status.code(), Some(1), "{args:?} must be refused");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("not of") && stderr.contains(&id), "{stderr}");
    }
    let diff = home.anyon(&["checkpoints", "diff", "--project", &other_dir, &id]);
    assert_eq!(
        diff.status.code(),
        Some(1),
        "a diff against another folder is refused too"
    );
    let names: Vec<String> = std::fs::read_dir(other.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        ["own.txt"],
        "nothing was written into, or deleted from, the other folder"
    );
    assert_eq!(
        std::fs::read_to_string(other.path().join("own.txt")).unwrap(),
        "other's own\n"
    );
    let list = home.anyon(&["checkpoints", "list", "--project", &other_dir, "--json"]);
    let list: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    assert_eq!(
        list["data"],
        serde_json::json!([]),
        "no \"before restore\" checkpoint was taken either"
    );
    // The same folder written another way (a trailing `.`) is the same folder.
    let same = first.path().join(".").display().to_string();
    let output = home.anyon(&["checkpoints", "restore", "--project", &same, &id, "--preview", "--json"]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
}

/// The size limit the next test sets (the 10 MB).
const LIMIT_MB: u32 = 10;

/// Bytes a checkpoint limited to [`LIMIT_MB`] does not hold, distinct from one call to the next.
fn too_large(seed: u8) -> Vec<u8> {
    let limit = LIMIT_MB as usize * 1024 * 1024;
    (0..limit + 2 * 1024 * 1024).map(|i| (i % 251) as u8 ^ seed).collect()
}

/// Saves one setting in `home`'s database, as the Settings screen does.
fn save_setting(home: &TempHome, setting: Setting) {
    let runtime = crate::support::runtime();
    let (backend, _events) = crate::support::backend(&runtime, home);
    runtime.block_on(backend.call(SaveSetting { setting })).unwrap();
}

#[test]
fn a_file_a_checkpoint_cannot_hold_is_kept_and_listed_never_deleted_or_overwritten() {
    let home = TempHome::new();
    let project = tempfile::tempdir().unwrap();
    let dir = project.path().display().to_string();
    save_setting(&home, Setting::CheckpointMaxFileMb(LIMIT_MB));
    let write = |name: &str, bytes: &[u8]| std::fs::write(project.path().join(name), bytes).unwrap();
    write("notes.md", b"first\n");
    write("grows.bin", b"small at first\n");
    let json = |args: &[&str]| -> serde_json::Value {
        let output = home.anyon(args);
        assert!(
            output.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_slice(&output.stdout).expect("JSON")
    };
    let created = json(&["checkpoints", "create", "--project", &dir, "--json"]);
    let id = created["data"]["checkpoint"]["id"].as_str().unwrap().to_owned();
    // After the checkpoint: a 12 MB file appears, another grows past the limit, a small one changes.
    let (big, grown) = (too_large(1), too_large(2));
    write("big.bin", &big);
    write("grows.bin", &grown);
    write("notes.md", b"second\n");
    let kept = serde_json::json!([
        {"path": "big.bin", "reason": "too_large"},
        {"path": "grows.bin", "reason": "too_large"},
    ]);

    let preview = json(&["checkpoints", "restore", "--project", &dir, &id, "--preview", "--json"]);
    assert_eq!(preview["data"]["write"], serde_json::json!(["notes.md"]));
    assert_eq!(preview["data"]["delete"], serde_json::json!([]));
    assert_eq!(preview["data"]["keep"], kept);
    let text = home.anyon(&["checkpoints", "restore", "--project", &dir, &id, "--preview"]);
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains("kept    big.bin  (cannot be restored: over the size limit)"),
        "{text}"
    );
    assert!(text.contains("write   notes.md"), "{text}");

    let restored = json(&["checkpoints", "restore", "--project", &dir, &id, "--json"]);
    assert_eq!(restored["data"]["plan"]["keep"], kept);
    assert_eq!(restored["data"]["plan"]["write"], serde_json::json!(["notes.md"]));
    assert_eq!(std::fs::read(project.path().join("notes.md")).unwrap(), b"first\n");
    assert!(
        std::fs::read(project.path().join("big.bin")).unwrap() == big,
        "the new large file is still there"
    );
    assert!(
        std::fs::read(project.path().join("grows.bin")).unwrap() == grown,
        "the grown file was not overwritten"
    );

    // Undoing the restore keeps them too, and brings back what it did write.
    let before = restored["data"]["before"]["id"].as_str().unwrap().to_owned();
    let undone = json(&["checkpoints", "restore", "--project", &dir, &before, "--json"]);
    assert_eq!(undone["data"]["plan"]["keep"], kept);
    assert_eq!(std::fs::read(project.path().join("notes.md")).unwrap(), b"second\n");
    assert!(std::fs::read(project.path().join("big.bin")).unwrap() == big);
}

#[cfg(unix)]
#[test]
fn a_restore_never_writes_through_a_folder_that_became_a_link_out_of_the_project() {
    let home = TempHome::new();
    let project = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    let dir = project.path().display().to_string();
    std::fs::create_dir_all(project.path().join("src")).unwrap();
    std::fs::write(project.path().join("src/main.rs"), "fn main() {}\n").unwrap();
    std::fs::write(project.path().join("src/lib.rs"), "pub fn f() {}\n").unwrap();
    std::fs::write(project.path().join("README"), "one\n").unwrap();
    let output = home.anyon(&["checkpoints", "create", "--project", &dir, "--json"]);
    let created: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let id = created["data"]["checkpoint"]["id"].as_str().unwrap().to_owned();
    // `src/` is replaced by a link to a folder outside the project, which holds its own main.rs.
    std::fs::remove_dir_all(project.path().join("src")).unwrap();
    std::fs::write(outside.path().join("main.rs"), "outside's own\n").unwrap();
    std::os::unix::fs::symlink(outside.path(), project.path().join("src")).unwrap();
    std::fs::write(project.path().join("README"), "two\n").unwrap();

    let output = home.anyon(&["checkpoints", "restore", "--project", &dir, &id, "--preview", "--json"]);
    let preview: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        preview["data"]["keep"],
        serde_json::json!([
            {"path": "src/lib.rs", "reason": "unsafe_folder"},
            {"path": "src/main.rs", "reason": "unsafe_folder"},
        ]),
        "a link stands where the checkpoint has a folder: {preview}"
    );
    let output = home.anyon(&["checkpoints", "restore", "--project", &dir, &id, "--json"]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let restored: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(restored["data"]["plan"]["write"], serde_json::json!(["README"]));
    assert_eq!(
        std::fs::read_to_string(outside.path().join("main.rs")).unwrap(),
        "outside's own\n"
    );
    let outside_names: Vec<_> = std::fs::read_dir(outside.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(outside_names.len(), 1, "nothing written outside: {outside_names:?}");
    assert!(
        std::fs::symlink_metadata(project.path().join("src"))
            .unwrap()
            .is_symlink()
    );
    assert_eq!(std::fs::read_to_string(project.path().join("README")).unwrap(), "one\n");
}

#[test]
fn a_restore_keeps_what_it_cannot_bring_back_and_a_stopped_restore_can_be_undone() {
    let rig = Rig::new();
    rig.write("a.txt", b"a one\n");
    rig.write("b.txt", b"b one\n");
    rig.write("notes.log", b"log one\n");
    let first = rig.checkpoint(Trigger::Manual);
    let hash_of = |id: &str, path: &str| {
        checkpoint::manifest(&rig.db.writer(), id)
            .unwrap()
            .into_iter()
            .find(|e| e.path == path)
            .and_then(|e| e.hash)
            .unwrap()
    };
    let blob = |hash: &str| rig.blobs.root().join(&hash[..2]).join(&hash[2..]);
    rig.write("a.txt", b"a two\n");
    rig.write("b.txt", b"b two\n");
    // Ignored since: no checkpoint holds it now, so the restore must not overwrite it.
    rig.write(".gitignore", b"*.log\n");
    rig.write("notes.log", b"log two\n");
    // The checkpoint's copy of b.txt went missing from the store.
    std::fs::remove_file(blob(&hash_of(&first.checkpoint.id, "b.txt"))).unwrap();

    let plan = restore::plan(&rig.db.writer(), &rig.blobs, &first.checkpoint.id, rig.path()).unwrap();
    let kept = |plan: &restore::RestorePlan| -> Vec<(String, restore::KeepReason)> {
        plan.keep.iter().map(|k| (k.path.clone(), k.reason)).collect()
    };
    let expected = vec![
        ("b.txt".to_owned(), restore::KeepReason::ContentMissing),
        ("notes.log".to_owned(), restore::KeepReason::NotTracked),
    ];
    assert_eq!(kept(&plan), expected);
    assert_eq!(
        (plan.write.clone(), plan.delete.clone()),
        (vec!["a.txt".to_owned()], vec![".gitignore".to_owned()])
    );
    let restored = restore::restore(&rig.db.writer(), &rig.blobs, &first.checkpoint.id, rig.path()).unwrap();
    assert_eq!(kept(&restored.plan), expected);
    assert_eq!(std::fs::read(rig.path().join("a.txt")).unwrap(), b"a one\n");
    assert_eq!(std::fs::read(rig.path().join("b.txt")).unwrap(), b"b two\n");
    assert_eq!(std::fs::read(rig.path().join("notes.log")).unwrap(), b"log two\n");

    // A damaged copy stops the restore part way; the error names the checkpoint that undoes it.
    rig.write("a.txt", b"a three\n");
    rig.write("c.txt", b"c three\n");
    let second = rig.checkpoint(Trigger::Manual);
    rig.write("a.txt", b"a four\n");
    rig.write("c.txt", b"c four\n");
    let damaged = blob(&hash_of(&second.checkpoint.id, "c.txt"));
    std::fs::write(&damaged, b"not deflate at all").unwrap();
    let error = restore::restore(&rig.db.writer(), &rig.blobs, &second.checkpoint.id, rig.path()).unwrap_err();
    let checkpoint::CheckpointError::RestoreStopped { before, .. } = &error else {
        panic!("expected a stopped restore, got {error}");
    };
    assert!(error.to_string().contains(before.as_str()), "{error}");
    assert_eq!(
        std::fs::read(rig.path().join("a.txt")).unwrap(),
        b"a three\n",
        "written before it stopped"
    );
    restore::restore(&rig.db.writer(), &rig.blobs, before, rig.path()).unwrap();
    assert_eq!(std::fs::read(rig.path().join("a.txt")).unwrap(), b"a four\n");
    assert_eq!(std::fs::read(rig.path().join("c.txt")).unwrap(), b"c four\n");
}

/// Root reads every file, so under root (CI) the checkpoints are made and restored by the unprivileged
/// `nobody`, through the real binary; otherwise by the person running the tests.
#[cfg(unix)]
#[test]
fn an_unreadable_file_is_left_out_of_a_checkpoint_and_kept_by_a_restore() {
    use std::os::unix::process::CommandExt;
    let as_root = anyon::domain::instance::effective_uid() == 0;
    let open_dir = || {
        let dir = tempfile::tempdir().unwrap();
        chmod(dir.path(), 0o777);
        dir
    };
    let (home, project) = (open_dir(), open_dir());
    let dir = project.path().display().to_string();
    let json = |args: &[&str]| -> serde_json::Value {
        let mut command = std::process::Command::new(crate::support::anyon_bin());
        command
            .args(args)
            .env("ANYON_HOME", home.path())
            .env("HOME", home.path())
            .env_remove("DISPLAY")
            .env_remove("WAYLAND_DISPLAY");
        if as_root {
            command.uid(65534).gid(65534);
        }
        let output = command.output().unwrap();
        assert!(
            output.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_slice(&output.stdout).expect("JSON")
    };
    std::fs::write(project.path().join("a.txt"), "one\n").unwrap();
    chmod(&project.path().join("a.txt"), 0o666);
    let first = json(&["checkpoints", "create", "--project", &dir, "--json"]);
    let first = first["data"]["checkpoint"]["id"].as_str().unwrap().to_owned();
    std::fs::write(project.path().join("secret.txt"), "mine\n").unwrap();
    chmod(&project.path().join("secret.txt"), 0o000);
    let second = json(&["checkpoints", "create", "--project", &dir, "--json"]);
    assert_eq!(
        second["data"]["unreadable"],
        serde_json::json!(["secret.txt"]),
        "{second}"
    );
    let restored = json(&["checkpoints", "restore", "--project", &dir, &first, "--json"]);
    assert_eq!(
        restored["data"]["plan"]["keep"],
        serde_json::json!([{"path": "secret.txt", "reason": "unreadable"}]),
        "{restored}"
    );
    chmod(&project.path().join("secret.txt"), 0o644);
    assert_eq!(std::fs::read(project.path().join("secret.txt")).unwrap(), b"mine\n");
}

#[test]
fn a_large_file_is_stored_compressed_and_a_restore_that_deletes_it_can_be_undone() {
    let home = TempHome::new();
    let project = tempfile::tempdir().unwrap();
    let dir = project.path().display().to_string();
    std::fs::write(project.path().join("notes.md"), "first\n").unwrap();
    let json = |args: &[&str]| -> serde_json::Value {
        let output = home.anyon(args);
        assert!(
            output.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_slice(&output.stdout).expect("JSON")
    };
    let created = json(&["checkpoints", "create", "--project", &dir, "--json"]);
    let id = created["data"]["checkpoint"]["id"].as_str().unwrap().to_owned();
    // The 12 MB file, made after the checkpoint: under the default limit it is stored.
    let big = too_large(3);
    assert!(big.len() > 12 * 1024 * 1024 - 1);
    std::fs::write(project.path().join("big.bin"), &big).unwrap();
    let restored = json(&["checkpoints", "restore", "--project", &dir, &id, "--json"]);
    assert_eq!(restored["data"]["plan"]["delete"], serde_json::json!(["big.bin"]));
    assert_eq!(restored["data"]["plan"]["keep"], serde_json::json!([]));
    assert!(!project.path().join("big.bin").exists());
    let before = restored["data"]["before"]["id"].as_str().unwrap().to_owned();
    json(&["checkpoints", "restore", "--project", &dir, &before, "--json"]);
    assert!(
        std::fs::read(project.path().join("big.bin")).unwrap() == big,
        "undoing the restore brings the large file back byte for byte"
    );
    let stored: u64 = walk_sizes(&home.path().join("blobs"));
    assert!(stored < big.len() as u64 / 4, "stored compressed: {stored} bytes");
}

/// The bytes of every file under `dir`.
fn walk_sizes(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|entry| {
            let path = entry.path();
            if path.is_dir() {
                walk_sizes(&path)
            } else {
                std::fs::metadata(&path).unwrap().len()
            }
        })
        .sum()
}

#[cfg(unix)]
#[test]
fn a_link_standing_where_the_checkpoint_has_a_file_is_kept_and_its_target_untouched() {
    let rig = Rig::new();
    let outside = tempfile::tempdir().unwrap();
    rig.write("config.txt", b"project's\n");
    let first = rig.checkpoint(Trigger::Manual);
    let target = outside.path().join("target.txt");
    std::fs::write(&target, b"someone else's\n").unwrap();
    chmod(&target, 0o640);
    std::fs::remove_file(rig.path().join("config.txt")).unwrap();
    std::os::unix::fs::symlink(&target, rig.path().join("config.txt")).unwrap();
    let restored = restore::restore(&rig.db.writer(), &rig.blobs, &first.checkpoint.id, rig.path()).unwrap();
    assert_eq!(restored.plan.keep.len(), 1);
    assert_eq!(restored.plan.keep[0].reason, restore::KeepReason::NotTracked);
    assert!(
        std::fs::symlink_metadata(rig.path().join("config.txt"))
            .unwrap()
            .is_symlink()
    );
    assert_eq!(std::fs::read(&target).unwrap(), b"someone else's\n");
    assert_eq!(mode(&target), 0o640, "the link's target keeps its mode");
}

#[test]
fn a_second_restore_of_a_project_while_one_runs_is_refused() {
    let rig = Rig::new();
    rig.write("a.txt", b"one");
    let first = rig.checkpoint(Trigger::Manual);
    rig.write("a.txt", b"two");
    let key = checkpoint::journal::project_key(rig.path());
    let held = checkpoint::journal::RestoreLock::acquire(&checkpoint::journal::locks(&rig.blobs), &key).unwrap();
    let error = restore::restore(&rig.db.writer(), &rig.blobs, &first.checkpoint.id, rig.path()).unwrap_err();
    assert_eq!(error.kind(), "restore_running", "{error}");
    assert_eq!(std::fs::read(rig.path().join("a.txt")).unwrap(), b"two");
    drop(held);
    restore::restore(&rig.db.writer(), &rig.blobs, &first.checkpoint.id, rig.path()).unwrap();
    assert_eq!(std::fs::read(rig.path().join("a.txt")).unwrap(), b"one");
    let error = restore::recover(&rig.db.writer(), &rig.blobs, rig.path(), restore::RecoverAction::Report).unwrap_err();
    assert_eq!(error.kind(), "nothing_to_recover");
}
