//! Single instance: the first `anyon` window listens on a local socket; a later `anyon` hands it a
//! message and exits. Windows uses a named pipe named by a random key kept in the data directory (the
//! user's own profile), so another user can neither find the pipe to connect to it nor claim its name
//! first, and remote clients are refused. Unix uses a domain
//! socket named after the data directory in `$XDG_RUNTIME_DIR` when that is set (and private to this
//! user), else `anyon.sock` in the data directory, else (a data directory too long for a socket path) in
//! a private `anyon-UID` folder of the temporary directory, never a predictable shared path.
//!
//! The messages are sign-in links among others, so they only go to this user's own instance: before
//! forwarding, the socket file must belong to this user and the process serving it must run as this user
//! (its peer credentials); the server likewise drops clients of another user.
//!
//! The message is whatever serde type the caller chooses (the window's typed handover); this module
//! only carries it, as one bounded JSON line, and hands each one received to a callback.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::util::paths::DataPaths;

/// The longest message a client may send (arguments of one start).
const MAX_MESSAGE: usize = 64 * 1024;
/// How long a client waits for the running instance to answer.
const FORWARD_TIMEOUT: Duration = Duration::from_secs(3);

/// What a served socket does with each message received.
pub type Deliver<M> = std::sync::Arc<dyn Fn(M) + Send + Sync>;

/// The outcome of trying to become the one running instance.
pub enum Claim {
    /// No other instance runs: this process serves the socket.
    Primary(Listener),
    /// Another instance runs and has received the arguments.
    Forwarded,
}

/// Unix socket paths are limited to about 100 bytes.
#[cfg(unix)]
const MAX_SOCKET_PATH: usize = 100;

/// The socket path for the data directory, with `$XDG_RUNTIME_DIR` from the environment.
#[cfg(unix)]
pub fn socket_path(paths: &DataPaths) -> std::io::Result<PathBuf> {
    socket_path_in(paths, std::env::var_os("XDG_RUNTIME_DIR").as_deref())
}

/// The socket path for the data directory given the runtime directory (`$XDG_RUNTIME_DIR`): in it when
/// it is an absolute path to a folder only this user can use; else `anyon.sock` in the data directory;
/// else, for a data directory too long for a socket path, in `anyon-UID` of the temporary directory,
/// made owner-only (and refused when it exists but is not this user's and private).
#[cfg(unix)]
pub fn socket_path_in(paths: &DataPaths, runtime_dir: Option<&std::ffi::OsStr>) -> std::io::Result<PathBuf> {
    let name = format!("anyon-{:016x}.sock", stable_hash(paths.root()));
    if let Some(dir) = runtime_dir.map(Path::new).filter(|dir| dir.is_absolute()) {
        let path = dir.join(&name);
        match private_dir(dir) {
            Ok(()) if path.as_os_str().len() < MAX_SOCKET_PATH => return Ok(path),
            Ok(()) => {}
            Err(error) => tracing::warn!(%error, "XDG_RUNTIME_DIR is not used for the instance socket"),
        }
    }
    let preferred = paths.instance_socket();
    if preferred.as_os_str().len() < MAX_SOCKET_PATH {
        return Ok(preferred);
    }
    let dir = std::env::temp_dir().join(format!("anyon-{}", effective_uid()));
    match std::fs::DirBuilder::new().mode(0o700).create(&dir) {
        Ok(()) => {}
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(error) => return Err(error),
    }
    private_dir(&dir)?;
    Ok(dir.join(name))
}

#[cfg(unix)]
use std::os::unix::fs::{DirBuilderExt, FileTypeExt, MetadataExt};

/// This process's effective user id.
#[cfg(unix)]
pub fn effective_uid() -> u32 {
    // SAFETY: geteuid(2) takes no arguments, touches no memory and cannot fail.
    #[allow(unsafe_code)]
    unsafe {
        libc::geteuid()
    }
}

