//! Graceful shutdown: a [`Drain`] tracks work in flight, and on shutdown triggers its token, waits
//! up to a grace period for the work to finish, aborts the futures it owns that did not, and
//! names everything that did not in a [`DrainReport`].
//!
//! Runtime-agnostic: the grace period is a deadline in the crate's process timer and the waits are
//! the crate's own, so the same drain works under tokio, smol, `futures::executor` and plain
//! threads.
//!
//! # Shape
//!
//! One [`Shared`] behind an `Arc`, four tokens and one mutex:
//!
//! * `given`, the user's, from [`Drain::new`]: triggered by shutdown.
//! * `token`, the drain's own child of `given`: triggered when `given` is, and by shutdown
//!   itself, so work is told to stop even when `given` cannot be triggered
//!   ([`CancelToken::never`]). Handed to tracked threads; tracked futures are expected to watch
//!   it (through [`Drain::token`]).
//! * `abort`, a private root token: triggered when the grace period has passed. Every
//!   [`Tracked`] future races its work against it and drops the work when it wins.
//! * `idle`, a private root token: triggered once the drain is closed and nothing is in flight;
//!   shutdown waits on it with the grace period as timeout.
//! * `state`: whether the drain is closed, and a slab of the work in flight: its name, kind, and
//!   whether it has returned (D5).
//!
//! # Invariants
//!
//! Every place that relies on one of these names it as (D1)..(D5).
//!
//! 1. **(D1)** An entry is in the slab exactly while its owner, a [`Slot`] (inside a [`Tracked`]
//!    future or a tracked thread's closure), holds its key. Only the owner removes it, once, so a
//!    key never names someone else's entry.
//! 2. **(D2)** `closed` changes once, from `false` to `true`, under the lock, and every insertion
//!    checks it under the same lock first: nothing enters a closed drain.
//! 3. **(D3)** `idle` is triggered only by whoever observed "closed and empty" under the lock. By
//!    (D1, D2) that stays true forever once it is true, and both `close` and every removal check
//!    it, so whichever of them comes last triggers `idle`: a shutdown cannot miss the moment the
//!    last work finishes.
//! 4. **(D4)** *Lock order:* the drain's mutex is a leaf. While it is held, no token is
//!    triggered, waited on or registered with, no waker is woken and no user code runs (an entry's
//!    name is a `Cow<'static, str>`, whose drop runs none); tokens are triggered after unlocking.
//!    So the drain adds no edge to the tokens' lock order (graph's I5) and cannot deadlock with it.
//! 5. **(D5)** *Finished means returned.* A [`Tracked`] future marks its entry `returned`, under
//!    the lock, as soon as its work has returned `Ready`, and only then drops the work and leaves
//!    (D1). A report never names a `returned` entry, even with a zero grace and even while its
//!    work is still being dropped: its output is in hand. `idle` (D3) still waits for the
//!    removal, so [`Drain::wait`] and a shutdown with time to spare still see resources released.
//!
//! # Cost
//!
//! Tracking is one lock, one slab insertion (no allocation once the slab has grown, and none for a
//! `&'static str` name) and two reference counts; a future finishing is two locks (D5) and one
//! removal, a thread finishing one lock and one removal. A slab that grew past [`KEEP_SLOTS`] is
//! given back when it empties, so a burst leaves no memory behind.

use std::borrow::Cow;
use std::fmt;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::thread::JoinHandle;
use std::time::Duration;

use pin_project_lite::pin_project;
use slab::Slab;

use crate::cancellable::Race;
use crate::sync::{Mutex, lock};
use crate::{CancelToken, Error};

/// Slabs that grew past this many slots are given back when they empty.
const KEEP_SLOTS: usize = 64;

