//! Row "`EventLoopMismatch`": the seed refuses to chain tokens of two event loops; ours has no
//! such thing. Tokens made under two different runtimes chain, and one trigger wakes waiters on
//! a tokio current-thread runtime, a tokio multi-thread runtime, `futures::executor::block_on`
//! and a blocked plain thread, all at once.

use std::pin::pin;
use std::sync::mpsc;
use std::thread;

use cancel_token::CancelToken;

use crate::support::executors::{HANG_GUARD, guarded, poll_once};
use crate::support::threads::join_guarded;

/// Waits on `token`, telling `registered` once the wait is known to be pending (so the trigger
/// is what completes it, not an early ready).
async fn wait_after_registering(
    token: CancelToken,
    registered: mpsc::Sender<&'static str>,
    who: &'static str,
) -> &'static str {
    let mut wait = pin!(token.wait_owned());
    assert_eq!(
        poll_once(&mut wait).await,
        None,
        "{who}: pending before the trigger"
    );
    registered.send(who).unwrap();
    wait.await;
    who
}

fn current_thread_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn tokens_of_two_runtimes_chain_and_one_trigger_wakes_every_executor() {
    // Made inside two different runtimes, as the seed's tokens would belong to two loops.
    let a = current_thread_runtime().block_on(async { CancelToken::new("a") });
    let multi = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let b = multi.block_on(async { CancelToken::new("b") });
    let ab = a.chain(&b);
    assert_eq!(ab.name(), "a:b");

    let (registered, registrations) = mpsc::channel();

    // A tokio current-thread runtime of its own, on its own thread.
    let on_current_thread = {
        let (token, registered) = (ab.child("current"), registered.clone());
        thread::spawn(move || {
            current_thread_runtime().block_on(guarded(wait_after_registering(
                token,
                registered,
                "tokio current-thread",
            )))
        })
    };
    // The multi-thread runtime, on one of its workers.
    let on_multi_thread = multi.spawn(guarded(wait_after_registering(
        ab.child("multi"),
        registered.clone(),
        "tokio multi-thread",
    )));
    // `futures::executor::block_on` on a plain thread.
    let on_block_on = {
        let (token, registered) = (ab.clone(), registered.clone());
        thread::spawn(move || {
            futures::executor::block_on(guarded(wait_after_registering(
                token, registered, "block_on",
            )))
        })
    };
    // A blocked plain thread (it can only say it is about to block).
    let on_plain_thread = {
        let (token, registered) = (ab.child("plain"), registered.clone());
        thread::spawn(move || {
            registered.send("plain thread").unwrap();
            token.wait_blocking_timeout(HANG_GUARD)
        })
    };

    for _ in 0..4 {
        registrations
            .recv_timeout(HANG_GUARD)
            .expect("every waiter registers");
    }
    a.trigger();

    assert_eq!(join_guarded(on_current_thread), "tokio current-thread");
    assert_eq!(
        multi.block_on(guarded(on_multi_thread)).unwrap(),
        "tokio multi-thread"
    );
    assert_eq!(join_guarded(on_block_on), "block_on");
    assert!(
        join_guarded(on_plain_thread),
        "the plain thread was woken, not timed out"
    );
    assert_eq!(ab.triggered_token(), Some(a));
    assert!(!b.triggered());
}

#[test]
fn one_token_awaited_under_two_runtimes_in_turn() {
    // The same pending wait future moves from one runtime to another between polls.
    let token = CancelToken::new("t");
    let mut wait = Box::pin(token.clone().wait_owned());
    let first = current_thread_runtime().block_on(poll_once(&mut wait));
    assert_eq!(first, None);
    let trigger = {
        let token = token.clone();
        thread::spawn(move || token.trigger())
    };
    futures::executor::block_on(guarded(wait));
    join_guarded(trigger);
}
