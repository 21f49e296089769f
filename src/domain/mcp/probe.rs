//! A real connection test: the MCP handshake (`initialize`, then `tools/list`) with one server, through the
//! rmcp client, under a deadline. Failures say what went wrong: the command could not start, it exited
//! (with its status and the end of its stderr), no answer in time, an HTTP status, or a protocol error.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rmcp::ServiceExt;
use serde::Serialize;
use serde_json::Value;
use tokio::io::AsyncReadExt;

use super::{McpServer, Transport, validate_config};
use crate::util::sync::LockExt;

/// How much of a server's stderr a failure report keeps (the end of it).
const STDERR_TAIL: usize = 2000;

/// The default deadline for the whole handshake.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// One tool the server offers.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ToolInfo {
    pub name: String,
    pub description: Option<String>,
}

/// Why a connection test failed.
#[derive(Debug, Clone, PartialEq, Serialize, thiserror::Error)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ProbeFailure {
    #[error("the server's entry is not usable: {message}")]
    Invalid { message: String },
    #[error("cannot start `{command}`: {message}")]
    Spawn { command: String, message: String },
    #[error("the server exited ({status}) before the handshake finished{}", tail(.stderr))]
    Exited { status: String, stderr: String },
    #[error("no answer within {seconds:.1} s{}", tail(.stderr))]
    Timeout { seconds: f64, stderr: String },
    #[error("the server answered HTTP {status}: {message}")]
    Http { status: u16, message: String },
    #[error("cannot connect: {message}")]
    Connect { message: String },
    #[error("protocol error: {message}{}", tail(.stderr))]
    Protocol { message: String, stderr: String },
}

fn tail(stderr: &str) -> String {
    if stderr.trim().is_empty() {
        String::new()
    } else {
        format!("; stderr: {}", stderr.trim())
    }
}

/// What a connection test found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProbeReport {
    pub name: String,
    pub ok: bool,
    pub server_name: Option<String>,
    pub server_version: Option<String>,
    pub protocol_version: Option<String>,
    pub tools: Vec<ToolInfo>,
    pub failure: Option<ProbeFailure>,
    pub elapsed_ms: u64,
}

struct Found {
    server_name: Option<String>,
    server_version: Option<String>,
    protocol_version: Option<String>,
    tools: Vec<ToolInfo>,
}

/// Connects to the server `config` describes (a stdio command runs in `cwd` when given) and reports.
pub async fn probe(name: &str, config: &Value, cwd: Option<&Path>, timeout: Duration) -> ProbeReport {
    let started = Instant::now();
    let result = match validate_config(name, config) {
        Err(error) => Err(ProbeFailure::Invalid {
            message: error.to_string(),
        }),
        Ok(()) => {
            let server = McpServer::from_config(name, super::McpScope::User, None, config);
            match server.transport {
                Transport::Stdio => probe_stdio(&server, cwd, timeout).await,
                Transport::Http => probe_http(&server, timeout).await,
                Transport::Sse => probe_sse(&server, timeout).await,
            }
        }
    };
    let elapsed_ms = started.elapsed().as_millis() as u64;
    match result {
        Ok(found) => ProbeReport {
            name: name.to_owned(),
            ok: true,
            server_name: found.server_name,
            server_version: found.server_version,
            protocol_version: found.protocol_version,
            tools: found.tools,
            failure: None,
            elapsed_ms,
        },
        Err(failure) => ProbeReport {
            name: name.to_owned(),
            ok: false,
            server_name: None,
            server_version: None,
            protocol_version: None,
            tools: Vec::new(),
            failure: Some(failure),
            elapsed_ms,
        },
    }
}

