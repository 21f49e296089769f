//! Signing in to ANYON: the Google sign-in started from the window or `anyon auth login`, completed by
//! the deep link (or the embedded server's direct word), the token kept in the OS keychain.

use super::{Backend, BackendError};
use crate::domain::secrets::Secret;
use crate::domain::signin::requests::{Reply, Request};
use crate::domain::signin::{AccountView, AuthClient, ClientError, SignInError};
use crate::util::request::Ask;
use crate::util::sync::RwLockExt;

/// The name the sign-in token is kept under in the secret store.
pub const TOKEN_SECRET: &str = "anyon-auth-token";
/// `ANYON_AUTH_URL`: an auth server to use instead of the embedded one (the deployed server).
pub const AUTH_URL_ENV: &str = "ANYON_AUTH_URL";

impl Backend {
    pub(super) async fn sign_in(&self, request: Request) -> Result<Reply, BackendError> {
        match request {
            Request::AccountStatus(q) => Ok(q.answer(self.account_status().await?)),
            Request::SignInStart(q) => Ok(q.answer(self.sign_in_start(q.open_browser).await?)),
            Request::SignInCancel(q) => {
                self.inner.sign_in.cancel();
                Ok(q.answer(AccountView::SignedOut { notice: None }))
            }
            Request::SignInLink(q) => match self.sign_in_link(&q.url).await {
                Err(BackendError::SignIn(SignInError::Duplicate)) => Ok(q.answer(None)),
                result => Ok(q.answer(Some(result?))),
            },
            Request::SignOut(q) => Ok(q.answer(self.sign_out().await?)),
        }
    }

    /// Talks to the auth server at `url` instead of `ANYON_AUTH_URL` or the embedded one (tests).
    pub fn set_auth_server(&self, url: &str) {
        *self.inner.auth_server.write_or_recover() = Some(url.trim_end_matches('/').to_owned());
    }

    /// The auth server this app talks to: `ANYON_AUTH_URL`, else the embedded one.
    pub fn auth_server(&self) -> Result<String, BackendError> {
        if let Some(url) = self.inner.auth_server.read_or_recover().clone() {
            return Ok(url);
        }
        if let Some(url) = std::env::var(AUTH_URL_ENV).ok().filter(|url| !url.trim().is_empty()) {
            return Ok(url.trim().trim_end_matches('/').to_owned());
        }
        match crate::domain::auth_server::embedded_status() {
            crate::domain::auth_server::EmbeddedStatus::Running(addr) => Ok(format!("http://{addr}")),
            crate::domain::auth_server::EmbeddedStatus::Failed(reason) => Err(BackendError::AuthServerFailed(reason)),
            crate::domain::auth_server::EmbeddedStatus::NotStarted => Err(BackendError::AuthServerNotStarted),
        }
    }

    fn client(&self, server: &str) -> Result<AuthClient, BackendError> {
        AuthClient::new(server).map_err(BackendError::from)
    }

    pub(super) async fn account_status(&self) -> Result<AccountView, BackendError> {
        let view = self.saved_account().await?;
        self.fetch_picture(&view);
        Ok(view)
    }

    /// Fetches the signed-in person's picture in the background; the screen shows initials until then
    /// (and when it cannot be had).
    fn fetch_picture(&self, view: &AccountView) {
        let AccountView::SignedIn { user, .. } = view else {
            return;
        };
        let Some(url) = user.picture.clone() else { return };
        let sink = self.sink();
        self.runtime().spawn(async move {
            match crate::domain::signin::client::fetch_picture(&url).await {
                Ok(image) => {
                    let image = std::sync::Arc::new(image);
                    sink.send(crate::backend::event::Event::AccountPicture { url, image })
                        .await;
                }
                Err(error) => tracing::info!(%error, "the account picture is not shown"),
            }
        });
    }

    /// The saved sign-in, checked with the server.
    async fn saved_account(&self) -> Result<AccountView, BackendError> {
        if let Some(url) = self.inner.sign_in.waiting() {
            return Ok(AccountView::Waiting { url });
        }
        let Some(stored) = self.with_secrets(|store| store.get(TOKEN_SECRET)).await? else {
            return Ok(AccountView::SignedOut { notice: None });
        };
        let server = self.auth_server()?;
        match self.client(&server)?.me(stored.value.expose()).await {
            Ok(user) => Ok(AccountView::SignedIn {
                user,
                server,
                token_storage: stored.backend.to_string(),
            }),
            Err(ClientError::Unauthorized) => {
                self.with_secrets(|store| store.delete(TOKEN_SECRET)).await?;
                Ok(AccountView::SignedOut {
                    notice: Some("Your sign-in has expired or was revoked; sign in again.".into()),
                })
            }
            Err(error) => Err(error.into()),
        }
    }

    pub(super) async fn sign_in_start(&self, open_browser: bool) -> Result<AccountView, BackendError> {
        let server = self.auth_server()?;
        let start = self.client(&server)?.login_url().await?;
        self.inner.sign_in.begin(&server, &start);
        if open_browser {
            let url = start.url.clone();
            let opened = tokio::task::spawn_blocking(move || webbrowser::open(&url)).await?;
            if let Err(error) = opened {
                tracing::warn!(%error, "could not open the browser for sign-in");
                // The attempt stays: the screen shows the address to open by hand.
            }
        }
        Ok(AccountView::Waiting { url: start.url })
    }

    pub(super) async fn sign_in_link(&self, link: &str) -> Result<AccountView, BackendError> {
        let accepted = self.inner.sign_in.accept(link)?;
        let client = self.client(&accepted.server)?;
        let token = client
            .exchange(&accepted.code, &accepted.state, &accepted.verifier)
            .await?;
        let user = client.me(&token).await?;
        let token = Secret::new(token);
        let backend = self.with_secrets(move |store| store.set(TOKEN_SECRET, &token)).await?;
        tracing::info!(sub = %user.sub, storage = %backend, "signed in");
        let view = AccountView::SignedIn {
            user,
            server: accepted.server,
            token_storage: backend.to_string(),
        };
        self.fetch_picture(&view);
        Ok(view)
    }

    pub(super) async fn sign_out(&self) -> Result<AccountView, BackendError> {
        self.inner.sign_in.cancel();
        let Some(stored) = self.with_secrets(|store| store.get(TOKEN_SECRET)).await? else {
            return Ok(AccountView::SignedOut { notice: None });
        };
        // Revoke at the server first; the token is forgotten here either way.
        let revoked = match self.auth_server() {
            Ok(server) => match self.client(&server)?.logout(stored.value.expose()).await {
                Ok(()) | Err(ClientError::Unauthorized) => Ok(()),
                Err(error) => Err(BackendError::from(error)),
            },
            Err(error) => Err(error),
        };
        self.with_secrets(|store| store.delete(TOKEN_SECRET)).await?;
        Ok(AccountView::SignedOut {
            notice: revoked
                .err()
                .map(|reason| format!("Signed out here, but the server could not revoke the token: {reason}")),
        })
    }
}
