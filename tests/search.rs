//! Full-text search over the transcripts (issue 18): `anyon sessions search` finds words in prompts,
//! answers and tool text, literally, ranked and one result per session; it follows the index as files
//! grow, are rewritten and vanish, and the watcher keeps it current in a running backend.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use anyon::domain::transcripts::requests::SearchSessions;
use serde_json::{Value, json};

use crate::support::{self, TempHome};

/// Claude's config folder with its `projects/` tree, and ANYON's data folder.
struct Tree {
    config: tempfile::TempDir,
    home: TempHome,
}

const ONE: &str = "11111111-aaaa-4bbb-8ccc-000000000001";
const TWO: &str = "22222222-aaaa-4bbb-8ccc-000000000002";
const THREE: &str = "33333333-aaaa-4bbb-8ccc-000000000003";

impl Tree {
    fn new() -> Self {
        Tree {
            config: tempfile::tempdir().unwrap(),
            home: TempHome::new(),
        }
    }

    fn file(&self, folder: &str, session: &str) -> PathBuf {
        let dir = self.config.path().join("projects").join(folder);
        std::fs::create_dir_all(&dir).unwrap();
        dir.join(format!("{session}.jsonl"))
    }

    fn append(&self, folder: &str, session: &str, lines: &[Value]) {
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.file(folder, session))
            .unwrap();
        for line in lines {
            writeln!(file, "{line}").unwrap();
        }
    }

    fn search(&self, args: &[&str]) -> Value {
        let mut all = vec!["sessions", "search", "--json"];
        all.extend_from_slice(args);
        let output = self
            .home
            .anyon_command(&all)
            .env("CLAUDE_CONFIG_DIR", self.config.path())
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_slice(&output.stdout).unwrap_or_else(|e| panic!("{args:?}: not JSON ({e})"))
    }

    /// The session ids found for `args`, best first.
    fn found(&self, args: &[&str]) -> Vec<String> {
        self.search(args)["results"]
            .as_array()
            .unwrap_or_else(|| panic!("{args:?}: no results list"))
            .iter()
            .map(|r| r["session_id"].as_str().unwrap().to_string())
            .collect()
    }
}

fn prompt(session: &str, cwd: &str, uuid: &str, minute: u32, text: &str) -> Value {
    json!({"type": "user", "sessionId": session, "cwd": cwd, "uuid": uuid,
        "timestamp": format!("2026-04-01T10:{minute:02}:00.000Z"),
        "message": {"role": "user", "content": text}})
}

fn answer(session: &str, cwd: &str, uuid: &str, minute: u32, text: &str) -> Value {
    json!({"type": "assistant", "sessionId": session, "cwd": cwd, "uuid": uuid,
        "timestamp": format!("2026-04-01T10:{minute:02}:30.000Z"), "requestId": format!("req-{uuid}"),
        "message": {"id": format!("msg-{uuid}"), "role": "assistant", "model": "claude-sonnet-4-5",
            "content": [{"type": "text", "text": text}],
            "usage": {"input_tokens": 10, "output_tokens": 5}}})
}

fn tool_call(session: &str, cwd: &str, uuid: &str, command: &str) -> Value {
    json!({"type": "assistant", "sessionId": session, "cwd": cwd, "uuid": uuid,
        "timestamp": "2026-04-01T10:05:00.000Z",
        "message": {"id": format!("msg-{uuid}"), "role": "assistant", "model": "claude-sonnet-4-5",
            "content": [{"type": "tool_use", "id": "tu1", "name": "Bash", "input": {"command": command}}]}})
}

fn tool_result(session: &str, cwd: &str, uuid: &str, output: &str) -> Value {
    json!({"type": "user", "sessionId": session, "cwd": cwd, "uuid": uuid,
        "timestamp": "2026-04-01T10:06:00.000Z", "toolUseResult": {"stdout": output},
        "message": {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "tu1",
            "content": [{"type": "text", "text": output}]}]}})
}

