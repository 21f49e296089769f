//! Why a command failed: the backend's one error type, its kinds for `--json` and the details screens act on.

use crate::backend::event::ErrorDetail;
use crate::domain::db::DbError;
use crate::domain::db::console::StorageError;

/// Why a command failed, written for the person.
#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    /// A reply of another request's type: a bug in the backend's routing.
    #[error("`{command}` was answered with another request's reply")]
    WrongReply { command: &'static str },
    #[error("the database is unavailable: {0}")]
    DatabaseUnavailable(#[source] std::sync::Arc<DbError>),
    #[error(transparent)]
    Db(#[from] DbError),
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("a background task stopped unexpectedly: {0}")]
    Task(#[from] tokio::task::JoinError),
    /// A setting that may not be saved.
    #[error(transparent)]
    Setting(#[from] crate::domain::settings::SettingError),
    #[error(transparent)]
    ClaudeNotFound(#[from] crate::domain::claude::discovery::NotFound),
    #[error(transparent)]
    Run(#[from] crate::domain::claude::run::RunError),
    #[error("no running Claude process has run id {0}")]
    NoSuchRun(u64),
    #[error(transparent)]
    Agents(#[from] crate::domain::agents::table::StoreError),
    #[error(transparent)]
    AgentFile(#[from] crate::domain::agents::files::FileError),
    #[error("no recorded output for run {agent_run_id} ({}): {source}", path.display())]
    NoRunOutput {
        agent_run_id: i64,
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    /// An agent file to import that cannot be read.
    #[error("cannot read {}: {source}", path.display())]
    ReadAgentFile {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    /// An agent export that cannot be written.
    #[error("cannot write {}: {source}", path.display())]
    WriteAgentFile {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Checkpoint(#[from] crate::domain::checkpoint::CheckpointError),
    #[error(transparent)]
    History(#[from] crate::domain::transcripts::HistoryError),
    #[error(transparent)]
    Mcp(#[from] crate::domain::mcp::McpError),
    /// A malformed, rejected or uncheckable API key.
    #[error(transparent)]
    ApiKey(#[from] crate::domain::claude::credentials::KeyError),
    #[error(transparent)]
    Secrets(#[from] crate::domain::secrets::SecretError),
    #[error("the keychain did not answer within {} s (is it locked?)", .0.as_secs())]
    SecretsTimeout(std::time::Duration),
    #[error(transparent)]
    Account(#[from] crate::domain::signin::ClientError),
    /// Neither `ANYON_AUTH_URL` nor a started embedded auth server.
    #[error("the auth server is not running")]
    AuthServerNotStarted,
    /// No `ANYON_AUTH_URL`, and the embedded auth server failed to start (the reason it recorded).
    #[error("the auth server is not running: {0}")]
    AuthServerFailed(String),
    /// `anyon auth login` cannot listen for the link the browser hands back.
    #[error("cannot receive the sign-in link: {0}")]
    LinkInbox(#[source] std::io::Error),
    /// `anyon auth login` while the window runs: the window takes the link.
    #[error("ANYON's window is running; the sign-in continues there")]
    SignInInWindow,
    #[error("the app stopped before the sign-in completed")]
    SignInAbandoned,
    #[error("the sign-in did not complete within {} seconds", .0.as_secs())]
    SignInTimedOut(std::time::Duration),
    #[error("cannot find this executable: {0}")]
    CurrentExe(#[source] std::io::Error),
    #[error(transparent)]
    Scheme(#[from] crate::domain::signin::scheme::SchemeError),
    #[error(transparent)]
    SignIn(#[from] crate::domain::signin::SignInError),
    #[error(transparent)]
    ClaudeConfig(#[from] crate::domain::claude_config::ConfigError),
    #[error(transparent)]
    ProjectFiles(#[from] crate::domain::project_files::FilesError),
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
            BackendError::WrongReply { .. } => "internal",
            BackendError::Db(crate::domain::db::DbError::NoSpace { .. }) => "no_space",
            BackendError::DatabaseUnavailable(_) | BackendError::Db(_) => "database",
            BackendError::Storage(error) => error.kind(),
            BackendError::Sqlite(_) => "sql",
            BackendError::Task(_)
            | BackendError::NoRunOutput { .. }
            | BackendError::ReadAgentFile { .. }
            | BackendError::WriteAgentFile { .. } => "internal",
            BackendError::Setting(_) => "invalid",
            BackendError::ClaudeNotFound(_) => "claude_not_found",
            BackendError::Run(_) => "run",
            BackendError::NoSuchRun(_) => "no_such_run",
            BackendError::AgentFile(crate::domain::agents::files::FileError::Untrusted(_)) => "untrusted",
            BackendError::Agents(_) | BackendError::AgentFile(_) => "agents",
            BackendError::Checkpoint(error) => error.kind(),
            BackendError::History(_) => "history",
            BackendError::ApiKey(error) => match error {
                crate::domain::claude::credentials::KeyError::Rejected { .. } => "key_rejected",
                crate::domain::claude::credentials::KeyError::Unreachable { .. } => "api_unreachable",
                _ => "invalid_key",
            },
            BackendError::Secrets(_) | BackendError::SecretsTimeout(_) => "secrets",
            BackendError::Account(_)
            | BackendError::AuthServerNotStarted
            | BackendError::AuthServerFailed(_)
            | BackendError::LinkInbox(_)
            | BackendError::SignInInWindow
            | BackendError::SignInAbandoned
            | BackendError::SignInTimedOut(_)
            | BackendError::CurrentExe(_)
            | BackendError::Scheme(_) => "account",
            BackendError::SignIn(_) => "sign_in",
            BackendError::ClaudeConfig(error) => error.kind(),
            BackendError::ReadFile { .. } => "io",
            BackendError::ProjectFiles(crate::domain::project_files::FilesError::NotAFolder(_)) => "not_a_folder",
            BackendError::ProjectFiles(_) => "io",
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
