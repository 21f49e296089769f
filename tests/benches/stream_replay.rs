//! Throughput of the whole chat pipeline: a fake `claude` replays 200,000 real stream-json lines,
//! and ANYON spawns it, reads and parses every line, sends the events and folds them into the chat
//! store, as the window does. Prints lines per second and the process's peak resident memory.
//!
//!     cargo bench --bench stream_replay [-- LINES]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use anyon::backend::Backend;
use anyon::backend::command::ClaudeRunRequest;
use anyon::backend::event::Event;
use anyon::domain::claude::requests::{ClaudeFindInstallations, ExecuteClaudeCode};
use anyon::state::{ActiveRun, ChatSession, Stores};
use anyon::util::paths::DataPaths;

fn main() {
    let lines: usize = std::env::args().skip(1).find_map(|a| a.parse().ok()).unwrap_or(200_000);
    let dir = tempfile::tempdir().expect("temp dir");
    let replay = dir.path().join("replay.jsonl");
    write_replay(&replay, lines);
    let fake = dir.path().join("claude");
    std::fs::write(&fake, format!("#!/bin/sh\nexec cat '{}'\n", replay.display())).expect("write fake");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    let project = dir.path().join("project");
    std::fs::create_dir_all(&project).expect("project");

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let (backend, mut events) = Backend::open(runtime.handle().clone(), DataPaths::at(dir.path().join("home")));
    runtime
        .block_on(backend.execute(anyon::domain::settings::requests::SaveSetting {
            setting: anyon::domain::settings::Setting::ClaudeBinaryPath(Some(fake.clone())),
        }))
        .expect("save path");
    // Discovery runs `--version` on the fake once; do it before the clock starts.
    let _ = runtime.block_on(backend.execute(ClaudeFindInstallations { refresh: true }));

    let mut stores = Stores::default();
    let mut session = ChatSession::new("bench", project.display().to_string());
    let started = Instant::now();
    let request_id = backend.dispatch(ExecuteClaudeCode {
        run: ClaudeRunRequest {
            project_path: project,
            prompt: "replay".into(),
            ..ClaudeRunRequest::default()
        },
    });
    session.run = Some(ActiveRun {
        request_id,
        run_id: None,
        stopping: false,
    });
    stores.chat.sessions.insert(1, session);
    let mut seen = 0usize;
    loop {
        // Drain like the window: a budget per "frame", then the next frame.
        let mut finished = false;
        events.drain(Duration::from_millis(8), |event| {
            match &event {
                Event::ClaudeOutput { .. } => seen += 1,
                Event::RunFinished { .. } => finished = true,
                _ => {}
            }
            stores.apply(event);
        });
        if finished {
            break;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    let elapsed = started.elapsed();
    let session = &stores.chat.sessions[&1];
    println!(
        "stream replay: {seen} lines in {:.2} s = {:.0} lines/s; chat items kept {} (dropped {}); peak RSS {:.1} MB",
        elapsed.as_secs_f64(),
        seen as f64 / elapsed.as_secs_f64(),
        session.items.len(),
        session.dropped,
        peak_rss_mb()
    );
    assert_eq!(seen, lines, "every line arrived");
}

/// Cycles through the real captured stream lines, with fresh ids so nothing merges.
fn write_replay(path: &Path, lines: usize) {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/stream");
    let mut source = Vec::new();
    for entry in std::fs::read_dir(&fixtures).expect("fixtures").flatten() {
        let text = std::fs::read_to_string(entry.path()).expect("fixture");
        source.extend(
            text.lines()
                .filter(|line| line.contains("\"type\":\"assistant\"") || line.contains("\"type\":\"user\""))
                .map(str::to_owned),
        );
    }
    assert!(!source.is_empty(), "no fixture lines");
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).expect("replay file"));
    for index in 0..lines {
        let line = source[index % source.len()].replace("toolu_", &format!("toolu_{index}_"));
        writeln!(out, "{line}").expect("write");
    }
    out.flush().expect("flush");
}

fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}
