//! Why a command failed: the backend's one error type, its kinds for `--json` and the details screens act on.

use crate::backend::event::ErrorDetail;
use crate::domain::db::DbError;
use crate::domain::db::console::StorageError;

/// Why a command failed, written for the person.
#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    #[error("`{command}` is not available in this version of ANYON yet")]
    NotAvailable { command: &'static str },
    /// A reply of another request's type: a bug in the backend's routing.
    #[error("`{command}` was answered with another request's reply")]
    WrongReply { command: &'static str },
    #[error("the database is unavailable: {0}")]
    DatabaseUnavailable(String),
    #[error(transparent)]
    Db(#[from] DbError),
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("a background task stopped unexpectedly: {0}")]
    Task(String),
    #[error("{0}")]
    ClaudeNotFound(String),
    #[error(transparent)]
    Run(#[from] crate::domain::claude::run::RunError),
    #[error("no running Claude process has run id {0}")]
    NoSuchRun(u64),
    #[error("{0}")]
    Agents(String),
    #[error("{0}")]
    Checkpoint(String),
    #[error("{0}")]
    History(String),
    #[error(transparent)]
    Mcp(#[from] crate::domain::mcp::McpError),
    /// A malformed, rejected or uncheckable API key.
    #[error(transparent)]
    ApiKey(#[from] crate::domain::claude::credentials::KeyError),
    #[error("{0}")]
    Secrets(String),
    #[error("{0}")]
    Account(String),
    #[error(transparent)]
    SignIn(#[from] crate::domain::signin::SignInError),
    #[error(transparent)]
    ClaudeConfig(#[from] crate::domain::claude_config::ConfigError),
    #[error("cannot read {}: {source}", path.display())]
    ReadFile {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
}

impl BackendError {
    /// What a screen may act on (an SQL error's position, a refused write's risk).
    pub fn detail(&self) -> ErrorDetail {
        match self {
            BackendError::Storage(StorageError::Sql {
                offset: Some(offset), ..
            }) => ErrorDetail::SqlOffset(*offset),
            BackendError::Storage(StorageError::WriteRefused { risk }) => ErrorDetail::WriteRefused(risk.clone()),
            BackendError::Storage(StorageError::Cancelled) => ErrorDetail::Cancelled,
            BackendError::ClaudeConfig(crate::domain::claude_config::ConfigError::Changed { text, .. }) => {
                ErrorDetail::ChangedOnDisk(text.clone())
            }
            _ => ErrorDetail::None,
        }
    }

    /// A stable, machine-readable name for the kind of failure (used in CLI JSON errors).
    pub fn kind(&self) -> &'static str {
        match self {
            BackendError::NotAvailable { .. } => "not_available",
            BackendError::WrongReply { .. } => "internal",
            BackendError::DatabaseUnavailable(_) | BackendError::Db(_) => "database",
            BackendError::Storage(error) => error.kind(),
            BackendError::Sqlite(_) => "sql",
            BackendError::Task(_) => "internal",
            BackendError::ClaudeNotFound(_) => "claude_not_found",
            BackendError::Run(_) => "run",
            BackendError::NoSuchRun(_) => "no_such_run",
            BackendError::Agents(_) => "agents",
            BackendError::Checkpoint(_) => "checkpoint",
            BackendError::History(_) => "history",
            BackendError::ApiKey(error) => match error {
                crate::domain::claude::credentials::KeyError::Rejected { .. } => "key_rejected",
                crate::domain::claude::credentials::KeyError::Unreachable { .. } => "api_unreachable",
                _ => "invalid_key",
            },
            BackendError::Secrets(_) => "secrets",
            BackendError::Account(_) => "account",
            BackendError::SignIn(_) => "sign_in",
            BackendError::ClaudeConfig(error) => error.kind(),
            BackendError::ReadFile { .. } => "io",
            BackendError::Mcp(error) => match error {
                crate::domain::mcp::McpError::NotFound { .. } => "not_found",
                crate::domain::mcp::McpError::Exists { .. } => "exists",
                crate::domain::mcp::McpError::InvalidName(_)
                | crate::domain::mcp::McpError::InvalidServer { .. }
                | crate::domain::mcp::McpError::NeedsProject(_) => "invalid",
                _ => "mcp",
            },
        }
    }
}
