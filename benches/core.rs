//! Side-by-side benchmarks of `cancel_token::CancelToken` (`ours`) and tokio-util's
//! `CancellationToken` (`tokio`), each pair in one criterion group so both run in the same process
//! under the same conditions.
//!
//! Groups: `triggered` (with `floor`, the harness's own cost per iteration, and `x64` rows that
//! time 64 checks per iteration), `triggered_contended` (a second thread checks the same token
//! meanwhile), `check`, `child_create_drop` (also beside 100,000 live siblings),
//! `children_two_threads` (two threads deriving from one root at once), `wait_poll_drop`,
//! `waits_two_threads` (two threads waiting on one token at once),
//! `trigger_to_all_woken` (1 and 1,000 waiting tasks) and `fanout_100k`. The `floor_*`
//! functions time the least any design of that kind must do, for the lowest ratio it could show.
//! Two figures are printed rather than timed by criterion: `heap`, the bytes a root (and a child)
//! token allocates, measured with the counting global allocator below; and the `paired` lines,
//! `child_create_drop`, `wait_poll_drop` (with their floors) and `fanout_100k` timed in alternating
//! ours/tokio rounds (`support::paired`), a cross-check of the criterion figures on a machine whose
//! speed drifts, and the two-thread groups' gains over one thread, in alternating one-thread and
//! two-thread rounds (`support::paired_gain`).
//! `benches/ratios.py` turns criterion's estimates into the ours/tokio table of
//! `benches/RESULTS.md`.
//!
//! Run: `cargo bench --bench core && python3 benches/ratios.py`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::future::{Future, poll_fn};
use std::hint::black_box;
use std::pin::pin;
use std::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed, Release};
use std::sync::atomic::{AtomicBool, AtomicUsize};
use std::sync::{Arc, Mutex};
use std::task::{Context, Waker};
use std::time::{Duration, Instant};

use cancel_token::CancelToken;
use criterion::{Criterion, SamplingMode, criterion_group, criterion_main};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

mod support;
use support::bare::BareToken;

// ---------------------------------------------------------------------------------------------
// Counting allocator
// ---------------------------------------------------------------------------------------------

/// The system allocator, counting requested bytes and allocations while `COUNTING` is set.
///
/// Counting is switched on only around the one-threaded `heap` measurement: a shared counter
/// bumped on every allocation would add cache-line traffic to the multi-threaded timings.
struct Counting;

static COUNTING: AtomicBool = AtomicBool::new(false);
static ALLOCATED: AtomicUsize = AtomicUsize::new(0);
static FREED: AtomicUsize = AtomicUsize::new(0);
static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

impl Counting {
    fn record_alloc(size: usize) {
        if COUNTING.load(Relaxed) {
            ALLOCATED.fetch_add(size, Relaxed);
            ALLOCATIONS.fetch_add(1, Relaxed);
        }
    }

    fn record_free(size: usize) {
        if COUNTING.load(Relaxed) {
            FREED.fetch_add(size, Relaxed);
        }
    }
}

// SAFETY: every method forwards to `System` with the caller's arguments unchanged, so `System`'s
// guarantees are ours; the bookkeeping only touches atomics and never allocates. (The library
// itself is `#![forbid(unsafe_code)]`; this bench binary is a separate crate and needs `unsafe`
// only because `GlobalAlloc` is an unsafe trait.)
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        Counting::record_alloc(layout.size());
        // SAFETY: forwarded unchanged (see the impl).
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        Counting::record_alloc(layout.size());
        // SAFETY: forwarded unchanged (see the impl).
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        Counting::record_free(layout.size());
        // SAFETY: forwarded unchanged (see the impl).
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        Counting::record_free(layout.size());
        Counting::record_alloc(new_size);
        // SAFETY: forwarded unchanged (see the impl).
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// What `make` left allocated: (bytes still live, number of allocations made).
///
/// Must run while no other thread allocates (it runs first, before any runtime exists), so that
/// everything counted is `make`'s. The value is kept alive until after the count.
fn heap_of<T>(make: impl FnOnce() -> T) -> (usize, usize) {
    ALLOCATED.store(0, Relaxed);
    FREED.store(0, Relaxed);
    ALLOCATIONS.store(0, Relaxed);
    COUNTING.store(true, Relaxed);
    let value = black_box(make());
    COUNTING.store(false, Relaxed);
    let live = ALLOCATED.load(Relaxed) - FREED.load(Relaxed);
    let count = ALLOCATIONS.load(Relaxed);
    drop(value);
    (live, count)
}

