//! The handle: [`CancelToken`].

use std::borrow::Cow;
use std::fmt;
use std::future::IntoFuture;
use std::hash::{Hash, Hasher};
use std::sync::Arc;
#[cfg(not(loom))]
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crate::callback::{Callback, CallbackGuard};
use crate::cancellable::{CancellableWait, CancellableWaitTimeout, FirstOf};
use crate::graph::{Cause, Inner};
use crate::guard::DropGuard;
use crate::name::Name;
use crate::timer::{Timer, TimerRef};
use crate::wait::{self, Registration, Wait, WaitOwned};
use crate::{OperationCancelled, Reason};

/// A named, cloneable signal that an operation should stop.
///
/// A clone is the same token (equality and hashing are by identity). Triggering a token triggers
/// every token derived from it ([`child`](Self::child), [`chain`](Self::chain),
/// [`any`](Self::any)), transitively, and wakes everything waiting on any of them; it never
/// touches a parent. Once triggered, a token stays triggered.
///
/// Tokens are not tied to an executor or a thread: the same token can be awaited under tokio, smol
/// and `futures::executor`, and waited on by plain threads, at once.
///
/// Hashing is by identity, so tokens are sound `HashMap`/`HashSet` keys. Clippy's
/// `mutable_key_type` lint sees the atomics inside and may warn anyway: allow it there, or list
/// `cancel_token::CancelToken` under `ignore-interior-mutability` in `clippy.toml`.
#[derive(Clone)]
pub struct CancelToken {
    pub(crate) inner: Arc<Inner>,
}

impl CancelToken {
    /// A new, live token with no parent. A `&'static str` name allocates nothing beyond the token's
    /// one 64-byte allocation.
    pub fn new(name: impl Into<Cow<'static, str>>) -> Self {
        CancelToken {
            inner: Inner::root(name.into().into()),
        }
    }

    /// A token that can never be triggered: [`trigger`](Self::trigger) does nothing, waits never
    /// complete, and deriving from it costs no more than creating a root token. Every call
    /// returns the same token.
    pub fn never() -> Self {
        #[cfg(not(loom))]
        {
            static NEVER: OnceLock<CancelToken> = OnceLock::new();
            NEVER.get_or_init(CancelToken::new_never).clone()
        }
        // A static would keep loom objects past the model run that made them: one per call.
        #[cfg(loom)]
        CancelToken::new_never()
    }

    fn new_never() -> Self {
        CancelToken {
            inner: Inner::never(Name::Static("never")),
        }
    }

    /// The name given at creation (`"a:b"` for `a.chain(b)`, rendered on the first call and
    /// then kept: see [`chain`](Self::chain)).
    pub fn name(&self) -> &str {
        self.inner.name()
    }

    /// Triggers this token and every token derived from it, and wakes all their waiters, async and
    /// blocking. Idempotent: triggering a triggered token does nothing.
    ///
    /// When this returns, every derived token reads triggered. Every derived token is marked
    /// before any waiter is woken, so a woken task sees the whole subtree triggered. Runs no
    /// recursion per level: a chain of any depth works on a small stack.
    pub fn trigger(&self) {
        Inner::trigger(&self.inner, Cause::Trigger, None);
    }

    /// Like [`trigger`](Self::trigger), recording why: the [`Reason`] every token it reaches
    /// reports, from [`reason`](Self::reason) and from [`OperationCancelled::reason`]. The first
    /// trigger wins: a token already triggered keeps its first reason. Any
    /// `Error + Send + Sync + 'static` value converts into a [`Reason::Custom`].
    ///
    /// Built-in reasons cost nothing extra; a [`Reason::Signal`] or [`Reason::Custom`] is stored
    /// in the token (allocating its node if nothing else has).
    pub fn trigger_with(&self, reason: impl Into<Reason>) {
        let (cause, stored) = match reason.into() {
            Reason::Triggered => (Cause::Trigger, None),
            Reason::DeadlineExceeded => (Cause::Deadline, None),
            reason => (Cause::Reason, Some(reason)),
        };
        Inner::trigger(&self.inner, cause, stored);
    }

