//! The seed documentation's examples (`seeds/asyncio-cancel-token.txt`), translated. The
//! `some_3rd_party_api` timeout example lives in `timeout`.

use cancel_token::CancelToken;
use futures::channel::oneshot;

use crate::support::executors::{on_every_executor, yield_now};
use crate::support::threads::spawn_on_thread;

on_every_executor!(run_and_cancel_task, chaining_tokens, loop_until_triggered);

/// `run_and_cancel_task`: a task waits on the token; triggering it lets the task finish. The
/// seed sleeps "to give the task a moment"; here the task says when it has started instead.
async fn run_and_cancel_task() {
    let token = CancelToken::new("demo");
    let (started_tx, started_rx) = oneshot::channel();
    let task = spawn_on_thread({
        let token = token.clone();
        async move {
            started_tx.send("started task").unwrap();
            token.wait().await;
            "task cancelled"
        }
    });
    assert_eq!(started_rx.await.unwrap(), "started task");
    token.trigger();
    assert_eq!(task.await, "task cancelled");
}

/// "Chaining Tokens": `token_b = CancelToken('token-b').chain(token_a)`.
async fn chaining_tokens() {
    let token_a = CancelToken::new("token-a");
    let token_b = CancelToken::new("token-b").chain(&token_a);
    assert!(!token_a.triggered());
    assert!(!token_b.triggered());
    token_a.trigger();
    assert!(token_a.triggered());
    assert!(token_b.triggered());
    assert_eq!(token_b.name(), "token-b:token-a");
}

/// `while not token.triggered: ...` and `token.raise_if_triggered()` in a loop.
async fn loop_until_triggered() {
    let token = CancelToken::new("worker");
    let mut rounds = 0;
    while !token.triggered() {
        rounds += 1;
        if rounds == 3 {
            token.trigger();
        }
        yield_now().await;
    }
    assert_eq!(rounds, 3);

    let token = CancelToken::new("worker");
    let mut rounds = 0;
    let error = loop {
        if let Err(error) = token.check() {
            break error;
        }
        rounds += 1;
        if rounds == 3 {
            token.trigger();
        }
        yield_now().await;
    };
    assert_eq!(rounds, 3);
    assert_eq!(error.to_string(), "Cancellation requested by worker token");
}
