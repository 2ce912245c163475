//! Interop with tokio-util's `CancellationToken` (feature `tokio-util`): each side's cancellation
//! reaches the other as documented, with no runtime, and nothing is left behind whichever side is
//! dropped first.
//!
//! The leak tests count live heap bytes with `stats_alloc` (no `unsafe`) and take [`SERIAL`], so
//! that one test measures at a time; any leak per round is multiplied by [`ROUNDS`].

use std::alloc::System;
use std::sync::Mutex;
use std::thread;
use std::time::Duration;

use cancel_token::{CancelToken, ManualClock, Reason, WeakCancelToken};
use stats_alloc::{INSTRUMENTED_SYSTEM, StatsAlloc};
use tokio_util::sync::CancellationToken;

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

static SERIAL: Mutex<()> = Mutex::new(());

const ROUNDS: usize = 20_000;
const LIMIT: isize = 64 * 1024;

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

fn live_bytes() -> isize {
    let stats = GLOBAL.stats();
    stats.bytes_allocated as isize - stats.bytes_deallocated as isize
}

/// Runs `round` [`ROUNDS`] times and asserts the live heap grew by at most [`LIMIT`]. The caller
/// holds [`SERIAL`].
fn assert_leaves_little(what: &str, mut round: impl FnMut()) {
    round(); // first-use allocations (the test harness, thread-locals) are not a leak
    let before = live_bytes();
    for _ in 0..ROUNDS {
        round();
    }
    let grown = live_bytes() - before;
    eprintln!("{what}: live bytes grew by {grown} over {ROUNDS} rounds");
    assert!(grown <= LIMIT, "{what}: {grown} bytes left behind");
}

#[test]
fn ours_to_theirs_is_cancelled_by_every_kind_of_trigger() {
    let _serial = serial();
    let ours = CancelToken::new("ours");
    let theirs = ours.to_tokio_util();
    let child = ours.child("child");
    let child_theirs = child.to_tokio_util();
    // Dropped live: it can never trigger, so its conversion is never cancelled (and kept nothing).
    let orphan = ours.child("dropped").to_tokio_util();
    assert!(!theirs.is_cancelled() && !child_theirs.is_cancelled());
    // Cancelling theirs does not reach ours.
    let other = ours.to_tokio_util();
    other.cancel();
    assert!(!ours.triggered());
    ours.trigger();
    assert!(theirs.is_cancelled() && child_theirs.is_cancelled());
    assert!(!orphan.is_cancelled());
    // Already triggered: cancelled at once.
    assert!(ours.to_tokio_util().is_cancelled());
    // A deadline of a manual clock (its callbacks run inside `advance`).
    let clock = ManualClock::new();
    let timed = clock.with_timeout(&CancelToken::new("req"), Duration::from_secs(30));
    let theirs = timed.to_tokio_util();
    clock.advance(Duration::from_secs(29));
    assert!(!theirs.is_cancelled());
    clock.advance(Duration::from_secs(1));
    assert!(theirs.is_cancelled());
}

#[test]
fn theirs_to_ours_is_triggered_by_their_cancel_and_their_parents() {
    let _serial = serial();
    let theirs = CancellationToken::new();
    let ours = CancelToken::from_tokio_util("from-tokio", &theirs);
    let below = ours.child("below");
    assert_eq!(ours.name(), "from-tokio");
    assert!(!ours.triggered());
    theirs.cancel();
    assert!(ours.triggered() && below.triggered());
    assert!(matches!(ours.reason(), Some(Reason::Triggered)));
    // Already cancelled: born triggered.
    assert!(CancelToken::from_tokio_util("late", &theirs).triggered());
    // Their parent's cancel reaches theirs, hence ours.
    let parent = CancellationToken::new();
    let ours = CancelToken::from_tokio_util("grandchild", &parent.child_token().child_token());
    parent.cancel();
    assert!(ours.triggered());
    // Triggering ours does not reach theirs.
    let theirs = CancellationToken::new();
    let ours = CancelToken::from_tokio_util("own", &theirs);
    ours.trigger();
    assert!(!theirs.is_cancelled());
}

