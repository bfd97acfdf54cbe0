//! Preprocessing fitted on training data and applied, unchanged, to other
//! data: standardisation, min-max scaling, one-hot rows.
//!
//! Both scalers are per-column affine maps `x' = (x - offset) / scale`
//! whose `offset` and `scale` come from the data given to `fit`, and only
//! from it: fit on the training part, then transform the training,
//! validation and test parts with the same numbers, so nothing about the
//! test data leaks into training. Statistics are computed and kept in
//! `f64`, whatever the element type.
//!
//! ```
//! use macrograd_runtime::data::Standardize;
//! use ndarray::array;
//! let mut train = array![[1.0_f64, 5.0], [3.0, 5.0]];
//! let mut test = array![[5.0_f64, 6.0]];
//! let scaler = Standardize::fit(&train);
//! assert_eq!((scaler.mean(), scaler.scale()), (&[2.0, 5.0][..], &[1.0, 1.0][..]));
//! scaler.transform(&mut train)?;
//! scaler.transform(&mut test)?; // the training mean and deviation, not the test's
//! assert_eq!(train, array![[-1.0, 0.0], [1.0, 0.0]]);
//! assert_eq!(test, array![[3.0, 1.0]]);
//! # Ok::<(), macrograd_runtime::Error>(())
//! ```

use ndarray::{Array2, ArrayView2, ArrayViewMut2};

use super::Dataset;
use crate::target::Target;
use crate::{Error, Float, Result};

mod sealed {
    use ndarray::ArrayViewMut2;

    /// Write access to the inputs, for the transforms only: a
    /// [`Dataset`](super::Dataset)'s inputs stay finite because every
    /// transform checks its results before writing them.
    pub trait InputsMut<T> {
        fn inputs_mut(&mut self) -> ArrayViewMut2<'_, T>;
    }
}

/// What the scalers are fitted on and applied to: a [`Dataset`]'s inputs
/// (the targets are left alone) or a whole `Array2`.
pub trait Inputs<T: Float>: sealed::InputsMut<T> {
    /// The `[samples, columns]` values a scaler reads.
    fn input_view(&self) -> ArrayView2<'_, T>;
}

impl<T: Float, K: Target<T>> Inputs<T> for Dataset<T, K> {
    fn input_view(&self) -> ArrayView2<'_, T> {
        self.inputs.view()
    }
}

impl<T: Float, K: Target<T>> sealed::InputsMut<T> for Dataset<T, K> {
    fn inputs_mut(&mut self) -> ArrayViewMut2<'_, T> {
        self.inputs.view_mut()
    }
}

impl<T: Float> Inputs<T> for Array2<T> {
    fn input_view(&self) -> ArrayView2<'_, T> {
        self.view()
    }
}

impl<T: Float> sealed::InputsMut<T> for Array2<T> {
    fn inputs_mut(&mut self) -> ArrayViewMut2<'_, T> {
        self.view_mut()
    }
}

/// Applies `x' = (x - offset[j]) / scale[j]` (or its inverse) to every
/// column `j`. The results are checked first and written only if all are
/// finite, so on error the data is unchanged.
fn apply<T: Float, D: Inputs<T> + ?Sized>(
    transform: &'static str,
    offset: &[f64],
    scale: &[f64],
    data: &mut D,
    inverse: bool,
) -> Result<()> {
    let map = |x: T, j: usize| -> T {
        if inverse {
            T::of(x.to_f64() * scale[j] + offset[j])
        } else {
            T::of((x.to_f64() - offset[j]) / scale[j])
        }
    };
    let view = data.input_view();
    if view.ncols() != offset.len() {
        return Err(Error::FittedWidth {
            transform,
            fitted: offset.len(),
            found: view.ncols(),
        });
    }
    // PASS 1: every result finite?
    for ((row, column), &x) in view.indexed_iter() {
        let y = map(x, column);
        if !y.is_finite() {
            return Err(Error::NonFinite {
                what: "transformed inputs",
                row,
                column,
                value: y.to_f64(),
            });
        }
    }
    // PASS 2: write them.
    let mut view = data.inputs_mut();
    for ((_, column), x) in view.indexed_iter_mut() {
        *x = map(*x, column);
    }
    Ok(())
}

/// Per-column `(min, max)` in `f64`; `(0, 0)` for a column of no samples.
fn column_ranges<T: Float>(values: ArrayView2<'_, T>) -> Vec<(f64, f64)> {
    values
        .columns()
        .into_iter()
        .map(|column| {
            let mut it = column.iter().map(|&x| x.to_f64());
            let first = it.next().unwrap_or(0.0);
            it.fold((first, first), |(lo, hi), x| (lo.min(x), hi.max(x)))
        })
        .collect()
}

