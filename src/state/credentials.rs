//! The Account screen's "Claude authentication" section: the last check, the key being typed, and what
//! saving or removing it answered.

use super::Requested;
use crate::backend::command::RequestId;
use crate::domain::claude::credentials::ClaudeAuthReport;
use crate::domain::claude::credentials::requests::{KeyRemoved, KeySaved, Reply};

/// State of the Claude authentication section.
#[derive(Debug, Default)]
pub struct CredentialsStore {
    /// The last `claude_auth_check`.
    pub report: Requested<Box<ClaudeAuthReport>>,
    /// The key being typed (shown as dots); cleared once saved.
    pub key_input: String,
    /// Ask the API before saving.
    pub verify: bool,
    /// The save or remove under way.
    pub pending: Option<RequestId>,
    /// What the last save or remove said, for the line under the field.
    pub outcome: Option<Result<String, String>>,
    /// A save or remove landed: the screen checks again on its next frame.
    pub needs_check: bool,
}

impl CredentialsStore {
    /// Takes a completion this store waits for; true when it did.
    pub fn apply_output(&mut self, request_id: RequestId, output: &Reply) -> bool {
        match output {
            Reply::ClaudeAuth(report) => self.report.finish(request_id, report.clone()),
            Reply::ApiKeySaved(KeySaved { key, verified }) if self.pending == Some(request_id) => {
                self.pending = None;
                self.key_input.clear();
                let checked = if *verified { " (accepted by the API)" } else { "" };
                self.outcome = Some(Ok(format!("Saved {} in the {}{checked}", key.masked, key.stored_in)));
                self.needs_check = true;
                true
            }
            Reply::ApiKeyRemoved(KeyRemoved { removed }) if self.pending == Some(request_id) => {
                self.pending = None;
                let text = if *removed {
                    "Removed the saved key"
                } else {
                    "No key was saved"
                };
                self.outcome = Some(Ok(text.to_owned()));
                self.needs_check = true;
                true
            }
            _ => false,
        }
    }

    /// Takes a failure this store waits for; shown inline, not as a notice.
    pub fn apply_failure(&mut self, request_id: RequestId, error: &str) -> bool {
        if self.pending == Some(request_id) {
            self.pending = None;
            self.outcome = Some(Err(error.to_owned()));
            return true;
        }
        self.report.fail(request_id, error.to_owned())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::domain::claude::credentials::SavedKey;
    use crate::domain::secrets::SecretBackend;

    #[test]
    fn save_clears_the_field_and_failures_stay_inline() {
        let mut store = CredentialsStore {
            key_input: "sk-ant-typed".into(),
            pending: Some(4),
            ..Default::default()
        };
        assert!(store.apply_failure(4, "the API rejected the key"));
        assert_eq!(store.outcome, Some(Err("the API rejected the key".into())));
        assert_eq!(store.key_input, "sk-ant-typed", "a failed save keeps what was typed");
        assert!(!store.apply_failure(4, "again"), "answered already");

        store.pending = Some(5);
        let saved = Reply::ApiKeySaved(KeySaved {
            key: SavedKey {
                masked: "sk-ant-…abcd".into(),
                stored_in: SecretBackend::Keychain,
            },
            verified: true,
        });
        assert!(!store.apply_output(6, &saved), "not ours");
        assert!(store.apply_output(5, &saved));
        assert!(store.needs_check);
        assert!(store.key_input.is_empty());
        assert_eq!(
            store.outcome,
            Some(Ok("Saved sk-ant-…abcd in the OS keychain (accepted by the API)".into()))
        );
    }
}
