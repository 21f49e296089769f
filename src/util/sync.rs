//! Locks that survive a panic elsewhere.
//!
//! A lock is poisoned when a thread panicked while holding it. The data behind every lock in ANYON stays
//! usable after such a panic (each holder leaves it consistent between statements), so the guard is taken
//! back instead of spreading the panic to every later user.

use std::sync::{Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};

/// [`Mutex::lock`] that takes a poisoned lock back.
pub trait LockExt<T: ?Sized> {
    fn lock_or_recover(&self) -> MutexGuard<'_, T>;
}

impl<T: ?Sized> LockExt<T> for Mutex<T> {
    fn lock_or_recover(&self) -> MutexGuard<'_, T> {
        self.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// [`RwLock::read`] and [`RwLock::write`] that take a poisoned lock back.
pub trait RwLockExt<T: ?Sized> {
    fn read_or_recover(&self) -> RwLockReadGuard<'_, T>;
    fn write_or_recover(&self) -> RwLockWriteGuard<'_, T>;
}

impl<T: ?Sized> RwLockExt<T> for RwLock<T> {
    fn read_or_recover(&self) -> RwLockReadGuard<'_, T> {
        self.read().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn write_or_recover(&self) -> RwLockWriteGuard<'_, T> {
        self.write().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Joins scoped threads in the order they were started; a thread that panicked yields `lost()` as its
/// error instead of spreading the panic.
pub fn join_all<'scope, T, E>(
    handles: Vec<std::thread::ScopedJoinHandle<'scope, Result<T, E>>>,
    lost: impl Fn() -> E,
) -> Vec<Result<T, E>> {
    handles
        .into_iter()
        .map(|handle| handle.join().unwrap_or_else(|_| Err(lost())))
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn poisoned_locks_are_taken_back() {
        let mutex = std::sync::Arc::new(Mutex::new(1));
        let rwlock = std::sync::Arc::new(RwLock::new(2));
        let (m, r) = (mutex.clone(), rwlock.clone());
        let _ = std::thread::spawn(move || {
            let _m = m.lock().unwrap();
            let _r = r.write().unwrap();
            panic!("poison both");
        })
        .join();
        assert!(mutex.is_poisoned() && rwlock.is_poisoned());
        *mutex.lock_or_recover() += 1;
        *rwlock.write_or_recover() += 1;
        assert_eq!(*mutex.lock_or_recover(), 2);
        assert_eq!(*rwlock.read_or_recover(), 3);
    }
}
