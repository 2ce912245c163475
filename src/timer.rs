//! Deadlines: per-thread shards of hierarchical timing wheels (`wheel`), and for the real clock
//! one thread for the whole process that triggers tokens when theirs pass.
//!
//! A deadline costs an entry in a wheel, not a thread or a task, and works the same under tokio,
//! smol, `futures::executor::block_on` or no executor at all. Each thread inserts into the shard
//! its thread-local index picks, so threads making deadlines at once lock different mutexes on
//! different cache lines; removal from another thread locks the shard the entry names. A
//! [`ManualClock`](crate::ManualClock) owns a timer of its own that only moves when told to.
//!
//! Ticks are milliseconds since the timer's origin. A deadline is rounded *up* to its tick and an
//! entry is handed out only once the clock's tick, rounded *down*, reaches it: a deadline never
//! fires early, and fires at most about a tick late plus the thread's wake-up latency.
//!
//! # Invariants
//!
//! Every place that relies on one of these names it as (T1)..(T4).
//!
//! 1. **(T1)** A wheel holds `Weak`s of tokens: a deadline keeps no token alive. A token cancels
//!    its entry when it triggers or drops (see `graph`), so a token that goes away early leaves
//!    nothing here. The other kind of entry, a timed wait's ([`Timer::wake_after`]), holds its
//!    task's `Waker` and is removed when the wait is dropped or done.
//! 2. **(T2)** *Lock order* (graph's I5): a shard's lock is never held together with a node lock
//!    nor with another shard's. Due entries are taken out under the lock; the tokens are triggered
//!    after unlocking. The process thread's sleep lock is taken before a shard lock, never after:
//!    an inserter releases its shard before it may take the sleep lock.
//! 3. **(T3)** *The thread never sleeps past a pending deadline.* `wake_at` is the tick the thread
//!    will wake at by itself (`u64::MAX`: only when notified); an inserter notifies it, under the
//!    sleep lock, only when its tick comes before `wake_at`. The thread sets `wake_at` to `u64::MAX`
//!    under the sleep lock *before* reading the shards' next expirations, and to the earliest of
//!    them after. So an insertion the reading missed sees `u64::MAX` or the new earliest, and in
//!    both cases notifies if it needs to, and the notification, taken under the sleep lock, cannot
//!    fall between the reading and the wait. Not notifying for later deadlines is what keeps a
//!    deadline token cheap: no futex wake, no context switch.
//! 4. **(T4)** *No user code on the process timer's thread.* It marks due tokens and wakes their
//!    waiters (a `Waker` is the executor's, not the user's), and hands their callbacks to the
//!    callback runner (`runner`): a callback that blocks, panics or waits for another deadline
//!    holds up no deadline.

use std::sync::atomic::{AtomicU64, Ordering::SeqCst};
use std::sync::{Arc, Condvar, LazyLock, Once, PoisonError, Weak};
use std::task::Waker;
use std::time::{Duration, Instant};

use crate::graph::{Callbacks, Cause, Inner};
use crate::shards::{shard_count, thread_index};
use crate::sync::{Mutex, lock};
use crate::wheel::{Key, Wheel};

pub(crate) struct Timer {
    origin: Instant,
    shards: Box<[Shard]>,
    /// The process timer's thread; `None` for a `ManualClock`'s timer.
    driver: Option<Driver>,
}

/// One wheel, alone on its cache lines so that threads on different shards never share one.
#[repr(align(128))]
struct Shard(Mutex<Wheel<Due>>);

/// What an entry does when its tick comes.
enum Due {
    /// Triggers the token with `Cause::Deadline`, if it is still alive (T1).
    Token(Weak<Inner>),
    /// Wakes a timed wait's task, which then finds its entry gone (`TimerEntry::refresh`).
    Wake(Waker),
}

struct Driver {
    /// (T3) the tick the thread wakes at by itself; `u64::MAX` for "only when notified".
    wake_at: AtomicU64,
    /// Whether an inserter notified since the thread last looked.
    notified: std::sync::Mutex<bool>,
    wakeup: Condvar,
}

/// Which timer an entry is in: the process timer is reached without a reference count, so that
/// making a deadline touches no counter shared by every thread.
#[derive(Clone)]
pub(crate) enum TimerRef {
    Process(&'static Timer),
    Manual(Arc<Timer>),
}

impl std::ops::Deref for TimerRef {
    type Target = Timer;
    fn deref(&self) -> &Timer {
        match self {
            TimerRef::Process(timer) => timer,
            TimerRef::Manual(timer) => timer,
        }
    }
}

/// An entry in a timer: a token's deadline, kept in its node so the token can take it out again,
/// or a timed wait's, kept in the wait.
pub(crate) struct TimerEntry {
    timer: TimerRef,
    shard: usize,
    key: Key,
}

impl TimerEntry {
    /// Removes the entry; a no-op if it already fired (the key's generation names nothing then).
    pub(crate) fn cancel(self) {
        let removed = lock(&self.timer.shards[self.shard].0).remove(self.key);
        drop(removed); // unlocked (T2): a `Weak` runs no `Drop` of a token, a `Waker` is dropped here
    }

