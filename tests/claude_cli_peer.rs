//! The real Claude CLI against the mock Messages API: each scripted scenario produces the stream-json,
//! tool runs, permission requests and transcripts that the chat runner will have to handle.

use std::time::Duration;

use serde_json::{Value, json};

use crate::support::claude::{CLAUDE_VERSION, ClaudeRun, Finished, Sandbox, require_claude_bin};
use crate::support::mock_api::{ApiError, MockApi, RequestKind, Script, StreamOutcome, Usage};

/// Generous for a CLI that answers a local server in well under a second, far under the 30 s test budget.
const TURN_TIMEOUT: Duration = Duration::from_secs(20);

/// Runs one prompt to the end against `script`.
fn run_prompt(test: &str, script: Script, prompt: &str, extra_args: &[&str]) -> Option<(MockApi, Sandbox, Finished)> {
    let bin = require_claude_bin(test)?;
    let api = MockApi::start(script);
    let sandbox = Sandbox::new();
    let mut run = ClaudeRun::start(&bin, &api, &sandbox, extra_args);
    run.send_prompt(prompt);
    let finished = run.finish(TURN_TIMEOUT);
    Some((api, sandbox, finished))
}

fn assert_exit(finished: &Finished, code: i32) {
    assert_eq!(finished.status.code(), Some(code), "{}", finished.render());
}

fn texts(finished: &Finished) -> Vec<String> {
    finished
        .blocks("assistant", "text")
        .into_iter()
        .filter_map(|(block, _)| block["text"].as_str().map(str::to_owned))
        .collect()
}

/// The tool_result block answering `tool_use_id`, with its line's `parent_tool_use_id`.
fn tool_result(finished: &Finished, tool_use_id: &Value) -> (Value, Value) {
    finished
        .blocks("user", "tool_result")
        .into_iter()
        .find(|(block, _)| &block["tool_use_id"] == tool_use_id)
        .unwrap_or_else(|| panic!("no tool_result for {tool_use_id}:\n{}", finished.render()))
}

/// The text of a tool_result's content, which is a string or a list of text blocks.
fn result_text(block: &Value) -> String {
    match &block["content"] {
        Value::String(text) => text.clone(),
        Value::Array(parts) => parts
            .iter()
            .filter_map(|part| part["text"].as_str())
            .collect::<Vec<_>>()
            .join("\n"),
        other => other.to_string(),
    }
}

#[test]
fn the_installed_cli_is_the_version_these_tests_were_written_for() {
    // `require_claude_bin` applies the missing-binary policy; `claude_bin` is the plain lookup it wraps.
    if require_claude_bin("the_installed_cli_is_the_version_these_tests_were_written_for").is_none() {
        return;
    }
    let bin = crate::support::claude_bin().expect("found by require_claude_bin");
    let output = std::process::Command::new(bin)
        .arg("--version")
        .output()
        .expect("run claude --version");
    let version = String::from_utf8_lossy(&output.stdout);
    assert_eq!(version.trim(), format!("{CLAUDE_VERSION} (Claude Code)"));
}