/// Tracks work in flight and shuts it down gracefully: trigger, wait up to a grace period, abort
/// what it owns, report by name what did not finish.
///
/// * [`track`](Self::track) wraps a future; the drain owns it and can abort it (drop it) after
///   the grace period. [`track_thread`](Self::track_thread) starts a thread; threads cannot be
///   aborted, only reported.
/// * [`close`](Self::close) makes `track*` fail with [`Error::Closed`] from then on: unlike
///   tokio's `TaskTracker::close`, a closed drain rejects new work, so nothing can slip in behind
///   a shutdown's back.
/// * [`shutdown`](Self::shutdown) (async) and [`shutdown_blocking`](Self::shutdown_blocking)
///   close, trigger the token, wait, abort and report.
///
/// `Clone` is cheap (one reference count) and a clone is the same drain: hand clones to the code
/// that starts work. The drain keeps no work alive: a [`Tracked`] future that is dropped, or a
/// thread that returns or panics, leaves it at once.
///
/// # A request timeout is not the shutdown token
///
/// The drain's token says *stop taking new work*; a timeout says *give up on this piece of
/// work*. Keep them apart when work in flight must finish: run each request under a token of its
/// own that is **not** derived from the drain's, with its timeout
/// ([`CancelToken::cancellable_wait_timeout`], or a [`CancelToken::with_timeout`] token handed
/// to the handler), and let the drain's token (or a per-connection child of it) stop only the
/// loops that take new requests. A request token made with `drain.token().child(..)` would be
/// cancelled by the shutdown itself, cutting short exactly the work the grace period is there to
/// let finish. `examples/tokio_drain.rs` is a server-shaped loop on tokio written this way
/// (`cargo run --example tokio_drain`).
///
/// ```
/// use std::time::Duration;
/// use cancel_token::{CancelToken, Drain};
///
/// let drain = Drain::new(CancelToken::new("shutdown"));
/// // A well-behaved worker: stops when the drain's token is triggered.
/// let worker = drain.track_thread("worker", |token| token.wait_blocking()).unwrap();
/// // A straggler: ignores the token.
/// let token = drain.token().clone();
/// let straggler = drain
///     .track("straggler", async { std::future::pending::<()>().await })
///     .unwrap();
/// let runner = std::thread::spawn(move || futures::executor::block_on(straggler));
///
/// let report = drain.shutdown_blocking(Duration::from_secs(1));
/// assert!(token.triggered());
/// // The straggler was aborted: its future resolves to `Error::Aborted`.
/// assert!(report.aborted().eq(["straggler"]));
/// assert!(runner.join().unwrap().is_err());
/// println!("{report}"); // "1 unfinished after 1s: straggler"
/// worker.join().unwrap();
/// // A closed drain rejects new work.
/// assert!(drain.track("late", async {}).is_err());
/// ```
#[derive(Clone)]
pub struct Drain {
    shared: Arc<Shared>,
}

struct Shared {
    given: CancelToken,
    token: CancelToken,
    abort: CancelToken,
    idle: CancelToken,
    state: Mutex<State>,
}

struct State {
    closed: bool,
    work: Slab<Entry>,
    /// Orders the report by tracking order (slab keys are reused, so they do not).
    next_seq: u64,
}

struct Entry {
    name: Cow<'static, str>,
    kind: Kind,
    seq: u64,
    /// (D5) the work has returned: finished, only its drop is left.
    returned: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Future,
    Thread,
}

impl Drain {
    /// A new, open drain that triggers `token` on shutdown.
    ///
    /// The work is told to stop through the drain's own token, [`Drain::token`], a child of
    /// `token` that shutdown triggers too: so `Drain::new(CancelToken::never())` (no outside
    /// trigger, only the drain's shutdown) still stops its work at shutdown, and its report names
    /// only the work that ignored it.
    ///
    /// Triggering `token` by other means (a signal, a parent) tells the work to stop but does not
    /// close the drain: work can still be tracked until [`close`](Self::close) or a shutdown.
    /// Allocates the drain's state and three tokens.
    pub fn new(token: CancelToken) -> Self {
        Drain {
            shared: Arc::new(Shared {
                token: token.child("drain"),
                given: token,
                abort: CancelToken::new("drain-abort"),
                idle: CancelToken::new("drain-idle"),
                state: Mutex::new(State {
                    closed: false,
                    work: Slab::new(),
                    next_seq: 0,
                }),
            }),
        }
    }

