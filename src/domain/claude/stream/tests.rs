//! Tests against real CLI 2.1.197 output (`tests/fixtures/stream/`) and hand-made edge cases.

use serde_json::{Value, json};

use super::*;

macro_rules! fixture {
    ($name:literal) => {
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/stream/", $name))
    };
}

const FIXTURES: [(&str, &str); 9] = [
    ("allow_always", fixture!("allow_always.jsonl")),
    ("api_retry", fixture!("api_retry.jsonl")),
    ("control_responses", fixture!("control_responses.jsonl")),
    (
        "denied_without_prompt_tool",
        fixture!("denied_without_prompt_tool.jsonl"),
    ),
    ("deny", fixture!("deny.jsonl")),
    ("partial_messages", fixture!("partial_messages.jsonl")),
    ("set_mode_model", fixture!("set_mode_model.jsonl")),
    ("text_thinking", fixture!("text_thinking.jsonl")),
    ("write_interrupt_image", fixture!("write_interrupt_image.jsonl")),
];

fn messages(text: &str) -> Vec<StreamMessage> {
    text.lines()
        .map(|line| match parse_line(line) {
            ParsedLine::Message(message) => message,
            other => panic!("fixture line did not parse: {other:?}"),
        })
        .collect()
}

fn results(messages: &[StreamMessage]) -> Vec<&ResultMessage> {
    messages
        .iter()
        .filter_map(|message| match message {
            StreamMessage::Result(result) => Some(result.as_ref()),
            _ => None,
        })
        .collect()
}

fn can_use_tool(messages: &[StreamMessage]) -> (&str, &CanUseTool) {
    messages
        .iter()
        .find_map(|message| match message {
            StreamMessage::ControlRequest(ControlRequest {
                request_id,
                request: IncomingRequest::CanUseTool(request),
            }) => Some((request_id.as_str(), request.as_ref())),
            _ => None,
        })
        .expect("a can_use_tool request")
}

fn line_json(message: &OutgoingMessage) -> Value {
    let line = message.to_line().expect("serializes");
    assert!(line.ends_with('\n'));
    assert_eq!(line.matches('\n').count(), 1, "one line per message: {line}");
    serde_json::from_str(&line).expect("valid JSON")
}

#[test]
fn every_real_line_is_known() {
    for (name, text) in FIXTURES {
        for (index, message) in messages(text).iter().enumerate() {
            let unknown = matches!(message, StreamMessage::Unknown(_))
                || matches!(message, StreamMessage::System(SystemMessage::Unknown(_)));
            assert!(!unknown, "{name} line {}: {message:?}", index + 1);
        }
    }
}

#[test]
fn init_thinking_text_and_result() {
    let lines = messages(fixture!("text_thinking.jsonl"));
    let StreamMessage::System(SystemMessage::Init(init)) = &lines[0] else {
        panic!("first line is init: {:?}", lines[0]);
    };
    assert_eq!(init.cwd.as_deref(), Some("/home/user/project"));
    assert_eq!(init.model.as_deref(), Some("claude-opus-4-8[1m]"));
    assert_eq!(init.permission_mode.as_deref(), Some("default"));
    assert_eq!(init.claude_code_version.as_deref(), Some("2.1.197"));
    assert_eq!(init.api_key_source.as_deref(), Some("ANTHROPIC_API_KEY"));
    assert!(init.tools.iter().any(|tool| tool == "Bash"));
    assert!(init.mcp_servers.is_empty());
    assert!(!init.slash_commands.is_empty());
    // Fields without a typed home are kept, not dropped.
    assert!(init.extra.contains_key("memory_paths"));
    let session_id = init.session_id.clone().expect("session id");
    assert!(lines.iter().all(|line| line.session_id() == Some(session_id.as_str())));

    let blocks: Vec<&ContentBlock> = lines
        .iter()
        .filter_map(|line| match line {
            StreamMessage::Assistant(assistant) => Some(&assistant.message.content[..]),
            _ => None,
        })
        .flatten()
        .collect();
    assert_eq!(
        blocks,
        [
            &ContentBlock::Text {
                text: "Hello from the mock.".to_owned()
            },
            &ContentBlock::Thinking {
                thinking: "Let me think about this.".to_owned(),
                signature: Some("c2lnbmF0dXJl".to_owned()),
            },
            &ContentBlock::Text {
                text: "Thought and answered.".to_owned()
            },
        ]
    );
    assert!(lines.iter().any(|line| matches!(
        line,
        StreamMessage::System(SystemMessage::ThinkingTokens(ThinkingTokens {
            estimated_tokens: 6,
            ..
        }))
    )));

    let results = results(&lines);
    assert_eq!(results.len(), 2);
    let last = results[1];
    assert_eq!(last.subtype, ResultSubtype::Success);
    assert!(!last.is_error);
    assert_eq!(last.result.as_deref(), Some("Thought and answered."));
    assert_eq!(last.num_turns, Some(1));
    assert_eq!(last.total_cost_usd, Some(0.0033));
    let usage = last.usage.as_ref().expect("usage");
    assert_eq!((usage.input_tokens, usage.output_tokens), (120, 42));
    let model = &last.model_usage["claude-opus-4-8[1m]"];
    assert_eq!((model.input_tokens, model.output_tokens), (240, 84));
    assert_eq!(model.cost_usd, Some(0.0033));
}

