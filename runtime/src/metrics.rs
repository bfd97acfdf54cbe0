//! Metrics reported per epoch next to the loss: accuracy for classifiers,
//! MAE, RMSE and R² for regressors.
//!
//! A model's outputs are read according to its loss ([`Task`]):
//! CrossEntropy outputs are logits of one class per sample (the prediction
//! is the first largest one); BCE outputs are logits of independent yes/no
//! answers (the prediction is `logit > 0`, the truth is `target > 0.5`);
//! the other losses are regressions. Sums are kept in `f64` over a whole
//! epoch, so a metric is one over every sample of the epoch, not a mean of
//! per-batch means.
//!
//! Accuracy of a BCE model, MAE, RMSE and R² count every output element
//! (a model with 3 outputs and 10 samples has 30); R² is
//! `1 - SSE / SST` with `SST` around the mean of all target elements.
//!
//! ```
//! # use macrograd_runtime as macrograd;
//! use macrograd::metrics::{Metric, Scores, Task};
//! use macrograd::ndarray::array;
//! use macrograd::target::{Classes, Target};
//! let logits = array![[2.0f32, 0.5], [0.1, 0.3], [1.0, -1.0]];
//! let mut scores = Scores::default();
//! <Classes as Target<f32>>::score(logits.view(), &[0, 1, 1], Task::Multiclass, &mut scores);
//! assert_eq!(scores.get(Metric::Accuracy), Some(2.0 / 3.0));
//! ```

use std::fmt;

use ndarray::{Array2, ArrayView1, ArrayView2};

use crate::Float;

/// How a model's outputs are read, from its loss.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Task {
    /// MSE, L1, Huber: outputs are predicted values.
    Regression,
    /// BCE: outputs are logits of independent binary labels.
    Binary,
    /// CrossEntropy: outputs are logits of one class per sample.
    Multiclass,
}

impl Task {
    /// The metrics `fit` reports when none are chosen: accuracy for
    /// classifiers, none for regressors (the loss is already a regression
    /// metric, and the classic `Epoch [k/N], Loss: x` line stays as it is).
    pub fn default_metrics(self) -> &'static [Metric] {
        match self {
            Task::Regression => &[],
            Task::Binary | Task::Multiclass => &[Metric::Accuracy],
        }
    }
}

/// A metric computed over an epoch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Metric {
    /// Fraction of correct predictions (classifiers).
    Accuracy,
    /// Mean absolute error (regressors).
    MAE,
    /// Root mean squared error (regressors).
    RMSE,
    /// Coefficient of determination, `1 - SSE / SST` (regressors); for
    /// targets that are all equal (`SST = 0`), 1 if every prediction is
    /// exact, else minus infinity.
    R2,
}

impl Metric {
    /// Every metric: accuracy, then MAE, RMSE and R² (the order an
    /// evaluation lists them in).
    pub const ALL: [Metric; 4] = [Metric::Accuracy, Metric::MAE, Metric::RMSE, Metric::R2];

    /// The short name (`acc`, `mae`, `rmse`, `r2`) of CSV headers, JSON
    /// keys, stop messages and [`Evaluation`](crate::train::Evaluation)'s
    /// line.
    pub fn name(self) -> &'static str {
        match self {
            Metric::Accuracy => "acc",
            Metric::MAE => "mae",
            Metric::RMSE => "rmse",
            Metric::R2 => "r2",
        }
    }

    /// The label in the per-epoch line and the plots: `Acc`, `MAE`, `RMSE`,
    /// `R2`.
    pub fn label(self) -> &'static str {
        match self {
            Metric::Accuracy => "Acc",
            Metric::MAE => "MAE",
            Metric::RMSE => "RMSE",
            Metric::R2 => "R2",
        }
    }

    /// Whether larger values are better (accuracy, R²).
    pub fn higher_is_better(self) -> bool {
        matches!(self, Metric::Accuracy | Metric::R2)
    }

    /// Whether the metric can be computed for `task`.
    pub fn applies_to(self, task: Task) -> bool {
        match self {
            Metric::Accuracy => task != Task::Regression,
            Metric::MAE | Metric::RMSE | Metric::R2 => task == Task::Regression,
        }
    }
}

