//! File writes that a crash or a full disk cannot leave half done, and reads of outside files that a
//! file of any size cannot make hold more than a cap.
//!
//! Every write goes the same way: a temporary file with a random name is created (exclusively) beside
//! the target, written, flushed and synced, given its mode, renamed over the target, and then the folder
//! is synced (Unix) so the rename itself survives a crash. Readers see the old file or the new one, never
//! part of one. On failure the temporary file is removed and the target is untouched.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};

/// Which permissions the written file ends up with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// An existing file's mode is kept; a new file gets the process default (the umask decides).
    Keep,
    /// An existing file's mode is kept; a new file gets this mode (Unix), e.g. 0o600 for a file someone
    /// else owns that may hold secrets.
    KeepOr(u32),
    /// Always this mode (Unix), whatever the old file had: secrets (0o600), restored checkpoints.
    Set(u32),
}

/// The largest of Claude's settings files (and of files to import: agents, MCP servers, slash commands)
/// ANYON reads. Real ones are a few kilobytes; a larger one is refused with a clear error, never loaded.
pub const MAX_CONFIG_FILE: u64 = 8 * 1024 * 1024;
/// The largest `~/.claude.json` ANYON reads (it also holds Claude's per-project state, which grows).
pub const MAX_CLAUDE_JSON: u64 = 64 * 1024 * 1024;

/// Reads a whole file of at most `max` bytes. A larger one (or one that grows past `max` while read, or a
/// device that never ends) is an error of kind `FileTooLarge` naming its size and the cap; nothing over
/// `max + 1` bytes is ever held.
pub fn read_capped(path: &Path, max: u64) -> std::io::Result<Vec<u8>> {
    let file = File::open(path)?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    let too_large = |size: u64| {
        std::io::Error::new(
            std::io::ErrorKind::FileTooLarge,
            format!(
                "{} is {}, more than the {} ANYON reads from such a file; it was not read or changed",
                path.display(),
                crate::util::fmt::bytes(size),
                crate::util::fmt::bytes(max)
            ),
        )
    };
    if size > max {
        return Err(too_large(size));
    }
    let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    file.take(max.saturating_add(1)).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > max {
        return Err(too_large(bytes.len() as u64));
    }
    Ok(bytes)
}

/// [`read_capped`] for text: invalid UTF-8 is an `InvalidData` error.
pub fn read_capped_text(path: &Path, max: u64) -> std::io::Result<String> {
    String::from_utf8(read_capped(path, max)?).map_err(|_| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("{} is not UTF-8 text", path.display()),
        )
    })
}

/// Writes `bytes` to `path` atomically; an existing file's mode is kept.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_atomic_with(path, Mode::Keep, |out| out.write_all(bytes))
}

/// [`write_atomic`] for secrets: the file is owner-only (0600) on Unix, and so is the temporary file from
/// the moment it exists, so the bytes are never readable by others.
pub fn write_atomic_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_atomic_with(path, Mode::Set(0o600), |out| out.write_all(bytes))
}

/// [`write_atomic`] for a file someone else owns (Claude's `.claude.json`): the new file gets the old one's
/// permissions, or owner-only (0600) when there was none.
pub fn write_atomic_keep_mode(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_atomic_with(path, Mode::KeepOr(0o600), |out| out.write_all(bytes))
}

