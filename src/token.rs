//! The handle: [`CancelToken`].

use std::borrow::Cow;
use std::fmt;
use std::future::IntoFuture;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use crate::cancellable::{CancellableWait, CancellableWaitTimeout, FirstOf};
use crate::graph::{Cause, Inner};
use crate::name::Name;
use crate::wait::{self, Registration, Wait, WaitOwned};
use crate::{OperationCancelled, timer};

/// A named, cloneable signal that an operation should stop.
///
/// A clone is the same token (equality and hashing are by identity). Triggering a token triggers
/// every token derived from it ([`child`](Self::child), [`chain`](Self::chain),
/// [`any`](Self::any)), transitively, and wakes everything waiting on any of them; it never
/// touches a parent. Once triggered, a token stays triggered.
///
/// Tokens are not tied to an executor or a thread: the same token can be awaited under tokio, smol
/// and `futures::executor`, and waited on by plain threads, at once.
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
        static NEVER: OnceLock<CancelToken> = OnceLock::new();
        NEVER
            .get_or_init(|| CancelToken {
                inner: Inner::never(Name::Static("never")),
            })
            .clone()
    }

    /// The name given at creation (`"a:b"` for `a.chain(b)`).
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
        Inner::trigger(&self.inner, Cause::Trigger);
    }

    /// Whether this token is triggered: one atomic load, no lock, the same cost at any depth.
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
    pub fn check(&self) -> Result<(), OperationCancelled> {
        match self.triggered() {
            false => Ok(()),
            true => Err(self.cancellation().expect("triggered")),
        }
    }

    pub(crate) fn cancellation(&self) -> Option<OperationCancelled> {
        self.triggered_token().map(OperationCancelled::new)
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
    /// `trigger()`, which does not touch this one. One allocation.
    pub fn child(&self, name: impl Into<Cow<'static, str>>) -> CancelToken {
        CancelToken {
            inner: Inner::child(&self.inner, name.into().into()),
        }
    }

    /// The seed's `chain`: a new token named `"{self}:{other}"`, triggered when either is;
    /// triggering it touches neither. Chaining a token with itself is allowed.
    pub fn chain(&self, other: &CancelToken) -> CancelToken {
        CancelToken::any(format!("{self}:{other}"), [self, other])
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
    /// [`WaitError::TimedOut`](crate::WaitError::TimedOut). The timeout is a deadline in the
    /// process-wide timer (no thread or task per call), so it works on any executor.
    pub fn cancellable_wait_timeout<F: IntoFuture>(
        &self,
        work: F,
        timeout: Duration,
    ) -> CancellableWaitTimeout<F::IntoFuture> {
        let deadline = self.child("timeout");
        if let Some(at) = Instant::now().checked_add(timeout) {
            timer::schedule(&deadline.inner, at);
        }
        CancellableWaitTimeout::new(deadline, timeout, work.into_future())
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
