//! Shared test harness: temporary data folders, a runtime, the built `anyon` binary, and the real Claude CLI
//! run against a mock Messages API.

pub mod claude;
pub mod mock_api;
pub mod npm;
pub mod oidc;
pub mod transcripts;
pub mod ui;

pub use claude::claude_bin;

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use anyon::backend::{Backend, EventReceiver};
use anyon::util::paths::DataPaths;

/// True when the tests run in CI (`CI` set to anything but empty, `0` or `false`), where every peer a
/// test needs must be present: `.ci/run` installs them all.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|value| !matches!(value.trim(), "" | "0" | "false"))
}

/// Says that `test` cannot run here because of `reason` (a missing peer). In CI that is a failure: the
/// test panics with the reason, so it can never pass as "ok" without running. Locally it prints one line
/// straight to the process's stderr, past the harness's capture, so `cargo test` shows it; the caller then
/// returns.
pub fn skip(test: &str, reason: &str) {
    assert!(
        !in_ci(),
        "{test} cannot run: {reason} (in CI every peer must be installed; see .ci/run)"
    );
    let _ = writeln!(std::io::stderr(), "skipping {test}: {reason}");
}

/// A temporary ANYON data folder, removed when dropped.
pub struct TempHome {
    dir: tempfile::TempDir,
}

impl TempHome {
    pub fn new() -> Self {
        Self {
            dir: tempfile::Builder::new()
                .prefix("anyon-test")
                .tempdir()
                .expect("temp dir"),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn paths(&self) -> DataPaths {
        DataPaths::at(self.dir.path().to_path_buf())
    }

    /// Runs the real `anyon` binary with `ANYON_HOME` set to this folder.
    pub fn anyon(&self, args: &[&str]) -> Output {
        self.anyon_command(args).output().expect("run anyon")
    }

    pub fn anyon_command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(anyon_bin());
        command
            .args(args)
            .env("ANYON_HOME", self.path())
            .env_remove("ANYON_LOG")
            .env_remove("DISPLAY")
            .env_remove("WAYLAND_DISPLAY");
        command
    }
}

/// Held by tests that kill `anyon` processes at timed moments: they measure a clean run and kill within
/// it, so two of them sharing the CPU would spoil each other's timing.
pub fn kill_lock() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The `anyon` binary Cargo built for these tests.
pub fn anyon_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_anyon"))
}

/// A small multi-threaded runtime for a test.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

/// Opens a backend on `home`.
pub fn backend(runtime: &tokio::runtime::Runtime, home: &TempHome) -> (Backend, EventReceiver) {
    Backend::open(runtime.handle().clone(), home.paths())
}

/// Polls `check` until it returns `Some`, or panics with `what` after `timeout`.
pub fn wait_for<T>(what: &str, timeout: Duration, mut check: impl FnMut() -> Option<T>) -> T {
    let started = Instant::now();
    loop {
        if let Some(value) = check() {
            return value;
        }
        assert!(started.elapsed() < timeout, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Runs `command` to its end and returns its output with the peak resident memory of that process (its
/// `ru_maxrss`, in KiB), read from the kernel as the child is reaped.
#[cfg(target_os = "linux")]
#[allow(clippy::zombie_processes)] // reaped by wait4 below
pub fn run_measured(command: &mut Command) -> (Output, u64) {
    use std::io::Read;
    use std::os::unix::process::ExitStatusExt;
    use std::process::{ExitStatus, Stdio};
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut stdout = child.stdout.take().expect("stdout");
    let mut stderr = child.stderr.take().expect("stderr");
    let out = std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = stdout.read_to_end(&mut bytes);
        bytes
    });
    let err = std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = stderr.read_to_end(&mut bytes);
        bytes
    });
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: all-zero bytes are a valid `rusage` (plain integers and timevals).
    #[allow(unsafe_code)]
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `pid` is our own unreaped child; `status` and `usage` are valid for writes. `child` is not
    // waited on afterwards.
    #[allow(unsafe_code)]
    let reaped = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(reaped, pid, "wait4: {}", std::io::Error::last_os_error());
    let output = Output {
        status: ExitStatus::from_raw(status),
        stdout: out.join().expect("stdout reader"),
        stderr: err.join().expect("stderr reader"),
    };
    (output, usage.ru_maxrss as u64)
}
