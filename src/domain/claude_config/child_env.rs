//! The proxy and extra variables ANYON's settings add to every Claude process it starts.

use serde::{Deserialize, Serialize};

/// The proxies and extra variables as the settings hold them (empty: not set).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ProxyEnv {
    /// The proxy for http URLs (`HTTP_PROXY`).
    pub http_proxy: String,
    /// The proxy for https URLs (`HTTPS_PROXY`).
    pub https_proxy: String,
    /// The hosts reached without a proxy (`NO_PROXY`).
    pub no_proxy: String,
    /// Extra variables, one `NAME=value` a line (`#` starts a comment).
    pub extra: String,
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

impl ProxyEnv {
    /// The variables to add: each proxy in upper and lower case (tools read either), then the extras.
    /// Bad extra lines are skipped with a warning (saving refuses them; this reads what is stored).
    pub fn vars(&self) -> Vec<(String, String)> {
        let mut vars = Vec::new();
        for (value, name) in [
            (&self.http_proxy, "HTTP_PROXY"),
            (&self.https_proxy, "HTTPS_PROXY"),
            (&self.no_proxy, "NO_PROXY"),
        ] {
            let value = value.trim();
            if !value.is_empty() {
                vars.push((name.to_owned(), value.to_owned()));
                vars.push((name.to_ascii_lowercase(), value.to_owned()));
            }
        }
        for line in self.extra.lines() {
            match parse_extra(line) {
                Ok(found) => vars.extend(found),
                Err(error) => tracing::warn!(%error, "ignoring a stored environment line"),
            }
        }
        vars
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn proxies_in_both_cases_then_extras() {
        let settings = ProxyEnv {
            https_proxy: "http://proxy:3128".into(),
            no_proxy: " localhost ".into(),
            http_proxy: "".into(),
            extra: "# comment\nA=1\n\nexport B = x\nbad line\nC=a=b".into(),
        };
        let vars = settings.vars();
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
    }
}
