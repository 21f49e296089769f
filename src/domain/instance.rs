//! Single instance: the first `anyon` window listens on a local socket; a later `anyon` hands it a
//! message and exits. Unix uses a domain socket in the (owner-only) data directory; Windows a named
//! pipe derived from the data directory.
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

/// The socket path for the data directory. Unix socket paths are limited to ~100 bytes, so a long
/// data directory falls back to a name in the temporary directory derived from it.
pub fn socket_path(paths: &DataPaths) -> PathBuf {
    let preferred = paths.instance_socket();
    if preferred.as_os_str().len() < 100 {
        return preferred;
    }
    std::env::temp_dir().join(format!("anyon-{:016x}.sock", stable_hash(paths.root())))
}

/// FNV-1a: stable across builds and processes, unlike std's hasher.
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
    use std::io::{BufRead, BufReader, Write};
    use std::os::unix::net::{UnixListener, UnixStream};

    /// The bound socket, served by [`Listener::serve`].
    pub struct Listener {
        listener: UnixListener,
        path: PathBuf,
    }

    /// Becomes the instance for `paths`, or forwards `message` to the one that already is.
    pub fn claim(paths: &DataPaths, message: &impl Serialize) -> std::io::Result<Claim> {
        let path = socket_path(paths);
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

    fn forward(path: &Path, message: &impl Serialize) -> std::io::Result<()> {
        let mut stream = UnixStream::connect(path)?;
        stream.set_read_timeout(Some(FORWARD_TIMEOUT))?;
        stream.set_write_timeout(Some(FORWARD_TIMEOUT))?;
        let mut line = serde_json::to_vec(message)?;
        line.push(b'\n');
        stream.write_all(&line)?;
        let mut answer = String::new();
        BufReader::new(stream).read_line(&mut answer)?;
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

    fn pipe_name(paths: &DataPaths) -> String {
        format!(r"\\.\pipe\anyon-{:016x}", stable_hash(paths.root()))
    }

    pub fn claim(paths: &DataPaths, message: &impl Serialize) -> std::io::Result<Claim> {
        let name = pipe_name(paths);
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        let _guard = runtime.enter();
        match ServerOptions::new().first_pipe_instance(true).create(&name) {
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
                    server = match ServerOptions::new().create(&name) {
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
    fn second_claim_forwards_and_stale_sockets_are_replaced() {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let paths = DataPaths::at(dir.path().to_path_buf());
        // A socket file nobody listens on (a crashed instance) must not block a new start.
        drop(std::os::unix::net::UnixListener::bind(socket_path(&paths)).unwrap());
        let Claim::Primary(listener) = claim(&paths, &Vec::<String>::new()).unwrap() else {
            panic!("expected primary")
        };
        let (tx, rx) = std::sync::mpsc::channel::<Vec<String>>();
        let tx = std::sync::Mutex::new(tx);
        let deliver: Deliver<Vec<String>> = std::sync::Arc::new(move |message| {
            let _ = tx.lock().unwrap().send(message);
        });
        let _guard = listener.serve(runtime.handle(), deliver).unwrap();
        let message = vec!["--screen".to_string(), "usage".to_string()];
        assert!(matches!(claim(&paths, &message).unwrap(), Claim::Forwarded));
        let received = rx.recv_timeout(Duration::from_secs(5)).ok();
        assert_eq!(received, Some(message));
        // A message of another shape is refused, not delivered.
        assert!(claim(&paths, &serde_json::json!({"unexpected": 1})).is_err());
        assert!(rx.recv_timeout(Duration::from_millis(200)).is_err());
    }

    #[test]
    fn long_data_directories_get_a_short_socket() {
        let long = DataPaths::at(PathBuf::from("/tmp").join("x".repeat(150)));
        let path = socket_path(&long);
        assert!(path.as_os_str().len() < 100, "{}", path.display());
        assert_eq!(path, socket_path(&long), "the fallback is stable");
    }
}
