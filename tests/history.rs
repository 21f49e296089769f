//! Projects, sessions and usage from Claude's transcripts: the sample corpus, ccusage as the reference
//! for counting, the incremental index and the watcher.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyon::backend::Backend;
use anyon::backend::command::{Command, UsageRange};
use anyon::backend::event::{Event, Replies};
use anyon::domain::transcripts::index::ScanStats;
use anyon::util::request::Ask;
use serde_json::Value;

use crate::support::{self, TempHome, npm, transcripts};
use anyon::domain::transcripts::requests::{
    GetProjectSessions, ListProjects, ReadSessionPage, RefreshHistory, UsageReport,
};

const CCUSAGE_VERSION: &str = "20.0.24";

/// Models whose prices in ANYON's table differ from ccusage's (ANYON follows what the CLI charges).
pub(crate) const PRICES_DIFFER: &[&str] = &["claude-sonnet-5"];

pub(crate) fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/transcripts")
}

pub(crate) fn copy_tree(from: &Path, to: &Path) {
    for entry in walk(from) {
        let target = to.join(entry.strip_prefix(from).unwrap());
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::copy(&entry, &target).unwrap();
    }
}

pub(crate) fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

fn jsonl_files(dir: &Path) -> Vec<PathBuf> {
    walk(dir)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
        .collect()
}

/// A backend reading `config/projects`.
pub(crate) struct Rig {
    pub(crate) runtime: tokio::runtime::Runtime,
    pub(crate) home: TempHome,
    pub(crate) config: tempfile::TempDir,
    pub(crate) backend: Backend,
    pub(crate) events: anyon::backend::EventReceiver,
}

impl Rig {
    pub(crate) fn new() -> Self {
        let runtime = support::runtime();
        let home = TempHome::new();
        let config = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(config.path().join("projects")).unwrap();
        let (backend, events) = support::backend(&runtime, &home);
        backend.set_projects_root(config.path().join("projects"));
        Rig {
            runtime,
            home,
            config,
            backend,
            events,
        }
    }

    pub(crate) fn projects(&self) -> PathBuf {
        self.config.path().join("projects")
    }

    pub(crate) fn run<Q>(&self, request: Q) -> Q::Reply
    where
        Q: Ask,
        Command: From<Q::Request>,
        Q::Replies: Replies,
    {
        self.runtime
            .block_on(self.backend.call(request))
            .unwrap_or_else(|e| panic!("command failed: {e}"))
    }

    fn scan(&self) -> ScanStats {
        self.run(RefreshHistory)
    }

    fn totals(&self) -> anyon::domain::transcripts::report::Tally {
        self.run(UsageReport {
            range: UsageRange {
                timezone: Some("UTC".into()),
                fresh: true,
                ..Default::default()
            },
            sessions: false,
        })
        .totals
        .clone()
    }

    /// `anyon <args>` against this rig's transcripts, parsed as JSON.
    pub(crate) fn cli_json(&self, args: &[&str]) -> Value {
        let output = self
            .home
            .anyon_command(args)
            .env("CLAUDE_CONFIG_DIR", self.config.path())
            .env("TZ", "UTC")
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "anyon {args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_slice(&output.stdout).unwrap_or_else(|e| panic!("anyon {args:?} printed no JSON: {e}"))
    }
}

/// Lines no JSON parser accepts as an object: what ANYON must skip and count.
fn malformed_lines(files: &[PathBuf]) -> u64 {
    let mut n = 0;
    for f in files {
        let bytes = std::fs::read(f).unwrap();
        for line in bytes.split(|b| *b == b'\n') {
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            if !matches!(serde_json::from_slice::<Value>(line), Ok(Value::Object(_))) {
                n += 1;
            }
        }
    }
    n
}