    /// For a timed wait's entry: whether it is still pending, and if so makes it wake `waker`
    /// from now on. `false` once it fired, which is never before its deadline.
    pub(crate) fn refresh(&self, waker: &Waker) -> bool {
        let mut shard = lock(&self.timer.shards[self.shard].0);
        let Some(Due::Wake(pending)) = shard.get_mut(self.key) else {
            return false;
        };
        if !pending.will_wake(waker) {
            // `Waker::clone` is the only foreign code run under a shard's lock, as under a node's.
            let stale = std::mem::replace(pending, waker.clone());
            drop(shard);
            drop(stale); // (T2) unlocked
        }
        true
    }
}

impl Timer {
    fn with_driver(origin: Instant, driver: Option<Driver>) -> Timer {
        let shards = (0..shard_count())
            .map(|_| Shard(Mutex::new(Wheel::new(0))))
            .collect();
        Timer {
            origin,
            shards,
            driver,
        }
    }

    /// A timer nothing drives but its owner (see `ManualClock`), with ticks counted from `origin`.
    pub(crate) fn manual(origin: Instant) -> TimerRef {
        TimerRef::Manual(Arc::new(Timer::with_driver(origin, None)))
    }

    /// The process timer, on the real clock, with its thread (started on first use).
    pub(crate) fn process() -> TimerRef {
        static PROCESS: LazyLock<Timer> = LazyLock::new(|| {
            let driver = Driver {
                wake_at: AtomicU64::new(u64::MAX),
                notified: std::sync::Mutex::new(false),
                wakeup: Condvar::new(),
            };
            Timer::with_driver(Instant::now(), Some(driver))
        });
        static THREAD: Once = Once::new();
        let timer: &'static Timer = &PROCESS;
        THREAD.call_once(|| {
            std::thread::Builder::new()
                .name("cancel-token-timer".into())
                .spawn(move || timer.run())
                .expect("cannot start the cancel-token timer thread");
        });
        TimerRef::Process(timer)
    }

    /// The first tick at or after `deadline`: an entry handed out at that tick is never early.
    /// (In `u64` arithmetic: a `u128` division would cost more than the whole insertion.)
    fn tick_ceil(&self, deadline: Instant) -> u64 {
        Timer::tick_ceil_since(deadline.saturating_duration_since(self.origin))
    }

    /// [`tick_ceil`](Timer::tick_ceil) of the instant `since` after the origin.
    fn tick_ceil_since(since: Duration) -> u64 {
        let sub_ms = u64::from(since.subsec_nanos()).div_ceil(1_000_000);
        since
            .as_secs()
            .saturating_mul(1000)
            .saturating_add(sub_ms)
            .min(u64::MAX / 2)
    }

    /// The last tick that has fully begun at `now`.
    fn tick_floor(&self, now: Instant) -> u64 {
        let since = now.saturating_duration_since(self.origin);
        let sub_ms = u64::from(since.subsec_millis());
        since
            .as_secs()
            .saturating_mul(1000)
            .saturating_add(sub_ms)
            .min(u64::MAX / 2)
    }

    /// Triggers `token` with [`Cause::Deadline`] at `deadline`, unless it triggers or drops first.
    /// A deadline at or before `now` triggers it at once, on the caller's thread.
    pub(crate) fn schedule(timer: &TimerRef, token: &Arc<Inner>, deadline: Instant, now: Instant) {
        if deadline <= now {
            Inner::record_deadline(token, deadline);
            Inner::trigger(token, Cause::Deadline, None);
            return;
        }
        let tick = timer.tick_ceil(deadline);
        let entry = Timer::insert(timer, tick, Due::Token(Arc::downgrade(token)));
        // Handed to the token after the entry exists, so a trigger racing with us still finds it to
        // cancel; a token that triggered first gives it straight back.
        if let Err(entry) = Inner::set_timer(token, entry, deadline) {
            entry.cancel();
        }
    }

    /// Puts `due` in this thread's shard, due at `tick`, and wakes the process thread
    /// if it would sleep past it (T3).
    fn insert(timer: &TimerRef, tick: u64, due: Due) -> TimerEntry {
        let shard = thread_index() & (timer.shards.len() - 1);
        let key = lock(&timer.shards[shard].0).insert(tick, due);
        // (T2) the shard is unlocked before the sleep lock may be taken.
        if let Some(driver) = &timer.driver {
            driver.notify_if_before(tick);
        }
        TimerEntry {
            timer: timer.clone(),
            shard,
            key,
        }
    }

