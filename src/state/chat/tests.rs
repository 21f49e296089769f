//! The chat store's tests: stream lines into items, runs, permissions, images.

use super::*;
use crate::domain::claude::stream::ParsedLine;
use crate::domain::claude::stream::parse_line;

fn message(json: &str) -> Arc<StreamMessage> {
    match parse_line(json) {
        ParsedLine::Message(m) => Arc::new(m),
        other => panic!("{other:?}"),
    }
}

fn feed(store: &mut ChatStore, run_id: RunId, json: &str) {
    store.apply_output(run_id, message(json), Arc::from(json));
}

#[test]
fn a_read_image_reaches_the_tab_that_dropped_it() {
    let mut store = ChatStore::default();
    let mut shown = ChatSession::new("New chat", "/p");
    shown.reading = vec![4, 5];
    store.sessions.insert(1, shown);
    store.sessions.insert(2, ChatSession::new("Other", "/q"));
    assert!(store.image_read(4, std::path::Path::new("/d/shot.PNG"), vec![1, 2, 3]));
    assert!(store.image_failed(5, "cannot read /d/b.png: it is larger than 5120 KiB"));
    assert!(
        !store.image_read(4, std::path::Path::new("/d/shot.png"), vec![]),
        "answered once"
    );
    let session = &store.sessions[&1];
    assert_eq!(session.attachments.len(), 1);
    assert_eq!(
        (
            session.attachments[0].name.as_str(),
            session.attachments[0].media_type.as_str()
        ),
        ("shot.PNG", "image/png")
    );
    assert!(session.error.as_deref().is_some_and(|e| e.contains("larger than")));
    assert!(session.reading.is_empty());
    assert!(store.sessions[&2].attachments.is_empty());
}

fn store_with_run() -> ChatStore {
    let mut store = ChatStore::default();
    let mut session = ChatSession::new("New chat", "/p");
    session.run = Some(ActiveRun {
        request_id: 9,
        run_id: None,
        stopping: false,
    });
    store.sessions.insert(1, session);
    store
}

#[test]
fn outputs_before_the_start_confirmation_are_kept_and_tools_pair_with_results() {
    let mut store = store_with_run();
    feed(
        &mut store,
        5,
        r#"{"type":"system","subtype":"init","session_id":"s-1"}"#,
    );
    assert!(store.run_started(9, 5));
    feed(
        &mut store,
        5,
        r#"{"type":"assistant","message":{"id":"m1","content":[{"type":"tool_use","id":"t1","name":"Bash","input":{"command":"ls"}}]}}"#,
    );
    feed(
        &mut store,
        5,
        r#"{"type":"user","message":{"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","content":"a.txt","is_error":false}]}}"#,
    );
    feed(
        &mut store,
        5,
        r#"{"type":"assistant","message":{"id":"m2","content":[{"type":"text","text":"Done"}]}}"#,
    );
    feed(
        &mut store,
        5,
        r#"{"type":"result","subtype":"success","is_error":false,"total_cost_usd":0.01,"num_turns":2,"usage":{"input_tokens":3,"output_tokens":4}}"#,
    );
    let session = &store.sessions[&1];
    assert_eq!(session.session_id.as_deref(), Some("s-1"));
    let ChatItem::Tool(call) = &session.items[0] else {
        panic!("{:?}", session.items)
    };
    assert_eq!(call.result.as_ref().map(|r| r.text.as_str()), Some("a.txt"));
    assert_eq!(
        session.items[1],
        ChatItem::Text {
            text: "Done".into(),
            subagent: false
        }
    );
    assert!(matches!(&session.items[2], ChatItem::Footer(f) if f.output_tokens == 4 && f.turns == Some(2)));
    assert_eq!(session.to_jsonl().lines().count(), 5);
    store.apply_finished(RunOutcome {
        run_id: 5,
        session_id: Some("s-1".into()),
        exit_code: Some(0),
        cancelled: false,
        stderr_tail: String::new(),
        garbage_lines: 0,
        metrics: None,
        error: None,
    });
    assert!(!store.sessions[&1].is_busy());
    assert!(store.sessions[&1].error.is_none());
}

#[test]
fn failures_show_the_clis_own_message() {
    let mut store = store_with_run();
    store.run_started(9, 2);
    feed(
        &mut store,
        2,
        r#"{"type":"assistant","error":"authentication_failed","message":{"model":"<synthetic>","content":[{"type":"text","text":"Not logged in · Please run /login"}]}}"#,
    );
    feed(
        &mut store,
        2,
        r#"{"type":"result","subtype":"success","is_error":true,"result":"Not logged in · Please run /login"}"#,
    );
    assert_eq!(
        store.sessions[&1].error.as_deref(),
        Some("Not logged in · Please run /login")
    );

    let mut store = store_with_run();
    store.run_started(9, 3);
    store.apply_finished(RunOutcome {
        run_id: 3,
        session_id: None,
        exit_code: Some(2),
        cancelled: false,
        stderr_tail: "boom".into(),
        garbage_lines: 0,
        metrics: None,
        error: Some("Claude exited with status 2: boom".into()),
    });
    assert_eq!(
        store.sessions[&1].error.as_deref(),
        Some("Claude exited with status 2: boom")
    );
    assert!(!store.run_failed(1234, "x"));
}

