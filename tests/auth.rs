//! The auth server over real sockets: tokens, settings, subscriptions, limits, the Host check, `anyon serve`.
//! Google sign-in against a real OpenID provider is in [`google`].

mod google;
mod openapi;
mod subscription;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use anyon::domain::auth_server::accounts::{self, User};
use anyon::domain::auth_server::{self as auth, AuthConfig, Claims, GoogleConfig, Mode, ServerHandle, TokenKeys};
use anyon::domain::db::Db;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use crate::support::{TempHome, runtime};

const SECRET: &str = "test-secret-0123456789abcdef-0123456789";
const ADMIN: &str = "admin-credential-for-tests";
/// A PKCE challenge (S256) as the app sends it to `/auth/google/url`.
const CHALLENGE_QUERY: &str = "code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256";

struct Server {
    home: TempHome,
    runtime: tokio::runtime::Runtime,
    handle: Option<ServerHandle>,
    keys: TokenKeys,
}

impl Server {
    fn start(mode: Mode, port: u16, admin: Option<&str>) -> Self {
        Self::start_with(mode, port, admin, |_| {})
    }

    /// Starts a server whose configuration `configure` adjusts last.
    fn start_with(mode: Mode, port: u16, admin: Option<&str>, configure: impl FnOnce(&mut AuthConfig)) -> Self {
        let home = TempHome::new();
        let paths = home.paths();
        paths.ensure().unwrap();
        let runtime = runtime();
        let mut config = AuthConfig {
            allowed_hosts: vec!["auth.example.test".into()],
            jwt_secret: Some(SECRET.as_bytes().to_vec()),
            admin_token: admin.map(str::to_owned),
            // A client id so /auth/google/url answers; nothing listens at these endpoints.
            google: GoogleConfig {
                auth_url: "http://127.0.0.1:9/auth".into(),
                token_url: "http://127.0.0.1:9/token".into(),
                userinfo_url: "http://127.0.0.1:9/userinfo".into(),
                client_id: Some("client".into()),
                ..GoogleConfig::default()
            },
            ..AuthConfig::new(mode, SocketAddr::from(([127, 0, 0, 1], port)))
        };
        configure(&mut config);
        let handle = runtime
            .block_on(auth::start(config, &paths))
            .expect("start the auth server");
        let keys = TokenKeys::new(SECRET.as_bytes(), auth::DEFAULT_ISSUER, auth::DEFAULT_AUDIENCE).unwrap();
        Self {
            home,
            runtime,
            handle: Some(handle),
            keys,
        }
    }

    fn new() -> Self {
        Self::start(Mode::Embedded, 0, Some(ADMIN))
    }

    fn addr(&self) -> SocketAddr {
        self.handle.as_ref().unwrap().addr()
    }

    /// Adds a user straight to the database and returns a fresh token for them.
    fn user(&self, sub: &str) -> String {
        let db = Db::open(&self.home.paths().database()).unwrap();
        let user = User {
            sub: sub.into(),
            email: format!("{sub}@example.test"),
            email_verified: true,
            name: Some(format!("User {sub}")),
            picture: None,
        };
        accounts::upsert_user(&db.writer(), &user, auth::now()).unwrap();
        self.keys.issue(sub, auth::now()).unwrap().0
    }

    /// One request as the app sends it (with `X-Requested-With`), on a fresh connection.
    fn request(&self, method: &str, path: &str, token: Option<&str>, body: Option<&Value>) -> Reply {
        let mut extra = String::from("X-Requested-With: anyon-tests\r\n");
        if let Some(token) = token {
            extra.push_str(&format!("Authorization: Bearer {token}\r\n"));
        }
        let body = body.map(|body| body.to_string()).unwrap_or_default();
        if !body.is_empty() {
            extra.push_str("Content-Type: application/json\r\n");
        }
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\n{extra}Content-Length: {}\r\nConnection: close\r\n\r\n",
            self.addr().port(),
            body.len()
        );
        raw(self.addr(), &[head.as_bytes(), body.as_bytes()].concat())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(handle) = self.handle.take() {
            self.runtime.block_on(handle.shutdown());
        }
    }
}

#[derive(Debug)]
struct Reply {
    status: u16,
    head: String,
    body: String,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|error| panic!("not JSON ({error}): {:?}", self.body))
    }

    /// Asserts an error answer's status and `error` code.
    fn assert_error(&self, status: u16, code: &str) {
        assert_eq!(self.status, status, "{self:?}");
        let body = self.json();
        assert_eq!(body["error"], code, "{self:?}");
        assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()), "{self:?}");
    }
}

