//! Loom models of the core's synchronisation: a trigger racing with a wait, a derivation, another
//! trigger, a drop, and a blocking wait.
//!
//! Under `cfg(loom)` the crate's node locks, state words and parks are loom's (see `src/sync.rs`),
//! so these models run the real `graph`/`wait` code, not a copy of it. They check the claims of
//! `graph`'s module docs: no lost wake-up, (I3) no derived token left live under a triggered
//! parent, (I1)/(I4) a cause that is set once and never changes, (I5) no deadlock, and the
//! cancel-safety of `Wait`.
//!
//! Run with:
//! `RUSTFLAGS="--cfg loom" CARGO_TARGET_DIR=target/loom LOOM_MAX_PREEMPTIONS=2 cargo test --release --test loom`
//!
//! What loom does not see, and how the models make up for it:
//!
//! * Nothing here touches `CancelToken::never()` or a timeout: both live in process-wide statics
//!   (a `OnceLock`, the timer thread) that would outlive a model's execution.
//! * Reference counts are std's `Arc`s, invisible to loom: the drop models count which side won
//!   the race over all interleavings and fail if one side was never explored.
//! * Loom's partial-order reduction remembers only the last access to each atomic, so a read
//!   racing a store that its thread first *loads* (as `fire` does under the lock) may never be
//!   interleaved between two triggers (tokio-rs/loom#166, #392). Properties that hinge on such a
//!   read get a model that orders the first step itself (see
//!   `a_later_trigger_of_another_parent_never_changes_the_cause`).
//!
//! Each of these bugs, planted in a copy of the core, makes at least one model fail: a waiter
//! registered after an unlocked state check, a child linked after an unlocked check, the state
//! stored after the lists were taken, a `Wait` that does not deregister, a cause overwritten by a
//! later trigger, waiters woken before the subtree is marked, an `any` not born triggered.
#![cfg(loom)]

use std::future::Future;
use std::sync::Arc;
// std's atomics count outcomes across executions; loom's model the crate's own synchronisation.
use std::sync::atomic::{AtomicUsize as StdAtomicUsize, Ordering::Relaxed};
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use cancel_token::{CancelToken, Reason};

use loom::sync::atomic::AtomicUsize;
use loom::sync::atomic::Ordering::SeqCst;
use loom::thread;

mod loom_support;
use loom_support::{Flag, block_on, trigger_in_thread};

fn poll_once<F: Future + Unpin>(future: &mut F, waker: &Waker) -> Poll<F::Output> {
    std::pin::Pin::new(future).poll(&mut Context::from_waker(waker))
}

/// Asserts that only `flag`'s own handle is left: the token kept no clone of its waker.
fn assert_released(flag: &Arc<Flag>) {
    assert_eq!(
        Arc::strong_count(flag),
        1,
        "the token still holds a waker after the race"
    );
}

// 1. Trigger vs async wait registration: no lost wake-up.

#[test]
fn trigger_vs_first_poll_loses_no_wake_up() {
    loom::model(|| {
        let token = CancelToken::new("t");
        let trigger = trigger_in_thread(&token);

        let flag = Flag::new();
        let waker = Waker::from(flag.clone());
        let mut wait = token.wait();
        let first = poll_once(&mut wait, &waker);
        trigger.join().unwrap();

        if first.is_pending() {
            assert!(
                flag.woken(),
                "Pending was returned and the trigger never woke the task"
            );
        }
        assert!(poll_once(&mut wait, &waker).is_ready());
        drop(wait);
        drop(waker);
        assert_released(&flag);
    });
}

/// A token's first waiter has an inline slot, the others a slab (src/waiters.rs). While the token
/// triggers, the waiter in the slot leaves and a new one takes the slot back: the waiter in the
/// slab and the newcomer are each woken (or find the token triggered), and nothing is left behind.
#[test]
fn trigger_vs_waiters_leaving_and_taking_the_inline_slot() {
    loom::model(|| {
        let token = CancelToken::new("t");
        let (in_slot, in_slab, newcomer) = (Flag::new(), Flag::new(), Flag::new());
        let in_slot_waker = Waker::from(in_slot.clone());
        let in_slab_waker = Waker::from(in_slab.clone());
        let newcomer_waker = Waker::from(newcomer.clone());
        let mut first = token.wait();
        let mut second = token.wait();
        assert!(poll_once(&mut first, &in_slot_waker).is_pending());
        assert!(poll_once(&mut second, &in_slab_waker).is_pending());
        let trigger = trigger_in_thread(&token);

        drop(first);
        let mut third = token.wait();
        let third_first_poll = poll_once(&mut third, &newcomer_waker);
        trigger.join().unwrap();

        assert!(in_slab.woken(), "the waiter in the slab was never woken");
        if third_first_poll.is_pending() {
            assert!(
                newcomer.woken(),
                "the waiter that took the slot was never woken"
            );
        }
        assert!(poll_once(&mut third, &newcomer_waker).is_ready());
        assert!(poll_once(&mut second, &in_slab_waker).is_ready());
        drop((second, third, in_slot_waker, in_slab_waker, newcomer_waker));
        for flag in [&in_slot, &in_slab, &newcomer] {
            assert_released(flag);
        }
    });
}

