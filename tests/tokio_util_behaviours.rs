//! Every behaviour that tokio-util's own tests check for `CancellationToken`, its
//! `with_cancellation_token[_owned]` futures and `TaskTracker`, restated against this crate's API
//! (`CancelToken`, `FutureCancelExt`, `Drain`) and written anew: a user moving over can see that
//! what they relied on still holds. Run with `cargo test --test tokio_util_behaviours`.
//!
//! Read from tokio-rs/tokio at `ea91b33` (August 2026): `tokio-util/tests/sync_cancellation_token.rs`,
//! `tokio-util/tests/future.rs`, `tokio-util/tests/task_tracker.rs` and the loom models in
//! `tokio-util/src/sync/tests/loom_cancellation_token.rs`; the guards have no test file there,
//! so their documented promises are checked instead. Where another test file of ours already
//! checks a behaviour in depth, it is named too, and the test here is the short restatement.
//!
//! Hand-polled futures use a counting waker ([`WakeProbe`]) so that "woken exactly N times" is
//! checked as tokio-util checks it. Threads only race; nothing here measures time.
//!
//! | tokio-util test | ours (this file, unless said) |
//! | --- | --- |
//! | **sync_cancellation_token.rs** | |
//! | `cancel_token` | `token::a_trigger_wakes_the_polled_wait_and_readies_every_wait` |
//! | `cancel_token_owned` | `token::owned_waits_behave_like_borrowed_ones` |
//! | `cancel_token_owned_drop_test` | `token::a_pending_owned_wait_can_be_dropped`; semantics `wait::a_dropped_wait_is_not_woken` |
//! | `cancel_child_token_through_parent` | `token::a_parent_trigger_wakes_the_parent_and_child_waits` |
//! | `cancel_grandchild_token_through_parent_if_child_was_dropped` | `token::a_grandchild_follows_its_root_after_the_middle_token_is_dropped` |
//! | `cancel_child_token_without_parent` | `token::a_child_trigger_stops_there_and_later_children_follow_the_parent` |
//! | `create_child_token_after_parent_was_cancelled` | `token::a_child_of_a_triggered_token_is_born_triggered`; semantics `cause::derived_from_a_triggered_parent_is_born_triggered_with_its_cause` |
//! | `drop_multiple_child_tokens` | `token::children_dropped_in_either_order_leave_the_parent_live` |
//! | `cancel_only_all_descendants` | `token::a_trigger_reaches_exactly_the_subtree`; semantics `trigger::trigger_never_touches_parents`, `trigger_never_touches_siblings` |
//! | `drop_parent_before_child_tokens` | `token::children_outlive_a_dropped_parent`; semantics `trigger::derived_tokens_outlive_dropped_parents` |
//! | `derives_send_sync` | `token::tokens_and_waits_are_send_and_sync`; semantics `identity::tokens_are_send_sync_and_static` |
//! | `run_until_cancelled_test` | `cancellable_wait::*` (pending then triggered, completes later, never polled under a triggered token); semantics `cancellable` |
//! | `run_until_cancelled_owned_test` | `cancellable_wait_owned::*`, and `owned_waits_are_static_and_spawnable` |
//! | `cloned_cancellation_tokens_are_considered_equal` | `token::equality_and_hash_are_identity`; semantics `identity::equality_is_identity_not_name` |
//! | `child_cancellation_tokens_are_not_considered_equal` | `token::equality_and_hash_are_identity` |
//! | `independent_cancellation_tokens_are_not_considered_equal` | `token::equality_and_hash_are_identity` |
//! | `cloned_cancellation_tokens_have_same_hash` | `token::equality_and_hash_are_identity`; semantics `identity::hashing_is_identity` |
//! | `different_cancellation_tokens_have_different_hash` | `token::equality_and_hash_are_identity` |
//! | **future.rs** (each for `with_cancel_token` and `with_cancel_token_owned`, and again for `cancellable_wait[_owned]` and `cancellable_wait_timeout[_owned]`) | |
//! | `ready_fut_with_cancellation_token_test`, `ready_fut_with_cancellation_owned_token_test` | `<flavour>::ready_work_gives_its_output` |
//! | `pending_fut_with_cancellation_token_test`, `pending_fut_with_cancellation_token_owned_test` | `<flavour>::pending_work_stays_pending` |
//! | `ready_fut_with_already_cancelled_token_test`, `..._owned_test` | `<flavour>::ready_work_under_a_triggered_token_is_cancelled_unpolled` |
//! | `pending_fut_with_already_cancelled_token_test`, `..._owned_test` | `<flavour>::pending_work_under_a_triggered_token_is_cancelled_without_a_wake` |
//! | `pending_fut_with_token_cancelled_test`, `pending_fut_with_owned_token_cancelled_test` | `<flavour>::a_trigger_while_pending_wakes_once_and_cancels` |
//! | `pending_only_on_first_poll_with_cancellation_token_test`, `..._owned_test` | `<flavour>::work_ready_at_the_poll_after_the_trigger_wins` |
//! | **loom_cancellation_token.rs** (exhaustive models of ours: `tests/loom.rs`) | |
//! | `cancel_token` | `threads::a_wait_ends_when_another_thread_triggers`; loom `trigger_vs_first_poll_loses_no_wake_up` |
//! | `cancel_token_owned` | `threads::a_wait_ends_when_another_thread_triggers` (owned half) |
//! | `cancel_with_child` | `threads::waits_on_a_token_and_its_child_end_when_a_clone_triggers`; loom `a_woken_task_sees_the_subtree_triggered` |
//! | `drop_token_no_child` | `threads::clones_dropped_at_once_on_three_threads` |
//! | `drop_token_with_children` | `threads::a_parent_and_its_children_dropped_at_once`; loom `drop_of_child_vs_trigger_of_parent` |
//! | `drop_and_cancel_token` | `threads::drops_racing_a_trigger`; loom `drop_of_child_vs_trigger_of_parent` |
//! | `cancel_parent_and_child` | `threads::a_parent_and_child_triggered_at_once`; loom `overlapping_triggers_of_a_token_and_its_ancestor_both_finish_the_subtree` |
//! | **DropGuard / DropGuardRef** (documented promises) | `guards::*` |
//! | **task_tracker.rs** (`TaskTracker` → `Drain`) | |
//! | `open_close` | `drain::closing_is_idempotent_and_leaves_it_empty` (no `reopen`: a closed drain stays closed) |
//! | `token_len` | `drain::in_flight_counts_tracked_work_until_it_is_dropped` (a `Tracked` future stands for a `TaskTrackerToken`) |
//! | `notify_immediately` | `drain::wait_on_a_closed_empty_drain_is_ready_at_once` |
//! | `notify_immediately_on_reopen`, `notify_on_close_reopen` | no counterpart: there is no `reopen` |
//! | `notify_on_close` | `drain::closing_an_empty_drain_ends_the_wait` |
//! | `notify_on_last_task` | `drain::the_last_work_leaving_a_closed_drain_ends_the_wait` |
//! | `notify_on_last_task_respawn` | `drain::the_last_work_leaving_a_closed_drain_ends_the_wait` (tracking after `close` is an error here, so the wait stays done) |
//! | `no_notify_on_respawn_if_open` | `drain::an_open_drain_that_empties_does_not_end_the_wait` |
//! | `close_during_exit` | `drain::the_wait_ends_after_both_the_close_and_the_last_leave` |
//! | `notify_many` | `drain::one_close_ends_every_wait` |
//! | `spawn::spawn_then_close` | `drain::spawned_work_then_close_then_wait`, and `work_then_close_then_wait_on_any_executor` |
//! | `spawn_local::spawn_then_close`, `spawn_local_on::*::spawn_then_close` | `drain::local_work_then_close_then_wait` |
//! | `spawn_local::spawn_after_close`, `spawn_local_on::local_set::close_then_spawn` | `drain::work_tracked_after_close_is_refused` |
//! | `spawn_local_on::local_set::spawn_then_drop` | `drain::dropping_the_drain_stops_nothing` |
//! | `spawn_local::panic_outside_any_runtime`, `panic_in_multi_thread_runtime` | no counterpart: a `Drain` spawns nothing, the caller's executor does |

