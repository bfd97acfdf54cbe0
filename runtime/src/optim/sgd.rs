//! SGD (`torch.optim.SGD`): momentum, dampening, Nesterov, weight decay.

use super::state::*;
use super::Optimizer;
use crate::parallel::split_update;
use crate::{Float, StateError};

/// Hyperparameters of [`SGD`], with PyTorch's defaults.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SGDConfig {
    /// Learning rate; default 1e-3 (torch 2.15).
    pub lr: f64,
    /// Momentum factor; default 0 (plain SGD).
    pub momentum: f64,
    /// Dampening of the momentum's gradient term from step 2 on; default 0.
    pub dampening: f64,
    /// Nesterov momentum; default false. Needs `momentum > 0` and
    /// `dampening = 0`, as PyTorch requires (`model!` checks it; `SGD::new`
    /// does not).
    pub nesterov: bool,
    /// L2 penalty added to the gradient; default 0.
    pub weight_decay: f64,
}

impl SGDConfig {
    /// Every hyperparameter by name (flags as 0 or 1), as a checkpoint
    /// records the declaration.
    fn named(&self) -> [(&'static str, f64); 5] {
        [
            ("lr", self.lr),
            ("momentum", self.momentum),
            ("dampening", self.dampening),
            ("nesterov", flag(self.nesterov)),
            ("weight_decay", self.weight_decay),
        ]
    }
}

impl Default for SGDConfig {
    fn default() -> Self {
        SGDConfig {
            lr: 1e-3,
            momentum: 0.0,
            dampening: 0.0,
            nesterov: false,
            weight_decay: 0.0,
        }
    }
}

/// Stochastic gradient descent with optional momentum (PyTorch semantics:
/// the momentum buffer starts at the first gradient, lr scales the whole
/// velocity).
///
/// The momentum buffers are reserved when it is built, if the `momentum`
/// given then is not 0. A schedule that raises a momentum declared 0
/// (OneCycleLR, CyclicLR: SGD reports its momentum even when it is 0, as
/// PyTorch's does) makes the next step allocate the buffer, the one
/// allocation an update can make.
#[derive(Clone, Debug)]
pub struct SGD<T> {
    /// Hyperparameters.
    pub config: SGDConfig,
    /// The hyperparameters it was built with (a checkpoint is resumed
    /// only by an optimizer declared the same).
    declared: SGDConfig,
    /// Momentum buffers, empty until the parameter's first step with a
    /// momentum other than 0.
    momentum: Vec<Vec<T>>,
    lens: Vec<usize>,
}

impl<T: Float> SGD<T> {
    /// An optimizer for parameters of the given lengths.
    pub fn new(config: SGDConfig, param_lens: &[usize]) -> Self {
        let momentum = param_lens
            .iter()
            .map(|&len| {
                if config.momentum != 0.0 {
                    Vec::with_capacity(len)
                } else {
                    Vec::new()
                }
            })
            .collect();
        SGD {
            config,
            declared: config,
            momentum,
            lens: param_lens.to_vec(),
        }
    }
}

impl<T: Float> Optimizer<T> for SGD<T> {
    fn learning_rate(&self) -> f64 {
        self.config.lr
    }

    fn set_learning_rate(&mut self, lr: f64) {
        self.config.lr = lr;
    }

    fn momentum(&self) -> Option<f64> {
        Some(self.config.momentum)
    }

    fn set_momentum(&mut self, momentum: f64) {
        self.config.momentum = momentum;
    }

    fn state(&self) -> Vec<(String, Vec<f64>)> {
        let mut state = vec![
            ("lr".to_string(), vec![self.config.lr]),
            ("momentum".to_string(), vec![self.config.momentum]),
        ];
        for (i, buf) in self.momentum.iter().enumerate() {
            // Empty until the parameter's first step with momentum.
            if !buf.is_empty() {
                state.push((format!("{i}.momentum_buffer"), widen(buf)));
            }
        }
        push_declared(&mut state, &self.declared.named());
        state
    }

