//! A project's sessions as the Projects screen lists them: asked for a page at a time around the rows in
//! view, so that a project of tens of thousands of sessions costs the window a few pages, not all of them.

use std::collections::{BTreeMap, HashMap};
use std::ops::Range;

use crate::backend::command::RequestId;
use crate::domain::transcripts::catalog::SessionSummary;
use crate::domain::transcripts::snapshot::SessionList;

/// Sessions asked for at once.
pub const SESSION_PAGE: usize = 100;

/// Pages kept at most (those nearest the last one read stay).
const KEPT_PAGES: usize = 8;

/// One page as read, with the catalog generation it was read in.
#[derive(Debug)]
struct Page {
    generation: u64,
    rows: Vec<SessionSummary>,
}

/// The rows of one project and filter, read a page at a time.
#[derive(Debug, Default)]
pub struct SessionRows {
    /// The project folder and the filter the rows answer.
    project: String,
    filter: String,
    /// Bumped when the catalog changes: older pages are shown until their new answers replace them.
    generation: u64,
    /// How many sessions match, once a page said so.
    total: Option<usize>,
    pages: BTreeMap<usize, Page>,
    /// Pages asked for: their generation and number.
    pending: HashMap<RequestId, (u64, usize)>,
    /// Answers to a project or filter no longer shown: taken and dropped.
    dropped: Vec<RequestId>,
    pub error: Option<String>,
}

impl SessionRows {
    /// Shows the sessions of `project` matching `filter`: starts over when either changed.
    pub fn show(&mut self, project: &str, filter: &str) {
        if self.project == project && self.filter == filter {
            return;
        }
        let mut dropped = std::mem::take(&mut self.dropped);
        dropped.extend(self.pending.drain().map(|(id, _)| id));
        *self = SessionRows {
            project: project.to_string(),
            filter: filter.to_string(),
            generation: self.generation,
            dropped,
            ..SessionRows::default()
        };
    }

    /// The index changed: every page is read again as it comes into view.
    pub fn catalog_changed(&mut self) {
        self.generation += 1;
        self.error = None;
    }

    /// How many sessions match; None until the first page is read.
    pub fn total(&self) -> Option<usize> {
        self.total
    }

    /// The row at `index`, if its page has been read.
    pub fn row(&self, index: usize) -> Option<&SessionSummary> {
        self.pages.get(&(index / SESSION_PAGE))?.rows.get(index % SESSION_PAGE)
    }

    /// The pages to ask for so that `rows` can be shown: those not read in this generation and not asked
    /// for already. Before the total is known, the first page.
    pub fn wanted(&self, rows: Range<usize>) -> Vec<usize> {
        if self.error.is_some() {
            return Vec::new();
        }
        let pages = match self.total {
            None => 0..1,
            Some(total) => {
                let end = rows.end.min(total);
                rows.start / SESSION_PAGE..end.div_ceil(SESSION_PAGE)
            }
        };
        pages
            .filter(|page| self.pages.get(page).is_none_or(|p| p.generation != self.generation))
            .filter(|page| !self.pending.values().any(|&(g, p)| g == self.generation && p == *page))
            .collect()
    }

    /// Where page `page` starts and how many rows it holds at most.
    pub fn page_range(page: usize) -> (usize, usize) {
        (page * SESSION_PAGE, SESSION_PAGE)
    }

    /// Page `page` was asked for as `request_id`.
    pub fn asked(&mut self, page: usize, request_id: RequestId) {
        self.pending.insert(request_id, (self.generation, page));
    }

    /// Takes an answer; false when it is not one of this list's.
    pub fn apply(&mut self, request_id: RequestId, list: &SessionList) -> bool {
        if let Some(at) = self.dropped.iter().position(|&id| id == request_id) {
            self.dropped.swap_remove(at);
            return true;
        }
        let Some((generation, page)) = self.pending.remove(&request_id) else {
            return false;
        };
        if self.pages.get(&page).is_some_and(|p| p.generation > generation) {
            return true;
        }
        if generation == self.generation || self.total.is_none() {
            self.total = Some(list.total);
        }
        self.pages.insert(
            page,
            Page {
                generation,
                rows: list.sessions.clone(),
            },
        );
        while self.pages.len() > KEPT_PAGES {
            let farthest = self.pages.keys().copied().max_by_key(|p| p.abs_diff(page));
            match farthest {
                Some(far) => self.pages.remove(&far),
                None => break,
            };
        }
        true
    }

    /// Takes a failure; false when it is not one of this list's.
    pub fn fail(&mut self, request_id: RequestId, error: &str) -> bool {
        if let Some(at) = self.dropped.iter().position(|&id| id == request_id) {
            self.dropped.swap_remove(at);
            return true;
        }
        if self.pending.remove(&request_id).is_none() {
            return false;
        }
        self.error = Some(error.to_string());
        true
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn session(n: usize) -> SessionSummary {
        SessionSummary {
            session_id: format!("s{n}"),
            folder: "f".into(),
            title: format!("session {n}"),
            cwd: None,
            git_branch: None,
            first_activity_ms: None,
            last_activity_ms: None,
            messages: 0,
            models: vec![],
            total_tokens: 0,
            total_cost: 0.0,
            subagents: 0,
            files: vec![],
            bytes: 0,
            malformed_lines: 0,
        }
    }

    fn list(total: usize, page: usize) -> SessionList {
        let start = page * SESSION_PAGE;
        SessionList {
            total,
            offset: start,
            sessions: (start..(start + SESSION_PAGE).min(total)).map(session).collect(),
        }
    }

    #[test]
    fn pages_are_asked_for_the_rows_in_view_and_kept_near_them() {
        let mut rows = SessionRows::default();
        rows.show("f", "");
        assert_eq!(rows.wanted(0..20), vec![0]);
        rows.asked(0, 1);
        assert!(rows.wanted(0..20).is_empty(), "asked already");
        assert!(rows.apply(1, &list(5_000, 0)));
        assert_eq!(rows.total(), Some(5_000));
        assert_eq!(rows.row(99).unwrap().session_id, "s99");
        assert!(rows.row(100).is_none());
        assert_eq!(rows.wanted(90..230), vec![1, 2]);
        for page in 1..20 {
            rows.asked(page, 10 + page as u64);
            assert!(rows.apply(10 + page as u64, &list(5_000, page)));
        }
        assert_eq!(rows.row(1_950).unwrap().session_id, "s1950");
        assert!(rows.row(5).is_none(), "far pages are let go");
        assert!(rows.pages.len() <= KEPT_PAGES);
        assert_eq!(rows.wanted(4_990..5_100), vec![49], "nothing past the total");
    }

    #[test]
    fn a_new_filter_drops_answers_to_the_old_one_and_a_new_catalog_reads_pages_again() {
        let mut rows = SessionRows::default();
        rows.show("f", "");
        rows.asked(0, 1);
        rows.show("f", "fix");
        assert!(rows.apply(1, &list(300, 0)), "taken");
        assert_eq!(rows.total(), None, "but not shown");
        assert!(!rows.apply(99, &list(300, 0)), "someone else's");
        rows.asked(0, 2);
        assert!(rows.apply(2, &list(300, 0)));
        rows.catalog_changed();
        assert_eq!(rows.wanted(0..10), vec![0]);
        assert_eq!(rows.row(3).unwrap().session_id, "s3", "shown until replaced");
        rows.asked(0, 3);
        assert!(rows.fail(3, "database locked"));
        assert!(rows.wanted(0..10).is_empty(), "no retry loop after a failure");
        assert_eq!(rows.error.as_deref(), Some("database locked"));
    }
}