#[path = "support/mod.rs"]
mod support;

use std::future::Future;
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use cancel_token::{CancelToken, OperationCancelled};

use support::probe::{Probe, WakeProbe};

/// Polls `future` once by hand with `waker`.
fn poll<F: Future + ?Sized>(future: Pin<&mut F>, waker: &Waker) -> Poll<F::Output> {
    future.poll(&mut Context::from_waker(waker))
}

mod token {
    use super::*;

    #[test]
    fn a_trigger_wakes_the_polled_wait_and_readies_every_wait() {
        let (probe, waker) = WakeProbe::new();
        let token = CancelToken::new("t");
        assert!(!token.triggered());
        let mut polled = pin!(token.wait());
        assert!(poll(polled.as_mut(), &waker).is_pending());
        assert_eq!(probe.wakes(), 0);
        // Made before the trigger but never polled: nothing registered, nothing to wake.
        let mut unpolled = pin!(token.wait());
        token.trigger();
        assert!(token.triggered());
        assert_eq!(probe.wakes(), 1);
        assert!(poll(polled.as_mut(), &waker).is_ready());
        assert!(poll(unpolled.as_mut(), &waker).is_ready());
    }

    #[test]
    fn owned_waits_behave_like_borrowed_ones() {
        let (probe, waker) = WakeProbe::new();
        let token = CancelToken::new("t");
        let mut polled = pin!(token.clone().wait_owned());
        assert!(poll(polled.as_mut(), &waker).is_pending());
        let mut unpolled = pin!(token.clone().wait_owned());
        assert_eq!(probe.wakes(), 0);
        token.trigger();
        assert_eq!(probe.wakes(), 1);
        assert!(poll(polled.as_mut(), &waker).is_ready());
        assert!(poll(unpolled.as_mut(), &waker).is_ready());
    }