#[test]
fn permission_prompts_wait_and_memory_stays_bounded() {
    let mut store = store_with_run();
    store.run_started(9, 4);
    feed(
        &mut store,
        4,
        r#"{"type":"control_request","request_id":"r1","request":{"subtype":"can_use_tool","tool_name":"Write","input":{"file_path":"a"}}}"#,
    );
    assert_eq!(store.sessions[&1].permissions.len(), 1);
    let session = store.sessions.get_mut(&1).unwrap();
    for i in 0..(MAX_ITEMS + 10) {
        session.push(ChatItem::Notice {
            text: i.to_string(),
            error: false,
        });
    }
    assert!(session.items.len() <= MAX_ITEMS);
    assert!(session.dropped > 0);
}

#[test]
fn a_resumed_tab_reads_its_transcript_in_order_and_stops_on_a_failure() {
    use crate::domain::transcripts::page::{PageLine, SessionPage};
    let page = |offset: u64, next: u64, lines: &[&str], eof: bool| SessionPage {
        file: "-p/s.jsonl".into(),
        offset,
        next_offset: next,
        file_size: 200,
        lines: lines.iter().map(|l| PageLine::parse(l)).collect(),
        eof,
    };
    let prompt = r#"{"type":"user","message":{"role":"user","content":"first question"}}"#;
    let answer =
        r#"{"type":"assistant","message":{"role":"assistant","content":[{"type":"text","text":"first answer"}]}}"#;
    let mut store = ChatStore::default();
    let mut tab = ChatSession::new("Resumed", "/p");
    tab.earlier = Some(EarlierMessages::new("-p/s.jsonl"));
    store.sessions.insert(1, tab);
    assert!(store.sessions[&1].loading_earlier());
    assert_eq!(
        store.sessions[&1].earlier.as_ref().unwrap().next_page(),
        Some(("-p/s.jsonl".to_owned(), 0))
    );
    store.sessions.get_mut(&1).unwrap().earlier.as_mut().unwrap().pending = Some(7);
    assert!(!store.earlier_page(8, &page(0, 100, &[prompt], false)), "not asked for");
    assert!(store.earlier_page(7, &page(0, 100, &[prompt], false)));
    store.sessions.get_mut(&1).unwrap().earlier.as_mut().unwrap().pending = Some(9);
    // An answer for another offset is taken but adds nothing.
    assert!(store.earlier_page(9, &page(0, 100, &[prompt], false)));
    assert_eq!(store.sessions[&1].items.len(), 1);
    store.sessions.get_mut(&1).unwrap().earlier.as_mut().unwrap().pending = Some(10);
    assert!(store.earlier_page(10, &page(100, 200, &[answer], true)));
    let session = &store.sessions[&1];
    assert!(!session.loading_earlier());
    assert_eq!(
        session.items,
        vec![
            ChatItem::Prompt {
                text: "first question".into()
            },
            ChatItem::Text {
                text: "first answer".into(),
                subagent: false
            }
        ]
    );

    let mut failing = ChatSession::new("Resumed", "/p");
    failing.earlier = Some(EarlierMessages::new("-p/gone.jsonl"));
    failing.earlier.as_mut().unwrap().pending = Some(11);
    store.sessions.insert(2, failing);
    assert!(store.earlier_failed(11, "no such file"));
    let failing = &store.sessions[&2];
    assert!(
        !failing.loading_earlier(),
        "a prompt is not held back by a transcript that cannot be read"
    );
    assert_eq!(failing.earlier.as_ref().unwrap().error.as_deref(), Some("no such file"));
}

