//! 5-hour billing blocks, by ccusage's rules for `blocks` (checked against ccusage 20.0.24 by the
//! integration tests):
//!
//! - Records are taken in time order, after the same deduplication as the other reports.
//! - A block starts at the hour (UTC) of its first record and lasts 5 hours. A record more than 5 hours
//!   after the block's start, or more than 5 hours after the previous record, starts a new block.
//! - When the previous record is more than 5 hours before the next, the time between (from 5 hours after
//!   the previous record to the next record) is a gap block of its own.
//! - A block is active when now is before its end and its last record is less than 5 hours old. Only the
//!   active block gets a burn rate (over the time from its first to its last record) and a projection to
//!   its end.
//!
//! - Blocks are listed by start time (a gap, starting 5 hours after the last record, can start after the
//!   hour the next block starts on).
//!
//! [`build`] is pure and streams: it keeps only the block being filled.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::line::UsageRecord;
use super::report::{Range, Tally, model_name};

/// How long a block lasts.
pub const BLOCK_MS: i64 = 5 * 60 * 60 * 1000;
const HOUR_MS: i64 = 60 * 60 * 1000;

/// Tokens per minute and cost per hour of an active block.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BurnRate {
    /// All tokens (cache included) per minute.
    pub tokens_per_minute: f64,
    /// Input and output tokens per minute (ccusage's indicator).
    pub tokens_per_minute_for_indicator: f64,
    pub cost_per_hour: f64,
}

/// Where an active block ends up at its burn rate.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Projection {
    pub total_tokens: u64,
    /// Rounded to cents, as ccusage does.
    pub total_cost: f64,
    pub remaining_minutes: u64,
}

/// One block, or a gap between blocks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Block {
    pub start_ms: i64,
    pub end_ms: i64,
    /// The first and last record (None for a gap).
    pub first_ms: Option<i64>,
    pub actual_end_ms: Option<i64>,
    pub active: bool,
    pub gap: bool,
    pub entries: u64,
    pub tally: Tally,
    /// Models in the order first seen.
    pub models: Vec<String>,
    pub burn_rate: Option<BurnRate>,
    pub projection: Option<Projection>,
}

impl Block {
    /// ccusage's id: the start time, prefixed `gap-` for gaps.
    pub fn id(&self) -> String {
        if self.gap {
            format!("gap-{}", iso(self.start_ms))
        } else {
            iso(self.start_ms)
        }
    }

    /// Minutes left until the block ends, for an active block.
    pub fn minutes_left(&self, now_ms: i64) -> Option<u64> {
        self.active
            .then(|| ((self.end_ms - now_ms).max(0) as f64 / 60_000.0).round() as u64)
    }

    fn gap(last_ms: i64, next_ms: i64) -> Self {
        Self {
            start_ms: last_ms + BLOCK_MS,
            end_ms: next_ms,
            first_ms: None,
            actual_end_ms: None,
            active: false,
            gap: true,
            entries: 0,
            tally: Tally::default(),
            models: Vec::new(),
            burn_rate: None,
            projection: None,
        }
    }

    /// Marks the block active or not at `now_ms` and gives an active one its burn rate and projection.
    fn finish(&mut self, now_ms: i64) {
        let last = self.actual_end_ms.unwrap_or(self.start_ms);
        self.active = now_ms - last < BLOCK_MS && now_ms < self.end_ms;
        if !self.active {
            return;
        }
        self.burn_rate = self.rate();
        if let Some(rate) = self.burn_rate {
            let remaining = ((self.end_ms - now_ms) as f64 / 60_000.0).max(0.0);
            let tokens = self.tally.total() as f64 + rate.tokens_per_minute * remaining;
            let cost = self.tally.cost + rate.cost_per_hour / 60.0 * remaining;
            self.projection = Some(Projection {
                total_tokens: tokens.round() as u64,
                total_cost: (cost * 100.0).round() / 100.0,
                remaining_minutes: remaining.round() as u64,
            });
        }
    }

