//! Deadlines: one ordered map of pending deadlines per clock, and for the real clock one thread for
//! the whole process that triggers tokens when theirs pass.
//!
//! A deadline costs an entry in a map, not a thread or a task, and works the same under tokio,
//! smol, `futures::executor::block_on` or no executor at all. The process timer's thread starts
//! with the first deadline and sleeps on a condition variable until the earliest entry is due. A
//! [`ManualClock`](crate::ManualClock) owns a timer of its own that only moves when told to.
//!
//! # Invariants
//!
//! * The map holds `Weak`s: a deadline keeps no token alive. A token cancels its entry when it
//!   triggers or drops (see `graph`), so a token that goes away early leaves nothing here.
//! * Lock order (graph's I5): a timer's lock is never held together with a node lock. Due entries
//!   are taken out under the lock; the tokens are triggered after unlocking.
//! * The thread never sleeps past a pending deadline: before sleeping it records, under the lock,
//!   when it will wake (`wake_at`; `None` for "only when notified"), and an insertion notifies it
//!   only if the new deadline comes before that. Entries taken out early leave `wake_at` as it
//!   was, so the thread may wake for nothing and go back to sleep, which is harmless; not waking
//!   it for every insertion is what keeps a deadline token cheap (no futex wake, no context
//!   switch, when the thread will be up in time anyway).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, PoisonError, Weak};
use std::time::Instant;

use crate::graph::{Cause, Inner};

/// An entry of a timer: when, and a sequence number to keep equal instants apart.
type Key = (Instant, u64);

pub(crate) struct Timer {
    state: Mutex<State>,
    earliest_changed: Condvar,
    next_id: AtomicU64,
}

#[derive(Default)]
struct State {
    entries: BTreeMap<Key, Weak<Inner>>,
    /// When the thread will wake by itself, if it sleeps with a timeout.
    wake_at: Option<Instant>,
}

/// A token's scheduled deadline, kept in its node so the token can take it out again.
pub(crate) struct TimerEntry {
    timer: Arc<Timer>,
    key: Key,
}

impl TimerEntry {
    /// Removes the entry; a no-op if it already fired.
    pub(crate) fn cancel(self) {
        self.timer.state().entries.remove(&self.key);
    }
}

impl Timer {
    /// A timer nothing drives but its owner (see `ManualClock`).
    pub(crate) fn new() -> Arc<Timer> {
        Arc::new(Timer {
            state: Mutex::default(),
            earliest_changed: Condvar::new(),
            next_id: AtomicU64::new(0),
        })
    }

    /// The process timer, on the real clock, with its thread.
    pub(crate) fn process() -> &'static Arc<Timer> {
        static PROCESS: OnceLock<Arc<Timer>> = OnceLock::new();
        PROCESS.get_or_init(|| {
            let timer = Timer::new();
            let driven = timer.clone();
            std::thread::Builder::new()
                .name("cancel-token-timer".into())
                .spawn(move || driven.run())
                .expect("cannot start the cancel-token timer thread");
            timer
        })
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Triggers `token` with [`Cause::Deadline`] at `deadline`, unless it triggers or drops first.
    /// A deadline at or before `now` triggers it at once, on the caller's thread.
    pub(crate) fn schedule(self: &Arc<Self>, token: &Arc<Inner>, deadline: Instant, now: Instant) {
        if deadline <= now {
            Inner::trigger(token, Cause::Deadline, None);
            return;
        }
        let key = (deadline, self.next_id.fetch_add(1, Relaxed));
        let mut state = self.state();
        state.entries.insert(key, Arc::downgrade(token));
        let wake = state.wake_at.is_none_or(|wake_at| deadline < wake_at);
        if wake {
            state.wake_at = Some(deadline);
        }
        drop(state);
        if wake {
            self.earliest_changed.notify_one();
        }
        // Handed to the token after the entry exists, so a trigger racing with us still finds it to
        // cancel; a token that triggered first gives it straight back.
        let entry = TimerEntry {
            timer: self.clone(),
            key,
        };
        if let Err(entry) = Inner::set_timer(token, entry, deadline) {
            entry.cancel();
        }
    }

    /// Triggers every token whose deadline is at or before `now`.
    pub(crate) fn fire_due(&self, now: Instant) {
        let mut due = Vec::new();
        let mut state = self.state();
        while let Some(entry) = state
            .entries
            .first_entry()
            .filter(|entry| entry.key().0 <= now)
        {
            due.push(entry.remove());
        }
        drop(state);
        for token in due.iter().filter_map(Weak::upgrade) {
            Inner::trigger(&token, Cause::Deadline, None);
        }
    }

    /// How many deadlines are pending (for tests: a token gone early must leave none).
    pub(crate) fn pending(&self) -> usize {
        self.state().entries.len()
    }

    fn run(&self) {
        loop {
            self.fire_due(Instant::now());
            let mut state = self.state();
            // Read after locking: the triggers above took time, and an entry due by now must not
            // wait for a whole stale interval.
            let now = Instant::now();
            state.wake_at = state.entries.first_key_value().map(|(&(at, _), _)| at);
            // Woken early by an earlier insertion, or spuriously: the loop re-reads the clock.
            drop(match state.wake_at {
                None => self
                    .earliest_changed
                    .wait(state)
                    .unwrap_or_else(PoisonError::into_inner),
                Some(at) => {
                    let sleep = at.saturating_duration_since(now);
                    let woken = self.earliest_changed.wait_timeout(state, sleep);
                    woken.unwrap_or_else(PoisonError::into_inner).0
                }
            });
        }
    }
}
