//! Wine: three cultivars told apart by 13 chemical measurements, and why
//! standardizing matters.
//!
//! Run: `cargo run --release --example wine`
//!
//! The 13 features come in very different units: proline is around 750,
//! hue around 1. Unscaled, the largest feature dominates the first layer's
//! sums, and the small ones are hard to learn from. The example trains the
//! same network twice, on raw and on standardized inputs, with the same
//! seeds, and compares them on the test part. (Adam's per-parameter step
//! sizes soften the damage: each weight's step is scaled by the size of
//! its own gradients, which plain SGD does not do.)
//!
//! The pipeline is the one of `examples/iris.rs`: a seeded, stratified
//! 60/20/20 split (the file is sorted by cultivar), a [`Standardize`] fitted
//! on the training part and applied to all three, `fit` with early stopping
//! on the validation loss, and one evaluation on the test part: accuracy
//! and the confusion matrix (rows: true cultivar, columns: predicted).
//!
//! With the seeds below it prints a test accuracy of 1.000 (36 of 36)
//! standardized, with a best validation loss of 0.055, against 0.944 and
//! 0.114 on raw inputs.

use macrograd::data::{Dataset, Standardize};
use macrograd::datasets;
use macrograd::metrics::ConfusionMatrix;
use macrograd::prelude::*;
use macrograd::target::Classes;
use macrograd::train::EarlyStopping;

model! {
    /// 13 measurements -> 32 hidden units -> 3 logits, one per cultivar.
    struct WineNet;
    Linear(13, 32);
    ReLU;
    Linear(_, 3);
    loss CrossEntropy;
    optim Adam(lr = 0.01)
}

type Data = Dataset<f32, Classes>;

/// Trains a new network on `train` (early stopping on `validation`) and
/// returns it with its test accuracy.
fn train_and_test(train: &Data, validation: &Data, test: &Data) -> Result<(WineNet, f64), Error> {
    let mut model = WineNet::with_seed(1);
    let history = model.fit(
        train,
        Fit::epochs(500)
            .batch_size(16)
            .seed(1)
            .validation_data(validation)
            .early_stopping(EarlyStopping::patience(30).restore_best())
            .quiet(),
    )?;
    println!("  {}", history.stop);
    let logits = model.predict(test.inputs());
    let accuracy = ConfusionMatrix::from_logits(logits.view(), test.targets()).accuracy();
    Ok((model, accuracy))
}

fn main() -> Result<(), Error> {
    let (data, cultivars) = datasets::wine();
    let (mut train, mut validation, mut test) = data.stratified_split3(0.6, 0.2, 0.2, 42)?;
    println!(
        "{} wines: {} to train on, {} to validate, {} to test; classes in the test part: {:?}",
        data.len(),
        train.len(),
        validation.len(),
        test.len(),
        test.class_counts().into_values().collect::<Vec<_>>()
    );

    println!("\nraw inputs (proline ~ 750, hue ~ 1):");
    let (_, raw_accuracy) = train_and_test(&train, &validation, &test)?;

    // Fitted on the training part only, applied to all three.
    let scaler = Standardize::fit(&train);
    for part in [&mut train, &mut validation, &mut test] {
        scaler.transform(part)?;
    }
    println!("standardized inputs (each column: training mean 0, deviation 1):");
    let (model, accuracy) = train_and_test(&train, &validation, &test)?;

    println!("\ntest accuracy: {raw_accuracy:.3} raw, {accuracy:.3} standardized\n");
    let logits = model.predict(test.inputs());
    let matrix = ConfusionMatrix::from_logits(logits.view(), test.targets()).with_names(
        (0..cultivars.len()).map(|i| cultivars.name(i).unwrap_or_default().into_owned()),
    );
    print!("{matrix}");
    println!();
    println!("Look at: the best validation loss in the two stop lines and the test");
    println!("accuracies: standardized inputs do better, because raw, proline (~750)");
    println!("dominates the first layer's sums and drowns the small features.");
    Ok(())
}
