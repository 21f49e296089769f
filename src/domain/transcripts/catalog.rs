//! Projects and sessions as the Projects screen and `anyon projects|sessions` show them, built from the
//! index's file rows and the all-time usage report (streamed from the index: no usage record is kept).

use std::collections::HashMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::index::{FileRow, Loaded};
use super::prices::PriceTable;
use super::report::Report;

/// One project: a folder under `projects/` with its real path, or a folder the person added.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProjectSummary {
    /// The real path (from the transcripts' `cwd`), else the folder name.
    pub path: String,
    /// The folder under `projects/` ("" for a project added in ANYON that has no session yet).
    pub folder: String,
    pub sessions: usize,
    pub last_activity_ms: Option<i64>,
    pub total_tokens: u64,
    pub total_cost: f64,
}

/// One session, its subagent files attached.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionSummary {
    pub session_id: String,
    pub folder: String,
    /// Custom title, AI title or summary, else the first prompt the person typed.
    pub title: String,
    pub cwd: Option<String>,
    pub git_branch: Option<String>,
    pub first_activity_ms: Option<i64>,
    pub last_activity_ms: Option<i64>,
    pub messages: u64,
    pub models: Vec<String>,
    pub total_tokens: u64,
    pub total_cost: f64,
    pub subagents: usize,
    /// Files under `projects/`, the session's own first.
    pub files: Vec<String>,
    pub bytes: u64,
    pub malformed_lines: u64,
}

/// The first screen of Claude's history at one moment: the projects and the all-time usage totals. Its
/// sessions (tens of thousands for a heavy user) are not held here: they are kept in the index's
/// database with it ([`super::snapshot`]) and read a page at a time.
#[derive(Default)]
pub struct Catalog {
    /// Most recent activity first.
    pub projects: Vec<ProjectSummary>,
    /// All-time usage in the local time zone, without its `sessions` (see [`Built::usage_sessions`]).
    pub report: Arc<Report>,
    /// The price table the report was made with.
    pub prices: Option<PriceTable>,
    pub files: usize,
    pub malformed_lines: u64,
    /// What it was built from ([`super::snapshot::key`]: the index's fingerprint, the prices, the zone).
    pub key: String,
    /// Read from the saved snapshot rather than built from the index.
    pub partial: bool,
}

impl std::fmt::Debug for Catalog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Catalog")
            .field("projects", &self.projects.len())
            .field("files", &self.files)
            .field("records", &self.report.records)
            .field("partial", &self.partial)
            .finish()
    }
}

/// A catalog as built from the index, with what is saved beside it rather than held.
pub struct Built {
    pub catalog: Catalog,
    /// Every session of every project.
    pub sessions: Vec<SessionSummary>,
    /// The all-time report's sessions, in its order (most recent first).
    pub usage_sessions: Vec<super::report::Group>,
}