/// Checks that `dir` is a real folder (not a link) of this user that nobody else may use.
#[cfg(unix)]
fn private_dir(dir: &Path) -> std::io::Result<()> {
    let meta = std::fs::symlink_metadata(dir)?;
    let refuse = |why: String| {
        Err(std::io::Error::new(
            std::io::ErrorKind::PermissionDenied,
            format!("{} {why}", dir.display()),
        ))
    };
    if !meta.file_type().is_dir() {
        return refuse("is not a folder".into());
    }
    if meta.uid() != effective_uid() {
        return refuse(format!("belongs to uid {}, not to this user", meta.uid()));
    }
    if meta.mode() & 0o077 != 0 {
        return refuse(format!("is open to other users (mode {:o})", meta.mode() & 0o777));
    }
    Ok(())
}

/// Checks that the socket at `path` is a socket of this user, before anything is sent to it.
#[cfg(unix)]
fn own_socket(path: &Path) -> std::io::Result<()> {
    let meta = std::fs::symlink_metadata(path)?;
    if !meta.file_type().is_socket() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("{} is not a socket; not forwarding to it", path.display()),
        ));
    }
    if meta.uid() != effective_uid() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::PermissionDenied,
            format!(
                "the instance socket {} belongs to uid {}, not to this user; not forwarding to it",
                path.display(),
                meta.uid()
            ),
        ));
    }
    Ok(())
}

/// Refuses a peer that runs as another user.
#[cfg(unix)]
fn same_user(stream: &tokio::net::UnixStream, what: &str) -> std::io::Result<()> {
    let uid = stream.peer_cred()?.uid();
    if uid == effective_uid() {
        Ok(())
    } else {
        Err(std::io::Error::new(
            std::io::ErrorKind::PermissionDenied,
            format!("{what} runs as uid {uid}, not as this user"),
        ))
    }
}

/// The file in the data directory that holds the instance pipe's key.
const PIPE_KEY_FILE: &str = "instance-key";
/// Random bytes in a key (hex-encoded in the file and the pipe's name).
const PIPE_KEY_BYTES: usize = 16;

/// The random key that names the data directory's instance pipe (Windows), made on first use. Two first
/// starts at the same moment agree on one key: each writes its key whole to a file of its own and links
/// it into place, which only one link can do; the other reads the winner's. A damaged key (not one this
/// function wrote) is replaced: it names nothing that could be lost.
#[cfg_attr(not(windows), allow(dead_code))]
fn pipe_key(root: &Path) -> std::io::Result<String> {
    use crate::util::{fs, hex};
    let path = root.join(PIPE_KEY_FILE);
    let valid = |text: &str| text.len() == 2 * PIPE_KEY_BYTES && text.bytes().all(|b| b.is_ascii_hexdigit());
    match fs::read_capped_text(&path, 1024) {
        Ok(text) if valid(text.trim()) => return Ok(text.trim().to_string()),
        Ok(_) => {
            let key = hex::random(PIPE_KEY_BYTES)?;
            fs::write_atomic_private(&path, key.as_bytes())?;
            return Ok(key);
        }
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
        Err(error) => return Err(error),
    }
    std::fs::create_dir_all(root)?;
    let key = hex::random(PIPE_KEY_BYTES)?;
    let own = root.join(format!(".{PIPE_KEY_FILE}.{}", hex::random(8)?));
    fs::write_atomic_private(&own, key.as_bytes())?;
    let linked = std::fs::hard_link(&own, &path);
    let _ = std::fs::remove_file(&own);
    match linked {
        Ok(()) => Ok(key),
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {
            let text = fs::read_capped_text(&path, 1024)?;
            if valid(text.trim()) {
                Ok(text.trim().to_string())
            } else {
                Err(std::io::Error::other(format!(
                    "{} holds no instance key",
                    path.display()
                )))
            }
        }
        Err(error) => Err(error),
    }
}

/// FNV-1a: stable across builds and processes, unlike std's hasher.
#[cfg(unix)]
fn stable_hash(path: &Path) -> u64 {
    path.as_os_str()
        .as_encoded_bytes()
        .iter()
        .fold(0xcbf29ce484222325_u64, |hash, byte| {
            (hash ^ u64::from(*byte)).wrapping_mul(0x100000001b3)
        })
}

#[cfg(unix)]
mod platform {
    use super::*;
    use std::os::unix::net::UnixListener;

    /// The bound socket, served by [`Listener::serve`].
    pub struct Listener {
        listener: UnixListener,
        path: PathBuf,
    }

