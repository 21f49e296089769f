//! The backend: executes [`Command`]s on the tokio runtime and reports [`Event`]s.
//!
//! Both front ends use it: the window calls [`Backend::dispatch`] and reads events from the
//! [`EventReceiver`] once per frame; the headless CLI awaits [`Backend::execute`] directly.

mod agents;
mod checkpoints;
mod claude;
mod claude_config;
pub mod command;
mod console;
mod credentials;
mod error;
pub mod event;
mod events;
mod mcp;
mod project_files;
mod requests;
mod routes;
mod signin;
mod transcripts;

pub use error::BackendError;
pub use events::{EventReceiver, EventSink};
pub use requests::Requests;

use std::collections::HashMap;
use std::ffi::OsString;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use tokio::runtime::Handle;
use tokio::sync::mpsc;

use crate::backend::command::{Command, RequestId};
use crate::backend::event::{Event, Output, Replies};
use crate::domain::claude::discovery::ClaudeBinaryCache;
use crate::domain::claude::run::RunInput;
use crate::domain::db::{self, Db};
use crate::domain::dropped::{self, DroppedFile, Request};
use crate::domain::process::{ProcessRegistry, RunId};
use crate::domain::settings::requests::Request as SettingsRequest;
use crate::domain::settings::{self, Setting, Settings};
use crate::util::paths::DataPaths;
use crate::util::request::Ask;
use crate::util::sync::RwLockExt;

/// How many events may wait for the window before senders have to wait: a chatty child
/// process then slows down instead of growing memory without bound.
pub const EVENT_CAPACITY: usize = 4096;

/// What the ordered lane carries.
enum LaneItem {
    Run(RequestId, Box<Command>),
    /// Answered once everything queued before it ran.
    Barrier(tokio::sync::oneshot::Sender<()>),
}

struct Inner {
    runtime: Handle,
    /// The lane for [`Command::is_ordered`] commands: one task runs them in dispatch order.
    ordered: mpsc::UnboundedSender<LaneItem>,
    paths: DataPaths,
    db: Result<Arc<Db>, Arc<db::DbError>>,
    sink: EventSink,
    next_request: AtomicU64,
    /// Running SQL statements by the request that started them, for cancel.
    running_sql: Mutex<HashMap<RequestId, console::SqlSlot>>,
    /// Every Claude and agent process.
    processes: ProcessRegistry,
    /// Where `claude` is, found once.
    claude_binary: ClaudeBinaryCache,
    /// How to reach each running turn (permission answers).
    run_inputs: Mutex<HashMap<RunId, mpsc::Sender<RunInput>>>,
    /// The `anyon` binary, for hooks Claude runs (checkpoints); the running executable by default.
    self_exe: RwLock<Option<PathBuf>>,
    /// Running agent runs: history id to process run id.
    agent_runs: Mutex<HashMap<i64, RunId>>,
    /// Variables added to the environment of every Claude process (API key, proxy, ...).
    child_env: RwLock<Vec<(OsString, OsString)>>,
    /// Proxy and extra variables from ANYON's settings, added after `child_env` (they win).
    settings_env: RwLock<Vec<(OsString, OsString)>>,
    /// The transcript index (projects, sessions, usage).
    history: transcripts::HistoryState,
    /// The sign-in attempt in progress.
    sign_in: crate::domain::signin::SignIn,
    /// The auth server to use instead of `ANYON_AUTH_URL` or the embedded one (tests).
    auth_server: RwLock<Option<String>>,
    /// Claude's `.claude.json` (MCP servers of the user and local scopes).
    claude_json: RwLock<Option<PathBuf>>,
    /// Claude's config folder (user settings, slash commands, memory).
    claude_config_dir: RwLock<Option<PathBuf>>,
    /// Where secrets (the Anthropic API key) are kept: the keychain, or a file in the data folder.
    secrets: RwLock<Arc<crate::domain::secrets::SecretStore>>,
}

/// The one backend behind the window and the CLI. Cheap to clone.
#[derive(Clone)]
pub struct Backend {
    inner: Arc<Inner>,
}

