//! A client of the auth server's API, as the desktop app uses it: start a Google sign-in, redeem the
//! deep link's one-time code, read the profile, sign out.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use url::Url;

use crate::domain::secrets::Secret;

/// How long one request to the auth server may take.
const TIMEOUT: Duration = Duration::from_secs(15);
/// The largest answer read from the server.
const MAX_BODY: usize = 256 * 1024;
/// The header that tells the auth server a request comes from an app, not a web page.
pub const REQUESTED_WITH: &str = "X-Requested-With";

/// What `/auth/me` says about the signed-in person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    pub sub: String,
    pub email: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub picture: Option<String>,
    #[serde(default)]
    pub subscription: Option<Plan>,
}

impl Profile {
    /// The name to show: the person's name, else their email.
    pub fn display_name(&self) -> &str {
        self.name
            .as_deref()
            .filter(|name| !name.trim().is_empty())
            .unwrap_or(&self.email)
    }
}

/// The person's subscription.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    pub plan: String,
    #[serde(default)]
    pub status: Option<String>,
}

/// A sign-in started at the server: the page to open, the `state` the callback will carry, and the PKCE
/// verifier only this app knows, which the one-time code is redeemed with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginStart {
    pub url: String,
    pub state: String,
    pub verifier: Secret,
}

/// A new PKCE code verifier (RFC 7636): 32 bytes from the OS generator, as 64 hex characters.
pub fn new_verifier() -> Result<Secret, ClientError> {
    crate::util::hex::random(32)
        .map(Secret::new)
        .map_err(|error| ClientError::Protocol(format!("cannot make the sign-in's verifier: {error}")))
}

/// The S256 challenge of `verifier`: base64url (no padding) of its SHA-256.
pub fn challenge(verifier: &Secret) -> String {
    use base64::Engine;
    use sha2::Digest;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier.expose().as_bytes()))
}

/// Why a call to the auth server failed, in words for the person.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientError {
    #[error("the auth server at {base} cannot be reached: {reason}")]
    Unreachable { base: String, reason: String },
    #[error("the sign-in is no longer valid; sign in again")]
    Unauthorized,
    #[error("the auth server refused the request: {0}")]
    Refused(String),
    #[error("the auth server answered something unexpected: {0}")]
    Protocol(String),
}

/// The auth server's API at `base` (e.g. `http://127.0.0.1:4000`).
#[derive(Debug, Clone)]
pub struct AuthClient {
    base: Url,
    http: reqwest::Client,
}

