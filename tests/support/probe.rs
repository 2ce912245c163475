//! Watching a future from outside: how many times it was polled, and whether it was dropped.
//!
//! The crate promises things about futures it owns ("never polled", "dropped with the call",
//! "the others are dropped") that are invisible from the output alone; a probe makes them
//! observable. The counters are atomics because the future may be polled and dropped on another
//! thread (tokio's workers); `SeqCst` keeps the reasoning trivial, speed is irrelevant here.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::task::{Context, Poll};

/// The outside view of a [`Probed`] future.
#[derive(Clone, Default, Debug)]
pub struct Probe {
    polls: Arc<AtomicUsize>,
    dropped: Arc<AtomicBool>,
}

impl Probe {
    pub fn new() -> Self {
        Probe::default()
    }

    /// Wraps `future` so that this probe sees its polls and its drop.
    pub fn wrap<F: Future>(&self, future: F) -> Probed<F> {
        Probed {
            future: Box::pin(future),
            probe: self.clone(),
        }
    }

    pub fn polls(&self) -> usize {
        self.polls.load(SeqCst)
    }

    pub fn dropped(&self) -> bool {
        self.dropped.load(SeqCst)
    }
}

/// A future that reports its polls and its drop to a [`Probe`]. Boxed inside so it is `Unpin`
/// whatever it wraps, which keeps the wrapper free of pin projection.
pub struct Probed<F> {
    future: Pin<Box<F>>,
    probe: Probe,
}

impl<F: Future> Future for Probed<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        self.probe.polls.fetch_add(1, SeqCst);
        self.future.as_mut().poll(cx)
    }
}

impl<F> Drop for Probed<F> {
    fn drop(&mut self) {
        self.probe.dropped.store(true, SeqCst);
    }
}

/// A waker that counts its wake-ups, for tests that poll by hand: "this waker was woken" is the
/// exact promise a future makes, and checking it does not depend on any executor's scheduling.
#[derive(Default)]
pub struct WakeProbe {
    wakes: std::sync::Mutex<usize>,
    woken: std::sync::Condvar,
}

impl WakeProbe {
    /// A new probe and the `Waker` that reports to it.
    pub fn new() -> (Arc<WakeProbe>, std::task::Waker) {
        let probe = Arc::new(WakeProbe::default());
        let waker = futures::task::waker(probe.clone());
        (probe, waker)
    }

    pub fn wakes(&self) -> usize {
        *self.wakes.lock().unwrap()
    }

    /// Blocks until woken at least once; fails instead of hanging after the hang guard.
    pub fn wait_woken(&self) {
        let wakes = self.wakes.lock().unwrap();
        let (wakes, _) = self
            .woken
            .wait_timeout_while(wakes, super::executors::HANG_GUARD, |wakes| *wakes == 0)
            .unwrap();
        assert!(*wakes > 0, "hang guard: never woken");
    }
}

impl futures::task::ArcWake for WakeProbe {
    fn wake_by_ref(arc_self: &Arc<Self>) {
        *arc_self.wakes.lock().unwrap() += 1;
        arc_self.woken.notify_all();
    }
}
