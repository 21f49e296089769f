//! `rate_limit_event`: the CLI's word on the subscription's usage limits. CLI 2.1.197 writes one whenever
//! the limit state it reads from the API's `anthropic-ratelimit-unified-*` headers changes (for claude.ai
//! sign-ins only; an API key gets none).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::lenient::{null_as_default, opt_f64, opt_string};

/// `{"type":"rate_limit_event","rate_limit_info":{...},"uuid":...,"session_id":...}`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct RateLimitEvent {
    #[serde(default, deserialize_with = "null_as_default")]
    pub rate_limit_info: RateLimitInfo,
    #[serde(default, deserialize_with = "opt_string")]
    pub session_id: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The limit's state.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
pub struct RateLimitInfo {
    /// `allowed`, `allowed_warning` (near the limit) or `rejected` (limited until `resets_at`).
    #[serde(default, deserialize_with = "null_as_default")]
    pub status: String,
    /// When the limit resets, in seconds since the epoch.
    #[serde(default, rename = "resetsAt", deserialize_with = "opt_f64")]
    pub resets_at: Option<f64>,
    /// `five_hour`, `seven_day`, `seven_day_opus`, `seven_day_sonnet`, `overage`, ...
    #[serde(default, rename = "rateLimitType", deserialize_with = "opt_string")]
    pub rate_limit_type: Option<String>,
    /// How much of the limit is used, 0 to 1.
    #[serde(default, deserialize_with = "opt_f64")]
    pub utilization: Option<f64>,
    #[serde(default, rename = "overageStatus", deserialize_with = "opt_string")]
    pub overage_status: Option<String>,
    #[serde(default, rename = "isUsingOverage")]
    pub is_using_overage: Option<bool>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl RateLimitInfo {
    /// Requests are refused until the reset.
    pub fn limited(&self) -> bool {
        self.status == "rejected"
    }

    /// Near the limit (or past it): worth a banner.
    pub fn needs_attention(&self) -> bool {
        self.limited() || self.status == "allowed_warning"
    }

    /// The limit's name as a person reads it.
    pub fn kind_label(&self) -> &str {
        match self.rate_limit_type.as_deref() {
            Some("five_hour") => "5-hour limit",
            Some("seven_day") => "weekly limit",
            Some("seven_day_opus") => "weekly Opus limit",
            Some("seven_day_sonnet") => "weekly Sonnet limit",
            Some("seven_day_overage_included") => "weekly limit (extra usage included)",
            Some("overage") => "extra usage limit",
            _ => "usage limit",
        }
    }

    /// The used share in percent (the CLI writes 0 to 1; a value above 1 is taken as a percent already).
    pub fn percent(&self) -> Option<f64> {
        self.utilization.map(|u| if u <= 1.0 { u * 100.0 } else { u })
    }

    /// When it resets, in milliseconds since the epoch.
    pub fn resets_at_ms(&self) -> Option<i64> {
        // Seconds today; a value this large is already milliseconds.
        self.resets_at
            .map(|t| if t > 1e11 { t as i64 } else { (t * 1000.0) as i64 })
    }

    /// One line for a banner or a status: "5-hour limit reached, resets 14:00" / "85% of the weekly limit used".
    pub fn summary(&self, reset_text: Option<String>) -> String {
        let resets = reset_text.map(|t| format!(", resets {t}")).unwrap_or_default();
        let used = self.percent().map(|p| format!("{p:.0}% used")).unwrap_or_default();
        match self.status.as_str() {
            "rejected" => format!("{} reached{resets}", capitalized(self.kind_label())),
            "allowed_warning" if !used.is_empty() => {
                format!("Near the {}: {used}{resets}", self.kind_label())
            }
            "allowed_warning" => format!("Near the {}{resets}", self.kind_label()),
            _ if !used.is_empty() => format!("Within the {}: {used}{resets}", self.kind_label()),
            _ => format!("Within the {}{resets}", self.kind_label()),
        }
    }
}

fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}