#[test]
fn can_use_tool_with_suggestions_and_allow_always() {
    let lines = messages(fixture!("allow_always.jsonl"));
    let (request_id, request) = can_use_tool(&lines);
    assert_eq!(request.tool_name, "Bash");
    assert_eq!(request.input["command"], "touch made_by_tool.txt");
    assert_eq!(request.description.as_deref(), Some("Create a file"));
    assert_eq!(request.tool_use_id.as_deref(), Some("toolu_mock0001"));
    assert_eq!(
        request.blocked_path.as_deref(),
        Some("/home/user/project/made_by_tool.txt")
    );
    assert_eq!(request.permission_suggestions.len(), 3);
    assert!(matches!(
        &request.permission_suggestions[0],
        PermissionUpdate::AddRules { rules, behavior, destination, .. }
            if rules == &[PermissionRule { tool_name: "Bash".into(), rule_content: Some("touch made_by_tool.txt".into()) }]
                && behavior == "allow" && destination == "localSettings"
    ));
    assert!(matches!(
        &request.permission_suggestions[1],
        PermissionUpdate::AddDirectories { .. }
    ));
    assert!(
        matches!(&request.permission_suggestions[2], PermissionUpdate::SetMode { mode, .. } if mode == "acceptEdits")
    );

    // "Always" sends the rule only: the other suggestions would switch the session to acceptEdits.
    assert_eq!(
        line_json(&OutgoingMessage::allow_always(request_id, request)),
        json!({"type": "control_response", "response": {"subtype": "success", "request_id": request_id,
            "response": {"behavior": "allow",
                "updatedInput": {"command": "touch made_by_tool.txt", "description": "Create a file"},
                "updatedPermissions": [{"type": "addRules", "behavior": "allow", "destination": "localSettings",
                    "rules": [{"toolName": "Bash", "ruleContent": "touch made_by_tool.txt"}]}]}}})
    );
    let session = request.allow_for_session_updates();
    assert!(matches!(&session[..], [PermissionUpdate::AddRules { destination, .. }] if destination == "session"));

    // Sending every suggestion (as this capture did) switched the mode, which the CLI reports.
    assert!(lines.iter().any(|line| matches!(
        line,
        StreamMessage::System(SystemMessage::Status(status)) if status.permission_mode.as_deref() == Some("acceptEdits")
    )));
    let user = lines
        .iter()
        .find_map(|line| match line {
            StreamMessage::User(user) => Some(user),
            _ => None,
        })
        .expect("tool result line");
    let result = user.tool_results().next().expect("a tool result");
    assert_eq!(result.tool_use_id, "toolu_mock0001");
    assert!(!result.is_error);
    assert_eq!(result.content.text(), "(Bash completed with no output)");
    assert_eq!(
        user.tool_use_result.as_ref().expect("structured")["noOutputExpected"],
        true
    );
}

#[test]
fn suggestions_round_trip_exactly() {
    let lines = messages(fixture!("allow_always.jsonl"));
    let raw: Value = fixture!("allow_always.jsonl")
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .find(|value| value["type"] == "control_request")
        .expect("raw request");
    let (_, request) = can_use_tool(&lines);
    let written = serde_json::to_value(&request.permission_suggestions).expect("serializes");
    assert_eq!(written, raw["request"]["permission_suggestions"]);
}

