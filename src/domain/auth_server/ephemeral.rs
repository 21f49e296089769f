//! Short-lived, single-use entries kept in memory: sign-in attempts by `state` (15 min) and the one-time
//! codes the callback page hands to the app (60 s). Taking an entry deletes it, and expired entries are
//! never returned.
//!
//! Bounded without a lock-out: anyone who can reach the server can start sign-ins, so a full map never
//! refuses a new entry (that would refuse every real sign-in for the whole lifetime). Instead a client over
//! its share ([`PER_CLIENT`] entries) loses its own oldest entry, and a map at [`CAPACITY`] loses the oldest
//! entry of all. The newest sign-in, the one a person just started, is always kept.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::util::sync::LockExt;

/// Entries one map holds at most.
pub const CAPACITY: usize = 10_000;
/// Entries one client address holds at most.
pub const PER_CLIENT: usize = 100;

/// Single-use values under random keys, each with a deadline and the client address that made it.
pub struct Ephemeral<V> {
    lifetime: Duration,
    capacity: usize,
    per_client: usize,
    inner: Mutex<Inner<V>>,
}

struct Entry<V> {
    seq: u64,
    deadline: Instant,
    client: IpAddr,
    value: V,
}

struct Inner<V> {
    next: u64,
    entries: HashMap<String, Entry<V>>,
    /// Keys by insertion, oldest first; with one lifetime for all, also by deadline.
    order: BTreeMap<u64, String>,
    /// Each client's entries, oldest first.
    clients: HashMap<IpAddr, BTreeSet<u64>>,
}

impl<V> Inner<V> {
    fn remove(&mut self, key: &str) -> Option<Entry<V>> {
        let entry = self.entries.remove(key)?;
        self.order.remove(&entry.seq);
        if let Some(seqs) = self.clients.get_mut(&entry.client) {
            seqs.remove(&entry.seq);
            if seqs.is_empty() {
                self.clients.remove(&entry.client);
            }
        }
        Some(entry)
    }

    fn remove_seq(&mut self, seq: u64) {
        if let Some(key) = self.order.get(&seq).cloned() {
            self.remove(&key);
        }
    }
}

impl<V> Ephemeral<V> {
    pub fn new(lifetime: Duration) -> Self {
        Self::with_limits(lifetime, CAPACITY, PER_CLIENT)
    }

    /// A map holding at most `capacity` entries, `per_client` of them from one address (both at least 1).
    pub fn with_limits(lifetime: Duration, capacity: usize, per_client: usize) -> Self {
        Self {
            lifetime,
            capacity: capacity.max(1),
            per_client: per_client.max(1),
            inner: Mutex::new(Inner {
                next: 0,
                entries: HashMap::new(),
                order: BTreeMap::new(),
                clients: HashMap::new(),
            }),
        }
    }

    /// Keeps `value` under `key` for the map's lifetime. Makes room first: expired entries go, then the
    /// oldest of `client`'s own entries while it holds its share, then the oldest of all while the map is
    /// full. Returns how many live entries were pushed out.
    pub fn insert(&self, key: String, client: IpAddr, value: V) -> usize {
        let now = Instant::now();
        let mut inner = self.inner.lock_or_recover();
        while let Some((&seq, key)) = inner.order.first_key_value() {
            if inner.entries.get(key).is_some_and(|entry| entry.deadline > now) {
                break;
            }
            inner.remove_seq(seq);
        }
        inner.remove(&key);
        let mut evicted = 0;
        while let Some(&oldest) = inner
            .clients
            .get(&client)
            .filter(|seqs| seqs.len() >= self.per_client)
            .and_then(BTreeSet::first)
        {
            inner.remove_seq(oldest);
            evicted += 1;
        }
        while inner.entries.len() >= self.capacity {
            let Some(&oldest) = inner.order.keys().next() else {
                break;
            };
            inner.remove_seq(oldest);
            evicted += 1;
        }
        let seq = inner.next;
        inner.next += 1;
        inner.order.insert(seq, key.clone());
        inner.clients.entry(client).or_default().insert(seq);
        inner.entries.insert(
            key,
            Entry {
                seq,
                deadline: now + self.lifetime,
                client,
                value,
            },
        );
        evicted
    }

    /// Removes and returns the value under `key` if it has not expired.
    pub fn take(&self, key: &str) -> Option<V> {
        let entry = self.inner.lock_or_recover().remove(key)?;
        (entry.deadline > Instant::now()).then_some(entry.value)
    }

    /// How many entries are kept (expired ones included until the next insert clears them).
    pub fn len(&self) -> usize {
        self.inner.lock_or_recover().entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn ip(last: u8) -> IpAddr {
        IpAddr::from([10, 0, 0, last])
    }

    #[test]
    fn entries_are_single_use_and_expire() {
        let map = Ephemeral::new(Duration::from_secs(60));
        map.insert("a".into(), ip(1), 1);
        assert_eq!(map.take("a"), Some(1));
        assert_eq!(map.take("a"), None);
        assert_eq!(map.take("b"), None);
        let expired = Ephemeral::new(Duration::ZERO);
        expired.insert("a".into(), ip(1), 1);
        assert_eq!(expired.take("a"), None);
    }

    #[test]
    fn a_full_map_forgets_its_oldest_entry_instead_of_refusing() {
        let map = Ephemeral::new(Duration::from_secs(60));
        // Many clients, a few entries each, past the capacity.
        for i in 0..CAPACITY + 500 {
            map.insert(i.to_string(), ip((i % 200) as u8), i);
            assert!(map.len() <= CAPACITY);
        }
        assert_eq!(map.len(), CAPACITY);
        assert_eq!(map.take("0"), None, "the oldest went first");
        assert_eq!(map.take("499"), None);
        assert_eq!(map.take("500"), Some(500));
        // A new entry is always kept, whatever came before.
        assert_eq!(map.insert("new".into(), ip(250), 0), 0, "taking one made room");
        map.insert("newer".into(), ip(251), 1);
        assert_eq!(map.take("new"), Some(0));
        assert_eq!(map.take("newer"), Some(1));
    }

    #[test]
    fn one_client_only_pushes_out_its_own_entries() {
        let map = Ephemeral::new(Duration::from_secs(60));
        map.insert("someone else".into(), ip(2), 0);
        for i in 0..PER_CLIENT * 3 {
            map.insert(format!("flood {i}"), ip(1), i);
        }
        assert_eq!(map.len(), PER_CLIENT + 1);
        assert_eq!(map.take("flood 0"), None);
        assert_eq!(
            map.take(&format!("flood {}", PER_CLIENT * 3 - 1)),
            Some(PER_CLIENT * 3 - 1)
        );
        assert_eq!(map.take("someone else"), Some(0));
    }

    #[test]
    fn expired_entries_make_room_and_are_cleared() {
        let short = Ephemeral::with_limits(Duration::ZERO, 10, 10);
        for i in 0..100 {
            short.insert(i.to_string(), ip(1), i);
        }
        assert_eq!(short.len(), 1, "each insert clears what expired");
        // A key used twice keeps only its last value.
        let map = Ephemeral::with_limits(Duration::from_secs(60), 10, 10);
        map.insert("k".into(), ip(1), 1);
        map.insert("k".into(), ip(2), 2);
        assert_eq!(map.len(), 1);
        assert_eq!(map.take("k"), Some(2));
        assert!(map.is_empty());
    }
}
