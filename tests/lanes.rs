//! Children and waiters through lanes (`src/lanes.rs`): once a parent is sharded, each thread's
//! children and new waiters register with that thread's lane of it, and every promise of the graph
//! still holds: a trigger reaches them, they name the token that was triggered, see its deadline,
//! are born triggered under a triggered parent, waiters are woken, and a parent nothing holds any
//! more is released once its lanes are swept. `__private::shard_children` shards a parent on
//! purpose; two tests show contention doing it by itself.

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use cancel_token::__private::{is_sharded, lanes_of, shard_children, sweep_lanes};
use cancel_token::{CancelToken, Reason, WeakCancelToken};

#[path = "support/wakers.rs"]
mod wakers;
use wakers::counting;

/// A guard against a hang, never a timing claim: generous on any machine.
const HANG_GUARD: Duration = Duration::from_secs(30);

/// Children of `root`, `per_thread` made on each of `threads` threads at once, all kept.
fn children_on_threads(root: &CancelToken, threads: usize, per_thread: usize) -> Vec<CancelToken> {
    std::thread::scope(|scope| {
        let made: Vec<_> = (0..threads)
            .map(|_| scope.spawn(|| (0..per_thread).map(|_| root.child("c")).collect::<Vec<_>>()))
            .collect();
        made.into_iter()
            .flat_map(|thread| thread.join().expect("a deriving thread panicked"))
            .collect()
    })
}

#[test]
fn a_trigger_reaches_every_child_made_through_lanes() {
    let root = CancelToken::new("root");
    shard_children(&root);
    assert!(is_sharded(&root));
    let children = children_on_threads(&root, 4, 250);
    assert!(
        lanes_of(&root) >= 1,
        "the children did not go through lanes"
    );
    let grandchildren: Vec<_> = children.iter().map(|c| c.child("g")).collect();
    assert!(children.iter().all(|c| !c.triggered()));
    root.trigger();
    for token in children.iter().chain(&grandchildren) {
        assert!(token.triggered());
        // The cause walk passes through the lane to the token that was triggered (lanes L1).
        assert_eq!(token.triggered_token(), Some(root.clone()));
        assert!(matches!(token.reason(), Some(Reason::Triggered)));
    }
    assert!(!is_sharded(&root), "a triggered token is no longer sharded");
}

#[test]
fn children_through_lanes_see_the_parents_deadline_and_keep_their_names() {
    let root = CancelToken::new("root");
    let request = root.with_timeout(Duration::from_secs(3600));
    shard_children(&request);
    let child = request.child("step");
    assert_eq!(child.name(), "step");
    assert_eq!(child.deadline(), request.deadline());
    assert!(child.deadline().is_some());
}

/// A deadline child is named like its parent; made through a lane, it takes the lane's copy of
/// that name (so threads making them share no count of it), and still reads as the parent's.
#[test]
fn deadline_children_through_lanes_are_named_like_their_parent() {
    for root in [
        CancelToken::new("shutdown"),
        CancelToken::new(format!("server {}", 8080)),
        CancelToken::new("a").chain(&CancelToken::new("b")),
    ] {
        shard_children(&root);
        let deadlines: Vec<_> = std::thread::scope(|scope| {
            let made: Vec<_> = (0..2)
                .map(|_| scope.spawn(|| root.with_timeout(Duration::from_secs(3600))))
                .collect();
            made.into_iter().map(|t| t.join().unwrap()).collect()
        });
        assert!(lanes_of(&root) >= 1, "made without a lane");
        for deadline in &deadlines {
            assert_eq!(deadline.name(), root.name());
            assert!(!deadline.triggered());
        }
        root.trigger();
        for deadline in &deadlines {
            assert_eq!(
                deadline.check().unwrap_err().to_string(),
                format!("Cancellation requested by {} token", root.name())
            );
        }
    }
}

#[test]
fn a_deadline_of_a_sharded_parent_triggers_children_made_through_lanes() {
    let root = CancelToken::new("root");
    let request = root.with_timeout(Duration::from_millis(20));
    shard_children(&request);
    let children = children_on_threads(&request, 2, 10);
    let started = Instant::now();
    for child in &children {
        assert!(
            child.wait_blocking_timeout(HANG_GUARD),
            "the parent's deadline never reached a child made through a lane"
        );
        assert_eq!(child.triggered_token(), Some(request.clone()));
        assert!(matches!(child.reason(), Some(Reason::DeadlineExceeded)));
    }
    assert!(started.elapsed() < HANG_GUARD);
}

#[test]
fn a_child_made_after_the_trigger_is_born_triggered() {
    let root = CancelToken::new("root");
    shard_children(&root);
    let before = root.child("before"); // makes this thread's lane
    root.trigger();
    let after = root.child("after");
    assert!(before.triggered() && after.triggered());
    assert_eq!(lanes_of(&root), 1);
    sweep_lanes();
    assert_eq!(
        lanes_of(&root),
        0,
        "the first sweep removes a triggered parent's lanes (L3)"
    );
    assert_eq!(after.triggered_token(), Some(root.clone()));
}

#[test]
fn a_sharded_parent_nothing_holds_is_released_by_the_sweeps() {
    let root = CancelToken::new("root");
    let weak = WeakCancelToken::downgrade(&root);
    shard_children(&root);
    let children = children_on_threads(&root, 2, 100);
    assert!(
        lanes_of(&root) >= 1,
        "the children did not go through lanes"
    );
    drop(root);
    // Its children hold it (and the lanes' tables do, until swept).
    assert!(!weak.is_dropped());
    drop(children);
    // (L3) two sweeps remove every entry unused since the one before.
    sweep_lanes();
    sweep_lanes();
    assert!(
        weak.is_dropped(),
        "the lanes' tables kept a token with no handle and no child alive"
    );
}