/// Sends `bytes` on a fresh connection and reads the one answer (the request says `Connection: close`).
fn raw(addr: SocketAddr, bytes: &[u8]) -> Reply {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    // The server may answer and close before reading everything (limits); a failed write is fine then.
    let _ = stream.write_all(bytes);
    let mut out = Vec::new();
    let _ = stream.read_to_end(&mut out);
    parse(&out)
}

fn parse(out: &[u8]) -> Reply {
    let text = String::from_utf8_lossy(out).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {text:?}"));
    Reply {
        status,
        head: head.to_owned(),
        body: body.to_owned(),
    }
}

fn sign_raw(header: &Value, claims: &Value, secret: &[u8]) -> String {
    let header = jsonwebtoken::Header::new(serde_json::from_value(header["alg"].clone()).unwrap());
    jsonwebtoken::encode(&header, claims, &jsonwebtoken::EncodingKey::from_secret(secret)).unwrap()
}

fn claims(sub: &str) -> Value {
    let now = auth::now();
    json!({
        "iss": auth::DEFAULT_ISSUER, "aud": auth::DEFAULT_AUDIENCE, "sub": sub,
        "iat": now, "exp": now + 3600, "jti": "jti-1",
    })
}

#[test]
fn a_valid_token_verifies_and_shows_the_user_with_a_free_plan() {
    let server = Server::new();
    let token = server.user("alice");
    let verify = server.request("GET", "/auth/verify", Some(&token), None);
    assert_eq!(verify.status, 200, "{verify:?}");
    assert_eq!(verify.json()["sub"], "alice");
    assert_eq!(verify.json()["valid"], true);
    let me = server.request("GET", "/auth/me", Some(&token), None);
    assert_eq!(me.status, 200, "{me:?}");
    let me = me.json();
    assert_eq!(me["user"]["sub"], "alice");
    assert_eq!(me["user"]["email"], "alice@example.test");
    assert_eq!(me["subscription"]["plan"], "free");
}

#[test]
fn bad_tokens_are_all_refused_with_401() {
    let server = Server::new();
    server.user("alice");
    let secret = SECRET.as_bytes();
    let hs256 = json!({"alg": "HS256"});
    let now = auth::now();
    let mut cases: Vec<(&str, String)> = Vec::new();
    let with = |patch: Value| {
        let mut claims = claims("alice");
        for (key, value) in patch.as_object().unwrap() {
            if value.is_null() {
                claims.as_object_mut().unwrap().remove(key);
            } else {
                claims[key] = value.clone();
            }
        }
        claims
    };
    cases.push(("control: valid", sign_raw(&hs256, &claims("alice"), secret)));
    cases.push((
        "expired",
        sign_raw(&hs256, &with(json!({"iat": now - 7200, "exp": now - 3600})), secret),
    ));
    cases.push((
        "not yet valid",
        sign_raw(&hs256, &with(json!({"nbf": now + 3600})), secret),
    ));
    cases.push((
        "issued in the future",
        sign_raw(&hs256, &with(json!({"iat": now + 3600})), secret),
    ));
    cases.push((
        "wrong secret",
        sign_raw(&hs256, &claims("alice"), b"another-secret-0123456789abcdef-xyz"),
    ));
    cases.push(("wrong issuer", sign_raw(&hs256, &with(json!({"iss": "evil"})), secret)));
    cases.push((
        "wrong audience",
        sign_raw(&hs256, &with(json!({"aud": "evil"})), secret),
    ));
    cases.push(("no jti", sign_raw(&hs256, &with(json!({"jti": null})), secret)));
    cases.push(("no iat", sign_raw(&hs256, &with(json!({"iat": null})), secret)));
    cases.push(("no exp", sign_raw(&hs256, &with(json!({"exp": null})), secret)));
    cases.push((
        "string exp",
        sign_raw(&hs256, &with(json!({"exp": "99999999999"})), secret),
    ));
    cases.push(("HS384", sign_raw(&json!({"alg": "HS384"}), &claims("alice"), secret)));
    let unsigned = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#),
        URL_SAFE_NO_PAD.encode(claims("alice").to_string())
    );
    cases.push(("alg none", unsigned));
    cases.push(("garbage", "not.a.token".into()));
    for (name, token) in &cases {
        let reply = server.request("GET", "/auth/verify", Some(token), None);
        if name.starts_with("control") {
            assert_eq!(reply.status, 200, "{name}: {reply:?}");
        } else {
            reply.assert_error(401, "unauthorized");
            assert!(
                reply.head.to_ascii_lowercase().contains("www-authenticate: bearer"),
                "{name}"
            );
        }
    }
    server
        .request("GET", "/auth/verify", None, None)
        .assert_error(401, "unauthorized");
}

