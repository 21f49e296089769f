//! Restoring a checkpoint: a preview first, then only the paths that differ are touched, each written
//! atomically; ignored files are never touched; a "before restore" checkpoint makes it undoable.
//!
//! A restore never deletes or overwrites a file it could not bring back: a file the "before restore"
//! checkpoint cannot hold (over the size limit, unreadable, ignored, a link) is kept as it is and listed
//! in the plan as kept. Nothing is written outside the project: every folder on the way to a file must
//! be a real folder under the project (no link), checked in the plan and again just before each write.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Component, Path, PathBuf};

use rusqlite::Connection;
use serde::Serialize;

use super::{
    Blobs, Checkpoint, CheckpointError, CreateRequest, FileEntry, WorkingFile, get_for, io, journal, present_files,
    walk,
};

/// Why a restore leaves a file as it is instead of writing or deleting it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum KeepReason {
    /// Larger than a checkpoint holds, so the "before restore" checkpoint could not bring it back.
    TooLarge,
    /// It cannot be read, so it could not be saved before being replaced.
    Unreadable,
    /// Something no checkpoint holds (an ignored file, a link, a folder) is where the checkpoint has a file.
    NotTracked,
    /// A folder on the way is a link or a file: writing there would leave the project.
    UnsafeFolder,
    /// The checkpoint's stored content for it is missing.
    ContentMissing,
    /// It changed after the "before restore" checkpoint read it.
    Changed,
}

impl KeepReason {
    /// Why, as a person reads it.
    pub fn label(self) -> &'static str {
        match self {
            KeepReason::TooLarge => "over the size limit",
            KeepReason::Unreadable => "cannot be read",
            KeepReason::NotTracked => "ignored, a link or not a file",
            KeepReason::UnsafeFolder => "a folder on its way is a link or a file",
            KeepReason::ContentMissing => "the checkpoint's copy is missing",
            KeepReason::Changed => "changed during the restore",
        }
    }
}

/// A file the restore leaves as it is, and why.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct KeptFile {
    pub path: String,
    pub reason: KeepReason,
}

/// What a restore would do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RestorePlan {
    /// Files written (new or different content or mode).
    pub write: Vec<String>,
    /// Files deleted (present now, absent in the checkpoint).
    pub delete: Vec<String>,
    /// Files that differ from the checkpoint but are kept as they are: the restore could not bring them
    /// back ("kept: cannot be restored").
    pub keep: Vec<KeptFile>,
    pub unchanged: usize,
}

/// Compares the checkpoint with the project's files now.
pub fn plan(
    conn: &Connection,
    blobs: &Blobs,
    checkpoint_id: &str,
    project: &Path,
) -> Result<RestorePlan, CheckpointError> {
    get_for(conn, checkpoint_id, project)?;
    let root = project_root(project)?;
    let wanted = present_files(conn, checkpoint_id)?;
    // A preview takes no checkpoint: what it could not hold is foreseen from size and readability.
    let holdable = |file: &WorkingFile| {
        if file.size > blobs.max_file_bytes() {
            Err(KeepReason::TooLarge)
        } else if std::fs::File::open(&file.absolute).is_err() {
            Err(KeepReason::Unreadable)
        } else {
            Ok(())
        }
    };
    Ok(compare(blobs, &root, &wanted, &holdable))
}

/// The project folder with links resolved: every path written is checked against it.
fn project_root(project: &Path) -> Result<PathBuf, CheckpointError> {
    std::fs::canonicalize(project).map_err(|_| CheckpointError::NoProject(project.to_path_buf()))
}