#[test]
fn the_sweeper_thread_releases_a_dropped_parent_by_itself() {
    let root = CancelToken::new("root");
    let weak = WeakCancelToken::downgrade(&root);
    shard_children(&root);
    drop(children_on_threads(&root, 2, 10));
    drop(root);
    let started = Instant::now();
    while !weak.is_dropped() {
        assert!(
            started.elapsed() < HANG_GUARD,
            "the sweeper never released a token nothing holds"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn contention_shards_a_parent_by_itself() {
    let root = CancelToken::new("root");
    on_two_threads_until_sharded(&root, "deriving from", |root| drop(root.child("c")));
    // Still an ordinary token afterwards.
    let child = root.child("c");
    root.trigger();
    assert!(child.triggered());
}

/// (L4) A waiter of a sharded token registers with its thread's lane, not the token: the token's
/// trigger wakes it once, and it finds the token triggered, naming it.
#[test]
fn a_waiter_of_a_sharded_token_waits_at_its_threads_lane() {
    let root = CancelToken::new("root");
    shard_children(&root);
    let (wakes, waker) = counting();
    let mut cx = Context::from_waker(&waker);
    let mut wait = pin!(root.cancellable_wait(std::future::pending::<()>()));
    assert!(wait.as_mut().poll(&mut cx).is_pending());
    assert_eq!(lanes_of(&root), 1, "the waiter did not go through a lane");
    root.trigger();
    assert_eq!(wakes.count(), 1);
    let Poll::Ready(Err(cancelled)) = wait.as_mut().poll(&mut cx) else {
        panic!("a triggered token's wait is not ready with its cancellation");
    };
    assert_eq!(cancelled.token(), &root);
}

/// (L4) A waiter holds its lane: after sweeps took the lane out of its table, the token's trigger
/// still wakes the waiter, and the lane goes with the wait.
#[test]
fn a_waiter_outlives_the_sweeps_of_its_lane() {
    let root = CancelToken::new("root");
    shard_children(&root);
    let (wakes, waker) = counting();
    let mut cx = Context::from_waker(&waker);
    let mut wait = Box::pin(root.wait());
    assert!(wait.as_mut().poll(&mut cx).is_pending());
    assert_eq!(lanes_of(&root), 1, "the waiter did not go through a lane");
    sweep_lanes();
    sweep_lanes();
    assert_eq!(
        lanes_of(&root),
        0,
        "the sweeps left the unused lane in its table"
    );
    root.trigger();
    assert_eq!(
        wakes.count(),
        1,
        "the trigger did not reach the waiter's lane"
    );
    assert!(wait.as_mut().poll(&mut cx).is_ready());
}

/// A blocking wait and a timed wait on another thread go through that thread's lane too, and the
/// trigger releases them.
#[test]
fn a_trigger_releases_blocking_and_timed_waits_made_through_lanes() {
    let blocking = |root: &CancelToken| root.wait_blocking_timeout(HANG_GUARD);
    let timed = |root: &CancelToken| {
        let wait = root.cancellable_wait_timeout(std::future::pending::<()>(), HANG_GUARD);
        matches!(
            futures::executor::block_on(wait),
            Err(cancel_token::WaitError::Cancelled(_))
        )
    };
    let kinds: [&(dyn Fn(&CancelToken) -> bool + Sync); 2] = [&blocking, &timed];
    for wait in kinds {
        let root = CancelToken::new("root");
        shard_children(&root);
        std::thread::scope(|scope| {
            let waiter = scope.spawn(|| wait(&root));
            // The lane is made as the waiter registers: a trigger after it reaches the waiter
            // through the lane, whether it registered yet or finds the lane triggered.
            let started = Instant::now();
            while lanes_of(&root) == 0 {
                assert!(started.elapsed() < HANG_GUARD, "the waiter made no lane");
                std::thread::yield_now();
            }
            root.trigger();
            assert!(
                waiter.join().unwrap(),
                "the wait was not released by the trigger"
            );
        });
    }
}

/// Contention between waiters shards a token by itself, as between children: two threads
/// registering and dropping waits on one token.
#[test]
fn contention_between_waiters_shards_a_token_by_itself() {
    let root = CancelToken::new("root");
    on_two_threads_until_sharded(&root, "waiting on", |root| {
        let mut wait = pin!(root.wait());
        assert!(
            wait.as_mut()
                .poll(&mut Context::from_waker(Waker::noop()))
                .is_pending()
        );
    });
    let mut cx = Context::from_waker(Waker::noop());
    let mut wait = pin!(root.wait());
    assert!(wait.as_mut().poll(&mut cx).is_pending());
    root.trigger();
    assert!(wait.as_mut().poll(&mut cx).is_ready());
}

/// Runs `operation` on `root` in a loop on two threads at once until `root` is sharded (within
/// the hang guard): contention doing by itself what `shard_children` does on purpose.
fn on_two_threads_until_sharded(root: &CancelToken, doing: &str, operation: fn(&CancelToken)) {
    let started = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..2 {
            scope.spawn(|| {
                while !is_sharded(root) {
                    assert!(
                        started.elapsed() < HANG_GUARD,
                        "two threads {doing} one token never sharded it"
                    );
                    operation(root);
                }
            });
        }
    });
}
