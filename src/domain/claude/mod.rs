//! Everything ANYON knows about the Claude Code CLI it drives.
//!
//! - [`discovery`]: finds the `claude` binary (saved setting, `ANYON_CLAUDE_BIN`, `PATH`, the usual
//!   install places) and reads each candidate's version, so the UI can say what it found or where it looked.
//! - [`stream`]: typed parsing of the CLI's `--output-format stream-json` lines and the messages ANYON
//!   writes to its stdin with `--input-format stream-json` (prompts, control requests, permission answers).
//! - [`credentials`]: how Claude is authenticated, and the API key ANYON keeps for it.
//! - [`permission`]: the CLI's permission modes.
//! - [`questions`]: plans to approve (`ExitPlanMode`) and questions to answer (`AskUserQuestion`).
//! - [`requests`]: chat runs, permission answers, processes and installations, as requests.
//! - [`run`]: the command line for a turn and the task that owns the child, streaming events.

pub mod credentials;
pub mod discovery;
pub mod permission;
pub mod questions;
pub mod requests;
pub mod run;
pub mod stream;
