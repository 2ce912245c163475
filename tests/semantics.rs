//! The seed-semantics suite: one test per row of `shared/seed-semantics.md`, beside this
//! repository (the `CancelToken` table, the `cancellable_wait` list, the `EventLoopMismatch` row),
//! asserting the "ours (Rust)" column.
//!
//! Every async scenario is written once as an `async fn` and run by `on_every_executor!` on tokio
//! current-thread, tokio multi-thread and `futures::executor::block_on`; blocking waits run on
//! plain std threads. No assertion is about time: durations only bound a wait so that a bug
//! fails the test instead of hanging it (see `support::executors::HANG_GUARD`).
//!
//! Layout, one row (or one family of rows) per file:
//! * `identity`: `new`, names, `Debug`/`Display`, equality and hashing, `never()`.
//! * `trigger`: propagation down the graph, never up; `triggered()`; `chain`, `child`, `any`.
//! * `cause`: `triggered_token()`, first cause wins, born-triggered tokens.
//! * `check`: `check()` and `OperationCancelled`.
//! * `wait`: the `wait()`/`wait_owned()` futures.
//! * `blocking`: `wait_blocking`/`wait_blocking_timeout` from plain threads.
//! * `cancellable`: `cancellable_wait`.
//! * `timeout`: `cancellable_wait_timeout`.
//! * `wait_any`: `cancellable_wait_any`.
//! * `executors`: the `EventLoopMismatch` row: one token, several runtimes and threads at once.
//! * `seed_examples`: the seed documentation's own examples, translated.

mod support;

#[path = "semantics/blocking.rs"]
mod blocking;
#[path = "semantics/cancellable.rs"]
mod cancellable;
#[path = "semantics/cause.rs"]
mod cause;
#[path = "semantics/check.rs"]
mod check;
#[path = "semantics/executors.rs"]
mod executors;
#[path = "semantics/identity.rs"]
mod identity;
#[path = "semantics/seed_examples.rs"]
mod seed_examples;
#[path = "semantics/timeout.rs"]
mod timeout;
#[path = "semantics/trigger.rs"]
mod trigger;
#[path = "semantics/wait.rs"]
mod wait;
#[path = "semantics/wait_any.rs"]
mod wait_any;