/// Why the handshake over a transport failed.
#[derive(Debug, thiserror::Error)]
enum HandshakeError {
    #[error(transparent)]
    Initialize(#[from] Box<rmcp::service::ClientInitializeError>),
    #[error(transparent)]
    ListTools(#[from] rmcp::ServiceError),
}

/// Runs the handshake over any transport rmcp accepts.
async fn handshake<T, E, A>(transport: T) -> Result<Found, HandshakeError>
where
    T: rmcp::transport::IntoTransport<rmcp::RoleClient, E, A>,
    E: std::error::Error + Send + Sync + 'static,
{
    let client = ().serve(transport).await.map_err(Box::new)?;
    let info = client.peer_info();
    let tools = client.list_all_tools().await?;
    let found = Found {
        server_name: info
            .as_ref()
            .and_then(|i| i.server_info.as_ref())
            .map(|s| s.name.clone()),
        server_version: info
            .as_ref()
            .and_then(|i| i.server_info.as_ref())
            .map(|s| s.version.clone()),
        protocol_version: info
            .as_ref()
            .and_then(|i| serde_json::to_value(&i.protocol_version).ok())
            .and_then(|v| v.as_str().map(str::to_owned)),
        tools: tools
            .into_iter()
            .map(|t| ToolInfo {
                name: t.name.into_owned(),
                description: t.description.map(|d| d.into_owned()),
            })
            .collect(),
    };
    let _ = client.cancel().await;
    Ok(found)
}

/// An error and its sources, joined.
fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(inner) = source {
        let more = inner.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = inner.source();
    }
    text
}

async fn probe_stdio(server: &McpServer, cwd: Option<&Path>, timeout: Duration) -> Result<Found, ProbeFailure> {
    let command = server.command.clone().unwrap_or_default();
    let mut cmd = tokio::process::Command::new(&command);
    cmd.args(&server.args)
        .envs(server.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true);
    if let Some(cwd) = cwd.filter(|c| c.is_dir()) {
        cmd.current_dir(cwd);
    }
    #[cfg(unix)]
    cmd.process_group(0);
    let mut child = cmd.spawn().map_err(|e| ProbeFailure::Spawn {
        command: command.clone(),
        message: e.to_string(),
    })?;
    let (Some(stdout), Some(stdin)) = (child.stdout.take(), child.stdin.take()) else {
        return Err(ProbeFailure::Spawn {
            command,
            message: "no pipes to the process".into(),
        });
    };
    let stderr_buf = Arc::new(Mutex::new(Vec::<u8>::new()));
    let stderr_task = child.stderr.take().map(|mut stderr| {
        let buf = stderr_buf.clone();
        tokio::spawn(async move {
            let mut chunk = [0u8; 4096];
            while let Ok(n) = stderr.read(&mut chunk).await {
                if n == 0 {
                    break;
                }
                let mut buf = buf.lock_or_recover();
                buf.extend_from_slice(&chunk[..n]);
                if buf.len() > STDERR_TAIL * 2 {
                    let cut = buf.len() - STDERR_TAIL;
                    buf.drain(..cut);
                }
            }
        })
    });
    let stderr_now = |buf: &Arc<Mutex<Vec<u8>>>| {
        let buf = buf.lock_or_recover();
        let start = buf.len().saturating_sub(STDERR_TAIL);
        String::from_utf8_lossy(&buf[start..]).into_owned()
    };
    let outcome = tokio::time::timeout(timeout, handshake((stdout, stdin))).await;
    let result = match outcome {
        Ok(Ok(found)) => Ok(found),
        Ok(Err(error)) => {
            // Did it exit? Give it a moment to be reaped, then read the rest of its stderr.
            match tokio::time::timeout(Duration::from_secs(2), child.wait()).await {
                Ok(Ok(status)) => {
                    if let Some(task) = stderr_task {
                        let _ = tokio::time::timeout(Duration::from_secs(1), task).await;
                    }
                    Err(ProbeFailure::Exited {
                        status: status.to_string(),
                        stderr: stderr_now(&stderr_buf),
                    })
                }
                _ => Err(ProbeFailure::Protocol {
                    message: error_chain(&error),
                    stderr: stderr_now(&stderr_buf),
                }),
            }
        }
        Err(_) => Err(ProbeFailure::Timeout {
            seconds: timeout.as_secs_f64(),
            stderr: stderr_now(&stderr_buf),
        }),
    };
    stop(&mut child).await;
    result
}

/// Ends the server and everything it started (its process group), and reaps it.
async fn stop(child: &mut tokio::process::Child) {
    #[cfg(unix)]
    if let (Some(pid), Ok(None)) = (child.id(), child.try_wait()) {
        // SAFETY: kill(2) takes no pointers and has no memory-safety preconditions; a negative pid signals
        // the process group the child leads (spawned with process_group(0)), and the child is not yet reaped,
        // so the group id cannot have been reused.
        #[allow(unsafe_code)]
        unsafe {
            libc::kill(-(pid as i32), libc::SIGKILL);
        }
    }
    let _ = child.start_kill();
    let _ = tokio::time::timeout(Duration::from_secs(2), child.wait()).await;
}

fn header_map(server: &McpServer) -> Result<HashMap<http::HeaderName, http::HeaderValue>, ProbeFailure> {
    let mut headers = HashMap::new();
    for (k, v) in &server.headers {
        let name = http::HeaderName::from_bytes(k.as_bytes()).map_err(|e| ProbeFailure::Invalid {
            message: format!("header {k:?}: {e}"),
        })?;
        let value = http::HeaderValue::from_str(v).map_err(|e| ProbeFailure::Invalid {
            message: format!("header {k:?}: {e}"),
        })?;
        headers.insert(name, value);
    }
    Ok(headers)
}

async fn probe_http(server: &McpServer, timeout: Duration) -> Result<Found, ProbeFailure> {
    use rmcp::transport::StreamableHttpClientTransport;
    use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
    crate::util::net::install_crypto();
    let url = server.url.clone().unwrap_or_default();
    let config = StreamableHttpClientTransportConfig::with_uri(url).custom_headers(header_map(server)?);
    let transport = StreamableHttpClientTransport::from_config(config);
    match tokio::time::timeout(timeout, handshake(transport)).await {
        Ok(Ok(found)) => Ok(found),
        Ok(Err(error)) => Err(classify_http(error_chain(&error))),
        Err(_) => Err(ProbeFailure::Timeout {
            seconds: timeout.as_secs_f64(),
            stderr: String::new(),
        }),
    }
}

/// The part of a transport's connection error a person can act on: rmcp wraps reqwest's "error sending
/// request for url (...)" in its own type names.
fn readable_connect_error(message: &str) -> String {
    let start = message.find("error sending request").unwrap_or(0);
    let text = &message[start..];
    let text = text.split(", when send").next().unwrap_or(text);
    text.trim().to_string()
}

/// Sorts an HTTP transport's error text into an HTTP status, a connection failure, or a protocol error.
fn classify_http(message: String) -> ProbeFailure {
    if let Some(status) = http_status_in(&message) {
        return ProbeFailure::Http { status, message };
    }
    let lower = message.to_lowercase();
    if [
        "connection refused",
        "error sending request",
        "dns error",
        "connect error",
        "tcp connect",
    ]
    .iter()
    .any(|needle| lower.contains(needle))
    {
        return ProbeFailure::Connect {
            message: readable_connect_error(&message),
        };
    }
    ProbeFailure::Protocol {
        message,
        stderr: String::new(),
    }
}

/// The first `HTTP NNN` (or `status NNN`, `status code NNN`) in `text`.
fn http_status_in(text: &str) -> Option<u16> {
    let lower = text.to_lowercase();
    for marker in ["http ", "status: ", "status code ", "status "] {
        let mut rest = lower.as_str();
        while let Some(at) = rest.find(marker) {
            rest = &rest[at + marker.len()..];
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            if digits.len() == 3
                && let Ok(code) = digits.parse::<u16>()
                && (100..600).contains(&code)
            {
                return Some(code);
            }
        }
    }
    None
}

/// The legacy HTTP+SSE transport (protocol 2024-11-05), which the rmcp client no longer speaks: a GET opens
/// the event stream, whose `endpoint` event names where to POST requests; answers come back as `message`
/// events.
async fn probe_sse(server: &McpServer, timeout: Duration) -> Result<Found, ProbeFailure> {
    crate::util::net::install_crypto();
    let url = server.url.clone().unwrap_or_default();
    let headers: http::HeaderMap = header_map(server)?.into_iter().collect();
    match tokio::time::timeout(timeout, sse_handshake(&url, headers)).await {
        Ok(result) => result,
        Err(_) => Err(ProbeFailure::Timeout {
            seconds: timeout.as_secs_f64(),
            stderr: String::new(),
        }),
    }
}

fn reqwest_failure(error: reqwest::Error) -> ProbeFailure {
    match error.status() {
        Some(status) => ProbeFailure::Http {
            status: status.as_u16(),
            message: error_chain(&error),
        },
        None => ProbeFailure::Connect {
            message: error_chain(&error),
        },
    }
}

fn protocol(message: impl Into<String>) -> ProbeFailure {
    ProbeFailure::Protocol {
        message: message.into(),
        stderr: String::new(),
    }
}

/// Server-sent events read from a response, one `(event, data)` at a time.
struct SseEvents {
    response: reqwest::Response,
    buffer: String,
}

impl SseEvents {
    async fn next(&mut self) -> Result<(String, String), ProbeFailure> {
        loop {
            if let Some(at) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..at + 2).collect();
                let mut event = String::from("message");
                let mut data = Vec::new();
                for line in block.lines() {
                    if let Some(value) = line.strip_prefix("event:") {
                        event = value.trim().to_owned();
                    } else if let Some(value) = line.strip_prefix("data:") {
                        data.push(value.strip_prefix(' ').unwrap_or(value).to_owned());
                    }
                }
                if !data.is_empty() {
                    return Ok((event, data.join("\n")));
                }
                continue;
            }
            match self.response.chunk().await.map_err(reqwest_failure)? {
                Some(bytes) => self
                    .buffer
                    .push_str(&String::from_utf8_lossy(&bytes).replace("\r\n", "\n")),
                None => return Err(protocol("the server closed the event stream")),
            }
        }
    }

    /// Waits for the answer to request `id`.
    async fn answer(&mut self, id: u64) -> Result<Value, ProbeFailure> {
        loop {
            let (event, data) = self.next().await?;
            if event != "message" {
                continue;
            }
            let Ok(message) = serde_json::from_str::<Value>(&data) else {
                return Err(protocol(format!("not JSON-RPC: {data}")));
            };
            if message.get("id").and_then(Value::as_u64) != Some(id) {
                continue;
            }
            if let Some(error) = message.get("error") {
                return Err(protocol(format!("the server answered with an error: {error}")));
            }
            return message
                .get("result")
                .cloned()
                .ok_or_else(|| protocol(format!("an answer without a result: {data}")));
        }
    }
}

