//! Rows "`trigger()`" (idempotent, pushes down to every derived token, never touches parents),
//! "`triggered`" (right at any depth as soon as `trigger()` returns) and "`a.chain(b)`"
//! (with `child` and `any`).

use cancel_token::CancelToken;

#[test]
fn trigger_is_idempotent() {
    let token = CancelToken::new("t");
    let child = token.child("c");
    token.trigger();
    token.trigger();
    assert!(token.triggered() && child.triggered());
    assert_eq!(token.triggered_token(), Some(token.clone()));
    assert_eq!(child.triggered_token(), Some(token.clone()));
}

#[test]
fn trigger_reaches_a_child() {
    let parent = CancelToken::new("parent");
    let child = parent.child("child");
    assert!(!child.triggered());
    parent.trigger();
    assert!(child.triggered());
}

#[test]
fn trigger_reaches_both_chains_of_a_chain() {
    let a = CancelToken::new("a");
    let b = CancelToken::new("b");
    let ab = a.chain(&b);
    a.trigger();
    assert!(ab.triggered());

    let c = CancelToken::new("c");
    let d = CancelToken::new("d");
    let cd = c.chain(&d);
    d.trigger();
    assert!(cd.triggered(), "the right-hand side triggers a chain too");
}

#[test]
fn trigger_reaches_any_with_many_parents() {
    for i in 0..10 {
        let parents: Vec<CancelToken> =
            (0..10).map(|i| CancelToken::new(format!("p{i}"))).collect();
        let parent = &parents[i];
        let any = CancelToken::any("any", &parents);
        assert!(!any.triggered());
        parent.trigger();
        assert!(any.triggered(), "parent {i} triggers it");
        assert_eq!(any.triggered_token().as_ref(), Some(parent));
    }
}

#[test]
fn trigger_reaches_a_deep_chain_of_children_at_once() {
    // Deep enough that per-level recursion (in trigger or drop) would be a real risk on a
    // test thread's stack.
    let root = CancelToken::new("root");
    let mut tokens = vec![root.clone()];
    for i in 0..10_000 {
        let next = tokens.last().unwrap().child(format!("level-{i}"));
        tokens.push(next);
    }
    root.trigger();
    // Asked right after `trigger()` returned: no token is still catching up.
    for token in &tokens {
        assert!(token.triggered(), "{token:?} not triggered");
    }
    assert_eq!(tokens.last().unwrap().triggered_token(), Some(root));
}

#[test]
fn trigger_reaches_a_deep_mix_of_child_chain_and_any() {
    let root = CancelToken::new("root");
    let side = CancelToken::new("side");
    let mut leaf = root.clone();
    for i in 0..300 {
        leaf = match i % 3 {
            0 => leaf.child("child"),
            1 => leaf.chain(&side),
            _ => CancelToken::any("any", [&CancelToken::new("unrelated"), &leaf]),
        };
    }
    assert!(!leaf.triggered());
    root.trigger();
    assert!(leaf.triggered());
    assert_eq!(leaf.triggered_token(), Some(root));
    assert!(
        !side.triggered(),
        "a trigger never goes up, nor sideways to other parents"
    );
}

#[test]
fn trigger_reaches_a_diamond_once() {
    //      root
    //     /    \
    //   left  right
    //     \    /
    //     bottom -- below
    let root = CancelToken::new("root");
    let left = root.child("left");
    let right = root.child("right");
    let bottom = left.chain(&right);
    let below = bottom.child("below");
    root.trigger();
    for token in [&left, &right, &bottom, &below] {
        assert!(token.triggered(), "{token:?}");
        assert_eq!(token.triggered_token().as_ref(), Some(&root), "{token:?}");
    }
}

#[test]
fn trigger_never_touches_parents() {
    let a = CancelToken::new("a");
    let b = CancelToken::new("b");
    let child = a.child("child");
    let chain = a.chain(&b);
    let any = CancelToken::any("any", [&a, &b]);
    child.trigger();
    chain.trigger();
    any.trigger();
    assert!(!a.triggered() && !b.triggered());
    assert!(child.triggered() && chain.triggered() && any.triggered());
}

#[test]
fn trigger_never_touches_siblings() {
    let parent = CancelToken::new("parent");
    let one = parent.child("one");
    let two = parent.child("two");
    one.trigger();
    assert!(!two.triggered() && !parent.triggered());
}

#[test]
fn chain_is_a_new_token_named_a_colon_b() {
    let a = CancelToken::new("a");
    let b = CancelToken::new("b");
    let ab = a.chain(&b);
    assert_eq!(ab.name(), "a:b");
    assert_ne!(ab, a);
    assert_ne!(ab, b);
    assert_eq!(b.chain(&a).name(), "b:a");
}

#[test]
fn chain_with_itself_is_allowed() {
    let a = CancelToken::new("a");
    let aa = a.chain(&a);
    assert_eq!(aa.name(), "a:a");
    assert!(!aa.triggered());
    a.trigger();
    assert_eq!(aa.triggered_token(), Some(a));

    let b = CancelToken::new("b");
    let bb = b.chain(&b);
    bb.trigger();
    assert!(
        !b.triggered(),
        "triggering the chain leaves its (single) parent alone"
    );
}

#[test]
fn child_is_a_new_token_with_its_own_name() {
    let parent = CancelToken::new("parent");
    let child = parent.child("child");
    assert_eq!(child.name(), "child");
    assert_ne!(child, parent);
}

#[test]
fn any_with_zero_parents_is_a_live_root() {
    let orphan = CancelToken::any("orphan", []);
    assert_eq!(orphan.name(), "orphan");
    assert!(!orphan.triggered());
    orphan.trigger();
    assert_eq!(orphan.triggered_token(), Some(orphan));
}

#[test]
fn derived_tokens_outlive_dropped_parents() {
    // The parent handle going away must not cut the token off: its descendants still trigger
    // through a surviving handle, and a dropped sibling does not break propagation.
    let root = CancelToken::new("root");
    let child = {
        let middle = root.child("middle");
        let sibling = middle.child("sibling");
        drop(sibling);
        middle.child("child")
    };
    root.trigger();
    assert!(child.triggered());
    assert_eq!(child.triggered_token(), Some(root));
}

#[test]
fn a_token_derived_while_its_parent_triggers_is_never_left_live() {
    // Deriving races the trigger: whichever wins, the new token must end triggered (registered
    // in time to be reached, or born triggered), never live under a triggered parent.
    use std::sync::{Arc, Barrier};
    for round in 0..200 {
        let root = CancelToken::new("root");
        let other = CancelToken::new("other");
        let start = Arc::new(Barrier::new(2));
        let deriving = {
            let (root, other, start) = (root.clone(), other.clone(), start.clone());
            std::thread::spawn(move || {
                start.wait();
                (0..20)
                    .flat_map(|_| {
                        [
                            root.child("child"),
                            other.chain(&root),
                            CancelToken::any("any", [&other, &root, &other]),
                        ]
                    })
                    .collect::<Vec<_>>()
            })
        };
        start.wait();
        root.trigger();
        let derived = crate::support::threads::join_guarded(deriving);
        for token in &derived {
            assert!(token.triggered(), "round {round}: {token:?} left live");
            assert_eq!(token.triggered_token().as_ref(), Some(&root));
        }
        assert!(!other.triggered());
    }
}
