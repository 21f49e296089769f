//! The registry of every Claude and agent process ANYON started.
//!
//! Each child runs in its own process group, owned by one task that waits for it. Stopping a run is
//! polite first (the owner may send Claude an `interrupt`), then SIGTERM to the whole group, then
//! SIGKILL after a grace period. Whatever still runs when ANYON exits is ended the same way, so
//! nothing is orphaned.

mod signal;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;
use tokio::sync::{mpsc, watch};

use crate::util::sync::LockExt;

pub use signal::{is_alive, signal_group};

/// Identifies one run (one process) for its whole life.
pub type RunId = u64;

/// How long a stop waits after SIGTERM before SIGKILL, unless configured.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(3);
/// How long a stop waits for a run to end by itself after the polite request.
pub const INTERRUPT_WAIT: Duration = Duration::from_millis(1500);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RunKind {
    Chat,
    Agent,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "lowercase")]
pub enum RunStatus {
    Running,
    /// Ended by itself; `code` is None when a signal ended it.
    Exited {
        code: Option<i32>,
    },
    /// Ended because someone asked.
    Cancelled,
}

/// What the registry knows of one run.
#[derive(Debug, Clone, Serialize)]
pub struct ProcessInfo {
    pub run_id: RunId,
    pub kind: RunKind,
    pub pid: u32,
    pub started_at: DateTime<Utc>,
    pub project: PathBuf,
    pub session_id: Option<String>,
    pub status: RunStatus,
}

/// The owner task's side of a registered run.
pub struct RunHandle {
    pub run_id: RunId,
    /// Receives a request to stop politely (e.g. send Claude an `interrupt`).
    pub stop_requested: mpsc::Receiver<()>,
    registry: ProcessRegistry,
}

impl RunHandle {
    /// Records that the process ended; the run leaves the registry.
    pub fn finish(self, status: RunStatus) {
        self.registry.finish(self.run_id, status);
    }

    pub fn set_session_id(&self, session_id: &str) {
        self.registry
            .update(self.run_id, |info| info.session_id = Some(session_id.to_owned()));
    }
}

struct Entry {
    info: ProcessInfo,
    stop: mpsc::Sender<()>,
    exited: watch::Receiver<bool>,
    exited_tx: watch::Sender<bool>,
    cancelling: bool,
}

struct Inner {
    runs: Mutex<HashMap<RunId, Entry>>,
    next_run: AtomicU64,
    grace: Mutex<Duration>,
    on_count: Mutex<Option<OnCount>>,
}

/// Told the number of live processes whenever it changes (it must not block).
pub type OnCount = Arc<dyn Fn(usize) + Send + Sync>;

/// Every live process ANYON started. Cheap to clone.
#[derive(Clone)]
pub struct ProcessRegistry {
    inner: Arc<Inner>,
}

impl Default for ProcessRegistry {
    fn default() -> Self {
        Self::new()
    }
}

impl ProcessRegistry {
    pub fn new() -> Self {
        Self {
            inner: Arc::new(Inner {
                runs: Mutex::new(HashMap::new()),
                next_run: AtomicU64::new(1),
                grace: Mutex::new(DEFAULT_GRACE),
                on_count: Mutex::new(None),
            }),
        }
    }

    /// Who is told of process-count changes.
    pub fn set_on_count(&self, on_count: impl Fn(usize) + Send + Sync + 'static) {
        *lock(&self.inner.on_count) = Some(Arc::new(on_count));
    }

    /// The time between SIGTERM and SIGKILL.
    pub fn set_grace(&self, grace: Duration) {
        *lock(&self.inner.grace) = grace;
    }

    /// A fresh run id (before the process exists, so early events can carry it).
    pub fn next_run_id(&self) -> RunId {
        self.inner.next_run.fetch_add(1, Ordering::Relaxed)
    }

    /// Registers a spawned child (already in its own process group, with `pid` as the group id).
    pub fn register(&self, run_id: RunId, kind: RunKind, pid: u32, project: PathBuf) -> RunHandle {
        let (stop, stop_requested) = mpsc::channel(1);
        let (exited_tx, exited) = watch::channel(false);
        let info = ProcessInfo {
            run_id,
            kind,
            pid,
            started_at: Utc::now(),
            project,
            session_id: None,
            status: RunStatus::Running,
        };
        lock(&self.inner.runs).insert(
            run_id,
            Entry {
                info,
                stop,
                exited,
                exited_tx,
                cancelling: false,
            },
        );
        self.report_count();
        RunHandle {
            run_id,
            stop_requested,
            registry: self.clone(),
        }
    }

