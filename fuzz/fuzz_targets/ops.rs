//! Fuzzes the op language of the property tests: the fuzzer's bytes are decoded into a program of
//! token operations (`tests/model/ops.rs`), run against the crate and the reference model of the
//! seed's semantics, and compared after every step (`tests/model/harness.rs`). The language, the
//! model and the checks are the property test's own modules, included here, not copies.

#![no_main]

#[path = "../../tests/model/harness.rs"]
mod harness;
#[path = "../../tests/model/ops.rs"]
mod ops;
#[path = "../../tests/model/reference.rs"]
mod reference;

use libfuzzer_sys::fuzz_target;

/// Programs longer than this are cut: the model's checks cost grows with the number of tokens
/// times the number of steps, and long programs find nothing short ones would not, only slower.
const MAX_OPS: usize = 512;

fuzz_target!(|bytes: &[u8]| {
    harness::run(&ops::decode(bytes, MAX_OPS));
});