fn heap(_: &mut Criterion) {
    let (ours, ours_n) = heap_of(|| CancelToken::new("x"));
    let (tokio, tokio_n) = heap_of(CancellationToken::new);
    // A child is measured with its (live) parent made outside the window: only what the child
    // adds is counted, including the parent's first child list.
    let ours_root = CancelToken::new("x");
    let (ours_child, ours_child_n) = heap_of(|| ours_root.child("c"));
    let tokio_root = CancellationToken::new();
    let (tokio_child, tokio_child_n) = heap_of(|| tokio_root.child_token());
    // The first child is gone by now, but its parent keeps its (empty) child list: what a
    // further child costs in the steady state.
    let (ours_next, ours_next_n) = heap_of(|| ours_root.child("c"));
    let (tokio_next, tokio_next_n) = heap_of(|| tokio_root.child_token());
    println!("heap | ours | tokio | target");
    println!(
        "root token, static name | {ours} B in {ours_n} alloc | {tokio} B in {tokio_n} alloc | ours <= 64 B"
    );
    println!(
        "first child of a live root | {ours_child} B in {ours_child_n} alloc | {tokio_child} B in {tokio_child_n} alloc | -"
    );
    println!(
        "later child (parent's child list already allocated) | {ours_next} B in {ours_next_n} alloc | {tokio_next} B in {tokio_next_n} alloc | -"
    );
}

// ---------------------------------------------------------------------------------------------
// Single-threaded operations
// ---------------------------------------------------------------------------------------------

const DEPTH: usize = 10;

fn triggered(c: &mut Criterion) {
    let mut group = c.benchmark_group("triggered");
    let ours = CancelToken::new("root");
    let tokio = CancellationToken::new();
    // Each child owns its parent, so the leaf keeps the whole chain alive.
    let ours_deep = (0..DEPTH).fold(ours.clone(), |token, _| token.child("level"));
    let tokio_deep = (0..DEPTH).fold(tokio.clone(), |token, _| token.child_token());
    group.bench_function("ours", |b| b.iter(|| black_box(&ours).triggered()));
    group.bench_function("tokio", |b| b.iter(|| black_box(&tokio).is_cancelled()));
    group.bench_function("ours_depth10", |b| {
        b.iter(|| black_box(&ours_deep).triggered())
    });
    group.bench_function("tokio_depth10", |b| {
        b.iter(|| black_box(&tokio_deep).is_cancelled())
    });
    // The harness's own cost per iteration (loop, `black_box`): no ratio of the rows above can
    // beat floor / tokio, whatever `triggered` costs.
    let flag = false;
    group.bench_function("floor", |b| b.iter(|| *black_box(&flag)));
    // The `x64` rows time `CHECKS` checks per iteration, each of a token reference the compiler
    // cannot see through: the loop's cost is shared by 64 checks, and the ratio is what a check
    // costs, as in a loop that checks its token once per item.
    group.bench_function("ours_x64", |b| {
        b.iter(|| {
            for _ in 0..CHECKS {
                black_box(black_box(&ours).triggered());
            }
        })
    });
    group.bench_function("tokio_x64", |b| {
        b.iter(|| {
            for _ in 0..CHECKS {
                black_box(black_box(&tokio).is_cancelled());
            }
        })
    });
    // And the least 64 reads of any flag through `black_box` cost, as `floor` for one. (The three
    // loops are written out: passed to a shared helper as closures, ours and the floor measured
    // about 50 ns instead of 40, and far noisier, so the helper would change what they time.)
    group.bench_function("floor_x64", |b| {
        b.iter(|| {
            for _ in 0..CHECKS {
                black_box(*black_box(&flag));
            }
        })
    });
    group.finish();
}

const CHECKS: usize = 64;