    fn update(&self, run_id: RunId, change: impl FnOnce(&mut ProcessInfo)) {
        if let Some(entry) = lock(&self.inner.runs).get_mut(&run_id) {
            change(&mut entry.info);
        }
    }

    fn finish(&self, run_id: RunId, status: RunStatus) {
        if let Some(entry) = lock(&self.inner.runs).remove(&run_id) {
            tracing::info!(run_id, pid = entry.info.pid, ?status, "process ended");
            let _ = entry.exited_tx.send(true);
        }
        self.report_count();
    }

    fn report_count(&self) {
        let running = lock(&self.inner.runs).len();
        let on_count = lock(&self.inner.on_count).clone();
        if let Some(on_count) = on_count {
            on_count(running);
        }
    }

    /// Every live run.
    pub fn list(&self) -> Vec<ProcessInfo> {
        let mut runs: Vec<ProcessInfo> = lock(&self.inner.runs).values().map(|e| e.info.clone()).collect();
        runs.sort_by_key(|info| info.run_id);
        runs
    }

    pub fn get(&self, run_id: RunId) -> Option<ProcessInfo> {
        lock(&self.inner.runs).get(&run_id).map(|e| e.info.clone())
    }

    /// Whether the run is registered and its process still exists.
    pub fn is_process_running(&self, run_id: RunId) -> bool {
        self.get(run_id).is_some_and(|info| is_alive(info.pid))
    }

    /// Stops a run: a polite request to its owner, then SIGTERM to its process group, then SIGKILL
    /// after the grace period. Returns once the process has ended. False when no such run is live.
    pub async fn cancel(&self, run_id: RunId) -> bool {
        let (stop, mut exited, pid) = {
            let mut runs = lock(&self.inner.runs);
            let Some(entry) = runs.get_mut(&run_id) else {
                return false;
            };
            entry.cancelling = true;
            (entry.stop.clone(), entry.exited.clone(), entry.info.pid)
        };
        let grace = *lock(&self.inner.grace);
        // A full channel means a stop is already under way; that is fine.
        let _ = stop.try_send(());
        if wait_exit(&mut exited, INTERRUPT_WAIT).await {
            return true;
        }
        tracing::info!(run_id, pid, "sending SIGTERM to the process group");
        signal_group(pid, signal::Signal::Term);
        if wait_exit(&mut exited, grace).await {
            return true;
        }
        tracing::warn!(run_id, pid, "still running after the grace period; sending SIGKILL");
        signal_group(pid, signal::Signal::Kill);
        wait_exit(&mut exited, Duration::from_secs(5)).await
    }

    /// Whether a cancel was requested for the run (so its end is reported as cancelled).
    pub fn is_cancelling(&self, run_id: RunId) -> bool {
        lock(&self.inner.runs).get(&run_id).is_some_and(|e| e.cancelling)
    }

    /// Ends every live process group right away (SIGTERM, a short wait, SIGKILL). For app exit,
    /// from synchronous code; waits at most `grace`.
    pub fn terminate_all_blocking(&self, grace: Duration) {
        let pids: Vec<u32> = lock(&self.inner.runs).values().map(|e| e.info.pid).collect();
        if pids.is_empty() {
            return;
        }
        tracing::info!(count = pids.len(), "ending every running process");
        for pid in &pids {
            signal_group(*pid, signal::Signal::Term);
        }
        let deadline = std::time::Instant::now() + grace;
        while std::time::Instant::now() < deadline && pids.iter().any(|pid| is_alive(*pid)) {
            std::thread::sleep(Duration::from_millis(20));
        }
        for pid in pids {
            signal_group(pid, signal::Signal::Kill);
        }
    }
}

async fn wait_exit(exited: &mut watch::Receiver<bool>, timeout: Duration) -> bool {
    tokio::time::timeout(timeout, exited.wait_for(|done| *done))
        .await
        .is_ok_and(|r| r.is_ok())
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock_or_recover()
}

/// Ends every process of the registry when dropped: keep one alive for the app's lifetime so that a
/// panic or an early return still leaves no orphan.
pub struct TerminateOnDrop(pub ProcessRegistry);

impl Drop for TerminateOnDrop {
    fn drop(&mut self) {
        self.0.terminate_all_blocking(Duration::from_secs(2));
    }
}
