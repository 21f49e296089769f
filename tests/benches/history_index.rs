//! The transcript index at scale, against ccusage: generates a tree of Claude transcripts (by default
//! 10,000 sessions in 40 projects, about 1.1 GB), then measures
//!
//! - ccusage 20.0.24 `claude daily` on it (wall time and the child's peak resident memory, best of 2);
//! - the `anyon` binary as a person runs it, each a process of its own on a data folder of its own: a
//!   cold `usage daily --json` (wall time and peak memory, against ccusage's), then warm `usage daily`,
//!   `projects list` and `sessions search` (a rare and a common phrase), 5 runs each;
//! - ANYON's cold index: a fresh data folder, `RefreshHistory` then the usage report, and the process's
//!   peak resident memory while it runs;
//! - ANYON's warm start with nothing changed: a new backend on the same data folder, the time until the
//!   Projects screen's list (the first catalog) and then the Usage screen's first report (its totals, the
//!   default range) have arrived, as the window asks for them; then until the start's own scan is done
//!   (the full index loaded), and a scan that finds nothing to read (3 runs, median).
//!
//! Prints the figures and one line per target of the issue (cold index no slower than ccusage, warm
//! start within 300 ms, peak memory under 300 MB); nothing is asserted.
//!
//!     cargo bench --bench history_index [-- SESSIONS [MEGABYTES] [--keep FOLDER]]
//!
//! With `--keep`, the tree is written to `FOLDER/claude` and left there (a later run with the same folder
//! reuses it, and `tests/benches/startup.sh` can measure the window on it); without, all goes in a
//! temporary folder.
//!
//! A smaller SESSIONS scales the tree down (110 kB per session unless MEGABYTES is given). ccusage is
//! installed with npm into `<target>/tmp/peers/ccusage` on first use (or `$ANYON_TEST_PEERS/ccusage`);
//! without npm only ANYON's figures are printed.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[allow(dead_code)]
#[path = "../support/transcripts.rs"]
mod transcripts;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyon::backend::command::UsageRange;
use anyon::backend::event::Event;
use anyon::backend::{Backend, EventReceiver};
use anyon::domain::transcripts::catalog::Catalog;
use anyon::domain::transcripts::index::ScanStats;
use anyon::domain::transcripts::report::Report;
use anyon::domain::transcripts::requests::{RefreshHistory, UsageReport};
use anyon::util::paths::DataPaths;

