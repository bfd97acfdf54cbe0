//! Optimizers with PyTorch's update rules and defaults.
//!
//! An optimizer holds its hyperparameters (a `*Config`) and one state per
//! parameter tensor, allocated when it is built, so a step allocates
//! nothing. `update(i, param, grad)` applies one step to parameter `i`.
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
//!
//! ```
//! use macrograd_runtime::optim::{Optimizer, Sgd, SgdConfig};
//! let mut sgd = Sgd::<f64>::new(SgdConfig { lr: 0.1, ..SgdConfig::default() }, &[2]);
//! let mut p = [1.0, -2.0];
//! sgd.update(0, &mut p, &[0.5, -1.0]);
//! assert_eq!(p, [0.95, -1.9]);
//! ```

use crate::Float;

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

    /// One update of parameter `index` from its gradient.
    ///
    /// # Panics
    ///
    /// If `index` is not a parameter this optimizer was built for, or the
    /// lengths differ from the one it was built with.
    fn update(&mut self, index: usize, param: &mut [T], grad: &[T]);
}

/// Hyperparameters of [`Sgd`], with PyTorch's defaults.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SgdConfig {
    /// Learning rate; default 1e-3 (torch 2.15).
    pub lr: f64,
    /// Momentum factor; default 0 (plain SGD).
    pub momentum: f64,
    /// Dampening of the momentum's gradient term from step 2 on; default 0.
    pub dampening: f64,
    /// Nesterov momentum; default false. Needs `momentum > 0`, `dampening = 0`.
    pub nesterov: bool,
    /// L2 penalty added to the gradient; default 0.
    pub weight_decay: f64,
}