impl AuthClient {
    pub fn new(base: &str) -> Result<Self, ClientError> {
        let base = Url::parse(base)
            .ok()
            .filter(|url| matches!(url.scheme(), "http" | "https") && url.host().is_some())
            .ok_or_else(|| ClientError::Protocol(format!("{base:?} is not an http(s) address")))?;
        crate::util::net::install_crypto();
        let http = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .connect_timeout(Duration::from_secs(5))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|error| ClientError::Protocol(error.to_string()))?;
        Ok(Self { base, http })
    }

    pub fn base(&self) -> &str {
        self.base.as_str().trim_end_matches('/')
    }

    /// `GET /auth/google/url` with a new verifier's challenge: the provider page to open, the `state` it is
    /// bound to, and the verifier (kept in memory only) that will redeem its code.
    pub async fn login_url(&self) -> Result<LoginStart, ClientError> {
        let verifier = new_verifier()?;
        let path = format!(
            "auth/google/url?code_challenge={}&code_challenge_method=S256",
            challenge(&verifier)
        );
        let answer = self.call(reqwest::Method::GET, &path, None, None).await?;
        let url = answer
            .get("url")
            .and_then(Value::as_str)
            .ok_or_else(|| ClientError::Protocol("no `url` in the answer".into()))?;
        let parsed = Url::parse(url).map_err(|error| ClientError::Protocol(format!("sign-in address: {error}")))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(ClientError::Protocol("the sign-in address is not a web page".into()));
        }
        let state = answer
            .get("state")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .or_else(|| {
                parsed
                    .query_pairs()
                    .find(|(key, _)| key == "state")
                    .map(|(_, value)| value.into_owned())
            })
            .filter(|state| !state.is_empty())
            .ok_or_else(|| ClientError::Protocol("the sign-in address carries no `state`".into()))?;
        Ok(LoginStart {
            url: url.to_owned(),
            state,
            verifier,
        })
    }

    /// `POST /auth/exchange`: the JWT for a one-time code of the sign-in `state`, proven ours by the
    /// `verifier` whose challenge started it (works once).
    pub async fn exchange(&self, code: &str, state: &str, verifier: &Secret) -> Result<String, ClientError> {
        let body = serde_json::json!({ "code": code, "state": state, "code_verifier": verifier.expose() });
        let answer = self
            .call(reqwest::Method::POST, "auth/exchange", None, Some(&body))
            .await
            .map_err(|error| match error {
                ClientError::Unauthorized => {
                    ClientError::Refused("the sign-in link was already used or has expired".into())
                }
                other => other,
            })?;
        answer
            .get("token")
            .and_then(Value::as_str)
            .filter(|token| !token.is_empty())
            .map(str::to_owned)
            .ok_or_else(|| ClientError::Protocol("no `token` in the answer".into()))
    }

    /// `GET /auth/me`: the person the token belongs to.
    pub async fn me(&self, token: &str) -> Result<Profile, ClientError> {
        let answer = self.call(reqwest::Method::GET, "auth/me", Some(token), None).await?;
        let profile = answer.get("user").cloned().unwrap_or(answer.clone());
        let mut profile: Profile =
            serde_json::from_value(profile).map_err(|error| ClientError::Protocol(format!("profile: {error}")))?;
        if profile.subscription.is_none() {
            profile.subscription = answer
                .get("subscription")
                .and_then(|plan| serde_json::from_value(plan.clone()).ok());
        }
        Ok(profile)
    }

    /// `POST /auth/logout`: revokes the token at the server.
    pub async fn logout(&self, token: &str) -> Result<(), ClientError> {
        self.call(reqwest::Method::POST, "auth/logout", Some(token), None)
            .await
            .map(drop)
    }

    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> Result<Value, ClientError> {
        let url = self
            .base
            .join(path)
            .map_err(|error| ClientError::Protocol(error.to_string()))?;
        // The sign-in endpoints demand it (web pages cannot send it); the others ignore it.
        let mut request = self.http.request(method, url).header(REQUESTED_WITH, "anyon");
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let unreachable = |error: reqwest::Error| ClientError::Unreachable {
            base: self.base().to_owned(),
            reason: error.without_url().to_string(),
        };
        let response = request.send().await.map_err(unreachable)?;
        let status = response.status();
        if response.content_length().is_some_and(|length| length > MAX_BODY as u64) {
            return Err(ClientError::Protocol(format!(
                "an answer of {status} that is too large"
            )));
        }
        let bytes = response.bytes().await.map_err(unreachable)?;
        if bytes.len() > MAX_BODY {
            return Err(ClientError::Protocol(format!(
                "an answer of {status} that is too large"
            )));
        }
        let value: Value = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .map_err(|_| ClientError::Protocol(format!("a {status} answer that is not JSON")))?
        };
        if status.is_success() {
            return Ok(value);
        }
        if status == reqwest::StatusCode::UNAUTHORIZED {
            return Err(ClientError::Unauthorized);
        }
        let message = value
            .get("message")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .unwrap_or_else(|| status.to_string());
        Err(ClientError::Refused(message))
    }
}

/// The largest picture fetched for the Account screen.
const MAX_PICTURE: usize = 2 * 1024 * 1024;
/// Pictures are drawn at this size (pixels, both sides at most).
const PICTURE_SIDE: u32 = 128;

/// A decoded picture: unpremultiplied RGBA, row by row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Picture {
    pub width: usize,
    pub height: usize,
    pub rgba: Vec<u8>,
}

