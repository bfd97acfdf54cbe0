//! Inverted dropout: in training mode each value is zeroed with
//! probability `p` and the others are scaled by `1 / (1 - p)`, so the
//! expected output is the input; in evaluation mode it is the identity.
//!
//! The mask comes from the layer's own [`Rng`], seeded at construction: one
//! `unit()` draw per value, row by row, the value dropped if the draw is
//! below `p`. So one seed gives the same masks, batch after batch, on every
//! machine (not PyTorch's masks: its generator differs). The backward pass
//! multiplies by the mask of the last forward.
//!
//! ```
//! # use macrograd_runtime as macrograd;
//! use macrograd::layers::Dropout;
//! use ndarray::Array2;
//! let mut dropout = Dropout::<f32>::new(0.5, 7);
//! let x = Array2::ones((4, 8));
//! let mut y = Array2::zeros((4, 8));
//! dropout.forward(x.view(), y.view_mut(), true);
//! assert!(y.iter().all(|&v| v == 0.0 || v == 2.0));
//! dropout.forward(x.view(), y.view_mut(), false);
//! assert_eq!(y, x);
//! ```

use ndarray::{ArrayView2, ArrayViewMut2, Zip};

use super::Layer;
use crate::onnx::{Graph, Names, Value};
use crate::{Float, Rng};

/// Dropout with probability `p`, its generator and the last mask.
#[derive(Clone, Debug)]
pub struct Dropout<T> {
    p: f64,
    /// The generator of the masks; its state moves on with every training
    /// forward (save and restore it with [`Rng::state`] to resume a run).
    pub rng: Rng,
    /// The last training forward's factors, `0` or `1 / (1 - p)` per value,
    /// row-major; grows only when the batch grows.
    mask: Vec<T>,
    /// `[rows, cols]` of the last forward, and whether it applied the mask.
    last: (usize, usize, bool),
}

impl<T: Float> Dropout<T> {
    /// Dropout with probability `p` and masks drawn from `Rng::new(seed)`.
    ///
    /// # Panics
    ///
    /// If `p` is not in `[0, 1]`.
    #[track_caller]
    pub fn new(p: f64, seed: u64) -> Self {
        assert!(
            (0.0..=1.0).contains(&p),
            "Dropout: expected a probability in [0, 1], found {p}"
        );
        Dropout {
            p,
            rng: Rng::new(seed),
            mask: Vec::new(),
            last: (0, 0, false),
        }
    }

    /// The probability of zeroing a value.
    pub fn p(&self) -> f64 {
        self.p
    }

    /// The mask of the last forward, `[rows, cols]` of `0` or `1 / (1 - p)`,
    /// or `None` if it applied none (evaluation mode, or `p = 0`).
    pub fn mask(&self) -> Option<ArrayView2<'_, T>> {
        let (rows, cols, masked) = self.last;
        masked.then(|| {
            ArrayView2::from_shape((rows, cols), &self.mask[..rows * cols])
                .expect("the mask holds the last batch")
        })
    }

    /// `output <- input * mask` with a new mask in training mode,
    /// `output <- input` in evaluation mode (or for `p = 0`, which draws
    /// nothing; `p = 1` zeroes everything, as PyTorch).
    ///
    /// # Panics
    ///
    /// If `input` and `output` differ in shape.
    #[track_caller]
    pub fn forward(
        &mut self,
        input: ArrayView2<'_, T>,
        mut output: ArrayViewMut2<'_, T>,
        training: bool,
    ) {
        assert!(
            input.dim() == output.dim(),
            "Dropout: input {:?} and output {:?} differ",
            input.dim(),
            output.dim()
        );
        let (rows, cols) = input.dim();
        let masked = training && self.p > 0.0;
        self.last = (rows, cols, masked);
        if !masked {
            output.assign(&input);
            return;
        }
        let len = rows * cols;
        if self.mask.len() < len {
            self.mask.resize(len, T::zero());
        }
        let mask = &mut self.mask[..len];
        if self.p >= 1.0 {
            mask.fill(T::zero());
        } else {
            let scale = T::of(1.0 / (1.0 - self.p));
            for m in mask.iter_mut() {
                *m = if self.rng.unit() < self.p {
                    T::zero()
                } else {
                    scale
                };
            }
        }
        let mask = ArrayView2::from_shape((rows, cols), &*mask).expect("the mask holds the batch");
        Zip::from(output)
            .and(input)
            .and(mask)
            .for_each(|y, &x, &m| *y = x * m);
    }

    /// `grad_input <- grad_output * mask`, the last forward's mask (the
    /// identity if it applied none).
    ///
    /// # Panics
    ///
    /// If the shapes differ from each other or, after a forward that applied
    /// a mask, from that forward's.
    #[track_caller]
    pub fn backward(&self, grad_output: ArrayView2<'_, T>, mut grad_input: ArrayViewMut2<'_, T>) {
        assert!(
            grad_output.dim() == grad_input.dim(),
            "Dropout: grad_output {:?} and grad_input {:?} differ",
            grad_output.dim(),
            grad_input.dim()
        );
        match self.mask() {
            None => grad_input.assign(&grad_output),
            Some(mask) => {
                assert!(
                    mask.dim() == grad_output.dim(),
                    "Dropout: grad_output {:?} differs from the last forward's {:?}",
                    grad_output.dim(),
                    mask.dim()
                );
                Zip::from(grad_input)
                    .and(grad_output)
                    .and(mask)
                    .for_each(|gi, &g, &m| *gi = g * m);
            }
        }
    }
}

