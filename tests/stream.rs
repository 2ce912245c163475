//! `CancellableStream`: the article's `cancellable_aiter`. It stops between items, never loses an
//! item the inner stream yielded, ends promptly when the token triggers while the inner stream is
//! pending, stays ended, and gives the inner stream back with what it did not deliver.
//!
//! Every scenario runs on tokio current-thread, tokio multi-thread and `futures::executor`
//! (`support::executors::on_every_executor`). No assertion is about time.

#[path = "support/mod.rs"]
mod support;

use std::pin::{Pin, pin};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::task::{Context, Poll};

use cancel_token::{CancelToken, CancellableStream, StreamCancelExt};
use futures::stream::{FusedStream, Stream, StreamExt};

use support::executors::{on_every_executor, poll_once, yield_now};
use support::threads::{join_guarded, trigger_from_thread};

on_every_executor!(
    an_item_yielded_as_the_token_triggers_is_delivered,
    no_item_is_lost_when_another_thread_triggers,
    ends_promptly_when_triggered_while_the_inner_stream_is_pending,
    into_inner_gives_back_the_undelivered_items,
    an_already_triggered_token_never_polls_the_inner_stream,
    ends_with_the_inner_stream_without_being_cancelled,
    stays_ended_without_polling_the_inner_stream,
);

/// The inner stream's side of the count: how many times it was polled and how many items it
/// yielded. Atomics because tokio's workers may poll it on another thread.
#[derive(Clone, Default)]
struct Counts {
    polls: Arc<AtomicUsize>,
    yielded: Arc<AtomicUsize>,
}

impl Counts {
    fn polls(&self) -> usize {
        self.polls.load(SeqCst)
    }
    fn yielded(&self) -> usize {
        self.yielded.load(SeqCst)
    }
}

/// Wraps a stream so that `Counts` sees its polls and the items it yields.
struct Counted<S> {
    inner: S,
    counts: Counts,
}

fn counted<S: Stream + Unpin>(inner: S) -> (Counted<S>, Counts) {
    let counts = Counts::default();
    let stream = Counted {
        inner,
        counts: counts.clone(),
    };
    (stream, counts)
}

impl<S: Stream + Unpin> Stream for Counted<S> {
    type Item = S::Item;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<S::Item>> {
        self.counts.polls.fetch_add(1, SeqCst);
        let next = Pin::new(&mut self.inner).poll_next(cx);
        if let Poll::Ready(Some(_)) = next {
            self.counts.yielded.fetch_add(1, SeqCst);
        }
        next
    }
}

/// The inner stream triggers the token in the very poll that yields item 3: the consumer still
/// gets item 3, then the end, and the inner stream is not polled after that.
async fn an_item_yielded_as_the_token_triggers_is_delivered() {
    let token = CancelToken::new("consumer");
    let trigger = token.clone();
    let mut next = 0;
    let inner = futures::stream::poll_fn(move |_| {
        next += 1;
        if next == 3 {
            trigger.trigger();
        }
        Poll::Ready(Some(next))
    });
    let (inner, counts) = counted(inner);
    let received: Vec<u32> = inner.cancellable(&token).collect().await;
    assert_eq!(received, [1, 2, 3]);
    assert_eq!(counts.yielded(), received.len());
    assert_eq!(counts.polls(), 3, "polled again after the trigger was seen");
}

