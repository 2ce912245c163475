//! The reason a remote trigger carries: the text stored in the id's key.

use std::fmt;

/// Why a remote id was triggered: the text of its key (the first reason given, R2).
///
/// A token from [`RemoteTokens::token`](crate::RemoteTokens::token) is triggered with this as its
/// [`Reason::Custom`](cancel_token::Reason::Custom); its `Display` is the text itself.
///
/// ```
/// use cancel_token::{CancelToken, Reason};
/// use cancel_token_redis::RemoteReason;
///
/// fn remote_text(token: &CancelToken) -> Option<String> {
///     match token.reason()? {
///         Reason::Custom(error) => error.downcast_ref::<RemoteReason>().map(|r| r.text().to_owned()),
///         _ => None,
///     }
/// }
/// assert_eq!(remote_text(&CancelToken::new("local")), None);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RemoteReason {
    text: String,
}

impl RemoteReason {
    pub(crate) fn new(text: String) -> Self {
        RemoteReason { text }
    }

    /// The reason text, exactly as stored in the key (bytes that are not UTF-8 are replaced by
    /// U+FFFD).
    pub fn text(&self) -> &str {
        &self.text
    }
}

impl fmt::Display for RemoteReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl std::error::Error for RemoteReason {}
