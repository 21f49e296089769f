//! The auth server: accounts, tokens, per-user settings and subscriptions over HTTP (hyper 1).
//!
//! The window starts it embedded on `127.0.0.1:4000` (or `ANYON_AUTH_PORT`, or the next free port);
//! `anyon serve --bind ADDR:PORT` runs the same server headless as the deployable external one.
//!
//! - [`token`]: JWTs (HS256), validation cache, revocation.
//! - [`accounts`]: the SQLite tables of migration `0004_auth.sql`.
//! - [`http`]: routing, limits, the Host check, JSON errors.
//! - [`google`]: the OAuth code flow with the provider; [`login`]: its endpoints and the one-time codes;
//!   [`pages`]: the HTML the browser sees; [`ephemeral`]: the bounded single-use maps behind them.
//! - [`webhook`]: HMAC-signed subscription changes (serve mode).

pub mod accounts;
pub mod ephemeral;
pub mod google;
pub mod http;
pub mod login;
pub mod pages;
pub mod token;
pub mod webhook;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::domain::db::{Db, DbError};
use crate::util::paths::DataPaths;

pub use google::GoogleConfig;
pub use http::{AuthServer, ServerHandle};
pub use login::LoginLink;
pub use token::{Claims, TokenError, TokenKeys};

/// The default embedded port.
pub const DEFAULT_PORT: u16 = 4000;
/// How many ports after the preferred one the embedded server tries.
const PORT_ATTEMPTS: u16 = 50;
/// The issuer and audience written into tokens unless configured.
pub const DEFAULT_ISSUER: &str = "anyon-auth";
pub const DEFAULT_AUDIENCE: &str = "anyon-app";
/// The per-install secret's file name in the data folder.
const SECRET_FILE: &str = "auth-jwt-secret";

/// Why the auth server could not start.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("invalid configuration: {0}")]
    Config(String),
    #[error(transparent)]
    Token(#[from] TokenError),
    #[error("cannot keep the JWT secret in {path}: {source}")]
    Secret {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Db(#[from] DbError),
}

/// Embedded in the window (loopback names only) or deployed (configured hosts).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Embedded,
    Serve,
}

/// Everything the server needs, mostly from the environment.
#[derive(Debug, Clone)]
pub struct AuthConfig {
    pub mode: Mode,
    /// Where to listen; embedded mode moves to the next free port when taken.
    pub bind: SocketAddr,
    /// `Host` values accepted in serve mode besides the bound address (`ANYON_AUTH_ALLOWED_HOSTS`).
    pub allowed_hosts: Vec<String>,
    /// `JWT_SECRET`; `None` uses the per-install secret file.
    pub jwt_secret: Option<Vec<u8>>,
    pub issuer: String,
    pub audience: String,
    /// `ANYON_ADMIN_TOKEN`: the bearer credential allowed to change plans.
    pub admin_token: Option<String>,
    /// `ANYON_WEBHOOK_SECRET`: the HMAC key of signed subscription webhooks (serve mode only).
    pub webhook_secret: Option<Vec<u8>>,
    /// `ANYON_AUTH_PUBLIC_URL`: the server's address as browsers reach it (scheme, host, port), for the
    /// OAuth redirect URI; unset means `http://` and the bound address. Its host is also allowed in `Host`.
    pub public_url: Option<String>,
    /// The provider endpoints and client (`GOOGLE_*`).
    pub google: GoogleConfig,
    /// Told of every successful sign-in with the code and state its callback page carries, so the running
    /// app can finish signing in without the OS opening the `anyon://` link.
    pub login_links: Option<OnLogin>,
    /// `ANYON_AUTH_MAX_CONNECTIONS`: connections served at once; one more is answered 503 and closed.
    pub max_connections: usize,
}

/// Told of each finished sign-in's link (it must not block: it runs on the server's task).
#[derive(Clone)]
pub struct OnLogin(pub std::sync::Arc<dyn Fn(LoginLink) + Send + Sync>);

impl OnLogin {
    pub fn new(deliver: impl Fn(LoginLink) + Send + Sync + 'static) -> Self {
        Self(std::sync::Arc::new(deliver))
    }
}

impl std::fmt::Debug for OnLogin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OnLogin")
    }
}

