//! Chat runs end to end: ANYON's backend and `anyon chat` driving the real Claude CLI against the
//! local Messages API, plus fake binaries for what the real one cannot do on demand.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyon::backend::command::ClaudeRunRequest;
use anyon::backend::event::Event;
use anyon::backend::{Backend, EventReceiver};
use anyon::domain::claude::run::{PermissionAnswer, RunOutcome};
use anyon::domain::claude::stream::{ContentBlock, IncomingRequest, StreamMessage};
use anyon::domain::settings::Setting;
use anyon::domain::settings::requests::SaveSetting;
use serde_json::Value;

use crate::support::claude::{Sandbox, require_claude_bin};
use crate::support::mock_api::{ApiError, MockApi, Script};
use crate::support::{self, TempHome};
use anyon::domain::checkpoint::requests::{CheckpointList, CheckpointRestore};
use anyon::domain::claude::permission::PermissionMode;
use anyon::domain::claude::requests::{CancelClaudeExecution, ClaudeRespondPermission, ExecuteClaudeCode};

const RUN_TIMEOUT: Duration = Duration::from_secs(60);

/// A backend whose Claude processes talk to `api` inside `sandbox`.
struct ChatRig {
    runtime: tokio::runtime::Runtime,
    _home: TempHome,
    backend: Backend,
    events: EventReceiver,
    sandbox: Sandbox,
}

impl ChatRig {
    fn new(bin: &Path, api: &MockApi) -> Self {
        let runtime = support::runtime();
        let home = TempHome::new();
        let sandbox = Sandbox::new();
        let (backend, events) = support::backend(&runtime, &home);
        sandbox.wire(&runtime, &backend, bin, api);
        Self {
            runtime,
            _home: home,
            backend,
            events,
            sandbox,
        }
    }

    fn start(&self, prompt: &str, resume: Option<String>) -> u64 {
        self.start_with_mode(prompt, resume, None)
    }

    fn start_with_mode(&self, prompt: &str, resume: Option<String>, mode: Option<PermissionMode>) -> u64 {
        let request = ClaudeRunRequest {
            project_path: self.sandbox.project.clone(),
            prompt: prompt.into(),
            resume_session: resume,
            permission_mode: mode,
            ..ClaudeRunRequest::default()
        };
        match self
            .runtime
            .block_on(self.backend.call(ExecuteClaudeCode { run: request }))
        {
            Ok(started) => started.run_id,
            Err(error) => panic!("run did not start: {error}"),
        }
    }

    /// Waits for the next output of `run_id` that `check` accepts; other events are kept in `seen`.
    fn wait_output<T>(&mut self, run_id: u64, what: &str, mut check: impl FnMut(&StreamMessage) -> Option<T>) -> T {
        let deadline = std::time::Instant::now() + RUN_TIMEOUT;
        loop {
            let remaining = deadline.saturating_duration_since(std::time::Instant::now());
            let event = self
                .runtime
                .block_on(async { tokio::time::timeout(remaining, self.events.recv()).await })
                .unwrap_or_else(|_| panic!("timed out waiting for {what}"))
                .expect("event channel open");
            match event {
                Event::ClaudeOutput {
                    run_id: id, message, ..
                } if id == run_id => {
                    if let Some(found) = check(&message) {
                        return found;
                    }
                }
                Event::RunFinished { outcome, .. } if outcome.run_id == run_id => {
                    panic!("run ended before {what}: {outcome:?}")
                }
                _ => {}
            }
        }
    }

    /// Collects the run's messages until it ends.
    fn finish(&mut self, run_id: u64) -> (Vec<StreamMessage>, RunOutcome) {
        let mut messages = Vec::new();
        let deadline = std::time::Instant::now() + RUN_TIMEOUT;
        loop {
            let remaining = deadline.saturating_duration_since(std::time::Instant::now());
            let event = self
                .runtime
                .block_on(async { tokio::time::timeout(remaining, self.events.recv()).await })
                .expect("the run ended in time")
                .expect("event channel open");
            match event {
                Event::ClaudeOutput {
                    run_id: id, message, ..
                } if id == run_id => messages.push((*message).clone()),
                Event::RunFinished { outcome, .. } if outcome.run_id == run_id => return (messages, outcome),
                _ => {}
            }
        }
    }
}