    #[test]
    fn a_pending_owned_wait_can_be_dropped() {
        let (probe, waker) = WakeProbe::new();
        let token = CancelToken::new("t");
        // Owns the only handle: dropping the wait drops the token while it is registered.
        let mut wait = Box::pin(token.clone().wait_owned());
        drop(token);
        assert!(poll(wait.as_mut(), &waker).is_pending());
        drop(wait);
        assert_eq!(probe.wakes(), 0);
    }

    /// Waits on `root` and on `below` it, pending; triggering `root` wakes each once and
    /// readies both.
    fn a_root_trigger_ends_both_waits(root: &CancelToken, below: &CancelToken) {
        let (probe, waker) = WakeProbe::new();
        assert!(!below.triggered());
        let mut on_below = pin!(below.wait());
        let mut on_root = pin!(root.wait());
        assert!(poll(on_below.as_mut(), &waker).is_pending());
        assert!(poll(on_root.as_mut(), &waker).is_pending());
        assert_eq!(probe.wakes(), 0);
        root.trigger();
        assert_eq!(probe.wakes(), 2, "one wake-up per registered wait");
        assert!(root.triggered() && below.triggered());
        assert!(poll(on_below.as_mut(), &waker).is_ready());
        assert!(poll(on_root.as_mut(), &waker).is_ready());
    }

    #[test]
    fn a_parent_trigger_wakes_the_parent_and_child_waits() {
        let parent = CancelToken::new("parent");
        a_root_trigger_ends_both_waits(&parent, &parent.child("child"));
    }

    #[test]
    fn a_grandchild_follows_its_root_after_the_middle_token_is_dropped() {
        let root = CancelToken::new("root");
        let middle = root.child("middle");
        let leaf = middle.child("leaf");
        drop(middle);
        a_root_trigger_ends_both_waits(&root, &leaf);
    }

    #[test]
    fn a_child_trigger_stops_there_and_later_children_follow_the_parent() {
        let (probe, waker) = WakeProbe::new();
        let parent = CancelToken::new("parent");
        let first = parent.child("first");
        let mut on_first = pin!(first.wait());
        let mut on_parent = pin!(parent.wait());
        assert!(poll(on_first.as_mut(), &waker).is_pending());
        assert!(poll(on_parent.as_mut(), &waker).is_pending());

        first.trigger();
        assert_eq!(probe.wakes(), 1, "only the child's wait");
        assert!(first.triggered() && !parent.triggered());
        assert!(poll(on_first.as_mut(), &waker).is_ready());
        assert!(poll(on_parent.as_mut(), &waker).is_pending());

        // A child made after a sibling triggered is as live as its parent.
        let second = parent.child("second");
        let mut on_second = pin!(second.wait());
        assert!(poll(on_second.as_mut(), &waker).is_pending());
        parent.trigger();
        assert_eq!(probe.wakes(), 3);
        assert!(second.triggered());
        assert!(poll(on_second.as_mut(), &waker).is_ready());
        assert!(poll(on_parent.as_mut(), &waker).is_ready());
    }

    #[test]
    fn a_child_of_a_triggered_token_is_born_triggered() {
        for child_dropped_first in [true, false] {
            let (probe, waker) = WakeProbe::new();
            let parent = CancelToken::new("parent");
            parent.trigger();
            let child = parent.child("child");
            assert!(child.triggered());
            assert!(poll(pin!(child.wait()), &waker).is_ready());
            assert!(poll(pin!(parent.wait()), &waker).is_ready());
            assert_eq!(probe.wakes(), 0, "ready at once, so nothing to wake");
            if child_dropped_first {
                drop(child);
                drop(parent);
            } else {
                drop(parent);
                drop(child);
            }
        }
    }