/// A task that moved polls again with a new waker while the token triggers: the replacement of
/// the registered waker must not drop the wake-up on the floor.
#[test]
fn trigger_vs_repoll_with_a_new_waker_loses_no_wake_up() {
    loom::model(|| {
        let token = CancelToken::new("t");
        let (old, new) = (Flag::new(), Flag::new());
        let (old_waker, new_waker) = (Waker::from(old.clone()), Waker::from(new.clone()));
        let mut wait = token.wait();
        // Registered before the race, so the race is the refresh, not the first registration.
        assert!(poll_once(&mut wait, &old_waker).is_pending());

        let trigger = trigger_in_thread(&token);
        let second = poll_once(&mut wait, &new_waker);
        trigger.join().unwrap();

        if second.is_pending() {
            assert!(
                new.woken(),
                "Pending was returned and the new waker was never woken"
            );
        }
        assert!(poll_once(&mut wait, &new_waker).is_ready());
        drop(wait);
        drop((old_waker, new_waker));
        assert_released(&old);
        assert_released(&new);
    });
}

/// The same race through an executor: loom reports a deadlock if `block_on` parks for a wake-up
/// that never comes.
#[test]
fn cancellable_wait_under_block_on_ends_cancelled() {
    loom::model(|| {
        let token = CancelToken::new("t");
        let trigger = trigger_in_thread(&token);
        let result = block_on(token.cancellable_wait(std::future::pending::<()>()));
        assert_eq!(result.unwrap_err().token(), &token);
        trigger.join().unwrap();
    });
}

/// A waker that records, when woken, whether a token derived from the awaited one already reads
/// triggered.
struct SeesChild {
    child: CancelToken,
    /// `NOT_WOKEN`, or what the wake saw.
    saw: AtomicUsize,
}

const NOT_WOKEN: usize = 0;
const SAW_LIVE: usize = 1;
const SAW_TRIGGERED: usize = 2;

impl Wake for SeesChild {
    fn wake(self: Arc<Self>) {
        let saw = match self.child.triggered() {
            true => SAW_TRIGGERED,
            false => SAW_LIVE,
        };
        self.saw.store(saw, SeqCst);
    }
}

/// `trigger()` marks every derived token before it wakes anyone: a task woken by the trigger
/// finds the whole subtree cancelled.
#[test]
fn a_woken_task_sees_the_subtree_triggered() {
    loom::model(|| {
        let parent = CancelToken::new("parent");
        let child = parent.child("child");
        let probe = Arc::new(SeesChild {
            child,
            saw: AtomicUsize::new(NOT_WOKEN),
        });
        let waker = Waker::from(probe.clone());
        let mut wait = parent.wait();
        let trigger = trigger_in_thread(&parent);
        let first = poll_once(&mut wait, &waker);
        trigger.join().unwrap();

        match first {
            Poll::Pending => assert_eq!(
                probe.saw.load(SeqCst),
                SAW_TRIGGERED,
                "woken before the child was marked"
            ),
            Poll::Ready(()) => assert_eq!(probe.saw.load(SeqCst), NOT_WOKEN),
        }
    });
}

// 2. Trigger vs deriving a token from the same parent: never live under a triggered parent (I3).

/// `derive(parent, other)` runs while another thread triggers `parent`; `other` stays live.
fn derive_races_trigger(derive: fn(&CancelToken, &CancelToken) -> CancelToken) {
    loom::model(move || {
        let parent = CancelToken::new("parent");
        let other = CancelToken::new("other");
        let trigger = trigger_in_thread(&parent);
        let derived = derive(&parent, &other);
        trigger.join().unwrap();

        assert!(
            derived.triggered(),
            "(I3) derived token left live under a triggered parent"
        );
        assert_eq!(derived.triggered_token().as_ref(), Some(&parent));
        assert!(!other.triggered(), "a trigger never touches another parent");
    });
}