/// Standardisation: `x' = (x - mean) / std` per column, with the mean and
/// the population standard deviation (divided by `n`, as scikit-learn's
/// `StandardScaler`) of the data it was fitted on.
///
/// A column whose values are all equal (zero variance) is only centred: its
/// scale is 1, so it becomes all zeros on the training data instead of a
/// division by zero (scikit-learn does the same). Fitting on no samples
/// gives mean 0 and scale 1, the identity. A NaN in an array it is fitted on
/// makes that column's statistics NaN, which `transform` then reports.
#[derive(Clone, Debug, PartialEq)]
pub struct Standardize {
    mean: Vec<f64>,
    scale: Vec<f64>,
}

impl Standardize {
    /// The mean and standard deviation of each column of `data` (a
    /// [`Dataset`]'s inputs or an `Array2`), computed in `f64` in two passes.
    pub fn fit<T: Float, D: Inputs<T> + ?Sized>(data: &D) -> Self {
        let values = data.input_view();
        let n = values.nrows() as f64;
        let ranges = column_ranges(values);
        let mut mean = Vec::with_capacity(values.ncols());
        let mut scale = Vec::with_capacity(values.ncols());
        for (column, &(lo, hi)) in values.columns().into_iter().zip(&ranges) {
            if values.nrows() == 0 || lo == hi {
                // Constant: centre exactly on the value, do not scale.
                mean.push(lo);
                scale.push(1.0);
                continue;
            }
            // LOOP 1: the mean; LOOP 2: the variance around it.
            let m = column.iter().map(|&x| x.to_f64()).sum::<f64>() / n;
            let var = column
                .iter()
                .map(|&x| (x.to_f64() - m).powi(2))
                .sum::<f64>()
                / n;
            mean.push(m);
            scale.push(if var > 0.0 { var.sqrt() } else { 1.0 });
        }
        Standardize { mean, scale }
    }

    /// The fitted mean of each column.
    pub fn mean(&self) -> &[f64] {
        &self.mean
    }

    /// The fitted standard deviation of each column (1 for a constant one).
    pub fn scale(&self) -> &[f64] {
        &self.scale
    }

    /// Replaces every value `x` of column `j` by `(x - mean[j]) / scale[j]`.
    ///
    /// # Errors
    ///
    /// [`Error::FittedWidth`] if the data has another number of columns than
    /// the data it was fitted on; [`Error::NonFinite`] if a result is NaN or
    /// infinite (statistics fitted on a NaN, an overflow). On error the data
    /// is left unchanged.
    pub fn transform<T: Float, D: Inputs<T> + ?Sized>(&self, data: &mut D) -> Result<()> {
        apply("Standardize", &self.mean, &self.scale, data, false)
    }

    /// The inverse, `x * scale[j] + mean[j]`: back to the original units
    /// (for predictions of standardized targets, say).
    ///
    /// # Errors
    ///
    /// As [`Standardize::transform`].
    pub fn inverse_transform<T: Float, D: Inputs<T> + ?Sized>(&self, data: &mut D) -> Result<()> {
        apply("Standardize", &self.mean, &self.scale, data, true)
    }
}

/// Min-max scaling: `x' = (x - min) / (max - min)` per column, with the
/// minimum and maximum of the data it was fitted on, so that data maps to
/// `[0, 1]`; other data may fall outside.
///
/// A constant column (`max = min`) is only shifted: its range is taken as 1,
/// so it becomes all zeros on the training data. Fitting on no samples gives
/// the identity.
#[derive(Clone, Debug, PartialEq)]
pub struct MinMax {
    min: Vec<f64>,
    range: Vec<f64>,
}

impl MinMax {
    /// The minimum and maximum of each column of `data`.
    pub fn fit<T: Float, D: Inputs<T> + ?Sized>(data: &D) -> Self {
        let (min, range) = column_ranges(data.input_view())
            .into_iter()
            .map(|(lo, hi)| (lo, if hi > lo { hi - lo } else { 1.0 }))
            .unzip();
        MinMax { min, range }
    }

    /// The fitted minimum of each column.
    pub fn min(&self) -> &[f64] {
        &self.min
    }

    /// The fitted `max - min` of each column (1 for a constant one).
    pub fn range(&self) -> &[f64] {
        &self.range
    }

    /// Replaces every value `x` of column `j` by `(x - min[j]) / range[j]`.
    ///
    /// # Errors
    ///
    /// As [`Standardize::transform`].
    pub fn transform<T: Float, D: Inputs<T> + ?Sized>(&self, data: &mut D) -> Result<()> {
        apply("MinMax", &self.min, &self.range, data, false)
    }

    /// The inverse, `x * range[j] + min[j]`.
    ///
    /// # Errors
    ///
    /// As [`Standardize::transform`].
    pub fn inverse_transform<T: Float, D: Inputs<T> + ?Sized>(&self, data: &mut D) -> Result<()> {
        apply("MinMax", &self.min, &self.range, data, true)
    }
}

