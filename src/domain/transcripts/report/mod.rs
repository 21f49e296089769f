//! Usage counted by ccusage's rules and grouped for reports.
//!
//! The rules (checked against ccusage 20.0.24 by the integration tests):
//! - One API response is written as several lines sharing `message.id` and `requestId`: it counts once,
//!   as the line with the most tokens (the earliest on a tie). Lines lacking either id always count.
//! - A sidechain line whose `message.id` also appears on a main-chain line is a replay and does not count.
//! - Cache writes are the `cache_creation` 5-minute + 1-hour split when present, else
//!   `cache_creation_input_tokens`; a line's `costUSD` is its cost; models without a price are reported as
//!   unpriced (cost 0 with `missingPricing`), never silently as $0; `<synthetic>` lines and lines without a
//!   model count tokens only.
//! - `usage.speed == "fast"` reports the model as `<model>-fast`.

use std::borrow::Cow;
use std::sync::Arc;

use chrono::{Datelike, NaiveDate, TimeZone};
use rustc_hash::{FxHashMap, FxHashSet};
use serde::{Deserialize, Serialize};

use super::line::UsageRecord;
use super::prices::PriceTable;

mod export;

pub use export::{Grouping, ReportKind, ccusage_json, to_csv, to_json, weekly_json};

/// One usage record with where it was found.
#[derive(Debug, Clone)]
pub struct Entry {
    pub record: UsageRecord,
    /// The project folder under `projects/` (ccusage's `projectPath`).
    pub project: Arc<str>,
    /// The session it counts under.
    pub session: Arc<str>,
}

/// The time zone that decides which day a timestamp falls on.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Zone {
    /// The system's zone (honours `TZ`).
    Local,
    Named(chrono_tz::Tz),
}

impl Zone {
    /// Parses an IANA name (`UTC`, `Europe/Paris`).
    pub fn parse(name: &str) -> Result<Self, RangeError> {
        name.parse::<chrono_tz::Tz>()
            .map(Zone::Named)
            .map_err(|_| RangeError::UnknownZone(name.to_owned()))
    }

    pub fn date_of(&self, timestamp_ms: i64) -> NaiveDate {
        match self {
            Zone::Local => chrono::Local
                .timestamp_millis_opt(timestamp_ms)
                .single()
                .map(|t| t.date_naive()),
            Zone::Named(tz) => tz.timestamp_millis_opt(timestamp_ms).single().map(|t| t.date_naive()),
        }
        .unwrap_or_default()
    }
}

/// Which records a report covers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Range {
    pub since: Option<NaiveDate>,
    pub until: Option<NaiveDate>,
    pub zone: Zone,
}

impl Default for Range {
    fn default() -> Self {
        Self {
            since: None,
            until: None,
            zone: Zone::Local,
        }
    }
}

/// A time zone or day of a report's range that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RangeError {
    #[error("unknown time zone {0:?} (use an IANA name such as UTC or Europe/Paris)")]
    UnknownZone(String),
    #[error("{0:?} is not a date (use YYYYMMDD)")]
    NotADate(String),
}

/// Parses `YYYYMMDD` (ccusage's form) or `YYYY-MM-DD`.
pub fn parse_day(text: &str) -> Result<NaiveDate, RangeError> {
    NaiveDate::parse_from_str(text, "%Y%m%d")
        .or_else(|_| NaiveDate::parse_from_str(text, "%Y-%m-%d"))
        .map_err(|_| RangeError::NotADate(text.to_owned()))
}

/// Token counts and cost of one group.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Tally {
    pub input: u64,
    pub output: u64,
    pub cache_write: u64,
    pub cache_read: u64,
    pub cost: f64,
}

impl Tally {
    pub fn total(&self) -> u64 {
        self.input + self.output + self.cache_write + self.cache_read
    }

    fn add(&mut self, record: &UsageRecord, cost: f64) {
        self.input += record.input;
        self.output += record.output;
        self.cache_write += record.cache_write();
        self.cache_read += record.cache_read;
        self.cost += cost;
    }
}

/// One model within a group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelTally {
    pub model: String,
    pub tally: Tally,
    /// Some of its records had no price (their cost is not in `tally.cost`).
    pub unpriced: bool,
}

/// One row of a report: a day, a month, a session, a model or a project.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Group {
    pub key: String,
    /// For sessions: the project folder.
    pub project: String,
    pub tally: Tally,
    /// Models in the order first seen.
    pub models: Vec<ModelTally>,
    pub first_ms: i64,
    pub last_ms: i64,
}

