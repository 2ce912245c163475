//! Row "`raise_if_triggered()`": `check()` and `OperationCancelled`.

use cancel_token::{CancelToken, OperationCancelled};

#[test]
fn check_is_ok_while_live() {
    let token = CancelToken::new("worker");
    assert_eq!(token.check(), Ok(()));
    assert_eq!(token.child("child").check(), Ok(()));
}

#[test]
fn check_names_the_token_in_the_seed_sentence() {
    let token = CancelToken::new("worker");
    token.trigger();
    let error = token.check().unwrap_err();
    assert_eq!(error.to_string(), "Cancellation requested by worker token");
    assert_eq!(error.token(), &token);
}

#[test]
fn check_names_the_cause_not_the_checked_token() {
    let parent = CancelToken::new("parent");
    let child = parent.child("child");
    parent.trigger();
    let error = child.check().unwrap_err();
    assert_eq!(error.to_string(), "Cancellation requested by parent token");
    assert_eq!(error.token(), &parent);
}

#[test]
fn check_names_a_chain_by_its_joined_name_when_triggered_directly() {
    let a = CancelToken::new("a");
    let b = CancelToken::new("b");
    let ab = a.chain(&b);
    ab.trigger();
    assert_eq!(
        ab.check().unwrap_err().to_string(),
        "Cancellation requested by a:b token"
    );
    b.trigger();
    assert_eq!(
        ab.check().unwrap_err().token(),
        &ab,
        "the first cause stays, even after a parent triggers"
    );
}

#[test]
fn check_keeps_an_owned_name() {
    let token = CancelToken::new(format!("job-{}", 42));
    token.trigger();
    assert_eq!(
        token.check().unwrap_err().to_string(),
        "Cancellation requested by job-42 token"
    );
}

#[test]
fn operation_cancelled_is_a_clone_send_sync_static_error() {
    fn assert_traits<T: Clone + Send + Sync + 'static + std::error::Error>() {}
    assert_traits::<OperationCancelled>();

    let token = CancelToken::new("t");
    token.trigger();
    let error = token.check().unwrap_err();
    let boxed: Box<dyn std::error::Error + Send + Sync + 'static> = Box::new(error.clone());
    assert_eq!(boxed.to_string(), "Cancellation requested by t token");
    assert_eq!(error.clone().token(), &token);
}
