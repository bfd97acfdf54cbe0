//! RMSprop (`torch.optim.RMSprop`): centered, with momentum.

use super::state::*;
use super::Optimizer;
use crate::parallel::split_update;
use crate::{Float, StateError};

/// Hyperparameters of [`RMSprop`], with PyTorch's defaults.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RMSpropConfig {
    /// Learning rate; default 1e-2.
    pub lr: f64,
    /// Smoothing constant of the running average of `g^2`; default 0.99.
    pub alpha: f64,
    /// Added to the root of the average, outside the square root (PyTorch;
    /// TensorFlow adds it inside); default 1e-8.
    pub eps: f64,
    /// L2 penalty added to the gradient; default 0.
    pub weight_decay: f64,
    /// Momentum factor; default 0 (no momentum buffer).
    pub momentum: f64,
    /// Divide by the estimated variance of the gradient (the average of
    /// `g^2` minus the square of the average of `g`) instead of the average
    /// of `g^2`; default false.
    pub centered: bool,
}

impl RMSpropConfig {
    /// Every hyperparameter by name (flags as 0 or 1), as a checkpoint
    /// records the declaration.
    fn named(&self) -> [(&'static str, f64); 6] {
        [
            ("lr", self.lr),
            ("alpha", self.alpha),
            ("eps", self.eps),
            ("weight_decay", self.weight_decay),
            ("momentum", self.momentum),
            ("centered", flag(self.centered)),
        ]
    }
}

impl Default for RMSpropConfig {
    fn default() -> Self {
        RMSpropConfig {
            lr: 1e-2,
            alpha: 0.99,
            eps: 1e-8,
            weight_decay: 0.0,
            momentum: 0.0,
            centered: false,
        }
    }
}

/// Per-parameter state of [`RMSprop`].
#[derive(Clone, Debug)]
struct RMSpropState<T> {
    /// Running average of `g^2`.
    square_avg: Vec<T>,
    /// Running average of `g` (centered only, else empty).
    grad_avg: Vec<T>,
    /// Momentum buffer (momentum > 0 only, else empty).
    momentum: Vec<T>,
}

/// RMSprop (PyTorch semantics: `eps` added after the square root; the
/// momentum buffer starts at zeros, unlike SGD's).
///
/// The buffers are allocated when it is built, for the `momentum` and
/// `centered` given then. A scheduler that raises a zero momentum later
/// (which PyTorch does not allow: its buffer would be missing) gets a buffer
/// of zeros on the next step, as does `config.centered` set after building;
/// those are the only allocations an update can make.
///
/// ```
/// # use macrograd_runtime as macrograd;
/// use macrograd::optim::{Optimizer, RMSprop, RMSpropConfig};
/// let mut rmsprop = RMSprop::<f64>::new(RMSpropConfig { eps: 0.0, ..Default::default() }, &[1]);
/// let mut p = [1.0];
/// rmsprop.update(0, &mut p, &[0.5]); // v = 0.01 * 0.25, p -= 0.01 * 0.5 / 0.05
/// assert!((p[0] - 0.9).abs() < 1e-12);
/// ```
#[derive(Clone, Debug)]
pub struct RMSprop<T> {
    /// Hyperparameters.
    pub config: RMSpropConfig,
    /// The hyperparameters it was built with (a checkpoint is resumed
    /// only by an optimizer declared the same).
    declared: RMSpropConfig,
    state: Vec<RMSpropState<T>>,
}

impl<T: Float> RMSprop<T> {
    /// An optimizer for parameters of the given lengths.
    pub fn new(config: RMSpropConfig, param_lens: &[usize]) -> Self {
        let zeros_if = |on: bool, len: usize| {
            if on {
                vec![T::zero(); len]
            } else {
                Vec::new()
            }
        };
        let state = param_lens
            .iter()
            .map(|&len| RMSpropState {
                square_avg: vec![T::zero(); len],
                grad_avg: zeros_if(config.centered, len),
                momentum: zeros_if(config.momentum > 0.0, len),
            })
            .collect();
        RMSprop {
            config,
            declared: config,
            state,
        }
    }
}

impl<T: Float> Optimizer<T> for RMSprop<T> {
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
        for (i, s) in self.state.iter().enumerate() {
            state.push((format!("{i}.square_avg"), widen(&s.square_avg)));
            // Empty unless centered / with momentum (see the type).
            if !s.grad_avg.is_empty() {
                state.push((format!("{i}.grad_avg"), widen(&s.grad_avg)));
            }
            if !s.momentum.is_empty() {
                state.push((format!("{i}.momentum_buffer"), widen(&s.momentum)));
            }
        }
        push_declared(&mut state, &self.declared.named());
        state
    }

