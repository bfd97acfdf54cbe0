//! Optimizers with PyTorch's update rules and defaults.
//!
//! An optimizer holds its hyperparameters (a `*Config`) and one state per
//! parameter tensor, allocated when it is built, so a step allocates
//! nothing (the one exception: a momentum declared 0 and raised later by a
//! schedule gets its buffer on the next step, see [`SGD`] and [`RMSprop`]).
//! `update(i, param, grad)` applies one step to parameter `i`.
//!
//! SGD (`torch.optim.SGD`), with `g` the gradient:
//! ```text
//! g <- g + weight_decay * p
//! b <- g (first step) | momentum * b + (1 - dampening) * g
//! g <- g + momentum * b (nesterov) | b
//! p <- p - lr * g
//! ```
//! Adam (`torch.optim.Adam`; AdamW decays `p <- p (1 - lr wd)` first instead
//! of adding `wd p` to `g`):
//! ```text
//! m <- m + (1 - b1)(g - m);  v <- b2 v + (1 - b2) g^2
//! p <- p - lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
//! ```
//! RMSprop (`torch.optim.RMSprop`; every state starts at zeros):
//! ```text
//! g <- g + weight_decay * p
//! v <- alpha v + (1 - alpha) g^2
//! gm <- gm + (1 - alpha)(g - gm), avg <- sqrt(v - gm^2) + eps  (centered)
//!      | avg <- sqrt(v) + eps
//! b <- momentum * b + g / avg;  p <- p - lr * b      (momentum > 0)
//! p <- p - lr * g / avg                              (otherwise)
//! ```
//! Adagrad (`torch.optim.Adagrad`; `s` starts at `initial_accumulator_value`):
//! ```text
//! g <- g + weight_decay * p
//! s <- s + g^2
//! p <- p - lr / (1 + (t - 1) lr_decay) * g / (sqrt(s) + eps)
//! ```
//!
//! ```
//! # use macrograd_runtime as macrograd;
//! use macrograd::optim::{Optimizer, SGD, SGDConfig};
//! let mut sgd = SGD::<f64>::new(SGDConfig { lr: 0.1, ..SGDConfig::default() }, &[2]);
//! let mut p = [1.0, -2.0];
//! sgd.update(0, &mut p, &[0.5, -1.0]);
//! assert_eq!(p, [0.95, -1.9]);
//! ```

use crate::{Float, StateError};

mod adagrad;
mod adam;
mod rmsprop;
mod sgd;
mod state;
#[cfg(test)]
mod tests;

pub use self::adagrad::{Adagrad, AdagradConfig};
pub use self::adam::{Adam, AdamConfig, AdamW};
pub use self::rmsprop::{RMSprop, RMSpropConfig};
pub use self::sgd::{SGDConfig, SGD};

/// One optimizer over a fixed list of parameter tensors.
pub trait Optimizer<T: Float> {
    /// The learning rate the next step will use.
    fn learning_rate(&self) -> f64;

    /// Sets the learning rate (what a scheduler does between steps).
    fn set_learning_rate(&mut self, lr: f64);

    /// The momentum a scheduler cycles (OneCycleLR, CyclicLR): SGD's and
    /// RMSprop's `momentum`, Adam's `beta1`, as PyTorch picks it; `None`
    /// for an optimizer without one.
    fn momentum(&self) -> Option<f64> {
        None
    }

    /// Sets the momentum [`Optimizer::momentum`] reads; nothing for an
    /// optimizer without one.
    fn set_momentum(&mut self, _momentum: f64) {}

    /// The state a checkpoint needs to resume exactly, as named values.
    ///
    /// - The hyperparameters a schedule may change, one value each: `lr`,
    ///   and `momentum` (SGD, RMSprop) or `beta1` (Adam, AdamW).
    /// - Per parameter `i` (the index of [`Optimizer::update`], which is
    ///   the order of `Model::visit_parameters`), PyTorch's names:
    ///   `{i}.momentum_buffer` (SGD once it has one; RMSprop with
    ///   momentum), `{i}.step`, `{i}.exp_avg`, `{i}.exp_avg_sq` and
    ///   `{i}.max_exp_avg_sq` (AMSGrad) for Adam, `{i}.square_avg` and
    ///   `{i}.grad_avg` (centered) for RMSprop, `{i}.step` and `{i}.sum`
    ///   for Adagrad. Step counts are whole numbers.
    ///
    /// - Every hyperparameter of the declaration the optimizer was built
    ///   with, as `declared.<name>` (`declared.lr`, `declared.momentum`,
    ///   `declared.nesterov` as 0 or 1, ...), so that a state is loaded
    ///   only into an optimizer declared the same.
    ///
    /// Every value is widened to `f64`, which holds an `f32` exactly, so
    /// [`Optimizer::load_state`] restores the optimizer bit for bit.
    ///
    /// ```
    /// # use macrograd_runtime as macrograd;
    /// use macrograd::optim::{Optimizer, SGD, SGDConfig};
    /// let config = SGDConfig { lr: 0.1, momentum: 0.9, ..SGDConfig::default() };
    /// let mut sgd = SGD::<f32>::new(config, &[2]);
    /// sgd.update(0, &mut [1.0, 2.0], &[0.5, -0.25]);
    /// let state = sgd.state();
    /// assert_eq!(state[2], ("0.momentum_buffer".to_string(), vec![0.5, -0.25]));
    /// let mut resumed = SGD::<f32>::new(config, &[2]);
    /// resumed.load_state(&state).unwrap();
    /// assert_eq!(resumed.state(), state);
    /// ```
    fn state(&self) -> Vec<(String, Vec<f64>)>;

    /// Restores a state taken by [`Optimizer::state`] from an optimizer of
    /// the same kind over parameters of the same lengths; the next
    /// updates are then bit-identical to those the original would make.
    /// Entries may come in any order.
    ///
    /// # Errors
    ///
    /// A [`StateError`] naming the optimizer and every problem found
    /// ([`StateProblem`](crate::StateProblem)): a missing
    /// entry, an unexpected or repeated name, a wrong number of values, a
    /// declared hyperparameter that differs from this optimizer's
    /// declaration (a state saved by `SGD(0.01)` given to an optimizer
    /// declared with momentum), a hyperparameter outside the range the
    /// declaration allows (`lr >= 0`: a schedule may reach 0;
    /// `momentum >= 0`, `> 0` with Nesterov; `0 <= beta1 < 1`), a step count that is
    /// not a whole number, a buffer value that is not finite (or negative,
    /// for the sums and averages of squares), a buffer value the element
    /// type cannot hold exactly (an `f32` optimizer given `0.1`). Nothing is
    /// changed then.
    fn load_state(&mut self, state: &[(String, Vec<f64>)]) -> Result<(), StateError>;

    /// One update of parameter `index` from its gradient.
    ///
    /// # Panics
    ///
    /// If `index` is not a parameter this optimizer was built for, or the
    /// lengths differ from the one it was built with.
    fn update(&mut self, index: usize, param: &mut [T], grad: &[T]);
}
