//! A weak handle on a token: it does not keep the token alive.
//!
//! ```
//! use cancel_token::{CancelToken, WeakCancelToken};
//!
//! let token = CancelToken::new("job");
//! let weak = WeakCancelToken::downgrade(&token);
//! assert!(weak.upgrade().is_some_and(|t| t == token));
//! drop(token);
//! assert!(weak.upgrade().is_none());
//! ```
//!
//! Invariant K1: a `WeakCancelToken` holds only a `Weak` on the token's node, so it never
//! delays the node's drop; `upgrade` succeeds exactly while some `CancelToken` (or a child,
//! whose parent link keeps its parent alive) still holds the node. One more holder is the
//! crate's own: a token that many threads derived from at once has per-thread lanes, kept up to
//! two sweeps (200 ms) after their last use (`lanes` L3), so such a token may still upgrade for
//! that long after its last handle and child are gone.

use std::fmt;
use std::sync::Weak;

use crate::graph::Inner;
use crate::token::CancelToken;

/// A handle that refers to a token without keeping it alive (see K1 in the module docs).
#[derive(Clone)]
pub struct WeakCancelToken {
    inner: Weak<Inner>,
}

impl WeakCancelToken {
    /// A weak handle on `token`. Allocates nothing; never blocks.
    pub fn downgrade(token: &CancelToken) -> Self {
        WeakCancelToken {
            inner: std::sync::Arc::downgrade(&token.inner),
        }
    }

    /// The token, if some strong handle still keeps it alive (K1). Never blocks.
    pub fn upgrade(&self) -> Option<CancelToken> {
        self.inner.upgrade().map(|inner| CancelToken { inner })
    }

    /// Whether no strong handle keeps the token alive any more (K1): once true, stays true.
    pub fn is_dropped(&self) -> bool {
        self.inner.strong_count() == 0
    }
}

impl fmt::Debug for WeakCancelToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WeakCancelToken")
            .field("dropped", &self.is_dropped())
            .finish()
    }
}
