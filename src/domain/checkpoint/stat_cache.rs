//! What a checkpoint last saw of each file, so a file whose size, modification time, change time and
//! inode all match is not read again (`checkpoint_stat_cache`, a row per folder). Rewriting a file
//! changes its change time even when the modification time is put back, so a match means untouched.
//!
//! A row's body, per file: the name's length as a varint and its bytes, then size, modification time,
//! change time (nanoseconds, zig-zag) and inode as varints, then the content's 32-byte hash.

use std::collections::{HashMap, HashSet};

use rusqlite::{Connection, params};

use super::tree::{self, Hash};
use super::{CheckpointError, FileEntry, WorkingFile};

/// What was seen of one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seen {
    pub size: u64,
    pub mtime_ns: i64,
    pub ctime_ns: i64,
    pub inode: u64,
    pub hash: Hash,
}

impl Seen {
    /// Whether `file` is, as far as its metadata tells, the file seen.
    pub fn matches(&self, file: &WorkingFile) -> bool {
        self.size == file.size
            && self.mtime_ns == file.mtime_ns
            && self.ctime_ns == file.ctime_ns
            && self.inode == file.inode
    }
}

fn zigzag(value: i64) -> u64 {
    ((value << 1) ^ (value >> 63)) as u64
}

fn unzigzag(value: u64) -> i64 {
    ((value >> 1) as i64) ^ -((value & 1) as i64)
}

fn encode(files: &HashMap<String, Seen>) -> Vec<u8> {
    let mut out = Vec::with_capacity(files.len() * 64);
    let mut names: Vec<&String> = files.keys().collect();
    names.sort_unstable();
    for name in names {
        let Some(seen) = files.get(name) else { continue };
        tree::put_varint(&mut out, name.len() as u64);
        out.extend_from_slice(name.as_bytes());
        tree::put_varint(&mut out, seen.size);
        tree::put_varint(&mut out, zigzag(seen.mtime_ns));
        tree::put_varint(&mut out, zigzag(seen.ctime_ns));
        tree::put_varint(&mut out, seen.inode);
        out.extend_from_slice(&seen.hash);
    }
    out
}

fn decode_one(bytes: &[u8], at: &mut usize) -> Option<(String, Seen)> {
    let len = usize::try_from(tree::get_varint(bytes, at)?).ok()?;
    let name = std::str::from_utf8(tree::get_bytes(bytes, at, len)?).ok()?.to_owned();
    let size = tree::get_varint(bytes, at)?;
    let mtime_ns = unzigzag(tree::get_varint(bytes, at)?);
    let ctime_ns = unzigzag(tree::get_varint(bytes, at)?);
    let inode = tree::get_varint(bytes, at)?;
    let hash = tree::get_bytes(bytes, at, 32)?.try_into().ok()?;
    Some((
        name,
        Seen {
            size,
            mtime_ns,
            ctime_ns,
            inode,
            hash,
        },
    ))
}

/// A row's files; a damaged row reads as empty (it is a cache: those files are read again).
fn decode(bytes: &[u8]) -> HashMap<String, Seen> {
    let mut files = HashMap::new();
    let mut at = 0;
    while at < bytes.len() {
        match decode_one(bytes, &mut at) {
            Some((name, seen)) => {
                files.insert(name, seen);
            }
            None => return HashMap::new(),
        }
    }
    files
}

/// A project's cache, by folder then file name.
#[derive(Debug, Default)]
pub struct Cache {
    folders: HashMap<String, HashMap<String, Seen>>,
    /// Folders whose row must be written (something in them was seen anew or is gone).
    dirty: HashSet<String>,
    /// Folders met by this walk (the rest are gone), with how many of their cached files it met.
    met: HashMap<String, usize>,
}

fn split(relative: &str) -> (&str, &str) {
    relative.rsplit_once('/').unwrap_or(("", relative))
}

impl Cache {
    pub fn load(conn: &Connection, project: &str) -> Result<Cache, CheckpointError> {
        let mut stmt = conn.prepare_cached("SELECT folder, body FROM checkpoint_stat_cache WHERE project_path = ?1")?;
        let rows = stmt.query_map([project], |row| {
            Ok((row.get::<_, String>(0)?, row.get::<_, Vec<u8>>(1)?))
        })?;
        let mut folders = HashMap::new();
        for row in rows {
            let (folder, body) = row?;
            folders.insert(folder, decode(&body));
        }
        Ok(Cache {
            folders,
            ..Cache::default()
        })
    }

