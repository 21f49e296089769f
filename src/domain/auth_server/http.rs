//! The HTTP side: one hyper 1 connection task per client, with header, body and time limits, a Host
//! check against DNS rebinding, no CORS grants, and JSON errors `{"error","message"}`.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{self, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use serde_json::{Value, json};
use tokio::sync::watch;

use super::accounts::{self, MAX_KEYS_PER_USER, MAX_VALUE_BYTES};
use super::google::Google;
use super::login::Logins;
use super::token::{Claims, TokenKeys};
use super::{AuthConfig, AuthError, Mode, now, webhook};
use crate::domain::db::Db;

/// Largest request body.
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// hyper's read buffer, which bounds the request line plus headers.
pub const MAX_HEADER_BYTES: usize = 16 * 1024;
/// Most headers in one request.
const MAX_HEADERS: usize = 64;
/// Time to send the request headers.
const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// Time to read the body and answer.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Connections served at once unless configured (`ANYON_AUTH_MAX_CONNECTIONS`).
pub const MAX_CONNECTIONS: usize = 512;
/// Connections over the cap being told so at once; past this they are closed without an answer.
const MAX_REFUSING: usize = 64;
/// The header the sign-in endpoints demand. Browsers add it to a cross-site request only after a CORS
/// preflight, which this server never grants, so a web page cannot call them; any value is accepted.
pub const REQUESTED_WITH: &str = "x-requested-with";

/// The client's address, put into each request's extensions by the connection task.
#[derive(Debug, Clone, Copy)]
pub(super) struct Peer(pub SocketAddr);

pub(super) type Body = Full<Bytes>;

