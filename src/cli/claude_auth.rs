//! `anyon claude-auth check|set-key|remove-key`: how Claude is authenticated, and the API key ANYON keeps for
//! it. `set-key` reads the key from stdin, so it never lands in shell history or a process listing.

use std::io::{BufRead, IsTerminal, Read};

use clap::{Args, Subcommand};

use super::{answer, print_error, write_json};
use crate::backend::command::Secret;
use crate::backend::{Backend, BackendError};
use crate::domain::claude::credentials::KeyError;
use crate::domain::claude::credentials::requests::{
    ClaudeAuthCheck, ClaudeAuthRemoveApiKey, ClaudeAuthSaveApiKey, KeyRemoved, KeySaved,
};

#[derive(Debug, Args)]
pub struct JsonFlag {
    /// Print JSON (errors as {"error":{"kind","message"}} on stderr).
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum ClaudeAuthVerb {
    /// Every source of Claude's credentials and its state (runs `claude auth status`).
    Check {
        #[command(flatten)]
        out: JsonFlag,
    },
    /// Save an Anthropic API key (read from stdin) for every Claude process ANYON starts.
    SetKey {
        /// Read the key from stdin (the default; kept for scripts that say so).
        #[arg(long, conflicts_with = "key")]
        key_stdin: bool,
        /// The key itself. Avoid: it lands in shell history and the process list; pipe it to stdin instead.
        #[arg(long, hide_short_help = true)]
        key: Option<String>,
        /// Ask the API (GET /v1/models) whether it accepts the key before saving it.
        #[arg(long)]
        verify: bool,
        /// The API to ask with --verify (default: ANTHROPIC_BASE_URL, else Anthropic's).
        #[arg(long, requires = "verify")]
        base_url: Option<String>,
        #[command(flatten)]
        out: JsonFlag,
    },
    /// Forget the saved API key.
    RemoveKey {
        #[command(flatten)]
        out: JsonFlag,
    },
}

pub fn run(backend: &Backend, verb: ClaudeAuthVerb) -> i32 {
    match verb {
        ClaudeAuthVerb::Check { out } => answer(backend, ClaudeAuthCheck, out.json, |w, report| {
            if out.json {
                return write_json(w, &report);
            }
            report.lines().iter().try_for_each(|line| writeln!(w, "{line}"))
        }),
        ClaudeAuthVerb::SetKey {
            key_stdin: _,
            key,
            verify,
            base_url,
            out,
        } => {
            let api_key = match key {
                Some(key) => {
                    eprintln!("warning: --key leaves the key in shell history; pipe it to stdin instead");
                    Secret::new(key)
                }
                None => match read_key_from_stdin() {
                    Ok(key) => key,
                    Err(error) => {
                        // The CLI's own words, shown as the key error `--json` callers know.
                        print_error(&BackendError::ApiKey(KeyError::Missing(error.to_string())), out.json);
                        return 1;
                    }
                },
            };
            let command = ClaudeAuthSaveApiKey {
                api_key,
                verify,
                base_url,
            };
            answer(backend, command, out.json, |w, KeySaved { key, verified }| {
                if out.json {
                    return write_json(w, &serde_json::json!({"saved": key, "verified": verified}));
                }
                let checked = if verified { ", accepted by the API" } else { "" };
                writeln!(w, "saved {} in the {}{checked}", key.masked, key.stored_in)
            })
        }
        ClaudeAuthVerb::RemoveKey { out } => answer(
            backend,
            ClaudeAuthRemoveApiKey,
            out.json,
            |w, KeyRemoved { removed }| {
                if out.json {
                    return write_json(w, &serde_json::json!({"removed": removed}));
                }
                writeln!(
                    w,
                    "{}",
                    if removed {
                        "removed the saved API key"
                    } else {
                        "no API key was saved"
                    }
                )
            },
        ),
    }
}

/// Why no key came from stdin.
#[derive(Debug, thiserror::Error)]
enum StdinKeyError {
    #[error("cannot read the key from stdin: {0}")]
    Read(#[source] std::io::Error),
    #[error("stdin was empty; pipe it in, e.g. `printf %s \"$KEY\" | anyon claude-auth set-key`")]
    Empty,
}

/// The first non-empty line of stdin. On a terminal the key is typed (or pasted) without echo.
fn read_key_from_stdin() -> Result<Secret, StdinKeyError> {
    let stdin = std::io::stdin();
    let mut text = String::new();
    let read = if stdin.is_terminal() {
        eprint!("API key (not shown): ");
        let _echo_off = EchoOff::new();
        let read = stdin.lock().read_line(&mut text);
        eprintln!();
        read
    } else {
        // A key is short; a bounded read keeps a mistaken `< big-file` from filling memory.
        stdin.lock().take(4096).read_to_string(&mut text)
    };
    read.map_err(StdinKeyError::Read)?;
    let line = text.lines().map(str::trim).find(|line| !line.is_empty()).unwrap_or("");
    if line.is_empty() {
        return Err(StdinKeyError::Empty);
    }
    Ok(Secret::new(line))
}

/// Turns the terminal's echo off until dropped (Unix; elsewhere the key shows as typed).
struct EchoOff {
    #[cfg(unix)]
    saved: Option<libc::termios>,
}

impl EchoOff {
    fn new() -> Self {
        #[cfg(unix)]
        #[allow(unsafe_code)]
        {
            // SAFETY: `termios` is plain C data, so all zeroes is a valid value; tcgetattr and tcsetattr
            // only read and write the local `attrs` through a pointer valid for the call, on stdin, which
            // the process owns for its whole life. A failure returns early and leaves echo on.
            unsafe {
                let mut attrs: libc::termios = std::mem::zeroed();
                if libc::tcgetattr(libc::STDIN_FILENO, &mut attrs) != 0 {
                    return Self { saved: None };
                }
                let saved = attrs;
                attrs.c_lflag &= !libc::ECHO;
                if libc::tcsetattr(libc::STDIN_FILENO, libc::TCSANOW, &attrs) != 0 {
                    return Self { saved: None };
                }
                Self { saved: Some(saved) }
            }
        }
        #[cfg(not(unix))]
        Self {}
    }
}

impl Drop for EchoOff {
    fn drop(&mut self) {
        #[cfg(unix)]
        #[allow(unsafe_code)]
        if let Some(saved) = &self.saved {
            // SAFETY: restores the attributes read in `new`: `saved` is a valid termios that tcsetattr only
            // reads, through a reference that outlives the call.
            unsafe {
                libc::tcsetattr(libc::STDIN_FILENO, libc::TCSANOW, saved);
            }
        }
    }
}
