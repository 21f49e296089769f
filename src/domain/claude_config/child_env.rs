//! The proxy and extra variables ANYON's settings add to every Claude process it starts.

use std::collections::BTreeMap;

/// `app_settings` key of the proxy for http URLs (`HTTP_PROXY`).
pub const HTTP_PROXY_KEY: &str = "claude.env.http_proxy";
/// `app_settings` key of the proxy for https URLs (`HTTPS_PROXY`).
pub const HTTPS_PROXY_KEY: &str = "claude.env.https_proxy";
/// `app_settings` key of the hosts reached without a proxy (`NO_PROXY`).
pub const NO_PROXY_KEY: &str = "claude.env.no_proxy";
/// `app_settings` key of extra variables, one `NAME=value` a line (`#` starts a comment).
pub const EXTRA_ENV_KEY: &str = "claude.env.extra";

/// Whether `key` is one of the settings above.
pub fn is_env_key(key: &str) -> bool {
    [HTTP_PROXY_KEY, HTTPS_PROXY_KEY, NO_PROXY_KEY, EXTRA_ENV_KEY].contains(&key)
}

/// A line of the extra variables that is not `NAME=value`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {number}: expected NAME=value, got {line:?}")]
pub struct BadEnvLine {
    /// Counted from 1.
    pub number: usize,
    pub line: String,
}

/// Parses the extra variables; the error names the first bad line.
pub fn parse_extra(text: &str) -> Result<Vec<(String, String)>, BadEnvLine> {
    let mut vars = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line);
        let valid = |name: &str| {
            !name.is_empty()
                && !name.starts_with(|c: char| c.is_ascii_digit())
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        };
        match line.split_once('=') {
            Some((name, value)) if valid(name.trim()) => vars.push((name.trim().to_owned(), value.to_owned())),
            _ => {
                return Err(BadEnvLine {
                    number: number + 1,
                    line: line.to_owned(),
                });
            }
        }
    }
    Ok(vars)
}

/// The variables `settings` add: each proxy in upper and lower case (tools read either), then the extras.
/// Bad extra lines are skipped with a warning (saving refuses them; this reads what is stored).
pub fn from_settings(settings: &BTreeMap<String, String>) -> Vec<(String, String)> {
    let mut vars = Vec::new();
    for (key, name) in [
        (HTTP_PROXY_KEY, "HTTP_PROXY"),
        (HTTPS_PROXY_KEY, "HTTPS_PROXY"),
        (NO_PROXY_KEY, "NO_PROXY"),
    ] {
        if let Some(value) = settings.get(key).map(|v| v.trim()).filter(|v| !v.is_empty()) {
            vars.push((name.to_owned(), value.to_owned()));
            vars.push((name.to_ascii_lowercase(), value.to_owned()));
        }
    }
    if let Some(extra) = settings.get(EXTRA_ENV_KEY) {
        for line in extra.lines() {
            match parse_extra(line) {
                Ok(found) => vars.extend(found),
                Err(error) => tracing::warn!(%error, "ignoring a stored environment line"),
            }
        }
    }
    vars
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn proxies_in_both_cases_then_extras() {
        let settings: BTreeMap<String, String> = [
            (HTTPS_PROXY_KEY, "http://proxy:3128"),
            (NO_PROXY_KEY, " localhost "),
            (HTTP_PROXY_KEY, ""),
            (EXTRA_ENV_KEY, "# comment\nA=1\n\nexport B = x\nbad line\nC=a=b"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        let vars = from_settings(&settings);
        let pairs: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        assert_eq!(
            pairs,
            [
                ("HTTPS_PROXY", "http://proxy:3128"),
                ("https_proxy", "http://proxy:3128"),
                ("NO_PROXY", "localhost"),
                ("no_proxy", "localhost"),
                ("A", "1"),
                ("B", " x"),
                ("C", "a=b"),
            ]
        );
    }

    #[test]
    fn bad_extra_lines_are_refused_with_their_number() {
        assert_eq!(
            parse_extra("A=1\n1X=2").unwrap_err().to_string(),
            "line 2: expected NAME=value, got \"1X=2\""
        );
        assert!(parse_extra("NOEQUALS").is_err());
        assert!(parse_extra("A B=1").is_err());
        assert_eq!(parse_extra("").unwrap(), []);
        assert!(!is_env_key("theme") && is_env_key(EXTRA_ENV_KEY));
    }
}