const CCUSAGE_VERSION: &str = "20.0.24";
const DEFAULT_SESSIONS: usize = 10_000;
/// Bytes per session when no size is given: 10,000 sessions make 1.1 GB (more than 1 GiB).
const BYTES_PER_SESSION: u64 = 110_000;
const RESPONSES: usize = 20;
const WARM_RUNS: usize = 3;
const WARM_TARGET_MS: f64 = 300.0;
const RSS_TARGET_MB: f64 = 300.0;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let keep = args
        .iter()
        .position(|a| a == "--keep")
        .map(|i| PathBuf::from(args.get(i + 1).expect("--keep takes a folder")));
    let numbers: Vec<u64> = args.iter().filter_map(|a| a.parse().ok()).collect();
    let sessions = numbers.first().map_or(DEFAULT_SESSIONS, |&n| n.max(1) as usize);
    let target_bytes = numbers
        .get(1)
        .map_or(sessions as u64 * BYTES_PER_SESSION, |mb| mb * 1_000_000);
    let projects_count = sessions.min(40);

    let temp;
    let root = match &keep {
        Some(folder) => {
            std::fs::create_dir_all(folder).expect("the --keep folder");
            for old in ["data", "cli-home", "calibrate"] {
                let _ = std::fs::remove_dir_all(folder.join(old));
            }
            folder.clone()
        }
        None => {
            temp = tempfile::Builder::new()
                .prefix("anyon-history-bench-")
                .tempdir_in(std::env::temp_dir())
                .expect("temp dir");
            temp.path().to_path_buf()
        }
    };
    let dir = root.as_path();
    let config = dir.join("claude");
    let projects = config.join("projects");
    let data = dir.join("data");
    let reuse = keep.is_some() && std::fs::read_dir(&projects).is_ok_and(|mut entries| entries.next().is_some());
    std::fs::create_dir_all(&projects).expect("projects dir");

    // 1. The tree (with --keep, the one already in the folder when there is one).
    let payload = payload_for(sessions, projects_count, target_bytes, &dir.join("calibrate"));
    let shape = transcripts::Shape {
        projects: projects_count,
        sessions,
        responses: RESPONSES,
        payload,
        seed: 2026,
    };
    let started = Instant::now();
    let written = if reuse {
        println!("reusing the tree in {}", projects.display());
        TreeStats::of(&projects).bytes
    } else {
        transcripts::generate(&projects, &shape)
    };
    sync();
    let generated = started.elapsed();
    let tree = TreeStats::of(&projects);
    println!("history index benchmark ({} cores)", cores());
    println!(
        "tree: {} in {} files ({} sessions, {} subagent files, {} projects; {} responses per session, \
         {} B tool output each); generated in {:.1} s",
        mb(tree.bytes),
        tree.files,
        tree.sessions,
        tree.files - tree.sessions,
        tree.projects,
        RESPONSES,
        payload,
        generated.as_secs_f64()
    );
    assert_eq!(written, tree.bytes, "the generator's count matches the tree");

    // 2. ccusage first, while this process is small: a child's peak memory as the kernel reports it
    // includes this process's peak at the moment of the spawn.
    let ccusage = match ccusage_bin() {
        Ok(bin) => {
            let mut runs = Vec::new();
            for run in 1..=2 {
                match run_ccusage(&bin, &config) {
                    Ok(r) => {
                        println!(
                            "ccusage {CCUSAGE_VERSION} claude daily, run {run}: {:.2} s, peak RSS {:.0} MB \
                             ({} days, {} tokens, ${:.2}; this process was at {:.0} MB when it spawned)",
                            r.wall.as_secs_f64(),
                            r.peak_mb,
                            r.days,
                            r.tokens,
                            r.cost,
                            r.parent_mb
                        );
                        runs.push(r);
                    }
                    Err(e) => {
                        println!("ccusage run {run} failed: {e}");
                        break;
                    }
                }
            }
            runs.into_iter().min_by_key(|r| r.wall)
        }
        Err(e) => {
            println!("ccusage unavailable ({e}); ANYON's figures only");
            None
        }
    };

    // 2b. The release binary as a person runs it, also while this process is small: a cold
    // `usage daily` on a fresh data folder, then the warm commands.
    let cli = cli_runs(&config, &dir.join("cli-home"), sessions);

    // 3. ANYON, cold: nothing indexed yet.
    let cold = cold_index(&data, &projects);
    println!(
        "ANYON cold index: scan + catalog {:.2} s ({} files, {} new, {} read, {} lines, {} malformed), \
         usage report {:.0} ms; total {:.2} s = {:.0} MB/s",
        cold.scan.as_secs_f64(),
        cold.stats.files,
        cold.stats.new,
        mb(cold.stats.bytes_read),
        cold.stats.lines_read,
        cold.stats.malformed,
        ms(cold.report),
        cold.total().as_secs_f64(),
        cold.stats.bytes_read as f64 / 1e6 / cold.total().as_secs_f64()
    );
    println!(
        "ANYON cold index: {} records counted, {} tokens, ${:.2}; peak RSS {:.0} MB (from {:.0} MB before); \
         index on disk {}",
        cold.records,
        cold.tokens,
        cold.cost,
        cold.peak_mb,
        cold.base_mb,
        mb(cold.db_bytes)
    );

    // 3b. Search: the first search reads the transcripts' text into the full-text index (the window does
    // so in the background after its scan), then searches as the window asks them.
    let search = search_figures(&data, &projects, sessions);

    // 4. ANYON, warm: a new backend on the same data folder, nothing changed.
    let mut warm = Vec::new();
    for run in 1..=WARM_RUNS {
        let w = warm_start(&data, &projects);
        println!(
            "ANYON warm start {run}: backend open {:.0} ms, project list at {:.0} ms{}, usage totals at {:.0} ms \
             ({} projects, {} tokens, ${:.2}); index loaded and scanned (idle) at {:.0} ms; \
             a scan with nothing changed {:.0} ms ({} files, {} unchanged, {} read); later catalogs {}; peak RSS {:.0} MB (from {:.0} MB)",
            ms(w.opened),
            ms(w.catalog),
            if w.partial { " (saved snapshot)" } else { "" },
            ms(w.shown),
            w.projects,
            w.tokens,
            w.cost,
            ms(w.idle),
            ms(w.rescan),
            w.rescan_stats.files,
            w.rescan_stats.unchanged,
            mb(w.rescan_stats.bytes_read),
            w.later_catalogs,
            w.peak_mb,
            w.base_mb
        );
        warm.push(w);
    }
    let median = |f: fn(&Warm) -> f64| {
        let mut v: Vec<f64> = warm.iter().map(f).collect();
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let shown_ms = median(|w| ms(w.shown));
    let rescan_ms = median(|w| ms(w.rescan));
    let idle_ms = median(|w| ms(w.idle));
    let warm_peak = warm.iter().map(|w| w.peak_mb).fold(0.0, f64::max);
    println!(
        "ANYON warm start, median of {WARM_RUNS}: project list and usage totals shown {shown_ms:.0} ms, idle {idle_ms:.0} ms, \
         unchanged scan {rescan_ms:.0} ms"
    );

    // Where the warm start's time goes, through the index's own functions.
    breakdown(&data, &projects);

    // 5. Against the targets.
    println!("--- targets ({} sessions, {}) ---", tree.sessions, mb(tree.bytes));
    if tree.bytes < 1_000_000_000 || tree.sessions < 10_000 {
        println!("(a reduced tree: the targets are stated for at least 1 GB and 10,000 sessions)");
    }
    match &ccusage {
        Some(c) => {
            let ratio = cold.total().as_secs_f64() / c.wall.as_secs_f64();
            println!(
                "cold index: ANYON {:.2} s vs ccusage daily {:.2} s (best of 2): {:.2}x ccusage's time, {}; \
                 tokens {}",
                cold.total().as_secs_f64(),
                c.wall.as_secs_f64(),
                ratio,
                verdict(ratio <= 1.0),
                if c.tokens == cold.tokens {
                    "equal".to_string()
                } else {
                    format!("DIFFER ({} vs {})", cold.tokens, c.tokens)
                }
            );
        }
        None => println!(
            "cold index: ANYON {:.2} s; ccusage not measured",
            cold.total().as_secs_f64()
        ),
    }
    println!(
        "warm start: project list and totals in {shown_ms:.0} ms (median) vs {WARM_TARGET_MS:.0} ms target, {}",
        verdict(shown_ms <= WARM_TARGET_MS)
    );
    if let Some(cli) = &cli {
        cli.verdicts(ccusage.as_ref());
    }
    for (phrase, median) in &search.medians {
        println!(
            "search {phrase:?} in the window's backend: {median:.1} ms (median of {SEARCH_RUNS}) vs \
             {CLI_SEARCH_TARGET_MS:.0} ms target, {}",
            verdict(*median <= CLI_SEARCH_TARGET_MS)
        );
    }
    let peak = cold.peak_mb.max(warm_peak);
    println!(
        "peak RSS: {peak:.0} MB (cold index {:.0} MB, warm start {warm_peak:.0} MB) vs {RSS_TARGET_MB:.0} MB \
         target, {}{}",
        cold.peak_mb,
        verdict(peak < RSS_TARGET_MB),
        ccusage
            .as_ref()
            .map(|c| format!("; ccusage {:.0} MB", c.peak_mb))
            .unwrap_or_default()
    );
}