    #[test]
    fn children_dropped_in_either_order_leave_the_parent_live() {
        for first_made_dropped_first in [true, false] {
            let parent = CancelToken::new("parent");
            let mut children: Vec<_> = (0..3).map(|_| Some(parent.child("child"))).collect();
            assert!(!children[0].as_ref().unwrap().triggered());
            for i in 0..children.len() {
                let at = if first_made_dropped_first {
                    i
                } else {
                    children.len() - 1 - i
                };
                children[at] = None;
                assert!(!parent.triggered());
            }
            // The parent still works once its children are gone.
            parent.trigger();
            assert!(parent.triggered());
        }
    }

    #[test]
    fn a_trigger_reaches_exactly_the_subtree() {
        let (probe, waker) = WakeProbe::new();
        let root = CancelToken::new("root");
        let target = root.child("target");
        let sibling = root.child("sibling");
        let child_a = target.child("a");
        let child_b = target.child("b");
        let grand_a1 = child_a.child("a1");
        let grand_a2 = child_a.child("a2");
        let great = grand_a1.child("a1x");
        let outside = [&root, &sibling];
        let subtree = [&target, &child_a, &child_b, &grand_a1, &grand_a2, &great];

        let mut waits: Vec<_> = outside
            .iter()
            .chain(&subtree)
            .map(|token| Box::pin(token.wait()))
            .collect();
        for wait in &mut waits {
            assert!(poll(wait.as_mut(), &waker).is_pending());
        }
        assert_eq!(probe.wakes(), 0);

        target.trigger();
        assert_eq!(probe.wakes(), subtree.len(), "each subtree wait once");
        assert!(outside.iter().all(|token| !token.triggered()));
        assert!(subtree.iter().all(|token| token.triggered()));
        let (outside_waits, subtree_waits) = waits.split_at_mut(outside.len());
        for wait in subtree_waits {
            assert!(poll(wait.as_mut(), &waker).is_ready());
        }
        for wait in outside_waits {
            assert!(poll(wait.as_mut(), &waker).is_pending());
        }
        assert_eq!(probe.wakes(), subtree.len(), "polling woke nothing more");
    }

    #[test]
    fn children_outlive_a_dropped_parent() {
        let parent = CancelToken::new("parent");
        let first = parent.child("first");
        let second = parent.child("second");
        drop(parent);
        assert!(!first.triggered());
        drop(first);
        second.trigger();
        assert!(second.triggered());
    }

    #[test]
    fn tokens_and_waits_are_send_and_sync() {
        fn send_sync<T: Send + Sync>() {}
        send_sync::<CancelToken>();
        send_sync::<cancel_token::Wait<'static>>();
        send_sync::<cancel_token::WaitOwned>();
    }

    #[test]
    fn equality_and_hash_are_identity() {
        use std::hash::{BuildHasher, RandomState};
        let hasher = RandomState::new();
        let token = CancelToken::new("t");
        let clone = token.clone();
        assert_eq!(token, clone);
        assert_eq!(hasher.hash_one(&token), hasher.hash_one(&clone));
        assert_ne!(token, token.child("t"));
        // Independent tokens differ even under the same name.
        let other = CancelToken::new("t");
        assert_ne!(token, other);
        assert_ne!(hasher.hash_one(&token), hasher.hash_one(&other));
    }
}

