//! File writes that a crash or a full disk cannot leave half done.

use std::io::Write;
use std::path::Path;

/// Writes `bytes` to `path` through a temporary file beside it, flushed to disk, then renamed over
/// `path`: readers see the old file or the new one, never part of one. On failure the temporary file
/// is removed and `path` is untouched.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_through_partial(path, bytes, &std::fs::OpenOptions::new(), |_| Ok(()))
}

/// [`write_atomic`] for secrets: the temporary file is created owner-only (0600) on Unix, so the bytes are
/// never readable by others, not even between creating the file and changing its mode.
pub fn write_atomic_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    write_through_partial(path, bytes, &options, |_| Ok(()))
}

/// [`write_atomic`] for a file someone else owns (Claude's `.claude.json`): the new file gets the old one's
/// permissions, or owner-only (0600) when there was none, before it replaces the old one.
pub fn write_atomic_keep_mode(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let old = std::fs::metadata(path).ok().map(|m| m.permissions());
    write_through_partial(path, bytes, &std::fs::OpenOptions::new(), |file| match old {
        Some(permissions) => file.set_permissions(permissions),
        None => set_private(file),
    })
}

/// The temporary file beside `path`, created with `options`, `prepare`d, written, synced and renamed over
/// `path`; removed on failure.
fn write_through_partial(
    path: &Path,
    bytes: &[u8],
    options: &std::fs::OpenOptions,
    prepare: impl FnOnce(&std::fs::File) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let mut name = path.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    // Unique per process and per call, so concurrent writers never share a partial file.
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let call = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    name.push(format!(".{}.{call}.partial", std::process::id()));
    let partial = path.with_file_name(name);
    let result = (|| {
        // A leftover of a crashed writer with the same name is replaced, never reused with its old mode.
        let _ = std::fs::remove_file(&partial);
        let mut file = options.clone().write(true).create_new(true).open(&partial)?;
        prepare(&file)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&partial, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    result
}

#[cfg(unix)]
fn set_private(file: &std::fs::File) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    file.set_permissions(std::fs::Permissions::from_mode(0o600))
}

#[cfg(not(unix))]
fn set_private(_file: &std::fs::File) -> std::io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_whole_and_leaves_no_partial_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.json");
        write_atomic(&path, b"one").unwrap();
        write_atomic(&path, b"two").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        let missing = dir.path().join("no/such/dir/a.json");
        assert!(write_atomic(&missing, b"x").is_err());
    }

    #[cfg(unix)]
    #[test]
    fn private_writes_create_owner_only_files() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secrets.json");
        write_atomic_private(&path, b"one").unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        write_atomic_private(&path, b"two").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[cfg(unix)]
    #[test]
    fn keep_mode_keeps_the_old_mode_and_makes_new_files_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.json");
        write_atomic_keep_mode(&path, b"one").unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
        write_atomic_keep_mode(&path, b"two").unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o640);
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
    }
}
