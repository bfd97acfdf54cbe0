//! The learning rate: too small, about right, too large, and scheduled.
//!
//! Run: `cargo run --release --example learning_rate [-- curves.png]`
//!
//! The learning rate scales every update. Too small and the loss creeps
//! down; too large and it jumps around or blows up (training then stops at
//! the first non-finite loss and says where). A schedule changes it as
//! training goes: cosine annealing starts large and ends small; a linear
//! warmup first ramps it up from a tenth, which keeps the first updates of
//! a fresh network from overshooting; ReduceLROnPlateau halves it whenever
//! the validation loss stops improving.
//!
//! The picture has two panels: the validation loss of every run (the
//! diverged run is named so in the legend, and the loss axis fits the
//! others), and under it each run's learning rate per epoch, on a log axis.

use macrograd::history::{shown_path, Panel, Plot, Show};
use macrograd::prelude::*;
use macrograd::schedule::{CosineAnnealingLR, LinearLR, ReduceLROnPlateau, SequentialLR};
use macrograd::train::StopReason;

model! {
    struct Net;
    input 8;
    Linear(8, 32);
    ReLU;
    Linear(_, 1);
    loss MSE;
    optim SGD(0.01, momentum = 0.9)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let quick = std::env::var_os("MACROGRAD_QUICK").is_some();
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "target/plots/learning_rate.png".into());
    let mut rng = Rng::new(5);
    let x: Array2<f32> = rng.randn((1000, 8));
    let y = Array2::from_shape_fn((1000, 1), |(i, _)| {
        let r = x.row(i);
        (r[0] * r[1]).tanh() + 0.5 * r[2] - 0.3 * r[3] * r[3] + 0.1 * rng.normal() as f32
    });
    let data = Dataset::regression(x, y)?;
    let epochs = if quick { 5 } else { 50 };
    let fit = || {
        Fit::epochs(epochs)
            .batch_size(32)
            .validation_split(0.2)
            .quiet()
    };
    // A model whose optimizer starts at `lr`.
    let at = |lr: f64| {
        let mut net = Net::new();
        net.set_learning_rate(lr);
        net
    };

    let runs = [
        ("lr 0.0003 (too small)", at(3e-4).fit(&data, fit())?),
        ("lr 0.01", at(0.01).fit(&data, fit())?),
        ("lr 0.3 (too large)", at(0.3).fit(&data, fit())?),
        (
            "lr 0.03, cosine",
            at(0.03).fit(&data, fit().schedule(CosineAnnealingLR::new(epochs)))?,
        ),
        (
            "lr 0.03, warmup + cosine",
            at(0.03).fit(
                &data,
                fit().schedule(SequentialLR::new(
                    vec![
                        Box::new(LinearLR::new().start_factor(0.1).total_iters(5)),
                        Box::new(CosineAnnealingLR::new(epochs.saturating_sub(5).max(1))),
                    ],
                    [5],
                )),
            )?,
        ),
        (
            "lr 0.03, reduce on plateau",
            at(0.03).fit(
                &data,
                fit().schedule(ReduceLROnPlateau::new().factor(0.5).patience(3)),
            )?,
        ),
    ];
    println!("run                         final val loss  final lr   stop");
    for (name, h) in &runs {
        match h.last() {
            Some(last) => println!(
                "{name:<26}  {:>14.4}  {:>8.2e}  {}",
                last.val_loss.unwrap(),
                last.lr,
                h.stop
            ),
            None => println!("{name:<26}  {:>14}  {:>8}  {}", "-", "-", h.stop),
        }
    }

    std::fs::create_dir_all(std::path::Path::new(&path).parent().unwrap_or(".".as_ref()))?;
    let named: Vec<(&str, &History)> = runs.iter().map(|(n, h)| (*n, h)).collect();
    Plot::runs(&named)
        .title("Learning rate")
        .show(Show::Validation)
        .panels([Panel::Loss, Panel::LearningRate])
        .write(&path)?;
    println!();
    println!("Learning curves and rates: wrote {}", shown_path(&path));

    // The lowest final validation loss among the runs that finished.
    let best = runs
        .iter()
        .filter(|(_, h)| matches!(h.stop, StopReason::MaxEpochs { .. }))
        .filter_map(|(n, h)| Some((*n, h.last()?.val_loss?)))
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .map_or("-", |(n, _)| n);
    println!();
    println!("Look at: lr 0.0003 ends far above lr 0.01 (its steps are too small) and");
    println!("lr 0.3 hits a non-finite loss (its steps overshoot): the picture's legend");
    println!("says it diverged, and its loss axis fits the other runs. The lr column is");
    // Whether ReduceLROnPlateau found a plateau in this many epochs.
    let halved = runs[5].1.last().is_some_and(|e| e.lr < 0.03 * 0.99);
    println!("each schedule's last rate; the lower panel draws every epoch's: cosine");
    println!("falls smoothly, warmup climbs for 5 epochs first, and reduce-on-plateau");
    if halved {
        println!("halves in steps. Lowest final loss: {best}.");
    } else {
        println!("stays flat (no plateau in so few epochs). Lowest final loss: {best}.");
    }
    Ok(())
}