/// tokio-util's `future.rs` and `run_until_cancelled[_owned]` tests, once per way of running work
/// under a token: the extension trait's two methods and the token's two methods, which share one
/// implementation of the poll rules and must all keep them.
macro_rules! run_under_a_token {
    ($($flavour:ident: |$work:ident, $token:ident| $wrap:expr;)*) => {$(
        mod $flavour {
            use super::*;
            #[allow(unused_imports)]
            use cancel_token::FutureCancelExt;

            fn wrap<F: Future>(
                $work: F,
                $token: &CancelToken,
            ) -> impl Future<Output = Result<F::Output, OperationCancelled>> {
                $wrap
            }

            #[test]
            fn ready_work_gives_its_output() {
                let (_, waker) = WakeProbe::new();
                let token = CancelToken::new("t");
                let run = pin!(wrap(std::future::ready(7), &token));
                assert!(matches!(poll(run, &waker), Poll::Ready(Ok(7))));
            }

            #[test]
            fn pending_work_stays_pending() {
                let (probe, waker) = WakeProbe::new();
                let token = CancelToken::new("t");
                let run = pin!(wrap(std::future::pending::<()>(), &token));
                assert!(poll(run, &waker).is_pending());
                assert_eq!(probe.wakes(), 0);
            }

            #[test]
            fn ready_work_under_a_triggered_token_is_cancelled_unpolled() {
                let (_, waker) = WakeProbe::new();
                let token = CancelToken::new("t");
                token.trigger();
                let work = Probe::new();
                let run = pin!(wrap(work.wrap(std::future::ready(())), &token));
                match poll(run, &waker) {
                    Poll::Ready(Err(cancelled)) => assert_eq!(cancelled.token(), &token),
                    other => panic!("expected a cancellation, got {other:?}"),
                }
                assert_eq!(work.polls(), 0, "the work is never polled");
            }

            #[test]
            fn pending_work_under_a_triggered_token_is_cancelled_without_a_wake() {
                let (probe, waker) = WakeProbe::new();
                let token = CancelToken::new("t");
                token.trigger();
                let run = pin!(wrap(std::future::pending::<()>(), &token));
                assert!(matches!(poll(run, &waker), Poll::Ready(Err(_))));
                assert_eq!(probe.wakes(), 0);
            }

            #[test]
            fn a_trigger_while_pending_wakes_once_and_cancels() {
                let (probe, waker) = WakeProbe::new();
                let token = CancelToken::new("t");
                let mut run = pin!(wrap(std::future::pending::<()>(), &token));
                assert!(poll(run.as_mut(), &waker).is_pending());
                token.trigger();
                assert!(matches!(poll(run.as_mut(), &waker), Poll::Ready(Err(_))));
                assert_eq!(probe.wakes(), 1);
            }

            #[test]
            fn work_ready_at_the_poll_after_the_trigger_wins() {
                let (probe, waker) = WakeProbe::new();
                let token = CancelToken::new("t");
                let mut first = true;
                let work = std::future::poll_fn(move |_| {
                    if std::mem::take(&mut first) {
                        Poll::Pending
                    } else {
                        Poll::Ready("kept")
                    }
                });
                let mut run = pin!(wrap(work, &token));
                assert!(poll(run.as_mut(), &waker).is_pending());
                token.trigger();
                assert_eq!(probe.wakes(), 1);
                // The work is asked first, so its output is not thrown away.
                assert!(matches!(poll(run.as_mut(), &waker), Poll::Ready(Ok("kept"))));
            }

            #[test]
            fn work_completing_later_gives_its_output() {
                let (probe, waker) = WakeProbe::new();
                let token = CancelToken::new("t");
                let (send, receive) = futures::channel::oneshot::channel::<()>();
                let work = async move {
                    receive.await.unwrap();
                    42
                };
                let mut run = pin!(wrap(work, &token));
                assert!(poll(run.as_mut(), &waker).is_pending());
                send.send(()).unwrap();
                assert_eq!(probe.wakes(), 1, "woken by the work");
                assert!(matches!(poll(run.as_mut(), &waker), Poll::Ready(Ok(42))));
                assert!(!token.triggered());
            }
        }
    )*};
}

run_under_a_token! {
    with_cancel_token: |work, token| work.with_cancel_token(token);
    with_cancel_token_owned: |work, token| work.with_cancel_token_owned(token.clone());
    cancellable_wait: |work, token| token.cancellable_wait(work);
    cancellable_wait_owned: |work, token| token.clone().cancellable_wait_owned(work);
    cancellable_wait_timeout: |work, token| cancelled_only(token.cancellable_wait_timeout(work, HOUR));
    cancellable_wait_timeout_owned: |work, token| {
        cancelled_only(token.clone().cancellable_wait_timeout_owned(work, HOUR))
    };
}

/// A timeout none of the tests above reaches.
const HOUR: std::time::Duration = std::time::Duration::from_secs(3600);

/// A timed wait whose timeout is never reached, as the race with the token alone that the tests
/// above expect.
async fn cancelled_only<T>(
    timed: impl Future<Output = Result<T, cancel_token::WaitError>>,
) -> Result<T, OperationCancelled> {
    timed.await.map_err(|error| match error {
        cancel_token::WaitError::Cancelled(cancelled) => cancelled,
        timed_out => panic!("{timed_out}"),
    })
}