const SEARCH_RUNS: usize = 5;

struct SearchFigures {
    /// Per phrase, the median time of a search (ms).
    medians: Vec<(String, f64)>,
}

/// A backend on the indexed data folder: the first search's catch-up of the full-text index, then
/// searches for a rare and a common phrase (fresh = false, as the window asks).
fn search_figures(data: &Path, projects: &Path, sessions: usize) -> SearchFigures {
    use anyon::domain::transcripts::requests::SearchSessions;
    let runtime = runtime();
    let (backend, events) = Backend::open(runtime.handle().clone(), DataPaths::at(data.to_path_buf()));
    backend.set_projects_root(projects.to_path_buf());
    runtime
        .block_on(backend.call(RefreshHistory))
        .unwrap_or_else(|error| panic!("RefreshHistory: {error}"));
    let search = |phrase: &str| {
        let started = Instant::now();
        let found = runtime
            .block_on(backend.call(SearchSessions {
                query: phrase.to_string(),
                project: None,
                limit: 20,
                tools: true,
                fresh: false,
            }))
            .unwrap_or_else(|error| panic!("search: {error}"));
        (started.elapsed(), found.len())
    };
    let base_mb = reset_peak();
    let (first, _) = search("lorem");
    println!(
        "ANYON search index: the first search read the text in {:.2} s (peak RSS {:.0} MB from {base_mb:.0} MB); \
         index on disk now {}",
        first.as_secs_f64(),
        status_mb("VmHWM"),
        mb(dir_bytes(data))
    );
    let mut medians = Vec::new();
    for phrase in [
        format!("task {}", sessions / 3),
        "make it work".to_string(),
        "lorem ipsum".to_string(),
    ] {
        let mut times = Vec::new();
        let mut hits = 0;
        for _ in 0..SEARCH_RUNS {
            let (took, found) = search(&phrase);
            times.push(ms(took));
            hits = found;
        }
        times.sort_by(f64::total_cmp);
        println!(
            "ANYON search {phrase:?}: median {:.1} ms, min {:.1}, max {:.1} ({SEARCH_RUNS} runs, {hits} results)",
            times[times.len() / 2],
            times[0],
            times[times.len() - 1]
        );
        medians.push((phrase, times[times.len() / 2]));
    }
    shut_down(runtime, backend, events);
    SearchFigures { medians }
}

