//! Handwritten digits read as sequences by a GRU.
//!
//! Run: `cargo run --release --example digits_rnn`
//!
//! Each built-in digit is 64 pixels, 8 rows of 8, stored row after row:
//! exactly the layout of a sequence of 8 steps of 8 features. Declared
//! `input [8, 8]`, a GRU reads the image one row at a time, top to bottom,
//! keeping a hidden state of 64 values that it updates at each row; after
//! the last row (`Last`) that state is all it has seen, and one linear
//! layer names the digit from it. Nothing in the model knows that the rows
//! are rows of an image: the same model reads any sequence.
//!
//! The split and scaling are those of `digits_cnn`: a seeded, stratified
//! fifth of the images held out for the test, pixels divided by 16 into
//! [0, 1]; Adam trains the GRU.
//!
//! What to look at: the table of shapes, the test accuracy, the confusion
//! matrix (rows the true digit, columns the predicted one) and the
//! training time; `digits_cnn` and `digits_mlp` train on the same split.
//! `MACROGRAD_QUICK=1` trains 3 epochs instead of 30.

use std::time::Instant;

use macrograd::datasets;
use macrograd::metrics::ConfusionMatrix;
use macrograd::prelude::*;

model! {
    /// 8 rows of 8 pixels, read top to bottom.
    struct DigitsRnn;
    input [8, 8];
    GRU(64);
    Last;
    Linear(_, 10);
    loss CrossEntropy;
    optim Adam(lr = 3e-3)
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
        "{} images of 8 rows x 8 pixels: {} to train on, {} to test\n",
        digits.len(),
        train.len(),
        test.len()
    );

    let mut model = DigitsRnn::with_seed(0);
    println!("{}\n", model.summary());
    let start = Instant::now();
    let history = model.fit(&train, Fit::epochs(epochs).batch_size(32).seed(1))?;
    let seconds = start.elapsed().as_secs_f64();

    let matrix = ConfusionMatrix::from_logits(model.predict(test.inputs()).view(), test.targets())
        .with_names((0..names.len()).map(|i| names.name(i).unwrap_or_default().into_owned()));
    println!("\ntrue digit (rows) vs predicted (columns):\n{matrix}");
    let right = (matrix.accuracy() * test.len() as f64).round();
    println!(
        "test accuracy {:.1} % ({right} of {} right), trained in {seconds:.1} s",
        100.0 * matrix.accuracy(),
        test.len()
    );

    // The most frequent mistake: the largest count off the diagonal.
    let counts = matrix.counts();
    let mistake = (0..counts.len())
        .flat_map(|t| (0..counts.len()).map(move |p| (t, p)))
        .filter(|&(t, p)| t != p && counts[t][p] > 0)
        .max_by_key(|&(t, p)| counts[t][p]);
    let train_accuracy = history
        .last()
        .and_then(|e| e.metric(Metric::Accuracy))
        .unwrap_or(f64::NAN);
    let wrong: usize = (0..counts.len())
        .map(|t| counts[t].iter().sum::<usize>() - counts[t][t])
        .sum();
    let gap = 100.0 * (train_accuracy - matrix.accuracy());
    println!();
    println!(
        "Look at: the diagonal, {right} of {} test digits named right after reading one row",
        test.len()
    );
    match mistake {
        Some((t, p)) if wrong == 1 => {
            println!("at a time; the one mistake: a {t} read as {p}.")
        }
        Some((t, p)) if counts[t][p] == wrong => {
            println!("at a time; all {wrong} mistakes: a {t} read as {p}.")
        }
        Some((t, p)) => println!(
            "at a time; {wrong} mistakes, most often a {} read as {} ({} times).",
            t, p, counts[t][p]
        ),
        None => println!("at a time, with no mistake at all."),
    }
    println!(
        "The last epoch's training accuracy is {:.1} %, the test's {:.1} %:\n{}",
        100.0 * train_accuracy,
        100.0 * matrix.accuracy(),
        if gap > 0.0 {
            format!("{gap:.1} points of fit to the training images that did not carry over.")
        } else {
            "nothing was learned by heart that the test did not confirm.".to_string()
        }
    );
    Ok(())
}
