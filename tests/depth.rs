//! Depth: graphs 100,000 levels deep are built, triggered, asked and dropped on a thread with a
//! 256 KiB stack, in debug builds. Anything that recursed once per level (the trigger's walk down,
//! the cause's walk up, `Drop` releasing a chain of parents) would overflow that stack.
//!
//! `CANCEL_TOKEN_TEST_DEPTH` overrides the depth (the valgrind run in `.ci/fuzz-and-valgrind.sh`
//! uses a smaller one; valgrind runs the same code, only slower).

use std::thread;

use cancel_token::CancelToken;

const STACK: usize = 256 * 1024;

fn depth() -> usize {
    match std::env::var("CANCEL_TOKEN_TEST_DEPTH") {
        Ok(depth) => depth.parse().expect("CANCEL_TOKEN_TEST_DEPTH is a number"),
        Err(_) => 100_000,
    }
}

/// Runs `test` on a new thread with a [`STACK`]-byte stack, and fails if it panics (a stack
/// overflow aborts the whole process instead, which fails the test run just as well).
fn on_small_stack(test: impl FnOnce() + Send + 'static) {
    let thread = thread::Builder::new()
        .stack_size(STACK)
        .spawn(test)
        .expect("spawn a thread");
    if let Err(panic) = thread.join() {
        std::panic::resume_unwind(panic);
    }
}

/// Asserts that `token` is triggered and that `cause` caused it, through all three ways of asking.
#[track_caller]
fn assert_caused_by(token: &CancelToken, cause: &CancelToken) {
    assert!(token.triggered());
    assert_eq!(token.triggered_token().as_ref(), Some(cause));
    assert_eq!(token.check().unwrap_err().token(), cause);
}

/// `root`, then `levels` tokens each derived from the one before by `step`; all the handles.
fn build(
    root: &CancelToken,
    levels: usize,
    step: impl Fn(&CancelToken) -> CancelToken,
) -> Vec<CancelToken> {
    let mut tokens = Vec::with_capacity(levels + 1);
    tokens.push(root.clone());
    for _ in 0..levels {
        let next = step(tokens.last().expect("the root is there"));
        tokens.push(next);
    }
    tokens
}

/// Only the leaf is kept: every level is held by the one below it, so dropping the leaf releases
/// the whole chain at once.
fn build_keeping_only_the_leaf(
    root: &CancelToken,
    levels: usize,
    step: impl Fn(&CancelToken) -> CancelToken,
) -> CancelToken {
    let mut leaf = root.clone();
    for _ in 0..levels {
        leaf = step(&leaf);
    }
    leaf
}

#[test]
fn a_deep_chain_of_children_keeping_only_the_leaf() {
    on_small_stack(|| {
        let root = CancelToken::new("root");
        let leaf = build_keeping_only_the_leaf(&root, depth(), |t| t.child("child"));
        assert!(!leaf.triggered());
        root.trigger();
        assert_caused_by(&leaf, &root);
        drop(leaf);
        drop(root);
    });
}

#[test]
fn a_deep_live_chain_is_dropped_from_the_leaf() {
    on_small_stack(|| {
        let root = CancelToken::new("root");
        let leaf = build_keeping_only_the_leaf(&root, depth(), |t| t.child("child"));
        // Every level unregisters from a live parent on the way up.
        drop(leaf);
        assert!(!root.triggered());
        root.trigger();
        assert_caused_by(&root, &root);
    });
}

#[test]
fn a_deep_chain_of_children_keeping_every_handle() {
    on_small_stack(|| {
        let root = CancelToken::new("root");
        let tokens = build(&root, depth(), |t| t.child("child"));
        root.trigger();
        assert!(tokens.iter().all(CancelToken::triggered));
        // Asking for the cause walks up to it: ask at every level would be quadratic.
        for token in tokens.iter().step_by(tokens.len() / 100 + 1) {
            assert_caused_by(token, &root);
        }
        assert_caused_by(tokens.last().unwrap(), &root);
        // Root first: each drop leaves the token alive in its child, until the leaf goes.
        drop(tokens);
    });
}

#[test]
fn a_deep_chain_dropped_leaf_first() {
    on_small_stack(|| {
        let root = CancelToken::new("root");
        let mut tokens = build(&root, depth(), |t| t.child("child"));
        root.trigger();
        while let Some(token) = tokens.pop() {
            drop(token);
        }
        assert_caused_by(&root, &root);
    });
}