/// Sends `method path` with `Authorization: {authorization}` (and a JSON `body` when given).
fn with_authorization(server: &Server, method: &str, path: &str, authorization: &str, body: Option<&Value>) -> Reply {
    let body = body.map(Value::to_string).unwrap_or_default();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nAuthorization: {authorization}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        server.addr().port(),
        body.len()
    );
    raw(server.addr(), head.as_bytes())
}

#[test]
fn the_bearer_scheme_name_is_case_insensitive() {
    let server = Server::new();
    let token = server.user("alice");
    for scheme in ["bearer", "BEARER", "bEaReR", "Bearer"] {
        let verify = with_authorization(&server, "GET", "/auth/verify", &format!("{scheme} {token}"), None);
        assert_eq!(verify.status, 200, "{scheme}: {verify:?}");
        let me = with_authorization(&server, "GET", "/auth/me", &format!("{scheme}  {token}"), None);
        assert_eq!(me.json()["user"]["sub"], "alice", "{scheme}: {me:?}");
    }
    // The admin credential is a bearer credential too.
    let body = json!({"sub": "alice", "plan": "pro"});
    let changed = with_authorization(
        &server,
        "POST",
        "/auth/subscription",
        &format!("bearer {ADMIN}"),
        Some(&body),
    );
    assert_eq!(changed.status, 200, "{changed:?}");
    assert_eq!(changed.json()["subscription"]["plan"], "pro");
    // Other schemes, or a scheme with no token, are still refused.
    for value in [format!("Basic {token}"), format!("Bearer{token}"), "bearer ".to_owned()] {
        with_authorization(&server, "GET", "/auth/verify", &value, None).assert_error(401, "unauthorized");
    }
}

#[test]
fn logout_revokes_the_token_even_when_cached_and_across_restarts() {
    let server = Server::new();
    let token = server.user("alice");
    let other = server.keys.issue("alice", auth::now()).unwrap().0;
    // Verify twice so the second answer comes from the cache.
    for _ in 0..2 {
        assert_eq!(server.request("GET", "/auth/verify", Some(&token), None).status, 200);
    }
    let logout = server.request("POST", "/auth/logout", Some(&token), None);
    assert_eq!(logout.status, 204, "{logout:?}");
    server
        .request("GET", "/auth/verify", Some(&token), None)
        .assert_error(401, "unauthorized");
    server
        .request("GET", "/auth/me", Some(&token), None)
        .assert_error(401, "unauthorized");
    assert_eq!(server.request("GET", "/auth/me", Some(&other), None).status, 200);

    // A new server on the same database still refuses it.
    let paths = server.home.paths();
    let config = AuthConfig {
        jwt_secret: Some(SECRET.as_bytes().to_vec()),
        ..AuthConfig::new(Mode::Embedded, SocketAddr::from(([127, 0, 0, 1], 0)))
    };
    let second = server.runtime.block_on(auth::start(config, &paths)).unwrap();
    let head = format!(
        "GET /auth/verify HTTP/1.1\r\nHost: localhost:{}\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n",
        second.addr().port()
    );
    raw(second.addr(), head.as_bytes()).assert_error(401, "unauthorized");
    server.runtime.block_on(second.shutdown());
}