    /// Why this token is triggered (the reason of the token that caused it); `None` while live.
    pub fn reason(&self) -> Option<Reason> {
        Inner::cause(&self.inner).map(|(_, reason)| reason)
    }

    /// Whether this token is triggered: one atomic load, no lock, the same cost at any depth.
    #[inline]
    pub fn triggered(&self) -> bool {
        self.inner.is_triggered()
    }

    /// The token whose [`trigger`](Self::trigger) caused this one to be triggered: itself when
    /// triggered directly, an ancestor otherwise; `None` while live. The first cause wins and never
    /// changes afterwards.
    pub fn triggered_token(&self) -> Option<CancelToken> {
        Inner::cause(&self.inner).map(|(inner, _)| CancelToken { inner })
    }

    /// `Err` naming the token that caused the cancellation, if this token is triggered.
    ///
    /// ```
    /// # use cancel_token::CancelToken;
    /// let token = CancelToken::new("worker");
    /// assert!(token.check().is_ok());
    /// token.trigger();
    /// assert_eq!(token.check().unwrap_err().to_string(), "Cancellation requested by worker token");
    /// ```
    #[doc(alias = "raise_if_triggered")]
    #[inline]
    pub fn check(&self) -> Result<(), OperationCancelled> {
        match self.triggered() {
            false => Ok(()),
            true => Err(self.cancelled()),
        }
    }

    /// The error of a triggered token: out of line, so the live path of `check` stays one load.
    #[cold]
    #[inline(never)]
    fn cancelled(&self) -> OperationCancelled {
        self.cancellation().expect("triggered")
    }

    pub(crate) fn cancellation(&self) -> Option<OperationCancelled> {
        Inner::cause(&self.inner)
            .map(|(inner, reason)| OperationCancelled::new(CancelToken { inner }, reason))
    }

