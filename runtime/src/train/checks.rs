//! The checks before the first batch (settings against the model and the
//! data) and of what a schedule sets during the run.

use super::Fit;
use crate::data::Dataset;
use crate::history::Monitor;
use crate::metrics::Metric;
use crate::model::Model;
use crate::schedule::Setting;
use crate::target::Target;
use crate::{Error, Result};

pub(super) fn check_monitor(
    monitor: Monitor,
    has_validation: bool,
    metrics: &[Metric],
) -> Result<()> {
    let problem = match monitor {
        Monitor::ValLoss | Monitor::ValMetric(_) if !has_validation => {
            Some("needs validation data (validation_split or validation_data)".to_string())
        }
        Monitor::Metric(m) | Monitor::ValMetric(m) if !metrics.contains(&m) => {
            Some(format!("needs {m} among the metrics"))
        }
        _ => None,
    };
    match problem {
        Some(p) => Err(Error::InvalidSetting {
            name: "early_stopping",
            message: format!("watching {monitor} {p}"),
        }),
        None => Ok(()),
    }
}

pub(super) fn short_type_name<X>() -> &'static str {
    let full = std::any::type_name::<X>();
    full.rsplit("::").next().unwrap_or(full)
}

/// Sets what a schedule's `start` or `step` (`call`) returned, if the
/// optimizer's declaration could hold it: a finite learning rate `>= 0`
/// and a finite momentum `>= 0` (a checkpoint holding anything else would
/// not load).
pub(super) fn apply<M: Model>(model: &mut M, setting: Setting, call: &str) -> Result<()> {
    let invalid = |what: &str, value: f64| Error::InvalidSetting {
        name: "schedule",
        message: format!(
            "its `{call}` set the {what} to {value}; expected a finite number >= 0 \
             (the model keeps the weights of the last update)"
        ),
    };
    if !(setting.lr.is_finite() && setting.lr >= 0.0) {
        return Err(invalid("learning rate", setting.lr));
    }
    if let Some(m) = setting.momentum {
        if !(m.is_finite() && m >= 0.0) {
            return Err(invalid("momentum", m));
        }
    }
    model.set_learning_rate(setting.lr);
    if let Some(m) = setting.momentum {
        model.set_momentum(m);
    }
    Ok(())
}

/// Checks `data` against the model: its widths, its labels, target values
/// the loss reads (BCE's in `[0, 1]`), and, when the model scales its
/// inputs, that every scaled value is finite.
pub(super) fn check_data<M: Model>(model: &M, data: &Dataset<M::Elem, M::Target>) -> Result<()> {
    data.check_for(M::INPUTS, M::OUTPUTS)?;
    <M::Target as Target<M::Elem>>::check_values(data.targets(), M::TASK)?;
    check_category_columns::<M>(data.categories())?;
    crate::data::check_categories(data.inputs(), M::CATEGORIES)?;
    model
        .preprocessing()
        .check_except(data.inputs(), M::CATEGORIES)
}

/// A model with batch statistics over single values per channel (batch
/// norm after flat features, or after 1 x 1 images) cannot train on a
/// batch of one sample (PyTorch raises "expected more than 1 value per
/// channel when training"): such a batch is an error before training, not
/// a panic in the middle of it.
pub(super) fn check_batch_statistics<M: Model>(fit: &Fit<'_>, samples: usize) -> Result<()> {
    let needed = M::MIN_TRAINING_BATCH;
    let batch = fit.batch_size.min(samples);
    let tail = samples % batch;
    let (smallest, which) = if tail != 0 && !fit.drop_last {
        (tail, "the last batch")
    } else {
        (batch, "every batch")
    };
    if smallest >= needed {
        return Ok(());
    }
    Err(Error::InvalidSetting {
        name: "batch_size",
        message: format!(
            "the model's batch norm needs at least {needed} samples per training batch, but \
             {samples} samples in batches of {batch} leave {which} with {smallest}; use \
             drop_last(true) or another batch size"
        ),
    })
}

/// Data that says which of its columns hold categories ([`Csv`]'s text
/// categories) must agree with the model's category inputs: the same
/// columns, each with no more names than the input has categories. A
/// column order that differs from the model's inputs is caught here.
///
/// [`Csv`]: crate::data::Csv
fn check_category_columns<M: Model>(data: &[(usize, crate::data::Labels)]) -> Result<()> {
    if data.is_empty() {
        return Ok(());
    }
    let invalid = |message: String| {
        Err(Error::InvalidSetting {
            name: "categories",
            message,
        })
    };
    for (column, names) in data {
        match M::CATEGORIES.iter().find(|(c, _)| c == column) {
            Some((_, n)) if names.len() <= *n => {}
            Some((_, n)) => {
                return invalid(format!(
                    "input column {column} of the data has {} categories, but the model's \
                     category input there has {n}",
                    names.len()
                ))
            }
            None => {
                return invalid(format!(
                    "input column {column} of the data holds categories, but the model reads \
                     a number there: put the columns in the order of the model's inputs \
                     (`Csv::features`)"
                ))
            }
        }
    }
    for (column, n) in M::CATEGORIES {
        if !data.iter().any(|(c, _)| c == column) {
            return invalid(format!(
                "the model reads categories ({n}) in input column {column}, but the data holds \
                 numbers there: put the columns in the order of the model's inputs \
                 (`Csv::features`)"
            ));
        }
    }
    Ok(())
}
