//! Memory is given back: deriving and dropping tokens, and creating and dropping pending waits, a
//! million times or a hundred thousand at once, leaves no more than [`LIMIT`] bytes behind, before
//! and after triggers.
//!
//! A counting global allocator (`stats_alloc`, so this file needs no `unsafe`) gives the live heap
//! bytes of the whole process. The tests of this binary take [`SERIAL`] so that only one measures
//! at a time; what the test harness itself allocates meanwhile (a finished test's result, a few
//! hundred bytes) is far below the limit, and any real leak per iteration is multiplied by 10^5
//! or 10^6.

use std::alloc::System;
use std::future::Future;
use std::pin::{Pin, pin};
use std::sync::Mutex;
use std::task::{Context, Waker};

use cancel_token::CancelToken;
use stats_alloc::{INSTRUMENTED_SYSTEM, StatsAlloc};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// At most this many bytes may be left behind by any scenario.
const LIMIT: isize = 64 * 1024;

const MILLION: usize = 1_000_000;
const BURST: usize = 100_000;

/// One measuring test at a time (see the module docs).
static SERIAL: Mutex<()> = Mutex::new(());

fn live_bytes() -> isize {
    let stats = GLOBAL.stats();
    // `stats_alloc` already counts a `realloc` into these two (its `bytes_reallocated` is the same
    // change again, for information).
    stats.bytes_allocated as isize - stats.bytes_deallocated as isize
}

/// Runs `scenario` and asserts that the live heap grew by at most [`LIMIT`] across it.
fn assert_leaves_little(what: &str, scenario: impl FnOnce()) {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let before = live_bytes();
    scenario();
    let grown = live_bytes() - before;
    eprintln!("{what}: live bytes grew by {grown}");
    assert!(
        grown <= LIMIT,
        "{what}: {grown} bytes left behind (limit {LIMIT})"
    );
}

/// Polls a wait future once with a waker that does nothing and expects it pending.
fn poll_pending(future: Pin<&mut impl Future<Output = ()>>) {
    let pending = future
        .poll(&mut Context::from_waker(Waker::noop()))
        .is_pending();
    assert!(pending, "the token is live");
}

/// Derives one token from `root`, by one of the three ways, chosen by `i`.
fn derive(root: &CancelToken, other: &CancelToken, i: usize) -> CancelToken {
    match i % 3 {
        0 => root.child("child"),
        1 => root.chain(other),
        _ => CancelToken::any("any", [root, other, root]),
    }
}

#[test]
fn a_million_derived_tokens_dropped_one_by_one() {
    assert_leaves_little("a million derived tokens, live parents", || {
        let root = CancelToken::new("root");
        let other = CancelToken::new("other");
        let grown = {
            let before = live_bytes();
            for i in 0..MILLION {
                drop(derive(&root, &other, i));
            }
            live_bytes() - before
        };
        // With the root still alive: nothing accumulates in its list of children.
        assert!(grown <= LIMIT, "{grown} bytes kept by the live root");
        assert!(!root.triggered());
    });
}

#[test]
fn a_million_pending_waits_dropped_one_by_one() {
    assert_leaves_little("a million pending waits", || {
        let root = CancelToken::new("root");
        let child = root.child("child");
        let grown = {
            let before = live_bytes();
            for i in 0..MILLION {
                let token = if i % 2 == 0 { &root } else { &child };
                poll_pending(pin!(token.wait()));
            }
            live_bytes() - before
        };
        assert!(grown <= LIMIT, "{grown} bytes kept by the live tokens");
    });
}

#[test]
fn a_burst_of_children_alive_at_once() {
    assert_leaves_little("100,000 children alive at once, then dropped", || {
        let root = CancelToken::new("root");
        let other = CancelToken::new("other");
        let children: Vec<CancelToken> = (0..BURST).map(|i| derive(&root, &other, i)).collect();
        drop(children);
        // The root stays alive, and must have given back its grown list of children.
        let kept = live_bytes();
        drop(root);
        drop(other);
        assert!(kept - live_bytes() <= LIMIT, "the live root kept its burst");
    });
}

#[test]
fn a_burst_of_pending_waits_alive_at_once() {
    assert_leaves_little("100,000 pending waits alive at once, then dropped", || {
        let root = CancelToken::new("root");
        let mut waits: Vec<_> = (0..BURST).map(|_| Box::pin(root.wait())).collect();
        waits
            .iter_mut()
            .for_each(|wait| poll_pending(wait.as_mut()));
        drop(waits);
        let kept = live_bytes();
        drop(root);
        assert!(
            kept - live_bytes() <= LIMIT,
            "the live root kept its waiters"
        );
    });
}