impl Catalog {
    /// The catalog of `loaded` (its report counted with `prices`), whose [`super::snapshot::key`] is `key`.
    pub fn build(loaded: Loaded, prices: &PriceTable, key: String) -> Built {
        let mut report = loaded.report;
        let tallies: HashMap<(&str, &str), (u64, f64)> = report
            .sessions
            .iter()
            .map(|g| ((g.project.as_str(), g.key.as_str()), (g.tally.total(), g.tally.cost)))
            .collect();
        let mut by_session: HashMap<(&str, &str), Vec<&FileRow>> = HashMap::new();
        for file in &loaded.files {
            by_session
                .entry((file.project_dir.as_str(), file.owner_session()))
                .or_default()
                .push(file);
        }
        let mut sessions: HashMap<String, Vec<SessionSummary>> = HashMap::new();
        for ((folder, id), mut files) in by_session {
            files.sort_by_key(|f| (f.subagent, f.path.clone()));
            let main = files.iter().find(|f| !f.subagent).copied();
            let pick = |get: fn(&FileRow) -> Option<&String>| -> Option<String> {
                main.and_then(get)
                    .or_else(|| files.iter().find_map(|f| get(f)))
                    .cloned()
            };
            let title = pick(|f| f.custom_title.as_ref())
                .or_else(|| pick(|f| f.ai_title.as_ref()))
                .or_else(|| pick(|f| f.summary.as_ref()))
                .or_else(|| pick(|f| f.first_prompt.as_ref()))
                .map(|t| t.lines().next().unwrap_or("").trim().to_string())
                .filter(|t| !t.is_empty())
                .unwrap_or_else(|| "(no prompt)".to_string());
            let mut models: Vec<String> = files.iter().flat_map(|f| f.models.iter().cloned()).collect();
            models.sort();
            models.dedup();
            let (mut tokens, mut cost) = (0, 0.0);
            let mut counted = std::collections::HashSet::new();
            for f in &files {
                if counted.insert(f.session_id.as_str())
                    && let Some((t, c)) = tallies.get(&(folder, f.session_id.as_str()))
                {
                    tokens += t;
                    cost += c;
                }
            }
            sessions.entry(folder.to_string()).or_default().push(SessionSummary {
                session_id: id.to_string(),
                folder: folder.to_string(),
                title,
                cwd: pick(|f| f.cwd.as_ref()),
                git_branch: pick(|f| f.git_branch.as_ref()),
                first_activity_ms: files.iter().filter_map(|f| f.first_ms).min(),
                last_activity_ms: files.iter().filter_map(|f| f.last_ms).max(),
                messages: main.map_or(0, |m| m.messages),
                models,
                total_tokens: tokens,
                total_cost: cost,
                subagents: files.iter().filter(|f| f.subagent).count(),
                files: files.iter().map(|f| f.path.clone()).collect(),
                bytes: files.iter().map(|f| f.size).sum(),
                malformed_lines: files.iter().map(|f| f.malformed).sum(),
            });
        }
        let mut projects = Vec::new();
        for (folder, list) in &mut sessions {
            list.sort_by(|a, b| {
                b.last_activity_ms
                    .cmp(&a.last_activity_ms)
                    .then(a.session_id.cmp(&b.session_id))
            });
            let path = list
                .iter()
                .filter_map(|s| s.cwd.clone())
                .next()
                .unwrap_or_else(|| folder.clone());
            projects.push(ProjectSummary {
                path,
                folder: folder.clone(),
                sessions: list.len(),
                last_activity_ms: list.iter().filter_map(|s| s.last_activity_ms).max(),
                total_tokens: list.iter().map(|s| s.total_tokens).sum(),
                total_cost: list.iter().map(|s| s.total_cost).sum(),
            });
        }
        projects.sort_by(|a, b| b.last_activity_ms.cmp(&a.last_activity_ms).then(a.path.cmp(&b.path)));
        for added in loaded.added_projects.iter().rev() {
            if !projects.iter().any(|p| &p.path == added) {
                projects.insert(
                    0,
                    ProjectSummary {
                        path: added.clone(),
                        folder: String::new(),
                        sessions: 0,
                        last_activity_ms: None,
                        total_tokens: 0,
                        total_cost: 0.0,
                    },
                );
            }
        }
        drop(tallies);
        let usage_sessions = std::mem::take(&mut report.sessions);
        let sessions = sessions.into_values().flatten().collect();
        Built {
            catalog: Catalog {
                projects,
                files: loaded.files.len(),
                malformed_lines: loaded.files.iter().map(|f| f.malformed).sum(),
                report: Arc::new(report),
                prices: Some(prices.clone()),
                key,
                partial: false,
            },
            sessions,
            usage_sessions,
        }
    }

    /// The catalog's own report, when it answers for `range` with `prices` (all time in the local zone).
    pub fn report_for(&self, prices: &PriceTable, range: &super::report::Range) -> Option<Arc<Report>> {
        (self.prices.as_ref() == Some(prices) && *range == super::report::Range::default()).then(|| self.report.clone())
    }

    /// A project given by its real path or its folder name.
    pub fn project(&self, project: &str) -> Option<&ProjectSummary> {
        let trimmed = project.trim_end_matches(['/', '\\']);
        self.projects
            .iter()
            .find(|p| p.path.trim_end_matches(['/', '\\']) == trimmed || p.folder == project)
    }
}