#[test]
fn a_text_answer_streams_through_to_stream_json_and_the_transcript() {
    let Some((api, sandbox, finished)) = run_prompt(
        "a_text_answer_streams_through_to_stream_json_and_the_transcript",
        Script::text("Hello from the mock."),
        "say hi",
        &[],
    ) else {
        return;
    };
    assert_exit(&finished, 0);

    let init = finished.lines.first().expect("an init line");
    assert_eq!(
        (&init["type"], &init["subtype"]),
        (&json!("system"), &json!("init")),
        "{}",
        finished.render()
    );
    let session_id = init["session_id"].as_str().expect("init has a session_id").to_owned();
    assert_eq!(init["cwd"], sandbox.project.to_str().expect("utf-8 path"));
    assert_eq!(init["apiKeySource"], "ANTHROPIC_API_KEY");
    assert_eq!(init["claude_code_version"], CLAUDE_VERSION);
    let tools: Vec<&str> = init["tools"]
        .as_array()
        .expect("tools")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(tools.contains(&"Bash") && tools.contains(&"Task"), "{tools:?}");

    assert_eq!(texts(&finished), ["Hello from the mock."]);
    let result = finished.result();
    assert_eq!(result["subtype"], "success");
    assert_eq!(result["is_error"], false);
    assert_eq!(result["result"], "Hello from the mock.");
    assert_eq!(result["session_id"], session_id.as_str());
    // The figures of our message_start/message_delta reach the totals.
    let usage = &result["usage"];
    assert_eq!(usage["input_tokens"], Usage::MOCK.input_tokens);
    assert_eq!(usage["output_tokens"], Usage::MOCK.output_tokens);
    assert_eq!(usage["cache_read_input_tokens"], Usage::MOCK.cache_read_input_tokens);
    assert_eq!(
        usage["cache_creation_input_tokens"],
        Usage::MOCK.cache_creation_input_tokens()
    );

    // What the CLI sent.
    let main = api.messages_requests(RequestKind::Main);
    assert_eq!(
        main.len(),
        1,
        "{:#?}",
        crate::support::mock_api::summary(&api.requests())
    );
    let request = &main[0];
    assert_eq!(request.path, "/v1/messages?beta=true");
    assert_eq!(request.header("x-api-key"), Some("sk-test"));
    assert_eq!(request.header("x-claude-code-session-id"), Some(session_id.as_str()));
    let body = request.body.as_ref().expect("a JSON body");
    assert_eq!(body["stream"], true);
    assert!(
        request.tool_names().contains(&"Agent".to_owned()),
        "{:?}",
        request.tool_names()
    );
    let prompt = request.last_user_blocks();
    assert!(prompt.iter().any(|block| block["text"] == "say hi"), "{prompt:?}");
    // The model we echo is the one the assistant line reports.
    let assistant = finished.of_type("assistant", None)[0];
    assert_eq!(assistant["message"]["model"], body["model"]);

    // Besides the reachability probe, nothing but the one conversation call: no title or token-count call.
    let kinds: Vec<RequestKind> = api.requests().iter().map(|r| r.kind).collect();
    assert_eq!(kinds, [RequestKind::Probe, RequestKind::Main]);
    assert_eq!(api.requests()[0].method, "HEAD");

    let transcript = sandbox
        .transcripts()
        .into_iter()
        .find(|path| {
            path.file_name()
                .is_some_and(|name| *name == *format!("{session_id}.jsonl"))
        })
        .unwrap_or_else(|| panic!("no transcript for {session_id} in {:?}", sandbox.transcripts()));
    assert!(transcript.starts_with(sandbox.config_dir.join("projects")));
    let content = std::fs::read_to_string(&transcript).expect("read the transcript");
    assert!(content.contains("Hello from the mock."), "{content}");
}

#[test]
fn a_bash_tool_use_runs_the_real_command_and_gets_a_follow_up() {
    let Some((api, _sandbox, finished)) = run_prompt(
        "a_bash_tool_use_runs_the_real_command_and_gets_a_follow_up",
        Script::bash("echo hello", "The command printed hello."),
        "run echo hello",
        &[],
    ) else {
        return;
    };
    assert_exit(&finished, 0);

    let thinking = finished.blocks("assistant", "thinking");
    assert_eq!(thinking.len(), 1, "{}", finished.render());
    assert!(
        thinking[0].0["thinking"]
            .as_str()
            .is_some_and(|text| text.contains("Bash"))
    );
    let tool_uses = finished.blocks("assistant", "tool_use");
    assert_eq!(tool_uses.len(), 1, "{}", finished.render());
    let (tool_use, _) = &tool_uses[0];
    assert_eq!(tool_use["name"], "Bash");
    assert_eq!(tool_use["input"]["command"], "echo hello");

    let (result, _) = tool_result(&finished, &tool_use["id"]);
    assert_eq!(result["is_error"], false, "{result}");
    assert_eq!(result_text(&result), "hello");
    assert_eq!(texts(&finished), ["The command printed hello."]);
    assert_eq!(finished.result()["num_turns"], 2);

    // The follow-up was chosen because the conversation carried the tool_result back.
    let main = api.messages_requests(RequestKind::Main);
    assert_eq!(main.iter().map(|r| r.step).collect::<Vec<_>>(), [Some(0), Some(1)]);
    let sent_back = main[1].last_user_blocks();
    assert!(
        sent_back
            .iter()
            .any(|block| block["type"] == "tool_result" && block["tool_use_id"] == tool_use["id"]),
        "{sent_back:?}"
    );
}

