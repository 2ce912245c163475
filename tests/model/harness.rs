//! Runs a program of [`Op`]s against the crate and the [`Model`] side by side, and after every
//! step checks that every handle in the pool and every kept wait future agrees with the model.
//!
//! What is checked after each step, for each handle:
//! * `triggered()` is the model's (seed, pull) `triggered`;
//! * `triggered_token()` is `None` iff live; otherwise a token that is the handle's ancestor or
//!   itself and was triggered directly (the seed's possible answers), is exactly our first cause,
//!   and names itself as its own cause;
//! * the first cause seen for a token never changes on later steps;
//! * `check()` is `Err` iff triggered, naming that same cause;
//! * `name()` and identity (`==`) are the model's.
//!
//! and for each kept wait future: if its token is triggered, the waker of its last poll was woken
//! (no lost wake-up); it is polled when woken (or by `Repoll`), and is then `Ready` exactly when
//! its token is triggered.
//!
//! Tokens returned by the crate (causes) are mapped back to model ids by identity: the bytes the
//! token's identity-based `Hash` writes, recorded when the token is created. A token's key is its
//! address, unique among live tokens; a dead token's stale key is overwritten by whichever new
//! token reuses the address, and a dead token can never be returned as a cause.

use std::collections::HashMap;
use std::future::Future;
use std::hash::{Hash, Hasher};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Wake, Waker};
use std::time::Duration;

use cancel_token::{CancelToken, WaitOwned};

use crate::ops::{Op, POOL};
use crate::reference::{Id, Model};

/// The longest name a `Chain` op gives a token (see there).
const MAX_CHAIN_NAME: usize = 4096;

/// Runs `ops` from an empty pool, panicking at the first disagreement with the model.
pub fn run(ops: &[Op]) {
    let mut harness = Harness::default();
    for (step, op) in ops.iter().enumerate() {
        harness.apply(op);
        harness.verify(step, op);
    }
}

struct Handle {
    token: CancelToken,
    id: Id,
}

struct KeptWait {
    future: WaitOwned,
    id: Id,
    /// The waker given at the last poll: the one the token must wake.
    woken: Arc<WakeFlag>,
}

impl KeptWait {
    /// Polls with the current waker; `Ready` is compared with the model by the caller.
    fn poll(&mut self) -> bool {
        self.woken.0.store(false, Ordering::SeqCst);
        let waker = Waker::from(self.woken.clone());
        poll_once(Pin::new(&mut self.future), &waker)
    }
}

#[derive(Default)]
struct WakeFlag(AtomicBool);

impl Wake for WakeFlag {
    fn wake(self: Arc<Self>) {
        self.0.store(true, Ordering::SeqCst);
    }
}

#[derive(Default)]
struct Harness {
    pool: [Option<Handle>; POOL as usize],
    waits: Vec<KeptWait>,
    model: Model,
    /// Identity key of every token created (see the module docs) to its model id.
    ids: HashMap<Vec<u8>, Id>,
    /// `CancelToken::never()` is one token: its model id once first used.
    never: Option<Id>,
    /// Numbers the names of new tokens, so that a failure report can tell them apart.
    named: usize,
    /// The first cause observed through the crate for each model id, to check it never changes.
    seen_cause: HashMap<Id, Id>,
}

/// The bytes `token`'s `Hash` writes: by the crate's contract, a function of identity only.
fn identity(token: &CancelToken) -> Vec<u8> {
    struct Capture(Vec<u8>);
    impl Hasher for Capture {
        fn write(&mut self, bytes: &[u8]) {
            self.0.extend_from_slice(bytes);
        }
        fn finish(&self) -> u64 {
            unreachable!("only the written bytes are used")
        }
    }
    let mut capture = Capture(Vec::new());
    token.hash(&mut capture);
    capture.0
}

fn poll_once(future: Pin<&mut impl Future<Output = ()>>, waker: &Waker) -> bool {
    future.poll(&mut Context::from_waker(waker)).is_ready()
}

impl Harness {
    fn handle(&self, slot: u8) -> Option<&Handle> {
        self.pool[usize::from(slot % POOL)].as_ref()
    }

