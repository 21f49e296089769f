//! Checkpoints beside git in the same run, on a generated project (default 10,000 files of about 4 KB,
//! 50 to a folder): the first snapshot, one with nothing changed and one with one file changed, each
//! against `git add -A && git commit` on an identical copy; then what the database grows by per
//! checkpoint (pages, after the write-ahead log is folded in, averaged over 20 checkpoints).
//!
//!     cargo bench --bench checkpoint [-- FILES]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use anyon::domain::checkpoint::{self, Blobs, CreateRequest};
use anyon::domain::db::Db;

const RUNS: usize = 7;

fn generate(root: &Path, files: usize) -> u64 {
    let mut bytes = 0;
    for index in 0..files {
        let path = root.join(format!(
            "src/part_{}/mod_{}/file_{index}.rs",
            index / 1000,
            (index / 50) % 20
        ));
        std::fs::create_dir_all(path.parent().expect("parent")).expect("dir");
        let body = format!("// file {index}\npub fn f{index}() -> usize {{\n    {index}\n}}\n").repeat(80);
        bytes += body.len() as u64;
        std::fs::write(&path, body).expect("write");
    }
    bytes
}

fn git(dir: &Path, args: &[&str]) {
    let status = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "bench")
        .env("GIT_AUTHOR_EMAIL", "bench@example.com")
        .env("GIT_COMMITTER_NAME", "bench")
        .env("GIT_COMMITTER_EMAIL", "bench@example.com")
        .status()
        .expect("git runs");
    assert!(status.success(), "git {args:?}");
}

fn git_commit(dir: &Path) -> Duration {
    let started = Instant::now();
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-q", "--allow-empty", "-m", "checkpoint"]);
    started.elapsed()
}

fn median(mut times: Vec<Duration>) -> f64 {
    times.sort();
    times[times.len() / 2].as_secs_f64() * 1000.0
}

/// The database's size in bytes with its write-ahead log folded in.
fn db_bytes(db: &Db) -> u64 {
    let conn = db.writer();
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
        .expect("checkpoint");
    let pages: i64 = conn.query_row("PRAGMA page_count", [], |r| r.get(0)).expect("pages");
    let free: i64 = conn.query_row("PRAGMA freelist_count", [], |r| r.get(0)).expect("free");
    let size: i64 = conn.query_row("PRAGMA page_size", [], |r| r.get(0)).expect("size");
    ((pages - free) * size) as u64
}

fn folder_bytes(dir: &Path) -> u64 {
    let mut total = 0;
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let meta = entry.metadata().expect("meta");
        total += if meta.is_dir() {
            folder_bytes(&entry.path())
        } else {
            meta.len()
        };
    }
    total
}

fn main() {
    let files: usize = std::env::args().skip(1).find_map(|a| a.parse().ok()).unwrap_or(10_000);
    let dir = tempfile::tempdir().expect("temp dir");
    let project = dir.path().join("project");
    let mirror = dir.path().join("mirror");
    let bytes = generate(&project, files);
    generate(&mirror, files);
    git(&mirror, &["init", "-q"]);
    let db = Db::open(&dir.path().join("anyon.db")).expect("db");
    let blobs = Blobs::new(dir.path().join("blobs"));
    let request = CreateRequest {
        project: project.clone(),
        session_id: "bench".into(),
        trigger: checkpoint::Trigger::BeforeTool,
        description: None,
        message_index: 0,
    };
    let create = || {
        let started = Instant::now();
        let created = checkpoint::create(&db.writer(), &blobs, &request).expect("checkpoint");
        (started.elapsed(), created.checkpoint)
    };
    let (anyon_first, _) = create();
    let git_first = git_commit(&mirror);
    let (mut anyon_same, mut git_same) = (Vec::new(), Vec::new());
    for _ in 0..RUNS {
        let (took, made) = create();
        assert_eq!(made.files_changed, 0);
        anyon_same.push(took);
        git_same.push(git_commit(&mirror));
    }
    let (mut anyon_one, mut git_one) = (Vec::new(), Vec::new());
    for run in 0..RUNS {
        let relative = format!("src/part_0/mod_{}/file_{}.rs", run % 20, (run % 20) * 50 + run);
        for root in [&project, &mirror] {
            std::fs::write(root.join(&relative), format!("// changed in run {run}\n")).expect("edit");
        }
        let (took, made) = create();
        assert_eq!(made.files_changed, 1);
        anyon_one.push(took);
        git_one.push(git_commit(&mirror));
    }
    let growth = |edit: bool| {
        let (db_before, blobs_before) = (db_bytes(&db), folder_bytes(blobs.root()));
        for run in 0..20 {
            if edit {
                let relative = format!("src/part_0/mod_3/file_{}.rs", 150 + run % 50);
                std::fs::write(project.join(relative), format!("// growth run {run}\n").repeat(40)).expect("edit");
            }
            create();
        }
        let db_after = db_bytes(&db);
        (
            (db_after.saturating_sub(db_before)) as f64 / 20.0,
            (folder_bytes(blobs.root()).saturating_sub(blobs_before)) as f64 / 20.0,
        )
    };
    let (same_db, _) = growth(false);
    let (one_db, one_blob) = growth(true);
    println!(
        "checkpoints beside git, {files} files ({:.1} MB), median of {RUNS} runs",
        bytes as f64 / 1e6
    );
    println!("| operation | ANYON | git add -A && git commit | ratio |");
    println!("|---|---|---|---|");
    for (name, anyon, git) in [
        (
            "first snapshot",
            anyon_first.as_secs_f64() * 1000.0,
            git_first.as_secs_f64() * 1000.0,
        ),
        ("nothing changed", median(anyon_same), median(git_same)),
        ("one file changed", median(anyon_one), median(git_one)),
    ] {
        println!("| {name} | {anyon:.0} ms | {git:.0} ms | {:.2}x |", anyon / git);
    }
    println!(
        "database growth per checkpoint: nothing changed {same_db:.0} B; one file changed {one_db:.0} B \
         (3 folder levels) plus {one_blob:.0} B of compressed content"
    );
}
