//! The ANYON account as the Account screen and the status bar show it.

use crate::account::AccountView;
use crate::command::RequestId;
use crate::event::Output;

/// Commands whose results this store shows.
const COMMANDS: [&str; 5] = [
    "account_status",
    "sign_in_start",
    "sign_in_cancel",
    "sign_in_link",
    "sign_out",
];

#[derive(Debug, Default)]
pub struct AccountStore {
    pub view: AccountView,
    /// The account step in flight (its button shows a spinner).
    pub busy: Option<RequestId>,
    /// The last step's failure, shown on the screen until the next step.
    pub error: Option<String>,
    /// Whether the saved sign-in was checked since start.
    pub checked: bool,
}

impl AccountStore {
    /// Marks `request_id` as the step in flight.
    pub fn started(&mut self, request_id: RequestId) {
        self.busy = Some(request_id);
        self.error = None;
    }

    pub fn apply_output(&mut self, request_id: RequestId, output: &Output) -> bool {
        let Output::Account(view) = output else { return false };
        if self.busy == Some(request_id) {
            self.busy = None;
        }
        self.view = view.clone();
        self.error = None;
        self.checked = true;
        true
    }

    pub fn apply_failure(&mut self, command: &str, request_id: RequestId, error: &str) -> bool {
        if !COMMANDS.contains(&command) {
            return false;
        }
        if self.busy == Some(request_id) {
            self.busy = None;
        }
        self.checked = true;
        self.error = Some(error.to_owned());
        true
    }

    /// The name for the status bar, when signed in.
    pub fn signed_in_as(&self) -> Option<&str> {
        match &self.view {
            AccountView::SignedIn { user, .. } => Some(user.display_name()),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::account::Profile;

    #[test]
    fn results_and_failures_of_account_steps_land_here() {
        let mut store = AccountStore::default();
        store.started(4);
        assert!(!store.apply_failure("list_agents", 4, "no"));
        assert!(store.apply_failure("sign_in_link", 4, "this link belongs to a different sign-in"));
        assert_eq!(store.busy, None);
        assert!(store.error.as_deref().unwrap().contains("different sign-in"));
        let view = AccountView::SignedIn {
            user: Profile {
                sub: "1".into(),
                email: "ada@example.test".into(),
                name: Some("Ada".into()),
                picture: None,
                subscription: None,
            },
            server: "http://127.0.0.1:4000".into(),
            token_storage: "OS keychain".into(),
        };
        assert!(store.apply_output(5, &Output::Account(view)));
        assert_eq!(store.signed_in_as(), Some("Ada"));
        assert_eq!(store.error, None);
    }
}