    fn fresh_name(&mut self) -> String {
        self.named += 1;
        format!("t{}", self.named)
    }

    fn put(&mut self, slot: u8, token: CancelToken, id: Id) {
        self.ids.insert(identity(&token), id);
        self.pool[usize::from(slot % POOL)] = Some(Handle { token, id });
    }

    fn apply(&mut self, op: &Op) {
        match op {
            Op::New { slot, never: false } => {
                let name = self.fresh_name();
                let id = self.model.root(name.clone(), false);
                self.put(*slot, CancelToken::new(name), id);
            }
            Op::New { slot, never: true } => {
                let id = match self.never {
                    Some(id) => id,
                    None => *self.never.insert(self.model.root("never".into(), true)),
                };
                self.put(*slot, CancelToken::never(), id);
            }
            Op::Child { slot, parent } => {
                let Some(parent) = self.handle(*parent) else {
                    return;
                };
                // A `&'static str` name, unlike the other ops: both name representations are used.
                let token = parent.token.child("child");
                let id = self.model.derive("child".into(), vec![parent.id]);
                self.put(*slot, token, id);
            }
            Op::Chain { slot, a, b } => {
                let short_name = self.fresh_name();
                let (Some(a), Some(b)) = (self.handle(*a), self.handle(*b)) else {
                    return;
                };
                let name = format!("{}:{}", self.model.name(a.id), self.model.name(b.id));
                // `t = t.chain(&t)` doubles the name's length at every step (as in the seed), so
                // a few dozen of them would exhaust memory: past `MAX_CHAIN_NAME`, the same two
                // parents are joined by `any` instead, which differs from `chain` only by its name.
                let (token, name) = if name.len() <= MAX_CHAIN_NAME {
                    (a.token.chain(&b.token), name)
                } else {
                    let parents = [&a.token, &b.token];
                    (CancelToken::any(short_name.clone(), parents), short_name)
                };
                let id = self.model.derive(name, vec![a.id, b.id]);
                self.put(*slot, token, id);
            }
            Op::Any { slot, parents } => {
                let name = self.fresh_name();
                let parents: Vec<&Handle> =
                    parents.iter().filter_map(|&p| self.handle(p)).collect();
                let token = CancelToken::any(name.clone(), parents.iter().map(|p| &p.token));
                let parent_ids = parents.iter().map(|p| p.id).collect();
                let id = self.model.derive(name, parent_ids);
                self.put(*slot, token, id);
            }
            Op::Clone { slot, from } => {
                let Some(from) = self.handle(*from) else {
                    return;
                };
                let (token, id) = (from.token.clone(), from.id);
                self.put(*slot, token, id);
            }
            Op::Trigger { slot } => {
                let Some(handle) = self.handle(*slot) else {
                    return;
                };
                handle.token.trigger();
                self.model.trigger(handle.id);
            }
            Op::Drop { slot } => self.pool[usize::from(slot % POOL)] = None,
            Op::Wait { slot, keep } => self.wait(*slot, *keep),
            Op::Repoll { wait, fresh_waker } => {
                if self.waits.is_empty() {
                    return;
                }
                let index = usize::from(*wait) % self.waits.len();
                let kept = &mut self.waits[index];
                if *fresh_waker {
                    kept.woken = Arc::default();
                }
                let ready = kept.poll();
                assert_eq!(
                    ready,
                    self.model.triggered(kept.id),
                    "repoll of model token {}",
                    kept.id
                );
                if ready {
                    self.waits.swap_remove(index);
                }
            }
            Op::DropWait { wait } => {
                if !self.waits.is_empty() {
                    let index = usize::from(*wait) % self.waits.len();
                    drop(self.waits.swap_remove(index));
                }
            }
            Op::Check { slot } => {
                let Some(handle) = self.handle(*slot) else {
                    return;
                };
                let triggered = self.model.triggered(handle.id);
                assert_eq!(
                    handle.token.wait_blocking_timeout(Duration::ZERO),
                    triggered,
                    "wait_blocking_timeout(0) of {:?}",
                    handle.token
                );
                // `check()` itself is verified for every handle after every step.
            }
        }
    }