#[test]
fn settings_are_per_user_json_with_validated_keys() {
    let server = Server::new();
    let alice = server.user("alice");
    let bob = server.user("bob");

    let empty = server.request("GET", "/api/settings", Some(&alice), None);
    assert_eq!(empty.status, 200, "{empty:?}");
    assert_eq!(empty.json(), json!({"settings": {}}));

    let set = server.request(
        "POST",
        "/api/settings",
        Some(&alice),
        Some(&json!({"theme": "dark", "editor.font-size": 14, "nested": {"a": [1, 2, null]}})),
    );
    assert_eq!(set.status, 200, "{set:?}");
    assert_eq!(set.json()["settings"]["editor.font-size"], 14);

    let patch = server.request(
        "PATCH",
        "/api/settings/theme",
        Some(&alice),
        Some(&json!({"value": "light"})),
    );
    assert_eq!(patch.status, 200, "{patch:?}");
    assert_eq!(patch.json(), json!({"key": "theme", "value": "light"}));

    // Bob sees none of it and cannot delete it.
    assert_eq!(
        server.request("GET", "/api/settings", Some(&bob), None).json(),
        json!({"settings": {}})
    );
    server
        .request("DELETE", "/api/settings/theme", Some(&bob), None)
        .assert_error(404, "not_found");
    let bobs = server.request(
        "PATCH",
        "/api/settings/theme",
        Some(&bob),
        Some(&json!({"value": "bob's"})),
    );
    assert_eq!(bobs.status, 200, "{bobs:?}");

    let all = server.request("GET", "/api/settings", Some(&alice), None).json();
    assert_eq!(
        all,
        json!({"settings": {"theme": "light", "editor.font-size": 14, "nested": {"a": [1, 2, null]}}})
    );
    assert_eq!(
        server
            .request("DELETE", "/api/settings/theme", Some(&alice), None)
            .status,
        204
    );
    server
        .request("DELETE", "/api/settings/theme", Some(&alice), None)
        .assert_error(404, "not_found");
    assert_eq!(
        server.request("GET", "/api/settings", Some(&bob), None).json(),
        json!({"settings": {"theme": "bob's"}})
    );

    // Odd keys and bad bodies.
    let long = "k".repeat(65);
    for key in ["a%20b", "a%2Fb", "..", long.as_str(), "%E2%9C%93"] {
        server
            .request(
                "PATCH",
                &format!("/api/settings/{key}"),
                Some(&alice),
                Some(&json!({"value": 1})),
            )
            .assert_error(400, "bad_request");
    }
    server
        .request("POST", "/api/settings", Some(&alice), Some(&json!({"bad key": 1})))
        .assert_error(400, "bad_request");
    server
        .request("POST", "/api/settings", Some(&alice), Some(&json!([1, 2])))
        .assert_error(400, "bad_request");
    server
        .request("PATCH", "/api/settings/x", Some(&alice), Some(&json!({"no value": 1})))
        .assert_error(400, "bad_request");
    server
        .request(
            "PATCH",
            "/api/settings/x",
            Some(&alice),
            Some(&json!({"value": "v".repeat(17 * 1024)})),
        )
        .assert_error(413, "value_too_large");
    let port = server.addr().port();
    let broken = format!(
        "POST /api/settings HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer {alice}\r\n\
         Content-Type: application/json\r\nContent-Length: 9\r\nConnection: close\r\n\r\n{{\"a\": tru"
    );
    raw(server.addr(), broken.as_bytes()).assert_error(400, "bad_request");
    let text = format!(
        "POST /api/settings HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer {alice}\r\n\
         Content-Type: text/plain\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{{}}"
    );
    raw(server.addr(), text.as_bytes()).assert_error(415, "unsupported_media_type");
    // Nothing of the refused writes landed.
    assert_eq!(
        server.request("GET", "/api/settings", Some(&alice), None).json()["settings"]
            .as_object()
            .unwrap()
            .len(),
        2
    );
}

