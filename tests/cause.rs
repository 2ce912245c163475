//! `OperationCancelled::source()`: the reason a token was triggered, where error reporters look.
//!
//! `chain` below is what `anyhow`'s `{:#}` prints: each error's `Display`, then its sources',
//! joined by ": ", found by walking std's `Error::source`.

use std::error::Error;
use std::time::Duration;

use cancel_token::{
    CancelToken, DeadlineExceeded, ManualClock, OperationCancelled, Reason, Signalled, WaitError,
};

/// Every message from `error` down its `source()` chain, joined like `anyhow`'s `{:#}`.
fn chain(error: &(dyn Error + 'static)) -> String {
    let mut messages = vec![error.to_string()];
    let mut next = error.source();
    while let Some(source) = next {
        messages.push(source.to_string());
        next = source.source();
    }
    messages.join(": ")
}

fn cancelled(token: &CancelToken) -> OperationCancelled {
    token.check().expect_err("the token is triggered")
}

#[test]
fn a_plain_trigger_has_no_source_and_the_seed_sentence() {
    let token = CancelToken::new("worker");
    token.trigger();
    let error = cancelled(&token);
    assert!(error.source().is_none());
    assert_eq!(error.to_string(), "Cancellation requested by worker token");
    assert_eq!(chain(&error), "Cancellation requested by worker token");
}

#[test]
fn trigger_with_an_error_makes_that_error_the_source() {
    let request = CancelToken::new("request");
    let query = request.child("query");
    request.trigger_with(std::io::Error::new(
        std::io::ErrorKind::ConnectionReset,
        "client hung up",
    ));
    // Checked on the child: the cause and its reason are the parent's.
    let error = cancelled(&query);
    assert_eq!(error.to_string(), "Cancellation requested by request token");
    let source = error.source().expect("a custom reason is the source");
    let io = source
        .downcast_ref::<std::io::Error>()
        .expect("the very error given to trigger_with");
    assert_eq!(io.kind(), std::io::ErrorKind::ConnectionReset);
    assert_eq!(
        chain(&error),
        "Cancellation requested by request token: client hung up"
    );
}

#[test]
fn a_deadline_is_a_deadline_exceeded_source() {
    let clock = ManualClock::new();
    let request = CancelToken::new("req");
    let attempt = clock.with_timeout(&request, Duration::from_millis(5));
    clock.advance(Duration::from_millis(5));
    let error = cancelled(&attempt);
    assert!(matches!(error.reason(), Reason::DeadlineExceeded));
    let source = error.source().expect("a deadline has a source");
    assert_eq!(
        source.downcast_ref::<DeadlineExceeded>(),
        Some(&DeadlineExceeded)
    );
    assert_eq!(
        chain(&error),
        "Cancellation requested by req token: deadline exceeded"
    );
}

#[test]
fn a_signal_is_a_signalled_source_with_its_number() {
    let service = CancelToken::new("service");
    let handler = service.child("handler");
    service.trigger_with(Reason::Signal(15));
    let error = cancelled(&handler);
    let source = error.source().expect("a signal has a source");
    assert_eq!(
        source.downcast_ref::<Signalled>(),
        Some(&Signalled { signal: 15 })
    );
    assert_eq!(
        chain(&error),
        "Cancellation requested by service token: received signal 15"
    );
}

#[test]
fn the_source_survives_a_clone_and_a_wait_error() {
    let token = CancelToken::new("job");
    token.trigger_with(Reason::Signal(2));
    let error = WaitError::from(cancelled(&token).clone());
    assert_eq!(
        chain(&error),
        "Cancellation requested by job token: received signal 2"
    );
    let timed_out = WaitError::TimedOut {
        timeout: Duration::from_secs(1),
    };
    assert!(timed_out.source().is_none());
}
