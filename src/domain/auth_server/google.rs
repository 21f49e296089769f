//! Google sign-in (or any OpenID provider at the configured endpoints) with the oauth2 crate:
//! authorization code with PKCE (S256), a random `state` and `nonce`, scopes `openid email profile`.
//!
//! oauth2 brings no HTTP client here: [`Google`] drives it over reqwest 0.13 with redirects off, a total
//! timeout and a cap on answer size. The ID token comes straight from the token endpoint, so its claims
//! are read without a signature check (OpenID Core 3.1.3.7) and hold the `nonce`, the audience and the
//! `sub` that userinfo must repeat.

use std::borrow::Cow;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hyper::StatusCode;
use oauth2::basic::{
    BasicErrorResponse, BasicRevocationErrorResponse, BasicTokenIntrospectionResponse, BasicTokenType,
};
use oauth2::{
    AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointNotSet, EndpointSet, ExtraTokenFields,
    PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RequestTokenError, Scope, StandardRevocableToken,
    StandardTokenResponse, TokenResponse, TokenUrl,
};
use serde::{Deserialize, Serialize};

use super::AuthError;
use super::accounts::User;

pub const GOOGLE_AUTH_URL: &str = "https://accounts.google.com/o/oauth2/v2/auth";
pub const GOOGLE_TOKEN_URL: &str = "https://oauth2.googleapis.com/token";
pub const GOOGLE_USERINFO_URL: &str = "https://openidconnect.googleapis.com/v1/userinfo";
/// Total time for one call to the provider, unless configured.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// Largest answer read from the provider.
pub const MAX_PROVIDER_BYTES: usize = 256 * 1024;
/// Longest `sub`, email, name or picture URL kept from userinfo.
const MAX_CLAIM_LEN: usize = 2048;
/// The scopes asked for.
const SCOPES: [&str; 3] = ["openid", "email", "profile"];

/// The provider's endpoints and this app's client registration.
#[derive(Clone)]
pub struct GoogleConfig {
    /// `GOOGLE_AUTH_URL`
    pub auth_url: String,
    /// `GOOGLE_TOKEN_URL`
    pub token_url: String,
    /// `GOOGLE_USERINFO_URL`
    pub userinfo_url: String,
    /// `GOOGLE_CLIENT_ID`; without it sign-in is off.
    pub client_id: Option<String>,
    /// `GOOGLE_CLIENT_SECRET` (not secret for a desktop client, but never logged).
    pub client_secret: Option<String>,
    /// `GOOGLE_HTTP_TIMEOUT_SECS`: total time for one call to the provider.
    pub timeout: Duration,
}

impl Default for GoogleConfig {
    fn default() -> Self {
        Self {
            auth_url: GOOGLE_AUTH_URL.into(),
            token_url: GOOGLE_TOKEN_URL.into(),
            userinfo_url: GOOGLE_USERINFO_URL.into(),
            client_id: None,
            client_secret: None,
            timeout: DEFAULT_TIMEOUT,
        }
    }
}

impl std::fmt::Debug for GoogleConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GoogleConfig")
            .field("auth_url", &self.auth_url)
            .field("token_url", &self.token_url)
            .field("userinfo_url", &self.userinfo_url)
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret.as_ref().map(|_| "<redacted>"))
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl GoogleConfig {
    /// The configuration from `env` (a lookup that treats blank values as unset).
    pub fn from_env(env: impl Fn(&str) -> Option<String>) -> Result<Self, AuthError> {
        let defaults = Self::default();
        let timeout = match env("GOOGLE_HTTP_TIMEOUT_SECS") {
            Some(secs) => secs
                .trim()
                .parse::<u64>()
                .ok()
                .filter(|secs| (1..=300).contains(secs))
                .map(Duration::from_secs)
                .ok_or_else(|| AuthError::Config(format!("GOOGLE_HTTP_TIMEOUT_SECS is not 1 to 300: {secs:?}")))?,
            None => defaults.timeout,
        };
        Ok(Self {
            auth_url: env("GOOGLE_AUTH_URL").unwrap_or(defaults.auth_url),
            token_url: env("GOOGLE_TOKEN_URL").unwrap_or(defaults.token_url),
            userinfo_url: env("GOOGLE_USERINFO_URL").unwrap_or(defaults.userinfo_url),
            client_id: env("GOOGLE_CLIENT_ID"),
            client_secret: env("GOOGLE_CLIENT_SECRET"),
            timeout,
        })
    }
}

