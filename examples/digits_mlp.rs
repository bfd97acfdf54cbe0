//! Handwritten digits with an MLP, for contrast with `digits_cnn`.
//!
//! Run: `cargo run --release --example digits_mlp`
//!
//! The same 1797 images of 8x8 pixels, the same seeded, stratified 80/20
//! split and the same scaling as `digits_cnn`, but each image is read as 64
//! unrelated numbers (`input 64`): the network has no idea which pixels are
//! neighbours, and must learn every stroke at every position separately.
//!
//! What to look at: the test accuracy and the confusion matrix next to the
//! CNN's. With the seeds below the MLP reaches 98.3 % (6 of 359 wrong); the
//! CNN, whose few filters are each applied everywhere in the image, gets
//! 99.4 % (2 wrong) but takes several times as long to train (each prints
//! its training time).
//! `MACROGRAD_QUICK=1` trains 3 epochs instead of 60.

use std::time::Instant;

use macrograd::datasets;
use macrograd::metrics::ConfusionMatrix;
use macrograd::prelude::*;

model! {
    /// 64 pixels -> 128 -> 64 -> 10 logits.
    struct DigitsMlp;
    input 64;
    Linear(_, 128);
    ReLU;
    Dropout(0.2);
    Linear(_, 64);
    ReLU;
    Linear(_, 10);
    loss CrossEntropy;
    optim Adam(lr = 1e-3)
}

fn main() -> Result<(), Error> {
    let quick = std::env::var_os("MACROGRAD_QUICK").is_some();
    let epochs = if quick { 3 } else { 60 };

    let (digits, names) = datasets::digits();
    let (inputs, labels) = digits.into_parts();
    let digits = Dataset::classification(inputs / 16.0, labels)?;
    let (train, test) = digits.stratified_train_test_split(0.2, 42)?;

    let mut model = DigitsMlp::with_seed(0);
    println!("{}\n", model.summary());
    let start = Instant::now();
    model.fit(&train, Fit::epochs(epochs).batch_size(32).seed(1))?;
    let seconds = start.elapsed().as_secs_f64();

    let matrix = ConfusionMatrix::from_logits(model.predict(test.inputs()).view(), test.targets())
        .with_names((0..names.len()).map(|i| names.name(i).unwrap_or_default().into_owned()));
    println!("\ntrue digit (rows) vs predicted (columns):\n{matrix}");
    println!(
        "test accuracy {:.1} % ({} of {} right), trained in {seconds:.1} s",
        100.0 * matrix.accuracy(),
        (matrix.accuracy() * test.len() as f64).round(),
        test.len()
    );
    println!();
    println!("Look at: the off-diagonal cells, the digits the MLP mistakes. Run");
    println!("digits_cnn on the same split: its filters, shared over every position,");
    println!("make fewer mistakes, but it trains several times slower.");
    Ok(())
}
