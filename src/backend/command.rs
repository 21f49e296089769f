//! Every action a person can take: a [`Command`] wraps one domain's request (see `routes.rs`).
//!
//! The window and the headless CLI both build requests and hand them to the
//! [`Backend`](crate::backend::Backend); neither touches a database, a process or a socket itself.

pub use crate::domain::claude::requests::ClaudeRunRequest;
pub use crate::domain::mcp::{McpImportSource, McpScope, McpServerSpec};
pub use crate::domain::transcripts::requests::UsageRange;

/// Identifies one dispatched command, so its completion can be matched to the request.
pub type RequestId = u64;

pub use super::routes::Command;
pub use crate::domain::secrets::Secret;

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