const CLI_WARM_RUNS: usize = 5;
const CLI_COLD_RATIO: f64 = 0.5;
const CLI_RSS_TARGET_MB: f64 = 200.0;
const CLI_DAILY_TARGET_MS: f64 = 150.0;
const CLI_PROJECTS_TARGET_MS: f64 = 100.0;
const CLI_SEARCH_TARGET_MS: f64 = 50.0;

/// The `anyon` commands' figures on the tree.
struct Cli {
    cold: ChildRun,
    cold_tokens: u64,
    /// Per command: its name, the median and the slowest wall time (ms) and the highest peak (MB).
    warm: Vec<(String, f64, f64, f64, f64)>,
}

impl Cli {
    fn verdicts(&self, ccusage: Option<&CcusageRun>) {
        let cold_s = self.cold.wall.as_secs_f64();
        match ccusage {
            Some(c) => {
                let ratio = cold_s / c.wall.as_secs_f64();
                println!(
                    "cold `anyon usage daily --json`: {cold_s:.2} s vs ccusage daily {:.2} s = {ratio:.2}x \
                     (target at most {CLI_COLD_RATIO}x), {}; tokens {}",
                    c.wall.as_secs_f64(),
                    verdict(ratio <= CLI_COLD_RATIO),
                    if c.tokens == self.cold_tokens {
                        "equal"
                    } else {
                        "DIFFER"
                    }
                );
            }
            None => println!("cold `anyon usage daily --json`: {cold_s:.2} s; ccusage not measured"),
        }
        let peak = self.warm.iter().map(|w| w.4).fold(self.cold.peak_mb, f64::max);
        println!(
            "peak RSS of the anyon commands: {peak:.0} MB (cold {:.0} MB) vs {CLI_RSS_TARGET_MB:.0} MB target, {}",
            self.cold.peak_mb,
            verdict(peak <= CLI_RSS_TARGET_MB)
        );
        for (name, median, _, target, _) in &self.warm {
            println!(
                "warm `anyon {name}`: {median:.0} ms (median of {CLI_WARM_RUNS}) vs {target:.0} ms target, {}",
                verdict(median <= target)
            );
        }
    }
}

/// Runs the `anyon` binary of this build on the tree with a data folder of its own; `None` (said why)
/// when a run fails.
fn cli_runs(config: &Path, home: &Path, sessions: usize) -> Option<Cli> {
    let bin = Path::new(env!("CARGO_BIN_EXE_anyon"));
    let command = |args: &[&str]| {
        let mut command = std::process::Command::new(bin);
        command
            .args(args)
            .env("ANYON_HOME", home)
            .env("CLAUDE_CONFIG_DIR", config)
            .env("TZ", "UTC")
            .env("ANYON_LOG", "warn");
        command
    };
    let run = |args: &[&str]| match run_child(&mut command(args)) {
        Ok(run) => Some(run),
        Err(e) => {
            println!("`anyon {}` failed: {e}", args.join(" "));
            None
        }
    };
    let cold = run(&["usage", "daily", "--json"])?;
    let json: serde_json::Value = serde_json::from_slice(&cold.stdout).ok()?;
    let cold_tokens = json["totals"]["totalTokens"].as_u64().unwrap_or(0);
    println!(
        "anyon usage daily --json, cold (empty data folder): {:.2} s, peak RSS {:.0} MB ({} tokens; this \
         process was at {:.0} MB when it spawned)",
        cold.wall.as_secs_f64(),
        cold.peak_mb,
        cold_tokens,
        cold.parent_mb
    );
    let first = run(&["sessions", "search", "lorem", "--json"])?;
    println!(
        "anyon sessions search lorem --json, the first (reads the transcripts' text for search): {:.2} s, \
         peak RSS {:.0} MB",
        first.wall.as_secs_f64(),
        first.peak_mb
    );
    let rare = format!("task {}", sessions / 2);
    let commands: [(&[&str], f64); 4] = [
        (&["usage", "daily", "--json"], CLI_DAILY_TARGET_MS),
        (&["projects", "list", "--json"], CLI_PROJECTS_TARGET_MS),
        (&["sessions", "search", &rare, "--json"], CLI_SEARCH_TARGET_MS),
        (&["sessions", "search", "make it work", "--json"], CLI_SEARCH_TARGET_MS),
    ];
    let mut warm = Vec::new();
    for (args, target) in commands {
        let mut times = Vec::new();
        let mut peak: f64 = 0.0;
        let mut said = String::new();
        for _ in 0..CLI_WARM_RUNS {
            let r = run(args)?;
            times.push(ms(r.wall));
            peak = peak.max(r.peak_mb);
            said = summary_of(&r.stdout);
        }
        times.sort_by(f64::total_cmp);
        let name = args
            .iter()
            .map(|a| {
                if a.contains(' ') {
                    format!("{a:?}")
                } else {
                    a.to_string()
                }
            })
            .collect::<Vec<_>>()
            .join(" ");
        println!(
            "anyon {name}, warm: median {:.0} ms, min {:.0}, max {:.0} ({CLI_WARM_RUNS} runs); peak RSS {peak:.0} MB; {said}",
            times[times.len() / 2],
            times[0],
            times[times.len() - 1]
        );
        warm.push((name, times[times.len() / 2], times[times.len() - 1], target, peak));
    }
    Some(Cli {
        cold,
        cold_tokens,
        warm,
    })
}

