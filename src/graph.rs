//! The propagation graph: what a token is in memory, how a trigger is pushed down to every derived
//! token, and how tokens join and leave the graph.
//!
//! # Shape
//!
//! Every token is one [`Inner`] behind an `Arc`; a `CancelToken` handle is one `Arc` clone, so a
//! clone is the same token. Edges point both ways with different strengths:
//!
//! * **up, strong**: a derived token owns `Arc`s of its parents, inline for [`child`](Inner::child)
//!   (one parent, one allocation) and in its [`Node`] for tokens with several parents. Parents stay
//!   alive while anything derived from them does, so a cause can always be named.
//! * **down, weak**: a parent's node lists its live children as `Weak`s in a slab, and its pending
//!   waiters in a [`Waiters`] (an inline slot, then a slab). A trigger upgrades each child for the
//!   moment it takes to visit it; a child whose last handle is gone cannot be upgraded and is
//!   skipped (nothing derived from it is alive either: its descendants would hold it), and its
//!   `Drop` takes its entry out.
//!
//! A parent whose lock is found contended by children or waiters registering is *sharded*: later
//! children and new waiters register with a per-thread *lane* of it, itself an ordinary child (see
//! `lanes`).
//!
//! The state word is the only thing a check reads: `triggered()` is one `Acquire` load at any
//! depth, because the trigger pushes the state down instead of the check walking up.
//!
//! # Invariants
//!
//! Every place that relies on one of these names it as (I1)..(I6).
//!
//! 1. **(I1)** `state` changes only while the token's `node` lock is held, and only forward: from
//!    live to triggered (once: the cause never changes), then from triggered to triggered and
//!    `SETTLED` (once). `NEVER` never changes. A live state may gain the `SHARDED` flag (once),
//!    which changes nothing but the path later children take (`lanes` L1). So, under the lock,
//!    whether the token is triggered stays true for as long as the lock is held.
//! 2. **(I2)** Nothing is inserted into a triggered token's slabs: every insertion checks the state
//!    under the same lock first. The critical section that triggers a token takes its waiters (and
//!    callbacks); its children stay until it is settled, when they are taken too. So a key a child
//!    or a waiter holds names its own entry or nothing, and removing it is then a no-op: keys are
//!    never reused across a trigger (no ABA).
//! 3. **(I3)** A live token is registered with every parent that was live when the token linked
//!    to it. A parent that was already triggered at link time made the token born triggered
//!    instead. So every trigger of an ancestor reaches every live descendant, and no derived token
//!    is ever left live under a triggered parent.
//! 4. **(I4)** A state `Via(i)` is stored only after parent `i`'s triggered state was stored (by
//!    the same thread, or read under that parent's lock), with `Release`; whoever loads `Via(i)`
//!    with `Acquire` then finds parent `i` triggered. The cause chain walked by
//!    [`Inner::cause`] always ends at a token triggered directly, and never changes.
//! 5. **(I5)** *Lock order:* a thread holds at most one node lock at a time, and never holds a node
//!    lock together with the timer's lock. The one lock ever held with a node lock is a lanes
//!    table's, taken first (`lanes` L2). So no two threads wait on each other: there is no deadlock.
//!    No foreign code runs under a node lock except `Waker::clone`: wakers are woken and dropped,
//!    and `Arc`s of other tokens released (which may run their `Drop`), after unlocking.
//! 6. **(I6)** `SETTLED` on a token means every token derived from it reads triggered. It is set
//!    only after every child the token had when triggered was seen settled (or dying, hence with no
//!    live descendants), with `Release`, read with `Acquire`: the guarantee is transitive.
//!
//! # When `trigger()` returns, the whole subtree reads triggered
//!
//! Two triggers can overlap: both on one token, or one on a token and one on its ancestor. The one
//! that finds a token already triggered must not return while the other is still marking that
//! token's descendants. So no trigger trusts another to finish: every trigger walks, in post-order,
//! every token it reaches that is not yet `SETTLED`, marks those still live, and settles each once
//! all its children are settled (I6). Overlapping triggers share the work instead of waiting for
//! each other; a settled subtree is skipped in one load, so triggering an already triggered token
//! costs one load. Whoever marks a token (the first to reach it) takes its waiters and callbacks,
//! so each is woken or run exactly once, after its marker's walk is done.
//!
//! # No lost wake-up
//!
//! A waiter decides to sleep only after reading `LIVE` *under the node lock*, and registers in that
//! same critical section; the trigger stores the state and takes the waiters in one critical
//! section of the same lock (I1, I2). The lock orders the two: either the waiter was registered
//! first, and the trigger takes and wakes it, or the trigger ran first, and the waiter's read under
//! the lock sees the state. The lock-free `Acquire` load of `triggered()` pairs with the `Release`
//! store and is only ever used to say "triggered" early: a stale `LIVE` from it is always re-read
//! under the lock before anyone sleeps on it. (Making the fast flag authoritative, and registering
//! without the lock, is the mistake that loses wake-ups.) A waiter of a sharded token registers
//! with its thread's lane instead (`lanes` L4): the same argument holds at the lane's lock, since
//! every trigger of the token marks the lane (I3) and takes its waiters in that critical section.
//!
//! # No recursion
//!
//! A trigger walks the graph with an explicit stack; `Drop` releases a chain of parents one level
//! at a time in a loop. Neither uses stack space per level, so any depth works on a small stack.

