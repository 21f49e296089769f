//! Google sign-in end to end through ANYON's own endpoints, against a real OpenID provider (npm
//! oidc-provider) and, for the failures a provider can have, against a tiny misbehaving token endpoint.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyon::domain::auth_server::{AuthConfig, GoogleConfig, LoginLink, Mode};
use reqwest::header::COOKIE;
use serde_json::{Value, json};
use tokio::sync::mpsc;

use super::Server;
use crate::support::oidc::{self, OidcProvider};

/// An ANYON server signed in through `google`, and the links its callbacks announce.
struct Login {
    server: Server,
    links: mpsc::UnboundedReceiver<LoginLink>,
    http: reqwest::Client,
}

/// What ANYON's callback answered.
#[derive(Debug)]
struct Page {
    status: u16,
    html: String,
    /// The callback URL the browser came back to.
    url: String,
}

impl Page {
    /// The one-time code and state of the page's `anyon://` link.
    fn link(&self) -> LoginLink {
        let url = reqwest::Url::parse(&oidc::page_link(&self.html)).unwrap();
        let param = |name: &str| url.query_pairs().find(|(key, _)| key == name).unwrap().1.into_owned();
        LoginLink {
            code: param("code"),
            state: param("state"),
        }
    }

    fn assert_error(&self, status: u16, code: &str) {
        assert_eq!(self.status, status, "{self:?}");
        assert!(self.html.contains(&format!("Error: {code}")), "{self:?}");
        assert!(!self.html.contains("anyon://"), "{self:?}");
    }
}

impl Login {
    fn start(google: GoogleConfig) -> Self {
        let (sender, links) = mpsc::unbounded_channel();
        let server = Server::start_with(Mode::Embedded, 0, None, |config: &mut AuthConfig| {
            config.google = google;
            config.login_links = Some(anyon::domain::auth_server::OnLogin::new(move |link| {
                let _ = sender.send(link);
            }));
        });
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap();
        Self { server, links, http }
    }

    fn with_provider(provider: &OidcProvider) -> Self {
        Self::start(provider.google_config())
    }

    fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.server.addr().port())
    }

    /// `GET url` as a browser would: cookies, no `X-Requested-With`.
    fn get(&self, url: &str, cookies: &BTreeMap<String, String>) -> reqwest::Response {
        let cookie = cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ");
        let mut request = self.http.get(url);
        if !cookie.is_empty() {
            request = request.header(COOKIE, cookie);
        }
        self.server.runtime.block_on(async { request.send().await }).unwrap()
    }

    /// `GET /auth/google/url` for `hint`, as the app asks: with its PKCE challenge and `X-Requested-With`.
    fn authorize_url(&self, hint: &str) -> String {
        let url = format!(
            "{}/auth/google/url?login_hint={}&code_challenge={}&code_challenge_method=S256",
            self.base(),
            hint,
            challenge(VERIFIER)
        );
        let request = self.http.get(&url).header("X-Requested-With", "anyon");
        let response = self.server.runtime.block_on(async { request.send().await }).unwrap();
        assert_eq!(response.status(), 200);
        let body: Value = self.server.runtime.block_on(response.json()).unwrap();
        let url = body["url"].as_str().unwrap().to_owned();
        let parsed = reqwest::Url::parse(&url).unwrap();
        let state = parsed.query_pairs().find(|(key, _)| key == "state").unwrap().1;
        assert_eq!(body["state"].as_str(), Some(&*state));
        url
    }

    /// Follows the provider's redirects, as a browser with cookies would, to ANYON's callback URL.
    fn through_provider(&self, hint: &str) -> String {
        let url = self.authorize_url(hint);
        let callback = format!("{}/auth/google/callback", self.base());
        self.server
            .runtime
            .block_on(oidc::follow_to_callback(&self.http, &url, &callback))
    }

    /// Opens `url` (ANYON's callback) and reads the page.
    fn callback(&self, url: &str) -> Page {
        let response = self.get(url, &BTreeMap::new());
        let status = response.status().as_u16();
        let kind = response.headers()[reqwest::header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(kind.starts_with("text/html"), "{kind}");
        let html = self.server.runtime.block_on(response.text()).unwrap();
        Page {
            status,
            html,
            url: url.to_owned(),
        }
    }

    /// A whole sign-in as `hint` up to ANYON's page.
    fn sign_in(&self, hint: &str) -> Page {
        let url = self.through_provider(hint);
        self.callback(&url)
    }

    /// `POST /auth/exchange`, held to the OpenAPI document.
    fn exchange(&self, body: &Value) -> (u16, Value) {
        let reply = self.server.request("POST", "/auth/exchange", None, Some(body));
        super::openapi::assert_documented(&super::openapi::openapi(), "POST", "/auth/exchange", &reply);
        (reply.status, reply.json())
    }

    /// A state this server issued, for hitting the callback directly.
    fn fresh_state(&self) -> String {
        let url = reqwest::Url::parse(&self.authorize_url("verified@example.test")).unwrap();
        url.query_pairs()
            .find(|(key, _)| key == "state")
            .unwrap()
            .1
            .into_owned()
    }
}

