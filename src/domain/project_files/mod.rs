//! A project's files, for `@`-mentions in the chat's prompt box.
//!
//! [`list`] walks the project once (`.gitignore`, `.ignore` and git's excludes honoured, hidden files
//! included, `.git` left out, links never followed out of the project) and keeps every relative path in
//! one string with the end of each, sorted: a 100,000-file project costs a few megabytes and two
//! allocations. [`find`] matches a query against every path with nucleo's fuzzy matcher (scored for
//! paths: a match at the start of a name counts most) and returns the best few, best first.

pub mod requests;

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use ignore::{DirEntry, ParallelVisitor, ParallelVisitorBuilder, WalkState};
use nucleo_matcher::pattern::{Atom, AtomKind, CaseMatching, Normalization};
use nucleo_matcher::{Config, Matcher, Utf32Str};
use serde::Serialize;
use serde::ser::SerializeStruct;

use crate::util::sync::LockExt;

/// Most files listed; past this many the rest of a project is left out (and the list says so).
pub const MAX_FILES: usize = 1_000_000;
/// Matches shown at most.
pub const MAX_SHOWN: usize = 50;

/// Why a project's files could not be listed.
#[derive(Debug, thiserror::Error)]
pub enum FilesError {
    #[error("{} is not a folder", .0.display())]
    NotAFolder(PathBuf),
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Every file of a project, as paths relative to its folder with `/` between names, sorted.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct FileList {
    root: PathBuf,
    /// The paths one after the other.
    text: String,
    /// Where each path ends in `text`.
    ends: Vec<u32>,
    /// Files whose names are not UTF-8 (left out: a mention must name the file exactly).
    skipped: usize,
    /// The project has more than [`MAX_FILES`] files (or more path text than fits): the rest are left out.
    truncated: bool,
}

impl FileList {
    /// A list of `paths` (relative, `/` between names) in the folder `root`, sorted.
    pub fn from_paths(root: impl Into<PathBuf>, paths: impl IntoIterator<Item = String>) -> Self {
        let mut paths: Vec<String> = paths.into_iter().collect();
        paths.sort_unstable();
        paths.dedup();
        let mut list = FileList {
            root: root.into(),
            text: String::with_capacity(paths.iter().map(String::len).sum()),
            ends: Vec::with_capacity(paths.len()),
            skipped: 0,
            truncated: false,
        };
        for path in paths.iter().take(MAX_FILES) {
            let Ok(end) = u32::try_from(list.text.len() + path.len()) else {
                list.truncated = true;
                break;
            };
            list.text.push_str(path);
            list.ends.push(end);
        }
        list.truncated |= paths.len() > list.ends.len();
        list
    }

    /// The project's folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The `index`th path in sorted order.
    pub fn get(&self, index: usize) -> Option<&str> {
        let end = *self.ends.get(index)? as usize;
        let start = match index {
            0 => 0,
            _ => *self.ends.get(index - 1)? as usize,
        };
        self.text.get(start..end)
    }

    /// Every path, sorted.
    pub fn iter(&self) -> impl Iterator<Item = &str> + '_ {
        let starts = std::iter::once(0).chain(self.ends.iter().copied());
        starts
            .zip(self.ends.iter().copied())
            .map(|(start, end)| self.text.get(start as usize..end as usize).unwrap_or_default())
    }

    /// Files left out because their names are not UTF-8.
    pub fn skipped(&self) -> usize {
        self.skipped
    }

    /// Whether files were left out past [`MAX_FILES`].
    pub fn truncated(&self) -> bool {
        self.truncated
    }

    /// Bytes held (path text and ends), for the bench.
    pub fn heap_bytes(&self) -> usize {
        self.text.capacity() + self.ends.capacity() * std::mem::size_of::<u32>()
    }
}

/// Shown as its size: a list of 100,000 paths would flood a log line.
impl std::fmt::Debug for FileList {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileList")
            .field("root", &self.root)
            .field("files", &self.len())
            .field("skipped", &self.skipped)
            .field("truncated", &self.truncated)
            .finish()
    }
}

