//! Lanes: the children and waiters of a contended parent, registered per thread.
//!
//! Every child registers with its parent under the parent's node lock and holds a reference count
//! of it. When many threads derive from one token at once (a service's shutdown token, every
//! request a child), that lock and that count are one cache line every core fights over: two
//! threads then make fewer children per second than one. So once `graph` has found a parent's
//! lock contended by a few registering children (`SHARD_AFTER`), it marks the parent *sharded*
//! (a flag of its live state), and from then on makes each of its children under a **lane**: an
//! ordinary child token of the parent, one per thread slot (`shards`), kept in that slot's table
//! here. A thread's children register with, and count, its own lane (and a deadline child, named
//! like the parent, shares the lane's copy of the name): threads deriving from one root touch
//! different cache lines. Its new waiters do the same (L4): every request awaiting one
//! shutdown token, on every core, is the other half of the same fight.
//!
//! A lane outlives its children, or it would be made and dropped again with every child: the
//! slot's table holds it. That table reference is what needs care, since a lane holds its parent:
//! a table entry must not keep a token alive for ever after its last handle and child are gone.
//! So a sweeper thread, started with the first lane, removes every entry that was not used for a
//! whole sweep ([`SWEEP`]), and entries of triggered parents.
//!
//! # Invariants
//!
//! Every place that relies on one of these names it as (L1)..(L4).
//!
//! 1. **(L1)** *A lane is an ordinary token.* It is a child of its parent, made and registered by
//!    `graph` like any other (I1 to I6 hold unchanged), so a trigger of the parent reaches every
//!    child of every lane through it, and a child born under a triggered lane is born triggered.
//!    A lane is never triggered but through its parent, never handed out (only held inside a
//!    waiter's registration: L4), and never sharded itself: a cause walk passes through it to the
//!    token that was triggered. It is named like its parent, with a copy of the name that shares
//!    no count with it, for the deadline children made through it, which are named like the
//!    parent too (`Inner::child_named_alike`).
//! 2. **(L2)** *Lock order* (graph's I5): a slot's table lock is taken before a node lock (making
//!    a lane registers it with its parent while the table is locked), never after one, and never
//!    together with another table's lock. No lane is dropped under a table lock: a lane's drop may
//!    release its parent's last reference, and that parent's drop may drop user callbacks.
//! 3. **(L3)** *Bounded retention.* Every entry is removed by the first sweep that finds it
//!    unused since the sweep before, or its parent triggered (as is one a lookup finds so). So a
//!    table keeps a token alive at most two sweeps after its lane last made a child or took a
//!    waiter, and at most one after it triggered; after that, the token goes when its last
//!    handle, child and waiter do.
//! 4. **(L4)** *Waiters through lanes.* A sharded token's new waiters register with this thread's
//!    lane of it (`graph`'s `WaiterKey`), and each holds its lane until it deregisters. By
//!    L1 the lane is triggered by every trigger of the token, in the same walk, and its waiters
//!    are woken with the token's, after the walk: a woken task finds the token triggered. A lane
//!    reads triggered only after its parent does (graph I4), so a waiter that finds its lane
//!    triggered finds the token triggered too. The lane a waiter holds stays registered with the
//!    token even once a sweep removed it from its table, so no trigger can miss it. The "No lost
//!    wake-up" argument of `graph` then holds at the lane's lock as it does at the token's.

use std::sync::Arc;
#[cfg(not(loom))]
use std::time::Duration;

use crate::graph::Inner;
use crate::shards::{shard_count, thread_index};
use crate::sync::{Mutex, lock};

/// How often the sweeper looks for unused lanes (L3).
#[cfg(not(loom))]
pub(crate) const SWEEP: Duration = Duration::from_millis(100);

/// The most lanes one slot keeps: past that, children register with their parent directly.
const MAX_PER_SLOT: usize = 16;

/// One slot's lanes, alone on its cache lines so that threads on different slots never share one.
#[repr(align(128))]
struct Slot(Mutex<Vec<Entry>>);

struct Entry {
    lane: Arc<Inner>,
    /// Whether a child was made through the lane since the last sweep (L3).
    used: bool,
}

#[cfg(not(loom))]
fn slots() -> &'static [Slot] {
    static SLOTS: std::sync::LazyLock<Box<[Slot]>> = std::sync::LazyLock::new(new_slots);
    &SLOTS
}

