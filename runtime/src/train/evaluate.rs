//! The loss (and metric sums) of a model over a dataset in evaluation
//! mode: the validation after each epoch, and `evaluate`.

use super::checks::check_data;
use crate::data::Dataset;
use crate::gather::gather_rows;
use crate::metrics::{Metric, Scores};
use crate::model::Model;
use crate::target::{Target, TrainsOn};
use crate::{Error, Float, Result};

/// Loss and metric sums over `data` in evaluation mode; then puts the
/// model back in training mode.
pub(super) fn evaluate_scores<M: Model>(
    model: &mut M,
    data: &Dataset<M::Elem, M::Target>,
    batch_size: usize,
    scores_wanted: bool,
) -> (f64, Scores) {
    let inputs = data.inputs();
    let mut targets = <M::Target as Target<M::Elem>>::Data::default();
    let mut scores = Scores::default();
    model.set_training(false);
    let mut sum = 0.0;
    let n = data.len();
    let mut start = 0;
    let mut batch: Vec<usize> = Vec::with_capacity(batch_size.min(n));
    while start < n {
        let end = (start + batch_size).min(n);
        batch.clear();
        batch.extend(start..end);
        gather_rows(inputs, &batch, model.input_buffer(batch.len()));
        <M::Target as Target<M::Elem>>::gather(data.targets(), &batch, &mut targets);
        let view = <M::Target as Target<M::Elem>>::view(&targets, batch.len());
        let out = model.forward_buffered();
        if scores_wanted {
            <M::Target as Target<M::Elem>>::score(out, view, M::TASK, &mut scores);
        }
        let loss = model.compute_loss(view, false);
        sum += loss.to_f64() * batch.len() as f64;
        start = end;
    }
    model.set_training(true);
    (sum / n as f64, scores)
}

/// The batch size of [`Train::evaluate`](super::Train::evaluate): 32
/// samples, as Keras's `evaluate` uses when none is given. Evaluation
/// changes no weight, so the batch size changes only the rounding of the
/// sums (and, for batch norm in evaluation mode, nothing at all).
pub const EVALUATE_BATCH: usize = 32;

/// What [`Train::evaluate`](super::Train::evaluate) measures over a
/// dataset in evaluation mode: the sample-weighted mean loss and every
/// metric of the model's task (accuracy for classifiers; MAE, RMSE and R²
/// for regressors).
///
/// ```
/// # use macrograd_runtime as macrograd;
/// use macrograd::metrics::Metric;
/// use macrograd::train::Evaluation;
/// let e = Evaluation { loss: 0.25, metrics: vec![(Metric::Accuracy, 0.9)] };
/// assert_eq!(e.accuracy(), Some(0.9));
/// assert_eq!(e.get(Metric::MAE), None);
/// assert_eq!(e.to_string(), "loss 0.2500, acc 0.9000");
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Evaluation {
    /// The mean loss per sample, as the loss of a batch of all of them.
    pub loss: f64,
    /// Each metric of the task with its value: accuracy for a classifier;
    /// MAE, RMSE and R² for a regressor.
    pub metrics: Vec<(Metric, f64)>,
}

impl Evaluation {
    /// The value of `metric`, if the task has it.
    pub fn get(&self, metric: Metric) -> Option<f64> {
        self.metrics
            .iter()
            .find(|(m, _)| *m == metric)
            .map(|&(_, v)| v)
    }

    /// The fraction of correct predictions, for a classifier.
    pub fn accuracy(&self) -> Option<f64> {
        self.get(Metric::Accuracy)
    }
}

impl std::fmt::Display for Evaluation {
    /// `loss 0.1234, acc 0.9667` (names as in the history's JSON).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "loss {:.4}", self.loss)?;
        for (metric, value) in &self.metrics {
            write!(f, ", {} {value:.4}", metric.name())?;
        }
        Ok(())
    }
}

/// [`Train::evaluate_batched`](super::Train::evaluate_batched) as a
/// function: evaluation mode during the passes, training mode after.
///
/// # Errors
///
/// An empty dataset, a batch size of 0, or data that does not match the
/// model (as `fit`'s checks, BCE targets outside `[0, 1]` included).
pub fn evaluate<M: Model, D: Target<M::Elem>>(
    model: &mut M,
    data: &Dataset<M::Elem, D>,
    batch_size: usize,
) -> Result<Evaluation>
where
    M::Target: TrainsOn<M::Elem, D>,
{
    let data = &*super::targets::adapt::<M, D>(data)?;
    check_data(model, data)?;
    if batch_size == 0 {
        return Err(Error::InvalidSetting {
            name: "batch_size",
            message: "expected at least 1 sample per batch, found 0".into(),
        });
    }
    let (loss, scores) = evaluate_scores(model, data, batch_size, true);
    let metrics = Metric::ALL
        .iter()
        .filter(|m| m.applies_to(M::TASK))
        .filter_map(|&m| scores.get(m).map(|v| (m, v)))
        .collect();
    Ok(Evaluation { loss, metrics })
}
