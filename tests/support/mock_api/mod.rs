//! A local HTTP server that speaks the Anthropic Messages API (SSE streaming), to run the real Claude CLI
//! offline in tests.
//!
//! `MockApi::start(script)` binds `127.0.0.1:0` and serves from its own thread (so sync and async tests both
//! use it); `base_url()` goes into `ANTHROPIC_BASE_URL`; `requests()` / `messages_requests(kind)` /
//! `wait_for(..)` give what it received; dropping it cuts open connections and stops it. The server loop is
//! `run(listener, shared, shutdown)`. What it answers comes from a [`Script`] (see `script.rs`); a request that
//! is not JSON gets a 400 `invalid_request_error`, an unknown route a 404 `not_found_error`, both recorded.
//! `GET /v1/models` answers a one-model list; with `Script::accept_keys`, a request whose `x-api-key` is not
//! listed gets a 401 `authentication_error` (recorded as `Unauthorized`).
//!
//! # What CLI 2.1.197 sends (observed against this server)
//! Run: `claude -p --output-format stream-json --verbose --input-format stream-json` with `ANTHROPIC_BASE_URL`,
//! `ANTHROPIC_API_KEY=sk-test`, `CLAUDE_CONFIG_DIR`, `HOME`, `CLAUDE_CODE_MAX_RETRIES=0`,
//! `CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1`; prompts as stdin lines
//! `{"type":"user","message":{"role":"user","content":"..."}}`.
//!
//! - **Calls per prompt.** First `HEAD /` (a reachability check; any 2xx will do), then one
//!   `POST /v1/messages?beta=true` per model turn, always `stream: true`. Nothing else: no `count_tokens`, no
//!   title or other non-streamed call, no `GET` of models, with non-essential traffic off. One prompt with one
//!   tool call = 2 POSTs; a subagent adds its own POSTs in between. With `CLAUDE_CODE_MAX_RETRIES=0`, an error
//!   status is not retried.
//! - **Headers.** `x-api-key: sk-test`, `anthropic-version: 2023-06-01`, `anthropic-beta:` a comma list
//!   (`claude-code-20250219,context-1m-2025-08-07,interleaved-thinking-2025-05-14,...`),
//!   `x-claude-code-session-id: <session uuid>` (= `session_id` of the `init` line), `x-app: cli`,
//!   `user-agent: claude-cli/2.1.197 (external, sdk-cli)`, `x-stainless-retry-count`, `x-stainless-timeout: 600`.
//! - **Body.** `{model, messages, system, tools, metadata, max_tokens: 64000, thinking: {type: "adaptive"},
//!   context_management: {edits: [{type: "clear_thinking_20251015", keep: "all"}]}, output_config: {effort:
//!   "high"}, stream: true}`. Default `model` is `claude-opus-4-8` (the `init` line says `claude-opus-4-8[1m]`).
//!   `metadata.user_id` is a JSON *string* `{"device_id","account_uuid","session_id"}`. `system` is a list of text
//!   blocks: `[0]` a billing header `x-anthropic-billing-header: cc_version=2.1.197.xyz; cc_entrypoint=sdk-cli;`,
//!   `[1]` the agent identity, `[2]` the long system prompt. `tools` offers ~24 tools; the subagent tool is named
//!   **`Agent`** here and in the stream-json `tool_use` lines, while the `init` line's `tools` lists it as `Task`.
//! - **Messages.** The prompt is a user message of text blocks: a `<system-reminder>` block (date, context), then
//!   the prompt text (with `cache_control`). It is followed by a **`role: "system"` message** (agent types and
//!   skills list; beta `mid-conversation-system`), so "the last message" is not always the user's. After a tool
//!   runs, the conversation ends `assistant [tool_use]`, `user [tool_result {tool_use_id, content, is_error?}]`;
//!   thinking blocks come back with their signature. A later prompt in the same process resends all of it.
//! - **Subagents.** A `tool_use` of `Agent` with `{description, prompt, subagent_type}` makes the CLI open a
//!   fresh conversation whose first system block carries **`cc_is_subagent=true;`** (that is how this server
//!   tells them apart), whose `[2]` system block starts "You are an agent for Claude Code", without
//!   `context_management`, with fewer tools (no `ScheduleWakeup`, `TaskOutput`, `Workflow`), and whose user
//!   message holds the `prompt`. Its final text becomes the `Agent` tool_result (plus an
//!   `agentId: ... <usage>...</usage>` text block). On stdout: `system/task_started {task_id, tool_use_id,
//!   description, subagent_type, task_type: "local_agent", prompt}`, a `user` line with the prompt, the
//!   subagent's `tool_use` assistant lines and `tool_result` user lines, all with `parent_tool_use_id` = the Agent
//!   call's id (its text and thinking blocks are NOT printed), `system/task_progress`, `system/task_updated
//!   {patch: {status, end_time}}`, `system/task_notification {status: "completed", usage: {total_tokens,
//!   tool_uses, duration_ms}}`. Transcript: `projects/<folder>/<session>/subagents/agent-<id>.jsonl` + `.meta.json`
//!   (`{agentType, description, toolUseId, spawnDepth}`).
//! - **Stream-json from our SSE.** One `assistant` line per content block, emitted at `content_block_stop`,
//!   with `message.id` = our `msg_...`, `request_id` = our `request-id` header, `model` = what we echoed, and
//!   the `message_start` usage (output_tokens 1: a snapshot). The `result` line sums the `message_delta` usage
//!   (`input_tokens`, `output_tokens`, `cache_read_input_tokens`, `cache_creation_input_tokens`, `cache_creation`)
//!   and prices it (`total_cost_usd`, `modelUsage`). `--include-partial-messages` adds `stream_event` lines with
//!   our raw events (`event.delta.text`), as they arrive.
//! - **Errors.** A 500 or 529 with an error body ends the turn: one `assistant` line with model `<synthetic>`,
//!   `error: "server_error"` (for both), text `API Error: 529 Overloaded. ...`; then `result` with
//!   `subtype: "success"` but `is_error: true`, `api_error_status: 529`; exit status 1.
//! - **Permissions** (`--permission-prompt-tool stdio`): a Write of a new file prints
//!   `{"type":"control_request","request_id":"<uuid>","request":{"subtype":"can_use_tool","tool_name":"Write",
//!   "display_name":"Write","input":{...},"description":"notes.txt","permission_suggestions":[{"type":"setMode",
//!   "mode":"acceptEdits","destination":"session"}],"tool_use_id":"toolu_..."}}` and waits. Allow:
//!   `{"behavior":"allow","updatedInput":{...}}` → the file is written, tool_result without `is_error`. Deny:
//!   `{"behavior":"deny","message":M}` → tool_result `{content: M, is_error: true}`, `tool_use_result:
//!   "Error: M"`, and `result.permission_denials: [{tool_name, tool_use_id, tool_input}]`; the turn goes on.
//!   `echo hello` through Bash is allowed without asking.
//! - **Interrupt.** `{"type":"control_request","request_id":"i1","request":{"subtype":"interrupt"}}` mid-stream
//!   (no `initialize` needed first) → `{"type":"control_response","response":{"request_id":"i1",
//!   "subtype":"success"}}`, the CLI drops the HTTP connection, prints the text received so far as an
//!   `assistant` line, a `user` line `[Request interrupted by user]`, then `result` `subtype:
//!   "error_during_execution"`, `is_error: true`, `terminal_reason: "aborted_streaming"`; it then takes the next
//!   prompt, and exits 1 if the interrupted turn was the last.
//! - **Files.** `<CLAUDE_CONFIG_DIR>/projects/<folder>/<session_id>.jsonl`, plus `.claude.json` and `backups/`.