impl Group {
    fn new(key: String, project: &str) -> Self {
        Self {
            key,
            project: project.to_string(),
            tally: Tally::default(),
            models: Vec::new(),
            first_ms: i64::MAX,
            last_ms: i64::MIN,
        }
    }

    /// Adds one record, reported under the model `name` (see [`model_name`]).
    fn add(&mut self, record: &UsageRecord, name: Option<&str>, cost: Option<f64>) {
        self.tally.add(record, cost.unwrap_or(0.0));
        self.first_ms = self.first_ms.min(record.timestamp_ms);
        self.last_ms = self.last_ms.max(record.timestamp_ms);
        if let Some(name) = name {
            let index = match self.models.iter().position(|m| m.model == name) {
                Some(i) => i,
                None => {
                    self.models.push(ModelTally {
                        model: name.to_string(),
                        tally: Tally::default(),
                        unpriced: false,
                    });
                    self.models.len() - 1
                }
            };
            let model = &mut self.models[index];
            model.tally.add(record, cost.unwrap_or(0.0));
            model.unpriced |= cost.is_none();
        }
    }

    /// Models that had no price.
    pub fn unpriced_models(&self) -> Vec<String> {
        self.models
            .iter()
            .filter(|m| m.unpriced)
            .map(|m| m.model.clone())
            .collect()
    }
}

const QUARTER_HOUR_MS: i64 = 15 * 60 * 1000;

/// The model a record is reported under (None for `<synthetic>` and missing models).
pub fn model_name(record: &UsageRecord) -> Option<String> {
    model_label(record).map(Cow::into_owned)
}

/// [`model_name`], borrowed from the record unless it is a fast one.
fn model_label(record: &UsageRecord) -> Option<Cow<'_, str>> {
    let model = record
        .model
        .as_deref()
        .filter(|m| !m.is_empty() && *m != "<synthetic>")?;
    Some(if record.fast {
        Cow::Owned(format!("{model}-fast"))
    } else {
        Cow::Borrowed(model)
    })
}

/// Every grouping of one set of records.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub totals: Tally,
    pub unpriced_models: Vec<String>,
    pub daily: Vec<Group>,
    pub monthly: Vec<Group>,
    /// Most recent first.
    pub sessions: Vec<Group>,
    /// Most expensive first.
    pub models: Vec<Group>,
    /// Most expensive first.
    pub projects: Vec<Group>,
    /// Records counted after deduplication.
    pub records: usize,
}

/// Applies the counting rules: drops sidechain replays and duplicate lines of one response, keeping the
/// line with the most tokens, then (as ccusage's daily report does) the costliest by `cost`, then the
/// earliest, then the first seen. The result is in timestamp order.
pub fn counted(entries: &[Entry], cost: impl Fn(&UsageRecord) -> f64) -> Vec<&Entry> {
    counted_indices(entries, cost)
        .into_iter()
        .map(|i| &entries[i as usize])
        .collect()
}

/// [`counted`] as indices into `entries`.
pub fn counted_indices(entries: &[Entry], cost: impl Fn(&UsageRecord) -> f64) -> Vec<u32> {
    let main_chain: FxHashSet<&str> = entries
        .iter()
        .filter(|e| !e.record.sidechain)
        .filter_map(|e| e.record.message_id.as_deref())
        .collect();
    let mut best: FxHashMap<(&str, &str), usize> = FxHashMap::default();
    best.reserve(entries.len());
    let mut kept: Vec<Option<u32>> = Vec::with_capacity(entries.len());
    for (index, entry) in entries.iter().enumerate() {
        let r = &entry.record;
        if r.sidechain && r.message_id.as_deref().is_some_and(|id| main_chain.contains(id)) {
            continue;
        }
        match (r.message_id.as_deref(), r.request_id.as_deref()) {
            (Some(m), Some(q)) => match best.get(&(m, q)) {
                Some(&slot) => {
                    let Some(current) = kept[slot] else { continue };
                    let current = &entries[current as usize].record;
                    let (a, b) = (current.total_tokens(), r.total_tokens());
                    let better = b > a
                        || (b == a && {
                            let (ca, cb) = (cost(current), cost(r));
                            cb > ca || (cb == ca && r.timestamp_ms < current.timestamp_ms)
                        });
                    if better {
                        kept[slot] = Some(index as u32);
                    }
                }
                None => {
                    best.insert((m, q), kept.len());
                    kept.push(Some(index as u32));
                }
            },
            _ => kept.push(Some(index as u32)),
        }
    }
    let mut out: Vec<u32> = kept.into_iter().flatten().collect();
    out.sort_by_key(|&i| entries[i as usize].record.timestamp_ms);
    out
}