    /// Becomes the instance for `paths`, or forwards `message` to the one that already is.
    pub fn claim(paths: &DataPaths, message: &impl Serialize) -> std::io::Result<Claim> {
        claim_at(&socket_path(paths)?, message)
    }

    /// Becomes the instance listening at `path`, or forwards `message` to the one that already does, if
    /// it is this user's.
    pub fn claim_at(path: &Path, message: &impl Serialize) -> std::io::Result<Claim> {
        let path = path.to_path_buf();
        for _ in 0..2 {
            match UnixListener::bind(&path) {
                Ok(listener) => {
                    restrict(&path);
                    return Ok(Claim::Primary(Listener { listener, path }));
                }
                Err(error) if error.kind() == std::io::ErrorKind::AddrInUse => match forward(&path, message) {
                    Ok(()) => return Ok(Claim::Forwarded),
                    Err(forward_error) if is_stale(&forward_error) => {
                        tracing::info!(path = %path.display(), "removing a stale instance socket");
                        std::fs::remove_file(&path)?;
                    }
                    Err(forward_error) => return Err(forward_error),
                },
                Err(error) => return Err(error),
            }
        }
        Err(std::io::Error::other(format!(
            "could not claim the instance socket {}",
            path.display()
        )))
    }

    /// Nobody listens on a socket file left by a crash.
    fn is_stale(error: &std::io::Error) -> bool {
        matches!(
            error.kind(),
            std::io::ErrorKind::ConnectionRefused | std::io::ErrorKind::NotFound
        )
    }

    fn restrict(path: &Path) {
        use std::os::unix::fs::PermissionsExt;
        if let Err(error) = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)) {
            tracing::warn!(%error, "could not restrict the instance socket");
        }
    }

    /// Connects to `path`, checks the peer, sends `line` and reads the answer line.
    fn exchange(path: &Path, line: &[u8]) -> std::io::Result<String> {
        use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        runtime.block_on(async {
            let mut stream = tokio::net::UnixStream::connect(path).await?;
            same_user(&stream, "the process serving the instance socket")?;
            let talk = async {
                stream.write_all(line).await?;
                let mut answer = String::new();
                BufReader::new(&mut stream).read_line(&mut answer).await?;
                Ok::<_, std::io::Error>(answer)
            };
            tokio::time::timeout(FORWARD_TIMEOUT, talk)
                .await
                .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "the running instance did not answer"))?
        })
    }

    /// Hands `message` to the instance at `path`: only when the socket file is this user's, and the
    /// process that accepts the connection runs as this user.
    fn forward(path: &Path, message: &impl Serialize) -> std::io::Result<()> {
        own_socket(path)?;
        let mut line = serde_json::to_vec(message)?;
        line.push(b'\n');
        // On a thread of its own, so that a caller already inside a runtime is no problem.
        let answer = std::thread::scope(|scope| {
            scope
                .spawn(|| exchange(path, &line))
                .join()
                .unwrap_or_else(|_| Err(std::io::Error::other("the handover thread failed")))
        })?;
        if answer.trim() == "ok" {
            Ok(())
        } else {
            Err(std::io::Error::other(format!(
                "the running instance answered {answer:?}"
            )))
        }
    }

    impl Listener {
        /// Accepts handovers on the runtime until the process ends, giving each message to `deliver`.
        pub fn serve<M: DeserializeOwned + Send + 'static>(
            self,
            runtime: &tokio::runtime::Handle,
            deliver: Deliver<M>,
        ) -> std::io::Result<InstanceGuard> {
            self.listener.set_nonblocking(true)?;
            let _guard = runtime.enter();
            let listener = tokio::net::UnixListener::from_std(self.listener)?;
            let guard = InstanceGuard(Some(self.path));
            runtime.spawn(async move {
                loop {
                    match listener.accept().await {
                        Ok((stream, _)) => {
                            if let Err(error) = same_user(&stream, "an instance socket client") {
                                tracing::warn!(%error, "refused an instance handover");
                                continue;
                            }
                            let deliver = deliver.clone();
                            tokio::spawn(async move {
                                let (read, mut write) = stream.into_split();
                                match super::read_handover::<M>(read).await {
                                    Ok(message) => {
                                        use tokio::io::AsyncWriteExt;
                                        let _ = write.write_all(b"ok\n").await;
                                        deliver(message);
                                    }
                                    Err(error) => tracing::warn!(%error, "bad instance handover"),
                                }
                            });
                        }
                        Err(error) => {
                            tracing::warn!(%error, "instance socket accept failed");
                            tokio::time::sleep(Duration::from_millis(200)).await;
                        }
                    }
                }
            });
            Ok(guard)
        }
    }
}

