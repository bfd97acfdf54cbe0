//! Iris: a first real classification, from data in to a confusion matrix.
//!
//! Run: `cargo run --release --example iris`
//!
//! The steps every tabular problem goes through:
//!
//! 1. **Load** the built-in data (150 flowers, 4 measurements, 3 species).
//! 2. **Split** it, seeded and stratified, into training (60 %), validation
//!    (20 %) and test (20 %) parts with 10 flowers of each species in the
//!    test part. The file is sorted by species, so an unshuffled cut would
//!    test on one species only.
//! 3. **Standardize** with the mean and deviation of the training part, then
//!    apply those same numbers to the validation and test parts: the test
//!    flowers must not influence anything the model learns from.
//! 4. **Train** a small MLP with `fit`, watching the validation loss; early
//!    stopping keeps the weights of the epoch where it was lowest.
//! 5. **Evaluate once** on the test part: accuracy and the confusion matrix
//!    (rows: true species, columns: predicted), which shows *which* species
//!    get confused: setosa never, versicolor and virginica now and then.
//!
//! With the seeds below it prints a test accuracy of 1.000 (30 of 30
//! flowers; the validation part had 2 of 30 wrong, so expect a mistake or
//! two with other seeds), after early stopping at epoch 60 with the weights
//! of epoch 30.

use macrograd::data::Standardize;
use macrograd::datasets;
use macrograd::metrics::{ConfusionMatrix, Metric};
use macrograd::prelude::*;
use macrograd::train::EarlyStopping;

model! {
    /// 4 measurements -> 16 hidden units -> 3 logits, one per species.
    struct IrisNet;
    Linear(4, 16);
    ReLU;
    Linear(_, 3);
    loss CrossEntropy;
    optim Adam(lr = 0.01)
}

fn main() -> Result<(), Error> {
    // 1. Load.
    let (data, species) = datasets::iris();

    // 2. Split: 90 / 30 / 30 flowers, each part a third of each species.
    let (mut train, mut validation, mut test) = data.stratified_split3(0.6, 0.2, 0.2, 42)?;
    println!(
        "{} flowers: {} to train on, {} to validate, {} to test",
        data.len(),
        train.len(),
        validation.len(),
        test.len()
    );

    // 3. Standardize with the training part's statistics only.
    let scaler = Standardize::fit(&train);
    for part in [&mut train, &mut validation, &mut test] {
        scaler.transform(part)?;
    }

    // 4. Train; the validation loss decides when to stop.
    let mut model = IrisNet::with_seed(1);
    let history = model.fit(
        &train,
        Fit::epochs(500)
            .batch_size(16)
            .seed(1)
            .validation_data(&validation)
            .early_stopping(EarlyStopping::patience(30).restore_best())
            .quiet(),
    )?;
    println!("{}", history.stop);
    if let Some(best) = history.best_epoch.and_then(|b| history.epochs.get(b - 1)) {
        println!(
            "kept epoch {}: train loss {:.4}, val loss {:.4}, val accuracy {:.3}",
            best.epoch,
            best.loss,
            best.val_loss.unwrap_or(f64::NAN),
            best.val_metric(Metric::Accuracy).unwrap_or(f64::NAN)
        );
    }

    // 5. Evaluate once, on flowers the model and the scaler never saw:
    //    the loss and the accuracy, then which species it confuses.
    let result = model.evaluate(&test)?;
    println!("\ntest {result}\n"); // test loss 0.xxxx, acc 0.xxxx
    let logits = model.predict(test.inputs());
    let matrix = ConfusionMatrix::from_logits(logits.view(), test.targets())
        .with_names((0..species.len()).map(|i| species.name(i).unwrap_or_default().into_owned()));
    print!("{matrix}");
    println!();
    println!("Look at: the kept epoch is the one of lowest validation loss, not the last");
    println!("one trained; the test part, used once at the end, gives the honest score,");
    println!("and the matrix's off-diagonal cells name the species it confuses.");
    Ok(())
}