    /// The token tracked work watches: tracked futures should stop when it is triggered (for
    /// instance with [`CancelToken::cancellable_wait`] or [`CancelToken::cancellable_stream`]);
    /// tracked threads are handed it.
    ///
    /// It is the drain's own child of the token given to [`new`](Self::new), named `drain`:
    /// triggered when that one is (and then naming it as the cause), and by every shutdown, even
    /// when that one cannot be triggered ([`CancelToken::never`]).
    ///
    /// ```
    /// use std::time::Duration;
    /// use cancel_token::{CancelToken, Drain};
    ///
    /// let drain = Drain::new(CancelToken::never());
    /// let worker = drain.track_thread("worker", |token| token.wait_blocking()).unwrap();
    /// let report = drain.shutdown_blocking(Duration::from_secs(10));
    /// assert!(report.is_clean(), "{report}");
    /// worker.join().unwrap();
    /// ```
    pub fn token(&self) -> &CancelToken {
        &self.shared.token
    }

    /// Completes once the drain is closed and everything tracked has finished (tokio-util's
    /// `TaskTracker::wait`). Never triggers the token and never closes the drain: pair it with
    /// [`close`](Self::close). Relies on D3: `idle` is triggered exactly when "closed and empty"
    /// is first observed. Cancel safe: dropping it changes nothing.
    ///
    /// ```
    /// use cancel_token::{CancelToken, Drain};
    ///
    /// let drain = Drain::new(CancelToken::new("svc"));
    /// let work = drain.track("w", async {}).unwrap();
    /// drain.close();
    /// futures::executor::block_on(async {
    ///     work.await.unwrap();
    ///     drain.wait().await;
    /// });
    /// assert!(!drain.token().triggered());
    /// ```
    pub async fn wait(&self) {
        self.shared.idle.wait().await;
    }

    /// The blocking twin of [`wait`](Self::wait): blocks the calling thread until the drain is
    /// closed and everything tracked has finished. Do not call it from async code.
    pub fn wait_blocking(&self) {
        self.shared.idle.wait_blocking();
    }

    /// Tracks `work` under `name`: the returned future runs `work` and resolves to its output,
    /// or to [`Error::Aborted`] if the drain aborts it after a shutdown's grace period. Spawn it
    /// on any executor, or await it.
    ///
    /// The work counts as in flight from this call until the returned future completes or is
    /// dropped. [`Error::Closed`] if the drain is closed; `work` is then dropped unpolled.
    pub fn track<F: IntoFuture>(
        &self,
        name: impl Into<Cow<'static, str>>,
        work: F,
    ) -> Result<Tracked<F::IntoFuture>, Error> {
        let slot = self.shared.enter(name.into(), Kind::Future)?;
        Ok(Tracked {
            work: Work::Running {
                race: Race::new(self.shared.abort.clone(), work.into_future()),
            },
            slot,
        })
    }

    /// Starts a thread named `name` running `f` with the drain's token, and tracks it until `f`
    /// returns or panics. A thread cannot be aborted: one still running after a shutdown's grace
    /// period is only reported (see [`DrainReport::running_threads`]).
    ///
    /// [`Error::Closed`] if the drain is closed, [`Error::Spawn`] if the operating system
    /// refuses the thread; `f` is then dropped uncalled. A name containing a NUL byte is tracked
    /// as given but does not name the OS thread.
    pub fn track_thread<F>(
        &self,
        name: impl Into<Cow<'static, str>>,
        f: F,
    ) -> Result<JoinHandle<()>, Error>
    where
        F: FnOnce(CancelToken) + Send + 'static,
    {
        let name = name.into();
        let mut builder = std::thread::Builder::new();
        if !name.contains('\0') {
            builder = builder.name(name.to_string());
        }
        let slot = self.shared.enter(name, Kind::Thread)?;
        let token = self.shared.token.clone();
        builder
            .spawn(move || {
                // Dropped when `f` returns or unwinds: the thread leaves the drain either way.
                let _slot = slot;
                f(token);
            })
            // A refused thread drops its closure, and the slot with it.
            .map_err(Error::Spawn)
    }