#[test]
fn children_and_waits_dropped_after_the_trigger() {
    assert_leaves_little(
        "a burst of children and waits, triggered, then dropped",
        || {
            let root = CancelToken::new("root");
            let other = CancelToken::new("other");
            let children: Vec<CancelToken> = (0..BURST).map(|i| derive(&root, &other, i)).collect();
            let mut waits: Vec<_> = children.iter().map(|c| Box::pin(c.wait())).collect();
            waits
                .iter_mut()
                .for_each(|wait| poll_pending(wait.as_mut()));
            root.trigger();
            assert!(children.iter().all(CancelToken::triggered));
            // Dropped without being polled again: their registrations name slots the trigger took.
            drop(waits);
            drop(children);
        },
    );
}

#[test]
fn tokens_derived_from_a_triggered_token() {
    assert_leaves_little("100,000 tokens born triggered", || {
        let root = CancelToken::new("root");
        let other = CancelToken::new("other");
        root.trigger();
        for i in 0..MILLION / 10 {
            let token = derive(&root, &other, i);
            assert!(token.triggered());
            poll_ready(&token);
        }
    });
}

#[test]
fn derived_tokens_triggered_themselves_then_dropped() {
    assert_leaves_little(
        "100,000 tokens triggered one by one under a live root",
        || {
            let root = CancelToken::new("root");
            let other = CancelToken::new("other");
            for i in 0..MILLION / 10 {
                let token = derive(&root, &other, i);
                let grandchild = token.child("grandchild");
                let mut wait = pin!(grandchild.wait());
                poll_pending(wait.as_mut());
                token.trigger();
                poll_ready(&grandchild);
            }
            assert!(!root.triggered());
        },
    );
}

#[test]
fn a_whole_graph_is_freed_when_its_last_handle_goes() {
    assert_leaves_little(
        "a graph of 1,000 tokens with the leaves dropped last",
        || {
            let a = CancelToken::new("a");
            let b = CancelToken::new("b");
            let mut leaves = Vec::new();
            let mut t = a.chain(&b);
            for i in 0..1_000 {
                t = match i % 3 {
                    0 => t.child("child"),
                    1 => CancelToken::any("any", [&t, &a, &b]),
                    _ => t.chain(&a),
                };
                if i % 100 == 0 {
                    leaves.push(t.clone());
                }
            }
            drop((a, b));
            // Only the leaves hold the graph now; dropping them must free all of it.
            drop(t);
            drop(leaves);
        },
    );
}

/// Children made through per-thread lanes of a sharded root (`src/lanes.rs`), on two threads at
/// once, a million in all; then the root goes, and two sweeps (L3) release its lanes: nothing is
/// left. The sweeper thread may also run meanwhile; it only sweeps sooner.
#[test]
fn a_million_children_through_lanes_on_two_threads() {
    through_lanes_on_two_threads(
        "a million children through lanes, then the root dropped",
        |root| drop(root.child("c")),
        drop,
    );
}

/// Waits registered through per-thread lanes of a sharded token (lanes L4), on two threads at once,
/// a million in all: each holds its lane while pending, and the token's trigger and two sweeps
/// leave nothing.
#[test]
fn a_million_waits_through_lanes_on_two_threads() {
    through_lanes_on_two_threads(
        "a million waits through lanes, then the token triggered and dropped",
        |root| poll_pending(pin!(root.wait())),
        |root| {
            root.trigger();
        },
    );
}

/// `operation` on a sharded root, `MILLION / 2` times on each of two threads at once (it must go
/// through lanes); then `finish` takes the root, and two sweeps (L3) release its lanes: `what`
/// must leave nothing behind.
fn through_lanes_on_two_threads(what: &str, operation: fn(&CancelToken), finish: fn(CancelToken)) {
    use cancel_token::__private::{lanes_of, shard_children, sweep_lanes};
    assert_leaves_little(what, || {
        let root = CancelToken::new("root");
        shard_children(&root);
        std::thread::scope(|scope| {
            for _ in 0..2 {
                scope.spawn(|| {
                    for _ in 0..MILLION / 2 {
                        operation(&root);
                    }
                });
            }
        });
        assert!(lanes_of(&root) >= 1, "{what}: nothing went through lanes");
        finish(root);
        sweep_lanes();
        sweep_lanes();
    });
}

/// The measure itself: a scenario that does leave memory behind fails.
#[test]
#[should_panic(expected = "bytes left behind")]
fn a_leak_is_detected() {
    assert_leaves_little("a deliberate leak of 100 KiB", || {
        std::mem::forget(vec![0u8; 100 * 1024]);
    });
}

fn poll_ready(token: &CancelToken) {
    let ready = pin!(token.wait())
        .poll(&mut Context::from_waker(Waker::noop()))
        .is_ready();
    assert!(ready, "the token is triggered");
}
