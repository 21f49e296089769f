//! The content-addressed blob store: each file content once, by SHA-256, deflate-compressed, in
//! `<data>/blobs/ab/cdef...`. Writes go through a temporary file renamed into place.

use std::collections::HashSet;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// The blob folder.
#[derive(Debug, Clone)]
pub struct Blobs {
    root: PathBuf,
}

/// The hex SHA-256 of `bytes`.
pub fn hash(bytes: &[u8]) -> String {
    crate::util::hex::encode(&Sha256::digest(bytes))
}

/// The hex SHA-256 of a file's content, read in pieces (never whole in memory).
pub fn hash_file(path: &Path) -> std::io::Result<String> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 64 * 1024];
    loop {
        let read = match file.read(&mut buffer) {
            Ok(0) => break,
            Ok(read) => read,
            Err(error) if error.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(error) => return Err(error),
        };
        hasher.update(buffer.get(..read).unwrap_or_default());
    }
    Ok(crate::util::hex::encode(&hasher.finalize()))
}

impl Blobs {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
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
        let hash = hash(bytes);
        let path = self.path(&hash);
        if path.is_file() {
            return Ok(hash);
        }
        let dir = path.parent().unwrap_or(&self.root);
        std::fs::create_dir_all(dir)?;
        // The temporary file's name starts with a dot, so a concurrent `gc` never takes it for a blob.
        crate::util::fs::write_atomic_with(&path, crate::util::fs::Mode::Keep, |out| {
            let mut encoder = flate2::write::DeflateEncoder::new(out, flate2::Compression::fast());
            encoder.write_all(bytes)?;
            encoder.finish().map(drop)
        })?;
        Ok(hash)
    }

    /// The bytes of a blob, checked against their hash.
    pub fn get(&self, hash: &str) -> std::io::Result<Vec<u8>> {
        let file = std::fs::File::open(self.path(hash))?;
        let mut bytes = Vec::new();
        flate2::read::DeflateDecoder::new(file).read_to_end(&mut bytes)?;
        if self::hash(&bytes) != hash {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("blob {hash} is damaged"),
            ));
        }
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
}
