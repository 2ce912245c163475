//! `chain` names are rendered when asked for: building `t = t.chain(&other)` 30,000 times costs
//! memory linear in the number of tokens (the eager `format!` it replaces took about 900 MB), the
//! names read exactly as the seed's `"a:b"` once asked, and neither rendering nor dropping a chain
//! 100,000 deep recurses per level.
//!
//! A counting global allocator (`stats_alloc`, no `unsafe`) gives the live heap bytes; the
//! measuring test takes [`SERIAL`] so that no other test of this binary allocates meanwhile.

use std::alloc::System;
use std::sync::Mutex;
use std::thread;
use std::time::Duration;

use cancel_token::{CancelToken, ManualClock};
use stats_alloc::{INSTRUMENTED_SYSTEM, StatsAlloc};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

static SERIAL: Mutex<()> = Mutex::new(());

const ROUNDS: usize = 30_000;
/// Per chain token, generously: its 64-byte allocation, its node, two parent links, its entry in
/// `other`'s children and its unrendered name come to a few hundred bytes. An eager name would
/// average 30,000 bytes per token here.
const BYTES_PER_TOKEN: isize = 1024;

fn live_bytes() -> isize {
    let stats = GLOBAL.stats();
    stats.bytes_allocated as isize - stats.bytes_deallocated as isize
}

#[test]
fn a_loop_of_chains_is_linear_until_its_name_is_asked_for() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let other = CancelToken::new("o");
    let before = live_bytes();
    let mut t = CancelToken::new("t");
    for _ in 0..ROUNDS {
        t = t.chain(&other);
    }
    let grown = live_bytes() - before;
    eprintln!(
        "{ROUNDS} chains: live bytes grew by {grown} ({} per token)",
        grown / ROUNDS as isize
    );
    assert!(
        grown <= BYTES_PER_TOKEN * ROUNDS as isize,
        "{grown} bytes for {ROUNDS} chains: not linear"
    );
    // Asked for, the name is all there: "t", then ":o" per round.
    let name = t.name();
    assert_eq!(name.len(), 1 + 2 * ROUNDS);
    assert!(name.starts_with("t:o:o") && name.ends_with(":o:o"));
    assert_eq!(name.matches(":o").count(), ROUNDS);
    drop(t);
    let left = live_bytes() - before;
    assert!(left <= 64 * 1024, "{left} bytes left behind after the drop");
}

#[test]
fn chain_names_read_as_the_seed_s() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let a = CancelToken::new("a");
    let b = CancelToken::new(String::from("b"));
    let ab = a.chain(&b);
    assert_eq!(ab.name(), "a:b");
    assert_eq!(ab.to_string(), "a:b");
    assert_eq!(format!("{ab:?}"), "<CancelToken: a:b>");
    let cd = CancelToken::new("c").chain(&CancelToken::new("d"));
    // Both sides chains, one already rendered and one not.
    assert_eq!(ab.chain(&cd).name(), "a:b:c:d");
    assert_eq!(cd.chain(&ab).name(), "c:d:a:b");
    assert_eq!(a.chain(&a).name(), "a:a");
    let x = a.chain(&a);
    assert_eq!(x.chain(&x).name(), "a:a:a:a");
    // Chains that `any` reduces to a child or a root keep the full name.
    assert_eq!(a.chain(&CancelToken::never()).name(), "a:never");
    assert_eq!(
        CancelToken::never().chain(&CancelToken::never()).name(),
        "never:never"
    );
    // Born triggered: the cause is named by the chain's parent, the chain by both.
    b.trigger();
    let born = a.chain(&b).chain(&a);
    assert_eq!(born.name(), "a:b:a");
    assert_eq!(
        born.check().unwrap_err().to_string(),
        "Cancellation requested by b token"
    );
    // A deadline child is named like its parent, before or after the parent's name is rendered.
    let clock = ManualClock::new();
    let fresh = a.chain(&cd);
    let timed = clock.with_timeout(&fresh, Duration::from_secs(1));
    assert_eq!(timed.name(), "a:c:d");
    assert_eq!(fresh.name(), "a:c:d");
    let timed_after = fresh.with_timeout(Duration::from_secs(60));
    assert_eq!(timed_after.name(), "a:c:d");
}

#[test]
fn a_chain_100_000_deep_renders_and_drops_on_a_small_stack() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let thread = thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(|| {
            let other = CancelToken::new("o");
            let mut left = CancelToken::new("l");
            let mut right = CancelToken::new("r");
            for _ in 0..50_000 {
                left = left.chain(&other); // deep on the left
                right = other.chain(&right); // deep on the right
            }
            let both = left.chain(&right);
            let expected = format!("l{}:{}r", ":o".repeat(50_000), "o:".repeat(50_000));
            assert_eq!(both.name(), expected);
            drop((left, right));
            other.trigger();
            assert!(both.triggered());
            drop(both);
        })
        .expect("spawn a thread");
    if let Err(panic) = thread.join() {
        std::panic::resume_unwind(panic);
    }
}
