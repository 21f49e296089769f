//! Content-addressed trees: a folder's entries, sorted by name, encoded and stored once under the
//! SHA-256 of the encoding (`checkpoint_trees`). A file entry names its content's hash in the blob
//! store, a folder entry its tree's hash, so two checkpoints share every folder that did not change
//! and comparing them skips each equal subtree without reading it.
//!
//! The encoding, per entry: a kind byte (0 file, 1 folder), the mode and the size as LEB128 varints,
//! the name's length as a varint and its UTF-8 bytes, then the 32-byte hash.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::io::{Read, Write};

use rusqlite::{Connection, OptionalExtension, params};
use sha2::{Digest, Sha256};

use super::{CheckpointError, FileEntry};

/// A SHA-256, raw.
pub type Hash = [u8; 32];

/// Whether an entry is a file or a folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    File,
    Folder,
}

/// One entry of a tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub name: String,
    pub kind: Kind,
    /// The file's permission bits (0 for a folder).
    pub mode: u32,
    /// The file's size in bytes (0 for a folder).
    pub size: u64,
    /// The content's hash (a file) or the subtree's (a folder).
    pub hash: Hash,
}

/// Appends `value` as an LEB128 varint.
pub(super) fn put_varint(out: &mut Vec<u8>, mut value: u64) {
    loop {
        let low = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(low);
            return;
        }
        out.push(low | 0x80);
    }
}

/// Reads an LEB128 varint at `*at`, moving past it.
pub(super) fn get_varint(bytes: &[u8], at: &mut usize) -> Option<u64> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let byte = *bytes.get(*at)?;
        *at += 1;
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Some(value);
        }
    }
    None
}

/// Reads `len` bytes at `*at`, moving past them.
pub(super) fn get_bytes<'a>(bytes: &'a [u8], at: &mut usize, len: usize) -> Option<&'a [u8]> {
    let slice = bytes.get(*at..at.checked_add(len)?)?;
    *at += len;
    Some(slice)
}

/// The encoding of entries already sorted by name.
pub fn encode(entries: &[Entry]) -> Vec<u8> {
    let mut out = Vec::with_capacity(entries.len() * 56);
    for entry in entries {
        out.push(match entry.kind {
            Kind::File => 0,
            Kind::Folder => 1,
        });
        put_varint(&mut out, u64::from(entry.mode));
        put_varint(&mut out, entry.size);
        put_varint(&mut out, entry.name.len() as u64);
        out.extend_from_slice(entry.name.as_bytes());
        out.extend_from_slice(&entry.hash);
    }
    out
}

/// The entries of an encoding; None when it is not one (damaged).
pub fn decode(bytes: &[u8]) -> Option<Vec<Entry>> {
    let mut entries = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let kind = match get_bytes(bytes, &mut at, 1)? {
            [0] => Kind::File,
            [1] => Kind::Folder,
            _ => return None,
        };
        let mode = u32::try_from(get_varint(bytes, &mut at)?).ok()?;
        let size = get_varint(bytes, &mut at)?;
        let len = usize::try_from(get_varint(bytes, &mut at)?).ok()?;
        let name = std::str::from_utf8(get_bytes(bytes, &mut at, len)?).ok()?.to_owned();
        let hash = get_bytes(bytes, &mut at, 32)?.try_into().ok()?;
        entries.push(Entry {
            name,
            kind,
            mode,
            size,
            hash,
        });
    }
    Some(entries)
}

/// The hash a tree is stored under.
pub fn hash_of(encoding: &[u8]) -> Hash {
    Sha256::digest(encoding).into()
}

/// A file's content hash as the blob store names it (hex) into raw bytes.
pub fn content_hash(hex: &str) -> Option<Hash> {
    crate::util::hex::decode_array(hex)
}

/// A tree made from the working tree, not yet stored.
pub struct Built {
    pub hash: Hash,
    encoding: Vec<u8>,
    /// The hashes of its folders' trees.
    subtrees: Vec<Hash>,
}

