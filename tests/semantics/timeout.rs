//! The `cancellable_wait_timeout` part of the `cancellable_wait` list: `Ok`, `TimedOut` and
//! `Cancelled` told apart by a match, edge durations, ancestors, any executor (no tokio timer),
//! and nothing left behind by calls that ended or were dropped.

use std::future::{pending, ready};
use std::pin::pin;
use std::time::Duration;

use cancel_token::{CancelToken, WaitError};

use crate::support::executors::{guarded, on_every_executor, poll_once};
use crate::support::probe::Probe;
use crate::support::threads::{join_guarded, thread_sleep, trigger_from_thread};

/// Long enough never to pass in a test: a call given this must end some other way.
const FOREVER: Duration = Duration::from_secs(3600);

on_every_executor!(
    ok_when_the_work_completes_first,
    seed_example_third_party_api_times_out,
    a_timeout_drops_the_work_and_triggers_nothing_outside,
    cancelled_when_the_token_triggers_first,
    cancelled_names_the_ancestor_that_triggered,
    cancelled_when_an_ancestor_triggered_before_the_call,
    a_zero_timeout_times_out_pending_work,
    a_zero_timeout_on_a_triggered_token_is_a_cancellation,
    duration_max_does_not_panic,
    a_later_shorter_timeout_is_not_delayed_by_an_earlier_longer_one,
    many_dropped_and_finished_calls_leave_later_calls_working,
);

async fn ok_when_the_work_completes_first() {
    let token = CancelToken::new("t");
    assert_eq!(
        token.cancellable_wait_timeout(ready(7), FOREVER).await,
        Ok(7)
    );
    let (tx, rx) = futures::channel::oneshot::channel();
    let mut call = pin!(token.cancellable_wait_timeout(rx, FOREVER));
    assert_eq!(poll_once(&mut call).await, None);
    tx.send("late").unwrap();
    assert_eq!(call.await, Ok(Ok("late")));
    assert!(!token.triggered());
}

async fn seed_example_third_party_api_times_out() {
    // The seed: `token.cancellable_wait(some_3rd_party_api(), timeout=0.1)` where the API sleeps
    // 10 s, raises `TimeoutError`. The sleep is a plain thread, so no executor timer helps.
    let token = CancelToken::new("demo");
    let some_3rd_party_api = || async { thread_sleep(Duration::from_secs(10)).await };
    let result = token
        .cancellable_wait_timeout(some_3rd_party_api(), Duration::from_millis(100))
        .await;
    match result {
        Err(WaitError::TimedOut { timeout }) => assert_eq!(timeout, Duration::from_millis(100)),
        other => panic!("expected TimedOut, got {other:?}"),
    }
}

async fn a_timeout_drops_the_work_and_triggers_nothing_outside() {
    let parent = CancelToken::new("parent");
    let token = parent.child("t");
    let probe = Probe::new();
    let result = token
        .cancellable_wait_timeout(probe.wrap(pending::<()>()), Duration::from_millis(10))
        .await;
    assert!(
        matches!(result, Err(WaitError::TimedOut { .. })),
        "{result:?}"
    );
    assert!(probe.dropped(), "the timed-out work is dropped");
    assert!(
        !token.triggered() && !parent.triggered(),
        "a timeout cancels the call, not the token"
    );
    assert_eq!(token.check(), Ok(()));
}

async fn cancelled_when_the_token_triggers_first() {
    let token = CancelToken::new("demo");
    let probe = Probe::new();
    let result = {
        let mut call = pin!(token.cancellable_wait_timeout(probe.wrap(pending::<()>()), FOREVER));
        assert_eq!(poll_once(&mut call).await, None);
        let trigger = trigger_from_thread(&token);
        let result = call.await;
        join_guarded(trigger);
        result
    };
    match result {
        Err(WaitError::Cancelled(cancelled)) => {
            assert_eq!(cancelled.token(), &token);
            assert_eq!(
                cancelled.to_string(),
                "Cancellation requested by demo token"
            );
        }
        other => panic!("expected Cancelled, got {other:?}"),
    }
    assert!(probe.dropped());
}

async fn cancelled_names_the_ancestor_that_triggered() {
    let root = CancelToken::new("root");
    let token = root.child("middle").child("leaf");
    let mut call = pin!(token.cancellable_wait_timeout(pending::<()>(), FOREVER));
    assert_eq!(poll_once(&mut call).await, None);
    let trigger = trigger_from_thread(&root);
    match call.await {
        Err(WaitError::Cancelled(cancelled)) => assert_eq!(cancelled.token(), &root),
        other => panic!("expected Cancelled by root, got {other:?}"),
    }
    join_guarded(trigger);
}

async fn cancelled_when_an_ancestor_triggered_before_the_call() {
    let root = CancelToken::new("root");
    let token = root.child("leaf");
    root.trigger();
    let probe = Probe::new();
    match token
        .cancellable_wait_timeout(probe.wrap(ready(())), FOREVER)
        .await
    {
        Err(WaitError::Cancelled(cancelled)) => assert_eq!(cancelled.token(), &root),
        other => panic!("expected Cancelled by root, got {other:?}"),
    }
    assert_eq!(
        probe.polls(),
        0,
        "a token triggered before the call: the work is never polled"
    );
}

