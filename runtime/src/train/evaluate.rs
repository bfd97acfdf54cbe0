//! The loss (and metric sums) of a model over a dataset in evaluation
//! mode: the validation after each epoch, and `evaluate`.

use super::checks::check_data;
use crate::data::Dataset;
use crate::gather::gather_rows;
use crate::metrics::Scores;
use crate::model::Model;
use crate::target::Target;
use crate::{Error, Float, Result};

/// Loss and metric sums over `data` in evaluation mode; leaves the model
/// in evaluation mode.
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

/// The sample-weighted mean loss of `model` over `data` in evaluation mode.
/// Prefer [`Train::evaluate`](super::Train::evaluate).
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
    check_data::<M>(data)?;
    if batch_size == 0 {
        return Err(Error::InvalidSetting {
            name: "batch_size",
            message: "expected at least 1 sample per batch, found 0".into(),
        });
    }
    Ok(evaluate_scores(model, data, batch_size, false).0)
}