/// Counts `entries` over `range` and groups them every way the Usage screen and CLI show.
pub fn build(entries: &[Entry], prices: &PriceTable, range: &Range) -> Report {
    let counted = counted_indices(entries, |r| prices.cost(r).unwrap_or(0.0));
    build_counted(entries, &counted, prices, range)
}

/// [`build`] from records already counted with the same `prices` ([`counted_indices`]).
pub fn build_counted(entries: &[Entry], counted: &[u32], prices: &PriceTable, range: &Range) -> Report {
    let mut builder = Builder::new(prices, range);
    for &index in counted {
        let entry = &entries[index as usize];
        builder.push(&entry.record, &entry.project, &entry.session);
    }
    builder.finish()
}

/// A report built one counted record at a time, in time order (as [`counted_indices`] or
/// [`super::index::for_each_counted`] give them): it holds the groups, never the records.
pub struct Builder<'a> {
    prices: &'a PriceTable,
    range: Range,
    records: usize,
    daily: FxHashMap<NaiveDate, Group>,
    /// By project folder, then session.
    sessions: FxHashMap<String, FxHashMap<String, Group>>,
    models: FxHashMap<String, Group>,
    projects: FxHashMap<String, Group>,
    all: Group,
    /// The zone's offset changes at most on quarter hours: one conversion per quarter hour seen.
    days: FxHashMap<i64, NaiveDate>,
}

impl<'a> Builder<'a> {
    pub fn new(prices: &'a PriceTable, range: &Range) -> Self {
        Self {
            prices,
            range: *range,
            records: 0,
            daily: FxHashMap::default(),
            sessions: FxHashMap::default(),
            models: FxHashMap::default(),
            projects: FxHashMap::default(),
            all: Group::new(String::new(), ""),
            days: FxHashMap::default(),
        }
    }

    /// Adds one counted record found in the project folder `project`, counted under `session`; records
    /// outside the range are skipped.
    pub fn push(&mut self, record: &UsageRecord, project: &str, session: &str) {
        let ms = record.timestamp_ms;
        let zone = self.range.zone;
        let day = *self
            .days
            .entry(ms.div_euclid(QUARTER_HOUR_MS))
            .or_insert_with(|| zone.date_of(ms));
        if self.range.since.is_some_and(|s| day < s) || self.range.until.is_some_and(|u| day > u) {
            return;
        }
        self.records += 1;
        let cost = self.prices.cost(record);
        let name = model_label(record);
        let name = name.as_deref();
        self.all.add(record, name, cost);
        self.daily
            .entry(day)
            .or_insert_with(|| Group::new(day.format("%Y-%m-%d").to_string(), ""))
            .add(record, name, cost);
        if !self.sessions.contains_key(project) {
            self.sessions.insert(project.to_string(), FxHashMap::default());
        }
        if let Some(sessions) = self.sessions.get_mut(project) {
            if !sessions.contains_key(session) {
                sessions.insert(session.to_string(), Group::new(session.to_string(), project));
            }
            if let Some(group) = sessions.get_mut(session) {
                group.add(record, name, cost);
            }
        }
        if !self.projects.contains_key(project) {
            self.projects
                .insert(project.to_string(), Group::new(project.to_string(), project));
        }
        if let Some(group) = self.projects.get_mut(project) {
            group.add(record, name, cost);
        }
        if let Some(name) = name {
            if !self.models.contains_key(name) {
                self.models.insert(name.to_string(), Group::new(name.to_string(), ""));
            }
            if let Some(group) = self.models.get_mut(name) {
                group.add(record, Some(name), cost);
            }
        }
    }