    fn rate(&self) -> Option<BurnRate> {
        let (first, last) = (self.first_ms?, self.actual_end_ms?);
        let minutes = (last - first) as f64 / 60_000.0;
        if self.gap || self.entries == 0 || minutes <= 0.0 {
            return None;
        }
        Some(BurnRate {
            tokens_per_minute: self.tally.total() as f64 / minutes,
            tokens_per_minute_for_indicator: (self.tally.input + self.tally.output) as f64 / minutes,
            cost_per_hour: self.tally.cost / minutes * 60.0,
        })
    }
}

/// Builds the blocks from counted records in time order, each with its cost (0 when unpriced). `now_ms`
/// decides which block is active.
pub fn build<'a>(records: impl IntoIterator<Item = (&'a UsageRecord, f64)>, now_ms: i64) -> Vec<Block> {
    let mut builder = Builder::new(now_ms);
    for (record, cost) in records {
        builder.push(record, cost);
    }
    builder.finish()
}

/// [`build`] one record at a time (for records streamed from the index).
#[derive(Debug)]
pub struct Builder {
    now_ms: i64,
    blocks: Vec<Block>,
    current: Option<Block>,
}

impl Builder {
    pub fn new(now_ms: i64) -> Self {
        Self {
            now_ms,
            blocks: Vec::new(),
            current: None,
        }
    }

    /// Adds the next record (records come in time order) with its cost.
    pub fn push(&mut self, record: &UsageRecord, cost: f64) {
        let ts = record.timestamp_ms;
        if let Some(mut block) = self.current.take() {
            let last = block.actual_end_ms.unwrap_or(block.start_ms);
            if ts - block.start_ms > BLOCK_MS || ts - last > BLOCK_MS {
                block.finish(self.now_ms);
                self.blocks.push(block);
                if ts - last > BLOCK_MS {
                    self.blocks.push(Block::gap(last, ts));
                }
            } else {
                self.current = Some(block);
            }
        }
        let block = self.current.get_or_insert_with(|| {
            let start = ts.div_euclid(HOUR_MS) * HOUR_MS;
            Block {
                start_ms: start,
                end_ms: start + BLOCK_MS,
                first_ms: Some(ts),
                ..Block::gap(0, 0)
            }
        });
        block.gap = false;
        block.entries += 1;
        block.actual_end_ms = Some(ts);
        block.tally.input += record.input;
        block.tally.output += record.output;
        block.tally.cache_write += record.cache_write();
        block.tally.cache_read += record.cache_read;
        block.tally.cost += cost;
        if let Some(name) = model_name(record)
            && !block.models.contains(&name)
        {
            block.models.push(name);
        }
    }

    /// The blocks, listed as ccusage lists them: by start (a gap can start after the hour the next block
    /// starts on).
    pub fn finish(mut self) -> Vec<Block> {
        if let Some(mut block) = self.current.take() {
            block.finish(self.now_ms);
            self.blocks.push(block);
        }
        self.blocks.sort_by_key(|b| b.start_ms);
        self.blocks
    }
}

/// Keeps the blocks (gaps too) that start on the range's days, in its zone. As ccusage does, blocks are
/// cut from every record first, so a range never changes where a block starts or ends.
pub fn keep_range(blocks: &mut Vec<Block>, range: &Range) {
    if range.since.is_none() && range.until.is_none() {
        return;
    }
    blocks.retain(|b| {
        let day = range.zone.date_of(b.start_ms);
        !(range.since.is_some_and(|s| day < s) || range.until.is_some_and(|u| day > u))
    });
}

/// The blocks as ccusage's `blocks --json` prints them: `{"blocks": [...]}`.
pub fn ccusage_json(blocks: &[Block]) -> Value {
    let rows: Vec<Value> = blocks
        .iter()
        .map(|b| {
            json!({
                "id": b.id(),
                "startTime": iso(b.start_ms),
                "endTime": iso(b.end_ms),
                "actualEndTime": b.actual_end_ms.map(iso),
                "isActive": b.active,
                "isGap": b.gap,
                "entries": b.entries,
                "tokenCounts": {
                    "inputTokens": b.tally.input,
                    "outputTokens": b.tally.output,
                    "cacheCreationInputTokens": b.tally.cache_write,
                    "cacheReadInputTokens": b.tally.cache_read,
                },
                "totalTokens": b.tally.total(),
                "costUSD": b.tally.cost,
                "models": b.models,
                "burnRate": b.burn_rate.map(|r| json!({
                    "tokensPerMinute": r.tokens_per_minute,
                    "tokensPerMinuteForIndicator": r.tokens_per_minute_for_indicator,
                    "costPerHour": r.cost_per_hour,
                })),
                "projection": b.projection.map(|p| json!({
                    "totalTokens": p.total_tokens,
                    "totalCost": p.total_cost,
                    "remainingMinutes": p.remaining_minutes,
                })),
            })
        })
        .collect();
    json!({ "blocks": rows })
}