/// One row per label, `classes` wide, with a 1 in the label's column and 0
/// elsewhere: class indices as the float targets of a BCE or MSE model.
///
/// # Panics
///
/// If a label is not below `classes` (the message names the sample).
///
/// # Examples
///
/// ```
/// use macrograd_runtime::data::one_hot;
/// use ndarray::array;
/// assert_eq!(one_hot::<f32>(&[2, 0], 3), array![[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]);
/// ```
#[track_caller]
pub fn one_hot<T: Float>(labels: &[usize], classes: usize) -> Array2<T> {
    if let Some(row) = labels.iter().position(|&label| label >= classes) {
        panic!(
            "one_hot: class label {} of sample {row} is out of range for {classes} classes",
            labels[row]
        );
    }
    let mut out = Array2::zeros((labels.len(), classes));
    for (mut row, &label) in out.rows_mut().into_iter().zip(labels) {
        row[label] = T::one();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::target::Classes;
    use ndarray::array;

    #[test]
    fn data_standardize_uses_population_statistics() {
        let x = array![[1.0_f32, 10.0], [2.0, 10.0], [3.0, 10.0], [6.0, 10.0]];
        let s = Standardize::fit(&x);
        assert_eq!(s.mean(), &[3.0, 10.0]);
        // variance (4 + 1 + 0 + 9) / 4 = 3.5
        assert_eq!(s.scale(), &[3.5_f64.sqrt(), 1.0]);
        let mut y = x.clone();
        s.transform(&mut y).unwrap();
        assert_eq!(
            y.column(1).to_vec(),
            [0.0; 4],
            "constant column: centred only"
        );
        let mean: f32 = y.column(0).sum() / 4.0;
        let var: f32 = y.column(0).iter().map(|v| v * v).sum::<f32>() / 4.0;
        assert!(
            mean.abs() < 1e-6 && (var - 1.0).abs() < 1e-6,
            "{mean} {var}"
        );
        s.inverse_transform(&mut y).unwrap();
        for (a, b) in y.iter().zip(&x) {
            assert!((a - b).abs() < 1e-6);
        }
    }

    #[test]
    fn data_standardize_a_dataset_changes_inputs_only() {
        let mut d =
            Dataset::<f64, Classes>::classification(array![[0.0, 1.0], [2.0, 3.0]], vec![1, 0])
                .unwrap();
        let s = Standardize::fit(&d);
        s.transform(&mut d).unwrap();
        assert_eq!(d.inputs(), array![[-1.0, -1.0], [1.0, 1.0]]);
        assert_eq!(d.targets(), &[1, 0]);
    }

    #[test]
    fn data_transform_errors_leave_the_data_unchanged() {
        let s = Standardize::fit(&array![[0.0_f32, 1.0], [2.0, 3.0]]);
        let mut wide = Array2::<f32>::zeros((1, 3));
        let e = s.transform(&mut wide).unwrap_err().to_string();
        assert_eq!(
            e,
            "`Standardize` was fitted on 2 columns, but the data has 3"
        );
        // Fitted on 1e-30-wide data, 1e10 overflows f32.
        let tiny = MinMax::fit(&array![[0.0_f32], [1e-30]]);
        let mut big = array![[0.5e-30_f32], [1e10]];
        let e = tiny.transform(&mut big).unwrap_err().to_string();
        assert!(e.contains("sample 1, column 0"), "{e}");
        assert_eq!(big, array![[0.5e-30_f32], [1e10]]);
    }

    #[test]
    fn data_min_max_maps_the_training_range_to_unit() {
        let x = array![[1.0_f64, -2.0, 7.0], [3.0, 2.0, 7.0]];
        let m = MinMax::fit(&x);
        assert_eq!(
            (m.min(), m.range()),
            (&[1.0, -2.0, 7.0][..], &[2.0, 4.0, 1.0][..])
        );
        let mut y = x.clone();
        m.transform(&mut y).unwrap();
        assert_eq!(y, array![[0.0, 0.0, 0.0], [1.0, 1.0, 0.0]]);
        let mut outside = array![[5.0, 0.0, 8.0]];
        m.transform(&mut outside).unwrap();
        assert_eq!(outside, array![[2.0, 0.5, 1.0]]);
        m.inverse_transform(&mut outside).unwrap();
        assert_eq!(outside, array![[5.0, 0.0, 8.0]]);
    }

    #[test]
    fn data_fit_on_nothing_is_the_identity() {
        let empty = Array2::<f32>::zeros((0, 2));
        let s = Standardize::fit(&empty);
        assert_eq!((s.mean(), s.scale()), (&[0.0, 0.0][..], &[1.0, 1.0][..]));
        let m = MinMax::fit(&empty);
        assert_eq!((m.min(), m.range()), (&[0.0, 0.0][..], &[1.0, 1.0][..]));
    }

    #[test]
    fn data_one_hot_rows() {
        let y: Array2<f64> = one_hot(&[1, 1, 0], 2);
        assert_eq!(y, array![[0.0, 1.0], [0.0, 1.0], [1.0, 0.0]]);
        assert_eq!(one_hot::<f32>(&[], 4).dim(), (0, 4));
    }

    #[test]
    #[should_panic(expected = "class label 3 of sample 1 is out of range for 3 classes")]
    fn data_one_hot_panics_on_a_label_out_of_range() {
        one_hot::<f32>(&[0, 3], 3);
    }
}
