//! The report's tables as the Usage screen's tabs and as exports: CSV, and JSON with ccusage's field names.

use serde::Serialize;
use serde_json::{Value, json};

use super::{Group, ModelTally, Report, Tally};

/// One of the report's tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Grouping {
    #[default]
    Daily,
    Monthly,
    Models,
    Projects,
    Sessions,
}

impl Grouping {
    pub const ALL: [Grouping; 5] = [
        Grouping::Daily,
        Grouping::Monthly,
        Grouping::Models,
        Grouping::Projects,
        Grouping::Sessions,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Grouping::Daily => "By day",
            Grouping::Monthly => "By month",
            Grouping::Models => "By model",
            Grouping::Projects => "By project",
            Grouping::Sessions => "By session",
        }
    }

    /// The name of the row key in exports (ccusage's where it has one).
    pub fn key_name(self) -> &'static str {
        match self {
            Grouping::Daily => "date",
            Grouping::Monthly => "month",
            Grouping::Models => "model",
            Grouping::Projects => "project",
            Grouping::Sessions => "sessionId",
        }
    }

    pub fn file_stem(self) -> &'static str {
        match self {
            Grouping::Daily => "daily",
            Grouping::Monthly => "monthly",
            Grouping::Models => "models",
            Grouping::Projects => "projects",
            Grouping::Sessions => "sessions",
        }
    }

    pub fn rows(self, report: &Report) -> &[Group] {
        match self {
            Grouping::Daily => &report.daily,
            Grouping::Monthly => &report.monthly,
            Grouping::Models => &report.models,
            Grouping::Projects => &report.projects,
            Grouping::Sessions => &report.sessions,
        }
    }
}

/// One table as CSV: the key, tokens, cost (empty when some of it has no price) and the models.
pub fn to_csv(report: &Report, grouping: Grouping) -> Result<String, csv::Error> {
    let mut out = csv::Writer::from_writer(Vec::new());
    let mut header = vec![grouping.key_name()];
    if grouping == Grouping::Sessions {
        header.push("projectPath");
    }
    header.extend([
        "inputTokens",
        "outputTokens",
        "cacheCreationTokens",
        "cacheReadTokens",
        "totalTokens",
        "totalCost",
        "unpricedModels",
        "modelsUsed",
    ]);
    out.write_record(&header)?;
    for g in grouping.rows(report) {
        let mut row = vec![g.key.clone()];
        if grouping == Grouping::Sessions {
            row.push(g.project.clone());
        }
        let unpriced = g.unpriced_models();
        row.extend([
            g.tally.input.to_string(),
            g.tally.output.to_string(),
            g.tally.cache_write.to_string(),
            g.tally.cache_read.to_string(),
            g.tally.total().to_string(),
            format!("{:.6}", g.tally.cost),
            unpriced.join(" "),
            g.models.iter().map(|m| m.model.as_str()).collect::<Vec<_>>().join(" "),
        ]);
        out.write_record(&row)?;
    }
    let bytes = out.into_inner().map_err(|e| e.into_error())?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// One table as JSON, with ccusage's field names: `{"<table>": [...], "totals": {...}}`.
pub fn to_json(report: &Report, grouping: Grouping) -> Value {
    match grouping {
        Grouping::Daily => ccusage_json(report, ReportKind::Daily),
        Grouping::Monthly => ccusage_json(report, ReportKind::Monthly),
        Grouping::Sessions => ccusage_json(report, ReportKind::Session),
        Grouping::Models | Grouping::Projects => {
            let rows: Vec<Value> = grouping
                .rows(report)
                .iter()
                .map(|g| {
                    let mut row = row_json(g);
                    row.insert(grouping.key_name().into(), json!(g.key));
                    Value::Object(row)
                })
                .collect();
            let mut totals = tokens_json(&report.totals);
            if !report.unpriced_models.is_empty() {
                totals.insert("unpricedModels".into(), json!(report.unpriced_models));
            }
            json!({ grouping.file_stem(): rows, "totals": totals })
        }
    }
}

/// The report kinds of `anyon usage`, named as ccusage names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReportKind {
    Daily,
    Monthly,
    Session,
}

