//! Signing in to ANYON from the desktop: the login attempt the app started, the deep link that
//! completes it, and the client of the auth server's API.
//!
//! The flow: [`AuthClient::login_url`] makes a PKCE verifier, sends its challenge, and gets the provider
//! page and its `state`; the app remembers the attempt with its verifier ([`SignIn::begin`]) and opens the
//! page in the browser. The auth server's callback page opens
//! `anyon://auth/callback?code=…&state=…`; the operating system starts `anyon open-url`, which hands the
//! link to the running app (or the embedded server tells the app directly). [`SignIn::accept`] checks
//! the link against the attempt — once — and the app redeems the one-time code for the token with the
//! attempt's state and verifier. The link travels on a command line other local users can read; the
//! verifier never leaves this process except to the auth server, so a copied link is worth nothing.

pub mod client;
pub mod link;
pub mod requests;
pub mod scheme;

use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::domain::secrets::Secret;
use crate::util::sync::LockExt;

pub use client::{AuthClient, ClientError, LoginStart, Plan, Profile};
pub use link::{CallbackLink, LinkError};

/// The account as the Account screen and `anyon auth status` show it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum AccountView {
    SignedOut {
        /// Why the person is signed out, when it was not their choice.
        #[serde(skip_serializing_if = "Option::is_none")]
        notice: Option<String>,
    },
    /// A sign-in waits for the browser: the page it opened.
    Waiting { url: String },
    SignedIn {
        user: Profile,
        /// The auth server that issued the token.
        server: String,
        /// Where the token is kept ("OS keychain" or the fallback file).
        token_storage: String,
    },
}

impl Default for AccountView {
    fn default() -> Self {
        AccountView::SignedOut { notice: None }
    }
}

/// How long a sign-in attempt waits for its link (the server's `state` lives as long).
pub const ATTEMPT_LIFETIME: Duration = Duration::from_secs(15 * 60);

/// Why a link did not complete a sign-in. Nothing changes when one is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignInError {
    #[error(transparent)]
    Link(#[from] LinkError),
    #[error("no sign-in is in progress, so this sign-in link was ignored; start again from the Account screen")]
    NotStarted,
    #[error("this sign-in link belongs to a different sign-in than the one ANYON started; it was ignored")]
    WrongState,
    #[error("the sign-in took longer than {} minutes; start again", ATTEMPT_LIFETIME.as_secs() / 60)]
    Expired,
    #[error("the sign-in did not complete: {0}")]
    Provider(String),
    /// The link of the sign-in that just completed, delivered a second time (the embedded server and
    /// the operating system both hand it over): nothing to do.
    #[error("this sign-in link was already used")]
    Duplicate,
}

/// One login attempt: where it was started and the `state` its link must carry.
#[derive(Debug, Clone)]
struct Attempt {
    server: String,
    state: String,
    verifier: Secret,
    url: String,
    started: Instant,
}

/// A link that matched the attempt: the code to redeem at `server` with the attempt's state and verifier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    pub server: String,
    pub code: String,
    pub state: String,
    pub verifier: Secret,
}

/// The login attempt in progress, if any. At most one at a time: a new one replaces the last.
#[derive(Debug, Default)]
pub struct SignIn {
    attempt: Mutex<Slot>,
}

#[derive(Debug, Default)]
struct Slot {
    attempt: Option<Attempt>,
    /// The `state` of the last attempt a link completed.
    completed: Option<String>,
}

impl SignIn {
    pub fn new() -> Self {
        Self::default()
    }

    /// Remembers a started attempt (replacing any other).
    pub fn begin(&self, server: &str, start: &LoginStart) {
        self.lock().attempt = Some(Attempt {
            server: server.to_owned(),
            state: start.state.clone(),
            verifier: start.verifier.clone(),
            url: start.url.clone(),
            started: Instant::now(),
        });
    }

    /// The provider page of the attempt in progress, if one is.
    pub fn waiting(&self) -> Option<String> {
        let mut slot = self.lock();
        if slot
            .attempt
            .as_ref()
            .is_some_and(|a| a.started.elapsed() > ATTEMPT_LIFETIME)
        {
            slot.attempt = None;
        }
        slot.attempt.as_ref().map(|a| a.url.clone())
    }

    /// Forgets the attempt; true when there was one.
    pub fn cancel(&self) -> bool {
        self.lock().attempt.take().is_some()
    }