/// The app's PKCE verifier in these tests.
const VERIFIER: &str = "the-app-s-own-verifier-0123456789-0123456789-0123456789";

/// The S256 challenge of `verifier`: base64url (no padding) of its SHA-256.
fn challenge(verifier: &str) -> String {
    use sha2::Digest;
    base64_url_bytes(&sha2::Sha256::digest(verifier.as_bytes()))
}

fn base64_url_bytes(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

#[test]
fn a_flood_of_sign_in_starts_neither_locks_out_a_real_sign_in_nor_grows_without_end() {
    let provider = OidcProvider::start();
    let login = Login::with_provider(&provider);
    let flood = anyon::domain::auth_server::ephemeral::CAPACITY + 50;
    let url = format!(
        "{}/auth/google/url?code_challenge={}&code_challenge_method=S256",
        login.base(),
        challenge(VERIFIER)
    );
    let first = login.server.runtime.block_on(async {
        let mut first = None;
        for _ in 0..flood {
            let response = login
                .http
                .get(&url)
                .header("X-Requested-With", "x")
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200, "a sign-in start was refused");
            let body: Value = response.json().await.unwrap();
            first.get_or_insert_with(|| body["state"].as_str().unwrap().to_owned());
        }
        first.unwrap()
    });
    // The oldest attempts were forgotten to make room ...
    login
        .callback(&format!("{}/auth/google/callback?code=c&state={first}", login.base()))
        .assert_error(400, "unknown_state");
    // ... and a real sign-in started now goes through to its token.
    let link = login.sign_in("verified@example.test").link();
    let (status, body) = login.exchange(&json!({"code": link.code, "state": link.state, "code_verifier": VERIFIER}));
    assert_eq!(status, 200, "{body}");
    assert!(body["token"].as_str().is_some());
}

#[test]
fn signing_in_with_a_real_openid_provider_ends_in_a_token_once() {
    let provider = OidcProvider::start();
    let mut login = Login::with_provider(&provider);
    let url = reqwest::Url::parse(&login.authorize_url("verified@example.test")).unwrap();
    let query: BTreeMap<String, String> = url.query_pairs().into_owned().collect();
    assert_eq!(query["code_challenge_method"], "S256");
    assert_eq!(query["scope"], "openid email profile");
    assert!(query["nonce"].len() >= 32 && query["state"].len() >= 32);
    assert_eq!(query["redirect_uri"], format!("{}/auth/google/callback", login.base()));

    let page = login.sign_in("verified@example.test");
    assert_eq!(page.status, 200, "{page:?}");
    assert!(page.html.contains("http-equiv=\"refresh\""), "{}", page.html);
    assert!(page.html.contains("If nothing happens"));
    let link = page.link();
    assert_eq!(link.code.len(), 64);
    // The running app hears of the same link.
    assert_eq!(login.links.try_recv().unwrap(), link);

    // The code is redeemed once, and only with its own state.
    let (status, wrong) = login.exchange(&json!({"code": "not-a-code"}));
    assert_eq!((status, wrong["error"].as_str()), (400, Some("invalid_code")));
    let (status, body) = login.exchange(&json!({"code": link.code, "state": link.state, "code_verifier": VERIFIER}));
    assert_eq!(status, 200, "{body}");
    let token = body["token"].as_str().unwrap().to_owned();
    assert!(body["expires_at"].as_i64().unwrap() > anyon::domain::auth_server::now());
    let (status, again) = login.exchange(&json!({"code": link.code, "state": link.state, "code_verifier": VERIFIER}));
    assert_eq!((status, again["error"].as_str()), (400, Some("invalid_code")));

    let me = login.server.request("GET", "/auth/me", Some(&token), None);
    assert_eq!(me.status, 200, "{me:?}");
    let me = me.json();
    assert_eq!(me["user"]["sub"], "user-verified");
    assert_eq!(me["user"]["email"], "verified@example.test");
    assert_eq!(me["user"]["email_verified"], true);
    assert_eq!(me["user"]["name"], "Vera <Verified> & Co");
    assert_eq!(me["user"]["picture"], "https://example.test/vera.png");
    assert_eq!(me["subscription"]["plan"], "free");

    // The same callback again: its state was used up.
    login.callback(&page.url).assert_error(400, "unknown_state");

    // Signing in again updates the same user, keyed by `sub`.
    let second = login.sign_in("verified@example.test").link();
    let (status, body) =
        login.exchange(&json!({"code": second.code, "state": second.state, "code_verifier": VERIFIER}));
    assert_eq!(status, 200, "{body}");
    let again = login
        .server
        .request("GET", "/auth/me", Some(body["token"].as_str().unwrap()), None);
    assert_eq!(again.json()["user"]["sub"], "user-verified");
}