#[test]
fn every_sample_transcript_is_read_and_its_malformed_lines_counted() {
    let rig = Rig::new();
    copy_tree(&fixtures().join("projects"), &rig.projects());
    let files = jsonl_files(&rig.projects());
    let stats = rig.scan();
    assert_eq!(stats.files, files.len());
    assert_eq!(stats.new, files.len());
    assert_eq!(stats.unreadable, 0);
    let expected = malformed_lines(&files);
    assert!(expected > 0, "the corpus has malformed lines");
    assert_eq!(stats.malformed, expected);

    let projects = rig.run(ListProjects);
    // The real path comes from `cwd`, not from the folder name.
    let alpha = projects
        .iter()
        .find(|p| p.path == "/home/ada/work/alpha-app")
        .expect("alpha-app");
    assert_eq!(alpha.folder, "-home-ada-work-alpha-app");
    assert_eq!(alpha.sessions, 4);
    for pair in projects.windows(2) {
        assert!(
            pair[0].last_activity_ms >= pair[1].last_activity_ms,
            "sorted by activity"
        );
    }
    let sessions = rig
        .run(GetProjectSessions {
            project_path: "/home/ada/work/alpha-app".into(),
            filter: String::new(),
            offset: 0,
            limit: None,
            fresh: true,
        })
        .sessions;
    let with_agent = sessions
        .iter()
        .find(|s| s.session_id == "0987728c-1b59-44fd-a3a6-d96e6881065d")
        .unwrap();
    assert_eq!(with_agent.subagents, 1, "the subagent file is attached to its session");
    assert_eq!(with_agent.files.len(), 2);
    assert!(with_agent.models.iter().any(|m| m.starts_with("claude-haiku")));
    assert!(with_agent.first_activity_ms <= with_agent.last_activity_ms);
    assert!(sessions.iter().all(|s| !s.title.is_empty()));
    // A session's title is the first prompt typed when nothing better exists.
    let spotter = rig
        .run(GetProjectSessions {
            project_path: "-home-marco-projects-spotter".into(),
            filter: String::new(),
            offset: 0,
            limit: None,
            fresh: true,
        })
        .sessions;
    assert_eq!(spotter.iter().filter(|s| s.subagents > 0).count(), 2);
    assert!(spotter.iter().all(|s| s.git_branch.is_some()));
    // Paging a session reads it in order, never past the end, and refuses paths outside the folder.
    let file = with_agent.files[0].clone();
    let mut offset = 0;
    let mut lines = Vec::new();
    loop {
        let page = rig.run(ReadSessionPage {
            file: file.clone(),
            offset,
            max_lines: 3,
        });
        assert!(page.lines.len() <= 3);
        lines.extend(page.lines.iter().map(|line| line.raw.to_string()));
        offset = page.next_offset;
        if page.eof {
            break;
        }
    }
    let whole = std::fs::read_to_string(rig.projects().join(&file)).unwrap();
    assert_eq!(lines, whole.lines().collect::<Vec<_>>());
    let escape = rig.runtime.block_on(rig.backend.execute(ReadSessionPage {
        file: "../../etc/passwd".into(),
        offset: 0,
        max_lines: 3,
    }));
    assert!(escape.is_err());
}

/// A copy ccusage reads as ANYON reads the original: lines Claude wrote with spaced separators are
/// written compactly and `"speed":null` is dropped (ccusage skips such lines; ANYON counts them, as they
/// are real usage).
pub(crate) fn normalized_for_ccusage(from: &Path, to: &Path) {
    for file in walk(from) {
        let target = to.join(file.strip_prefix(from).unwrap());
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        let bytes = std::fs::read(&file).unwrap();
        let mut out = Vec::with_capacity(bytes.len());
        for (i, line) in bytes.split(|b| *b == b'\n').enumerate() {
            if i > 0 {
                out.push(b'\n');
            }
            let text = String::from_utf8_lossy(line);
            let mut rewritten = None;
            if text.contains("\"usage\"")
                && let Ok(mut value) = serde_json::from_slice::<Value>(line)
            {
                let mut changed = !text.contains("\"usage\":{");
                if let Some(usage) = value.pointer_mut("/message/usage").and_then(Value::as_object_mut)
                    && usage.get("speed") == Some(&Value::Null)
                {
                    usage.remove("speed");
                    changed = true;
                }
                if changed {
                    rewritten = Some(serde_json::to_vec(&value).unwrap());
                }
            }
            out.extend_from_slice(rewritten.as_deref().unwrap_or(line));
        }
        std::fs::write(&target, out).unwrap();
    }
}

