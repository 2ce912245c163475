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
//! A timed wait's deadline is decided right after the token each time (so a token triggered by
//! then is the cause, not the timeout), and is no token: an entry in the process timer that
//! wakes the task ([`Timer::wake_after`]), made when the first poll has found the work pending,
//! and counted from then.
//!
//! Dropping the race drops the work it owns: Rust's way of cancelling it. `Drain::track`'s
//! `Tracked` races its work against the drain's abort token with the same `Race`.

use std::borrow::Borrow;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use pin_project_lite::pin_project;

use crate::timer::{Timer, TimerEntry};
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
}

impl<T: Borrow<CancelToken>, F: Future> Race<T, F> {
    /// The race, with a deadline (the module's rules): `passed(cx, first)` says whether it has
    /// passed, and if not, sees that `cx`'s task is woken when it does. `Err(None)`: the deadline
    /// won. After the work, the deadline is asked before the token (so that a timed wait enters
    /// the timer before it registers with the token, which measures faster) but the token decides
    /// first: a token triggered by then is the cause, whatever the deadline said.
    fn poll_until(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        mut passed: impl FnMut(&mut Context<'_>, bool) -> bool,
    ) -> Poll<Result<F::Output, Option<OperationCancelled>>> {
        let this = self.project();
        let first = !*this.started;
        let token = this.registration.token.borrow();
        // Rule 1: what has already won on the first poll keeps the work from being polled.
        let lost_already = first && (token.triggered() || passed(cx, true));
        if !lost_already {
            *this.started = true;
            if let Poll::Ready(output) = this.work.poll(cx) {
                return Poll::Ready(Ok(output));
            }
        }
        let timed_out = lost_already || passed(cx, false);
        if this.registration.poll_triggered(cx).is_ready() {
            let token = this.registration.token.borrow();
            return Poll::Ready(Err(Some(
                token.cancellation().expect("ready only once triggered"),
            )));
        }
        match timed_out {
            true => Poll::Ready(Err(None)),
            false => Poll::Pending,
        }
    }
}

impl<T: Borrow<CancelToken>, F: Future> Future for Race<T, F> {
    type Output = Result<F::Output, OperationCancelled>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let polled = self.poll_until(cx, |_, _| false);
        polled.map_err(|lost| lost.expect("with no deadline, only the token can win"))
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
    /// The timeout counts from this future's first poll (as `.await` on it at once does), from
    /// the moment it finds the work pending, and is no token: an entry in the process-wide timer
    /// that wakes this future's task (no thread or task per call, on any executor), made then (so
    /// work ready at once reads no clock and touches no timer) and removed when this future
    /// completes or is dropped. The token is asked before the timeout, so a token triggered by
    /// then is the cause. It borrows the token, as [`CancellableWait`] does: a timed wait touches
    /// no reference count that other threads waiting on the same token share.
    /// [`CancellableWaitTimeoutOwned`] owns one.
    #[must_use = "futures do nothing unless polled"]
    pub struct CancellableWaitTimeout<'a, F> {
        #[pin]
        timed: TimedRace<&'a CancelToken, F>,
    }
}

pin_project! {
    /// [`CancelToken::cancellable_wait_timeout_owned`]'s future: [`CancellableWaitTimeout`] owning
    /// its token, so it is `'static` when the work is and can be spawned. Same outputs and rules.
    #[must_use = "futures do nothing unless polled"]
    pub struct CancellableWaitTimeoutOwned<F> {
        #[pin]
        timed: TimedRace<CancelToken, F>,
    }
}

pin_project! {
    /// The race with a deadline behind both timed waits, whichever way they hold their token.
    struct TimedRace<T: Borrow<CancelToken>, F> {
        #[pin]
        race: Race<T, F>,
        deadline: Deadline,
    }
}

/// A timed wait's deadline: its entry in the process timer, made once the first poll has found
/// the work pending.
struct Deadline {
    timeout: Duration,
    /// `None` until made, and for a timeout too large to represent (no deadline).
    entry: Option<TimerEntry>,
    /// Whether the entry was asked for: made, or found too large.
    made: bool,
}