fn tokens_json(t: &Tally) -> serde_json::Map<String, Value> {
    let mut map = serde_json::Map::new();
    map.insert("inputTokens".into(), json!(t.input));
    map.insert("outputTokens".into(), json!(t.output));
    map.insert("cacheCreationTokens".into(), json!(t.cache_write));
    map.insert("cacheReadTokens".into(), json!(t.cache_read));
    map.insert("totalTokens".into(), json!(t.total()));
    map.insert("totalCost".into(), json!(t.cost));
    map
}

fn iso(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
        .unwrap_or_default()
}

fn row_json(group: &Group) -> serde_json::Map<String, Value> {
    let mut map = tokens_json(&group.tally);
    map.insert(
        "modelsUsed".into(),
        json!(group.models.iter().map(|m| &m.model).collect::<Vec<_>>()),
    );
    let mut breakdowns: Vec<&ModelTally> = group.models.iter().collect();
    breakdowns.sort_by(|a, b| b.tally.cost.total_cmp(&a.tally.cost));
    let breakdowns: Vec<Value> = breakdowns
        .into_iter()
        .map(|m| {
            let mut b = json!({
                "modelName": m.model,
                "inputTokens": m.tally.input,
                "outputTokens": m.tally.output,
                "cacheCreationTokens": m.tally.cache_write,
                "cacheReadTokens": m.tally.cache_read,
                "cost": m.tally.cost,
            });
            if m.unpriced {
                b["missingPricing"] = json!(true);
            }
            b
        })
        .collect();
    map.insert("modelBreakdowns".into(), Value::Array(breakdowns));
    map
}

/// The report as ccusage's `--json` prints it: `{"daily"|"monthly"|"sessions": [...], "totals": {...}}`.
pub fn ccusage_json(report: &Report, kind: ReportKind) -> Value {
    let (name, rows): (&str, Vec<Value>) = match kind {
        ReportKind::Daily => (
            "daily",
            report
                .daily
                .iter()
                .map(|g| {
                    let mut row = row_json(g);
                    row.insert("date".into(), json!(g.key));
                    Value::Object(row)
                })
                .collect(),
        ),
        ReportKind::Monthly => (
            "monthly",
            report
                .monthly
                .iter()
                .map(|g| {
                    let mut row = row_json(g);
                    row.insert("month".into(), json!(g.key));
                    Value::Object(row)
                })
                .collect(),
        ),
        ReportKind::Session => (
            "sessions",
            report
                .sessions
                .iter()
                .map(|g| {
                    let mut row = row_json(g);
                    row.insert("sessionId".into(), json!(g.key));
                    row.insert("projectPath".into(), json!(g.project));
                    row.insert("firstActivity".into(), json!(iso(g.first_ms)));
                    row.insert("lastActivity".into(), json!(iso(g.last_ms)));
                    Value::Object(row)
                })
                .collect(),
        ),
    };
    let mut totals = tokens_json(&report.totals);
    if !report.unpriced_models.is_empty() {
        totals.insert("unpricedModels".into(), json!(report.unpriced_models));
    }
    json!({ name: rows, "totals": totals })
}

/// Weekly rows (see [`super::weekly`]) as ccusage's `weekly --json` prints them.
pub fn weekly_json(report: &Report, start: chrono::Weekday) -> Value {
    let rows: Vec<Value> = super::weekly(report, start)
        .iter()
        .map(|g| {
            let mut row = row_json(g);
            row.insert("week".into(), json!(g.key));
            Value::Object(row)
        })
        .collect();
    let mut totals = tokens_json(&report.totals);
    if !report.unpriced_models.is_empty() {
        totals.insert("unpricedModels".into(), json!(report.unpriced_models));
    }
    json!({ "weekly": rows, "totals": totals })
}
