//! `anyon projects list`, `anyon sessions list`, `anyon usage daily|monthly|session`: Claude's history
//! from the command line. Usage JSON uses ccusage's field names.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::{answer, write_json};
use crate::backend::Backend;
use crate::backend::command::UsageRange;
use crate::domain::transcripts::report::{self, ReportKind};
use crate::domain::transcripts::requests::{
    CreateProject, GetProjectSessions, ListProjects, SearchSessions, UsageReport,
};

#[derive(Debug, Subcommand)]
pub enum ProjectsVerb {
    /// Every project, most recent activity first.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Add a project folder (created if missing) so chats can start there.
    Add {
        path: PathBuf,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum SessionsVerb {
    /// A project's sessions, most recent first.
    List {
        /// The project's path, or its folder name under `projects/`.
        #[arg(long)]
        project: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Sessions whose prompts and answers hold every word of QUERY (searched literally), best first.
    Search {
        /// The words to find (several arguments are one query).
        #[arg(required = true, num_args = 1..)]
        query: Vec<String>,
        /// Only this project (its path, or its folder name under `projects/`, which starts with '-').
        #[arg(long, allow_hyphen_values = true)]
        project: Option<PathBuf>,
        /// At most this many sessions.
        #[arg(long, default_value_t = 20)]
        limit: usize,
        /// Leave out tool inputs and results.
        #[arg(long)]
        no_tools: bool,
        #[arg(long)]
        json: bool,
    },
}

/// The days and zone of a usage report.
#[derive(Debug, Args)]
pub struct UsageArgs {
    /// First day (YYYYMMDD), inclusive.
    #[arg(long, short = 's')]
    pub since: Option<String>,
    /// Last day (YYYYMMDD), inclusive.
    #[arg(long, short = 'u')]
    pub until: Option<String>,
    /// Time zone that decides the day of each record (IANA name; default: the system's).
    #[arg(long, short = 'z')]
    pub timezone: Option<String>,
    #[arg(long, short = 'j')]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum UsageVerb {
    /// Tokens and cost per day.
    Daily(UsageArgs),
    /// Tokens and cost per month.
    Monthly(UsageArgs),
    /// Tokens and cost per session, most recent first.
    Session(UsageArgs),
}

fn day(ms: Option<i64>) -> String {
    ms.and_then(chrono::DateTime::from_timestamp_millis)
        .map(|t| t.with_timezone(&chrono::Local).format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_else(|| "-".into())
}

pub fn projects(backend: &Backend, verb: ProjectsVerb) -> i32 {
    match verb {
        ProjectsVerb::List { json } => answer(backend, ListProjects, json, |out, projects| {
            if json {
                return write_json(out, &projects);
            }
            for p in projects {
                writeln!(
                    out,
                    "{}  {:>4} sessions  {}  ${:.2}",
                    day(p.last_activity_ms),
                    p.sessions,
                    p.path,
                    p.total_cost
                )?;
            }
            Ok(())
        }),
        ProjectsVerb::Add { path, json } => {
            let path = std::path::absolute(&path).unwrap_or(path);
            answer(backend, CreateProject { path }, json, |out, project| {
                if json {
                    return write_json(out, &project);
                }
                writeln!(out, "added {}", project.path)
            })
        }
    }
}

pub fn sessions(backend: &Backend, verb: SessionsVerb) -> i32 {
    let (project, json) = match verb {
        SessionsVerb::List { project, json } => (project, json),
        SessionsVerb::Search {
            query,
            project,
            limit,
            no_tools,
            json,
        } => return search(backend, query.join(" "), project, limit, !no_tools, json),
    };
    answer(
        backend,
        GetProjectSessions { project_path: project },
        json,
        |out, sessions| {
            if json {
                return write_json(out, &sessions);
            }
            for s in sessions {
                writeln!(
                    out,
                    "{}  {}  {:>5} msgs  ${:.2}  {}",
                    day(s.last_activity_ms),
                    s.session_id,
                    s.messages,
                    s.total_cost,
                    s.title
                )?;
            }
            Ok(())
        },
    )
}

fn search(backend: &Backend, query: String, project: Option<PathBuf>, limit: usize, tools: bool, json: bool) -> i32 {
    let request = SearchSessions {
        query,
        project,
        limit,
        tools,
        fresh: true,
    };
    answer(backend, request, json, |out, results| {
        if json {
            return write_json(out, &serde_json::json!({ "results": results }));
        }
        if results.is_empty() {
            writeln!(out, "No session matches.")?;
        }
        for r in results {
            // The matched words in brackets: the terminal's own highlight.
            let mut snippet = String::new();
            let mut at = 0;
            for &(start, end) in &r.highlights {
                if let (Some(before), Some(word)) = (r.snippet.get(at..start), r.snippet.get(start..end)) {
                    snippet.push_str(before);
                    snippet.push('[');
                    snippet.push_str(word);
                    snippet.push(']');
                    at = end;
                }
            }
            snippet.push_str(r.snippet.get(at..).unwrap_or_default());
            writeln!(
                out,
                "{}  {}  {}\n    {}\n    {}",
                day(r.timestamp_ms),
                r.session_id,
                r.title,
                r.project,
                snippet.replace('\n', " ")
            )?;
        }
        Ok(())
    })
}

pub fn usage(backend: &Backend, verb: UsageVerb) -> i32 {
    let (kind, args) = match verb {
        UsageVerb::Daily(a) => (ReportKind::Daily, a),
        UsageVerb::Monthly(a) => (ReportKind::Monthly, a),
        UsageVerb::Session(a) => (ReportKind::Session, a),
    };
    let range = UsageRange {
        since: args.since,
        until: args.until,
        timezone: args.timezone,
        fresh: true,
    };
    let json = args.json;
    answer(backend, UsageReport { range }, json, |out, report| {
        if json {
            return write_json(out, &report::ccusage_json(&report, kind));
        }
        let rows = match kind {
            ReportKind::Daily => &report.daily,
            ReportKind::Monthly => &report.monthly,
            ReportKind::Session => &report.sessions,
        };
        writeln!(
            out,
            "{:<38} {:>14} {:>14} {:>12}",
            "", "input+output", "total tokens", "cost"
        )?;
        for g in rows {
            writeln!(
                out,
                "{:<38} {:>14} {:>14} {:>12}",
                g.key,
                g.tally.input + g.tally.output,
                g.tally.total(),
                format!("${:.2}", g.tally.cost)
            )?;
        }
        writeln!(
            out,
            "{:<38} {:>14} {:>14} {:>12}",
            "total",
            report.totals.input + report.totals.output,
            report.totals.total(),
            format!("${:.2}", report.totals.cost)
        )?;
        if !report.unpriced_models.is_empty() {
            writeln!(out, "unpriced (not in the cost): {}", report.unpriced_models.join(", "))?;
        }
        Ok(())
    })
}
