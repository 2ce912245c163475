//! `Drain`: graceful shutdown. The grace period is honoured (a straggler that ignores the token is
//! reported by name and aborted, well-behaved work finishes and is not reported), a closed drain
//! rejects new work, an empty shutdown is clean, and threads are tracked and reported.
//!
//! Async scenarios run on tokio current-thread, tokio multi-thread and `futures::executor`
//! (`support::executors::on_every_executor`); thread scenarios on plain threads. No assertion is
//! about time: a grace period only bounds how long the drain waits for work that is never going
//! to finish (`STRAGGLER_GRACE`), or is long enough never to be reached by work that does
//! (`AMPLE_GRACE`: the shutdown returns as soon as the work is done).

#[path = "support/mod.rs"]
mod support;

use std::error::Error as _;
use std::future::Future;
use std::pin::pin;
use std::time::Duration;

use cancel_token::{CancelToken, Drain, Error};

use support::executors::{HANG_GUARD, on_every_executor, poll_once};
use support::probe::Probe;
use support::threads::join_guarded;

/// How long a shutdown waits for a straggler that never finishes. Also how long well-behaved
/// work has to finish in the same shutdown: generous, so a loaded machine cannot make it late.
const STRAGGLER_GRACE: Duration = Duration::from_secs(2);
/// A grace period work that finishes is never going to reach.
const AMPLE_GRACE: Duration = HANG_GUARD;

on_every_executor!(
    a_straggler_is_reported_by_name_and_aborted,
    well_behaved_work_finishes_and_the_report_is_clean,
    an_empty_shutdown_is_clean,
    a_closed_drain_rejects_new_work,
    dropping_a_tracked_future_counts_as_finished,
    a_zero_grace_still_counts_the_work_the_trigger_woke,
    a_drain_on_a_never_token_still_tells_its_work_to_stop,
);

/// Well-behaved work: runs until the drain's token is triggered.
fn polite(drain: &Drain) -> impl Future<Output = &'static str> + use<> {
    let token = drain.token().clone();
    async move {
        token.wait().await;
        "stopped"
    }
}

async fn a_straggler_is_reported_by_name_and_aborted() {
    let drain = Drain::new(CancelToken::new("shutdown"));
    let straggler_work = Probe::new();
    let polite = drain.track("polite", polite(&drain)).unwrap();
    let straggler = drain
        .track(
            "straggler",
            straggler_work.wrap(std::future::pending::<()>()),
        )
        .unwrap();
    let (polite, straggler, report) =
        futures::join!(polite, straggler, drain.shutdown(STRAGGLER_GRACE));

    assert_eq!(polite.unwrap(), "stopped");
    match straggler {
        Err(Error::Aborted { name }) => assert_eq!(name, "straggler"),
        other => panic!("expected the straggler aborted, got {other:?}"),
    }
    assert!(straggler_work.dropped(), "the aborted work was not dropped");
    assert!(!report.is_clean());
    assert_eq!(report.unfinished(), ["straggler"]);
    assert!(report.aborted().eq(["straggler"]));
    assert_eq!(report.running_threads().count(), 0);
    assert_eq!(report.grace(), STRAGGLER_GRACE);
    assert_eq!(report.to_string(), "1 unfinished after 2s: straggler");
    assert_eq!(drain.in_flight(), 0);
}

async fn well_behaved_work_finishes_and_the_report_is_clean() {
    let token = CancelToken::new("shutdown");
    let drain = Drain::new(token.clone());
    let workers: Vec<_> = (0..8)
        .map(|i| drain.track(format!("worker-{i}"), polite(&drain)).unwrap())
        .collect();
    assert_eq!(drain.in_flight(), 8);
    let (outputs, report) = futures::join!(
        futures::future::join_all(workers),
        drain.shutdown(AMPLE_GRACE)
    );
    assert!(
        outputs
            .into_iter()
            .all(|output| output.unwrap() == "stopped")
    );
    assert!(token.triggered());
    assert!(report.is_clean(), "{report}");
    assert_eq!(drain.in_flight(), 0);
}

async fn an_empty_shutdown_is_clean() {
    let token = CancelToken::new("shutdown");
    let drain = Drain::new(token.clone());
    let report = drain.shutdown(Duration::from_secs(5)).await;
    assert!(report.is_clean());
    assert!(report.unfinished().is_empty());
    assert_eq!(report.to_string(), "all tracked work finished within 5s");
    assert!(token.triggered());
    assert!(drain.is_closed());
}

