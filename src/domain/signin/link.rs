//! The `anyon://auth/callback?code=…&state=…` deep link the auth server's callback page opens.

use url::Url;

/// The scheme ANYON registers with the operating system.
pub const SCHEME: &str = "anyon";
/// The longest link accepted: a real one is well under 300 bytes.
const MAX_LINK: usize = 2048;
/// The longest `code` or `state` value accepted.
const MAX_VALUE: usize = 256;

/// What a callback link carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallbackLink {
    /// A one-time code to redeem for a token, bound to the login attempt's `state`.
    Code { code: String, state: String },
    /// The server reported a failure (`error=…`), for the login attempt `state` when known.
    Error {
        error: String,
        message: Option<String>,
        state: Option<String>,
    },
}

/// Why a link is not a sign-in callback.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    #[error("this is not an ANYON link ({0})")]
    NotAnyon(String),
    #[error("this ANYON link is not a sign-in callback")]
    NotCallback,
    #[error("the sign-in link is malformed: {0}")]
    Malformed(String),
}

/// Parses a deep link, refusing anything but a well-formed sign-in callback.
pub fn parse(link: &str) -> Result<CallbackLink, LinkError> {
    let link = link.trim();
    if link.len() > MAX_LINK {
        return Err(LinkError::Malformed(format!("longer than {MAX_LINK} bytes")));
    }
    let url = Url::parse(link).map_err(|error| LinkError::NotAnyon(error.to_string()))?;
    if url.scheme() != SCHEME {
        return Err(LinkError::NotAnyon(format!("scheme {:?}", url.scheme())));
    }
    // `anyon://auth/callback` puts `auth` in the host; `anyon:auth/callback` in the path.
    let route = format!("{}{}", url.host_str().unwrap_or_default(), url.path());
    if route.trim_matches('/') != "auth/callback" {
        return Err(LinkError::NotCallback);
    }
    let mut code = None;
    let mut state = None;
    let mut error = None;
    let mut message = None;
    for (key, value) in url.query_pairs() {
        let slot = match key.as_ref() {
            "code" => &mut code,
            "state" => &mut state,
            "error" => &mut error,
            "message" | "error_description" => &mut message,
            _ => continue,
        };
        if slot.is_some() {
            return Err(LinkError::Malformed(format!("`{key}` appears twice")));
        }
        if value.len() > MAX_VALUE || value.chars().any(char::is_control) {
            return Err(LinkError::Malformed(format!("`{key}` is not a valid value")));
        }
        *slot = Some(value.into_owned());
    }
    if let Some(error) = error {
        return Ok(CallbackLink::Error { error, message, state });
    }
    match (code, state) {
        (Some(code), Some(state)) if !code.is_empty() && !state.is_empty() => Ok(CallbackLink::Code { code, state }),
        (None, _) | (Some(_), _) => Err(LinkError::Malformed("it needs both `code` and `state`".into())),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn a_callback_link_gives_code_and_state() {
        assert_eq!(
            parse("anyon://auth/callback?code=abc123&state=s%20t").unwrap(),
            CallbackLink::Code {
                code: "abc123".into(),
                state: "s t".into()
            }
        );
        assert_eq!(
            parse("  anyon://auth/callback/?state=x&code=y&extra=1 ").unwrap(),
            CallbackLink::Code {
                code: "y".into(),
                state: "x".into()
            }
        );
    }

    #[test]
    fn an_error_link_carries_the_error() {
        assert_eq!(
            parse("anyon://auth/callback?error=access_denied&state=x").unwrap(),
            CallbackLink::Error {
                error: "access_denied".into(),
                message: None,
                state: Some("x".into())
            }
        );
    }

    #[test]
    fn other_links_are_refused() {
        assert!(matches!(
            parse("https://auth/callback?code=a&state=b"),
            Err(LinkError::NotAnyon(_))
        ));
        assert!(matches!(parse("not a url"), Err(LinkError::NotAnyon(_))));
        assert_eq!(parse("anyon://settings?code=a&state=b"), Err(LinkError::NotCallback));
        assert!(matches!(
            parse("anyon://auth/callback?code=a"),
            Err(LinkError::Malformed(_))
        ));
        assert!(matches!(
            parse("anyon://auth/callback?code=&state=b"),
            Err(LinkError::Malformed(_))
        ));
        assert!(matches!(
            parse("anyon://auth/callback?code=a&code=b&state=c"),
            Err(LinkError::Malformed(_))
        ));
        assert!(matches!(
            parse("anyon://auth/callback?code=a%0Ab&state=c"),
            Err(LinkError::Malformed(_))
        ));
        let long = format!("anyon://auth/callback?code={}&state=c", "a".repeat(3000));
        assert!(matches!(parse(&long), Err(LinkError::Malformed(_))));
    }
}
