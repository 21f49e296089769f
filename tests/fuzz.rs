//! Property tests of the readers of outside input: Claude's stream-json lines and transcript lines, deep
//! links, front matter, agent files, Claude's settings and MCP files, MCP imports, and the auth server's
//! request handling. Whatever the input holds (random text, JSON of the right shape with wrong types, huge
//! numbers, deep nesting, requests that lie about their length), reading it never panics and says what
//! it made of it; a write changes only what it was asked to.

use anyon::domain::claude::stream::{ParsedLine, parse_line};
use anyon::domain::transcripts::line::{self, Line};
use proptest::prelude::*;
use serde_json::{Map, Value, json};

/// `default` cases per property (those that write files or use sockets run fewer), or `PROPTEST_CASES` for a
/// longer run.
fn cases(default: u32) -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(default);
    ProptestConfig::with_cases(cases)
}

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
        use anyon::domain::claude_config::{SettingsEdit, SettingsFile, SettingsScope};
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("settings.json");
        let before: Map<String, Value> = existing.into_iter().collect();
        std::fs::write(&path, serde_json::to_string_pretty(&Value::Object(before.clone())).unwrap()).unwrap();
        let edit = SettingsEdit::Set { key: key.clone(), value: Some(value.clone()) };
        SettingsFile::edit(&path, SettingsScope::User, None, &edit).unwrap();
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

/// A `.claude.json` of any shape: `mcpServers` and `projects` of the right type or not, with other keys.
fn claude_json_like() -> impl Strategy<Value = Map<String, Value>> {
    let servers = prop_oneof![
        prop::collection::btree_map("[a-z]{1,6}", any_json(), 0..4)
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        any_json(),
    ];
    let project =
        (servers.clone(), any_json()).prop_map(|(servers, other)| json!({"mcpServers": servers, "other": other}));
    let projects = prop_oneof![
        prop::collection::btree_map(prop_oneof![Just("/p".to_owned()), "/[a-z]{1,4}"], project, 0..3)
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        any_json(),
    ];
    (
        prop::collection::btree_map("[a-zA-Z]{1,8}", any_json(), 0..5),
        prop::option::of(servers),
        prop::option::of(projects),
    )
        .prop_map(|(mut doc, servers, projects)| {
            doc.remove("mcpServers");
            doc.remove("projects");
            if let Some(servers) = servers {
                doc.insert("mcpServers".into(), servers);
            }
            if let Some(projects) = projects {
                doc.insert("projects".into(), projects);
            }
            doc.into_iter().collect()
        })
}

/// `doc` with the one server `name` of `scope` (user, or local for `/p`) taken out, for comparing what a
/// write must leave alone.
fn without_server(mut doc: Map<String, Value>, local: bool, name: &str) -> Map<String, Value> {
    let servers = if local {
        doc.get_mut("projects")
            .and_then(|p| p.get_mut("/p"))
            .and_then(|p| p.get_mut("mcpServers"))
    } else {
        doc.get_mut("mcpServers")
    };
    if let Some(Value::Object(servers)) = servers {
        servers.remove(name);
    }
    doc
}

/// Takes out the `mcpServers` object (and, for the local scope, the project and `projects`) when empty:
/// an add may have created them.
fn drop_empty_containers(doc: &mut Map<String, Value>, local: bool) {
    let empty = |value: Option<&Value>| value.and_then(Value::as_object).is_some_and(Map::is_empty);
    if !local {
        if empty(doc.get("mcpServers")) {
            doc.remove("mcpServers");
        }
        return;
    }
    let Some(Value::Object(projects)) = doc.get_mut("projects") else {
        return;
    };
    if let Some(Value::Object(project)) = projects.get_mut("/p")
        && empty(project.get("mcpServers"))
    {
        project.remove("mcpServers");
    }
    if empty(projects.get("/p")) {
        projects.remove("/p");
    }
    if projects.is_empty() {
        doc.remove("projects");
    }
}

