//! Loss functions, each with PyTorch's definition and `reduction="mean"`.
//!
//! `compute` returns the mean loss of a batch and, when given a buffer,
//! writes `dL/d(output)` into it (already divided by the mean's count).
//! Sums are accumulated in `f64` whatever the element type.
//!
//! | loss | per element / sample | mean over |
//! | --- | --- | --- |
//! | [`MSE`] | (x - y)^2 | all elements |
//! | [`L1`] | \|x - y\| | all elements |
//! | [`Huber`] | 0.5 d^2 if \|d\| < delta, else delta (\|d\| - delta/2) | all elements |
//! | [`BCE`] | (1 - y) x - (1 + (p - 1) y) log sigmoid(x), on logits | all elements |
//! | [`CrossEntropy`] | -(1 - e) log p_y - (e / C) sum_c log p_c, p = softmax(x) | samples |
//!
//! ```
//! # use macrograd_runtime as macrograd;
//! use macrograd::loss::{Loss, MSE};
//! use ndarray::array;
//! let x = array![[0.5_f64, -1.5], [2.0, 0.25], [-0.3, 0.8]];
//! let y = array![[1.0, -1.0], [0.0, 0.5], [-0.3, 2.0]];
//! let l = MSE.compute(x.view(), y.view(), None);
//! assert!((l - 1.0004166667).abs() < 1e-9);
//! ```

use ndarray::{ArrayView2, ArrayViewMut2, Zip};

use crate::target::{Classes, Rows, Target};
use crate::Float;

/// A loss over a batch of model outputs.
pub trait Loss<T: Float> {
    /// The kind of targets this loss takes.
    type Target: Target<T>;

    /// How the outputs of a model trained with this loss are read (for
    /// metrics).
    fn task(&self) -> crate::metrics::Task;

    /// The mean loss of `output` against `target`; with `grad`, also
    /// `grad <- dL/d(output)`.
    ///
    /// # Panics
    ///
    /// If the target batch does not match `output` (count, width, or a class
    /// index out of range), if a BCE target is outside `[0, 1]`, or if BCE's
    /// `pos_weight` has neither 0, 1 nor one value per column; `fit` checks
    /// the targets before training, and `model!` the `pos_weight`.
    fn compute(
        &self,
        output: ArrayView2<'_, T>,
        target: <Self::Target as Target<T>>::Batch<'_>,
        grad: Option<ArrayViewMut2<'_, T>>,
    ) -> T;
}

/// Mean squared error over all elements (`nn.MSELoss`).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct MSE;

/// Mean absolute error over all elements (`nn.L1Loss`).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct L1;

/// Huber loss (`nn.HuberLoss`): quadratic below `delta`, linear above.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Huber {
    /// The switch point; default 1.0.
    pub delta: f64,
}

impl Default for Huber {
    fn default() -> Self {
        Huber { delta: 1.0 }
    }
}

/// Binary cross-entropy on logits (`nn.BCEWithLogitsLoss`), targets in
/// `[0, 1]` (anything else panics: PyTorch computes a loss without a
/// minimum), one column per independent label.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BCE {
    /// Weight of positive examples: empty (all 1), one value for every
    /// column, or one value per column.
    pub pos_weight: Vec<f64>,
}

/// Softmax cross-entropy on logits with class-index targets
/// (`nn.CrossEntropyLoss`).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct CrossEntropy {
    /// Mass moved from the true class to a uniform distribution; default 0.
    pub label_smoothing: f64,
}

#[track_caller]
fn check_rows<T: Float>(output: &ArrayView2<'_, T>, target: &ArrayView2<'_, T>) {
    assert!(
        output.dim() == target.dim(),
        "loss: targets are {}x{} but outputs are {}x{}",
        target.nrows(),
        target.ncols(),
        output.nrows(),
        output.ncols()
    );
}

/// Applies `f(x, y) -> (loss, dloss/dx)` elementwise, averaging over all
/// elements; shared by the elementwise regression losses.
fn elementwise<T: Float>(
    output: ArrayView2<'_, T>,
    target: ArrayView2<'_, T>,
    grad: Option<ArrayViewMut2<'_, T>>,
    f: impl Fn(T, T) -> (f64, T),
) -> T {
    check_rows(&output, &target);
    let n = output.len();
    if n == 0 {
        return T::nan(); // PyTorch: the mean of nothing is NaN
    }
    let scale = T::of(1.0 / n as f64);
    let mut sum = 0.0;
    match grad {
        Some(grad) => Zip::from(grad)
            .and(output)
            .and(target)
            .for_each(|g, &x, &y| {
                let (l, d) = f(x, y);
                sum += l;
                *g = d * scale;
            }),
        None => Zip::from(output)
            .and(target)
            .for_each(|&x, &y| sum += f(x, y).0),
    }
    T::of(sum / n as f64)
}

