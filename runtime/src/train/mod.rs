//! The epoch loop: [`Fit`] says how to train, [`fit()`] trains, [`History`]
//! records each epoch. [`Train`] makes `model.fit(..)` and
//! `model.evaluate(..)` methods of every [`Model`] (it is in the prelude).
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
//! Around that loop, all optional:
//!
//! - validation: [`Fit::validation_split`] holds out a seeded random
//!   fraction of the data, [`Fit::validation_data`] takes a separate
//!   dataset; after every epoch the model is evaluated on it in evaluation
//!   mode (`val_loss` and the validation metrics);
//! - metrics ([`Fit::metrics`]): accuracy for classifiers by default; MAE,
//!   RMSE, R² for regressors on request. Training metrics are computed on
//!   each batch's outputs before its update (Keras's convention);
//! - stopping: after `epochs`; when the watched loss reaches
//!   [`Fit::target_loss`]; [`EarlyStopping`]; a NaN or infinite batch loss
//!   (on by default, [`Fit::stop_on_non_finite`]); a callback. The reason is
//!   in [`History::stop`] and printed at the end;
//! - a learning-rate [`Scheduler`](crate::schedule::Scheduler), stepped after the optimizer;
//! - gradient clipping by global norm or by value, and gradient
//!   accumulation over several batches;
//! - callbacks at the end of every epoch or batch.
//!
//! Everything that can be checked is checked before the first batch, and
//! an error then leaves the model as it was: every setting's range; the
//! data's widths, labels and target values (BCE's in `[0, 1]`), the
//! validation data's named as such ([`Error::ValidationData`](crate::Error::ValidationData)); a batch
//! of one sample for a model whose batch norm needs two
//! ([`Model::MIN_TRAINING_BATCH`]: use `drop_last(true)` or another batch
//! size); a checkpoint path whose folder does not exist; a checkpoint to
//! resume that does not fit the model, the optimizer's declaration or
//! this run ([`Fit::resume_from`]). During the run, a schedule that sets a
//! learning rate or momentum that is negative or not finite is an error
//! (the model keeps its last update).
//!
//! Output: in a terminal, a progress bar per epoch (batches, running loss,
//! rate, ETA) that leaves one line per epoch; elsewhere exactly one plain
//! line per epoch, `Epoch [3/50], Loss: 0.4123, Val Loss: 0.4410, Acc:
//! 0.9120`, with `LR: ...` when there is a schedule; before training one
//! line of iteration arithmetic, after it the stop reason. [`Fit::quiet`]
//! prints nothing; [`Fit::log_to`] writes the plain lines anywhere.
//!
//! ```
//! # use macrograd_runtime as macrograd;
//! use macrograd::train::Fit;
//! let fit = Fit::epochs(5).batch_size(100).quiet();
//! assert_eq!(fit.iterations_per_epoch(1000), 10);
//! ```

pub mod clip;

mod callback;
mod checks;
mod early_stopping;
mod end;
mod epoch;
mod evaluate;
mod fit;
mod output;
mod resume;
mod run;
mod targets;

pub use self::callback::{BatchLog, Control};
pub use self::early_stopping::{EarlyStopping, Mode};
pub use self::evaluate::{evaluate, Evaluation, EVALUATE_BATCH};
pub use self::fit::{Clip, Fit};
pub use crate::history::{EpochLog, History, Monitor, StopReason};

use crate::data::Dataset;
use crate::model::Model;
use crate::target::{Target, TrainsOn};
use crate::Result;

/// `fit` and `evaluate` as methods of every [`Model`]: `model.fit(&data,
/// Fit::epochs(5))`. In the prelude; elsewhere,
/// `use macrograd::train::Train`.
pub trait Train: Model + Sized {
    /// Trains on `data` as `fit` says (epochs, batch size, shuffling) and
    /// returns the per-epoch history. Prints one line per epoch,
    /// `Epoch [k/N], Loss: x.xxxx`, unless quiet.
    ///
    /// # Errors
    ///
    /// Before the first batch, if a setting or the data is invalid (batch
    /// size 0, no samples, a feature or target width that does not match the
    /// model, a class label out of range).
    ///
    /// `data` is of the model's kind of targets ([`Dataset::regression`],
    /// [`Dataset::classification`]), or class labels 0 and 1 for a BCE
    /// model with one output ([`TrainsOn`]): a two-class dataset trains a
    /// binary classifier as it is.
    fn fit<D: Target<Self::Elem>>(
        &mut self,
        data: &Dataset<Self::Elem, D>,
        fit: Fit<'_>,
    ) -> Result<History>
    where
        Self::Target: TrainsOn<Self::Elem, D>,
    {
        self::fit(self, data, fit)
    }

    /// The mean loss and the task's metrics over `data` in evaluation mode
    /// (dropout off, batch norm on its running statistics), in batches of
    /// [`EVALUATE_BATCH`] (32) samples; no weight or gradient is touched.
    /// The model is left in training mode, its default.
    ///
    /// ```
    /// # use macrograd_runtime as macrograd;
    /// # use macrograd::{data::Dataset, model::Model, target::Classes, train::Train};
    /// # fn run<M: Model<Elem = f32, Target = Classes>>(model: &mut M, test: &Dataset<f32, Classes>) -> macrograd::Result<()> {
    /// let result = model.evaluate(test)?;
    /// println!("test {result}"); // "test loss <mean>, acc <fraction>"
    /// let accuracy = result.accuracy().unwrap_or(0.0);
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// As [`Train::fit`]'s data checks.
    fn evaluate<D: Target<Self::Elem>>(
        &mut self,
        data: &Dataset<Self::Elem, D>,
    ) -> Result<Evaluation>
    where
        Self::Target: TrainsOn<Self::Elem, D>,
    {
        self::evaluate(self, data, EVALUATE_BATCH)
    }

    /// [`Train::evaluate`] in batches of `batch_size` samples (the results
    /// differ only by the rounding of the sums).
    ///
    /// # Errors
    ///
    /// As [`Train::fit`]'s data checks, and a batch size of 0.
    fn evaluate_batched<D: Target<Self::Elem>>(
        &mut self,
        data: &Dataset<Self::Elem, D>,
        batch_size: usize,
    ) -> Result<Evaluation>
    where
        Self::Target: TrainsOn<Self::Elem, D>,
    {
        self::evaluate(self, data, batch_size)
    }
}

impl<M: Model> Train for M {}

/// Trains `model` on `data`; see the module docs. Prefer [`Train::fit`].
///
/// # Errors
///
/// Before the first batch: an invalid [`Fit`] setting, an empty dataset, or
/// data (training or validation) whose widths or labels do not match the
/// model.
pub fn fit<M: Model, D: Target<M::Elem>>(
    model: &mut M,
    data: &Dataset<M::Elem, D>,
    fit: Fit<'_>,
) -> Result<History>
where
    M::Target: TrainsOn<M::Elem, D>,
{
    let data = targets::adapt::<M, D>(data)?;
    crate::parallel::with_threads(fit.threads, || run::Loop::run(model, &data, fit))
}
