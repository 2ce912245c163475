//! What more than one loom model file needs.

use std::sync::Arc;
use std::task::Wake;

use loom::sync::atomic::AtomicBool;
use loom::sync::atomic::Ordering::SeqCst;

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