/// The check as hot loops on several cores make it (tokio#7775): a second thread checks the same
/// token without pause while the measured thread checks it. A load of a shared, unchanging word
/// stays in both cores' caches; a mutex's cache line moves between them on every lock.
fn triggered_contended(c: &mut Criterion) {
    fn contended(b: &mut criterion::Bencher<'_>, check: impl Fn() -> bool + Sync) {
        b.iter_custom(|iters| {
            let stop = AtomicBool::new(false);
            std::thread::scope(|scope| {
                scope.spawn(|| {
                    while !stop.load(Relaxed) {
                        black_box(check());
                    }
                });
                let start = Instant::now();
                for _ in 0..iters {
                    black_box(check());
                }
                let elapsed = start.elapsed();
                stop.store(true, Relaxed);
                elapsed
            })
        });
    }
    let mut group = c.benchmark_group("triggered_contended");
    let ours = CancelToken::new("root");
    let tokio = CancellationToken::new();
    group.bench_function("ours", |b| contended(b, || black_box(&ours).triggered()));
    group.bench_function("tokio", |b| {
        contended(b, || black_box(&tokio).is_cancelled())
    });
    group.finish();
}

fn check(c: &mut Criterion) {
    let mut group = c.benchmark_group("check");
    let ours = CancelToken::new("root");
    let tokio = CancellationToken::new();
    // What `token.check()?` looks at: the tag of the `Result`.
    group.bench_function("ours", |b| b.iter(|| black_box(&ours).check().is_ok()));
    // The whole 32-byte `Result` handed to `black_box`, as `b.iter(|| token.check())` would.
    group.bench_function("ours_result", |b| b.iter(|| black_box(&ours).check()));
    // tokio-util has no `check`; this is what a caller writes instead.
    group.bench_function("tokio", |b| b.iter(|| !black_box(&tokio).is_cancelled()));
    group.finish();
}

/// The least any design does that heap-allocates a child and registers it under its parent's
/// lock (tokio-util's and ours both do): one 64-byte allocation and free, and two round trips of
/// an uncontended std `Mutex`, one to register and one to deregister. Its ratio to `tokio` bounds
/// every such design's ratio from below on this machine.
fn floor_alloc_2locks(parent: &Mutex<usize>) {
    let child = black_box(Box::new([0_u8; 64]));
    register_and_deregister(parent);
    drop(child);
}

/// Lower still: a design that recycles children's allocations (no allocator call) keeps only the
/// two round trips and a child's hold on its parent, one atomic increment and one decrement of the
/// parent's count (the child's own count is left out: this is a bound from below).
fn floor_pooled_2locks_count(parent: &Mutex<usize>, parent_count: &AtomicUsize) {
    black_box(parent_count).fetch_add(1, Relaxed);
    register_and_deregister(parent);
    black_box(parent_count).fetch_sub(1, Release);
}

/// The least a child does in safe Rust with std's `Arc` and `Weak` (`support::bare`): the floor
/// of a design like ours, which keeps its tokens in `Arc`s and its children as `Weak`s, whatever
/// else it does.
fn floor_bare_arc(parent: &Arc<BareToken>) {
    drop(black_box(BareToken::child(parent)));
}