/// The owned flavours can leave the scope that made them (tokio-util's `_owned` tests move the
/// token into a closure): here into a spawned task, cancelled from outside.
#[test]
fn owned_waits_are_static_and_spawnable() {
    use cancel_token::FutureCancelExt;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .build()
        .unwrap();
    let token = CancelToken::new("t");
    let by_ext = runtime.spawn(std::future::pending::<()>().with_cancel_token_owned(token.clone()));
    let by_token = runtime.spawn(
        token
            .clone()
            .cancellable_wait_owned(std::future::pending::<()>()),
    );
    let timed = runtime.spawn(
        token
            .clone()
            .cancellable_wait_timeout_owned(std::future::pending::<()>(), HOUR),
    );
    let finished = runtime.spawn(token.clone().cancellable_wait_owned(async { 5 }));
    runtime.block_on(async {
        assert_eq!(finished.await.unwrap().unwrap(), 5);
        token.trigger();
        assert!(by_ext.await.unwrap().is_err());
        assert!(by_token.await.unwrap().is_err());
        assert!(matches!(
            timed.await.unwrap(),
            Err(cancel_token::WaitError::Cancelled(_))
        ));
    });
}

/// The loom models' scenarios on real threads, each repeated: no lost wake-up, no deadlock, no
/// crash when clones, children and triggers race. Exhaustive versions are in `tests/loom.rs`.
mod threads {
    use super::*;
    use std::thread;

    const ROUNDS: usize = 200;

    fn block_on<F: Future>(future: F) -> F::Output {
        futures::executor::block_on(support::executors::guarded(future))
    }

    #[test]
    fn a_wait_ends_when_another_thread_triggers() {
        for _ in 0..ROUNDS {
            let token = CancelToken::new("t");
            let (borrowed, owned) = (token.clone(), token.clone());
            let waiters = [
                thread::spawn(move || block_on(borrowed.wait())),
                thread::spawn(move || block_on(owned.wait_owned())),
            ];
            let trigger = thread::spawn(move || token.trigger());
            for waiter in waiters {
                support::threads::join_guarded(waiter);
            }
            support::threads::join_guarded(trigger);
        }
    }

    #[test]
    fn waits_on_a_token_and_its_child_end_when_a_clone_triggers() {
        for _ in 0..ROUNDS {
            let token = CancelToken::new("t");
            let (on_token, trigger, child) = (token.clone(), token.clone(), token.child("c"));
            let threads = [
                thread::spawn(move || block_on(on_token.wait())),
                thread::spawn(move || trigger.trigger()),
                thread::spawn(move || block_on(child.wait())),
            ];
            drop(token);
            threads.into_iter().for_each(support::threads::join_guarded);
        }
    }

    fn drop_on_three_threads(tokens: [CancelToken; 3]) {
        let threads = tokens.map(|token| thread::spawn(move || drop(token)));
        threads.into_iter().for_each(support::threads::join_guarded);
    }

    #[test]
    fn clones_dropped_at_once_on_three_threads() {
        for _ in 0..ROUNDS {
            let token = CancelToken::new("t");
            drop_on_three_threads([token.clone(), token.clone(), token]);
        }
    }

    #[test]
    fn a_parent_and_its_children_dropped_at_once() {
        for _ in 0..ROUNDS {
            let parent = CancelToken::new("p");
            let (first, second) = (parent.child("a"), parent.child("b"));
            let watch = second.clone();
            drop_on_three_threads([parent, first, second]);
            assert!(!watch.triggered());
        }
    }

    /// On three threads at once: a token dropped, a clone of it triggered, and `to_child` done
    /// to its child. The child ends triggered either way.
    fn drop_and_trigger_racing(to_child: fn(CancelToken)) {
        for _ in 0..ROUNDS {
            let token = CancelToken::new("t");
            let (trigger, child) = (token.clone(), token.child("c"));
            let watch = child.clone();
            let threads = [
                thread::spawn(move || drop(token)),
                thread::spawn(move || trigger.trigger()),
                thread::spawn(move || to_child(child)),
            ];
            threads.into_iter().for_each(support::threads::join_guarded);
            assert!(watch.triggered());
        }
    }

    #[test]
    fn drops_racing_a_trigger() {
        drop_and_trigger_racing(drop);
    }

    #[test]
    fn a_parent_and_child_triggered_at_once() {
        drop_and_trigger_racing(|child| child.trigger());
    }
}

/// tokio-util documents its guards: cancel on drop, `disarm` gives the token back without
/// cancelling and leaves other guards armed, `token()` only borrows.
mod guards {
    use super::*;

