//! Overfitting, seen in the learning curves, and early stopping.
//!
//! A network with far more parameters than there are training samples (16
//! noisy points of a sine wave, 4 353 parameters) is trained for many epochs.
//! The training loss falls almost to zero: the network learns the noise of
//! those 16 points by heart. The validation loss, on 200 other points of the
//! same curve, falls at first, while the network learns the sine, and then
//! rises, while it learns the noise: the network is overfitting.
//!
//! Early stopping watches the validation loss and stops once it has not
//! improved for `patience` epochs; `restore_best` then puts back the
//! weights of the best epoch.
//!
//! Two pictures: the learning curves of the long run, and what the two
//! networks predict, drawn over the training and validation points: the
//! long run's curve bends through the 16 training points, the early
//! stopped one stays near the sine.
//!
//! ```sh
//! cargo run --release --example overfitting            # writes target/plots/overfitting.png
//! cargo run --release --example overfitting -- curves.svg   # and curves_fit.svg
//! ```

use macrograd::history::{shown_path, Chart};
use macrograd::prelude::*;
use macrograd::train::{EarlyStopping, StopReason};

model! {
    /// Two hidden layers of 64: plenty for 16 samples.
    struct Big;
    dtype f64;
    input 1;
    Linear(1, 64);
    Tanh;
    Linear(_, 64);
    Tanh;
    Linear(_, 1);
    loss MSE;
    optim Adam(lr = 0.01)
}

