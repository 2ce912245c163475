//! Loom models of the synchronisation added beyond the seed: callbacks registered or unregistered
//! while the token triggers, a deadline expiring while the token is triggered by hand, and a
//! timed wait's timer entry moved to a new waker while it fires.
//!
//! Deadlines run on a `ManualClock`, whose timer is driven by the model's own thread: the timer's
//! std lock is never held across a loom operation, so it cannot block the model's scheduler.
//!
//! Run with:
//! `RUSTFLAGS="--cfg loom" CARGO_TARGET_DIR=target/loom LOOM_MAX_PREEMPTIONS=2 cargo test --release --test loom_beyond`
#![cfg(loom)]

use std::sync::Arc;
use std::task::Waker;
use std::time::Duration;

use cancel_token::__private::wake_entry;
use cancel_token::{CancelToken, ManualClock, Reason};
use loom::sync::atomic::AtomicUsize;
use loom::sync::atomic::Ordering::SeqCst;
use loom::thread;

mod loom_support;
use loom_support::Flag;

fn counting_callback(count: &Arc<AtomicUsize>) -> impl FnOnce() + Send + 'static {
    let count = count.clone();
    move || {
        count.fetch_add(1, SeqCst);
    }
}

/// A callback registered while another thread triggers runs exactly once: registered in time, it
/// is taken by the trigger; too late, it runs at once on the registering thread.
#[test]
fn callback_registration_vs_trigger() {
    loom::model(|| {
        let token = CancelToken::new("t");
        let count = Arc::new(AtomicUsize::new(0));
        let registrar = {
            let (token, count) = (token.clone(), count.clone());
            thread::spawn(move || token.on_trigger(counting_callback(&count)).detach())
        };
        token.trigger();
        registrar.join().unwrap();
        assert_eq!(count.load(SeqCst), 1);
    });
}

/// A guard dropped while another thread triggers: once `drop` has returned, the callback is not
/// running and never will; it ran at most once.
#[test]
fn callback_guard_drop_vs_trigger() {
    loom::model(|| {
        let token = CancelToken::new("t");
        // 0: live; 1: running; 2: finished; and the guard's drop sets `DROPPED`.
        const DROPPED: usize = 10;
        let state = Arc::new(AtomicUsize::new(0));
        let guard = {
            let state = state.clone();
            token.on_trigger(move || {
                assert!(
                    state.fetch_add(1, SeqCst) < DROPPED,
                    "ran after its guard was dropped"
                );
                assert!(
                    state.fetch_add(1, SeqCst) < DROPPED,
                    "still running after the drop"
                );
            })
        };
        let trigger = {
            let token = token.clone();
            thread::spawn(move || token.trigger())
        };
        drop(guard);
        let seen = state.fetch_add(DROPPED, SeqCst);
        assert!(
            seen == 0 || seen == 2,
            "drop returned while the callback was mid-run: {seen}"
        );
        trigger.join().unwrap();
        assert!(token.triggered());
    });
}

/// The deadline passing and a trigger racing: the token triggers once, with the winner's reason,
/// its callback runs once, and the clock keeps no entry.
#[test]
fn deadline_expiry_vs_trigger() {
    loom::model(|| {
        let clock = Arc::new(ManualClock::new());
        let parent = CancelToken::new("parent");
        let token = clock.with_timeout(&parent, Duration::from_secs(1));
        let count = Arc::new(AtomicUsize::new(0));
        token.on_trigger(counting_callback(&count)).detach();
        let expiry = {
            let clock = clock.clone();
            thread::spawn(move || clock.advance(Duration::from_secs(1)))
        };
        parent.trigger();
        expiry.join().unwrap();

        assert!(token.triggered());
        assert_eq!(count.load(SeqCst), 1);
        assert_eq!(clock.pending(), 0);
        let (cause, reason) = (token.triggered_token().unwrap(), token.reason().unwrap());
        match reason {
            Reason::DeadlineExceeded => assert_eq!(cause, token),
            Reason::Triggered => assert_eq!(cause, parent),
            other => panic!("unexpected reason {other:?}"),
        }
        // Stable: asking again gives the same answer.
        assert_eq!(token.triggered_token().unwrap(), cause);
    });
}

