//! What more than one loom model file needs.

#![allow(dead_code)] // each model file uses a different subset

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use cancel_token::CancelToken;
use loom::sync::atomic::AtomicBool;
use loom::sync::atomic::Ordering::SeqCst;
use loom::thread;

/// A waker that records whether it was woken. The flag is a loom atomic, so the model sees the
/// wake as an operation of the waking thread.
pub struct Flag(AtomicBool);

impl Flag {
    pub fn new() -> Arc<Flag> {
        Arc::new(Flag(AtomicBool::new(false)))
    }

    pub fn woken(&self) -> bool {
        self.0.load(SeqCst)
    }
}

impl Wake for Flag {
    fn wake(self: Arc<Self>) {
        self.0.store(true, SeqCst);
    }
}

/// A waker that unparks the thread that made it.
struct Unpark(thread::Thread);

impl Wake for Unpark {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
}

/// Polls `future` on this thread until it is ready, parking in between: an executor in miniature.
/// A wake-up that never comes leaves the thread parked for good, which loom reports as a deadlock.
pub fn block_on<F: Future>(future: F) -> F::Output {
    let waker = Waker::from(Arc::new(Unpark(thread::current())));
    let mut future = pin!(future);
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut Context::from_waker(&waker)) {
            return output;
        }
        thread::park();
    }
}

/// Triggers `token` on a new loom thread.
pub fn trigger_in_thread(token: &CancelToken) -> thread::JoinHandle<()> {
    let token = token.clone();
    thread::spawn(move || token.trigger())
}