impl Backend {
    /// Opens the database under `paths` and builds the backend. A database that cannot be opened
    /// does not stop the app: commands that need it answer with the reason.
    pub fn open(runtime: Handle, paths: DataPaths) -> (Self, EventReceiver) {
        if let Err(error) = paths.ensure() {
            tracing::error!(%error, path = %paths.root().display(), "cannot create the data folder");
        }
        let db = Db::open(&paths.database()).map(Arc::new).map_err(|error| {
            tracing::error!(%error, "database unavailable");
            Arc::new(error)
        });
        let settings = match &db {
            Ok(db) => settings::load(&db.writer()).unwrap_or_else(|error| {
                tracing::warn!(%error, "cannot read the settings; using the defaults");
                Settings::default()
            }),
            Err(_) => Settings::default(),
        };
        if let Ok(db) = &db {
            match db::recover_interrupted_runs(&db.writer()) {
                Ok(0) => {}
                Ok(count) => tracing::warn!(count, "marked runs left over by a previous crash as interrupted"),
                Err(error) => tracing::warn!(%error, "could not check for interrupted runs"),
            }
        }
        let (tx, rx) = mpsc::channel(EVENT_CAPACITY);
        let sink = EventSink {
            tx,
            repaint: Arc::new(RwLock::new(None)),
        };
        let (ordered, mut ordered_rx) = mpsc::unbounded_channel::<LaneItem>();
        let secrets = Arc::new(crate::domain::secrets::SecretStore::from_env(paths.root()));
        let inner = Inner {
            runtime: runtime.clone(),
            ordered,
            paths,
            db,
            sink,
            next_request: AtomicU64::new(1),
            running_sql: Mutex::new(HashMap::new()),
            processes: ProcessRegistry::new(),
            claude_binary: ClaudeBinaryCache::new(),
            run_inputs: Mutex::new(HashMap::new()),
            child_env: RwLock::new(Vec::new()),
            settings_env: RwLock::new(Vec::new()),
            agent_runs: Mutex::new(HashMap::new()),
            self_exe: RwLock::new(std::env::current_exe().ok()),
            history: transcripts::HistoryState::new(),
            sign_in: crate::domain::signin::SignIn::new(),
            auth_server: RwLock::new(None),
            claude_json: RwLock::new(crate::domain::mcp::claude_json_path()),
            secrets: RwLock::new(secrets),
            claude_config_dir: RwLock::new(crate::domain::claude_config::config_dir()),
        };
        let sink = inner.sink.clone();
        inner.processes.set_on_count(move |running| {
            sink.try_send(Event::ProcessCount { running });
        });
        let backend = Self { inner: Arc::new(inner) };
        backend.apply_grace(settings.grace_secs);
        backend.set_settings_env(&settings);
        // The lane keeps the backend alive for as long as the runtime runs, so a write queued just
        // before the window closes still lands (`shutdown` waits for it).
        let lane = backend.clone();
        runtime.spawn(async move {
            while let Some(item) = ordered_rx.recv().await {
                match item {
                    LaneItem::Run(request_id, command) => lane.run_and_report(request_id, *command).await,
                    LaneItem::Barrier(done) => {
                        let _ = done.send(());
                    }
                }
            }
        });
        (backend, EventReceiver { rx })
    }

    /// The narrow handle for screens: sending requests, nothing else.
    pub fn requests(&self) -> Requests {
        Requests::new(self.clone())
    }

    /// Called by every sender after it sends, so the window wakes up for new events.
    pub fn set_repaint(&self, repaint: impl Fn() + Send + Sync + 'static) {
        let mut slot = self.inner.sink.repaint.write_or_recover();
        *slot = Some(Arc::new(repaint));
    }

    /// A sender for services that stream events (processes, watchers, servers).
    pub fn sink(&self) -> EventSink {
        self.inner.sink.clone()
    }

    /// The runtime commands run on.
    pub fn runtime(&self) -> &Handle {
        &self.inner.runtime
    }

    /// Where ANYON keeps its files.
    pub fn paths(&self) -> &DataPaths {
        &self.inner.paths
    }

    /// Sets variables added to the environment of every Claude process started from now on.
    pub fn set_child_env(&self, env: Vec<(OsString, OsString)>) {
        *self.inner.child_env.write_or_recover() = env;
    }

