//! Shared test helpers: run one async scenario on every executor, guard against hangs, and
//! observe futures from outside (polls, drops) without relying on any particular executor.
//!
//! Everything here is executor-agnostic on purpose: the crate promises to work on any executor,
//! so a helper that needed tokio (a tokio sleep, `tokio::spawn`) would hide exactly the bugs the
//! `futures::executor::block_on` runs are there to find. Time is only ever used as a hang guard,
//! never as an assertion.

#![allow(dead_code)] // each test binary uses a different subset

pub mod executors;
pub mod probe;
pub mod rng;
pub mod threads;
pub mod wakers;