use std::collections::HashSet;
use std::sync::atomic::Ordering::{Acquire, Relaxed, Release};
use std::sync::{Arc, Weak};
use std::task::Waker;
use std::time::Instant;

use slab::Slab;

use crate::Reason;
use crate::callback::Callback;
use crate::lanes;
use crate::name::Name;
use crate::sync::{AtomicU32, Mutex, lock, lock_noting_contention};
use crate::timer::TimerEntry;
use crate::waiters::Waiters;

/// One token: its state word, its name, its one inline parent, and the lazily allocated rest.
///
/// Kept to 48 bytes so a root token is a single 64-byte allocation: everything a root token does
/// not need until something derives from it, waits on it or gives it a deadline lives in [`Node`].
pub(crate) struct Inner {
    state: AtomicU32,
    /// This token's key in `parent`'s `children` slab, or `NO_KEY` when not registered there.
    /// Written once, under the parent's lock, before the token is handed out.
    key_in_parent: AtomicU32,
    name: Name,
    /// The one parent of a token made by `child`. Tokens with several parents keep them in `Node`.
    parent: Option<Arc<Inner>>,
    node: Mutex<Option<Box<Node>>>,
}

/// The part of a token that other tokens, waiters and callbacks register with, allocated on first
/// use.
#[derive(Default)]
struct Node {
    children: Slab<Child>,
    waiters: Waiters,
    /// Pending callbacks with their registration numbers, in registration order (so sorted by
    /// number: a removal finds its entry by binary search).
    callbacks: Vec<(u64, Arc<Callback>)>,
    next_callback: u64,
    /// The parents of a token made by `any` or `chain` (empty for every other token).
    parents: Vec<Link>,
    /// This token's own deadline, and its entry in a timer while that is pending.
    deadline: Option<Instant>,
    timer: Option<TimerEntry>,
    /// The reason given to `trigger_with`, when the state says `Cause::Reason`.
    reason: Option<Reason>,
    /// How many children and waiters found this node's lock held by another thread as they
    /// registered: at `SHARD_AFTER`, the token makes its children, and registers its new waiters,
    /// through lanes (`lanes`).
    contended: u8,
}

impl Node {
    /// A token's own deadline is the earliest it was given.
    fn keep_earliest_deadline(&mut self, deadline: Instant) {
        self.deadline = self.deadline.into_iter().chain([deadline]).min();
    }
}

struct Child {
    token: Weak<Inner>,
    /// Which of the child's parents this node is: the cause the child records when this marks it.
    via: u32,
}

struct Link {
    parent: Arc<Inner>,
    key: u32,
}

/// Where a waiter of one token is registered: its key in the waiters of that token, or of this
/// thread's lane of it once the token is sharded (`lanes` L4). Empty until the first
/// registration. Dropped only after [`deregister`](WaiterKey::deregister) or a trigger emptied it,
/// with no lock held: it may hold a lane's last handle (I5).
#[derive(Default)]
pub(crate) struct WaiterKey {
    key: Option<usize>,
    /// The lane registered with, held so that the token's trigger still reaches it (`lanes` L4).
    lane: Option<Arc<Inner>>,
}

impl WaiterKey {
    /// Registers `waker` to be woken when `token` triggers, or refreshes this registration.
    /// Returns `false`, registering nothing, if the token is triggered. A sharded token's new
    /// waiters register with this thread's lane of it (`lanes` L4), so that threads waiting on
    /// one token lock different nodes. Blocking waits register a waker that unparks their thread
    /// (see `wait`): one kind of waiter keeps the entries small and their drop a single indirect
    /// call.
    #[inline]
    pub(crate) fn register(&mut self, token: &Arc<Inner>, waker: &Waker) -> bool {
        self.register_in_state(token, token.state.load(Relaxed), waker)
    }