/// Fetches and decodes the person's picture (PNG or JPEG over http(s)), scaled down to at most
/// [`PICTURE_SIDE`] pixels a side.
pub async fn fetch_picture(url: &str) -> Result<Picture, ClientError> {
    let parsed = Url::parse(url).map_err(|error| ClientError::Protocol(format!("picture address: {error}")))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(ClientError::Protocol("the picture is not a web address".into()));
    }
    crate::util::net::install_crypto();
    let http = reqwest::Client::builder()
        .timeout(TIMEOUT)
        .build()
        .map_err(|error| ClientError::Protocol(error.to_string()))?;
    let unreachable = |error: reqwest::Error| ClientError::Unreachable {
        base: parsed.origin().ascii_serialization(),
        reason: error.without_url().to_string(),
    };
    let mut response = http.get(parsed.clone()).send().await.map_err(unreachable)?;
    if !response.status().is_success() {
        return Err(ClientError::Refused(format!(
            "the picture answered {}",
            response.status()
        )));
    }
    let mut bytes = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(unreachable)? {
        if bytes.len() + chunk.len() > MAX_PICTURE {
            return Err(ClientError::Protocol("the picture is larger than 2 MB".into()));
        }
        bytes.extend_from_slice(&chunk);
    }
    tokio::task::spawn_blocking(move || decode_picture(&bytes))
        .await
        .map_err(|error| ClientError::Protocol(error.to_string()))?
}

/// Decodes PNG or JPEG bytes into a picture no larger than [`PICTURE_SIDE`] a side.
pub fn decode_picture(bytes: &[u8]) -> Result<Picture, ClientError> {
    let image = image::load_from_memory(bytes)
        .map_err(|error| ClientError::Protocol(format!("the picture cannot be read: {error}")))?;
    let image = if image.width() > PICTURE_SIDE || image.height() > PICTURE_SIDE {
        image.thumbnail(PICTURE_SIDE, PICTURE_SIDE)
    } else {
        image
    };
    let rgba = image.to_rgba8();
    Ok(Picture {
        width: rgba.width() as usize,
        height: rgba.height() as usize,
        rgba: rgba.into_raw(),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn png(width: u32, height: u32) -> Vec<u8> {
        let mut bytes = Vec::new();
        image::RgbaImage::from_pixel(width, height, image::Rgba([200, 30, 40, 255]))
            .write_to(&mut std::io::Cursor::new(&mut bytes), image::ImageFormat::Png)
            .unwrap();
        bytes
    }

    #[test]
    fn pictures_are_decoded_and_scaled_down() {
        let small = decode_picture(&png(40, 30)).unwrap();
        assert_eq!((small.width, small.height), (40, 30));
        assert_eq!(small.rgba.len(), 40 * 30 * 4);
        assert_eq!(small.rgba[..4], [200, 30, 40, 255]);
        let large = decode_picture(&png(512, 256)).unwrap();
        assert_eq!((large.width, large.height), (128, 64));
        assert!(matches!(
            decode_picture(b"<html>not a picture"),
            Err(ClientError::Protocol(_))
        ));
        assert!(matches!(
            decode_picture(&png(10, 10)[..20]),
            Err(ClientError::Protocol(_))
        ));
    }

    /// Serves each body once per connection on a loopback port, with `status`.
    fn serve(status: &'static str, body: Vec<u8>) -> String {
        use std::io::{Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            for stream in listener.incoming().take(1) {
                let mut stream = stream.unwrap();
                let mut request = [0u8; 2048];
                let _ = stream.read(&mut request);
                let head = format!(
                    "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = stream.write_all(head.as_bytes());
                let _ = stream.write_all(&body);
            }
        });
        format!("http://{addr}/picture.png")
    }

    #[test]
    fn pictures_are_fetched_over_http_and_failures_are_clear() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let image = runtime.block_on(fetch_picture(&serve("200 OK", png(64, 64)))).unwrap();
        assert_eq!((image.width, image.height), (64, 64));
        let missing = runtime.block_on(fetch_picture(&serve("404 Not Found", Vec::new())));
        assert!(matches!(missing, Err(ClientError::Refused(_))), "{missing:?}");
        let html = runtime.block_on(fetch_picture(&serve("200 OK", b"<html></html>".to_vec())));
        assert!(matches!(html, Err(ClientError::Protocol(_))), "{html:?}");
        let huge = runtime.block_on(fetch_picture(&serve("200 OK", vec![0u8; MAX_PICTURE + 1])));
        assert!(matches!(huge, Err(ClientError::Protocol(_))), "{huge:?}");
        assert!(runtime.block_on(fetch_picture("file:///etc/passwd")).is_err());
    }
}