    /// The variables for a Claude process: those set with [`Backend::set_child_env`], then the proxy and
    /// extra variables of ANYON's settings.
    pub(crate) fn child_env(&self) -> Vec<(OsString, OsString)> {
        let mut env = self.inner.child_env.read_or_recover().clone();
        env.extend(self.inner.settings_env.read_or_recover().iter().cloned());
        env
    }

    /// Takes the proxy and extra variables of `settings` for the Claude processes started from now on.
    fn set_settings_env(&self, settings: &Settings) {
        let vars = settings
            .env
            .vars()
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .collect();
        *self.inner.settings_env.write_or_recover() = vars;
    }

    /// Sets the SIGTERM-to-SIGKILL grace period (whole seconds, already validated).
    fn apply_grace(&self, secs: u64) {
        self.inner.processes.set_grace(Duration::from_secs(secs));
    }

    /// Sets the `anyon` binary that hooks run (tests, where the running executable is the test binary).
    pub fn set_self_exe(&self, path: PathBuf) {
        *self.inner.self_exe.write_or_recover() = Some(path);
    }

    pub(crate) fn self_exe(&self) -> Option<PathBuf> {
        self.inner.self_exe.read_or_recover().clone()
    }

    /// Every Claude and agent process this backend started.
    pub fn processes(&self) -> &ProcessRegistry {
        &self.inner.processes
    }

    /// App exit: waits (briefly) for queued setting writes, then ends every process still running:
    /// SIGTERM, then SIGKILL after `grace`. Call from outside the runtime (the window's thread).
    pub fn shutdown(&self, grace: Duration) {
        self.stop_history();
        let (done, wait) = tokio::sync::oneshot::channel();
        if self.inner.ordered.send(LaneItem::Barrier(done)).is_ok() {
            let deadline = Instant::now() + Duration::from_secs(2);
            let mut wait = wait;
            while Instant::now() < deadline {
                match wait.try_recv() {
                    Ok(()) | Err(tokio::sync::oneshot::error::TryRecvError::Closed) => break,
                    Err(tokio::sync::oneshot::error::TryRecvError::Empty) => {
                        std::thread::sleep(Duration::from_millis(5))
                    }
                }
            }
        }
        self.inner.processes.terminate_all_blocking(grace);
    }

    /// Why the database could not be opened, if it could not.
    pub fn database_error(&self) -> Option<&db::DbError> {
        self.inner.db.as_ref().err().map(|error| &**error)
    }

    /// Runs `command` in the background; its result arrives as [`Event::Completed`] or
    /// [`Event::Failed`] with the returned id.
    pub fn dispatch(&self, command: impl Into<Command>) -> RequestId {
        let command = command.into();
        let request_id = self.inner.next_request.fetch_add(1, Ordering::Relaxed);
        if command.is_ordered() {
            let name = command.name();
            if self
                .inner
                .ordered
                .send(LaneItem::Run(request_id, Box::new(command)))
                .is_err()
            {
                tracing::error!(command = name, "the ordered command lane has stopped");
            }
        } else {
            let backend = self.clone();
            self.inner
                .runtime
                .spawn(async move { backend.run_and_report(request_id, command).await });
        }
        request_id
    }

    /// Executes `command` and sends its completion or failure as an event.
    async fn run_and_report(&self, request_id: RequestId, command: Command) {
        let name = command.name();
        let event = match self.execute_request(request_id, command).await {
            Ok(output) => Event::Completed {
                request_id,
                command: name,
                output,
            },
            Err(error) => {
                tracing::warn!(command = name, %error, "command failed");
                Event::Failed {
                    request_id,
                    command: name,
                    error: error.to_string(),
                    detail: error.detail(),
                }
            }
        };
        self.inner.sink.send(event).await;
    }

    /// Runs `command` and returns its result.
    pub async fn execute(&self, command: impl Into<Command>) -> Result<Output, BackendError> {
        let request_id = self.inner.next_request.fetch_add(1, Ordering::Relaxed);
        self.execute_request(request_id, command.into()).await
    }