    /// Whether `token` is triggered, in one `Acquire` load (as `triggered()`); if not, registers
    /// `waker` as [`register`](WaiterKey::register) does, deciding from the same load whether to
    /// go through a lane. The poll of every wait future.
    #[inline]
    pub(crate) fn poll(&mut self, token: &Arc<Inner>, waker: &Waker) -> bool {
        let state = token.state.load(Acquire);
        // A stale "live" is re-read under the lock by `register_here`.
        state::is_triggered(state) || !self.register_in_state(token, state, waker)
    }

    /// [`register`](WaiterKey::register), with `state` a recent load of the token's state.
    #[inline]
    fn register_in_state(&mut self, token: &Arc<Inner>, state: u32, waker: &Waker) -> bool {
        // One bit of the load on the common path; the cold path asks properly (`NEVER` has the
        // bit too, and a stale load only picks the other path: lanes L1).
        if self.lane.is_some() || (self.key.is_none() && state & state::SHARDED != 0) {
            return self.register_through_lane(token, waker);
        }
        token.register_here(&mut self.key, waker)
    }

    /// The registration of a waiter of a sharded token: with this thread's lane of it, made or
    /// refreshed (`lanes` L4), or with the token when there is no lane to use. Apart, to keep
    /// `register` small.
    #[cold]
    #[inline(never)]
    fn register_through_lane(&mut self, token: &Arc<Inner>, waker: &Waker) -> bool {
        if self.lane.is_none() && self.key.is_none() && token.is_sharded() {
            self.lane = lanes::lane_of(token);
        }
        // (lanes L4) a lane reads triggered only once the token does.
        let at = self.lane.as_ref().unwrap_or(token);
        at.register_here(&mut self.key, waker)
    }

    /// Removes this registration from `token` or its lane, as its last use: a no-op if there is
    /// none, or once a trigger took it (I2). Drop it after, with no lock held.
    #[inline]
    pub(crate) fn deregister(&self, token: &Inner) {
        if let Some(key) = self.key {
            self.lane.as_deref().unwrap_or(token).deregister_here(key);
        }
    }
}

/// What a whole trigger collected, to act on after its walk, with no lock held (I5).
#[derive(Default)]
struct Aftermath {
    waiters: Vec<Waiters>,
    callbacks: Vec<Arc<Callback>>,
    timers: Vec<TimerEntry>,
}

/// Where a trigger runs the callbacks of the tokens it marks.
pub(crate) enum Callbacks<'a> {
    /// On the triggering thread, after marking and before waking.
    RunHere,
    /// Not at all: appended here, for the caller to run.
    Collect(&'a mut Vec<Arc<Callback>>),
}

const NO_KEY: u32 = u32::MAX;
/// How many contended registrations shard a parent (`lanes`): a few, so that one unlucky moment
/// does not, and a loom model still sees it happen.
#[cfg(not(loom))]
const SHARD_AFTER: u8 = 4;
#[cfg(loom)]
const SHARD_AFTER: u8 = 1;
/// Slabs (and the callback list) that grew past this many slots are given back when they empty,
/// so a burst of waiters, children or callbacks leaves no memory behind.
const KEEP_SLOTS: usize = 64;

/// Why a token is triggered, as stored in its state word.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Cause {
    /// Its own `trigger()`.
    Trigger,
    /// Its own deadline passed.
    Deadline,
    /// Its own `trigger_with`: the reason is in its node.
    Reason,
    /// Its parent number `i` was triggered (see `Inner::parent_at`).
    Via(u32),
}

/// The state word: `LIVE`, `NEVER`, or bit 0 set with the cause above it and maybe `SETTLED`.
mod state {
    use super::Cause;

    pub(super) const LIVE: u32 = 0;
    /// Not triggered (bit 0 clear), and distinct from every other state.
    pub(super) const NEVER: u32 = u32::MAX - 1;
    // Flags of a live state (bit 0 clear, and never `NEVER`: bit 31 stays clear while live).
    /// Live, and its children are made through lanes (`lanes`; set once, under the lock: I1).
    pub(super) const SHARDED: u32 = 1 << 30;
    /// Live, and a lane (`lanes` L1): never sharded itself.
    pub(super) const LANE: u32 = 1 << 29;
    const TRIGGERED: u32 = 1;
    /// Every token derived from this one reads triggered (I6).
    pub(super) const SETTLED: u32 = 1 << 31;
    // Bits 1-2: the kind of cause; bits 3..=30: the parent index of `Via`.
    const TRIGGER: u32 = 0b000;
    const DEADLINE: u32 = 0b010;
    const REASON: u32 = 0b100;
    const VIA: u32 = 0b110;
    const KIND: u32 = 0b110;

    pub(super) fn is_triggered(state: u32) -> bool {
        state & TRIGGERED != 0
    }