impl Serialize for FileList {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        struct Paths<'a>(&'a FileList);
        impl Serialize for Paths<'_> {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_seq(self.0.iter())
            }
        }
        let mut out = serializer.serialize_struct("FileList", 4)?;
        out.serialize_field("root", &self.root)?;
        out.serialize_field("files", &Paths(self))?;
        out.serialize_field("skipped", &self.skipped)?;
        out.serialize_field("truncated", &self.truncated)?;
        out.end()
    }
}

/// Lists the files under `root` (on as many threads as the `ignore` crate picks).
///
/// Ignore files (`.gitignore` whether or not the folder is a git repository, `.ignore`, git's excludes and
/// global ignores) are honoured; hidden files are listed; `.git` is not. Links are not followed: a link to a
/// file inside the project is listed, one to a folder or to anything outside is not. Unreadable folders
/// are passed over; names that are not UTF-8 are counted, not listed.
pub fn list(root: &Path) -> Result<FileList, FilesError> {
    let meta = std::fs::metadata(root).map_err(|source| FilesError::Read {
        path: root.to_path_buf(),
        source,
    })?;
    if !meta.is_dir() {
        return Err(FilesError::NotAFolder(root.to_path_buf()));
    }
    let real_root = root.canonicalize().map_err(|source| FilesError::Read {
        path: root.to_path_buf(),
        source,
    })?;
    let shared = Shared {
        root,
        real_root: &real_root,
        found: Mutex::new(Vec::new()),
        count: AtomicUsize::new(0),
        skipped: AtomicUsize::new(0),
    };
    ignore::WalkBuilder::new(root)
        .hidden(false)
        .require_git(false)
        .follow_links(false)
        .filter_entry(|entry| entry.depth() == 0 || entry.file_name() != ".git")
        .build_parallel()
        .visit(&mut VisitorBuilder { shared: &shared });
    let skipped = shared.skipped.load(Ordering::Relaxed);
    let walked = shared.count.load(Ordering::Relaxed);
    let found = shared
        .found
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let mut list = FileList::from_paths(root, found.into_iter().flatten());
    list.skipped = skipped;
    list.truncated |= walked > MAX_FILES;
    Ok(list)
}

struct Shared<'a> {
    root: &'a Path,
    real_root: &'a Path,
    /// Each walking thread's paths, handed over when it ends.
    found: Mutex<Vec<Vec<String>>>,
    count: AtomicUsize,
    skipped: AtomicUsize,
}

struct VisitorBuilder<'s> {
    shared: &'s Shared<'s>,
}

impl<'s> ParallelVisitorBuilder<'s> for VisitorBuilder<'s> {
    fn build(&mut self) -> Box<dyn ParallelVisitor + 's> {
        Box::new(Visitor {
            shared: self.shared,
            found: Vec::new(),
        })
    }
}

/// One walking thread: keeps its paths to itself and hands them over when dropped.
struct Visitor<'s> {
    shared: &'s Shared<'s>,
    found: Vec<String>,
}

impl ParallelVisitor for Visitor<'_> {
    fn visit(&mut self, entry: Result<DirEntry, ignore::Error>) -> WalkState {
        let Ok(entry) = entry else {
            return WalkState::Continue;
        };
        let Some(kind) = entry.file_type() else {
            return WalkState::Continue;
        };
        let listed = kind.is_file() || (kind.is_symlink() && link_to_file_inside(entry.path(), self.shared.real_root));
        if !listed {
            return WalkState::Continue;
        }
        match relative(self.shared.root, entry.path()) {
            Some(path) => {
                self.found.push(path);
                if self.shared.count.fetch_add(1, Ordering::Relaxed) >= MAX_FILES {
                    return WalkState::Quit;
                }
            }
            None => {
                self.shared.skipped.fetch_add(1, Ordering::Relaxed);
            }
        }
        WalkState::Continue
    }
}

