//! The mock Messages API on its own, through a bare HTTP/1.0 client: event shapes, routing, conversation-driven
//! script steps, and robustness against requests the CLI would never send.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use serde_json::{Value, json};

use crate::support::mock_api::{
    ApiError, Block, MockApi, Reply, RequestKind, SCRIPT_OVERRUN_TEXT, SIDE_ANSWER_TEXT, Script, StreamOutcome, Usage,
};

/// Fails a test loudly instead of hanging when the server does not answer.
const READ_TIMEOUT: Duration = Duration::from_secs(10);

struct Answer {
    status: u16,
    head: String,
    body: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|error| panic!("not JSON ({error}): {}", self.body))
    }

    /// `(event name, data)` pairs of an SSE body.
    fn events(&self) -> Vec<(String, Value)> {
        self.body
            .split("\n\n")
            .filter(|chunk| !chunk.trim().is_empty())
            .map(|chunk| {
                let field = |name: &str| {
                    chunk
                        .lines()
                        .find_map(|line| line.strip_prefix(name))
                        .unwrap_or_else(|| panic!("no `{name}` in {chunk:?}"))
                        .to_owned()
                };
                let data = serde_json::from_str(&field("data: ")).expect("event data is JSON");
                (field("event: "), data)
            })
            .collect()
    }
}

/// HTTP/1.0 so the server closes the connection after the answer and the body needs no de-chunking.
fn send(api: &MockApi, method: &str, path: &str, body: &str) -> Answer {
    let address = api.base_url().trim_start_matches("http://").to_owned();
    let mut stream = TcpStream::connect(&address).expect("connect to the mock API");
    stream.set_read_timeout(Some(READ_TIMEOUT)).expect("set a read timeout");
    write!(
        stream,
        "{method} {path} HTTP/1.0\r\nHost: {address}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .expect("send the request");
    let mut raw = String::new();
    stream
        .read_to_string(&mut raw)
        .expect("read the whole answer before the timeout");
    let (head, body) = raw
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("no header end in {raw:?}"));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("no status in {head:?}"));
    Answer {
        status,
        head: head.to_owned(),
        body: body.to_owned(),
    }
}

fn conversation_request(system: &str, messages: Value) -> String {
    json!({
        "model": "claude-test-model",
        "max_tokens": 100,
        "stream": true,
        "system": [{"type": "text", "text": system}],
        "tools": [{"name": "Bash", "input_schema": {"type": "object"}}],
        "messages": messages,
    })
    .to_string()
}

fn prompt(text: &str) -> Value {
    json!([{"role": "user", "content": text}])
}

/// The text of a streamed answer, joined from its text deltas.
fn streamed_text(answer: &Answer) -> String {
    answer
        .events()
        .iter()
        .filter_map(|(_, data)| data["delta"]["text"].as_str().map(str::to_owned))
        .collect()
}

#[test]
fn a_streamed_answer_has_the_api_event_sequence_and_joinable_tool_input() {
    let input = json!({"command": "echo hi ünïcode", "description": "Say hi"});
    let api = MockApi::start(Script::new().then(Reply::tool_use("Bash", input.clone()).with_thinking("Plan")));
    let answer = send(
        &api,
        "POST",
        "/v1/messages?beta=true",
        &conversation_request("main", prompt("hi")),
    );
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert!(
        answer.head.to_lowercase().contains("content-type: text/event-stream"),
        "{}",
        answer.head
    );

    let events = answer.events();
    let names: Vec<&str> = events.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(
        names,
        [
            "message_start",
            "ping",
            "content_block_start",
            "content_block_delta",
            "content_block_delta",
            "content_block_stop",
            "content_block_start",
            "content_block_delta",
            "content_block_delta",
            "content_block_stop",
            "message_delta",
            "message_stop",
        ]
    );
    for (name, data) in &events {
        assert_eq!(&data["type"], name, "the data's type repeats the event name");
    }
    let start = &events[0].1["message"];
    assert_eq!(start["model"], "claude-test-model");
    assert!(start["id"].as_str().is_some_and(|id| id.starts_with("msg_")));
    assert_eq!(start["usage"]["output_tokens"], 1);

    assert_eq!(events[2].1["content_block"]["type"], "thinking");
    assert_eq!(
        events[3].1["delta"],
        json!({"type": "thinking_delta", "thinking": "Plan"})
    );
    assert_eq!(events[4].1["delta"]["type"], "signature_delta");

    let tool_start = &events[6].1;
    assert_eq!(tool_start["index"], 1);
    assert_eq!(tool_start["content_block"]["name"], "Bash");
    let partial: String = events[7..9]
        .iter()
        .map(|(_, data)| data["delta"]["partial_json"].as_str().expect("input_json_delta"))
        .collect();
    assert_eq!(
        serde_json::from_str::<Value>(&partial).expect("joined input parses"),
        input
    );

    let delta = &events[10].1;
    assert_eq!(delta["delta"]["stop_reason"], "tool_use");
    assert_eq!(delta["usage"]["output_tokens"], Usage::MOCK.output_tokens);
    assert_eq!(
        delta["usage"]["cache_creation"],
        json!({"ephemeral_5m_input_tokens": 60, "ephemeral_1h_input_tokens": 40})
    );

    let record = api.wait_for("the stream's outcome", READ_TIMEOUT, |records| records[0].stream);
    assert_eq!(record, StreamOutcome::Completed { events: 12 });
    assert_eq!(api.requests()[0].kind, RequestKind::Main);
}