/// A JSON error answer.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl ApiError {
    pub(super) fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }

    fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    pub(super) fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    pub(super) fn internal(error: impl std::fmt::Display) -> Self {
        tracing::error!(%error, "auth server failure");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "internal server error")
    }

    fn into_response(self) -> Response<Body> {
        let mut response = json_response(self.status, &json!({"error": self.code, "message": self.message}));
        if self.status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

pub(super) fn json_response(status: StatusCode, value: &Value) -> Response<Body> {
    let body = serde_json::to_vec(value).unwrap_or_else(|_| b"{}".to_vec());
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    response
}

fn empty_response(status: StatusCode) -> Response<Body> {
    let mut response = Response::new(Full::new(Bytes::new()));
    *response.status_mut() = status;
    response
}

/// The shared state of a running server.
pub struct AuthServer {
    pub(super) config: AuthConfig,
    pub(super) keys: TokenKeys,
    db: Arc<Db>,
    /// The bound address, known once listening.
    local: std::sync::OnceLock<SocketAddr>,
    pub(super) google: Google,
    pub(super) logins: Logins,
    /// Webhook event ids seen within the timestamp window.
    webhook_events: webhook::EventIds,
}

/// A running server: its address; dropping it (or [`ServerHandle::shutdown`]) stops accepting.
#[derive(Debug)]
pub struct ServerHandle {
    addr: SocketAddr,
    stop: watch::Sender<bool>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl ServerHandle {
    /// Where the server listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops accepting and waits for the accept loop to end.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }

    /// Runs until the accept loop ends (it only ends on shutdown).
    pub async fn wait(mut self) {
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for ServerHandle {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

/// Tells a connection over the cap that the server is busy and closes it, without holding up the accept
/// loop; when too many are being told already, closes it at once.
fn refuse(stream: tokio::net::TcpStream, refusing: &Arc<tokio::sync::Semaphore>) {
    let Ok(permit) = refusing.clone().try_acquire_owned() else {
        return;
    };
    tokio::spawn(async move {
        let _permit = permit;
        let _ = tokio::time::timeout(Duration::from_secs(2), async move {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            let mut stream = stream;
            let body = json!({"error": "too_many_connections", "message": "the server is busy; try again in a moment"})
                .to_string();
            let answer = format!(
                "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nCache-Control: no-store\r\n\
                 Retry-After: 1\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            );
            stream.write_all(answer.as_bytes()).await?;
            stream.shutdown().await?;
            // Read what the client sent, so closing does not reset the connection before it reads the answer.
            let mut sink = [0u8; 4096];
            while stream.read(&mut sink).await? > 0 {}
            Ok::<_, std::io::Error>(())
        })
        .await;
    });
}

impl AuthServer {
    pub(super) fn new(mut config: AuthConfig, keys: TokenKeys, db: Arc<Db>) -> Result<Self, AuthError> {
        // Browsers come back from the provider to the public address, so its Host is ours too.
        if let Some(url) = &config.public_url {
            let host = super::public_host(url)?;
            config.allowed_hosts.push(host);
        }
        Ok(Self {
            google: Google::new(&config.google)?,
            config,
            keys,
            db,
            local: std::sync::OnceLock::new(),
            logins: Logins::default(),
            webhook_events: webhook::EventIds::default(),
        })
    }

    /// Where the server listens (the configured address until it does).
    pub(super) fn local_addr(&self) -> SocketAddr {
        self.local.get().copied().unwrap_or(self.config.bind)
    }

    pub(super) fn spawn(self, listener: tokio::net::TcpListener) -> ServerHandle {
        let addr = listener.local_addr().unwrap_or(self.config.bind);
        let _ = self.local.set(addr);
        let connections = Arc::new(tokio::sync::Semaphore::new(self.config.max_connections.max(1)));
        let refusing = Arc::new(tokio::sync::Semaphore::new(MAX_REFUSING));
        let state = Arc::new(self);
        let (stop, mut stopped) = watch::channel(false);
        let task = tokio::spawn(async move {
            tracing::info!(%addr, "auth server listening");
            loop {
                let accepted = tokio::select! {
                    accepted = listener.accept() => accepted,
                    _ = stopped.changed() => break,
                };
                let (stream, peer) = match accepted {
                    Ok(accepted) => accepted,
                    Err(error) => {
                        tracing::warn!(%error, "auth server accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                let Ok(permit) = connections.clone().try_acquire_owned() else {
                    refuse(stream, &refusing);
                    continue;
                };
                let state = state.clone();
                let mut stopped = stopped.clone();
                tokio::spawn(async move {
                    let _permit = permit;
                    let service = hyper::service::service_fn(move |mut request: Request<Incoming>| {
                        request.extensions_mut().insert(Peer(peer));
                        let state = state.clone();
                        async move { Ok::<_, Infallible>(state.handle(request).await) }
                    });
                    let connection = hyper::server::conn::http1::Builder::new()
                        .timer(TokioTimer::new())
                        .header_read_timeout(HEADER_TIMEOUT)
                        .max_buf_size(MAX_HEADER_BYTES)
                        .max_headers(MAX_HEADERS)
                        .keep_alive(true)
                        // A client may shut its side down once it has sent the request (`nc -N`, scripts): it still gets
                        // the answer.
                        .half_close(true)
                        .serve_connection(TokioIo::new(stream), service);
                    tokio::pin!(connection);
                    tokio::select! {
                        _ = connection.as_mut() => {}
                        _ = stopped.changed() => {
                            connection.as_mut().graceful_shutdown();
                            let _ = tokio::time::timeout(Duration::from_secs(5), connection).await;
                        }
                    }
                });
            }
        });
        ServerHandle {
            addr,
            stop,
            task: Some(task),
        }
    }

    async fn handle(self: Arc<Self>, request: Request<Incoming>) -> Response<Body> {
        match tokio::time::timeout(REQUEST_TIMEOUT, self.route(request)).await {
            Ok(Ok(response)) => response,
            Ok(Err(error)) => error.into_response(),
            Err(_) => {
                ApiError::new(StatusCode::REQUEST_TIMEOUT, "timeout", "the request took too long").into_response()
            }
        }
    }

    /// Whether `host` (the `Host` header) names this server: loopback names with the bound port when
    /// embedded; in serve mode also the configured hosts.
    fn host_allowed(&self, host: &str) -> bool {
        let host = host.trim().to_ascii_lowercase();
        let port = self.local_addr().port();
        let loopback = ["127.0.0.1", "localhost", "[::1]"]
            .iter()
            .any(|name| host == format!("{name}:{port}"));
        match self.config.mode {
            Mode::Embedded => loopback,
            Mode::Serve => {
                loopback
                    || self.local.get().is_some_and(|addr| host == addr.to_string())
                    || self.config.allowed_hosts.contains(&host)
            }
        }
    }

    async fn route(self: &Arc<Self>, request: Request<Incoming>) -> Result<Response<Body>, ApiError> {
        let host = request
            .headers()
            .get(header::HOST)
            .and_then(|value| value.to_str().ok())
            .ok_or_else(|| ApiError::bad_request("a Host header is required"))?;
        if !self.host_allowed(host) {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "forbidden_host",
                "this Host is not served here",
            ));
        }
        let method = request.method().clone();
        if method != Method::GET && method != Method::HEAD {
            // Browsers send Origin on cross-site writes; only our own origin may write.
            if let Some(origin) = request.headers().get(header::ORIGIN) {
                let origin = origin.to_str().unwrap_or_default().to_ascii_lowercase();
                let own = origin
                    .strip_prefix("http://")
                    .or_else(|| origin.strip_prefix("https://"))
                    .is_some_and(|rest| self.host_allowed(rest));
                if !own {
                    return Err(ApiError::new(
                        StatusCode::FORBIDDEN,
                        "forbidden_origin",
                        "cross-origin requests are refused",
                    ));
                }
            }
        }
        let path = request.uri().path().to_owned();
        let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        match (&method, segments.as_slice()) {
            (&Method::GET, ["health"]) => Ok(json_response(StatusCode::OK, &json!({"status": "ok"}))),
            (&Method::GET, ["auth", "verify"]) => {
                let claims = self.authenticate(&request)?;
                Ok(json_response(
                    StatusCode::OK,
                    &json!({"valid": true, "sub": claims.sub, "exp": claims.exp}),
                ))
            }
            (&Method::GET, ["auth", "me"]) => {
                let claims = self.authenticate(&request)?;
                self.me(claims.sub).await
            }
            (&Method::POST, ["auth", "logout"]) => {
                let claims = self.authenticate(&request)?;
                self.logout(claims).await
            }
            (&Method::POST, ["auth", "subscription"]) => self.subscription(request).await,
            (&Method::GET, ["auth", "google", "url"]) => {
                require_requested_with(&request)?;
                self.google_url(&request)
            }
            (&Method::GET, ["auth", "google", "callback"]) => Ok(self.google_callback(&request).await),
            (&Method::POST, ["auth", "exchange"]) => {
                require_requested_with(&request)?;
                self.exchange(request).await
            }
            (&Method::GET, ["api", "settings"]) => {
                let claims = self.authenticate(&request)?;
                let settings = self.blocking(move |conn| accounts::settings(conn, &claims.sub)).await?;
                Ok(json_response(StatusCode::OK, &json!({"settings": settings})))
            }
            (&Method::POST, ["api", "settings"]) => {
                let claims = self.authenticate(&request)?;
                let body = read_json(request).await?;
                self.merge_settings(claims.sub, body).await
            }
            (&Method::PATCH, ["api", "settings", key]) => {
                let key = settings_key(key)?;
                let claims = self.authenticate(&request)?;
                let body = read_json(request).await?;
                let Some(value) = body.as_object().and_then(|body| body.get("value")) else {
                    return Err(ApiError::bad_request("the body must be {\"value\": ...}"));
                };
                self.put_setting(claims.sub, key, value.clone()).await
            }
            (&Method::DELETE, ["api", "settings", key]) => {
                let key = settings_key(key)?;
                let claims = self.authenticate(&request)?;
                let deleted = self
                    .blocking(move |conn| accounts::delete_setting(conn, &claims.sub, &key))
                    .await?;
                if deleted {
                    Ok(empty_response(StatusCode::NO_CONTENT))
                } else {
                    Err(ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such setting"))
                }
            }
            (
                _,
                ["health"]
                | ["auth", "verify" | "me" | "logout" | "subscription" | "exchange"]
                | ["auth", "google", "url" | "callback"]
                | ["api", "settings", ..],
            ) => Err(ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                format!("{method} is not allowed here"),
            )),
            _ => Err(ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such endpoint")),
        }
    }

    /// The bearer token's claims, or 401.
    fn authenticate(&self, request: &Request<Incoming>) -> Result<Claims, ApiError> {
        let value = request
            .headers()
            .get(header::AUTHORIZATION)
            .ok_or_else(|| ApiError::unauthorized("a bearer token is required"))?;
        let token = value
            .to_str()
            .ok()
            .and_then(bearer_token)
            .ok_or_else(|| ApiError::unauthorized("the Authorization header must be `Bearer <token>`"))?;
        self.keys
            .verify(token, now())
            .map_err(|error| ApiError::unauthorized(error.to_string()))
    }

    pub(super) async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce(&rusqlite::Connection) -> rusqlite::Result<T> + Send + 'static,
    ) -> Result<T, ApiError> {
        let db = self.db.clone();
        tokio::task::spawn_blocking(move || work(&db.writer()))
            .await
            .map_err(ApiError::internal)?
            .map_err(ApiError::internal)
    }

    async fn me(&self, sub: String) -> Result<Response<Body>, ApiError> {
        let (user, subscription) = self
            .blocking(move |conn| Ok((accounts::user(conn, &sub)?, accounts::subscription(conn, &sub)?)))
            .await?;
        let Some(user) = user else {
            return Err(ApiError::unauthorized("the token's user no longer exists"));
        };
        Ok(json_response(
            StatusCode::OK,
            &json!({"user": user, "subscription": subscription}),
        ))
    }

    async fn logout(&self, claims: Claims) -> Result<Response<Body>, ApiError> {
        let (jti, exp) = (claims.jti.clone(), claims.exp);
        self.blocking(move |conn| accounts::revoke(conn, &jti, exp)).await?;
        self.keys.revoke(&claims.jti);
        Ok(empty_response(StatusCode::NO_CONTENT))
    }

    async fn merge_settings(&self, sub: String, body: Value) -> Result<Response<Body>, ApiError> {
        let Value::Object(entries) = body else {
            return Err(ApiError::bad_request("the body must be a JSON object of settings"));
        };
        let mut rows = Vec::with_capacity(entries.len());
        for (key, value) in entries {
            let key = settings_key(&key)?;
            rows.push((key, encode_value(&value)?));
        }
        let settings = self
            .blocking(move |conn| {
                let tx = conn.unchecked_transaction()?;
                let mut count = accounts::settings_count(&tx, &sub)?;
                for (key, value) in &rows {
                    if !accounts::has_setting(&tx, &sub, key)? {
                        count += 1;
                    }
                    if count > MAX_KEYS_PER_USER {
                        return Ok(Err(()));
                    }
                    accounts::put_setting(&tx, &sub, key, value, now())?;
                }
                let settings = accounts::settings(&tx, &sub)?;
                tx.commit()?;
                Ok(Ok(settings))
            })
            .await?
            .map_err(|()| too_many_settings())?;
        Ok(json_response(StatusCode::OK, &json!({"settings": settings})))
    }

    async fn put_setting(&self, sub: String, key: String, value: Value) -> Result<Response<Body>, ApiError> {
        let encoded = encode_value(&value)?;
        let stored_key = key.clone();
        self.blocking(move |conn| {
            if !accounts::has_setting(conn, &sub, &stored_key)?
                && accounts::settings_count(conn, &sub)? >= MAX_KEYS_PER_USER
            {
                return Ok(Err(()));
            }
            accounts::put_setting(conn, &sub, &stored_key, &encoded, now()).map(Ok)
        })
        .await?
        .map_err(|()| too_many_settings())?;
        Ok(json_response(StatusCode::OK, &json!({"key": key, "value": value})))
    }

    async fn subscription(&self, request: Request<Incoming>) -> Result<Response<Body>, ApiError> {
        let forbidden = |message: String| ApiError::new(StatusCode::FORBIDDEN, "forbidden", message);
        let header = |name: &str| {
            request
                .headers()
                .get(name)
                .and_then(|value| value.to_str().ok())
                .map(str::to_owned)
        };
        let presented = header(header::AUTHORIZATION.as_str());
        let presented = presented.as_deref().and_then(bearer_token);
        let admin = self.config.admin_token.as_deref();
        let is_admin = admin
            .zip(presented)
            .is_some_and(|(admin, presented)| constant_time_eq(presented.as_bytes(), admin.as_bytes()));
        // Signed webhooks are for the deployed server only.
        let secret = self
            .config
            .webhook_secret
            .as_deref()
            .filter(|_| self.config.mode == Mode::Serve);
        let webhook = match (is_admin, secret, header(webhook::SIGNATURE_HEADER)) {
            (true, ..) => None,
            (false, Some(secret), Some(signature)) => Some((secret, header(webhook::TIMESTAMP_HEADER), signature)),
            (false, None, _) if admin.is_none() => {
                return Err(forbidden("plan changes are not enabled on this server".into()));
            }
            _ => return Err(forbidden("only an authoritative caller may change plans".into())),
        };
        let raw = read_body(request).await?;
        let signed_at = match webhook {
            Some((secret, timestamp, signature)) => Some(
                webhook::verify(secret, timestamp.as_deref(), Some(&signature), &raw, now())
                    .map_err(|error| forbidden(format!("webhook refused: {error}")))?,
            ),
            None => None,
        };
        let body = parse_json(&raw)?;
        let field = |name: &str| body.get(name).and_then(Value::as_str).map(str::to_owned);
        let (Some(sub), Some(plan)) = (field("sub"), field("plan")) else {
            return Err(ApiError::bad_request("the body must name `sub` and `plan`"));
        };
        let status = field("status").unwrap_or_else(|| "active".into());
        for value in [&plan, &status] {
            if !accounts::valid_key(value) {
                return Err(ApiError::bad_request("`plan` and `status` must be short identifiers"));
            }
        }
        // A webhook names its event; the id is taken now, so a concurrent replay is refused too.
        let event = match signed_at {
            Some(timestamp) => {
                let id = field("event_id")
                    .filter(|id| webhook::valid_event_id(id))
                    .ok_or_else(|| {
                        ApiError::bad_request(format!(
                            "a webhook must name its `event_id` (1 to {} visible ASCII characters)",
                            webhook::MAX_EVENT_ID_LEN
                        ))
                    })?;
                self.webhook_events
                    .remember(&id, timestamp, now())
                    .map_err(|error| match error {
                        webhook::EventError::Replayed => {
                            ApiError::new(StatusCode::CONFLICT, "replayed_event", error.to_string())
                        }
                        webhook::EventError::Full => {
                            ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "busy", error.to_string())
                        }
                    })?;
                Some((id, timestamp))
            }
            None => None,
        };
        // A webhook's change is dated by its signed timestamp; one older than the last change is stale.
        let event_time = event.as_ref().map(|(_, timestamp)| *timestamp);
        let outcome = self
            .blocking(move |conn| {
                if accounts::user(conn, &sub)?.is_none() {
                    return Ok(Changed::NoUser);
                }
                if let Some(timestamp) = event_time {
                    let last = accounts::subscription(conn, &sub)?.updated_at;
                    if last.is_some_and(|last| timestamp < last) {
                        return Ok(Changed::Stale);
                    }
                }
                accounts::set_subscription(conn, &sub, &plan, &status, event_time.unwrap_or_else(now))?;
                accounts::subscription(conn, &sub).map(Changed::Done)
            })
            .await;
        match outcome {
            Ok(Changed::Done(subscription)) => {
                Ok(json_response(StatusCode::OK, &json!({"subscription": subscription})))
            }
            Ok(Changed::Stale) => Err(ApiError::new(
                StatusCode::CONFLICT,
                "stale_event",
                "the event is older than the subscription's last change",
            )),
            other => {
                // Not applied: the sender may send this event again.
                if let Some((id, timestamp)) = &event {
                    self.webhook_events.forget(id, *timestamp);
                }
                match other {
                    Err(error) => Err(error),
                    _ => Err(ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such user")),
                }
            }
        }
    }
}

/// Refuses a request without [`REQUESTED_WITH`], which no web page can send here.
fn require_requested_with(request: &Request<Incoming>) -> Result<(), ApiError> {
    if request.headers().contains_key(REQUESTED_WITH) {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "missing_requested_with",
            "this endpoint needs an X-Requested-With header (any value), which web pages cannot send here",
        ))
    }
}

/// What a plan change did.
enum Changed {
    Done(accounts::Subscription),
    NoUser,
    Stale,
}

fn too_many_settings() -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "too_many_settings",
        format!("at most {MAX_KEYS_PER_USER} settings per user"),
    )
}

fn settings_key(key: &str) -> Result<String, ApiError> {
    if accounts::valid_key(key) {
        Ok(key.to_owned())
    } else {
        Err(ApiError::bad_request(format!(
            "a settings key is 1 to {} characters of A-Z a-z 0-9 _ . -, starting with a letter or digit",
            accounts::MAX_KEY_LEN
        )))
    }
}

fn encode_value(value: &Value) -> Result<String, ApiError> {
    let encoded = serde_json::to_string(value).map_err(ApiError::internal)?;
    if encoded.len() > MAX_VALUE_BYTES {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "value_too_large",
            format!("a settings value is at most {MAX_VALUE_BYTES} bytes of JSON"),
        ));
    }
    Ok(encoded)
}

