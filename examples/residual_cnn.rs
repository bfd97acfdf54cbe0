//! Residual connections: one deep CNN, with and without them.
//!
//! Run: `cargo run --release --example residual_cnn [-- curves.png]`
//!
//! Two networks on the built-in 8x8 digits, layer for layer the same: a
//! stem convolution, eight blocks of two 3x3 convolutions with batch norm,
//! an average pool and a linear layer, 17 convolutions deep. In the plain
//! network a block's output is what its layers make of the input,
//! `body(x)`; in the residual one it is `residual { .. }`, `body(x) + x`.
//! The addition has no parameters, so both networks have the same count,
//! and they start from the same seed, see the same batches in the same
//! order, for the same epochs, with the same optimizer.
//!
//! A residual block only has to learn a correction to its input, and the
//! gradient reaches the earlier layers through the sum unchanged as well
//! as through the body, so a deep stack of them starts learning at once.
//!
//! What to look at: the epoch table (each network's validation loss and
//! accuracy, on a fifth of the images neither trains on), the test
//! accuracy of each, and the picture of both learning curves (validation
//! thick, training thin), the loss above, the accuracy under it.
//! `MACROGRAD_QUICK=1` trains 3 epochs instead of 15.

use std::time::Instant;

use macrograd::datasets;
use macrograd::prelude::*;

model! {
    /// A stem, then eight blocks of two convolutions, one line each.
    struct Plain;
    input [1, 8, 8];
    Conv2d(1, 16, 3, padding = 1);
    BatchNorm;
    ReLU;
    Conv2d(16, 16, 3, padding = 1); BatchNorm; ReLU; Conv2d(16, 16, 3, padding = 1); BatchNorm; ReLU;
    Conv2d(16, 16, 3, padding = 1); BatchNorm; ReLU; Conv2d(16, 16, 3, padding = 1); BatchNorm; ReLU;
    Conv2d(16, 16, 3, padding = 1); BatchNorm; ReLU; Conv2d(16, 16, 3, padding = 1); BatchNorm; ReLU;
    Conv2d(16, 16, 3, padding = 1); BatchNorm; ReLU; Conv2d(16, 16, 3, padding = 1); BatchNorm; ReLU;
    Conv2d(16, 16, 3, padding = 1); BatchNorm; ReLU; Conv2d(16, 16, 3, padding = 1); BatchNorm; ReLU;
    Conv2d(16, 16, 3, padding = 1); BatchNorm; ReLU; Conv2d(16, 16, 3, padding = 1); BatchNorm; ReLU;
    Conv2d(16, 16, 3, padding = 1); BatchNorm; ReLU; Conv2d(16, 16, 3, padding = 1); BatchNorm; ReLU;
    Conv2d(16, 16, 3, padding = 1); BatchNorm; ReLU; Conv2d(16, 16, 3, padding = 1); BatchNorm; ReLU;
    AvgPool2d(2);
    Flatten;
    Linear(_, 10);
    loss CrossEntropy;
    optim Adam(lr = 1e-3)
}

