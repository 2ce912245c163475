//! The `cancellable_wait_any` part of the `cancellable_wait` list: the first output wins and the
//! others are dropped; cancelled when the token triggers; with no futures it waits for the token.

use std::future::{Future, pending, ready};
use std::pin::{Pin, pin};

use cancel_token::CancelToken;
use futures::channel::oneshot;

use crate::support::executors::{on_every_executor, poll_once};
use crate::support::probe::{Probe, Probed};
use crate::support::threads::{join_guarded, trigger_from_thread};

on_every_executor!(
    the_first_to_complete_wins_and_the_others_are_dropped,
    a_tie_goes_to_the_earliest_in_the_list,
    cancelled_when_the_token_triggers_and_all_are_dropped,
    a_triggered_token_polls_none_of_them,
    dropping_the_call_drops_them_all,
    with_no_futures_it_only_waits_for_the_token,
);

type Work = Pin<Box<dyn Future<Output = u32> + Send>>;

fn probed(work: impl Future<Output = u32> + Send + 'static) -> (Probe, Probed<Work>) {
    let probe = Probe::new();
    let future = probe.wrap(Box::pin(work) as Work);
    (probe, future)
}

async fn the_first_to_complete_wins_and_the_others_are_dropped() {
    let token = CancelToken::new("t");
    let (tx, rx) = oneshot::channel::<u32>();
    let (first, first_work) = probed(pending());
    let (second, second_work) = probed(async { rx.await.unwrap() });
    let (third, third_work) = probed(pending());
    // Boxed, not pinned on the stack, so that `.await` consumes (and drops) the call.
    let mut call = Box::pin(token.cancellable_wait_any([first_work, second_work, third_work]));
    assert_eq!(poll_once(&mut call).await, None);
    tx.send(2).unwrap();
    assert_eq!(call.await, Ok(2));
    for probe in [&first, &second, &third] {
        assert!(probe.dropped());
    }
    assert!(!token.triggered());
}

async fn a_tie_goes_to_the_earliest_in_the_list() {
    let token = CancelToken::new("t");
    assert_eq!(
        token
            .cancellable_wait_any([ready(1), ready(2), ready(3)])
            .await,
        Ok(1)
    );
}

async fn cancelled_when_the_token_triggers_and_all_are_dropped() {
    let parent = CancelToken::new("parent");
    let token = parent.child("t");
    let (a, a_work) = probed(pending());
    let (b, b_work) = probed(pending());
    let mut call = Box::pin(token.cancellable_wait_any([a_work, b_work]));
    assert_eq!(poll_once(&mut call).await, None);
    let trigger = trigger_from_thread(&parent);
    let error = call.await.unwrap_err();
    assert_eq!(error.token(), &parent);
    assert!(a.dropped() && b.dropped());
    join_guarded(trigger);
}

async fn a_triggered_token_polls_none_of_them() {
    let token = CancelToken::new("t");
    token.trigger();
    let (a, a_work) = probed(ready(1));
    let (b, b_work) = probed(ready(2));
    assert_eq!(
        token
            .cancellable_wait_any([a_work, b_work])
            .await
            .unwrap_err()
            .token(),
        &token
    );
    assert_eq!((a.polls(), b.polls()), (0, 0));
}

async fn dropping_the_call_drops_them_all() {
    let token = CancelToken::new("t");
    let (a, a_work) = probed(pending());
    let (b, b_work) = probed(pending());
    let mut call = Box::pin(token.cancellable_wait_any([a_work, b_work]));
    assert_eq!(poll_once(&mut call).await, None);
    assert!(!a.dropped() && !b.dropped());
    drop(call);
    assert!(a.dropped() && b.dropped());
}

async fn with_no_futures_it_only_waits_for_the_token() {
    let token = CancelToken::new("t");
    let mut call = pin!(token.cancellable_wait_any(Vec::<Work>::new()));
    assert_eq!(poll_once(&mut call).await, None);
    let trigger = trigger_from_thread(&token);
    assert_eq!(call.await.unwrap_err().token(), &token);
    join_guarded(trigger);
}