impl<T: Float> Loss<T> for MSE {
    type Target = Rows;

    fn task(&self) -> crate::metrics::Task {
        crate::metrics::Task::Regression
    }

    fn compute(
        &self,
        output: ArrayView2<'_, T>,
        target: ArrayView2<'_, T>,
        grad: Option<ArrayViewMut2<'_, T>>,
    ) -> T {
        let two = T::of(2.0);
        elementwise(output, target, grad, |x, y| {
            let d = x - y;
            ((d * d).to_f64(), two * d)
        })
    }
}

impl<T: Float> Loss<T> for L1 {
    type Target = Rows;

    fn task(&self) -> crate::metrics::Task {
        crate::metrics::Task::Regression
    }

    fn compute(
        &self,
        output: ArrayView2<'_, T>,
        target: ArrayView2<'_, T>,
        grad: Option<ArrayViewMut2<'_, T>>,
    ) -> T {
        elementwise(output, target, grad, |x, y| {
            let d = x - y;
            // The subgradient at 0 is 0, as PyTorch's sign().
            let sign = if d > T::zero() {
                T::one()
            } else if d < T::zero() {
                -T::one()
            } else {
                T::zero()
            };
            (d.abs().to_f64(), sign)
        })
    }
}

impl<T: Float> Loss<T> for Huber {
    type Target = Rows;

    fn task(&self) -> crate::metrics::Task {
        crate::metrics::Task::Regression
    }

    fn compute(
        &self,
        output: ArrayView2<'_, T>,
        target: ArrayView2<'_, T>,
        grad: Option<ArrayViewMut2<'_, T>>,
    ) -> T {
        let delta = T::of(self.delta);
        let half = T::of(0.5);
        elementwise(output, target, grad, |x, y| {
            let d = x - y;
            if d.abs() < delta {
                ((half * d * d).to_f64(), d)
            } else {
                (
                    (delta * (d.abs() - half * delta)).to_f64(),
                    delta * d.signum(),
                )
            }
        })
    }
}

impl<T: Float> Loss<T> for BCE {
    type Target = Rows;

    fn task(&self) -> crate::metrics::Task {
        crate::metrics::Task::Binary
    }

    fn compute(
        &self,
        output: ArrayView2<'_, T>,
        target: ArrayView2<'_, T>,
        grad: Option<ArrayViewMut2<'_, T>>,
    ) -> T {
        check_rows(&output, &target);
        let cols = output.ncols();
        assert!(
            self.pos_weight.len() <= 1 || self.pos_weight.len() == cols,
            "BCE: pos_weight has {} values but the outputs have {cols} columns",
            self.pos_weight.len()
        );
        let n = output.len();
        if n == 0 {
            return T::nan();
        }
        let weight = |c: usize| match self.pos_weight.len() {
            0 => T::one(),
            1 => T::of(self.pos_weight[0]),
            _ => T::of(self.pos_weight[c]),
        };
        let scale = T::of(1.0 / n as f64);
        let mut sum = 0.0;
        let mut grad = grad;
        for (r, (x_row, y_row)) in output.rows().into_iter().zip(target.rows()).enumerate() {
            for c in 0..cols {
                let (x, y) = (x_row[c], y_row[c]);
                // Outside [0, 1] the loss has no minimum (it goes negative
                // and falls forever); `fit` refuses such data up front.
                assert!(
                    y >= T::zero() && y <= T::one(),
                    "BCE: target {} at sample {r}, column {c} is outside [0, 1]",
                    y.to_f64()
                );
                let p = weight(c);
                // log sigmoid(x) = min(x, 0) - log1p(e^-|x|), stable for any x.
                let log_sig = x.min(T::zero()) - (-x.abs()).exp().ln_1p();
                let coef = T::one() + (p - T::one()) * y;
                sum += ((T::one() - y) * x - coef * log_sig).to_f64();
                if let Some(g) = grad.as_mut() {
                    // d/dx: (1 - y) - coef * sigmoid(-x).
                    g[[r, c]] = ((T::one() - y) - coef * crate::layers::sigmoid(-x)) * scale;
                }
            }
        }
        T::of(sum / n as f64)
    }
}

impl<T: Float> Loss<T> for CrossEntropy {
    type Target = Classes;

