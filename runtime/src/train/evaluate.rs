//! The loss (and metric sums) of a model over a dataset in evaluation
//! mode: the validation after each epoch, and `evaluate`.

use super::checks::check_data;
use crate::data::Dataset;
use crate::distributed::{self, Collective};
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
    let (sum, scores) = evaluate_range(model, data, 0..data.len(), batch_size, scores_wanted);
    (sum / data.len() as f64, scores)
}

/// [`evaluate_scores`] in a distributed run: each process evaluates its
/// share of the samples (contiguous, as [`distributed::shard`] cuts a
/// batch), and the sums are reduced in rank order.
pub(super) fn evaluate_shard<M: Model>(
    model: &mut M,
    data: &Dataset<M::Elem, M::Target>,
    batch_size: usize,
    scores_wanted: bool,
    world: &dyn Collective,
) -> (f64, Scores) {
    let (start, end) = distributed::shard(data.len(), world.rank(), world.size());
    let (sum, mut scores) = evaluate_range(model, data, start..end, batch_size, scores_wanted);
    let mut total = [sum];
    distributed::sum_f64(world, &mut total);
    scores.reduce(world);
    (total[0] / data.len() as f64, scores)
}

/// The summed loss (each batch's mean times its samples) and the metric
/// sums over the samples `range` of `data`, in evaluation mode.
fn evaluate_range<M: Model>(
    model: &mut M,
    data: &Dataset<M::Elem, M::Target>,
    range: std::ops::Range<usize>,
    batch_size: usize,
    scores_wanted: bool,
) -> (f64, Scores) {
    let inputs = data.inputs();
    let mut targets = <M::Target as Target<M::Elem>>::Data::default();
    let mut scores = Scores::default();
    model.set_training(false);
    let mut sum = 0.0;
    let n = range.end;
    let mut start = range.start;
    let mut batch: Vec<usize> = Vec::with_capacity(batch_size.min(n - start));
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
    (sum, scores)
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
