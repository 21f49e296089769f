//! `anyon projects list`, `anyon sessions list`, `anyon usage daily|monthly|session`: Claude's history
//! from the command line. Usage JSON uses ccusage's field names.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::{answer, write_json};
use crate::backend::Backend;
use crate::backend::command::UsageRange;
use crate::domain::transcripts::blocks;
use crate::domain::transcripts::report::{self, ReportKind};
use crate::domain::transcripts::requests::{
    CreateProject, GetProjectSessions, ListProjects, SearchSessions, UsageBlocks, UsageReport,
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

/// The first day of a week for `anyon usage weekly`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum WeekStart {
    Sunday,
    Monday,
    Tuesday,
    Wednesday,
    Thursday,
    Friday,
    Saturday,
}

impl WeekStart {
    fn weekday(self) -> chrono::Weekday {
        match self {
            WeekStart::Sunday => chrono::Weekday::Sun,
            WeekStart::Monday => chrono::Weekday::Mon,
            WeekStart::Tuesday => chrono::Weekday::Tue,
            WeekStart::Wednesday => chrono::Weekday::Wed,
            WeekStart::Thursday => chrono::Weekday::Thu,
            WeekStart::Friday => chrono::Weekday::Fri,
            WeekStart::Saturday => chrono::Weekday::Sat,
        }
    }
}

/// `anyon usage weekly`'s options.
#[derive(Debug, Args)]
pub struct WeeklyArgs {
    #[command(flatten)]
    pub usage: UsageArgs,
    /// The day weeks start on (ccusage's default: Sunday).
    #[arg(long, short = 'w', value_enum, default_value = "sunday")]
    pub start_of_week: WeekStart,
}

#[derive(Debug, Subcommand)]
pub enum UsageVerb {
    /// Tokens and cost per day.
    Daily(UsageArgs),
    /// Tokens and cost per month.
    Monthly(UsageArgs),
    /// Tokens and cost per session, most recent first.
    Session(UsageArgs),
    /// Tokens and cost per week.
    Weekly(WeeklyArgs),
    /// 5-hour billing blocks (with gaps), and the active block's burn rate and projection.
    Blocks(UsageArgs),
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
        GetProjectSessions {
            project_path: project,
            filter: String::new(),
            offset: 0,
            limit: None,
            fresh: true,
        },
        json,
        |out, list| {
            if json {
                return write_json(out, &list.sessions);
            }
            for s in &list.sessions {
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

fn range_of(args: UsageArgs) -> (UsageRange, bool) {
    let range = UsageRange {
        since: args.since,
        until: args.until,
        timezone: args.timezone,
        fresh: true,
    };
    (range, args.json)
}

/// `1h 05m`.
pub fn hours_minutes(minutes: u64) -> String {
    format!("{}h {:02}m", minutes / 60, minutes % 60)
}

fn blocks(backend: &Backend, args: UsageArgs) -> i32 {
    let (range, json) = range_of(args);
    answer(backend, UsageBlocks { range }, json, |out, blocks| {
        if json {
            return write_json(out, &blocks::ccusage_json(&blocks.blocks));
        }
        let time = |ms: i64| {
            chrono::DateTime::from_timestamp_millis(ms)
                .map(|t| t.with_timezone(&chrono::Local).format("%Y-%m-%d %H:%M").to_string())
                .unwrap_or_default()
        };
        writeln!(
            out,
            "{:<18} {:<10} {:>8} {:>14} {:>12}  models",
            "start", "status", "entries", "total tokens", "cost"
        )?;
        for b in &blocks.blocks {
            if b.gap {
                let hours = (b.end_ms - b.start_ms) / 3_600_000;
                writeln!(
                    out,
                    "{:<18} {:<10} ({hours} h without activity)",
                    time(b.start_ms),
                    "gap"
                )?;
                continue;
            }
            let status = match b.minutes_left(blocks.now_ms) {
                Some(left) => format!("{} left", hours_minutes(left)),
                None => "done".into(),
            };
            writeln!(
                out,
                "{:<18} {:<10} {:>8} {:>14} {:>12}  {}",
                time(b.start_ms),
                status,
                b.entries,
                b.tally.total(),
                format!("${:.2}", b.tally.cost),
                b.models.join(", ")
            )?;
        }
        if let Some(active) = blocks.active() {
            if let Some(rate) = active.burn_rate {
                writeln!(
                    out,
                    "burn rate: {:.0} tokens/min ({:.0} input+output), ${:.2}/h",
                    rate.tokens_per_minute, rate.tokens_per_minute_for_indicator, rate.cost_per_hour
                )?;
            }
            if let Some(p) = active.projection {
                writeln!(
                    out,
                    "projected by the block's end: {} tokens, ${:.2} ({} left)",
                    p.total_tokens,
                    p.total_cost,
                    hours_minutes(p.remaining_minutes)
                )?;
            }
        } else {
            writeln!(out, "no active block")?;
        }
        Ok(())
    })
}

pub fn usage(backend: &Backend, verb: UsageVerb) -> i32 {
    let (kind, args) = match verb {
        UsageVerb::Daily(a) => (ReportKind::Daily, a),
        UsageVerb::Monthly(a) => (ReportKind::Monthly, a),
        UsageVerb::Session(a) => (ReportKind::Session, a),
        UsageVerb::Blocks(a) => return blocks(backend, a),
        UsageVerb::Weekly(a) => return weekly(backend, a),
    };
    let (range, json) = range_of(args);
    let sessions = kind == ReportKind::Session;
    answer(backend, UsageReport { range, sessions }, json, |out, report| {
        if json {
            return write_json(out, &report::ccusage_json(&report, kind));
        }
        let rows = match kind {
            ReportKind::Daily => &report.daily,
            ReportKind::Monthly => &report.monthly,
            ReportKind::Session => &report.sessions,
        };
        table(out, rows, &report)
    })
}

fn weekly(backend: &Backend, args: WeeklyArgs) -> i32 {
    let start = args.start_of_week.weekday();
    let (range, json) = range_of(args.usage);
    answer(backend, UsageReport { range, sessions: false }, json, |out, report| {
        if json {
            return write_json(out, &report::weekly_json(&report, start));
        }
        table(out, &report::weekly(&report, start), &report)
    })
}

fn table(out: &mut dyn std::io::Write, rows: &[report::Group], report: &report::Report) -> std::io::Result<()> {
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
}
