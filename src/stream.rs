//! A stream that stops between items when a token is triggered: the article's
//! `cancellable_aiter`, for any [`Stream`].
//!
//! The point of the article is a consumer that must not lose track of a message: the item being
//! handled when the signal arrives is finished, not interrupted. So the adapter never stands
//! between the inner stream and the consumer once an item exists:
//!
//! 1. On every poll, a triggered token ends the stream **before** the inner stream is polled, so
//!    nothing new is taken from it after the trigger has been seen.
//! 2. Otherwise the inner stream is polled, and whatever it yields is delivered, even if the
//!    token triggered in the same instant. No item is ever dropped by the adapter.
//! 3. Only when the inner stream is pending is the token asked again, registering the task's
//!    waker, so a trigger during the wait ends the stream promptly.
//!
//! Once ended (by the token or by the inner stream), it stays ended and polls nothing. What the
//! inner stream still holds is left in it: [`into_inner`](CancellableStream::into_inner) gives it
//! back.

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_core::{FusedStream, Stream};
use pin_project_lite::pin_project;

use crate::CancelToken;
use crate::wait::Registration;

pin_project! {
    /// A [`Stream`] that ends between items once its token is triggered; made by
    /// [`CancelToken::cancellable_stream`] or [`StreamCancelExt::cancellable`].
    ///
    /// Guarantees:
    ///
    /// * **No item is lost**: an item the inner stream yielded is always delivered; the adapter
    ///   never polls the inner stream once it has seen the token triggered, so it never takes an
    ///   item it would then have to drop.
    /// * **Prompt end**: while the inner stream is pending, the task is registered on the token,
    ///   and a trigger wakes it; the next poll returns `None`.
    /// * **Fused**: after `None` (for either reason) it returns `None` forever without polling
    ///   anything ([`FusedStream`]).
    /// * **Cancel safety**: dropping it drops the inner stream and removes its registration from
    ///   the token; nothing stays behind in the token.
    /// * **Allocation**: none of its own. It holds a clone of the token (one reference count)
    ///   and, while pending, one slot in the token's waiter list.
    ///
    /// ```
    /// use cancel_token::{CancelToken, StreamCancelExt};
    /// use futures::StreamExt;
    ///
    /// let token = CancelToken::new("consumer");
    /// let mut messages = futures::stream::iter(1..=5).cancellable(&token);
    /// futures::executor::block_on(async {
    ///     assert_eq!(messages.next().await, Some(1));
    ///     assert_eq!(messages.next().await, Some(2));
    ///     token.trigger();
    ///     assert_eq!(messages.next().await, None);
    ///     assert!(messages.is_cancelled());
    /// });
    /// // The messages not taken are still in the inner stream.
    /// let rest: Vec<i32> = futures::executor::block_on(messages.into_inner().collect());
    /// assert_eq!(rest, [3, 4, 5]);
    /// ```
    #[must_use = "streams do nothing unless polled"]
    pub struct CancellableStream<S> {
        #[pin]
        stream: S,
        registration: Registration<CancelToken>,
        state: State,
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Running,
    /// Ended because the token was triggered.
    Cancelled,
    /// Ended because the inner stream did.
    Exhausted,
}

impl<S> CancellableStream<S> {
    /// The one constructor, behind both public ways of making one.
    fn new(stream: S, token: CancelToken) -> Self {
        CancellableStream {
            stream,
            registration: Registration::new(token),
            state: State::Running,
        }
    }

    /// The inner stream, with every item it did not deliver still in it.
    pub fn into_inner(self) -> S {
        self.stream
    }

    /// The inner stream.
    pub fn get_ref(&self) -> &S {
        &self.stream
    }

    /// The inner stream. Taking items from it directly bypasses the token.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.stream
    }

    /// The inner stream, pinned. Taking items from it directly bypasses the token.
    pub fn get_pin_mut(self: Pin<&mut Self>) -> Pin<&mut S> {
        self.project().stream
    }

    /// Whether the stream ended because the token was triggered (and not because the inner
    /// stream ended first). `false` while it is still running.
    pub fn is_cancelled(&self) -> bool {
        self.state == State::Cancelled
    }

    /// The token this stream stops on.
    pub fn token(&self) -> &CancelToken {
        &self.registration.token
    }
}

impl CancelToken {
    /// Wraps `stream` so that it ends between items once this token is triggered; see
    /// [`CancellableStream`] for the guarantees. Holds a clone of this token.
    ///
    /// ```
    /// use cancel_token::CancelToken;
    /// use futures::StreamExt;
    ///
    /// let token = CancelToken::new("ticker");
    /// token.trigger();
    /// let mut ticks = token.cancellable_stream(futures::stream::repeat(()));
    /// assert_eq!(futures::executor::block_on(ticks.next()), None);
    /// ```
    pub fn cancellable_stream<S: Stream>(&self, stream: S) -> CancellableStream<S> {
        CancellableStream::new(stream, self.clone())
    }
}

/// `stream.cancellable(&token)`: the same as [`CancelToken::cancellable_stream`], as a method on
/// every [`Stream`].
pub trait StreamCancelExt: Stream + Sized {
    /// Wraps this stream so that it ends between items once `token` is triggered; see
    /// [`CancellableStream`]. Holds a clone of `token`.
    fn cancellable(self, token: &CancelToken) -> CancellableStream<Self> {
        CancellableStream::new(self, token.clone())
    }
}

impl<S: Stream> StreamCancelExt for S {}

impl<S: Stream> Stream for CancellableStream<S> {
    type Item = S::Item;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<S::Item>> {
        let this = self.project();
        if *this.state != State::Running {
            return Poll::Ready(None);
        }
        // Rule 1: a trigger already seen ends the stream before the inner stream is asked.
        if this.registration.token.triggered() {
            return end(this.state, this.registration, State::Cancelled);
        }
        // Rule 2: an item the inner stream yields is delivered, whatever the token says now.
        match this.stream.poll_next(cx) {
            Poll::Ready(Some(item)) => Poll::Ready(Some(item)),
            Poll::Ready(None) => end(this.state, this.registration, State::Exhausted),
            // Rule 3: register (or refresh) this task's waker on the token. The token reads the
            // state under its lock while registering, so a trigger racing with this poll either
            // finds the waker or is seen here (no lost wake-up, see `graph`).
            Poll::Pending => match this.registration.poll_triggered(cx) {
                Poll::Ready(()) => end(this.state, this.registration, State::Cancelled),
                Poll::Pending => Poll::Pending,
            },
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        match self.state {
            State::Running => (0, self.stream.size_hint().1),
            State::Cancelled | State::Exhausted => (0, Some(0)),
        }
    }
}

/// Ends the stream, giving the waiter slot back to the token at once rather than at drop: an
/// ended stream may be kept around for `into_inner`.
fn end<T>(
    state: &mut State,
    registration: &mut Registration<CancelToken>,
    why: State,
) -> Poll<Option<T>> {
    *state = why;
    let token = registration.token.clone();
    // Dropping the old registration removes its slot (a no-op if the trigger already took it).
    *registration = Registration::new(token);
    Poll::Ready(None)
}

impl<S: Stream> FusedStream for CancellableStream<S> {
    fn is_terminated(&self) -> bool {
        self.state != State::Running
    }
}

impl<S: fmt::Debug> fmt::Debug for CancellableStream<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CancellableStream")
            .field("stream", &self.stream)
            .field("token", self.token())
            .field("state", &self.state)
            .finish()
    }
}