#[test]
fn a_deep_chain_of_chains() {
    on_small_stack(|| {
        let root = CancelToken::new("r");
        let side = CancelToken::new("s");
        // `chain` names its token "a:b", so a pure chain of chains grows its names by a few bytes
        // per level and their total quadratically (100,000 levels would take ~10^10 bytes). A
        // child between two chains keeps the names short: half the levels are chains.
        let leaf = build_keeping_only_the_leaf(&root, depth() / 2, |t| t.child("c").chain(&side));
        assert_eq!(leaf.name(), "c:s");
        root.trigger();
        assert_caused_by(&leaf, &root);
        drop(leaf);
        // And a pure chain of chains, as deep as its names allow.
        let pure = build(&root, depth() / 20, |t| side.chain(t));
        let leaf = pure.last().unwrap();
        assert_eq!(leaf.name().len(), 2 * pure.len() - 1);
        assert_caused_by(leaf, &root);
        let live_root = CancelToken::new("l");
        let leaf = build_keeping_only_the_leaf(&live_root, depth() / 20, |t| t.chain(&side));
        assert!(!leaf.triggered());
        live_root.trigger();
        assert_caused_by(&leaf, &live_root);
    });
}

#[test]
fn a_deep_chain_of_any() {
    on_small_stack(|| {
        let root = CancelToken::new("root");
        let side = CancelToken::new("side");
        let never = CancelToken::never();
        let tokens = build(&root, depth(), |t| {
            CancelToken::any("any", [&side, &never, t, &side])
        });
        let leaf = tokens.last().unwrap().clone();
        root.trigger();
        assert_caused_by(&leaf, &root);
        assert!(tokens.iter().all(CancelToken::triggered));
        // The first cause stays: every level is already triggered, through the chain from root.
        side.trigger();
        assert_caused_by(&leaf, &root);
        assert_caused_by(&side, &side);
        drop(tokens);
        assert_caused_by(&leaf, &root);
        drop(leaf);
    });
}

#[test]
fn a_deep_live_chain_of_any_is_triggered_by_its_side_parent() {
    on_small_stack(|| {
        let root = CancelToken::new("root");
        let side = CancelToken::new("side");
        let leaf =
            build_keeping_only_the_leaf(&root, depth(), |t| CancelToken::any("any", [t, &side]));
        side.trigger();
        assert_caused_by(&leaf, &side);
        assert!(!root.triggered());
        drop(leaf);
    });
}

#[test]
fn a_trigger_in_the_middle_of_a_deep_chain() {
    on_small_stack(|| {
        let root = CancelToken::new("root");
        let tokens = build(&root, depth(), |t| t.child("child"));
        let middle = tokens[tokens.len() / 2].clone();
        let (above, below) = tokens.split_at(tokens.len() / 2);
        middle.trigger();
        assert!(
            above.iter().all(|t| !t.triggered()),
            "a trigger never touches a parent"
        );
        assert!(below.iter().all(CancelToken::triggered));
        assert_caused_by(tokens.last().unwrap(), &middle);
        root.trigger();
        assert!(above.iter().all(CancelToken::triggered));
        assert_caused_by(&above[above.len() - 1], &root);
        // The first cause stays for the lower half.
        assert_caused_by(tokens.last().unwrap(), &middle);
        // Tokens derived now, at the bottom, are born triggered with the bottom's cause.
        assert_caused_by(&tokens.last().unwrap().child("late"), &middle);
        drop(tokens);
    });
}

#[test]
fn a_deep_wait_is_woken_through_every_level() {
    use std::future::Future;
    use std::pin::pin;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::task::{Context, Wake, Waker};

    struct Flag(AtomicBool);
    impl Wake for Flag {
        fn wake(self: Arc<Self>) {
            self.0.store(true, Ordering::SeqCst);
        }
    }

    on_small_stack(|| {
        let root = CancelToken::new("root");
        let leaf = build_keeping_only_the_leaf(&root, depth(), |t| t.child("child"));
        let flag = Arc::new(Flag(AtomicBool::new(false)));
        let waker = Waker::from(flag.clone());
        let mut wait = pin!(leaf.wait());
        assert!(
            wait.as_mut()
                .poll(&mut Context::from_waker(&waker))
                .is_pending()
        );
        root.trigger();
        assert!(
            flag.0.load(Ordering::SeqCst),
            "the trigger woke the leaf's waiter"
        );
        assert!(
            wait.as_mut()
                .poll(&mut Context::from_waker(&waker))
                .is_ready()
        );
    });
}

/// `deadline()` visits every ancestor once: at the root of a deep chain, under its leaf, the
/// earliest deadline is found without a walk that grows with the square of the depth.
#[test]
fn the_deadline_of_a_deep_chain_is_found_at_its_root() {
    on_small_stack(|| {
        let clock = cancel_token::ManualClock::new();
        let root = clock.with_timeout(&CancelToken::new("root"), std::time::Duration::from_secs(5));
        let leaf = build_keeping_only_the_leaf(&root, depth(), |token| token.child("level"));
        assert_eq!(leaf.deadline(), root.deadline());
        assert!(root.deadline().is_some());
    });
}
