//! Property tests: random programs over a small pool of tokens, run against the crate and against a
//! reference model of the seed's semantics, compared after every step.
//!
//! The op language, the model and the comparison live in `tests/model/` and are shared with the
//! fuzz target (`fuzz/fuzz_targets/ops.rs`); this file only says how proptest generates programs.

#[path = "model/harness.rs"]
mod harness;
#[path = "model/ops.rs"]
mod ops;
#[path = "model/reference.rs"]
mod reference;

use ops::Op;
use proptest::collection::vec;
use proptest::prelude::*;

fn op() -> impl Strategy<Value = Op> {
    let slot = any::<u8>;
    prop_oneof![
        3 => (slot(), prop::bool::weighted(0.05)).prop_map(|(slot, never)| Op::New { slot, never }),
        3 => (slot(), slot()).prop_map(|(slot, parent)| Op::Child { slot, parent }),
        2 => (slot(), slot(), slot()).prop_map(|(slot, a, b)| Op::Chain { slot, a, b }),
        2 => (slot(), vec(slot(), 0..5)).prop_map(|(slot, parents)| Op::Any { slot, parents }),
        1 => (slot(), slot()).prop_map(|(slot, from)| Op::Clone { slot, from }),
        3 => slot().prop_map(|slot| Op::Trigger { slot }),
        2 => slot().prop_map(|slot| Op::Drop { slot }),
        3 => (slot(), any::<bool>()).prop_map(|(slot, keep)| Op::Wait { slot, keep }),
        1 => (slot(), any::<bool>()).prop_map(|(wait, fresh_waker)| Op::Repoll { wait, fresh_waker }),
        1 => slot().prop_map(|wait| Op::DropWait { wait }),
        1 => slot().prop_map(|slot| Op::Check { slot }),
    ]
}

/// 512 cases unless `PROPTEST_CASES` says otherwise (the valgrind run asks for fewer): an explicit
/// `with_cases` would override the environment.
fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok());
    ProptestConfig::with_cases(cases.unwrap_or(512))
}

proptest! {
    #![proptest_config(config())]

    /// The crate agrees with the seed's semantics (and our first-cause rule) after every step.
    #[test]
    fn programs_agree_with_the_model(program in vec(op(), 1..80)) {
        harness::run(&program);
    }

    /// The same, through the fuzz target's byte decoder, so that the decoder is tested too.
    #[test]
    fn decoded_programs_agree_with_the_model(bytes in vec(any::<u8>(), 0..400)) {
        harness::run(&ops::decode(&bytes, usize::MAX));
    }
}

/// A hand-written program that needs every kind of op, so the harness is known to exercise them:
/// a diamond with a shared parent, a dropped middle handle, kept waits across a trigger.
#[test]
fn a_diamond_with_dropped_handles_and_kept_waits() {
    use Op::*;
    harness::run(&[
        New {
            slot: 0,
            never: false,
        },
        Child { slot: 1, parent: 0 },
        New {
            slot: 2,
            never: false,
        },
        Chain {
            slot: 3,
            a: 1,
            b: 2,
        },
        Any {
            slot: 4,
            parents: vec![3, 2, 0],
        },
        New {
            slot: 5,
            never: true,
        },
        Child { slot: 6, parent: 5 },
        Clone { slot: 7, from: 4 },
        Wait {
            slot: 3,
            keep: true,
        },
        Wait {
            slot: 4,
            keep: true,
        },
        Wait {
            slot: 6,
            keep: true,
        },
        Wait {
            slot: 0,
            keep: false,
        },
        Repoll {
            wait: 1,
            fresh_waker: true,
        },
        Repoll {
            wait: 0,
            fresh_waker: false,
        },
        Drop { slot: 1 },
        Drop { slot: 7 },
        Check { slot: 3 },
        Trigger { slot: 2 },
        Check { slot: 3 },
        Trigger { slot: 0 },
        Trigger { slot: 5 },
        Trigger { slot: 6 },
        DropWait { wait: 0 },
        Child { slot: 1, parent: 3 },
        Wait {
            slot: 1,
            keep: false,
        },
    ]);
}

/// The model itself, on the seed's documented examples: pull evaluation through `chain`, the seed's
/// candidate causes, and our fixed first cause beside them.
#[test]
fn the_model_follows_the_seed() {
    let mut model = reference::Model::default();
    let a = model.root("a".into(), false);
    let b = model.root("b".into(), false);
    let ab = model.derive("a:b".into(), vec![a, b]);
    let abab = model.derive("a:b:a:b".into(), vec![ab, ab]);
    assert!(!model.triggered(abab));
    model.trigger(b);
    assert!(model.triggered(ab) && model.triggered(abab) && !model.triggered(a));
    assert_eq!(model.direct_ancestors_or_self(abab), vec![b]);
    assert_eq!(model.first_cause(abab), Some(b));
    model.trigger(a);
    // The seed would now answer `a` (left parent first); ours stays `b`.
    assert_eq!(model.direct_ancestors_or_self(abab), vec![a, b]);
    assert_eq!(model.first_cause(abab), Some(b));
    // Born triggered: the first triggered parent in order gives the cause.
    let c = model.root("c".into(), false);
    let late = model.derive("late".into(), vec![c, a, b]);
    assert_eq!(model.first_cause(late), Some(a));
    // Triggering a derived token never touches a parent; `never` cannot be triggered.
    let never = model.root("never".into(), true);
    let d = model.derive("d".into(), vec![c, never]);
    model.trigger(d);
    model.trigger(never);
    assert!(model.triggered(d) && !model.triggered(c) && !model.triggered(never));
}