/// The trees of a set of files (paths `/`-separated, relative to the project), the root's last.
pub fn build(files: &[FileEntry]) -> Result<Vec<Built>, CheckpointError> {
    let mut folders: BTreeMap<&str, Vec<Entry>> = BTreeMap::new();
    folders.insert("", Vec::new());
    for file in files {
        let (folder, name) = file.path.rsplit_once('/').unwrap_or(("", file.path.as_str()));
        let hash = file
            .hash
            .as_deref()
            .and_then(content_hash)
            .ok_or_else(|| CheckpointError::Damaged(format!("the content hash of {}", file.path)))?;
        folders.entry(folder).or_default().push(Entry {
            name: name.to_owned(),
            kind: Kind::File,
            mode: file.mode,
            size: file.size,
            hash,
        });
        // Every folder on the way up exists, even one holding only folders.
        let mut up = folder;
        while let Some((parent, _)) = up.rsplit_once('/') {
            folders.entry(parent).or_default();
            up = parent;
        }
    }
    // A folder sorts after every folder it is in ("a" < "a/b"), so walking backwards builds each
    // subtree before the tree that holds it.
    let mut built = Vec::with_capacity(folders.len());
    while let Some((folder, mut entries)) = folders.pop_last() {
        entries.sort_unstable_by(|a, b| a.name.cmp(&b.name));
        let encoding = encode(&entries);
        let hash = hash_of(&encoding);
        let subtrees = entries
            .iter()
            .filter(|e| e.kind == Kind::Folder)
            .map(|e| e.hash)
            .collect();
        if !folder.is_empty() {
            let (parent, name) = folder.rsplit_once('/').unwrap_or(("", folder));
            folders.entry(parent).or_default().push(Entry {
                name: name.to_owned(),
                kind: Kind::Folder,
                mode: 0,
                size: 0,
                hash,
            });
        }
        built.push(Built {
            hash,
            encoding,
            subtrees,
        });
    }
    Ok(built)
}

/// Stores the trees of `built` the database lacks, from the root (the last) down. A stored tree's
/// subtrees are stored too (they are written in the same transaction, and collection keeps whatever a
/// kept tree reaches), so a folder found stored is not looked into.
pub fn store(conn: &Connection, built: &[Built]) -> Result<usize, CheckpointError> {
    let Some(root) = built.last() else { return Ok(0) };
    let by_hash: HashMap<Hash, &Built> = built.iter().map(|b| (b.hash, b)).collect();
    let mut exists = conn.prepare_cached("SELECT 1 FROM checkpoint_trees WHERE hash = ?1")?;
    let mut insert = conn.prepare_cached("INSERT OR IGNORE INTO checkpoint_trees (hash, body) VALUES (?1, ?2)")?;
    let mut stored = 0;
    let mut seen = HashSet::new();
    let mut stack = vec![root.hash];
    while let Some(hash) = stack.pop() {
        if !seen.insert(hash) || exists.exists([&hash[..]])? {
            continue;
        }
        let Some(tree) = by_hash.get(&hash) else { continue };
        insert.execute(params![&hash[..], deflate(&tree.encoding)])?;
        stored += 1;
        stack.extend(&tree.subtrees);
    }
    Ok(stored)
}

fn deflate(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::fast());
    // Writing to a Vec cannot fail.
    let _ = encoder.write_all(bytes);
    encoder.finish().unwrap_or_default()
}

/// The entries of the stored tree `hash`; an error when it is missing or damaged.
pub fn load(conn: &Connection, hash: &Hash) -> Result<Vec<Entry>, CheckpointError> {
    let body: Option<Vec<u8>> = conn
        .prepare_cached("SELECT body FROM checkpoint_trees WHERE hash = ?1")?
        .query_row([&hash[..]], |row| row.get(0))
        .optional()?;
    let damaged = || CheckpointError::Damaged(format!("the stored folder {}", crate::util::hex::encode(hash)));
    let body = body.ok_or_else(damaged)?;
    let mut encoding = Vec::new();
    flate2::read::DeflateDecoder::new(body.as_slice())
        .read_to_end(&mut encoding)
        .map_err(|_| damaged())?;
    if hash_of(&encoding) != *hash {
        return Err(damaged());
    }
    decode(&encoding).ok_or_else(damaged)
}

