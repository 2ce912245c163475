//! A token's name, in 16 bytes.
//!
//! `Cow<'static, str>` takes 24 bytes; boxing the rare owned name behind a thin pointer lets the
//! common `&'static str` case sit in two words, which keeps a root token's allocation at 64 bytes.

use std::borrow::Cow;

#[derive(Clone)]
pub(crate) enum Name {
    Static(&'static str),
    /// `Box<str>` is two words itself: the outer box makes it one, so the enum fits in two.
    Owned(Box<Box<str>>),
}

impl Name {
    pub(crate) fn as_str(&self) -> &str {
        match self {
            Name::Static(name) => name,
            Name::Owned(name) => name,
        }
    }
}

impl From<Cow<'static, str>> for Name {
    fn from(name: Cow<'static, str>) -> Self {
        match name {
            Cow::Borrowed(name) => Name::Static(name),
            Cow::Owned(name) => Name::Owned(Box::new(name.into_boxed_str())),
        }
    }
}