    fn load_state(&mut self, state: &[(String, Vec<f64>)]) -> Result<(), StateError> {
        let mut r = StateReader::new(state);
        let lr = r.hyperparameter("lr", Range::NonNegative);
        let momentum = r.hyperparameter(
            "momentum",
            if self.declared.nesterov {
                Range::Positive
            } else {
                Range::NonNegative
            },
        );
        let buffers: Vec<_> = (self.lens.iter().enumerate())
            .map(|(i, &len)| r.buffer::<T>(&format!("{i}.momentum_buffer"), len, false))
            .collect();
        r.declared(&self.declared.named());
        r.finish("SGD")?;
        self.config.lr = lr;
        self.config.momentum = momentum;
        for (buf, values) in self.momentum.iter_mut().zip(buffers) {
            fill(buf, values);
        }
        Ok(())
    }

    fn update(&mut self, index: usize, param: &mut [T], grad: &[T]) {
        check_lens(&self.lens, index, param.len(), grad.len());
        let c = self.config;
        let buf = &mut self.momentum[index];
        if c.momentum != 0.0 && buf.is_empty() {
            // First step: the buffer starts at the (decayed) gradient itself,
            // undamped: b <- g, so b <- 0 * b + 1 * g below.
            buf.resize(param.len(), T::zero());
            sgd_split(param, grad, buf, SGDScalars::new(&c, T::zero(), T::one()));
        } else {
            let keep = T::of(1.0 - c.dampening);
            sgd_split(
                param,
                grad,
                buf,
                SGDScalars::new(&c, T::of(c.momentum), keep),
            );
        }
    }
}

/// The scalars of one SGD step, in the element type.
#[derive(Clone, Copy)]
struct SGDScalars<T> {
    lr: T,
    weight_decay: T,
    /// Multiplies the old buffer (momentum, or 0 on the first step).
    mu_old: T,
    /// Multiplies the gradient into the buffer (1 - dampening, or 1).
    keep: T,
    /// Momentum for Nesterov's look-ahead.
    mu: T,
    momentum: bool,
    nesterov: bool,
    decay: bool,
}

impl<T: Float> SGDScalars<T> {
    fn new(c: &SGDConfig, mu_old: T, keep: T) -> Self {
        SGDScalars {
            lr: T::of(c.lr),
            weight_decay: T::of(c.weight_decay),
            mu_old,
            keep,
            mu: T::of(c.momentum),
            momentum: c.momentum != 0.0,
            nesterov: c.nesterov,
            decay: c.weight_decay != 0.0,
        }
    }
}

/// [`sgd_step`] on as many threads as a long parameter pays for.
fn sgd_split<T: Float>(param: &mut [T], grad: &[T], buf: &mut [T], s: SGDScalars<T>) {
    split_update(grad, [param, buf], |grad, [param, buf]| {
        sgd_step(param, grad, buf, s)
    });
}

crate::simd::dispatch! {
    fn sgd_step<T: Float>(param: &mut [T], grad: &[T], buf: &mut [T], s: SGDScalars<T>) => sgd_body
}

#[inline(always)]
fn sgd_body<T: Float>(param: &mut [T], grad: &[T], buf: &mut [T], s: SGDScalars<T>) {
    if !s.momentum {
        for (p, &g) in param.iter_mut().zip(grad) {
            let g = if s.decay { g + s.weight_decay * *p } else { g };
            *p = *p - s.lr * g;
        }
        return;
    }
    for ((p, &g), b) in param.iter_mut().zip(grad).zip(buf.iter_mut()) {
        let g = if s.decay { g + s.weight_decay * *p } else { g };
        *b = *b * s.mu_old + s.keep * g;
        let step = if s.nesterov { g + s.mu * *b } else { *b };
        *p = *p - s.lr * step;
    }
}