proptest! {
    #![proptest_config(cases(128))]

    /// Claude's MCP file of any shape: listing never panics; adding a server changes that server and
    /// nothing else (other keys, other servers, other projects), or refuses and leaves the file's bytes as
    /// they were.
    #[test]
    fn an_mcp_write_after_a_read_changes_only_its_server(
        doc in claude_json_like(),
        local in any::<bool>(),
        name in "[a-z]{1,6}",
        overwrite in any::<bool>(),
    ) {
        use anyon::domain::mcp::McpFiles;
        use anyon::domain::mcp::{McpScope, McpServerSpec, stdio_config};
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".claude.json");
        let text = serde_json::to_string_pretty(&Value::Object(doc.clone())).unwrap();
        std::fs::write(&path, &text).unwrap();
        let files = McpFiles::new(path.clone());
        let _ = files.list(&[]);
        let config = stdio_config("echo", &["hi".to_owned()], &[]);
        let spec = McpServerSpec {
            name: name.clone(),
            scope: if local { McpScope::Local } else { McpScope::User },
            config: config.clone(),
            project_path: local.then(|| "/p".into()),
            overwrite,
        };
        match files.add(&spec) {
            Ok(_) => {
                let after: Map<String, Value> = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
                let added = if local {
                    &after["projects"]["/p"]["mcpServers"][&name]
                } else {
                    &after["mcpServers"][&name]
                };
                prop_assert_eq!(added, &config);
                // Everything else is as it was, once the server is taken out of both (a container that
                // was missing may have been created empty).
                let mut expected = without_server(doc.clone(), local, &name);
                let mut found = without_server(after.clone(), local, &name);
                for map in [&mut expected, &mut found] {
                    drop_empty_containers(map, local);
                }
                prop_assert_eq!(found, expected);
            }
            Err(error) => {
                prop_assert!(!error.to_string().is_empty());
                prop_assert_eq!(std::fs::read_to_string(&path).unwrap(), text, "a refused add changed the file");
            }
        }
    }

    /// MCP configurations to import (Claude Desktop's file, a pasted snippet) of any text or JSON are read or
    /// refused with a reason.
    #[test]
    fn mcp_imports_of_any_input_never_panic(text in ".{0,300}", value in any_json(), name in prop::option::of("[a-z]{1,5}")) {
        let _ = anyon::domain::mcp::import::parse(&text, name.as_deref());
        let _ = anyon::domain::mcp::import::parse(&value.to_string(), name.as_deref());
        let wrapped = json!({"mcpServers": value});
        if let Ok(entries) = anyon::domain::mcp::import::parse(&wrapped.to_string(), name.as_deref()) {
            prop_assert!(entries.len() <= wrapped["mcpServers"].as_object().map_or(1, Map::len));
        }
    }
}

/// One embedded auth server for every case of the request property, with a user and their token.
struct FuzzServer {
    _home: crate::support::TempHome,
    runtime: tokio::runtime::Runtime,
    handle: anyon::domain::auth_server::ServerHandle,
    token: String,
}

fn fuzz_server() -> &'static FuzzServer {
    use anyon::domain::auth_server::{self as auth, AuthConfig, Mode, TokenKeys, accounts};
    static SERVER: std::sync::OnceLock<FuzzServer> = std::sync::OnceLock::new();
    SERVER.get_or_init(|| {
        const SECRET: &str = "fuzz-secret-0123456789abcdef-0123456789";
        let home = crate::support::TempHome::new();
        let paths = home.paths();
        paths.ensure().unwrap();
        let runtime = crate::support::runtime();
        let config = AuthConfig {
            jwt_secret: Some(SECRET.as_bytes().to_vec()),
            admin_token: Some("fuzz-admin".into()),
            ..AuthConfig::new(Mode::Embedded, std::net::SocketAddr::from(([127, 0, 0, 1], 0)))
        };
        let handle = runtime.block_on(auth::start(config, &paths)).unwrap();
        let db = anyon::domain::db::Db::open(&paths.database()).unwrap();
        let user = accounts::User {
            sub: "fuzz".into(),
            email: "fuzz@example.test".into(),
            email_verified: true,
            name: None,
            picture: None,
        };
        accounts::upsert_user(&db.writer(), &user, auth::now()).unwrap();
        let keys = TokenKeys::new(SECRET.as_bytes(), auth::DEFAULT_ISSUER, auth::DEFAULT_AUDIENCE).unwrap();
        let token = keys.issue("fuzz", auth::now()).unwrap().0;
        FuzzServer {
            _home: home,
            runtime,
            handle,
            token,
        }
    })
}

/// Sends `bytes` on a fresh connection and reads what comes back (until close or 2 s).
fn exchange(addr: std::net::SocketAddr, bytes: &[u8]) -> Vec<u8> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(2)))
        .unwrap();
    let _ = stream.write_all(bytes);
    let _ = stream.shutdown(std::net::Shutdown::Write);
    let mut reply = Vec::new();
    let _ = stream.take(1 << 20).read_to_end(&mut reply);
    reply
}

