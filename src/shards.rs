//! Which of a per-thread structure's shards this thread uses: the deadline wheels of `timer` and
//! the child lanes of `lanes` are both split this way, so that threads working at once lock
//! different mutexes on different cache lines.

use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

/// The number of shards: four per core (at most 64), a power of two to pick by mask. Threads are
/// numbered round-robin as they first use one, and threads come and go (a pool replaces its
/// workers): with more shards than cores, two threads running at once rarely share one.
pub(crate) fn shard_count() -> usize {
    #[cfg(loom)]
    return 2;
    #[cfg(not(loom))]
    std::thread::available_parallelism()
        .map_or(1, usize::from)
        .saturating_mul(4)
        .next_power_of_two()
        .min(64)
}

/// This thread's shard index (before masking): threads are numbered round-robin on first use.
pub(crate) fn thread_index() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    thread_local!(static INDEX: usize = NEXT.fetch_add(1, Relaxed));
    INDEX.with(|index| *index)
}