    /// Not triggered, and not `NEVER`: whatever live flags it carries.
    pub(super) fn is_live(state: u32) -> bool {
        !is_triggered(state) && state != NEVER
    }

    /// Live, not sharded yet, and no lane (which never shards: `lanes` L1).
    pub(super) fn can_shard(state: u32) -> bool {
        is_live(state) && state & (SHARDED | LANE) == 0
    }

    pub(super) fn encode(cause: Cause) -> u32 {
        TRIGGERED
            | match cause {
                Cause::Trigger => TRIGGER,
                Cause::Deadline => DEADLINE,
                Cause::Reason => REASON,
                // `via` is below the number of parents, far below 2^28 (each parent link is a
                // heap allocation of 16 bytes); the mask drops an impossible overflow rather
                // than let it touch the flag bits.
                Cause::Via(via) => VIA | ((via << 3) & !SETTLED),
            }
    }

    pub(super) fn decode(state: u32) -> Option<Cause> {
        if !is_triggered(state) {
            return None;
        }
        Some(match state & KIND {
            TRIGGER => Cause::Trigger,
            DEADLINE => Cause::Deadline,
            REASON => Cause::Reason,
            _ => Cause::Via((state & !SETTLED) >> 3),
        })
    }

    pub(super) fn is_settled(state: u32) -> bool {
        is_triggered(state) && state & SETTLED != 0
    }
}

impl Inner {
    fn new(name: Name, state: u32, parent: Option<Arc<Inner>>, node: Option<Box<Node>>) -> Self {
        Inner {
            state: AtomicU32::new(state),
            key_in_parent: AtomicU32::new(NO_KEY),
            name,
            parent,
            node: Mutex::new(node),
        }
    }

    pub(crate) fn root(name: Name) -> Arc<Inner> {
        Arc::new(Inner::new(name, state::LIVE, None, None))
    }

    pub(crate) fn never(name: Name) -> Arc<Inner> {
        Arc::new(Inner::new(name, state::NEVER, None, None))
    }

    pub(crate) fn name(&self) -> &str {
        self.name.as_str()
    }

    pub(crate) fn name_clone(&self) -> Name {
        self.name.clone()
    }

    /// The name as stored, for a chain's rendering to walk without recursion (name.rs N1).
    pub(crate) fn name_ref(&self) -> &Name {
        &self.name
    }

    /// One `Acquire` load: pairs with the `Release` store in `visit`.
    #[inline]
    pub(crate) fn is_triggered(&self) -> bool {
        state::is_triggered(self.state.load(Acquire))
    }

    fn is_never(&self) -> bool {
        self.state.load(Relaxed) == state::NEVER
    }

    /// A token with one parent: one allocation, one lock of the parent, or of this thread's lane
    /// of it once the parent is sharded (`lanes`).
    #[inline]
    pub(crate) fn child(parent: &Arc<Inner>, name: Name) -> Arc<Inner> {
        Inner::child_named(parent, Some(name))
    }

    /// [`child`](Inner::child), named like `parent` (a deadline child). Made through a lane, it
    /// shares the lane's copy of the name (lanes L1): threads making such children of one parent
    /// at once then share no count of its name either.
    pub(crate) fn child_named_alike(parent: &Arc<Inner>) -> Arc<Inner> {
        Inner::child_named(parent, None)
    }

    /// A child named `name`, or like the token it registers with when `None`.
    #[inline]
    fn child_named(parent: &Arc<Inner>, name: Option<Name>) -> Arc<Inner> {
        // One bit of one load picks the common path: `NEVER` has the bit too, and a stale load
        // only picks the other path, which is as correct (L1).
        if parent.state.load(Relaxed) & state::SHARDED != 0 {
            return Inner::child_elsewhere(parent, name);
        }
        let name = name.unwrap_or_else(|| parent.name_clone());
        Inner::child_of(parent.clone(), name, state::LIVE)
    }

    /// [`child_named`](Inner::child_named) of `NEVER`, or of a sharded parent (through this
    /// thread's lane).
    #[cold]
    #[inline(never)]
    fn child_elsewhere(parent: &Arc<Inner>, name: Option<Name>) -> Arc<Inner> {
        if parent.is_never() {
            // `NEVER` cannot change (I1) and cannot trigger anything: nothing to link.
            return Inner::root(name.unwrap_or_else(|| parent.name_clone()));
        }
        let at = lanes::lane_of(parent).unwrap_or_else(|| parent.clone());
        let name = name.unwrap_or_else(|| at.name_clone());
        Inner::child_of(at, name, state::LIVE)
    }

