//! Waiting for a token: futures for any executor, and blocking waits for plain threads.
//!
//! Both kinds register a `Waker` in the token's node under its lock (a blocking wait's unparks its
//! thread), or in this thread's lane's once the token is sharded (`lanes` L4), and sleep only
//! after reading the state there; see "No lost wake-up" in `graph` for why that cannot miss a
//! trigger.

use std::borrow::Borrow;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

use crate::CancelToken;
use crate::graph::WaiterKey;
use crate::sync::{Thread, current_thread, park};

/// Wakes a thread parked in a blocking wait: so a blocking wait registers a plain `Waker`, and the
/// token's waiter list holds one kind of entry.
struct Unparker(Thread);

impl Wake for Unparker {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}

/// A registration in a token's waiter list, removed on drop: the one piece of logic behind
/// [`Wait`], [`WaitOwned`] and the cancellable waits.
pub(crate) struct Registration<T: Borrow<CancelToken>> {
    pub(crate) token: T,
    waiter: WaiterKey,
}

impl<T: Borrow<CancelToken>> Registration<T> {
    pub(crate) fn new(token: T) -> Self {
        Registration {
            token,
            waiter: WaiterKey::default(),
        }
    }

    pub(crate) fn poll_triggered(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        // Fast path: one load.
        if self.waiter.poll(&self.token.borrow().inner, cx.waker()) {
            // The trigger took the registration (graph I2): nothing to remove.
            self.waiter = WaiterKey::default();
            return Poll::Ready(());
        }
        Poll::Pending
    }
}

impl<T: Borrow<CancelToken>> Drop for Registration<T> {
    fn drop(&mut self) {
        self.waiter.deregister(&self.token.borrow().inner);
        // The lane it may hold is released after, unlocked (graph I5).
    }
}

/// The future of [`CancelToken::wait`]: ready once the token is triggered.
///
/// * Ready at once, without locking, if the token is already triggered.
/// * Cancel-safe: dropping it removes its registration; nothing stays behind in the token.
/// * Allocates nothing of its own while it is the token's only waiter (it takes the inline slot of
///   the token's node, which the token's first waiter or child allocates once); further waiters
///   each take a slot in the token's waiter slab while they are pending (the slab grows as needed).
/// * On a token that waiters or children on several threads contend for (a shutdown token every
///   request awaits), it registers with this thread's lane of the token instead, made once per
///   thread, so that threads waiting at once lock different nodes.
#[must_use = "futures do nothing unless polled"]
pub struct Wait<'a>(pub(crate) Registration<&'a CancelToken>);

/// The future of [`CancelToken::wait_owned`]: like [`Wait`], but owns a handle, so it is `'static`.
#[must_use = "futures do nothing unless polled"]
pub struct WaitOwned(pub(crate) Registration<CancelToken>);

impl Future for Wait<'_> {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.0.poll_triggered(cx)
    }
}

impl Future for WaitOwned {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.0.poll_triggered(cx)
    }
}

impl std::fmt::Debug for Wait<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Wait").field(self.0.token).finish()
    }
}

impl std::fmt::Debug for WaitOwned {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("WaitOwned").field(&self.0.token).finish()
    }
}

/// Parks the current thread until `token` triggers or `deadline` passes (never, when `None`).
/// Returns whether the token is triggered.
pub(crate) fn block_until(token: &CancelToken, deadline: Option<Instant>) -> bool {
    let inner = &token.inner;
    if inner.is_triggered() {
        return true;
    }
    let mut waiter = WaiterKey::default();
    let waker = Waker::from(Arc::new(Unparker(current_thread())));
    if !waiter.register(inner, &waker) {
        return true;
    }
    loop {
        // Parking is allowed to wake spuriously: only the state says when to stop.
        if inner.is_triggered() {
            return true;
        }
        match deadline {
            None => park(),
            Some(deadline) => {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    waiter.deregister(inner);
                    // Triggered after all, if it happened before the waiter left.
                    return inner.is_triggered();
                }
                park_timeout(left);
            }
        }
    }
}

#[cfg(not(loom))]
fn park_timeout(left: Duration) {
    std::thread::park_timeout(left);
}

#[cfg(loom)]
fn park_timeout(_: Duration) {
    // loom has no clock: a timed park is a park that may wake for any reason.
    crate::sync::park();
}