    /// The report: every grouping sorted as the Usage screen and the CLI show them.
    pub fn finish(self) -> Report {
        let mut report = Report {
            records: self.records,
            totals: self.all.tally.clone(),
            unpriced_models: self.all.unpriced_models(),
            ..Report::default()
        };
        let mut daily: Vec<(NaiveDate, Group)> = self.daily.into_iter().collect();
        daily.sort_by_key(|(d, _)| *d);
        let mut monthly: Vec<Group> = Vec::new();
        for (day, group) in &daily {
            let month = day.format("%Y-%m").to_string();
            match monthly.last_mut() {
                Some(target) if target.key == month => merge(target, group),
                _ => {
                    let mut target = Group::new(month, "");
                    merge(&mut target, group);
                    monthly.push(target);
                }
            }
        }
        report.daily = daily.into_iter().map(|(_, g)| g).collect();
        report.monthly = monthly;
        // As in ccusage's session report, a session without a single token (only failed requests) is no row.
        report.sessions = self
            .sessions
            .into_values()
            .flat_map(|sessions| sessions.into_values())
            .filter(|g| g.tally.total() > 0)
            .collect();
        report
            .sessions
            .sort_by(|a, b| b.last_ms.cmp(&a.last_ms).then_with(|| a.key.cmp(&b.key)));
        report.models = self.models.into_values().collect();
        report.projects = self.projects.into_values().collect();
        for list in [&mut report.models, &mut report.projects] {
            list.sort_by(|a, b| b.tally.cost.total_cmp(&a.tally.cost).then_with(|| a.key.cmp(&b.key)));
        }
        report
    }
}

/// The daily rows grouped by week, each week keyed by the day it starts on (ccusage's `weekly`, whose
/// weeks start on Sunday unless told otherwise).
pub fn weekly(report: &Report, start: chrono::Weekday) -> Vec<Group> {
    let mut weeks: Vec<Group> = Vec::new();
    for group in &report.daily {
        let Ok(day) = NaiveDate::parse_from_str(&group.key, "%Y-%m-%d") else {
            continue;
        };
        let back = (day.weekday().num_days_from_sunday() + 7 - start.num_days_from_sunday()) % 7;
        let first = day - chrono::Days::new(u64::from(back));
        let key = first.format("%Y-%m-%d").to_string();
        match weeks.last_mut() {
            Some(target) if target.key == key => merge(target, group),
            _ => {
                let mut target = Group::new(key, "");
                merge(&mut target, group);
                weeks.push(target);
            }
        }
    }
    weeks
}

