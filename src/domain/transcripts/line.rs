//! One transcript line to the facts ANYON keeps: a usage record and the session's metadata.
//!
//! Lines come in every format Claude Code has written (1.x to 2.1.x), with unknown types and fields
//! added by each release. Only the fields below are read; everything else is skipped unparsed. A line
//! that is not JSON is [`Line::Malformed`]; it is counted, never fatal.

use serde::Deserialize;
use serde_json::value::RawValue;

/// Usage of one API response, as counted by ccusage's rules.
#[derive(Debug, Clone, PartialEq)]
pub struct UsageRecord {
    /// Milliseconds since the Unix epoch (UTC).
    pub timestamp_ms: i64,
    pub message_id: Option<String>,
    pub request_id: Option<String>,
    /// `message.model`; None or `<synthetic>` is counted in totals but priced at nothing.
    pub model: Option<String>,
    pub input: u64,
    pub output: u64,
    /// Cache writes priced at the 5-minute rate (or the undivided `cache_creation_input_tokens`).
    pub cache_write_5m: u64,
    /// Cache writes priced at the 1-hour rate.
    pub cache_write_1h: u64,
    pub cache_read: u64,
    /// The line's own `costUSD`, which wins over a computed cost.
    pub cost_usd: Option<f64>,
    pub sidechain: bool,
    /// `usage.speed == "fast"`: the model is reported as `<model>-fast`, priced with its fast multiplier.
    pub fast: bool,
}

impl UsageRecord {
    pub fn cache_write(&self) -> u64 {
        self.cache_write_5m + self.cache_write_1h
    }

    pub fn total_tokens(&self) -> u64 {
        self.input + self.output + self.cache_write() + self.cache_read
    }
}

/// What one line says about its session.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LineMeta {
    pub session_id: Option<String>,
    pub cwd: Option<String>,
    pub git_branch: Option<String>,
    pub timestamp_ms: Option<i64>,
    /// A user or assistant message of the conversation (not metadata, not a tool result turn).
    pub is_message: bool,
    /// The text the person typed, for a user prompt.
    pub prompt: Option<String>,
    pub custom_title: Option<String>,
    pub ai_title: Option<String>,
    pub summary: Option<String>,
    pub model: Option<String>,
    /// The line's `uuid`: where a search hit opens the session.
    pub uuid: Option<String>,
    /// What the person typed or Claude answered, for full-text search (at most [`SEARCH_TEXT_CAP`] bytes).
    pub said: Option<String>,
    /// Tool calls' inputs and tools' results, searchable apart (at most [`SEARCH_TEXT_CAP`] bytes).
    pub tool_text: Option<String>,
    /// The searchable text is Claude's (an assistant line), else the person's side (prompts, tool results).
    pub from_claude: bool,
}

/// The most of one message's text (and, apart, of its tool text) that search indexes: a prompt or an
/// answer is rarely longer; a tool result (a whole file, a long log) is cut, never held whole.
pub const SEARCH_TEXT_CAP: usize = 4096;

/// A parsed line.
// Facts is by far the common case and the value lives only until it is stored: boxing it would add an
// allocation per line for nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Line {
    Facts {
        meta: LineMeta,
        usage: Option<UsageRecord>,
    },
    /// Empty or whitespace only.
    Blank,
    /// Not JSON, or JSON of a shape no Claude release writes.
    Malformed,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Raw<'a> {
    #[serde(rename = "type")]
    #[serde(borrow)]
    kind: Option<Lenient<'a>>,
    #[serde(borrow)]
    timestamp: Option<Lenient<'a>>,
    #[serde(borrow)]
    session_id: Option<Lenient<'a>>,
    #[serde(borrow)]
    cwd: Option<Lenient<'a>>,
    #[serde(borrow)]
    git_branch: Option<Lenient<'a>>,
    is_sidechain: Option<LenientBool>,
    is_meta: Option<LenientBool>,
    #[serde(borrow)]
    request_id: Option<Lenient<'a>>,
    #[serde(rename = "costUSD")]
    cost_usd: Option<LenientF64>,
    #[serde(borrow)]
    message: Option<MaybeMessage<'a>>,
    #[serde(borrow)]
    summary: Option<Lenient<'a>>,
    #[serde(borrow)]
    uuid: Option<Lenient<'a>>,
    #[serde(borrow)]
    custom_title: Option<Lenient<'a>>,
    #[serde(borrow)]
    ai_title: Option<Lenient<'a>>,
    #[serde(borrow)]
    title: Option<Lenient<'a>>,
    tool_use_result: Option<serde::de::IgnoredAny>,
    /// A `progress` line's payload: an `agent_progress` one carries a subagent's API response.
    #[serde(borrow)]
    data: Option<&'a RawValue>,
}

