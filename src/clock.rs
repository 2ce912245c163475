//! A clock for tests: deadlines that only pass when the test says so.

use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::CancelToken;
use crate::timer::{Timer, TimerRef};

/// A clock that moves only when [`advance`](Self::advance)d, with a timer of its own: tests of
/// deadline code run instantly and deterministically, on any executor or none.
///
/// Tokens made by [`with_timeout`](Self::with_timeout) and [`with_deadline`](Self::with_deadline)
/// behave exactly like [`CancelToken::with_timeout`]'s, except that their deadline is on this
/// clock: they trigger, with [`Reason::DeadlineExceeded`](crate::Reason::DeadlineExceeded), inside
/// the `advance` call that moves the clock past it, on the caller's thread.
///
/// ```
/// use std::time::Duration;
/// use cancel_token::{CancelToken, ManualClock, Reason};
///
/// let clock = ManualClock::new();
/// let request = CancelToken::new("request");
/// let deadline = clock.with_timeout(&request, Duration::from_secs(30));
///
/// clock.advance(Duration::from_secs(29));
/// assert!(!deadline.triggered());
/// clock.advance(Duration::from_secs(1));
/// assert!(matches!(deadline.reason(), Some(Reason::DeadlineExceeded)));
/// assert!(!request.triggered());
/// ```
pub struct ManualClock {
    timer: TimerRef,
    now: Mutex<Instant>,
}

impl ManualClock {
    /// A clock that reads the current instant until it is advanced.
    pub fn new() -> Self {
        let now = Instant::now();
        ManualClock {
            timer: Timer::manual(now),
            now: Mutex::new(now),
        }
    }

    /// The clock's current instant.
    pub fn now(&self) -> Instant {
        *self.now.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Moves the clock forward by `by` and triggers every token whose deadline it passes, before
    /// returning, on this thread. A step past the last instant the platform can represent stops
    /// there, which passes every deadline (none can lie beyond it).
    pub fn advance(&self, by: Duration) {
        let now = {
            let mut now = self.now.lock().unwrap_or_else(PoisonError::into_inner);
            *now = saturating_add(*now, by);
            *now
        };
        // Unlocked first: triggering runs callbacks, which may read this clock.
        self.timer.fire_due(now);
    }

    /// A child of `parent` (named like it) that triggers when this clock passes `now() + timeout`.
    pub fn with_timeout(&self, parent: &CancelToken, timeout: Duration) -> CancelToken {
        let now = self.now();
        parent.deadline_child(&self.timer, now.checked_add(timeout), now)
    }

    /// A child of `parent` (named like it) that triggers when this clock passes `deadline`.
    pub fn with_deadline(&self, parent: &CancelToken, deadline: Instant) -> CancelToken {
        parent.deadline_child(&self.timer, Some(deadline), self.now())
    }

    /// A timed wait's entry in this clock's timer (for the loom models: `__private`).
    pub(crate) fn wake_after(
        &self,
        timeout: Duration,
        waker: &std::task::Waker,
    ) -> Option<crate::timer::TimerEntry> {
        Timer::wake_after_on(&self.timer, self.now(), timeout, waker)
    }

    /// How many deadlines on this clock are still pending. A deadline token that triggers or is
    /// dropped before its deadline takes its entry out at once.
    pub fn pending(&self) -> usize {
        self.timer.pending()
    }
}

/// `instant + by`, or the latest instant reachable from `instant` if that overflows (found by
/// halving the step: `Instant` has no `MAX`).
fn saturating_add(mut instant: Instant, mut by: Duration) -> Instant {
    if let Some(later) = instant.checked_add(by) {
        return later;
    }
    // Each step that fits leaves less room than it took, so the next one is halved.
    while !by.is_zero() {
        match instant.checked_add(by) {
            Some(later) => instant = later,
            None => by /= 2,
        }
    }
    instant
}

impl Default for ManualClock {
    fn default() -> Self {
        ManualClock::new()
    }
}

impl std::fmt::Debug for ManualClock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ManualClock")
            .field("now", &self.now())
            .field("pending", &self.pending())
            .finish()
    }
}
