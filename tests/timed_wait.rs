//! `cancellable_wait_timeout` keeps its deadline as an entry of the process timer that wakes the
//! waiting task (no token per wait): the entry is made only once the wait is about to sleep, it
//! leaves the timer however the wait ends, the waker of the latest poll is the one woken, the
//! timeout counts from the wait's first poll, and it never ends early.
//!
//! One test function: the process timer is shared by every test of a binary, and this one counts
//! its entries.

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use cancel_token::__private::process_timer_entries;
use cancel_token::{CancelToken, WaitError};

#[path = "support/wakers.rs"]
mod wakers;
use wakers::counting;

const HANG_GUARD: Duration = Duration::from_secs(30);
const FAR: Duration = Duration::from_secs(3600);

#[test]
fn a_timed_wait_is_an_entry_that_wakes_its_latest_waker_and_leaves_the_timer() {
    let token = CancelToken::new("request");
    let before = process_timer_entries();

    // Made by the first poll that returns `Pending`, gone when the wait is dropped.
    {
        let mut wait = pin!(token.cancellable_wait_timeout(std::future::pending::<()>(), FAR));
        assert_eq!(
            process_timer_entries(),
            before,
            "no entry before the first poll"
        );
        let (_, waker) = counting();
        assert!(
            wait.as_mut()
                .poll(&mut Context::from_waker(&waker))
                .is_pending()
        );
        assert_eq!(process_timer_entries(), before + 1);
    }
    assert_eq!(
        process_timer_entries(),
        before,
        "a dropped wait left its entry behind"
    );

    // Never made when the work is ready at the first poll (the timer is not touched before the
    // work is found pending), and gone when the token triggers first.
    let entries_while_working = Arc::new(AtomicUsize::new(usize::MAX));
    let work = {
        let seen = entries_while_working.clone();
        std::future::poll_fn(move |_| {
            seen.store(process_timer_entries(), SeqCst);
            Poll::Ready(7)
        })
    };
    let mut finished = pin!(token.cancellable_wait_timeout(work, FAR));
    let (_, waker) = counting();
    let polled = finished.as_mut().poll(&mut Context::from_waker(&waker));
    assert!(matches!(polled, Poll::Ready(Ok(7))));
    assert_eq!(
        entries_while_working.load(SeqCst),
        before,
        "an entry was made before the work was known to be pending"
    );
    assert_eq!(process_timer_entries(), before);
    let other = CancelToken::new("other");
    {
        let mut cancelled = pin!(other.cancellable_wait_timeout(std::future::pending::<()>(), FAR));
        assert!(
            cancelled
                .as_mut()
                .poll(&mut Context::from_waker(&waker))
                .is_pending()
        );
        other.trigger();
        let polled = cancelled.as_mut().poll(&mut Context::from_waker(&waker));
        assert!(matches!(polled, Poll::Ready(Err(WaitError::Cancelled(_)))));
        assert_eq!(
            process_timer_entries(),
            before,
            "a cancelled wait kept its entry"
        );
    }

    // The waker of the latest poll is the one woken at the deadline, and the wait then ends
    // timed out, never before its deadline.
    let timeout = Duration::from_millis(20);
    let mut timed = pin!(token.cancellable_wait_timeout(std::future::pending::<()>(), timeout));
    let created = Instant::now(); // before the first poll, from which the timeout counts
    let (first, first_waker) = counting();
    let (second, second_waker) = counting();
    assert!(
        timed
            .as_mut()
            .poll(&mut Context::from_waker(&first_waker))
            .is_pending()
    );
    assert!(
        timed
            .as_mut()
            .poll(&mut Context::from_waker(&second_waker))
            .is_pending()
    );
    while second.count() == 0 {
        assert!(
            created.elapsed() < HANG_GUARD,
            "the deadline never woke the task"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
    assert_eq!(first.count(), 0, "the replaced waker was woken");
    let polled = timed.as_mut().poll(&mut Context::from_waker(&second_waker));
    let ended_at = Instant::now();
    assert!(matches!(polled, Poll::Ready(Err(WaitError::TimedOut { timeout: t })) if t == timeout));
    assert!(
        ended_at >= created + timeout,
        "timed out {:?} early",
        created + timeout - ended_at
    );
    assert_eq!(process_timer_entries(), before);

    // The timeout counts from the first poll: a wait made long before it is still pending then.
    let mut made_early =
        pin!(token.cancellable_wait_timeout(std::future::pending::<()>(), timeout));
    std::thread::sleep(timeout * 2);
    assert!(
        made_early
            .as_mut()
            .poll(&mut Context::from_waker(&waker))
            .is_pending()
    );

    // A zero timeout has passed at the first poll: the work is never polled (rule 1), and the
    // timer is not touched.
    let polled_work = Arc::new(AtomicUsize::new(0));
    let work = {
        let polled_work = polled_work.clone();
        std::future::poll_fn(move |_| {
            polled_work.fetch_add(1, SeqCst);
            Poll::Ready(())
        })
    };
    let entries = process_timer_entries();
    let mut zero = pin!(token.cancellable_wait_timeout(work, Duration::ZERO));
    let polled = zero.as_mut().poll(&mut Context::from_waker(&waker));
    assert!(matches!(
        polled,
        Poll::Ready(Err(WaitError::TimedOut { .. }))
    ));
    assert_eq!(
        polled_work.load(SeqCst),
        0,
        "ready work was polled after a zero timeout"
    );
    assert_eq!(process_timer_entries(), entries);
}