async fn a_zero_timeout_times_out_pending_work() {
    let token = CancelToken::new("t");
    let result = token
        .cancellable_wait_timeout(pending::<()>(), Duration::ZERO)
        .await;
    assert_eq!(
        result,
        Err(WaitError::TimedOut {
            timeout: Duration::ZERO
        })
    );
    assert!(!token.triggered());
}

async fn a_zero_timeout_on_a_triggered_token_is_a_cancellation() {
    // Both have happened before the first poll; the token's trigger is the older event, and the
    // one a caller must not mistake for a timeout.
    let token = CancelToken::new("t");
    token.trigger();
    match token
        .cancellable_wait_timeout(pending::<()>(), Duration::ZERO)
        .await
    {
        Err(WaitError::Cancelled(cancelled)) => assert_eq!(cancelled.token(), &token),
        other => panic!("expected Cancelled, got {other:?}"),
    }
}

async fn duration_max_does_not_panic() {
    let token = CancelToken::new("t");
    assert_eq!(
        token
            .cancellable_wait_timeout(ready(1), Duration::MAX)
            .await,
        Ok(1)
    );
    let mut call = pin!(token.cancellable_wait_timeout(pending::<()>(), Duration::MAX));
    assert_eq!(poll_once(&mut call).await, None);
    let trigger = trigger_from_thread(&token);
    assert!(matches!(call.await, Err(WaitError::Cancelled(_))));
    join_guarded(trigger);
}

async fn a_later_shorter_timeout_is_not_delayed_by_an_earlier_longer_one() {
    // The process-wide timer may be sleeping towards the long deadline: the short one, added
    // later, must still fire (the hang guard turns a miss into a failure).
    let token = CancelToken::new("t");
    let mut long = pin!(token.cancellable_wait_timeout(pending::<()>(), FOREVER));
    assert_eq!(poll_once(&mut long).await, None);
    let short = token
        .cancellable_wait_timeout(pending::<()>(), Duration::from_millis(20))
        .await;
    assert!(
        matches!(short, Err(WaitError::TimedOut { .. })),
        "{short:?}"
    );
    assert_eq!(
        poll_once(&mut long).await,
        None,
        "the long one is still running"
    );
}

async fn many_dropped_and_finished_calls_leave_later_calls_working() {
    let token = CancelToken::new("t");
    for i in 0..500 {
        // Pending calls dropped mid-way, with deadlines near and far...
        let timeout = if i % 2 == 0 {
            Duration::from_millis(1)
        } else {
            FOREVER
        };
        let mut call = pin!(token.cancellable_wait_timeout(pending::<()>(), timeout));
        let _ = poll_once(&mut call).await;
        // ...calls that completed...
        assert_eq!(
            token.cancellable_wait_timeout(ready(i), FOREVER).await,
            Ok(i)
        );
        // ...and calls never polled.
        drop(token.cancellable_wait_timeout(pending::<()>(), Duration::from_millis(1)));
    }
    for _ in 0..20 {
        let result = token
            .cancellable_wait_timeout(pending::<()>(), Duration::from_millis(1))
            .await;
        assert!(
            matches!(result, Err(WaitError::TimedOut { .. })),
            "{result:?}"
        );
    }
    assert!(
        !token.triggered(),
        "none of those deadlines reached the token"
    );
    let later = token
        .cancellable_wait_timeout(pending::<()>(), Duration::from_millis(20))
        .await;
    assert!(
        matches!(later, Err(WaitError::TimedOut { .. })),
        "{later:?}"
    );
    let mut call = pin!(token.cancellable_wait_timeout(pending::<()>(), FOREVER));
    assert_eq!(poll_once(&mut call).await, None);
    let trigger = trigger_from_thread(&token);
    assert!(matches!(call.await, Err(WaitError::Cancelled(_))));
    join_guarded(trigger);
}

#[test]
fn times_out_under_block_on_with_no_tokio_anywhere() {
    futures::executor::block_on(guarded(async {
        assert!(
            tokio::runtime::Handle::try_current().is_err(),
            "this test must run outside any tokio runtime"
        );
        let token = CancelToken::new("t");
        let result = token
            .cancellable_wait_timeout(pending::<()>(), Duration::from_millis(20))
            .await;
        assert!(
            matches!(result, Err(WaitError::TimedOut { .. })),
            "{result:?}"
        );
    }));
}

#[test]
fn wait_error_displays_and_sources() {
    use std::error::Error;
    let token = CancelToken::new("demo");
    token.trigger();
    let cancelled = WaitError::from(token.check().unwrap_err());
    assert_eq!(
        cancelled.to_string(),
        "Cancellation requested by demo token"
    );
    // Transparent: the sentence once, then the reason (none for a plain trigger).
    assert!(cancelled.source().is_none());
    let reasoned = CancelToken::new("demo");
    reasoned.trigger_with(std::io::Error::other("gone"));
    let reasoned = WaitError::from(reasoned.check().unwrap_err());
    assert_eq!(reasoned.source().unwrap().to_string(), "gone");
    let timed_out = WaitError::TimedOut {
        timeout: Duration::from_millis(100),
    };
    assert!(timed_out.source().is_none());
    assert!(!timed_out.to_string().is_empty());
}
