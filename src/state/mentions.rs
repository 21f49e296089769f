//! The `@` picker of the prompt box: typing `@` lists the chat's project files, what follows it filters
//! them. The files of each project are asked of the backend (listed off the window's thread) and kept
//! for [`MAX_AGE`], or until a new chat opens or a turn ends; the matching runs in the backend too, one
//! request at a time, the latest query winning, so a keystroke never waits on 100,000 paths.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::Requested;
use crate::backend::command::{Command, RequestId};
use crate::domain::project_files::requests::{ListProjectFiles, MatchProjectFiles, Reply};
use crate::domain::project_files::{FileList, FileMatch, MAX_SHOWN, Matches};

/// A project's list is listed again when it is older than this.
pub const MAX_AGE: Duration = Duration::from_secs(30);
/// Projects whose lists are kept (the least recently used goes first).
const KEPT_PROJECTS: usize = 4;

/// The `@query` being typed in a prompt: the query, and the bytes of the text a pick replaces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mention<'a> {
    /// What follows `@`, up to the cursor.
    pub query: &'a str,
    /// Where the `@` is (a byte offset).
    pub start: usize,
    /// The end of the word the cursor is in (a byte offset): a pick replaces `start..end`.
    pub end: usize,
}

/// The mention the cursor (a char index, as text boxes count) is in: an `@` at the start of the text or
/// after a space, then no space up to the cursor. An e-mail address (`me@example.com`) is none.
pub fn mention_at(text: &str, cursor: usize) -> Option<Mention<'_>> {
    let at_cursor = text.char_indices().nth(cursor).map_or(text.len(), |(byte, _)| byte);
    let before = &text[..at_cursor];
    let start = before.rfind(|c: char| c == '@' || c.is_whitespace())?;
    if !before[start..].starts_with('@') {
        return None;
    }
    if before[..start].chars().next_back().is_some_and(|c| !c.is_whitespace()) {
        return None;
    }
    let end = text[at_cursor..]
        .find(char::is_whitespace)
        .map_or(text.len(), |len| at_cursor + len);
    Some(Mention {
        query: &before[start + 1..],
        start,
        end,
    })
}

/// `text` with `mention` replaced by `@path` and a space, and the char index of the cursor after it. A
/// path with spaces in it is put in quotes (`@"my notes.md"`).
pub fn insert_mention(text: &str, mention: &Mention<'_>, path: &str) -> (String, usize) {
    let quoted = if path.contains(char::is_whitespace) {
        format!("@\"{path}\"")
    } else {
        format!("@{path}")
    };
    let rest = &text[mention.end..];
    let mut out = String::with_capacity(text.len() + quoted.len() + 1);
    out.push_str(&text[..mention.start]);
    out.push_str(&quoted);
    // One space after the path: the one already there, or a new one.
    match rest.chars().next() {
        Some(space) if space.is_whitespace() => {
            out.push(space);
            let cursor = out.chars().count();
            out.push_str(&rest[space.len_utf8()..]);
            (out, cursor)
        }
        _ => {
            out.push(' ');
            let cursor = out.chars().count();
            out.push_str(rest);
            (out, cursor)
        }
    }
}

/// One project's files, as last listed.
#[derive(Debug)]
struct Listing {
    files: Requested<Arc<FileList>>,
    /// When the files now held (or being listed) were asked for.
    asked_at: Option<Instant>,
    /// Which list this is, so matches of an older list are asked again.
    generation: u64,
    /// A new chat opened or a turn ended since: list again at the next `@`.
    stale: bool,
    used: Instant,
}

/// What a match was asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
struct MatchKey {
    project: String,
    generation: u64,
    query: String,
}

/// The prompt box's `@` picker (one for every chat tab: one prompt box is shown at a time).
#[derive(Debug, Default)]
pub struct MentionPicker {
    listings: HashMap<String, Listing>,
    matches: Requested<Matches>,
    /// The match under way, then the one shown.
    asked: Option<MatchKey>,
    shown: Option<MatchKey>,
    generations: u64,
    /// The highlighted entry among the matches.
    pub selected: usize,
    /// The prompt's text when Escape closed the picker: it stays closed until the text changes.
    pub dismissed: Option<String>,
}

