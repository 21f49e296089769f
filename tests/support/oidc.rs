//! A real OpenID provider for the auth tests: npm `oidc-provider` run by `oidc/provider.mjs`, with one
//! registered client, PKCE required, login and consent approved for the account named by `login_hint`
//! (`verified@example.test`, `unverified@example.test`; `deny` refuses) and Google-shaped userinfo.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;

use super::npm;

pub const OIDC_PROVIDER_VERSION: &str = "9.13.3";
pub const CLIENT_ID: &str = "anyon-test-client";
pub const CLIENT_SECRET: &str = "anyon-test-client-secret";
/// Registered as a native client's loopback URI, so any port of ANYON's server is accepted.
pub const REDIRECT_URI: &str = "http://127.0.0.1/auth/google/callback";
/// Time for node to start the provider (the npm install before it has its own).
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// The running provider; dropping it kills node.
pub struct OidcProvider {
    child: Child,
    /// Closing it also stops the script, should this process die before `Drop` runs.
    _stdin: ChildStdin,
    pub auth_url: String,
    pub token_url: String,
    pub userinfo_url: String,
}

impl OidcProvider {
    pub fn start() -> Self {
        let prefix = npm::install_library("oidc-provider", "oidc-provider", OIDC_PROVIDER_VERSION)
            .unwrap_or_else(|error| panic!("{error}"));
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/oidc/provider.mjs");
        let mut child = Command::new("node")
            .arg(&script)
            .env("OIDC_PREFIX", &prefix)
            .env("CLIENT_ID", CLIENT_ID)
            .env("CLIENT_SECRET", CLIENT_SECRET)
            .env("REDIRECT_URI", REDIRECT_URI)
            .env("NODE_ENV", "test")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|error| panic!("cannot run node ({error}); install Node.js"));
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let stderr = child.stderr.take();
        let (lines, line) = mpsc::channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            let mut first = String::new();
            let _ = reader.read_line(&mut first);
            let _ = lines.send(first);
            // Keep the pipe open and drained while node runs.
            let _ = std::io::copy(&mut reader, &mut std::io::sink());
        });
        let (errors, error_text) = mpsc::channel();
        std::thread::spawn(move || {
            let mut text = String::new();
            if let Some(mut stderr) = stderr {
                let _ = stderr.read_to_string(&mut text);
            }
            let _ = errors.send(text);
        });
        let first = line.recv_timeout(START_TIMEOUT).unwrap_or_default();
        let Ok(info) = serde_json::from_str::<Value>(&first) else {
            let _ = child.kill();
            let _ = child.wait();
            let stderr = error_text.recv_timeout(Duration::from_secs(5)).unwrap_or_default();
            panic!("the OpenID provider did not start: {first:?}\n{stderr}");
        };
        let field = |name: &str| info[name].as_str().unwrap().to_owned();
        Self {
            auth_url: field("auth"),
            token_url: field("token"),
            userinfo_url: field("userinfo"),
            child,
            _stdin: stdin,
        }
    }
}

impl OidcProvider {
    /// ANYON's Google settings pointed at this provider, with its registered client.
    pub fn google_config(&self) -> anyon::domain::auth_server::GoogleConfig {
        anyon::domain::auth_server::GoogleConfig {
            auth_url: self.auth_url.clone(),
            token_url: self.token_url.clone(),
            userinfo_url: self.userinfo_url.clone(),
            client_id: Some(CLIENT_ID.into()),
            client_secret: Some(CLIENT_SECRET.into()),
            timeout: Duration::from_secs(10),
        }
    }

    /// An ANYON auth server on a free loopback port signing in with this provider (its data in `home`).
    pub fn auth_server(
        &self,
        runtime: &tokio::runtime::Runtime,
        home: &super::TempHome,
    ) -> anyon::domain::auth_server::ServerHandle {
        home.paths().ensure().unwrap();
        let bind = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
        let mut config = anyon::domain::auth_server::AuthConfig::new(anyon::domain::auth_server::Mode::Embedded, bind);
        config.jwt_secret = Some(b"oidc-test-secret-0123456789abcdef-012345".to_vec());
        config.google = self.google_config();
        runtime
            .block_on(anyon::domain::auth_server::start(config, &home.paths()))
            .unwrap()
    }
}

impl Drop for OidcProvider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Most redirects one sign-in takes at the provider.
const MAX_HOPS: usize = 20;

/// Follows redirects from `url` as a browser with cookies would (the provider's login and consent are
/// approved automatically) and returns the first address that starts with `callback`.
pub async fn follow_to_callback(http: &reqwest::Client, url: &str, callback: &str) -> String {
    let mut url = reqwest::Url::parse(url).unwrap();
    let mut cookies = std::collections::BTreeMap::new();
    for _ in 0..MAX_HOPS {
        let cookie = cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ");
        let mut request = http.get(url.as_str());
        if !cookie.is_empty() {
            request = request.header(reqwest::header::COOKIE, cookie);
        }
        let response = request.send().await.unwrap();
        for value in response.headers().get_all(reqwest::header::SET_COOKIE) {
            let pair = value.to_str().unwrap().split(';').next().unwrap();
            if let Some((name, value)) = pair.split_once('=') {
                cookies.insert(name.trim().to_owned(), value.trim().to_owned());
            }
        }
        let status = response.status();
        let Some(location) = response.headers().get(reqwest::header::LOCATION) else {
            let body = response.text().await.unwrap_or_default();
            panic!("the provider stopped at {url} with {status}: {body}");
        };
        url = url.join(location.to_str().unwrap()).unwrap();
        if url.as_str().starts_with(callback) {
            return url.into();
        }
    }
    panic!("more than {MAX_HOPS} redirects at the provider");
}

/// The `anyon://` link on ANYON's signed-in page.
pub fn page_link(html: &str) -> String {
    let start = html.find("href=\"anyon://auth/callback?").expect("an anyon:// link") + 6;
    let end = start + html[start..].find('"').unwrap();
    html[start..end].replace("&amp;", "&")
}