fn child_create_drop(c: &mut Criterion) {
    let mut group = c.benchmark_group("child_create_drop");
    let ours = CancelToken::new("root");
    let tokio = CancellationToken::new();
    let parent = Mutex::new(0_usize);
    let parent_count = AtomicUsize::new(1);
    let bare = BareToken::root();
    let ours_child = || drop(black_box(ours.child("c")));
    let tokio_child = || drop(black_box(tokio.child_token()));
    if support::benchmarking() {
        let what = "child_create_drop";
        support::paired_ns(ours_child, tokio_child).print(what, "ns");
        support::paired_ns(|| floor_bare_arc(&bare), tokio_child).print_as(
            what,
            "floor_bare_arc",
            "ns",
        );
        support::paired_ns(|| floor_alloc_2locks(&parent), tokio_child).print_as(
            what,
            "floor_alloc_2locks",
            "ns",
        );
        support::paired_ns(
            || floor_pooled_2locks_count(&parent, &parent_count),
            tokio_child,
        )
        .print_as(what, "floor_pooled_2locks_count", "ns");
    }
    group.bench_function("ours", |b| b.iter(ours_child));
    group.bench_function("tokio", |b| b.iter(tokio_child));
    // How the cost grows with work: the same, beside 100,000 live children of the same parent.
    let ours_siblings: Vec<_> = (0..SIBLINGS).map(|_| ours.child("s")).collect();
    let tokio_siblings: Vec<_> = (0..SIBLINGS).map(|_| tokio.child_token()).collect();
    group.bench_function("ours_100k_siblings", |b| b.iter(ours_child));
    group.bench_function("tokio_100k_siblings", |b| b.iter(tokio_child));
    drop((ours_siblings, tokio_siblings));
    group.bench_function("floor_alloc_2locks", |b| {
        b.iter(|| floor_alloc_2locks(&parent))
    });
    group.bench_function("floor_pooled_2locks_count", |b| {
        b.iter(|| floor_pooled_2locks_count(&parent, &parent_count))
    });
    group.bench_function("floor_bare_arc", |b| b.iter(|| floor_bare_arc(&bare)));
    group.finish();
}

const SIBLINGS: usize = 100_000;

/// Two threads making and dropping children of one root at once, per pair of children (see
/// `support::Pair::run`), beside the same loop on one thread. The throughput of two threads over
/// one is `2 * one_thread / (two threads)`: `benches/ratios.py` prints it, and the paired line
/// measures it in alternating rounds (`support::paired_gain`).
/// `floor_separate_roots` gives each thread a root of its own: what the two threads reach when
/// they share nothing, the ceiling of any sharding of one parent.
fn children_two_threads(c: &mut Criterion) {
    let pair = support::Pair::new();
    let ours = CancelToken::new("root");
    let tokio = CancellationToken::new();
    let ours_loop: support::Job = Arc::new(move |n| {
        for _ in 0..n {
            drop(black_box(ours.child("c")));
        }
    });
    let tokio_loop: support::Job = Arc::new(move |n| {
        for _ in 0..n {
            drop(black_box(tokio.child_token()));
        }
    });
    let separate_roots: support::Job = Arc::new(|n| {
        let own = CancelToken::new("own root");
        for _ in 0..n {
            drop(black_box(own.child("c")));
        }
    });
    let mut group = two_threads_group(c, "children_two_threads", &pair, &ours_loop, &tokio_loop);
    group.bench_function("floor_separate_roots", |b| {
        b.iter_custom(|n| pair.run(n, &separate_roots))
    });
    group.finish();
}

/// Two threads each creating, polling once and dropping a wait on one shared token at once (a
/// service's requests awaiting its shutdown token), per pair, beside the same loop on one thread:
/// as for `children_two_threads`.
fn waits_two_threads(c: &mut Criterion) {
    let pair = support::Pair::new();
    let ours = CancelToken::new("shutdown");
    let tokio = CancellationToken::new();
    let ours_loop: support::Job = Arc::new(move |n| {
        for _ in 0..n {
            let _ = pin!(black_box(&ours).wait()).poll(&mut Context::from_waker(Waker::noop()));
        }
    });
    let tokio_loop: support::Job = Arc::new(move |n| {
        for _ in 0..n {
            let _ =
                pin!(black_box(&tokio).cancelled()).poll(&mut Context::from_waker(Waker::noop()));
        }
    });
    two_threads_group(c, "waits_two_threads", &pair, &ours_loop, &tokio_loop).finish();
}

/// A two-thread group's common rows: `ours` and `tokio` on both threads of `pair` (per pair of
/// operations), and each on one thread alone; before them, when benchmarking, the throughput gain
/// of two threads over one for each side, in alternating rounds.
fn two_threads_group<'a>(
    c: &'a mut Criterion,
    name: &str,
    pair: &support::Pair,
    ours: &support::Job,
    tokio: &support::Job,
) -> criterion::BenchmarkGroup<'a, criterion::measurement::WallTime> {
    if support::benchmarking() {
        support::paired_gain(pair, ours).print_gain(&format!("{name} ours"));
        support::paired_gain(pair, tokio).print_gain(&format!("{name} tokio"));
    }
    let mut group = c.benchmark_group(name);
    group.bench_function("ours", |b| b.iter_custom(|n| pair.run(n, ours)));
    group.bench_function("tokio", |b| b.iter_custom(|n| pair.run(n, tokio)));
    group.bench_function("ours_one_thread", |b| b.iter_custom(|n| timed(|| ours(n))));
    group.bench_function("tokio_one_thread", |b| {
        b.iter_custom(|n| timed(|| tokio(n)))
    });
    group
}

