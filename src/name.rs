//! A token's name, in 16 bytes, and a chain's name rendered only when asked for.
//!
//! `Cow<'static, str>` takes 24 bytes; keeping the rare owned name behind a thin pointer lets the
//! common `&'static str` case sit in two words, which keeps a root token's allocation at 64 bytes.
//! That pointer is counted, not owned: a token named like another (a deadline child, named like
//! its parent) shares the name for one count update, instead of allocating and copying it. A lane
//! (`lanes`) holds a copy of its parent's name instead ([`Name::unshared`]), which the deadline
//! children made through it share: threads deriving from one parent at once update no common
//! count.
//!
//! # Chain names are lazy
//!
//! `a.chain(&b)` is named `"a:b"`, but building that string at once would make
//! `t = t.chain(&other)` in a loop cost memory quadratic in the number of rounds (each name
//! repeats the previous one). So a chain's [`Name`] holds its two parents instead, and renders
//! `"{left}:{right}"` on the first [`as_str`](Name::as_str), caching it for the token's lifetime:
//! memory stays linear in the number of tokens until somebody asks. Rendering walks the parents
//! with an explicit stack (N1) and reuses any parent's cached rendering.
//!
//! # Invariants
//!
//! * **(N1)** Nothing here recurses per level of a chain: rendering uses an explicit stack, and a
//!   chain's parents are handed to the token's `Drop` ([`Name::release`]) to be released one level
//!   at a time with its other parents (graph.rs, "No recursion").
//! * **(N2)** A chain's parents are strong references, like every upward edge of the graph: they
//!   live as long as the chain's name does, which is as long as the chain and every token that
//!   shares its name (its deadline children) live. Its node (or, reduced to a child, its inline
//!   parent) holds them too, except those `any` does not link: `never()`, and a parent after one
//!   already triggered, which the name alone then keeps alive.

use std::borrow::Cow;
use std::sync::{Arc, OnceLock};

use crate::graph::Inner;

#[derive(Clone)]
pub(crate) enum Name {
    Static(&'static str),
    /// One thin pointer, so the enum fits in two words; shared by the tokens named alike.
    Heap(Arc<HeapName>),
}

/// The names that live on the heap: 16 bytes (the variants share `Box<str>`'s non-null niche).
pub(crate) enum HeapName {
    Owned(Box<str>),
    Chain(Box<Chain>),
}

/// `"{left}:{right}"`, rendered on first use.
pub(crate) struct Chain {
    left: Arc<Inner>,
    right: Arc<Inner>,
    rendered: OnceLock<Box<str>>,
}

impl Name {
    /// The name of `left.chain(right)`, not rendered yet.
    pub(crate) fn chain(left: Arc<Inner>, right: Arc<Inner>) -> Name {
        Name::Heap(Arc::new(HeapName::Chain(Box::new(Chain {
            left,
            right,
            rendered: OnceLock::new(),
        }))))
    }

    /// The name; a chain's is rendered on the first call (allocating it once) and cached.
    pub(crate) fn as_str(&self) -> &str {
        match self {
            Name::Static(name) => name,
            Name::Heap(heap) => match &**heap {
                HeapName::Owned(name) => name,
                HeapName::Chain(chain) => chain.rendered.get_or_init(|| chain.render()),
            },
        }
    }

    /// A name with the same text that shares no count with this one (a lane's copy of its
    /// parent's: see `Inner::lane`): a static name as it is, an owned one copied. A chain's is
    /// shared all the same: copying it would render it, and `t.chain(&t)` doubles its length
    /// each round.
    pub(crate) fn unshared(&self) -> Name {
        match self {
            Name::Heap(heap) if matches!(**heap, HeapName::Owned(_)) => {
                Name::Heap(Arc::new(HeapName::Owned(self.as_str().into())))
            }
            name => name.clone(),
        }
    }

    /// The name's text if it needs no rendering: not a chain, or a chain already rendered.
    fn ready(&self) -> Result<&str, &Chain> {
        match self {
            Name::Static(name) => Ok(name),
            Name::Heap(heap) => match &**heap {
                HeapName::Owned(name) => Ok(name),
                HeapName::Chain(chain) => chain.rendered.get().map(|name| &**name).ok_or(&**chain),
            },
        }
    }