#[cfg(windows)]
mod platform {
    use super::*;
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    use tokio::net::windows::named_pipe::{ClientOptions, ServerOptions};

    pub struct Listener {
        name: String,
        first: tokio::net::windows::named_pipe::NamedPipeServer,
    }

    /// The pipe's name: the data directory's random key, which only this user can read.
    fn pipe_name(paths: &DataPaths) -> std::io::Result<String> {
        Ok(format!(r"\\.\pipe\anyon-{}", super::pipe_key(paths.root())?))
    }

    pub fn claim(paths: &DataPaths, message: &impl Serialize) -> std::io::Result<Claim> {
        let name = pipe_name(paths)?;
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        let _guard = runtime.enter();
        match ServerOptions::new()
            .first_pipe_instance(true)
            .reject_remote_clients(true)
            .create(&name)
        {
            Ok(first) => Ok(Claim::Primary(Listener { name, first })),
            Err(_) => runtime.block_on(async {
                let client = ClientOptions::new().open(&name)?;
                let (read, mut write) = tokio::io::split(client);
                let mut line = serde_json::to_vec(message)?;
                line.push(b'\n');
                write.write_all(&line).await?;
                let mut answer = String::new();
                tokio::time::timeout(FORWARD_TIMEOUT, BufReader::new(read).read_line(&mut answer))
                    .await
                    .map_err(|_| std::io::Error::other("the running instance did not answer"))??;
                Ok(Claim::Forwarded)
            }),
        }
    }

    impl Listener {
        pub fn serve<M: DeserializeOwned + Send + 'static>(
            self,
            runtime: &tokio::runtime::Handle,
            deliver: Deliver<M>,
        ) -> std::io::Result<InstanceGuard> {
            let Listener { name, first } = self;
            runtime.spawn(async move {
                let mut server = first;
                loop {
                    if server.connect().await.is_err() {
                        continue;
                    }
                    let connected = server;
                    server = match ServerOptions::new().reject_remote_clients(true).create(&name) {
                        Ok(next) => next,
                        Err(error) => {
                            tracing::warn!(%error, "could not reopen the instance pipe");
                            return;
                        }
                    };
                    let deliver = deliver.clone();
                    tokio::spawn(async move {
                        let (read, mut write) = tokio::io::split(connected);
                        if let Ok(message) = super::read_handover::<M>(read).await {
                            let _ = write.write_all(b"ok\n").await;
                            deliver(message);
                        }
                    });
                }
            });
            // A named pipe leaves no file behind.
            Ok(super::InstanceGuard(None))
        }
    }
}

#[cfg(unix)]
pub use platform::claim_at;
pub use platform::{Listener, claim};

/// Removes the instance socket file when the instance ends (keep it alive as long as the window).
pub struct InstanceGuard(Option<PathBuf>);