/// The plan: what differs from `wanted` in the files under `root` now; a file that would be overwritten
/// or deleted is only touched when `holdable` says it can be brought back.
fn compare(
    blobs: &Blobs,
    root: &Path,
    wanted: &BTreeMap<String, FileEntry>,
    holdable: &dyn Fn(&WorkingFile) -> Result<(), KeepReason>,
) -> RestorePlan {
    let now: BTreeMap<String, WorkingFile> = walk(root).into_iter().map(|f| (f.relative.clone(), f)).collect();
    let mut plan = RestorePlan {
        write: Vec::new(),
        delete: Vec::new(),
        keep: Vec::new(),
        unchanged: 0,
    };
    for (path, file) in &now {
        if wanted.contains_key(path) {
            continue;
        }
        match safe_folders(root, path, &BTreeSet::new()).and_then(|()| holdable(file)) {
            Ok(()) => plan.delete.push(path.clone()),
            Err(reason) => plan.keep.push(KeptFile {
                path: path.clone(),
                reason,
            }),
        }
    }
    let deleted: BTreeSet<String> = plan.delete.iter().cloned().collect();
    for (path, entry) in wanted {
        let current = now.get(path);
        if let Some(file) = current
            && file.mode == entry.mode
            && file.size == entry.size
            && same_content(&file.absolute, entry)
        {
            plan.unchanged += 1;
            continue;
        }
        let verdict = safe_folders(root, path, &deleted)
            .and_then(|()| match current {
                Some(file) => holdable(file),
                // Nothing a checkpoint holds is there; anything else (an ignored file, a link, a folder)
                // is kept.
                None if std::fs::symlink_metadata(root.join(path)).is_ok() => Err(KeepReason::NotTracked),
                None => Ok(()),
            })
            .and_then(|()| match &entry.hash {
                Some(hash) if blobs.contains(hash) => Ok(()),
                _ => Err(KeepReason::ContentMissing),
            });
        match verdict {
            Ok(()) => plan.write.push(path.clone()),
            Err(reason) => plan.keep.push(KeptFile {
                path: path.clone(),
                reason,
            }),
        }
    }
    plan.keep.sort();
    plan
}

fn same_content(path: &Path, entry: &FileEntry) -> bool {
    entry.hash.is_some() && super::blobs::hash_file(path).ok() == entry.hash
}

/// Whether every folder on the way to `relative` under `root` is a real folder (not a link, so the
/// write stays in the project) or is still to be made. A file on the way is only fine when the restore
/// deletes it first (`deleted`). A path that is not plainly relative (`..`, a root) is refused.
fn safe_folders(root: &Path, relative: &str, deleted: &BTreeSet<String>) -> Result<(), KeepReason> {
    let parts: Vec<&str> = relative.split('/').collect();
    let plain = |part: &&str| {
        let mut components = Path::new(part).components();
        matches!(
            (components.next(), components.next()),
            (Some(Component::Normal(_)), None)
        )
    };
    if !parts.iter().all(plain) {
        return Err(KeepReason::UnsafeFolder);
    }
    let mut dir = root.to_path_buf();
    for (depth, part) in parts.iter().enumerate().take(parts.len().saturating_sub(1)) {
        dir.push(part);
        match std::fs::symlink_metadata(&dir) {
            Ok(meta) if meta.is_dir() => {}
            Ok(meta) if meta.is_file() && deleted.contains(&parts[..=depth].join("/")) => return Ok(()),
            Ok(_) => return Err(KeepReason::UnsafeFolder),
            // The rest is made as real folders.
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(_) => return Err(KeepReason::UnsafeFolder),
        }
    }
    Ok(())
}

/// The result of a restore.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Restored {
    /// The checkpoint taken just before, to undo the restore.
    pub before: Checkpoint,
    /// What was done (`keep`: what was left as it was).
    pub plan: RestorePlan,
}

