//! Datasets: input rows and their targets, checked once when built; CSV
//! loading, preprocessing fitted on training data, and seeded splits.
//!
//! A [`Dataset`] holds `[samples, features]` inputs and targets of the kind
//! the model's loss takes: float rows ([`Rows`]) or class indices
//! ([`Classes`]). Building one checks that the counts agree and that every
//! value is finite, and the error names the sample and column.
//!
//! ```
//! # use macrograd_runtime as macrograd;
//! use macrograd::data::Dataset;
//! use ndarray::array;
//! let data = Dataset::regression(array![[1.0_f32, 2.0], [3.0, 4.0]], array![[1.0], [0.0]])?;
//! assert_eq!(data.len(), 2);
//! let bad = Dataset::regression(array![[1.0_f32, f32::NAN]], array![[1.0]]);
//! assert!(bad.unwrap_err().to_string().contains("sample 0, column 1"));
//! # Ok::<(), macrograd::Error>(())
//! ```
//!
//! The rest of the way in:
//!
//! - [`Csv`] reads a file (or any reader) into a dataset; class labels may
//!   be integers (read exactly from their digits) or names, `nan` included
//!   ([`Labels`] keeps the mapping). Every error names the file and, where
//!   they apply, the line, column and value.
//! - [`Standardize`] (`(x - mean) / std`) and [`MinMax`] (`(x - min) /
//!   (max - min)`) are fitted on the training data and then applied,
//!   unchanged, to validation and test data; [`one_hot`] turns class indices
//!   into rows. Any finite data gives finite statistics, correct to
//!   rounding, values near `f64::MAX` or among the subnormals included; a
//!   transformed value that is not finite is an error, and nothing is
//!   written then.
//! - [`Preprocessing`] is a scaler and class names that a model keeps,
//!   applies to raw rows itself, and saves with its weights: what ships.
//! - [`Dataset::shuffled`], [`Dataset::train_test_split`],
//!   [`Dataset::split3`] and, for classes, the stratified variants
//!   ([`Dataset::stratified_split`], ...) that split every class in the
//!   same proportion. One seed always gives the same parts.
//!
//! ```
//! # use macrograd_runtime as macrograd;
//! use macrograd::data::{Csv, Standardize};
//! let text = "x,y,label\n1,2,cat\n3,4,dog\n5,6,cat\n7,8,dog\n";
//! let (data, labels) = Csv::from_reader("pets.csv", text.as_bytes()).classification::<f32>()?;
//! assert_eq!(labels.index("dog"), Some(1)); // names in sorted order
//! let (mut train, mut test) = data.stratified_train_test_split(0.5, 0)?;
//! let scaler = Standardize::fit(&train); // statistics of the training part only
//! scaler.transform(&mut train)?;
//! scaler.transform(&mut test)?;
//! assert_eq!((train.len(), test.len()), (2, 2));
//! # Ok::<(), macrograd::Error>(())
//! ```

mod csv;
mod pipeline;
mod preprocess;
mod split;

pub use self::csv::{Csv, Labels, Missing, MISSING_CATEGORY};
pub use self::pipeline::{Preprocessing, Scaler};
pub use self::preprocess::{one_hot, Inputs, MinMax, Standardize};
pub use crate::error::CsvError;

use ndarray::{Array2, ArrayView2};

use crate::gather::gather_rows;
use crate::target::{Classes, Rows, Target};
use crate::{Error, Float, Result};

/// Inputs and targets for training or evaluation.
#[derive(Clone, Debug)]
pub struct Dataset<T: Float, K: Target<T>> {
    inputs: Array2<T>,
    targets: K::Data,
    /// `(input column, names)` of the columns that hold category indices.
    categories: Vec<(usize, Labels)>,
}

fn check_finite<T: Float>(what: &'static str, values: ArrayView2<'_, T>) -> Result<()> {
    for ((row, column), &value) in values.indexed_iter() {
        if !value.is_finite() {
            return Err(Error::NonFinite {
                what,
                row,
                column,
                value: value.to_f64(),
            });
        }
    }
    Ok(())
}

/// The same matrix, stored row-major (batches are gathered row by row).
fn row_major<T: Float>(a: Array2<T>) -> Array2<T> {
    if a.is_standard_layout() {
        a
    } else {
        a.as_standard_layout().into_owned()
    }
}

fn check_count(inputs: usize, targets: usize) -> Result<()> {
    if inputs != targets {
        return Err(Error::SampleCount { inputs, targets });
    }
    Ok(())
}

impl<T: Float> Dataset<T, Rows> {
    /// Regression (or multi-label) data: `targets` has one row per input row.
    ///
    /// # Errors
    ///
    /// [`Error::SampleCount`] if the row counts differ; [`Error::NonFinite`]
    /// for a NaN or infinity, naming the sample and column.
    pub fn regression(inputs: Array2<T>, targets: Array2<T>) -> Result<Self> {
        let (inputs, targets) = (row_major(inputs), row_major(targets));
        check_count(inputs.nrows(), targets.nrows())?;
        check_finite("inputs", inputs.view())?;
        check_finite("targets", targets.view())?;
        Ok(Dataset {
            inputs,
            targets,
            categories: Vec::new(),
        })
    }

    /// Regression data from fixed-width rows.
    ///
    /// # Errors
    ///
    /// As [`Dataset::regression`].
    pub fn from_rows<const N: usize, const M: usize>(
        inputs: &[[T; N]],
        targets: &[[T; M]],
    ) -> Result<Self> {
        Self::regression(
            ArrayView2::from(inputs).to_owned(),
            ArrayView2::from(targets).to_owned(),
        )
    }
}

