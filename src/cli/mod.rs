//! The headless command line: `anyon <noun> <verb> [--json]`, over the same [`Backend`] as the window.
//!
//! With `--json`, results go to stdout as JSON and failures to stderr as
//! `{"error":{"kind":...,"message":...}}`, with exit status 1.

use std::io::Write;

use clap::{Parser, Subcommand};

mod agents;
mod auth;
mod chat;
mod checkpoints;
mod claude_auth;
mod config;
mod mcp;
mod serve;
mod storage;
mod transcripts;

pub use agents::AgentsVerb;
pub use auth::AuthVerb;
pub use chat::ChatArgs;
pub use checkpoints::CheckpointsVerb;
pub use claude_auth::ClaudeAuthVerb;
pub use config::ConfigVerb;
pub use mcp::McpVerb;
pub use serve::ServeArgs;
pub use storage::{SqlFormat, StorageVerb};
pub use transcripts::{ProjectsVerb, SessionsVerb, UsageVerb};

use crate::backend::command::Command;
use crate::backend::event::Replies;
use crate::backend::{Backend, BackendError, EventReceiver};
use crate::state::handover::{Handover, HandoverAction};
use crate::state::nav::Screen;
use crate::util::request::Ask;

/// ANYON: a native desktop home for Claude Code.
///
/// Without a subcommand, opens the window (or brings the running one to the front).
#[derive(Debug, Parser)]
#[command(name = "anyon", version, about, long_about = None)]
pub struct Cli {
    /// Open the window on this screen.
    #[arg(long, value_enum, global = false)]
    pub screen: Option<Screen>,

    #[command(subcommand)]
    pub command: Option<Noun>,
}

impl Cli {
    /// What this start asks of a window that already runs (or of the one it opens).
    pub fn handover(&self) -> Handover {
        let mut handover = Handover {
            screen: self.screen,
            action: None,
        };
        match &self.command {
            Some(Noun::OpenUrl { url }) => handover = Handover::sign_in_link(url.clone()),
            Some(Noun::Auth {
                verb: AuthVerb::Login { .. },
            }) => {
                handover.screen = Some(Screen::Account);
                handover.action = Some(HandoverAction::SignIn);
            }
            _ => {}
        }
        handover
    }
}

/// The headless nouns.
#[derive(Debug, Subcommand)]
pub enum Noun {
    /// The app's own SQLite database.
    Storage {
        #[command(subcommand)]
        verb: StorageVerb,
    },
    /// Run one Claude turn in a project and stream its output.
    Chat(ChatArgs),
    /// Snapshots of a project's files: list, create, diff, restore, gc.
    Checkpoints {
        #[command(subcommand)]
        verb: CheckpointsVerb,
    },
    /// Reusable agents: definitions, runs, history, files.
    Agents {
        #[command(subcommand)]
        verb: AgentsVerb,
    },
    /// Claude's projects (from its transcripts) and projects added in ANYON.
    Projects {
        #[command(subcommand)]
        verb: ProjectsVerb,
    },
    /// A project's sessions.
    Sessions {
        #[command(subcommand)]
        verb: SessionsVerb,
    },
    /// Tokens and cost from Claude's transcripts, counted as ccusage counts.
    Usage {
        #[command(subcommand)]
        verb: UsageVerb,
    },
    /// Claude's MCP servers in every scope: list, add, remove, test, import, export.
    Mcp {
        #[command(subcommand)]
        verb: McpVerb,
    },
    /// How Claude is authenticated; the Anthropic API key ANYON gives it.
    ClaudeAuth {
        #[command(subcommand)]
        verb: ClaudeAuthVerb,
    },
    /// Claude Code's own settings (hooks, permissions, env of the user, project and local scopes) and
    /// slash commands.
    Config {
        #[command(subcommand)]
        verb: ConfigVerb,
    },
    /// Run the auth server headless (accounts, tokens, settings), configured by environment.
    Serve(ServeArgs),
    /// Signing in to ANYON: status, login (in the browser), logout.
    Auth {
        #[command(subcommand)]
        verb: AuthVerb,
    },
    /// Hand an `anyon://` link to the running ANYON (starting the window if none runs). The system runs
    /// this when the browser opens a sign-in link.
    OpenUrl {
        /// The link, e.g. `anyon://auth/callback?code=…&state=…`.
        url: String,
    },
    /// Make this executable the handler of `anyon://` links (Linux: a .desktop file and xdg-mime;
    /// Windows: the registry).
    RegisterScheme {
        #[arg(long)]
        json: bool,
    },
}

