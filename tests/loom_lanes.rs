//! Loom models of lanes (`src/lanes.rs`): children made, and waits registered, through a
//! per-thread lane of a sharded parent, racing with the parent's trigger, with sweeps of the lanes'
//! tables, and with the parent being sharded while it triggers.
//!
//! Under loom the tables are per-execution statics (`loom::lazy_static!`) with loom's locks, and
//! there is no sweeper thread: the models sweep themselves (`__private::sweep_lanes`). Loom runs
//! its threads on one OS thread, so they all share one slot, hence one lane per parent: the
//! models check the lane's protocol against the graph's, not how slots are picked.
//!
//! Run with:
//! `RUSTFLAGS="--cfg loom" CARGO_TARGET_DIR=target/loom LOOM_MAX_PREEMPTIONS=2 cargo test --release --test loom_lanes`
#![cfg(loom)]

use std::sync::atomic::{AtomicUsize as StdAtomicUsize, Ordering::Relaxed};

use cancel_token::__private::{lanes_of, shard_children, sweep_lanes};
use cancel_token::CancelToken;
use loom::thread;

mod loom_support;
use loom_support::{block_on, trigger_in_thread};

/// (L1, graph I3) a child made through a lane while the parent triggers is triggered once both
/// are done, whichever came first, and names the parent as its cause. Two sweeps then leave no
/// lane behind (L3).
#[test]
fn lane_registration_vs_trigger() {
    loom::model(|| {
        let root = CancelToken::new("root");
        shard_children(&root);
        let deriving = {
            let root = root.clone();
            thread::spawn(move || root.child("a"))
        };
        let triggering = trigger_in_thread(&root);
        let mine = root.child("b");
        let theirs = deriving.join().unwrap();
        triggering.join().unwrap();
        for child in [&mine, &theirs] {
            assert!(
                child.triggered(),
                "a child left live under a triggered parent"
            );
            assert_eq!(child.triggered_token(), Some(root.clone()));
        }
        sweep_lanes();
        sweep_lanes();
        assert_eq!(lanes_of(&root), 0);
    });
}

/// (L2) a sweep racing with a child made through the lane it may remove: no deadlock, the child
/// is registered with a lane the parent's trigger still reaches (L1).
#[test]
fn sweep_vs_child_through_a_lane() {
    loom::model(|| {
        let root = CancelToken::new("root");
        shard_children(&root);
        let first = root.child("first"); // makes the lane
        let sweeping = thread::spawn(|| {
            sweep_lanes();
            sweep_lanes();
        });
        let deriving = {
            let root = root.clone();
            thread::spawn(move || root.child("second"))
        };
        let second = deriving.join().unwrap();
        sweeping.join().unwrap();
        root.trigger();
        assert!(first.triggered() && second.triggered());
    });
}

/// A parent sharded while this thread derives from it and another triggers it: every child ends
/// triggered, whether it went through a lane or not, and names the parent.
#[test]
fn sharding_vs_children_vs_trigger() {
    static OUTCOMES: Outcomes = Outcomes::new();
    sharding_vs_trigger(
        |root| [root.child("x"), root.child("y")],
        |root, children| {
            for child in &children {
                assert!(
                    child.triggered(),
                    "a child left live under a triggered parent"
                );
                assert_eq!(child.triggered_token().as_ref(), Some(root));
            }
        },
        &OUTCOMES,
    );
}

/// How often a model's work went through a lane, and how often not.
struct Outcomes {
    through_lane: StdAtomicUsize,
    direct: StdAtomicUsize,
}

impl Outcomes {
    const fn new() -> Self {
        Outcomes {
            through_lane: StdAtomicUsize::new(0),
            direct: StdAtomicUsize::new(0),
        }
    }
}