/// What a command's JSON held, in a few words.
fn summary_of(stdout: &[u8]) -> String {
    let Ok(json) = serde_json::from_slice::<serde_json::Value>(stdout) else {
        return "no JSON".into();
    };
    match json.as_object() {
        Some(object) => object
            .iter()
            .map(|(key, value)| match value.as_array() {
                Some(items) => format!("{} {key}", items.len()),
                None => key.clone(),
            })
            .collect::<Vec<_>>()
            .join(", "),
        None => json
            .as_array()
            .map_or("JSON".into(), |items| format!("{} items", items.len())),
    }
}

fn verdict(met: bool) -> &'static str {
    if met { "met" } else { "NOT MET" }
}

/// The tool output per response that makes the tree `target` bytes, from a sample without any.
fn payload_for(sessions: usize, projects: usize, target: u64, sample_dir: &Path) -> usize {
    let sample = sessions.min(300);
    let base = transcripts::generate(
        sample_dir,
        &transcripts::Shape {
            projects: projects.min(sample),
            sessions: sample,
            responses: RESPONSES,
            payload: 0,
            seed: 2026,
        },
    );
    let _ = std::fs::remove_dir_all(sample_dir);
    let per_session = base as f64 / sample as f64;
    let wanted = target as f64 / sessions as f64;
    // Every response writes its tool output twice (`toolUseResult` and the message content).
    ((wanted - per_session) / (2 * RESPONSES) as f64).ceil().max(0.0) as usize
}

struct TreeStats {
    bytes: u64,
    files: usize,
    sessions: usize,
    projects: usize,
}

impl TreeStats {
    fn of(projects: &Path) -> Self {
        let mut stats = TreeStats {
            bytes: 0,
            files: 0,
            sessions: 0,
            projects: 0,
        };
        let mut stack = vec![(projects.to_path_buf(), 0)];
        while let Some((dir, depth)) = stack.pop() {
            for entry in std::fs::read_dir(&dir).expect("read tree").flatten() {
                let kind = entry.file_type().expect("file type");
                if kind.is_dir() {
                    if depth == 0 {
                        stats.projects += 1;
                    }
                    stack.push((entry.path(), depth + 1));
                } else if entry.path().extension().is_some_and(|e| e == "jsonl") {
                    stats.files += 1;
                    stats.bytes += entry.metadata().expect("metadata").len();
                    if depth == 1 {
                        stats.sessions += 1;
                    }
                }
            }
        }
        stats
    }
}

struct Cold {
    stats: ScanStats,
    scan: Duration,
    report: Duration,
    records: usize,
    tokens: u64,
    cost: f64,
    base_mb: f64,
    peak_mb: f64,
    db_bytes: u64,
}

impl Cold {
    fn total(&self) -> Duration {
        self.scan + self.report
    }
}