mod record;
mod script;
mod sse;

pub use record::{RecordedRequest, RequestKind, Shared, StreamOutcome, summary};

pub use script::{ApiError, Block, Reply, SCRIPT_OVERRUN_TEXT, SIDE_ANSWER_TEXT, Script, Usage};

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinSet;

/// Larger than any conversation a test sends (the CLI's first request is ~100 KB), small enough to refuse junk.
const MAX_BODY_BYTES: usize = 32 * 1024 * 1024;

/// The marker the CLI puts in the first system block of a subagent's requests.
const SUBAGENT_MARKER: &str = "cc_is_subagent=true";

/// A running mock Messages API on `127.0.0.1`; stops when dropped.
pub struct MockApi {
    address: SocketAddr,
    shared: Arc<Shared>,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl MockApi {
    /// Binds a free port and serves `script` from a thread of its own, so sync and async tests can both use it.
    pub fn start(script: Script) -> MockApi {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind the mock API to 127.0.0.1:0");
        listener
            .set_nonblocking(true)
            .expect("make the mock API listener non-blocking");
        let address = listener.local_addr().expect("the mock API's address");
        let shared = Arc::new(Shared::new(script));
        let (shutdown, shutdown_signal) = oneshot::channel::<()>();
        let thread_shared = shared.clone();
        let thread = std::thread::Builder::new()
            .name("mock-api".into())
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("the mock API's runtime");
                runtime.block_on(async move {
                    let listener = TcpListener::from_std(listener).expect("hand the listener to tokio");
                    run(listener, thread_shared, async {
                        // A dropped sender also means stop.
                        let _ = shutdown_signal.await;
                    })
                    .await;
                });
            })
            .expect("spawn the mock API thread");
        MockApi {
            address,
            shared,
            shutdown: Some(shutdown),
            thread: Some(thread),
        }
    }

    /// `http://127.0.0.1:PORT`, the value for `ANTHROPIC_BASE_URL`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// Every request received so far, in arrival order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.lock().clone()
    }

    /// The `POST /v1/messages` requests of `kind` (main, subagent or side).
    pub fn messages_requests(&self, kind: RequestKind) -> Vec<RecordedRequest> {
        self.requests()
            .into_iter()
            .filter(|request| request.kind == kind)
            .collect()
    }

    /// Waits until `check` finds something in the records, or panics naming `what` after `timeout`.
    pub fn wait_for<T>(
        &self,
        what: &str,
        timeout: Duration,
        mut check: impl FnMut(&[RecordedRequest]) -> Option<T>,
    ) -> T {
        let deadline = Instant::now() + timeout;
        let mut records = self.shared.lock();
        loop {
            if let Some(found) = check(&records) {
                return found;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(
                !left.is_zero(),
                "timed out after {timeout:?} waiting for {what}; requests: {:#?}",
                summary(&records)
            );
            records = self
                .shared
                .changed
                .wait_timeout(records, left)
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .0;
        }
    }
}

