//! No callback holds the process's deadlines hostage (timer's T4): the callbacks of a token
//! triggered by its deadline run on a callback thread, never on the timer thread, so one that
//! blocks, panics or waits for another deadline delays no other deadline.
//!
//! No test here asserts a timing: each makes the other deadline a condition for the blocked
//! callback to return, so a timer held hostage deadlocks, which the hang guard reports.

use std::sync::mpsc;
use std::time::Duration;

use cancel_token::{CancelToken, Drain};

const HANG: Duration = Duration::from_secs(20);
const SOON: Duration = Duration::from_millis(5);

/// Makes a deadline token whose callback blocks until the returned sender sends (or `HANG`
/// passes), and returns once that callback is running.
fn block_a_deadline_callback() -> mpsc::Sender<()> {
    let (release, released) = mpsc::channel::<()>();
    let (entered, blocked) = mpsc::channel();
    let blocker = CancelToken::new("blocker").with_timeout(SOON);
    blocker
        .on_trigger(move || {
            entered.send(()).unwrap();
            let _ = released.recv_timeout(HANG);
        })
        .detach();
    blocked
        .recv_timeout(HANG)
        .expect("the blocking callback never ran");
    release
}

#[test]
fn a_deadline_callback_that_waits_for_another_deadline_finishes() {
    // The reproduction from the issue: with callbacks on the timer thread this waits forever.
    let (done, finished) = mpsc::channel();
    let token = CancelToken::new("outer").with_timeout(SOON);
    token
        .on_trigger(move || {
            let inner = CancelToken::new("f").with_timeout(Duration::from_millis(10));
            done.send(inner.wait_blocking_timeout(HANG)).unwrap();
        })
        .detach();
    assert!(
        finished.recv_timeout(HANG).expect("the callback never ran"),
        "the inner deadline never fired while the outer callback waited for it"
    );
}

#[test]
fn a_blocked_deadline_callback_delays_no_other_deadline() {
    let release = block_a_deadline_callback();
    // The blocker's callback is now stuck; later deadlines and their callbacks go on.
    let (ran, callback_ran) = mpsc::channel();
    let later = CancelToken::new("later").with_timeout(SOON);
    later.on_trigger(move || ran.send(()).unwrap()).detach();
    assert!(later.wait_blocking_timeout(HANG), "a deadline was held up");
    callback_ran
        .recv_timeout(HANG)
        .expect("a callback was queued behind the blocked one");
    release.send(()).unwrap();
}

#[test]
fn a_panicking_deadline_callback_stops_nothing() {
    let panicky = CancelToken::new("panicky").with_timeout(SOON);
    panicky
        .on_trigger(|| panic!("a callback's own bug"))
        .detach();
    assert!(panicky.wait_blocking_timeout(HANG));
    for _ in 0..3 {
        let next = CancelToken::new("next").with_timeout(SOON);
        let (ran, callback_ran) = mpsc::channel();
        next.on_trigger(move || ran.send(()).unwrap()).detach();
        assert!(next.wait_blocking_timeout(HANG));
        callback_ran
            .recv_timeout(HANG)
            .expect("callbacks stopped after a panic");
    }
}

#[test]
fn an_async_drain_keeps_its_grace_period_while_a_deadline_callback_blocks() {
    let release = block_a_deadline_callback();

    let drain = Drain::new(CancelToken::new("shutdown"));
    let straggler = drain
        .track("straggler", std::future::pending::<()>())
        .unwrap();
    let runner = std::thread::spawn(move || futures::executor::block_on(straggler));
    // The grace period is a deadline: it must pass while the blocker's callback is still stuck
    // (it is released only after the shutdown returns), and the report must say so truly.
    let report = futures::executor::block_on(drain.shutdown(Duration::from_millis(50)));
    assert_eq!(report.unfinished(), ["straggler"]);
    assert!(
        runner.join().unwrap().is_err(),
        "the straggler was not aborted"
    );
    release.send(()).unwrap();
}