/// Restores the project's files to the checkpoint.
///
/// The "before restore" checkpoint comes first and the plan is made against it: a file is overwritten
/// or deleted only when that checkpoint holds its current content. Should the restore stop part way
/// (a full disk), everything it touched is in that checkpoint, and the error names it.
///
/// The project's restore lock (beside the blob store) is held throughout, and the restore is journalled (committed)
/// before the first file changes: killed part way, it is found at the next start as interrupted
/// ([`super::journal`]) and [`recover`] finishes or rolls it back.
pub fn restore(
    conn: &Connection,
    blobs: &Blobs,
    checkpoint_id: &str,
    project: &Path,
) -> Result<Restored, CheckpointError> {
    let target = get_for(conn, checkpoint_id, project)?;
    let root = project_root(project)?;
    let key = root.display().to_string();
    let _lock = journal::RestoreLock::acquire(&journal::locks(blobs), &key)?;
    if let Some(found) = journal::running(conn, &key)? {
        // Restoring one of the two checkpoints of an unfinished restore (a stopped one names its
        // "before restore" checkpoint) finishes or rolls it back; anything else waits for that.
        let (action, undo) = if target.id == found.before_id {
            (RecoverAction::Rollback, found.target_id.clone())
        } else if target.id == found.target_id {
            (RecoverAction::Finish, found.before_id.clone())
        } else {
            return Err(CheckpointError::RestoreInterrupted(Box::new(found)));
        };
        let plan = finish_or_roll_back(conn, blobs, &root, &key, &found, action)?;
        return Ok(Restored {
            before: super::get(conn, &undo)?,
            plan,
        });
    }
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
    let held = present_files(conn, &before.id)?;
    let holdable = |file: &WorkingFile| match held.get(&file.relative) {
        Some(saved) if same_content(&file.absolute, saved) => Ok(()),
        Some(_) => Err(KeepReason::Changed),
        None if file.size > blobs.max_file_bytes() => Err(KeepReason::TooLarge),
        None if std::fs::File::open(&file.absolute).is_err() => Err(KeepReason::Unreadable),
        None => Err(KeepReason::Changed),
    };
    let wanted = present_files(conn, checkpoint_id)?;
    let plan = compare(blobs, &root, &wanted, &holdable);
    journal::begin(conn, &key, &target.id, &before.id)?;
    let plan = apply(blobs, &root, &wanted, plan).map_err(|source| CheckpointError::RestoreStopped {
        before: before.id.clone(),
        source: Box::new(source),
    })?;
    journal::end(conn, &key, journal::Ended::Done)?;
    Ok(Restored { before, plan })
}

/// Carries out a plan: deletions first, then the writes, each checked again at the last moment.
fn apply(
    blobs: &Blobs,
    root: &Path,
    wanted: &BTreeMap<String, FileEntry>,
    mut plan: RestorePlan,
) -> Result<RestorePlan, CheckpointError> {
    // Deletions first, so a file standing where the checkpoint has a folder is gone before the folder
    // is made.
    let mut kept = Vec::new();
    plan.delete.retain(|path| {
        // Checked again at the last moment: a folder may have become a link since the plan.
        if let Err(reason) = safe_folders(root, path, &BTreeSet::new()) {
            kept.push(KeptFile {
                path: path.clone(),
                reason,
            });
            return false;
        }
        true
    });
    for path in &plan.delete {
        let full = root.join(path);
        match std::fs::remove_file(&full) {
            Ok(()) => {}
            // Gone already (a recovery repeating a deletion): what was wanted.
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
            Err(error) => return Err(io(&full)(error)),
        }
    }
    let deleted: BTreeSet<String> = plan.delete.iter().cloned().collect();
    let mut written = Vec::new();
    for path in std::mem::take(&mut plan.write) {
        let Some(entry) = wanted.get(&path) else { continue };
        match write_inside(root, &path, entry, blobs, &deleted)? {
            Ok(()) => written.push(path),
            Err(Refused(reason)) => kept.push(KeptFile { path, reason }),
        }
    }
    plan.write = written;
    plan.keep.extend(kept);
    plan.keep.sort();
    Ok(plan)
}

/// What to do with an interrupted restore.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecoverAction {
    /// Only say what was interrupted.
    Report,
    /// Restore the checkpoint the restore was bringing back.
    Finish,
    /// Restore the "before restore" checkpoint: the files as they were.
    Rollback,
}

/// An interrupted restore, and what a recovery did with it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Recovery {
    pub interrupted: journal::Interrupted,
    pub action: RecoverAction,
    /// What was written and deleted (None for a report).
    pub plan: Option<RestorePlan>,
}

/// Whether `name` is a temporary file of an atomic write (`.NAME.HEX.partial`) a killed restore left.
fn left_by_a_write(relative: &str) -> bool {
    let name = relative.rsplit('/').next().unwrap_or(relative);
    name.starts_with('.') && name.ends_with(".partial")
}

