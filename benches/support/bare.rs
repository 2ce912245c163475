//! The least a child token does in safe Rust, for the floors of `core`'s `child_create_drop` and
//! `deadline`'s `timeout_create_drop`: what is left of a child once everything it does for its
//! users (a name, a state to check and trigger, waiters, callbacks, deadlines, lanes) is taken
//! away, keeping only what makes it a child at all.
//!
//! A child is one `Arc` allocation that holds its parent (so that a cause can be named and a
//! trigger passes through a parent nothing else holds), and an entry in its parent's slab that a
//! trigger could reach without keeping the child alive (a `Weak`), made and removed under the
//! parent's lock. That is four lock operations and seven reference count updates per child made
//! and dropped, besides the allocation.

use std::sync::{Arc, Mutex, PoisonError, Weak};

use slab::Slab;

pub struct BareToken {
    parent: Option<Arc<BareToken>>,
    key: usize,
    children: Mutex<Slab<Weak<BareToken>>>,
}

impl BareToken {
    pub fn root() -> Arc<BareToken> {
        Arc::new(BareToken {
            parent: None,
            key: 0,
            children: Mutex::new(Slab::new()),
        })
    }

    /// A child of `parent`, registered with it.
    pub fn child(parent: &Arc<BareToken>) -> Arc<BareToken> {
        Arc::new_cyclic(|child| BareToken {
            parent: Some(parent.clone()),
            key: parent.children().insert(child.clone()),
            children: Mutex::new(Slab::new()),
        })
    }

    fn children(&self) -> std::sync::MutexGuard<'_, Slab<Weak<BareToken>>> {
        self.children.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Drop for BareToken {
    fn drop(&mut self) {
        if let Some(parent) = &self.parent {
            parent.children().try_remove(self.key);
        }
    }
}