fn join(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_owned()
    } else {
        format!("{prefix}/{name}")
    }
}

fn file_entry(path: String, entry: &Entry) -> FileEntry {
    FileEntry {
        path,
        hash: Some(crate::util::hex::encode(&entry.hash)),
        size: entry.size,
        mode: entry.mode,
        deleted: false,
    }
}

/// Every file under the tree `root`, by path.
pub fn files(conn: &Connection, root: &Hash) -> Result<BTreeMap<String, FileEntry>, CheckpointError> {
    let mut out = BTreeMap::new();
    add_files(conn, root, "", &mut out)?;
    Ok(out)
}

fn add_files(
    conn: &Connection,
    tree: &Hash,
    prefix: &str,
    out: &mut BTreeMap<String, FileEntry>,
) -> Result<(), CheckpointError> {
    for entry in load(conn, tree)? {
        let path = join(prefix, &entry.name);
        match entry.kind {
            Kind::File => {
                out.insert(path.clone(), file_entry(path, &entry));
            }
            Kind::Folder => add_files(conn, &entry.hash, &path, out)?,
        }
    }
    Ok(())
}

/// One file that differs between two trees: (path, before, after), None where it is absent.
pub type Change = (String, Option<FileEntry>, Option<FileEntry>);

/// The files that differ from tree `old` to tree `new` (content or mode), by path. Equal subtrees are
/// skipped without being read.
pub fn changes(conn: &Connection, old: &Hash, new: &Hash) -> Result<Vec<Change>, CheckpointError> {
    let mut out = Vec::new();
    compare(conn, Some(old), Some(new), "", &mut out)?;
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

fn file(entry: Option<&Entry>) -> Option<&Entry> {
    entry.filter(|e| e.kind == Kind::File)
}

fn folder(entry: Option<&Entry>) -> Option<&Hash> {
    entry.filter(|e| e.kind == Kind::Folder).map(|e| &e.hash)
}

fn compare(
    conn: &Connection,
    old: Option<&Hash>,
    new: Option<&Hash>,
    prefix: &str,
    out: &mut Vec<Change>,
) -> Result<(), CheckpointError> {
    if old == new {
        return Ok(());
    }
    let old_entries = old.map(|h| load(conn, h)).transpose()?.unwrap_or_default();
    let new_entries = new.map(|h| load(conn, h)).transpose()?.unwrap_or_default();
    let old_by_name: BTreeMap<&str, &Entry> = old_entries.iter().map(|e| (e.name.as_str(), e)).collect();
    let new_by_name: BTreeMap<&str, &Entry> = new_entries.iter().map(|e| (e.name.as_str(), e)).collect();
    let names: BTreeSet<&str> = old_by_name.keys().chain(new_by_name.keys()).copied().collect();
    for name in names {
        let path = join(prefix, name);
        let (a, b) = (old_by_name.get(name).copied(), new_by_name.get(name).copied());
        let (file_a, file_b) = (file(a), file(b));
        let same_file = matches!((file_a, file_b), (Some(x), Some(y)) if x.hash == y.hash && x.mode == y.mode);
        if !same_file && (file_a.is_some() || file_b.is_some()) {
            out.push((
                path.clone(),
                file_a.map(|e| file_entry(path.clone(), e)),
                file_b.map(|e| file_entry(path.clone(), e)),
            ));
        }
        let (folder_a, folder_b) = (folder(a), folder(b));
        if folder_a.is_some() || folder_b.is_some() {
            compare(conn, folder_a, folder_b, &path, out)?;
        }
    }
    Ok(())
}

/// Every tree reachable from `roots`, and every content hash they name (hex).
pub fn reachable(conn: &Connection, roots: &[Hash]) -> Result<(HashSet<Hash>, HashSet<String>), CheckpointError> {
    let mut trees = HashSet::new();
    let mut contents = HashSet::new();
    let mut stack: Vec<Hash> = roots.to_vec();
    while let Some(hash) = stack.pop() {
        if !trees.insert(hash) {
            continue;
        }
        for entry in load(conn, &hash)? {
            match entry.kind {
                Kind::File => {
                    contents.insert(crate::util::hex::encode(&entry.hash));
                }
                Kind::Folder => stack.push(entry.hash),
            }
        }
    }
    Ok((trees, contents))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn file(path: &str, content: &str, mode: u32) -> FileEntry {
        FileEntry {
            path: path.into(),
            hash: Some(super::super::blobs::hash(content.as_bytes())),
            size: content.len() as u64,
            mode,
            deleted: false,
        }
    }

    #[test]
    fn an_encoding_reads_back_and_damage_is_refused() {
        let entries = vec![
            Entry {
                name: "a".into(),
                kind: Kind::File,
                mode: 0o755,
                size: 300,
                hash: [7; 32],
            },
            Entry {
                name: "dossier é".into(),
                kind: Kind::Folder,
                mode: 0,
                size: 0,
                hash: [9; 32],
            },
        ];
        let encoding = encode(&entries);
        assert_eq!(decode(&encoding).unwrap(), entries);
        assert_eq!(decode(&[]).unwrap(), []);
        assert!(decode(&encoding[..encoding.len() - 1]).is_none());
        let mut wrong_kind = encoding.clone();
        wrong_kind[0] = 5;
        assert!(decode(&wrong_kind).is_none());
        let mut at = 0;
        assert_eq!(get_varint(&[0x80; 11], &mut at), None, "a varint longer than 64 bits");
    }

    #[test]
    fn folders_that_did_not_change_keep_their_hash_and_equal_subtrees_are_skipped() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE checkpoint_trees (hash BLOB PRIMARY KEY, body BLOB NOT NULL) WITHOUT ROWID")
            .unwrap();
        let one = vec![
            file("README.md", "hi", 0o644),
            file("src/a.rs", "a", 0o644),
            file("src/deep/b.rs", "b", 0o644),
            file("tests/t.rs", "t", 0o644),
        ];
        let first = build(&one).unwrap();
        assert_eq!(first.len(), 4, "the root, src, src/deep and tests");
        assert_eq!(store(&conn, &first).unwrap(), 4);
        assert_eq!(store(&conn, &first).unwrap(), 0, "nothing changed: no tree is added");
        let mut two = one.clone();
        two[2] = file("src/deep/b.rs", "b2", 0o644);
        two.push(file("src/new.rs", "n", 0o755));
        let second = build(&two).unwrap();
        assert_eq!(
            store(&conn, &second).unwrap(),
            3,
            "the changed folder and the two above it; tests/ is shared"
        );
        let root = |b: &[Built]| b.last().unwrap().hash;
        let files_now = files(&conn, &root(&second)).unwrap();
        assert_eq!(files_now.len(), 5);
        assert_eq!(files_now["src/new.rs"].mode, 0o755);
        let changed = changes(&conn, &root(&first), &root(&second)).unwrap();
        let paths: Vec<&str> = changed.iter().map(|c| c.0.as_str()).collect();
        assert_eq!(paths, ["src/deep/b.rs", "src/new.rs"]);
        assert!(changed[1].1.is_none() && changed[1].2.is_some());
        // A file that became a folder is one removed file and the added files under it.
        let three = vec![file("README.md/inner.txt", "x", 0o644)];
        let third = build(&three).unwrap();
        store(&conn, &third).unwrap();
        let changed = changes(&conn, &root(&first), &root(&third)).unwrap();
        let paths: Vec<(&str, bool, bool)> = changed
            .iter()
            .map(|c| (c.0.as_str(), c.1.is_some(), c.2.is_some()))
            .collect();
        assert_eq!(
            paths,
            [
                ("README.md", true, false),
                ("README.md/inner.txt", false, true),
                ("src/a.rs", true, false),
                ("src/deep/b.rs", true, false),
                ("tests/t.rs", true, false)
            ]
        );
        let (trees, contents) = reachable(&conn, &[root(&second)]).unwrap();
        assert_eq!(trees.len(), 4);
        assert_eq!(contents.len(), 5);
        // A damaged stored tree is an error, not a wrong answer.
        conn.execute("UPDATE checkpoint_trees SET body = x'00'", []).unwrap();
        assert!(matches!(files(&conn, &root(&second)), Err(CheckpointError::Damaged(_))));
    }
}