impl Deadline {
    /// Whether the deadline has passed. Asked `first` (rule 1 of the first poll), only a zero
    /// timeout has. Asked again in that poll, the work is pending: it reads the clock once and
    /// makes the entry that wakes `cx`'s task once the timeout from now has passed. Asked in a
    /// later poll, it says whether that entry has fired (the timer fires an entry only once its
    /// tick has passed, never early) and moves it to `cx`'s waker.
    fn passed(&mut self, cx: &mut Context<'_>, first: bool) -> bool {
        if first {
            return self.timeout.is_zero();
        }
        if !std::mem::replace(&mut self.made, true) {
            self.entry = Timer::wake_after(self.timeout, cx.waker());
            return false;
        }
        self.entry
            .as_ref()
            .is_some_and(|entry| !entry.refresh(cx.waker()))
    }
}

impl Drop for Deadline {
    fn drop(&mut self) {
        self.entry.take().into_iter().for_each(TimerEntry::cancel);
    }
}

impl<T: Borrow<CancelToken>, F: Future> TimedRace<T, F> {
    fn new(token: T, timeout: Duration, work: F) -> Self {
        TimedRace {
            race: Race::new(token, work),
            deadline: Deadline {
                timeout,
                entry: None,
                made: false,
            },
        }
    }
}

impl<T: Borrow<CancelToken>, F: Future> Future for TimedRace<T, F> {
    type Output = Result<F::Output, WaitError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let deadline = this.deadline;
        let result = ready!(
            this.race
                .poll_until(cx, |cx, first| deadline.passed(cx, first))
        );
        // Done: the entry is of no more use (its drop would take it out too, later).
        deadline
            .entry
            .take()
            .into_iter()
            .for_each(TimerEntry::cancel);
        Poll::Ready(result.map_err(|lost| match lost {
            Some(cancelled) => WaitError::Cancelled(cancelled),
            None => WaitError::TimedOut {
                timeout: deadline.timeout,
            },
        }))
    }
}

impl<'a, F: Future> CancellableWaitTimeout<'a, F> {
    pub(crate) fn new(token: &'a CancelToken, timeout: Duration, work: F) -> Self {
        CancellableWaitTimeout {
            timed: TimedRace::new(token, timeout, work),
        }
    }
}

impl<F: Future> Future for CancellableWaitTimeout<'_, F> {
    type Output = Result<F::Output, WaitError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.project().timed.poll(cx)
    }
}

impl<F: Future> Future for CancellableWaitTimeoutOwned<F> {
    type Output = Result<F::Output, WaitError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.project().timed.poll(cx)
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

    /// Like [`cancellable_wait_timeout`](Self::cancellable_wait_timeout), owning the token instead
    /// of borrowing it: `tokio::spawn(token.clone().cancellable_wait_timeout_owned(work, d))`
    /// compiles. Same poll rules, timeout and cancel safety. (Owning costs a count update of the
    /// token when made and dropped, which threads waiting on one token at once then contend for:
    /// borrow where the wait is awaited in place.)
    ///
    /// ```
    /// use std::time::Duration;
    /// use cancel_token::CancelToken;
    ///
    /// let token = CancelToken::new("job");
    /// let hour = Duration::from_secs(3600);
    /// let wait = token.clone().cancellable_wait_timeout_owned(async { 7 }, hour);
    /// fn is_static<T: 'static>(_: &T) {}
    /// is_static(&wait);
    /// assert_eq!(futures::executor::block_on(wait).unwrap(), 7);
    /// ```
    pub fn cancellable_wait_timeout_owned<F: IntoFuture>(
        self,
        work: F,
        timeout: Duration,
    ) -> CancellableWaitTimeoutOwned<F::IntoFuture> {
        CancellableWaitTimeoutOwned {
            timed: TimedRace::new(self, timeout, work.into_future()),
        }
    }
}