    fn load_state(&mut self, state: &[(String, Vec<f64>)]) -> Result<(), StateError> {
        let mut r = StateReader::new(state);
        let lr = r.hyperparameter("lr", Range::NonNegative);
        let momentum = r.hyperparameter("momentum", Range::NonNegative);
        let loaded: Vec<_> = (self.state.iter().enumerate())
            .map(|(i, s)| {
                let len = s.square_avg.len();
                (
                    r.squares::<T>(&format!("{i}.square_avg"), len, true),
                    r.buffer::<T>(&format!("{i}.grad_avg"), len, false),
                    r.buffer::<T>(&format!("{i}.momentum_buffer"), len, false),
                )
            })
            .collect();
        r.declared(&self.declared.named());
        r.finish("RMSprop")?;
        self.config.lr = lr;
        self.config.momentum = momentum;
        for (s, (square_avg, grad_avg, momentum)) in self.state.iter_mut().zip(loaded) {
            fill(&mut s.square_avg, square_avg);
            fill(&mut s.grad_avg, grad_avg);
            fill(&mut s.momentum, momentum);
        }
        Ok(())
    }

    fn update(&mut self, index: usize, param: &mut [T], grad: &[T]) {
        let state = &mut self.state[index];
        assert!(
            state.square_avg.len() == param.len() && param.len() == grad.len(),
            "optimizer: parameter {index} has {} values and {} gradients, expected {}",
            param.len(),
            grad.len(),
            state.square_avg.len()
        );
        let c = self.config;
        let use_momentum = c.momentum > 0.0;
        // Only when a setting changed after construction (see the type).
        if c.centered && state.grad_avg.is_empty() {
            state.grad_avg.resize(param.len(), T::zero());
        }
        if use_momentum && state.momentum.is_empty() {
            state.momentum.resize(param.len(), T::zero());
        }
        let s = RMSpropScalars {
            lr: T::of(c.lr),
            alpha: T::of(c.alpha),
            one_minus_alpha: T::of(1.0 - c.alpha),
            eps: T::of(c.eps),
            weight_decay: T::of(c.weight_decay),
            momentum: T::of(c.momentum),
            decay: c.weight_decay != 0.0,
            centered: c.centered,
            use_momentum,
        };
        let RMSpropState {
            square_avg,
            grad_avg,
            momentum,
        } = state;
        let slices = [param, square_avg, grad_avg, momentum];
        split_update(grad, slices, |grad, [param, sq, ga, mo]| {
            rmsprop_step(param, grad, sq, ga, mo, s)
        });
    }
}

/// The scalars of one RMSprop step, in the element type.
#[derive(Clone, Copy)]
struct RMSpropScalars<T> {
    lr: T,
    alpha: T,
    one_minus_alpha: T,
    eps: T,
    weight_decay: T,
    momentum: T,
    decay: bool,
    centered: bool,
    use_momentum: bool,
}

crate::simd::dispatch! {
    fn rmsprop_step<T: Float>(
        param: &mut [T],
        grad: &[T],
        square_avg: &mut [T],
        grad_avg: &mut [T],
        momentum: &mut [T],
        s: RMSpropScalars<T>,
    ) => rmsprop_body
}

/// One loop per variant, so that none tests `centered` or `momentum` per
/// element.
#[inline(always)]
fn rmsprop_body<T: Float>(
    param: &mut [T],
    grad: &[T],
    square_avg: &mut [T],
    grad_avg: &mut [T],
    momentum: &mut [T],
    s: RMSpropScalars<T>,
) {
    // Direct calls (not a function pointer), so that each loop is inlined
    // into the AVX2 + FMA version too.
    let (p, g, v, gm, b) = (param, grad, square_avg, grad_avg, momentum);
    match (s.centered, s.use_momentum) {
        (false, false) => rmsprop_loop::<T, false, false>(p, g, v, gm, b, s),
        (false, true) => rmsprop_loop::<T, false, true>(p, g, v, gm, b, s),
        (true, false) => rmsprop_loop::<T, true, false>(p, g, v, gm, b, s),
        (true, true) => rmsprop_loop::<T, true, true>(p, g, v, gm, b, s),
    }
}

#[inline(always)]
fn rmsprop_loop<T: Float, const CENTERED: bool, const MOMENTUM: bool>(
    param: &mut [T],
    grad: &[T],
    square_avg: &mut [T],
    grad_avg: &mut [T],
    momentum: &mut [T],
    s: RMSpropScalars<T>,
) {
    let n = param.len();
    let (grad, square_avg) = (&grad[..n], &mut square_avg[..n]);
    let grad_avg = if CENTERED {
        &mut grad_avg[..n]
    } else {
        grad_avg
    };
    let momentum = if MOMENTUM {
        &mut momentum[..n]
    } else {
        momentum
    };
    for i in 0..n {
        let p = param[i];
        let g = if s.decay {
            grad[i] + s.weight_decay * p
        } else {
            grad[i]
        };
        let v = square_avg[i] * s.alpha + s.one_minus_alpha * g * g;
        square_avg[i] = v;
        let avg = if CENTERED {
            // gm <- lerp(gm, g, 1 - alpha), as fma((g - gm), 1 - alpha, gm).
            let gm = (g - grad_avg[i]).mul_add(s.one_minus_alpha, grad_avg[i]);
            grad_avg[i] = gm;
            (v - gm * gm).sqrt() + s.eps
        } else {
            v.sqrt() + s.eps
        };
        if MOMENTUM {
            let b = momentum[i] * s.momentum + g / avg;
            momentum[i] = b;
            param[i] = p - s.lr * b;
        } else {
            param[i] = p - s.lr * (g / avg);
        }
    }
}
