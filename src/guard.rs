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

/// [`DropGuard`] over a borrowed token: triggers it when dropped, unless
/// [`disarm`](Self::disarm)ed. No clone of the token, no allocation.
///
/// ```
/// use cancel_token::CancelToken;
///
/// let token = CancelToken::new("scope");
/// {
///     let _guard = token.drop_guard_ref();
/// }
/// assert!(token.triggered());
///
/// let kept = CancelToken::new("kept");
/// let back: &CancelToken = kept.drop_guard_ref().disarm();
/// assert!(!back.triggered());
/// ```
#[must_use = "dropping the guard triggers the token at once"]
#[derive(Debug)]
pub struct DropGuardRef<'a> {
    token: Option<&'a CancelToken>,
}

impl<'a> DropGuardRef<'a> {
    /// The token this guard will trigger when dropped.
    pub fn token(&self) -> &'a CancelToken {
        self.token
            .expect("a guard holds its token until disarmed or dropped")
    }

    /// Gives the borrow back without triggering the token.
    pub fn disarm(mut self) -> &'a CancelToken {
        self.token
            .take()
            .expect("a guard holds its token until disarmed or dropped")
    }
}

impl Drop for DropGuardRef<'_> {
    fn drop(&mut self) {
        if let Some(token) = self.token.take() {
            token.trigger();
        }
    }
}

impl CancelToken {
    /// A guard that triggers this token when dropped, unless disarmed; borrows the token
    /// instead of owning a clone, as [`drop_guard`](Self::drop_guard) does.
    pub fn drop_guard_ref(&self) -> DropGuardRef<'_> {
        DropGuardRef { token: Some(self) }
    }
}