/// The streaming form: `write` fills the temporary file through a buffer (an export, a snapshot), then
/// the file is synced and renamed over `path` as in [`write_atomic`]. When `write` fails, or anything
/// after it, the temporary file is removed, `path` is untouched and the error is returned.
pub fn write_atomic_with<T, E>(
    path: &Path,
    mode: Mode,
    write: impl FnOnce(&mut BufWriter<File>) -> Result<T, E>,
) -> Result<T, E>
where
    E: From<std::io::Error>,
{
    let old = std::fs::metadata(path)
        .ok()
        .filter(|m| m.is_file())
        .map(|m| m.permissions());
    let (temp, file) = create_temp(path, mode, old.is_some())?;
    let result = (|| {
        let mut out = BufWriter::with_capacity(64 * 1024, file);
        let value = write(&mut out)?;
        let file = out.into_inner().map_err(|e| e.into_error())?;
        finish_mode(&file, mode, old)?;
        file.sync_all()?;
        drop(file);
        std::fs::rename(&temp, path)?;
        sync_dir(path)?;
        Ok(value)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result
}

/// Atomic writes made durable together, for many files at once (a checkpoint's new contents): each is
/// written to its temporary sibling by [`AtomicBatch::write`], then [`AtomicBatch::commit`] syncs them all
/// in one step, renames each over its target and syncs the folders in one more. As with
/// [`write_atomic_with`], a target holds its old content or its new one, never part of one, and no
/// target gets its name before its bytes are on disk; a crash before the commit leaves only temporary
/// files. Dropped without a commit, the batch removes its temporary files.
#[derive(Debug, Default)]
pub struct AtomicBatch {
    /// (temporary file, target), written and not yet renamed.
    pending: Vec<(PathBuf, PathBuf)>,
}

impl AtomicBatch {
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether nothing was written.
    pub fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }

    /// Writes `path`'s new content to a temporary sibling (not yet synced or renamed). On failure the
    /// temporary file is removed and the error returned.
    pub fn write<T, E>(
        &mut self,
        path: &Path,
        mode: Mode,
        write: impl FnOnce(&mut BufWriter<File>) -> Result<T, E>,
    ) -> Result<T, E>
    where
        E: From<std::io::Error>,
    {
        let old = std::fs::metadata(path)
            .ok()
            .filter(|m| m.is_file())
            .map(|m| m.permissions());
        let (temp, file) = create_temp(path, mode, old.is_some())?;
        let result = (|| {
            let mut out = BufWriter::with_capacity(64 * 1024, file);
            let value = write(&mut out)?;
            let file = out.into_inner().map_err(|e| e.into_error())?;
            finish_mode(&file, mode, old)?;
            Ok(value)
        })();
        match result {
            Ok(value) => {
                self.pending.push((temp, path.to_path_buf()));
                Ok(value)
            }
            Err(error) => {
                let _ = std::fs::remove_file(&temp);
                Err(error)
            }
        }
    }

    /// Makes every write durable, then gives each its name, then makes the names durable.
    pub fn commit(mut self) -> std::io::Result<()> {
        let pending = std::mem::take(&mut self.pending);
        if pending.is_empty() {
            return Ok(());
        }
        let result = (|| {
            sync_all_of(pending.iter().map(|(temp, _)| temp.as_path()))?;
            for (temp, target) in &pending {
                std::fs::rename(temp, target)?;
            }
            sync_folders_of(pending.iter().map(|(_, target)| target.as_path()))
        })();
        if result.is_err() {
            for (temp, _) in &pending {
                let _ = std::fs::remove_file(temp);
            }
        }
        result
    }
}

impl Drop for AtomicBatch {
    fn drop(&mut self) {
        for (temp, _) in &self.pending {
            let _ = std::fs::remove_file(temp);
        }
    }
}

/// Syncs the files at `paths`: on Linux one `syncfs` of the filesystem holding them (they are all in
/// one place), elsewhere each file.
fn sync_all_of<'a>(mut paths: impl Iterator<Item = &'a Path>) -> std::io::Result<()> {
    #[cfg(target_os = "linux")]
    {
        match paths.next() {
            Some(first) => rustix::fs::syncfs(File::open(first)?).map_err(std::io::Error::from),
            None => Ok(()),
        }
    }
    #[cfg(not(target_os = "linux"))]
    {
        paths.try_for_each(|path| OpenOptions::new().write(true).open(path)?.sync_all())
    }
}

/// Syncs the folders holding `paths`, so the renames are on disk too.
fn sync_folders_of<'a>(paths: impl Iterator<Item = &'a Path>) -> std::io::Result<()> {
    let mut folders: Vec<&Path> = paths.map(parent_of).collect();
    folders.sort();
    folders.dedup();
    #[cfg(target_os = "linux")]
    {
        match folders.first() {
            Some(folder) => rustix::fs::syncfs(File::open(folder)?).map_err(std::io::Error::from),
            None => Ok(()),
        }
    }
    #[cfg(not(target_os = "linux"))]
    {
        folders.into_iter().try_for_each(|folder| sync_dir(&folder.join("-")))
    }
}

