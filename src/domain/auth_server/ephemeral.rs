//! Short-lived, single-use entries kept in memory: sign-in attempts by `state` (15 min) and the one-time
//! codes the callback page hands to the app (60 s). Bounded, so a flood of sign-in starts cannot grow it
//! without end; taking an entry deletes it, and expired entries are never returned.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::util::sync::LockExt;

/// Entries one map holds at most.
pub const CAPACITY: usize = 10_000;

/// The map is full of live entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Full;

/// Single-use values under random keys, each with a deadline.
pub struct Ephemeral<V> {
    lifetime: Duration,
    entries: Mutex<HashMap<String, (Instant, V)>>,
}

impl<V> Ephemeral<V> {
    pub fn new(lifetime: Duration) -> Self {
        Self {
            lifetime,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// Keeps `value` under `key` for the map's lifetime; refuses when [`CAPACITY`] live entries are kept.
    pub fn insert(&self, key: String, value: V) -> Result<(), Full> {
        let now = Instant::now();
        let mut entries = self.entries.lock_or_recover();
        if entries.len() >= CAPACITY {
            entries.retain(|_, (deadline, _)| *deadline > now);
            if entries.len() >= CAPACITY {
                return Err(Full);
            }
        }
        entries.insert(key, (now + self.lifetime, value));
        Ok(())
    }

    /// Removes and returns the value under `key` if it has not expired.
    pub fn take(&self, key: &str) -> Option<V> {
        let mut entries = self.entries.lock_or_recover();
        let (deadline, value) = entries.remove(key)?;
        (deadline > Instant::now()).then_some(value)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_single_use_and_expire() {
        let map = Ephemeral::new(Duration::from_secs(60));
        map.insert("a".into(), 1).unwrap();
        assert_eq!(map.take("a"), Some(1));
        assert_eq!(map.take("a"), None);
        assert_eq!(map.take("b"), None);
        let expired = Ephemeral::new(Duration::ZERO);
        expired.insert("a".into(), 1).unwrap();
        assert_eq!(expired.take("a"), None);
    }

    #[test]
    fn the_map_is_bounded_but_expired_entries_make_room() {
        let map = Ephemeral::new(Duration::from_secs(60));
        for i in 0..CAPACITY {
            map.insert(i.to_string(), i).unwrap();
        }
        assert_eq!(map.insert("one more".into(), 0), Err(Full));
        assert_eq!(map.take("0"), Some(0));
        map.insert("one more".into(), 0).unwrap();

        let short = Ephemeral::new(Duration::ZERO);
        for i in 0..CAPACITY {
            short.insert(i.to_string(), i).unwrap();
        }
        short.insert("after expiry".into(), 0).unwrap();
    }
}