// Under loom, one set of slots per model execution (a std static would outlive it).
#[cfg(loom)]
fn slots() -> &'static [Slot] {
    loom::lazy_static! {
        static ref SLOTS: Box<[Slot]> = new_slots();
    }
    &SLOTS
}

/// One slot per shard (`shards`): a slot costs a lock and an empty `Vec`.
fn new_slots() -> Box<[Slot]> {
    (0..shard_count())
        .map(|_| Slot(Mutex::new(Vec::new())))
        .collect()
}

/// This thread's lane of `parent`, made on first use; `None` when there is none to use (the
/// parent triggered, the slot is full, or no sweeper could be started): the caller then registers
/// the child with the parent directly, which is always correct, only slower under contention.
pub(crate) fn lane_of(parent: &Arc<Inner>) -> Option<Arc<Inner>> {
    if !sweeper::running() {
        return None; // (L3) nothing would ever remove the entry
    }
    let slots = slots();
    let mut table = lock(&slots[thread_index() & (slots.len() - 1)].0);
    let stale = match table.iter().position(|entry| entry.lane.is_lane_of(parent)) {
        Some(at) if !table[at].lane.is_triggered() => {
            table[at].used = true;
            return Some(table[at].lane.clone());
        }
        // (L3) the parent triggered: the lane is of no more use.
        Some(at) => table.swap_remove(at).lane,
        None if table.len() >= MAX_PER_SLOT => return None,
        None => {
            // (L2) the parent's node lock, taken after this table's.
            let lane = Inner::lane(parent);
            if !lane.is_triggered() {
                table.push(Entry {
                    lane: lane.clone(),
                    used: true,
                });
                drop(table);
                sweeper::added();
                return Some(lane);
            }
            lane // born triggered (L1): of no use either
        }
    };
    drop(table);
    sweeper::removed(1);
    drop(stale); // (L2) unlocked
    None
}

/// How many lanes of `parent` the tables hold (for tests).
pub(crate) fn lanes_of(parent: &Arc<Inner>) -> usize {
    slots()
        .iter()
        .map(|slot| {
            let table = lock(&slot.0);
            table
                .iter()
                .filter(|entry| entry.lane.is_lane_of(parent))
                .count()
        })
        .sum()
}

/// Removes every entry unused since the last sweep, or whose parent triggered (L3).
pub(crate) fn sweep() {
    for slot in slots() {
        let mut table = lock(&slot.0);
        let mut removed = Vec::new();
        let mut at = 0;
        while at < table.len() {
            let entry = &mut table[at];
            if std::mem::take(&mut entry.used) && !entry.lane.is_triggered() {
                at += 1;
            } else {
                removed.push(table.swap_remove(at).lane);
            }
        }
        drop(table);
        sweeper::removed(removed.len());
        drop(removed); // (L2) unlocked
    }
}

/// The thread that sweeps while any lane exists, and sleeps (parked) while none does.
#[cfg(not(loom))]
mod sweeper {
    use std::sync::OnceLock;
    use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
    use std::thread::Thread;

    /// Entries in all tables.
    static LANES: AtomicUsize = AtomicUsize::new(0);

    fn thread() -> Option<&'static Thread> {
        static THREAD: OnceLock<Option<Thread>> = OnceLock::new();
        THREAD
            .get_or_init(|| {
                std::thread::Builder::new()
                    .name("cancel-token-lanes".into())
                    .spawn(run)
                    .ok()
                    .map(|handle| handle.thread().clone())
            })
            .as_ref()
    }

    /// Starts the sweeper on first use; false if the system refused it a thread.
    pub(super) fn running() -> bool {
        thread().is_some()
    }

    pub(super) fn added() {
        // The first entry wakes the sweeper: an unpark before its park makes the park return.
        if LANES.fetch_add(1, SeqCst) == 0 {
            thread().into_iter().for_each(Thread::unpark);
        }
    }

    pub(super) fn removed(count: usize) {
        LANES.fetch_sub(count, SeqCst);
    }

    fn run() {
        loop {
            if LANES.load(SeqCst) == 0 {
                std::thread::park();
                continue;
            }
            std::thread::sleep(super::SWEEP);
            super::sweep();
        }
    }
}

/// Under loom there is no sweeper thread: the models call [`sweep`] themselves.
#[cfg(loom)]
mod sweeper {
    pub(super) fn running() -> bool {
        true
    }
    pub(super) fn added() {}
    pub(super) fn removed(_: usize) {}
}
