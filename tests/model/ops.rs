//! The operation language shared by the property test (`tests/model.rs`) and the fuzz target
//! (`fuzz/fuzz_targets/ops.rs`): what a random program can do to a small pool of token handles.
//!
//! Operands are slot numbers into a pool of [`POOL`] handles and indices into the list of kept
//! wait futures; both are taken modulo the current size, so every sequence of ops is a valid
//! program (an op on an empty slot does nothing). That keeps shrinking and fuzzing free of
//! "invalid program" rejections.

/// Number of handle slots a program works on. Small on purpose: ops collide on the same tokens
/// often, so triggers, derivations and drops interleave on shared graphs.
pub const POOL: u8 = 8;

/// One step of a program.
#[derive(Clone, Debug)]
pub enum Op {
    /// A new root token into `slot` (dropping what was there); `never` uses `CancelToken::never()`.
    New { slot: u8, never: bool },
    /// `pool[parent].child(..)` into `slot`.
    Child { slot: u8, parent: u8 },
    /// `pool[a].chain(&pool[b])` into `slot`.
    Chain { slot: u8, a: u8, b: u8 },
    /// `CancelToken::any(.., parents)` into `slot` (no parents: a root token).
    Any { slot: u8, parents: Vec<u8> },
    /// A clone of `pool[from]` into `slot`: the same token under a second handle.
    Clone { slot: u8, from: u8 },
    /// `pool[slot].trigger()`.
    Trigger { slot: u8 },
    /// Drops the handle in `slot`. Must change nobody's state.
    Drop { slot: u8 },
    /// Polls `pool[slot].wait()` once; `keep` keeps it (as `wait_owned`) if it is pending, to be
    /// polled again when woken, as an executor would.
    Wait { slot: u8, keep: bool },
    /// Polls kept wait number `wait` although nothing woke it (allowed, and it re-registers);
    /// `fresh_waker` polls with a new waker, which from then on is the only one that must be woken.
    Repoll { wait: u8, fresh_waker: bool },
    /// Drops kept wait number `wait` while it may still be pending (cancel-safety).
    DropWait { wait: u8 },
    /// `check()` and a zero-timeout blocking wait on `pool[slot]`, compared with the model.
    Check { slot: u8 },
}

/// Decodes a program from raw bytes (the fuzzer's input), at most `max_ops` ops. Each op is a
/// kind byte followed by its operands; the input ending mid-op ends the program.
pub fn decode(bytes: &[u8], max_ops: usize) -> Vec<Op> {
    let mut input = bytes.iter().copied();
    let mut ops = Vec::new();
    while ops.len() < max_ops {
        let Some(op) = decode_one(&mut input) else {
            break;
        };
        ops.push(op);
    }
    ops
}

fn decode_one(input: &mut impl Iterator<Item = u8>) -> Option<Op> {
    let kind = input.next()?;
    Some(match kind % 11 {
        0 => Op::New {
            slot: input.next()?,
            // Rare, like in real programs: most roots are triggerable.
            never: kind >= 0xf0,
        },
        1 => Op::Child {
            slot: input.next()?,
            parent: input.next()?,
        },
        2 => Op::Chain {
            slot: input.next()?,
            a: input.next()?,
            b: input.next()?,
        },
        3 => {
            let slot = input.next()?;
            let count = input.next()? % 5;
            let parents = (0..count).map(|_| input.next()).collect::<Option<_>>()?;
            Op::Any { slot, parents }
        }
        4 => Op::Clone {
            slot: input.next()?,
            from: input.next()?,
        },
        5 => Op::Trigger {
            slot: input.next()?,
        },
        6 => Op::Drop {
            slot: input.next()?,
        },
        7 => Op::Wait {
            slot: input.next()?,
            keep: kind & 0x80 != 0,
        },
        8 => Op::Repoll {
            wait: input.next()?,
            fresh_waker: kind & 0x80 != 0,
        },
        9 => Op::DropWait {
            wait: input.next()?,
        },
        _ => Op::Check {
            slot: input.next()?,
        },
    })
}
