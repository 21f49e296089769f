//! Restoring a checkpoint: a preview first, then only the paths that differ are touched, each written
//! atomically; ignored files are never touched; a "before restore" checkpoint makes it undoable.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use rusqlite::Connection;
use serde::Serialize;

use super::{Blobs, Checkpoint, CheckpointError, CreateRequest, FileEntry, get_for, io, present_files, walk};

/// What a restore would do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RestorePlan {
    /// Files written (new or different content or mode).
    pub write: Vec<String>,
    /// Files deleted (present now, absent in the checkpoint).
    pub delete: Vec<String>,
    pub unchanged: usize,
}

/// Compares the checkpoint with the project's files now.
pub fn plan(
    conn: &Connection,
    blobs: &Blobs,
    checkpoint_id: &str,
    project: &Path,
) -> Result<RestorePlan, CheckpointError> {
    let _ = blobs;
    super::get_for(conn, checkpoint_id, project)?;
    let wanted = present_files(conn, checkpoint_id)?;
    let now: BTreeMap<String, super::WorkingFile> =
        walk(project).into_iter().map(|f| (f.relative.clone(), f)).collect();
    let mut plan = RestorePlan {
        write: Vec::new(),
        delete: Vec::new(),
        unchanged: 0,
    };
    for (path, entry) in &wanted {
        match now.get(path) {
            Some(file) if file.mode == entry.mode && file.size == entry.size && same_content(&file.absolute, entry) => {
                plan.unchanged += 1
            }
            _ => plan.write.push(path.clone()),
        }
    }
    plan.delete = now.keys().filter(|path| !wanted.contains_key(*path)).cloned().collect();
    Ok(plan)
}

fn same_content(path: &Path, entry: &FileEntry) -> bool {
    std::fs::read(path).is_ok_and(|bytes| Some(super::blobs::hash(&bytes)) == entry.hash)
}

/// The result of a restore.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Restored {
    /// The checkpoint taken just before, to undo the restore.
    pub before: Checkpoint,
    pub plan: RestorePlan,
}

/// Restores the project's files to the checkpoint.
pub fn restore(
    conn: &Connection,
    blobs: &Blobs,
    checkpoint_id: &str,
    project: &Path,
) -> Result<Restored, CheckpointError> {
    let target = get_for(conn, checkpoint_id, project)?;
    let plan = plan(conn, blobs, checkpoint_id, project)?;
    let before = super::create(
        conn,
        blobs,
        &CreateRequest {
            project: project.to_path_buf(),
            session_id: target.session_id.clone(),
            trigger: super::Trigger::BeforeRestore,
            description: Some(format!("Before restoring {}", &target.id[..8.min(target.id.len())])),
            message_index: target.message_index,
        },
    )?
    .checkpoint;
    let wanted = present_files(conn, checkpoint_id)?;
    for path in &plan.write {
        let Some(entry) = wanted.get(path) else { continue };
        let bytes = entry
            .hash
            .as_deref()
            .map(|h| blobs.get(h))
            .transpose()
            .map_err(io(blobs.root()))?
            .unwrap_or_default();
        write_atomically(&project.join(path), &bytes, entry.mode)?;
    }
    for path in &plan.delete {
        let full = project.join(path);
        std::fs::remove_file(&full).map_err(io(&full))?;
    }
    Ok(Restored { before, plan })
}

/// Writes a file through a temporary sibling renamed over it: readers see the old or the new
/// content, never half of one.
pub fn write_atomically(path: &Path, bytes: &[u8], mode: u32) -> Result<(), CheckpointError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    crate::util::fs::write_atomic_with(path, crate::util::fs::Mode::Set(mode), |out| out.write_all(bytes)).map_err(
        |source| CheckpointError::Io {
            path: path.to_path_buf(),
            source,
        },
    )
}