/// Reads a JSON body of at most [`MAX_BODY_BYTES`].
pub(super) async fn read_json(request: Request<Incoming>) -> Result<Value, ApiError> {
    parse_json(&read_body(request).await?)
}

fn parse_json(body: &[u8]) -> Result<Value, ApiError> {
    serde_json::from_slice(body).map_err(|error| ApiError::bad_request(format!("the body is not valid JSON: {error}")))
}

/// Reads the raw bytes of an `application/json` body of at most [`MAX_BODY_BYTES`].
async fn read_body(request: Request<Incoming>) -> Result<Bytes, ApiError> {
    let too_large = || {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            format!("the body is limited to {MAX_BODY_BYTES} bytes"),
        )
    };
    if let Some(length) = request.headers().get(header::CONTENT_LENGTH) {
        let length = length.to_str().ok().and_then(|value| value.parse::<u64>().ok());
        if length.is_none_or(|length| length > MAX_BODY_BYTES as u64) {
            return Err(too_large());
        }
    }
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    if !content_type.starts_with("application/json") {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "the body must be application/json",
        ));
    }
    Limited::new(request.into_body(), MAX_BODY_BYTES)
        .collect()
        .await
        .map_err(|error| {
            if error.downcast_ref::<http_body_util::LengthLimitError>().is_some() {
                too_large()
            } else {
                ApiError::bad_request("the body could not be read")
            }
        })
        .map(|collected| collected.to_bytes())
}

/// The credential of an `Authorization: Bearer <token>` value. The scheme name is case-insensitive
/// (RFC 7235 section 2.1), so `bearer` and `BEARER` are the same scheme; one or more spaces or tabs
/// separate it from the token.
pub fn bearer_token(value: &str) -> Option<&str> {
    let value = value.trim_start_matches([' ', '\t']);
    let (scheme, token) = value.split_once([' ', '\t'])?;
    let token = token.trim_matches([' ', '\t']);
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// Compares two secrets in time independent of where they differ.
pub(super) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn the_bearer_scheme_is_case_insensitive() {
        for value in [
            "Bearer abc",
            "bearer abc",
            "BEARER abc",
            "bEaReR \t abc ",
            "Bearer\tabc",
        ] {
            assert_eq!(bearer_token(value), Some("abc"), "{value:?}");
        }
        for value in [
            "",
            "Bearer",
            "Bearer ",
            "Bearer  \t",
            "Basic abc",
            "Bearerabc",
            "Token abc",
            "abc",
        ] {
            assert_eq!(bearer_token(value), None, "{value:?}");
        }
    }
}