/// `n` points `(x, sin(2 pi x) + noise)`, `x` uniform in [0, 1).
fn sine(n: usize, rng: &mut Rng) -> Result<Dataset<f64, macrograd::target::Rows>, Error> {
    let x = Array2::from_shape_fn((n, 1), |_| rng.unit());
    let y = Array2::from_shape_fn((n, 1), |(i, _)| {
        (2.0 * std::f64::consts::PI * x[[i, 0]]).sin() + 0.3 * rng.normal()
    });
    Dataset::regression(x, y)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "target/plots/overfitting.png".into());
    let mut rng = Rng::new(42);
    let train = sine(16, &mut rng)?;
    let validation = sine(200, &mut rng)?;
    let quick = std::env::var_os("MACROGRAD_QUICK").is_some();
    let epochs = if quick { 300 } else { 3000 };

    // 1. Too long: every epoch runs. One full batch of 16 per epoch.
    let mut overfit = Big::new();
    println!("{}", overfit.summary());
    let long = overfit.fit(
        &train,
        Fit::epochs(epochs)
            .batch_size(16)
            .validation_data(&validation)
            .quiet(),
    )?;
    let best = long
        .epochs
        .iter()
        .min_by(|a, b| a.val_loss.partial_cmp(&b.val_loss).unwrap())
        .expect("epochs ran");
    println!("Trained for all {epochs} epochs:");
    println!("  epoch  train loss  val loss");
    for log in long
        .epochs
        .iter()
        .filter(|e| e.epoch == 1 || e.epoch % 300 == 0 || e.epoch == best.epoch)
    {
        let mark = if log.epoch == best.epoch {
            "  <- lowest validation loss"
        } else {
            ""
        };
        println!(
            "  {:>5}  {:>10.4}  {:>8.4}{mark}",
            log.epoch,
            log.loss,
            log.val_loss.unwrap()
        );
    }
    let last = long.last().unwrap();
    println!(
        "The training loss fell from {:.4} to {:.4}; the validation loss was lowest at \
         epoch {} ({:.4}) and ended at {:.4}: overfitting.\n",
        long.epochs[0].loss,
        last.loss,
        best.epoch,
        best.val_loss.unwrap(),
        last.val_loss.unwrap()
    );

    // 2. The same run with early stopping.
    let mut model = Big::new();
    let stopped = model.fit(
        &train,
        Fit::epochs(epochs)
            .batch_size(16)
            .validation_data(&validation)
            .early_stopping(EarlyStopping::patience(200).restore_best())
            .quiet(),
    )?;
    println!("With early stopping (patience 200, restore_best):");
    println!("  {}", stopped.stop);
    if let StopReason::EarlyStopping { best_epoch, .. } = stopped.stop {
        println!(
            "  the model keeps the weights of epoch {best_epoch}: validation loss {:.4}",
            model.evaluate_batched(&validation, 200)?.loss
        );
    }

    std::fs::create_dir_all(std::path::Path::new(&path).parent().unwrap_or(".".as_ref()))?;
    long.plot(&path)?;
    println!();
    println!(
        "Learning curves of the long run: wrote {}",
        shown_path(&path)
    );

    // What each network predicts over [0, 1], against the points.
    let xs = Array2::from_shape_fn((201, 1), |(i, _)| i as f64 / 200.0);
    let curve = |model: &mut Big| -> Vec<(f64, f64)> {
        let ys = model.predict(&xs);
        xs.iter().zip(ys.iter()).map(|(&x, &y)| (x, y)).collect()
    };
    let points = |data: &Dataset<f64, macrograd::target::Rows>| -> Vec<(f64, f64)> {
        let (x, y) = (data.inputs(), data.targets());
        x.iter().zip(y.iter()).map(|(&x, &y)| (x, y)).collect()
    };
    let sine = xs
        .iter()
        .map(|&x| (x, (2.0 * std::f64::consts::PI * x).sin()));
    let fit_path = beside(&path, "_fit");
    let second = match stopped.stop {
        StopReason::EarlyStopping { best_epoch, .. } => {
            format!("early stopping: weights of epoch {best_epoch}")
        }
        _ => "with early stopping (it never fired)".to_string(),
    };
    Chart::new("What the networks predict")
        .subtitle("16 training points, 200 validation points of sin(2\u{3c0}x) + noise")
        .axes("x", "y")
        .points("training points", points(&train))
        .points("validation points", points(&validation))
        .line(format!("after all {epochs} epochs"), curve(&mut overfit))
        .line(second, curve(&mut model))
        .line("sin(2\u{3c0}x), the truth", sine)
        .write(&fit_path)?;
    println!(
        "Predictions of both networks: wrote {}",
        shown_path(&fit_path)
    );

    let fell = best.loss / last.loss;
    let rose = 100.0 * (last.val_loss.unwrap() / best.val_loss.unwrap() - 1.0);
    println!();
    println!("Look at: from the marked epoch to the last, the training loss fell {fell:.1}x");
    println!("while the validation loss rose {rose:.0} %: the extra epochs fit the noise.");
    match stopped.stop {
        StopReason::EarlyStopping {
            epoch, best_epoch, ..
        } => println!(
            "Early stopping ran {epoch} of the {epochs} epochs and kept epoch {best_epoch}."
        ),
        _ => println!("This run is too short for early stopping's patience of 200 to run out."),
    }
    if matches!(stopped.stop, StopReason::EarlyStopping { .. }) {
        println!("In the predictions picture, the curve after all epochs bends toward the");
        println!("training points, away from the validation points; the early stopped one");
        println!("stays closer to the sine.");
    } else {
        println!("In the predictions picture, both runs trained every epoch, so their");
        println!("curves coincide; both follow the sine, bent toward the training points.");
    }
    Ok(())
}

/// `path` with `suffix` added to its file name, before the extension:
/// `curves.svg` -> `curves_fit.svg`.
fn beside(path: &str, suffix: &str) -> String {
    let path = std::path::Path::new(path);
    let stem = path.file_stem().unwrap_or_default().to_string_lossy();
    let name = match path.extension() {
        Some(ext) => format!("{stem}{suffix}.{}", ext.to_string_lossy()),
        None => format!("{stem}{suffix}"),
    };
    path.with_file_name(name).display().to_string()
}
