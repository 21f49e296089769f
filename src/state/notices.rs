//! Short messages for the person (toasts): errors from commands, confirmations.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// How long a notice stays on screen.
pub const NOTICE_LIFETIME: Duration = Duration::from_secs(8);
/// Older notices are dropped past this many.
const MAX_NOTICES: usize = 5;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoticeLevel {
    Info,
    Error,
}

#[derive(Debug, Clone)]
pub struct Notice {
    pub id: u64,
    pub level: NoticeLevel,
    pub text: String,
    pub created: Instant,
}

/// The notices currently shown, newest last.
#[derive(Debug, Default)]
pub struct Notices {
    items: VecDeque<Notice>,
    next_id: u64,
}

impl Notices {
    pub fn push(&mut self, level: NoticeLevel, text: impl Into<String>) {
        self.next_id += 1;
        self.items.push_back(Notice {
            id: self.next_id,
            level,
            text: text.into(),
            created: Instant::now(),
        });
        while self.items.len() > MAX_NOTICES {
            self.items.pop_front();
        }
    }

    /// Drops notices older than [`NOTICE_LIFETIME`] at `now`.
    pub fn expire(&mut self, now: Instant) {
        self.items
            .retain(|notice| now.duration_since(notice.created) < NOTICE_LIFETIME);
    }

    pub fn dismiss(&mut self, id: u64) {
        self.items.retain(|notice| notice.id != id);
    }

    pub fn iter(&self) -> impl Iterator<Item = &Notice> {
        self.items.iter()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn notices_are_bounded_expire_and_dismiss() {
        let mut notices = Notices::default();
        for i in 0..8 {
            notices.push(NoticeLevel::Info, format!("n{i}"));
        }
        let texts: Vec<_> = notices.iter().map(|n| n.text.as_str()).collect();
        assert_eq!(texts, ["n3", "n4", "n5", "n6", "n7"]);
        let first = notices.iter().next().unwrap().id;
        notices.dismiss(first);
        assert_eq!(notices.iter().count(), 4);
        notices.expire(Instant::now() + NOTICE_LIFETIME);
        assert!(notices.is_empty());
    }
}
