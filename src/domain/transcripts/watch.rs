//! Keeps the index current while the app runs: a `notify` watcher on the projects folder whose events,
//! gathered for a short quiet period, trigger an incremental scan.

use std::path::Path;
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The longest a burst of events is gathered before a scan runs anyway.
pub const MAX_BURST: Duration = Duration::from_secs(2);

use notify::{RecursiveMode, Watcher};

/// A running watcher; dropping it stops watching.
pub struct TranscriptWatcher {
    _watcher: notify::RecommendedWatcher,
}

/// Watches `root` (created if missing) and calls `changed` after each burst of file events: once the folder
/// has been quiet for `quiet`, or after [`MAX_BURST`] of continuous writes (a long streaming session still
/// shows up while it runs). The callback runs on the watcher's own thread.
pub fn watch(root: &Path, quiet: Duration, changed: impl Fn() + Send + 'static) -> notify::Result<TranscriptWatcher> {
    let (tx, rx) = mpsc::channel::<()>();
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        if let Ok(event) = event
            && !event.kind.is_access()
        {
            let _ = tx.send(());
        }
    })?;
    if !root.exists() {
        let _ = std::fs::create_dir_all(root);
    }
    watcher.watch(root, RecursiveMode::Recursive)?;
    std::thread::Builder::new()
        .name("transcript-watch".into())
        .spawn(move || {
            while rx.recv().is_ok() {
                // Gather the burst: a session writes many lines in a row.
                let started = Instant::now();
                while started.elapsed() < MAX_BURST && rx.recv_timeout(quiet).is_ok() {}
                changed();
            }
        })
        .map_err(notify::Error::io)?;
    Ok(TranscriptWatcher { _watcher: watcher })
}