/// A deadline token dropped while its deadline passes: no panic, no deadlock, nothing left.
#[test]
fn deadline_expiry_vs_drop() {
    loom::model(|| {
        let clock = Arc::new(ManualClock::new());
        let token = clock.with_timeout(&CancelToken::new("p"), Duration::from_secs(1));
        let expiry = {
            let clock = clock.clone();
            thread::spawn(move || clock.advance(Duration::from_secs(1)))
        };
        drop(token);
        expiry.join().unwrap();
        assert_eq!(clock.pending(), 0);
    });
}

/// A deadline inserted (on its thread's shard) while another thread advances the clock past it
/// and a third drops a token of another shard: the new token triggers by the end (at the advance,
/// or at once if the clock had already passed), and nothing is left pending.
#[test]
fn deadline_insertion_vs_expiry_vs_drop() {
    loom::model(|| {
        let clock = Arc::new(ManualClock::new());
        let parent = CancelToken::new("p");
        let doomed = clock.with_timeout(&parent, Duration::from_secs(1));
        let inserter = {
            let (clock, parent) = (clock.clone(), parent.clone());
            thread::spawn(move || clock.with_timeout(&parent, Duration::from_secs(1)))
        };
        let dropper = thread::spawn(move || drop(doomed));
        clock.advance(Duration::from_secs(1));
        let inserted = inserter.join().unwrap();
        dropper.join().unwrap();
        clock.advance(Duration::from_secs(1));
        assert!(inserted.triggered());
        assert!(inserted.reason().unwrap().is_deadline());
        assert_eq!(clock.pending(), 0);
    });
}

/// A timed wait's timer entry (what `cancellable_wait_timeout` keeps) moved to a new waker, as a
/// re-poll does, while the clock's advance fires it: either the move finds it pending, and then
/// the new waker is the one woken and the old one never is, or it finds it fired, and then the
/// old waker was woken (the wait's poll sees its timeout). No wake-up is lost either way.
#[test]
fn timed_wait_entry_refresh_vs_fire() {
    use std::sync::atomic::{AtomicUsize as StdAtomicUsize, Ordering::Relaxed};
    // Both outcomes must be explored, or the model covers less than it claims.
    static MOVED: StdAtomicUsize = StdAtomicUsize::new(0);
    static FIRED_FIRST: StdAtomicUsize = StdAtomicUsize::new(0);
    loom::model(|| {
        let clock = Arc::new(ManualClock::new());
        let (old, new) = (Flag::new(), Flag::new());
        let (old_waker, new_waker) = (Waker::from(old.clone()), Waker::from(new.clone()));
        let entry = wake_entry(&clock, Duration::from_millis(5), &old_waker);
        let advancing = {
            let clock = clock.clone();
            thread::spawn(move || clock.advance(Duration::from_millis(10)))
        };
        let pending = entry.refresh(&new_waker);
        advancing.join().unwrap();
        if pending {
            MOVED.fetch_add(1, Relaxed);
            assert!(
                new.woken() && !old.woken(),
                "the moved entry woke the wrong waker"
            );
        } else {
            FIRED_FIRST.fetch_add(1, Relaxed);
            assert!(
                old.woken() && !new.woken(),
                "a fired entry's waker was never woken"
            );
        }
        entry.cancel();
        assert_eq!(clock.pending(), 0);
    });
    assert!(
        MOVED.load(Relaxed) > 0,
        "no execution moved the entry before it fired"
    );
    assert!(
        FIRED_FIRST.load(Relaxed) > 0,
        "no execution fired the entry first"
    );
}