impl<T: Float> Dataset<T, Classes> {
    /// Classification data: one class index per input row.
    ///
    /// # Errors
    ///
    /// [`Error::SampleCount`] if the counts differ; [`Error::NonFinite`] for
    /// a NaN or infinity in the inputs. Labels are checked against the
    /// model's class count when training starts.
    pub fn classification(inputs: Array2<T>, labels: Vec<usize>) -> Result<Self> {
        let inputs = row_major(inputs);
        check_count(inputs.nrows(), labels.len())?;
        check_finite("inputs", inputs.view())?;
        Ok(Dataset {
            inputs,
            targets: labels,
            categories: Vec::new(),
        })
    }

    /// Classification data from fixed-width rows.
    ///
    /// # Errors
    ///
    /// As [`Dataset::classification`].
    pub fn from_rows<const N: usize>(inputs: &[[T; N]], labels: &[usize]) -> Result<Self> {
        Self::classification(ArrayView2::from(inputs).to_owned(), labels.to_vec())
    }
}

impl<T: Float, K: Target<T>> Dataset<T, K> {
    /// Number of samples.
    pub fn len(&self) -> usize {
        self.inputs.nrows()
    }

    /// Whether there are no samples.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Features per sample.
    pub fn features(&self) -> usize {
        self.inputs.ncols()
    }

    /// The inputs, `[samples, features]`.
    pub fn inputs(&self) -> ArrayView2<'_, T> {
        self.inputs.view()
    }

    /// The targets.
    pub fn targets(&self) -> &K::Data {
        &self.targets
    }

    /// A dataset of inputs and targets that were checked already (those of
    /// another dataset, its targets read as another kind).
    pub(crate) fn from_checked_parts(
        inputs: Array2<T>,
        targets: K::Data,
        categories: Vec<(usize, Labels)>,
    ) -> Self {
        Dataset {
            inputs,
            targets,
            categories,
        }
    }

    /// The input columns that hold class indices of text categories, with
    /// their names: `(column, names)`, as [`Csv::categories`] reads them
    /// (index `i` of a column is `names.name(i)`). Empty unless set.
    pub fn categories(&self) -> &[(usize, Labels)] {
        &self.categories
    }

    /// The same data, with input `column` of each `(column, names)` of
    /// `categories` holding class indices of those names.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidSetting`] (`categories`) for a column beyond the
    /// inputs or named twice; [`Error::NotACategory`] for a value of such a
    /// column that is not a whole number below its number of names.
    pub fn with_categories(mut self, categories: Vec<(usize, Labels)>) -> Result<Self> {
        for (k, (column, names)) in categories.iter().enumerate() {
            if *column >= self.features() || categories[..k].iter().any(|(c, _)| c == column) {
                return Err(Error::InvalidSetting {
                    name: "categories",
                    message: format!(
                        "column {column} is beyond the {} input columns, or named twice",
                        self.features()
                    ),
                });
            }
            check_categories(self.inputs.view(), &[(*column, names.len())])?;
        }
        self.categories = categories;
        Ok(self)
    }

    /// The inputs and the targets, taken apart (to transform the targets,
    /// say, and build a new dataset from them).
    pub fn into_parts(self) -> (Array2<T>, K::Data) {
        (self.inputs, self.targets)
    }

    /// The samples `indices`, in that order, as a new dataset.
    ///
    /// # Panics
    ///
    /// If an index is out of range.
    pub fn subset(&self, indices: &[usize]) -> Self {
        let mut inputs = Array2::zeros((indices.len(), self.features()));
        gather_rows(self.inputs.view(), indices, inputs.view_mut());
        let mut targets = K::Data::default();
        K::gather(&self.targets, indices, &mut targets);
        Dataset {
            inputs,
            targets,
            categories: self.categories.clone(),
        }
    }

    /// Splits off a random `fraction` of the samples: returns `(rest,
    /// held_out)`, each in stored order. The held-out samples are the first
    /// `round(fraction * len)` entries of a permutation of `0..len` drawn
    /// from `Rng::new(seed)`, so one seed always holds out the same rows.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidSetting`] if `fraction` is not inside (0, 1) or
    /// leaves one side without samples.
    pub fn split(&self, fraction: f64, seed: u64) -> Result<(Self, Self)> {
        let (rest, held_out) = split::random(self.len(), fraction, seed, "validation_split")?;
        Ok((self.subset(&rest), self.subset(&held_out)))
    }

    /// Checks the data against a model with `inputs` features and `outputs`
    /// outputs (target width or class count).
    ///
    /// # Errors
    ///
    /// [`Error::EmptyDataset`], [`Error::InputWidth`], [`Error::TargetWidth`]
    /// or [`Error::LabelOutOfRange`].
    pub fn check_for(&self, inputs: usize, outputs: usize) -> Result<()> {
        if self.is_empty() {
            return Err(Error::EmptyDataset);
        }
        if self.features() != inputs {
            return Err(Error::InputWidth {
                expected: inputs,
                found: self.features(),
            });
        }
        K::check(&self.targets, outputs)
    }
}

/// Checks that every value of the `(column, n)` columns of `inputs` is a
/// whole number below `n`: a model's `CATEGORIES`.
///
/// # Errors
///
/// [`Error::NotACategory`] naming the first sample and column that is not.
pub fn check_categories<T: Float>(
    inputs: ArrayView2<'_, T>,
    categories: &[(usize, usize)],
) -> Result<()> {
    for &(column, n) in categories {
        for (row, &x) in inputs.column(column).iter().enumerate() {
            let value = x.to_f64();
            if !(value >= 0.0 && value.fract() == 0.0 && value < n as f64) {
                return Err(Error::NotACategory {
                    row,
                    column,
                    value,
                    categories: n,
                });
            }
        }
    }
    Ok(())
}
