//! The sign-in endpoints: `GET /auth/google/url`, `GET /auth/google/callback` (HTML for the browser) and
//! `POST /auth/exchange`, which redeems the callback page's one-time code for a token, once.
//!
//! The callback page opens `anyon://auth/callback?code=CODE&state=STATE`. The code lives
//! [`CODE_LIFETIME`], is single-use and bound to the sign-in's `state`; the token itself never appears in a
//! URL. The running app can skip the OS round trip: [`super::AuthConfig::login_links`] receives the same
//! [`LoginLink`] the page carries.
//!
//! The link is not a secret: the OS passes it on a command line (`anyon open-url %u`) that other local users
//! can read. So the exchange is bound, as PKCE (RFC 7636) binds a code, to a secret only the app holds: the
//! app starts the sign-in with `code_challenge` = base64url(SHA-256(verifier)) and `code_challenge_method=S256`,
//! and redeems the code with `{"code", "state", "code_verifier"}`. A missing or wrong state or verifier is
//! refused and spends the code.

use std::collections::HashMap;
use std::time::Duration;

use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use oauth2::url::form_urlencoded;
use serde_json::{Value, json};

use super::google::{LoginError, Pending};
use super::http::{ApiError, AuthServer, Body, Peer, constant_time_eq, json_response, read_json};
use super::{accounts, now, pages};

/// How long a sign-in may take between `/auth/google/url` and the callback.
pub const STATE_LIFETIME: Duration = Duration::from_secs(15 * 60);
/// How long the callback page's one-time code can be redeemed.
pub const CODE_LIFETIME: Duration = Duration::from_secs(60);
/// Longest `login_hint` passed on to the provider.
const MAX_HINT_LEN: usize = 256;
/// The only `code_challenge_method` accepted.
pub const CHALLENGE_METHOD: &str = "S256";

/// What the callback page hands to the app: the one-time code and the sign-in's `state`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginLink {
    pub code: String,
    pub state: String,
}

impl LoginLink {
    /// The deep link the page opens.
    pub fn url(&self) -> String {
        let query: String = form_urlencoded::Serializer::new(String::new())
            .append_pair("code", &self.code)
            .append_pair("state", &self.state)
            .finish();
        format!("anyon://auth/callback?{query}")
    }
}

/// A one-time code's binding: who signed in, in which sign-in, and the app's PKCE challenge.
pub(super) struct Redeem {
    sub: String,
    state: String,
    challenge: String,
}

/// A sign-in in progress: the provider side, and the challenge of the app that started it.
pub(super) struct Attempt {
    pending: Pending,
    challenge: String,
}

/// The sign-ins in progress and the unredeemed codes.
pub(super) struct Logins {
    pending: super::ephemeral::Ephemeral<Attempt>,
    codes: super::ephemeral::Ephemeral<Redeem>,
}

impl Default for Logins {
    fn default() -> Self {
        Self {
            pending: super::ephemeral::Ephemeral::new(STATE_LIFETIME),
            codes: super::ephemeral::Ephemeral::new(CODE_LIFETIME),
        }
    }
}

fn query(request: &Request<Incoming>) -> HashMap<String, String> {
    let mut params = HashMap::new();
    for (key, value) in form_urlencoded::parse(request.uri().query().unwrap_or_default().as_bytes()) {
        params.entry(key.into_owned()).or_insert_with(|| value.into_owned());
    }
    params
}

/// Whether `challenge` can be an S256 challenge: base64url without padding of 32 bytes.
fn valid_challenge(challenge: &str) -> bool {
    challenge.len() == 43
        && challenge
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_')
}

/// Whether `verifier` is a PKCE code verifier: 43 to 128 unreserved characters (RFC 7636 section 4.1).
fn valid_verifier(verifier: &str) -> bool {
    (43..=128).contains(&verifier.len())
        && verifier
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~'))
}

/// The S256 challenge of `verifier`: base64url (no padding) of its SHA-256.
pub fn s256_challenge(verifier: &str) -> String {
    use base64::Engine;
    use sha2::Digest;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier.as_bytes()))
}