pub(crate) fn ccusage(config: &Path, kind: &str) -> Value {
    ccusage_with(config, &[kind])
}

/// `ccusage claude <args> --json --offline` in UTC on `config`'s transcripts.
pub(crate) fn ccusage_with(config: &Path, args: &[&str]) -> Value {
    let bin = npm::install("ccusage", "ccusage", CCUSAGE_VERSION, "ccusage").expect("ccusage from npm");
    let output = std::process::Command::new(bin)
        .arg("claude")
        .args(args)
        .args(["--json", "--offline"])
        .env("TZ", "UTC")
        .env("CLAUDE_CONFIG_DIR", config)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "ccusage: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

const TOKEN_FIELDS: &[&str] = &[
    "inputTokens",
    "outputTokens",
    "cacheCreationTokens",
    "cacheReadTokens",
    "totalTokens",
];

pub(crate) fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

/// Compares one row (day, month or session) of ANYON's report with ccusage's: tokens always, the models
/// used as a set, each model's tokens, and (when `costs`) costs where the price tables agree.
fn compare_row(what: &str, ours: &Value, theirs: &Value, costs: bool) {
    for field in TOKEN_FIELDS {
        assert_eq!(ours[field], theirs[field], "{what}: {field}");
    }
    let set = |v: &Value| -> BTreeSet<String> {
        v["modelsUsed"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m.as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(set(ours), set(theirs), "{what}: modelsUsed");
    let by_model = |v: &Value| -> BTreeMap<String, Value> {
        v["modelBreakdowns"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| (m["modelName"].as_str().unwrap().to_string(), m.clone()))
            .collect()
    };
    let (ours_m, theirs_m) = (by_model(ours), by_model(theirs));
    assert_eq!(
        ours_m.keys().collect::<Vec<_>>(),
        theirs_m.keys().collect::<Vec<_>>(),
        "{what}: modelBreakdowns"
    );
    let mut prices_agree = true;
    for (model, o) in &ours_m {
        let t = &theirs_m[model];
        for field in &TOKEN_FIELDS[..4] {
            assert_eq!(o[field], t[field], "{what}: {model} {field}");
        }
        assert_eq!(
            o.get("missingPricing"),
            t.get("missingPricing"),
            "{what}: {model} unpriced"
        );
        if !costs || PRICES_DIFFER.iter().any(|m| model.starts_with(m)) {
            prices_agree = false;
            continue;
        }
        let (a, b) = (o["cost"].as_f64().unwrap(), t["cost"].as_f64().unwrap());
        assert!(close(a, b), "{what}: {model} cost {a} vs ccusage {b}");
    }
    if costs && prices_agree {
        let (a, b) = (
            ours["totalCost"].as_f64().unwrap(),
            theirs["totalCost"].as_f64().unwrap(),
        );
        assert!(close(a, b), "{what}: totalCost {a} vs ccusage {b}");
    }
}

pub(crate) fn compare_reports(
    ours: &Value,
    theirs: &Value,
    list: &str,
    key: &[&str],
    skip: &BTreeSet<String>,
    costs: bool,
) -> usize {
    let keyed = |v: &Value| -> BTreeMap<String, Value> {
        v[list]
            .as_array()
            .unwrap_or_else(|| panic!("no {list} in {v}"))
            .iter()
            .map(|row| {
                (
                    key.iter().map(|k| row[k].to_string()).collect::<Vec<_>>().join("/"),
                    row.clone(),
                )
            })
            .filter(|(k, _)| !skip.contains(k))
            .collect()
    };
    let (ours, theirs) = (keyed(ours), keyed(theirs));
    assert_eq!(
        ours.keys().collect::<Vec<_>>(),
        theirs.keys().collect::<Vec<_>>(),
        "{list}: the same rows"
    );
    for (k, row) in &ours {
        compare_row(&format!("{list} {k}"), row, &theirs[k], costs);
    }
    ours.len()
}

fn compare_totals(ours: &Value, theirs: &Value) {
    for field in TOKEN_FIELDS {
        assert_eq!(ours["totals"][field], theirs["totals"][field], "totals: {field}");
    }
}

/// Sessions whose transcripts relay a subagent's responses in `agent_progress` lines. ccusage 20.0.24
/// counts those lines in its daily report only, not in its monthly or session reports, so its own reports
/// disagree there; ANYON counts them everywhere (they are real usage), and equals ccusage's daily report.
fn relaying_sessions(projects: &Path) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for file in jsonl_files(projects) {
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        if text
            .lines()
            .any(|l| l.contains("\"agent_progress\"") && l.contains("\"usage\":{"))
        {
            let rel = file.strip_prefix(projects).unwrap();
            let project = rel
                .components()
                .next()
                .unwrap()
                .as_os_str()
                .to_string_lossy()
                .to_string();
            let session = file.file_stem().unwrap().to_string_lossy().to_string();
            out.insert(format!("{}/{}", Value::from(session), Value::from(project)));
        }
    }
    out
}

/// ANYON's `usage daily|monthly|session --json` against ccusage's on the same transcripts. Days: every
/// token field and model, costs where the price tables agree. Sessions: tokens (among lines of one
/// response with equal tokens ccusage's session and monthly reports keep the first, its daily report the
/// costliest; ANYON follows the daily report). Months: tokens, where no transcript relays subagent
/// responses.
fn assert_equal_to_ccusage(rig: &Rig) -> usize {
    let normalized = tempfile::tempdir().unwrap();
    normalized_for_ccusage(&rig.projects(), &normalized.path().join("projects"));
    let ours = rig.cli_json(&["usage", "daily", "--json"]);
    let theirs = ccusage(normalized.path(), "daily");
    let days = compare_reports(&ours, &theirs, "daily", &["date"], &BTreeSet::new(), true);
    compare_totals(&ours, &theirs);
    let relaying = relaying_sessions(&rig.projects());
    if relaying.is_empty() {
        let ours = rig.cli_json(&["usage", "monthly", "--json"]);
        let theirs = ccusage(normalized.path(), "monthly");
        compare_reports(&ours, &theirs, "monthly", &["month"], &BTreeSet::new(), false);
    }
    compare_reports(
        &rig.cli_json(&["usage", "session", "--json"]),
        &ccusage(normalized.path(), "session"),
        "sessions",
        &["sessionId", "projectPath"],
        &relaying,
        false,
    );
    days
}

#[test]
fn usage_equals_ccusage_on_the_sample_transcripts() {
    let rig = Rig::new();
    copy_tree(&fixtures().join("projects"), &rig.projects());
    let days = assert_equal_to_ccusage(&rig);
    assert!(days >= 8, "the samples span many days ({days})");
    // A date range keeps only its days.
    let ranged = rig.cli_json(&["usage", "daily", "--json", "--since", "20260201", "--until", "20260228"]);
    let days: Vec<&str> = ranged["daily"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["date"].as_str().unwrap())
        .collect();
    assert!(!days.is_empty());
    assert!(days.iter().all(|d| d.starts_with("2026-02")), "{days:?}");
    // Unknown models are unpriced, not free.
    let all = rig.cli_json(&["usage", "daily", "--json"]);
    assert!(
        all["totals"]["unpricedModels"]
            .as_array()
            .unwrap()
            .contains(&Value::from("claude-imaginary-9"))
    );
}

#[test]
fn usage_equals_ccusage_on_a_generated_tree_of_thousands_of_sessions() {
    let rig = Rig::new();
    let bytes = transcripts::generate(
        &rig.projects(),
        &transcripts::Shape {
            projects: 25,
            sessions: 2_500,
            responses: 6,
            payload: 120,
            seed: 42,
        },
    );
    assert!(bytes > 5_000_000);
    if let Some(keep) = std::env::var_os("ANYON_KEEP_TREE") {
        copy_tree(&rig.projects(), &PathBuf::from(keep).join("projects"));
    }
    let days = assert_equal_to_ccusage(&rig);
    assert!(days >= 50, "{days} days");
}

#[test]
fn the_index_reads_only_what_changed() {
    let rig = Rig::new();
    transcripts::generate(
        &rig.projects(),
        &transcripts::Shape {
            projects: 3,
            sessions: 30,
            responses: 4,
            payload: 50,
            seed: 7,
        },
    );
    let first = rig.scan();
    assert_eq!(first.new, first.files);
    let before = rig.totals();
    // Nothing changed: nothing is read.
    let again = rig.scan();
    assert_eq!((again.unchanged, again.bytes_read), (again.files, 0));

    // Append a response to one session: only the appended bytes are read.
    let files = jsonl_files(&rig.projects());
    let target = files
        .iter()
        .find(|f| !f.to_string_lossy().contains("subagents"))
        .unwrap();
    let appended = format!(
        "{}\n",
        serde_json::json!({"type":"assistant","timestamp":"2026-03-05T10:00:00.000Z","requestId":"req_new",
            "sessionId":"x","message":{"id":"msg_new","model":"claude-opus-4-6",
            "usage":{"input_tokens":1000,"output_tokens":500}}})
    );
    std::fs::OpenOptions::new()
        .append(true)
        .open(target)
        .unwrap()
        .write_all(appended.as_bytes())
        .unwrap();
    let stats = rig.scan();
    assert_eq!(stats.appended, 1);
    assert_eq!(stats.unchanged, stats.files - 1);
    assert_eq!(stats.bytes_read, appended.len() as u64, "only the new line is read");
    let after = rig.totals();
    assert_eq!(after.input, before.input + 1000);
    assert_eq!(after.output, before.output + 500);

    // A file replaced by a shorter one is read again from the start.
    let shorter = "{\"type\":\"assistant\",\"timestamp\":\"2026-03-06T10:00:00.000Z\",\"message\":{\"id\":\"m_only\",\"model\":\"claude-opus-4-6\",\"usage\":{\"input_tokens\":7,\"output_tokens\":3}}}\n";
    std::fs::write(target, shorter).unwrap();
    let stats = rig.scan();
    assert_eq!(stats.reindexed, 1);
    assert_eq!(stats.bytes_read, shorter.len() as u64);
    let session_of_target = target.file_stem().unwrap().to_string_lossy().to_string();
    let report = rig.cli_json(&["usage", "session", "--json"]);
    let row = report["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["sessionId"] == session_of_target.as_str())
        .expect("the rewritten session");
    assert_eq!(row["inputTokens"], 7);
    assert_eq!(row["totalTokens"], 10);

    // A deleted session disappears from its project and from usage.
    std::fs::remove_file(target).unwrap();
    let stats = rig.scan();
    assert_eq!(stats.removed, 1);
    let folder = target
        .parent()
        .unwrap()
        .file_name()
        .unwrap()
        .to_string_lossy()
        .to_string();
    let left = rig
        .run(GetProjectSessions {
            project_path: folder.into(),
            filter: String::new(),
            offset: 0,
            limit: None,
            fresh: true,
        })
        .sessions;
    assert!(left.iter().all(|s| s.session_id != session_of_target));
    let report = rig.cli_json(&["usage", "session", "--json"]);
    assert!(
        report["sessions"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["sessionId"] != session_of_target.as_str())
    );
}

#[test]
fn the_watcher_keeps_the_catalog_current() {
    let mut rig = Rig::new();
    let dir = rig.projects().join("-home-ada-live");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("11111111-aaaa-4bbb-8ccc-000000000001.jsonl");
    let line = |n: u64| {
        format!(
            "{}\n",
            serde_json::json!({"type":"assistant","timestamp":format!("2026-04-01T10:00:{n:02}.000Z"),
                "cwd":"/home/ada/live","sessionId":"11111111-aaaa-4bbb-8ccc-000000000001",
                "requestId":format!("req_{n}"),"message":{"id":format!("msg_{n}"),"model":"claude-opus-4-6",
                "usage":{"input_tokens":100,"output_tokens":10}}})
        )
    };
    std::fs::write(&file, line(1)).unwrap();
    rig.backend.start_history(true);
    let tokens = |rig: &mut Rig| -> Option<u64> {
        let mut latest = None;
        rig.events.drain(Duration::from_millis(50), |event| {
            if let Event::HistoryUpdated(catalog) = event {
                latest = Some(catalog.report.totals.total());
            }
        });
        latest
    };
    let mut seen = 0;
    support::wait_for("the first catalog", Duration::from_secs(30), || {
        if let Some(t) = tokens(&mut rig) {
            seen = t;
        }
        (seen == 110).then_some(())
    });
    std::fs::OpenOptions::new()
        .append(true)
        .open(&file)
        .unwrap()
        .write_all(line(2).as_bytes())
        .unwrap();
    support::wait_for("the appended line", Duration::from_secs(30), || {
        if let Some(t) = tokens(&mut rig) {
            seen = t;
        }
        (seen == 220).then_some(())
    });
    rig.backend.stop_history();
}

#[test]
fn projects_and_sessions_from_the_command_line() {
    let rig = Rig::new();
    copy_tree(
        &fixtures().join("projects/-home-ada-work-beta-lib"),
        &rig.projects().join("-home-ada-work-beta-lib"),
    );
    let projects = rig.cli_json(&["projects", "list", "--json"]);
    let list = projects.as_array().unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["path"], "/home/ada/work/beta-lib");
    assert_eq!(list[0]["sessions"], 3);
    let sessions = rig.cli_json(&["sessions", "list", "--project", "/home/ada/work/beta-lib", "--json"]);
    let sessions = sessions.as_array().unwrap();
    assert_eq!(sessions.len(), 3);
    for s in sessions {
        assert!(s["sessionId"].as_str().unwrap().len() == 36);
        assert!(s["title"].as_str().is_some_and(|t| !t.is_empty()));
        assert!(s["totalTokens"].as_u64().unwrap() > 0);
    }
    // An unknown project is a clear error, not an empty list.
    let output = rig
        .home
        .anyon_command(&["sessions", "list", "--project", "/nowhere", "--json"])
        .env("CLAUDE_CONFIG_DIR", rig.config.path())
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("/nowhere"));
    // A new project appears at once, before Claude ever ran there.
    let new_dir = rig.config.path().join("fresh-project");
    let added = rig.cli_json(&["projects", "add", new_dir.to_str().unwrap(), "--json"]);
    assert_eq!(added["sessions"], 0);
    assert!(new_dir.is_dir());
    let projects = rig.cli_json(&["projects", "list", "--json"]);
    assert_eq!(projects.as_array().unwrap().len(), 2);
}

/// Equal as JSON, costs up to the last digit JSON keeps of them (the snapshot went through JSON).
fn assert_same<T: serde::Serialize>(a: &T, b: &T) {
    fn same(a: &Value, b: &Value) -> bool {
        match (a, b) {
            (Value::Number(x), Value::Number(y)) => match (x.as_f64(), y.as_f64()) {
                _ if x == y => true,
                (Some(x), Some(y)) => (x - y).abs() <= 1e-12 * x.abs().max(y.abs()),
                _ => false,
            },
            (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same(x, y)),
            (Value::Object(x), Value::Object(y)) => {
                x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
            }
            _ => a == b,
        }
    }
    let (a, b) = (serde_json::to_value(a).unwrap(), serde_json::to_value(b).unwrap());
    assert!(same(&a, &b), "differ:\n{a}\n{b}");
}

/// The next catalog the backend pushes.
fn next_catalog(
    runtime: &tokio::runtime::Runtime,
    events: &mut anyon::backend::EventReceiver,
) -> std::sync::Arc<anyon::domain::transcripts::catalog::Catalog> {
    runtime
        .block_on(async {
            tokio::time::timeout(Duration::from_secs(60), async {
                loop {
                    match events.recv().await {
                        Some(Event::HistoryUpdated(catalog)) => return catalog,
                        Some(_) => {}
                        None => panic!("the backend closed"),
                    }
                }
            })
            .await
        })
        .expect("a catalog within a minute")
}

fn usage(
    rig: &Rig,
    backend: &Backend,
    range: UsageRange,
) -> std::sync::Arc<anyon::domain::transcripts::report::Report> {
    rig.runtime
        .block_on(backend.call(UsageReport { range, sessions: false }))
        .unwrap()
}

#[test]
fn a_warm_start_shows_the_saved_first_screen_then_the_whole_index() {
    let mut rig = Rig::new();
    transcripts::generate(
        &rig.projects(),
        &transcripts::Shape {
            projects: 3,
            sessions: 24,
            responses: 4,
            payload: 50,
            seed: 11,
        },
    );
    // The first start reads everything; its catalog is saved for the next one.
    rig.backend.start_history(false);
    let first = next_catalog(&rig.runtime, &mut rig.events);
    assert!(!first.partial);
    let utc = UsageRange {
        timezone: Some("UTC".into()),
        ..Default::default()
    };
    let first_utc = usage(&rig, &rig.backend, utc.clone());
    let sessions_of = |backend: &Backend, project: &str| {
        let list = rig
            .runtime
            .block_on(backend.call(GetProjectSessions {
                project_path: project.into(),
                filter: String::new(),
                offset: 0,
                limit: None,
                fresh: false,
            }))
            .unwrap();
        assert_eq!(list.total, list.sessions.len());
        list.sessions
    };
    let first_sessions: Vec<_> = first
        .projects
        .iter()
        .map(|p| sessions_of(&rig.backend, &p.path))
        .collect();
    let all_sessions: usize = first.projects.iter().map(|p| p.sessions).sum();
    assert_eq!(first_sessions.iter().map(Vec::len).sum::<usize>(), all_sessions);
    rig.backend.stop_history();

    // The next start: the saved first screen at once and the usage totals from it; with nothing changed,
    // the scan that follows keeps it (no usage record is read again).
    let start = |rig: &Rig| {
        let (backend, events) = support::backend(&rig.runtime, &rig.home);
        backend.set_projects_root(rig.projects());
        backend.start_history(false);
        (backend, events)
    };
    let (backend, mut events) = start(&rig);
    let shown = next_catalog(&rig.runtime, &mut events);
    assert!(shown.partial, "the snapshot is shown first");
    assert_same(&shown.projects, &first.projects);
    let shown_sessions: Vec<_> = shown.projects.iter().map(|p| sessions_of(&backend, &p.path)).collect();
    assert_same(&shown_sessions, &first_sessions);
    assert_same(&*shown.report, &*first.report);
    // The sessions grouping is read from beside the saved first screen when asked for: the same rows as
    // counting every record again (a range that is not all time in the local zone).
    let with_sessions = |range: UsageRange| {
        rig.runtime
            .block_on(backend.call(UsageReport { range, sessions: true }))
            .unwrap()
    };
    let saved = with_sessions(UsageRange::default());
    assert!(shown.report.sessions.is_empty(), "the first screen holds no session");
    assert!(!saved.sessions.is_empty());
    let counted = with_sessions(UsageRange {
        since: Some("19700102".into()),
        ..Default::default()
    });
    assert_same(&saved.sessions, &counted.sessions);
    assert_same(&*usage(&rig, &backend, UsageRange::default()), &*first.report);
    // Another range needs the records: it is streamed from the index, not taken from the snapshot.
    assert_eq!(*usage(&rig, &backend, utc.clone()), *first_utc);
    rig.runtime.block_on(backend.call(RefreshHistory)).unwrap();
    let mut later = 0;
    events.drain(Duration::from_millis(300), |event| {
        if matches!(event, Event::HistoryUpdated(_)) {
            later += 1;
        }
    });
    assert_eq!(later, 0, "nothing changed: the snapshot's catalog stays");
    backend.stop_history();
    drop(backend);

    // A snapshot made with other prices (or of another index) is not shown.
    let mut table = anyon::domain::transcripts::prices::PriceTable::built_in();
    table.version = format!("{} (edited)", table.version);
    std::fs::write(
        rig.home.paths().root().join("prices.json"),
        serde_json::to_string(&table).unwrap(),
    )
    .unwrap();
    let (backend, mut events) = start(&rig);
    let shown = next_catalog(&rig.runtime, &mut events);
    assert!(!shown.partial, "a stale snapshot is ignored");
    assert_same(&shown.projects, &first.projects);
    backend.stop_history();
}

/// `anyon usage daily --json` on a fresh data folder reading `config`: its totals and its peak RSS in KiB.
fn measured_usage(config: &Path) -> (Value, u64) {
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

/// The cold index and its usage report stream the records out of SQLite: four times the sessions (files of
/// the same size over the same days), so four times the records, cost no more memory than a small fixed
/// margin (the catalog's rows per session are small).
#[test]
fn peak_memory_does_not_grow_with_the_number_of_records() {
    let tree = |sessions: usize| {
        let config = tempfile::tempdir().unwrap();
        transcripts::generate(
            &config.path().join("projects"),
            &transcripts::Shape {
                projects: 4,
                sessions,
                responses: 150,
                payload: 20,
                seed: 5,
            },
        );
        config
    };
    let (small, large) = (tree(150), tree(600));
    let (small_totals, small_rss) = measured_usage(small.path());
    let (large_totals, large_rss) = measured_usage(large.path());
    let tokens = |t: &Value| t["totalTokens"].as_u64().unwrap();
    assert!(
        tokens(&large_totals) > 3 * tokens(&small_totals),
        "{small_totals} {large_totals}"
    );
    assert!(
        large_rss < small_rss + 8 * 1024,
        "peak RSS {} KiB for four times the records of a run that peaked at {} KiB",
        large_rss,
        small_rss
    );
}

/// A project's sessions are read a page at a time from the index, in the order of the whole list (most
/// recent first), and filtered by the query rather than in memory.
#[test]
fn sessions_are_paged_and_filtered_by_query() {
    let rig = Rig::new();
    transcripts::generate(
        &rig.projects(),
        &transcripts::Shape {
            projects: 2,
            sessions: 260,
            responses: 1,
            payload: 10,
            seed: 5,
        },
    );
    let projects = rig.run(ListProjects);
    let project = projects[0].path.clone();
    let ask = |filter: &str, offset: usize, limit: Option<usize>| {
        rig.run(GetProjectSessions {
            project_path: project.clone().into(),
            filter: filter.into(),
            offset,
            limit,
            fresh: false,
        })
    };
    let all = ask("", 0, None);
    assert_eq!(all.total, projects[0].sessions);
    assert_eq!(all.sessions.len(), all.total);
    for pair in all.sessions.windows(2) {
        assert!(
            (pair[0].last_activity_ms, std::cmp::Reverse(&pair[0].session_id))
                >= (pair[1].last_activity_ms, std::cmp::Reverse(&pair[1].session_id)),
            "most recent first, then by id"
        );
    }
    let mut paged = Vec::new();
    for offset in (0..all.total + 100).step_by(100) {
        let page = ask("", offset, Some(100));
        assert_eq!(page.total, all.total);
        assert_eq!(page.offset, offset);
        assert!(page.sessions.len() <= 100);
        paged.extend(page.sessions);
    }
    assert_eq!(paged, all.sessions, "the pages make the whole list");

    // A filter matches words of the title in any case, or part of the id.
    let expect = |needle: &str| -> Vec<String> {
        all.sessions
            .iter()
            .filter(|s| s.title.to_lowercase().contains(needle) || s.session_id.contains(needle))
            .map(|s| s.session_id.clone())
            .collect()
    };
    let ids = |list: anyon::domain::transcripts::snapshot::SessionList| -> Vec<String> {
        list.sessions.into_iter().map(|s| s.session_id).collect()
    };
    let filtered = ask("TASK 12", 0, None);
    assert!(filtered.total > 1 && filtered.total < all.total);
    assert_eq!(ids(filtered), expect("task 12"));
    let second = ask("Task 12", 1, Some(3));
    let expected = expect("task 12");
    assert_eq!(ids(second), expected[1..expected.len().min(4)].to_vec());
    let one = &all.sessions[77].session_id;
    assert_eq!(ids(ask(&one[..13], 0, None)), vec![one.clone()]);
    assert_eq!(ask("no such words", 0, None).total, 0);

    // An unknown project is an error that names it.
    let error = rig
        .runtime
        .block_on(rig.backend.call(GetProjectSessions {
            project_path: "/nowhere/at/all".into(),
            filter: String::new(),
            offset: 0,
            limit: None,
            fresh: false,
        }))
        .unwrap_err();
    assert!(error.to_string().contains("/nowhere/at/all"), "{error}");
}
