//! Batch size: the same model trained with batches of 1, 16, 128 and all
//! the data.
//!
//! Run: `cargo run --release --example batch_size [-- curves.png]`
//!
//! An epoch is one pass over the data; a batch of `b` samples gives
//! `ceil(n / b)` updates per epoch. Small batches make many small, noisy
//! updates (the curve is jagged, the time per epoch is long: many small
//! products); the full batch makes one exact update per epoch (smooth, fast
//! per epoch, but it needs many epochs to get anywhere). In between, 16 or
//! 128 is the usual compromise. Compare the curves per epoch and the time.

use std::time::Duration;

use macrograd::history::{plot_runs, shown_path, Show};
use macrograd::prelude::*;

model! {
    struct Net;
    input 8;
    Linear(8, 32);
    ReLU;
    Linear(_, 1);
    loss MSE;
    optim SGD(0.01)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let quick = std::env::var_os("MACROGRAD_QUICK").is_some();
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "target/plots/batch_size.png".into());
    // 1280 samples of a smooth nonlinear function of 8 features, plus noise.
    let mut rng = Rng::new(3);
    let x: Array2<f32> = rng.randn((1280, 8));
    let y = Array2::from_shape_fn((1280, 1), |(i, _)| {
        let r = x.row(i);
        (r[0] * r[1]).tanh() + 0.5 * r[2] - 0.3 * r[3] * r[3] + 0.1 * rng.normal() as f32
    });
    let data = Dataset::regression(x, y)?;
    let epochs = if quick { 5 } else { 40 };

    let mut runs = Vec::new();
    // (who, time per epoch, final validation loss) of each run.
    let mut rows: Vec<(String, Duration, f64)> = Vec::new();
    println!("batch  updates/epoch  time/epoch  final val loss");
    for batch in [1, 16, 128, 1024] {
        let history = Net::new().fit(
            &data,
            Fit::epochs(epochs)
                .batch_size(batch)
                .validation_split(0.2)
                .quiet(),
        )?;
        let last = history.last().expect("epochs ran");
        let per_epoch: Duration = history.epochs.iter().map(|e| e.duration).sum::<Duration>()
            / history.epochs.len() as u32;
        let name = if batch == 1024 {
            "full (1024)".to_string()
        } else {
            batch.to_string()
        };
        println!(
            "{name:>11}  {:>13}  {:>8.2?}  {:.4}",
            last.iterations,
            per_epoch,
            last.val_loss.unwrap()
        );
        let who = if batch == 1024 {
            "the full batch".to_string()
        } else {
            format!("batch {batch}")
        };
        rows.push((who, per_epoch, last.val_loss.unwrap()));
        runs.push((format!("batch {name}"), history));
    }

    std::fs::create_dir_all(std::path::Path::new(&path).parent().unwrap_or(".".as_ref()))?;
    let named: Vec<(&str, &History)> = runs.iter().map(|(n, h)| (n.as_str(), h)).collect();
    plot_runs(&path, "Batch size", Show::Both, &named)?;
    println!("\nLearning curves: wrote {}", shown_path(&path));

    let lowest = rows
        .iter()
        .min_by(|a, b| a.2.total_cmp(&b.2))
        .expect("runs");
    let highest = rows
        .iter()
        .max_by(|a, b| a.2.total_cmp(&b.2))
        .expect("runs");
    let slowest = rows.iter().max_by_key(|r| r.1).expect("runs");
    let fastest = rows.iter().min_by_key(|r| r.1).expect("runs");
    let times = slowest.1.as_secs_f64() / fastest.1.as_secs_f64();
    println!();
    println!(
        "Look at: after {epochs} epochs, {} has the lowest validation loss and",
        lowest.0
    );
    println!(
        "{} the highest: per epoch, more updates mean more progress. The",
        highest.0
    );
    println!(
        "slowest epochs are {}'s (many small updates), {times:.0}x {}'s.",
        slowest.0, fastest.0
    );
    Ok(())
}