#[test]
fn streamed_text_grows_in_place_and_the_complete_message_replaces_it() {
    let mut store = ChatStore::default();
    store.sessions.insert(1, ChatSession::new("Chat", "/p"));
    store.runs.insert(3, 1);
    let delta = |kind: &str, field: &str, text: &str| {
        format!(
            r#"{{"type":"stream_event","event":{{"type":"content_block_delta","index":0,"delta":{{"type":"{kind}","{field}":"{text}"}}}}}}"#
        )
    };
    let start = r#"{"type":"stream_event","event":{"type":"content_block_start","index":1,"content_block":{"type":"text","text":""}}}"#;
    feed(&mut store, 3, &delta("thinking_delta", "thinking", "Let me "));
    feed(&mut store, 3, &delta("thinking_delta", "thinking", "think."));
    feed(&mut store, 3, start);
    feed(&mut store, 3, &delta("text_delta", "text", "Hello "));
    feed(&mut store, 3, &delta("text_delta", "text", "there"));
    let session = &store.sessions[&1];
    assert_eq!(
        session.items,
        vec![
            ChatItem::Thinking {
                text: "Let me think.".into()
            },
            ChatItem::Text {
                text: "Hello there".into(),
                subagent: false
            }
        ]
    );
    assert!(session.raw.is_empty(), "token pieces are not kept as lines");
    // A subagent's pieces are not drawn into the main conversation.
    let mut sub = delta("text_delta", "text", "inner");
    sub.insert_str(sub.len() - 1, r#","parent_tool_use_id":"toolu_1""#);
    feed(&mut store, 3, &sub);
    assert_eq!(store.sessions[&1].items.len(), 2);

    feed(
        &mut store,
        3,
        r#"{"type":"assistant","message":{"role":"assistant","content":[{"type":"thinking","thinking":"Let me think.","signature":"s"},{"type":"text","text":"Hello there!"}]}}"#,
    );
    let session = &store.sessions[&1];
    assert_eq!(session.items.len(), 2, "replaced, not doubled: {:?}", session.items);
    assert_eq!(
        session.items[1],
        ChatItem::Text {
            text: "Hello there!".into(),
            subagent: false
        }
    );
    // The next message streams into a new item after the complete one.
    feed(&mut store, 3, &delta("text_delta", "text", "More"));
    assert_eq!(store.sessions[&1].items.len(), 3);
    feed(
        &mut store,
        3,
        r#"{"type":"result","subtype":"error_max_budget_usd","is_error":true,"total_cost_usd":0.0123,"errors":[]}"#,
    );
    let session = &store.sessions[&1];
    assert_eq!(
        session.items.len(),
        4,
        "a turn that stopped keeps what streamed in, then its footer"
    );
    assert!(
        session
            .error
            .as_deref()
            .is_some_and(|e| e.contains("budget") && e.contains("$0.0123")),
        "{:?}",
        session.error
    );
}

#[test]
fn context_use_compaction_and_tasks_are_followed() {
    let mut store = ChatStore::default();
    store.sessions.insert(1, ChatSession::new("Chat", "/p"));
    store.runs.insert(3, 1);
    feed(
        &mut store,
        3,
        r#"{"type":"system","subtype":"init","session_id":"s","model":"claude-opus-4-8[1m]"}"#,
    );
    assert_eq!(store.sessions[&1].context(), None, "nothing reported yet");
    feed(
        &mut store,
        3,
        r#"{"type":"assistant","message":{"role":"assistant","content":[{"type":"text","text":"hi"}],"usage":{"input_tokens":10,"cache_read_input_tokens":40000,"cache_creation_input_tokens":2000,"output_tokens":90}}}"#,
    );
    assert_eq!(
        store.sessions[&1].context(),
        Some((42_100, 1_000_000)),
        "a [1m] model's window"
    );
    // A subagent's requests are not the conversation's context.
    feed(
        &mut store,
        3,
        r#"{"type":"assistant","parent_tool_use_id":"t","message":{"role":"assistant","content":[],"usage":{"input_tokens":5,"output_tokens":5}}}"#,
    );
    assert_eq!(store.sessions[&1].context_used, 42_100);
    feed(
        &mut store,
        3,
        r#"{"type":"result","subtype":"success","is_error":false,"modelUsage":{"claude-opus-4-8":{"inputTokens":1,"contextWindow":200000}}}"#,
    );
    assert_eq!(
        store.sessions[&1].context(),
        Some((42_100, 200_000)),
        "the CLI's own figure wins"
    );

    feed(
        &mut store,
        3,
        r#"{"type":"system","subtype":"task_started","task_id":"k1","description":"Explore the code"}"#,
    );
    feed(
        &mut store,
        3,
        r#"{"type":"system","subtype":"task_notification","task_id":"k1","status":"completed"}"#,
    );
    feed(
        &mut store,
        3,
        r#"{"type":"system","subtype":"task_started","task_id":"k2","description":"Run tests"}"#,
    );
    assert_eq!(
        store.sessions[&1].tasks,
        vec![
            TaskState {
                id: "k1".into(),
                description: "Explore the code".into(),
                status: "completed".into()
            },
            TaskState {
                id: "k2".into(),
                description: "Run tests".into(),
                status: "running".into()
            }
        ]
    );

    feed(
        &mut store,
        3,
        r#"{"type":"system","subtype":"compact_boundary","compact_metadata":{"trigger":"manual","pre_tokens":42100}}"#,
    );
    let session = &store.sessions[&1];
    assert_eq!(
        session.context(),
        None,
        "compaction frees the context until the next request"
    );
    assert!(
        matches!(session.items.last(), Some(ChatItem::Notice { text, .. }) if text.contains("compacted here (42100 tokens before)"))
    );
}