#[test]
fn trigger_vs_child() {
    derive_races_trigger(|parent, _| parent.child("child"));
}

#[test]
fn trigger_vs_chain_with_parent_first() {
    derive_races_trigger(|parent, other| parent.chain(other));
}

#[test]
fn trigger_vs_any_with_parent_second() {
    derive_races_trigger(|parent, other| CancelToken::any("any", [other, parent]));
}

#[test]
fn trigger_vs_chain_with_itself() {
    derive_races_trigger(|parent, _| parent.chain(parent));
}

/// Deriving from a token in the middle of the propagation: the grandparent's trigger fires
/// `middle` and takes its children in one critical section, or the new child sees `middle`
/// triggered under its lock.
#[test]
fn trigger_of_grandparent_vs_child_of_middle() {
    loom::model(|| {
        let root = CancelToken::new("root");
        let middle = root.child("middle");
        let trigger = trigger_in_thread(&root);
        let leaf = middle.child("leaf");
        trigger.join().unwrap();

        assert!(
            leaf.triggered(),
            "(I3) leaf left live under a triggered ancestor"
        );
        assert_eq!(leaf.triggered_token().as_ref(), Some(&root));
    });
}

// 3. Two parents of one derived token triggered at once: one cause, stable (I1, I4).

#[test]
fn two_parents_triggered_at_once_give_one_stable_cause() {
    loom::model(|| {
        let a = CancelToken::new("a");
        let b = CancelToken::new("b");
        let derived = a.chain(&b);
        let (ta, tb) = (trigger_in_thread(&a), trigger_in_thread(&b));
        // Read during the race: whatever is seen first must be what is seen afterwards. (Loom
        // may never place this read between the two triggers, see the module docs; the next
        // model forces that order.)
        let during = derived.triggered_token();
        ta.join().unwrap();
        tb.join().unwrap();

        let first = derived.triggered_token().expect("both parents triggered");
        let second = derived.triggered_token().expect("both parents triggered");
        assert!(
            first == a || first == b,
            "cause {first:?} is neither parent"
        );
        assert_eq!(first, second, "the cause changed between two reads");
        if let Some(during) = during {
            assert_eq!(during, first, "the cause read during the race changed");
        }
    });
}

/// The first cause stands: a second parent triggered later, while the token and its child are
/// read, changes neither answer (I1: the state is written once).
#[test]
fn a_later_trigger_of_another_parent_never_changes_the_cause() {
    loom::model(|| {
        let a = CancelToken::new("a");
        let b = CancelToken::new("b");
        let derived = a.chain(&b);
        let leaf = derived.child("leaf");
        a.trigger();
        let tb = trigger_in_thread(&b);
        let during = [derived.triggered_token(), leaf.triggered_token()];
        tb.join().unwrap();
        let after = [derived.triggered_token(), leaf.triggered_token()];

        for cause in during.iter().chain(&after) {
            assert_eq!(cause.as_ref(), Some(&a), "the first cause was replaced");
        }
    });
}

/// The same race while the derived token is being made: either parent may fire it during `any`'s
/// linking (the first cause stands), or it is born triggered by the first one found triggered.
#[test]
fn two_parents_triggered_while_the_chain_is_made() {
    loom::model(|| {
        let a = CancelToken::new("a");
        let b = CancelToken::new("b");
        let (ta, tb) = (trigger_in_thread(&a), trigger_in_thread(&b));
        let derived = a.chain(&b);
        ta.join().unwrap();
        tb.join().unwrap();

        assert!(derived.triggered(), "(I3) live under two triggered parents");
        let first = derived.triggered_token().expect("triggered");
        assert!(
            first == a || first == b,
            "cause {first:?} is neither parent"
        );
        assert_eq!(derived.triggered_token(), Some(first));
    });
}

// 4. Drop of a derived token (its last handle) vs trigger of its parent: no deadlock, no panic.

/// How often each side won the race of a `drop_races_trigger` model, over all its interleavings.
///
/// The reference counts are std's `Arc`s, which loom does not see (see `src/sync.rs`), so loom
/// explores the drop-vs-upgrade race only through the node locks around it. These counts make
/// the model fail if an interleaving of either kind stops being explored.
struct Outcomes {
    /// The trigger reached the derived token (upgraded it) before its last handle went.
    reached: StdAtomicUsize,
    /// The handle went first: the trigger found nothing to upgrade, or nothing registered.
    dropped_first: StdAtomicUsize,
}

