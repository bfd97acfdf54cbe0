//! The epoch loop: [`Fit`] says how to train, [`fit`] trains, [`History`]
//! records each epoch.
//!
//! One epoch is one pass over the data; it is cut into batches of
//! `batch_size` samples (the last one smaller unless `drop_last`), and each
//! batch is one iteration: forward, loss, zero_grad, backward, step. With
//! `shuffle` (the default) the order is a fresh permutation every epoch,
//! drawn from a generator seeded once per `fit`, so one seed gives the same
//! run every time. The epoch's `Loss` is the sample-weighted mean of its
//! batch losses, the mean loss per sample seen during the epoch (as Keras
//! and Lightning report it), not the last batch's.
//!
//! ```
//! use macrograd_runtime::train::Fit;
//! let fit = Fit::epochs(5).batch_size(100).quiet();
//! assert_eq!(fit.iterations_per_epoch(1000), 10);
//! ```

use std::io::Write;
use std::time::Instant;

use crate::data::Dataset;
pub use crate::history::{EpochLog, History, Monitor, StopReason};
use crate::model::Model;
use crate::target::Target;
use crate::{Error, Float, Result, Rng};

/// How to train: epochs, batch size, order, output.
#[derive(Clone, Debug, PartialEq)]
pub struct Fit {
    epochs: usize,
    batch_size: usize,
    shuffle: bool,
    seed: u64,
    drop_last: bool,
    quiet: bool,
    threads: usize,
}

impl Fit {
    /// Train for `epochs` passes over the data, with the defaults: batch
    /// size 32 (as Keras), shuffled every epoch from seed 0, the last partial
    /// batch kept, one printed line per epoch.
    pub fn epochs(epochs: usize) -> Self {
        Fit {
            epochs,
            batch_size: 32,
            shuffle: true,
            seed: 0,
            drop_last: false,
            quiet: false,
            threads: 0,
        }
    }

    /// Samples per iteration; a batch size at least the dataset's size means
    /// full-batch gradient descent.
    pub fn batch_size(mut self, batch_size: usize) -> Self {
        self.batch_size = batch_size;
        self
    }

    /// Whether to visit the samples in a new random order every epoch
    /// (default `true`); `false` keeps the stored order.
    pub fn shuffle(mut self, shuffle: bool) -> Self {
        self.shuffle = shuffle;
        self
    }

    /// Seed of the shuffling order (default 0).
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Drop the last batch of an epoch when it is smaller than `batch_size`
    /// (default `false`: keep it, as PyTorch's `DataLoader`).
    pub fn drop_last(mut self, drop_last: bool) -> Self {
        self.drop_last = drop_last;
        self
    }

    /// Threads the matrix products of this run may use; by default the
    /// process-wide setting of [`crate::set_threads`] (itself 1 unless
    /// changed). Only large products are split.
    pub fn threads(mut self, threads: usize) -> Self {
        self.threads = threads.max(1);
        self
    }

    /// Print nothing.
    pub fn quiet(mut self) -> Self {
        self.quiet = true;
        self
    }

    /// Iterations (batches) per epoch over `samples` samples.
    pub fn iterations_per_epoch(&self, samples: usize) -> usize {
        if self.batch_size == 0 {
            return 0;
        }
        if self.drop_last {
            samples / self.batch_size
        } else {
            samples.div_ceil(self.batch_size)
        }
    }

    fn validate(&self, samples: usize) -> Result<()> {
        if self.epochs == 0 {
            return Err(Error::InvalidSetting {
                name: "epochs",
                message: "expected at least 1 epoch, found 0".into(),
            });
        }
        if self.batch_size == 0 {
            return Err(Error::InvalidSetting {
                name: "batch_size",
                message: "expected at least 1 sample per batch, found 0".into(),
            });
        }
        if self.iterations_per_epoch(samples) == 0 {
            return Err(Error::InvalidSetting {
                name: "drop_last",
                message: format!(
                    "batch size {} with drop_last leaves no batch of {samples} samples",
                    self.batch_size
                ),
            });
        }
        Ok(())
    }
}