/// Runs a Write of a new file that needs permission, answering the CLI's `can_use_tool` with `decision`.
fn write_with_permission(test: &str, allow: bool) -> Option<(Sandbox, Finished, Value)> {
    let bin = require_claude_bin(test)?;
    let sandbox = Sandbox::new();
    let target = sandbox.project.join("notes.txt");
    let target_str = target.to_str().expect("utf-8 path").to_owned();
    let api = MockApi::start(Script::write_file(
        &target_str,
        "written by the mock\n",
        "Done with the file.",
    ));
    let mut run = ClaudeRun::start(&bin, &api, &sandbox, &["--permission-prompt-tool", "stdio"]);
    run.send_prompt("write notes.txt");

    let request = run.wait_for_line("the can_use_tool control_request", TURN_TIMEOUT, |line| {
        line["type"] == "control_request" && line["request"]["subtype"] == "can_use_tool"
    });
    assert_eq!(request["request"]["tool_name"], "Write", "{request}");
    let input = request["request"]["input"].clone();
    assert_eq!(input["file_path"], target_str.as_str());
    assert!(!target.exists(), "the file must not exist before permission is given");
    let request_id = request["request_id"].as_str().expect("a request_id").to_owned();
    let decision = if allow {
        json!({"behavior": "allow", "updatedInput": input})
    } else {
        json!({"behavior": "deny", "message": "The person said no."})
    };
    run.respond(&request_id, decision);

    let finished = run.finish(TURN_TIMEOUT);
    assert_exit(&finished, 0);
    let (tool_use, _) = finished
        .blocks("assistant", "tool_use")
        .into_iter()
        .next()
        .expect("a tool_use");
    let (result, _) = tool_result(&finished, &tool_use["id"]);
    assert_eq!(texts(&finished), ["Done with the file."]);
    Some((sandbox, finished, result))
}

#[test]
fn an_allowed_write_creates_the_file() {
    let Some((sandbox, finished, result)) = write_with_permission("an_allowed_write_creates_the_file", true) else {
        return;
    };
    // A successful Write's tool_result carries no `is_error` at all.
    assert_ne!(result["is_error"], true, "{result}");
    let written = std::fs::read_to_string(sandbox.project.join("notes.txt")).expect("the written file");
    assert_eq!(written, "written by the mock\n");
    assert_eq!(finished.result()["permission_denials"], json!([]));
}

#[test]
fn a_denied_write_leaves_no_file_and_reports_the_denial() {
    let Some((sandbox, finished, result)) =
        write_with_permission("a_denied_write_leaves_no_file_and_reports_the_denial", false)
    else {
        return;
    };
    assert_eq!(result["is_error"], true, "{result}");
    assert!(result_text(&result).contains("The person said no."), "{result}");
    assert!(!sandbox.project.join("notes.txt").exists());
    let denials = finished.result()["permission_denials"]
        .as_array()
        .expect("permission_denials")
        .clone();
    assert_eq!(denials.len(), 1, "{denials:?}");
    assert_eq!(denials[0]["tool_name"], "Write");
}

