//! Where the callbacks of deadlines run: a small pool of threads beside the process timer, so that
//! no callback can hold another deadline hostage (timer's T4).
//!
//! The timer thread hands each round's callbacks over as one batch. A batch goes to a waiting
//! worker if there is one for it, else to a new worker: a worker stuck in a callback that blocks
//! (or waits for another deadline) therefore delays nothing queued after it. Workers that find no
//! work for [`IDLE`] exit, so a quiet process keeps no thread here. At most [`MAX_WORKERS`] run
//! at once; past that, batches wait for a worker to come free. If the operating system refuses
//! every thread, the batch runs on the caller's thread rather than not at all.
//!
//! # Invariant
//!
//! **(P1)** `queued <= waiting` after every `run_elsewhere`, unless `MAX_WORKERS` are running:
//! there is a waiting worker for every queued batch, or one is being started. Both counts change
//! only under the pool's lock, and a worker counts itself out of `waiting` when it wakes.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::Duration;

use crate::callback::Callback;

/// How long a worker waits for work before it exits.
const IDLE: Duration = Duration::from_secs(10);
/// The most workers alive at once.
const MAX_WORKERS: usize = 64;

type Batch = Vec<Arc<Callback>>;

struct Pool {
    state: Mutex<State>,
    work: Condvar,
}

#[derive(Default)]
struct State {
    queue: VecDeque<Batch>,
    waiting: usize,
    workers: usize,
}

fn pool() -> &'static Pool {
    static POOL: OnceLock<Pool> = OnceLock::new();
    POOL.get_or_init(|| Pool {
        state: Mutex::default(),
        work: Condvar::new(),
    })
}

impl Pool {
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Runs `batch`'s callbacks, in order, on a worker thread; returns at once.
pub(crate) fn run_elsewhere(batch: Batch) {
    if batch.is_empty() {
        return;
    }
    let pool = pool();
    let mut state = pool.state();
    state.queue.push_back(batch);
    // (P1) a waiting worker for every queued batch, or a new one.
    if state.queue.len() <= state.waiting {
        pool.work.notify_one();
        return;
    }
    if state.workers >= MAX_WORKERS {
        return; // the next worker to come free takes it
    }
    state.workers += 1;
    drop(state);
    let started = std::thread::Builder::new()
        .name("cancel-token-callbacks".into())
        .spawn(|| work(self::pool()));
    if started.is_err() {
        let mut state = pool.state();
        state.workers -= 1;
        let stranded = if state.workers == 0 {
            state.queue.drain(..).collect()
        } else {
            Vec::new() // a running worker will take it
        };
        drop(state);
        stranded
            .into_iter()
            .flatten()
            .for_each(|callback| callback.run());
    }
}

fn work(pool: &Pool) {
    let mut state = pool.state();
    loop {
        if let Some(batch) = state.queue.pop_front() {
            drop(state);
            // Each callback catches its own panic (see `callback`): the worker lives on.
            batch.iter().for_each(|callback| callback.run());
            drop(batch);
            state = pool.state();
            continue;
        }
        state.waiting += 1;
        let (woken, timeout) = pool
            .work
            .wait_timeout(state, IDLE)
            .unwrap_or_else(PoisonError::into_inner);
        state = woken;
        state.waiting -= 1; // (P1)
        if timeout.timed_out() && state.queue.is_empty() {
            state.workers -= 1;
            return;
        }
    }
}
