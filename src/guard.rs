//! A guard that triggers its token when dropped: [`CancelToken::drop_guard`].

use crate::CancelToken;

/// Triggers its token when dropped, unless [`disarm`](Self::disarm)ed: ties a token to a scope, so
/// an early return or a panic cancels the work that was started under it.
///
/// ```
/// use cancel_token::CancelToken;
///
/// let token = CancelToken::new("scope");
/// {
///     let _guard = token.clone().drop_guard();
///     // ... work that may return early or panic ...
/// }
/// assert!(token.triggered());
///
/// let guard = CancelToken::new("named").drop_guard();
/// assert_eq!(guard.token().name(), "named");
///
/// let kept = CancelToken::new("kept");
/// let token = kept.clone().drop_guard().disarm();
/// assert!(!token.triggered() && !kept.triggered());
/// ```
#[must_use = "dropping the guard triggers the token at once"]
#[derive(Debug)]
pub struct DropGuard {
    token: Option<CancelToken>,
}

impl DropGuard {
    pub(crate) fn new(token: CancelToken) -> Self {
        DropGuard { token: Some(token) }
    }

    /// The token this guard will trigger when dropped. Borrowing it neither triggers nor disarms.
    pub fn token(&self) -> &CancelToken {
        self.token
            .as_ref()
            .expect("a guard holds its token until disarmed or dropped")
    }

    /// Gives the token back without triggering it.
    pub fn disarm(mut self) -> CancelToken {
        self.token
            .take()
            .expect("a guard holds its token until disarmed or dropped")
    }
}

impl Drop for DropGuard {
    fn drop(&mut self) {
        if let Some(token) = self.token.take() {
            token.trigger();
        }
    }
}