    fn task(&self) -> crate::metrics::Task {
        crate::metrics::Task::Multiclass
    }

    fn compute(
        &self,
        output: ArrayView2<'_, T>,
        target: &[usize],
        grad: Option<ArrayViewMut2<'_, T>>,
    ) -> T {
        let (n, classes) = output.dim();
        assert!(
            target.len() == n,
            "loss: {} class labels but {n} outputs",
            target.len()
        );
        if n == 0 {
            return T::nan();
        }
        let eps = T::of(self.label_smoothing);
        let off = eps / T::of(classes as f64);
        let scale = T::of(1.0 / n as f64);
        let mut sum = 0.0;
        let mut grad = grad;
        for (r, (x, &label)) in output.rows().into_iter().zip(target).enumerate() {
            assert!(
                label < classes,
                "loss: class label {label} of sample {r} is out of range for {classes} classes"
            );
            // log p_c = x_c - logsumexp(x), with the maximum subtracted first.
            let max = x.fold(T::neg_infinity(), |m, &v| m.max(v));
            let sum_exp = x.fold(T::zero(), |s, &v| s + (v - max).exp());
            let lse = max + sum_exp.ln();
            let mut loss = -(T::one() - eps) * (x[label] - lse);
            if eps > T::zero() {
                let sum_logp = x.fold(T::zero(), |s, &v| s + (v - lse));
                loss = loss - off * sum_logp;
            }
            sum += loss.to_f64();
            if let Some(g) = grad.as_mut() {
                // d/dx_c: softmax_c - (1 - eps) [c = label] - eps / C.
                for c in 0..classes {
                    let p = (x[c] - lse).exp();
                    let hit = if c == label {
                        T::one() - eps
                    } else {
                        T::zero()
                    };
                    g[[r, c]] = (p - hit - off) * scale;
                }
            }
        }
        T::of(sum / n as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{array, Array2};

    /// A NaN output gives a NaN loss, and the gradients PyTorch gives
    /// (torch 2.15, f64): MSE `[nan, 1]`, L1 `[0, 0.5]` (its `sign(nan)`
    /// is 0), Huber `[nan, 0.5]`, BCE `[nan, 0.3655...]`; cross-entropy
    /// makes the NaN sample's row NaN and leaves the others alone.
    #[test]
    fn nan_outputs_as_in_pytorch() {
        let nan = f64::NAN;
        let x = array![[nan, 1.0]];
        let y = array![[0.0, 0.0]];
        let cases: [(&str, &dyn Loss<f64, Target = Rows>, f64); 3] = [
            ("MSE", &MSE, 1.0),
            ("L1", &L1, 0.5),
            ("Huber", &Huber::default(), 0.5),
        ];
        for (name, loss, second) in cases {
            let mut g = Array2::zeros((1, 2));
            let l = loss.compute(x.view(), y.view(), Some(g.view_mut()));
            assert!(l.is_nan(), "{name}");
            assert_eq!(g[[0, 0]].is_nan(), name != "L1", "{name}: {g}");
            if name == "L1" {
                assert_eq!(g[[0, 0]], 0.0);
            }
            assert_eq!(g[[0, 1]], second, "{name}");
        }

        let mut g = Array2::zeros((1, 2));
        let l = BCE::default().compute(x.view(), array![[1.0, 0.0]].view(), Some(g.view_mut()));
        assert!(l.is_nan() && g[[0, 0]].is_nan());
        assert!((g[[0, 1]] - 0.365_529_289_315_002_45).abs() < 1e-15, "{g}");

        let x = array![[nan, 1.0, 2.0], [0.0, 1.0, 2.0]];
        let mut g = Array2::zeros((2, 3));
        let l = CrossEntropy::default().compute(x.view(), &[1, 0], Some(g.view_mut()));
        assert!(l.is_nan());
        assert!(g.row(0).iter().all(|v| v.is_nan()), "{g}");
        let torch = [
            -0.454_984_713_414_809_8,
            0.122_364_235_527_398_82,
            0.332_620_477_887_410_9,
        ];
        for (got, want) in g.row(1).iter().zip(torch) {
            assert!((got - want).abs() < 1e-15, "{g}");
        }
    }

    #[test]
    #[should_panic(expected = "BCE: target 1.5 at sample 1, column 0 is outside [0, 1]")]
    fn bce_targets_outside_zero_one_panic() {
        let x = array![[0.5], [0.5]];
        BCE::default().compute(x.view(), array![[1.0], [1.5]].view(), None);
    }
}
