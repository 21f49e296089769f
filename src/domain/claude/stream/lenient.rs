//! Forgiving field readers shared by the stream types.
//!
//! The CLI adds, renames and re-types fields between releases. A single odd field (a `null` list, a float
//! where an integer used to be) must not turn a whole line into an unknown one, so the fields the UI relies
//! on are read through these helpers instead of failing.

use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// Reads `null` as the type's default (serde's `default` only covers a missing field).
pub(crate) fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// Reads a count (tokens, turns, milliseconds): integers today, but the CLI already prints some delays as
/// floats. Anything that is not a non-negative number reads as 0.
pub(crate) fn count<'de, D>(deserializer: D) -> Result<u64, D::Error>
where
    D: Deserializer<'de>,
{
    Ok(opt_count(deserializer)?.unwrap_or(0))
}

/// Like [`count`], but keeps "absent" apart from 0.
pub(crate) fn opt_count<'de, D>(deserializer: D) -> Result<Option<u64>, D::Error>
where
    D: Deserializer<'de>,
{
    let value = Option::<Value>::deserialize(deserializer)?;
    Ok(value.as_ref().and_then(number_to_u64))
}

/// Reads a number that may be written as an integer or a float; anything else reads as absent.
pub(crate) fn opt_f64<'de, D>(deserializer: D) -> Result<Option<f64>, D::Error>
where
    D: Deserializer<'de>,
{
    let value = Option::<Value>::deserialize(deserializer)?;
    Ok(value
        .as_ref()
        .and_then(Value::as_f64)
        .filter(|number| number.is_finite()))
}

/// Reads a string, treating any other JSON value (a number, an object) as absent.
pub(crate) fn opt_string<'de, D>(deserializer: D) -> Result<Option<String>, D::Error>
where
    D: Deserializer<'de>,
{
    let value = Option::<Value>::deserialize(deserializer)?;
    Ok(match value {
        Some(Value::String(text)) => Some(text),
        _ => None,
    })
}

fn number_to_u64(value: &Value) -> Option<u64> {
    value.as_u64().or_else(|| {
        value
            .as_f64()
            .filter(|number| number.is_finite() && *number >= 0.0)
            // Saturating cast: a float beyond u64::MAX becomes u64::MAX, which is fine for a display count.
            .map(|number| number.round() as u64)
    })
}