async fn sse_handshake(url: &str, headers: http::HeaderMap) -> Result<Found, ProbeFailure> {
    let base = reqwest::Url::parse(url).map_err(|e| ProbeFailure::Invalid {
        message: format!("{url}: {e}"),
    })?;
    let client = reqwest::Client::builder()
        .default_headers(headers)
        .build()
        .map_err(reqwest_failure)?;
    let response = client
        .get(base.clone())
        .header(http::header::ACCEPT, "text/event-stream")
        .send()
        .await
        .map_err(reqwest_failure)?
        .error_for_status()
        .map_err(reqwest_failure)?;
    let mut events = SseEvents {
        response,
        buffer: String::new(),
    };
    let endpoint = loop {
        let (event, data) = events.next().await?;
        if event == "endpoint" {
            break base
                .join(data.trim())
                .map_err(|e| protocol(format!("a bad endpoint {data:?}: {e}")))?;
        }
    };
    let post = |body: Value| {
        let request = client.post(endpoint.clone()).json(&body);
        async move {
            request
                .send()
                .await
                .map_err(reqwest_failure)?
                .error_for_status()
                .map_err(reqwest_failure)
                .map(|_| ())
        }
    };
    post(serde_json::json!({
        "jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {
            "protocolVersion": "2024-11-05",
            "capabilities": {},
            "clientInfo": {"name": "anyon", "version": env!("CARGO_PKG_VERSION")}
        }
    }))
    .await?;
    let init = events.answer(1).await?;
    post(serde_json::json!({"jsonrpc": "2.0", "method": "notifications/initialized"})).await?;
    let mut tools = Vec::new();
    let mut cursor: Option<String> = None;
    for id in 2..52 {
        let params = match &cursor {
            Some(cursor) => serde_json::json!({ "cursor": cursor }),
            None => serde_json::json!({}),
        };
        post(serde_json::json!({"jsonrpc": "2.0", "id": id, "method": "tools/list", "params": params})).await?;
        let page = events.answer(id).await?;
        for tool in page.get("tools").and_then(Value::as_array).into_iter().flatten() {
            tools.push(ToolInfo {
                name: tool.get("name").and_then(Value::as_str).unwrap_or_default().to_owned(),
                description: tool.get("description").and_then(Value::as_str).map(str::to_owned),
            });
        }
        cursor = page.get("nextCursor").and_then(Value::as_str).map(str::to_owned);
        if cursor.is_none() {
            break;
        }
    }
    let text = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_owned);
    Ok(Found {
        server_name: text(init.pointer("/serverInfo/name")),
        server_version: text(init.pointer("/serverInfo/version")),
        protocol_version: text(init.get("protocolVersion")),
        tools,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn connection_errors_lose_the_transport_type_names() {
        let raw = "Send message error Transport [rmcp::transport::worker::WorkerTransport<X>] error: Client error: \
                   error sending request for url (http://127.0.0.1:9/mcp), when send initialize request";
        assert_eq!(
            readable_connect_error(raw),
            "error sending request for url (http://127.0.0.1:9/mcp)"
        );
        assert_eq!(readable_connect_error("connection refused"), "connection refused");
    }

    #[test]
    fn http_statuses_are_found_in_transport_errors() {
        assert_eq!(
            http_status_in("Send message error HTTP 503, when send initialize"),
            Some(503)
        );
        assert_eq!(
            http_status_in("unexpected server response: HTTP status client error (404 Not Found)"),
            None
        );
        assert_eq!(http_status_in("request failed with status code 401"), Some(401));
        assert!(matches!(
            classify_http("error sending request: Connection refused".into()),
            ProbeFailure::Connect { .. }
        ));
    }
}