fn cold_index(data: &Path, projects: &Path) -> Cold {
    let runtime = runtime();
    let (backend, mut events) = Backend::open(runtime.handle().clone(), DataPaths::at(data.to_path_buf()));
    backend.set_projects_root(projects.to_path_buf());
    let base_mb = reset_peak();
    let started = Instant::now();
    let stats = runtime
        .block_on(backend.call(RefreshHistory))
        .unwrap_or_else(|error| panic!("RefreshHistory: {error}"));
    let scan = started.elapsed();
    let started = Instant::now();
    let report = usage(&runtime, &backend);
    let report_time = started.elapsed();
    let peak_mb = status_mb("VmHWM");
    events.drain(Duration::from_secs(1), |_| {});
    let cold = Cold {
        stats,
        scan,
        report: report_time,
        records: report.records,
        tokens: report.totals.total(),
        cost: report.totals.cost,
        base_mb,
        peak_mb,
        db_bytes: dir_bytes(data),
    };
    shut_down(runtime, backend, events);
    cold
}

fn usage(runtime: &tokio::runtime::Runtime, backend: &Backend) -> Arc<Report> {
    runtime
        .block_on(backend.call(UsageReport {
            range: UsageRange {
                timezone: Some("UTC".into()),
                ..Default::default()
            },
            sessions: false,
        }))
        .unwrap_or_else(|error| panic!("UsageReport: {error}"))
}

struct Warm {
    opened: Duration,
    /// The first catalog (the Projects screen's list) arrived.
    catalog: Duration,
    /// Then the Usage screen's first report (its totals) arrived: both screens have their data.
    shown: Duration,
    partial: bool,
    idle: Duration,
    rescan: Duration,
    rescan_stats: ScanStats,
    projects: usize,
    tokens: u64,
    cost: f64,
    later_catalogs: usize,
    base_mb: f64,
    peak_mb: f64,
}

fn warm_start(data: &Path, projects: &Path) -> Warm {
    let runtime = runtime();
    let base_mb = reset_peak();
    let started = Instant::now();
    let (backend, mut events) = Backend::open(runtime.handle().clone(), DataPaths::at(data.to_path_buf()));
    backend.set_projects_root(projects.to_path_buf());
    let opened = started.elapsed();
    backend.start_history(false);
    let catalog: Arc<Catalog> = runtime
        .block_on(async {
            tokio::time::timeout(Duration::from_secs(600), async {
                loop {
                    match events.recv().await {
                        Some(Event::HistoryUpdated(catalog)) => return Some(catalog),
                        Some(_) => {}
                        None => return None,
                    }
                }
            })
            .await
        })
        .ok()
        .flatten()
        .expect("the first catalog");
    let catalog_at = started.elapsed();
    // The Usage screen's first data: as the screen asks once a catalog is there, its default range
    // (all time, the local zone).
    let totals = runtime
        .block_on(backend.call(UsageReport {
            range: UsageRange::default(),
            sessions: false,
        }))
        .unwrap_or_else(|error| panic!("UsageReport: {error}"));
    let shown = started.elapsed();
    // The start scans for changes right after showing the catalog; a refresh asked meanwhile returns
    // once that scan is done (and, as it marks the index dirty, one more pass), so "idle" is an upper bound.
    let _ = runtime.block_on(backend.execute(RefreshHistory));
    let idle = started.elapsed();
    let before = Instant::now();
    let rescan_stats = runtime
        .block_on(backend.call(RefreshHistory))
        .unwrap_or_else(|error| panic!("RefreshHistory: {error}"));
    let rescan = before.elapsed();
    let peak_mb = status_mb("VmHWM");
    let mut later_catalogs = 0;
    events.drain(Duration::from_secs(1), |event| {
        if matches!(event, Event::HistoryUpdated(_)) {
            later_catalogs += 1;
        }
    });
    let warm = Warm {
        opened,
        catalog: catalog_at,
        shown,
        partial: catalog.partial,
        idle,
        rescan,
        rescan_stats,
        projects: catalog.projects.len(),
        tokens: totals.totals.total(),
        cost: totals.totals.cost,
        later_catalogs,
        base_mb,
        peak_mb,
    };
    drop(catalog);
    shut_down(runtime, backend, events);
    warm
}

