//! What can be asked of the sign-in client (the person's ANYON account), and what each request answers.

use serde::Serialize;

use super::AccountView;

/// The sign-in client's answers (as JSON: `{"kind": "account", "data": {...}}`).
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", content = "data", rename_all = "snake_case")]
pub enum Reply {
    /// The account after a sign-in step.
    Account(AccountView),
    /// A sign-in link: the account it signed in, or None for a link already redeemed (a duplicate
    /// delivery of the same link, ignored).
    Linked(Option<AccountView>),
}

crate::requests! {
    /// Who is signed in to ANYON (checked with the auth server), or the sign-in in progress.
    AccountStatus = "account_status" => Account(AccountView);
    /// Starts a Google sign-in: asks the auth server for the provider page and opens the browser.
    SignInStart { pub open_browser: bool } = "sign_in_start" => Account(AccountView);
    /// Forgets the sign-in in progress.
    SignInCancel = "sign_in_cancel" => Account(AccountView);
    /// Completes the sign-in in progress with the `anyon://auth/callback` link the browser opened.
    SignInLink { pub url: String } = "sign_in_link" => Linked(Option<AccountView>);
    /// Revokes the token at the auth server and forgets it.
    SignOut = "sign_out" => Account(AccountView);
}
