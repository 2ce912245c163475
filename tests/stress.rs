//! A multi-thread stress test of the core: several threads run seeded random sequences of
//! new/child/chain/any/trigger/drop/wait/check over one shared pool of tokens, meeting every few
//! operations to race on one fresh token, then the graph's invariants are checked over every
//! token that survived.
//!
//! What it proves, beyond the single-thread tests: under real contention, (I3) no derived token is
//! left live under a triggered ancestor (born triggered from a triggered parent, and marked by the
//! time any trigger of an ancestor returns, even one that overlapped another), the
//! cause a token reports is triggered, is itself or an ancestor whose `trigger()` was called, and
//! never changes; no waiter misses its wake-up; and nothing deadlocks (I5): the main thread fails
//! the test if the workers have not finished within a generous bound.
//!
//! Reproducing: the run prints its seed; `CANCEL_TOKEN_STRESS_SEED=<seed> cargo test --test stress`
//! replays the same operation sequences (the thread interleaving still differs from run to run).
#![cfg(not(loom))]

use std::collections::{BTreeSet, HashMap, HashSet};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::Ordering::{Relaxed, SeqCst};
use std::sync::atomic::{AtomicBool, AtomicUsize};
use std::sync::mpsc;
use std::sync::{Arc, Barrier, Mutex, PoisonError};
use std::task::{Context, Wake, Waker};
use std::thread;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use cancel_token::CancelToken;

#[path = "support/rng.rs"]
mod rng;
use rng::Rng;

const WORKERS: u64 = 4;
/// Rounds of a fresh pool each: the final invariants are checked once per round.
const ROUNDS: u64 = 8;
const OPS_PER_WORKER: usize = 4_000;
/// Every this many operations, all workers race on one token (see `Run::race`).
const RACE_EVERY: usize = 10;
/// Past this many pooled handles, a worker drops one instead of creating one, so tokens really
/// go away (their `Drop` runs against parents that other threads are triggering).
const POOL_CAP: usize = 48;
/// Deadlock detection, not a speed assertion: the whole run takes about a second in debug.
const HANG_GUARD: Duration = Duration::from_secs(60);

/// A waker that records that it was woken.
#[derive(Default)]
struct Woken(AtomicBool);

impl Wake for Woken {
    fn wake(self: Arc<Self>) {
        self.0.store(true, SeqCst);
    }
}

/// A pooled token and its id in `Shared::meta`.
type Pooled = (usize, CancelToken);

/// What the test knows about a token it created, kept after the token is dropped.
struct Meta {
    /// Every token this one was derived from, transitively (not itself).
    ancestors: BTreeSet<usize>,
    /// Whether `trigger()` was called on it (set before the call).
    trigger_called: bool,
    /// Made by `chain`: not used as an operand of another `chain`, see `Shared::by_name`.
    is_chain: bool,
}

/// The pool the workers share, and the bookkeeping to check the graph against.
///
/// Only the bookkeeping is under this lock: every token operation runs on cloned handles after
/// unlocking, so the lock orders nothing inside the crate.
#[derive(Default)]
struct Shared {
    pool: Vec<Pooled>,
    meta: HashMap<usize, Meta>,
    /// Token ids by name, to identify the token `triggered_token()` returns even when the test no
    /// longer holds it. Names are unique: `n{id}` for new/child/any, and `"{a}:{b}"` for a chain
    /// of two such tokens, never the same ordered pair twice (chains of chains could collide).
    by_name: HashMap<String, usize>,
    chained_pairs: HashSet<(usize, usize)>,
}

struct Run {
    seed: u64,
    shared: Mutex<Shared>,
    next_id: AtomicUsize,
    triggers: Triggers,
    /// Where the workers meet for a race, and the tokens they race on: (parent, hot child).
    barrier: Barrier,
    hot: Mutex<Option<(Pooled, Pooled)>>,
}

/// Counts `trigger()` calls, and how many overlapped another in time (the case where a trigger
/// finds its token already marked by a trigger still walking its subtree).
#[derive(Default)]
struct Triggers {
    begun: AtomicUsize,
    ended: AtomicUsize,
    overlapped: AtomicUsize,
}

impl Run {
    fn shared(&self) -> std::sync::MutexGuard<'_, Shared> {
        self.shared.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A random pooled token, or a new one if the pool is empty.
    fn pick(&self, rng: &mut Rng) -> Pooled {
        let shared = self.shared();
        if shared.pool.is_empty() {
            drop(shared);
            return self.create(CancelToken::new, &[], false);
        }
        shared.pool[rng.below(shared.pool.len())].clone()
    }