model! {
    /// The same layers, each block's input added to its output.
    struct Residual;
    input [1, 8, 8];
    Conv2d(1, 16, 3, padding = 1);
    BatchNorm;
    ReLU;
    residual { Conv2d(16, 16, 3, padding = 1); BatchNorm; ReLU; Conv2d(16, 16, 3, padding = 1); BatchNorm } ReLU;
    residual { Conv2d(16, 16, 3, padding = 1); BatchNorm; ReLU; Conv2d(16, 16, 3, padding = 1); BatchNorm } ReLU;
    residual { Conv2d(16, 16, 3, padding = 1); BatchNorm; ReLU; Conv2d(16, 16, 3, padding = 1); BatchNorm } ReLU;
    residual { Conv2d(16, 16, 3, padding = 1); BatchNorm; ReLU; Conv2d(16, 16, 3, padding = 1); BatchNorm } ReLU;
    residual { Conv2d(16, 16, 3, padding = 1); BatchNorm; ReLU; Conv2d(16, 16, 3, padding = 1); BatchNorm } ReLU;
    residual { Conv2d(16, 16, 3, padding = 1); BatchNorm; ReLU; Conv2d(16, 16, 3, padding = 1); BatchNorm } ReLU;
    residual { Conv2d(16, 16, 3, padding = 1); BatchNorm; ReLU; Conv2d(16, 16, 3, padding = 1); BatchNorm } ReLU;
    residual { Conv2d(16, 16, 3, padding = 1); BatchNorm; ReLU; Conv2d(16, 16, 3, padding = 1); BatchNorm } ReLU;
    AvgPool2d(2);
    Flatten;
    Linear(_, 10);
    loss CrossEntropy;
    optim Adam(lr = 1e-3)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let quick = std::env::var_os("MACROGRAD_QUICK").is_some();
    let epochs = if quick { 3 } else { 15 };
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "target/plots/residual_cnn.png".into());

    // 60 % to train, 20 % to watch each epoch, 20 % to test once at the
    // end, each digit in the same proportion; pixels from [0, 16] to [0, 1].
    let (digits, _) = datasets::digits();
    let (inputs, labels) = digits.into_parts();
    let digits = Dataset::classification(inputs / 16.0, labels)?;
    let (train, validation, test) = digits.stratified_split3(0.6, 0.2, 0.2, 42)?;
    println!(
        "{} images: {} to train on, {} to validate, {} to test\n",
        digits.len(),
        train.len(),
        validation.len(),
        test.len()
    );

    let mut plain = Plain::with_seed(0);
    let mut residual = Residual::with_seed(0);
    println!("{}\n", residual.summary());
    let (plain_params, residual_params) = (plain.summary().params(), residual.summary().params());
    println!("parameters: plain {plain_params}, residual {residual_params}");
    if plain_params == residual_params {
        println!("(equal: the same layers; a residual join adds, and has no parameters)\n");
    } else {
        println!("(not equal: the layers differ)\n");
    }

    let fit = || {
        Fit::epochs(epochs)
            .batch_size(32)
            .seed(1)
            .validation_data(&validation)
            .quiet()
    };
    let start = Instant::now();
    let h1 = plain.fit(&train, fit())?;
    let plain_seconds = start.elapsed().as_secs_f64();
    let start = Instant::now();
    let h2 = residual.fit(&train, fit())?;
    let residual_seconds = start.elapsed().as_secs_f64();

    println!("        plain               residual");
    println!("epoch   val loss  val acc   val loss  val acc");
    for (a, b) in h1.epochs.iter().zip(&h2.epochs) {
        let acc = |e: &macrograd::history::EpochLog| {
            100.0 * e.val_metric(Metric::Accuracy).unwrap_or(f64::NAN)
        };
        println!(
            "{:>5}   {:>8.4}  {:>5.1} %   {:>8.4}  {:>5.1} %",
            a.epoch,
            a.val_loss.unwrap_or(f64::NAN),
            acc(a),
            b.val_loss.unwrap_or(f64::NAN),
            acc(b)
        );
    }

    // Evaluation mode: batch norm's running statistics.
    let plain_test = plain.evaluate(&test)?.accuracy().unwrap_or(f64::NAN);
    let residual_test = residual.evaluate(&test)?.accuracy().unwrap_or(f64::NAN);
    let right = |accuracy: f64| (accuracy * test.len() as f64).round();
    println!();
    for (name, accuracy, seconds) in [
        ("plain   ", plain_test, plain_seconds),
        ("residual", residual_test, residual_seconds),
    ] {
        println!(
            "{name} test accuracy {:.1} % ({} of {} right), trained in {seconds:.1} s",
            100.0 * accuracy,
            right(accuracy),
            test.len()
        );
    }

    #[cfg(feature = "plot")]
    {
        use macrograd::history::{shown_path, Panel, Plot, Show};
        std::fs::create_dir_all(std::path::Path::new(&path).parent().unwrap_or(".".as_ref()))?;
        Plot::runs(&[("plain", &h1), ("residual", &h2)])
            .title("Plain vs residual CNN, 8x8 digits")
            .show(Show::Both)
            .panels([Panel::Loss, Panel::Metric(Metric::Accuracy)])
            .write(&path)?;
        println!("\nLearning curves: wrote {}", shown_path(&path));
    }
    #[cfg(not(feature = "plot"))]
    println!("\n(no picture at {path}: built without the `plot` feature)");

    // The lowest validation loss of a run and the epoch it came in.
    let lowest = |h: &History| {
        h.epochs
            .iter()
            .filter_map(|e| Some((e.epoch, e.val_loss?)))
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .unwrap_or((0, f64::NAN))
    };
    let ((plain_epoch, plain_low), (residual_epoch, residual_low)) = (lowest(&h1), lowest(&h2));
    let (lower, ratio) = if residual_low <= plain_low {
        ("residual", plain_low / residual_low)
    } else {
        ("plain", residual_low / plain_low)
    };
    let first = |h: &History| {
        h.epochs
            .first()
            .and_then(|e| e.val_loss)
            .unwrap_or(f64::NAN)
    };
    let ahead = if first(&h2) < first(&h1) {
        "residual"
    } else {
        "plain"
    };
    println!();
    println!(
        "Look at: the lowest validation loss, plain {plain_low:.4} (epoch {plain_epoch}) vs residual"
    );
    println!(
        "{residual_low:.4} (epoch {residual_epoch}): the {lower} network's is {ratio:.1}x lower. \
         After epoch 1"
    );
    println!(
        "the {ahead} network is ahead (val loss plain {:.4}, residual {:.4}). On",
        first(&h1),
        first(&h2)
    );
    println!(
        "the test images: plain {} of {} right, residual {}; accuracy counts only",
        right(plain_test),
        test.len(),
        right(residual_test)
    );
    println!("right or wrong, the loss also scores how sure each answer is.");
    Ok(())
}