    /// Closes the drain: from now on `track` and `track_thread` fail with [`Error::Closed`].
    /// Work already tracked carries on. Idempotent. Does not trigger the token.
    pub fn close(&self) {
        let mut state = lock(&self.shared.state);
        state.closed = true;
        let idle = state.work.is_empty();
        drop(state);
        if idle {
            // (D3) closed and empty, observed under the lock; (D4) triggered unlocked.
            self.shared.idle.trigger();
        }
    }

    /// Whether the drain is closed.
    pub fn is_closed(&self) -> bool {
        lock(&self.shared.state).closed
    }

    /// How many tracked futures and threads are in flight: tracked and not yet left (a future
    /// leaves once its work is dropped, a thread once its closure has returned or unwound).
    pub fn in_flight(&self) -> usize {
        lock(&self.shared.state).work.len()
    }

    /// Shuts down: closes the drain, triggers its token, waits until every tracked piece of work
    /// has finished or `grace` has passed, then aborts the tracked futures still running and
    /// reports by name what did not finish.
    ///
    /// Aborting wakes each unfinished [`Tracked`] future, which drops its work and resolves to
    /// [`Error::Aborted`] when its executor next polls it. Calling it again (or on a clone)
    /// waits again and reports what is still unfinished then.
    ///
    /// *Finished* means the work returned (a future's work returned `Ready`, a thread's closure
    /// returned or unwound), even if its drop is still running (D5). Between triggering the
    /// token and starting the grace period the shutdown yields to its executor once, so even a
    /// zero grace lets the work the trigger woke run, if it shares the shutdown's task (a
    /// `join!`) or its single-threaded executor: what returns then is finished. Work on other
    /// threads gets only the grace period: a zero grace reports most of it as unfinished, even
    /// though it would have returned a moment later.
    ///
    /// Runs on any executor (the grace period is a deadline in the crate's timer thread).
    /// Cancel safety: dropping this future during the grace period leaves the drain closed and
    /// its token triggered, but aborts nothing.
    pub async fn shutdown(&self, grace: Duration) -> DrainReport {
        self.begin_shutdown();
        if !self.shared.idle.triggered() {
            yield_once().await;
        }
        // Ends when the drain is idle or the deadline passes; either way the report says what is
        // left, so the result itself carries nothing.
        let _ = CancelToken::never()
            .cancellable_wait_timeout(self.shared.idle.wait(), grace)
            .await;
        self.finish(grace)
    }

    /// [`shutdown`](Self::shutdown) for plain threads: blocks the calling thread for at most
    /// about `grace`. Do not call it from async code, which would block its executor (and,
    /// on a single-threaded one, the very tasks it waits for). Finished means the same (D5); with
    /// nothing to yield to, a zero grace counts only the work that had already returned.
    pub fn shutdown_blocking(&self, grace: Duration) -> DrainReport {
        self.begin_shutdown();
        self.shared.idle.wait_blocking_timeout(grace);
        self.finish(grace)
    }

    fn begin_shutdown(&self) {
        self.close();
        // The given token first, so the work sees it as the cause; then the drain's own, which
        // the first already triggered unless it cannot be triggered (`never`).
        self.shared.given.trigger();
        self.shared.token.trigger();
    }

    /// Names what is unfinished, then aborts. In that order: an aborted future leaves the slab as
    /// soon as it is polled, possibly on another thread, and must still be reported. Work that
    /// has returned is finished, even if it has not left yet (D5).
    fn finish(&self, grace: Duration) -> DrainReport {
        let state = lock(&self.shared.state);
        let mut left: Vec<(u64, Cow<'static, str>, Kind)> = state
            .work
            .iter()
            .filter(|(_, entry)| !entry.returned)
            .map(|(_, entry)| (entry.seq, entry.name.clone(), entry.kind))
            .collect();
        drop(state);
        self.shared.abort.trigger();
        left.sort_unstable_by_key(|&(seq, ..)| seq);
        let (unfinished, kinds) = left.into_iter().map(|(_, name, kind)| (name, kind)).unzip();
        DrainReport {
            grace,
            unfinished,
            kinds,
        }
    }
}

/// Pending once, waking itself: the executor runs whatever else is ready before resuming.
async fn yield_once() {
    let mut yielded = false;
    std::future::poll_fn(|cx| {
        if yielded {
            return Poll::Ready(());
        }
        yielded = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    })
    .await;
}

impl Shared {
    /// Adds an entry, unless the drain is closed (D2).
    fn enter(self: &Arc<Self>, name: Cow<'static, str>, kind: Kind) -> Result<Slot, Error> {
        let mut state = lock(&self.state);
        if state.closed {
            return Err(Error::Closed);
        }
        let seq = state.next_seq;
        state.next_seq += 1;
        let key = state.work.insert(Entry {
            name,
            kind,
            seq,
            returned: false,
        });
        drop(state);
        Ok(Slot {
            shared: self.clone(),
            key: Some(key),
        })
    }

