//! What a model does to raw inputs before its first layer, and the names
//! of its classes: [`Preprocessing`], kept by the model, saved with its
//! weights and restored with them, so that a file alone serves
//! predictions on raw rows.

use std::borrow::Cow;

use ndarray::{ArrayView2, ArrayViewMut2};

use super::preprocess::Column;
use super::{Labels, MinMax, Standardize};
use crate::{Error, Float, Result};

/// A per-column scaler a model applies to its inputs: [`Standardize`] or
/// [`MinMax`], fitted on the training data.
#[derive(Clone, Debug, PartialEq)]
pub enum Scaler {
    /// `(x - mean) / std` (a constant column: `x - mean`).
    Standardize(Standardize),
    /// `(x - min) / (max - min)` (a constant column: `x - min`).
    MinMax(MinMax),
}

impl Scaler {
    /// `"Standardize"` or `"MinMax"`.
    pub fn name(&self) -> &'static str {
        match self {
            Scaler::Standardize(_) => "Standardize",
            Scaler::MinMax(_) => "MinMax",
        }
    }

    /// Columns it was fitted on.
    pub fn width(&self) -> usize {
        self.columns().len()
    }

    /// Each column's affine map as `(offset, scale)`: the scaled value is
    /// `(x - offset) / scale` (the mean and deviation, or the minimum and
    /// range; a scale of 1 for a constant column).
    pub fn offsets_and_scales(&self) -> Vec<(f64, f64)> {
        self.columns().iter().map(|c| c.offset_scale()).collect()
    }

    fn columns(&self) -> &[Column] {
        match self {
            Scaler::Standardize(s) => s.columns(),
            Scaler::MinMax(s) => s.columns(),
        }
    }
}

impl From<Standardize> for Scaler {
    fn from(scaler: Standardize) -> Self {
        Scaler::Standardize(scaler)
    }
}

impl From<MinMax> for Scaler {
    fn from(scaler: MinMax) -> Self {
        Scaler::MinMax(scaler)
    }
}

/// The preprocessing a model owns: an optional [`Scaler`] it applies to
/// every input row before its first layer, and the optional names of its
/// classes.
///
/// Set it with `model.set_preprocessing(..)` (which checks it against the
/// model's inputs and classes); from then on the model takes **raw** rows
/// everywhere: `fit`, `evaluate`, `predict` and `forward` apply the scaler
/// themselves, as a Keras model that starts with a `Normalization` layer
/// does. So fit the scaler on the training data and do not also transform
/// the datasets. `save_weights` writes it into the file's metadata and
/// `load_weights` restores it (a file without it leaves the model without
/// preprocessing), so a program that loads the file predicts on raw rows
/// and names the classes as the training program did.
///
/// The scaled values are those the scaler's own `transform`
/// ([`Standardize::transform`], [`MinMax::transform`]) writes, bit for
/// bit. Unlike `transform`, the model does not stop at a scaled value that
/// is not finite (an input far beyond the training range): `fit` and
/// `evaluate` check every input row before they start, and `try_predict`
/// checks its rows, each naming the sample and column; `predict` and
/// `forward` pass such a value on.
///
/// ```
/// # use macrograd_runtime as macrograd;
/// use macrograd::data::{Labels, Preprocessing, Standardize};
/// use ndarray::array;
/// let train = array![[1.0_f32, 10.0], [3.0, 30.0]];
/// let prep = Preprocessing::new()
///     .with_scaler(Standardize::fit(&train))
///     .with_labels(Labels::named(["no", "yes"])?);
/// let mut rows = array![[2.0_f32, 50.0]];
/// prep.apply(rows.view_mut());
/// assert_eq!(rows, array![[0.0, 3.0]]);
/// assert_eq!(prep.class_name(1), "yes");
/// # Ok::<(), macrograd::Error>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Preprocessing {
    scaler: Option<Scaler>,
    labels: Option<Labels>,
    categories: Vec<(usize, Labels)>,
}

impl Preprocessing {
    /// No scaler and no class names: the model takes its inputs as they
    /// are and names classes by their numbers.
    pub fn new() -> Self {
        Preprocessing::default()
    }