fn timed(work: impl FnOnce()) -> Duration {
    let start = Instant::now();
    work();
    start.elapsed()
}

fn wait_poll_drop(c: &mut Criterion) {
    let mut group = c.benchmark_group("wait_poll_drop");
    let ours = CancelToken::new("root");
    let tokio = CancellationToken::new();
    let mut cx = Context::from_waker(Waker::noop());
    // The timed loops measure the registering path only if the first poll is pending.
    assert!(pin!(ours.wait()).poll(&mut cx).is_pending());
    assert!(pin!(tokio.cancelled()).poll(&mut cx).is_pending());
    // A `Context` of the no-op waker is two pointers: made afresh in each call, at no cost.
    let ours_wait = || {
        let _ = pin!(black_box(&ours).wait()).poll(&mut Context::from_waker(Waker::noop()));
    };
    let tokio_wait = || {
        let _ = pin!(black_box(&tokio).cancelled()).poll(&mut Context::from_waker(Waker::noop()));
    };
    // The least a waiter list under a std `Mutex` costs: one round trip to register, one to
    // deregister (ours does exactly these two; tokio's does a third for its `is_cancelled`).
    let list = Mutex::new(0_usize);
    if support::benchmarking() {
        support::paired_ns(ours_wait, tokio_wait).print("wait_poll_drop", "ns");
        support::paired_ns(|| register_and_deregister(&list), tokio_wait).print_as(
            "wait_poll_drop",
            "floor_2locks",
            "ns",
        );
    }
    group.bench_function("ours", |b| b.iter(ours_wait));
    group.bench_function("tokio", |b| b.iter(tokio_wait));
    group.bench_function("floor_2locks", |b| {
        b.iter(|| register_and_deregister(&list))
    });
    group.finish();
}

/// Two round trips of an uncontended std `Mutex`, the least a registration under a lock and its
/// removal cost: the floors of `child_create_drop` and `wait_poll_drop`.
#[inline(always)]
fn register_and_deregister(list: &Mutex<usize>) {
    *black_box(list).lock().expect("not poisoned") += 1;
    *black_box(list).lock().expect("not poisoned") -= 1;
}

// ---------------------------------------------------------------------------------------------
// Fan-out: one trigger waking 100,000 tasks
// ---------------------------------------------------------------------------------------------

const TASKS: usize = 100_000;

/// Counters shared by one iteration's tasks. Each `Notify` is signalled once, by the task that
/// brings its counter to the number of tasks; `notify_one` stores a permit if nobody waits yet, so the
/// bench thread cannot miss it.
#[derive(Default)]
struct Progress {
    first_polls: AtomicUsize,
    ready_at_first_poll: AtomicUsize,
    all_polled: Notify,
    done: AtomicUsize,
    all_done: Notify,
}

