//! The `result` line that ends every turn, with its cost and usage totals.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Map, Value};

use super::lenient::{count, null_as_default, opt_count, opt_f64, opt_string};
use super::message::Usage;

/// The last line of a turn.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ResultMessage {
    #[serde(default)]
    pub subtype: ResultSubtype,
    /// True for every failure, including auth and API errors that still say `success`.
    #[serde(default, deserialize_with = "null_as_default")]
    pub is_error: bool,
    /// The final text of the turn (or the error text for API failures).
    #[serde(default, deserialize_with = "opt_string")]
    pub result: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    pub session_id: Option<String>,
    #[serde(default, deserialize_with = "opt_f64")]
    pub total_cost_usd: Option<f64>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub usage: Option<Usage>,
    /// Per model totals for the whole session so far.
    #[serde(default, rename = "modelUsage", deserialize_with = "null_as_default")]
    pub model_usage: BTreeMap<String, ModelUsage>,
    #[serde(default, deserialize_with = "opt_count")]
    pub duration_ms: Option<u64>,
    #[serde(default, deserialize_with = "opt_count")]
    pub duration_api_ms: Option<u64>,
    #[serde(default, deserialize_with = "opt_count")]
    pub num_turns: Option<u64>,
    /// Tools the CLI refused on its own (no prompt tool, or a deny rule).
    #[serde(default, deserialize_with = "null_as_default")]
    pub permission_denials: Vec<PermissionDenial>,
    /// Error details (`No conversation found with session ID: ...`, interrupt diagnostics).
    #[serde(default, deserialize_with = "null_as_default")]
    pub errors: Vec<String>,
    /// The HTTP status of a failed API call (529, 401, ...).
    #[serde(default, deserialize_with = "opt_count")]
    pub api_error_status: Option<u64>,
    #[serde(default, deserialize_with = "opt_string")]
    pub stop_reason: Option<String>,
    /// `completed`, `aborted_streaming` (interrupted), ...
    #[serde(default, deserialize_with = "opt_string")]
    pub terminal_reason: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// How a turn ended.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(from = "Option<String>")]
pub enum ResultSubtype {
    Success,
    ErrorMaxTurns,
    ErrorDuringExecution,
    ErrorMaxBudgetUsd,
    /// A subtype this version does not know, as written.
    Unknown(String),
    /// The line had no `subtype`.
    #[default]
    Missing,
}

impl From<Option<String>> for ResultSubtype {
    fn from(subtype: Option<String>) -> Self {
        match subtype.as_deref() {
            None => Self::Missing,
            Some("success") => Self::Success,
            Some("error_max_turns") => Self::ErrorMaxTurns,
            Some("error_during_execution") => Self::ErrorDuringExecution,
            Some("error_max_budget_usd") => Self::ErrorMaxBudgetUsd,
            Some(other) => Self::Unknown(other.to_owned()),
        }
    }
}

/// One model's totals in `modelUsage`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelUsage {
    #[serde(default, deserialize_with = "count")]
    pub input_tokens: u64,
    #[serde(default, deserialize_with = "count")]
    pub output_tokens: u64,
    #[serde(default, deserialize_with = "count")]
    pub cache_read_input_tokens: u64,
    #[serde(default, deserialize_with = "count")]
    pub cache_creation_input_tokens: u64,
    #[serde(default, deserialize_with = "count")]
    pub web_search_requests: u64,
    #[serde(default, rename = "costUSD", deserialize_with = "opt_f64")]
    pub cost_usd: Option<f64>,
    #[serde(default, deserialize_with = "opt_count")]
    pub context_window: Option<u64>,
    #[serde(default, deserialize_with = "opt_count")]
    pub max_output_tokens: Option<u64>,
}

/// A tool call the CLI refused without asking.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct PermissionDenial {
    #[serde(default, deserialize_with = "null_as_default")]
    pub tool_name: String,
    #[serde(default, deserialize_with = "opt_string")]
    pub tool_use_id: Option<String>,
    #[serde(default)]
    pub tool_input: Value,
}

impl ResultMessage {
    /// The CLI's own words for a failed turn: its `errors`, else its result text, else the API status.
    pub fn error_text(&self) -> String {
        if self.subtype == ResultSubtype::ErrorMaxBudgetUsd {
            let spent = self
                .total_cost_usd
                .map_or(String::new(), |cost| format!(" after ${cost:.4}"));
            return format!(
                "The turn stopped{spent}: it reached the chat's budget per turn. Raise or clear the budget under More options to go on."
            );
        }
        if !self.errors.is_empty() {
            return self.errors.join("\n");
        }
        if let Some(text) = self.result.as_deref().filter(|t| !t.trim().is_empty()) {
            return text.to_owned();
        }
        match self.api_error_status {
            Some(status) => format!("The API answered with HTTP {status}."),
            None => "The turn failed.".to_owned(),
        }
    }
}
