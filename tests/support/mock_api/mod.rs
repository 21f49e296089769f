//! OBSERVATIONS_PLACEHOLDER

mod script;
mod sse;

pub use script::{ApiError, Block, Message, Reply, SCRIPT_OVERRUN_TEXT, SIDE_ANSWER_TEXT, Script, Usage};

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
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

/// What a request was taken to be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RequestKind {
    /// `HEAD /` (or `GET /`): the CLI's reachability check before the first call.
    Probe,
    /// `POST /v1/messages` of the main conversation.
    Main,
    /// `POST /v1/messages` made by a subagent (its system prompt carries [`SUBAGENT_MARKER`]).
    Subagent,
    /// `POST /v1/messages` without tools or without `stream` (a title or other one-off call).
    Side,
    /// `POST /v1/messages/count_tokens`.
    CountTokens,
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
    script: Script,
    records: Mutex<Vec<RecordedRequest>>,
    changed: Condvar,
    next_id: AtomicU64,
}

impl Shared {
    fn new(script: Script) -> Self {
        Self {
            script,
            records: Mutex::new(Vec::new()),
            changed: Condvar::new(),
            next_id: AtomicU64::new(1),
        }
    }

    /// Records never hold a half-updated state, so a panic elsewhere must not hide them: ignore poisoning.
    fn lock(&self) -> MutexGuard<'_, Vec<RecordedRequest>> {
        self.records.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn record(&self, request: RecordedRequest) -> usize {
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

    fn next_id(&self, prefix: &str) -> String {
        format!("{prefix}_mock_{:04}", self.next_id.fetch_add(1, Ordering::Relaxed))
    }
}

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

    Ok(match (&method, route.as_str()) {
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
        return json_response(StatusCode::OK, &answer);
    }
    let events = sse::events(&message, &model, ids);
    let index = shared.record(record);
    let body = sse::SseBody::new(events, shared.clone(), index);
    Response::builder()
        .status(StatusCode::OK)
        .header("content-type", "text/event-stream")
        .header("cache-control", "no-cache")
        .header("request-id", shared.next_id("req"))
        .body(body.boxed())
        .unwrap_or_else(|_| empty(StatusCode::INTERNAL_SERVER_ERROR))
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