/// The warm start's catalog, phase by phase: loading the index, counting (deduplication), the usage
/// report and the rest of the catalog. Each phase runs alone, one thread, on the index just built.
fn breakdown(data: &Path, projects: &Path) {
    use anyon::domain::transcripts::report::{Range, Zone};
    use anyon::domain::transcripts::{index, prices::PriceTable};
    let prices = PriceTable::load(&data.join("prices.json")).unwrap_or_else(|_| PriceTable::built_in());
    let conn = rusqlite::Connection::open(DataPaths::at(data.to_path_buf()).database()).expect("the index");
    let started = Instant::now();
    let fingerprint = index::fingerprint(&conn).expect("the index's fingerprint");
    let key = anyon::domain::transcripts::snapshot::key(&fingerprint, &prices);
    let fingerprinted = started.elapsed();
    let snapshot_bytes = conn
        .query_row("SELECT length(head) FROM history_first_screen", [], |r| {
            r.get::<_, i64>(0)
        })
        .map_or(0, |n| n.max(0) as u64);
    let started = Instant::now();
    let saved = anyon::domain::transcripts::snapshot::load(&conn, &key, &prices);
    let snapshot = started.elapsed();
    println!(
        "breakdown (one thread): index fingerprint {:.0} ms, saved first screen ({}) read {:.0} ms{}",
        ms(fingerprinted),
        mb(snapshot_bytes),
        ms(snapshot),
        if saved.is_some() { "" } else { " (NOT USABLE)" }
    );
    drop(saved);
    let base_mb = reset_peak();
    let started = Instant::now();
    let loaded = index::load(&conn, &prices).expect("load the index");
    let load = started.elapsed();
    let loaded_mb = status_mb("VmRSS");
    let (files, counted) = (loaded.files.len(), loaded.report.records);
    let utc = Range {
        zone: Zone::parse("UTC").expect("UTC"),
        ..Range::default()
    };
    let started = Instant::now();
    let report = index::report(&conn, &prices, &utc).expect("the UTC report");
    let report_time = started.elapsed();
    drop(report);
    let started = Instant::now();
    let catalog = Catalog::build(loaded, &prices, key);
    let build = started.elapsed();
    let peak_mb = status_mb("VmHWM");
    let started = Instant::now();
    drop(catalog);
    let dropped = started.elapsed();
    // The unchanged scan's own cost: listing and stat-ing the tree.
    let started = Instant::now();
    let mut listed = 0usize;
    let mut stack = vec![projects.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("read tree").flatten() {
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                stack.push(entry.path());
            } else if entry.metadata().is_ok() {
                listed += 1;
            }
        }
    }
    let walk = started.elapsed();
    println!(
        "breakdown (one thread): index::load {:.0} ms ({files} files and the all-time report streamed from \
         {counted} counted records; RSS {:.0} -> {:.0} MB), a UTC usage report streamed {:.0} ms, Catalog::build \
         {:.0} ms, dropping the catalog {:.0} ms; peak RSS {:.0} MB; walking and stat-ing {listed} files {:.0} ms",
        ms(load),
        base_mb,
        loaded_mb,
        ms(report_time),
        ms(build),
        ms(dropped),
        peak_mb,
        ms(walk)
    );
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

fn shut_down(runtime: tokio::runtime::Runtime, backend: Backend, events: EventReceiver) {
    backend.stop_history();
    drop(backend);
    drop(events);
    runtime.shutdown_timeout(Duration::from_secs(10));
}

struct CcusageRun {
    wall: Duration,
    peak_mb: f64,
    parent_mb: f64,
    days: usize,
    tokens: u64,
    cost: f64,
}