    /// The same, with `scaler` applied to every input row.
    pub fn with_scaler(mut self, scaler: impl Into<Scaler>) -> Self {
        self.scaler = Some(scaler.into());
        self
    }

    /// The same, with `labels` naming the classes.
    pub fn with_labels(mut self, labels: Labels) -> Self {
        self.labels = Some(labels);
        self
    }

    /// The same, with the names of the categories of input columns (a
    /// [`Dataset::categories`](super::Dataset::categories), as [`Csv`](super::Csv)
    /// read them): saved with the model, so that text rows are encoded as in
    /// training ([`Preprocessing::encode`]). `fit` gives a model that has
    /// none those of its training data.
    pub fn with_categories(mut self, categories: Vec<(usize, Labels)>) -> Self {
        self.categories = categories;
        self
    }

    /// The category names of input columns, `(column, names)`.
    pub fn categories(&self) -> &[(usize, Labels)] {
        &self.categories
    }

    /// Rows of text, one field per input column (numbers as written,
    /// categories by name), as the model's inputs: numbers parsed, each
    /// category's name replaced by its index in the mapping of its column.
    ///
    /// # Errors
    ///
    /// [`Error::UnknownCategory`] for a name its column does not have
    /// (naming row, column and the known names); [`Error::InvalidSetting`]
    /// (`rows`) for a row of another length than the first or a field of
    /// a number column that is not a finite number.
    pub fn encode<T: Float, S: AsRef<str>>(&self, rows: &[Vec<S>]) -> Result<ndarray::Array2<T>> {
        let width = rows.first().map_or(0, Vec::len);
        let mut values = Vec::with_capacity(rows.len() * width);
        for (r, row) in rows.iter().enumerate() {
            if row.len() != width {
                return Err(Error::InvalidSetting {
                    name: "rows",
                    message: format!(
                        "row {r} has {} fields, but the first has {width}",
                        row.len()
                    ),
                });
            }
            for (c, field) in row.iter().enumerate() {
                let field = field.as_ref().trim();
                let value = match self.categories.iter().find(|(column, _)| *column == c) {
                    Some((_, names)) => match names.index(field) {
                        Some(i) => i as f64,
                        None => {
                            return Err(Error::UnknownCategory {
                                row: r,
                                column: c,
                                value: field.to_owned(),
                                known: (0..names.len())
                                    .filter_map(|i| names.name(i))
                                    .map(|n| format!("{n:?}"))
                                    .collect(),
                            })
                        }
                    },
                    None => match field.parse::<f64>() {
                        Ok(v) if v.is_finite() => v,
                        _ => {
                            return Err(Error::InvalidSetting {
                                name: "rows",
                                message: format!(
                                    "row {r}, column {c}: expected a number, found {field:?}"
                                ),
                            })
                        }
                    },
                };
                values.push(T::of(value));
            }
        }
        ndarray::Array2::from_shape_vec((rows.len(), width), values).map_err(|e| {
            Error::InvalidSetting {
                name: "rows",
                message: e.to_string(),
            }
        })
    }

    /// The scaler, if any.
    pub fn scaler(&self) -> Option<&Scaler> {
        self.scaler.as_ref()
    }

    /// The class names, if any.
    pub fn labels(&self) -> Option<&Labels> {
        self.labels.as_ref()
    }

    /// Whether there is neither a scaler nor class names.
    pub fn is_empty(&self) -> bool {
        self.scaler.is_none() && self.labels.is_none() && self.categories.is_empty()
    }