#[test]
fn tool_use_ids_are_unique_across_answers() {
    let api = MockApi::start(Script::new().then(Reply::message(vec![
        Block::ToolUse {
            name: "Bash".into(),
            input: json!({"command": "true"}),
        },
        Block::ToolUse {
            name: "Bash".into(),
            input: json!({"command": "false"}),
        },
    ])));
    let mut ids = Vec::new();
    for _ in 0..2 {
        let answer = send(
            &api,
            "POST",
            "/v1/messages",
            &conversation_request("main", prompt("go")),
        );
        ids.extend(
            answer
                .events()
                .iter()
                .filter_map(|(_, data)| data["content_block"]["id"].as_str().map(str::to_owned)),
        );
    }
    let mut unique = ids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!((ids.len(), unique.len()), (4, 4), "{ids:?}");
}

#[test]
fn the_step_comes_from_the_conversation_and_subagents_have_their_own_script() {
    let api = MockApi::start(
        Script::new()
            .then(Reply::tool_use("Bash", json!({"command": "echo main"})))
            .then(Reply::text("main done"))
            .subagent_then(Reply::text("subagent done")),
    );
    let after_tool = json!([
        {"role": "user", "content": "go"},
        {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_1", "name": "Bash", "input": {}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "main"}]},
    ]);
    let answer = send(
        &api,
        "POST",
        "/v1/messages",
        &conversation_request("main", after_tool.clone()),
    );
    assert_eq!(streamed_text(&answer), "main done");

    // The same conversation, asked again (a retry or an extra call), gets the same step.
    let again = send(&api, "POST", "/v1/messages", &conversation_request("main", after_tool));
    assert_eq!(streamed_text(&again), "main done");

    let subagent_system = "x-anthropic-billing-header: cc_version=2.1.197; cc_is_subagent=true;";
    let answer = send(
        &api,
        "POST",
        "/v1/messages",
        &conversation_request(subagent_system, prompt("inner")),
    );
    assert_eq!(streamed_text(&answer), "subagent done");

    // A step past the script says so instead of hanging the CLI.
    let past = json!([
        {"role": "user", "content": "go"},
        {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "Bash", "input": {}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1", "content": ""}]},
        {"role": "assistant", "content": [{"type": "tool_use", "id": "t2", "name": "Bash", "input": {}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t2", "content": ""}]},
    ]);
    let answer = send(&api, "POST", "/v1/messages", &conversation_request("main", past));
    assert_eq!(streamed_text(&answer), SCRIPT_OVERRUN_TEXT);

    let kinds_and_steps: Vec<_> = api.requests().iter().map(|r| (r.kind, r.step)).collect();
    assert_eq!(
        kinds_and_steps,
        [
            (RequestKind::Main, Some(1)),
            (RequestKind::Main, Some(1)),
            (RequestKind::Subagent, Some(0)),
            (RequestKind::Main, Some(2)),
        ]
    );
}

#[test]
fn an_error_script_answers_with_the_status_and_an_api_error_body_every_time() {
    let api = MockApi::start(Script::error(ApiError::overloaded()));
    for _ in 0..2 {
        let answer = send(
            &api,
            "POST",
            "/v1/messages",
            &conversation_request("main", prompt("hi")),
        );
        assert_eq!(answer.status, 529);
        assert_eq!(
            answer.json(),
            json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}})
        );
    }
    assert!(api.requests().iter().all(|r| r.status == 529 && r.stream.is_none()));
}

#[test]
fn side_requests_get_a_plain_answer_without_touching_the_script() {
    let api = MockApi::start(Script::error(ApiError::internal()));
    let body = json!({"model": "claude-haiku-4-5", "max_tokens": 20, "messages": prompt("title this")});
    let answer = send(&api, "POST", "/v1/messages", &body.to_string());
    assert_eq!(answer.status, 200, "{}", answer.body);
    let message = answer.json();
    assert_eq!(message["model"], "claude-haiku-4-5");
    assert_eq!(message["content"], json!([{"type": "text", "text": SIDE_ANSWER_TEXT}]));
    assert_eq!(message["stop_reason"], "end_turn");
    assert_eq!(api.requests()[0].kind, RequestKind::Side);
}

#[test]
fn probes_token_counts_unknown_paths_and_malformed_bodies_are_answered_and_recorded() {
    let api = MockApi::start(Script::text("unused"));
    assert_eq!(send(&api, "HEAD", "/", "").status, 200);
    let count = send(
        &api,
        "POST",
        "/v1/messages/count_tokens",
        &conversation_request("main", prompt("hi")),
    );
    assert_eq!(count.json(), json!({"input_tokens": Usage::MOCK.input_tokens}));

    let unknown = send(&api, "GET", "/v1/files?limit=5", "");
    assert_eq!(unknown.status, 404);
    assert_eq!(unknown.json()["error"]["type"], "not_found_error");

    for bad in ["{not json", "[1, 2]", r#"{"model": "m", "messages": 3}"#] {
        let answer = send(&api, "POST", "/v1/messages", bad);
        assert_eq!(answer.status, 400, "{bad}: {}", answer.body);
        assert_eq!(answer.json()["error"]["type"], "invalid_request_error", "{bad}");
    }

    let records = api.requests();
    let kinds: Vec<RequestKind> = records.iter().map(|r| r.kind).collect();
    assert_eq!(
        kinds,
        [
            RequestKind::Probe,
            RequestKind::CountTokens,
            RequestKind::Unknown,
            RequestKind::Malformed,
            RequestKind::Malformed,
            RequestKind::Malformed,
        ]
    );
    assert_eq!(records[2].path, "/v1/files?limit=5");
    assert_eq!(records[1].header("content-type"), Some("application/json"));

    // The server still serves after all that.
    let answer = send(
        &api,
        "POST",
        "/v1/messages",
        &conversation_request("main", prompt("hi")),
    );
    assert_eq!(streamed_text(&answer), "unused");
}

#[test]
fn dropping_the_server_cuts_a_stream_in_progress() {
    let api = MockApi::start(Script::slow_text(&["a", "b", "c"], Duration::from_secs(60)));
    let address = api.base_url().trim_start_matches("http://").to_owned();
    let mut stream = TcpStream::connect(&address).expect("connect to the mock API");
    stream.set_read_timeout(Some(READ_TIMEOUT)).expect("set a read timeout");
    let body = conversation_request("main", prompt("slow"));
    write!(
        stream,
        "POST /v1/messages HTTP/1.0\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .expect("send");
    // Read until the stream has started, so the drop hits it mid-way.
    let mut raw = Vec::new();
    let mut buffer = [0u8; 4096];
    while !String::from_utf8_lossy(&raw).contains("event: content_block_start") {
        let read = stream.read(&mut buffer).expect("the stream starts before the timeout");
        assert!(read > 0, "the connection closed before the stream started");
        raw.extend_from_slice(&buffer[..read]);
    }

    drop(api);
    stream
        .read_to_end(&mut raw)
        .expect("the connection closes at once instead of timing out");
    let raw = String::from_utf8_lossy(&raw);
    assert!(!raw.contains("text_delta") && !raw.contains("message_stop"), "{raw}");
}
