//! The "plus blocking waits for plain threads" part of the `wait()` row: `wait_blocking` and
//! `wait_blocking_timeout`, from plain std threads, no executor anywhere.

use std::sync::{Arc, Barrier};
use std::thread;
use std::time::Duration;

use cancel_token::CancelToken;

use crate::support::threads::join_guarded;

/// Long enough never to pass in a test: a wait given this must end by a trigger. Not
/// `Duration::MAX`, which has its own test.
const FOREVER: Duration = Duration::from_secs(3600);

#[test]
fn returns_at_once_when_triggered_before() {
    let token = CancelToken::new("t");
    token.trigger();
    let waiter = {
        let token = token.clone();
        thread::spawn(move || {
            token.wait_blocking();
            token.wait_blocking_timeout(FOREVER)
        })
    };
    assert!(join_guarded(waiter));
}

/// Runs `wait` on a thread that starts together with a trigger of `token` from this one, and
/// returns what the wait returned (failing instead of hanging if it never returns).
fn wait_during_trigger(token: &CancelToken, wait: fn(&CancelToken) -> bool) -> bool {
    let started = Arc::new(Barrier::new(2));
    let waiter = {
        let (token, started) = (token.clone(), started.clone());
        thread::spawn(move || {
            started.wait();
            wait(&token)
        })
    };
    started.wait();
    token.trigger();
    join_guarded(waiter)
}

#[test]
fn returns_true_when_triggered_during_the_wait() {
    let token = CancelToken::new("t");
    assert!(wait_during_trigger(&token, |token| token.wait_blocking_timeout(FOREVER)));
}

#[test]
fn wait_blocking_returns_when_triggered_during_the_wait() {
    let token = CancelToken::new("t");
    assert!(wait_during_trigger(&token, |token| {
        token.wait_blocking();
        token.triggered()
    }));
}

#[test]
fn an_ancestor_trigger_wakes_a_blocked_descendant() {
    let root = CancelToken::new("root");
    let leaf = root
        .child("middle")
        .chain(&CancelToken::new("other"))
        .child("leaf");
    let started = Arc::new(Barrier::new(2));
    let waiter = {
        let (leaf, started) = (leaf.clone(), started.clone());
        thread::spawn(move || {
            started.wait();
            leaf.wait_blocking_timeout(FOREVER)
        })
    };
    started.wait();
    root.trigger();
    assert!(join_guarded(waiter));
    assert_eq!(leaf.triggered_token(), Some(root));
}

#[test]
fn returns_false_after_the_timeout_when_not_triggered() {
    let token = CancelToken::new("t");
    let child = token.child("child");
    let waiter = {
        let child = child.clone();
        thread::spawn(move || child.wait_blocking_timeout(Duration::from_millis(20)))
    };
    assert!(!join_guarded(waiter));
    assert!(
        !child.triggered() && !token.triggered(),
        "a timeout triggers nothing"
    );
}

#[test]
fn a_zero_timeout_only_reports_the_state() {
    let token = CancelToken::new("t");
    assert!(!token.wait_blocking_timeout(Duration::ZERO));
    token.trigger();
    assert!(token.wait_blocking_timeout(Duration::ZERO));
}

#[test]
fn duration_max_does_not_panic_and_ends_on_trigger() {
    let token = CancelToken::new("t");
    let started = Arc::new(Barrier::new(2));
    let waiter = {
        let (token, started) = (token.clone(), started.clone());
        thread::spawn(move || {
            started.wait();
            token.wait_blocking_timeout(Duration::MAX)
        })
    };
    started.wait();
    token.trigger();
    assert!(join_guarded(waiter));
}

#[test]
fn many_blocked_threads_all_wake_on_one_trigger() {
    let token = CancelToken::new("t");
    let started = Arc::new(Barrier::new(9));
    let waiters: Vec<_> = (0..8)
        .map(|i| {
            let (token, started) = (token.child(format!("c{i}")), started.clone());
            thread::spawn(move || {
                started.wait();
                if i % 2 == 0 {
                    token.wait_blocking();
                    true
                } else {
                    token.wait_blocking_timeout(FOREVER)
                }
            })
        })
        .collect();
    started.wait();
    token.trigger();
    for waiter in waiters {
        assert!(join_guarded(waiter));
    }
}

#[test]
fn timed_out_blocking_waits_leave_the_token_working() {
    let token = CancelToken::new("t");
    for _ in 0..200 {
        assert!(!token.wait_blocking_timeout(Duration::from_micros(50)));
    }
    assert!(wait_during_trigger(&token, |token| token.wait_blocking_timeout(FOREVER)));
}

#[test]
fn no_wake_up_is_lost_when_the_trigger_races_the_wait() {
    // The trigger and the start of the wait are released together, so every interleaving of
    // "registers" and "triggers" gets a chance; a lost wake-up shows as a hang-guard failure.
    for _ in 0..200 {
        let token = CancelToken::new("t");
        let start = Arc::new(Barrier::new(2));
        let waiter = {
            let (token, start) = (token.child("child"), start.clone());
            thread::spawn(move || {
                start.wait();
                token.wait_blocking_timeout(FOREVER)
            })
        };
        start.wait();
        token.trigger();
        assert!(join_guarded(waiter));
    }
}