/// The token response's `id_token`, which oauth2's basic types drop.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct IdTokenField {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
}

impl ExtraTokenFields for IdTokenField {}

type Tokens = StandardTokenResponse<IdTokenField, BasicTokenType>;
type OAuthClient = oauth2::Client<
    BasicErrorResponse,
    Tokens,
    BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    BasicRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointSet,
>;

/// A sign-in in progress, kept server-side under its `state` until the callback.
pub struct Pending {
    verifier: PkceCodeVerifier,
    nonce: String,
    redirect: RedirectUrl,
}

/// An authorization request to send the browser to.
pub struct Started {
    pub url: String,
    pub state: String,
    pub pending: Pending,
}

/// Why a sign-in failed, with what the callback page says about it.
#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    #[error("Google sign-in is not configured on this server")]
    NotConfigured,
    #[error("the provider refused the code: {0}")]
    Refused(String),
    #[error("the provider did not answer in time")]
    Timeout,
    #[error("cannot reach the provider: {0}")]
    Unreachable(String),
    #[error("the provider failed with HTTP {0}")]
    ProviderFailed(u16),
    #[error("the provider's answer was unusable: {0}")]
    Garbage(String),
    #[error("the identity token does not belong to this sign-in: {0}")]
    IdToken(&'static str),
    #[error("the account has no email address")]
    NoEmail,
    #[error("the email address is not verified")]
    Unverified(String),
    /// The redirect address this server gives does not parse.
    #[error("the provider's answer was unusable: {0}")]
    Redirect(#[source] oauth2::url::ParseError),
    #[error("cannot make the sign-in's random values: {0}")]
    Random(#[source] std::io::Error),
}

impl LoginError {
    /// The status, short code, title and explanation of the page.
    pub fn page(&self) -> (StatusCode, &'static str, &'static str, String) {
        let retry = "Please try again in a moment.";
        match self {
            Self::NotConfigured => (
                StatusCode::SERVICE_UNAVAILABLE,
                "not_configured",
                "Sign-in is not set up",
                "This ANYON server has no Google client configured (GOOGLE_CLIENT_ID).".into(),
            ),
            Self::Refused(error) => (
                StatusCode::BAD_REQUEST,
                "invalid_grant",
                "The sign-in could not be completed",
                format!("Google refused the sign-in code ({error}). Codes work once and expire quickly."),
            ),
            Self::Timeout => (
                StatusCode::GATEWAY_TIMEOUT,
                "provider_timeout",
                "Google did not answer in time",
                format!("The sign-in service took too long to answer. {retry}"),
            ),
            Self::Unreachable(_) | Self::ProviderFailed(_) => (
                StatusCode::BAD_GATEWAY,
                "provider_unavailable",
                "Google is not available",
                format!("The sign-in service could not be reached or failed ({self}). {retry}"),
            ),
            Self::Garbage(_) | Self::Redirect(_) | Self::IdToken(_) => (
                StatusCode::BAD_GATEWAY,
                "provider_answer",
                "Google's answer was not understood",
                format!("The sign-in service answered something ANYON cannot use ({self})."),
            ),
            Self::NoEmail => (
                StatusCode::FORBIDDEN,
                "no_email",
                "No email address",
                "Your Google account shared no email address, which ANYON needs.".into(),
            ),
            Self::Unverified(email) => (
                StatusCode::FORBIDDEN,
                "email_unverified",
                "Your email address is not verified",
                format!("Google has not verified {email}. Verify it with Google, then sign in again."),
            ),
            Self::Random(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "Something went wrong",
                format!("ANYON could not start the sign-in ({self}). {retry}"),
            ),
        }
    }
}

/// Failures of one HTTP call to the provider.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("timed out")]
    Timeout,
    #[error("{0}")]
    Unreachable(String),
    #[error("HTTP {0}")]
    Status(u16),
    #[error("the answer is larger than {MAX_PROVIDER_BYTES} bytes")]
    TooLarge,
}

impl From<reqwest::Error> for HttpError {
    fn from(error: reqwest::Error) -> Self {
        if error.is_timeout() {
            return Self::Timeout;
        }
        // The chain of causes, without URLs.
        let error = error.without_url();
        let mut text = error.to_string();
        let mut source = std::error::Error::source(&error);
        while let Some(cause) = source {
            text = format!("{text}: {cause}");
            source = cause.source();
        }
        Self::Unreachable(text)
    }
}

impl From<HttpError> for LoginError {
    fn from(error: HttpError) -> Self {
        match error {
            HttpError::Timeout => Self::Timeout,
            HttpError::Unreachable(text) => Self::Unreachable(text),
            HttpError::Status(status) => Self::ProviderFailed(status),
            HttpError::TooLarge => Self::Garbage(error.to_string()),
        }
    }
}

/// The provider client: oauth2 for the code flow, reqwest for the calls.
pub struct Google {
    client: Option<OAuthClient>,
    userinfo_url: String,
    http: reqwest::Client,
}

impl Google {
    /// Checks the endpoint URLs and builds the HTTP client.
    pub fn new(config: &GoogleConfig) -> Result<Self, AuthError> {
        let bad = |name: &str, error: &dyn std::fmt::Display| AuthError::Config(format!("{name}: {error}"));
        let client = match &config.client_id {
            Some(id) => {
                let auth = AuthUrl::new(config.auth_url.clone()).map_err(|e| bad("GOOGLE_AUTH_URL", &e))?;
                let token = TokenUrl::new(config.token_url.clone()).map_err(|e| bad("GOOGLE_TOKEN_URL", &e))?;
                let client = oauth2::Client::new(ClientId::new(id.clone()))
                    .set_auth_uri(auth)
                    .set_token_uri(token);
                Some(match &config.client_secret {
                    Some(secret) => client.set_client_secret(ClientSecret::new(secret.clone())),
                    None => client,
                })
            }
            None => None,
        };
        oauth2::url::Url::parse(&config.userinfo_url).map_err(|e| bad("GOOGLE_USERINFO_URL", &e))?;
        crate::util::net::install_crypto();
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(config.timeout)
            .connect_timeout(config.timeout)
            .build()
            .map_err(|e| bad("the HTTP client", &e))?;
        Ok(Self {
            client,
            userinfo_url: config.userinfo_url.clone(),
            http,
        })
    }

    /// Whether a client id is configured.
    pub fn configured(&self) -> bool {
        self.client.is_some()
    }

    /// A new authorization request returning to `redirect`, with `login_hint` passed on when given.
    pub fn start(&self, redirect: &str, login_hint: Option<&str>) -> Result<Started, LoginError> {
        let client = self.client.as_ref().ok_or(LoginError::NotConfigured)?;
        let redirect = RedirectUrl::new(redirect.to_owned()).map_err(LoginError::Redirect)?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        // The OS generator failing leaves no safe fallback: the sign-in fails rather than use weak values.
        let random = |bytes| crate::util::hex::random(bytes).map_err(LoginError::Random);
        let nonce = random(16)?;
        let state = random(32)?;
        let mut request = client
            .authorize_url(|| CsrfToken::new(state))
            .add_scopes(SCOPES.map(|scope| Scope::new(scope.into())))
            .set_pkce_challenge(challenge)
            .set_redirect_uri(Cow::Borrowed(&redirect))
            .add_extra_param("nonce", nonce.as_str());
        if let Some(hint) = login_hint {
            request = request.add_extra_param("login_hint", hint);
        }
        let (url, state) = request.url();
        Ok(Started {
            url: url.into(),
            state: state.into_secret(),
            pending: Pending {
                verifier,
                nonce,
                redirect,
            },
        })
    }

    /// Redeems the provider's `code` for tokens, checks the ID token and reads the verified user.
    pub async fn finish(&self, pending: Pending, code: &str) -> Result<User, LoginError> {
        let client = self.client.as_ref().ok_or(LoginError::NotConfigured)?;
        let http = self.http.clone();
        let send = move |request: oauth2::HttpRequest| {
            let http = http.clone();
            async move {
                let request = reqwest::Request::try_from(request)?;
                execute(&http, request).await
            }
        };
        let tokens = client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .set_pkce_verifier(pending.verifier)
            .set_redirect_uri(Cow::Borrowed(&pending.redirect))
            .request_async(&send)
            .await
            .map_err(token_error)?;
        let id_sub = match &tokens.extra_fields().id_token {
            Some(id_token) => Some(id_token_sub(id_token, client.client_id().as_str(), &pending.nonce)?),
            None => None,
        };
        let request = self
            .http
            .get(&self.userinfo_url)
            .bearer_auth(tokens.access_token().secret())
            .header(reqwest::header::ACCEPT, "application/json")
            .build()
            .map_err(HttpError::from)?;
        let response = execute(&self.http, request).await?;
        if response.status() != StatusCode::OK {
            return Err(LoginError::Garbage(format!(
                "userinfo answered HTTP {}",
                response.status()
            )));
        }
        user_from(response.body(), id_sub.as_deref())
    }
}

/// One call with the size cap; 5xx answers are errors (oauth2 only knows OAuth error bodies).
async fn execute(http: &reqwest::Client, request: reqwest::Request) -> Result<oauth2::HttpResponse, HttpError> {
    let mut response = http.execute(request).await?;
    if response.status().is_server_error() {
        return Err(HttpError::Status(response.status().as_u16()));
    }
    if response
        .content_length()
        .is_some_and(|length| length > MAX_PROVIDER_BYTES as u64)
    {
        return Err(HttpError::TooLarge);
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        if body.len() + chunk.len() > MAX_PROVIDER_BYTES {
            return Err(HttpError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    let mut answer = http::Response::new(body);
    *answer.status_mut() = response.status();
    *answer.headers_mut() = std::mem::take(response.headers_mut());
    Ok(answer)
}

fn token_error(error: RequestTokenError<HttpError, BasicErrorResponse>) -> LoginError {
    match error {
        RequestTokenError::ServerResponse(response) => LoginError::Refused(response.error().to_string()),
        RequestTokenError::Request(error) => error.into(),
        RequestTokenError::Parse(error, _) => LoginError::Garbage(format!("token response: {error}")),
        RequestTokenError::Other(text) => LoginError::Garbage(format!("token response: {text}")),
    }
}

/// The provider's `sub` from an ID token whose `nonce` and `aud` match this sign-in.
fn id_token_sub(id_token: &str, client_id: &str, nonce: &str) -> Result<String, LoginError> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Audience {
        One(String),
        Many(Vec<String>),
    }
    #[derive(Deserialize)]
    struct IdClaims {
        sub: String,
        aud: Audience,
        nonce: Option<String>,
    }
    let payload = id_token.split('.').nth(1).ok_or(LoginError::IdToken("not a JWT"))?;
    let bytes = URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .map_err(|_| LoginError::IdToken("not a JWT"))?;
    let claims: IdClaims = serde_json::from_slice(&bytes).map_err(|_| LoginError::IdToken("unreadable claims"))?;
    if claims.nonce.as_deref() != Some(nonce) {
        return Err(LoginError::IdToken("wrong nonce"));
    }
    let ours = match &claims.aud {
        Audience::One(aud) => aud == client_id,
        Audience::Many(auds) => auds.iter().any(|aud| aud == client_id),
    };
    if !ours {
        return Err(LoginError::IdToken("wrong audience"));
    }
    Ok(claims.sub)
}

/// The user in a userinfo answer, refused unless its email is verified and its `sub` matches the ID token's.
fn user_from(body: &[u8], id_sub: Option<&str>) -> Result<User, LoginError> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Flag {
        Bool(bool),
        Text(String),
    }
    #[derive(Deserialize)]
    struct UserInfo {
        sub: String,
        email: Option<String>,
        email_verified: Option<Flag>,
        name: Option<String>,
        picture: Option<String>,
    }
    let info: UserInfo =
        serde_json::from_slice(body).map_err(|error| LoginError::Garbage(format!("userinfo: {error}")))?;
    if info.sub.is_empty() || info.sub.len() > 255 {
        return Err(LoginError::Garbage("userinfo: `sub` is empty or too long".into()));
    }
    if id_sub.is_some_and(|sub| sub != info.sub) {
        return Err(LoginError::IdToken("userinfo names another user"));
    }
    let email = info
        .email
        .filter(|email| !email.is_empty())
        .ok_or(LoginError::NoEmail)?;
    if email.len() > 320 {
        return Err(LoginError::Garbage("userinfo: the email is too long".into()));
    }
    let verified = match info.email_verified {
        Some(Flag::Bool(verified)) => verified,
        Some(Flag::Text(text)) => text.eq_ignore_ascii_case("true"),
        None => false,
    };
    if !verified {
        return Err(LoginError::Unverified(email));
    }
    let short = |text: Option<String>| text.filter(|text| text.len() <= MAX_CLAIM_LEN);
    Ok(User {
        sub: info.sub,
        email,
        email_verified: true,
        name: short(info.name),
        picture: short(info.picture),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn jwt(claims: serde_json::Value) -> String {
        format!("e30.{}.sig", URL_SAFE_NO_PAD.encode(claims.to_string()))
    }

    #[test]
    fn the_id_token_must_carry_our_nonce_and_audience() {
        let good = jwt(serde_json::json!({"sub": "s", "aud": "client", "nonce": "n"}));
        assert_eq!(id_token_sub(&good, "client", "n").unwrap(), "s");
        let many = jwt(serde_json::json!({"sub": "s", "aud": ["x", "client"], "nonce": "n"}));
        assert_eq!(id_token_sub(&many, "client", "n").unwrap(), "s");
        assert!(id_token_sub(&good, "client", "other").is_err());
        assert!(id_token_sub(&good, "other", "n").is_err());
        let no_nonce = jwt(serde_json::json!({"sub": "s", "aud": "client"}));
        assert!(id_token_sub(&no_nonce, "client", "n").is_err());
        for garbage in ["", "a", "a.!!!.c", "a.e30.c", "a.WzFd.c"] {
            assert!(id_token_sub(garbage, "client", "n").is_err(), "{garbage}");
        }
    }

    #[test]
    fn userinfo_is_checked() {
        let user = user_from(
            br#"{"sub":"s","email":"a@b","email_verified":true,"name":"A","picture":null,"extra":[1]}"#,
            Some("s"),
        )
        .unwrap();
        assert_eq!((user.sub.as_str(), user.name.as_deref()), ("s", Some("A")));
        assert!(user_from(br#"{"sub":"s","email":"a@b","email_verified":"true"}"#, None).is_ok());
        let refused = [
            (
                &br#"{"sub":"s","email":"a@b","email_verified":false}"#[..],
                "unverified",
            ),
            (br#"{"sub":"s","email":"a@b"}"#, "no email_verified"),
            (br#"{"sub":"s","email_verified":true}"#, "no email"),
            (br#"{"sub":"other","email":"a@b","email_verified":true}"#, "another sub"),
            (br#"{"sub":5,"email":"a@b","email_verified":true}"#, "ill-typed"),
            (br#"{"sub":"","email":"a@b","email_verified":true}"#, "empty sub"),
            (b"<html>", "garbage"),
            (b"[]", "array"),
        ];
        for (body, what) in refused {
            assert!(user_from(body, Some("s")).is_err(), "{what}");
        }
        assert!(matches!(
            user_from(br#"{"sub":"s","email":"a@b","email_verified":false}"#, None),
            Err(LoginError::Unverified(_))
        ));
    }
}