    /// Makes a token named `n{id}` (or as `make` names it) from `parents` and pools it, checking
    /// that it is born triggered when a parent was already triggered before the call (I3).
    fn create(
        &self,
        make: impl FnOnce(String) -> CancelToken,
        parents: &[Pooled],
        is_chain: bool,
    ) -> Pooled {
        let id = self.next_id.fetch_add(1, Relaxed);
        let parent_was_triggered = parents.iter().any(|(_, p)| p.triggered());
        let token = make(format!("n{id}"));
        if parent_was_triggered {
            assert!(
                token.triggered(),
                "seed {}: {token:?} derived from a triggered parent was born live",
                self.seed
            );
        }
        let mut shared = self.shared();
        let mut ancestors = BTreeSet::new();
        for (parent, _) in parents {
            ancestors.insert(*parent);
            ancestors.extend(shared.meta[parent].ancestors.iter().copied());
        }
        let meta = Meta {
            ancestors,
            trigger_called: false,
            is_chain,
        };
        shared.meta.insert(id, meta);
        let fresh = shared.by_name.insert(token.name().to_owned(), id).is_none();
        assert!(fresh, "test bug: duplicate name {}", token.name());
        shared.pool.push((id, token.clone()));
        (id, token)
    }

    fn chain(&self, rng: &mut Rng) {
        let (a, b) = (self.pick(rng), self.pick(rng));
        let operands_ok = {
            let mut shared = self.shared();
            !shared.meta[&a.0].is_chain
                && !shared.meta[&b.0].is_chain
                && shared.chained_pairs.insert((a.0, b.0))
        };
        let parents = [a.clone(), b.clone()];
        if operands_ok {
            let expected = format!("{}:{}", a.1, b.1);
            let (_, token) = self.create(|_| a.1.chain(&b.1), &parents, true);
            assert_eq!(token.name(), expected, "seed {}", self.seed);
        } else {
            self.create(|name| CancelToken::any(name, [&a.1, &b.1]), &parents, false);
        }
    }

    fn any(&self, rng: &mut Rng) {
        let parents: Vec<_> = (0..rng.below(4)).map(|_| self.pick(rng)).collect();
        self.create(
            |name| CancelToken::any(name, parents.iter().map(|(_, p)| p)),
            &parents,
            false,
        );
    }

    /// Triggers a token, then checks that every pooled token derived from it reads triggered:
    /// `trigger()` marks the whole subtree before returning, even when another trigger overlapped
    /// it, and a token pooled after that was born triggered.
    fn trigger(&self, (id, token): Pooled) {
        self.shared()
            .meta
            .get_mut(&id)
            .expect("known")
            .trigger_called = true;
        // SeqCst: a trigger that began before ours is counted in `begun` before we read it, and
        // one that began during ours bumps `begun` past our ticket before we read it again.
        let ticket = self.triggers.begun.fetch_add(1, SeqCst);
        let busy_at_start = self.triggers.ended.load(SeqCst) != ticket;
        token.trigger();
        let overlapped = busy_at_start || self.triggers.begun.load(SeqCst) != ticket + 1;
        if overlapped {
            self.triggers.overlapped.fetch_add(1, Relaxed);
        }
        let shared = self.shared();
        for (other, derived) in &shared.pool {
            if shared.meta[other].ancestors.contains(&id) {
                assert!(
                    derived.triggered(),
                    "seed {}: {derived:?} is live after its ancestor {token:?} was triggered \
                     (overlapped: {overlapped})",
                    self.seed
                );
            }
        }
        drop(shared);
        self.triggers.ended.fetch_add(1, SeqCst);
    }

    fn drop_one(&self, rng: &mut Rng) {
        let mut shared = self.shared();
        if !shared.pool.is_empty() {
            let i = rng.below(shared.pool.len());
            let dropped = shared.pool.swap_remove(i);
            drop(shared);
            // Outside the lock: this may be the last handle, and run the token's `Drop`.
            drop(dropped);
        }
    }

    /// A blocking wait with a tiny timeout: either it times out (deregistering) or a trigger
    /// from another thread takes and unparks it. Its answer must agree with the token.
    fn wait_blocking(&self, rng: &mut Rng) {
        let (_, token) = self.pick(rng);
        let timeout = Duration::from_micros(rng.below(200) as u64);
        if token.wait_blocking_timeout(timeout) {
            assert!(token.triggered(), "seed {}: {token:?}", self.seed);
        }
    }

    /// A wait future polled once and dropped: cancel-safety under contention.
    fn poll_and_drop_wait(&self, (_, token): Pooled) {
        let was_triggered = token.triggered();
        let mut wait = token.wait();
        let ready = Pin::new(&mut wait)
            .poll(&mut Context::from_waker(Waker::noop()))
            .is_ready();
        assert!(!was_triggered || ready, "seed {}: {token:?}", self.seed);
        // Deregisters, racing any trigger that is taking the waiter list.
        drop(wait);
    }

