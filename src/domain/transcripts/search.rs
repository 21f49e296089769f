//! Full-text search over every session's prompts, answers and tool text (SQLite FTS5, kept by the index).
//!
//! What the person types is searched literally: each word must appear (in any order), and FTS5's own
//! syntax (quotes, `*`, `NEAR`, `AND`/`OR`/`NOT`, parentheses, column filters) means nothing special.

use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};

/// Marks around a matched word in FTS5's snippet (control characters no transcript text keeps).
const OPEN: char = '\u{2}';
const CLOSE: char = '\u{3}';
/// How many best hits (one per transcript file) are read per result asked for: an old-style agent file
/// beside the sessions belongs to the session it names inside, whose own hit may also be there.
const FILES_PER_RESULT: usize = 4;
/// The most results one search returns.
pub const MAX_RESULTS: usize = 500;
/// The most matches of one query that are ranked: a phrase found in more messages is ranked among the
/// most recently indexed of them (ranking is what takes the time).
const MAX_RANKED: i64 = 1_000;

/// A search as asked.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Query {
    pub text: String,
    /// Only this project's folder under `projects/`.
    pub folder: Option<String>,
    pub limit: usize,
    /// Also tool inputs and results (else only what the person typed and Claude answered).
    pub tools: bool,
}

/// The best hit in one session, as the index knows it (the catalog adds the title and the project path).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hit {
    /// The session the hit counts under (a subagent's file counts under its parent's session).
    pub session_id: String,
    /// The project's folder under `projects/`.
    pub folder: String,
    /// The transcript file (relative to `projects/`) that holds the matching message.
    pub file: String,
    /// The matching line's uuid, and where it starts in `file`: where the session opens.
    pub uuid: Option<String>,
    pub offset: u64,
    pub timestamp_ms: Option<i64>,
    /// The file's own title (custom, AI, summary or first prompt), for a session the catalog lacks.
    pub file_title: Option<String>,
    pub cwd: Option<String>,
    /// Text around the match.
    pub snippet: String,
    /// Byte ranges of `snippet` that matched.
    pub highlights: Vec<(usize, usize)>,
    /// The hit is in a tool's input or result.
    pub tool: bool,
}

/// One session found, as shown and as `anyon sessions search --json` prints it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchResult {
    pub session_id: String,
    /// The project's real path (else its folder name).
    pub project: String,
    pub folder: String,
    pub title: String,
    /// When the matching message was written (RFC 3339, UTC).
    pub timestamp: Option<String>,
    pub timestamp_ms: Option<i64>,
    pub snippet: String,
    /// Byte ranges of `snippet` that matched.
    pub highlights: Vec<(usize, usize)>,
    /// The transcript file holding the match (relative to `projects/`) and the matching line's uuid.
    pub file: String,
    pub uuid: Option<String>,
    /// Where the matching line starts in `file`.
    pub offset: u64,
    /// The match is in a tool's input or result.
    pub tool: bool,
    /// The session as the Projects screen lists it (to open it), when the index has it.
    #[serde(skip)]
    pub session: Option<super::catalog::SessionSummary>,
}

/// The FTS5 expression that finds `text` literally: every word as a quoted string, all of them required.
/// None when `text` has no word to search for.
pub fn literal(text: &str) -> Option<String> {
    let words: Vec<String> = text
        .split_whitespace()
        .filter(|word| word.chars().any(char::is_alphanumeric))
        .map(|word| format!("\"{}\"", word.replace('"', "\"\"")))
        .collect();
    (!words.is_empty()).then(|| words.join(" "))
}

/// `snippet` without FTS5's marks, and where the marks were.
fn highlighted(snippet: &str) -> (String, Vec<(usize, usize)>) {
    let mut plain = String::with_capacity(snippet.len());
    let mut ranges = Vec::new();
    let mut open = None;
    for c in snippet.chars() {
        match c {
            OPEN => open = Some(plain.len()),
            CLOSE => {
                if let Some(start) = open.take()
                    && start < plain.len()
                {
                    ranges.push((start, plain.len()));
                }
            }
            c => plain.push(c),
        }
    }
    (plain, ranges)
}