async fn a_closed_drain_rejects_new_work() {
    let token = CancelToken::new("shutdown");
    let drain = Drain::new(token.clone());
    let early = drain.track("early", async { 1 }).unwrap();
    drain.clone().close();
    assert!(drain.is_closed(), "a clone is the same drain");
    assert!(!token.triggered(), "close does not trigger the token");

    let late_work = Probe::new();
    let late = drain.track("late", late_work.wrap(async {}));
    assert!(matches!(late, Err(Error::Closed)));
    assert!(late_work.dropped() && late_work.polls() == 0);
    let thread = drain.track_thread("late-thread", |_| panic!("must not run"));
    let error = thread.unwrap_err();
    assert!(matches!(error, Error::Closed));
    assert_eq!(
        error.to_string(),
        "the drain is closed and accepts no new work"
    );
    assert!(error.source().is_none());

    // Work tracked before the close carries on.
    assert_eq!(early.await.unwrap(), 1);
    assert!(drain.shutdown(AMPLE_GRACE).await.is_clean());
}

async fn dropping_a_tracked_future_counts_as_finished() {
    let drain = Drain::new(CancelToken::new("shutdown"));
    let work = Probe::new();
    let tracked = drain.track("dropped", work.wrap(std::future::pending::<()>()));
    // Boxed, not `pin!`ned on the stack, so that `drop` below drops the future itself.
    let mut tracked = Box::pin(tracked.unwrap());
    assert!(poll_once(&mut tracked).await.is_none());
    assert_eq!(drain.in_flight(), 1);
    drop(tracked);
    assert!(work.dropped());
    assert_eq!(drain.in_flight(), 0);
    assert!(drain.shutdown(AMPLE_GRACE).await.is_clean());
}

#[test]
fn threads_are_tracked_and_reported() {
    let token = CancelToken::new("shutdown");
    let drain = Drain::new(token.clone());
    let release = CancelToken::new("release");
    let polite = drain
        .track_thread("polite", |token| {
            assert_eq!(std::thread::current().name(), Some("polite"));
            token.wait_blocking();
        })
        .unwrap();
    let stubborn = {
        let release = release.clone();
        // Ignores the drain's token until released.
        drain
            .track_thread("stubborn", move |_| release.wait_blocking())
            .unwrap()
    };
    assert_eq!(drain.in_flight(), 2);

    let report = drain.shutdown_blocking(STRAGGLER_GRACE);
    assert!(token.triggered());
    assert_eq!(report.unfinished(), ["stubborn"]);
    assert!(report.running_threads().eq(["stubborn"]));
    assert_eq!(report.aborted().count(), 0, "threads cannot be aborted");
    assert_eq!(report.to_string(), "1 unfinished after 2s: stubborn");

    // A thread is not aborted: it is still tracked until it ends on its own.
    assert_eq!(drain.in_flight(), 1);
    release.trigger();
    join_guarded(stubborn);
    join_guarded(polite);
    assert_eq!(drain.in_flight(), 0);
    assert!(drain.shutdown_blocking(AMPLE_GRACE).is_clean());
}

#[test]
fn a_panicking_thread_leaves_the_drain() {
    let drain = Drain::new(CancelToken::new("shutdown"));
    let thread = drain
        .track_thread("panics", |_| panic!("on purpose"))
        .unwrap();
    assert!(thread.join().is_err());
    assert_eq!(drain.in_flight(), 0);
    assert!(drain.shutdown_blocking(AMPLE_GRACE).is_clean());
}

/// Reported in tracking order, futures and threads together; each unfinished future resolves to
/// `Aborted` with its own name.
#[test]
fn the_report_names_everything_unfinished_in_tracking_order() {
    let drain = Drain::new(CancelToken::new("shutdown"));
    let release = CancelToken::new("release");
    let first = drain.track("first", std::future::pending::<()>()).unwrap();
    let thread = {
        let release = release.clone();
        drain
            .track_thread(String::from("second"), move |_| release.wait_blocking())
            .unwrap()
    };
    let third = drain.track("third", std::future::pending::<()>()).unwrap();
    // Neither future is polled before the grace period ends, so neither can finish.
    let report = drain.shutdown_blocking(Duration::from_millis(1));
    assert_eq!(report.unfinished(), ["first", "second", "third"]);
    assert_eq!(
        report.to_string(),
        "3 unfinished after 1ms: first, second, third"
    );
    assert!(report.aborted().eq(["first", "third"]));
    assert!(report.running_threads().eq(["second"]));

    // Aborted before their first poll: the work is never polled.
    for (tracked, name) in [(first, "first"), (third, "third")] {
        let error = futures::executor::block_on(tracked).unwrap_err();
        assert!(matches!(&error, Error::Aborted { name: n } if n == name));
        assert_eq!(
            error.to_string(),
            format!("tracked work {name:?} was aborted: it did not finish within the grace period")
        );
    }
    release.trigger();
    join_guarded(thread);
}

/// The work is polled before the abort is asked: an output produced after the abort, at the
/// next poll, is returned, not discarded.
#[test]
fn an_output_ready_at_the_poll_after_the_abort_is_returned() {
    let drain = Drain::new(CancelToken::new("shutdown"));
    let mut polls = 0;
    let work = std::future::poll_fn(move |cx| {
        polls += 1;
        if polls == 1 {
            cx.waker().wake_by_ref();
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready("delivered")
        }
    });
    let mut tracked = pin!(drain.track("last-message", work).unwrap());
    futures::executor::block_on(async {
        assert!(poll_once(&mut tracked).await.is_none());
    });
    let report = drain.shutdown_blocking(Duration::from_millis(1));
    assert_eq!(report.unfinished(), ["last-message"]);
    assert_eq!(futures::executor::block_on(tracked).unwrap(), "delivered");
    assert_eq!(drain.in_flight(), 0);
}