    /// Removes the entry `key` (D1: it is ours), returning its name.
    fn leave(&self, key: usize) -> Cow<'static, str> {
        let mut state = lock(&self.state);
        let entry = state.work.remove(key);
        if state.work.is_empty() && state.work.capacity() > KEEP_SLOTS {
            state.work = Slab::new();
        }
        let idle = state.closed && state.work.is_empty();
        drop(state);
        if idle {
            // (D3) closed and empty, observed under the lock; (D4) triggered unlocked.
            self.idle.trigger();
        }
        entry.name
    }
}

/// Ownership of one entry (D1): removes it when released or dropped.
struct Slot {
    shared: Arc<Shared>,
    key: Option<usize>,
}

impl Slot {
    /// (D5) Marks the entry finished, before its work is dropped: no report names it from now on.
    fn mark_returned(&self) {
        let key = self
            .key
            .expect("(D1) the entry is ours until it is released");
        lock(&self.shared.state).work[key].returned = true;
    }

    /// Removes the entry, once; returns its name the first time.
    fn release(&mut self) -> Option<Cow<'static, str>> {
        let key = self.key.take()?;
        Some(self.shared.leave(key))
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.release();
    }
}

pin_project! {
    #[project = WorkProj]
    enum Work<F> {
        Running { #[pin] race: Race<CancelToken, F> },
        Done,
    }
}

pin_project! {
    /// The future of [`Drain::track`]: runs the work, and resolves to its output, or to
    /// [`Error::Aborted`] if the drain aborted it after a shutdown's grace period.
    ///
    /// * The work is polled first on every poll, so an output it produced is returned even if
    ///   the abort came in the same instant (an output may own something that must not be
    ///   lost). If the drain was already aborted at the first poll, the work is never polled.
    /// * On completion, either way, the work is dropped *before* it leaves the drain, so
    ///   [`Drain::wait`], [`Drain::in_flight`] and a shutdown that ends before its grace period
    ///   see its resources released. A report made when the grace period ends counts it as
    ///   finished as soon as its work has returned, even if that drop is still running.
    /// * Dropping it drops the work and removes it from the drain, which then counts it as
    ///   finished.
    /// * Allocation: none; two reference counts, one slot in the drain, and, while pending, one
    ///   slot in the abort token's waiter list.
    ///
    /// Polling it again after it completed panics, as for an `async` block.
    #[must_use = "futures do nothing unless polled"]
    pub struct Tracked<F> {
        #[pin]
        work: Work<F>,
        slot: Slot,
    }
}

impl<F: Future> Future for Tracked<F> {
    type Output = Result<F::Output, Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        let WorkProj::Running { race } = this.work.as_mut().project() else {
            panic!("`Tracked` polled after completion");
        };
        // The race's rules: the work first (an output is never thrown away), unless the abort
        // came before the first poll.
        let result = ready!(race.poll(cx));
        if result.is_ok() {
            // (D5) finished as of now, whatever its drop below costs.
            this.slot.mark_returned();
        }
        // Dropped before the entry leaves, so `idle` (D3) means released resources.
        this.work.set(Work::Done);
        let name = this.slot.release();
        Poll::Ready(result.map_err(|_aborted| Error::Aborted {
            name: name.expect("(D1) the entry is ours until the work is done"),
        }))
    }
}