impl MentionPicker {
    /// Asks the backend, through `ask`, for what the picker needs to show matches for `query` in
    /// `project`: the project's files when they are missing, older than [`MAX_AGE`] or stale (unless a
    /// listing is under way), then the matches for `query` among them (unless a match is under way: the
    /// next frame asks for the latest query once it is back).
    pub fn update(&mut self, project: &str, query: &str, now: Instant, ask: &mut dyn FnMut(Command) -> RequestId) {
        let project = project.trim();
        if project.is_empty() {
            return;
        }
        if !self.listings.contains_key(project) {
            self.make_room();
        }
        let listing = self.listings.entry(project.to_owned()).or_insert_with(|| Listing {
            files: Requested::default(),
            asked_at: None,
            generation: 0,
            stale: false,
            used: now,
        });
        listing.used = now;
        let old = listing
            .asked_at
            .is_none_or(|at| now.saturating_duration_since(at) >= MAX_AGE);
        if (old || listing.stale) && !listing.files.is_pending() {
            listing.stale = false;
            listing.asked_at = Some(now);
            let id = ask(ListProjectFiles {
                root: PathBuf::from(project),
            }
            .into());
            listing.files.start(id);
        }
        let Some(files) = listing.files.value().cloned() else {
            return;
        };
        let key = MatchKey {
            project: project.to_owned(),
            generation: listing.generation,
            query: query.to_owned(),
        };
        let current = if self.matches.is_pending() {
            &self.asked
        } else {
            &self.shown
        };
        if current.as_ref() == Some(&key) || self.matches.is_pending() {
            return;
        }
        let id = ask(MatchProjectFiles {
            files,
            query: query.to_owned(),
            limit: MAX_SHOWN,
        }
        .into());
        self.matches.start(id);
        self.asked = Some(key);
    }

    /// Drops the least recently used list when [`KEPT_PROJECTS`] are kept.
    fn make_room(&mut self) {
        while self.listings.len() >= KEPT_PROJECTS {
            let Some(oldest) = self
                .listings
                .iter()
                .min_by_key(|(_, listing)| listing.used)
                .map(|(project, _)| project.clone())
            else {
                return;
            };
            self.listings.remove(&oldest);
        }
    }

    /// The matches to show for `project` (those of the latest query answered), best first.
    pub fn shown(&self, project: &str) -> &[FileMatch] {
        match (&self.shown, self.matches.value()) {
            (Some(key), Some(matches)) if key.project == project.trim() => &matches.found,
            _ => &[],
        }
    }

    /// How many files matched the shown query in all (more than are shown past [`MAX_SHOWN`]).
    pub fn total(&self, project: &str) -> usize {
        match (&self.shown, self.matches.value()) {
            (Some(key), Some(matches)) if key.project == project.trim() => matches.total,
            _ => 0,
        }
    }

    /// The files of `project`, once listed.
    pub fn files(&self, project: &str) -> Option<&Arc<FileList>> {
        self.listings.get(project.trim())?.files.value()
    }

    /// Whether `project`'s files are being listed for the first time.
    pub fn listing(&self, project: &str) -> bool {
        self.listings
            .get(project.trim())
            .is_some_and(|l| l.files.is_pending() && l.files.value().is_none())
    }

    /// Why `project`'s files could not be listed, if they could not.
    pub fn error(&self, project: &str) -> Option<&str> {
        self.listings.get(project.trim())?.files.error()
    }

    /// Whether a match is under way (the matches shown may be for an earlier query).
    pub fn is_matching(&self) -> bool {
        self.matches.is_pending()
    }

    /// Every list is listed again at the next `@` (a new chat opened; a turn may have changed files).
    pub fn refresh(&mut self) {
        for listing in self.listings.values_mut() {
            listing.stale = true;
        }
    }

    /// The picker closed (no `@` at the cursor): the next one starts at the top, with fresh matches.
    pub fn close(&mut self) {
        self.selected = 0;
        self.shown = None;
    }

    pub fn apply_output(&mut self, request_id: RequestId, reply: &Reply) -> bool {
        match reply {
            Reply::Files(files) => {
                let Some(listing) = self.listings.values_mut().find(|l| l.files.awaits(request_id)) else {
                    return false;
                };
                self.generations += 1;
                listing.generation = self.generations;
                listing.files.finish(request_id, files.clone())
            }
            Reply::Matches(matches) => {
                if !self.matches.finish(request_id, matches.clone()) {
                    return false;
                }
                let asked = self.asked.take();
                if asked.as_ref().map(|k| &k.query) != self.shown.as_ref().map(|k| &k.query) {
                    self.selected = 0;
                }
                self.shown = asked;
                self.selected = self.selected.min(matches.found.len().saturating_sub(1));
                true
            }
        }
    }

