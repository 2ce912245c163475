//! The delays between attempts to reach Redis again: capped exponential, with jitter.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::time::Duration;

/// The first delay after a failure.
pub(crate) const FIRST: Duration = Duration::from_millis(100);
/// No delay is longer than this.
pub(crate) const CAP: Duration = Duration::from_secs(5);

/// Delays of 100 ms, 200 ms, 400 ms, ... up to 5 s, each shortened at random by up to half, so
/// that a fleet cut off by one Redis restart does not come back all in the same instant.
#[derive(Debug)]
pub(crate) struct Backoff {
    next: Duration,
}

impl Backoff {
    pub(crate) fn new() -> Self {
        Backoff { next: FIRST }
    }

    /// The delay before the next attempt; each call doubles the one after (up to [`CAP`]).
    pub(crate) fn next_delay(&mut self) -> Duration {
        let full = self.next;
        self.next = (full * 2).min(CAP);
        let half = full / 2;
        // A random fraction of `half`, from the standard library's per-instance hash keys.
        let random = RandomState::new().hash_one(0u8);
        half + half.mul_f64((random % 1024) as f64 / 1024.0)
    }

    /// After a success: the next failure starts again from [`FIRST`].
    pub(crate) fn reset(&mut self) {
        self.next = FIRST;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_up_to_the_cap_and_restarts_after_a_reset() {
        let mut backoff = Backoff::new();
        let delays: Vec<Duration> = (0..10).map(|_| backoff.next_delay()).collect();
        let mut full = FIRST;
        for delay in &delays {
            assert!(
                *delay >= full / 2 && *delay <= full,
                "{delay:?} for {full:?}"
            );
            full = (full * 2).min(CAP);
        }
        assert!(delays[9] >= CAP / 2);
        backoff.reset();
        assert!(backoff.next_delay() <= FIRST);
    }
}