impl<T: Float> Layer<T> for Dropout<T> {
    /// Nothing: dropout is the identity in evaluation mode.
    fn export(&self, graph: &mut Graph, input: &Value, names: &Names<'_>) -> crate::Result<Value> {
        let _ = (graph, names);
        Ok(input.clone())
    }

    #[inline]
    #[track_caller]
    fn forward(&mut self, input: ArrayView2<'_, T>, output: ArrayViewMut2<'_, T>, training: bool) {
        Dropout::forward(self, input, output, training);
    }

    /// The identity, as evaluation mode's `forward`.
    #[track_caller]
    fn infer(&self, input: ArrayView2<'_, T>, mut output: ArrayViewMut2<'_, T>) {
        assert!(
            input.dim() == output.dim(),
            "Dropout: input {:?} and output {:?} differ",
            input.dim(),
            output.dim()
        );
        output.assign(&input);
    }

    #[inline]
    #[track_caller]
    fn backward(
        &mut self,
        input: ArrayView2<'_, T>,
        output: ArrayView2<'_, T>,
        grad_output: ArrayView2<'_, T>,
        grad_input: Option<ArrayViewMut2<'_, T>>,
        accumulate: bool,
    ) {
        let _ = (input, output, accumulate);
        if let Some(grad_input) = grad_input {
            Dropout::backward(self, grad_output, grad_input);
        }
    }

    fn rng(&self) -> Option<&Rng> {
        Some(&self.rng)
    }

    fn rng_mut(&mut self) -> Option<&mut Rng> {
        Some(&mut self.rng)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

    fn run(dropout: &mut Dropout<f64>, x: &Array2<f64>, training: bool) -> Array2<f64> {
        let mut y = Array2::from_elem(x.raw_dim(), f64::NAN);
        dropout.forward(x.view(), y.view_mut(), training);
        y
    }

    #[test]
    fn evaluation_is_the_identity_and_draws_nothing() {
        let x = Array2::from_shape_fn((5, 7), |(i, j)| (i * 7 + j) as f64 - 10.0);
        let mut dropout = Dropout::new(0.3, 1);
        let state = dropout.rng.state();
        assert_eq!(run(&mut dropout, &x, false), x);
        assert_eq!(dropout.rng.state(), state);
        assert!(dropout.mask().is_none());
        let mut gx = Array2::zeros(x.raw_dim());
        dropout.backward(x.view(), gx.view_mut());
        assert_eq!(gx, x);
    }

    #[test]
    fn training_zeroes_about_p_and_scales_the_rest() {
        let p = 0.3;
        let x = Array2::from_elem((200, 100), 2.0);
        let mut dropout = Dropout::new(p, 2);
        let y = run(&mut dropout, &x, true);
        let zeros = y.iter().filter(|&&v| v == 0.0).count();
        let frac = zeros as f64 / y.len() as f64;
        // 20 000 draws: the standard deviation of the fraction is 0.0032.
        assert!((frac - p).abs() < 0.015, "dropped {frac}");
        let kept = 2.0 / (1.0 - p);
        assert!(y.iter().all(|&v| v == 0.0 || v == kept));
        // The mean is kept in expectation.
        assert!((y.mean().unwrap() - 2.0).abs() < 0.05);
        // Backward applies the same mask.
        let g = Array2::from_elem(x.raw_dim(), 1.0);
        let mut gx = Array2::zeros(x.raw_dim());
        dropout.backward(g.view(), gx.view_mut());
        assert_eq!(gx, &y / 2.0);
    }

    #[test]
    fn same_seed_same_masks_and_the_mask_changes_each_batch() {
        let x = Array2::from_elem((3, 16), 1.0);
        let (mut a, mut b) = (Dropout::new(0.5, 9), Dropout::new(0.5, 9));
        let first = run(&mut a, &x, true);
        assert_eq!(first, run(&mut b, &x, true));
        let second = run(&mut a, &x, true);
        assert_eq!(second, run(&mut b, &x, true));
        assert_ne!(first, second);
        assert_ne!(first, run(&mut Dropout::new(0.5, 10), &x, true));
    }

    #[test]
    fn zero_and_one_probabilities() {
        let x = Array2::from_elem((2, 3), 1.5);
        assert_eq!(run(&mut Dropout::new(0.0, 0), &x, true), x);
        assert_eq!(
            run(&mut Dropout::new(1.0, 0), &x, true),
            Array2::<f64>::zeros((2, 3))
        );
    }

    #[test]
    fn a_smaller_batch_reuses_the_mask_storage() {
        let mut dropout = Dropout::<f32>::new(0.5, 3);
        let mut y = Array2::zeros((8, 4));
        dropout.forward(Array2::ones((8, 4)).view(), y.view_mut(), true);
        let capacity = dropout.mask.capacity();
        let mut y = Array2::zeros((3, 4));
        dropout.forward(Array2::ones((3, 4)).view(), y.view_mut(), true);
        assert_eq!(dropout.mask.capacity(), capacity);
        assert_eq!(dropout.mask().unwrap().dim(), (3, 4));
    }
}