    /// Checks `link` against the attempt. A match ends the attempt (a link works once); a link for
    /// another `state` leaves it waiting, so a forged link cannot cancel a real sign-in.
    pub fn accept(&self, link: &str) -> Result<Accepted, SignInError> {
        let link = link::parse(link)?;
        let mut slot = self.lock();
        let (state, outcome) = match link {
            CallbackLink::Code { code, state } => (Some(state), Ok(code)),
            CallbackLink::Error { error, message, state } => {
                (state, Err(SignInError::Provider(message.unwrap_or(error))))
            }
        };
        let matches = |expected: &str| {
            state
                .as_deref()
                .is_some_and(|state| constant_time_eq(state.as_bytes(), expected.as_bytes()))
        };
        if slot.completed.as_deref().is_some_and(matches) {
            return Err(SignInError::Duplicate);
        }
        let attempt = slot.attempt.as_ref().ok_or(SignInError::NotStarted)?;
        if !matches(&attempt.state) {
            return Err(SignInError::WrongState);
        }
        let attempt = slot.attempt.take().ok_or(SignInError::NotStarted)?;
        slot.completed = Some(attempt.state.clone());
        if attempt.started.elapsed() > ATTEMPT_LIFETIME {
            return Err(SignInError::Expired);
        }
        outcome.map(|code| Accepted {
            server: attempt.server,
            code,
            state: attempt.state,
            verifier: attempt.verifier,
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Slot> {
        self.attempt.lock_or_recover()
    }
}

/// Compares without stopping at the first difference.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn started(sign_in: &SignIn, state: &str) {
        sign_in.begin(
            "http://127.0.0.1:4000",
            &LoginStart {
                url: format!("https://accounts.example.test/auth?state={state}"),
                state: state.into(),
                verifier: Secret::new(format!("verifier-of-{state}")),
            },
        );
    }

    #[test]
    fn the_matching_link_is_accepted_once() {
        let sign_in = SignIn::new();
        started(&sign_in, "s1");
        assert!(sign_in.waiting().is_some());
        let link = "anyon://auth/callback?code=c1&state=s1";
        assert_eq!(
            sign_in.accept(link).unwrap(),
            Accepted {
                server: "http://127.0.0.1:4000".into(),
                code: "c1".into(),
                state: "s1".into(),
                verifier: Secret::new("verifier-of-s1"),
            }
        );
        assert_eq!(sign_in.accept(link), Err(SignInError::Duplicate));
        assert_eq!(sign_in.waiting(), None);
        // A new attempt does not make the old link good again.
        started(&sign_in, "s2");
        assert_eq!(sign_in.accept(link), Err(SignInError::Duplicate));
        assert_eq!(
            sign_in.accept("anyon://auth/callback?code=c1&state=other"),
            Err(SignInError::WrongState)
        );
    }

    #[test]
    fn a_forged_link_leaves_the_attempt_waiting() {
        let sign_in = SignIn::new();
        assert_eq!(
            sign_in.accept("anyon://auth/callback?code=c&state=s"),
            Err(SignInError::NotStarted)
        );
        started(&sign_in, "right");
        assert_eq!(
            sign_in.accept("anyon://auth/callback?code=c&state=wrong"),
            Err(SignInError::WrongState)
        );
        assert_eq!(
            sign_in.accept("anyon://auth/callback?error=access_denied"),
            Err(SignInError::WrongState)
        );
        assert!(matches!(
            sign_in.accept("anyon://elsewhere?code=c&state=right"),
            Err(SignInError::Link(_))
        ));
        assert!(sign_in.waiting().is_some());
        assert!(sign_in.accept("anyon://auth/callback?code=c&state=right").is_ok());
    }

    #[test]
    fn a_provider_error_for_the_attempt_ends_it() {
        let sign_in = SignIn::new();
        started(&sign_in, "s");
        assert_eq!(
            sign_in.accept("anyon://auth/callback?error=access_denied&message=You%20said%20no&state=s"),
            Err(SignInError::Provider("You said no".into()))
        );
        assert_eq!(sign_in.waiting(), None);
    }

    #[test]
    fn cancel_forgets_the_attempt() {
        let sign_in = SignIn::new();
        assert!(!sign_in.cancel());
        started(&sign_in, "s");
        assert!(sign_in.cancel());
        assert_eq!(
            sign_in.accept("anyon://auth/callback?code=c&state=s"),
            Err(SignInError::NotStarted)
        );
    }
}
