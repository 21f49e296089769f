//! The content-addressed blob store: each file content once, by SHA-256, deflate-compressed, in
//! `<data>/blobs/ab/cdef...`. Writes go through a temporary file renamed into place. Large files are
//! stored and restored in pieces ([`Blobs::put_file`], [`Blobs::copy_to`]), never whole in memory.

use std::collections::HashSet;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// The blob folder, and the largest file a checkpoint stores in it.
#[derive(Debug, Clone)]
pub struct Blobs {
    root: PathBuf,
    max_file_bytes: u64,
}

/// A reader that hashes what passes through it, and remembers whether reading failed.
struct Hashing<R> {
    inner: R,
    hasher: Sha256,
    failed: bool,
}

impl<R: Read> Hashing<R> {
    fn new(inner: R) -> Self {
        Self {
            inner,
            hasher: Sha256::new(),
            failed: false,
        }
    }

    fn hex(self) -> String {
        crate::util::hex::encode(&self.hasher.finalize())
    }
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self.inner.read(buf) {
            Ok(read) => {
                self.hasher.update(buf.get(..read).unwrap_or_default());
                Ok(read)
            }
            Err(error) => {
                self.failed = error.kind() != std::io::ErrorKind::Interrupted;
                Err(error)
            }
        }
    }
}

fn damaged(hash: &str) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, format!("blob {hash} is damaged"))
}

/// The hex SHA-256 of `bytes`.
pub fn hash(bytes: &[u8]) -> String {
    crate::util::hex::encode(&Sha256::digest(bytes))
}

/// The hex SHA-256 of a file's content, read in pieces (never whole in memory).
pub fn hash_file(path: &Path) -> std::io::Result<String> {
    let mut reader = Hashing::new(std::fs::File::open(path)?);
    std::io::copy(&mut reader, &mut std::io::sink())?;
    Ok(reader.hex())
}

impl Blobs {
    /// The store in `root`, taking files up to [`super::DEFAULT_MAX_FILE_BYTES`].
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self {
            root: root.into(),
            max_file_bytes: super::DEFAULT_MAX_FILE_BYTES,
        }
    }

    /// The same store with another size limit: a checkpoint leaves out (and a restore keeps) files
    /// larger than `bytes`.
    pub fn with_max_file_bytes(mut self, bytes: u64) -> Self {
        self.max_file_bytes = bytes;
        self
    }

    /// The largest file a checkpoint stores.
    pub fn max_file_bytes(&self) -> u64 {
        self.max_file_bytes
    }

    fn path(&self, hash: &str) -> PathBuf {
        let (dir, rest) = hash.split_at(2.min(hash.len()));
        self.root.join(dir).join(rest)
    }

    pub fn contains(&self, hash: &str) -> bool {
        self.path(hash).is_file()
    }

    /// Stores `bytes` (once) and returns their hash.
    pub fn put(&self, bytes: &[u8]) -> std::io::Result<String> {
        let mut batch = self.batch();
        let hash = batch.put(bytes)?;
        batch.commit()?;
        Ok(hash)
    }

    /// Stores the content of the file at `path`, whose hash (from [`hash_file`]) is `hash`, reading it
    /// in pieces. Ok(false) when the file could not be read again or no longer has that hash (it changed
    /// meanwhile): nothing is stored then. An error is the store's own (a full disk).
    pub fn put_file(&self, path: &Path, hash: &str) -> std::io::Result<bool> {
        let mut batch = self.batch();
        let stored = batch.put_file(path, hash)?;
        batch.commit()?;
        Ok(stored)
    }

    /// A batch of contents to store, made durable together by [`BlobBatch::commit`] (one sync for a
    /// checkpoint's new contents, not one per file). Until then none of them is in the store.
    pub fn batch(&self) -> BlobBatch<'_> {
        BlobBatch {
            blobs: self,
            files: crate::util::fs::AtomicBatch::new(),
            pending: HashSet::new(),
        }
    }

    /// Writes a blob's bytes to `out` in pieces. They are checked against the hash at the end: a damaged
    /// blob is an error, after which what was written must be thrown away (the atomic writer does).
    pub fn copy_to(&self, hash: &str, out: &mut impl Write) -> std::io::Result<u64> {
        let file = std::fs::File::open(self.path(hash))?;
        let mut reader = Hashing::new(flate2::read::DeflateDecoder::new(file));
        let copied = std::io::copy(&mut reader, out).map_err(|error| {
            if error.kind() == std::io::ErrorKind::InvalidInput || error.kind() == std::io::ErrorKind::InvalidData {
                damaged(hash)
            } else {
                error
            }
        })?;
        if reader.hex() != hash {
            return Err(damaged(hash));
        }
        Ok(copied)
    }

    /// The bytes of a blob, checked against their hash.
    pub fn get(&self, hash: &str) -> std::io::Result<Vec<u8>> {
        let mut bytes = Vec::new();
        self.copy_to(hash, &mut bytes)?;
        Ok(bytes)
    }

    /// Deletes every blob not in `keep`. Returns how many went.
    pub fn gc(&self, keep: &HashSet<String>) -> std::io::Result<usize> {
        let mut removed = 0;
        let Ok(dirs) = std::fs::read_dir(&self.root) else {
            return Ok(0);
        };
        for dir in dirs.flatten() {
            let prefix = dir.file_name().to_string_lossy().into_owned();
            for blob in std::fs::read_dir(dir.path())?.flatten() {
                let name = blob.file_name().to_string_lossy().into_owned();
                if name.starts_with('.') {
                    // A temporary file a killed write left (an hour old: no write still fills it).
                    let stale = blob
                        .metadata()
                        .and_then(|m| m.modified())
                        .ok()
                        .and_then(|t| t.elapsed().ok())
                        .is_some_and(|age| age > std::time::Duration::from_secs(3600));
                    if name.ends_with(".partial") && stale {
                        std::fs::remove_file(blob.path())?;
                    }
                    continue;
                }
                if !keep.contains(&format!("{prefix}{name}")) {
                    std::fs::remove_file(blob.path())?;
                    removed += 1;
                }
            }
        }
        Ok(removed)
    }

    pub fn root(&self) -> &Path {
        &self.root
    }
}