/// The time from `trigger(token)` until `tasks` tasks waiting on `wait(token)` have all finished,
/// summed over `iters` fresh tokens. Spawning, and the first poll that registers each waiter,
/// happen before the clock starts.
fn fanout<T, F>(
    rt: &tokio::runtime::Runtime,
    tasks: usize,
    iters: u64,
    new: fn() -> T,
    wait: fn(T) -> F,
    trigger: fn(&T),
) -> Duration
where
    T: Clone + Send + 'static,
    F: Future<Output = ()> + Send + 'static,
{
    let mut total = Duration::ZERO;
    for _ in 0..iters {
        let token = new();
        let progress = Arc::new(Progress::default());
        for _ in 0..tasks {
            let token = token.clone();
            let progress = progress.clone();
            rt.spawn(async move {
                let mut waiting = pin!(wait(token));
                let mut first = true;
                poll_fn(|cx| {
                    let poll = waiting.as_mut().poll(cx);
                    if std::mem::take(&mut first) {
                        if poll.is_ready() {
                            progress.ready_at_first_poll.fetch_add(1, Relaxed);
                        }
                        // AcqRel: the task reaching `tasks` sees every other task's count.
                        if progress.first_polls.fetch_add(1, AcqRel) + 1 == tasks {
                            progress.all_polled.notify_one();
                        }
                    }
                    poll
                })
                .await;
                if progress.done.fetch_add(1, AcqRel) + 1 == tasks {
                    progress.all_done.notify_one();
                }
            });
        }
        rt.block_on(progress.all_polled.notified());
        // The `AcqRel` count that reached `tasks` orders every task's `ready_at_first_poll`
        // update before the notification this thread received.
        assert_eq!(
            progress.ready_at_first_poll.load(Acquire),
            0,
            "a waiter was ready before the trigger: the timing would not measure a wake-up"
        );
        total += rt.block_on(async {
            let start = Instant::now();
            trigger(&token);
            progress.all_done.notified().await;
            start.elapsed()
        });
    }
    total
}

const PAIRS: usize = 10;

/// `PAIRS` rounds of one `ours` and one `tokio` fan-out, alternating which goes first
/// (`support::paired`), printed as medians and the median of the per-round ratios.
fn fanout_paired(rt: &tokio::runtime::Runtime) {
    let ours = || {
        let timed = fanout(
            rt,
            TASKS,
            1,
            || CancelToken::new("root"),
            CancelToken::wait_owned,
            CancelToken::trigger,
        );
        timed.as_secs_f64() * 1e3
    };
    let tokio = || {
        let timed = fanout(
            rt,
            TASKS,
            1,
            CancellationToken::new,
            CancellationToken::cancelled_owned,
            CancellationToken::cancel,
        );
        timed.as_secs_f64() * 1e3
    };
    support::paired(PAIRS, ours, tokio).print("fanout_100k", "ms");
}

fn fanout_100k(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .expect("tokio runtime");
    if support::benchmarking() {
        fanout_paired(&rt);
    }
    let mut group = c.benchmark_group("fanout_100k");
    group
        .sampling_mode(SamplingMode::Flat)
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    group.bench_function("ours", |b| {
        b.iter_custom(|iters| {
            fanout(
                &rt,
                TASKS,
                iters,
                || CancelToken::new("root"),
                CancelToken::wait_owned,
                CancelToken::trigger,
            )
        })
    });
    group.bench_function("tokio", |b| {
        b.iter_custom(|iters| {
            fanout(
                &rt,
                TASKS,
                iters,
                CancellationToken::new,
                CancellationToken::cancelled_owned,
                CancellationToken::cancel,
            )
        })
    });
    group.finish();
}

/// How the wake-up cost grows with work: trigger to all woken with 1 and 1,000 waiting tasks
/// (100,000 is `fanout_100k`), on the same 2-worker runtime.
fn fanout_small(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .expect("tokio runtime");
    let mut group = c.benchmark_group("trigger_to_all_woken");
    for (label, tasks) in [("1", 1), ("1k", 1_000)] {
        group.bench_function(format!("ours_{label}"), |b| {
            b.iter_custom(|iters| {
                fanout(
                    &rt,
                    tasks,
                    iters,
                    || CancelToken::new("root"),
                    CancelToken::wait_owned,
                    CancelToken::trigger,
                )
            })
        });
        group.bench_function(format!("tokio_{label}"), |b| {
            b.iter_custom(|iters| {
                fanout(
                    &rt,
                    tasks,
                    iters,
                    CancellationToken::new,
                    CancellationToken::cancelled_owned,
                    CancellationToken::cancel,
                )
            })
        });
    }
    group.finish();
}

criterion_group!(
    benches,
    heap,
    triggered,
    triggered_contended,
    check,
    child_create_drop,
    children_two_threads,
    wait_poll_drop,
    waits_two_threads,
    fanout_small,
    fanout_100k
);
criterion_main!(benches);