fn texts(messages: &[StreamMessage]) -> Vec<String> {
    messages
        .iter()
        .filter_map(|m| match m {
            StreamMessage::Assistant(a) => Some(a.message.content.iter().filter_map(|b| match b {
                ContentBlock::Text { text } => Some(text.clone()),
                _ => None,
            })),
            _ => None,
        })
        .flatten()
        .collect()
}

fn result_of(messages: &[StreamMessage]) -> &anyon::domain::claude::stream::ResultMessage {
    messages
        .iter()
        .find_map(|m| match m {
            StreamMessage::Result(r) => Some(&**r),
            _ => None,
        })
        .expect("a result line")
}

#[test]
fn a_plain_answer_streams_through_the_backend() {
    let Some(bin) = require_claude_bin("a_plain_answer_streams_through_the_backend") else {
        return;
    };
    let api = MockApi::start(Script::text("Hello from the mock."));
    let mut rig = ChatRig::new(&bin, &api);
    let run_id = rig.start("Say hello", None);
    let (messages, outcome) = rig.finish(run_id);
    assert_eq!(outcome.exit_code, Some(0), "{outcome:?}");
    assert!(!outcome.cancelled);
    assert_eq!(texts(&messages), ["Hello from the mock."]);
    let session_id = outcome.session_id.clone().expect("session id from init");
    // Init comes first; only the answer to ANYON's `initialize` request may precede it.
    let first = messages
        .iter()
        .position(|m| !matches!(m, StreamMessage::ControlResponse(_)))
        .expect("a message besides control responses");
    assert!(matches!(&messages[first], StreamMessage::System(_)), "init comes first");
    assert!(
        messages
            .iter()
            .any(|m| matches!(m, StreamMessage::ControlResponse(r) if r.initialize().is_some())),
        "the CLI answered initialize with what it offers"
    );
    assert!(!result_of(&messages).is_error);
    let transcripts = rig.sandbox.transcripts();
    assert!(
        transcripts
            .iter()
            .any(|p| p.file_stem().is_some_and(|s| s == session_id.as_str())),
        "{transcripts:?}"
    );
    assert!(
        rig.backend.processes().list().is_empty(),
        "finished runs leave the registry"
    );
}

#[test]
fn a_tool_is_allowed_and_another_denied_through_the_approval_path() {
    let Some(bin) = require_claude_bin("a_tool_is_allowed_and_another_denied_through_the_approval_path") else {
        return;
    };
    for (answer, expect_file) in [
        (PermissionAnswer::Allow, true),
        (
            PermissionAnswer::Deny {
                message: "Not in this folder, please.".into(),
            },
            false,
        ),
    ] {
        let api = MockApi::start(Script::write_file("notes.txt", "written by the tool\n", "Done."));
        let mut rig = ChatRig::new(&bin, &api);
        let run_id = rig.start("Write the notes", None);
        let (request_id, tool) = rig.wait_output(run_id, "the permission prompt", |message| match message {
            StreamMessage::ControlRequest(request) => match &request.request {
                IncomingRequest::CanUseTool(ask) => Some((request.request_id.clone(), ask.tool_name.clone())),
                IncomingRequest::Unknown(_) => None,
            },
            _ => None,
        });
        assert_eq!(tool, "Write");
        rig.runtime
            .block_on(rig.backend.execute(ClaudeRespondPermission {
                run_id,
                request_id,
                answer: answer.clone(),
            }))
            .expect("answer delivered");
        let (messages, outcome) = rig.finish(run_id);
        assert_eq!(outcome.exit_code, Some(0), "{outcome:?}");
        let file = rig.sandbox.project.join("notes.txt");
        assert_eq!(file.exists(), expect_file, "{answer:?}");
        let denials = &result_of(&messages).permission_denials;
        assert_eq!(denials.is_empty(), expect_file, "{answer:?}: {denials:?}");
    }
}