    /// A future that completes once this token is triggered: at once if it already is.
    ///
    /// Cancel-safe: dropping it before it completes leaves nothing registered in the token.
    pub fn wait(&self) -> Wait<'_> {
        Wait(Registration::new(self))
    }

    /// Like [`wait`](Self::wait), but the future owns the handle, so it can be spawned.
    pub fn wait_owned(self) -> WaitOwned {
        WaitOwned(Registration::new(self))
    }

    /// Blocks the current thread until this token is triggered. For plain threads: from async code,
    /// `.await` [`wait`](Self::wait) instead.
    pub fn wait_blocking(&self) {
        wait::block_until(self, None);
    }

    /// Blocks the current thread until this token is triggered or `timeout` passes. Returns
    /// whether the token is triggered.
    pub fn wait_blocking_timeout(&self, timeout: Duration) -> bool {
        match Instant::now().checked_add(timeout) {
            Some(deadline) => wait::block_until(self, Some(deadline)),
            None => wait::block_until(self, None),
        }
    }

    /// A new token with this one as its only parent: triggered when this one is, or by its own
    /// `trigger()`, which does not touch this one. One allocation, and one lock of this token.
    ///
    /// Made on many threads at once, children scale: once this token's lock is found contended,
    /// each thread's children register with a lane of this token of that thread's own (a hidden
    /// child, made once per thread and then reused), so threads deriving at once share no lock or
    /// reference count. Nothing else changes: they trigger with this token and name it as their
    /// cause. A lane unused for 100 ms is dropped, so this token may outlive its last handle and
    /// child by up to 200 ms (see the README's "How it works").
    pub fn child(&self, name: impl Into<Cow<'static, str>>) -> CancelToken {
        CancelToken {
            inner: Inner::child(&self.inner, name.into().into()),
        }
    }

    /// The seed's `chain`: a new token named `"{self}:{other}"`, triggered when either is;
    /// triggering it touches neither. Chaining a token with itself is allowed.
    ///
    /// The name is rendered on the first [`name`](Self::name) (or `Display`, or an
    /// [`OperationCancelled`] naming it), from the two parents, and kept: until then a chain
    /// costs the same memory however long its name would be, so `t = t.chain(&other)` in a loop
    /// stays linear. Asked for, the name is as long as it reads: `t = t.chain(&t)` doubles it
    /// each round. To join many tokens under a short name, [`any`](Self::any) takes one of your
    /// choosing.
    pub fn chain(&self, other: &CancelToken) -> CancelToken {
        let name = Name::chain(self.inner.clone(), other.inner.clone());
        CancelToken {
            inner: Inner::any(name, &[&self.inner, &other.inner]),
        }
    }

    /// A new token triggered when any of `parents` is (any number of them; with none it is a root
    /// token). A token derived from a parent that is already triggered is born triggered, with
    /// that parent's cause; with several such parents, the first in `parents` gives it.
    pub fn any<'a>(
        name: impl Into<Cow<'static, str>>,
        parents: impl IntoIterator<Item = &'a CancelToken>,
    ) -> CancelToken {
        let parents: Vec<&Arc<Inner>> = parents.into_iter().map(|p| &p.inner).collect();
        CancelToken {
            inner: Inner::any(name.into().into(), &parents),
        }
    }

    /// Runs `work` until it completes or this token is triggered.
    ///
    /// * A token already triggered at the first poll wins: `work` is never polled.
    /// * After that, `work` is polled before the token is asked, so an output it produced is
    ///   returned even if the token triggered in the same instant.
    /// * Dropping the returned future drops `work`.
    pub fn cancellable_wait<F: IntoFuture>(&self, work: F) -> CancellableWait<'_, F::IntoFuture> {
        CancellableWait::new(self, work.into_future())
    }

    /// Like [`cancellable_wait`](Self::cancellable_wait), giving up after `timeout` with
    /// [`WaitError::TimedOut`](crate::WaitError::TimedOut). The timeout counts from the first
    /// poll (at once under `.await`), once that poll finds the work pending, and is an entry in
    /// the process-wide timer that wakes the waiting task: no token, thread or task per call, and
    /// any executor; work ready at the first poll costs no clock read and no entry. The token is
    /// asked before the timeout: its trigger (or an ancestor's, or their own deadlines) is
    /// [`WaitError::Cancelled`](crate::WaitError::Cancelled).
    ///
    /// A zero timeout has passed before the first poll: like a token triggered before the call,
    /// it never polls the work, even work that is ready.
    ///
    /// The future borrows the token, so that threads waiting on one token at once (every request
    /// on a shutdown token) share no reference count; to spawn it,
    /// [`cancellable_wait_timeout_owned`](Self::cancellable_wait_timeout_owned) owns one.
    pub fn cancellable_wait_timeout<F: IntoFuture>(
        &self,
        work: F,
        timeout: Duration,
    ) -> CancellableWaitTimeout<'_, F::IntoFuture> {
        CancellableWaitTimeout::new(self, timeout, work.into_future())
    }

    /// A child of this token, named like it, that triggers itself after `timeout` with
    /// [`Reason::DeadlineExceeded`], even if nobody is polling or waiting on it.
    ///
    /// The deadline is an entry in the process-wide timer (a timing wheel per core-sized shard,
    /// one thread for the whole process, started on first use): no thread or task per token, and
    /// any executor or none. It fires at or after the deadline, never before (1 ms resolution). A token
    /// triggered or dropped before its deadline takes its entry out at once. A timeout too large
    /// to represent means no deadline. For tests, [`ManualClock`](crate::ManualClock) makes the
    /// same tokens on a clock that only moves when told.
    ///
    /// ```
    /// use std::time::Duration;
    /// use cancel_token::{CancelToken, Reason};
    ///
    /// let request = CancelToken::new("request");
    /// let attempt = request.with_timeout(Duration::from_millis(10));
    /// attempt.wait_blocking();
    /// let cancelled = attempt.check().unwrap_err();
    /// assert!(matches!(cancelled.reason(), Reason::DeadlineExceeded));
    /// assert!(!request.triggered());
    /// ```
    pub fn with_timeout(&self, timeout: Duration) -> CancelToken {
        let now = Instant::now();
        self.deadline_child(&Timer::process(), now.checked_add(timeout), now)
    }

    /// Like [`with_timeout`](Self::with_timeout), with the deadline as an instant.
    pub fn with_deadline(&self, deadline: Instant) -> CancelToken {
        self.deadline_child(&Timer::process(), Some(deadline), Instant::now())
    }

    pub(crate) fn deadline_child(
        &self,
        timer: &TimerRef,
        deadline: Option<Instant>,
        now: Instant,
    ) -> CancelToken {
        let child = CancelToken {
            inner: Inner::child_named_alike(&self.inner),
        };
        if let Some(deadline) = deadline {
            Timer::schedule(timer, &child.inner, deadline, now);
        }
        child
    }

    /// The earliest deadline in force on this token: its own, or any ancestor's.
    pub fn deadline(&self) -> Option<Instant> {
        Inner::deadline(&self.inner)
    }

    /// Runs `f` once, when this token is triggered: on the triggering thread, or, when the
    /// trigger is a deadline of the process timer ([`with_timeout`](Self::with_timeout) and
    /// friends), on a cancel-token callback thread, never on the timer's own thread, so that a
    /// callback that blocks delays no other deadline; at once, on this thread, if the token is
    /// already triggered. (A [`ManualClock`](crate::ManualClock)'s deadlines run theirs inside
    /// `advance`, on its caller's thread.) Dropping the returned guard
    /// unregisters `f` (waiting for it if it is running on another thread);
    /// [`CallbackGuard::detach`] keeps it registered.
    ///
    /// Order: a trigger first marks every token it reaches, then runs their callbacks (one
    /// token's in registration order; the triggered token's before its descendants'), then wakes
    /// their waiters. A panicking callback is caught: it poisons nothing and the other callbacks
    /// still run. `f` should not block for long: it holds up the trigger that runs it (and the
    /// callbacks queued after it), though never another deadline. For a deadline, the token's
    /// waiters may be woken before its callbacks have run.
    ///
    /// ```
    /// use std::sync::atomic::{AtomicBool, Ordering};
    /// use std::sync::Arc;
    /// use cancel_token::CancelToken;
    ///
    /// let token = CancelToken::new("connection");
    /// let closed = Arc::new(AtomicBool::new(false));
    /// let flag = closed.clone();
    /// let _guard = token.on_trigger(move || flag.store(true, Ordering::SeqCst));
    /// token.trigger();
    /// assert!(closed.load(Ordering::SeqCst));
    /// ```
    pub fn on_trigger(&self, f: impl FnOnce() + Send + 'static) -> CallbackGuard {
        let callback = Callback::new(f);
        match self.inner.add_callback(&callback) {
            Some(id) => CallbackGuard::new(self.clone(), Some((id, callback))),
            None => {
                if self.triggered() {
                    callback.run();
                }
                CallbackGuard::new(self.clone(), None)
            }
        }
    }

    /// A guard that triggers this token when dropped, unless disarmed.
    pub fn drop_guard(self) -> DropGuard {
        DropGuard::new(self)
    }

    /// Runs several futures until the first completes (its output wins, the others are dropped)
    /// or this token is triggered. With no futures it only waits for the token.
    pub fn cancellable_wait_any<I>(
        &self,
        works: I,
    ) -> CancellableWait<'_, FirstOf<<I::Item as IntoFuture>::IntoFuture>>
    where
        I: IntoIterator,
        I::Item: IntoFuture,
    {
        CancellableWait::new(self, FirstOf::new(works))
    }
}

impl PartialEq for CancelToken {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }
}

impl Eq for CancelToken {}

impl Hash for CancelToken {
    fn hash<H: Hasher>(&self, state: &mut H) {
        Arc::as_ptr(&self.inner).hash(state);
    }
}

impl fmt::Debug for CancelToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<CancelToken: {}>", self.name())
    }
}

impl fmt::Display for CancelToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