impl Drop for InstanceGuard {
    fn drop(&mut self) {
        if let Some(path) = self.0.take() {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// Reads one bounded JSON line from a client.
async fn read_handover<M: DeserializeOwned>(read: impl tokio::io::AsyncRead + Unpin) -> std::io::Result<M> {
    use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
    let mut line = Vec::new();
    let mut limited = BufReader::new(read.take(MAX_MESSAGE as u64));
    tokio::time::timeout(FORWARD_TIMEOUT, limited.read_until(b'\n', &mut line))
        .await
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "client sent nothing"))??;
    serde_json::from_slice(&line).map_err(std::io::Error::other)
}

#[cfg(all(test, unix))]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn the_pipe_key_is_made_once_shared_by_racing_starts_and_private() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("data");
        let keys: Vec<String> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..8).map(|_| scope.spawn(|| pipe_key(&root).unwrap())).collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert!(
            keys.iter().all(|k| k == &keys[0]),
            "racing first starts agree: {keys:?}"
        );
        assert_eq!(keys[0].len(), 2 * PIPE_KEY_BYTES);
        assert_eq!(pipe_key(&root).unwrap(), keys[0], "the key is kept");
        let names: Vec<_> = std::fs::read_dir(&root)
            .unwrap()
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert_eq!(names, [PIPE_KEY_FILE], "no file of a losing start is left");
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(root.join(PIPE_KEY_FILE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "only this user reads the key");
        // Another data directory has another key; a damaged key is replaced by a good one.
        assert_ne!(pipe_key(&dir.path().join("other")).unwrap(), keys[0]);
        std::fs::write(root.join(PIPE_KEY_FILE), "not a key").unwrap();
        let fresh = pipe_key(&root).unwrap();
        assert_eq!(fresh.len(), 2 * PIPE_KEY_BYTES);
        assert_eq!(pipe_key(&root).unwrap(), fresh);
    }

    #[test]
    fn second_claim_forwards_and_stale_sockets_are_replaced() {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let paths = DataPaths::at(dir.path().to_path_buf());
        // A socket file nobody listens on (a crashed instance) must not block a new start.
        drop(std::os::unix::net::UnixListener::bind(socket_path_in(&paths, None).unwrap()).unwrap());
        let path = socket_path_in(&paths, None).unwrap();
        let Claim::Primary(listener) = claim_at(&path, &Vec::<String>::new()).unwrap() else {
            panic!("expected primary")
        };
        let (tx, rx) = std::sync::mpsc::channel::<Vec<String>>();
        let tx = std::sync::Mutex::new(tx);
        let deliver: Deliver<Vec<String>> = std::sync::Arc::new(move |message| {
            let _ = tx.lock().unwrap().send(message);
        });
        let _guard = listener.serve(runtime.handle(), deliver).unwrap();
        let message = vec!["--screen".to_string(), "usage".to_string()];
        assert!(matches!(claim_at(&path, &message).unwrap(), Claim::Forwarded));
        let received = rx.recv_timeout(Duration::from_secs(5)).ok();
        assert_eq!(received, Some(message));
        // A message of another shape is refused, not delivered.
        assert!(claim_at(&path, &serde_json::json!({"unexpected": 1})).is_err());
        assert!(rx.recv_timeout(Duration::from_millis(200)).is_err());
    }

    #[test]
    fn long_data_directories_get_a_short_socket_in_a_private_folder() {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        let long = DataPaths::at(PathBuf::from("/tmp").join("x".repeat(150)));
        let path = socket_path_in(&long, None).unwrap();
        assert!(path.as_os_str().len() < MAX_SOCKET_PATH, "{}", path.display());
        assert_eq!(path, socket_path_in(&long, None).unwrap(), "the fallback is stable");
        let dir = std::fs::metadata(path.parent().unwrap()).unwrap();
        assert_eq!(dir.uid(), effective_uid());
        assert_eq!(dir.permissions().mode() & 0o777, 0o700);
        assert_ne!(
            path.parent(),
            Some(std::env::temp_dir().as_path()),
            "not straight in the shared folder"
        );
    }

    #[test]
    fn the_runtime_dir_is_used_only_when_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let paths = DataPaths::at(dir.path().join("data"));
        let runtime = dir.path().join("runtime");
        std::fs::create_dir(&runtime).unwrap();
        std::fs::set_permissions(&runtime, std::fs::Permissions::from_mode(0o700)).unwrap();
        let path = socket_path_in(&paths, Some(runtime.as_os_str())).unwrap();
        assert_eq!(path.parent(), Some(runtime.as_path()));
        // Open to others, relative, or missing: the data directory instead.
        std::fs::set_permissions(&runtime, std::fs::Permissions::from_mode(0o777)).unwrap();
        let fallback = paths.instance_socket();
        assert_eq!(socket_path_in(&paths, Some(runtime.as_os_str())).unwrap(), fallback);
        assert_eq!(socket_path_in(&paths, Some("relative/dir".as_ref())).unwrap(), fallback);
        let missing = dir.path().join("missing");
        assert_eq!(socket_path_in(&paths, Some(missing.as_os_str())).unwrap(), fallback);
    }
}