/// A trigger from another thread lands anywhere in the poll cycle (the inner stream is pending
/// every other poll): every item the inner stream yielded reaches the consumer, in order, and
/// the next item the inner stream gives afterwards is the one after the last delivered.
async fn no_item_is_lost_when_another_thread_triggers() {
    const TRIGGER_AFTER: usize = 200;
    let token = CancelToken::new("consumer");
    let inner = futures::stream::unfold(0usize, |n| async move {
        yield_now().await;
        Some((n, n + 1))
    });
    let (inner, counts) = counted(Box::pin(inner));
    let trigger = {
        let (token, counts) = (token.clone(), counts.clone());
        std::thread::spawn(move || {
            while counts.yielded() < TRIGGER_AFTER {
                std::thread::yield_now();
            }
            token.trigger();
        })
    };
    let mut stream = token.cancellable_stream(inner);
    let mut received = Vec::new();
    while let Some(item) = stream.next().await {
        received.push(item);
    }
    join_guarded(trigger);
    assert!(stream.is_cancelled());
    assert!(received.len() >= TRIGGER_AFTER);
    assert_eq!(
        received.len(),
        counts.yielded(),
        "items lost between the two ends"
    );
    assert!(received.iter().copied().eq(0..received.len()));
    let mut inner = stream.into_inner();
    assert_eq!(inner.next().await, Some(received.len()));
}

async fn ends_promptly_when_triggered_while_the_inner_stream_is_pending() {
    let token = CancelToken::new("consumer");
    let (inner, counts) = counted(futures::stream::pending::<u32>());
    let mut stream = inner.cancellable(&token);
    // Pending first, so what is tested is the wake-up, not the check before polling.
    assert_eq!(poll_once(&mut stream.next()).await, None);
    assert!(!stream.is_terminated());
    let trigger = trigger_from_thread(&token);
    assert_eq!(stream.next().await, None);
    join_guarded(trigger);
    assert!(stream.is_cancelled());
    assert!(stream.is_terminated());
    assert_eq!(counts.yielded(), 0);
}

async fn into_inner_gives_back_the_undelivered_items() {
    let token = CancelToken::new("consumer");
    let mut stream = token.cancellable_stream(futures::stream::iter(0..10));
    assert_eq!(stream.next().await, Some(0));
    assert_eq!(stream.next().await, Some(1));
    assert_eq!(stream.next().await, Some(2));
    token.trigger();
    assert_eq!(stream.next().await, None);
    assert_eq!(stream.size_hint(), (0, Some(0)));
    let rest: Vec<i32> = stream.into_inner().collect().await;
    assert_eq!(rest, (3..10).collect::<Vec<_>>());
}

async fn an_already_triggered_token_never_polls_the_inner_stream() {
    let token = CancelToken::new("consumer");
    token.trigger();
    let (inner, counts) = counted(futures::stream::iter(0..10));
    let mut stream = pin!(inner.cancellable(&token));
    assert_eq!(stream.next().await, None);
    assert!(stream.is_cancelled());
    assert_eq!(counts.polls(), 0);
    // The first item is still the inner stream's next one.
    assert_eq!(stream.as_mut().get_pin_mut().next().await, Some(0));
}

async fn ends_with_the_inner_stream_without_being_cancelled() {
    let token = CancelToken::new("consumer");
    let mut stream = futures::stream::iter([1, 2]).cancellable(&token);
    assert_eq!(stream.size_hint(), (0, Some(2)));
    assert_eq!(stream.next().await, Some(1));
    assert_eq!(stream.next().await, Some(2));
    assert_eq!(stream.next().await, None);
    assert!(stream.is_terminated());
    assert!(!stream.is_cancelled());
    // A later trigger does not change why it ended.
    token.trigger();
    assert_eq!(stream.next().await, None);
    assert!(!stream.is_cancelled());
}

async fn stays_ended_without_polling_the_inner_stream() {
    let token = CancelToken::new("consumer");
    let (inner, counts) = counted(futures::stream::iter(0..10));
    let mut stream: CancellableStream<_> = token.cancellable_stream(inner);
    assert_eq!(stream.next().await, Some(0));
    token.trigger();
    assert_eq!(stream.next().await, None);
    let polls = counts.polls();
    for _ in 0..3 {
        assert_eq!(stream.next().await, None);
    }
    assert_eq!(counts.polls(), polls);
    // Taking items through `get_mut` bypasses the token: they are still there.
    assert_eq!(stream.get_mut().next().await, Some(1));
    assert_eq!(stream.token(), &token);
}