/// `data` of an `agent_progress` line: `{"message": {"timestamp", "requestId", "message": {...}}}`.
#[derive(Deserialize)]
struct ProgressData<'a> {
    #[serde(borrow)]
    message: Option<&'a RawValue>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ProgressMessage<'a> {
    #[serde(borrow)]
    timestamp: Option<Lenient<'a>>,
    #[serde(borrow)]
    request_id: Option<Lenient<'a>>,
    #[serde(borrow)]
    message: Option<&'a RawValue>,
}

/// A string field that tolerates any other JSON type (as None); borrowed from the line when it has no
/// escapes, so most fields cost no allocation.
struct Lenient<'a>(Option<std::borrow::Cow<'a, str>>);

impl Lenient<'_> {
    fn as_str(&self) -> Option<&str> {
        self.0.as_deref()
    }

    fn owned(self) -> Option<String> {
        self.0.map(std::borrow::Cow::into_owned)
    }
}

/// What a lenient field saw: the scalar kinds it can use; containers are skipped without building them.
enum Scalar<'a> {
    Str(std::borrow::Cow<'a, str>),
    Bool(bool),
    Number(f64),
    Other,
}

impl<'de: 'a, 'a> Deserialize<'de> for Scalar<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::{IgnoredAny, MapAccess, SeqAccess, Visitor};
        use std::borrow::Cow;
        struct Visit<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for Visit<'a> {
            type Value = Scalar<'a>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Scalar::Str(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Scalar::Str(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
                Ok(Scalar::Str(Cow::Owned(v)))
            }
            fn visit_bool<E>(self, v: bool) -> Result<Self::Value, E> {
                Ok(Scalar::Bool(v))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
                Ok(Scalar::Number(v as f64))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
                Ok(Scalar::Number(v as f64))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
                Ok(Scalar::Number(v))
            }
            fn visit_unit<E>(self) -> Result<Self::Value, E> {
                Ok(Scalar::Other)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Scalar::Other)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Scalar::Other)
            }
        }
        d.deserialize_any(Visit(std::marker::PhantomData))
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Lenient<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Lenient(match Scalar::deserialize(d)? {
            Scalar::Str(s) => Some(s),
            _ => None,
        }))
    }
}

struct LenientBool(bool);

impl<'de> Deserialize<'de> for LenientBool {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(LenientBool(matches!(Scalar::deserialize(d)?, Scalar::Bool(true))))
    }
}

struct LenientF64(Option<f64>);

impl<'de> Deserialize<'de> for LenientF64 {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(LenientF64(match Scalar::deserialize(d)? {
            Scalar::Number(n) => Some(n),
            _ => None,
        }))
    }
}

/// `message` read in the same pass as the line (its content, the tool output, is most of the line's bytes):
/// an object is a [`Message`], anything else is None.
struct MaybeMessage<'a>(Option<Message<'a>>);

impl<'de: 'a, 'a> Deserialize<'de> for MaybeMessage<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::{IgnoredAny, MapAccess, SeqAccess, Visitor, value::MapAccessDeserializer};
        struct Visit<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for Visit<'a> {
            type Value = MaybeMessage<'a>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                Message::deserialize(MapAccessDeserializer::new(map)).map(|m| MaybeMessage(Some(m)))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(MaybeMessage(None))
            }
            fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
                Ok(MaybeMessage(None))
            }
            fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
                Ok(MaybeMessage(None))
            }
            fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
                Ok(MaybeMessage(None))
            }
            fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
                Ok(MaybeMessage(None))
            }
            fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
                Ok(MaybeMessage(None))
            }
            fn visit_unit<E>(self) -> Result<Self::Value, E> {
                Ok(MaybeMessage(None))
            }
        }
        d.deserialize_any(Visit(std::marker::PhantomData))
    }
}

#[derive(Deserialize)]
struct Message<'a> {
    #[serde(borrow)]
    id: Option<Lenient<'a>>,
    #[serde(borrow)]
    model: Option<Lenient<'a>>,
    usage: Option<&'a RawValue>,
    #[serde(borrow)]
    content: Option<&'a RawValue>,
}

