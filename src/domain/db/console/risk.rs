//! How dangerous a writing statement is, so the confirmation can warn in proportion.
//!
//! This is a small tokenizer, not a parser: it only needs to find the statement's verb, its target
//! and whether a top-level WHERE exists, skipping strings, quoted names and comments.

use serde::Serialize;

/// The tables ANYON's migrations create; damage to these breaks the app itself.
pub const APP_TABLES: [&str; 7] = [
    "agent_runs",
    "agents",
    "app_settings",
    "checkpoint_files",
    "checkpoint_stat_cache",
    "checkpoint_trees",
    "checkpoints",
];

/// The danger of a writing statement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "level", rename_all = "snake_case")]
pub enum WriteRisk {
    /// An ordinary write (INSERT, UPDATE ... WHERE, ...).
    Normal,
    /// Drops an object or changes every row.
    Destructive {
        /// What will happen, for the warning.
        reason: String,
        /// The statement touches one of ANYON's own tables.
        app_table: bool,
    },
}

/// Classifies `sql` (one statement).
pub fn assess_write(sql: &str) -> WriteRisk {
    let tokens = tokens(sql);
    let top: Vec<&Token> = tokens.iter().filter(|t| t.depth == 0).collect();
    let verb_at = top.iter().position(|t| {
        matches!(
            t.upper.as_str(),
            "DELETE" | "UPDATE" | "DROP" | "ALTER" | "INSERT" | "REPLACE" | "CREATE"
        )
    });
    let Some(verb_at) = verb_at else {
        return WriteRisk::Normal;
    };
    let rest = &top[verb_at + 1..];
    let has_where = rest.iter().any(|t| t.upper == "WHERE");
    let destructive = |reason: String, target: Option<&str>| WriteRisk::Destructive {
        app_table: target.is_some_and(|name| APP_TABLES.contains(&name.to_ascii_lowercase().as_str())),
        reason,
    };
    match top[verb_at].upper.as_str() {
        "DROP" => {
            let kind = rest.first().map(|t| t.text.to_ascii_lowercase()).unwrap_or_default();
            let target = name_after(rest, 1);
            destructive(format!("drops the {kind} {}", target.unwrap_or("?")), target)
        }
        "DELETE" if !has_where => {
            let target = name_after(rest, usize::from(rest.first().is_some_and(|t| t.upper == "FROM")));
            destructive(format!("deletes every row of {}", target.unwrap_or("?")), target)
        }
        "UPDATE" if !has_where => {
            let skip = if rest.first().is_some_and(|t| t.upper == "OR") {
                2
            } else {
                0
            };
            let target = name_after(rest, skip);
            destructive(format!("changes every row of {}", target.unwrap_or("?")), target)
        }
        "ALTER" if rest.iter().any(|t| t.upper == "DROP") => {
            let target = name_after(rest, 1);
            destructive(format!("drops a column of {}", target.unwrap_or("?")), target)
        }
        _ => WriteRisk::Normal,
    }
}

/// The object name at `index`, skipping `IF EXISTS` and a `main.` schema prefix.
fn name_after<'a>(tokens: &[&'a Token], index: usize) -> Option<&'a str> {
    let mut rest = tokens
        .get(index..)?
        .iter()
        .copied()
        .skip_while(|t| t.upper == "IF" || t.upper == "EXISTS");
    let first = rest.next()?;
    let mut rest = rest.peekable();
    if rest.peek().is_some_and(|t| t.text == ".") {
        rest.next();
        return rest.next().map(|t| t.text.as_str());
    }
    Some(first.text.as_str())
}

#[derive(Debug)]
struct Token {
    /// The text, unquoted for quoted names.
    text: String,
    upper: String,
    /// Parenthesis depth (sub-selects are not the statement's own clauses).
    depth: u32,
}

fn tokens(sql: &str) -> Vec<Token> {
    let chars: Vec<char> = sql.chars().collect();
    let mut out = Vec::new();
    let mut depth = 0u32;
    let mut i = 0;
    let push = |out: &mut Vec<Token>, text: String, depth: u32| {
        out.push(Token {
            upper: text.to_ascii_uppercase(),
            text,
            depth,
        })
    };
    while i < chars.len() {
        let c = chars[i];
        match c {
            '-' if chars.get(i + 1) == Some(&'-') => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
            }
            '/' if chars.get(i + 1) == Some(&'*') => {
                i += 2;
                while i < chars.len() && !(chars[i] == '*' && chars.get(i + 1) == Some(&'/')) {
                    i += 1;
                }
                i += 2;
            }
            '\'' | '"' | '`' | '[' => {
                let close = if c == '[' { ']' } else { c };
                let mut text = String::new();
                i += 1;
                while i < chars.len() {
                    if chars[i] == close {
                        if close != ']' && chars.get(i + 1) == Some(&close) {
                            text.push(close);
                            i += 2;
                            continue;
                        }
                        break;
                    }
                    text.push(chars[i]);
                    i += 1;
                }
                i += 1;
                // A string literal is never a keyword: mark it so it cannot match one.
                let text = if c == '\'' { format!("'{text}'") } else { text };
                push(&mut out, text, depth);
            }
            '(' => {
                depth += 1;
                i += 1;
            }
            ')' => {
                depth = depth.saturating_sub(1);
                i += 1;
            }
            c if c.is_alphanumeric() || c == '_' => {
                let start = i;
                while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_' || chars[i] == '$') {
                    i += 1;
                }
                push(&mut out, chars[start..i].iter().collect(), depth);
            }
            '.' => {
                push(&mut out, ".".into(), depth);
                i += 1;
            }
            _ => i += 1,
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn reason(sql: &str) -> Option<(String, bool)> {
        match assess_write(sql) {
            WriteRisk::Normal => None,
            WriteRisk::Destructive { reason, app_table } => Some((reason, app_table)),
        }
    }

    #[test]
    fn destructive_statements_are_named() {
        assert_eq!(
            reason("DROP TABLE agents"),
            Some(("drops the table agents".into(), true))
        );
        assert_eq!(
            reason("drop table if exists main.\"my t\""),
            Some(("drops the table my t".into(), false))
        );
        assert_eq!(
            reason("DELETE FROM agent_runs"),
            Some(("deletes every row of agent_runs".into(), true))
        );
        assert_eq!(
            reason("UPDATE agents SET model = 'x'"),
            Some(("changes every row of agents".into(), true))
        );
        assert_eq!(
            reason("UPDATE OR REPLACE t SET a = 1"),
            Some(("changes every row of t".into(), false))
        );
        assert_eq!(
            reason("ALTER TABLE agents DROP COLUMN icon"),
            Some(("drops a column of agents".into(), true))
        );
    }

    #[test]
    fn ordinary_writes_are_normal() {
        assert_eq!(reason("DELETE FROM agents WHERE id = 3"), None);
        assert_eq!(reason("UPDATE agents SET name = 'where' WHERE id = 1"), None);
        assert_eq!(reason("INSERT INTO agents (name) VALUES ('drop table agents')"), None);
        assert_eq!(reason("-- DROP TABLE agents\nINSERT INTO t VALUES (1)"), None);
    }

    #[test]
    fn a_where_only_inside_a_subquery_does_not_count() {
        let sql = "DELETE FROM agents -- where\n /* WHERE */";
        assert!(reason(sql).is_some());
        let sql = "UPDATE t SET a = (SELECT b FROM u WHERE u.id = 1)";
        assert_eq!(reason(sql), Some(("changes every row of t".into(), false)));
        assert_eq!(
            reason("UPDATE t SET a = 'x WHERE y'"),
            Some(("changes every row of t".into(), false))
        );
    }
}
