//! Keeps the index current while the app runs: a `notify` watcher on the projects folder whose events,
//! gathered for a short quiet period, trigger an incremental scan.

use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

use notify::{RecursiveMode, Watcher};

/// A running watcher; dropping it stops watching.
pub struct TranscriptWatcher {
    _watcher: notify::RecommendedWatcher,
}

/// Watches `root` (created if missing) and calls `changed` after each burst of file events, at most once per
/// `quiet` period. The callback runs on the watcher's own thread.
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
                while rx.recv_timeout(quiet).is_ok() {}
                changed();
            }
        })
        .map_err(|e| notify::Error::io(e))?;
    Ok(TranscriptWatcher { _watcher: watcher })
}