#[test]
fn a_subagent_conversation_is_answered_and_its_lines_carry_the_parent_tool_use() {
    let inner = Script::bash("echo from-subagent", "The subagent is done.");
    let Some((api, sandbox, finished)) = run_prompt(
        "a_subagent_conversation_is_answered_and_its_lines_carry_the_parent_tool_use",
        Script::subagent("Inspect files", "Run the echo", inner, "The subagent reported back."),
        "delegate",
        &[],
    ) else {
        return;
    };
    assert_exit(&finished, 0);

    let tool_uses = finished.blocks("assistant", "tool_use");
    let (agent_call, parent) = tool_uses
        .iter()
        .find(|(block, _)| block["name"] == "Agent")
        .unwrap_or_else(|| panic!("no Agent tool_use:\n{}", finished.render()));
    assert_eq!(parent, &Value::Null, "the Agent call belongs to the main conversation");
    let agent_id = &agent_call["id"];

    // The subagent's own tool call and its result are tagged with the Agent call's id.
    let (inner_bash, inner_parent) = tool_uses
        .iter()
        .find(|(block, _)| block["name"] == "Bash")
        .unwrap_or_else(|| panic!("no subagent Bash call:\n{}", finished.render()));
    assert_eq!(inner_parent, agent_id);
    let (inner_result, inner_result_parent) = tool_result(&finished, &inner_bash["id"]);
    assert_eq!(&inner_result_parent, agent_id);
    assert_eq!(result_text(&inner_result), "from-subagent");

    let started = finished.of_type("system", Some("task_started"));
    assert_eq!(started.len(), 1, "{}", finished.render());
    assert_eq!(&started[0]["tool_use_id"], agent_id);
    let notified = finished.of_type("system", Some("task_notification"));
    assert!(
        notified.iter().any(|line| line["status"] == "completed"),
        "{}",
        finished.render()
    );

    // The subagent's texts and thinking are not printed as lines of their own (only its tool calls are):
    // its final text comes back as the Agent tool's result, then the main conversation ends.
    let subagent_texts = finished
        .blocks("assistant", "text")
        .into_iter()
        .filter(|(_, parent)| !parent.is_null());
    assert_eq!(subagent_texts.count(), 0, "{}", finished.render());
    let (agent_result, _) = tool_result(&finished, agent_id);
    assert!(
        result_text(&agent_result).contains("The subagent is done."),
        "{agent_result}"
    );
    assert_eq!(finished.result()["result"], "The subagent reported back.");

    let steps = |kind| api.messages_requests(kind).iter().map(|r| r.step).collect::<Vec<_>>();
    assert_eq!(steps(RequestKind::Main), [Some(0), Some(1)]);
    assert_eq!(steps(RequestKind::Subagent), [Some(0), Some(1)]);
    assert!(
        sandbox
            .transcripts()
            .iter()
            .any(|path| path.to_string_lossy().contains("/subagents/agent-")),
        "{:?}",
        sandbox.transcripts()
    );
}

/// Runs a prompt that `error` answers; the CLI must end with an error result naming the status, and exit 1.
fn api_error_ends_the_run(test: &str, error: ApiError) {
    let status = error.status;
    let message = error.message.clone();
    let Some((api, _sandbox, finished)) = run_prompt(test, Script::error(error), "fail please", &[]) else {
        return;
    };
    assert_exit(&finished, 1);
    let result = finished.result();
    // The subtype stays `success`: only `is_error` tells the failure.
    assert_eq!(result["is_error"], true, "{}", finished.render());
    assert_eq!(result["api_error_status"], status, "{}", finished.render());
    let text = result["result"].as_str().expect("a result text");
    assert!(
        text.contains(&format!("API Error: {status}")) && text.contains(&message),
        "{text}"
    );
    // The error shows as a synthetic assistant line, and both 500 and 529 are reported as `server_error`.
    let assistants = finished.of_type("assistant", None);
    assert_eq!(assistants.len(), 1, "{}", finished.render());
    assert_eq!(assistants[0]["error"], "server_error");
    assert_eq!(assistants[0]["message"]["model"], "<synthetic>");
    // With retries off the CLI asks once.
    assert_eq!(api.messages_requests(RequestKind::Main).len(), 1);
}

#[test]
fn a_server_error_surfaces_as_an_error_result_and_exit_1() {
    api_error_ends_the_run(
        "a_server_error_surfaces_as_an_error_result_and_exit_1",
        ApiError::internal(),
    );
}

#[test]
fn an_overloaded_api_surfaces_as_an_error_result_and_exit_1() {
    api_error_ends_the_run(
        "an_overloaded_api_surfaces_as_an_error_result_and_exit_1",
        ApiError::overloaded(),
    );
}

