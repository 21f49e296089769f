//! ANYON: a native desktop home for Claude Code.
//!
//! `main` parses the command line, builds the tokio runtime and either runs a headless subcommand
//! ([`cli`]) or opens the window ([`app`]). Both front ends drive one [`backend::Backend`]. Each domain
//! declares its requests with their reply types ([`util::request`]); a [`backend::command::Command`] wraps
//! one, and its typed reply comes back (the CLI awaits it with `Backend::call`; the window gets it as an
//! [`backend::event::Event`] with the request's id). The window folds events into the [`state`] stores
//! once per frame and draws the [`ui`] screens from them; screens hold only a [`backend::Requests`] handle.
//!
//! # Layers
//!
//! Each layer uses only those below it; `tests/architecture.rs` reads `src/` and fails when one does not.
//!
//! ```text
//!   app  (the window)            cli  (the command line)     side by side; neither names the other
//!    |                            |
//!   ui   (screens)                |                          draw from stores, send requests; no I/O;
//!    |                            |                          only the Requests handle of the backend
//!    |                            |
//!   state  (stores fed by events; handovers; environment)    no I/O
//!    |
//!   backend  (runs requests on the runtime; routes.rs lists  maps domain reports onto app events
//!             the domains once: Command, Output)
//!    |
//!   domain   claude, transcripts, agents, mcp, checkpoint,   own their requests, replies, errors and
//!            claude_config, db, auth_server, signin,         reports; never name a layer above, nor
//!            settings, secrets, process, instance, dropped,  egui; no cycles between them
//!            project_files
//!    |
//!   util     fs (atomic writes), paths, logging, net, hex,   names nothing else of the crate
//!            fmt, sync, request (the requests! macro)
//! ```
//!
//! - [`app`]: the eframe application: drains events into stores, draws the shell, applies handovers.
//! - [`cli`]: headless subcommands over the same backend, with `--json` output.
//! - [`ui`]: one module per screen, plus the theme, widgets and shortcuts.
//! - [`state`]: the window's stores, folded from events (pure, unit-tested); the screen list; handovers.
//! - [`backend`]: executes commands on the tokio runtime and reports events.
//! - [`domain`]: what ANYON knows and does (see its modules).
//! - [`util`]: the foundation every layer may use.

pub mod app;
pub mod backend;
pub mod cli;
pub mod domain;
pub mod state;
pub mod ui;
pub mod util;