#[test]
fn a_code_bound_to_another_state_is_refused_and_spent() {
    let provider = OidcProvider::start();
    let login = Login::with_provider(&provider);
    let link = login.sign_in("verified@example.test").link();
    let (status, body) =
        login.exchange(&json!({"code": link.code, "state": "another-state", "code_verifier": VERIFIER}));
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_code")));
    let (status, _) = login.exchange(&json!({"code": link.code, "state": link.state, "code_verifier": VERIFIER}));
    assert_eq!(status, 400);
}

#[test]
fn a_code_is_only_redeemed_with_the_apps_verifier_and_a_refusal_spends_it() {
    let provider = OidcProvider::start();
    let login = Login::with_provider(&provider);
    // What someone who read the link on the app's command line can try, and what a careless client sends.
    let wrong_verifiers: [(&str, Option<&str>); 5] = [
        ("no verifier", None),
        (
            "another verifier",
            Some("another-verifier-0123456789-0123456789-0123456789"),
        ),
        ("the challenge itself", Some(&challenge(VERIFIER))),
        ("too short", Some("short")),
        ("empty", Some("")),
    ];
    for (case, verifier) in wrong_verifiers {
        let link = login.sign_in("verified@example.test").link();
        let mut body = json!({"code": link.code, "state": link.state});
        if let Some(verifier) = verifier {
            body["code_verifier"] = json!(verifier);
        }
        let (status, refused) = login.exchange(&body);
        assert_eq!(
            (status, refused["error"].as_str()),
            (400, Some("invalid_code")),
            "{case}: {refused}"
        );
        let right = json!({"code": link.code, "state": link.state, "code_verifier": VERIFIER});
        let (status, spent) = login.exchange(&right);
        assert_eq!(
            (status, spent["error"].as_str()),
            (400, Some("invalid_code")),
            "{case}: the code was not spent"
        );
    }
    // The state is required too, and a missing one spends the code as well.
    let link = login.sign_in("verified@example.test").link();
    let (status, refused) = login.exchange(&json!({"code": link.code, "code_verifier": VERIFIER}));
    assert_eq!(
        (status, refused["error"].as_str()),
        (400, Some("invalid_code")),
        "{refused}"
    );
    assert!(refused["message"].as_str().unwrap().contains("spent"), "{refused}");
    let (status, _) = login.exchange(&json!({"code": link.code, "state": link.state, "code_verifier": VERIFIER}));
    assert_eq!(status, 400);
    // With both, the code works.
    let link = login.sign_in("verified@example.test").link();
    let (status, body) = login.exchange(&json!({"code": link.code, "state": link.state, "code_verifier": VERIFIER}));
    assert_eq!(status, 200, "{body}");
}

#[test]
fn a_sign_in_cannot_start_without_an_s256_challenge() {
    let login = Login::start(GoogleConfig {
        client_id: Some("client".into()),
        ..GoogleConfig::default()
    });
    let good = challenge(VERIFIER);
    for query in [
        String::new(),
        format!("code_challenge={good}"),
        format!("code_challenge={good}&code_challenge_method=plain"),
        "code_challenge=short&code_challenge_method=S256".to_owned(),
        format!("code_challenge={good}%3D&code_challenge_method=S256"),
    ] {
        let reply = login
            .server
            .request("GET", &format!("/auth/google/url?{query}"), None, None);
        reply.assert_error(400, "bad_request");
        super::openapi::assert_documented(&super::openapi::openapi(), "GET", "/auth/google/url", &reply);
    }
    let started = login.server.request(
        "GET",
        &format!("/auth/google/url?code_challenge={good}&code_challenge_method=S256"),
        None,
        None,
    );
    assert_eq!(started.status, 200, "{started:?}");
}