#[test]
fn theirs_cancelled_on_another_thread_wakes_our_waiters() {
    let _serial = serial();
    for _ in 0..200 {
        let theirs = CancellationToken::new();
        let canceller = {
            let theirs = theirs.clone();
            thread::spawn(move || theirs.cancel())
        };
        // Races the cancel: registration and cancellation in either order.
        let ours = CancelToken::from_tokio_util("raced", &theirs);
        ours.wait_blocking();
        canceller.join().expect("the cancelling thread");
        assert!(ours.triggered());
    }
}

#[test]
fn both_ways_under_a_tokio_runtime() {
    let _serial = serial();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        // A library that takes tokio-util's token, given ours.
        let ours = CancelToken::new("shutdown");
        let theirs = ours.to_tokio_util();
        let library = tokio::spawn(async move { theirs.cancelled().await });
        let trigger = ours.clone();
        tokio::spawn(async move { trigger.trigger() });
        library.await.expect("the library's task");
        // A token of theirs, awaited as ours.
        let theirs = CancellationToken::new();
        let ours = CancelToken::from_tokio_util("theirs", &theirs);
        let waiter = tokio::spawn(ours.clone().wait_owned());
        tokio::spawn(async move { theirs.cancel() });
        waiter.await.expect("the waiting task");
        assert!(ours.triggered());
    });
}

#[test]
fn nothing_leaks_when_ours_is_dropped_first() {
    let _serial = serial();
    let theirs = CancellationToken::new();
    assert_leaves_little("from_tokio_util, ours dropped, theirs live", || {
        drop(CancelToken::from_tokio_util("x", &theirs));
    });
    // Ours is not kept alive by theirs (no cycle).
    let ours = CancelToken::from_tokio_util("x", &theirs);
    let weak = WeakCancelToken::downgrade(&ours);
    drop(ours);
    assert!(weak.is_dropped());
    assert!(!theirs.is_cancelled());

    assert_leaves_little("to_tokio_util, ours dropped first", || {
        let ours = CancelToken::new("x");
        let theirs = ours.to_tokio_util();
        drop(ours);
        assert!(!theirs.is_cancelled());
        drop(theirs);
    });
}

#[test]
fn nothing_leaks_when_theirs_is_dropped_first() {
    let _serial = serial();
    assert_leaves_little("from_tokio_util, theirs dropped first", || {
        let theirs = CancellationToken::new();
        let ours = CancelToken::from_tokio_util("x", &theirs);
        drop(theirs);
        assert!(!ours.triggered());
        drop(ours);
    });
    assert_leaves_little("to_tokio_util, theirs dropped first", || {
        let ours = CancelToken::new("x");
        drop(ours.to_tokio_util());
        drop(ours);
    });
}

#[test]
fn nothing_leaks_after_either_side_cancels() {
    let _serial = serial();
    assert_leaves_little("from_tokio_util, theirs cancelled", || {
        let theirs = CancellationToken::new();
        let ours = CancelToken::from_tokio_util("x", &theirs);
        theirs.cancel();
        assert!(ours.triggered());
    });
    assert_leaves_little("from_tokio_util, ours triggered", || {
        let theirs = CancellationToken::new();
        let ours = CancelToken::from_tokio_util("x", &theirs);
        ours.trigger();
        drop(theirs);
    });
    // A long-lived token of ours triggered: every callback and wait it held is released.
    let before = live_bytes();
    let ours = CancelToken::new("long-lived");
    let theirs_tokens: Vec<CancellationToken> = (0..1000).map(|_| ours.to_tokio_util()).collect();
    let theirs = CancellationToken::new();
    let from: Vec<CancelToken> = (0..1000)
        .map(|_| CancelToken::from_tokio_util("x", &theirs))
        .collect();
    ours.trigger();
    theirs.cancel();
    assert!(theirs_tokens.iter().all(CancellationToken::is_cancelled));
    assert!(from.iter().all(CancelToken::triggered));
    drop((ours, theirs_tokens, theirs, from));
    let grown = live_bytes() - before;
    assert!(grown <= LIMIT, "{grown} bytes left behind");
}
