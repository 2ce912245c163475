//! Row "`await wait()`": ready at once if triggered, completes when this token or an ancestor
//! triggers (from another thread or task), cancel-safe, `Send`, and `wait_owned()` spawnable.

use std::future::Future;
use std::pin::pin;

use cancel_token::CancelToken;

use crate::support::executors::{on_every_executor, poll_once, yield_now};
use crate::support::probe::WakeProbe;
use crate::support::threads::{join_guarded, spawn_on_thread, trigger_from_thread};

on_every_executor!(
    ready_at_once_when_triggered,
    ready_at_once_when_an_ancestor_triggered,
    completes_when_triggered_from_another_thread,
    completes_when_an_ancestor_triggers_from_another_thread,
    completes_when_triggered_from_another_future_of_the_same_task,
    dropped_pending_waits_leave_the_token_working,
    a_wait_moved_to_another_waker_is_woken_there,
    many_waiters_all_wake,
    wait_owned_runs_spawned_on_another_thread,
    never_stays_pending,
);

async fn ready_at_once_when_triggered() {
    let token = CancelToken::new("t");
    token.trigger();
    assert_eq!(poll_once(&mut pin!(token.wait())).await, Some(()));
    assert_eq!(
        poll_once(&mut pin!(token.clone().wait_owned())).await,
        Some(())
    );
}

async fn ready_at_once_when_an_ancestor_triggered() {
    let root = CancelToken::new("root");
    let leaf = root.child("middle").chain(&CancelToken::new("other"));
    root.trigger();
    assert_eq!(poll_once(&mut pin!(leaf.wait())).await, Some(()));
}

async fn completes_when_triggered_from_another_thread() {
    let token = CancelToken::new("t");
    let mut wait = pin!(token.wait());
    // Pending first, so what is tested is the wake-up, not the ready-at-once path.
    assert_eq!(poll_once(&mut wait).await, None);
    let trigger = trigger_from_thread(&token);
    wait.await;
    assert!(token.triggered());
    join_guarded(trigger);
}

async fn completes_when_an_ancestor_triggers_from_another_thread() {
    let root = CancelToken::new("root");
    let other = CancelToken::new("other");
    let leaf = CancelToken::any("leaf", [&other, &root.child("middle")]).child("leaf");
    let mut wait = pin!(leaf.wait());
    assert_eq!(poll_once(&mut wait).await, None);
    let trigger = trigger_from_thread(&root);
    wait.await;
    assert_eq!(leaf.triggered_token(), Some(root));
    assert!(!other.triggered());
    join_guarded(trigger);
}

async fn completes_when_triggered_from_another_future_of_the_same_task() {
    // On a current-thread executor the trigger and the wake-up happen on the same thread, inside
    // the same task: the wake must not be lost nor deadlock.
    let token = CancelToken::new("t");
    let waiting = async {
        token.wait().await;
        "woken"
    };
    let triggering = async {
        yield_now().await;
        token.trigger();
        "triggered"
    };
    assert_eq!(futures::join!(waiting, triggering), ("woken", "triggered"));
}

async fn dropped_pending_waits_leave_the_token_working() {
    let token = CancelToken::new("t");
    let child = token.child("child");
    for _ in 0..1_000 {
        let mut wait = pin!(token.wait());
        assert_eq!(poll_once(&mut wait).await, None);
        let mut child_wait = pin!(child.wait());
        assert_eq!(poll_once(&mut child_wait).await, None);
        // Both dropped here, while registered.
    }
    // Dropping waits must not have triggered anything...
    assert!(!token.triggered() && !child.triggered());
    // ...and a new wait, pending, is still woken by a trigger.
    let mut wait = pin!(child.wait());
    assert_eq!(poll_once(&mut wait).await, None);
    let trigger = trigger_from_thread(&token);
    wait.await;
    join_guarded(trigger);
}