impl<F> fmt::Debug for Tracked<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tracked")
            .field("done", &matches!(self.work, Work::Done))
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for Drain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = lock(&self.shared.state);
        let (closed, in_flight) = (state.closed, state.work.len());
        drop(state);
        f.debug_struct("Drain")
            .field("token", &self.shared.given)
            .field("closed", &closed)
            .field("in_flight", &in_flight)
            .finish()
    }
}

/// What a shutdown left unfinished: the names of the tracked work still running when the grace
/// period ended, in the order it was tracked.
///
/// `Display` is `2 unfinished after 5s: worker-1, worker-2`, or
/// `all tracked work finished within 5s` when clean.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DrainReport {
    grace: Duration,
    unfinished: Vec<Cow<'static, str>>,
    /// `kinds[i]` is the kind of `unfinished[i]`.
    kinds: Vec<Kind>,
}

impl DrainReport {
    /// Whether everything tracked finished within the grace period.
    pub fn is_clean(&self) -> bool {
        self.unfinished.is_empty()
    }

    /// The names of everything that had not finished when the grace period ended, futures and
    /// threads, in tracking order.
    pub fn unfinished(&self) -> &[Cow<'static, str>] {
        &self.unfinished
    }

    /// The unfinished futures, which the drain aborted: at its next poll each drops its work and
    /// resolves to [`Error::Aborted`], unless its work, asked first, returns an output then,
    /// which is never thrown away. With a very short grace, work the trigger woke on another
    /// thread can be in that state: unfinished when the report was made, finished right after.
    pub fn aborted(&self) -> impl Iterator<Item = &str> {
        self.of_kind(Kind::Future)
    }

    /// The unfinished threads, which cannot be aborted and may still be running.
    pub fn running_threads(&self) -> impl Iterator<Item = &str> {
        self.of_kind(Kind::Thread)
    }

    /// The grace period the shutdown waited.
    pub fn grace(&self) -> Duration {
        self.grace
    }

    fn of_kind(&self, kind: Kind) -> impl Iterator<Item = &str> {
        self.unfinished
            .iter()
            .zip(&self.kinds)
            .filter(move |&(_, &k)| k == kind)
            .map(|(name, _)| &**name)
    }
}

impl fmt::Display for DrainReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `Duration::MAX` means "wait as long as it takes": no number would be true to print.
        let unlimited = self.grace == Duration::MAX;
        let grace = self.grace;
        match (self.is_clean(), unlimited) {
            (true, true) => return write!(f, "all tracked work finished, with no time limit"),
            (true, false) => return write!(f, "all tracked work finished within {grace:?}"),
            (false, true) => write!(f, "{} unfinished: ", self.unfinished.len())?,
            (false, false) => write!(f, "{} unfinished after {grace:?}: ", self.unfinished.len())?,
        }
        for (i, name) in self.unfinished.iter().enumerate() {
            let sep = if i == 0 { "" } else { ", " };
            write!(f, "{sep}{name}")?;
        }
        Ok(())
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn wait_ends_only_once_closed_and_empty() {
        use futures::FutureExt;
        let drain = Drain::new(CancelToken::new("d"));
        let work = drain.track("w", async {}).unwrap();
        let mut wait = std::pin::pin!(drain.wait());
        assert!(wait.as_mut().now_or_never().is_none());
        drain.close();
        assert!(wait.as_mut().now_or_never().is_none());
        futures::executor::block_on(work).unwrap();
        assert!(wait.now_or_never().is_some());
        assert!(!drain.token().triggered());
    }

    #[test]
    fn an_unlimited_grace_prints_no_number() {
        let report = Drain::new(CancelToken::new("d")).shutdown_blocking(Duration::MAX);
        assert_eq!(
            report.to_string(),
            "all tracked work finished, with no time limit"
        );
    }

    #[test]
    fn a_burst_leaves_no_memory_behind() {
        let drain = Drain::new(CancelToken::new("burst"));
        let tracked: Vec<_> = (0..1000)
            .map(|_| drain.track("w", async {}).unwrap())
            .collect();
        assert!(lock(&drain.shared.state).work.capacity() >= 1000);
        drop(tracked);
        let state = lock(&drain.shared.state);
        assert!(state.work.is_empty());
        assert!(state.work.capacity() <= KEEP_SLOTS);
    }
}