    #[test]
    fn a_guard_triggers_when_dropped_and_not_when_asked_for_its_token() {
        let token = CancelToken::new("t");
        let guard = token.clone().drop_guard();
        assert_eq!(guard.token(), &token);
        assert!(!token.triggered());
        drop(guard);
        assert!(token.triggered());

        let token = CancelToken::new("t");
        let guard = token.drop_guard_ref();
        assert_eq!(guard.token(), &token);
        assert!(!token.triggered());
        drop(guard);
        assert!(token.triggered());
    }

    #[test]
    fn disarming_gives_the_token_back_untriggered() {
        let token = CancelToken::new("t");
        let back = token.clone().drop_guard().disarm();
        assert_eq!(back, token);
        let back_ref: &CancelToken = token.drop_guard_ref().disarm();
        assert!(std::ptr::eq(back_ref, &token));
        assert!(!token.triggered());
    }

    #[test]
    fn disarming_one_guard_leaves_the_others_armed() {
        let token = CancelToken::new("t");
        let (owned_a, owned_b) = (token.clone().drop_guard(), token.clone().drop_guard());
        let borrowed = token.drop_guard_ref();
        owned_a.disarm();
        assert!(!token.triggered());
        borrowed.disarm();
        assert!(!token.triggered());
        drop(owned_b);
        assert!(token.triggered());
    }

    #[test]
    fn a_guard_triggers_on_unwind() {
        let token = CancelToken::new("t");
        let moved = token.clone();
        let panicked = std::panic::catch_unwind(move || {
            let _guard = moved.drop_guard();
            panic!("on purpose");
        });
        assert!(panicked.is_err());
        assert!(token.triggered());
    }
}

/// tokio-util's `task_tracker.rs`, against `Drain`. A `Drain` owns a token as well, which none of
/// these waits trigger; its shutdown (trigger, grace, abort, report) is `tests/shutdown.rs`'s.
mod drain {
    use super::*;
    use cancel_token::{Drain, Error};
    use support::executors::on_every_executor;

    fn drain() -> Drain {
        Drain::new(CancelToken::new("shutdown"))
    }

