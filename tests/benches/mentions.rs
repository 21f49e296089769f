//! The `@` picker's work on a generated project (default 100,000 empty files, 100 to a folder, three
//! folders deep, plus an ignored `target/` of 10,000 more): listing the project's files (the walk,
//! `.gitignore` honoured, into the compact list), the list's size, and one query matched against every
//! path for a few kinds of query, each the median of several runs. Both run in the backend, off the
//! window's thread; the window only folds the 50 matches it gets back.
//!
//!     cargo bench --bench mentions [-- FILES]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::time::{Duration, Instant};

use anyon::domain::project_files::{self, MAX_SHOWN};

const LIST_RUNS: usize = 5;
const MATCH_RUNS: usize = 21;

fn generate(root: &Path, files: usize) {
    std::fs::write(root.join(".gitignore"), "target/\n").expect("gitignore");
    let names = [
        "composer", "mention", "router", "store", "picker", "theme", "widgets", "main", "lib", "tests",
    ];
    for index in 0..files {
        let path = root.join(format!(
            "packages/pkg_{}/src/module_{}/{}_{index}.rs",
            index / 10_000,
            (index / 100) % 100,
            names[index % names.len()],
        ));
        if index % 100 == 0 {
            std::fs::create_dir_all(path.parent().expect("parent")).expect("dir");
        }
        std::fs::write(&path, "").expect("write");
    }
    for index in 0..files / 10 {
        let path = root.join(format!("target/debug/deps/{}/obj_{index}.o", index / 1000));
        if index % 1000 == 0 {
            std::fs::create_dir_all(path.parent().expect("parent")).expect("dir");
        }
        std::fs::write(&path, "").expect("write");
    }
}

fn median(mut times: Vec<Duration>) -> f64 {
    times.sort();
    times[times.len() / 2].as_secs_f64() * 1000.0
}

fn main() {
    let files: usize = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with('-'))
        .and_then(|a| a.parse().ok())
        .unwrap_or(100_000);
    let dir = tempfile::tempdir().expect("temp dir");
    let started = Instant::now();
    generate(dir.path(), files);
    println!(
        "generated {files} files (+{} ignored) in {:.1} s",
        files / 10,
        started.elapsed().as_secs_f64()
    );

    let mut list_times = Vec::new();
    let mut list = None;
    for _ in 0..LIST_RUNS {
        let started = Instant::now();
        let found = project_files::list(dir.path()).expect("list");
        list_times.push(started.elapsed());
        list = Some(found);
    }
    let list = list.expect("listed");
    assert_eq!(list.len(), files + 1, "every file and the .gitignore, nothing ignored");
    println!(
        "list: {} paths, median {:.1} ms (min {:.1}, max {:.1}) over {LIST_RUNS} runs; {:.2} MB held ({:.1} bytes a path)",
        list.len(),
        median(list_times.clone()),
        list_times.iter().min().expect("runs").as_secs_f64() * 1000.0,
        list_times.iter().max().expect("runs").as_secs_f64() * 1000.0,
        list.heap_bytes() as f64 / 1e6,
        list.heap_bytes() as f64 / list.len() as f64,
    );

    for (query, about) in [
        ("", "empty (shallowest first)"),
        ("c", "one letter, matches most paths"),
        ("compo", "a name's start"),
        ("pkg3mod42pick", "letters spread over the path"),
        ("packages/pkg_9/src/module_99/tests_99999.rs", "a whole path"),
        ("zzqx", "nothing matches"),
    ] {
        let mut times = Vec::new();
        let mut total = 0;
        for _ in 0..MATCH_RUNS {
            let started = Instant::now();
            let matches = project_files::find(&list, query, MAX_SHOWN);
            times.push(started.elapsed());
            total = matches.total;
        }
        println!(
            "match {query:?} ({about}): {total} matches, median {:.1} ms (max {:.1}) over {MATCH_RUNS} runs",
            median(times.clone()),
            times.iter().max().expect("runs").as_secs_f64() * 1000.0,
        );
    }
}
