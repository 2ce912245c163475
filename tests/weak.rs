//! WeakCancelToken: K1 (src/weak.rs).
use cancel_token::{CancelToken, WeakCancelToken};

#[test]
fn upgrade_while_alive_fails_after_last_drop() {
    let token = CancelToken::new("job");
    let weak = WeakCancelToken::downgrade(&token);
    let clone = token.clone();
    drop(token);
    assert!(!weak.is_dropped());
    let up = weak.upgrade().expect("a clone still holds it");
    assert!(up == clone);
    drop(up);
    drop(clone);
    assert!(weak.is_dropped());
    assert!(weak.upgrade().is_none());
}

#[test]
fn a_child_keeps_its_parent_upgradable() {
    let parent = CancelToken::new("parent");
    let weak = WeakCancelToken::downgrade(&parent);
    let child = parent.child("child");
    drop(parent);
    let up = weak
        .upgrade()
        .expect("the child's parent link keeps it alive");
    up.trigger();
    assert!(child.triggered());
}
