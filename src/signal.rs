//! SIGINT and SIGTERM to a token: the article's `make_cancellation_event`, plus the second-signal
//! exit that graceful shutdowns need (feature `signal`, Unix only).
//!
//! # How
//!
//! Runtime-agnostic: signal-hook's self-pipe [`Signals`] iterator, read by one background thread
//! that logs and triggers, so it works the same with tokio, smol or plain threads, and logging
//! and triggering run on an ordinary thread, not in a signal handler.
//!
//! The second-signal exit does not go through that thread: for each signal, signal-hook runs its
//! actions in registration order, and we register, before the iterator, a conditional exit
//! (`flag::register_conditional_shutdown`, which calls `_exit` when a flag is set) and then an
//! action that sets that flag. The first signal finds the flag clear and sets it; the second finds
//! it set and exits inside the handler, so it works even if every other thread is stuck.
//!
//! signal-hook never gives a signal its default disposition back, so the first call also installs,
//! once for the process and ahead of everything else, a conditional default action: while no
//! handle is open, SIGINT and SIGTERM do what they do by default (terminate) instead of nothing.
//! `OPEN_HANDLES` counts the open handles under its lock; `NO_HANDLE_OPEN` mirrors "the count is
//! zero" for the handler, which may only read an atomic.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;

use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::iterator::{Handle, Signals};
use signal_hook::{SigId, flag, low_level};

use crate::{CancelToken, Error, Reason};

/// How many handles are open; `Err` until the default-restoring actions are installed.
static OPEN_HANDLES: Mutex<Result<usize, ()>> = Mutex::new(Err(()));
/// Read by the signal handler: true while no handle is open.
static NO_HANDLE_OPEN: AtomicBool = AtomicBool::new(true);

/// Counts a new open handle, installing the default-restoring actions on first use.
fn open_handle() -> Result<(), Error> {
    let mut open = OPEN_HANDLES.lock().unwrap_or_else(PoisonError::into_inner);
    if open.is_err() {
        for (signal, ..) in SIGNALS {
            flag::register_conditional_default(signal, &NO_HANDLE_OPEN).map_err(Error::Signal)?;
        }
        *open = Ok(0);
    }
    if let Ok(count) = open.as_mut() {
        *count += 1;
        NO_HANDLE_OPEN.store(false, SeqCst);
    }
    Ok(())
}

fn close_handle() {
    let mut open = OPEN_HANDLES.lock().unwrap_or_else(PoisonError::into_inner);
    if let Ok(count) = open.as_mut() {
        *count -= 1;
        NO_HANDLE_OPEN.store(*count == 0, SeqCst);
    }
}

/// The signals handled, each with the status the second one exits with (`128 + signal`).
const SIGNALS: [(i32, &str, i32); 2] = [(SIGINT, "SIGINT", 130), (SIGTERM, "SIGTERM", 143)];