#[test]
fn file_edit_always_uses_the_mode_suggestion() {
    let lines = messages(fixture!("write_interrupt_image.jsonl"));
    let (_, request) = can_use_tool(&lines);
    assert_eq!(request.tool_name, "Write");
    assert_eq!(request.description.as_deref(), Some("notes.txt"));
    let updates = request.allow_always_updates();
    assert!(
        matches!(&updates[..], [PermissionUpdate::SetMode { mode, destination, .. }]
        if mode == "acceptEdits" && destination == "session")
    );
}

#[test]
fn deny_and_interrupt_results() {
    let lines = messages(fixture!("deny.jsonl"));
    let denied = lines
        .iter()
        .find_map(|line| match line {
            StreamMessage::User(user) => user.tool_results().next().map(|result| (result, user)),
            _ => None,
        })
        .expect("tool result");
    assert!(denied.0.is_error);
    assert_eq!(denied.0.content.text(), "The person said no.");
    assert_eq!(denied.1.tool_use_result, Some(json!("Error: The person said no.")));

    let lines = messages(fixture!("write_interrupt_image.jsonl"));
    let interrupted = results(&lines)
        .into_iter()
        .find(|result| result.subtype == ResultSubtype::ErrorDuringExecution)
        .expect("interrupted turn");
    assert!(interrupted.is_error);
    assert_eq!(interrupted.terminal_reason.as_deref(), Some("aborted_streaming"));
    assert_eq!(interrupted.errors.len(), 1);
    assert!(lines.iter().any(|line| matches!(
        line,
        StreamMessage::User(user) if user.message.content.text() == "[Request interrupted by user]"
    )));
}

#[test]
fn control_responses() {
    let lines = messages(fixture!("control_responses.jsonl"));
    let [
        StreamMessage::ControlResponse(init),
        StreamMessage::ControlResponse(error),
        StreamMessage::ControlResponse(interrupt),
    ] = &lines[..]
    else {
        panic!("three control responses: {lines:?}");
    };
    assert_eq!(init.request_id(), Some("req_init_1"));
    let info = init.initialize().expect("initialize answer");
    assert!(info.commands.iter().any(|command| command.name == "init"));
    assert!(info.models.iter().any(|model| model.value == "default"));
    assert!(info.pid.is_some());
    assert!(matches!(&error.response, ResponseBody::Error { request_id, error }
        if request_id == "req_bogus_2" && error.contains("no_such_subtype")));
    assert!(
        matches!(&interrupt.response, ResponseBody::Success { request_id, response: None }
        if request_id == "req_int_3")
    );
    assert!(interrupt.initialize().is_none());

    let lines = messages(fixture!("set_mode_model.jsonl"));
    assert!(lines.iter().any(|line| matches!(
        line,
        StreamMessage::ControlResponse(ControlResponse { response: ResponseBody::Success { response: Some(body), .. } })
            if body == &json!({"mode": "acceptEdits"})
    )));
    assert!(lines.iter().any(|line| matches!(
        line,
        StreamMessage::User(user) if user.is_replay && user.message.content.text().contains("Set model to sonnet")
    )));
}

#[test]
fn api_retry_and_synthetic_error() {
    let lines = messages(fixture!("api_retry.jsonl"));
    let retry = lines
        .iter()
        .find_map(|line| match line {
            StreamMessage::System(SystemMessage::ApiRetry(retry)) => Some(retry),
            _ => None,
        })
        .expect("api_retry line");
    assert_eq!(
        (retry.attempt, retry.max_retries, retry.error_status),
        (1, 1, Some(529))
    );
    assert!(retry.retry_delay_ms.is_some_and(|delay| delay > 613.0 && delay < 614.0));
    assert_eq!(retry.error.as_deref(), Some("overloaded"));
    let assistant = lines
        .iter()
        .find_map(|line| match line {
            StreamMessage::Assistant(assistant) => Some(assistant),
            _ => None,
        })
        .expect("assistant line");
    assert!(assistant.is_synthetic());
    assert_eq!(assistant.error.as_deref(), Some("server_error"));
    let result = results(&lines)[0];
    // The CLI says "success" for API failures: is_error is what tells.
    assert_eq!(result.subtype, ResultSubtype::Success);
    assert!(result.is_error);
    assert_eq!(result.api_error_status, Some(529));
}