#[test]
fn a_slow_stream_can_be_interrupted_midway() {
    let Some(bin) = require_claude_bin("a_slow_stream_can_be_interrupted_midway") else {
        return;
    };
    // 20 deltas a second apart: the stream would take 20 s, so an answer within TURN_TIMEOUT proves the cut.
    let chunks: Vec<String> = (1..=20).map(|n| format!("part{n} ")).collect();
    let chunks: Vec<&str> = chunks.iter().map(String::as_str).collect();
    let api = MockApi::start(Script::slow_text(&chunks, Duration::from_secs(1)));
    let sandbox = Sandbox::new();
    let mut run = ClaudeRun::start(&bin, &api, &sandbox, &["--include-partial-messages"]);
    run.send_prompt("talk slowly");

    run.wait_for_line("the first text delta", TURN_TIMEOUT, |line| {
        line["type"] == "stream_event" && line["event"]["delta"]["text"] == "part1 "
    });
    run.send(&json!({"type": "control_request", "request_id": "interrupt-1", "request": {"subtype": "interrupt"}}));
    let ack = run.wait_for_line("the interrupt's control_response", Duration::from_secs(10), |line| {
        line["type"] == "control_response"
    });
    assert_eq!(
        ack["response"],
        json!({"request_id": "interrupt-1", "subtype": "success"})
    );
    let result = run.wait_for_line("the result after the interrupt", Duration::from_secs(10), |line| {
        line["type"] == "result"
    });
    assert_eq!(result["subtype"], "error_during_execution", "{result}");
    assert_eq!(result["is_error"], true, "{result}");
    assert_eq!(result["terminal_reason"], "aborted_streaming", "{result}");

    let outcome = api.wait_for("the stream to be cut", Duration::from_secs(10), |records| {
        records.iter().find_map(|record| record.stream)
    });
    let StreamOutcome::Aborted { events_sent } = outcome else {
        panic!("the stream should have been cut, got {outcome:?}");
    };
    assert!(events_sent < 25, "only the first deltas went out, sent {events_sent}");
    let finished = run.finish(TURN_TIMEOUT);
    // The text received so far is kept as an assistant line, followed by the CLI's own interruption note.
    assert_eq!(texts(&finished), ["part1 "], "{}", finished.render());
    let note = finished.blocks("user", "text");
    assert!(
        note.iter()
            .any(|(block, _)| block["text"] == "[Request interrupted by user]"),
        "{note:?}"
    );
    assert!(
        !finished
            .lines
            .iter()
            .any(|line| line["event"]["delta"]["text"] == "part20 "),
        "{}",
        finished.render()
    );
    // The last result was the interrupted one, so the process reports failure.
    assert_exit(&finished, 1);
}

#[test]
fn each_prompt_of_a_session_starts_the_script_again() {
    let Some(bin) = require_claude_bin("each_prompt_of_a_session_starts_the_script_again") else {
        return;
    };
    let api = MockApi::start(Script::bash("echo hello", "Ran it."));
    let sandbox = Sandbox::new();
    let mut run = ClaudeRun::start(&bin, &api, &sandbox, &[]);
    for prompt in ["first", "second"] {
        run.send_prompt(prompt);
        let result = run.wait_for_line("a result", TURN_TIMEOUT, |line| line["type"] == "result");
        assert_eq!(result["result"], "Ran it.", "{result}");
    }
    let finished = run.finish(TURN_TIMEOUT);
    assert_exit(&finished, 0);
    // One init line per prompt, one session.
    let inits = finished.of_type("system", Some("init"));
    assert_eq!(inits.len(), 2, "{}", finished.render());
    assert_eq!(inits[0]["session_id"], inits[1]["session_id"]);

    let main = api.messages_requests(RequestKind::Main);
    assert_eq!(
        main.iter().map(|r| r.step).collect::<Vec<_>>(),
        [Some(0), Some(1), Some(0), Some(1)]
    );
    // The second prompt's first request carries the whole first exchange.
    assert_eq!(
        main[2].messages().iter().filter(|m| m["role"] == "assistant").count(),
        2
    );
}
