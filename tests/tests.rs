//! ANYON's integration tests, in one binary to keep link time low.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

mod agents;
mod agents_ui;
mod architecture;
mod auth;
mod chat;
mod chat_ui;
mod checkpoints;
mod checkpoints_ui;
mod claude_auth;
mod claude_auth_ui;
mod claude_cli_peer;
mod claude_config;
mod claude_config_ui;
mod cli;
mod database;
mod full_disk;
mod fuzz;
mod history;
mod history_ui;
mod huge_inputs;
mod killed;
mod killed_checkpoints;
mod mcp;
mod mcp_ui;
mod mentions_ui;
mod mock_api_server;
mod palette_ui;
mod search;
mod signin;
mod signin_ui;
mod single_instance;
mod storage;
mod ui_shell;
mod usage_blocks;
