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
//! # use macrograd_runtime as macrograd;
//! use macrograd::data::Standardize;
//! use ndarray::array;
//! let mut train = array![[1.0_f64, 5.0], [3.0, 5.0]];
//! let mut test = array![[5.0_f64, 6.0]];
//! let scaler = Standardize::fit(&train);
//! assert_eq!((scaler.mean(), scaler.scale()), (&[2.0, 5.0][..], &[1.0, 1.0][..]));
//! scaler.transform(&mut train)?;
//! scaler.transform(&mut test)?; // the training mean and deviation, not the test's
//! assert_eq!(train, array![[-1.0, 0.0], [1.0, 0.0]]);
//! assert_eq!(test, array![[3.0, 1.0]]);
//! # Ok::<(), macrograd::Error>(())
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

/// A column's affine map `x' = (x - offset) / scale`, with `half`, half of
/// the scale, always finite for finite data (where `scale` may not be: the
/// range of a column from -1e308 to 1e308).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct Column {
    offset: f64,
    scale: f64,
    half: f64,
}

impl Column {
    /// `(x - offset) / scale`, in halves where `x - offset` or the scale
    /// overflows though the result does not (halving is exact for these
    /// magnitudes, so the result is as exact as the plain formula's).
    fn forward(self, x: f64) -> f64 {
        let difference = x - self.offset;
        if difference.is_finite() && self.scale.is_finite() {
            difference / self.scale
        } else {
            (0.5 * x - 0.5 * self.offset) / self.half
        }
    }

    /// `(offset, scale)`.
    pub(super) fn offset_scale(self) -> (f64, f64) {
        (self.offset, self.scale)
    }

    /// [`Column::forward`] in `T`: what `transform` writes.
    #[inline]
    pub(super) fn map<T: Float>(self, x: T) -> T {
        T::of(self.forward(x.to_f64()))
    }

    /// `x * scale + offset`, in halves where that overflows though the
    /// result does not.
    fn inverse(self, x: f64) -> f64 {
        let y = x * self.scale + self.offset;
        if y.is_finite() {
            y
        } else {
            2.0 * (x * self.half + 0.5 * self.offset)
        }
    }
}