/// Triggers `token` on the first SIGINT or SIGTERM, and exits the process with status 130 or 143
/// on the second.
///
/// * The **first** SIGINT or SIGTERM logs `Received signal SIGINT` (or `SIGTERM`) through
///   [`tracing`] at `INFO` level, as the article prints it, and triggers the token. If no
///   global `tracing` subscriber has been set (`tracing::dispatcher::has_been_set()` is false),
///   the line goes to stderr instead, so a program without logging still shows it. A
///   subscriber set only for a scope (`with_default`) does not count: the delivery thread
///   does not see it.
/// * A **second** one, of either kind, exits the process at once with status 130 (SIGINT) or 143
///   (SIGTERM), the shell's `128 + signal`, without waiting for the graceful shutdown, running
///   destructors or flushing buffers. A shutdown that hangs can always be cut short with a
///   second Ctrl-C, which async programs that turn Ctrl-C into a cancellation often forget.
///   The exit happens inside the signal handler, so it works even if every thread is stuck.
///
/// Runtime-agnostic: starts one plain thread (named `cancel-token-signals`) that logs and
/// triggers, and installs process-wide signal handlers; both live until the returned handle is
/// closed or dropped. Several handles may coexist: a signal triggers every handle's token, and
/// the second signal exits.
///
/// [`Error::Signal`] if a handler cannot be installed, [`Error::Spawn`] if the thread cannot be
/// started; nothing stays installed in either case.
///
/// # Closing
///
/// Dropping or [closing](SignalHandle::close) the [`SignalHandle`] removes the handlers' actions
/// and stops the thread. Once no handle is open, SIGINT and SIGTERM terminate the process as they
/// do by default. Keep the handle for as long as the process should react to signals, usually
/// all of `main` (the type is `#[must_use]`; `let _ = trigger_on_signals(..)` drops it at once).
///
/// # Platforms
///
/// Unix only, with the `signal` feature. Windows' Ctrl-C is not covered (it is not a signal
/// there): this function does not exist on non-Unix targets.
///
/// ```no_run
/// use cancel_token::{CancelToken, trigger_on_signals};
///
/// let token = CancelToken::new("shutdown");
/// let _signals = trigger_on_signals(&token).expect("signal handlers");
/// // ... run until Ctrl-C or SIGTERM:
/// token.wait_blocking();
/// println!("shutting down gracefully; press Ctrl-C again to exit at once");
/// ```
pub fn trigger_on_signals(token: &CancelToken) -> Result<SignalHandle, Error> {
    open_handle()?;
    let mut handle = SignalHandle {
        armed_exit: Vec::with_capacity(2 * SIGNALS.len()),
        delivery: None,
        thread: None,
    };
    // On error, dropping `handle` removes what was installed so far.
    let armed = Arc::new(AtomicBool::new(false));
    for (signal, _, status) in SIGNALS {
        // The exit first, the arming second: actions run in registration order, so the first
        // signal finds the flag clear (and sets it) and the second finds it set.
        let exit = flag::register_conditional_shutdown(signal, status, Arc::clone(&armed));
        handle.armed_exit.push(exit.map_err(Error::Signal)?);
        let arm = flag::register(signal, Arc::clone(&armed));
        handle.armed_exit.push(arm.map_err(Error::Signal)?);
    }
    let mut signals = Signals::new(SIGNALS.map(|(signal, ..)| signal)).map_err(Error::Signal)?;
    handle.delivery = Some(signals.handle());
    let token = token.clone();
    let thread = std::thread::Builder::new()
        .name("cancel-token-signals".into())
        .spawn(move || {
            // Ends when the handle closes the delivery.
            for signal in signals.forever() {
                let name = SIGNALS
                    .iter()
                    .find(|&&(number, ..)| number == signal)
                    .map_or("unknown", |&(_, name, _)| name);
                // No global subscriber: the event would go nowhere, so say it on stderr instead
                // (on this delivery thread, not in the handler, so printing is safe).
                if tracing::dispatcher::has_been_set() {
                    tracing::info!("Received signal {name}");
                } else {
                    eprintln!("Received signal {name}");
                }
                token.trigger_with(Reason::Signal(signal));
            }
        })
        .map_err(Error::Spawn)?;
    handle.thread = Some(thread);
    Ok(handle)
}

/// Keeps the signal handlers of [`trigger_on_signals`] installed; closing or dropping it removes
/// them and stops its thread.
///
/// Once no handle is open, SIGINT and SIGTERM terminate the process as they do by default.
#[must_use = "dropping the handle removes the signal handlers at once"]
pub struct SignalHandle {
    /// The conditional exits and the actions arming them.
    armed_exit: Vec<SigId>,
    delivery: Option<Handle>,
    thread: Option<JoinHandle<()>>,
}

impl SignalHandle {
    /// Removes the handlers and waits for the signal thread to end (it ends promptly: it only
    /// logs and triggers). The same as dropping the handle, made explicit.
    pub fn close(self) {
        drop(self);
    }
}

impl Drop for SignalHandle {
    fn drop(&mut self) {
        for id in self.armed_exit.drain(..) {
            low_level::unregister(id);
        }
        if let Some(delivery) = self.delivery.take() {
            // Wakes the thread out of `forever`. The iterator's own handlers are removed when its
            // last handle and the iterator (in the thread) are gone.
            delivery.close();
        }
        if let Some(thread) = self.thread.take() {
            // A panic there (from a waker or callback that `trigger` ran) was already reported
            // by the panic hook; closing must not turn it into a second one.
            let _ = thread.join();
        }
        close_handle();
    }
}

impl fmt::Debug for SignalHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignalHandle")
            .field("signals", &["SIGINT", "SIGTERM"])
            .finish_non_exhaustive()
    }
}