    /// Runs `request` and returns its typed reply.
    pub async fn call<Q>(&self, request: Q) -> Result<Q::Reply, BackendError>
    where
        Q: Ask,
        Command: From<Q::Request>,
        Q::Replies: Replies,
    {
        let output = self.execute(Command::from(Q::Request::from(request))).await?;
        Q::Replies::from_output(output)
            .and_then(Q::unwrap)
            .ok_or(BackendError::WrongReply { command: Q::NAME })
    }

    async fn execute_request(&self, request_id: RequestId, command: Command) -> Result<Output, BackendError> {
        self.route(request_id, command)
            .await
            .map_err(|error| self.explain_full_disk(error))
    }

    /// A failure whose cause is a full disk under the database says so and names the database, whichever
    /// SQLite code (full, or an I/O error writing the journal) and whichever command it came through.
    fn explain_full_disk(&self, error: BackendError) -> BackendError {
        let database = self.inner.paths.database();
        let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(&error);
        while let Some(current) = cause {
            let code = current
                .downcast_ref::<rusqlite::Error>()
                .and_then(rusqlite::Error::sqlite_error_code)
                .or_else(|| current.downcast_ref::<rusqlite::ffi::Error>().map(|e| e.code));
            if code.is_some_and(|code| db::is_no_space(code, &database)) {
                return BackendError::Db(db::DbError::NoSpace { path: database });
            }
            cause = current.source();
        }
        error
    }

    async fn route(&self, request_id: RequestId, command: Command) -> Result<Output, BackendError> {
        match command {
            Command::Settings(request) => self.settings(request).await.map(Output::Settings),
            Command::Console(request) => self.storage(request_id, request).await.map(Output::Console),
            Command::Transcripts(request) => self.transcripts(request).await.map(Output::Transcripts),
            Command::Checkpoints(request) => self.checkpoints(request).await.map(Output::Checkpoints),
            Command::Agents(request) => self.agents(request).await.map(Output::Agents),
            Command::Claude(request) => self.claude(request).await.map(Output::Claude),
            Command::Mcp(request) => self.mcp(request).await.map(Output::Mcp),
            Command::Credentials(request) => self.credentials(request).await.map(Output::Credentials),
            Command::ClaudeConfig(request) => self.claude_config(request).await.map(Output::ClaudeConfig),
            Command::Dropped(request) => {
                let Request::ReadDroppedFile(q) = request;
                let (path, max_bytes) = (q.path.clone(), q.max_bytes);
                let bytes = tokio::task::spawn_blocking(move || dropped::read_bounded(&path, max_bytes))
                    .await?
                    .map_err(|source| BackendError::ReadFile {
                        path: q.path.clone(),
                        source,
                    })?;
                Ok(Output::Dropped(q.answer(DroppedFile {
                    path: q.path.clone(),
                    bytes,
                })))
            }
            Command::SignIn(request) => self.sign_in(request).await.map(Output::SignIn),
            Command::ProjectFiles(request) => self.project_files(request).await.map(Output::ProjectFiles),
        }
    }

    async fn settings(&self, request: SettingsRequest) -> Result<settings::requests::Reply, BackendError> {
        match request {
            SettingsRequest::LoadSettings(q) => {
                let settings = self.blocking(|db| Ok(settings::load(&db.writer())?)).await?;
                Ok(q.answer(settings))
            }
            SettingsRequest::SaveSetting(q) => {
                q.setting.validate()?;
                let setting = q.setting.clone();
                let backend = self.clone();
                let setting = self
                    .blocking(move |db| {
                        let conn = db.writer();
                        settings::save(&conn, &setting)?;
                        if setting.is_env() {
                            backend.set_settings_env(&settings::load(&conn)?);
                        }
                        Ok(setting)
                    })
                    .await?;
                if let Setting::GraceSecs(secs) = setting {
                    self.apply_grace(secs);
                }
                Ok(q.answer(setting))
            }
        }
    }

    /// Runs database work on tokio's blocking pool.
    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Db) -> Result<T, BackendError> + Send + 'static,
    ) -> Result<T, BackendError> {
        let db = self.inner.db.clone().map_err(BackendError::DatabaseUnavailable)?;
        tokio::task::spawn_blocking(move || work(&db)).await?
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests;