#[test]
fn a_replayed_provider_code_is_refused_by_the_provider() {
    let provider = OidcProvider::start();
    let login = Login::with_provider(&provider);
    let first = login.sign_in("verified@example.test");
    assert_eq!(first.status, 200, "{first:?}");
    let used = reqwest::Url::parse(&first.url).unwrap();
    let code = used
        .query_pairs()
        .find(|(key, _)| key == "code")
        .unwrap()
        .1
        .into_owned();
    // A fresh state, so ANYON takes the request to the provider, which refuses the used code.
    let replay = format!(
        "{}/auth/google/callback?code={code}&state={}",
        login.base(),
        login.fresh_state()
    );
    login.callback(&replay).assert_error(400, "invalid_grant");
}

#[test]
fn denied_access_and_unverified_emails_get_clear_pages() {
    let provider = OidcProvider::start();
    let mut login = Login::with_provider(&provider);
    let denied = login.sign_in("deny");
    denied.assert_error(403, "access_denied");
    assert!(denied.html.contains("Sign-in was cancelled"));

    let unverified = login.sign_in("unverified@example.test");
    unverified.assert_error(403, "email_unverified");
    assert!(unverified.html.contains("unverified@example.test"));
    assert!(login.links.try_recv().is_err(), "no link for a refused sign-in");

    // The same for a hand-made denial, and for states that were never issued.
    let url = format!(
        "{}/auth/google/callback?error=access_denied&error_description=%3Cscript%3E&state={}",
        login.base(),
        login.fresh_state()
    );
    let page = login.callback(&url);
    page.assert_error(403, "access_denied");
    assert!(page.html.contains("&lt;script&gt;") && !page.html.contains("<script>"));
    let base = login.base();
    login
        .callback(&format!("{base}/auth/google/callback?code=x&state=never-issued"))
        .assert_error(400, "unknown_state");
    login
        .callback(&format!("{base}/auth/google/callback?code=x"))
        .assert_error(400, "missing_state");
    let no_code = format!("{base}/auth/google/callback?state={}", login.fresh_state());
    login.callback(&no_code).assert_error(400, "missing_code");
}

/// A token and userinfo endpoint that misbehaves as its path says; each connection on its own thread.
/// Dropping it stops accepting.
struct Misbehaving {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
}

