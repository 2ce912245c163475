//! What more than one bench needs: timing two threads doing the same work at once, ours beside
//! tokio's in alternating rounds, and the least a child token does in safe Rust (`bare`).

pub mod bare;

use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

/// Work for both threads of a [`Pair`]: called with the number of operations to do.
pub type Job = Arc<dyn Fn(u64) + Send + Sync>;

/// The calling thread and one more, kept for the whole bench: the same two threads every time, as
/// a service's workers are (a fresh thread per measurement would also time its start and its
/// first use of every per-thread structure).
pub struct Pair {
    jobs: Sender<(Job, u64)>,
    done: Receiver<Duration>,
    start: Arc<Barrier>,
}

impl Pair {
    pub fn new() -> Pair {
        let (jobs, to_do) = channel::<(Job, u64)>();
        let (finished, done) = channel();
        let start = Arc::new(Barrier::new(2));
        let other_start = start.clone();
        std::thread::spawn(move || {
            for (job, per_thread) in to_do {
                other_start.wait();
                let began = Instant::now();
                job(per_thread);
                if finished.send(began.elapsed()).is_err() {
                    break;
                }
            }
        });
        Pair { jobs, done, start }
    }

    /// Runs `job(per_thread)` on both threads at once, started together, and returns the wall
    /// time of the slower one: for `per_thread` operations on each thread, the time of
    /// `per_thread` pairs of operations. With `criterion`'s `iter_custom`, the estimate is the
    /// time per pair: two threads that scale perfectly show the same figure as one thread doing
    /// one operation.
    pub fn run(&self, per_thread: u64, job: &Job) -> Duration {
        self.jobs
            .send((job.clone(), per_thread))
            .expect("the pair's thread is gone");
        self.start.wait();
        let began = Instant::now();
        job(per_thread);
        let mine = began.elapsed();
        mine.max(self.done.recv().expect("the pair's thread panicked"))
    }
}

/// Medians over alternating rounds of two measurements: see [`paired`].
pub struct Paired {
    pub ours: f64,
    pub tokio: f64,
    /// The median of the per-round ratios, and their range.
    pub ratio: f64,
    pub lowest: f64,
    pub highest: f64,
    pub rounds: usize,
}

/// `rounds` rounds of one `ours` and one `tokio` measurement, alternating which goes first.
///
/// On a machine whose speed drifts (other work, or the VM itself) over the seconds criterion spends
/// on `ours` before it starts `tokio`, the criterion ratio is skewed; the two halves of a round run
/// right after each other, so a round's ratio is much less exposed to it.
pub fn paired(
    rounds: usize,
    mut ours: impl FnMut() -> f64,
    mut tokio: impl FnMut() -> f64,
) -> Paired {
    let (mut ours_all, mut tokio_all, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..rounds {
        let (o, t) = if round % 2 == 0 {
            let o = ours();
            (o, tokio())
        } else {
            let t = tokio();
            (ours(), t)
        };
        ours_all.push(o);
        tokio_all.push(t);
        ratios.push(o / t);
    }
    let lowest = ratios.iter().copied().fold(f64::INFINITY, f64::min);
    let highest = ratios.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    Paired {
        ours: median(ours_all),
        tokio: median(tokio_all),
        ratio: median(ratios),
        lowest,
        highest,
        rounds,
    }
}

impl Paired {
    /// One line: the medians of both sides in `unit` (as measured), and the ratio with its range.
    pub fn print(&self, what: &str, unit: &str) {
        self.print_as(what, "ours", unit);
    }

    /// [`print`](Paired::print), naming the first side `first` (a floor, say) instead of ours.
    pub fn print_as(&self, what: &str, first: &str, unit: &str) {
        println!(
            "{what} paired ({} alternating rounds, medians) | {first} {:.2} {unit} | tokio {:.2} {unit} | ratio {:.3} (range {:.3} to {:.3})",
            self.rounds, self.ours, self.tokio, self.ratio, self.lowest, self.highest
        );
    }

    /// One line for a [`paired_gain`]: one thread per operation, two threads per pair, and the
    /// gain with its range.
    pub fn print_gain(&self, what: &str) {
        println!(
            "{what} paired gain ({} alternating rounds, medians) | one thread {:.2} ns | two threads {:.2} ns per pair | gain {:.2}x (range {:.2}x to {:.2}x)",
            self.rounds,
            self.ours,
            self.tokio,
            2.0 * self.ratio,
            2.0 * self.lowest,
            2.0 * self.highest
        );
    }
}

/// How many operations a round of [`paired_ns`] times per side (and a two-thread round, per
/// thread).
pub const ROUND_ITERATIONS: u32 = 200_000;

/// How many rounds [`paired_ns`] alternates.
const NS_ROUNDS: usize = 20;

/// [`paired`] for two operations of nanoseconds: each of 20 rounds times `ROUND_ITERATIONS` calls
/// in a row of each, and the figures are nanoseconds per call.
pub fn paired_ns(mut ours: impl FnMut(), mut tokio: impl FnMut()) -> Paired {
    paired(NS_ROUNDS, || per_call(&mut ours), || per_call(&mut tokio))
}

/// Nanoseconds per call of `once`, over `ROUND_ITERATIONS` calls in a row.
fn per_call(mut once: impl FnMut()) -> f64 {
    let start = Instant::now();
    for _ in 0..ROUND_ITERATIONS {
        once();
    }
    start.elapsed().as_secs_f64() * 1e9 / f64::from(ROUND_ITERATIONS)
}

/// How many alternating rounds [`paired_gain`] and the two-thread deadline rows run.
pub const TWO_THREAD_ROUNDS: usize = 10;

/// The throughput of two threads running `job` at once over one thread running it alone:
/// [`TWO_THREAD_ROUNDS`] alternating rounds of `ROUND_ITERATIONS` operations on one thread
/// (nanoseconds per operation, as `ours`) and on both threads of `pair` (per pair, as `tokio`).
/// A round's gain is `2 * ratio`: print it with [`Paired::print_gain`].
pub fn paired_gain(pair: &Pair, job: &Job) -> Paired {
    let iterations = u64::from(ROUND_ITERATIONS);
    let per_operation = |took: Duration| took.as_secs_f64() * 1e9 / iterations as f64;
    paired(
        TWO_THREAD_ROUNDS,
        || {
            let start = Instant::now();
            job(iterations);
            per_operation(start.elapsed())
        },
        || per_operation(pair.run(iterations, job)),
    )
}

/// Whether this is `cargo bench` (which passes `--bench`) rather than `cargo test --benches`,
/// which runs each criterion benchmark once as a smoke test: the paired rounds are for the former.
pub fn benchmarking() -> bool {
    std::env::args().any(|arg| arg == "--bench")
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    match values.len() % 2 {
        1 => values[mid],
        _ => (values[mid - 1] + values[mid]) / 2.0,
    }
}
