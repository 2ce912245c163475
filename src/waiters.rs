//! The pending wakers of one token: what its node's lock guards for `wait` and the blocking waits.
//!
//! The first waiter lives in an inline slot of the node, the others in a slab. A token usually
//! has one waiter (the task or thread that owns the work), and registering or removing it is the
//! hot half of every wait future's life: under the node lock, the slot is one dependent load away
//! (node, slot) where a slab entry is two (node, slab buffer, entry), and behind a lock every
//! dependent load waits for the lock's atomic instruction to finish first.
//!
//! Keys: `0` names the slot, `k + 1` names slab entry `k`. Every method runs under the node lock
//! (the caller's `&mut`); the graph's invariants say when keys are valid (I2 in `graph`).

use std::task::Waker;

use slab::Slab;

use crate::graph::shrink_if_empty;

#[derive(Default)]
pub(crate) struct Waiters {
    first: Option<Waker>,
    rest: Slab<Waker>,
}

const FIRST: usize = 0;

impl Waiters {
    /// Stores `waker` and returns its key.
    #[inline]
    pub(crate) fn insert(&mut self, waker: Waker) -> usize {
        if self.first.is_none() {
            self.first = Some(waker);
            return FIRST;
        }
        self.rest.insert(waker) + 1
    }

    /// The waker stored under `key`, if it is still there.
    #[inline]
    pub(crate) fn get_mut(&mut self, key: usize) -> Option<&mut Waker> {
        match key {
            FIRST => self.first.as_mut(),
            _ => self.rest.get_mut(key - 1),
        }
    }

    /// Takes the waker stored under `key` out, if it is still there. A slab that grew for a burst
    /// of waiters is given back once it empties.
    #[inline]
    pub(crate) fn remove(&mut self, key: usize) -> Option<Waker> {
        match key {
            FIRST => self.first.take(),
            _ => {
                let waker = self.rest.try_remove(key - 1);
                shrink_if_empty(&mut self.rest);
                waker
            }
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.first.is_none() && self.rest.is_empty()
    }

    /// Wakes every waker, consuming them. Call with no lock held (I5 in `graph`).
    pub(crate) fn wake_all(self) {
        self.first.into_iter().for_each(Waker::wake);
        self.rest.into_iter().for_each(|(_, waker)| waker.wake());
    }
}