    /// A timed wait's entry in the process timer: wakes `waker` once `timeout` from now has
    /// passed (never before), until [`TimerEntry::refresh`] gives it another waker or
    /// [`TimerEntry::cancel`] removes it. `None` for a timeout too large to represent. (One clock
    /// read, and the tick counted from it without making an `Instant`: the clock read is the
    /// largest part of a timed wait.)
    pub(crate) fn wake_after(timeout: Duration, waker: &Waker) -> Option<TimerEntry> {
        Timer::wake_after_on(&Timer::process(), Instant::now(), timeout, waker)
    }

    /// [`wake_after`](Timer::wake_after) in `timer`, whose clock reads `now` (a `ManualClock`'s, in
    /// the loom models).
    pub(crate) fn wake_after_on(
        timer: &TimerRef,
        now: Instant,
        timeout: Duration,
        waker: &Waker,
    ) -> Option<TimerEntry> {
        let since = now.saturating_duration_since(timer.origin);
        let tick = Timer::tick_ceil_since(since.checked_add(timeout)?);
        Some(Timer::insert(timer, tick, Due::Wake(waker.clone())))
    }

    /// Takes every entry due by `now` out of every shard: the tokens still alive, and the wakers.
    fn take_due(&self, now: Instant) -> (Vec<Arc<Inner>>, Vec<Waker>) {
        let tick = self.tick_floor(now);
        let mut due = Vec::new();
        for shard in self.shards.iter() {
            lock(&shard.0).poll(tick, &mut due); // (T2) one shard at a time
        }
        let (mut tokens, mut wakers) = (Vec::new(), Vec::new());
        for entry in due {
            match entry {
                Due::Token(token) => tokens.extend(token.upgrade()),
                Due::Wake(waker) => wakers.push(waker),
            }
        }
        (tokens, wakers)
    }

    /// Triggers every token whose deadline is at or before `now`, with their callbacks, and wakes
    /// the timed waits due, on the caller's thread (a `ManualClock`'s `advance`).
    pub(crate) fn fire_due(&self, now: Instant) {
        let (tokens, wakers) = self.take_due(now);
        for token in tokens {
            Inner::trigger(&token, Cause::Deadline, None);
        }
        wakers.into_iter().for_each(Waker::wake);
    }

    /// How many deadlines are pending (for tests: a token gone early must leave none).
    pub(crate) fn pending(&self) -> usize {
        self.shards.iter().map(|shard| lock(&shard.0).len()).sum()
    }

    /// The process timer's thread.
    fn run(&self) {
        let driver = self
            .driver
            .as_ref()
            .expect("only the process timer has a thread");
        let mut idle_once = false;
        loop {
            let mut callbacks = Vec::new();
            let (tokens, wakers) = self.take_due(Instant::now());
            for token in tokens {
                // (T4) marks and wakes here; the callbacks go to the runner.
                Inner::trigger_with_callbacks(
                    &token,
                    Cause::Deadline,
                    None,
                    Callbacks::Collect(&mut callbacks),
                );
            }
            // A `Waker` is the executor's code, not the user's (T4).
            wakers.into_iter().for_each(Waker::wake);
            crate::runner::run_elsewhere(callbacks);

            let mut notified = driver
                .notified
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            // (T3) `u64::MAX` before reading, the earliest after.
            driver.wake_at.store(u64::MAX, SeqCst);
            let next = self
                .shards
                .iter()
                .filter_map(|shard| lock(&shard.0).next_expiration())
                .min();
            // Found empty, the thread still wakes by itself `IDLE_TICKS` later, once: deadlines
            // made and dropped in a loop (the common case) then notify nobody (T3). Found empty
            // again then, it sleeps until notified.
            idle_once = next.is_none() && !idle_once;
            let next = match idle_once {
                true => Some(self.tick_floor(Instant::now()) + IDLE_TICKS),
                false => next,
            };
            if !*notified {
                driver.wake_at.store(next.unwrap_or(u64::MAX), SeqCst);
                notified = match next {
                    None => driver.wakeup.wait(notified),
                    Some(tick) => {
                        let at = self.origin + Duration::from_millis(tick);
                        let sleep = at.saturating_duration_since(Instant::now());
                        let woken = driver.wakeup.wait_timeout(notified, sleep);
                        woken
                            .map(|(notified, _)| notified)
                            .map_err(|poisoned| PoisonError::new(poisoned.into_inner().0))
                    }
                }
                .unwrap_or_else(PoisonError::into_inner);
            }
            *notified = false;
        }
    }
}

/// How long the thread sleeps on after finding every shard empty, before it sleeps until notified.
const IDLE_TICKS: u64 = 1000;

impl Driver {
    /// (T3) wakes the thread if it would otherwise sleep past `tick`. The thread wakes for `tick`
    /// now (it re-reads the shards), so later inserters need not notify it again.
    fn notify_if_before(&self, tick: u64) {
        if tick < self.wake_at.load(SeqCst) {
            let mut notified = self.notified.lock().unwrap_or_else(PoisonError::into_inner);
            self.wake_at.fetch_min(tick, SeqCst);
            *notified = true;
            self.wakeup.notify_one();
        }
    }
}