    pub fn apply_failure(&mut self, request_id: RequestId, error: &str) -> bool {
        if self.matches.fail(request_id, error.to_owned()) {
            self.asked = None;
            return true;
        }
        self.listings
            .values_mut()
            .any(|listing| listing.files.fail(request_id, error.to_owned()))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::domain::project_files::requests::Request;
    use crate::domain::project_files::{self, FileList};

    /// Records what the picker asks for, numbering the requests from 1.
    #[derive(Default)]
    struct Asked(Vec<Request>);

    impl Asked {
        fn ask(&mut self) -> impl FnMut(Command) -> RequestId + '_ {
            |command| match command {
                Command::ProjectFiles(request) => {
                    self.0.push(request);
                    self.0.len() as RequestId
                }
                other => panic!("unexpected {other:?}"),
            }
        }
    }

    fn files(paths: &[&str]) -> Arc<FileList> {
        Arc::new(FileList::from_paths("/p", paths.iter().map(|p| p.to_string())))
    }

    /// Answers match request `id` the way the backend does.
    fn answer_match(picker: &mut MentionPicker, asked: &Asked, id: RequestId) {
        let Request::MatchProjectFiles(q) = &asked.0[id as usize - 1] else {
            panic!("request {id} is not a match")
        };
        let reply = Reply::Matches(project_files::find(&q.files, &q.query, q.limit));
        assert!(picker.apply_output(id, &reply));
    }

    #[test]
    fn the_mention_is_the_word_at_the_cursor_after_an_at_sign() {
        assert_eq!(
            mention_at("@src", 4),
            Some(Mention {
                query: "src",
                start: 0,
                end: 4
            })
        );
        assert_eq!(mention_at("look at @", 9).map(|m| m.query), Some(""));
        let text = "see @ui/comp.rs now";
        let m = mention_at(text, 8).unwrap();
        assert_eq!((m.query, &text[m.start..m.end]), ("ui/", "@ui/comp.rs"));
        assert_eq!(mention_at("me@example.com", 14), None, "an e-mail address");
        assert_eq!(mention_at("@src done", 9), None, "a space after the word closes it");
        assert_eq!(mention_at("no at sign", 5), None);
        assert_eq!(mention_at("", 0), None);
        assert_eq!(
            mention_at("é @ü", 4).map(|m| m.query),
            Some("ü"),
            "cursor counted in chars"
        );
        assert_eq!(
            mention_at("@a", 99).map(|m| m.query),
            Some("a"),
            "a cursor past the end"
        );
        assert_eq!(mention_at("line\n@x", 7).map(|m| m.query), Some("x"));
    }

    #[test]
    fn a_pick_replaces_the_mention_and_puts_the_cursor_after_a_space() {
        let text = "look at @comp please";
        let m = mention_at(text, 13).unwrap();
        assert_eq!(
            insert_mention(text, &m, "src/ui/composer.rs"),
            ("look at @src/ui/composer.rs please".to_owned(), 28)
        );
        let m = mention_at("@co", 3).unwrap();
        assert_eq!(insert_mention("@co", &m, "a.rs"), ("@a.rs ".to_owned(), 6));
        let m = mention_at("@no", 3).unwrap();
        assert_eq!(
            insert_mention("@no", &m, "my notes.md"),
            ("@\"my notes.md\" ".to_owned(), 15)
        );
    }