#[test]
fn partial_messages_give_text_deltas() {
    let lines = messages(fixture!("partial_messages.jsonl"));
    let text: String = lines
        .iter()
        .filter_map(|line| match line {
            StreamMessage::StreamEvent(event) => event.text_delta(),
            _ => None,
        })
        .collect();
    assert_eq!(text, "Hello from the mock.");
    assert!(lines.iter().any(|line| matches!(
        line,
        StreamMessage::System(SystemMessage::Status(status)) if status.status.as_deref() == Some("requesting")
    )));
}

#[test]
fn permission_denials_without_prompt_tool() {
    let lines = messages(fixture!("denied_without_prompt_tool.jsonl"));
    let result = results(&lines)[0];
    let [denial] = &result.permission_denials[..] else {
        panic!("one denial: {:?}", result.permission_denials);
    };
    assert_eq!(denial.tool_name, "Bash");
    assert_eq!(denial.tool_input["command"], "touch made_by_tool.txt");
}

#[test]
fn garbage_blank_and_truncated_lines() {
    assert_eq!(parse_line(""), ParsedLine::Blank);
    assert_eq!(parse_line("  \r"), ParsedLine::Blank);
    for line in [
        "Warning: something odd",
        "[1,2]",
        "42",
        "\"text\"",
        "null",
        "{\"type\":",
        "\u{0}\u{ff}",
    ] {
        assert!(matches!(parse_line(line), ParsedLine::Garbage(_)), "{line:?}");
    }
    let real = fixture!("text_thinking.jsonl").lines().nth(1).expect("a line");
    let cut = &real[..real.len() / 2];
    let ParsedLine::Garbage(garbage) = parse_line(cut) else {
        panic!("a truncated line is garbage");
    };
    assert!(garbage.excerpt.chars().count() <= GARBAGE_EXCERPT_CHARS);
    assert!(!garbage.reason.is_empty());
    // Every prefix of a real line is handled without panicking.
    for end in (0..real.len()).filter(|end| real.is_char_boundary(*end)) {
        let _ = parse_line(&real[..end]);
    }
}

#[test]
fn unknown_type_subtype_block_and_fields_are_kept() {
    let ParsedLine::Message(StreamMessage::Unknown(raw)) = parse_line(r#"{"type":"brand_new","x":1}"#) else {
        panic!("unknown type");
    };
    assert_eq!(raw, json!({"type": "brand_new", "x": 1}));

    let ParsedLine::Message(StreamMessage::System(SystemMessage::Unknown(raw))) =
        parse_line(r#"{"type":"system","subtype":"hook_started","hook":"x","session_id":"s1"}"#)
    else {
        panic!("unknown subtype");
    };
    assert_eq!(raw["hook"], "x");
    let ParsedLine::Message(message) = parse_line(r#"{"type":"system","subtype":"hook_started","session_id":"s1"}"#)
    else {
        panic!("a message");
    };
    assert_eq!(message.session_id(), Some("s1"));

    let line = r#"{"type":"assistant","new_top":true,"message":{"id":"m1","model":"x","new_inner":1,
        "content":[{"type":"redacted_thinking","data":"abc"}]},"parent_tool_use_id":"toolu_1"}"#
        .replace('\n', "");
    let ParsedLine::Message(StreamMessage::Assistant(assistant)) = parse_line(&line) else {
        panic!("assistant with unknown block");
    };
    assert_eq!(
        assistant.message.content,
        [ContentBlock::Unknown(
            json!({"type": "redacted_thinking", "data": "abc"})
        )]
    );
    assert_eq!(assistant.parent_tool_use_id.as_deref(), Some("toolu_1"));
    assert_eq!(assistant.extra["new_top"], true);
    assert_eq!(assistant.message.extra["new_inner"], 1);

    let ParsedLine::Message(StreamMessage::ControlRequest(request)) =
        parse_line(r#"{"type":"control_request","request_id":"r9","request":{"subtype":"hook_callback","x":1}}"#)
    else {
        panic!("control request");
    };
    assert!(matches!(request.request, IncomingRequest::Unknown(ref raw) if raw["x"] == 1));
}

#[test]
fn odd_but_valid_shapes_still_parse() {
    // A known type whose shape does not fit is kept whole rather than dropped.
    let ParsedLine::Message(StreamMessage::Unknown(raw)) = parse_line(r#"{"type":"assistant","message":5}"#) else {
        panic!("misfit assistant");
    };
    assert_eq!(raw["message"], 5);

    // null lists, float counts and a missing subtype do not lose the line.
    let line = r#"{"type":"result","is_error":null,"duration_ms":12.6,"num_turns":"2","errors":null,
        "permission_denials":null,"modelUsage":null,"usage":{"input_tokens":1.0,"output_tokens":null}}"#
        .replace('\n', "");
    let ParsedLine::Message(StreamMessage::Result(result)) = parse_line(&line) else {
        panic!("lenient result");
    };
    assert_eq!(result.subtype, ResultSubtype::Missing);
    assert!(!result.is_error);
    assert_eq!(result.duration_ms, Some(13));
    assert_eq!(result.num_turns, None);
    let usage = result.usage.as_ref().expect("usage");
    assert_eq!((usage.input_tokens, usage.output_tokens), (1, 0));
    let ParsedLine::Message(StreamMessage::Result(result)) =
        parse_line(r#"{"type":"result","subtype":"error_new_kind"}"#)
    else {
        panic!("result");
    };
    assert_eq!(result.subtype, ResultSubtype::Unknown("error_new_kind".to_owned()));

    // Tool results with block content (images, text) and without is_error.
    let line = r#"{"type":"user","message":{"role":"user","content":[{"type":"tool_result","tool_use_id":"t1",
        "content":[{"type":"text","text":"a"},{"type":"image","source":{"type":"base64"}},{"type":"text","text":"b"}]}]}}"#
        .replace('\n', "");
    let ParsedLine::Message(StreamMessage::User(user)) = parse_line(&line) else {
        panic!("user");
    };
    let result = user.tool_results().next().expect("tool result");
    assert!(!result.is_error);
    assert_eq!(result.content.text(), "a\nb");

    let ParsedLine::Message(StreamMessage::User(user)) =
        parse_line(r#"{"type":"user","message":{"role":"user","content":null}}"#)
    else {
        panic!("user with null content");
    };
    assert_eq!(user.message.content, UserContent::Blocks(Vec::new()));
}

