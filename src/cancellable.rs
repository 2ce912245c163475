//! Running a future under a token: the seed's `cancellable_wait`, with and without a timeout, for
//! one future or several.
//!
//! All three are one race between a [`Registration`] and the work. The rules, in poll order:
//!
//! 1. On the first poll, a token that is already triggered wins: the work is never polled.
//! 2. After that the work is polled first, so an output it produced is returned even if the
//!    token triggered in the same instant: the output may own something (a received message)
//!    that must not be lost.
//! 3. Only then is the token asked, registering a waker if it is still live.
//!
//! Dropping the race drops the work it owns: Rust's way of cancelling it. `Drain::track`'s
//! `Tracked` races its work against the drain's abort token with the same `Race`.

use std::borrow::Borrow;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use pin_project_lite::pin_project;

use crate::wait::Registration;
use crate::{CancelToken, OperationCancelled, WaitError};

pin_project! {
    pub(crate) struct Race<T: Borrow<CancelToken>, F> {
        registration: Registration<T>,
        started: bool,
        #[pin]
        work: F,
    }
}

impl<T: Borrow<CancelToken>, F: Future> Race<T, F> {
    pub(crate) fn new(token: T, work: F) -> Self {
        Race {
            registration: Registration::new(token),
            started: false,
            work,
        }
    }

    fn token(&self) -> &CancelToken {
        self.registration.token.borrow()
    }
}

impl<T: Borrow<CancelToken>, F: Future> Future for Race<T, F> {
    type Output = Result<F::Output, OperationCancelled>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        if *this.started || !this.registration.token.borrow().triggered() {
            *this.started = true;
            if let Poll::Ready(output) = this.work.poll(cx) {
                return Poll::Ready(Ok(output));
            }
        }
        ready!(this.registration.poll_triggered(cx));
        let token = this.registration.token.borrow();
        Poll::Ready(Err(token
            .cancellation()
            .expect("ready only once triggered")))
    }
}

pin_project! {
    /// The future of [`CancelToken::cancellable_wait`] and [`CancelToken::cancellable_wait_any`].
    ///
    /// Resolves to the work's output, or to [`OperationCancelled`] naming the token whose trigger
    /// stopped it. See the [module rules](crate::CancelToken::cancellable_wait) for the order in
    /// which the work and the token are asked.
    #[must_use = "futures do nothing unless polled"]
    pub struct CancellableWait<'a, F> {
        #[pin]
        race: Race<&'a CancelToken, F>,
    }
}

impl<'a, F: Future> CancellableWait<'a, F> {
    pub(crate) fn new(token: &'a CancelToken, work: F) -> Self {
        CancellableWait {
            race: Race::new(token, work),
        }
    }
}

impl<F: Future> Future for CancellableWait<'_, F> {
    type Output = Result<F::Output, OperationCancelled>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.project().race.poll(cx)
    }
}

pin_project! {
    /// The future of [`CancelToken::cancellable_wait_timeout`].
    ///
    /// The timeout is a child token with a deadline, in the process-wide timer: no thread or task
    /// per call, and it works on any executor. It is removed from the timer when this future
    /// completes or is dropped.
    #[must_use = "futures do nothing unless polled"]
    pub struct CancellableWaitTimeout<F> {
        #[pin]
        race: Race<CancelToken, F>,
        timeout: Duration,
    }
}

impl<F: Future> CancellableWaitTimeout<F> {
    pub(crate) fn new(deadline: CancelToken, timeout: Duration, work: F) -> Self {
        CancellableWaitTimeout {
            race: Race::new(deadline, work),
            timeout,
        }
    }
}

impl<F: Future> Future for CancellableWaitTimeout<F> {
    type Output = Result<F::Output, WaitError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        let timeout = *this.timeout;
        let result = ready!(this.race.as_mut().poll(cx));
        // Only the deadline token's own timer makes it the cause; a trigger from above names an
        // ancestor (even an ancestor's own deadline, which is a cancellation of this wait).
        Poll::Ready(result.map_err(|cancelled| {
            if cancelled.token() == this.race.token() {
                WaitError::TimedOut { timeout }
            } else {
                WaitError::Cancelled(cancelled)
            }
        }))
    }
}

/// The first of several futures to complete; the others are dropped with it. Polled in order, so
/// the earliest in the list wins a tie. With no futures it never completes.
pub struct FirstOf<F> {
    futures: Vec<Pin<Box<F>>>,
}

impl<F: Future> FirstOf<F> {
    pub(crate) fn new(futures: impl IntoIterator<Item = impl IntoFuture<IntoFuture = F>>) -> Self {
        FirstOf {
            futures: futures
                .into_iter()
                .map(|f| Box::pin(f.into_future()))
                .collect(),
        }
    }
}

impl<F: Future> Future for FirstOf<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        self.futures
            .iter_mut()
            .find_map(|future| match future.as_mut().poll(cx) {
                Poll::Ready(output) => Some(output),
                Poll::Pending => None,
            })
            .map_or(Poll::Pending, Poll::Ready)
    }
}

impl<F> std::fmt::Debug for FirstOf<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FirstOf")
            .field("futures", &self.futures.len())
            .finish()
    }
}

pin_project! {
    /// [`CancelToken::cancellable_wait_owned`]'s future: [`CancellableWait`] owning its token,
    /// so it is `'static` when the work is and can be spawned. Same outputs and poll rules.
    #[must_use = "futures do nothing unless polled"]
    pub struct CancellableWaitOwned<F> {
        #[pin]
        race: Race<CancelToken, F>,
    }
}

impl<F: Future> Future for CancellableWaitOwned<F> {
    type Output = Result<F::Output, OperationCancelled>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.project().race.poll(cx)
    }
}

impl CancelToken {
    /// Like [`cancellable_wait`](Self::cancellable_wait), owning the token instead of borrowing
    /// it: `tokio::spawn(token.clone().cancellable_wait_owned(work))` compiles. Same poll rules
    /// (see the module docs), same cancel safety: dropping it drops the work.
    ///
    /// ```
    /// use cancel_token::CancelToken;
    ///
    /// let token = CancelToken::new("job");
    /// let wait = token.clone().cancellable_wait_owned(async { 7 });
    /// fn is_static<T: 'static>(_: &T) {}
    /// is_static(&wait);
    /// assert_eq!(futures::executor::block_on(wait).unwrap(), 7);
    /// ```
    pub fn cancellable_wait_owned<F: IntoFuture>(
        self,
        work: F,
    ) -> CancellableWaitOwned<F::IntoFuture> {
        CancellableWaitOwned {
            race: Race::new(self, work.into_future()),
        }
    }
}