impl fmt::Display for Metric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// The class a row of CrossEntropy logits predicts: the index of its
/// first largest value, as the accuracy metric and [`ConfusionMatrix`]
/// count it. A NaN never compares larger, so it never wins over a number
/// (a row whose first value is NaN predicts class 0).
///
/// ```
/// # use macrograd_runtime as macrograd;
/// use macrograd::metrics::predicted_class;
/// use macrograd::ndarray::array;
/// assert_eq!(predicted_class(array![0.5f32, 2.0, 2.0].view()), 1);
/// ```
pub fn predicted_class<T: Float>(logits: ArrayView1<'_, T>) -> usize {
    let mut best = 0;
    for (j, &v) in logits.iter().enumerate() {
        if v > logits[best] {
            best = j;
        }
    }
    best
}

/// [`predicted_class`] of every row: what a CrossEntropy model's
/// `predict_classes` returns.
pub fn predicted_classes<T: Float>(logits: ArrayView2<'_, T>) -> Vec<usize> {
    logits.rows().into_iter().map(predicted_class).collect()
}

/// The 0/1 answers of BCE logits: 1 where a logit is above 0 (its
/// probability above 0.5), 0 elsewhere (NaN included), as the accuracy
/// metric counts them; what a BCE model's `predict_classes` returns.
///
/// ```
/// # use macrograd_runtime as macrograd;
/// use macrograd::metrics::predicted_labels;
/// use macrograd::ndarray::array;
/// let logits = array![[1.5f32, -0.2], [0.0, 3.0]];
/// assert_eq!(predicted_labels(logits.view()), array![[1, 0], [0, 1]]);
/// ```
pub fn predicted_labels<T: Float>(logits: ArrayView2<'_, T>) -> Array2<usize> {
    logits.mapv(|v| usize::from(v > T::zero()))
}

/// Running sums from which every metric of an epoch is computed.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Scores {
    /// Correct predictions (samples for CrossEntropy, elements for BCE).
    pub correct: f64,
    /// Predictions counted for accuracy.
    pub judged: f64,
    /// Output elements counted for the regression sums.
    pub elements: f64,
    /// Sum of `|prediction - target|`.
    pub abs_error: f64,
    /// Sum of `(prediction - target)^2`.
    pub sq_error: f64,
    /// Sum of the targets.
    pub target_sum: f64,
    /// Sum of the squared targets.
    pub target_sq_sum: f64,
}

impl Scores {
    /// Sums every process's counts, in rank order, on every process.
    pub(crate) fn reduce(&mut self, world: &dyn crate::distributed::Collective) {
        let fields = [
            &mut self.correct,
            &mut self.judged,
            &mut self.elements,
            &mut self.abs_error,
            &mut self.sq_error,
            &mut self.target_sum,
            &mut self.target_sq_sum,
        ];
        let mut all = fields.each_ref().map(|v| **v);
        crate::distributed::sum_f64(world, &mut all);
        for (field, sum) in fields.into_iter().zip(all) {
            *field = sum;
        }
    }

    /// The value of `metric`, or `None` if nothing it needs was counted.
    pub fn get(&self, metric: Metric) -> Option<f64> {
        match metric {
            Metric::Accuracy => (self.judged > 0.0).then(|| self.correct / self.judged),
            _ if self.elements == 0.0 => None,
            Metric::MAE => Some(self.abs_error / self.elements),
            Metric::RMSE => Some((self.sq_error / self.elements).sqrt()),
            Metric::R2 => {
                let n = self.elements;
                let sst = self.target_sq_sum - self.target_sum * self.target_sum / n;
                Some(if sst > 0.0 {
                    1.0 - self.sq_error / sst
                } else if self.sq_error == 0.0 {
                    1.0
                } else {
                    f64::NEG_INFINITY
                })
            }
        }
    }