impl Outcomes {
    const fn new() -> Self {
        Outcomes {
            reached: StdAtomicUsize::new(0),
            dropped_first: StdAtomicUsize::new(0),
        }
    }
}

/// `derive(parent, other)` is dropped on one thread while `parent` triggers on another.
///
/// A forgotten `Wait` leaves a waker registered in the derived token: woken means the trigger
/// reached the token; released either way means the token's node was freed (nothing leaked).
fn drop_races_trigger(
    derive: fn(&CancelToken, &CancelToken) -> CancelToken,
    outcomes: &'static Outcomes,
) {
    loom::model(move || {
        let parent = CancelToken::new("parent");
        let other = CancelToken::new("other");
        let derived = derive(&parent, &other);
        let flag = Flag::new();
        {
            let waker = Waker::from(flag.clone());
            let mut wait = derived.wait();
            assert!(poll_once(&mut wait, &waker).is_pending());
            // Leaks only the registration (`Wait` owns no handle): the waker stays in the node.
            std::mem::forget(wait);
        }
        let dropper = thread::spawn(move || drop(derived));
        parent.trigger();
        dropper.join().unwrap();

        assert_eq!(parent.triggered_token().as_ref(), Some(&parent));
        assert_released(&flag);
        let outcome = match flag.woken() {
            true => &outcomes.reached,
            false => &outcomes.dropped_first,
        };
        outcome.fetch_add(1, Relaxed);
        // The parent's node is consistent after the race: a new child is born triggered.
        assert_eq!(
            parent.child("late").triggered_token().as_ref(),
            Some(&parent)
        );
        // `other` lost its registration cleanly: it still triggers and derives.
        other.trigger();
        assert!(other.child("late").triggered());
    });
    let (reached, dropped_first) = (
        outcomes.reached.load(Relaxed),
        outcomes.dropped_first.load(Relaxed),
    );
    assert!(
        reached > 0 && dropped_first > 0,
        "the model lost half the race: trigger reached the token in {reached} interleavings, the \
         drop came first in {dropped_first}"
    );
}

#[test]
fn drop_of_child_vs_trigger_of_parent() {
    static OUTCOMES: Outcomes = Outcomes::new();
    drop_races_trigger(|parent, _| parent.child("child"), &OUTCOMES);
}

#[test]
fn drop_of_chain_vs_trigger_of_one_parent() {
    static OUTCOMES: Outcomes = Outcomes::new();
    drop_races_trigger(|parent, other| parent.chain(other), &OUTCOMES);
}

/// The last handle is a grandchild: its drop releases the middle token too (the loop in `Drop`),
/// while the trigger may hold the middle token upgraded and release it last.
#[test]
fn drop_of_grandchild_chain_vs_trigger_of_root() {
    static OUTCOMES: Outcomes = Outcomes::new();
    drop_races_trigger(|parent, _| parent.child("middle").child("leaf"), &OUTCOMES);
}

// 5. Blocking wait vs trigger: the model terminates (loom reports a thread parked forever).

#[test]
fn blocking_wait_vs_trigger_terminates() {
    loom::model(|| {
        let token = CancelToken::new("t");
        let trigger = trigger_in_thread(&token);
        token.wait_blocking();
        assert!(token.triggered());
        trigger.join().unwrap();
    });
}

/// The waiter is on a derived token: the parent's trigger must reach it through propagation.
#[test]
fn blocking_wait_on_child_vs_trigger_of_parent_terminates() {
    loom::model(|| {
        let parent = CancelToken::new("parent");
        let child = parent.child("child");
        let trigger = trigger_in_thread(&parent);
        child.wait_blocking();
        assert_eq!(child.triggered_token().as_ref(), Some(&parent));
        trigger.join().unwrap();
    });
}

/// A zero timeout registers and deregisters at once: the trigger may take the thread waiter in
/// between (and unpark a thread that is not parked). The answer must agree with the state, and
/// the thread's next blocking wait must still work.
#[test]
fn blocking_wait_timing_out_vs_trigger() {
    loom::model(|| {
        let token = CancelToken::new("t");
        let trigger = trigger_in_thread(&token);
        // `false` is allowed (it timed out first); `true` must be the truth, and stay it.
        if token.wait_blocking_timeout(Duration::ZERO) {
            assert!(
                token.triggered(),
                "a timed wait said triggered for a live token"
            );
        }
        // An unpark the trigger sent to the waiter it took may still be pending for this thread:
        // the next wait must treat it as spurious and still end only on the trigger.
        token.wait_blocking();
        assert!(token.triggered());
        trigger.join().unwrap();
    });
}