/// Finishes or rolls back the interrupted restore of `project` (or only reports it). Safe to kill and
/// run again: it takes no new checkpoint, touches only files whose content one of the two checkpoints
/// holds (or a temporary file a killed write left), and the journal says done only after the last file.
pub fn recover(
    conn: &Connection,
    blobs: &Blobs,
    project: &Path,
    action: RecoverAction,
) -> Result<Recovery, CheckpointError> {
    let root = project_root(project)?;
    let key = root.display().to_string();
    let _lock = journal::RestoreLock::acquire(&journal::locks(blobs), &key)?;
    let Some(interrupted) = journal::running(conn, &key)? else {
        return Err(CheckpointError::NothingToRecover(key));
    };
    if action == RecoverAction::Report {
        return Ok(Recovery {
            interrupted,
            action,
            plan: None,
        });
    }
    let plan = finish_or_roll_back(conn, blobs, &root, &key, &interrupted, action)?;
    Ok(Recovery {
        interrupted,
        action,
        plan: Some(plan),
    })
}

/// Restores the target (finish) or the "before restore" checkpoint (roll back) of an interrupted restore,
/// its lock held, and marks it ended.
fn finish_or_roll_back(
    conn: &Connection,
    blobs: &Blobs,
    root: &Path,
    key: &str,
    interrupted: &journal::Interrupted,
    action: RecoverAction,
) -> Result<RestorePlan, CheckpointError> {
    let (goal, ended) = match action {
        RecoverAction::Rollback => (interrupted.before_id.as_str(), journal::Ended::RolledBack),
        RecoverAction::Finish | RecoverAction::Report => (interrupted.target_id.as_str(), journal::Ended::Finished),
    };
    let before = present_files(conn, &interrupted.before_id)?;
    let target = present_files(conn, &interrupted.target_id)?;
    let holdable = |file: &WorkingFile| {
        let held = |files: &BTreeMap<String, FileEntry>| {
            files
                .get(&file.relative)
                .is_some_and(|saved| same_content(&file.absolute, saved))
        };
        if held(&before) || held(&target) || (left_by_a_write(&file.relative) && !before.contains_key(&file.relative)) {
            Ok(())
        } else {
            Err(KeepReason::Changed)
        }
    };
    let wanted = present_files(conn, goal)?;
    let plan = compare(blobs, root, &wanted, &holdable);
    let plan = apply(blobs, root, &wanted, plan)?;
    journal::end(conn, key, ended)?;
    Ok(plan)
}

/// A write not made because its folder is not safe (the file is kept).
struct Refused(KeepReason);

/// Writes one file of the checkpoint under `root`, its folders made and checked first.
fn write_inside(
    root: &Path,
    relative: &str,
    entry: &FileEntry,
    blobs: &Blobs,
    deleted: &BTreeSet<String>,
) -> Result<Result<(), Refused>, CheckpointError> {
    if let Err(reason) = safe_folders(root, relative, deleted) {
        return Ok(Err(Refused(reason)));
    }
    let path = root.join(relative);
    let dir = path.parent().unwrap_or(root);
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    // The folder, resolved, must be where it should be under the project (nothing swapped in since).
    let expected = match relative.rsplit_once('/') {
        Some((folder, _)) => root.join(folder),
        None => root.to_path_buf(),
    };
    if std::fs::canonicalize(dir).map_err(io(dir))? != expected {
        return Ok(Err(Refused(KeepReason::UnsafeFolder)));
    }
    let Some(hash) = entry.hash.as_deref() else {
        return Ok(Err(Refused(KeepReason::ContentMissing)));
    };
    // In pieces, checked against the hash at the end: a damaged copy leaves the file as it was.
    crate::util::fs::write_atomic_with(&path, crate::util::fs::Mode::Set(entry.mode), |out| {
        blobs.copy_to(hash, out)
    })
    .map_err(io(&path))?;
    Ok(Ok(()))
}

/// Writes a file through a temporary sibling renamed over it: readers see the old or the new
/// content, never half of one.
pub fn write_atomically(path: &Path, bytes: &[u8], mode: u32) -> Result<(), CheckpointError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    crate::util::fs::write_atomic_with(path, crate::util::fs::Mode::Set(mode), |out| out.write_all(bytes))
        .map_err(io(path))
}