/// Two projects, three sessions: "zebrafish" three times in ONE, once in TWO (other project), never in
/// THREE; "okapi" only in a tool result and "pangolin" only in a tool call, both in THREE.
fn corpus(tree: &Tree) {
    tree.append(
        "-home-ada-alpha",
        ONE,
        &[
            prompt(
                ONE,
                "/home/ada/alpha",
                "u1",
                1,
                "Migrate the zebrafish database to the new schema",
            ),
            answer(
                ONE,
                "/home/ada/alpha",
                "a1",
                1,
                "The zebrafish tables moved; every zebrafish row keeps its id.",
            ),
        ],
    );
    tree.append(
        "-home-ada-beta",
        TWO,
        &[
            prompt(
                TWO,
                "/home/ada/beta",
                "u2",
                2,
                "Write a haiku about a zebrafish and the sea",
            ),
            answer(TWO, "/home/ada/beta", "a2", 2, "Stripes under the waves."),
        ],
    );
    tree.append(
        "-home-ada-alpha",
        THREE,
        &[
            prompt(THREE, "/home/ada/alpha", "u3", 3, "List the files of the build folder"),
            tool_call(THREE, "/home/ada/alpha", "t3", "ls /srv/pangolin/build"),
            tool_result(THREE, "/home/ada/alpha", "r3", "okapi.txt\nreadme.md"),
            answer(THREE, "/home/ada/alpha", "a3", 7, "Two files are there."),
        ],
    );
}

#[test]
fn sessions_search_finds_every_word_ranked_one_result_per_session() {
    let tree = Tree::new();
    corpus(&tree);
    let report = tree.search(&["zebrafish"]);
    let results = report["results"].as_array().unwrap();
    assert_eq!(
        results
            .iter()
            .map(|r| r["session_id"].as_str().unwrap())
            .collect::<Vec<_>>(),
        [ONE, TWO],
        "the session saying it three times ranks first, each session once: {report:#}"
    );
    let best = &results[0];
    assert_eq!(best["project"], "/home/ada/alpha");
    assert_eq!(best["title"], "Migrate the zebrafish database to the new schema");
    assert!(
        best["timestamp"].as_str().unwrap().starts_with("2026-04-01T10:01"),
        "{best}"
    );
    let snippet = best["snippet"].as_str().unwrap();
    let highlights = best["highlights"].as_array().unwrap();
    assert!(!highlights.is_empty(), "{best}");
    for range in highlights {
        let (start, end) = (range[0].as_u64().unwrap() as usize, range[1].as_u64().unwrap() as usize);
        assert_eq!(snippet[start..end].to_lowercase(), "zebrafish", "{best}");
    }
    // The hit knows its line: reading the file from `offset` starts at the matching message.
    let file = tree.config.path().join("projects").join(best["file"].as_str().unwrap());
    let bytes = std::fs::read(&file).unwrap();
    let from = &bytes[best["offset"].as_u64().unwrap() as usize..];
    let line: Value = serde_json::from_slice(from.split(|b| *b == b'\n').next().unwrap()).unwrap();
    assert_eq!(line["uuid"], best["uuid"]);
    assert!(line.to_string().contains("zebrafish"));

    // Every word must appear, in any order, case and accents aside.
    assert_eq!(tree.found(&["ZEBRAFISH", "haiku"]), [TWO]);
    assert_eq!(tree.found(&["sea zebrafish"]), [TWO]);
    assert_eq!(tree.found(&["zebrafish", "okapi"]), Vec::<String>::new());
    // One project, by path or folder; a project nobody knows is an error that says so.
    assert_eq!(tree.found(&["zebrafish", "--project", "/home/ada/beta"]), [TWO]);
    assert_eq!(tree.found(&["zebrafish", "--project", "-home-ada-alpha"]), [ONE]);
    let output = tree
        .home
        .anyon_command(&["sessions", "search", "zebrafish", "--project", "/nowhere", "--json"])
        .env("CLAUDE_CONFIG_DIR", tree.config.path())
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("/nowhere"));
    // The limit.
    assert_eq!(tree.found(&["zebrafish", "--limit", "1"]), [ONE]);
    // Nothing matches: an empty list, not an error.
    assert_eq!(tree.search(&["wombat"]), json!({"results": []}));
}

