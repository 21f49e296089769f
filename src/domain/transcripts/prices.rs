//! The model price table: versioned data (`assets/prices.json`, built in), which the person can replace
//! with their own copy (`prices.json` in the data directory).

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::line::UsageRecord;

/// The table shipped with this build.
pub const BUILT_IN: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/assets/prices.json"));

/// Tokens of one type beyond this, in one response, are priced at the `above_200k` rate where a model has one.
pub const TIER_THRESHOLD: u64 = 200_000;

/// USD per million tokens of each kind.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
pub struct Rates {
    pub input: f64,
    pub output: f64,
    pub cache_write_5m: f64,
    pub cache_write_1h: f64,
    pub cache_read: f64,
}

/// One model's prices.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelPrice {
    #[serde(flatten)]
    pub base: Rates,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub above_200k: Option<Rates>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fast_multiplier: Option<f64>,
}

/// A whole table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PriceTable {
    pub version: String,
    #[serde(default)]
    pub unit: String,
    #[serde(default)]
    pub note: String,
    pub models: BTreeMap<String, ModelPrice>,
}

/// Why a price file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum PriceError {
    #[error("cannot read {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("{path} is not a price table: {source}")]
    Parse { path: String, source: serde_json::Error },
    #[error("price for {model} is not a finite non-negative number")]
    Invalid { model: String },
}

impl PriceTable {
    #[allow(
        clippy::expect_used,
        reason = "the table is compiled in from assets/prices.json, which a unit test parses, so it cannot fail"
    )]
    pub fn built_in() -> Self {
        serde_json::from_str(BUILT_IN).expect("assets/prices.json is a valid price table")
    }

    /// Reads and checks a table from JSON text.
    pub fn from_json(text: &str, origin: &str) -> Result<Self, PriceError> {
        let table: PriceTable = serde_json::from_str(text).map_err(|source| PriceError::Parse {
            path: origin.to_string(),
            source,
        })?;
        table.validate()?;
        Ok(table)
    }

    /// The person's table at `path` if there is one, else the built-in one.
    pub fn load(path: &Path) -> Result<Self, PriceError> {
        match std::fs::read_to_string(path) {
            Ok(text) => Self::from_json(&text, &path.display().to_string()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self::built_in()),
            Err(source) => Err(PriceError::Read {
                path: path.display().to_string(),
                source,
            }),
        }
    }

    pub fn validate(&self) -> Result<(), PriceError> {
        for (model, price) in &self.models {
            let mut values = vec![
                price.base.input,
                price.base.output,
                price.base.cache_write_5m,
                price.base.cache_write_1h,
                price.base.cache_read,
                price.fast_multiplier.unwrap_or(1.0),
            ];
            if let Some(a) = price.above_200k {
                values.extend([a.input, a.output, a.cache_write_5m, a.cache_write_1h, a.cache_read]);
            }
            if values.iter().any(|v| !v.is_finite() || *v < 0.0) {
                return Err(PriceError::Invalid { model: model.clone() });
            }
        }
        Ok(())
    }

    /// The price of `model`: its exact id, else the id without a `-YYYYMMDD` date suffix.
    pub fn find(&self, model: &str) -> Option<&ModelPrice> {
        if let Some(price) = self.models.get(model) {
            return Some(price);
        }
        let undated = strip_date(model)?;
        self.models.get(undated)
    }

    /// The cost of one record, or None when its model has no price. `costUSD` on the line wins.
    pub fn cost(&self, record: &UsageRecord) -> Option<f64> {
        if let Some(cost) = record.cost_usd {
            return Some(cost);
        }
        let model = record.model.as_deref()?;
        let price = self.find(model)?;
        let tiered = |tokens: u64, base: f64, above: Option<f64>| -> f64 {
            match above {
                Some(above) if tokens > TIER_THRESHOLD => {
                    (TIER_THRESHOLD as f64 * base + (tokens - TIER_THRESHOLD) as f64 * above) / 1e6
                }
                _ => tokens as f64 * base / 1e6,
            }
        };
        let a = price.above_200k;
        let cost = tiered(record.input, price.base.input, a.map(|a| a.input))
            + tiered(record.output, price.base.output, a.map(|a| a.output))
            + tiered(
                record.cache_write_5m,
                price.base.cache_write_5m,
                a.map(|a| a.cache_write_5m),
            )
            + tiered(
                record.cache_write_1h,
                price.base.cache_write_1h,
                a.map(|a| a.cache_write_1h),
            )
            + tiered(record.cache_read, price.base.cache_read, a.map(|a| a.cache_read));
        let multiplier = if record.fast {
            price.fast_multiplier.unwrap_or(1.0)
        } else {
            1.0
        };
        Some(cost * multiplier)
    }
}

fn strip_date(model: &str) -> Option<&str> {
    let (head, tail) = model.rsplit_once('-')?;
    (tail.len() == 8 && tail.bytes().all(|b| b.is_ascii_digit())).then_some(head)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn record(model: &str, input: u64, output: u64) -> UsageRecord {
        UsageRecord {
            timestamp_ms: 0,
            message_id: None,
            request_id: None,
            model: Some(model.into()),
            input,
            output,
            cache_write_5m: 0,
            cache_write_1h: 0,
            cache_read: 0,
            cost_usd: None,
            sidechain: false,
            fast: false,
        }
    }

    #[test]
    fn built_in_table_is_valid() {
        let table = PriceTable::built_in();
        table.validate().unwrap();
        assert!(table.models.len() >= 10);
    }

    #[test]
    fn dated_ids_tiers_fast_and_cost_usd() {
        let table = PriceTable::built_in();
        let close = |a: f64, b: f64| (a - b).abs() < 1e-9;
        assert!(close(
            table.cost(&record("claude-haiku-4-5-20251001", 1_000_000, 0)).unwrap(),
            1.0
        ));
        // 200k at $3, 800k at $6.
        assert!(close(
            table.cost(&record("claude-sonnet-4-5-20250929", 1_000_000, 0)).unwrap(),
            5.4
        ));
        let mut fast = record("claude-opus-4-6", 1_000_000, 0);
        fast.fast = true;
        assert!(close(table.cost(&fast).unwrap(), 30.0));
        let mut split = record("claude-sonnet-4-5", 0, 0);
        split.cache_write_1h = 2000;
        assert!(close(table.cost(&split).unwrap(), 0.012));
        let mut given = record("claude-imaginary-9", 5, 5);
        assert_eq!(table.cost(&given), None);
        given.cost_usd = Some(1.5);
        assert_eq!(table.cost(&given), Some(1.5));
    }

    #[test]
    fn bad_tables_are_refused() {
        assert!(PriceTable::from_json("{}", "x").is_err());
        let negative = r#"{"version":"1","models":{"m":{"input":-1,"output":0,"cache_write_5m":0,"cache_write_1h":0,"cache_read":0}}}"#;
        assert!(matches!(
            PriceTable::from_json(negative, "x"),
            Err(PriceError::Invalid { .. })
        ));
    }
}