/// The bytes an unprivileged writer may still put on the filesystem holding `path` (or its nearest
/// existing ancestor); `None` where the system cannot say.
pub fn available_space(path: &Path) -> Option<u64> {
    let existing = path.ancestors().find(|p| !p.as_os_str().is_empty() && p.exists())?;
    available_space_of(existing)
}

#[cfg(unix)]
fn available_space_of(path: &Path) -> Option<u64> {
    let stat = rustix::fs::statvfs(path).ok()?;
    Some(stat.f_bavail.saturating_mul(stat.f_frsize))
}

#[cfg(not(unix))]
fn available_space_of(_path: &Path) -> Option<u64> {
    None
}

/// The folder `path` is in (`.` for a bare file name).
fn parent_of(path: &Path) -> &Path {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    }
}

/// A new temporary file beside `path`, `.<name>.<random>.partial`: hidden, unique, never an old one
/// reused (created exclusively), owner-only on Unix whenever its final mode is set afterwards.
fn create_temp(path: &Path, mode: Mode, target_exists: bool) -> std::io::Result<(PathBuf, File)> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        match mode {
            Mode::Keep if !target_exists => {}
            Mode::KeepOr(new) if !target_exists => {
                options.mode(new & 0o777);
            }
            _ => {
                options.mode(0o600);
            }
        }
    }
    #[cfg(not(unix))]
    let _ = (mode, target_exists);
    let mut attempt = 0;
    loop {
        let temp = parent_of(path).join(format!(".{name}.{}.partial", super::hex::random(8)?));
        match options.open(&temp) {
            Ok(file) => return Ok((temp, file)),
            // A name that is taken already (one chance in 2^64) is never opened; another is drawn.
            Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists && attempt < 3 => attempt += 1,
            Err(error) => return Err(error),
        }
    }
}

/// Gives the temporary file its final permissions before it replaces the target.
fn finish_mode(file: &File, mode: Mode, old: Option<std::fs::Permissions>) -> std::io::Result<()> {
    match (mode, old) {
        #[cfg(unix)]
        (Mode::Set(bits), _) => {
            use std::os::unix::fs::PermissionsExt;
            file.set_permissions(std::fs::Permissions::from_mode(bits & 0o7777))
        }
        #[cfg(not(unix))]
        (Mode::Set(bits), _) => {
            let mut permissions = file.metadata()?.permissions();
            permissions.set_readonly(bits & 0o200 == 0);
            file.set_permissions(permissions)
        }
        (Mode::Keep | Mode::KeepOr(_), Some(permissions)) => file.set_permissions(permissions),
        // A new file: created with its mode already.
        (Mode::Keep | Mode::KeepOr(_), None) => Ok(()),
    }
}

/// Syncs the folder holding `path`, so the rename is on disk too.
#[cfg(unix)]
fn sync_dir(path: &Path) -> std::io::Result<()> {
    File::open(parent_of(path))?.sync_all()
}

