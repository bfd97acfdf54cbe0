//! A dataset whose targets are of another kind than the model's, read as
//! the model's: class labels 0 and 1 for a BCE model with one output
//! ([`TrainsOn`](crate::target::TrainsOn) says which kinds compile).

use std::any::Any;
use std::ops::Deref;

use crate::data::Dataset;
use crate::model::Model;
use crate::target::{Classes, Target};
use crate::{Float, Result};

/// The model's own kind of dataset: the one given, or its conversion.
pub(super) enum Adapted<'a, T: Float, K: Target<T>> {
    Same(&'a Dataset<T, K>),
    Converted(Dataset<T, K>),
}

impl<T: Float, K: Target<T>> Deref for Adapted<'_, T, K> {
    type Target = Dataset<T, K>;

    fn deref(&self) -> &Dataset<T, K> {
        match self {
            Adapted::Same(data) => data,
            Adapted::Converted(data) => data,
        }
    }
}

/// `data` as a dataset of `M`'s kind. Datasets of the model's own kind are
/// used as they are; class labels are converted by
/// [`Target::from_labels`] (a copy of the inputs, made once before
/// training).
///
/// # Errors
///
/// What [`Target::from_labels`] refuses (labels other than 0 and 1 for a
/// BCE model, labels for a regressor).
pub(super) fn adapt<'a, M: Model, D: Target<M::Elem>>(
    data: &'a Dataset<M::Elem, D>,
) -> Result<Adapted<'a, M::Elem, M::Target>> {
    adapt_any::<M>(data).unwrap_or_else(|| {
        unreachable!("`TrainsOn` admits a model's own kind and class labels only")
    })
}

/// [`adapt`] for a dataset known only as `dyn Any` (validation data):
/// `None` if it is neither of the model's kind nor class labels with the
/// model's element type.
pub(super) fn adapt_any<M: Model>(
    data: &dyn Any,
) -> Option<Result<Adapted<'_, M::Elem, M::Target>>> {
    if let Some(same) = data.downcast_ref::<Dataset<M::Elem, M::Target>>() {
        return Some(Ok(Adapted::Same(same)));
    }
    let labels = data.downcast_ref::<Dataset<M::Elem, Classes>>()?;
    Some(
        <M::Target as Target<M::Elem>>::from_labels(labels.targets(), M::TASK, M::OUTPUTS).map(
            |targets| {
                let inputs = labels.inputs().to_owned();
                let categories = labels.categories().to_vec();
                Adapted::Converted(Dataset::from_checked_parts(inputs, targets, categories))
            },
        ),
    )
}
