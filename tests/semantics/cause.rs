//! Row "`triggered_token`": the token whose `trigger()` caused this one's; the first cause wins
//! and never changes. And the born-triggered half of the "`a.chain(b)`" row.

use cancel_token::CancelToken;

#[test]
fn live_token_has_no_cause() {
    let token = CancelToken::new("t");
    let child = token.child("c");
    assert_eq!(token.triggered_token(), None);
    assert_eq!(child.triggered_token(), None);
}

#[test]
fn triggered_directly_the_cause_is_itself() {
    let token = CancelToken::new("t");
    token.trigger();
    assert_eq!(token.triggered_token(), Some(token.clone()));
}

#[test]
fn triggered_by_an_ancestor_the_cause_is_the_ancestor() {
    let grandparent = CancelToken::new("grandparent");
    let parent = grandparent.child("parent");
    let other = CancelToken::new("other");
    let token = parent.chain(&other);
    grandparent.trigger();
    let cause = token.triggered_token().expect("triggered");
    assert_eq!(cause, grandparent);
    assert_eq!(cause.name(), "grandparent");
    assert_eq!(parent.triggered_token(), Some(grandparent));
}

#[test]
fn first_cause_wins_against_a_later_ancestor() {
    let a = CancelToken::new("a");
    let b = CancelToken::new("b");
    let ab = a.chain(&b);
    b.trigger();
    a.trigger();
    assert_eq!(ab.triggered_token(), Some(b.clone()), "b triggered first");
    assert_eq!(a.triggered_token(), Some(a.clone()), "a is its own cause");
}

#[test]
fn first_cause_wins_against_a_later_own_trigger() {
    // The seed re-evaluates and would now say "itself"; ours keeps the first cause.
    let parent = CancelToken::new("parent");
    let child = parent.child("child");
    parent.trigger();
    child.trigger();
    assert_eq!(child.triggered_token(), Some(parent));
}

#[test]
fn own_trigger_first_wins_against_a_later_parent() {
    let parent = CancelToken::new("parent");
    let child = parent.child("child");
    child.trigger();
    parent.trigger();
    assert_eq!(child.triggered_token(), Some(child.clone()));
}

#[test]
fn the_cause_never_changes_while_others_trigger() {
    let parents: Vec<CancelToken> = (0..5).map(|i| CancelToken::new(format!("p{i}"))).collect();
    let any = CancelToken::any("any", &parents);
    parents[3].trigger();
    let first = any.triggered_token();
    assert_eq!(first.as_ref(), Some(&parents[3]));
    for parent in &parents {
        parent.trigger();
        assert_eq!(any.triggered_token(), first);
    }
    any.trigger();
    assert_eq!(any.triggered_token(), first);
}

#[test]
fn derived_from_a_triggered_parent_is_born_triggered_with_its_cause() {
    let root = CancelToken::new("root");
    let parent = root.child("parent");
    root.trigger();

    let child = parent.child("child");
    assert!(child.triggered());
    assert_eq!(child.triggered_token(), Some(root.clone()));

    let live = CancelToken::new("live");
    let chained = live.chain(&parent);
    assert!(chained.triggered());
    assert_eq!(chained.triggered_token(), Some(root.clone()));

    let any = CancelToken::any("any", [&live, &parent]);
    assert!(any.triggered());
    assert_eq!(any.triggered_token(), Some(root.clone()));

    assert!(!live.triggered(), "being born triggered touches no parent");
}

#[test]
fn born_triggered_from_several_parents_takes_the_first_in_argument_order() {
    let a = CancelToken::new("a");
    let b = CancelToken::new("b");
    let c = CancelToken::new("c");
    // Triggered in the opposite order to the arguments: argument order decides, not time.
    c.trigger();
    b.trigger();
    let any = CancelToken::any("any", [&a, &b, &c]);
    assert_eq!(any.triggered_token(), Some(b.clone()));
    let bc = b.chain(&c);
    assert_eq!(bc.triggered_token(), Some(b.clone()));
    let cb = c.chain(&b);
    assert_eq!(cb.triggered_token(), Some(c.clone()));
}

#[test]
fn a_born_triggered_token_keeps_its_cause() {
    let parent = CancelToken::new("parent");
    parent.trigger();
    let child = parent.child("child");
    child.trigger();
    assert_eq!(child.triggered_token(), Some(parent));
}