impl Misbehaving {
    fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                if stopped.load(Ordering::SeqCst) {
                    break;
                }
                std::thread::spawn(move || Self::serve(stream));
            }
        });
        Self { addr, stop }
    }

    fn serve(mut stream: TcpStream) {
        stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        let mut request = Vec::new();
        let mut buf = [0; 4096];
        while !request.windows(4).any(|w| w == b"\r\n\r\n") {
            match stream.read(&mut buf) {
                Ok(0) | Err(_) => return,
                Ok(n) => request.extend_from_slice(&buf[..n]),
            }
        }
        let head = String::from_utf8_lossy(&request).into_owned();
        let path = head.split_whitespace().nth(1).unwrap_or_default().to_owned();
        let token = r#"{"access_token":"at","token_type":"Bearer"}"#.to_owned();
        let huge = format!(r#"{{"padding":"{}"}}"#, "x".repeat(1024 * 1024));
        let (status, body) = match path.as_str() {
            "/token/500" => (500, "oops".to_owned()),
            "/token/garbage" => (200, "<html>not json</html>".to_owned()),
            "/token/ill-typed" => (200, r#"{"access_token":5,"token_type":[]}"#.to_owned()),
            "/token/huge" => (200, huge),
            "/token/invalid-grant" => (400, r#"{"error":"invalid_grant"}"#.to_owned()),
            "/token/wrong-nonce" => {
                let claims = base64_url(r#"{"sub":"s","aud":"client","nonce":"not-ours"}"#);
                (
                    200,
                    format!(r#"{{"access_token":"at","token_type":"Bearer","id_token":"e30.{claims}.sig"}}"#),
                )
            }
            "/token/hang" => {
                // Answer nothing; return once the client gives up and closes.
                let _ = stream.read(&mut buf);
                return;
            }
            "/token/ok" => (200, token),
            "/userinfo/ill-typed" => (200, r#"{"sub":5,"email":["a"],"email_verified":"maybe"}"#.to_owned()),
            "/userinfo/huge" => (200, huge),
            "/userinfo/refused" => (401, r#"{"error":"invalid_token"}"#.to_owned()),
            "/userinfo/unverified" => (
                200,
                r#"{"sub":"s","email":"a@example.test","email_verified":false}"#.to_owned(),
            ),
            _ => (404, "{}".to_owned()),
        };
        let answer = format!(
            "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        let _ = stream.write_all(answer.as_bytes());
    }
}

impl Drop for Misbehaving {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wakes the accept loop so it sees the flag.
        let _ = TcpStream::connect(self.addr);
    }
}

fn base64_url(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text)
}

#[test]
fn token_and_userinfo_failures_give_clear_pages() {
    let peer = Misbehaving::start();
    let cases = [
        ("500", "ok", 502, "provider_unavailable"),
        ("hang", "ok", 504, "provider_timeout"),
        ("garbage", "ok", 502, "provider_answer"),
        ("ill-typed", "ok", 502, "provider_answer"),
        ("huge", "ok", 502, "provider_answer"),
        ("invalid-grant", "ok", 400, "invalid_grant"),
        ("wrong-nonce", "ok", 502, "provider_answer"),
        ("ok", "ill-typed", 502, "provider_answer"),
        ("ok", "huge", 502, "provider_answer"),
        ("ok", "refused", 502, "provider_answer"),
        ("ok", "unverified", 403, "email_unverified"),
    ];
    for (token, userinfo, status, code) in cases {
        let login = Login::start(GoogleConfig {
            auth_url: format!("http://{}/auth", peer.addr),
            token_url: format!("http://{}/token/{token}", peer.addr),
            userinfo_url: format!("http://{}/userinfo/{userinfo}", peer.addr),
            client_id: Some("client".into()),
            client_secret: None,
            // Short only where the wait is the point, so a loaded machine does not fail the others.
            timeout: Duration::from_millis(if token == "hang" { 1000 } else { 10_000 }),
        });
        let url = format!(
            "{}/auth/google/callback?code=provider-code&state={}",
            login.base(),
            login.fresh_state()
        );
        let page = login.callback(&url);
        assert_eq!(page.status, status, "token {token}, userinfo {userinfo}: {page:?}");
        assert!(
            page.html.contains(&format!("Error: {code}")),
            "token {token}, userinfo {userinfo}: {page:?}"
        );
    }
    // Nothing listening at all.
    let closed = Login::start(GoogleConfig {
        auth_url: "http://127.0.0.1:9/auth".into(),
        token_url: "http://127.0.0.1:9/token".into(),
        userinfo_url: "http://127.0.0.1:9/userinfo".into(),
        client_id: Some("client".into()),
        client_secret: None,
        timeout: Duration::from_secs(5),
    });
    let url = format!(
        "{}/auth/google/callback?code=c&state={}",
        closed.base(),
        closed.fresh_state()
    );
    closed.callback(&url).assert_error(502, "provider_unavailable");
}

#[test]
fn sign_in_is_off_without_a_client_id() {
    let login = Login::start(GoogleConfig::default());
    let reply = login.server.request("GET", "/auth/google/url", None, None);
    reply.assert_error(503, "not_configured");
    super::openapi::assert_documented(&super::openapi::openapi(), "GET", "/auth/google/url", &reply);
}

#[test]
fn serve_mode_returns_browsers_to_the_public_url_and_accepts_its_host() {
    let server = Server::start_with(Mode::Serve, 0, None, |config: &mut AuthConfig| {
        config.public_url = Some("https://auth.example.com/".into());
    });
    let request = format!(
        "GET /auth/google/url?{} HTTP/1.1\r\nHost: auth.example.com\r\nX-Requested-With: anyon\r\nConnection: close\r\n\r\n",
        super::CHALLENGE_QUERY
    );
    let reply = super::raw(server.addr(), request.as_bytes());
    assert_eq!(reply.status, 200, "{reply:?}");
    let url = reqwest::Url::parse(reply.json()["url"].as_str().unwrap()).unwrap();
    let redirect = url.query_pairs().find(|(key, _)| key == "redirect_uri").unwrap().1;
    assert_eq!(redirect, "https://auth.example.com/auth/google/callback");
}