#[test]
fn an_api_500_ends_the_run_with_an_error_result() {
    let Some(bin) = require_claude_bin("an_api_500_ends_the_run_with_an_error_result") else {
        return;
    };
    let api = MockApi::start(Script::error(ApiError::internal()));
    let mut rig = ChatRig::new(&bin, &api);
    let run_id = rig.start("Hello?", None);
    let (messages, outcome) = rig.finish(run_id);
    assert_eq!(outcome.exit_code, Some(1));
    assert!(result_of(&messages).is_error);
}

#[cfg(target_os = "linux")]
#[test]
fn cancel_in_a_slow_stream_leaves_no_process_of_the_group() {
    let Some(bin) = require_claude_bin("cancel_in_a_slow_stream_leaves_no_process_of_the_group") else {
        return;
    };
    let chunks = ["one ", "two ", "three ", "four ", "five ", "six ", "seven ", "eight "];
    let api = MockApi::start(Script::slow_text(&chunks, Duration::from_secs(2)));
    let mut rig = ChatRig::new(&bin, &api);
    let run_id = rig.start("Count slowly", None);
    rig.wait_output(run_id, "the init line", |m| {
        matches!(m, StreamMessage::System(_)).then_some(())
    });
    let pid = rig.backend.processes().get(run_id).expect("registered").pid;
    support::wait_for("the API request", Duration::from_secs(20), || {
        (!api
            .messages_requests(crate::support::mock_api::RequestKind::Main)
            .is_empty())
        .then_some(())
    });
    let started = std::time::Instant::now();
    rig.runtime
        .block_on(rig.backend.execute(CancelClaudeExecution { run_id }))
        .expect("cancel delivered");
    let (_, outcome) = rig.finish(run_id);
    assert!(outcome.cancelled, "{outcome:?}");
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(!group_alive(pid), "a process of the group is still alive");
    assert!(!rig.backend.processes().is_process_running(run_id));
}

#[test]
fn resume_appends_to_the_same_session_and_two_runs_go_at_once() {
    let Some(bin) = require_claude_bin("resume_appends_to_the_same_session_and_two_runs_go_at_once") else {
        return;
    };
    let api = MockApi::start(Script::text("Noted."));
    let mut rig = ChatRig::new(&bin, &api);
    let first = rig.start("Remember the number 7", None);
    let (_, outcome) = rig.finish(first);
    let session_id = outcome.session_id.expect("session id");
    let transcript = rig
        .sandbox
        .transcripts()
        .into_iter()
        .find(|p| p.file_stem().is_some_and(|s| s == session_id.as_str()))
        .expect("transcript");
    let lines_before = line_count(&transcript);

    // A resumed run and a new one, at the same time.
    let resumed = rig.start("What was the number?", Some(session_id.clone()));
    let fresh = rig.start("Something else", None);
    assert_ne!(resumed, fresh);
    let (resumed_out, fresh_out) = finish_both(&mut rig, resumed, fresh);
    assert_eq!(resumed_out.exit_code, Some(0));
    assert_eq!(fresh_out.exit_code, Some(0));
    assert_eq!(
        resumed_out.session_id.as_deref(),
        Some(session_id.as_str()),
        "resume keeps the session"
    );
    assert_ne!(fresh_out.session_id.as_deref(), Some(session_id.as_str()));
    assert!(
        line_count(&transcript) > lines_before,
        "the resumed turn was appended to the same file"
    );
}

/// Waits for two runs that go at once.
fn finish_both(rig: &mut ChatRig, a: u64, b: u64) -> (RunOutcome, RunOutcome) {
    let mut outcomes = std::collections::HashMap::new();
    while outcomes.len() < 2 {
        let event = rig
            .runtime
            .block_on(async { tokio::time::timeout(RUN_TIMEOUT, rig.events.recv()).await })
            .expect("runs end in time")
            .expect("channel open");
        if let Event::RunFinished { outcome, .. } = event {
            outcomes.insert(outcome.run_id, outcome);
        }
    }
    (outcomes.remove(&a).expect("a"), outcomes.remove(&b).expect("b"))
}

fn line_count(path: &Path) -> usize {
    std::fs::read_to_string(path).map(|t| t.lines().count()).unwrap_or(0)
}

