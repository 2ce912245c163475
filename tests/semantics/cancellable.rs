//! The `cancellable_wait` list, for one future: `Ok(output)` when the work completes first,
//! `Err(OperationCancelled)` naming the cause when the token triggers first, the work never polled
//! under a token already triggered, a completed output never discarded, the work dropped with
//! the call, and any `IntoFuture` accepted.

use std::future::{IntoFuture, Ready, pending, ready};
use std::pin::pin;

use cancel_token::CancelToken;
use futures::channel::oneshot;

use crate::support::executors::{on_every_executor, poll_once, yield_now};
use crate::support::probe::Probe;
use crate::support::threads::{join_guarded, trigger_from_thread};

on_every_executor!(
    ok_when_the_work_is_ready_at_once,
    ok_when_the_work_completes_after_pending,
    cancelled_when_the_token_triggers_first,
    cancelled_names_the_ancestor_that_triggered,
    a_token_triggered_before_the_call_never_polls_the_work,
    a_token_triggered_after_the_call_but_before_the_first_poll_never_polls_the_work,
    an_output_produced_in_the_triggering_poll_is_kept,
    an_output_ready_together_with_a_trigger_is_kept,
    dropping_the_call_drops_the_work,
    accepts_into_future,
);

async fn ok_when_the_work_is_ready_at_once() {
    let token = CancelToken::new("t");
    assert_eq!(token.cancellable_wait(async { 42 }).await, Ok(42));
    assert!(!token.triggered());
}

async fn ok_when_the_work_completes_after_pending() {
    let token = CancelToken::new("t");
    let (tx, rx) = oneshot::channel::<&str>();
    let probe = Probe::new();
    let mut call = pin!(token.cancellable_wait(probe.wrap(rx)));
    assert_eq!(poll_once(&mut call).await, None);
    let sender = std::thread::spawn(move || tx.send("message").unwrap());
    assert_eq!(call.await, Ok(Ok("message")));
    assert!(probe.polls() >= 2);
    join_guarded(sender);
}

async fn cancelled_when_the_token_triggers_first() {
    let token = CancelToken::new("demo");
    let probe = Probe::new();
    let result = {
        let mut call = pin!(token.cancellable_wait(probe.wrap(pending::<()>())));
        assert_eq!(poll_once(&mut call).await, None);
        assert_eq!(probe.polls(), 1);
        let trigger = trigger_from_thread(&token);
        let result = call.await;
        join_guarded(trigger);
        result
    };
    let error = result.unwrap_err();
    assert_eq!(error.token(), &token);
    assert_eq!(error.to_string(), "Cancellation requested by demo token");
    assert!(probe.dropped(), "the losing work is dropped with the call");
}

async fn cancelled_names_the_ancestor_that_triggered() {
    let parent = CancelToken::new("parent");
    let token = parent.child("child").chain(&CancelToken::new("other"));
    let mut call = pin!(token.cancellable_wait(pending::<()>()));
    assert_eq!(poll_once(&mut call).await, None);
    let trigger = trigger_from_thread(&parent);
    let error = call.await.unwrap_err();
    assert_eq!(error.token(), &parent);
    assert_eq!(error.to_string(), "Cancellation requested by parent token");
    join_guarded(trigger);
}

async fn a_token_triggered_before_the_call_never_polls_the_work() {
    let parent = CancelToken::new("parent");
    let token = parent.child("child");
    parent.trigger();
    let probe = Probe::new();
    let result = token
        .cancellable_wait(probe.wrap(ready("would be lost")))
        .await;
    assert_eq!(result.unwrap_err().token(), &parent);
    assert_eq!(probe.polls(), 0, "the work must not be polled at all");
    assert!(probe.dropped());
}

async fn a_token_triggered_after_the_call_but_before_the_first_poll_never_polls_the_work() {
    let token = CancelToken::new("t");
    let probe = Probe::new();
    let call = token.cancellable_wait(probe.wrap(ready(1)));
    token.trigger();
    assert_eq!(call.await.unwrap_err().token(), &token);
    assert_eq!(probe.polls(), 0);
}

async fn an_output_produced_in_the_triggering_poll_is_kept() {
    // The work triggers the token and completes in the same poll: both happened "at once", and
    // the output (which may own a received message) must not be lost.
    let token = CancelToken::new("t");
    let work = async {
        token.trigger();
        "received message"
    };
    assert_eq!(token.cancellable_wait(work).await, Ok("received message"));
    assert!(token.triggered());
}

async fn an_output_ready_together_with_a_trigger_is_kept() {
    // Between two polls, the work's input arrives and the token triggers: the next poll must
    // return the output, not the cancellation.
    let token = CancelToken::new("t");
    let (tx, rx) = oneshot::channel::<&str>();
    let mut call = pin!(token.cancellable_wait(rx));
    assert_eq!(poll_once(&mut call).await, None);
    tx.send("message").unwrap();
    token.trigger();
    assert_eq!(call.await, Ok(Ok("message")));
}

async fn dropping_the_call_drops_the_work() {
    let token = CancelToken::new("t");

    let polled = Probe::new();
    let mut call = Box::pin(token.cancellable_wait(polled.wrap(pending::<()>())));
    assert_eq!(poll_once(&mut call).await, None);
    assert!(!polled.dropped());
    drop(call);
    assert!(polled.dropped(), "dropping a pending call drops its work");

    let never_polled = Probe::new();
    drop(token.cancellable_wait(never_polled.wrap(pending::<()>())));
    assert!(never_polled.dropped());

    // Dropping the call cancels the work, not the token.
    assert!(!token.triggered());
    yield_now().await;
    assert_eq!(
        token.cancellable_wait(async { "still usable" }).await,
        Ok("still usable")
    );
}

/// A job description that becomes a future only when awaited.
struct Job(u32);

impl IntoFuture for Job {
    type Output = u32;
    type IntoFuture = Ready<u32>;
    fn into_future(self) -> Ready<u32> {
        ready(self.0 * 2)
    }
}

async fn accepts_into_future() {
    let token = CancelToken::new("t");
    assert_eq!(token.cancellable_wait(Job(21)).await, Ok(42));
    assert_eq!(
        token
            .cancellable_wait_timeout(Job(1), std::time::Duration::from_secs(3600))
            .await,
        Ok(2)
    );
    assert_eq!(token.cancellable_wait_any([Job(1), Job(2)]).await, Ok(2));
}

#[test]
fn the_call_is_send_when_the_work_is() {
    fn assert_send<T: Send>(_: &T) {}
    let token = CancelToken::new("t");
    assert_send(&token.cancellable_wait(async { 1 }));
    assert_send(&token.cancellable_wait_timeout(async { 1 }, std::time::Duration::ZERO));
    assert_send(
        &token
            .clone()
            .cancellable_wait_timeout_owned(async { 1 }, std::time::Duration::ZERO),
    );
    assert_send(&token.cancellable_wait_any([async { 1 }]));
}