impl Drop for MockApi {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(thread) = self.thread.take() {
            // A panic in the server thread has already been printed; a test that is dropping us is done anyway.
            let _ = thread.join();
        }
    }
}

/// Serves connections from `listener` until `shutdown` completes; open connections are cut then.
pub async fn run(listener: TcpListener, shared: Arc<Shared>, shutdown: impl Future<Output = ()>) {
    let mut connections = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => {
                // Accept errors (e.g. too many open files) are transient for a test server: keep serving.
                let Ok((stream, _)) = accepted else { continue };
                let shared = shared.clone();
                connections.spawn(async move {
                    let service = service_fn(move |request| handle(shared.clone(), request));
                    // A client that hangs up mid-answer is normal (a cancelled turn), not an error to report.
                    let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
                });
            }
            // Reap finished connections so the set does not grow over a long test.
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    // Dropping the set aborts what is still open, slow streams included.
    connections.shutdown().await;
}

type ResponseBody = BoxBody<Bytes, Infallible>;

async fn handle(shared: Arc<Shared>, request: Request<Incoming>) -> Result<Response<ResponseBody>, Infallible> {
    let method = request.method().clone();
    let path = request
        .uri()
        .path_and_query()
        .map_or_else(|| request.uri().path().to_owned(), |pq| pq.as_str().to_owned());
    let route = request.uri().path().to_owned();
    let headers = request
        .headers()
        .iter()
        .map(|(name, value)| {
            (
                name.as_str().to_owned(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        })
        .collect();
    let raw = match Limited::new(request.into_body(), MAX_BODY_BYTES).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(error) => Err(error.to_string()),
    };
    let mut record = RecordedRequest {
        method: method.to_string(),
        path,
        headers,
        body: None,
        kind: RequestKind::Unknown,
        step: None,
        status: 200,
        stream: None,
    };
    let body = match raw {
        Ok(bytes) if bytes.is_empty() => None,
        Ok(bytes) => match serde_json::from_slice::<Value>(&bytes) {
            Ok(value) => Some(value),
            Err(error) => return Ok(malformed(&shared, record, &format!("the body is not JSON: {error}"))),
        },
        Err(error) => {
            return Ok(malformed(
                &shared,
                record,
                &format!("the body could not be read: {error}"),
            ));
        }
    };
    record.body = body;

    let probe = matches!(method, Method::HEAD | Method::GET) && route == "/";
    if !probe && !shared.script.accepts_key(record.header("x-api-key")) {
        let error = ApiError::authentication();
        record.kind = RequestKind::Unauthorized;
        record.status = error.status;
        shared.record(record);
        return Ok(error_response(&error));
    }
    Ok(match (&method, route.as_str()) {
        (&Method::GET, "/v1/models") => {
            record.kind = RequestKind::Models;
            shared.record(record);
            json_response(
                StatusCode::OK,
                &json!({"data": [{"type": "model", "id": "claude-mock", "display_name": "Mock"}],
                        "has_more": false, "first_id": "claude-mock", "last_id": "claude-mock"}),
            )
        }
        (&Method::HEAD | &Method::GET, "/") => {
            record.kind = RequestKind::Probe;
            shared.record(record);
            empty(StatusCode::OK)
        }
        (&Method::POST, "/v1/messages/count_tokens") => {
            record.kind = RequestKind::CountTokens;
            shared.record(record);
            json_response(StatusCode::OK, &json!({"input_tokens": Usage::MOCK.input_tokens}))
        }
        (&Method::POST, "/v1/messages") => messages(&shared, record),
        _ => {
            let error = ApiError::not_found(format!("the mock API has no route for {method} {route}"));
            record.status = error.status;
            shared.record(record);
            error_response(&error)
        }
    })
}

/// Answers `POST /v1/messages` from the script, by the kind of conversation and its step.
fn messages(shared: &Arc<Shared>, mut record: RecordedRequest) -> Response<ResponseBody> {
    let Some(body) = record.body.as_ref().filter(|body| body.is_object()) else {
        return malformed(shared, record, "the body must be a JSON object");
    };
    let Some(conversation) = body["messages"].as_array() else {
        return malformed(shared, record, "`messages` must be an array");
    };
    let model = body["model"].as_str().unwrap_or("claude-mock").to_owned();
    let streamed = body["stream"] == true;
    let has_tools = body["tools"].as_array().is_some_and(|tools| !tools.is_empty());
    let is_subagent = system_text(body).contains(SUBAGENT_MARKER);
    let step = script::step_of(conversation);

    let reply = if !streamed || !has_tools {
        record.kind = RequestKind::Side;
        Reply::text(SIDE_ANSWER_TEXT)
    } else {
        record.kind = if is_subagent {
            RequestKind::Subagent
        } else {
            RequestKind::Main
        };
        record.step = Some(step);
        shared.script.reply(is_subagent, step)
    };

    let message = match reply {
        Reply::Error(error) => {
            record.status = error.status;
            shared.record(record);
            return error_response(&error);
        }
        Reply::Message(message) => message,
    };
    let mut next_tool_id = || shared.next_id("toolu");
    let ids = sse::Ids {
        message_id: shared.next_id("msg"),
        next_tool_id: &mut next_tool_id,
    };
    if !streamed {
        let answer = sse::message_json(&message, &model, ids);
        shared.record(record);
        let mut response = json_response(StatusCode::OK, &answer);
        add_headers(&mut response, &shared.script.headers);
        return response;
    }
    let events = sse::events(&message, &model, ids);
    let index = shared.record(record);
    let body = sse::SseBody::new(events, shared.clone(), index);
    let mut response = Response::builder()
        .status(StatusCode::OK)
        .header("content-type", "text/event-stream")
        .header("cache-control", "no-cache")
        .header("request-id", shared.next_id("req"))
        .body(body.boxed())
        .unwrap_or_else(|_| empty(StatusCode::INTERNAL_SERVER_ERROR));
    add_headers(&mut response, &shared.script.headers);
    response
}

/// Adds the script's extra headers to an answer.
fn add_headers<B>(response: &mut Response<B>, headers: &[(String, String)]) {
    for (name, value) in headers {
        if let (Ok(name), Ok(value)) = (
            hyper::header::HeaderName::from_bytes(name.as_bytes()),
            hyper::header::HeaderValue::from_str(value),
        ) {
            response.headers_mut().insert(name, value);
        }
    }
}

/// All text of the `system` field, whether a string or a list of text blocks.
fn system_text(body: &Value) -> String {
    match &body["system"] {
        Value::String(text) => text.clone(),
        Value::Array(blocks) => blocks
            .iter()
            .filter_map(|block| block["text"].as_str())
            .collect::<Vec<_>>()
            .join("\n"),
        _ => String::new(),
    }
}

fn malformed(shared: &Shared, mut record: RecordedRequest, message: &str) -> Response<ResponseBody> {
    let error = ApiError::invalid_request(message);
    record.kind = RequestKind::Malformed;
    record.status = error.status;
    shared.record(record);
    error_response(&error)
}

fn error_response(error: &ApiError) -> Response<ResponseBody> {
    let status = StatusCode::from_u16(error.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    json_response(status, &error.body())
}

fn json_response(status: StatusCode, value: &Value) -> Response<ResponseBody> {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(value.to_string())).boxed())
        .unwrap_or_else(|_| empty(StatusCode::INTERNAL_SERVER_ERROR))
}

fn empty(status: StatusCode) -> Response<ResponseBody> {
    let mut response = Response::new(Full::new(Bytes::new()).boxed());
    *response.status_mut() = status;
    response
}