#[test]
fn hostile_requests_get_json_errors_and_limits_hold() {
    let server = Server::new();
    let token = server.user("alice");
    let addr = server.addr();
    let port = addr.port();

    // DNS rebinding: a foreign Host, or none at all.
    let foreign = format!("GET /health HTTP/1.1\r\nHost: evil.example:{port}\r\nConnection: close\r\n\r\n");
    raw(addr, foreign.as_bytes()).assert_error(403, "forbidden_host");
    // The serve-mode allowed host is not accepted by the embedded server.
    let named = "GET /health HTTP/1.1\r\nHost: auth.example.test\r\nConnection: close\r\n\r\n";
    raw(addr, named.as_bytes()).assert_error(403, "forbidden_host");
    raw(addr, b"GET /health HTTP/1.0\r\n\r\n").assert_error(400, "bad_request");
    let ok = format!("GET /health HTTP/1.1\r\nHost: localhost:{port}\r\nConnection: close\r\n\r\n");
    assert_eq!(raw(addr, ok.as_bytes()).status, 200);

    // A cross-origin write is refused; the same origin passes.
    let cross = format!(
        "POST /auth/logout HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nOrigin: https://evil.example\r\n\
         Authorization: Bearer {token}\r\nConnection: close\r\n\r\n"
    );
    raw(addr, cross.as_bytes()).assert_error(403, "forbidden_origin");
    assert_eq!(server.request("GET", "/auth/verify", Some(&token), None).status, 200);
    let reply = raw(addr, ok.as_bytes());
    assert!(!reply.head.to_ascii_lowercase().contains("access-control-allow-origin"));

    // Huge headers, huge bodies, unknown paths and methods.
    let huge = format!(
        "GET /health HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nX-Big: {}\r\nConnection: close\r\n\r\n",
        "a".repeat(64 * 1024)
    );
    assert_eq!(raw(addr, huge.as_bytes()).status, 431);
    let big_body = format!(
        "POST /api/settings HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: 10000000\r\nConnection: close\r\n\r\n{{"
    );
    raw(addr, big_body.as_bytes()).assert_error(413, "body_too_large");
    let chunk = "a".repeat(100 * 1024);
    let chunked = format!(
        "POST /api/settings HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n{:x}\r\n{chunk}\r\n0\r\n\r\n",
        chunk.len()
    );
    raw(addr, chunked.as_bytes()).assert_error(413, "body_too_large");
    server
        .request("GET", "/nope", None, None)
        .assert_error(404, "not_found");
    server
        .request("PUT", "/api/settings", Some(&token), None)
        .assert_error(405, "method_not_allowed");
    server
        .request("GET", "/auth/logout", Some(&token), None)
        .assert_error(405, "method_not_allowed");
    {
        let mut garbage = TcpStream::connect(addr).unwrap();
        garbage.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let _ = garbage.write_all(b"\x16\x03\x01garbage\r\n\r\n");
        let _ = garbage.read_to_end(&mut Vec::new());
    }
    // Still serving after all that.
    assert_eq!(server.request("GET", "/auth/me", Some(&token), None).status, 200);
}