    /// A lane of `parent` (lanes L1): a child like any other, flagged so that it never shards,
    /// and named like its parent with a copy of the name that shares no count with it.
    pub(crate) fn lane(parent: &Arc<Inner>) -> Arc<Inner> {
        Inner::child_of(parent.clone(), parent.name.unshared(), state::LANE)
    }

    /// Makes this live token's children and new waiters go through lanes from now on (as
    /// contention does; for tests and models). Does nothing to a lane, or to a token no longer
    /// live.
    pub(crate) fn shard(&self) {
        let _node = lock(&self.node);
        self.shard_locked();
    }

    /// [`shard`](Inner::shard), with this token's node lock held by the caller.
    fn shard_locked(&self) {
        let state = self.state.load(Relaxed);
        if state::can_shard(state) {
            // (I1) under the lock, and the state stays live: only the path later children take
            // changes (lanes L1).
            self.state.store(state | state::SHARDED, Relaxed);
        }
    }

    /// Whether this token's children and new waiters go through lanes.
    #[inline]
    pub(crate) fn is_sharded(&self) -> bool {
        let state = self.state.load(Relaxed);
        state & state::SHARDED != 0 && state::is_live(state)
    }

    /// Whether this token is a lane of `parent`.
    pub(crate) fn is_lane_of(&self, parent: &Arc<Inner>) -> bool {
        self.parent
            .as_ref()
            .is_some_and(|own| Arc::ptr_eq(own, parent))
    }

    /// A token registered with its one parent, born in `live` (`LIVE` or `LANE`) unless the
    /// parent is triggered. Shards the parent once its lock was found contended `SHARD_AFTER`
    /// times.
    fn child_of(parent: Arc<Inner>, name: Name, live: u32) -> Arc<Inner> {
        // Allocated before locking, to keep the parent's critical section short. Built in place:
        // `Arc::new` builds the value on the stack and copies it into the allocation, which here
        // costs more than `new_cyclic`'s one extra count update (5 to 11 % of a child: RESULTS,
        // run 9).
        let child = Arc::new_cyclic(|_| Inner::new(name, live, Some(parent), None));
        let parent = child.parent.as_ref().expect("made with its parent");
        let (mut node, contended) = lock_noting_contention(&parent.node);
        let state = parent.state.load(Relaxed);
        if state::is_triggered(state) {
            // (I1) the parent's state is final; (I3) born triggered instead of registered, and
            // settled (I6): it has no children. Not shared yet: nobody sees it half made.
            let born = state::encode(Cause::Via(0)) | state::SETTLED;
            child.state.store(born, Relaxed);
        } else {
            let node = node.get_or_insert_with(Box::default);
            let key = node.children.insert(Child {
                token: Arc::downgrade(&child),
                via: 0,
            });
            child.key_in_parent.store(slab_key(key), Relaxed);
            if contended {
                parent.note_contention(node, state);
            }
        }
        drop(node);
        child
    }

    /// Counts a registration (of a child or a waiter) that found this live token's lock held by
    /// another thread, with the lock held again (`node` is its node, `state` its state): at
    /// `SHARD_AFTER`, the token is sharded (I1).
    fn note_contention(&self, node: &mut Node, state: u32) {
        if state::can_shard(state) {
            node.contended += 1;
            if node.contended >= SHARD_AFTER {
                self.shard_locked();
            }
        }
    }

    /// A token with any number of parents: triggered when any of them is.
    pub(crate) fn any(name: Name, parents: &[&Arc<Inner>]) -> Arc<Inner> {
        let parents: Vec<&Arc<Inner>> = parents.iter().copied().filter(|p| !p.is_never()).collect();
        match parents[..] {
            [] => return Inner::root(name),
            [parent] => return Inner::child(parent, name),
            _ => {}
        }
        let token = Arc::new(Inner::new(name, state::LIVE, None, Some(Box::default())));
        let mut links = Vec::with_capacity(parents.len());
        for parent in parents {
            let via = u32::try_from(links.len()).unwrap_or(u32::MAX);
            let mut node = lock(&parent.node);
            // (I1) final while locked.
            let live = !state::is_triggered(parent.state.load(Relaxed));
            let key = if live {
                let key = node
                    .get_or_insert_with(Box::default)
                    .children
                    .insert(Child {
                        token: Arc::downgrade(&token),
                        via,
                    });
                slab_key(key)
            } else {
                NO_KEY
            };
            drop(node);
            links.push(Link {
                parent: parent.clone(),
                key,
            });
            if !live {
                // (I3) born triggered by the first parent found triggered. A parent linked
                // earlier may have marked us meanwhile: then that cause stands (I1).
                Inner::trigger(&token, Cause::Via(via), None);
                break;
            }
        }
        // Nothing reads `parents` before the caller gets the token: propagation into it only
        // takes its (empty) slabs, and only its own handle asks for its cause.
        lock(&token.node).as_mut().expect("allocated above").parents = links;
        token
    }