    /// Leaves an empty name and, if this was the last token with it, hands a chain's parents to
    /// `orphans`, for the token's `Drop` to release one level at a time (N1). (A name another
    /// token still shares releases nothing: dropping one count runs no other `Drop`.)
    #[inline]
    pub(crate) fn release(&mut self, orphans: &mut Vec<Arc<Inner>>) {
        let Name::Heap(heap) = std::mem::replace(self, Name::Static("")) else {
            return;
        };
        if let Some(HeapName::Chain(chain)) = Arc::into_inner(heap) {
            orphans.extend([chain.left, chain.right]);
        }
    }
}

impl Chain {
    /// `"{left}:{right}"`, depth-first with an explicit stack (N1).
    fn render(&self) -> Box<str> {
        enum Step<'a> {
            Name(&'a Name),
            Colon,
        }
        let mut rendered = String::new();
        let mut stack = vec![Step::Name(self.right.name_ref()), Step::Colon];
        let mut chain = self;
        loop {
            // Walk down the left spine, leaving each right side and colon for later.
            match chain.left.name_ref().ready() {
                Ok(left) => rendered.push_str(left),
                Err(left) => {
                    stack.extend([Step::Name(left.right.name_ref()), Step::Colon]);
                    chain = left;
                    continue;
                }
            }
            // The left spine is done: the next pending step, which may start another spine.
            loop {
                match stack.pop() {
                    None => return rendered.into_boxed_str(),
                    Some(Step::Colon) => rendered.push(':'),
                    Some(Step::Name(name)) => match name.ready() {
                        Ok(text) => rendered.push_str(text),
                        Err(right) => {
                            stack.extend([Step::Name(right.right.name_ref()), Step::Colon]);
                            chain = right;
                            break;
                        }
                    },
                }
            }
        }
    }
}

impl From<Cow<'static, str>> for Name {
    #[inline]
    fn from(name: Cow<'static, str>) -> Self {
        match name {
            Cow::Borrowed(name) => Name::Static(name),
            Cow::Owned(name) => Name::Heap(Arc::new(HeapName::Owned(name.into_boxed_str()))),
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn a_name_is_two_words_and_its_heap_part_two_more() {
        assert_eq!(std::mem::size_of::<Name>(), 16);
        assert_eq!(std::mem::size_of::<HeapName>(), 16);
    }

    #[test]
    fn an_unshared_name_reads_the_same_and_copies_only_owned_text() {
        let owned = Name::from(Cow::Owned("server 8080".to_string()));
        let copy = owned.unshared();
        assert_eq!(copy.as_str(), "server 8080");
        let (Name::Heap(original), Name::Heap(copied)) = (&owned, &copy) else {
            panic!("an owned name lives on the heap");
        };
        assert!(!Arc::ptr_eq(original, copied), "the copy shares its count");

        let chain = Name::chain(
            Inner::root(Name::Static("a")),
            Inner::root(Name::Static("b")),
        );
        let shared = chain.unshared();
        assert!(chain.ready().is_err(), "copying a chain rendered it");
        let (Name::Heap(original), Name::Heap(copied)) = (&chain, &shared) else {
            panic!("a chain's name lives on the heap");
        };
        assert!(Arc::ptr_eq(original, copied));
        assert!(matches!(Name::Static("s").unshared(), Name::Static("s")));
    }

    #[test]
    fn a_shared_chain_name_hands_its_parents_out_once_by_its_last_holder() {
        let left = Inner::root(Name::Static("left"));
        let right = Inner::root(Name::Static("right"));
        let mut first = Name::chain(left.clone(), right.clone());
        let mut second = first.clone();
        let mut orphans = Vec::new();
        first.release(&mut orphans);
        assert!(orphans.is_empty(), "still shared: nothing to release");
        assert_eq!(second.as_str(), "left:right");
        second.release(&mut orphans);
        assert_eq!(orphans.len(), 2, "the last holder hands out both parents");
        drop(orphans);
        assert_eq!(
            (Arc::strong_count(&left), Arc::strong_count(&right)),
            (1, 1)
        );
    }
}
