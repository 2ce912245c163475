//! [`FutureCancelExt`]: `cancellable_wait` as a method on every future.

use std::future::Future;

use crate::{CancelToken, CancellableWait, CancellableWaitOwned};

/// `cancellable_wait` written from the future's side (tokio-util's
/// `with_cancellation_token[_owned]`). The futures are [`CancellableWait`] and
/// [`CancellableWaitOwned`]: the same outputs, poll rules and cancel safety.
///
/// ```
/// use cancel_token::{CancelToken, FutureCancelExt};
///
/// let token = CancelToken::new("job");
/// let done = futures::executor::block_on(async { 1 }.with_cancel_token(&token));
/// assert_eq!(done.unwrap(), 1);
/// token.trigger();
/// let owned = std::future::pending::<()>().with_cancel_token_owned(token.clone());
/// assert!(futures::executor::block_on(owned).is_err());
/// ```
pub trait FutureCancelExt: Future + Sized {
    /// `token.cancellable_wait(self)`: borrows the token.
    fn with_cancel_token(self, token: &CancelToken) -> CancellableWait<'_, Self> {
        token.cancellable_wait(self)
    }

    /// `token.cancellable_wait_owned(self)`: owns the token, `'static` when `self` is.
    fn with_cancel_token_owned(self, token: CancelToken) -> CancellableWaitOwned<Self> {
        token.cancellable_wait_owned(self)
    }
}

impl<F: Future> FutureCancelExt for F {}
