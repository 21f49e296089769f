//! Files a person hands the window (dropped images): read by the backend, bounded, never by a screen.

use std::path::{Path, PathBuf};

use serde::Serialize;

/// The answers (as JSON: `{"kind": "file_read", "data": {...}}`).
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", content = "data", rename_all = "snake_case")]
pub enum Reply {
    FileRead(DroppedFile),
}

/// A dropped file's bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DroppedFile {
    pub path: PathBuf,
    #[serde(skip)]
    pub bytes: Vec<u8>,
}

crate::requests! {
    /// Reads a file a person dropped on the window, refusing one larger than `max_bytes`.
    ReadDroppedFile { pub path: PathBuf, pub max_bytes: u64 } = "read_dropped_file" => FileRead(DroppedFile);
}

/// Reads a whole file of at most `max_bytes` (checked while reading, so a file that grows is still bounded).
pub fn read_bounded(path: &Path, max_bytes: u64) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let file = std::fs::File::open(path)?;
    let mut bytes = Vec::new();
    file.take(max_bytes.saturating_add(1)).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > max_bytes {
        return Err(std::io::Error::new(
            std::io::ErrorKind::FileTooLarge,
            format!("it is larger than {} KiB", max_bytes / 1024),
        ));
    }
    Ok(bytes)
}
