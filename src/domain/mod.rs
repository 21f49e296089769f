//! The domain: what ANYON knows and does, with no window, command line, stores or backend in sight.
//!
//! Each module owns its data types, its errors and the way it reports progress (a sender, a callback
//! or a trait of its own); the backend maps those onto the app's events.

pub mod agents;
pub mod auth_server;
pub mod checkpoint;
pub mod claude;
pub mod claude_config;
pub mod db;
pub mod dropped;
pub mod instance;
pub mod mcp;
pub mod process;
pub mod project_files;
pub mod secrets;
pub mod settings;
pub mod signin;
pub mod transcripts;