/// A request as a hostile or broken client might send it: real routes and made-up ones, any method,
/// Host and Authorization headers right, wrong or odd, bodies of any JSON, lengths that lie.
fn request_like() -> impl Strategy<Value = Vec<u8>> {
    let method = prop_oneof![
        Just("GET"),
        Just("POST"),
        Just("PATCH"),
        Just("DELETE"),
        Just("PUT"),
        Just("OPTIONS"),
        Just("HEAD"),
        Just("G\u{0}T"),
        Just("")
    ];
    let path = prop_oneof![
        Just("/health".to_owned()),
        Just("/auth/verify".to_owned()),
        Just("/auth/me".to_owned()),
        Just("/auth/logout".to_owned()),
        Just("/auth/subscription".to_owned()),
        Just("/auth/exchange".to_owned()),
        Just("/auth/google/callback?code=c&state=s".to_owned()),
        Just("/api/settings".to_owned()),
        "/api/settings/[a-zA-Z%./]{0,12}",
        "/auth/google/url\\?[a-z_=&%0-9A-Z-]{0,60}",
        "/[ -~]{0,40}",
        Just("*".to_owned()),
    ];
    let auth = prop_oneof![
        Just(None),
        Just(Some("Bearer TOKEN".to_owned())),
        Just(Some("bearer TOKEN".to_owned())),
        Just(Some("Bearer TOKEN.x".to_owned())),
        Just(Some("Bearer fuzz-admin".to_owned())),
        "[ -~]{0,80}".prop_map(Some),
    ];
    let host = prop_oneof![Just("HOST".to_owned()), Just("evil.example".to_owned()), "[ -~]{0,20}"];
    let body = prop_oneof![
        any_json().prop_map(|v| v.to_string()),
        "[ -~]{0,200}",
        Just(String::new())
    ];
    let length = prop_oneof![Just(None), (0u64..400).prop_map(Some), Just(Some(u64::MAX))];
    (method, path, auth, host, any::<bool>(), body, length).prop_map(
        |(method, path, auth, host, requested_with, body, length)| {
            let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {host}\r\n");
            if let Some(auth) = auth {
                head.push_str(&format!("Authorization: {auth}\r\n"));
            }
            if requested_with {
                head.push_str("X-Requested-With: fuzz\r\n");
            }
            let length = length.map_or(body.len().to_string(), |n| n.to_string());
            head.push_str(&format!(
                "Content-Type: application/json\r\nContent-Length: {length}\r\nConnection: close\r\n\r\n"
            ));
            [head.into_bytes(), body.into_bytes()].concat()
        },
    )
}

proptest! {
    #![proptest_config(cases(192))]

    /// The auth server's request handling against any request: an answer that is well-formed HTTP with a
    /// JSON error body when it refuses, never an internal error, and the server keeps answering.
    #[test]
    fn the_auth_server_answers_any_request_without_failing(request in request_like()) {
        let server = fuzz_server();
        let addr = server.handle.addr();
        let request = String::from_utf8_lossy(&request)
            .replace("TOKEN", &server.token)
            .replace("Host: HOST", &format!("Host: 127.0.0.1:{}", addr.port()));
        let reply = exchange(addr, request.as_bytes());
        let text = String::from_utf8_lossy(&reply);
        if !reply.is_empty() {
            prop_assert!(text.starts_with("HTTP/1.1 "), "not HTTP: {text:?}");
            let status: u16 = text[9..12].parse().unwrap();
            prop_assert!((200..500).contains(&status) || status == 503, "status {status} for {request:?}: {text:?}");
        }
        let health = exchange(addr, format!("GET /health HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\n\r\n", addr.port()).as_bytes());
        prop_assert!(String::from_utf8_lossy(&health).starts_with("HTTP/1.1 200"), "the server stopped answering after {request:?}: {:?}", String::from_utf8_lossy(&health));
        let _ = &server.runtime;
    }
}
/// A client that shuts its side of the connection once the request is sent still gets the answer (the
/// server used to drop it about half of the time).
#[test]
fn a_client_that_half_closes_gets_the_answer() {
    let addr = fuzz_server().handle.addr();
    for attempt in 0..20 {
        let reply = exchange(
            addr,
            format!(
                "GET /health HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\n\r\n",
                addr.port()
            )
            .as_bytes(),
        );
        let reply = String::from_utf8_lossy(&reply);
        assert!(reply.starts_with("HTTP/1.1 200"), "attempt {attempt}: {reply:?}");
    }
}
