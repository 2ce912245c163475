//! The watch list: per key (prefix + id), the weak handles of the local tokens watching it.
//!
//! Invariant R3: the watch list holds only [`WeakCancelToken`]s: it never keeps a local token
//! alive.
//!
//! Invariant R5, bounded memory: a key stays in the list only while it may have live tokens.
//! [`Watched::sweep`] removes every key whose handles are all dropped (or were all triggered);
//! it runs on the watcher's periodic tick and, amortised, whenever the list has doubled since the
//! last sweep, so the list is never more than twice the live keys plus [`SWEEP_AT_LEAST`] for
//! longer than one tick. The caller unsubscribes the keys it returns (R6).

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use cancel_token::{CancelToken, Reason, WeakCancelToken};

/// No amortised sweep below this many keys (the periodic tick still sweeps them).
pub(crate) const SWEEP_AT_LEAST: usize = 1024;

#[derive(Debug)]
pub(crate) struct Watched {
    inner: Mutex<Inner>,
}

#[derive(Debug)]
struct Inner {
    keys: HashMap<String, Vec<WeakCancelToken>>,
    /// `add` asks for a sweep once the list is this long (R5).
    sweep_at: usize,
}

impl Default for Watched {
    fn default() -> Self {
        Watched {
            inner: Mutex::new(Inner {
                keys: HashMap::new(),
                sweep_at: SWEEP_AT_LEAST,
            }),
        }
    }
}

impl Watched {
    /// Watches `key` for `token` (R3), pruning the dropped handles of that key. Returns `true`
    /// when a sweep is due (R5): the list has doubled since the last one.
    pub(crate) fn add(&self, key: &str, token: &CancelToken) -> bool {
        let mut inner = self.lock();
        let handle = WeakCancelToken::downgrade(token);
        if let Some(handles) = inner.keys.get_mut(key) {
            handles.retain(|handle| !handle.is_dropped());
            handles.push(handle);
        } else {
            inner.keys.insert(key.to_owned(), vec![handle]);
        }
        inner.keys.len() >= inner.sweep_at
    }

    /// Whether some live token watches `key`.
    pub(crate) fn has_live(&self, key: &str) -> bool {
        let inner = self.lock();
        inner
            .keys
            .get(key)
            .is_some_and(|handles| handles.iter().any(|handle| !handle.is_dropped()))
    }

    /// Every key of the list, to subscribe anew after a reconnection.
    pub(crate) fn keys(&self) -> Vec<String> {
        self.lock().keys.keys().cloned().collect()
    }

    /// How many keys the list holds, swept or not.
    pub(crate) fn len(&self) -> usize {
        self.lock().keys.len()
    }

    /// Triggers the live tokens of `key` with `reason`. Their handles leave the list (a
    /// triggered token stays triggered, and a token asked for later is born triggered: R1), and
    /// the key, with no handle left, goes at the next sweep (R5). The tokens are triggered after
    /// the lock is released, so their callbacks may use the list.
    pub(crate) fn trigger(&self, key: &str, reason: Reason) {
        let handles = match self.lock().keys.get_mut(key) {
            Some(handles) => std::mem::take(handles),
            None => return,
        };
        for token in handles.iter().filter_map(WeakCancelToken::upgrade) {
            token.trigger_with(reason.clone());
        }
    }

    /// Removes and returns the keys whose handles are all dropped or triggered (R5), and gives
    /// back the table's spare room once it is mostly empty.
    pub(crate) fn sweep(&self) -> Vec<String> {
        let mut inner = self.lock();
        let mut dead = Vec::new();
        inner.keys.retain(|key, handles| {
            handles.retain(|handle| !handle.is_dropped());
            let live = !handles.is_empty();
            if !live {
                dead.push(key.clone());
            }
            live
        });
        let live = inner.keys.len();
        if inner.keys.capacity() > 4 * live.max(SWEEP_AT_LEAST / 4) {
            inner.keys.shrink_to(2 * live);
        }
        inner.sweep_at = (2 * live).max(SWEEP_AT_LEAST);
        dead
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sweep_forgets_exactly_the_keys_without_live_tokens() {
        let watched = Watched::default();
        let kept = CancelToken::new("kept");
        watched.add("kept", &kept);
        watched.add("dropped", &CancelToken::new("dropped"));
        let triggered = CancelToken::new("triggered");
        watched.add("triggered", &triggered);
        watched.trigger("triggered", Reason::Triggered);
        assert!(triggered.triggered());
        assert!(watched.has_live("kept"));
        assert!(!watched.has_live("dropped"));

        let mut dead = watched.sweep();
        dead.sort();
        assert_eq!(dead, ["dropped", "triggered"]);
        assert_eq!(watched.keys(), ["kept"]);
        assert!(watched.sweep().is_empty());
    }

    #[test]
    fn add_asks_for_a_sweep_when_the_list_doubled() {
        let watched = Watched::default();
        let due: Vec<bool> = (0..SWEEP_AT_LEAST)
            .map(|i| watched.add(&format!("k{i}"), &CancelToken::new("dropped")))
            .collect();
        assert_eq!(due.iter().filter(|due| **due).count(), 1);
        assert!(due[SWEEP_AT_LEAST - 1]);
        assert_eq!(watched.sweep().len(), SWEEP_AT_LEAST);
        assert_eq!(watched.len(), 0);
    }
}