/// Token counts must be non-negative integers (ccusage drops a record otherwise).
#[derive(Deserialize)]
struct Usage<'a> {
    input_tokens: u64,
    output_tokens: u64,
    cache_creation_input_tokens: Option<u64>,
    cache_read_input_tokens: Option<u64>,
    cache_creation: Option<CacheCreation>,
    #[serde(borrow)]
    speed: Option<std::borrow::Cow<'a, str>>,
}

#[derive(Deserialize)]
struct CacheCreation {
    ephemeral_5m_input_tokens: Option<u64>,
    ephemeral_1h_input_tokens: Option<u64>,
}

/// Parses one line (without its newline).
pub fn parse(text: &str) -> Line {
    parse_with(text, true)
}

/// [`parse`]; with `prompts` false, a tool-result turn's content is not searched for a typed prompt
/// (its `meta.prompt` stays None): the index asks so once it knows the file's first prompt, as the
/// tool output in that content is most of a transcript's bytes.
pub fn parse_with(text: &str, prompts: bool) -> Line {
    parse_for(text, prompts, true)
}

/// [`parse_with`]; with `texts` false, the message's text is not gathered for search (`meta.said`,
/// `meta.tool_text`, `meta.uuid` stay None): the usage index reads it so, and the search index reads
/// the same lines for their text afterwards.
pub fn parse_for(text: &str, prompts: bool, texts: bool) -> Line {
    if text.trim().is_empty() {
        return Line::Blank;
    }
    let Ok(raw) = serde_json::from_str::<Raw>(text) else {
        return Line::Malformed;
    };
    let kind = raw.kind.as_ref().and_then(Lenient::as_str).unwrap_or("");
    let timestamp_ms = raw
        .timestamp
        .as_ref()
        .and_then(Lenient::as_str)
        .and_then(parse_timestamp);
    let sidechain = raw.is_sidechain.is_some_and(|b| b.0);
    let message = raw.message.and_then(|m| m.0);
    let mut meta = LineMeta {
        session_id: raw.session_id.and_then(Lenient::owned),
        cwd: raw.cwd.and_then(Lenient::owned),
        git_branch: raw.git_branch.and_then(Lenient::owned),
        timestamp_ms,
        ..LineMeta::default()
    };
    match kind {
        "summary" => meta.summary = raw.summary.and_then(Lenient::owned),
        "custom-title" => meta.custom_title = raw.custom_title.or(raw.title).and_then(Lenient::owned),
        "ai-title" => meta.ai_title = raw.ai_title.or(raw.title).and_then(Lenient::owned),
        _ => {}
    }
    let mut usage = None;
    let request_id = raw.request_id.and_then(Lenient::owned);
    let cost_usd = raw.cost_usd.and_then(|c| c.0);
    if let Some(message) = message {
        let model = message.model.as_ref().and_then(Lenient::as_str).map(str::to_owned);
        if texts
            && matches!(kind, "user" | "assistant")
            && !raw.is_meta.as_ref().is_some_and(|b| b.0)
            && let Some(content) = message.content
        {
            let (said, tool_text) = searchable(content);
            meta.said = said;
            meta.tool_text = tool_text;
            meta.uuid = raw.uuid.and_then(Lenient::owned);
            meta.from_claude = kind == "assistant";
        }
        if kind == "assistant" {
            meta.is_message = true;
            meta.model = model.clone().filter(|m| m != "<synthetic>");
        } else if kind == "user" {
            let is_meta = raw.is_meta.is_some_and(|b| b.0);
            let tool_result = raw.tool_use_result.is_some();
            let prompt = message
                .content
                .filter(|_| prompts || !tool_result)
                .and_then(typed_prompt);
            meta.is_message = !tool_result && !is_meta && prompt.is_some();
            if !sidechain && !is_meta {
                meta.prompt = prompt;
            }
        }
        if let Some(timestamp_ms) = timestamp_ms {
            usage = usage_record(message, timestamp_ms, request_id, cost_usd, sidechain);
        }
    } else if let Some(data) = raw.data
        && let Ok(data) = serde_json::from_str::<ProgressData>(data.get())
        && let Some(nested) = data.message
        && let Ok(nested) = serde_json::from_str::<ProgressMessage>(nested.get())
        && let Some(inner) = nested.message
        && let Ok(inner) = serde_json::from_str::<Message>(inner.get())
        && let Some(timestamp_ms) = nested
            .timestamp
            .as_ref()
            .and_then(Lenient::as_str)
            .and_then(parse_timestamp)
    {
        // A subagent's response relayed into its parent's transcript (Claude Code 2.1.3x): ccusage counts
        // it, with the relayed message's own timestamp and request id.
        let request_id = nested.request_id.and_then(Lenient::owned).or(request_id);
        usage = usage_record(inner, timestamp_ms, request_id, cost_usd, sidechain);
        if let Some(u) = &usage {
            meta.model = u.model.clone().filter(|m| m != "<synthetic>");
        }
    }
    Line::Facts { meta, usage }
}