    /// Triggers this token with `cause` (and `reason`, for `Cause::Reason`), and every live token
    /// derived from it. Returns false if this token was already triggered (or can never be).
    ///
    /// When it returns, every token derived from this one reads triggered, even if another trigger
    /// overlapped this one. In order: every token reached is marked; then the callbacks of the
    /// tokens this call marked run (each token's in registration order, tokens in the order
    /// marked, this one first); then their waiters are woken. So a callback or a woken task sees
    /// the whole subtree triggered.
    pub(crate) fn trigger(this: &Arc<Inner>, cause: Cause, reason: Option<Reason>) -> bool {
        Inner::trigger_with_callbacks(this, cause, reason, Callbacks::RunHere)
    }

    /// [`trigger`](Inner::trigger), saying where the callbacks of the tokens it marks run: here,
    /// between marking and waking (the order `trigger` documents), or nowhere yet, collected for
    /// the caller to run elsewhere after the waiters are woken (the process timer, timer's T4).
    pub(crate) fn trigger_with_callbacks(
        this: &Arc<Inner>,
        cause: Cause,
        reason: Option<Reason>,
        callbacks: Callbacks<'_>,
    ) -> bool {
        if this.is_settled() {
            return false; // one load: an already triggered token costs no lock
        }
        let mut aftermath = Aftermath::default();
        let (marked, first) = this.visit(cause, reason, &mut aftermath);
        // Post-order walk of the unsettled subtree (I6), with an explicit stack (no recursion).
        let mut stack = Vec::new();
        if !first.is_empty() {
            stack.push((this.clone(), first.into_iter()));
        }
        while let Some((token, children)) = stack.last_mut() {
            match children.next() {
                Some((child, via)) => {
                    let (_, grandchildren) = child.visit(Cause::Via(via), None, &mut aftermath);
                    if !grandchildren.is_empty() {
                        stack.push((child, grandchildren.into_iter()));
                    }
                    // Otherwise, if this was the child's last handle, its `Drop` runs here, with
                    // no lock held (I5).
                }
                None => {
                    token.settle();
                    stack.pop();
                }
            }
        }
        aftermath.timers.into_iter().for_each(TimerEntry::cancel);
        match callbacks {
            Callbacks::RunHere => aftermath.callbacks.iter().for_each(|c| c.run()),
            Callbacks::Collect(collected) => collected.append(&mut aftermath.callbacks),
        }
        aftermath.waiters.into_iter().for_each(Waiters::wake_all);
        marked
    }

    fn is_settled(&self) -> bool {
        state::is_settled(self.state.load(Acquire))
    }

    /// One step of a trigger's walk, in one critical section: marks the token with `cause` if it
    /// is live (I1), taking its waiters, callbacks and timer into `aftermath` (I2); then returns
    /// whether it marked it, and the live children still to visit, none if it is settled. A token
    /// with none left is settled on the spot (I6).
    fn visit(
        &self,
        cause: Cause,
        reason: Option<Reason>,
        aftermath: &mut Aftermath,
    ) -> (bool, Vec<(Arc<Inner>, u32)>) {
        let mut guard = lock(&self.node);
        let mut state = self.state.load(Relaxed);
        if state == state::NEVER || state::is_settled(state) {
            return (false, Vec::new());
        }
        let marks = state::is_live(state);
        if marks {
            state = state::encode(cause);
            if let Some(reason) = reason {
                // Stored before the state that tells readers to look for it (I4's `Release`).
                guard.get_or_insert_with(Box::default).reason = Some(reason);
            }
        }
        let mut children = Vec::new();
        let mut settled_children = Slab::new();
        if let Some(node) = guard.as_mut() {
            if marks {
                if !node.waiters.is_empty() {
                    aftermath.waiters.push(std::mem::take(&mut node.waiters));
                }
                aftermath.callbacks.extend(
                    std::mem::take(&mut node.callbacks)
                        .into_iter()
                        .map(|(_, c)| c),
                );
                aftermath.timers.extend(node.timer.take());
            }
            children.extend(
                node.children
                    .iter()
                    .filter_map(|(_, child)| Some((child.token.upgrade()?, child.via))),
            );
            if children.is_empty() {
                settled_children = std::mem::take(&mut node.children);
            }
        }
        if children.is_empty() {
            state |= state::SETTLED;
        }
        // (I4, I6) `Release`: pairs with `Acquire` in `is_triggered`, `is_settled` and `cause`.
        self.state.store(state, Release);
        drop(guard);
        drop(settled_children); // `Weak`s of dying tokens: released unlocked (I5)
        (marks, children)
    }