/// `work` on a token that another thread shards (as contention would, under its lock: graph I1)
/// while a third triggers it; once all are joined, `check` on what it gave. Both outcomes, through
/// a lane and not, must be explored, or the model covers less than it claims. (Loom does not
/// explore a `try_lock` failing, so the contention itself is not modelled: only what it does.)
fn sharding_vs_trigger<T: 'static>(
    work: fn(&CancelToken) -> T,
    check: fn(&CancelToken, T),
    outcomes: &'static Outcomes,
) {
    loom::model(move || {
        let root = CancelToken::new("root");
        let sharding = {
            let root = root.clone();
            thread::spawn(move || shard_children(&root))
        };
        let triggering = trigger_in_thread(&root);
        let made = work(&root);
        sharding.join().unwrap();
        triggering.join().unwrap();
        let outcome = match lanes_of(&root) {
            0 => &outcomes.direct,
            _ => &outcomes.through_lane,
        };
        outcome.fetch_add(1, Relaxed);
        check(&root, made);
        sweep_lanes();
    });
    assert!(
        outcomes.through_lane.load(Relaxed) > 0,
        "no execution went through a lane"
    );
    assert!(
        outcomes.direct.load(Relaxed) > 0,
        "every execution went through a lane"
    );
}

/// (L4, graph "No lost wake-up") a blocking wait on a sharded token registers with the lane while
/// the token triggers: the wait ends, whichever came first (loom reports a thread parked forever
/// otherwise), and finds the token triggered.
#[test]
fn waiter_through_a_lane_vs_trigger() {
    static THROUGH_LANE: StdAtomicUsize = StdAtomicUsize::new(0);
    wait_through_a_lane_vs_trigger(CancelToken::wait_blocking, &THROUGH_LANE);
}

/// The same race through a future under an executor in miniature: a poll that finds the token
/// live and then its lane triggered must be ready, not pending with nobody left to wake it (loom
/// reports the parked thread as a deadlock).
#[test]
fn wait_future_through_a_lane_vs_trigger() {
    static THROUGH_LANE: StdAtomicUsize = StdAtomicUsize::new(0);
    wait_through_a_lane_vs_trigger(
        |root| {
            let result = block_on(root.cancellable_wait(std::future::pending::<()>()));
            assert_eq!(result.unwrap_err().token(), root);
        },
        &THROUGH_LANE,
    );
}

/// `wait` on a sharded token while another thread triggers it, in every interleaving: it must
/// return with the token triggered. A wait that starts after the trigger never looks for a lane;
/// some executions (counted in `through_lane`) must have gone through one.
fn wait_through_a_lane_vs_trigger(wait: fn(&CancelToken), through_lane: &'static StdAtomicUsize) {
    loom::model(move || {
        let root = CancelToken::new("root");
        shard_children(&root);
        let triggering = trigger_in_thread(&root);
        wait(&root);
        assert!(root.triggered());
        triggering.join().unwrap();
        if lanes_of(&root) > 0 {
            through_lane.fetch_add(1, Relaxed);
        }
        sweep_lanes();
    });
    assert!(
        through_lane.load(Relaxed) > 0,
        "no execution waited through a lane"
    );
}

/// (L3, L4) sweeps that take the waiter's lane out of its table, racing with the registration and
/// the trigger: the waiter holds its lane, so the trigger still reaches it.
#[test]
fn waiter_through_a_lane_vs_sweeps_vs_trigger() {
    loom::model(|| {
        let root = CancelToken::new("root");
        shard_children(&root);
        let waiting = {
            let root = root.clone();
            thread::spawn(move || root.wait_blocking())
        };
        let sweeping = thread::spawn(|| {
            sweep_lanes();
            sweep_lanes();
        });
        sweeping.join().unwrap();
        root.trigger();
        waiting.join().unwrap();
    });
}

/// A token sharded (as waiters' contention would) while this thread waits on it and another
/// triggers it: the wait ends either way.
#[test]
fn sharding_vs_waiter_vs_trigger() {
    static OUTCOMES: Outcomes = Outcomes::new();
    sharding_vs_trigger(CancelToken::wait_blocking, |_, ()| {}, &OUTCOMES);
}