/// Contents written and not yet committed to the store (see [`Blobs::batch`]).
pub struct BlobBatch<'a> {
    blobs: &'a Blobs,
    files: crate::util::fs::AtomicBatch,
    /// The hashes written in this batch (a content met twice is written once).
    pending: HashSet<String>,
}

impl BlobBatch<'_> {
    /// Whether `hash` is stored, or written in this batch.
    fn has(&self, hash: &str) -> bool {
        self.pending.contains(hash) || self.blobs.contains(hash)
    }

    /// The blob's path, its folder made.
    fn place(&self, hash: &str) -> std::io::Result<PathBuf> {
        let path = self.blobs.path(hash);
        std::fs::create_dir_all(path.parent().unwrap_or(&self.blobs.root))?;
        Ok(path)
    }

    /// Writes `bytes` (unless stored already) and returns their hash.
    pub fn put(&mut self, bytes: &[u8]) -> std::io::Result<String> {
        let hash = hash(bytes);
        if self.has(&hash) {
            return Ok(hash);
        }
        let path = self.place(&hash)?;
        // The temporary file's name starts with a dot, so a concurrent `gc` never takes it for a blob.
        self.files.write(&path, crate::util::fs::Mode::Keep, |out| {
            let mut encoder = flate2::write::DeflateEncoder::new(out, flate2::Compression::fast());
            encoder.write_all(bytes)?;
            encoder.finish().map(drop)
        })?;
        self.pending.insert(hash.clone());
        Ok(hash)
    }

    /// Writes the content of the file at `path`, whose hash is `hash`, reading it in pieces. Ok(false)
    /// when the file could not be read again or no longer has that hash: nothing is written then. An
    /// error is the store's own (a full disk).
    pub fn put_file(&mut self, path: &Path, hash: &str) -> std::io::Result<bool> {
        if self.has(hash) {
            return Ok(true);
        }
        let target = self.place(hash)?;
        let mut source_failed = false;
        let written = self.files.write(&target, crate::util::fs::Mode::Keep, |out| {
            let file = std::fs::File::open(path).inspect_err(|_| source_failed = true)?;
            let mut reader = Hashing::new(file);
            let mut encoder = flate2::write::DeflateEncoder::new(out, flate2::Compression::fast());
            let copied = std::io::copy(&mut reader, &mut encoder);
            source_failed = reader.failed;
            copied?;
            encoder.finish()?;
            if reader.hex() != hash {
                source_failed = true;
                return Err(std::io::Error::other("the file changed while it was stored"));
            }
            Ok(())
        });
        match written {
            Ok(()) => {
                self.pending.insert(hash.to_owned());
                Ok(true)
            }
            Err(_) if source_failed => Ok(false),
            Err(error) => Err(error),
        }
    }

    /// Makes the batch's contents durable and puts them in the store.
    pub fn commit(self) -> std::io::Result<()> {
        self.files.commit()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn blobs_round_trip_dedupe_and_collect() {
        let dir = tempfile::tempdir().unwrap();
        let blobs = Blobs::new(dir.path());
        let binary: Vec<u8> = (0..=255u8).cycle().take(5000).collect();
        let a = blobs.put(&binary).unwrap();
        assert_eq!(blobs.put(&binary).unwrap(), a, "the same content is stored once");
        assert_eq!(blobs.get(&a).unwrap(), binary);
        let b = blobs.put(b"text\n").unwrap();
        assert_eq!(blobs.gc(&HashSet::from([a.clone()])).unwrap(), 1);
        assert!(blobs.contains(&a) && !blobs.contains(&b));
    }

    #[test]
    fn files_are_stored_and_restored_in_pieces_and_damage_is_caught() {
        let dir = tempfile::tempdir().unwrap();
        let blobs = Blobs::new(dir.path().join("blobs"));
        let content: Vec<u8> = (0..3 * 1024 * 1024u32).map(|i| (i % 253) as u8).collect();
        let source = dir.path().join("large.bin");
        std::fs::write(&source, &content).unwrap();
        let hash = hash_file(&source).unwrap();
        assert_eq!(hash, self::hash(&content));
        assert!(blobs.put_file(&source, &hash).unwrap());
        let mut out = Vec::new();
        assert_eq!(blobs.copy_to(&hash, &mut out).unwrap(), content.len() as u64);
        assert!(out == content);
        // The file changed after it was hashed: nothing is stored under the old hash.
        let stale = self::hash(b"what it was");
        assert!(!blobs.put_file(&source, &stale).unwrap());
        assert!(!blobs.contains(&stale));
        // A missing source is "could not read", not a failure of the store.
        assert!(!blobs.put_file(&dir.path().join("gone"), &self::hash(b"x")).unwrap());
        // A damaged blob is an error, whether it no longer inflates or inflates to other bytes.
        let other = blobs.put(b"other bytes").unwrap();
        std::fs::copy(blobs.path(&other), blobs.path(&hash)).unwrap();
        let error = blobs.copy_to(&hash, &mut Vec::new()).unwrap_err();
        assert_eq!(error.kind(), std::io::ErrorKind::InvalidData);
        std::fs::write(blobs.path(&hash), b"not deflate").unwrap();
        assert!(blobs.get(&hash).is_err());
    }
}
