//! The seed's Quick Start: a task waits on a token; the token is triggered; the task ends.
//!
//! `cargo run --example quickstart` prints `started task` then `task cancelled`.

use std::time::Duration;

use cancel_token::CancelToken;

async fn some_task(token: CancelToken) {
    println!("started task");
    token.wait().await;
    println!("task cancelled");
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let token = CancelToken::new("demo");
    let task = tokio::spawn(some_task(token.clone()));
    // Give the task a moment to start, as the seed does.
    tokio::time::sleep(Duration::from_millis(10)).await;
    token.trigger();
    task.await.expect("the task ran to its end");
}