/// Windows cannot open a folder as a file; its renames are journaled by NTFS.
#[cfg(not(unix))]
fn sync_dir(_path: &Path) -> std::io::Result<()> {
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn a_batch_names_its_files_only_at_the_commit_and_a_dropped_one_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        write_atomic(&dir.path().join("old"), b"before").unwrap();
        let mut batch = AtomicBatch::new();
        assert!(batch.is_empty());
        for (name, bytes) in [("a", b"one".as_slice()), ("old", b"after")] {
            batch
                .write(&dir.path().join(name), Mode::Keep, |out| out.write_all(bytes))
                .unwrap();
        }
        let failed: std::io::Result<()> =
            batch.write(&dir.path().join("b"), Mode::Keep, |_| Err(std::io::Error::other("no")));
        assert!(failed.is_err());
        assert_eq!(std::fs::read(dir.path().join("old")).unwrap(), b"before", "not yet");
        assert!(!dir.path().join("a").exists());
        batch.commit().unwrap();
        assert_eq!(names(dir.path()), ["a", "old"]);
        assert_eq!(std::fs::read(dir.path().join("old")).unwrap(), b"after");
        let mut dropped = AtomicBatch::new();
        dropped
            .write(&dir.path().join("c"), Mode::Keep, |out| out.write_all(b"never"))
            .unwrap();
        drop(dropped);
        assert_eq!(names(dir.path()), ["a", "old"], "no file and no temporary file");
    }

    #[test]
    fn replaces_whole_and_leaves_no_partial_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.json");
        write_atomic(&path, b"one").unwrap();
        write_atomic(&path, b"two").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        assert_eq!(names(dir.path()), ["a.json"]);
        let missing = dir.path().join("no/such/dir/a.json");
        assert!(write_atomic(&missing, b"x").is_err());
    }

    #[test]
    fn a_failing_writer_leaves_the_old_file_and_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("export.csv");
        std::fs::write(&path, b"old").unwrap();
        let result: std::io::Result<()> = write_atomic_with(&path, Mode::Keep, |out| {
            out.write_all(&[b'x'; 300 * 1024])?;
            Err(std::io::Error::other("the query failed half way"))
        });
        assert_eq!(result.unwrap_err().to_string(), "the query failed half way");
        assert_eq!(std::fs::read(&path).unwrap(), b"old");
        assert_eq!(names(dir.path()), ["export.csv"]);
    }

    #[test]
    fn a_failed_rename_removes_the_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        // The target is a non-empty folder: everything works up to the rename.
        let target = dir.path().join("busy");
        std::fs::create_dir_all(target.join("inner")).unwrap();
        assert!(write_atomic(&target, b"new").is_err());
        assert_eq!(names(dir.path()), ["busy"]);
        assert_eq!(names(&target), ["inner"]);
    }

    #[test]
    fn the_streaming_form_hands_back_the_writers_value() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rows.txt");
        let rows = write_atomic_with(&path, Mode::Keep, |out| -> std::io::Result<usize> {
            for row in 0..3 {
                writeln!(out, "row {row}")?;
            }
            Ok(3)
        })
        .unwrap();
        assert_eq!(rows, 3);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "row 0\nrow 1\nrow 2\n");
    }

    #[cfg(unix)]
    fn mode_of(path: &Path) -> u32 {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[cfg(unix)]
    fn chmod(path: &Path, mode: u32) {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn plain_writes_keep_the_old_mode() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("script.sh");
        std::fs::write(&path, b"old").unwrap();
        chmod(&path, 0o751);
        write_atomic(&path, b"new").unwrap();
        assert_eq!(mode_of(&path), 0o751);
        assert_eq!(std::fs::read(&path).unwrap(), b"new");
    }

    #[cfg(unix)]
    #[test]
    fn private_writes_create_owner_only_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secrets.json");
        write_atomic_private(&path, b"one").unwrap();
        assert_eq!(mode_of(&path), 0o600);
        chmod(&path, 0o644);
        write_atomic_private(&path, b"two").unwrap();
        assert_eq!(mode_of(&path), 0o600);
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        assert_eq!(names(dir.path()), ["secrets.json"]);
    }

    #[cfg(unix)]
    #[test]
    fn keep_mode_keeps_the_old_mode_and_makes_new_files_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.json");
        write_atomic_keep_mode(&path, b"one").unwrap();
        assert_eq!(mode_of(&path), 0o600);
        chmod(&path, 0o640);
        write_atomic_keep_mode(&path, b"two").unwrap();
        assert_eq!(mode_of(&path), 0o640);
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
    }

    #[cfg(unix)]
    #[test]
    fn set_mode_applies_even_to_read_only_modes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("restored.txt");
        write_atomic_with(&path, Mode::Set(0o444), |out| out.write_all(b"content")).unwrap();
        assert_eq!(mode_of(&path), 0o444);
        write_atomic_with(&path, Mode::Set(0o755), |out| out.write_all(b"again")).unwrap();
        assert_eq!(mode_of(&path), 0o755);
        assert_eq!(std::fs::read(&path).unwrap(), b"again");
    }
}