    /// Asks a token what the public API promises about a triggered token, mid-run.
    fn check(&self, (_, token): Pooled) {
        if let Err(cancelled) = token.check() {
            assert!(token.triggered(), "seed {}: {token:?}", self.seed);
            let cause = token.triggered_token().expect("triggered");
            assert_eq!(cancelled.token(), &cause, "seed {}: {token:?}", self.seed);
            assert!(cause.triggered(), "seed {}: {cause:?}", self.seed);
            assert_eq!(token.triggered_token(), Some(cause), "seed {}", self.seed);
        }
    }

    /// All workers meet, then race on one fresh token: worker 0 triggers it (or its parent, so
    /// the trigger reaches it by propagation) while the others derive from it or wait on it.
    /// Random operations on a shared pool rarely hit the same token at the same instant; this
    /// makes them, so the check-then-register windows of the core are actually contended.
    ///
    /// The hot token is always triggered by the end of the race, so waits on it must end: an
    /// untimed blocking wait that is never woken hangs its worker (the watchdog reports it), and
    /// a task left pending after the last barrier was never woken.
    fn race(&self, worker: u64, rng: &mut Rng) {
        self.barrier.wait();
        if worker == 0 {
            let parent = self.create(CancelToken::new, &[], false);
            let hot = self.create(
                |name| parent.1.child(name),
                std::slice::from_ref(&parent),
                false,
            );
            *self.hot() = Some((parent, hot));
        }
        self.barrier.wait();
        let (parent, hot) = self.hot().clone().expect("published before the barrier");
        let hot_slice = std::slice::from_ref(&hot);
        let woken = Arc::new(Woken::default());
        let waker = Waker::from(woken.clone());
        let mut wait = hot.1.wait();
        let mut pending = false;
        match (worker, rng.below(6)) {
            (0, 0..3) => self.trigger(hot.clone()),
            (0, _) => self.trigger(parent),
            (_, 0) => {
                self.create(|name| hot.1.child(name), hot_slice, false);
            }
            (_, 1) => {
                let other = self.pick(rng);
                let parents = [other, hot.clone()];
                let any = |name| CancelToken::any(name, parents.iter().map(|(_, t)| t));
                self.create(any, &parents, false);
            }
            (_, 2) => {
                hot.1.wait_blocking();
                assert!(hot.1.triggered(), "seed {}: {:?}", self.seed, hot.1);
            }
            (_, 3) => {
                let poll = Pin::new(&mut wait).poll(&mut Context::from_waker(&waker));
                pending = poll.is_pending();
            }
            (_, 4) => self.check(hot.clone()),
            (_, _) => self.trigger(hot.clone()),
        }
        // Every trigger of this race has returned, so every wake-up it owed has been delivered.
        self.barrier.wait();
        if pending {
            assert!(
                woken.0.load(SeqCst),
                "seed {}: a task waiting on {:?} was never woken",
                self.seed,
                hot.1
            );
            let poll = Pin::new(&mut wait).poll(&mut Context::from_waker(&waker));
            assert!(poll.is_ready(), "seed {}: {:?}", self.seed, hot.1);
        }
    }

    fn hot(&self) -> std::sync::MutexGuard<'_, Option<(Pooled, Pooled)>> {
        self.hot.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn worker(&self, index: u64, mut rng: Rng) {
        for op in 0..OPS_PER_WORKER {
            // Every worker runs the same number of operations, so all reach each race together.
            if op % RACE_EVERY == 0 {
                self.race(index, &mut rng);
                continue;
            }
            let full = self.shared().pool.len() >= POOL_CAP;
            match rng.below(100) {
                _ if full => self.drop_one(&mut rng),
                0..10 => {
                    self.create(CancelToken::new, &[], false);
                }
                10..25 => {
                    let parent = self.pick(&mut rng);
                    let child = |name| parent.1.child(name);
                    self.create(child, std::slice::from_ref(&parent), false);
                }
                25..35 => self.chain(&mut rng),
                35..43 => self.any(&mut rng),
                43..51 => self.trigger(self.pick(&mut rng)),
                51..66 => self.drop_one(&mut rng),
                66..73 => self.wait_blocking(&mut rng),
                73..80 => self.poll_and_drop_wait(self.pick(&mut rng)),
                _ => self.check(self.pick(&mut rng)),
            }
        }
    }

