//! The two kinds of training targets, chosen by the loss.
//!
//! [`Rows`]: one float row per sample, as wide as the model's output (MSE,
//! L1, Huber, BCE). [`Classes`]: one class index per sample (CrossEntropy).
//! A model's target kind is a type, so passing class indices to a regression
//! model, or the reverse, does not compile.
//!
//! ```
//! # use macrograd_runtime as macrograd;
//! use macrograd::target::{Classes, Target};
//! let labels = vec![2, 0, 1];
//! let mut batch = Vec::new();
//! <Classes as Target<f32>>::gather(&labels, &[2, 0], &mut batch);
//! assert_eq!(<Classes as Target<f32>>::view(&batch, 2), &[1, 2]);
//! ```

use std::fmt::Debug;

use ndarray::{s, Array2, ArrayView2};

use crate::metrics::{Scores, Task};
use crate::Float;

/// Float rows: `[samples, outputs]`.
#[derive(Clone, Copy, Debug, Default)]
pub struct Rows;

/// Class indices: one `usize` in `0..classes` per sample.
#[derive(Clone, Copy, Debug, Default)]
pub struct Classes;

/// How targets of one kind are stored, batched and checked.
pub trait Target<T: Float>: Sized + 'static {
    /// A borrowed batch of targets, as the loss reads it.
    type Batch<'a>: Copy
    where
        T: 'a;
    /// Owned storage for a whole dataset's targets (also used as the
    /// reusable buffer a batch is gathered into).
    type Data: Clone + Debug + Default + Send + Sync;

    /// Number of samples in `data`.
    fn len(data: &Self::Data) -> usize;

    /// Number of samples in a batch.
    fn batch_len(batch: Self::Batch<'_>) -> usize;

    /// Copies the samples `indices` of `data` into the first
    /// `indices.len()` samples of `buffer`, growing it only when it is too
    /// small (or, for rows, of another width).
    ///
    /// # Panics
    ///
    /// If an index is out of range.
    fn gather(data: &Self::Data, indices: &[usize], buffer: &mut Self::Data);

    /// The first `samples` samples of `data` as a batch.
    ///
    /// # Panics
    ///
    /// If `data` holds fewer than `samples` samples.
    fn view(data: &Self::Data, samples: usize) -> Self::Batch<'_>;

    /// Checks `data` against a model with `outputs` outputs: the width of
    /// rows, or the range of class indices.
    ///
    /// # Errors
    ///
    /// [`Error::TargetWidth`](crate::Error::TargetWidth) for rows of
    /// another width; [`Error::LabelOutOfRange`](crate::Error::LabelOutOfRange)
    /// naming the first sample whose class index is not below `outputs`.
    fn check(data: &Self::Data, outputs: usize) -> Result<(), crate::Error>;

    /// Feeds every target's bits to `hasher`, in order: how the processes
    /// of a distributed run check that they hold the same data.
    fn digest(data: &Self::Data, hasher: &mut crc32fast::Hasher);

    /// The targets of this kind that class `labels` stand for, for a model
    /// of `task` with `outputs` outputs: the labels themselves for
    /// [`Classes`]; for [`Rows`], a one-output BCE model's targets 0.0 and
    /// 1.0 (a two-class dataset trains a binary classifier directly).
    ///
    /// # Errors
    ///
    /// [`Error::LabelOutOfRange`](crate::Error::LabelOutOfRange) for a
    /// label other than 0 or 1 given to a BCE model;
    /// [`Error::InvalidSetting`](crate::Error::InvalidSetting) (`targets`)
    /// for any other model with rows of targets, naming what to build
    /// instead.
    fn from_labels(
        labels: &[usize],
        task: Task,
        outputs: usize,
    ) -> Result<Self::Data, crate::Error>;

    /// Checks that the loss of `task` can read every target value. Only
    /// BCE constrains its float targets: probabilities in `[0, 1]`
    /// (outside, its loss goes negative and has no minimum).
    ///
    /// # Errors
    ///
    /// [`Error::TargetOutOfRange`](crate::Error::TargetOutOfRange) naming
    /// the first value that the loss cannot read.
    fn check_values(data: &Self::Data, task: Task) -> Result<(), crate::Error> {
        let _ = (data, task);
        Ok(())
    }

    /// Adds the predictions `output` of a batch against its targets to the
    /// metric sums, reading the outputs as `task` says.
    fn score(output: ArrayView2<'_, T>, batch: Self::Batch<'_>, task: Task, scores: &mut Scores);
}

impl<T: Float> Target<T> for Rows {
    type Batch<'a> = ArrayView2<'a, T>;
    fn digest(data: &Self::Data, hasher: &mut crc32fast::Hasher) {
        for v in data.iter() {
            hasher.update(&Float::to_f64(*v).to_le_bytes());
        }
    }

