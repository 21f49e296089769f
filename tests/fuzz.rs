//! Property tests of the readers of outside input: Claude's stream-json lines and transcript lines.
//! Whatever a line holds (random text, JSON of the right shape with wrong types, huge numbers, deep
//! nesting), reading it never panics and says what it made of it.

use anyon::domain::claude::stream::{ParsedLine, parse_line};
use anyon::domain::transcripts::line::{self, Line};
use proptest::prelude::*;
use serde_json::{Map, Value, json};

/// Any JSON value, a few levels deep.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        ".{0,24}".prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map("[a-z_]{1,12}", inner, 0..6)
                .prop_map(|map| Value::Object(map.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// The keys the readers look at, so random values land where they matter.
const KEYS: [&str; 16] = [
    "type",
    "subtype",
    "message",
    "content",
    "usage",
    "model",
    "id",
    "session_id",
    "sessionId",
    "timestamp",
    "requestId",
    "request",
    "request_id",
    "result",
    "tool_use_id",
    "isSidechain",
];

const TYPES: [&str; 10] = [
    "system",
    "assistant",
    "user",
    "result",
    "control_request",
    "control_response",
    "stream_event",
    "summary",
    "progress",
    "file-history-snapshot",
];

/// An object shaped like a stream or transcript line: a known `type`, then known keys with any values.
fn line_like() -> impl Strategy<Value = Value> {
    (
        prop::sample::select(TYPES.to_vec()),
        prop::collection::vec((prop::sample::select(KEYS.to_vec()), any_json()), 0..8),
        any_json(),
    )
        .prop_map(|(kind, fields, usage)| {
            let mut object = Map::new();
            object.insert("type".into(), json!(kind));
            for (key, value) in fields {
                object.insert(key.into(), value);
            }
            // Usage and message content in the places the cost and text readers look.
            object.insert(
                "message".into(),
                json!({"role": "assistant", "model": "claude-sonnet-5", "content": usage.clone(), "usage": usage}),
            );
            Value::Object(object)
        })
}

proptest! {

    #[test]
    fn stream_lines_of_any_text_are_read_or_counted(text in ".{0,400}") {
        match parse_line(&text) {
            ParsedLine::Blank => prop_assert!(text.trim().is_empty()),
            ParsedLine::Garbage(garbage) => {
                prop_assert!(!garbage.reason.is_empty());
                prop_assert!(garbage.excerpt.chars().count() <= 200);
            }
            ParsedLine::Message(_) => prop_assert!(text.trim_start().starts_with('{'), "only an object is a message"),
        }
    }

    #[test]
    fn stream_lines_shaped_like_messages_never_panic(value in line_like()) {
        let text = value.to_string();
        prop_assert!(matches!(parse_line(&text), ParsedLine::Message(_)), "an object is a message");
    }

    #[test]
    fn transcript_lines_of_any_text_never_panic(text in ".{0,400}") {
        let parsed = line::parse(&text);
        if text.trim().is_empty() {
            prop_assert!(matches!(parsed, Line::Blank));
        }
        let _ = line::parse_with(&text, false);
    }

    #[test]
    fn transcript_lines_shaped_like_records_never_panic(value in line_like()) {
        let text = value.to_string();
        let _ = line::parse(&text);
        let _ = line::parse_with(&text, false);
        // Cut anywhere (a line a crash left half written), it still reads or is counted.
        for cut in [1, text.len() / 3, text.len() / 2, text.len().saturating_sub(1)] {
            if let Some(prefix) = text.get(..cut) {
                let _ = line::parse(prefix);
                let _ = parse_line(prefix);
            }
        }
    }
}

/// A line nested far deeper than serde_json's recursion limit is refused as garbage, not a stack overflow.
#[test]
fn deeply_nested_lines_are_refused_not_overflowed() {
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    assert!(matches!(parse_line(&deep), ParsedLine::Garbage(_)));
    let deep_object = format!(
        "{{\"type\":\"assistant\",\"message\":{}{}}}",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    assert!(matches!(parse_line(&deep_object), ParsedLine::Garbage(_)));
    let _ = line::parse(&deep_object);
}

proptest! {

    /// A deep link of any text is accepted only in the one form ANYON writes, else refused with a reason.
    #[test]
    fn deep_links_of_any_text_are_refused_or_well_formed(text in ".{0,300}") {
        if let Ok(link) = anyon::domain::signin::link::parse(&text) {
            prop_assert!(text.trim_start().to_ascii_lowercase().starts_with("anyon:"), "{text:?} gave {link:?}");
        }
    }

    /// A settings file of any JSON object: setting one key changes that key and no other.
    #[test]
    fn a_settings_edit_changes_only_its_key(
        existing in prop::collection::btree_map("[a-zA-Z_]{1,10}", any_json(), 0..8),
        key in "[a-z]{1,8}",
        value in any_json(),
    ) {
        use anyon::domain::claude_config::{SettingsEdit, SettingsFile};
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("settings.json");
        let before: Map<String, Value> = existing.into_iter().collect();
        std::fs::write(&path, serde_json::to_string_pretty(&Value::Object(before.clone())).unwrap()).unwrap();
        let edit = SettingsEdit::Set { key: key.clone(), value: Some(value.clone()) };
        SettingsFile::edit(&path, None, &edit).unwrap();
        let after: Map<String, Value> = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        prop_assert_eq!(after.get(&key), Some(&value));
        for (other, was) in &before {
            if *other != key {
                prop_assert_eq!(after.get(other), Some(was), "{} changed", other);
            }
        }
        prop_assert_eq!(after.len(), before.len() + usize::from(!before.contains_key(&key)));
    }

    /// Front matter of any text: the body and the fields come back without a panic, and text with no
    /// front matter is all body.
    #[test]
    fn front_matter_of_any_text_never_panics(text in "(---\n)?.{0,200}(\n---\n)?.{0,100}") {
        let (fields, body) = anyon::domain::claude_config::commands::parse_frontmatter(&text);
        if !text.starts_with("---") {
            prop_assert!(fields.is_empty());
            prop_assert_eq!(body, text);
        }
    }

    /// Agent files of any JSON are imported or refused with a reason, never a panic.
    #[test]
    fn agent_files_of_any_json_never_panic(value in any_json(), agents in prop::collection::vec(any_json(), 0..4)) {
        let _ = anyon::domain::agents::files::parse(&value.to_string());
        let wrapped = json!({"version": 1, "agents": agents});
        let _ = anyon::domain::agents::files::parse(&wrapped.to_string());
    }
}
