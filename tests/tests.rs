//! ANYON's integration tests, in one binary to keep link time low.

mod support;

mod cli;
mod database;
mod single_instance;
mod storage;
mod ui_shell;
