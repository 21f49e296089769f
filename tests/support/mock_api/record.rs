//! What the server remembers of each request, and the shared state the connections work on.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard};

use anyon::util::sync::LockExt;
use serde_json::{Value, json};

use super::script::Script;

/// What a request was taken to be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RequestKind {
    /// `HEAD /` (or `GET /`): the CLI's reachability check before the first call.
    Probe,
    /// `POST /v1/messages` of the main conversation.
    Main,
    /// `POST /v1/messages` made by a subagent (its system prompt carries `cc_is_subagent=true`).
    Subagent,
    /// `POST /v1/messages` without tools or without `stream` (a title or other one-off call).
    Side,
    /// `POST /v1/messages/count_tokens`.
    CountTokens,
    /// `GET /v1/models` (what `anyon claude-auth set-key --verify` asks).
    Models,
    /// Refused with a 401: its `x-api-key` is not one the script accepts.
    Unauthorized,
    /// A body that is not a JSON object; answered 400.
    Malformed,
    /// Anything else; answered 404 and kept here so a test can see what the CLI tried.
    Unknown,
}

/// How a streamed answer ended, filled in when the response body is dropped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StreamOutcome {
    Completed {
        events: usize,
    },
    /// The client closed the connection before the last event.
    Aborted {
        events_sent: usize,
    },
}

/// One request as the server saw it.
#[derive(Clone, Debug)]
pub struct RecordedRequest {
    pub method: String,
    /// Path with query, e.g. `/v1/messages?beta=true`.
    pub path: String,
    /// All headers, names lower-cased (all are kept: cheap, and a test may care about any of them).
    pub headers: Vec<(String, String)>,
    /// The parsed JSON body, if there was one and it parsed.
    pub body: Option<Value>,
    pub kind: RequestKind,
    /// The script step answered (main and subagent requests only).
    pub step: Option<usize>,
    /// The status the server answered with.
    pub status: u16,
    /// For streamed answers: how the stream ended (`None` while it is still being sent).
    pub stream: Option<StreamOutcome>,
}

impl RecordedRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// The conversation of a messages request.
    pub fn messages(&self) -> &[Value] {
        self.body
            .as_ref()
            .and_then(|body| body["messages"].as_array())
            .map_or(&[], Vec::as_slice)
    }

    /// The content blocks of the last `user` message (a string content reads as one text block). Not simply
    /// the last message: the CLI may append `role: "system"` messages after the prompt.
    pub fn last_user_blocks(&self) -> Vec<Value> {
        let last_user = self.messages().iter().rev().find(|message| message["role"] == "user");
        match last_user.map(|message| &message["content"]) {
            Some(Value::Array(blocks)) => blocks.clone(),
            Some(Value::String(text)) => vec![json!({"type": "text", "text": text})],
            _ => Vec::new(),
        }
    }

    /// The names of the tools offered in a messages request.
    pub fn tool_names(&self) -> Vec<String> {
        self.body
            .as_ref()
            .and_then(|body| body["tools"].as_array())
            .map(|tools| {
                tools
                    .iter()
                    .filter_map(|tool| tool["name"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// State shared by the connections: the script, the records, and a condvar to wait on new records.
pub struct Shared {
    pub(super) script: Script,
    records: Mutex<Vec<RecordedRequest>>,
    pub(super) changed: Condvar,
    next_id: AtomicU64,
}

impl Shared {
    pub(super) fn new(script: Script) -> Self {
        Self {
            script,
            records: Mutex::new(Vec::new()),
            changed: Condvar::new(),
            next_id: AtomicU64::new(1),
        }
    }

    /// Records never hold a half-updated state, so a panic elsewhere must not hide them: ignore poisoning.
    pub(super) fn lock(&self) -> MutexGuard<'_, Vec<RecordedRequest>> {
        self.records.lock_or_recover()
    }

    pub(super) fn record(&self, request: RecordedRequest) -> usize {
        let mut records = self.lock();
        records.push(request);
        self.changed.notify_all();
        records.len() - 1
    }

    pub(crate) fn set_stream_outcome(&self, index: usize, outcome: StreamOutcome) {
        if let Some(record) = self.lock().get_mut(index) {
            record.stream = Some(outcome);
        }
        self.changed.notify_all();
    }

    pub(super) fn next_id(&self, prefix: &str) -> String {
        format!("{prefix}_mock_{:04}", self.next_id.fetch_add(1, Ordering::Relaxed))
    }
}

/// Method, path, kind, step and status of each record: enough to read a failure without the huge bodies.
pub fn summary(records: &[RecordedRequest]) -> Vec<String> {
    records
        .iter()
        .map(|r| {
            format!(
                "{} {} {:?} step={:?} status={} {:?}",
                r.method, r.path, r.kind, r.step, r.status, r.stream
            )
        })
        .collect()
}
