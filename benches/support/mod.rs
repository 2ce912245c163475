//! What more than one bench needs: timing two threads doing the same work at once.

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