#[test]
fn tool_text_is_searchable_and_can_be_left_out() {
    let tree = Tree::new();
    corpus(&tree);
    let okapi = tree.search(&["okapi"]);
    assert_eq!(okapi["results"][0]["session_id"], THREE, "{okapi:#}");
    assert_eq!(okapi["results"][0]["tool"], true);
    assert_eq!(tree.found(&["pangolin"]), [THREE], "a tool call's input is searched");
    assert_eq!(tree.found(&["okapi", "--no-tools"]), Vec::<String>::new());
    assert_eq!(tree.found(&["pangolin", "--no-tools"]), Vec::<String>::new());
    assert_eq!(tree.found(&["build", "--no-tools"]), [THREE], "the prompt still is");
}

#[test]
fn search_syntax_is_taken_literally_never_as_an_sql_or_fts_error() {
    let tree = Tree::new();
    corpus(&tree);
    tree.append(
        "-home-ada-beta",
        TWO,
        &[prompt(
            TWO,
            "/home/ada/beta",
            "u9",
            9,
            "Why does NEAR(a b) fail and what is \"quoted\" text?",
        )],
    );
    for query in [
        "\"",
        "\"unbalanced",
        "(",
        ")(",
        "*",
        "zebra*",
        "NEAR(",
        "NEAR(zebrafish haiku, 2)",
        "zebrafish AND",
        "OR",
        "NOT zebrafish",
        "body:zebrafish",
        "'); DROP TABLE transcript_files; --",
        "^zebrafish",
        "-",
        "",
        "   ",
    ] {
        let report = tree.search(&["--", query]);
        assert!(report["results"].is_array(), "{query:?}: {report}");
    }
    // The words inside the syntax are searched as words.
    assert_eq!(tree.found(&["NEAR(a b)"]), [TWO]);
    assert_eq!(tree.found(&["\"quoted\""]), [TWO]);
    // The index survived every one of them.
    assert_eq!(tree.found(&["zebrafish"]), [ONE, TWO]);
}

