//! Handwritten digits with a small convolutional network.
//!
//! Run: `cargo run --release --example digits_cnn`
//!
//! The built-in digits are 1797 images of 8x8 pixels (0 to 16 each), one
//! row of 64 values per image. Declared `input [1, 8, 8]`, the same rows are
//! read as one-channel images: the convolutions slide 3x3 filters over
//! them, so a stroke is recognised wherever it is, and every shape below is
//! checked while the program compiles (change `Linear(_, 64)` to
//! `Linear(256, 64)` and the compiler says `Flatten` produces
//! 32 x 4 x 4 = 512).
//!
//! What to look at: the table of shapes, the test accuracy (on a seeded,
//! stratified fifth of the images the network never trained on) and the
//! confusion matrix, rows the true digit, columns the predicted one. With
//! the seeds below it reaches 99.4 % (2 of 359 wrong: a 6 taken for a 5,
//! an 8 for a 1), and the training time it prints; `digits_mlp` trains an
//! MLP on the same split for contrast (98.3 %).
//! `MACROGRAD_QUICK=1` trains 3 epochs instead of 30.

use std::time::Instant;

use macrograd::datasets;
use macrograd::metrics::ConfusionMatrix;
use macrograd::prelude::*;

model! {
    /// Two 3x3 convolutions with batch norm, a max pool, two linear layers.
    struct DigitsCnn;
    input [1, 8, 8];
    Conv2d(1, 16, 3, padding = 1);
    BatchNorm;
    ReLU;
    Conv2d(16, 32, 3, padding = 1);
    BatchNorm;
    ReLU;
    MaxPool2d(2);
    Dropout(0.25);
    Flatten;
    Linear(_, 64);
    ReLU;
    Dropout(0.25);
    Linear(_, 10);
    loss CrossEntropy;
    optim Adam(lr = 1e-3)
}

fn main() -> Result<(), Error> {
    let quick = std::env::var_os("MACROGRAD_QUICK").is_some();
    let epochs = if quick { 3 } else { 30 };

    // 80 % to train, 20 % to test, each digit in the same proportion;
    // pixels scaled from [0, 16] to [0, 1].
    let (digits, names) = datasets::digits();
    let (inputs, labels) = digits.into_parts();
    let digits = Dataset::classification(inputs / 16.0, labels)?;
    let (train, test) = digits.stratified_train_test_split(0.2, 42)?;
    println!(
        "{} images: {} to train on, {} to test\n",
        digits.len(),
        train.len(),
        test.len()
    );

    let mut model = DigitsCnn::with_seed(0);
    println!("{}\n", model.summary());
    let start = Instant::now();
    model.fit(&train, Fit::epochs(epochs).batch_size(32).seed(1))?;
    let seconds = start.elapsed().as_secs_f64();

    // Evaluation mode: no dropout, batch norm's running statistics.
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
    println!("Look at: nearly every test image on the diagonal, the few off it the");
    println!("digits mistaken. Each 3x3 filter is shared over the whole image, so a");
    println!("stroke learned in one place counts everywhere: digits_mlp errs more.");
    Ok(())
}
