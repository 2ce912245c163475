//! One timer for the whole process: the thread that triggers tokens at their deadlines.
//!
//! A deadline costs an entry in one ordered map, not a thread or a task, and works the same under
//! tokio, smol, `futures::executor::block_on` or no executor at all. The thread starts with the
//! first deadline and then sleeps on a condition variable until the earliest entry is due.
//!
//! # Invariants
//!
//! * The map holds `Weak`s: a deadline keeps no token alive. A token removes its entry when it
//!   triggers or drops (see `graph`), so a token that goes away early leaves nothing here.
//! * Lock order (graph's I5): the timer lock is never held together with a node lock. The thread
//!   takes due entries out under the lock, unlocks, then triggers them.
//! * The condition variable is notified whenever an insertion becomes the earliest entry, so the
//!   thread never sleeps past a deadline that was added while it slept.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Condvar, Mutex, OnceLock, PoisonError, Weak};
use std::time::Instant;

use crate::graph::{Cause, Inner};

/// An entry of the timer: when, and a sequence number to keep equal instants apart.
pub(crate) type TimerKey = (Instant, u64);

struct Timer {
    entries: Mutex<BTreeMap<TimerKey, Weak<Inner>>>,
    earliest_changed: Condvar,
    next_id: AtomicU64,
}

fn timer() -> &'static Timer {
    static TIMER: OnceLock<Timer> = OnceLock::new();
    TIMER.get_or_init(|| {
        std::thread::Builder::new()
            .name("cancel-token-timer".into())
            .spawn(|| run(timer()))
            .expect("cannot start the cancel-token timer thread");
        Timer {
            entries: Mutex::new(BTreeMap::new()),
            earliest_changed: Condvar::new(),
            next_id: AtomicU64::new(0),
        }
    })
}

fn entries(timer: &Timer) -> std::sync::MutexGuard<'_, BTreeMap<TimerKey, Weak<Inner>>> {
    timer.entries.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Triggers `token` with [`Cause::Deadline`] at `deadline`, unless it triggers or drops first.
/// A deadline already passed triggers it at once, on the caller's thread.
pub(crate) fn schedule(token: &Arc<Inner>, deadline: Instant) {
    if deadline <= Instant::now() {
        Inner::trigger(token, Cause::Deadline);
        return;
    }
    let timer = timer();
    let key = (deadline, timer.next_id.fetch_add(1, Relaxed));
    let mut map = entries(timer);
    map.insert(key, Arc::downgrade(token));
    let earliest = map
        .first_key_value()
        .is_some_and(|(first, _)| *first == key);
    drop(map);
    if earliest {
        timer.earliest_changed.notify_one();
    }
    // Registered after the entry exists, so a trigger racing with us still finds it to cancel; a
    // token that triggered first has no use for it.
    if !Inner::set_timer(token, key) {
        cancel(key);
    }
}

/// Removes an entry (keys only come from `schedule`, so the timer exists); a no-op if it fired.
pub(crate) fn cancel(key: TimerKey) {
    entries(timer()).remove(&key);
}

fn run(timer: &'static Timer) {
    let mut map = entries(timer);
    loop {
        let now = Instant::now();
        let mut due = Vec::new();
        while let Some(entry) = map.first_entry().filter(|entry| entry.key().0 <= now) {
            due.push(entry.remove());
        }
        if !due.is_empty() {
            drop(map);
            for token in due.iter().filter_map(Weak::upgrade) {
                Inner::trigger(&token, Cause::Deadline);
            }
            map = entries(timer);
            continue;
        }
        let sleep = map
            .first_key_value()
            .map(|(&(at, _), _)| at.saturating_duration_since(now));
        map = match sleep {
            None => timer
                .earliest_changed
                .wait(map)
                .unwrap_or_else(PoisonError::into_inner),
            Some(sleep) => {
                let woken = timer.earliest_changed.wait_timeout(map, sleep);
                woken.unwrap_or_else(PoisonError::into_inner).0
            }
        };
    }
}