    type Data = Array2<T>;

    fn len(data: &Array2<T>) -> usize {
        data.nrows()
    }

    fn batch_len(batch: ArrayView2<'_, T>) -> usize {
        batch.nrows()
    }

    fn gather(data: &Array2<T>, indices: &[usize], buffer: &mut Array2<T>) {
        if buffer.nrows() < indices.len() || buffer.ncols() != data.ncols() {
            *buffer = Array2::zeros((indices.len(), data.ncols()));
        }
        crate::gather::gather_rows(data.view(), indices, buffer.view_mut());
    }

    fn view(data: &Array2<T>, samples: usize) -> ArrayView2<'_, T> {
        data.slice(s![..samples, ..])
    }

    fn check(data: &Array2<T>, outputs: usize) -> Result<(), crate::Error> {
        if data.ncols() != outputs {
            return Err(crate::Error::TargetWidth {
                expected: outputs,
                found: data.ncols(),
            });
        }
        Ok(())
    }

    fn from_labels(
        labels: &[usize],
        task: Task,
        outputs: usize,
    ) -> Result<Array2<T>, crate::Error> {
        if task != Task::Binary || outputs != 1 {
            return Err(crate::Error::InvalidSetting {
                name: "targets",
                message: format!(
                    "class labels train a CrossEntropy model, or a BCE model with one \
                     output; this model ({task:?}, {outputs} outputs) takes rows of {outputs} \
                     numbers per sample: build its data with `Dataset::regression`"
                ),
            });
        }
        if let Some(row) = labels.iter().position(|&label| label > 1) {
            return Err(crate::Error::LabelOutOfRange {
                row,
                label: labels[row],
                classes: 2,
            });
        }
        Ok(Array2::from_shape_fn((labels.len(), 1), |(i, _)| {
            T::of(labels[i] as f64)
        }))
    }

    fn check_values(data: &Array2<T>, task: Task) -> Result<(), crate::Error> {
        if task != Task::Binary {
            return Ok(());
        }
        let outside = data
            .indexed_iter()
            .find(|(_, &v)| !(v >= T::zero() && v <= T::one()));
        match outside {
            Some(((row, column), &value)) => Err(crate::Error::TargetOutOfRange {
                row,
                column,
                value: value.to_f64(),
                expected: "[0, 1], which BCE needs",
            }),
            None => Ok(()),
        }
    }

    fn score(output: ArrayView2<'_, T>, batch: ArrayView2<'_, T>, task: Task, scores: &mut Scores) {
        for (&p, &y) in output.iter().zip(batch.iter()) {
            scores.add_value(task, p.to_f64(), y.to_f64());
        }
    }
}

impl<T: Float> Target<T> for Classes {
    type Batch<'a> = &'a [usize];
    fn digest(data: &Self::Data, hasher: &mut crc32fast::Hasher) {
        for &label in data {
            hasher.update(&(label as u64).to_le_bytes());
        }
    }

    type Data = Vec<usize>;

    fn len(data: &Vec<usize>) -> usize {
        data.len()
    }

    fn batch_len(batch: &[usize]) -> usize {
        batch.len()
    }

    fn gather(data: &Vec<usize>, indices: &[usize], buffer: &mut Vec<usize>) {
        buffer.clear();
        buffer.extend(indices.iter().map(|&i| data[i]));
    }

    fn view(data: &Vec<usize>, samples: usize) -> &[usize] {
        &data[..samples]
    }

    fn from_labels(labels: &[usize], _: Task, _: usize) -> Result<Vec<usize>, crate::Error> {
        Ok(labels.to_vec())
    }

    fn check(data: &Vec<usize>, outputs: usize) -> Result<(), crate::Error> {
        match data.iter().position(|&label| label >= outputs) {
            Some(row) => Err(crate::Error::LabelOutOfRange {
                row,
                label: data[row],
                classes: outputs,
            }),
            None => Ok(()),
        }
    }

    fn score(output: ArrayView2<'_, T>, batch: &[usize], _: Task, scores: &mut Scores) {
        for (row, &label) in output.rows().into_iter().zip(batch) {
            scores.judged += 1.0;
            if crate::metrics::predicted_class(row) == label {
                scores.correct += 1.0;
            }
        }
    }
}

