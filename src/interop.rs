//! Interop with tokio-util's `CancellationToken`, both ways (feature `tokio-util`):
//! [`CancelToken::to_tokio_util`] and [`CancelToken::from_tokio_util`]. Neither needs a runtime.
//!
//! Each method's docs say where the trigger runs and what it keeps alive.
//!
//! # Invariants
//!
//! * **(X1)** Neither side keeps the other's handle for longer than our token lives: ours to
//!   theirs is a detached [`on_trigger`](CancelToken::on_trigger) callback holding a clone of
//!   theirs, released when ours triggers or is dropped; theirs to ours is a [`Bridge`] that only
//!   that callback holds strongly, so it goes the same way, and the wait it holds on theirs with
//!   it (deregistering from theirs as it drops).
//! * **(X2)** No cycle: the bridge holds our token weakly, and the waker it registers with theirs
//!   holds the bridge weakly. So dropping our token frees everything, whatever theirs does.
//! * **(X3)** The bridge's wait is polled by one thread at a time, and a wake-up that arrives
//!   while another thread polls is never lost: it sets `woken`, which the poller re-reads before
//!   it stops (and after it unlocks).

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::sync::{Arc, Mutex, TryLockError, Weak};
use std::task::{Context, Wake, Waker};

use ::tokio_util::sync::{CancellationToken, WaitForCancellationFutureOwned};

use crate::{CancelToken, WeakCancelToken};

impl CancelToken {
    /// A new tokio-util `CancellationToken` that is cancelled when this token triggers (at once if
    /// it already is). For libraries that take one as a parameter. Feature `tokio-util`.
    ///
    /// ```
    /// use cancel_token::CancelToken;
    ///
    /// let shutdown = CancelToken::new("shutdown");
    /// let theirs = shutdown.to_tokio_util();
    /// shutdown.trigger();
    /// assert!(theirs.is_cancelled());
    /// ```
    ///
    /// Its `cancel()` runs where this token's callbacks run (see
    /// [`on_trigger`](Self::on_trigger)): on the triggering thread, or a callback thread for a
    /// deadline. No runtime needed. Cancelling theirs does not trigger ours (convert back with
    /// [`from_tokio_util`](Self::from_tokio_util) for that). If every handle of ours (and of
    /// whatever it derives from) is dropped first, ours can never trigger, so theirs is never
    /// cancelled by it: keep ours alive for as long as theirs should follow it.
    ///
    /// Allocation: each call makes a new `CancellationToken` and registers one callback on this
    /// token, which keeps a clone of it until this token triggers or is dropped (X1). On a
    /// long-lived token, convert once and clone the result rather than call this per request.
    pub fn to_tokio_util(&self) -> CancellationToken {
        let theirs = CancellationToken::new();
        let cancel = theirs.clone();
        self.on_trigger(move || cancel.cancel()).detach();
        theirs
    }

    /// A new root token named `name`, triggered (with [`Reason::Triggered`](crate::Reason)) when
    /// `theirs` is cancelled, at once if it already is. Feature `tokio-util`.
    ///
    /// ```
    /// use cancel_token::CancelToken;
    /// use tokio_util::sync::CancellationToken;
    ///
    /// let theirs = CancellationToken::new();
    /// let ours = CancelToken::from_tokio_util("from-tokio", &theirs);
    /// theirs.cancel();
    /// assert!(ours.triggered());
    /// ```
    ///
    /// Needs no runtime and no thread: it registers a waker with `theirs` (the waker of its
    /// `cancelled_owned()` future), and that waker triggers ours. So ours triggers on the thread
    /// that cancels theirs, inside its `cancel()` (after tokio-util has released its locks), and
    /// our callbacks run there. Triggering ours does not cancel theirs.
    ///
    /// Allocation: a few small blocks, and a clone of `theirs`, kept until ours triggers or is
    /// dropped, whichever comes first (X1, X2); nothing outlives our token.
    pub fn from_tokio_util(
        name: impl Into<std::borrow::Cow<'static, str>>,
        theirs: &CancellationToken,
    ) -> CancelToken {
        let ours = CancelToken::new(name);
        let bridge = Arc::new_cyclic(|bridge: &Weak<Bridge>| Bridge {
            ours: WeakCancelToken::downgrade(&ours),
            wait: Mutex::new(Some(Box::pin(theirs.clone().cancelled_owned()))),
            woken: AtomicBool::new(false),
            waker: Waker::from(Arc::new(Wakeup(bridge.clone()))),
        });
        bridge.poll();
        // (X1) The only strong handle: released when ours triggers (for any reason) or drops.
        ours.on_trigger(move || drop(bridge)).detach();
        ours
    }
}

/// Waits on their token and triggers ours.
struct Bridge {
    ours: WeakCancelToken,
    /// `None` once theirs is cancelled.
    wait: Mutex<Option<Pin<Box<WaitForCancellationFutureOwned>>>>,
    /// A wake-up not yet acted on (X3).
    woken: AtomicBool,
    waker: Waker,
}

/// The waker registered with theirs: holds the bridge weakly (X2).
struct Wakeup(Weak<Bridge>);

impl Wake for Wakeup {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if let Some(bridge) = self.0.upgrade() {
            bridge.poll();
        }
    }
}

impl Bridge {
    /// Polls the wait on theirs; triggers ours once it completes (X3).
    fn poll(&self) {
        self.woken.store(true, SeqCst);
        loop {
            let mut wait = match self.wait.try_lock() {
                Ok(wait) => wait,
                Err(TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
                // (X3) the thread holding it reads `woken` again before it stops.
                Err(TryLockError::WouldBlock) => return,
            };
            let mut done = None;
            while self.woken.swap(false, SeqCst) {
                let cx = &mut Context::from_waker(&self.waker);
                if wait
                    .as_mut()
                    .is_some_and(|w| w.as_mut().poll(cx).is_ready())
                {
                    done = wait.take();
                }
            }
            drop(wait);
            if done.is_some() {
                drop(done); // their handle, released unlocked
                if let Some(ours) = self.ours.upgrade() {
                    ours.trigger();
                }
                return;
            }
            if !self.woken.load(SeqCst) {
                return;
            }
        }
    }
}