#[test]
fn the_errors_say_what_happened() {
    let spawn = Error::Spawn(std::io::Error::other("no threads left"));
    assert_eq!(spawn.to_string(), "cannot start a thread");
    assert_eq!(spawn.source().unwrap().to_string(), "no threads left");
    let signal = Error::Signal(std::io::Error::other("EINVAL"));
    assert_eq!(
        signal.to_string(),
        "cannot install the SIGINT/SIGTERM handlers"
    );
    assert!(signal.source().is_some());
}

/// A zero grace gives no time, but the work the trigger woke in the shutdown's own task runs
/// before the report is made: it returned, so it finished, and only the straggler is named.
async fn a_zero_grace_still_counts_the_work_the_trigger_woke() {
    let drain = Drain::new(CancelToken::new("shutdown"));
    let polite = drain.track("polite", polite(&drain)).unwrap();
    let straggler = drain
        .track("straggler", std::future::pending::<()>())
        .unwrap();
    // The shutdown is polled last, so the polite work is already waiting on the token.
    let (polite, straggler, report) =
        futures::join!(polite, straggler, drain.shutdown(Duration::ZERO));
    assert_eq!(polite.unwrap(), "stopped");
    assert!(matches!(straggler, Err(Error::Aborted { .. })));
    assert_eq!(report.unfinished(), ["straggler"], "{report}");
    assert_eq!(drain.in_flight(), 0);
}

/// `Drain::new(CancelToken::never())`: nothing outside can trigger the token, yet shutdown tells
/// the work to stop through the drain's own token, which names itself as the cause.
async fn a_drain_on_a_never_token_still_tells_its_work_to_stop() {
    let drain = Drain::new(CancelToken::never());
    let polite = drain.track("polite", polite(&drain)).unwrap();
    let thread = drain
        .track_thread("polite-thread", |token| token.wait_blocking())
        .unwrap();
    let (polite, report) = futures::join!(polite, drain.shutdown(STRAGGLER_GRACE));
    assert_eq!(polite.unwrap(), "stopped");
    assert!(report.is_clean(), "{report}");
    let cancelled = drain.token().check().unwrap_err();
    assert_eq!(cancelled.token().name(), "drain");
    assert!(!CancelToken::never().triggered());
    join_guarded(thread);
}

/// The drain's own token is a child of the given one: triggering the given one tells the work
/// to stop (without closing the drain) and is named as the cause; shutdown triggers both.
#[test]
fn the_drains_token_follows_the_given_one() {
    let given = CancelToken::new("shutdown");
    let drain = Drain::new(given.clone());
    assert_ne!(drain.token(), &given);
    given.trigger();
    assert_eq!(drain.token().check().unwrap_err().token(), &given);
    assert!(!drain.is_closed());

    let other = CancelToken::new("other");
    let drain = Drain::new(other.clone());
    assert!(drain.shutdown_blocking(AMPLE_GRACE).is_clean());
    assert!(other.triggered());
    assert_eq!(drain.token().check().unwrap_err().token(), &other);
}

/// (D5) Work whose future returned is finished, even while its drop is still running on another
/// thread: a zero-grace report does not name it. `in_flight` and `wait` still wait for the drop.
#[test]
fn work_that_returned_is_finished_while_its_drop_runs() {
    /// Ready at once; its drop says it started, then blocks until released.
    struct SlowDrop {
        dropping: CancelToken,
        release: CancelToken,
    }
    impl Future for SlowDrop {
        type Output = &'static str;
        fn poll(
            self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<&'static str> {
            std::task::Poll::Ready("done")
        }
    }
    impl Drop for SlowDrop {
        fn drop(&mut self) {
            self.dropping.trigger();
            assert!(
                self.release.wait_blocking_timeout(HANG_GUARD),
                "never released"
            );
        }
    }

    let drain = Drain::new(CancelToken::new("shutdown"));
    let (dropping, release) = (CancelToken::new("dropping"), CancelToken::new("release"));
    let work = SlowDrop {
        dropping: dropping.clone(),
        release: release.clone(),
    };
    let tracked = drain.track("slow-drop", work).unwrap();
    let runner = std::thread::spawn(move || futures::executor::block_on(tracked));
    assert!(dropping.wait_blocking_timeout(HANG_GUARD));

    let report = drain.shutdown_blocking(Duration::ZERO);
    assert!(report.is_clean(), "{report}");
    assert_eq!(drain.in_flight(), 1, "still dropping its work");
    release.trigger();
    assert_eq!(join_guarded(runner).unwrap(), "done");
    assert_eq!(drain.in_flight(), 0);
    drain.wait_blocking();
}