/// `node_modules/.bin/ccusage`, installed with npm on first use.
fn ccusage_bin() -> Result<PathBuf, String> {
    let root = match std::env::var_os("ANYON_TEST_PEERS") {
        Some(peers) => PathBuf::from(peers),
        None => std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"))
            .join("tmp/peers"),
    }
    .join("ccusage");
    let bin = root.join("node_modules/.bin/ccusage");
    let marker = root.join(format!(".installed-ccusage@{CCUSAGE_VERSION}"));
    if bin.is_file() && marker.is_file() {
        return Ok(bin);
    }
    std::fs::create_dir_all(&root).map_err(|e| format!("cannot create {}: {e}", root.display()))?;
    eprintln!("installing ccusage@{CCUSAGE_VERSION} into {} (once)", root.display());
    let output = std::process::Command::new("npm")
        .args(["install", "--no-audit", "--no-fund", "--prefix"])
        .arg(&root)
        .arg(format!("ccusage@{CCUSAGE_VERSION}"))
        .output()
        .map_err(|e| format!("cannot run npm: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "npm install failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    if !bin.is_file() {
        return Err(format!("npm installed ccusage but {} is missing", bin.display()));
    }
    std::fs::write(&marker, b"").map_err(|e| e.to_string())?;
    Ok(bin)
}

/// One `ccusage claude daily --json --offline`: wall time, and the child's peak memory from `wait4`.
fn run_ccusage(bin: &Path, config: &Path) -> Result<CcusageRun, String> {
    let mut command = std::process::Command::new(bin);
    command
        .args(["claude", "daily", "--json", "--offline"])
        .env("TZ", "UTC")
        .env("CLAUDE_CONFIG_DIR", config);
    let run = run_child(&mut command)?;
    let json: serde_json::Value = serde_json::from_slice(&run.stdout).map_err(|e| format!("no JSON: {e}"))?;
    Ok(CcusageRun {
        wall: run.wall,
        peak_mb: run.peak_mb,
        parent_mb: run.parent_mb,
        days: json["daily"].as_array().map_or(0, Vec::len),
        tokens: json["totals"]["totalTokens"].as_u64().unwrap_or(0),
        cost: json["totals"]["totalCost"].as_f64().unwrap_or(0.0),
    })
}

struct ChildRun {
    wall: Duration,
    peak_mb: f64,
    parent_mb: f64,
    stdout: Vec<u8>,
}

/// Runs `command` to its end: wall time, the child's peak memory from `wait4` and its output; an error
/// when it does not exit 0. The peak includes this process's resident memory at the spawn, which is
/// returned as `parent_mb` (measure children while this process is small).
fn run_child(command: &mut std::process::Command) -> Result<ChildRun, String> {
    let out = tempfile::tempfile().map_err(|e| e.to_string())?;
    let err = tempfile::tempfile().map_err(|e| e.to_string())?;
    let parent_mb = reset_peak();
    let started = Instant::now();
    let child = command
        .stdin(std::process::Stdio::null())
        .stdout(out.try_clone().map_err(|e| e.to_string())?)
        .stderr(err.try_clone().map_err(|e| e.to_string())?)
        .spawn()
        .map_err(|e| format!("cannot run {:?}: {e}", command.get_program()))?;
    let (status, peak_kb) = wait4(child.id() as libc::pid_t)?;
    let wall = started.elapsed();
    let read = |mut file: std::fs::File| {
        use std::io::{Read, Seek};
        let mut bytes = Vec::new();
        file.seek(std::io::SeekFrom::Start(0)).ok();
        file.read_to_end(&mut bytes).ok();
        bytes
    };
    if !libc::WIFEXITED(status) || libc::WEXITSTATUS(status) != 0 {
        return Err(format!(
            "exit status {status}: {}",
            String::from_utf8_lossy(&read(err)).trim()
        ));
    }
    Ok(ChildRun {
        wall,
        peak_mb: peak_kb as f64 / 1024.0,
        parent_mb,
        stdout: read(out),
    })
}

/// Waits for `pid`; its exit status and peak resident memory in KiB.
fn wait4(pid: libc::pid_t) -> Result<(i32, i64), String> {
    let mut status = 0;
    // SAFETY: `rusage` is plain C data, for which all zeroes is a valid value; the kernel writes it.
    #[allow(unsafe_code)]
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: valid pointers to locals that outlive the call; `pid` is our own child, not yet reaped.
        #[allow(unsafe_code)]
        let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if r == pid {
            return Ok((status, usage.ru_maxrss));
        }
        let error = std::io::Error::last_os_error();
        if error.kind() != std::io::ErrorKind::Interrupted {
            return Err(format!("wait4: {error}"));
        }
    }
}

/// Resets this process's peak resident memory to the current one, which it returns (MB). Memory that
/// earlier runs freed but the allocator kept (glibc keeps it per thread arena) is given back first, so
/// that each run starts as a new process would rather than on top of the previous runs' leftovers.
fn reset_peak() -> f64 {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: no pointers, only the padding to keep; glibc returns free heap memory to the system under its
    // own lock, which is safe at any time.
    #[allow(unsafe_code)]
    unsafe {
        libc::malloc_trim(0);
    }
    if std::fs::write("/proc/self/clear_refs", "5").is_err() {
        eprintln!("cannot reset the peak memory (/proc/self/clear_refs): peaks include earlier work");
    }
    status_mb("VmRSS")
}

/// A memory figure from /proc/self/status, in MB (MiB).
fn status_mb(field: &str) -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|l| l.starts_with(field) && l[field.len()..].starts_with(':'))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

fn dir_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .filter_map(|e| e.metadata().ok())
                .filter(|m| m.is_file())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}

fn sync() {
    // SAFETY: sync(2) takes no arguments and has no preconditions; it flushes written files so the
    // measurements do not pay for it.
    #[allow(unsafe_code)]
    unsafe {
        libc::sync()
    };
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn mb(bytes: u64) -> String {
    if bytes >= 1_000_000_000 {
        format!("{:.2} GB", bytes as f64 / 1e9)
    } else {
        format!("{:.1} MB", bytes as f64 / 1e6)
    }
}
