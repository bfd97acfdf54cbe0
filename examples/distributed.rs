//! Distributed: one model trained by several processes at once
//! (data-parallel, on MPI).
//!
//! Run (needs MPICH: `apt-get install mpich libmpich-dev libclang-dev`):
//!
//! ```text
//! mpiexec -n 2 cargo run --release --features mpi --example distributed
//! ```
//!
//! Every process runs this same program. They train one model together:
//!
//! 1. every process shuffles with the same seed, so all see the same
//!    batches of 64 digits; each takes its shard of each batch (32 of the
//!    64 with 2 processes) and runs the forward and backward pass on it;
//! 2. the gradients are summed across the processes in a fixed order, so
//!    every process applies the same update and keeps the same weights;
//! 3. losses, accuracy and validation are summed across the processes too,
//!    so the history (and every decision taken from it: early stopping
//!    here) is the same everywhere. Rank 0 prints and saves.
//!
//! The result is the run one process would make with batches of 64, up to
//! rounding: the example trains that run too (on rank 0, alone) and
//! prints both. On one machine the processes share its cores; across
//! machines (`mpiexec -f hostfile`) each brings its own. `MACROGRAD_QUICK=1`
//! trains 3 epochs instead of 40.

use std::time::Instant;

use macrograd::datasets;
use macrograd::distributed::{Collective, Mpi};
use macrograd::prelude::*;

model! {
    /// 64 pixels -> 128 -> 10 digits.
    struct Digits;
    input 64;
    Linear(_, 128);
    ReLU;
    Linear(_, 10);
    loss CrossEntropy;
    optim Adam(lr = 1e-3)
}

fn main() -> Result<(), Error> {
    let world = Mpi::init()?;
    let (rank, size) = (world.rank(), world.size());
    let quick = std::env::var_os("MACROGRAD_QUICK").is_some();
    let epochs = if quick { 3 } else { 40 };

    // Every process loads the same data (the processes check that they do).
    let (digits, _) = datasets::digits();
    let (inputs, labels) = digits.into_parts();
    let digits = Dataset::classification(inputs / 16.0, labels)?;
    let (train, test) = digits.stratified_train_test_split(0.2, 42)?;

    let fit = || {
        Fit::epochs(epochs)
            .batch_size(64)
            .seed(1)
            .validation_split(0.1)
            .early_stopping(EarlyStopping::patience(5).restore_best())
    };
    if rank == 0 {
        println!(
            "{size} processes; each takes {} of every 64 samples\n",
            64 / size
        );
    }
    let mut model = Digits::with_seed(0);
    let start = Instant::now();
    let history = model.fit(&train, fit().distributed(&world))?;
    let together = start.elapsed().as_secs_f64();

    if rank == 0 {
        let accuracy = model.evaluate(&test)?.accuracy().unwrap_or(0.0);
        println!(
            "\n{size} processes: {} epochs in {together:.2} s, test accuracy {:.1} %",
            history.epochs.len(),
            100.0 * accuracy
        );
        // The same run by one process with the whole batches.
        let mut alone = Digits::with_seed(0);
        let start = Instant::now();
        let single = alone.fit(&train, fit().quiet())?;
        let seconds = start.elapsed().as_secs_f64();
        let largest = history
            .losses()
            .iter()
            .zip(single.losses())
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        println!(
            "1 process:   {} epochs in {seconds:.2} s, test accuracy {:.1} %",
            single.epochs.len(),
            100.0 * alone.evaluate(&test)?.accuracy().unwrap_or(0.0)
        );
        println!("largest difference between the two runs' epoch losses: {largest:.1e}");
        println!();
        println!("Look at: the two runs agree to float rounding; the processes split the");
        println!("work of every batch. On one machine they share its cores, so the time");
        println!("says little; across machines, each brings its own.");
    }
    Ok(())
}
