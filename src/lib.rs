//! ANYON: a native desktop home for Claude Code.
//!
//! The shape: `main` parses the command line, builds the tokio runtime and either runs a headless
//! subcommand ([`cli`]) or opens the window ([`app`]). Both front ends drive one [`backend::Backend`]:
//! every action is a [`command::Command`], every result or stream line an [`event::Event`]. The window
//! folds events into [`store`]s once per frame and draws [`ui`] screens from them; screens never touch
//! the database, a process or a socket.
//!
//! - [`claude`]: finding the Claude Code CLI and reading its stream-json.
//! - [`db`]: SQLite (WAL, foreign keys), migrations from `migrations/`, storage queries.
//! - [`instance`]: one running window; later starts hand their arguments to it.
//! - [`paths`]: where data lives (`ANYON_HOME`).
//! - [`mcp`]: Claude's MCP servers in its own files, and a real connection test.
//! - [`logging`]: `tracing` to stderr and a rotating file.
//! - [`auth`]: the auth server (accounts, tokens, per-user settings), embedded or `anyon serve`.
//! - [`secrets`]: named secrets in the OS keychain, or an owner-only file without one.

pub mod app;
pub mod backend;
pub mod cli;
pub mod domain;
pub mod state;
pub mod ui;
pub mod util;