/// `2026-03-01T10:00:00.000Z`, as JavaScript's `toISOString`.
pub fn iso(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
        .unwrap_or_default()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    const MIN: i64 = 60_000;

    fn record(ts: i64, input: u64, output: u64) -> UsageRecord {
        UsageRecord {
            timestamp_ms: ts,
            message_id: None,
            request_id: None,
            model: Some("claude-opus-4-6".into()),
            input,
            output,
            cache_write_5m: 0,
            cache_write_1h: 0,
            cache_read: 100,
            cost_usd: None,
            sidechain: false,
            fast: false,
        }
    }

    #[test]
    fn blocks_start_on_the_hour_and_gaps_are_their_own_blocks() {
        let h = HOUR_MS;
        let t0 = 1_700_000_000_000 / h * h; // on an hour
        let records = [
            record(t0 + 10 * MIN, 1, 1),
            record(t0 + 4 * h + 50 * MIN, 1, 1),
            // 5 h after the block's start but under 5 h after the last record: a new block, no gap.
            record(t0 + 5 * h + 30 * MIN, 1, 1),
            // More than 5 h after the last record: a gap, then a block.
            record(t0 + 11 * h, 1, 1),
        ];
        let blocks = build(records.iter().map(|r| (r, 0.5)), t0 + 100 * h);
        let kinds: Vec<(bool, i64, i64, u64)> = blocks
            .iter()
            .map(|b| (b.gap, b.start_ms - t0, b.end_ms - t0, b.entries))
            .collect();
        assert_eq!(
            kinds,
            [
                (false, 0, 5 * h, 2),
                (false, 5 * h, 10 * h, 1),
                (true, 10 * h + 30 * MIN, 11 * h, 0),
                (false, 11 * h, 16 * h, 1),
            ]
        );
        assert!(blocks.iter().all(|b| !b.active && b.burn_rate.is_none()));
        assert_eq!(blocks[0].tally.total(), 204);
        assert_eq!(blocks[0].tally.cost, 1.0);
        assert_eq!(blocks[2].id(), format!("gap-{}", iso(t0 + 10 * h + 30 * MIN)));
        assert_eq!(blocks[0].models, ["claude-opus-4-6"]);
    }

    #[test]
    fn the_active_block_has_a_burn_rate_and_a_projection() {
        let now = 1_700_000_000_000 / HOUR_MS * HOUR_MS + 2 * HOUR_MS + 30 * MIN;
        let records = [record(now - 60 * MIN, 500, 500), record(now - 30 * MIN, 500, 500)];
        let blocks = build(records.iter().map(|r| (r, 3.0)), now);
        assert_eq!(blocks.len(), 1);
        let b = &blocks[0];
        assert!(b.active);
        let rate = b.burn_rate.unwrap();
        // 2,200 tokens over 30 minutes; $6 over half an hour.
        assert!((rate.tokens_per_minute - 2200.0 / 30.0).abs() < 1e-9);
        assert!((rate.tokens_per_minute_for_indicator - 2000.0 / 30.0).abs() < 1e-9);
        assert!((rate.cost_per_hour - 12.0).abs() < 1e-9);
        let p = b.projection.unwrap();
        // The block started on the hour of the first record (1 h 30 min ago): 3 h 30 min left.
        assert_eq!(p.remaining_minutes, 210);
        assert_eq!(p.total_tokens, 2200 + 2200 * 7);
        assert_eq!(p.total_cost, 6.0 + 42.0);
        assert_eq!(b.minutes_left(now), Some(210));
        // Its last record more than 5 hours old: no longer active.
        let old = build(records.iter().map(|r| (r, 3.0)), now + 5 * HOUR_MS);
        assert!(!old[0].active && old[0].projection.is_none());
    }
}
