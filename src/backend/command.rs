//! Every action a person can take, as one enum: the design's command table.
//!
//! The window and the headless CLI both build [`Command`]s and hand them to the
//! [`Backend`](crate::backend::Backend); neither touches a database, a process or a socket itself.

use crate::domain::agents::requests as agents;
pub use crate::domain::claude::requests::ClaudeRunRequest;
pub use crate::domain::mcp::{McpImportSource, McpScope, McpServerSpec};
pub use crate::domain::transcripts::requests::UsageRange;
use crate::util::request::Ask;

/// Identifies one dispatched command, so its completion can be matched to the request.
pub type RequestId = u64;

pub use crate::domain::secrets::Secret;

/// Every command of the design's table, plus the app's own settings.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    Dropped(crate::domain::dropped::Request),
    ClaudeConfig(crate::domain::claude_config::requests::Request),
    Credentials(crate::domain::claude::credentials::requests::Request),
    SignIn(crate::domain::signin::requests::Request),
    Claude(crate::domain::claude::requests::Request),
    Console(crate::domain::db::console::requests::Request),
    Transcripts(crate::domain::transcripts::requests::Request),
    Mcp(crate::domain::mcp::requests::Request),
    Checkpoints(crate::domain::checkpoint::requests::Request),
    /// The agents domain: definitions, runs, history, files.
    Agents(agents::Request),
    /// ANYON's own settings.
    Settings(crate::domain::settings::requests::Request),
}

impl Command {
    /// Commands whose effects must land in the order they were dispatched (later writes of the
    /// same setting win). The backend runs these one after another on a single lane.
    pub fn is_ordered(&self) -> bool {
        if let Command::Agents(request) = self {
            return request.is_ordered();
        }
        if let Command::Dropped(request) = self {
            return request.is_ordered();
        }
        if let Command::ClaudeConfig(request) = self {
            return request.is_ordered();
        }
        if let Command::Credentials(request) = self {
            return request.is_ordered();
        }
        if let Command::SignIn(request) = self {
            return request.is_ordered();
        }
        if let Command::Claude(request) = self {
            return request.is_ordered();
        }
        if let Command::Console(request) = self {
            return request.is_ordered();
        }
        if let Command::Transcripts(request) = self {
            return request.is_ordered();
        }
        if let Command::Mcp(request) = self {
            return request.is_ordered();
        }
        if let Command::Checkpoints(request) = self {
            return request.is_ordered();
        }
        if let Command::Settings(request) = self {
            return request.is_ordered();
        }
        false
    }

    /// The command's name in the design's table (snake_case), for messages and logs.
    pub fn name(&self) -> &'static str {
        match self {
            Command::Agents(request) => request.name(),
            Command::Dropped(request) => request.name(),
            Command::ClaudeConfig(request) => request.name(),
            Command::Credentials(request) => request.name(),
            Command::SignIn(request) => request.name(),
            Command::Claude(request) => request.name(),
            Command::Console(request) => request.name(),
            Command::Transcripts(request) => request.name(),
            Command::Mcp(request) => request.name(),
            Command::Checkpoints(request) => request.name(),
            Command::Settings(request) => request.name(),
        }
    }
}

impl From<agents::Request> for Command {
    fn from(request: agents::Request) -> Self {
        Command::Agents(request)
    }
}

impl From<crate::domain::settings::requests::Request> for Command {
    fn from(request: crate::domain::settings::requests::Request) -> Self {
        Command::Settings(request)
    }
}

impl From<crate::domain::checkpoint::requests::Request> for Command {
    fn from(request: crate::domain::checkpoint::requests::Request) -> Self {
        Command::Checkpoints(request)
    }
}

impl From<crate::domain::mcp::requests::Request> for Command {
    fn from(request: crate::domain::mcp::requests::Request) -> Self {
        Command::Mcp(request)
    }
}

impl From<crate::domain::transcripts::requests::Request> for Command {
    fn from(request: crate::domain::transcripts::requests::Request) -> Self {
        Command::Transcripts(request)
    }
}

impl From<crate::domain::db::console::requests::Request> for Command {
    fn from(request: crate::domain::db::console::requests::Request) -> Self {
        Command::Console(request)
    }
}

impl From<crate::domain::claude::requests::Request> for Command {
    fn from(request: crate::domain::claude::requests::Request) -> Self {
        Command::Claude(request)
    }
}

impl From<crate::domain::signin::requests::Request> for Command {
    fn from(request: crate::domain::signin::requests::Request) -> Self {
        Command::SignIn(request)
    }
}

impl From<crate::domain::claude::credentials::requests::Request> for Command {
    fn from(request: crate::domain::claude::credentials::requests::Request) -> Self {
        Command::Credentials(request)
    }
}

impl From<crate::domain::claude_config::requests::Request> for Command {
    fn from(request: crate::domain::claude_config::requests::Request) -> Self {
        Command::ClaudeConfig(request)
    }
}

impl From<crate::domain::dropped::Request> for Command {
    fn from(request: crate::domain::dropped::Request) -> Self {
        Command::Dropped(request)
    }
}

impl<Q> From<Q> for Command
where
    Q: Ask,
    Command: From<Q::Request>,
{
    fn from(request: Q) -> Self {
        Command::from(Q::Request::from(request))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::domain::claude::credentials::requests::ClaudeAuthSaveApiKey;

    #[test]
    fn secrets_never_print_whole() {
        let key = Secret::new("sk-ant-api03-abcdefghijklmnopqrstuvwxyz-SECRET");
        let shown = format!(
            "{:?}",
            Command::from(ClaudeAuthSaveApiKey {
                api_key: key.clone(),
                verify: true,
                base_url: None,
            })
        );
        assert!(!shown.contains("SECRET") && !shown.contains("klmnop"), "{shown}");
        assert_eq!(key.masked(), "sk-ant-…CRET");
        assert_eq!(Secret::new("short").masked(), "•••••");
    }
}