/// The best hits of `query`, one per session, best first.
pub fn search(conn: &Connection, query: &Query) -> rusqlite::Result<Vec<Hit>> {
    let Some(expression) = literal(&query.text) else {
        return Ok(Vec::new());
    };
    let limit = query.limit.clamp(1, MAX_RESULTS);
    // Ranking costs time in proportion to the matches ranked: a phrase in hundreds of thousands of tool
    // outputs took seconds. Such a phrase is ranked among its most recently indexed matches only.
    let floor: i64 = conn
        .prepare_cached(
            "SELECT transcript_search.rowid FROM transcript_search
             JOIN transcript_messages m ON m.id = transcript_search.rowid
             JOIN transcript_files f ON f.id = m.file_id
             WHERE transcript_search MATCH ?1
               AND (?2 IS NULL OR f.project_dir = ?2)
               AND (?3 OR m.tool = 0)
             ORDER BY transcript_search.rowid DESC
             LIMIT 1 OFFSET ?4",
        )?
        .query_row(params![expression, query.folder, query.tools, MAX_RANKED], |r| r.get(0))
        .optional()?
        .unwrap_or(i64::MIN);
    // The best matches first, then the snippets of those alone.
    let mut stmt = conn.prepare_cached(
        "WITH ranked AS (
             SELECT transcript_search.rowid AS id, rank AS score,
                    row_number() OVER (PARTITION BY f.project_dir, f.session_id ORDER BY rank) AS nth
             FROM transcript_search
             JOIN transcript_messages m ON m.id = transcript_search.rowid
             JOIN transcript_files f ON f.id = m.file_id
             WHERE transcript_search MATCH ?1
               AND transcript_search.rowid > ?5
               AND (?2 IS NULL OR f.project_dir = ?2)
               AND (?3 OR m.tool = 0)),
         best AS (SELECT id, score FROM ranked WHERE nth = 1 ORDER BY score LIMIT ?4)
         SELECT f.session_id, f.project_dir, f.path, f.subagent, f.inner_session, m.uuid, m.ts_ms,
                coalesce(f.custom_title, f.ai_title, f.summary, f.first_prompt), f.cwd, m.tool, m.line_offset,
                snippet(transcript_search, 0, char(2), char(3), '…', 24) AS snippet
         FROM best
         CROSS JOIN transcript_search ON transcript_search.rowid = best.id
         JOIN transcript_messages m ON m.id = best.id
         JOIN transcript_files f ON f.id = m.file_id
         WHERE transcript_search MATCH ?1
         ORDER BY best.score",
    )?;
    let rows = stmt.query_map(
        params![
            expression,
            query.folder,
            query.tools,
            (limit * FILES_PER_RESULT) as i64,
            floor
        ],
        |r| {
            let path: String = r.get(2)?;
            let subagent: bool = r.get(3)?;
            let inner: Option<String> = r.get(4)?;
            let mut session_id: String = r.get(0)?;
            // An old-style agent file (`agent-*.jsonl` beside the sessions) names its session inside.
            if subagent
                && path.matches('/').count() == 1
                && let Some(inner) = inner
            {
                session_id = inner;
            }
            let (snippet, highlights) = highlighted(&r.get::<_, String>(11)?);
            Ok(Hit {
                session_id,
                folder: r.get(1)?,
                file: path,
                uuid: r.get(5)?,
                timestamp_ms: r.get(6)?,
                file_title: r.get(7)?,
                cwd: r.get(8)?,
                tool: r.get(9)?,
                offset: r.get::<_, i64>(10)?.max(0) as u64,
                snippet,
                highlights,
            })
        },
    )?;
    let mut seen = std::collections::HashSet::new();
    let mut hits = Vec::new();
    for hit in rows {
        let hit = hit?;
        if seen.insert((hit.folder.clone(), hit.session_id.clone())) {
            hits.push(hit);
            if hits.len() == limit {
                break;
            }
        }
    }
    Ok(hits)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn every_word_is_searched_literally() {
        assert_eq!(literal("fix the bug").as_deref(), Some(r#""fix" "the" "bug""#));
        assert_eq!(
            literal(r#"say "hi NEAR(x) a* OR -b"#).as_deref(),
            Some(r#""say" """hi" "NEAR(x)" "a*" "OR" "-b""#)
        );
        assert_eq!(literal("  * ( ) \" "), None);
        assert_eq!(literal(""), None);
    }

    #[test]
    fn marks_become_ranges() {
        let (plain, ranges) = highlighted("a \u{2}big\u{3} day, \u{2}é\u{3}");
        assert_eq!(plain, "a big day, é");
        assert_eq!(ranges, vec![(2, 5), (11, 13)]);
        assert_eq!(&plain[2..5], "big");
    }

    #[test]
    fn a_phrase_in_more_messages_than_are_ranked_still_finds_each_session() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("index.db");
        drop(crate::domain::db::Db::open(&path).unwrap());
        let mut conn = Connection::open(&path).unwrap();
        let tx = conn.transaction().unwrap();
        let file = |id: i64, session: &str| {
            tx.execute(
                "INSERT INTO transcript_files (id, path, project_dir, session_id, subagent, size, mtime_ns,
                 parsed_offset, lines, malformed, messages)
                 VALUES (?1, ?2, 'p', ?3, 0, 0, 0, 0, 0, 0, 0)",
                params![id, format!("p/{session}.jsonl"), session],
            )
            .unwrap();
        };
        file(1, "old");
        file(2, "new");
        file(3, "talk");
        let message = |id: i64, file: i64, tool: bool, text: &str| {
            tx.execute(
                "INSERT INTO transcript_messages (id, file_id, line_offset, from_claude, tool) VALUES (?1, ?2, 0, 1, ?3)",
                params![id, file, tool],
            )
            .unwrap();
            tx.execute(
                "INSERT INTO transcript_search (rowid, body) VALUES (?1, ?2)",
                params![id, text],
            )
            .unwrap();
        };
        message(1, 3, false, "we spoke of lorem once");
        for id in 2..(MAX_RANKED + 600) {
            message(id, 1, true, "lorem ipsum dolor");
        }
        message(MAX_RANKED + 600, 2, true, "lorem ipsum and a rare word");
        tx.commit().unwrap();
        let found = |text: &str, tools: bool| -> Vec<String> {
            let query = Query {
                text: text.into(),
                folder: None,
                limit: 10,
                tools,
            };
            search(&conn, &query)
                .unwrap()
                .into_iter()
                .map(|h| h.session_id)
                .collect()
        };
        let mut common = found("lorem ipsum", true);
        common.sort();
        assert_eq!(
            common,
            ["new", "old"],
            "ranked among the newest matches, one result per session"
        );
        assert_eq!(found("rare", true), ["new"]);
        assert_eq!(
            found("lorem", false),
            ["talk"],
            "the one conversation match under thousands of tool matches is found"
        );
        // With tool text, "lorem" is in more messages than are ranked: the oldest one is not.
        let mut newest = found("lorem", true);
        newest.sort();
        assert_eq!(newest, ["new", "old"]);
    }

    #[test]
    fn fts_syntax_never_reaches_sqlite_as_syntax() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE VIRTUAL TABLE t USING fts5(body);
             INSERT INTO t(body) VALUES ('he said \"NEAR(x y)\" and a* OR (b');",
        )
        .unwrap();
        for text in [
            "\"",
            "NEAR(x",
            "a* OR (b",
            "body:said",
            "x AND",
            ")(",
            "\"unbalanced",
            "NOT said",
        ] {
            let Some(expression) = literal(text) else {
                assert!(
                    !text.chars().any(char::is_alphanumeric),
                    "{text:?} has words but no expression"
                );
                continue;
            };
            let count: i64 = conn
                .query_row("SELECT count(*) FROM t WHERE t MATCH ?1", [&expression], |r| r.get(0))
                .unwrap_or_else(|e| panic!("{text:?} as {expression:?}: {e}"));
            assert!(count <= 1, "{text}");
        }
        let found: i64 = conn
            .query_row(
                "SELECT count(*) FROM t WHERE t MATCH ?1",
                [literal("NEAR(x y)").unwrap()],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(found, 1, "the words of NEAR(x y) are found as words");
        assert_eq!(literal("\""), None, "a query of only punctuation asks nothing");
        assert_eq!(literal(")("), None);
    }
}