/// The datasets a model whose targets are of kind `Self` trains and is
/// evaluated on: datasets of its own kind, and class labels for a model
/// of [`Rows`] (a two-class dataset, such as
/// [`breast_cancer`](crate::datasets::breast_cancer), trains a BCE model
/// with one output directly: labels 0 and 1 are its targets 0.0 and 1.0;
/// any other model of rows refuses labels with an error before training).
/// Rows of numbers never train a CrossEntropy model: that does not compile.
#[diagnostic::on_unimplemented(
    message = "a model with `{Self}` targets does not train on a dataset of `{D}` targets",
    label = "a dataset of `{D}` targets",
    note = "a CrossEntropy model trains on class labels: build its data with \
            `Dataset::classification`; regression and BCE models take rows of numbers \
            (`Dataset::regression`), and a one-output BCE model takes labels 0 and 1 too"
)]
pub trait TrainsOn<T: Float, D: Target<T>>: Target<T> {}

impl<T: Float, K: Target<T>> TrainsOn<T, K> for K {}
impl<T: Float> TrainsOn<T, Classes> for Rows {}

/// Anything that can be read as a batch of targets of kind `K`: for
/// [`Rows`] an `&Array2`, an `ArrayView2` or `&[[T; N]]`; for [`Classes`]
/// an `&[usize]`, `&Vec<usize>` or `&[usize; N]`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be used as `{K}` targets",
    label = "expected targets of kind `{K}` here",
    note = "a model with `loss CrossEntropy` takes class indices (`&[usize]`, `&Vec<usize>`); the other losses take float rows (`&Array2`, an `ArrayView2` or `&[[T; N]]`) as wide as the model's output"
)]
pub trait IntoTargets<'a, T: Float, K: Target<T>> {
    /// The borrowed batch.
    fn into_targets(self) -> K::Batch<'a>;
}

impl<'a, T: Float> IntoTargets<'a, T, Rows> for ArrayView2<'a, T> {
    fn into_targets(self) -> ArrayView2<'a, T> {
        self
    }
}

impl<'a, T: Float> IntoTargets<'a, T, Rows> for &'a Array2<T> {
    fn into_targets(self) -> ArrayView2<'a, T> {
        self.view()
    }
}

impl<'a, T: Float, const N: usize> IntoTargets<'a, T, Rows> for &'a [[T; N]] {
    fn into_targets(self) -> ArrayView2<'a, T> {
        ArrayView2::from(self)
    }
}

impl<'a, T: Float> IntoTargets<'a, T, Classes> for &'a [usize] {
    fn into_targets(self) -> &'a [usize] {
        self
    }
}

impl<'a, T: Float> IntoTargets<'a, T, Classes> for &'a Vec<usize> {
    fn into_targets(self) -> &'a [usize] {
        self
    }
}

impl<'a, T: Float, const N: usize> IntoTargets<'a, T, Classes> for &'a [usize; N] {
    fn into_targets(self) -> &'a [usize] {
        self
    }
}

#[cfg(test)]
mod score_tests {
    //! The metrics as the targets score them.
    use super::*;
    use crate::metrics::{Metric, Scores, Task};
    use ndarray::array;

    #[test]
    fn regression_metrics_match_their_definitions() {
        let pred = array![[1.0f64], [2.0], [4.0]];
        let y = array![[1.5f64], [2.0], [3.0]];
        let mut s = Scores::default();
        <Rows as Target<f64>>::score(pred.view(), y.view(), Task::Regression, &mut s);
        assert_eq!(s.get(Metric::MAE), Some(0.5));
        assert_eq!(s.get(Metric::RMSE), Some((1.25f64 / 3.0).sqrt()));
        // mean 6.5/3; SST = 1.5^2 + 2^2 + 3^2 - 6.5^2/3
        let sst = 2.25 + 4.0 + 9.0 - 6.5 * 6.5 / 3.0;
        let r2 = s.get(Metric::R2).unwrap();
        assert!((r2 - (1.0 - 1.25 / sst)).abs() < 1e-12, "{r2}");
        assert_eq!(s.get(Metric::Accuracy), None);
    }

    #[test]
    fn binary_accuracy_thresholds_logits_at_zero() {
        let logits = array![[0.3f32, -2.0], [-0.1, 4.0]];
        let y = array![[1.0f32, 0.0], [1.0, 1.0]];
        let mut s = Scores::default();
        <Rows as Target<f32>>::score(logits.view(), y.view(), Task::Binary, &mut s);
        assert_eq!(s.get(Metric::Accuracy), Some(0.75));
    }

    #[test]
    fn ties_pick_the_first_class() {
        let logits = array![[1.0f32, 1.0, 0.0]];
        let mut s = Scores::default();
        <Classes as Target<f32>>::score(logits.view(), &[0], Task::Multiclass, &mut s);
        assert_eq!(s.get(Metric::Accuracy), Some(1.0));
    }
}
