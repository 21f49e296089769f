//! ANYON's integration tests, in one binary to keep link time low.

mod support;

mod claude_cli_peer;
mod cli;
mod database;
mod single_instance;
mod ui_shell;