    fn wait(&mut self, slot: u8, keep: bool) {
        let Some(handle) = self.handle(slot) else {
            return;
        };
        let triggered = self.model.triggered(handle.id);
        if !keep {
            let mut future = std::pin::pin!(handle.token.wait());
            let ready = poll_once(future.as_mut(), Waker::noop());
            assert_eq!(
                ready, triggered,
                "first poll of wait() on {:?}",
                handle.token
            );
            return;
        }
        let woken = Arc::new(WakeFlag::default());
        let mut future = handle.token.clone().wait_owned();
        let ready = poll_once(Pin::new(&mut future), &Waker::from(woken.clone()));
        assert_eq!(
            ready, triggered,
            "first poll of wait_owned() on {:?}",
            handle.token
        );
        if !ready {
            let id = handle.id;
            self.waits.push(KeptWait { future, id, woken });
        }
    }

    fn verify(&mut self, step: usize, op: &Op) {
        let context = || format!("after step {step}: {op:?}");
        let mut causes = Vec::new();
        for handle in self.pool.iter().flatten() {
            if let Some(cause) = self.verify_handle(handle, &context) {
                causes.push((handle.id, cause));
            }
        }
        for (id, cause) in causes {
            let seen = *self.seen_cause.entry(id).or_insert(cause);
            assert_eq!(
                seen,
                cause,
                "the cause of model token {id} changed, {}",
                context()
            );
        }
        for a in self.pool.iter().flatten() {
            for b in self.pool.iter().flatten() {
                assert_eq!(a.token == b.token, a.id == b.id, "identity, {}", context());
            }
        }
        self.poll_waits(&context);
    }

    /// Checks one handle; returns the model id of its cause, if triggered.
    fn verify_handle(&self, handle: &Handle, context: &dyn Fn() -> String) -> Option<Id> {
        let Handle { token, id } = handle;
        let triggered = self.model.triggered(*id);
        assert_eq!(token.name(), self.model.name(*id), "name, {}", context());
        assert_eq!(
            token.triggered(),
            triggered,
            "triggered() of {token:?}, {}",
            context()
        );
        let cause = token.triggered_token();
        let check = token.check();
        assert_eq!(
            check.is_err(),
            triggered,
            "check() of {token:?}, {}",
            context()
        );
        let Some(cause) = cause else {
            assert!(
                !triggered,
                "triggered_token() of {token:?} is None, {}",
                context()
            );
            return None;
        };
        let cause_id = *self.ids.get(&identity(&cause)).unwrap_or_else(|| {
            panic!(
                "cause {cause:?} of {token:?} is no token created, {}",
                context()
            )
        });
        assert!(
            self.model.direct_ancestors_or_self(*id).contains(&cause_id),
            "cause {cause:?} of {token:?} is not a directly triggered ancestor-or-self, {}",
            context()
        );
        assert_eq!(
            Some(cause_id),
            self.model.first_cause(*id),
            "cause {cause:?} of {token:?} is not the first cause, {}",
            context()
        );
        assert_eq!(
            cause.triggered_token().as_ref(),
            Some(&cause),
            "a cause is its own cause, {}",
            context()
        );
        let error = check.expect_err("checked above");
        assert_eq!(
            error.token(),
            &cause,
            "check() names the cause, {}",
            context()
        );
        Some(cause_id)
    }

    /// Polls the kept waits the way an executor would: those whose waker was woken. Every one
    /// whose token is triggered must have been woken (no lost wake-up) and must be `Ready`; one
    /// woken while its token is live is a spurious wake-up, allowed, and must stay `Pending`.
    /// Polling the others too would re-register them every step and hide a lost registration.
    fn poll_waits(&mut self, context: &dyn Fn() -> String) {
        let model = &self.model;
        self.waits.retain_mut(|kept| {
            let triggered = model.triggered(kept.id);
            let woken = kept.woken.0.load(Ordering::SeqCst);
            assert!(
                woken || !triggered,
                "lost wake-up of model token {}, {}",
                kept.id,
                context()
            );
            if !woken {
                return true;
            }
            let ready = kept.poll();
            assert_eq!(
                ready,
                triggered,
                "kept wait on model token {}, {}",
                kept.id,
                context()
            );
            !ready
        });
    }
}
