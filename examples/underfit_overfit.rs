//! Underfitting and overfitting: one dataset, three model sizes.
//!
//! Run: `cargo run --release --example underfit_overfit [-- curves.png]`
//!
//! 24 noisy samples of a sine wave, 200 more for validation:
//! - a straight line (2 parameters) cannot follow the curve: training and
//!   validation loss stay high together (underfitting, high bias);
//! - a small network (49 parameters) follows it: both losses fall and stay
//!   close;
//! - a large network (8 577 parameters) learns the noise too: its training
//!   loss keeps falling while its validation loss turns back up
//!   (overfitting, high variance).
//!
//! The picture shows each model's validation loss (solid) and training
//! loss (dashed) in one colour.

use macrograd::history::{plot_runs, shown_path, Show};
use macrograd::prelude::*;

model! { struct Line; dtype f64; input 1; Linear(1, 1); loss MSE; optim Adam(lr = 0.01) }

model! {
    struct Small;
    dtype f64;
    input 1;
    Linear(1, 16);
    Tanh;
    Linear(_, 1);
    loss MSE;
    optim Adam(lr = 0.01)
}

model! {
    struct Large;
    dtype f64;
    input 1;
    Linear(1, 64);
    Tanh;
    Linear(_, 128);
    Tanh;
    Linear(_, 1);
    loss MSE;
    optim Adam(lr = 0.01)
}

fn sine(n: usize, rng: &mut Rng) -> Result<Dataset<f64, macrograd::target::Rows>, Error> {
    let x = Array2::from_shape_fn((n, 1), |_| rng.unit());
    let y = Array2::from_shape_fn((n, 1), |(i, _)| {
        (2.0 * std::f64::consts::PI * x[[i, 0]]).sin() + 0.3 * rng.normal()
    });
    Dataset::regression(x, y)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let quick = std::env::var_os("MACROGRAD_QUICK").is_some();
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "target/plots/underfit_overfit.png".into());
    let mut rng = Rng::new(7);
    let train = sine(24, &mut rng)?;
    let validation = sine(200, &mut rng)?;
    let fit = || {
        Fit::epochs(if quick { 200 } else { 2000 })
            .batch_size(24)
            .validation_data(&validation)
            .quiet()
    };

    let line = Line::new().fit(&train, fit())?;
    let small = Small::new().fit(&train, fit())?;
    let large = Large::new().fit(&train, fit())?;

    println!("model          params  train loss  val loss  lowest val loss (epoch)");
    for (name, params, h) in [
        ("straight line", Line::new().summary().params(), &line),
        ("small network", Small::new().summary().params(), &small),
        ("large network", Large::new().summary().params(), &large),
    ] {
        let last = h.last().expect("epochs ran");
        let best = h
            .epochs
            .iter()
            .min_by(|a, b| a.val_loss.partial_cmp(&b.val_loss).unwrap())
            .expect("epochs ran");
        println!(
            "{name:<13}  {params:>6}  {:>10.4}  {:>8.4}  {:.4} ({})",
            last.loss,
            last.val_loss.unwrap(),
            best.val_loss.unwrap(),
            best.epoch
        );
    }

    std::fs::create_dir_all(std::path::Path::new(&path).parent().unwrap_or(".".as_ref()))?;
    plot_runs(
        &path,
        "Underfitting and overfitting",
        Show::Both,
        &[
            ("straight line", &line),
            ("small network", &small),
            ("large network", &large),
        ],
    )?;
    println!("\nLearning curves: wrote {}", shown_path(&path));

    let train_loss = |h: &History| h.last().map_or(f64::NAN, |e| e.loss);
    let val_loss = |h: &History| h.last().and_then(|e| e.val_loss).unwrap_or(f64::NAN);
    let lowest_val = |h: &History| {
        h.epochs
            .iter()
            .filter_map(|e| e.val_loss)
            .fold(f64::INFINITY, f64::min)
    };
    let below = train_loss(&small) / train_loss(&large);
    let above = 100.0 * (val_loss(&large) / lowest_val(&large) - 1.0);
    println!();
    println!("Look at: the straight line's losses stay high together (it cannot bend:");
    println!("underfitting); the large network's training loss ends {below:.1}x below the");
    println!(
        "small one's, yet its validation loss ends {above:.0} % above its lowest: overfitting."
    );
    Ok(())
}