/// Whether a live (not zombie) process of the group remains, allowing a moment for SIGKILL to land.
/// Zombies are left out: orphans are reaped by the system's init, which a container may not run.
#[cfg(target_os = "linux")]
fn group_alive(pgid: u32) -> bool {
    let live = || {
        std::fs::read_dir("/proc").into_iter().flatten().flatten().any(|entry| {
            let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
                return false;
            };
            // Fields after the command name: state, ppid, pgrp.
            let Some(rest) = stat.rsplit_once(')').map(|(_, rest)| rest) else {
                return false;
            };
            let fields: Vec<&str> = rest.split_whitespace().collect();
            fields.len() > 2 && fields[0] != "Z" && fields[2] == pgid.to_string()
        })
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(2);
    while std::time::Instant::now() < deadline {
        if !live() {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    true
}

// ---- `anyon chat` as a process ----

fn anyon_chat(home: &TempHome, sandbox: &Sandbox, bin: &Path, api: &MockApi, args: &[&str]) -> std::process::Output {
    let mut command = home.anyon_command(args);
    command.env("ANYON_CLAUDE_BIN", bin);
    for (key, value) in sandbox.env(&api.base_url()) {
        command.env(key, value);
    }
    command.output().expect("run anyon chat")
}

fn json_lines(output: &std::process::Output) -> Vec<Value> {
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}")))
        .collect()
}

#[test]
fn anyon_chat_prints_json_lines_and_exits_with_the_run_status() {
    let Some(bin) = require_claude_bin("anyon_chat_prints_json_lines_and_exits_with_the_run_status") else {
        return;
    };
    let api = MockApi::start(Script::text("From the command line."));
    let home = TempHome::new();
    let sandbox = Sandbox::new();
    let project = sandbox.project.display().to_string();
    let output = anyon_chat(
        &home,
        &sandbox,
        &bin,
        &api,
        &["chat", "--project", &project, "--prompt", "hi", "--json"],
    );
    assert_eq!(
        output.status.code(),
        Some(0),
        "stderr: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let mut lines = json_lines(&output);
    assert_eq!(lines.first().unwrap()["type"], "anyon_start");
    // The answer to `initialize` may come before the conversation's first line.
    lines.retain(|line| line["type"] != "control_response");
    assert_eq!(lines[1]["type"], "system");
    assert_eq!(lines[1]["subtype"], "init");
    let last = lines.last().unwrap();
    assert_eq!(last["type"], "anyon_exit");
    assert_eq!(last["exit_code"], 0);
    assert_eq!(last["session_id"], lines[1]["session_id"]);
    assert!(
        lines
            .iter()
            .any(|l| l["type"] == "result" && l["result"] == "From the command line.")
    );

    // --continue picks the same session up again.
    let output = anyon_chat(
        &home,
        &sandbox,
        &bin,
        &api,
        &[
            "chat",
            "--project",
            &project,
            "--prompt",
            "more",
            "--continue",
            "--json",
        ],
    );
    assert_eq!(output.status.code(), Some(0));
    let again = json_lines(&output);
    assert_eq!(
        again.last().unwrap()["session_id"],
        last["session_id"],
        "continue stays in the session"
    );

    let failing = MockApi::start(Script::error(ApiError::internal()));
    let output = anyon_chat(
        &home,
        &sandbox,
        &bin,
        &failing,
        &["chat", "--project", &project, "--prompt", "x", "--json"],
    );
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(json_lines(&output).last().unwrap()["exit_code"], 1);
}

#[test]
fn a_missing_binary_says_where_it_looked() {
    let home = TempHome::new();
    let sandbox = Sandbox::new();
    let project = sandbox.project.display().to_string();
    let output = home
        .anyon_command(&["chat", "--project", &project, "--prompt", "hi", "--json"])
        .env("ANYON_CLAUDE_BIN", "/nonexistent/claude")
        .env("PATH", "")
        .env("HOME", &sandbox.home)
        .output()
        .expect("run anyon");
    assert_eq!(output.status.code(), Some(1));
    let error: Value = serde_json::from_slice(&output.stderr).expect("JSON error");
    assert_eq!(error["error"]["kind"], "claude_not_found");
    let message = error["error"]["message"].as_str().unwrap();
    assert!(message.contains("/nonexistent/claude"), "{message}");
    assert!(message.contains(".claude/local"), "{message}");
}

// ---- fake binaries for what the real CLI cannot do on demand ----

#[cfg(unix)]
fn fake_claude(dir: &Path, body: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join("claude");
    // `--version` must answer like the real CLI so discovery accepts the fake.
    let script =
        format!("#!/bin/sh\nif [ \"$1\" = \"--version\" ]; then echo '2.1.197 (Claude Code)'; exit 0; fi\n{body}\n");
    std::fs::write(&path, script).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

#[cfg(unix)]
fn fake_rig(body: &str) -> (ChatRig, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let bin = fake_claude(dir.path(), body);
    let api = MockApi::start(Script::text("unused"));
    (ChatRig::new(&bin, &api), dir)
}

#[cfg(unix)]
#[test]
fn a_crash_reports_its_status_and_stderr_and_garbage_is_counted() {
    let (mut rig, _dir) = fake_rig(
        "read line\necho 'this is not json'\necho '{\"type\":\"system\",\"subtype\":\"init\",\"session_id\":\"s-1\"}'\n\
         echo '{\"half\": '\necho 'segfault in the fake' >&2\nexit 3",
    );
    let run_id = rig.start("anything", None);
    let (messages, outcome) = rig.finish(run_id);
    assert_eq!(outcome.exit_code, Some(3));
    assert_eq!(outcome.garbage_lines, 2);
    assert_eq!(outcome.session_id.as_deref(), Some("s-1"));
    assert!(outcome.stderr_tail.contains("segfault in the fake"), "{outcome:?}");
    assert_eq!(messages.len(), 1);
}

#[cfg(target_os = "linux")]
#[test]
fn a_child_that_ignores_sigterm_is_killed_after_the_grace_period() {
    let (mut rig, _dir) = fake_rig("trap '' TERM\nwhile true; do sleep 0.2; done");
    rig.backend.processes().set_grace(Duration::from_millis(500));
    let run_id = rig.start("anything", None);
    let pid = rig.backend.processes().get(run_id).expect("registered").pid;
    let started = std::time::Instant::now();
    rig.runtime
        .block_on(rig.backend.execute(CancelClaudeExecution { run_id }))
        .expect("cancelled");
    let (_, outcome) = rig.finish(run_id);
    assert!(outcome.cancelled);
    assert_eq!(outcome.exit_code, None, "ended by a signal");
    assert!(
        started.elapsed() >= Duration::from_millis(500),
        "SIGKILL waited for the grace period"
    );
    assert!(!group_alive(pid));
}

#[cfg(unix)]
#[test]
fn a_project_that_does_not_exist_is_refused_before_spawning() {
    let (rig, _dir) = fake_rig("exit 0");
    let request = ClaudeRunRequest {
        project_path: PathBuf::from("/nonexistent/project"),
        prompt: "hi".into(),
        ..ClaudeRunRequest::default()
    };
    let error = rig
        .runtime
        .block_on(rig.backend.execute(ExecuteClaudeCode { run: request }))
        .unwrap_err();
    assert!(error.to_string().contains("does not exist"), "{error}");
    assert!(rig.backend.processes().list().is_empty());
}

#[test]
fn a_subagent_calls_come_back_nested_under_their_task() {
    let Some(bin) = require_claude_bin("a_subagent_calls_come_back_nested_under_their_task") else {
        return;
    };
    let inner = Script::bash("echo from-the-subagent", "Subagent finished.");
    let api = MockApi::start(Script::subagent(
        "Look around",
        "List things",
        inner,
        "Main agent done.",
    ));
    let mut rig = ChatRig::new(&bin, &api);
    let run_id = rig.start("Use a subagent", None);
    let (messages, outcome) = rig.finish(run_id);
    assert_eq!(outcome.exit_code, Some(0), "{outcome:?}");
    let task_id = messages
        .iter()
        .find_map(|m| match m {
            StreamMessage::Assistant(a) if a.parent_tool_use_id.is_none() => {
                a.message.content.iter().find_map(|b| match b {
                    ContentBlock::ToolUse { id, name, .. } if name == "Agent" || name == "Task" => Some(id.clone()),
                    _ => None,
                })
            }
            _ => None,
        })
        .expect("the main agent called the subagent tool");
    let nested = messages.iter().any(|m| match m {
        StreamMessage::Assistant(a) => a.parent_tool_use_id.as_deref() == Some(task_id.as_str()),
        _ => false,
    });
    assert!(nested, "the subagent's own tool calls carry the task's id");
    assert_eq!(texts(&messages).last().map(String::as_str), Some("Main agent done."));
}

#[cfg(target_os = "linux")]
#[test]
fn ctrl_c_stops_anyon_chat_like_the_stop_button() {
    use std::io::{BufRead, BufReader};
    let Some(bin) = require_claude_bin("ctrl_c_stops_anyon_chat_like_the_stop_button") else {
        return;
    };
    let chunks = ["one ", "two ", "three ", "four ", "five ", "six "];
    let api = MockApi::start(Script::slow_text(&chunks, Duration::from_secs(2)));
    let home = TempHome::new();
    let sandbox = Sandbox::new();
    let project = sandbox.project.display().to_string();
    let mut command = home.anyon_command(&["chat", "--project", &project, "--prompt", "count", "--json"]);
    command
        .env("ANYON_CLAUDE_BIN", &bin)
        .stdout(std::process::Stdio::piped());
    for (key, value) in sandbox.env(&api.base_url()) {
        command.env(key, value);
    }
    let mut child = command.spawn().expect("start anyon chat");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let start: Value = serde_json::from_str(&lines.next().expect("a line").expect("read")).expect("JSON");
    assert_eq!(start["type"], "anyon_start");
    let claude_pid = start["pid"].as_u64().expect("pid") as u32;
    support::wait_for("the API request", Duration::from_secs(20), || {
        (!api
            .messages_requests(crate::support::mock_api::RequestKind::Main)
            .is_empty())
        .then_some(())
    });
    // SAFETY: kill(2) takes no pointers and has no memory-safety preconditions; it sends SIGINT to the child
    // this test started and has not reaped yet.
    #[allow(unsafe_code)]
    unsafe {
        libc::kill(child.id() as libc::pid_t, libc::SIGINT);
    }
    let rest: Vec<Value> = lines
        .map_while(Result::ok)
        .filter_map(|l| serde_json::from_str(&l).ok())
        .collect();
    let status = child.wait().expect("anyon exits");
    assert_eq!(status.code(), Some(130), "{rest:?}");
    let exit = rest.last().expect("an exit line");
    assert_eq!(exit["type"], "anyon_exit");
    assert_eq!(exit["cancelled"], true);
    assert!(!group_alive(claude_pid), "claude's process group is gone");
}

#[test]
fn automatic_checkpoints_come_before_the_prompt_and_before_an_approved_write() {
    let Some(bin) = require_claude_bin("automatic_checkpoints_come_before_the_prompt_and_before_an_approved_write")
    else {
        return;
    };
    let api = MockApi::start(Script::write_file("notes.txt", "new notes\n", "Done."));
    let mut rig = ChatRig::new(&bin, &api);
    std::fs::write(rig.sandbox.project.join("readme.md"), "hello\n").unwrap();
    let setting = Setting::AutoCheckpoints {
        project: rig.sandbox.project.clone(),
        on: true,
    };
    rig.runtime
        .block_on(rig.backend.execute(SaveSetting { setting }))
        .unwrap();
    let run_id = rig.start("Write the notes", None);
    let request_id = rig.wait_output(run_id, "the permission prompt", |message| match message {
        StreamMessage::ControlRequest(request) => Some(request.request_id.clone()),
        _ => None,
    });
    rig.runtime
        .block_on(rig.backend.execute(ClaudeRespondPermission {
            run_id,
            request_id,
            answer: PermissionAnswer::Allow,
        }))
        .unwrap();
    let (_, outcome) = rig.finish(run_id);
    assert_eq!(outcome.exit_code, Some(0));
    assert!(rig.sandbox.project.join("notes.txt").exists());
    let session_id = outcome.session_id.expect("session id");
    let project = rig.sandbox.project.display().to_string();
    let listed = rig
        .runtime
        .block_on(rig.backend.call(CheckpointList {
            project_path: rig.sandbox.project.clone(),
            session_id: Some(session_id),
        }))
        .unwrap();
    let list = listed;
    let triggers: Vec<&str> = list.iter().map(|c| c.trigger.as_str()).collect();
    assert_eq!(triggers, ["before_prompt", "before_tool"], "{project}");
    // The checkpoint before the write does not have the file; restoring it takes the write back.
    let restored = rig
        .runtime
        .block_on(rig.backend.call(CheckpointRestore {
            project_path: rig.sandbox.project.clone(),
            id: list[1].id.clone(),
        }))
        .unwrap();
    assert!(restored.plan.delete.iter().any(|p| p == "notes.txt"), "{restored:?}");
    assert!(!rig.sandbox.project.join("notes.txt").exists());
    assert!(rig.sandbox.project.join("readme.md").exists());
}

#[test]
fn a_write_allowed_without_asking_still_gets_its_checkpoint_first() {
    let Some(bin) = require_claude_bin("a_write_allowed_without_asking_still_gets_its_checkpoint_first") else {
        return;
    };
    let api = MockApi::start(Script::write_file("auto.txt", "written without a prompt\n", "Done."));
    let mut rig = ChatRig::new(&bin, &api);
    let setting = Setting::AutoCheckpoints {
        project: rig.sandbox.project.clone(),
        on: true,
    };
    rig.runtime
        .block_on(rig.backend.execute(SaveSetting { setting }))
        .unwrap();
    let run_id = rig.start_with_mode("Write it", None, Some(PermissionMode::AcceptEdits));
    let (_, outcome) = rig.finish(run_id);
    assert_eq!(outcome.exit_code, Some(0), "{outcome:?}");
    assert!(rig.sandbox.project.join("auto.txt").exists());
    let listed = rig
        .runtime
        .block_on(rig.backend.call(CheckpointList {
            project_path: rig.sandbox.project.clone(),
            session_id: outcome.session_id.clone(),
        }))
        .unwrap();
    let list = listed;
    let triggers: Vec<&str> = list.iter().map(|c| c.trigger.as_str()).collect();
    assert_eq!(
        triggers,
        ["before_prompt", "before_tool"],
        "the hook ran before the write"
    );
    let files = anyon::domain::checkpoint::manifest(
        &rusqlite::Connection::open(rig._home.path().join("anyon.db")).unwrap(),
        &list[1].id,
    )
    .unwrap();
    assert!(
        files.iter().all(|f| f.path != "auto.txt"),
        "the checkpoint was taken before the file existed: {files:?}"
    );
}

#[test]
fn a_fork_continues_the_conversation_as_a_new_session() {
    let Some(bin) = require_claude_bin("a_fork_continues_the_conversation_as_a_new_session") else {
        return;
    };
    let api = MockApi::start(Script::text("Noted."));
    let mut rig = ChatRig::new(&bin, &api);
    let first = rig.start("Remember 7", None);
    let original = rig.finish(first).1.session_id.expect("session id");
    let transcript = |sandbox: &Sandbox, id: &str| {
        sandbox
            .transcripts()
            .into_iter()
            .find(|p| p.file_stem().is_some_and(|s| s == id))
    };
    let before = line_count(&transcript(&rig.sandbox, &original).expect("original transcript"));
    let request = ClaudeRunRequest {
        project_path: rig.sandbox.project.clone(),
        prompt: "And now?".into(),
        resume_session: Some(original.clone()),
        fork_session: true,
        ..ClaudeRunRequest::default()
    };
    let run_id = rig
        .runtime
        .block_on(rig.backend.call(ExecuteClaudeCode { run: request }))
        .expect("fork did not start")
        .run_id;
    let (_, outcome) = rig.finish(run_id);
    assert_eq!(outcome.exit_code, Some(0));
    let fork = outcome.session_id.expect("fork session id");
    assert_ne!(fork, original, "a fork is a new session");
    assert!(
        transcript(&rig.sandbox, &fork).is_some(),
        "the fork has its own transcript"
    );
    assert_eq!(
        line_count(&transcript(&rig.sandbox, &original).unwrap()),
        before,
        "the original session is left as it was"
    );
}