impl AuthConfig {
    /// A configuration listening on `bind` with every option at its default (nothing from the environment).
    pub fn new(mode: Mode, bind: SocketAddr) -> Self {
        Self {
            mode,
            bind,
            allowed_hosts: Vec::new(),
            jwt_secret: None,
            issuer: DEFAULT_ISSUER.into(),
            audience: DEFAULT_AUDIENCE.into(),
            admin_token: None,
            webhook_secret: None,
            public_url: None,
            google: GoogleConfig::default(),
            login_links: None,
            max_connections: http::MAX_CONNECTIONS,
        }
    }

    /// The configuration from the environment for `mode`, listening on `bind` when given.
    pub fn from_env(mode: Mode, bind: Option<SocketAddr>) -> Result<Self, AuthError> {
        let env = |name: &str| std::env::var(name).ok().filter(|value| !value.trim().is_empty());
        let bind = match bind {
            Some(bind) => bind,
            None => {
                let port = match env("ANYON_AUTH_PORT") {
                    Some(port) => port
                        .trim()
                        .parse::<u16>()
                        .map_err(|_| AuthError::Config(format!("ANYON_AUTH_PORT is not a port: {port:?}")))?,
                    None => DEFAULT_PORT,
                };
                SocketAddr::from(([127, 0, 0, 1], port))
            }
        };
        let allowed_hosts = env("ANYON_AUTH_ALLOWED_HOSTS")
            .map(|hosts| {
                hosts
                    .split(',')
                    .map(|host| host.trim().to_ascii_lowercase())
                    .filter(|host| !host.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        let max_connections = match env("ANYON_AUTH_MAX_CONNECTIONS") {
            Some(value) => value
                .trim()
                .parse::<usize>()
                .ok()
                .filter(|count| (1..=65_536).contains(count))
                .ok_or_else(|| AuthError::Config(format!("ANYON_AUTH_MAX_CONNECTIONS is not 1 to 65536: {value:?}")))?,
            None => http::MAX_CONNECTIONS,
        };
        Ok(Self {
            allowed_hosts,
            max_connections,
            jwt_secret: env("JWT_SECRET").map(String::into_bytes),
            issuer: env("JWT_ISSUER").unwrap_or_else(|| DEFAULT_ISSUER.into()),
            audience: env("JWT_AUDIENCE").unwrap_or_else(|| DEFAULT_AUDIENCE.into()),
            admin_token: env("ANYON_ADMIN_TOKEN"),
            webhook_secret: env("ANYON_WEBHOOK_SECRET").map(String::into_bytes),
            public_url: env("ANYON_AUTH_PUBLIC_URL"),
            google: GoogleConfig::from_env(env)?,
            ..Self::new(mode, bind)
        })
    }
}

/// The `Host` value browsers send for `url` (`host` or `host:port` when the port is not the scheme's).
pub(crate) fn public_host(url: &str) -> Result<String, AuthError> {
    let parsed = oauth2::url::Url::parse(url)
        .map_err(|error| AuthError::Config(format!("ANYON_AUTH_PUBLIC_URL {url:?}: {error}")))?;
    let host = parsed
        .host_str()
        .filter(|_| matches!(parsed.scheme(), "http" | "https"))
        .ok_or_else(|| AuthError::Config(format!("ANYON_AUTH_PUBLIC_URL {url:?} is not an http(s) URL")))?;
    Ok(match parsed.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    }
    .to_ascii_lowercase())
}

/// Starts the server on the runtime behind `handle` with the app database and data folder of `paths`.
pub async fn start(config: AuthConfig, paths: &DataPaths) -> Result<ServerHandle, AuthError> {
    let secret = match &config.jwt_secret {
        Some(secret) => secret.clone(),
        None => install_secret(paths.root())?,
    };
    let keys = TokenKeys::new(&secret, &config.issuer, &config.audience)?;
    let db = Arc::new(Db::open(&paths.database())?);
    let now = now();
    let revoked = {
        let conn = db.writer();
        accounts::revoked(&conn, now).map_err(DbError::from)?
    };
    for jti in revoked {
        keys.revoke(&jti);
    }
    let server = AuthServer::new(config, keys, db)?;
    let listener = bind(&server.config).await?;
    Ok(server.spawn(listener))
}

async fn bind(config: &AuthConfig) -> Result<tokio::net::TcpListener, AuthError> {
    let attempts = if config.mode == Mode::Embedded {
        PORT_ATTEMPTS
    } else {
        1
    };
    let mut addr = config.bind;
    let mut last = None;
    for _ in 0..attempts {
        match tokio::net::TcpListener::bind(addr).await {
            Ok(listener) => return Ok(listener),
            Err(source) if source.kind() == std::io::ErrorKind::AddrInUse && addr.port() != 0 => {
                last = Some(source);
                let Some(next) = addr.port().checked_add(1) else { break };
                addr.set_port(next);
            }
            Err(source) => return Err(AuthError::Bind { addr, source }),
        }
    }
    Err(AuthError::Bind {
        addr: config.bind,
        source: last.unwrap_or_else(|| std::io::Error::from(std::io::ErrorKind::AddrInUse)),
    })
}

/// The per-install secret: read from the data folder, or generated and written there with mode 0600.
pub fn install_secret(dir: &Path) -> Result<Vec<u8>, AuthError> {
    let path = dir.join(SECRET_FILE);
    let error = |source| AuthError::Secret {
        path: path.clone(),
        source,
    };
    match std::fs::read_to_string(&path) {
        Ok(text) if text.trim().len() >= token::MIN_SECRET_LEN => return Ok(text.trim().as_bytes().to_vec()),
        Ok(_) => {}
        Err(source) if source.kind() == std::io::ErrorKind::NotFound => {}
        Err(source) => return Err(error(source)),
    }
    let secret = crate::util::hex::random(32).map_err(error)?;
    crate::util::fs::write_atomic_private(&path, secret.as_bytes()).map_err(error)?;
    Ok(secret.into_bytes())
}

/// Seconds since the Unix epoch.
pub fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// What the embedded server is doing, for the Account screen.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum EmbeddedStatus {
    #[default]
    NotStarted,
    Running(SocketAddr),
    Failed(String),
}

static EMBEDDED: std::sync::Mutex<EmbeddedStatus> = std::sync::Mutex::new(EmbeddedStatus::NotStarted);

/// The embedded server's state in this process.
pub fn embedded_status() -> EmbeddedStatus {
    EMBEDDED
        .lock()
        .map(|status| status.clone())
        .unwrap_or(EmbeddedStatus::NotStarted)
}

/// Starts the embedded server for the window (127.0.0.1, `ANYON_AUTH_PORT` or 4000, else the next free
/// port) and records where it listens. A failure is logged and shown, never fatal: the app works without it.
pub fn start_embedded(runtime: &tokio::runtime::Handle, paths: &DataPaths) -> Option<ServerHandle> {
    start_embedded_with(runtime, paths, None)
}

/// [`start_embedded`], telling `login_links` of each finished Google sign-in (see [`LoginLink`]) so the
/// window can redeem the code at `POST /auth/exchange` without waiting for the OS to open the link.
pub fn start_embedded_with(
    runtime: &tokio::runtime::Handle,
    paths: &DataPaths,
    login_links: Option<OnLogin>,
) -> Option<ServerHandle> {
    let result = AuthConfig::from_env(Mode::Embedded, None)
        .map(|mut config| {
            // Embedded means loopback, whatever the environment says about deployments.
            config.bind.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
            config.allowed_hosts.clear();
            config.public_url = None;
            config.login_links = login_links;
            config
        })
        .and_then(|config| runtime.block_on(start(config, paths)));
    let (status, handle) = match result {
        Ok(handle) => {
            tracing::info!(addr = %handle.addr(), "embedded auth server started");
            (EmbeddedStatus::Running(handle.addr()), Some(handle))
        }
        Err(error) => {
            tracing::warn!(%error, "embedded auth server not started");
            (EmbeddedStatus::Failed(error.to_string()), None)
        }
    };
    if let Ok(mut slot) = EMBEDDED.lock() {
        *slot = status;
    }
    handle
}