    /// The invariants over every token that survived, after all workers are done.
    fn check_final(&self) {
        let shared = self.shared();
        let seed = self.seed;
        let triggered = shared.pool.iter().filter(|(_, t)| t.triggered()).count();
        let derived = shared
            .pool
            .iter()
            .filter(|(id, _)| !shared.meta[id].ancestors.is_empty());
        let deepest = derived
            .clone()
            .map(|(id, _)| shared.meta[id].ancestors.len())
            .max();
        eprintln!(
            "stress: {} tokens made, {} trigger() calls ({} overlapped another), {} survived \
             ({triggered} triggered, {} derived, at most {} ancestors)",
            shared.meta.len(),
            self.triggers.ended.load(Relaxed),
            self.triggers.overlapped.load(Relaxed),
            shared.pool.len(),
            derived.count(),
            deepest.unwrap_or(0),
        );
        for (id, token) in &shared.pool {
            let meta = &shared.meta[id];
            let caused =
                meta.trigger_called || meta.ancestors.iter().any(|a| shared.meta[a].trigger_called);
            // Every token derived from a triggered token is triggered, and nothing else is:
            // this test sets no deadline, so only a `trigger()` call can have triggered anything.
            assert_eq!(
                token.triggered(),
                caused,
                "seed {seed}: {token:?} triggered={}, but trigger() was{} called on it or an ancestor",
                token.triggered(),
                if caused { "" } else { " never" },
            );
            let Some(cause) = token.triggered_token() else {
                assert!(!caused, "seed {seed}: {token:?} is triggered with no cause");
                continue;
            };
            assert!(cause.triggered(), "seed {seed}: cause {cause:?} is live");
            let cause_id = shared.by_name[cause.name()];
            assert!(
                cause_id == *id || meta.ancestors.contains(&cause_id),
                "seed {seed}: the cause of {token:?} is {cause:?}, neither it nor an ancestor"
            );
            assert!(
                shared.meta[&cause_id].trigger_called,
                "seed {seed}: the cause of {token:?} is {cause:?}, which was never triggered directly"
            );
            assert_eq!(
                cause.triggered_token().as_ref(),
                Some(&cause),
                "seed {seed}: {cause:?} is a cause, so it caused itself"
            );
            assert_eq!(
                token.triggered_token(),
                Some(cause),
                "seed {seed}: the cause of {token:?} changed"
            );
        }
    }
}

fn seed() -> u64 {
    match std::env::var("CANCEL_TOKEN_STRESS_SEED") {
        Ok(seed) => seed.parse().expect("CANCEL_TOKEN_STRESS_SEED is a u64"),
        Err(_) => SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |now| now.as_nanos() as u64),
    }
}

#[test]
fn random_operations_on_shared_tokens_keep_the_invariants() {
    let seed = seed();
    // Printed up front: the harness shows it with the failure, whatever fails.
    eprintln!("stress seed: {seed} (replay with CANCEL_TOKEN_STRESS_SEED={seed})");
    for round in 0..ROUNDS {
        run_round(seed.wrapping_add(round));
    }
}

/// One pool, `WORKERS` threads on it, then the final invariants over what survived.
fn run_round(seed: u64) {
    let run = Arc::new(Run {
        seed,
        shared: Mutex::default(),
        next_id: AtomicUsize::new(0),
        triggers: Triggers::default(),
        barrier: Barrier::new(WORKERS as usize),
        hot: Mutex::default(),
    });

    let (done, finished) = mpsc::channel();
    let mut workers: Vec<_> = (0..WORKERS)
        .map(|i| {
            let (run, done) = (run.clone(), done.clone());
            Some(thread::spawn(move || {
                // Reports on drop, panicking or not: a worker that panicked is joined at once
                // (the others may be stuck at the race barrier waiting for it) instead of
                // looking like a hang.
                struct Finished(mpsc::Sender<(usize, bool)>, usize);
                impl Drop for Finished {
                    fn drop(&mut self) {
                        let _ = self.0.send((self.1, thread::panicking()));
                    }
                }
                let _finished = Finished(done, i as usize);
                run.worker(i, Rng(seed ^ i.wrapping_mul(0xA076_1D64_78BD_642F)));
            }))
        })
        .collect();
    drop(done);

    // The main thread is the watchdog: a worker stuck in a deadlock never reports, and the test
    // fails here with the seed instead of hanging (the stuck threads end with the process).
    let deadline = std::time::Instant::now() + HANG_GUARD;
    for _ in 0..WORKERS {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        let Ok((worker, panicked)) = finished.recv_timeout(left) else {
            panic!("seed {seed}: the workers did not finish within {HANG_GUARD:?}: deadlock?");
        };
        let handle = workers[worker].take().expect("each worker reports once");
        if let Err(panic) = handle.join() {
            eprintln!("seed {seed}: worker {worker} panicked");
            std::panic::resume_unwind(panic);
        }
        assert!(!panicked, "seed {seed}: worker {worker} panicked");
    }
    run.check_final();
}