#[test]
fn the_sign_in_endpoints_need_x_requested_with_which_web_pages_cannot_send() {
    let server = Server::new();
    let addr = server.addr();
    let port = addr.port();
    // What an <img src> or a form posting from a web page sends: no X-Requested-With.
    let image = format!(
        "GET /auth/google/url HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nSec-Fetch-Dest: image\r\nConnection: close\r\n\r\n"
    );
    let refused = raw(addr, image.as_bytes());
    refused.assert_error(403, "missing_requested_with");
    openapi::assert_documented(&openapi::openapi(), "GET", "/auth/google/url", &refused);
    let body = r#"{"code":"c","state":"s","code_verifier":"v"}"#;
    let post = format!(
        "POST /auth/exchange HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    raw(addr, post.as_bytes()).assert_error(403, "missing_requested_with");
    // A page cannot add the header either: its CORS preflight is not granted.
    let preflight = format!(
        "OPTIONS /auth/google/url HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nOrigin: https://evil.example\r\n\
         Access-Control-Request-Method: GET\r\nAccess-Control-Request-Headers: x-requested-with\r\nConnection: close\r\n\r\n"
    );
    let preflight = raw(addr, preflight.as_bytes());
    assert!(preflight.status >= 400, "{preflight:?}");
    assert!(
        !preflight.head.to_ascii_lowercase().contains("access-control-allow"),
        "{preflight:?}"
    );
    // The app sends it, with any value.
    let with = format!(
        "GET /auth/google/url?{CHALLENGE_QUERY} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nX-Requested-With: x\r\nConnection: close\r\n\r\n"
    );
    let started = raw(addr, with.as_bytes());
    assert_eq!(started.status, 200, "{started:?}");
    assert!(started.json()["url"].as_str().is_some());
}

#[test]
fn connections_over_the_cap_are_told_the_server_is_busy() {
    let server = Server::start_with(Mode::Embedded, 0, Some(ADMIN), |config| config.max_connections = 4);
    let addr = server.addr();
    // Four connections that send nothing hold every slot.
    let idle: Vec<TcpStream> = (0..4).map(|_| TcpStream::connect(addr).unwrap()).collect();
    let busy = server.request("GET", "/health", None, None);
    busy.assert_error(503, "too_many_connections");
    assert!(busy.head.to_ascii_lowercase().contains("retry-after"), "{busy:?}");
    // Closing them frees the slots.
    drop(idle);
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let reply = server.request("GET", "/health", None, None);
        if reply.status == 200 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "still refused: {reply:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
    // Served connections count while they last, and only then.
    let token = server.user("alice");
    let mut held: Vec<TcpStream> = Vec::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while held.len() < 4 {
        let mut stream = TcpStream::connect(addr).unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let head = format!(
            "GET /auth/verify HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nAuthorization: Bearer {token}\r\n\r\n",
            addr.port()
        );
        stream.write_all(head.as_bytes()).unwrap();
        let mut status = String::new();
        BufReader::new(stream.try_clone().unwrap())
            .read_line(&mut status)
            .unwrap();
        if status.starts_with("HTTP/1.1 200") {
            held.push(stream);
        } else {
            // The last closed connection may not have handed its slot back yet.
            assert!(status.starts_with("HTTP/1.1 503"), "{status:?}");
            assert!(std::time::Instant::now() < deadline, "a slot never came back");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    server
        .request("GET", "/health", None, None)
        .assert_error(503, "too_many_connections");
}

#[test]
fn keep_alive_serves_several_requests_on_one_connection() {
    let server = Server::new();
    let token = server.user("alice");
    let mut stream = TcpStream::connect(server.addr()).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    for _ in 0..3 {
        let head = format!(
            "GET /auth/verify HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nAuthorization: Bearer {token}\r\n\r\n",
            server.addr().port()
        );
        stream.write_all(head.as_bytes()).unwrap();
        let mut status = String::new();
        reader.read_line(&mut status).unwrap();
        assert!(status.starts_with("HTTP/1.1 200"), "{status:?}");
        let mut length = 0usize;
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            if line == "\r\n" {
                break;
            }
            if let Some(value) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                length = value.trim().parse().unwrap();
            }
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body).unwrap();
        assert!(String::from_utf8_lossy(&body).contains("alice"));
    }
}

#[test]
fn the_embedded_server_moves_to_the_next_free_port() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    if port == u16::MAX {
        return;
    }
    let server = Server::start(Mode::Embedded, port, None);
    assert_ne!(server.addr().port(), port);
    assert!(server.addr().port() > port);
    assert_eq!(server.request("GET", "/health", None, None).status, 200);
}

#[test]
fn the_per_install_secret_is_generated_once_with_mode_0600() {
    let home = TempHome::new();
    let first = auth::install_secret(home.path()).unwrap();
    assert!(first.len() >= 32);
    assert_eq!(auth::install_secret(home.path()).unwrap(), first);
    let other = TempHome::new();
    assert_ne!(auth::install_secret(other.path()).unwrap(), first);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(home.path().join("auth-jwt-secret"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}

#[test]
fn anyon_serve_runs_headless_with_configured_hosts() {
    let home = TempHome::new();
    let mut child = home
        .anyon_command(&["serve", "--bind", "127.0.0.1:0"])
        .env("JWT_SECRET", SECRET)
        .env("ANYON_AUTH_ALLOWED_HOSTS", "auth.example.test, other.example.test")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr: SocketAddr = line
        .trim()
        .strip_prefix("listening on http://")
        .unwrap()
        .parse()
        .unwrap();
    let named = "GET /health HTTP/1.1\r\nHost: auth.example.test\r\nConnection: close\r\n\r\n";
    let reply = raw(addr, named.as_bytes());
    let foreign = "GET /health HTTP/1.1\r\nHost: evil.example.test\r\nConnection: close\r\n\r\n";
    let refused = raw(addr, foreign.as_bytes());
    // A token minted with the configured secret is accepted by the headless server.
    let keys = TokenKeys::new(SECRET.as_bytes(), auth::DEFAULT_ISSUER, auth::DEFAULT_AUDIENCE).unwrap();
    let token = keys.issue("someone", auth::now()).unwrap().0;
    let verify = format!(
        "GET /auth/verify HTTP/1.1\r\nHost: auth.example.test\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n"
    );
    let verified = raw(addr, verify.as_bytes());
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(reply.status, 200, "{reply:?}");
    refused.assert_error(403, "forbidden_host");
    assert_eq!(verified.status, 200, "{verified:?}");
    let _: Claims = keys.verify(&token, auth::now()).unwrap();
}
