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
/// `ru_maxrss`, in KiB).
///
/// The kernel counts in a process's `ru_maxrss` the memory of the process it was forked from, as it
/// stood at the fork: a child of this test binary (hundreds of megabytes while other tests run) would
/// seem that big. So a small Python launcher forks it and reports the figure of its own child.
#[cfg(target_os = "linux")]
pub fn run_measured(command: &mut Command) -> (Output, u64) {
    const LAUNCHER: &str = r#"
import os, signal, sys
pid = os.fork()
if pid == 0:
    try:
        os.execvp(sys.argv[2], sys.argv[2:])
    except OSError as error:
        sys.stderr.write('cannot run %s: %s\n' % (sys.argv[2], error))
    os._exit(127)
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], 'w') as out:
    out.write(str(usage.ru_maxrss))
if os.WIFSIGNALED(status):
    signal.signal(os.WTERMSIG(status), signal.SIG_DFL)
    os.kill(os.getpid(), os.WTERMSIG(status))
sys.exit(os.WEXITSTATUS(status))
"#;
    let python = std::path::Path::new("/usr/bin/python3");
    assert!(
        python.exists(),
        "measuring memory needs /usr/bin/python3 (.ci/run installs it)"
    );
    let report = tempfile::NamedTempFile::new().expect("a file for the launcher's report");
    let mut launcher = Command::new(python);
    launcher
        .arg("-c")
        .arg(LAUNCHER)
        .arg(report.path())
        .arg(command.get_program())
        .args(command.get_args());
    for (key, value) in command.get_envs() {
        match value {
            Some(value) => launcher.env(key, value),
            None => launcher.env_remove(key),
        };
    }
    if let Some(dir) = command.get_current_dir() {
        launcher.current_dir(dir);
    }
    let output = launcher
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run the measuring launcher");
    let rss = std::fs::read_to_string(report.path())
        .ok()
        .and_then(|text| text.trim().parse().ok())
        .unwrap_or_else(|| {
            panic!(
                "the launcher reported no figure: {}",
                String::from_utf8_lossy(&output.stderr)
            )
        });
    (output, rss)
}