    /// Adds one regression or binary prediction.
    #[inline]
    pub(crate) fn add_value(&mut self, task: Task, prediction: f64, target: f64) {
        match task {
            Task::Binary => {
                self.judged += 1.0;
                if (prediction > 0.0) == (target > 0.5) {
                    self.correct += 1.0;
                }
            }
            _ => {
                let e = prediction - target;
                self.elements += 1.0;
                self.abs_error += e.abs();
                self.sq_error += e * e;
                self.target_sum += target;
                self.target_sq_sum += target * target;
            }
        }
    }
}

/// Counts of (true class, predicted class) pairs of a classifier, printed
/// as a table by `Display` (rows: true class, columns: predicted).
///
/// ```
/// # use macrograd_runtime as macrograd;
/// use macrograd::metrics::ConfusionMatrix;
/// use macrograd::ndarray::array;
/// let logits = array![[2.0f32, 0.1], [0.3, 0.9], [1.5, 0.2]];
/// let m = ConfusionMatrix::from_logits(logits.view(), &[0, 1, 1]).with_names(["cat", "dog"]);
/// assert_eq!(m.counts()[1][0], 1); // one dog taken for a cat
/// assert_eq!(m.accuracy(), 2.0 / 3.0);
/// print!("{m}");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfusionMatrix {
    counts: Vec<Vec<usize>>,
    names: Vec<String>,
}

impl ConfusionMatrix {
    /// The matrix of predictions `argmax(logits[i])` (the first largest)
    /// against `truth[i]`, with as many classes as `logits` has columns.
    ///
    /// # Panics
    ///
    /// If a true class is out of range or the lengths differ.
    pub fn from_logits<T: crate::Float>(
        logits: ndarray::ArrayView2<'_, T>,
        truth: &[usize],
    ) -> Self {
        let k = logits.ncols();
        assert_eq!(
            logits.nrows(),
            truth.len(),
            "one true class per row of logits"
        );
        let mut counts = vec![vec![0usize; k]; k];
        for (row, &t) in logits.rows().into_iter().zip(truth) {
            let predicted = predicted_class(row);
            assert!(t < k, "true class {t} out of range for {k} classes");
            counts[t][predicted] += 1;
        }
        ConfusionMatrix {
            counts,
            names: (0..k).map(|i| i.to_string()).collect(),
        }
    }

    /// The same matrix with class names for the table (in class order).
    pub fn with_names<S: ToString>(mut self, names: impl IntoIterator<Item = S>) -> Self {
        for (slot, name) in self.names.iter_mut().zip(names) {
            *slot = name.to_string();
        }
        self
    }

    /// `counts()[t][p]`: samples of true class `t` predicted as `p`.
    pub fn counts(&self) -> &[Vec<usize>] {
        &self.counts
    }

    /// The fraction on the diagonal (0 for no samples).
    pub fn accuracy(&self) -> f64 {
        let total: usize = self.counts.iter().flatten().sum();
        let right: usize = (0..self.counts.len()).map(|i| self.counts[i][i]).sum();
        if total == 0 {
            0.0
        } else {
            right as f64 / total as f64
        }
    }
}

impl fmt::Display for ConfusionMatrix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let corner = "true \\ predicted";
        let widest = self.names.iter().map(String::len).max().unwrap_or(0);
        let first = widest.max(corner.len());
        let cell = widest.max(
            self.counts
                .iter()
                .flatten()
                .max()
                .map_or(1, |c| c.to_string().len()),
        ) + 2;
        write!(f, "{corner:>first$}")?;
        for name in &self.names {
            write!(f, "{name:>cell$}")?;
        }
        writeln!(f)?;
        for (name, row) in self.names.iter().zip(&self.counts) {
            write!(f, "{name:>first$}")?;
            for c in row {
                write!(f, "{c:>cell$}")?;
            }
            writeln!(f)?;
        }
        Ok(())
    }
}