/// The address of the client that sent `request` (unspecified when unknown, which only tests see).
fn client(request: &Request<Incoming>) -> std::net::IpAddr {
    request
        .extensions()
        .get::<Peer>()
        .map_or(std::net::Ipv4Addr::UNSPECIFIED.into(), |peer| peer.0.ip())
}

impl AuthServer {
    /// Where the provider sends the browser back: `ANYON_AUTH_PUBLIC_URL` or this server's address.
    fn redirect_uri(&self) -> String {
        let base = match &self.config.public_url {
            Some(url) => url.trim_end_matches('/').to_owned(),
            None => format!("http://{}", self.local_addr()),
        };
        format!("{base}/auth/google/callback")
    }

    /// `GET /auth/google/url?code_challenge=C&code_challenge_method=S256[&login_hint=...]`: a new sign-in's
    /// authorization URL and its `state`, which the app keeps to accept only the links of sign-ins it
    /// started. `C` binds the sign-in's one-time code to the app's verifier.
    pub(super) fn google_url(&self, request: &Request<Incoming>) -> Result<Response<Body>, ApiError> {
        if !self.google.configured() {
            return Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "not_configured",
                "Google sign-in is not configured (GOOGLE_CLIENT_ID)",
            ));
        }
        let params = query(request);
        let hint = params.get("login_hint").map(String::as_str);
        if hint.is_some_and(|hint| hint.len() > MAX_HINT_LEN) {
            return Err(ApiError::bad_request("login_hint is too long"));
        }
        if params.get("code_challenge_method").map(String::as_str) != Some(CHALLENGE_METHOD) {
            return Err(ApiError::bad_request(
                "code_challenge_method=S256 is required (the app's PKCE challenge binds the sign-in to it)",
            ));
        }
        let challenge = params
            .get("code_challenge")
            .filter(|challenge| valid_challenge(challenge))
            .ok_or_else(|| {
                ApiError::bad_request(
                    "code_challenge must be the base64url (no padding) SHA-256 of the app's code verifier",
                )
            })?
            .clone();
        let started = self
            .google
            .start(&self.redirect_uri(), hint)
            .map_err(ApiError::internal)?;
        let answer = json!({"url": started.url, "state": started.state});
        let attempt = Attempt {
            pending: started.pending,
            challenge,
        };
        let evicted = self.logins.pending.insert(started.state, client(request), attempt);
        if evicted > 0 {
            tracing::info!(evicted, "too many sign-ins in progress: the oldest were forgotten");
        }
        Ok(json_response(StatusCode::OK, &answer))
    }

    /// `GET /auth/google/callback`: always an HTML page, never a JSON error or a panic.
    pub(super) async fn google_callback(&self, request: &Request<Incoming>) -> Response<Body> {
        let params = query(request);
        let Some(state) = params.get("state").filter(|state| !state.is_empty()) else {
            return pages::error(
                StatusCode::BAD_REQUEST,
                "missing_state",
                "This sign-in address is incomplete",
                "The address the browser came back with has no state, so it cannot belong to a sign-in.",
            );
        };
        let Some(Attempt { pending, challenge }) = self.logins.pending.take(state) else {
            return pages::error(
                StatusCode::BAD_REQUEST,
                "unknown_state",
                "This sign-in has expired or was already used",
                "Each sign-in works once and for 15 minutes. This one is unknown, finished or too old.",
            );
        };
        if let Some(error) = params.get("error") {
            let detail = params
                .get("error_description")
                .map(|text| format!(" ({text})"))
                .unwrap_or_default();
            return if error == "access_denied" {
                pages::error(
                    StatusCode::FORBIDDEN,
                    "access_denied",
                    "Sign-in was cancelled",
                    &format!("Google did not sign you in: access was denied{detail}."),
                )
            } else {
                pages::error(
                    StatusCode::BAD_REQUEST,
                    "provider_error",
                    "Google refused the sign-in",
                    &format!("Google answered “{error}”{detail}."),
                )
            };
        }
        let Some(code) = params.get("code").filter(|code| !code.is_empty()) else {
            return pages::error(
                StatusCode::BAD_REQUEST,
                "missing_code",
                "This sign-in address is incomplete",
                "Google sent the browser back without a sign-in code.",
            );
        };
        match self.google.finish(pending, code).await {
            Ok(user) => self.signed_in(user, state, challenge, client(request)).await,
            Err(error) => {
                tracing::warn!(%error, "Google sign-in failed");
                login_error_page(&error)
            }
        }
    }

    async fn signed_in(
        &self,
        user: accounts::User,
        state: &str,
        challenge: String,
        client: std::net::IpAddr,
    ) -> Response<Body> {
        let email = user.email.clone();
        let sub = user.sub.clone();
        if let Err(error) = self
            .blocking(move |conn| accounts::upsert_user(conn, &user, now()))
            .await
        {
            tracing::error!(?error, "cannot record the signed-in user");
            return pages::error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "Something went wrong",
                "ANYON could not record your account.",
            );
        }
        let code = match crate::util::hex::random(32) {
            Ok(code) => code,
            Err(error) => {
                tracing::error!(%error, "cannot make a sign-in code");
                return pages::error(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "Something went wrong",
                    "ANYON could not finish your sign-in.",
                );
            }
        };
        let link = LoginLink {
            code,
            state: state.to_owned(),
        };
        let redeem = Redeem {
            sub,
            state: state.to_owned(),
            challenge,
        };
        self.logins.codes.insert(link.code.clone(), client, redeem);
        if let Some(links) = &self.config.login_links {
            // The app may have stopped listening; the page still carries the link.
            (links.0)(link.clone());
        }
        pages::signed_in(&link.url(), &email)
    }

    /// `POST /auth/exchange` with `{"code", "state", "code_verifier"}`: the token, once per code. The code
    /// is taken first, so a refused exchange (a missing or wrong state or verifier) spends it.
    pub(super) async fn exchange(&self, request: Request<Incoming>) -> Result<Response<Body>, ApiError> {
        let body = read_json(request).await?;
        let field = |name: &str| body.get(name).and_then(Value::as_str);
        let code = field("code")
            .filter(|code| !code.is_empty() && code.len() <= 128)
            .ok_or_else(|| {
                ApiError::bad_request(
                    "the body must be {\"code\": \"...\", \"state\": \"...\", \"code_verifier\": \"...\"}",
                )
            })?;
        let invalid = |message: &str| ApiError::new(StatusCode::BAD_REQUEST, "invalid_code", message);
        let redeem = self
            .logins
            .codes
            .take(code)
            .ok_or_else(|| invalid("the code is unknown, expired or used"))?;
        let (Some(state), Some(verifier)) = (field("state"), field("code_verifier")) else {
            return Err(invalid(
                "the exchange needs the sign-in's `state` and the app's `code_verifier`; the code is now spent",
            ));
        };
        let state_matches = constant_time_eq(state.as_bytes(), redeem.state.as_bytes());
        let verifier_matches = valid_verifier(verifier)
            && constant_time_eq(s256_challenge(verifier).as_bytes(), redeem.challenge.as_bytes());
        if !(state_matches && verifier_matches) {
            return Err(invalid(
                "the state or code_verifier does not match the sign-in that made this code; the code is now spent",
            ));
        }
        let (token, claims) = self.keys.issue(&redeem.sub, now()).map_err(ApiError::internal)?;
        Ok(json_response(
            StatusCode::OK,
            &json!({"token": token, "expires_at": claims.exp}),
        ))
    }
}

fn login_error_page(error: &LoginError) -> Response<Body> {
    let (status, code, title, message) = error.page();
    pages::error(status, code, title, &message)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn challenges_and_verifiers_follow_rfc_7636() {
        // RFC 7636 appendix B.
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        assert_eq!(s256_challenge(verifier), "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
        assert!(valid_verifier(verifier) && valid_challenge(&s256_challenge(verifier)));
        assert!(valid_verifier(&"a~.-_".repeat(26)[..128]));
        for bad in [
            "",
            "short",
            &"a".repeat(129),
            &format!("{}é", "a".repeat(43)),
            &format!("{}+", "a".repeat(43)),
        ] {
            assert!(!valid_verifier(bad), "{bad:?}");
        }
        for bad in [
            "",
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM=",
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-c+",
        ] {
            assert!(!valid_challenge(bad), "{bad:?}");
        }
    }
}
