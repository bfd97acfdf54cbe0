//! Adagrad (`torch.optim.Adagrad`): learning-rate decay and an initial
//! accumulator.

use super::state::*;
use super::Optimizer;
use crate::parallel::split_update;
use crate::{Float, StateError};

/// Hyperparameters of [`Adagrad`], with PyTorch's defaults.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdagradConfig {
    /// Learning rate; default 1e-2.
    pub lr: f64,
    /// Decay of the learning rate, `lr / (1 + (t - 1) lr_decay)` at step
    /// `t`; default 0.
    pub lr_decay: f64,
    /// L2 penalty added to the gradient; default 0.
    pub weight_decay: f64,
    /// Starting value of the sum of squared gradients; default 0.
    pub initial_accumulator_value: f64,
    /// Added to the square root of the sum; default 1e-10.
    pub eps: f64,
}

impl AdagradConfig {
    /// Every hyperparameter by name, as a checkpoint records the
    /// declaration.
    fn named(&self) -> [(&'static str, f64); 5] {
        [
            ("lr", self.lr),
            ("lr_decay", self.lr_decay),
            ("weight_decay", self.weight_decay),
            ("initial_accumulator_value", self.initial_accumulator_value),
            ("eps", self.eps),
        ]
    }
}

impl Default for AdagradConfig {
    fn default() -> Self {
        AdagradConfig {
            lr: 1e-2,
            lr_decay: 0.0,
            weight_decay: 0.0,
            initial_accumulator_value: 0.0,
            eps: 1e-10,
        }
    }
}

/// Per-parameter state of [`Adagrad`].
#[derive(Clone, Debug)]
struct AdagradState<T> {
    step: u64,
    /// Sum of squared gradients.
    sum: Vec<T>,
}

/// Adagrad (PyTorch semantics: the step counter is per parameter, the sum
/// starts at `initial_accumulator_value`, `eps` is added after the square
/// root). It has no momentum for a scheduler to cycle.
///
/// ```
/// # use macrograd_runtime as macrograd;
/// use macrograd::optim::{Adagrad, AdagradConfig, Optimizer};
/// let mut adagrad = Adagrad::<f64>::new(AdagradConfig { lr: 0.1, eps: 0.0, ..Default::default() }, &[1]);
/// let mut p = [1.0];
/// adagrad.update(0, &mut p, &[0.5]); // s = 0.25, p -= 0.1 * 0.5 / 0.5
/// assert_eq!(p, [0.9]);
/// ```
#[derive(Clone, Debug)]
pub struct Adagrad<T> {
    /// Hyperparameters.
    pub config: AdagradConfig,
    /// The hyperparameters it was built with (a checkpoint is resumed
    /// only by an optimizer declared the same).
    declared: AdagradConfig,
    state: Vec<AdagradState<T>>,
}

impl<T: Float> Adagrad<T> {
    /// An optimizer for parameters of the given lengths.
    pub fn new(config: AdagradConfig, param_lens: &[usize]) -> Self {
        let state = param_lens
            .iter()
            .map(|&len| AdagradState {
                step: 0,
                sum: vec![T::of(config.initial_accumulator_value); len],
            })
            .collect();
        Adagrad {
            config,
            declared: config,
            state,
        }
    }
}

impl<T: Float> Optimizer<T> for Adagrad<T> {
    fn learning_rate(&self) -> f64 {
        self.config.lr
    }

    fn set_learning_rate(&mut self, lr: f64) {
        self.config.lr = lr;
    }

    fn state(&self) -> Vec<(String, Vec<f64>)> {
        let mut state = vec![("lr".to_string(), vec![self.config.lr])];
        for (i, s) in self.state.iter().enumerate() {
            state.push((format!("{i}.step"), vec![s.step as f64]));
            state.push((format!("{i}.sum"), widen(&s.sum)));
        }
        push_declared(&mut state, &self.declared.named());
        state
    }

    fn load_state(&mut self, state: &[(String, Vec<f64>)]) -> Result<(), StateError> {
        let mut r = StateReader::new(state);
        let lr = r.hyperparameter("lr", Range::NonNegative);
        let loaded: Vec<_> = (self.state.iter().enumerate())
            .map(|(i, s)| {
                (
                    r.step(&format!("{i}.step")),
                    r.squares::<T>(&format!("{i}.sum"), s.sum.len(), true),
                )
            })
            .collect();
        r.declared(&self.declared.named());
        r.finish("Adagrad")?;
        self.config.lr = lr;
        for (s, (step, sum)) in self.state.iter_mut().zip(loaded) {
            s.step = step;
            fill(&mut s.sum, sum);
        }
        Ok(())
    }

    fn update(&mut self, index: usize, param: &mut [T], grad: &[T]) {
        let state = &mut self.state[index];
        assert!(
            state.sum.len() == param.len() && param.len() == grad.len(),
            "optimizer: parameter {index} has {} values and {} gradients, expected {}",
            param.len(),
            grad.len(),
            state.sum.len()
        );
        let c = self.config;
        state.step += 1;
        // In f64, as PyTorch computes it in Python floats.
        let clr = c.lr / (1.0 + (state.step - 1) as f64 * c.lr_decay);
        let s = AdagradScalars {
            clr: T::of(clr),
            eps: T::of(c.eps),
            weight_decay: T::of(c.weight_decay),
            decay: c.weight_decay != 0.0,
        };
        split_update(grad, [param, &mut state.sum], |grad, [param, sum]| {
            adagrad_step(param, grad, sum, s)
        });
    }
}

/// The scalars of one Adagrad step, in the element type.
#[derive(Clone, Copy)]
struct AdagradScalars<T> {
    /// The decayed learning rate of this step.
    clr: T,
    eps: T,
    weight_decay: T,
    decay: bool,
}

crate::simd::dispatch! {
    fn adagrad_step<T: Float>(param: &mut [T], grad: &[T], sum: &mut [T], s: AdagradScalars<T>) => adagrad_body
}

#[inline(always)]
fn adagrad_body<T: Float>(param: &mut [T], grad: &[T], sum: &mut [T], s: AdagradScalars<T>) {
    let n = param.len();
    let (grad, sum) = (&grad[..n], &mut sum[..n]);
    for i in 0..n {
        let p = param[i];
        let g = if s.decay {
            grad[i] + s.weight_decay * p
        } else {
            grad[i]
        };
        let acc = sum[i] + g * g;
        sum[i] = acc;
        param[i] = p - s.clr * (g / (acc.sqrt() + s.eps));
    }
}
