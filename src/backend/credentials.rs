//! Claude's authentication: the check of every source, the saved API key, and the environment every Claude
//! process ANYON starts gets.
//!
//! The secrets store can block (D-Bus, an unlock prompt), so every call to it runs on the blocking pool
//! with a time limit; a keychain that hangs reads as no saved key, never as a stuck window or run.

use crate::domain::claude::credentials::requests::{ClaudeAuthSaveApiKey, KeyRemoved, KeySaved, Reply, Request};
use crate::util::request::Ask;
use std::ffi::OsString;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use super::{Backend, BackendError};
use crate::domain::claude::credentials::{
    self, API_KEY_ENV, API_KEY_SECRET, CHECK_TIMEOUT, ClaudeAuthReport, CliAuthStatus, KeyInUse, SavedKey,
};
use crate::domain::secrets::{Secret, SecretError, SecretStore, Stored};
use crate::util::sync::RwLockExt;

/// Limit for one call to the secrets store.
const STORE_TIMEOUT: Duration = Duration::from_secs(15);

impl Backend {
    /// The secrets store (keychain or file) this backend keeps keys in.
    pub fn secrets(&self) -> Arc<SecretStore> {
        self.inner.secrets.read_or_recover().clone()
    }

    /// Replaces the secrets store (tests, which must not touch the person's keychain).
    pub fn set_secret_store(&self, store: SecretStore) {
        *self.inner.secrets.write_or_recover() = Arc::new(store);
    }

    pub(super) async fn credentials(&self, request: Request) -> Result<Reply, BackendError> {
        match request {
            Request::ClaudeAuthCheck(q) => Ok(q.answer(Box::new(self.auth_report().await))),
            Request::ClaudeAuthSaveApiKey(ClaudeAuthSaveApiKey {
                api_key,
                verify,
                base_url,
            }) => {
                let key = credentials::check_key_form(&api_key)?;
                if verify {
                    let base = credentials::base_url(base_url.as_deref());
                    credentials::verify_key(&key, &base).await?;
                }
                let masked = key.masked();
                let stored_in = self.with_secrets(move |store| store.set(API_KEY_SECRET, &key)).await?;
                tracing::info!(key = %masked, %stored_in, verified = verify, "saved the Anthropic API key");
                Ok(ClaudeAuthSaveApiKey::wrap(KeySaved {
                    key: SavedKey { masked, stored_in },
                    verified: verify,
                }))
            }
            Request::ClaudeAuthRemoveApiKey(q) => {
                let removed = self.with_secrets(|store| store.delete(API_KEY_SECRET)).await?;
                Ok(q.answer(KeyRemoved { removed }))
            }
        }
    }

    /// The environment for a Claude process: the configured variables, plus the saved API key when neither
    /// ANYON's environment nor those variables set `ANTHROPIC_API_KEY` (an explicit key wins).
    pub(crate) async fn claude_env(&self) -> Vec<(OsString, OsString)> {
        let env = self.child_env();
        if key_in_use(&env, true) != KeyInUse::Saved {
            return env;
        }
        match self.saved_key().await {
            Ok(saved) => with_key(env, saved.as_ref()),
            Err(error) => {
                tracing::warn!(%error, "cannot read the saved API key; Claude runs without it");
                env
            }
        }
    }

    async fn saved_key(&self) -> Result<Option<Stored>, BackendError> {
        self.with_secrets(|store| store.get(API_KEY_SECRET)).await
    }

    /// Runs `work` on the secrets store on the blocking pool, within [`STORE_TIMEOUT`].
    pub(super) async fn with_secrets<T: Send + 'static>(
        &self,
        work: impl FnOnce(&SecretStore) -> Result<T, SecretError> + Send + 'static,
    ) -> Result<T, BackendError> {
        let store = self.secrets();
        let task = tokio::task::spawn_blocking(move || work(&store));
        match tokio::time::timeout(STORE_TIMEOUT, task).await {
            Ok(Ok(result)) => result.map_err(BackendError::from),
            Ok(Err(error)) => Err(BackendError::Task(error)),
            Err(_) => Err(BackendError::SecretsTimeout(STORE_TIMEOUT)),
        }
    }

    async fn auth_report(&self) -> ClaudeAuthReport {
        let (stored, saved_api_key_error) = match self.saved_key().await {
            Ok(stored) => (stored, None),
            Err(error) => (None, Some(error.to_string())),
        };
        let saved_api_key = stored.as_ref().map(|stored| SavedKey {
            masked: stored.value.masked(),
            stored_in: stored.backend.clone(),
        });
        let child_env = self.child_env();
        let key_in_use = key_in_use(&child_env, stored.is_some());
        // `claude auth status` runs with the environment a chat would get.
        let run_env = match key_in_use {
            KeyInUse::Saved => with_key(child_env.clone(), stored.as_ref()),
            _ => child_env.clone(),
        };
        let env_api_key = std::env::var(API_KEY_ENV)
            .ok()
            .filter(|key| !key.is_empty())
            .map(|key| Secret::new(key).masked());
        // Where Claude looks is decided by the environment it runs with: the configured variables first.
        let var = |name: &str| {
            child_env
                .iter()
                .rev()
                .find(|(key, _)| key == name)
                .map(|(_, value)| value.clone())
                .or_else(|| std::env::var_os(name))
                .filter(|value| !value.is_empty())
                .map(PathBuf::from)
        };
        let home = var("HOME").or_else(|| directories::BaseDirs::new().map(|d| d.home_dir().to_path_buf()));
        let credentials_file = credentials::credentials_path(var("CLAUDE_CONFIG_DIR").as_deref(), home.as_deref());
        let credentials_file_present = credentials_file.as_deref().is_some_and(std::path::Path::is_file);
        let claude_status = match self.claude_binary().await {
            Ok(bin) => credentials::cli_status(&bin, &run_env, CHECK_TIMEOUT).await,
            Err(BackendError::ClaudeNotFound(not_found)) => CliAuthStatus::NotInstalled {
                message: not_found.to_string(),
            },
            Err(error) => CliAuthStatus::Failed {
                message: error.to_string(),
            },
        };
        let store = self.secrets();
        let secret_store = tokio::time::timeout(STORE_TIMEOUT, tokio::task::spawn_blocking(move || store.backend()))
            .await
            .ok()
            .and_then(Result::ok)
            .unwrap_or_else(|| crate::domain::secrets::SecretBackend::File {
                path: self.secrets().file_path().to_path_buf(),
            });
        ClaudeAuthReport {
            claude_status,
            env_api_key,
            saved_api_key,
            saved_api_key_error,
            credentials_file,
            credentials_file_present,
            key_in_use,
            secret_store,
        }
    }
}

/// Which key Claude gets with `env` added to ANYON's environment, `saved` telling whether a key is saved.
fn key_in_use(env: &[(OsString, OsString)], saved: bool) -> KeyInUse {
    let explicit = env.iter().any(|(name, value)| name == API_KEY_ENV && !value.is_empty())
        || std::env::var_os(API_KEY_ENV).is_some_and(|value| !value.is_empty());
    match (explicit, saved) {
        (true, _) => KeyInUse::Environment,
        (false, true) => KeyInUse::Saved,
        (false, false) => KeyInUse::None,
    }
}

/// `env` plus `ANTHROPIC_API_KEY` set to the saved key, if there is one.
fn with_key(mut env: Vec<(OsString, OsString)>, saved: Option<&Stored>) -> Vec<(OsString, OsString)> {
    if let Some(stored) = saved {
        env.push((API_KEY_ENV.into(), stored.value.expose().into()));
    }
    env
}