impl Default for SgdConfig {
    fn default() -> Self {
        SgdConfig {
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
#[derive(Clone, Debug)]
pub struct Sgd<T> {
    /// Hyperparameters.
    pub config: SgdConfig,
    /// Momentum buffers, empty until the parameter's first step.
    momentum: Vec<Vec<T>>,
    lens: Vec<usize>,
}

impl<T: Float> Sgd<T> {
    /// An optimizer for parameters of the given lengths.
    pub fn new(config: SgdConfig, param_lens: &[usize]) -> Self {
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
        Sgd {
            config,
            momentum,
            lens: param_lens.to_vec(),
        }
    }
}

#[track_caller]
fn check_lens(lens: &[usize], index: usize, param: usize, grad: usize) {
    assert!(
        lens.get(index) == Some(&param) && param == grad,
        "optimizer: parameter {index} has {param} values and {grad} gradients, expected {:?}",
        lens.get(index)
    );
}

impl<T: Float> Optimizer<T> for Sgd<T> {
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

    fn update(&mut self, index: usize, param: &mut [T], grad: &[T]) {
        check_lens(&self.lens, index, param.len(), grad.len());
        let c = self.config;
        let buf = &mut self.momentum[index];
        if c.momentum != 0.0 && buf.is_empty() {
            // First step: the buffer starts at the (decayed) gradient itself,
            // undamped: b <- g, so b <- 0 * b + 1 * g below.
            buf.resize(param.len(), T::zero());
            sgd_step(param, grad, buf, SgdScalars::new(&c, T::zero(), T::one()));
        } else {
            let keep = T::of(1.0 - c.dampening);
            sgd_step(
                param,
                grad,
                buf,
                SgdScalars::new(&c, T::of(c.momentum), keep),
            );
        }
    }
}

/// The scalars of one SGD step, in the element type.
#[derive(Clone, Copy)]
struct SgdScalars<T> {
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

impl<T: Float> SgdScalars<T> {
    fn new(c: &SgdConfig, mu_old: T, keep: T) -> Self {
        SgdScalars {
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

crate::simd::dispatch! {
    fn sgd_step<T: Float>(param: &mut [T], grad: &[T], buf: &mut [T], s: SgdScalars<T>) => sgd_body
}

#[inline(always)]
fn sgd_body<T: Float>(param: &mut [T], grad: &[T], buf: &mut [T], s: SgdScalars<T>) {
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

/// Hyperparameters of [`Adam`], with PyTorch's defaults for `Adam`
/// (`AdamConfig::adamw()` gives `AdamW`'s).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdamConfig {
    /// Learning rate; default 1e-3.
    pub lr: f64,
    /// Decay rates of the first and second moments; default (0.9, 0.999).
    pub betas: (f64, f64),
    /// Added to the bias-corrected `sqrt(v)`; default 1e-8.
    pub eps: f64,
    /// Weight decay; default 0 for Adam, 0.01 for AdamW.
    pub weight_decay: f64,
    /// Use the maximum of past second moments (AMSGrad); default false.
    pub amsgrad: bool,
    /// `false`: L2 added to the gradient (Adam); `true`: decoupled decay of
    /// the weights scaled by lr (AdamW).
    pub decoupled: bool,
}

impl Default for AdamConfig {
    fn default() -> Self {
        AdamConfig {
            lr: 1e-3,
            betas: (0.9, 0.999),
            eps: 1e-8,
            weight_decay: 0.0,
            amsgrad: false,
            decoupled: false,
        }
    }
}

impl AdamConfig {
    /// `AdamW`'s defaults: Adam's, with decoupled weight decay 0.01.
    pub fn adamw() -> Self {
        AdamConfig {
            weight_decay: 0.01,
            decoupled: true,
            ..AdamConfig::default()
        }
    }
}

/// Per-parameter state of [`Adam`].
#[derive(Clone, Debug)]
struct AdamState<T> {
    step: u64,
    m: Vec<T>,
    v: Vec<T>,
    v_max: Vec<T>,
}

/// Adam and AdamW (PyTorch semantics: eps after bias-correcting `sqrt(v)`;
/// the step counter is per parameter).
#[derive(Clone, Debug)]
pub struct Adam<T> {
    /// Hyperparameters.
    pub config: AdamConfig,
    state: Vec<AdamState<T>>,
}

impl<T: Float> Adam<T> {
    /// An optimizer for parameters of the given lengths.
    pub fn new(config: AdamConfig, param_lens: &[usize]) -> Self {
        let state = param_lens
            .iter()
            .map(|&len| AdamState {
                step: 0,
                m: vec![T::zero(); len],
                v: vec![T::zero(); len],
                v_max: if config.amsgrad {
                    vec![T::zero(); len]
                } else {
                    Vec::new()
                },
            })
            .collect();
        Adam { config, state }
    }
}

impl<T: Float> Optimizer<T> for Adam<T> {
    fn learning_rate(&self) -> f64 {
        self.config.lr
    }

    fn set_learning_rate(&mut self, lr: f64) {
        self.config.lr = lr;
    }

    fn momentum(&self) -> Option<f64> {
        Some(self.config.betas.0)
    }

    fn set_momentum(&mut self, beta1: f64) {
        self.config.betas.0 = beta1;
    }

    fn update(&mut self, index: usize, param: &mut [T], grad: &[T]) {
        let state = &mut self.state[index];
        assert!(
            state.m.len() == param.len() && param.len() == grad.len(),
            "optimizer: parameter {index} has {} values and {} gradients, expected {}",
            param.len(),
            grad.len(),
            state.m.len()
        );
        let c = self.config;
        state.step += 1;
        let (b1, b2) = c.betas;
        // Scalars in f64, as PyTorch computes them in Python floats.
        let bias1 = 1.0 - b1.powf(state.step as f64);
        let bias2_sqrt = (1.0 - b2.powf(state.step as f64)).sqrt();
        let s = AdamScalars {
            step_size: T::of(c.lr / bias1),
            one_minus_b1: T::of(1.0 - b1),
            b2: T::of(b2),
            one_minus_b2: T::of(1.0 - b2),
            bias2_sqrt: T::of(bias2_sqrt),
            eps: T::of(c.eps),
            weight_decay: T::of(c.weight_decay),
            shrink: T::of(1.0 - c.lr * c.weight_decay),
            l2: !c.decoupled && c.weight_decay != 0.0,
            decay: c.decoupled && c.weight_decay != 0.0,
            amsgrad: c.amsgrad,
        };
        let AdamState { m, v, v_max, .. } = state;
        adam_step(param, grad, m, v, v_max, s);
    }
}

/// The scalars of one Adam step, in the element type.
#[derive(Clone, Copy)]
struct AdamScalars<T> {
    step_size: T,
    one_minus_b1: T,
    b2: T,
    one_minus_b2: T,
    bias2_sqrt: T,
    eps: T,
    weight_decay: T,
    shrink: T,
    l2: bool,
    decay: bool,
    amsgrad: bool,
}

crate::simd::dispatch! {
    fn adam_step<T: Float>(
        param: &mut [T],
        grad: &[T],
        m: &mut [T],
        v: &mut [T],
        v_max: &mut [T],
        s: AdamScalars<T>,
    ) => adam_body
}

#[inline(always)]
fn adam_body<T: Float>(
    param: &mut [T],
    grad: &[T],
    m: &mut [T],
    v: &mut [T],
    v_max: &mut [T],
    s: AdamScalars<T>,
) {
    let n = param.len();
    let (grad, m, v) = (&grad[..n], &mut m[..n], &mut v[..n]);
    for i in 0..n {
        let mut p = param[i];
        if s.decay {
            p = p * s.shrink;
        }
        let g = if s.l2 {
            grad[i] + s.weight_decay * p
        } else {
            grad[i]
        };
        // m <- lerp(m, g, 1 - b1), as fma((g - m), 1 - b1, m).
        let mi = (g - m[i]).mul_add(s.one_minus_b1, m[i]);
        m[i] = mi;
        let vi = v[i] * s.b2 + s.one_minus_b2 * g * g;
        v[i] = vi;
        let v_used = if s.amsgrad {
            let vm = v_max[i].max(vi);
            v_max[i] = vm;
            vm
        } else {
            vi
        };
        let denom = v_used.sqrt() / s.bias2_sqrt + s.eps;
        param[i] = p - s.step_size * (mi / denom);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs three hand-fed steps from theta0 = [1, -2] (reference §2.10).
    fn run(opt: &mut dyn Optimizer<f64>, grads: &[[f64; 2]; 3]) -> Vec<[f64; 2]> {
        let mut p = [1.0, -2.0];
        grads
            .iter()
            .map(|g| {
                opt.update(0, &mut p, g);
                p
            })
            .collect()
    }

    const G: [[f64; 2]; 3] = [[0.5, -1.0], [0.1, 0.3], [-0.4, 0.2]];
    const G2: [[f64; 2]; 3] = [[0.5, -1.0], [0.0, 0.0], [0.0, 0.0]];

    #[track_caller]
    fn close(got: &[[f64; 2]], want: &[[f64; 2]]) {
        for (g, w) in got.iter().zip(want) {
            for k in 0..2 {
                assert!((g[k] - w[k]).abs() < 1e-9, "got {got:?}, want {want:?}");
            }
        }
    }

    fn sgd(config: SgdConfig) -> Sgd<f64> {
        Sgd::new(config, &[2])
    }

    fn adam(config: AdamConfig) -> Adam<f64> {
        Adam::new(config, &[2])
    }

    #[test]
    fn sgd_golden() {
        let base = SgdConfig {
            lr: 0.1,
            ..SgdConfig::default()
        };
        close(
            &run(&mut sgd(base), &G),
            &[[0.95, -1.9], [0.94, -1.93], [0.98, -1.95]],
        );
        let mom = SgdConfig {
            momentum: 0.9,
            ..base
        };
        close(
            &run(&mut sgd(mom), &G),
            &[[0.95, -1.9], [0.895, -1.84], [0.8855, -1.806]],
        );
        let damp = SgdConfig {
            dampening: 0.5,
            ..mom
        };
        close(
            &run(&mut sgd(damp), &G),
            &[[0.95, -1.9], [0.9, -1.825], [0.875, -1.7675]],
        );
        let nest = SgdConfig {
            nesterov: true,
            weight_decay: 0.01,
            ..mom
        };
        close(
            &run(&mut sgd(nest), &G),
            &[
                [0.9031, -1.8062],
                [0.84107411, -1.77714822],
                [0.8694655582, -1.7602506164],
            ],
        );
    }

    #[test]
    fn adam_golden() {
        let base = AdamConfig {
            lr: 0.1,
            ..AdamConfig::default()
        };
        close(
            &run(&mut adam(base), &G),
            &[
                [0.900000002, -1.900000001],
                [0.8196959064, -1.8572151424],
                [0.8103259664, -1.8367640907],
            ],
        );
        close(
            &run(
                &mut adam(AdamConfig {
                    weight_decay: 0.1,
                    ..base
                }),
                &G,
            ),
            &[
                [0.9000000017, -1.9000000008],
                [0.8136483454, -1.8400703555],
                [0.7829837791, -1.7945972463],
            ],
        );
        let adamw = AdamConfig {
            lr: 0.1,
            ..AdamConfig::adamw()
        };
        close(
            &run(&mut adam(adamw), &G),
            &[
                [0.899000002, -1.898000001],
                [0.8177969064, -1.8533171424],
                [0.8076091694, -1.8310127736],
            ],
        );
        close(
            &run(
                &mut adam(AdamConfig {
                    weight_decay: 0.1,
                    ..adamw
                }),
                &G,
            ),
            &[
                [0.890000002, -1.880000001],
                [0.8007959064, -1.8184151424],
                [0.7834180073, -1.7797799393],
            ],
        );
        close(
            &run(&mut adam(base), &G2),
            &[
                [0.900000002, -1.900000001],
                [0.8329941785, -1.8329941765],
                [0.781198483, -1.7811984802],
            ],
        );
        close(
            &run(
                &mut adam(AdamConfig {
                    amsgrad: true,
                    ..base
                }),
                &G2,
            ),
            &[
                [0.900000002, -1.900000001],
                [0.8330276898, -1.8330276878],
                [0.78128379, -1.7812837872],
            ],
        );
    }

    #[test]
    fn zero_lr_changes_nothing() {
        let mut p = [1.0, -2.0];
        let mut opt = adam(AdamConfig {
            lr: 0.0,
            ..AdamConfig::default()
        });
        opt.update(0, &mut p, &[0.5, 0.5]);
        assert_eq!(p, [1.0, -2.0]);
    }
}
