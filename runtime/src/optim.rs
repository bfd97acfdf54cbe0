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

    fn update(&mut self, index: usize, param: &mut [T], grad: &[T]) {
        check_lens(&self.lens, index, param.len(), grad.len());
        let c = self.config;
        let (lr, wd) = (T::of(c.lr), T::of(c.weight_decay));
        let decay = c.weight_decay != 0.0;
        if c.momentum == 0.0 {
            for (p, &g) in param.iter_mut().zip(grad) {
                let g = if decay { g + wd * *p } else { g };
                *p = *p - lr * g;
            }
            return;
        }
        let (mu, keep) = (T::of(c.momentum), T::of(1.0 - c.dampening));
        let buf = &mut self.momentum[index];
        if buf.is_empty() {
            // First step: the buffer is the gradient itself, undamped.
            buf.extend(
                param
                    .iter()
                    .zip(grad)
                    .map(|(&p, &g)| if decay { g + wd * p } else { g }),
            );
            for ((p, &g), &b) in param.iter_mut().zip(grad).zip(buf.iter()) {
                let g = if decay { g + wd * *p } else { g };
                let step = if c.nesterov { g + mu * b } else { b };
                *p = *p - lr * step;
            }
            return;
        }
        for ((p, &g), b) in param.iter_mut().zip(grad).zip(buf.iter_mut()) {
            let g = if decay { g + wd * *p } else { g };
            *b = *b * mu + keep * g;
            let step = if c.nesterov { g + mu * *b } else { *b };
            *p = *p - lr * step;
        }
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
        let step_size = T::of(c.lr / bias1);
        let (one_minus_b1, b2t, one_minus_b2) = (T::of(1.0 - b1), T::of(b2), T::of(1.0 - b2));
        let (bias2_sqrt, eps) = (T::of(bias2_sqrt), T::of(c.eps));
        let l2 = !c.decoupled && c.weight_decay != 0.0;
        let wd = T::of(c.weight_decay);
        let shrink = T::of(1.0 - c.lr * c.weight_decay);
        let decay = c.decoupled && c.weight_decay != 0.0;
        let amsgrad = c.amsgrad;
        for (i, (p, &g)) in param.iter_mut().zip(grad).enumerate() {
            if decay {
                *p = *p * shrink;
            }
            let g = if l2 { g + wd * *p } else { g };
            // m <- lerp(m, g, 1 - b1), as fma((g - m), 1 - b1, m).
            let m = (g - state.m[i]).mul_add(one_minus_b1, state.m[i]);
            state.m[i] = m;
            let v = state.v[i] * b2t + one_minus_b2 * g * g;
            state.v[i] = v;
            let v_used = if amsgrad {
                let vm = state.v_max[i].max(v);
                state.v_max[i] = vm;
                vm
            } else {
                v
            };
            let denom = v_used.sqrt() / bias2_sqrt + eps;
            *p = *p - step_size * (m / denom);
        }
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