    /// Marks this triggered token settled: every child it had was seen settled (I6). Its children
    /// are of no more use to anyone (I2).
    fn settle(&self) {
        let mut guard = lock(&self.node);
        let state = self.state.load(Relaxed);
        self.state.store(state | state::SETTLED, Release);
        let children = guard
            .as_mut()
            .map(|node| std::mem::take(&mut node.children));
        drop(guard);
        drop(children);
    }

    /// The token whose own trigger (or deadline) caused this one's, and why; `None` if live.
    pub(crate) fn cause(this: &Arc<Inner>) -> Option<(Arc<Inner>, Reason)> {
        let mut token = this.clone();
        loop {
            let reason = match state::decode(token.state.load(Acquire))? {
                Cause::Via(via) => {
                    token = token.parent_at(via);
                    continue;
                }
                Cause::Trigger => Reason::Triggered,
                Cause::Deadline => Reason::DeadlineExceeded,
                // Stored by `visit` before the state, and never changed after (I1).
                Cause::Reason => lock(&token.node)
                    .as_ref()
                    .and_then(|node| node.reason.clone())
                    .expect("(I4) a `Reason` state has its reason stored"),
            };
            return Some((token, reason));
        }
    }

    /// The earliest deadline of this token and all its ancestors. Visits every ancestor once.
    pub(crate) fn deadline(this: &Arc<Inner>) -> Option<Instant> {
        // A set, not a list: a chain 100,000 deep must not cost 100,000² comparisons.
        let mut seen: HashSet<*const Inner> = HashSet::new();
        let mut to_visit = vec![this.clone()];
        let mut earliest: Option<Instant> = None;
        while let Some(token) = to_visit.pop() {
            if !seen.insert(Arc::as_ptr(&token)) {
                continue;
            }
            to_visit.extend(token.parent.clone());
            if let Some(node) = lock(&token.node).as_ref() {
                to_visit.extend(node.parents.iter().map(|link| link.parent.clone()));
                earliest = earliest.into_iter().chain(node.deadline).min();
            }
        }
        earliest
    }

    /// Parent number `via` (I4 guarantees it exists and is triggered when a state names it).
    fn parent_at(&self, via: u32) -> Arc<Inner> {
        if let Some(parent) = &self.parent {
            return parent.clone();
        }
        let node = lock(&self.node);
        let link = node
            .as_ref()
            .and_then(|node| node.parents.get(via as usize))
            .expect("(I4) a `Via` state names an existing parent");
        link.parent.clone()
    }

    /// [`WaiterKey::register`] in this token's own node: `*key` names the
    /// registration to refresh, or is set to the new one's. `false`, and `*key` cleared, if the
    /// token is triggered, as the trigger took the waiters (I2). Counts contention as children do.
    #[inline]
    fn register_here(&self, key: &mut Option<usize>, waker: &Waker) -> bool {
        let (mut guard, contended) = lock_noting_contention(&self.node);
        let state = self.state.load(Relaxed);
        if state::is_triggered(state) {
            *key = None;
            return false;
        }
        if state == state::NEVER {
            // Can never wake anyone: keep nothing.
            return true;
        }
        let node = guard.get_or_insert_with(Box::default);
        if contended {
            self.note_contention(node, state);
        }
        match key.and_then(|k| node.waiters.get_mut(k)) {
            Some(slot) => {
                if !slot.will_wake(waker) {
                    let stale = std::mem::replace(slot, waker.clone());
                    drop(guard); // (I5) the stale waker is dropped unlocked
                    drop(stale);
                }
            }
            None => *key = Some(node.waiters.insert(waker.clone())),
        }
        true
    }

    /// Removes the waiter registered under `key` by `register_here` (a no-op once a trigger took
    /// it, I2). The hot half of every wait future's life: one lock, no state read.
    #[inline]
    fn deregister_here(&self, key: usize) {
        let mut node = lock(&self.node);
        let removed = node.as_mut().and_then(|node| node.waiters.remove(key));
        drop(node);
        drop(removed); // (I5)
    }

    /// Gives this live token its deadline and the timer entry that enforces it; hands the entry
    /// back if the token is no longer live.
    pub(crate) fn set_timer(
        this: &Arc<Inner>,
        entry: TimerEntry,
        deadline: Instant,
    ) -> Result<(), TimerEntry> {
        let mut guard = lock(&this.node);
        if !state::is_live(this.state.load(Relaxed)) {
            return Err(entry);
        }
        let node = guard.get_or_insert_with(Box::default);
        node.keep_earliest_deadline(deadline);
        let earlier = node.timer.replace(entry);
        drop(guard);
        earlier.into_iter().for_each(TimerEntry::cancel); // (I5) the timer lock comes after
        Ok(())
    }

