//! Checkpoint speed on a project of 10,000 files: the first checkpoint (every file read, hashed,
//! compressed and stored) and a second with nothing changed (answered from the size+mtime cache).
//!
//!     cargo bench --bench checkpoint [-- FILES]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Instant;

use anyon::domain::checkpoint::{self, Blobs, CreateRequest};
use anyon::domain::db::Db;

fn main() {
    let files: usize = std::env::args().skip(1).find_map(|a| a.parse().ok()).unwrap_or(10_000);
    let dir = tempfile::tempdir().expect("temp dir");
    let project = dir.path().join("project");
    for index in 0..files {
        let path = project.join(format!("src/module_{}/file_{index}.rs", index % 100));
        std::fs::create_dir_all(path.parent().expect("parent")).expect("dir");
        let body = format!("// file {index}\npub fn f{index}() -> usize {{\n    {index}\n}}\n").repeat(20);
        std::fs::write(&path, body).expect("write");
    }
    let db = Db::open(&dir.path().join("anyon.db")).expect("db");
    let blobs = Blobs::new(dir.path().join("blobs"));
    let request = CreateRequest {
        project: project.clone(),
        session_id: "bench".into(),
        trigger: anyon::domain::checkpoint::Trigger::Manual,
        description: None,
        message_index: 0,
    };
    let started = Instant::now();
    let first = checkpoint::create(&db.writer(), &blobs, &request).expect("first");
    let cold = started.elapsed();
    let started = Instant::now();
    let second = checkpoint::create(&db.writer(), &blobs, &request).expect("second");
    let warm = started.elapsed();
    assert_eq!(second.checkpoint.files_changed, 0);
    println!(
        "checkpoint of {files} files ({:.1} MB): first {:.0} ms, second with nothing changed {:.0} ms",
        first.checkpoint.total_bytes as f64 / 1e6,
        cold.as_secs_f64() * 1000.0,
        warm.as_secs_f64() * 1000.0
    );
}
