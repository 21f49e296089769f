//! 5-hour billing blocks and weekly totals against ccusage 20.0.24, the active block's burn rate and
//! projection, the blocks view of the Usage screen, and Claude's `rate_limit_event` in the chat and on the
//! Usage screen.

use std::collections::BTreeSet;
use std::path::Path;

use anyon::app::{AnyonApp, StartOptions};
use anyon::backend::command::{ClaudeRunRequest, UsageRange};
use anyon::backend::event::Event;
use anyon::domain::claude::requests::ExecuteClaudeCode;
use anyon::domain::claude::stream::{ParsedLine, StreamMessage, parse_line};
use anyon::domain::transcripts::requests::UsageBlocks;
use anyon::state::ChatSession;
use anyon::state::nav::Screen;
use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use serde_json::{Value, json};

use crate::history::{
    PRICES_DIFFER, Rig, ccusage, ccusage_with, close, compare_reports, copy_tree, fixtures, normalized_for_ccusage,
    walk,
};
use crate::support::claude::{Sandbox, require_claude_bin};
use crate::support::mock_api::{MockApi, Script};
use crate::support::transcripts;
use crate::support::ui::{settle, shows};
use crate::support::{self, TempHome};

/// Compares every field both compute without depending on the clock: ids, times, gaps, entries, tokens,
/// models (as sets), and costs where the price tables agree.
fn assert_blocks_equal(ours: &Value, theirs: &Value) -> usize {
    let (ours, theirs) = (ours["blocks"].as_array().unwrap(), theirs["blocks"].as_array().unwrap());
    let ids = |v: &[Value]| {
        v.iter()
            .map(|b| b["id"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(ids(ours), ids(theirs), "the same blocks");
    for (o, t) in ours.iter().zip(theirs) {
        let id = o["id"].as_str().unwrap();
        for field in [
            "startTime",
            "endTime",
            "actualEndTime",
            "isGap",
            "entries",
            "tokenCounts",
            "totalTokens",
        ] {
            assert_eq!(o[field], t[field], "block {id}: {field}");
        }
        let models = |v: &Value| -> BTreeSet<String> {
            v["models"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| m.as_str().unwrap().to_string())
                .collect()
        };
        assert_eq!(models(o), models(t), "block {id}: models");
        if !models(o).iter().any(|m| PRICES_DIFFER.iter().any(|p| m.starts_with(p))) {
            let (a, b) = (o["costUSD"].as_f64().unwrap(), t["costUSD"].as_f64().unwrap());
            assert!(close(a, b), "block {id}: costUSD {a} vs ccusage {b}");
        }
    }
    ours.len()
}

fn blocks_equal_ccusage(rig: &Rig) -> usize {
    let normalized = tempfile::tempdir().unwrap();
    normalized_for_ccusage(&rig.projects(), &normalized.path().join("projects"));
    let ours = rig.cli_json(&["usage", "blocks", "--json"]);
    let theirs = ccusage(normalized.path(), "blocks");
    assert_blocks_equal(&ours, &theirs)
}

/// The samples without the `agent_progress` lines that relay a subagent's responses: ccusage 20.0.24
/// counts those in its daily report only (not in `blocks`, `weekly`, `monthly` or `session`), ANYON
/// everywhere, as they are real usage.
fn samples_without_relayed_usage(to: &Path) {
    copy_tree(&fixtures().join("projects"), to);
    for file in walk(to) {
        let text = std::fs::read_to_string(&file).unwrap();
        if text.contains("\"agent_progress\"") {
            let kept: Vec<&str> = text
                .lines()
                .filter(|l| !(l.contains("\"agent_progress\"") && l.contains("\"usage\":{")))
                .collect();
            std::fs::write(&file, kept.join("\n") + "\n").unwrap();
        }
    }
}

#[test]
fn blocks_equal_ccusage_on_the_sample_transcripts() {
    let rig = Rig::new();
    samples_without_relayed_usage(&rig.projects());
    let blocks = blocks_equal_ccusage(&rig);
    assert!(blocks >= 10, "the samples span many blocks ({blocks})");
    // A range keeps the blocks (gaps too) that start on its days, cut as they are without one.
    let normalized = tempfile::tempdir().unwrap();
    normalized_for_ccusage(&rig.projects(), &normalized.path().join("projects"));
    for range in [["--since", "20260211"], ["--until", "20260211"]] {
        let ours = rig.cli_json(&[&["usage", "blocks", "--json"][..], &range[..]].concat());
        let theirs = ccusage_with(normalized.path(), &[&["blocks"][..], &range[..]].concat());
        assert_blocks_equal(&ours, &theirs);
    }
    let ranged = rig.cli_json(&[
        "usage", "blocks", "--json", "--since", "20260201", "--until", "20260228",
    ]);
    let starts: Vec<&str> = ranged["blocks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["startTime"].as_str().unwrap())
        .collect();
    assert!(!starts.is_empty());
    assert!(starts.iter().all(|s| s.starts_with("2026-02")), "{starts:?}");
}

#[test]
fn blocks_equal_ccusage_on_a_generated_tree() {
    let rig = Rig::new();
    transcripts::generate(
        &rig.projects(),
        &transcripts::Shape {
            projects: 8,
            sessions: 400,
            responses: 6,
            payload: 40,
            seed: 7,
        },
    );
    let blocks = blocks_equal_ccusage(&rig);
    assert!(blocks >= 50, "{blocks} blocks");
    // Streamed from the index (the command line) or taken from the window's loaded catalog: the same.
    let ask = |fresh: bool| {
        rig.run(UsageBlocks {
            range: UsageRange {
                fresh,
                ..UsageRange::default()
            },
        })
    };
    let streamed = ask(true);
    rig.run(anyon::domain::transcripts::requests::UsageReport {
        range: UsageRange {
            fresh: true,
            ..UsageRange::default()
        },
        sessions: false,
    });
    let loaded = ask(false);
    assert_eq!(streamed.blocks.len(), loaded.blocks.len());
    for (a, b) in streamed.blocks.iter().zip(&loaded.blocks) {
        assert_eq!(
            (a.start_ms, a.end_ms, a.gap, a.entries, a.tally.total(), &a.models),
            (b.start_ms, b.end_ms, b.gap, b.entries, b.tally.total(), &b.models)
        );
        assert!(
            close(a.tally.cost, b.tally.cost),
            "{} vs {}",
            a.tally.cost,
            b.tally.cost
        );
    }
}

#[test]
fn weekly_equals_ccusage_on_the_sample_transcripts() {
    let rig = Rig::new();
    samples_without_relayed_usage(&rig.projects());
    let normalized = tempfile::tempdir().unwrap();
    normalized_for_ccusage(&rig.projects(), &normalized.path().join("projects"));
    let ours = rig.cli_json(&["usage", "weekly", "--json"]);
    let theirs = ccusage(normalized.path(), "weekly");
    let weeks = compare_reports(&ours, &theirs, "weekly", &["week"], &BTreeSet::new(), true);
    assert!(weeks >= 5, "{weeks} weeks");
    // Weeks from Monday: every key is a Monday.
    let monday = rig.cli_json(&["usage", "weekly", "--json", "--start-of-week", "monday"]);
    for week in monday["weekly"].as_array().unwrap() {
        let day = chrono::NaiveDate::parse_from_str(week["week"].as_str().unwrap(), "%Y-%m-%d").unwrap();
        assert_eq!(chrono::Datelike::weekday(&day), chrono::Weekday::Mon);
    }
}

/// One assistant line of a transcript, `minutes_ago` before now.
fn line(now: chrono::DateTime<chrono::Utc>, minutes_ago: i64, id: &str, input: u64, output: u64) -> String {
    let ts = now - chrono::Duration::minutes(minutes_ago);
    json!({
        "type": "assistant",
        "sessionId": "0000aaaa-0000-4000-8000-000000000001",
        "cwd": "/work/live",
        "timestamp": ts.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
        "requestId": format!("req_{id}"),
        "message": {
            "id": format!("msg_{id}"),
            "role": "assistant",
            "model": "claude-sonnet-4-5-20250929",
            "content": [{"type": "text", "text": "ok"}],
            "usage": {"input_tokens": input, "output_tokens": output,
                      "cache_creation_input_tokens": 0, "cache_read_input_tokens": 1000}
        }
    })
    .to_string()
}

/// A session with requests 90 and 30 minutes ago (one block, still running), and an older one.
fn live_transcripts(projects: &Path) {
    let now = chrono::Utc::now();
    let dir = projects.join("-work-live");
    std::fs::create_dir_all(&dir).unwrap();
    let lines = [
        line(now, 60 * 30, "old", 10, 10),
        line(now, 90, "a", 3000, 1000),
        line(now, 30, "b", 3000, 1000),
    ];
    std::fs::write(
        dir.join("0000aaaa-0000-4000-8000-000000000001.jsonl"),
        lines.join("\n") + "\n",
    )
    .unwrap();
}

#[test]
fn the_active_block_has_a_burn_rate_and_a_projection() {
    let rig = Rig::new();
    live_transcripts(&rig.projects());
    let blocks = rig.run(UsageBlocks {
        range: UsageRange {
            fresh: true,
            ..UsageRange::default()
        },
    });
    let active = blocks.active().expect("an active block");
    assert_eq!(active.entries, 2);
    assert!(blocks.blocks.iter().filter(|b| b.active).count() == 1);
    assert!(blocks.blocks.iter().any(|b| b.gap), "the old request is a gap away");
    // 2 × 5,000 tokens over the 60 minutes between the two requests.
    let rate = active.burn_rate.expect("a burn rate");
    assert!((rate.tokens_per_minute - 10_000.0 / 60.0).abs() < 0.01, "{rate:?}");
    assert!(
        (rate.tokens_per_minute_for_indicator - 8_000.0 / 60.0).abs() < 0.01,
        "{rate:?}"
    );
    assert!(
        (rate.cost_per_hour - active.tally.cost).abs() < 1e-9,
        "one hour of activity: {rate:?}"
    );
    let projection = active.projection.expect("a projection");
    let left = (active.end_ms - blocks.now_ms) as f64 / 60_000.0;
    assert!(
        (projection.remaining_minutes as f64 - left).abs() <= 1.0,
        "{projection:?}"
    );
    let expected = 10_000.0 + rate.tokens_per_minute * left;
    assert!(
        (projection.total_tokens as f64 - expected).abs() <= 2.0,
        "{projection:?}"
    );

    // ccusage agrees on the blocks and on the clock-free burn rate; its projection within a minute.
    let ours = rig.cli_json(&["usage", "blocks", "--json"]);
    let theirs = ccusage(rig.config.path(), "blocks");
    assert_blocks_equal(&ours, &theirs);
    let last = |v: &Value| v["blocks"].as_array().unwrap().last().unwrap().clone();
    let (o, t) = (last(&ours), last(&theirs));
    assert_eq!(o["isActive"], true);
    assert_eq!(t["isActive"], true);
    for field in ["tokensPerMinute", "tokensPerMinuteForIndicator", "costPerHour"] {
        let (a, b) = (
            o["burnRate"][field].as_f64().unwrap(),
            t["burnRate"][field].as_f64().unwrap(),
        );
        assert!(close(a, b), "burnRate.{field}: {a} vs ccusage {b}");
    }
    let minutes = |v: &Value| v["projection"]["remainingMinutes"].as_i64().unwrap();
    assert!((minutes(&o) - minutes(&t)).abs() <= 1, "{o} vs {t}");

    // The table names the active block's time left and burn rate.
    let output = rig
        .home
        .anyon_command(&["usage", "blocks"])
        .env("CLAUDE_CONFIG_DIR", rig.config.path())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{text}");
    assert!(text.contains(" left"), "{text}");
    assert!(text.contains("burn rate:"), "{text}");
    assert!(text.contains("gap"), "{text}");
}

/// A `rate_limit_event` as CLI 2.1.197 writes it when the 5-hour limit is reached.
const RATE_LIMITED: &str = r#"{"type":"rate_limit_event","rate_limit_info":{"status":"rejected","resetsAt":4102444800,"rateLimitType":"five_hour","utilization":1,"isUsingOverage":false,"overageStatus":"rejected"},"uuid":"7d1c2c5e-1111-4222-8333-944445555666","session_id":"0000aaaa-0000-4000-8000-000000000001"}"#;

#[test]
fn a_rate_limit_event_is_read() {
    let ParsedLine::Message(StreamMessage::RateLimitEvent(event)) = parse_line(RATE_LIMITED) else {
        panic!("not a rate_limit_event: {:?}", parse_line(RATE_LIMITED));
    };
    let info = &event.rate_limit_info;
    assert!(info.limited());
    assert_eq!(info.rate_limit_type.as_deref(), Some("five_hour"));
    assert_eq!(info.resets_at_ms(), Some(4_102_444_800_000));
    assert_eq!(info.percent(), Some(100.0));
    assert_eq!(
        event.session_id.as_deref(),
        Some("0000aaaa-0000-4000-8000-000000000001")
    );
    assert_eq!(info.summary(Some("14:00".into())), "5-hour limit reached, resets 14:00");
    // Near the limit, a warning.
    let near = RATE_LIMITED
        .replace(r#""status":"rejected""#, r#""status":"allowed_warning""#)
        .replace(r#""utilization":1"#, r#""utilization":0.85"#)
        .replace("five_hour", "seven_day");
    let ParsedLine::Message(StreamMessage::RateLimitEvent(near)) = parse_line(&near) else {
        panic!("not a rate_limit_event");
    };
    assert!(near.rate_limit_info.needs_attention() && !near.rate_limit_info.limited());
    assert_eq!(near.rate_limit_info.summary(None), "Near the weekly limit: 85% used");
    // Fields of another shape do not lose the line.
    let odd = r#"{"type":"rate_limit_event","rate_limit_info":{"status":"allowed","resetsAt":"soon","utilization":null,"newField":1}}"#;
    assert!(matches!(
        parse_line(odd),
        ParsedLine::Message(StreamMessage::RateLimitEvent(_))
    ));
}

fn window(projects: &Path, screen: Screen) -> (TempHome, tokio::runtime::Runtime, Harness<'static, AnyonApp>) {
    let runtime = support::runtime();
    let home = TempHome::new();
    let (backend, events) = support::backend(&runtime, &home);
    backend.set_projects_root(projects.to_path_buf());
    let options = StartOptions {
        screen: Some(screen),
        ..StartOptions::default()
    };
    let harness = Harness::builder()
        .with_size(egui::vec2(1400.0, 900.0))
        .build_eframe(move |cc| AnyonApp::new(cc, backend, events, options));
    (home, runtime, harness)
}

#[test]
fn the_usage_screen_shows_the_blocks_and_the_active_one() {
    let config = tempfile::tempdir().unwrap();
    let projects = config.path().join("projects");
    live_transcripts(&projects);
    let (_home, _runtime, mut harness) = window(&projects, Screen::Usage);
    settle(&mut harness, "the totals", "Total tokens");
    harness.get_by_label("5-hour blocks").click();
    settle(&mut harness, "the active block", "Active block:");
    assert!(shows(&harness, " left"));
    settle(&mut harness, "its burn rate", "Burn rate:");
    settle(&mut harness, "its projection", "Projected by its end");
    settle(&mut harness, "the gap row", "h idle");
    assert!(harness.state().stores().transcripts.show_blocks);
    // Back to a table.
    harness.get_by_label("By day").click();
    harness.run_ok();
    assert!(!shows(&harness, "Active block:"));
}

#[test]
fn a_rate_limit_shows_in_the_chat_and_on_the_usage_screen() {
    let config = tempfile::tempdir().unwrap();
    let projects = config.path().join("projects");
    std::fs::create_dir_all(&projects).unwrap();
    let (_home, _runtime, mut harness) = window(&projects, Screen::Projects);
    let mut tab = ChatSession::new("Limited", "/work/live");
    let ParsedLine::Message(message) = parse_line(RATE_LIMITED) else {
        panic!("not a message");
    };
    tab.apply_message(0, &message, RATE_LIMITED.into());
    harness.state_mut().open_session_tab(tab);
    settle(&mut harness, "the banner", "5-hour limit reached, resets");
    harness
        .get_by(|n| n.role() == Role::Button && n.label().is_some_and(|l| l.ends_with(Screen::Usage.label())))
        .click();
    settle(
        &mut harness,
        "the latest limit state",
        "Claude's usage limit: 5-hour limit reached",
    );
}

/// The real CLI, signed in to claude.ai (an OAuth token: only then does it read the limit headers), told
/// by the API that the 5-hour limit is reached: its `rate_limit_event` comes through ANYON's run as a
/// typed message and becomes the tab's banner.
#[test]
fn the_real_cli_reports_the_limit_the_api_announces() {
    let Some(bin) = require_claude_bin("the_real_cli_reports_the_limit_the_api_announces") else {
        return;
    };
    let api = MockApi::start(Script::text("Within limits, just.").with_headers(&[
        ("anthropic-ratelimit-unified-status", "rejected"),
        ("anthropic-ratelimit-unified-reset", "4102444800"),
        ("anthropic-ratelimit-unified-representative-claim", "five_hour"),
        ("anthropic-ratelimit-unified-5h-utilization", "1.0"),
        ("anthropic-ratelimit-unified-5h-reset", "4102444800"),
    ]));
    let runtime = support::runtime();
    let home = TempHome::new();
    let sandbox = Sandbox::new();
    let (backend, mut events) = support::backend(&runtime, &home);
    sandbox.wire(&runtime, &backend, &bin, &api);
    let mut env: Vec<_> = sandbox
        .env(&api.base_url())
        .into_iter()
        .filter(|(key, _)| key != "ANTHROPIC_API_KEY")
        .collect();
    env.push(("CLAUDE_CODE_OAUTH_TOKEN".into(), "sk-ant-oat01-test".into()));
    backend.set_child_env(env);
    let started = runtime
        .block_on(backend.call(ExecuteClaudeCode {
            run: ClaudeRunRequest {
                project_path: sandbox.project.clone(),
                prompt: "hello".into(),
                ..ClaudeRunRequest::default()
            },
        }))
        .expect("the run starts");
    let mut tab = ChatSession::new("Limited", sandbox.project.display().to_string());
    let mut event = None;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let remaining = deadline.saturating_duration_since(std::time::Instant::now());
        let next = runtime
            .block_on(async { tokio::time::timeout(remaining, events.recv()).await })
            .expect("the run ended in time")
            .expect("event channel open");
        match next {
            Event::ClaudeOutput { run_id, message, .. } if run_id == started.run_id => {
                tab.apply_message(run_id, &message, "{}".into());
                if let StreamMessage::RateLimitEvent(limit) = &*message {
                    event = Some(limit.clone());
                }
            }
            Event::RunFinished { outcome, .. } if outcome.run_id == started.run_id => break,
            _ => {}
        }
    }
    let event = event.expect("a rate_limit_event from the CLI");
    let info = &event.rate_limit_info;
    assert!(info.limited(), "{info:?}");
    assert_eq!(info.rate_limit_type.as_deref(), Some("five_hour"));
    assert_eq!(info.resets_at_ms(), Some(4_102_444_800_000));
    assert_eq!(tab.rate_limit.as_ref(), Some(info));
    assert!(
        api.requests().iter().any(|r| r.header("authorization").is_some()),
        "the CLI used its OAuth token"
    );
}
