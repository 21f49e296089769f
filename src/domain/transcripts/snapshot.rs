//! The first screen's data, saved in the index's database after each catalog: the project list and the
//! all-time usage totals (read whole at a start), every session's summary and every session's usage
//! (read a page at a time, never all held). A warm start (the window, or a command with nothing changed)
//! answers from it without reading the index's usage records (hundreds of thousands of rows) again.
//!
//! All of it is written in one transaction under the key it was built from, and used only when that key
//! is the index's as it stands, with the same price table and the same local time zone; anything else is
//! ignored (and replaced after the next catalog). It is a cache: emptying it costs one slower start.

use std::sync::Arc;

use chrono::{Datelike, Offset, TimeZone};
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};

use super::catalog::{Built, Catalog, ProjectSummary, SessionSummary};
use super::prices::PriceTable;
use super::report::{Group, Report};

/// Bumped whenever the saved shape or its meaning changes: older saves are ignored.
const VERSION: u32 = 2;

/// The file earlier versions kept the first screen in (in the data folder): no longer read.
pub const OLD_FILE_NAME: &str = "history-snapshot.json";

/// What is written: the same fields as [`Head`], borrowed from the catalog.
#[derive(Serialize)]
struct HeadRef<'a> {
    version: u32,
    projects: &'a [ProjectSummary],
    report: &'a Report,
    files: usize,
    malformed_lines: u64,
}

#[derive(Deserialize)]
struct Head {
    version: u32,
    projects: Vec<ProjectSummary>,
    report: Report,
    files: usize,
    malformed_lines: u64,
}

/// What a catalog depends on besides its records: the index's fingerprint (see
/// [`super::index::fingerprint`]), the price table and the local time zone (which decides the report's days).
pub fn key(index_fingerprint: &str, prices: &PriceTable) -> String {
    let prices = serde_json::to_string(prices).unwrap_or_default();
    format!("{index_fingerprint};{};{prices}", zone_key())
}

/// The local zone as the report sees it: `TZ` and the UTC offset in every month of this year.
fn zone_key() -> String {
    let now = chrono::Local::now();
    let mut key = std::env::var("TZ").unwrap_or_default();
    for month in 1..=12 {
        let offset = chrono::Local
            .with_ymd_and_hms(now.year(), month, 15, 12, 0, 0)
            .single()
            .map_or(0, |t| t.offset().fix().local_minus_utc());
        key.push_str(&format!(",{offset}"));
    }
    key
}

/// Why the first screen could not be saved or read.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error("history database error: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error("cannot encode the history's first screen: {0}")]
    Json(#[from] serde_json::Error),
}

/// The key of what is saved, if anything.
pub fn saved_key(conn: &Connection) -> Result<Option<String>, SnapshotError> {
    let key = conn
        .query_row("SELECT key FROM history_first_screen WHERE id = 1", [], |r| r.get(0))
        .optional()?;
    Ok(key)
}

/// Replaces what is saved with `built`, made from an index whose key is `key`, in one transaction.
pub fn save(conn: &mut Connection, built: &Built, key: &str) -> Result<(), SnapshotError> {
    let catalog = &built.catalog;
    let head = serde_json::to_string(&HeadRef {
        version: VERSION,
        projects: &catalog.projects,
        report: &catalog.report,
        files: catalog.files,
        malformed_lines: catalog.malformed_lines,
    })?;
    let tx = conn.transaction()?;
    tx.execute("DELETE FROM history_sessions", [])?;
    tx.execute("DELETE FROM history_session_usage", [])?;
    {
        let mut insert = tx.prepare(
            "INSERT OR REPLACE INTO history_sessions (folder, session_id, last_ms, filter, summary)
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )?;
        for session in &built.sessions {
            insert.execute(params![
                session.folder,
                session.session_id,
                session.last_activity_ms,
                filter_text(session),
                serde_json::to_string(session)?
            ])?;
        }
        let mut insert = tx.prepare("INSERT INTO history_session_usage (position, usage) VALUES (?1, ?2)")?;
        for (position, group) in built.usage_sessions.iter().enumerate() {
            insert.execute(params![position as i64, serde_json::to_string(group)?])?;
        }
    }
    tx.execute(
        "INSERT OR REPLACE INTO history_first_screen (id, key, head) VALUES (1, ?1, ?2)",
        params![key, head],
    )?;
    tx.commit()?;
    Ok(())
}