fn merge(target: &mut Group, source: &Group) {
    let t = &mut target.tally;
    let s = &source.tally;
    t.input += s.input;
    t.output += s.output;
    t.cache_write += s.cache_write;
    t.cache_read += s.cache_read;
    t.cost += s.cost;
    target.first_ms = target.first_ms.min(source.first_ms);
    target.last_ms = target.last_ms.max(source.last_ms);
    for model in &source.models {
        match target.models.iter_mut().find(|m| m.model == model.model) {
            Some(m) => {
                m.tally.input += model.tally.input;
                m.tally.output += model.tally.output;
                m.tally.cache_write += model.tally.cache_write;
                m.tally.cache_read += model.tally.cache_read;
                m.tally.cost += model.tally.cost;
                m.unpriced |= model.unpriced;
            }
            None => target.models.push(model.clone()),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::domain::transcripts::line::{Line, parse};

    fn entries(lines: &[&str]) -> Vec<Entry> {
        lines
            .iter()
            .filter_map(|l| match parse(l) {
                Line::Facts { usage: Some(u), .. } => Some(Entry {
                    record: u,
                    project: "p".into(),
                    session: "s".into(),
                }),
                _ => None,
            })
            .collect()
    }

    fn line(id: &str, req: &str, out: u64, sidechain: bool, ts: &str) -> String {
        format!(
            r#"{{"isSidechain":{sidechain},"type":"assistant","timestamp":"{ts}","requestId":"{req}","message":{{"id":"{id}","model":"claude-opus-4-6","usage":{{"input_tokens":1000,"output_tokens":{out}}}}}}}"#
        )
    }

    const T1: &str = "2026-03-01T10:00:00.000Z";
    const T2: &str = "2026-03-02T10:00:00.000Z";

    fn outputs(lines: &[String]) -> Vec<u64> {
        let refs: Vec<&str> = lines.iter().map(|s| s.as_str()).collect();
        let entries = entries(&refs);
        counted(&entries, |_| 0.0).iter().map(|e| e.record.output).collect()
    }

    #[test]
    fn duplicates_keep_the_largest_then_the_earliest() {
        assert_eq!(
            outputs(&[line("m", "r", 10, false, T1), line("m", "r", 100, false, T2)]),
            vec![100]
        );
        assert_eq!(
            outputs(&[line("m", "r", 100, false, T1), line("m", "r", 10, false, T2)]),
            vec![100]
        );
        let kept = {
            let lines = [line("m", "r", 10, false, T2), line("m", "r", 10, false, T1)];
            let refs: Vec<&str> = lines.iter().map(|s| s.as_str()).collect();
            let e = entries(&refs);
            counted(&e, |_| 0.0)[0].record.timestamp_ms
        };
        assert_eq!(Some(kept), crate::domain::transcripts::line::parse_timestamp(T1));
        // Equal tokens: the costlier line (its own costUSD) wins.
        let cost = {
            let lines = [
                line("m", "r", 10, false, T1),
                line("m", "r", 10, false, T1).replacen('{', r#"{"costUSD":0.75,"#, 1),
            ];
            let refs: Vec<&str> = lines.iter().map(|s| s.as_str()).collect();
            let e = entries(&refs);
            counted(&e, |r| r.cost_usd.unwrap_or(0.0))[0].record.cost_usd
        };
        assert_eq!(cost, Some(0.75));
        // Same message, other request: both count.
        assert_eq!(
            outputs(&[line("m", "r1", 10, false, T1), line("m", "r2", 20, false, T1)]),
            vec![10, 20]
        );
    }

    #[test]
    fn csv_and_json_exports_carry_every_row() {
        let lines = [
            line("m1", "r1", 10, false, T1),
            line("m2", "r2", 20, false, T2),
            r#"{"type":"assistant","timestamp":"2026-03-02T11:00:00.000Z","message":{"model":"claude-unknown-1","usage":{"input_tokens":5,"output_tokens":5}}}"#.to_string(),
        ];
        let refs: Vec<&str> = lines.iter().map(|s| s.as_str()).collect();
        let report = build(&entries(&refs), &PriceTable::built_in(), &Range::default());
        let csv = to_csv(&report, Grouping::Daily).unwrap();
        let rows: Vec<&str> = csv.lines().collect();
        assert_eq!(rows.len(), 3, "{csv}");
        assert!(rows[0].starts_with("date,inputTokens,outputTokens"));
        assert!(rows[1].starts_with("2026-03-01,1000,10,0,0,1010,"));
        assert!(rows[2].contains("claude-unknown-1"), "unpriced models are named: {csv}");
        let json = to_json(&report, Grouping::Models);
        assert_eq!(json["models"].as_array().unwrap().len(), 2);
        assert_eq!(json["totals"]["totalTokens"], 1000 + 10 + 1000 + 20 + 10);
        assert_eq!(json["totals"]["unpricedModels"][0], "claude-unknown-1");
    }

    #[test]
    fn sidechain_replays_do_not_count() {
        assert_eq!(
            outputs(&[line("m", "r1", 100, true, T1), line("m", "r2", 10, false, T1)]),
            vec![10]
        );
        assert_eq!(
            outputs(&[line("m", "r1", 10, true, T1), line("m", "r2", 10, true, T2)]),
            vec![10, 10]
        );
    }

    #[test]
    fn ranges_and_zones_pick_days() {
        let lines = [
            line("a", "1", 1, false, "2026-03-01T23:30:00Z"),
            line("b", "2", 1, false, T2),
        ];
        let refs: Vec<&str> = lines.iter().map(|s| s.as_str()).collect();
        let e = entries(&refs);
        let prices = PriceTable::built_in();
        let utc = build(
            &e,
            &prices,
            &Range {
                zone: Zone::parse("UTC").unwrap(),
                ..Range::default()
            },
        );
        assert_eq!(
            utc.daily.iter().map(|d| d.key.as_str()).collect::<Vec<_>>(),
            ["2026-03-01", "2026-03-02"]
        );
        let tokyo = Range {
            zone: Zone::parse("Asia/Tokyo").unwrap(),
            since: Some(parse_day("20260302").unwrap()),
            until: None,
        };
        let report = build(&e, &prices, &tokyo);
        assert_eq!(report.daily.len(), 1);
        assert_eq!(report.records, 2);
        assert!(Zone::parse("Mars/Olympus").is_err());
        assert!(parse_day("2026-13-01").is_err());
    }

    #[test]
    fn unpriced_models_are_flagged_not_zeroed_silently() {
        let l = r#"{"type":"assistant","timestamp":"2026-03-01T10:00:00Z","message":{"model":"claude-imaginary-9","usage":{"input_tokens":1,"output_tokens":1}}}"#;
        let report = build(&entries(&[l]), &PriceTable::built_in(), &Range::default());
        assert_eq!(report.unpriced_models, ["claude-imaginary-9"]);
        let json = ccusage_json(&report, ReportKind::Daily);
        assert_eq!(json["daily"][0]["modelBreakdowns"][0]["missingPricing"], true);
        assert_eq!(json["totals"]["unpricedModels"][0], "claude-imaginary-9");
    }
}