// 6. A pending `Wait` dropped while the token triggers: cancel-safety.

#[test]
fn wait_dropped_vs_trigger_leaves_nothing_registered() {
    loom::model(|| {
        let token = CancelToken::new("t");
        let flag = Flag::new();
        let waiter = {
            let (token, flag) = (token.clone(), flag.clone());
            thread::spawn(move || {
                let waker = Waker::from(flag.clone());
                let mut wait = token.wait();
                let first = poll_once(&mut wait, &waker);
                // The race: the drop deregisters while the trigger may be taking the waiter.
                drop(wait);
                // Still live after the drop: the trigger has not taken the waiter list yet (the
                // state and the list change in one critical section, which the drop's lock
                // orders), so the drop alone must have removed the waker. Left: the test's
                // `flag`, this thread's, and `waker`.
                if first.is_pending() && !token.triggered() {
                    assert_eq!(
                        Arc::strong_count(&flag),
                        3,
                        "a dropped Wait left its waker registered in a live token"
                    );
                }
                first.is_ready()
            })
        };
        token.trigger();
        let was_ready = waiter.join().unwrap();

        assert!(token.triggered());
        // Either the trigger took the waker and woke it, or the drop removed it: neither leaves
        // a clone in the token, and a ready first poll never registered one.
        assert_released(&flag);
        if was_ready {
            assert!(
                !flag.woken(),
                "a wait that was ready at once registered a waker"
            );
        }
    });
}

// 7. Reasons: two triggers with different reasons at once. (Callbacks and deadlines racing a
// trigger are modelled in tests/loom_beyond.rs.)

/// `trigger_with` and `trigger` race on one token: the first wins, and the token and its child
/// report the same reason, from the same cause, every time they are asked.
#[test]
fn trigger_with_vs_trigger_gives_one_stable_reason() {
    loom::model(|| {
        let token = CancelToken::new("t");
        let child = token.child("child");
        let with_reason = {
            let token = token.clone();
            thread::spawn(move || token.trigger_with(Reason::Signal(15)))
        };
        token.trigger();
        with_reason.join().unwrap();

        let reason = token.reason().expect("triggered");
        assert!(
            matches!(reason, Reason::Triggered | Reason::Signal(15)),
            "{reason:?}"
        );
        for asked in [token.reason(), child.reason()] {
            assert_eq!(
                format!("{:?}", asked.expect("triggered")),
                format!("{reason:?}"),
                "the reason changed, or differs between token and child"
            );
        }
        assert_eq!(child.triggered_token().as_ref(), Some(&token));
    });
}

// Two triggers of the same subtree at once.

/// Two triggers of one token at once: the one that finds the token already marked must not
/// return before the other has marked the child (it helps walk the subtree instead).
#[test]
fn concurrent_trigger_returns_with_the_subtree_triggered() {
    loom::model(|| {
        let parent = CancelToken::new("parent");
        let child = parent.child("child");
        let first = trigger_in_thread(&parent);
        parent.trigger();
        assert!(
            child.triggered(),
            "trigger() returned while a child still reads live (another thread's trigger of the \
             same token was still propagating)"
        );
        first.join().unwrap();
    });
}

/// A trigger of a middle token racing a trigger of the root: each call returns only once the
/// leaf reads triggered, whichever of them marked the middle token.
#[test]
fn overlapping_triggers_of_a_token_and_its_ancestor_both_finish_the_subtree() {
    loom::model(|| {
        let root = CancelToken::new("root");
        let middle = root.child("middle");
        let leaf = middle.child("leaf");
        let from_root = {
            let (root, leaf) = (root.clone(), leaf.clone());
            thread::spawn(move || {
                root.trigger();
                assert!(
                    leaf.triggered(),
                    "root.trigger() returned before the leaf was marked"
                );
            })
        };
        middle.trigger();
        assert!(
            leaf.triggered(),
            "middle.trigger() returned before the leaf was marked"
        );
        from_root.join().unwrap();
        let cause = leaf.triggered_token().unwrap();
        assert!(cause == root || cause == middle);
        assert_eq!(leaf.triggered_token().unwrap(), cause);
    });
}
