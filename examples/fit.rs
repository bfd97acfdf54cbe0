//! The quickstart's model and data, trained by `fit` instead of a
//! hand-written loop.
//!
//! Run: `cargo run --release --example fit`
//!
//! `fit` cuts each epoch into batches: 100 samples in batches of 10 make 10
//! iterations (optimizer updates) per epoch, reshuffled every epoch. The
//! printed `Loss` is the mean over every sample the epoch trained on, so it
//! does not jump with the luck of the last batch.

use macrograd::prelude::*;

fn main() -> Result<(), Error> {
    let mut model = model! { Linear(10, 1); loss MSE; optim SGD(0.01) };
    println!("{}\n", model.summary());

    // The same dummy data as the quickstart: 100 samples, 10 features each.
    let mut rng = Rng::new(0);
    let inputs: Array2<f32> = rng.randn((100, 10));
    let targets: Array2<f32> = rng.randn((100, 1));
    let data = Dataset::regression(inputs, targets)?;

    // Full batch, as in the quickstart: one update per epoch.
    let full = model.fit(&data, Fit::epochs(5).batch_size(100))?;

    // Mini-batches: ten updates per epoch, so the loss falls faster per epoch.
    let mut model = model! { Linear(10, 1); loss MSE; optim SGD(0.01) };
    println!();
    let mini = model.fit(&data, Fit::epochs(5).batch_size(10))?;

    let (a, b) = (full.last().map(|e| e.loss), mini.last().map(|e| e.loss));
    println!(
        "\nafter 5 epochs: full batch {:.4} ({} updates), batches of 10 {:.4} ({} updates)",
        a.unwrap_or(f64::NAN),
        full.epochs.iter().map(|e| e.iterations).sum::<usize>(),
        b.unwrap_or(f64::NAN),
        mini.epochs.iter().map(|e| e.iterations).sum::<usize>(),
    );
    println!();
    println!("Look at: the same 5 epochs are 5 updates in one full batch and 50 in");
    println!("batches of 10, so the mini-batch loss falls further: progress comes per");
    println!("update, and an epoch of small batches holds ten of them.");
    Ok(())
}