/// What a session filter matches: the title and the branch in lower case, the id and the models.
fn filter_text(session: &SessionSummary) -> String {
    let mut text = session.title.to_lowercase();
    text.push('\n');
    text.push_str(&session.session_id);
    if let Some(branch) = &session.git_branch {
        text.push('\n');
        text.push_str(&branch.to_lowercase());
    }
    for model in &session.models {
        text.push('\n');
        text.push_str(model);
    }
    text
}

/// The saved catalog, when it was built from what `key` describes.
pub fn load(conn: &Connection, key: &str, prices: &PriceTable) -> Option<Catalog> {
    let head: String = match conn
        .query_row(
            "SELECT head FROM history_first_screen WHERE id = 1 AND key = ?1",
            [key],
            |r| r.get(0),
        )
        .optional()
    {
        Ok(head) => head?,
        Err(error) => {
            tracing::debug!(%error, "cannot read the saved first screen");
            return None;
        }
    };
    let head: Head = match serde_json::from_str(&head) {
        Ok(head) => head,
        Err(error) => {
            tracing::debug!(%error, "ignoring an unreadable saved first screen");
            return None;
        }
    };
    if head.version != VERSION {
        return None;
    }
    Some(Catalog {
        projects: head.projects,
        report: Arc::new(head.report),
        files: head.files,
        malformed_lines: head.malformed_lines,
        prices: Some(prices.clone()),
        key: key.to_string(),
        partial: true,
    })
}

/// One page of a project's sessions, most recent first.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SessionList {
    /// How many sessions match in all.
    pub total: usize,
    /// Where this page starts among them.
    pub offset: usize,
    pub sessions: Vec<SessionSummary>,
}

/// The sessions of the project folder `folder` matching `filter` (words of the title or branch, in any
/// case, or part of the id or a model; empty for all), most recent first: `limit` of them (None for all)
/// from `offset`.
pub fn sessions_page(
    conn: &Connection,
    folder: &str,
    filter: &str,
    offset: usize,
    limit: Option<usize>,
) -> Result<SessionList, SnapshotError> {
    let filter = filter.trim().to_lowercase();
    let total: i64 = conn.query_row(
        "SELECT count(*) FROM history_sessions WHERE folder = ?1 AND (?2 = '' OR instr(filter, ?2) > 0)",
        params![folder, filter],
        |r| r.get(0),
    )?;
    let limit = limit.map_or(-1, |l| l.min(i64::MAX as usize) as i64);
    let mut stmt = conn.prepare(
        "SELECT summary FROM history_sessions WHERE folder = ?1 AND (?2 = '' OR instr(filter, ?2) > 0)
         ORDER BY last_ms DESC, session_id LIMIT ?3 OFFSET ?4",
    )?;
    let mut rows = stmt.query(params![folder, filter, limit, offset.min(i64::MAX as usize) as i64])?;
    let mut sessions = Vec::new();
    while let Some(row) = rows.next()? {
        sessions.push(serde_json::from_str(row.get_ref(0)?.as_str().unwrap_or_default())?);
    }
    Ok(SessionList {
        total: total.max(0) as usize,
        offset,
        sessions,
    })
}

/// One session of the project folder `folder`.
pub fn session(conn: &Connection, folder: &str, session_id: &str) -> Result<Option<SessionSummary>, SnapshotError> {
    let summary: Option<String> = conn
        .query_row(
            "SELECT summary FROM history_sessions WHERE folder = ?1 AND session_id = ?2",
            params![folder, session_id],
            |r| r.get(0),
        )
        .optional()?;
    Ok(summary.map(|s| serde_json::from_str(&s)).transpose()?)
}

/// Every session's all-time usage, in the report's order (most recent first).
pub fn usage_sessions(conn: &Connection) -> Result<Vec<Group>, SnapshotError> {
    let mut stmt = conn.prepare("SELECT usage FROM history_session_usage ORDER BY position")?;
    let mut rows = stmt.query([])?;
    let mut groups = Vec::new();
    while let Some(row) = rows.next()? {
        groups.push(serde_json::from_str(row.get_ref(0)?.as_str().unwrap_or_default())?);
    }
    Ok(groups)
}