async fn a_wait_moved_to_another_waker_is_woken_there() {
    // First polled with a waker that wakes nobody, then by this task, which then returns
    // `Pending` to its executor before the trigger: only a wake of the latest waker (as the
    // `Future` contract requires) gets it polled again. The trigger runs in the same task, after
    // the wait's poll, so the order is fixed whatever the executor.
    let token = CancelToken::new("t");
    let mut wait = Box::pin(token.wait());
    {
        let noop = futures::task::noop_waker();
        let mut cx = std::task::Context::from_waker(&noop);
        assert!(wait.as_mut().poll(&mut cx).is_pending());
    }
    let triggering = async {
        yield_now().await;
        token.trigger();
    };
    futures::join!(wait, triggering);
}

async fn many_waiters_all_wake() {
    let token = CancelToken::new("t");
    let waits = (0..100).map(|_| token.wait());
    let mut all = pin!(futures::future::join_all(waits));
    assert_eq!(poll_once(&mut all).await, None);
    let trigger = trigger_from_thread(&token);
    assert_eq!(all.await.len(), 100);
    join_guarded(trigger);
}

async fn wait_owned_runs_spawned_on_another_thread() {
    let token = CancelToken::new("t");
    let child = token.child("child");
    let spawned = spawn_on_thread(child.clone().wait_owned());
    let trigger = trigger_from_thread(&token);
    spawned.await;
    assert!(child.triggered());
    join_guarded(trigger);
}

async fn never_stays_pending() {
    let never = CancelToken::never();
    let mut wait = pin!(never.wait());
    assert_eq!(poll_once(&mut wait).await, None);
    never.trigger();
    yield_now().await;
    assert_eq!(poll_once(&mut wait).await, None);
}

#[test]
fn wait_is_send_and_wait_owned_is_static_send() {
    fn assert_send<T: Send>(_: &T) {}
    fn assert_static_send<T: Send + 'static>(_: &T) {}
    let token = CancelToken::new("t");
    assert_send(&token.wait());
    assert_static_send(&token.clone().wait_owned());
}

#[test]
fn wait_owned_can_be_tokio_spawned() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let token = CancelToken::new("t");
    let task = runtime.spawn(token.clone().wait_owned());
    token.trigger();
    runtime
        .block_on(crate::support::executors::guarded(task))
        .expect("the spawned wait completes");
}

/// Polls `wait` by hand with a fresh [`WakeProbe`] waker; asserts it is pending.
fn poll_pending_with_probe<F: Future + Unpin>(wait: &mut F) -> std::sync::Arc<WakeProbe> {
    let (probe, waker) = WakeProbe::new();
    let mut cx = std::task::Context::from_waker(&waker);
    assert!(std::pin::Pin::new(wait).poll(&mut cx).is_pending());
    probe
}

#[test]
fn a_trigger_from_another_thread_wakes_the_registered_waker() {
    let root = CancelToken::new("root");
    let leaf = root.child("middle").chain(&CancelToken::new("other"));
    let mut own = Box::pin(root.wait());
    let mut derived = Box::pin(leaf.wait());
    let own_probe = poll_pending_with_probe(&mut own);
    let derived_probe = poll_pending_with_probe(&mut derived);
    assert_eq!((own_probe.wakes(), derived_probe.wakes()), (0, 0));
    join_guarded(trigger_from_thread(&root));
    own_probe.wait_woken();
    derived_probe.wait_woken();
}

#[test]
fn only_the_latest_waker_matters() {
    let token = CancelToken::new("t");
    let mut wait = Box::pin(token.wait());
    let _first = poll_pending_with_probe(&mut wait);
    let latest = poll_pending_with_probe(&mut wait);
    join_guarded(trigger_from_thread(&token));
    latest.wait_woken();
}

#[test]
fn a_dropped_wait_is_not_woken() {
    // Cancel-safety from the token's side: once dropped, a wait's waker is gone from the token,
    // so a later trigger does not wake it (nor crash on it).
    let token = CancelToken::new("t");
    let mut dropped = Box::pin(token.wait());
    let dropped_probe = poll_pending_with_probe(&mut dropped);
    drop(dropped);
    let mut kept = Box::pin(token.wait());
    let kept_probe = poll_pending_with_probe(&mut kept);
    token.trigger();
    kept_probe.wait_woken();
    assert_eq!(dropped_probe.wakes(), 0);
}
