//! The first screen's data, saved after each catalog: the project list, every project's sessions and the
//! all-time usage report. A warm start (the window, or a command with nothing changed) answers from it
//! without reading the index's usage records (hundreds of thousands of rows) again.
//!
//! A snapshot is used only when it was built from the index as it stands, with the same price table and
//! the same local time zone; anything else is ignored (and replaced after the next catalog). It is a
//! cache: deleting it costs one slower start.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use chrono::{Datelike, Offset, TimeZone};
use serde::{Deserialize, Serialize};

use super::catalog::{Catalog, ProjectSummary, SessionSummary};
use super::prices::PriceTable;
use super::report::Report;

/// Bumped whenever the saved shape or its meaning changes: older snapshots are ignored.
const VERSION: u32 = 1;

/// The file in the data folder.
pub const FILE_NAME: &str = "history-snapshot.json";

/// What is written: the same fields as [`Snapshot`], borrowed from the catalog.
#[derive(Serialize)]
struct SnapshotRef<'a> {
    version: u32,
    key: &'a str,
    projects: &'a [ProjectSummary],
    sessions: &'a HashMap<String, Vec<SessionSummary>>,
    report: &'a Report,
    files: usize,
    malformed_lines: u64,
}

#[derive(Deserialize)]
struct Snapshot {
    version: u32,
    /// What the data was built from (see [`key`]).
    key: String,
    projects: Vec<ProjectSummary>,
    sessions: HashMap<String, Vec<SessionSummary>>,
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

/// Writes `catalog`'s first-screen data, built from an index whose key is `key`: streamed into a file
/// beside `path` (no copy of it all in memory), synced, then renamed over `path`.
pub fn save(path: &Path, catalog: &Catalog, key: &str) -> std::io::Result<()> {
    let snapshot = SnapshotRef {
        version: VERSION,
        key,
        projects: &catalog.projects,
        sessions: &catalog.sessions,
        report: &catalog.report,
        files: catalog.files,
        malformed_lines: catalog.malformed_lines,
    };
    crate::util::fs::write_atomic_with(path, crate::util::fs::Mode::Keep, |out| {
        serde_json::to_writer(out, &snapshot).map_err(std::io::Error::other)
    })
}

/// The saved catalog, when it was built from what `key` describes.
pub fn load(path: &Path, key: &str, prices: &PriceTable) -> Option<Catalog> {
    let bytes = std::fs::read(path).ok()?;
    let snapshot: Snapshot = match serde_json::from_slice(&bytes) {
        Ok(s) => s,
        Err(error) => {
            tracing::debug!(%error, "ignoring an unreadable history snapshot");
            return None;
        }
    };
    if snapshot.version != VERSION || snapshot.key != key {
        return None;
    }
    Some(Catalog {
        projects: snapshot.projects,
        sessions: snapshot.sessions,
        report: Arc::new(snapshot.report),
        files: snapshot.files,
        malformed_lines: snapshot.malformed_lines,
        prices: Some(prices.clone()),
        key: key.to_string(),
        partial: true,
    })
}