    #[test]
    fn files_are_listed_once_then_matched_for_the_latest_query() {
        let mut picker = MentionPicker::default();
        let mut asked = Asked::default();
        let start = Instant::now();
        picker.update(" /p ", "", start, &mut asked.ask());
        assert!(matches!(&asked.0[..], [Request::ListProjectFiles(q)] if q.root == std::path::Path::new("/p")));
        assert!(picker.listing("/p"));
        // Nothing more is asked while the list is under way.
        picker.update("/p", "co", start, &mut asked.ask());
        assert_eq!(asked.0.len(), 1);
        let list = files(&["src/composer.rs", "src/lib.rs", "README.md"]);
        assert!(picker.apply_output(1, &Reply::Files(list.clone())));
        assert!(!picker.listing("/p"));
        picker.update("/p", "co", start, &mut asked.ask());
        assert!(
            matches!(&asked.0[1], Request::MatchProjectFiles(q) if q.query == "co" && Arc::ptr_eq(&q.files, &list))
        );
        // Typing on while the match runs asks nothing yet; the latest query goes once it is back.
        picker.update("/p", "com", start, &mut asked.ask());
        picker.update("/p", "comp", start, &mut asked.ask());
        assert_eq!(asked.0.len(), 2);
        answer_match(&mut picker, &asked, 2);
        assert_eq!(picker.shown("/p")[0].path, "src/composer.rs");
        assert!(
            picker.shown("/q").is_empty(),
            "another project's tab shows none of these"
        );
        picker.update("/p", "comp", start, &mut asked.ask());
        assert!(matches!(&asked.0[2], Request::MatchProjectFiles(q) if q.query == "comp"));
        answer_match(&mut picker, &asked, 3);
        // The same query again asks nothing.
        picker.update("/p", "comp", start, &mut asked.ask());
        assert_eq!(asked.0.len(), 3);
        assert_eq!(picker.total("/p"), 1);
    }

    #[test]
    fn a_list_is_listed_again_when_old_or_after_a_new_chat_and_old_matches_are_redone() {
        let mut picker = MentionPicker::default();
        let mut asked = Asked::default();
        let start = Instant::now();
        picker.update("/p", "a", start, &mut asked.ask());
        assert!(picker.apply_output(1, &Reply::Files(files(&["a.rs"]))));
        picker.update("/p", "a", start, &mut asked.ask());
        answer_match(&mut picker, &asked, 2);
        // Within the age nothing is asked again.
        picker.update("/p", "a", start + MAX_AGE / 2, &mut asked.ask());
        assert_eq!(asked.0.len(), 2);
        picker.update("/p", "a", start + MAX_AGE, &mut asked.ask());
        assert!(
            matches!(&asked.0[2], Request::ListProjectFiles(_)),
            "older than the age: listed again"
        );
        assert_eq!(
            picker.shown("/p").len(),
            1,
            "the old list's matches stay while the new one comes"
        );
        let newer = files(&["a.rs", "ab.rs"]);
        assert!(picker.apply_output(3, &Reply::Files(newer.clone())));
        picker.update("/p", "a", start + MAX_AGE, &mut asked.ask());
        assert!(
            matches!(&asked.0[3], Request::MatchProjectFiles(q) if Arc::ptr_eq(&q.files, &newer)),
            "the same query is matched again in the new list"
        );
        answer_match(&mut picker, &asked, 4);
        assert_eq!(picker.shown("/p").len(), 2);
        picker.refresh();
        picker.update("/p", "a", start + MAX_AGE, &mut asked.ask());
        assert!(
            matches!(&asked.0[4], Request::ListProjectFiles(_)),
            "a new chat lists again"
        );
    }

    #[test]
    fn failures_are_kept_and_not_asked_again_at_once() {
        let mut picker = MentionPicker::default();
        let mut asked = Asked::default();
        let start = Instant::now();
        picker.update("/gone", "", start, &mut asked.ask());
        assert!(picker.apply_failure(1, "cannot read /gone"));
        assert_eq!(picker.error("/gone"), Some("cannot read /gone"));
        picker.update("/gone", "", start + Duration::from_secs(1), &mut asked.ask());
        assert_eq!(asked.0.len(), 1, "no request each frame after a failure");
        assert!(!picker.apply_failure(99, "someone else's"));
        picker.update("", "x", start, &mut asked.ask());
        assert_eq!(asked.0.len(), 1, "no project, nothing to list");
    }

    #[test]
    fn only_a_few_projects_are_kept() {
        let mut picker = MentionPicker::default();
        let mut asked = Asked::default();
        let start = Instant::now();
        for i in 0..=KEPT_PROJECTS {
            let project = format!("/p{i}");
            picker.update(&project, "", start + Duration::from_millis(i as u64), &mut asked.ask());
            assert!(picker.apply_output(asked.0.len() as RequestId, &Reply::Files(files(&["x"]))));
        }
        assert_eq!(picker.listings.len(), KEPT_PROJECTS);
        assert!(picker.files("/p0").is_none(), "the least recently used went");
        assert!(picker.files(&format!("/p{KEPT_PROJECTS}")).is_some());
    }
}