    /// The name of class `class`: its label's name, or its number without
    /// labels (or beyond them).
    pub fn class_name(&self, class: usize) -> Cow<'_, str> {
        self.labels
            .as_ref()
            .and_then(|labels| labels.name(class))
            .unwrap_or_else(|| Cow::Owned(class.to_string()))
    }

    /// Scales `rows` in place; nothing without a scaler. Values are written
    /// whatever they become (see [`Preprocessing::check`]).
    ///
    /// # Panics
    ///
    /// If `rows` do not have as many columns as the scaler was fitted on
    /// (the model checks this when the preprocessing is set).
    #[track_caller]
    pub fn apply<T: Float>(&self, rows: ArrayViewMut2<'_, T>) {
        self.apply_except(rows, &[]);
    }

    /// [`Preprocessing::apply`], leaving the `(column, n)` columns of
    /// `categories` (class indices: a model's
    /// [`CATEGORIES`](crate::model::Model::CATEGORIES)) as they are.
    ///
    /// # Panics
    ///
    /// As [`Preprocessing::apply`].
    #[track_caller]
    pub fn apply_except<T: Float>(
        &self,
        mut rows: ArrayViewMut2<'_, T>,
        categories: &[(usize, usize)],
    ) {
        let Some(scaler) = &self.scaler else {
            return;
        };
        let columns = scaler.columns();
        assert_eq!(
            rows.ncols(),
            columns.len(),
            "{} was fitted on {} columns, but the rows have {}",
            scaler.name(),
            columns.len(),
            rows.ncols()
        );
        // Column by column: whether a column is a category is asked once.
        for (j, column) in columns.iter().enumerate() {
            if categories.iter().any(|&(c, _)| c == j) {
                continue;
            }
            for x in rows.column_mut(j) {
                *x = column.map(*x);
            }
        }
    }

    /// Checks that scaling `rows` gives finite values only.
    ///
    /// # Errors
    ///
    /// [`Error::FittedWidth`] if the rows have another number of columns
    /// than the scaler was fitted on; [`Error::NonFinite`] (`"scaled
    /// inputs"`) naming the first sample and column whose scaled value is
    /// not finite.
    pub fn check<T: Float>(&self, rows: ArrayView2<'_, T>) -> Result<()> {
        self.check_except(rows, &[])
    }

    /// [`Preprocessing::check`] of the columns
    /// [`Preprocessing::apply_except`] scales.
    ///
    /// # Errors
    ///
    /// As [`Preprocessing::check`].
    pub fn check_except<T: Float>(
        &self,
        rows: ArrayView2<'_, T>,
        categories: &[(usize, usize)],
    ) -> Result<()> {
        let Some(scaler) = &self.scaler else {
            return Ok(());
        };
        let columns = scaler.columns();
        if rows.ncols() != columns.len() {
            return Err(Error::FittedWidth {
                transform: scaler.name(),
                fitted: columns.len(),
                found: rows.ncols(),
            });
        }
        for ((row, column), &x) in rows.indexed_iter() {
            if categories.iter().any(|&(c, _)| c == column) {
                continue;
            }
            let y = columns[column].map(x);
            if !y.is_finite() {
                return Err(Error::NonFinite {
                    what: "scaled inputs",
                    row,
                    column,
                    value: y.to_f64(),
                });
            }
        }
        Ok(())
    }

    /// Checks the preprocessing against a model of `inputs` input columns
    /// and `classes` classes (`None` for a regressor).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidSetting`] (`preprocessing`) naming what differs: a
    /// scaler fitted on another number of columns, labels for a regressor,
    /// another number of classes, or category names for a column that is
    /// not a category input of the model (`model_categories`: its
    /// `CATEGORIES`) or for more categories than it has.
    pub fn check_for(
        &self,
        inputs: usize,
        classes: Option<usize>,
        model_categories: &[(usize, usize)],
    ) -> Result<()> {
        let invalid = |message: String| {
            Err(Error::InvalidSetting {
                name: "preprocessing",
                message,
            })
        };
        if let Some(scaler) = &self.scaler {
            if scaler.width() != inputs {
                return invalid(format!(
                    "its {} was fitted on {} columns, but the model takes {inputs} inputs",
                    scaler.name(),
                    scaler.width()
                ));
            }
        }
        for (column, names) in &self.categories {
            match model_categories.iter().find(|(c, _)| c == column) {
                Some((_, n)) if names.len() <= *n => {}
                Some((_, n)) => {
                    return invalid(format!(
                        "it names {} categories for input column {column}, but the model's input \
                         there has {n}",
                        names.len()
                    ))
                }
                None => {
                    return invalid(format!(
                        "it names categories for input column {column}, which is not a category \
                         input of the model"
                    ))
                }
            }
        }
        if let Some(labels) = &self.labels {
            match classes {
                None => {
                    return invalid(format!(
                        "it names {} classes, but the model is a regressor",
                        labels.len()
                    ))
                }
                Some(classes) if classes != labels.len() => {
                    return invalid(format!(
                        "it names {} classes, but the model has {classes}",
                        labels.len()
                    ))
                }
                Some(_) => {}
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn the_scaled_values_are_those_transform_writes() {
        let train = array![[1.0_f32, -3.0, 7.0], [2.5, 4.0, 7.0], [9.0, 1e30, 7.0]];
        for prep in [
            Preprocessing::new().with_scaler(Standardize::fit(&train)),
            Preprocessing::new().with_scaler(MinMax::fit(&train)),
        ] {
            let mut expected = array![[0.3_f32, 2.0, -1.0], [100.0, -1e30, 7.0]];
            let mut rows = expected.clone();
            match prep.scaler().unwrap() {
                Scaler::Standardize(s) => s.transform(&mut expected).unwrap(),
                Scaler::MinMax(s) => s.transform(&mut expected).unwrap(),
            }
            prep.check(rows.view()).unwrap();
            prep.apply(rows.view_mut());
            assert_eq!(rows, expected);
        }
    }

    #[test]
    fn check_names_the_first_value_that_scales_to_infinity() {
        let prep = Preprocessing::new().with_scaler(MinMax::fit(&array![[0.0_f32], [1e-30]]));
        let e = prep.check(array![[0.0_f32], [1e10]].view()).unwrap_err();
        assert!(
            matches!(
                e,
                Error::NonFinite {
                    row: 1,
                    column: 0,
                    ..
                }
            ),
            "{e}"
        );
        let wide = prep.check(array![[0.0_f32, 1.0]].view()).unwrap_err();
        assert!(matches!(
            wide,
            Error::FittedWidth {
                fitted: 1,
                found: 2,
                ..
            }
        ));
    }

    #[test]
    fn check_for_names_each_mismatch() {
        let prep = Preprocessing::new()
            .with_scaler(Standardize::fit(&array![[1.0_f64, 2.0]]))
            .with_labels(Labels::integers(3));
        prep.check_for(2, Some(3), &[]).unwrap();
        let msg = |r: Result<()>| r.unwrap_err().to_string();
        assert!(msg(prep.check_for(4, Some(3), &[]))
            .contains("fitted on 2 columns, but the model takes 4"));
        assert!(
            msg(prep.check_for(2, Some(2), &[])).contains("names 3 classes, but the model has 2")
        );
        assert!(msg(prep.check_for(2, None, &[])).contains("regressor"));
        assert!(Preprocessing::new().check_for(7, None, &[]).is_ok());
    }

    #[test]
    fn classes_are_named_by_labels_or_numbers() {
        let named = Preprocessing::new().with_labels(Labels::named(["a", "b"]).unwrap());
        assert_eq!(
            (named.class_name(1), named.class_name(5)),
            ("b".into(), "5".into())
        );
        assert_eq!(Preprocessing::new().class_name(2), "2");
    }

    #[test]
    fn saved_statistics_rebuild_the_same_scaler() {
        let train = array![[1.0_f64, -1e308, 5.0], [3.0, 1e308, 5.0], [2.0, 0.0, 5.0]];
        let m = MinMax::fit(&train);
        let back = MinMax::from_min_max(m.min().to_vec(), m.max().to_vec()).unwrap();
        assert_eq!(back, m);
        let s = Standardize::fit(&train);
        let back = Standardize::from_parts(s.mean().to_vec(), s.scale().to_vec()).unwrap();
        assert_eq!(back, s);
        assert!(MinMax::from_min_max(vec![1.0], vec![0.0]).is_err());
        assert!(Standardize::from_parts(vec![0.0], vec![0.0]).is_err());
        assert!(Standardize::from_parts(vec![f64::NAN], vec![1.0]).is_err());
        assert!(Standardize::from_parts(vec![0.0, 1.0], vec![1.0]).is_err());
    }
}