fn usage_record(
    message: Message,
    timestamp_ms: i64,
    request_id: Option<String>,
    cost_usd: Option<f64>,
    sidechain: bool,
) -> Option<UsageRecord> {
    let u = serde_json::from_str::<Usage>(message.usage?.get()).ok()?;
    let (cache_write_5m, cache_write_1h) = match &u.cache_creation {
        Some(split) => (
            split.ephemeral_5m_input_tokens.unwrap_or(0),
            split.ephemeral_1h_input_tokens.unwrap_or(0),
        ),
        None => (u.cache_creation_input_tokens.unwrap_or(0), 0),
    };
    Some(UsageRecord {
        timestamp_ms,
        message_id: message.id.and_then(Lenient::owned),
        request_id,
        model: message.model.and_then(Lenient::owned),
        input: u.input_tokens,
        output: u.output_tokens,
        cache_write_5m,
        cache_write_1h,
        cache_read: u.cache_read_input_tokens.unwrap_or(0),
        cost_usd,
        sidechain,
        fast: u.speed.as_deref() == Some("fast"),
    })
}

/// ISO-8601 / RFC 3339 to milliseconds since the epoch.
pub fn parse_timestamp(text: &str) -> Option<i64> {
    chrono::DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.timestamp_millis())
}

/// Appends `text` to `to` (a newline between pieces) up to [`SEARCH_TEXT_CAP`] bytes, cut at a character.
fn push_capped(to: &mut String, text: &str) {
    let room = SEARCH_TEXT_CAP.saturating_sub(to.len() + 1);
    if room == 0 || text.trim().is_empty() {
        return;
    }
    if !to.is_empty() {
        to.push('\n');
    }
    let mut end = text.len().min(room);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    to.push_str(&text[..end]);
}

/// The strings of a tool's JSON input, in order, up to the cap.
fn push_strings(to: &mut String, value: &serde_json::Value) {
    match value {
        serde_json::Value::String(s) => push_capped(to, s),
        serde_json::Value::Array(items) => items.iter().for_each(|v| push_strings(to, v)),
        serde_json::Value::Object(map) => map.values().for_each(|v| push_strings(to, v)),
        _ => {}
    }
}

/// A message's content split for search: the conversation's words, and its tools' inputs and results.
fn searchable(content: &RawValue) -> (Option<String>, Option<String>) {
    #[derive(Deserialize)]
    struct Block<'a> {
        #[serde(rename = "type", borrow)]
        kind: Option<Lenient<'a>>,
        #[serde(borrow)]
        text: Option<Lenient<'a>>,
        #[serde(borrow)]
        name: Option<Lenient<'a>>,
        input: Option<&'a RawValue>,
        content: Option<&'a RawValue>,
    }
    let (mut said, mut tools) = (String::new(), String::new());
    let raw = content.get().trim_start();
    if raw.starts_with('"') {
        if let Ok(text) = serde_json::from_str::<std::borrow::Cow<str>>(raw) {
            push_capped(&mut said, &text);
        }
    } else if let Ok(blocks) = serde_json::from_str::<Vec<Block>>(raw) {
        for block in blocks {
            match block.kind.as_ref().and_then(Lenient::as_str) {
                Some("text") => {
                    if let Some(text) = block.text.as_ref().and_then(Lenient::as_str) {
                        push_capped(&mut said, text);
                    }
                }
                Some("tool_use") => {
                    if let Some(name) = block.name.as_ref().and_then(Lenient::as_str) {
                        push_capped(&mut tools, name);
                    }
                    if let Some(input) = block.input
                        && tools.len() < SEARCH_TEXT_CAP
                        && let Ok(value) = serde_json::from_str::<serde_json::Value>(input.get())
                    {
                        push_strings(&mut tools, &value);
                    }
                }
                Some("tool_result") if tools.len() < SEARCH_TEXT_CAP => {
                    let Some(result) = block.content else { continue };
                    let result = result.get().trim_start();
                    if result.starts_with('"') {
                        if let Ok(text) = serde_json::from_str::<std::borrow::Cow<str>>(result) {
                            push_capped(&mut tools, &text);
                        }
                    } else if let Ok(parts) = serde_json::from_str::<Vec<Block>>(result) {
                        for part in parts {
                            if let Some(text) = part.text.as_ref().and_then(Lenient::as_str) {
                                push_capped(&mut tools, text);
                            }
                        }
                    }
                }
                _ => {}
            }
        }
    }
    let some = |s: String| (!s.is_empty()).then_some(s);
    (some(said), some(tools))
}

