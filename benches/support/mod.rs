//! What more than one bench needs: timing two threads doing the same work at once.

use std::sync::Barrier;
use std::time::{Duration, Instant};

/// Runs `work(per_thread)` on two threads at once, started together, and returns the wall time
/// of the slower one: for `per_thread` operations on each thread, the time of `per_thread`
/// pairs of operations. With `criterion`'s `iter_custom`, the estimate is the time per pair:
/// two threads that scale perfectly show the same figure as one thread doing one operation.
pub fn two_threads_at_once(per_thread: u64, work: impl Fn(u64) + Sync) -> Duration {
    let barrier = Barrier::new(2);
    std::thread::scope(|scope| {
        let run = || {
            barrier.wait();
            let start = Instant::now();
            work(per_thread);
            start.elapsed()
        };
        let other = scope.spawn(run);
        let mine = run();
        mine.max(other.join().expect("the bench thread panicked"))
    })
}