    /// A `drain.wait()` polled by hand with a counting waker.
    struct Waiting<'a> {
        wait: Pin<Box<dyn Future<Output = ()> + 'a>>,
        probe: Arc<WakeProbe>,
        waker: Waker,
    }

    impl<'a> Waiting<'a> {
        fn on(drain: &'a Drain) -> Self {
            let (probe, waker) = WakeProbe::new();
            Waiting {
                wait: Box::pin(drain.wait()),
                probe,
                waker,
            }
        }

        fn ready(&mut self) -> bool {
            poll(self.wait.as_mut(), &self.waker).is_ready()
        }
    }

    /// Tracked, never polled: stands in for tokio-util's `TaskTrackerToken`.
    fn hold(drain: &Drain) -> impl Future + use<> {
        drain.track("held", std::future::pending::<()>()).unwrap()
    }

    #[test]
    fn closing_is_idempotent_and_leaves_it_empty() {
        let drain = drain();
        assert!(!drain.is_closed());
        assert_eq!(drain.in_flight(), 0);
        drain.close();
        assert!(drain.is_closed());
        drain.close();
        assert!(drain.is_closed());
        assert_eq!(drain.in_flight(), 0);
        assert!(!drain.token().triggered(), "closing triggers nothing");
    }

    #[test]
    fn in_flight_counts_tracked_work_until_it_is_dropped() {
        let drain = drain();
        let mut held = Vec::new();
        for n in 0..10 {
            assert_eq!(drain.in_flight(), n);
            held.push(hold(&drain));
        }
        assert_eq!(drain.in_flight(), 10);
        for n in (0..10).rev() {
            drop(held.remove(0));
            assert_eq!(drain.in_flight(), n);
        }
    }

    #[test]
    fn wait_on_a_closed_empty_drain_is_ready_at_once() {
        let drain = drain();
        drain.close();
        assert!(Waiting::on(&drain).ready());
    }

    #[test]
    fn closing_an_empty_drain_ends_the_wait() {
        let drain = drain();
        let mut waiting = Waiting::on(&drain);
        assert!(!waiting.ready());
        drain.close();
        assert_eq!(waiting.probe.wakes(), 1);
        assert!(waiting.ready());
    }

    #[test]
    fn the_last_work_leaving_a_closed_drain_ends_the_wait() {
        let drain = drain();
        let held = hold(&drain);
        drain.close();
        let mut waiting = Waiting::on(&drain);
        assert!(!waiting.ready());
        drop(held);
        assert_eq!(waiting.probe.wakes(), 1);
        // Where tokio-util lets work in again behind the close, a drain refuses it, so the wait
        // stays done, for this waiter and a new one.
        assert!(matches!(drain.track("late", async {}), Err(Error::Closed)));
        assert!(waiting.ready());
        assert!(Waiting::on(&drain).ready());
    }

    #[test]
    fn an_open_drain_that_empties_does_not_end_the_wait() {
        let drain = drain();
        let held = hold(&drain);
        let mut waiting = Waiting::on(&drain);
        assert!(!waiting.ready());
        drop(held);
        let again = hold(&drain);
        assert!(!waiting.ready());
        drop(again);
        assert!(!waiting.ready());
        assert_eq!(waiting.probe.wakes(), 0);
    }

    #[test]
    fn the_wait_ends_after_both_the_close_and_the_last_leave() {
        const WORK: usize = 5;
        for close_after in 0..=WORK {
            let drain = drain();
            let held: Vec<_> = (0..WORK).map(|_| hold(&drain)).collect();
            let mut waiting = Waiting::on(&drain);
            for (i, work) in held.into_iter().enumerate() {
                assert!(!waiting.ready());
                if i == close_after {
                    drain.close();
                    assert!(!waiting.ready());
                }
                drop(work);
            }
            if close_after == WORK {
                assert!(!waiting.ready());
                drain.close();
            }
            assert!(waiting.ready());
        }
    }

    #[test]
    fn one_close_ends_every_wait() {
        let drain = drain();
        let mut waits: Vec<_> = (0..10).map(|_| Waiting::on(&drain)).collect();
        assert!(waits.iter_mut().all(|w| !w.ready()));
        drain.close();
        assert!(waits.iter().all(|w| w.probe.wakes() == 1));
        assert!(waits.iter_mut().all(|w| w.ready()));
    }

    #[test]
    fn spawned_work_then_close_then_wait() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let drain = drain();
        runtime.block_on(async {
            for _ in 0..8 {
                tokio::spawn(drain.track("spawned", async {}).unwrap());
            }
            let handle = tokio::runtime::Handle::current();
            for _ in 0..8 {
                handle.spawn(drain.track("spawned-on", async {}).unwrap());
            }
            drain.close();
            support::executors::guarded(drain.wait()).await;
        });
        assert_eq!(drain.in_flight(), 0);
        assert!(drain.is_closed());
    }

    on_every_executor!(work_then_close_then_wait_on_any_executor);

    /// `spawn_then_close` without a spawner: the same wait on every executor we test.
    async fn work_then_close_then_wait_on_any_executor() {
        let drain = drain();
        let work: Vec<_> = (0..8)
            .map(|i| drain.track("joined", async move { i }).unwrap())
            .collect();
        drain.close();
        let (outputs, ()) = futures::join!(futures::future::join_all(work), drain.wait());
        assert_eq!(outputs.into_iter().map(Result::unwrap).sum::<i32>(), 28);
        assert_eq!(drain.in_flight(), 0);
    }

    #[test]
    fn local_work_then_close_then_wait() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let local = tokio::task::LocalSet::new();
        let drain = drain();
        for _ in 0..8 {
            // Not `Send`: only a local task can run it.
            let not_send = std::rc::Rc::new(());
            let work = drain.track("local", async move { drop(not_send) }).unwrap();
            local.spawn_local(work);
        }
        runtime.block_on(local.run_until(async {
            drain.close();
            support::executors::guarded(drain.wait()).await;
        }));
        assert_eq!(drain.in_flight(), 0);
    }

    #[test]
    fn work_tracked_after_close_is_refused() {
        let drain = drain();
        drain.close();
        let work = Probe::new();
        assert!(matches!(
            drain.track("late", work.wrap(async {})),
            Err(Error::Closed)
        ));
        assert!(work.dropped() && work.polls() == 0, "dropped unpolled");
        assert!(matches!(
            drain.track_thread("late", |_| panic!("must not run")),
            Err(Error::Closed)
        ));
        assert!(Waiting::on(&drain).ready());
        assert_eq!(drain.in_flight(), 0);
    }

    #[test]
    fn dropping_the_drain_stops_nothing() {
        let drain = drain();
        let token = drain.token().clone();
        let work = Probe::new();
        let mut tracked = Box::pin(
            drain
                .track("kept", work.wrap(std::future::pending::<()>()))
                .unwrap(),
        );
        let (_, waker) = WakeProbe::new();
        assert!(poll(tracked.as_mut(), &waker).is_pending());
        drop(drain);
        assert!(poll(tracked.as_mut(), &waker).is_pending());
        assert!(!work.dropped() && !token.triggered());
    }
}
