//! The HTML pages the browser sees at the end of a Google sign-in (templates in `assets/`). Every
//! interpolated value is HTML-escaped; the pages load nothing and run no script.

use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{self, HeaderValue};
use hyper::{Response, StatusCode};

const SIGNED_IN: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/assets/auth-signed-in.html"));
const ERROR: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/assets/auth-error.html"));

/// The Content-Security-Policy of every page: inline styles only.
const CSP: &str =
    "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// `text` with `& < > " '` escaped, safe in element content and quoted attributes.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Fills `{{name}}` placeholders with escaped values in one pass (values are never scanned again).
fn render(template: &str, values: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len() + 256);
    let mut rest = template;
    while let Some((before, after)) = rest.split_once("{{") {
        out.push_str(before);
        let Some((name, tail)) = after.split_once("}}") else {
            out.push_str("{{");
            rest = after;
            break;
        };
        match values.iter().find(|(key, _)| *key == name) {
            Some((_, value)) => out.push_str(&escape(value)),
            None => out.push_str(&rest[..name.len() + 4]),
        }
        rest = tail;
    }
    out.push_str(rest);
    out
}

/// The page that opens `link` (the `anyon://` deep link) and says what to do when nothing happens.
pub fn signed_in(link: &str, email: &str) -> Response<Full<Bytes>> {
    page(StatusCode::OK, render(SIGNED_IN, &[("link", link), ("email", email)]))
}

/// A page explaining why sign-in failed; `code` is a short machine-readable reason.
pub fn error(status: StatusCode, code: &str, title: &str, message: &str) -> Response<Full<Bytes>> {
    page(
        status,
        render(ERROR, &[("title", title), ("message", message), ("code", code)]),
    )
}

fn page(status: StatusCode, html: String) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(html)));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    response
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn values_are_escaped_and_placeholders_filled() {
        assert_eq!(
            escape(r#"<a href="x">'&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
        let html = render(ERROR, &[("title", "<b>"), ("message", "\"m\""), ("code", "c&d")]);
        assert!(html.contains("&lt;b&gt;") && html.contains("&quot;m&quot;") && html.contains("c&amp;d"));
        assert!(!html.contains("{{") && !html.contains("<b>"));
        let html = render(
            SIGNED_IN,
            &[("link", "anyon://auth/callback?code=a&state=b"), ("email", "x")],
        );
        assert!(html.contains(r#"href="anyon://auth/callback?code=a&amp;state=b""#));
        assert!(!html.contains("{{"));
        let html = render("{{a}} {{b}} {{c", &[("a", "{{b}}"), ("b", "2")]);
        assert_eq!(html, "{{b}} 2 {{c");
    }
}