/// The text of a prompt the person typed: string content or text blocks; not a tool result, not a
/// command echo (`<command-name>`, `<local-command-stdout>`), not the `Caveat:` preamble.
fn typed_prompt(content: &RawValue) -> Option<String> {
    #[derive(Deserialize)]
    struct Block<'a> {
        #[serde(rename = "type", borrow)]
        kind: Option<std::borrow::Cow<'a, str>>,
        #[serde(borrow)]
        text: Option<std::borrow::Cow<'a, str>>,
    }
    let raw = content.get().trim_start();
    let text = if raw.starts_with('"') {
        serde_json::from_str::<String>(raw).ok()?
    } else if raw.starts_with('[') {
        let blocks: Vec<Block> = serde_json::from_str(raw).ok()?;
        let mut text = String::new();
        for block in &blocks {
            match block.kind.as_deref() {
                Some("text") => {
                    if let Some(t) = &block.text {
                        if !text.is_empty() {
                            text.push('\n');
                        }
                        text.push_str(t);
                    }
                }
                Some("tool_result") => return None,
                _ => {}
            }
        }
        text
    } else {
        return None;
    };
    let trimmed = text.trim_start();
    if trimmed.is_empty()
        || trimmed.starts_with("<command-name>")
        || trimmed.starts_with("<local-command-stdout>")
        || trimmed.starts_with("<command-message>")
        || trimmed.starts_with("Caveat:")
        || trimmed.starts_with("[Request interrupted")
    {
        return None;
    }
    Some(text)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn usage_of(line: &str) -> Option<UsageRecord> {
        match parse(line) {
            Line::Facts { usage, .. } => usage,
            _ => None,
        }
    }

    #[test]
    fn usage_with_split_cache_and_ids() {
        let u = usage_of(r#"{"type":"assistant","timestamp":"2026-03-01T10:00:00.000Z","requestId":"r","message":{"id":"m","model":"claude-opus-4-6","usage":{"input_tokens":3,"output_tokens":4,"cache_creation_input_tokens":2000,"cache_read_input_tokens":7,"cache_creation":{"ephemeral_5m_input_tokens":5,"ephemeral_1h_input_tokens":6},"speed":"fast"}}}"#).unwrap();
        assert_eq!(
            (u.input, u.output, u.cache_write_5m, u.cache_write_1h, u.cache_read),
            (3, 4, 5, 6, 7)
        );
        assert_eq!(u.message_id.as_deref(), Some("m"));
        assert_eq!(u.request_id.as_deref(), Some("r"));
        assert!(u.fast);
        assert_eq!(u.timestamp_ms, 1_772_359_200_000);
    }

    #[test]
    fn unsplit_cache_counts_at_the_5_minute_rate() {
        let u = usage_of(r#"{"type":"assistant","timestamp":"2026-03-01T10:00:00Z","message":{"usage":{"input_tokens":1,"output_tokens":1,"cache_creation_input_tokens":9}}}"#).unwrap();
        assert_eq!((u.cache_write_5m, u.cache_write_1h), (9, 0));
        assert_eq!(u.model, None);
    }

    #[test]
    fn records_ccusage_drops_are_dropped() {
        // No timestamp, string or fractional token counts.
        assert!(usage_of(r#"{"type":"assistant","message":{"usage":{"input_tokens":1,"output_tokens":1}}}"#).is_none());
        assert!(
            usage_of(
                r#"{"timestamp":"2026-03-01T10:00:00Z","message":{"usage":{"input_tokens":"1","output_tokens":1}}}"#
            )
            .is_none()
        );
        assert!(
            usage_of(
                r#"{"timestamp":"2026-03-01T10:00:00Z","message":{"usage":{"input_tokens":1.5,"output_tokens":1}}}"#
            )
            .is_none()
        );
    }

    #[test]
    fn relayed_subagent_responses_in_progress_lines_count() {
        let line = r#"{"type":"progress","isSidechain":false,"timestamp":"2026-02-10T23:59:59.999Z","data":{"type":"agent_progress","message":{"type":"assistant","timestamp":"2026-02-11T00:00:00.100Z","requestId":"req_n","message":{"model":"claude-haiku-4-5-20251001","id":"msg_n","usage":{"input_tokens":2,"output_tokens":3,"cache_read_input_tokens":9}}}}}"#;
        let u = usage_of(line).unwrap();
        assert_eq!((u.input, u.output, u.cache_read), (2, 3, 9));
        assert_eq!(u.message_id.as_deref(), Some("msg_n"));
        assert_eq!(u.request_id.as_deref(), Some("req_n"));
        assert_eq!(u.model.as_deref(), Some("claude-haiku-4-5-20251001"));
        assert_eq!(u.timestamp_ms, parse_timestamp("2026-02-11T00:00:00.100Z").unwrap());
        // Without the relayed message's own timestamp it is not counted (as ccusage does).
        assert!(usage_of(&line.replace(r#""timestamp":"2026-02-11T00:00:00.100Z","#, "")).is_none());
        // Other progress lines carry no usage.
        assert!(usage_of(r#"{"type":"progress","timestamp":"2026-02-10T23:59:59.999Z","data":{"type":"bash_progress","output":"x"}}"#).is_none());
    }

    #[test]
    fn malformed_and_odd_lines() {
        assert_eq!(parse("not json"), Line::Malformed);
        assert_eq!(
            parse(r#"{"type":"assistant","message":{"usage":{"input_tokens":5"#),
            Line::Malformed
        );
        assert_eq!(parse("   "), Line::Blank);
        assert_eq!(parse("[1,2]"), Line::Malformed);
        // Odd field types are tolerated.
        assert!(matches!(
            parse(r#"{"type":5,"cwd":7,"message":null,"timestamp":[]}"#),
            Line::Facts { .. }
        ));
    }

    #[test]
    fn typed_prompts_only() {
        let prompt = |line: &str| match parse(line) {
            Line::Facts { meta, .. } => meta.prompt,
            _ => None,
        };
        assert_eq!(
            prompt(r#"{"type":"user","message":{"role":"user","content":"fix it"}}"#).as_deref(),
            Some("fix it")
        );
        assert_eq!(
            prompt(r#"{"type":"user","message":{"content":[{"type":"text","text":"a"},{"type":"image"}]}}"#).as_deref(),
            Some("a")
        );
        assert_eq!(
            prompt(r#"{"type":"user","message":{"content":[{"type":"tool_result","content":"x"}]}}"#),
            None
        );
        assert_eq!(
            prompt(r#"{"type":"user","isMeta":true,"message":{"content":"Caveat: x"}}"#),
            None
        );
        assert_eq!(
            prompt(r#"{"type":"user","message":{"content":"<command-name>/clear</command-name>"}}"#),
            None
        );
    }

    #[test]
    fn without_prompts_only_a_tool_results_prompt_is_left_out() {
        let lines = [
            r#"{"type":"user","message":{"content":"fix it"}}"#,
            r#"{"type":"user","toolUseResult":{"stdout":"x"},"message":{"content":[{"type":"tool_result","content":"x"}]}}"#,
            r#"{"type":"assistant","timestamp":"2026-03-01T10:00:00Z","requestId":"r","message":{"id":"m","model":"claude-opus-4-6","content":[{"type":"text","text":"ok"}],"usage":{"input_tokens":1,"output_tokens":2}}}"#,
            r#"{"type":"user","message":"not an object"}"#,
            r#"{"type":"user","message":[1,{"a":2}]}"#,
            r#"{"type":"user","message":null}"#,
        ];
        for line in lines {
            let (Line::Facts { meta: a, usage: ua }, Line::Facts { meta: b, usage: ub }) =
                (parse_with(line, true), parse_with(line, false))
            else {
                panic!("not facts: {line}")
            };
            assert_eq!(ua, ub, "{line}");
            assert_eq!(a.is_message, b.is_message, "{line}");
            if line.contains("toolUseResult") {
                assert_eq!(b.prompt, None);
            } else {
                assert_eq!(a, b, "{line}");
            }
        }
    }
}