    /// Records `deadline` as this token's own (the earliest stands), whatever its state: a deadline
    /// already passed when it was given still reads back from `deadline()`.
    pub(crate) fn record_deadline(this: &Arc<Inner>, deadline: Instant) {
        lock(&this.node)
            .get_or_insert_with(Box::default)
            .keep_earliest_deadline(deadline);
    }

    /// Registers `callback` to run when this token triggers. Returns its registration number, or
    /// `None` if the token is already triggered or can never be (then nothing is kept).
    pub(crate) fn add_callback(&self, callback: &Arc<Callback>) -> Option<u64> {
        let mut node = lock(&self.node);
        if !state::is_live(self.state.load(Relaxed)) {
            return None;
        }
        let node = node.get_or_insert_with(Box::default);
        let id = node.next_callback;
        node.next_callback += 1;
        node.callbacks.push((id, callback.clone())); // numbers only grow: still sorted
        Some(id)
    }

    /// Takes a pending callback out; `None` if a trigger already took it (I2).
    pub(crate) fn remove_callback(&self, id: u64) -> Option<Arc<Callback>> {
        let mut node = lock(&self.node);
        let callbacks = &mut node.as_mut()?.callbacks;
        let at = callbacks.binary_search_by_key(&id, |(id, _)| *id).ok()?;
        let (_, callback) = callbacks.remove(at);
        if callbacks.is_empty() && callbacks.capacity() > KEEP_SLOTS {
            *callbacks = Vec::new(); // a burst of callbacks leaves no memory behind
        }
        Some(callback)
    }

    /// Unregisters this token from its parents (I2: a no-op where a parent has settled) and
    /// hands back the parents (those its chain name holds too), for `Drop` to release one level
    /// at a time.
    fn detach(&mut self, orphans: &mut Vec<Arc<Inner>>) -> Option<Arc<Inner>> {
        self.name.release(orphans); // a chain's name holds its parents too (name.rs N1)
        if let Some(node) = self
            .node
            .get_mut()
            .unwrap_or_else(|e| e.into_inner())
            .take()
        {
            node.timer.into_iter().for_each(TimerEntry::cancel);
            for link in node.parents {
                link.parent.forget_child(link.key);
                orphans.push(link.parent);
            }
        }
        let parent = self.parent.take()?;
        parent.forget_child(self.key_in_parent.load(Relaxed));
        Some(parent)
    }

    fn forget_child(&self, key: u32) {
        if key == NO_KEY {
            return;
        }
        let mut node = lock(&self.node);
        if let Some(node) = node.as_mut() {
            // (I2) `key` names our own entry, or nothing once the parent settled. The removed `Weak`
            // cannot run any `Drop`: its token's strong count is already zero.
            node.children.try_remove(key as usize);
            shrink_if_empty(&mut node.children);
        }
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        let mut orphans = Vec::new();
        let mut next = self.detach(&mut orphans);
        // Releasing our parent may release its last handle, and its parent's, all the way up a
        // chain: unwrap each one here instead of letting its `Drop` recurse.
        while let Some(parent) = next.take().or_else(|| orphans.pop()) {
            next = Arc::into_inner(parent).and_then(|mut parent| parent.detach(&mut orphans));
        }
    }
}

fn slab_key(key: usize) -> u32 {
    // A key is below the number of live children of one token; 2^32 - 1 of them would take
    // 256 GiB of tokens.
    u32::try_from(key)
        .ok()
        .filter(|&key| key != NO_KEY)
        .expect("fewer than 2^32 - 1 live children per token")
}

#[inline]
pub(crate) fn shrink_if_empty<T>(slab: &mut Slab<T>) {
    if slab.capacity() > KEEP_SLOTS && slab.is_empty() {
        *slab = Slab::new();
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn a_root_token_is_one_64_byte_allocation() {
        assert!(
            std::mem::size_of::<Inner>() <= 48,
            "{}",
            std::mem::size_of::<Inner>()
        );
    }

    #[test]
    fn state_round_trips() {
        for cause in [
            Cause::Trigger,
            Cause::Deadline,
            Cause::Reason,
            Cause::Via(0),
            Cause::Via(7),
            Cause::Via(1 << 20),
        ] {
            assert_eq!(state::decode(state::encode(cause)), Some(cause));
        }
        assert_eq!(state::decode(state::LIVE), None);
        assert_eq!(state::decode(state::NEVER), None);
    }
}