    /// The content hash of `file` when it is as it was seen.
    pub fn lookup(&mut self, file: &WorkingFile) -> Option<Hash> {
        let (folder, name) = split(&file.relative);
        if !self.met.contains_key(folder) {
            self.met.insert(folder.to_owned(), 0);
        }
        let seen = self.folders.get(folder)?.get(name)?;
        if let Some(count) = self.met.get_mut(folder) {
            *count += 1;
        }
        seen.matches(file).then_some(seen.hash)
    }

    /// Records what was read of `file`.
    pub fn record(&mut self, file: &WorkingFile, hash: Hash) {
        let (folder, name) = split(&file.relative);
        let seen = Seen {
            size: file.size,
            mtime_ns: file.mtime_ns,
            ctime_ns: file.ctime_ns,
            inode: file.inode,
            hash,
        };
        let new = self
            .folders
            .entry(folder.to_owned())
            .or_default()
            .insert(name.to_owned(), seen)
            .is_none();
        *self.met.entry(folder.to_owned()).or_default() += usize::from(new);
        self.dirty.insert(folder.to_owned());
    }

    /// Writes the folders that changed and drops what the checkpoint no longer holds: files gone from
    /// a folder the walk met, and folders it did not meet.
    pub fn save(mut self, conn: &Connection, project: &str, held: &[FileEntry]) -> Result<(), CheckpointError> {
        let mut present: Option<HashSet<&str>> = None;
        for (folder, files) in &mut self.folders {
            // Every cached file of the folder met again: nothing in it is gone.
            if self.met.get(folder).is_none_or(|met| *met == files.len()) {
                continue;
            }
            let present = present.get_or_insert_with(|| held.iter().map(|e| e.path.as_str()).collect());
            let before = files.len();
            files.retain(|name, _| present.contains(tree_path(folder, name).as_str()));
            if files.len() != before {
                self.dirty.insert(folder.clone());
            }
        }
        let mut delete =
            conn.prepare_cached("DELETE FROM checkpoint_stat_cache WHERE project_path = ?1 AND folder = ?2")?;
        for folder in self.folders.keys().filter(|f| !self.met.contains_key(*f)) {
            delete.execute(params![project, folder])?;
        }
        let mut upsert = conn.prepare_cached(
            "INSERT OR REPLACE INTO checkpoint_stat_cache (project_path, folder, body) VALUES (?1, ?2, ?3)",
        )?;
        for folder in &self.dirty {
            match self.folders.get(folder) {
                Some(files) if !files.is_empty() => upsert.execute(params![project, folder, encode(files)])?,
                _ => delete.execute(params![project, folder])?,
            };
        }
        Ok(())
    }
}

fn tree_path(folder: &str, name: &str) -> String {
    if folder.is_empty() {
        name.to_owned()
    } else {
        format!("{folder}/{name}")
    }
}

/// Forgets every file whose content is not in `keep` (hex), so a collected content is never taken
/// from the cache.
pub fn forget_unless(conn: &Connection, keep: &HashSet<String>) -> Result<(), CheckpointError> {
    let rows: Vec<(String, String, Vec<u8>)> = conn
        .prepare("SELECT project_path, folder, body FROM checkpoint_stat_cache")?
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))?
        .collect::<Result<_, _>>()?;
    for (project, folder, body) in rows {
        let mut files = decode(&body);
        let before = files.len();
        files.retain(|_, seen| keep.contains(&crate::util::hex::encode(&seen.hash)));
        if files.len() == before && before > 0 {
            continue;
        }
        if files.is_empty() {
            conn.execute(
                "DELETE FROM checkpoint_stat_cache WHERE project_path = ?1 AND folder = ?2",
                params![project, folder],
            )?;
        } else {
            conn.execute(
                "UPDATE checkpoint_stat_cache SET body = ?3 WHERE project_path = ?1 AND folder = ?2",
                params![project, folder, encode(&files)],
            )?;
        }
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn a_row_reads_back_and_a_damaged_one_reads_as_empty() {
        let mut files = HashMap::new();
        files.insert(
            "a.rs".to_owned(),
            Seen {
                size: 12,
                mtime_ns: -5,
                ctime_ns: 1_700_000_000_000_000_000,
                inode: 99,
                hash: [3; 32],
            },
        );
        files.insert(
            "b".to_owned(),
            Seen {
                size: 0,
                mtime_ns: i64::MAX,
                ctime_ns: i64::MIN,
                inode: u64::MAX,
                hash: [4; 32],
            },
        );
        let body = encode(&files);
        assert_eq!(decode(&body), files);
        assert!(decode(&body[..body.len() - 3]).is_empty());
        for value in [0, 1, -1, i64::MAX, i64::MIN, 123_456_789] {
            assert_eq!(unzigzag(zigzag(value)), value);
        }
    }
}