/// The project a command's project-scoped files belong to, and the output form.
#[derive(Debug, clap::Args)]
pub struct Place {
    /// The project folder (default: the current folder).
    #[arg(long)]
    pub project: Option<std::path::PathBuf>,
    #[arg(long)]
    pub json: bool,
}

impl Place {
    /// The project folder, absolute.
    pub(crate) fn project(&self) -> std::path::PathBuf {
        let project = self
            .project
            .clone()
            .unwrap_or_else(|| std::env::current_dir().unwrap_or_else(|_| ".".into()));
        std::path::absolute(&project).unwrap_or(project)
    }
}

/// Runs a headless subcommand and returns the process exit status.
pub fn run(backend: &Backend, events: EventReceiver, noun: Noun) -> i32 {
    match noun {
        Noun::Storage { verb } => storage::run(backend, verb),
        Noun::Chat(args) => chat::run(backend, events, args),
        Noun::Agents { verb } => agents::run(backend, events, verb),
        Noun::Checkpoints { verb } => checkpoints::run(backend, verb),
        Noun::Projects { verb } => transcripts::projects(backend, verb),
        Noun::Sessions { verb } => transcripts::sessions(backend, verb),
        Noun::Usage { verb } => transcripts::usage(backend, verb),
        Noun::Mcp { verb } => mcp::run(backend, verb),
        Noun::ClaudeAuth { verb } => claude_auth::run(backend, verb),
        Noun::Config { verb } => config::run(backend, verb),
        Noun::Serve(args) => serve::run(backend, args),
        Noun::Auth { verb } => auth::run(backend, events, verb),
        Noun::RegisterScheme { json } => auth::register_scheme(json),
        // main.rs opens the window for this one; reaching here means there is no window to hand it to.
        Noun::OpenUrl { .. } => {
            eprintln!("error: `open-url` hands a link to ANYON's window");
            2
        }
    }
}

/// Runs `request`, then prints its typed reply with `print` or its error (as JSON when `json`).
pub(crate) fn answer<Q>(
    backend: &Backend,
    request: Q,
    json: bool,
    print: impl FnOnce(&mut dyn Write, Q::Reply) -> std::io::Result<()>,
) -> i32
where
    Q: Ask,
    Command: From<Q::Request>,
    Q::Replies: Replies,
{
    match call(backend, request) {
        Ok(reply) => emit(|out| print(out, reply)),
        Err(error) => {
            print_error(&error, json);
            1
        }
    }
}

/// Runs `request` and prints its reply as the domain's tagged JSON (`{"kind": ..., "data": ...}`).
pub(crate) fn answer_json<Q>(backend: &Backend, request: Q, json: bool) -> i32
where
    Q: Ask,
    Command: From<Q::Request>,
    Q::Replies: Replies + serde::Serialize,
{
    answer(backend, request, json, |out, reply| write_json(out, &Q::wrap(reply)))
}

/// Runs `request` on the runtime and waits for its typed reply.
pub(crate) fn call<Q>(backend: &Backend, request: Q) -> Result<Q::Reply, BackendError>
where
    Q: Ask,
    Command: From<Q::Request>,
    Q::Replies: Replies,
{
    backend.runtime().block_on(backend.call(request))
}

/// Writes to a buffered stdout; a closed pipe (`anyon ... | head`) is not an error worth a message.
pub(crate) fn emit(write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>) -> i32 {
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    match write(&mut out).and_then(|()| out.flush()) {
        Ok(()) => 0,
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => 0,
        Err(error) => {
            eprintln!("error: cannot write the output: {error}");
            1
        }
    }
}

pub(crate) fn write_json(out: &mut dyn Write, value: &impl serde::Serialize) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, value)?;
    writeln!(out)
}

pub(crate) fn print_error(error: &BackendError, json: bool) {
    if json {
        let body = serde_json::json!({"error": {"kind": error.kind(), "message": error.to_string()}});
        eprintln!("{body}");
    } else {
        eprintln!("error: {error}");
    }
}

pub(crate) fn write_json_line(out: &mut dyn Write, value: &impl serde::Serialize) -> std::io::Result<()> {
    serde_json::to_writer(&mut *out, value)?;
    writeln!(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn cli_definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