#[test]
fn what_anyon_writes() {
    assert_eq!(
        line_json(&OutgoingMessage::user_text("Say hello")),
        json!({"type": "user", "message": {"role": "user", "content": "Say hello"}})
    );
    assert_eq!(
        line_json(&OutgoingMessage::user_blocks(vec![
            InputBlock::text("What is in this image?"),
            InputBlock::image("image/png", b"png"),
        ])),
        json!({"type": "user", "message": {"role": "user", "content": [
            {"type": "text", "text": "What is in this image?"},
            {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "cG5n"}}]}})
    );
    assert_eq!(
        line_json(&OutgoingMessage::initialize("r1")),
        json!({"type": "control_request", "request_id": "r1", "request": {"subtype": "initialize", "hooks": null}})
    );
    assert_eq!(
        line_json(&OutgoingMessage::interrupt("r2")),
        json!({"type": "control_request", "request_id": "r2", "request": {"subtype": "interrupt"}})
    );
    assert_eq!(
        line_json(&OutgoingMessage::control_request(
            "r3",
            OutgoingRequest::SetPermissionMode {
                mode: "acceptEdits".into()
            }
        )),
        json!({"type": "control_request", "request_id": "r3",
            "request": {"subtype": "set_permission_mode", "mode": "acceptEdits"}})
    );
    assert_eq!(
        line_json(&OutgoingMessage::control_request(
            "r4",
            OutgoingRequest::SetModel {
                model: Some("sonnet".into())
            }
        )),
        json!({"type": "control_request", "request_id": "r4", "request": {"subtype": "set_model", "model": "sonnet"}})
    );
    assert_eq!(
        line_json(&OutgoingMessage::deny("id9", "The person said no.")),
        json!({"type": "control_response", "response": {"subtype": "success", "request_id": "id9",
            "response": {"behavior": "deny", "message": "The person said no."}}})
    );
    assert_eq!(
        line_json(&OutgoingMessage::error_response("id8", "not supported")),
        json!({"type": "control_response", "response": {"subtype": "error", "request_id": "id8",
            "error": "not supported"}})
    );
    let lines = messages(fixture!("deny.jsonl"));
    let (request_id, request) = can_use_tool(&lines);
    assert_eq!(
        line_json(&OutgoingMessage::allow_once(request_id, request)),
        json!({"type": "control_response", "response": {"subtype": "success", "request_id": request_id,
            "response": {"behavior": "allow",
                "updatedInput": {"command": "touch made_by_tool.txt", "description": "Create a file"}}}})
    );
}