impl Drop for Visitor<'_> {
    fn drop(&mut self) {
        let found = std::mem::take(&mut self.found);
        self.shared.found.lock_or_recover().push(found);
    }
}

/// Whether the link at `path` leads to a file inside `real_root` (a resolved path).
fn link_to_file_inside(path: &Path, real_root: &Path) -> bool {
    path.canonicalize()
        .is_ok_and(|target| target.starts_with(real_root) && target.is_file())
}

/// `path` relative to `root`, `/` between names; None when a name is not UTF-8.
fn relative(root: &Path, path: &Path) -> Option<String> {
    let rest = path.strip_prefix(root).ok()?;
    let mut out = String::new();
    for part in rest.components() {
        if !out.is_empty() {
            out.push('/');
        }
        out.push_str(part.as_os_str().to_str()?);
    }
    (!out.is_empty()).then_some(out)
}

/// One path found for a query.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileMatch {
    pub path: String,
    /// nucleo's score (higher is better; 0 for an empty query).
    pub score: u32,
    /// The matched characters, as char positions in `path`, ascending (empty when unknown).
    pub positions: Vec<u32>,
}

/// The best paths for a query, best first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Matches {
    pub query: String,
    pub found: Vec<FileMatch>,
    /// How many paths matched in all.
    pub total: usize,
}

/// The at most `limit` paths of `files` that best match `query`, best first: by nucleo's fuzzy score for
/// paths, then the shorter path, then in path order. An empty query gives the shallowest paths first.
/// Case is ignored unless the query has a capital letter.
pub fn find(files: &FileList, query: &str, limit: usize) -> Matches {
    let query = query.trim();
    let mut hits: Vec<(u32, u32)> = Vec::new();
    let mut matcher = Matcher::new(Config::DEFAULT.match_paths());
    let atom = Atom::new(query, CaseMatching::Smart, Normalization::Smart, AtomKind::Fuzzy, false);
    if query.is_empty() {
        // No query: every file, the ones nearest the top of the project first.
        hits.extend((0u32..).take(files.len()).map(|index| (0, index)));
    } else {
        let mut buf = Vec::new();
        for (path, index) in files.iter().zip(0u32..) {
            if let Some(score) = atom.score(Utf32Str::new(path, &mut buf), &mut matcher) {
                hits.push((u32::from(score), index));
            }
        }
    }
    let total = hits.len();
    let path = |index: u32| files.get(index as usize).unwrap_or_default();
    let depth = |index: u32| path(index).bytes().filter(|b| *b == b'/').count();
    let order = |a: &(u32, u32), b: &(u32, u32)| {
        b.0.cmp(&a.0)
            .then_with(|| {
                if query.is_empty() {
                    depth(a.1).cmp(&depth(b.1))
                } else {
                    std::cmp::Ordering::Equal
                }
            })
            .then_with(|| path(a.1).len().cmp(&path(b.1).len()))
            .then_with(|| a.1.cmp(&b.1))
    };
    if limit == 0 {
        hits.clear();
    } else if hits.len() > limit {
        hits.select_nth_unstable_by(limit - 1, order);
        hits.truncate(limit);
    }
    hits.sort_unstable_by(order);
    let mut buf = Vec::new();
    let found = hits
        .into_iter()
        .map(|(score, index)| {
            let path = path(index);
            let mut positions = Vec::new();
            if !query.is_empty() {
                let haystack = Utf32Str::new(path, &mut buf);
                // nucleo counts grapheme clusters; they are chars unless a cluster has several.
                let same_as_chars = haystack.len() == path.chars().count();
                if same_as_chars && atom.indices(haystack, &mut matcher, &mut positions).is_some() {
                    positions.sort_unstable();
                    positions.dedup();
                } else {
                    positions.clear();
                }
            }
            FileMatch {
                path: path.to_owned(),
                score,
                positions,
            }
        })
        .collect();
    Matches {
        query: query.to_owned(),
        found,
        total,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests;