#[test]
fn search_follows_files_that_grow_are_rewritten_and_vanish() {
    let tree = Tree::new();
    corpus(&tree);
    assert_eq!(tree.found(&["quokka"]), Vec::<String>::new());
    // Appended: found.
    tree.append(
        "-home-ada-beta",
        TWO,
        &[answer(TWO, "/home/ada/beta", "a5", 5, "A quokka smiles.")],
    );
    assert_eq!(tree.found(&["quokka"]), [TWO]);
    // Rewritten shorter without the words: their hits go.
    let file = tree.file("-home-ada-alpha", ONE);
    std::fs::write(
        &file,
        format!(
            "{}\n",
            prompt(ONE, "/home/ada/alpha", "u1", 1, "Rename the lemur module")
        ),
    )
    .unwrap();
    assert_eq!(tree.found(&["zebrafish"]), [TWO]);
    assert_eq!(tree.found(&["lemur"]), [ONE]);
    // Removed: gone.
    std::fs::remove_file(tree.file("-home-ada-beta", TWO)).unwrap();
    assert_eq!(tree.found(&["zebrafish"]), Vec::<String>::new());
    assert_eq!(tree.found(&["quokka"]), Vec::<String>::new());
    // Every message row left belongs to a file still indexed, and the search table has no other rows.
    let conn = rusqlite::Connection::open(tree.home.paths().database()).unwrap();
    let (messages, texts, orphans): (i64, i64, i64) = conn
        .query_row(
            "SELECT (SELECT count(*) FROM transcript_messages), (SELECT count(*) FROM transcript_search),
                    (SELECT count(*) FROM transcript_messages WHERE file_id NOT IN (SELECT id FROM transcript_files))",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!((messages, orphans), (texts, 0), "search rows left behind");
}

#[test]
fn the_watcher_keeps_search_current_in_a_running_backend() {
    let runtime = support::runtime();
    let tree = Tree::new();
    corpus(&tree);
    let (backend, _events) = support::backend(&runtime, &tree.home);
    backend.set_projects_root(tree.config.path().join("projects"));
    backend.start_history(true);
    let search = |words: &str| -> Vec<String> {
        runtime
            .block_on(backend.call(SearchSessions {
                query: words.into(),
                project: None,
                limit: 10,
                tools: true,
                fresh: false,
            }))
            .map(|results| results.into_iter().map(|r| r.session_id).collect())
            .unwrap_or_default()
    };
    support::wait_for("the first index", Duration::from_secs(30), || {
        (search("zebrafish").len() == 2).then_some(())
    });
    tree.append(
        "-home-ada-alpha",
        THREE,
        &[answer(THREE, "/home/ada/alpha", "a8", 8, "The axolotl build passed.")],
    );
    support::wait_for("the watcher to index the new line", Duration::from_secs(30), || {
        (search("axolotl") == [THREE]).then_some(())
    });
    backend.stop_history();
}

/// A database from before search existed: the migration makes the next scan read every file again, so
/// old sessions are searchable too.
#[test]
fn an_index_from_before_search_is_read_again_and_searchable() {
    let tree = Tree::new();
    corpus(&tree);
    assert_eq!(tree.found(&["zebrafish"]), [ONE, TWO]);
    let conn = rusqlite::Connection::open(tree.home.paths().database()).unwrap();
    // As a build before the search migration left it (files indexed, no text), then that migration.
    conn.execute_batch(
        "DROP TRIGGER transcript_messages_gone; DROP TABLE transcript_search; DROP TABLE transcript_messages;",
    )
    .unwrap();
    let files: i64 = conn
        .query_row("SELECT count(*) FROM transcript_files", [], |r| r.get(0))
        .unwrap();
    assert_eq!(files, 3);
    conn.execute_batch(include_str!("../migrations/0005_transcript_search.sql"))
        .unwrap();
    drop(conn);
    assert_eq!(tree.found(&["zebrafish"]), [ONE, TWO]);
    assert_eq!(tree.found(&["okapi"]), [THREE]);
}

/// A first start counts usage without waiting for search: the usage index reads the lines without their
/// text, and the search index reads them afterwards (here, at the first search), then only what was
/// added since.
#[test]
fn usage_does_not_wait_for_the_search_index_which_catches_up_on_its_own() {
    let tree = Tree::new();
    corpus(&tree);
    let output = tree
        .home
        .anyon_command(&["usage", "daily", "--json"])
        .env("CLAUDE_CONFIG_DIR", tree.config.path())
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let state = || {
        let conn = rusqlite::Connection::open(tree.home.paths().database()).unwrap();
        conn.query_row(
            "SELECT (SELECT count(*) FROM transcript_messages), (SELECT count(*) FROM transcript_search),
                    (SELECT count(*) FROM transcript_files WHERE searched_offset < parsed_offset),
                    (SELECT count(*) FROM transcript_files)",
            [],
            |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, i64>(3)?,
                ))
            },
        )
        .unwrap()
    };
    assert_eq!(state(), (0, 0, 3, 3), "usage read the files, search has not yet");
    assert_eq!(tree.found(&["zebrafish"]), [ONE, TWO]);
    let (messages, texts, behind, files) = state();
    assert!(messages > 0);
    assert_eq!(
        (texts, behind, files),
        (messages, 0, 3),
        "every file read for search, once"
    );
    tree.append(
        "-home-ada-alpha",
        ONE,
        &[answer(ONE, "/home/ada/alpha", "a9", 9, "A narwhal appears.")],
    );
    assert_eq!(tree.found(&["narwhal"]), [ONE]);
    assert_eq!(
        state(),
        (messages + 1, messages + 1, 0, 3),
        "only the new line was read"
    );
}