/// Trains `model` on `data`; see the module docs. Prefer [`Model::fit`].
///
/// # Errors
///
/// Before the first batch: an invalid [`Fit`] setting, an empty dataset, or
/// data whose widths or labels do not match the model.
pub fn fit<M: Model>(
    model: &mut M,
    data: &Dataset<M::Elem, M::Target>,
    fit: &Fit,
) -> Result<History> {
    crate::parallel::with_threads(fit.threads, || fit_on_this_thread(model, data, fit))
}

fn fit_on_this_thread<M: Model>(
    model: &mut M,
    data: &Dataset<M::Elem, M::Target>,
    fit: &Fit,
) -> Result<History> {
    data.check_for(M::INPUTS, M::OUTPUTS)?;
    let samples = data.len();
    fit.validate(samples)?;
    let batch_size = fit.batch_size.min(samples);
    let iterations = fit.iterations_per_epoch(samples);
    let mut rng = Rng::new(fit.seed);
    let mut order: Vec<usize> = (0..samples).collect();
    let mut targets = <M::Target as Target<M::Elem>>::Data::default();
    let inputs = data.inputs();
    let mut history = History {
        epochs: Vec::new(),
        stop: StopReason::MaxEpochs { epochs: fit.epochs },
        best_epoch: None,
    };
    let mut out = std::io::stdout().lock();
    model.set_training(true);
    let whole_batch = !fit.shuffle && iterations == 1 && batch_size == samples;
    let mut gathered = false;
    for epoch in 1..=fit.epochs {
        let start = Instant::now();
        let lr = model.learning_rate();
        if fit.shuffle {
            rng.permutation(&mut order);
        }
        let mut loss_sum = 0.0;
        let mut seen = 0usize;
        // LOOP 1: the epoch's batches; `iterations` excludes a dropped tail.
        for batch in order.chunks(batch_size).take(iterations) {
            let x = model.input_buffer(batch.len());
            if !gathered {
                crate::data::gather_rows(inputs, batch, x);
                <M::Target as Target<M::Elem>>::gather(data.targets(), batch, &mut targets);
                // One unshuffled batch of every sample is the same batch
                // each epoch: nothing but this loop touches the model's
                // input buffer, so it still holds the data.
                gathered = whole_batch;
            }
            model.forward_buffered();
            let loss = model.compute_loss(
                <M::Target as Target<M::Elem>>::view(&targets, batch.len()),
                true,
            );
            model.zero_grad();
            model.backward();
            model.step();
            loss_sum += loss.to_f64() * batch.len() as f64;
            seen += batch.len();
        }
        let log = EpochLog {
            epoch,
            loss: loss_sum / seen as f64,
            val_loss: None,
            metrics: Vec::new(),
            val_metrics: Vec::new(),
            lr,
            iterations,
            duration: start.elapsed(),
        };
        if !fit.quiet {
            // A closed stdout (a pipe to `head`) must not stop training.
            let _ = writeln!(out, "Epoch [{epoch}/{}], Loss: {:.4}", fit.epochs, log.loss);
        }
        history.epochs.push(log);
    }
    Ok(history)
}

/// The sample-weighted mean loss of `model` over `data` in evaluation mode.
/// Prefer [`Model::evaluate`].
///
/// # Errors
///
/// An empty dataset, a batch size of 0, or data that does not match the
/// model.
pub fn evaluate<M: Model>(
    model: &mut M,
    data: &Dataset<M::Elem, M::Target>,
    batch_size: usize,
) -> Result<f64> {
    data.check_for(M::INPUTS, M::OUTPUTS)?;
    if batch_size == 0 {
        return Err(Error::InvalidSetting {
            name: "batch_size",
            message: "expected at least 1 sample per batch, found 0".into(),
        });
    }
    let inputs = data.inputs();
    let order: Vec<usize> = (0..data.len()).collect();
    let mut targets = <M::Target as Target<M::Elem>>::Data::default();
    model.set_training(false);
    let mut sum = 0.0;
    for batch in order.chunks(batch_size) {
        crate::data::gather_rows(inputs, batch, model.input_buffer(batch.len()));
        model.forward_buffered();
        <M::Target as Target<M::Elem>>::gather(data.targets(), batch, &mut targets);
        let loss = model.compute_loss(
            <M::Target as Target<M::Elem>>::view(&targets, batch.len()),
            false,
        );
        sum += loss.to_f64() * batch.len() as f64;
    }
    model.set_training(true);
    Ok(sum / data.len() as f64)
}
