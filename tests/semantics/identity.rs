//! Rows "`CancelToken(name)`", "`repr`/`str`" and "equality is identity", plus `never()`.

use std::collections::HashSet;

use cancel_token::CancelToken;

#[test]
fn new_keeps_a_static_name() {
    let token = CancelToken::new("demo");
    assert_eq!(token.name(), "demo");
    assert!(!token.triggered());
}

#[test]
fn new_keeps_an_owned_name() {
    let worker = 7;
    let token = CancelToken::new(format!("worker-{worker}"));
    assert_eq!(token.name(), "worker-7");
    assert!(!token.triggered());
}

#[test]
fn debug_is_the_seed_repr_and_display_is_the_name() {
    let token = CancelToken::new("demo");
    assert_eq!(format!("{token:?}"), "<CancelToken: demo>");
    assert_eq!(token.to_string(), "demo");
    let owned = CancelToken::new(String::from("owned"));
    assert_eq!(format!("{owned:?}"), "<CancelToken: owned>");
    assert_eq!(owned.to_string(), "owned");
}

#[test]
fn equality_is_identity_not_name() {
    let a = CancelToken::new("same");
    let b = CancelToken::new("same");
    assert_ne!(a, b, "two tokens with the same name are different tokens");
    assert_eq!(a, a.clone(), "a clone is the same token");
    assert_ne!(a, a.child("same"), "a derived token is a new token");
}

#[test]
fn a_clone_shares_the_state() {
    let a = CancelToken::new("a");
    let clone = a.clone();
    clone.trigger();
    assert!(a.triggered());
    assert_eq!(a.triggered_token(), Some(clone));
}

#[test]
// The lint sees the atomics inside; equality and hashing use only the pointer, which never changes.
#[allow(clippy::mutable_key_type)]
fn hashing_is_identity() {
    let a = CancelToken::new("same");
    let b = CancelToken::new("same");
    let mut set = HashSet::new();
    assert!(set.insert(a.clone()));
    assert!(
        set.insert(b.clone()),
        "same name, different token: both fit"
    );
    assert!(!set.insert(a.clone()), "a clone is already in the set");
    assert_eq!(set.len(), 2);
    assert!(set.contains(&a) && set.contains(&b));
    assert!(!set.contains(&CancelToken::new("same")));
}

#[test]
fn tokens_are_send_sync_and_static() {
    fn assert_traits<T: Clone + Send + Sync + 'static + std::fmt::Debug + std::fmt::Display>() {}
    assert_traits::<CancelToken>();
}

#[test]
fn never_cannot_be_triggered() {
    let never = CancelToken::never();
    never.trigger();
    assert!(!never.triggered());
    assert_eq!(never.triggered_token(), None);
    assert!(never.check().is_ok());
    assert!(!never.wait_blocking_timeout(std::time::Duration::ZERO));
    assert_eq!(
        never,
        CancelToken::never(),
        "every call gives the same token"
    );
}

#[test]
fn tokens_derived_from_never_work_on_their_own() {
    let never = CancelToken::never();
    let child = never.child("child");
    let other = CancelToken::new("other");
    let any = CancelToken::any("any", [&never, &other]);
    assert!(!child.triggered() && !any.triggered());
    child.trigger();
    assert_eq!(child.triggered_token(), Some(child.clone()));
    other.trigger();
    assert_eq!(any.triggered_token(), Some(other));
    assert!(
        !never.triggered(),
        "a trigger never reaches a parent, never included"
    );
}