/// Applies `x' = (x - offset[j]) / scale[j]` (or its inverse) to every
/// column `j`. The results are checked first and written only if all are
/// finite, so on error the data is unchanged.
fn apply<T: Float, D: Inputs<T> + ?Sized>(
    transform: &'static str,
    columns: &[Column],
    data: &mut D,
    inverse: bool,
) -> Result<()> {
    let map = |x: T, j: usize| -> T {
        if inverse {
            T::of(columns[j].inverse(x.to_f64()))
        } else {
            columns[j].map(x)
        }
    };
    let view = data.input_view();
    if view.ncols() != columns.len() {
        return Err(Error::FittedWidth {
            transform,
            fitted: columns.len(),
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

/// Checks the saved statistics of a scaler: equal lengths, finite offsets,
/// finite positive scales.
fn check_parts(
    transform: &'static str,
    offset_name: &str,
    offsets: &[f64],
    scale_name: &str,
    scales: &[f64],
) -> Result<()> {
    let invalid = |message: String| {
        Err(Error::InvalidSetting {
            name: transform,
            message,
        })
    };
    if offsets.len() != scales.len() {
        return invalid(format!(
            "{} values of `{offset_name}` but {} of `{scale_name}`",
            offsets.len(),
            scales.len()
        ));
    }
    if let Some(j) = offsets.iter().position(|x| !x.is_finite()) {
        return invalid(format!(
            "`{offset_name}` of column {j} is {}, not finite",
            offsets[j]
        ));
    }
    if let Some(j) = scales.iter().position(|&x| !(x > 0.0 && x.is_finite())) {
        return invalid(format!(
            "`{scale_name}` of column {j} is {}, not a positive number",
            scales[j]
        ));
    }
    Ok(())
}

/// Per-column `(min, max)` in `f64`; `(0, 0)` for a column of no samples,
/// `(NaN, NaN)` for one with a NaN (not skipped: the offset a scaler fits
/// to such a column, its mean or minimum, is NaN, which `transform`
/// reports).
fn column_ranges<T: Float>(values: ArrayView2<'_, T>) -> Vec<(f64, f64)> {
    values
        .columns()
        .into_iter()
        .map(|column| {
            let mut it = column.iter().map(|&x| x.to_f64());
            let first = it.next().unwrap_or(0.0);
            // A NaN, once met, stays: no comparison with it is true.
            it.fold((first, first), |(lo, hi), x| {
                let lo = if x < lo || x.is_nan() { x } else { lo };
                let hi = if x > hi || x.is_nan() { x } else { hi };
                (lo, hi)
            })
        })
        .collect()
}

/// `2^k`, for `k` in `-1022..=1023`.
fn pow2(k: i32) -> f64 {
    debug_assert!((-1022..=1023).contains(&k));
    f64::from_bits(((k + 1023) as u64) << 52)
}

/// The power of two `2^k` that brings values of magnitude up to `max` near
/// 1: `k = 0` if their squares and the squares of their differences can
/// neither overflow nor underflow (`max` from 2^-400 to 2^400), and also
/// for a `max` that is not finite.
fn scale_exponent(max: f64) -> i32 {
    if !max.is_finite() || max == 0.0 || (SAFE_BELOW..=SAFE_ABOVE).contains(&max) {
        0
    } else {
        (max.log2().floor() as i32).clamp(-1020, 1020)
    }
}

/// Magnitudes whose statistics the plain formulas compute without overflow
/// or underflow; see [`scale_exponent`].
const SAFE_BELOW: f64 = f64::from_bits((1023 - 400) << 52); // 2^-400
const SAFE_ABOVE: f64 = f64::from_bits((1023 + 400) << 52); // 2^400

/// Standardisation: `x' = (x - mean) / std` per column, with the mean and
/// the population standard deviation (divided by `n`, as scikit-learn's
/// `StandardScaler`) of the data it was fitted on.
///
/// A column whose values are all equal (zero variance) is only centred: its
/// scale is 1, so it becomes all zeros on the training data instead of a
/// division by zero (scikit-learn does the same). Fitting on no samples
/// gives mean 0 and scale 1, the identity. A NaN in an array it is fitted on
/// makes that column's mean NaN (its scale is then 1), which `transform`
/// then reports.
///
/// Any finite data gives a finite mean and scale, correct to rounding: a
/// column of values near `f64::MAX` (whose squares overflow) or near the
/// smallest subnormals (whose squares vanish) is scaled by a power of two
/// while the statistics are computed, which is exact. Data whose largest
/// magnitude is between 2^-400 and 2^400 (about 4e-121 to 3e120) is not
/// scaled: its statistics are those of the plain two-pass formula, bit for
/// bit. A standard deviation below the smallest subnormal `f64` (data
/// within a few of them of each other) rounds to 0, and `transform` reports
/// the infinite results rather than dividing silently.
#[derive(Clone, Debug, PartialEq)]
pub struct Standardize {
    mean: Vec<f64>,
    scale: Vec<f64>,
    columns: Vec<Column>,
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
            // Computed on `x * 2^-k`, exactly scaled: the same bits as on
            // `x` when neither overflows nor underflows.
            let k = scale_exponent(lo.abs().max(hi.abs()));
            let (down, up) = (pow2(-k), pow2(k));
            // LOOP 1: the mean; LOOP 2: the variance around it.
            let m = column.iter().map(|&x| x.to_f64() * down).sum::<f64>() / n;
            let var = column
                .iter()
                .map(|&x| (x.to_f64() * down - m).powi(2))
                .sum::<f64>()
                / n;
            mean.push(m * up);
            scale.push(if var > 0.0 { var.sqrt() * up } else { 1.0 });
        }
        Standardize::build(mean, scale)
    }

    fn build(mean: Vec<f64>, scale: Vec<f64>) -> Self {
        let columns = mean
            .iter()
            .zip(&scale)
            .map(|(&offset, &scale)| Column {
                offset,
                scale,
                half: 0.5 * scale,
            })
            .collect();
        Standardize {
            mean,
            scale,
            columns,
        }
    }

    /// A scaler with the given mean and standard deviation of each column,
    /// as [`Standardize::mean`] and [`Standardize::scale`] return them (to
    /// rebuild one that was saved).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidSetting`] (`Standardize`) if the lengths differ, a
    /// mean is not finite, or a scale is not finite and positive.
    pub fn from_parts(mean: Vec<f64>, scale: Vec<f64>) -> Result<Self> {
        check_parts("Standardize", "mean", &mean, "scale", &scale)?;
        Ok(Standardize::build(mean, scale))
    }

    pub(super) fn columns(&self) -> &[Column] {
        &self.columns
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
        apply("Standardize", &self.columns, data, false)
    }

    /// The inverse, `x * scale[j] + mean[j]`: back to the original units
    /// (for predictions of standardized targets, say).
    ///
    /// # Errors
    ///
    /// As [`Standardize::transform`].
    pub fn inverse_transform<T: Float, D: Inputs<T> + ?Sized>(&self, data: &mut D) -> Result<()> {
        apply("Standardize", &self.columns, data, true)
    }
}

/// Min-max scaling: `x' = (x - min) / (max - min)` per column, with the
/// minimum and maximum of the data it was fitted on, so that data maps to
/// `[0, 1]`; other data may fall outside.
///
/// A constant column (`max = min`) is only shifted: its range is taken as 1,
/// so it becomes all zeros on the training data. Fitting on no samples gives
/// the identity. A column wider than `f64` can say (from -1e308 to 1e308)
/// has an infinite [`range`](Self::range), but its transforms are still
/// computed exactly (in halves), so finite data maps to `[0, 1]` as always.
#[derive(Clone, Debug, PartialEq)]
pub struct MinMax {
    min: Vec<f64>,
    max: Vec<f64>,
    range: Vec<f64>,
    columns: Vec<Column>,
}

impl MinMax {
    /// The minimum and maximum of each column of `data`.
    pub fn fit<T: Float, D: Inputs<T> + ?Sized>(data: &D) -> Self {
        let (min, max) = column_ranges(data.input_view()).into_iter().unzip();
        MinMax::build(min, max)
    }

    /// A scaler with the given minimum and maximum of each column, as
    /// [`MinMax::min`] and [`MinMax::max`] return them (to rebuild one that
    /// was saved): the same numbers as the scaler they came from.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidSetting`] (`MinMax`) if the lengths differ, a value
    /// is not finite, or a maximum is below its minimum.
    pub fn from_min_max(min: Vec<f64>, max: Vec<f64>) -> Result<Self> {
        let invalid = |message: String| {
            Err(Error::InvalidSetting {
                name: "MinMax",
                message,
            })
        };
        if min.len() != max.len() {
            return invalid(format!("{} minimums but {} maximums", min.len(), max.len()));
        }
        for (j, (&lo, &hi)) in min.iter().zip(&max).enumerate() {
            if !(lo.is_finite() && hi.is_finite() && lo <= hi) {
                return invalid(format!(
                    "column {j} has minimum {lo} and maximum {hi}: expected finite numbers, \
                     the minimum not above the maximum"
                ));
            }
        }
        Ok(MinMax::build(min, max))
    }

    fn build(min: Vec<f64>, max: Vec<f64>) -> Self {
        let columns: Vec<Column> = min
            .iter()
            .zip(&max)
            .map(|(&lo, &hi)| {
                let (scale, half) = if hi > lo {
                    (hi - lo, 0.5 * hi - 0.5 * lo)
                } else {
                    (1.0, 0.5)
                };
                Column {
                    offset: lo,
                    scale,
                    half,
                }
            })
            .collect();
        MinMax {
            range: columns.iter().map(|c| c.scale).collect(),
            min,
            max,
            columns,
        }
    }

    /// The fitted maximum of each column.
    pub fn max(&self) -> &[f64] {
        &self.max
    }

    pub(super) fn columns(&self) -> &[Column] {
        &self.columns
    }

    /// The fitted minimum of each column.
    pub fn min(&self) -> &[f64] {
        &self.min
    }

    /// The fitted `max - min` of each column (1 for a constant one,
    /// infinite where `max - min` overflows `f64`).
    pub fn range(&self) -> &[f64] {
        &self.range
    }

    /// Replaces every value `x` of column `j` by `(x - min[j]) / range[j]`.
    ///
    /// # Errors
    ///
    /// As [`Standardize::transform`].
    pub fn transform<T: Float, D: Inputs<T> + ?Sized>(&self, data: &mut D) -> Result<()> {
        apply("MinMax", &self.columns, data, false)
    }

    /// The inverse, `x * range[j] + min[j]`.
    ///
    /// # Errors
    ///
    /// As [`Standardize::transform`].
    pub fn inverse_transform<T: Float, D: Inputs<T> + ?Sized>(&self, data: &mut D) -> Result<()> {
        apply("MinMax", &self.columns, data, true)
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
/// # use macrograd_runtime as macrograd;
/// use macrograd::data::one_hot;
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
    fn data_standardize_huge_and_tiny_columns() {
        // Squares of 1e200 overflow, of 1e-200 underflow: the statistics
        // must not.
        for unit in [1e200, 1e-200, 1.0, f64::MAX / 8.0, 1e-310] {
            let x = array![[1.0 * unit], [2.0 * unit], [3.0 * unit], [6.0 * unit]];
            let s = Standardize::fit(&x);
            let (mean, scale) = (s.mean()[0], s.scale()[0]);
            let rel = |a: f64, b: f64| ((a - b) / b).abs();
            // Subnormal units are themselves rounded: compare loosely there.
            let tol = if unit < 1e-300 { 1e-6 } else { 1e-15 };
            assert!(rel(mean, 3.0 * unit) < tol, "{unit}: mean {mean}");
            assert!(
                rel(scale, 3.5_f64.sqrt() * unit) < tol,
                "{unit}: scale {scale}"
            );
            let mut y = x.clone();
            s.transform(&mut y).unwrap();
            let expected = [-2.0, -1.0, 0.0, 3.0].map(|v| v / 3.5_f64.sqrt());
            for (a, b) in y.iter().zip(expected) {
                assert!((a - b).abs() < 1e-6, "{unit}: {y}");
            }
        }
        // Near the ends of f64, where `x - mean` and `x * scale` overflow
        // though the results do not; and of f32.
        let big = 0.9 * f64::MAX;
        let x = array![[big, -big], [-big, big], [big, big]];
        let s = Standardize::fit(&x);
        assert!(s
            .mean()
            .iter()
            .all(|m| (m / (big / 3.0) - 1.0).abs() < 1e-12));
        let mut y = x.clone();
        s.transform(&mut y).unwrap();
        let (hi, lo) = (0.5_f64.sqrt(), -2.0_f64.sqrt());
        for (a, b) in y.iter().zip([hi, lo, lo, hi, hi, hi]) {
            assert!((a - b).abs() < 1e-12, "{y}");
        }
        s.inverse_transform(&mut y).unwrap();
        for (a, b) in y.iter().zip(&x) {
            assert!((a / b - 1.0).abs() < 1e-12, "{y}");
        }
        let x = array![[f32::MAX], [-f32::MAX], [f32::MAX]];
        let s = Standardize::fit(&x);
        let mut y = x.clone();
        s.transform(&mut y).unwrap();
        assert!((y[[1, 0]] + 2.0_f32.sqrt()).abs() < 1e-6, "{y}");
    }

    #[test]
    fn data_standardize_normal_data_keeps_its_bits() {
        // The statistics of ordinary data are those of the plain two-pass
        // formula, bit for bit.
        let x = array![[0.1_f64, -3.7, 1e5], [0.2, 2.9, 3e5], [0.7, 11.0, -7e4]];
        let s = Standardize::fit(&x);
        for (j, column) in x.columns().into_iter().enumerate() {
            let n = column.len() as f64;
            let m = column.sum() / n;
            let var = column.iter().map(|v| (v - m).powi(2)).sum::<f64>() / n;
            assert_eq!((s.mean()[j], s.scale()[j]), (m, var.sqrt()));
        }
    }

    #[test]
    fn data_min_max_spans_beyond_f64() {
        let x = array![[1e308_f64], [-1e308], [0.0]];
        let m = MinMax::fit(&x);
        assert_eq!(m.min(), &[-1e308]);
        let mut y = x.clone();
        m.transform(&mut y).unwrap();
        assert_eq!(y, array![[1.0], [0.0], [0.5]]);
        m.inverse_transform(&mut y).unwrap();
        assert_eq!(y, x);
        let x = array![[f64::MAX], [-f64::MAX]];
        let m = MinMax::fit(&x);
        let mut y = x.clone();
        m.transform(&mut y).unwrap();
        assert_eq!(y, array![[1.0], [0.0]]);
    }

    #[test]
    fn data_fit_on_a_nan_reports_it() {
        // The NaN is not skipped: its column's mean (or minimum and
        // maximum) is NaN, and `transform` says so.
        for x in [
            array![[f64::NAN], [1.0]],
            array![[1.0], [f64::NAN]],
            array![[1.0], [2.0], [f64::NAN]],
        ] {
            let mut y = array![[0.5]];
            let e = Standardize::fit(&x).transform(&mut y).unwrap_err();
            assert!(matches!(e, Error::NonFinite { .. }), "{x}: {e}");
            let e = MinMax::fit(&x).transform(&mut y).unwrap_err();
            assert!(matches!(e, Error::NonFinite { .. }), "{x}: {e}");
        }
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
