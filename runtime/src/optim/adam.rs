//! Adam and AdamW (`torch.optim.Adam`, `torch.optim.AdamW`), with AMSGrad.

use super::state::*;
use super::Optimizer;
use crate::parallel::split_update;
use crate::{Float, StateError};

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
    /// the weights scaled by lr (AdamW). Default false (true in
    /// [`AdamConfig::adamw`]).
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
    /// Every hyperparameter by name (flags as 0 or 1), as a checkpoint
    /// records the declaration.
    fn named(&self) -> [(&'static str, f64); 7] {
        [
            ("lr", self.lr),
            ("beta1", self.betas.0),
            ("beta2", self.betas.1),
            ("eps", self.eps),
            ("weight_decay", self.weight_decay),
            ("amsgrad", flag(self.amsgrad)),
            ("decoupled", flag(self.decoupled)),
        ]
    }

    /// `AdamW`'s defaults: Adam's, with decoupled weight decay 0.01.
    pub fn adamw() -> Self {
        AdamConfig {
            weight_decay: 0.01,
            decoupled: true,
            ..AdamConfig::default()
        }
    }
}

/// AdamW (`torch.optim.AdamW`): an [`Adam`] built with decoupled weight
/// decay ([`AdamConfig::adamw`]: `decoupled: true`, weight decay 0.01), as
/// PyTorch's `AdamW` is its `Adam` with `decoupled_weight_decay=True`. The
/// language's `AdamW(..)` builds one.
///
/// ```
/// # use macrograd_runtime as macrograd;
/// use macrograd::optim::{AdamConfig, AdamW, Optimizer};
/// let mut adamw = AdamW::<f64>::new(AdamConfig { lr: 0.1, ..AdamConfig::adamw() }, &[1]);
/// let mut p = [1.0];
/// adamw.update(0, &mut p, &[0.0]);
/// assert_eq!(p, [1.0 - 0.1 * 0.01]); // only the decay: p (1 - lr wd)
/// ```
pub type AdamW<T> = Adam<T>;

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
    /// The hyperparameters it was built with (a checkpoint is resumed
    /// only by an optimizer declared the same).
    declared: AdamConfig,
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
        Adam {
            config,
            declared: config,
            state,
        }
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

    fn state(&self) -> Vec<(String, Vec<f64>)> {
        let mut state = vec![
            ("lr".to_string(), vec![self.config.lr]),
            ("beta1".to_string(), vec![self.config.betas.0]),
        ];
        for (i, s) in self.state.iter().enumerate() {
            state.push((format!("{i}.step"), vec![s.step as f64]));
            state.push((format!("{i}.exp_avg"), widen(&s.m)));
            state.push((format!("{i}.exp_avg_sq"), widen(&s.v)));
            if self.config.amsgrad {
                state.push((format!("{i}.max_exp_avg_sq"), widen(&s.v_max)));
            }
        }
        push_declared(&mut state, &self.declared.named());
        state
    }

    fn load_state(&mut self, state: &[(String, Vec<f64>)]) -> Result<(), StateError> {
        let mut r = StateReader::new(state);
        let lr = r.hyperparameter("lr", Range::NonNegative);
        let beta1 = r.hyperparameter("beta1", Range::UnitOpen);
        let amsgrad = self.config.amsgrad;
        let loaded: Vec<_> = (self.state.iter().enumerate())
            .map(|(i, s)| {
                let len = s.m.len();
                (
                    r.step(&format!("{i}.step")),
                    r.buffer::<T>(&format!("{i}.exp_avg"), len, true),
                    r.squares::<T>(&format!("{i}.exp_avg_sq"), len, true),
                    // Without AMSGrad, an entry of that name is unexpected.
                    amsgrad
                        .then(|| r.squares::<T>(&format!("{i}.max_exp_avg_sq"), len, true))
                        .flatten(),
                )
            })
            .collect();
        let name = match (self.config.decoupled, amsgrad) {
            (false, false) => "Adam",
            (false, true) => "Adam (amsgrad)",
            (true, false) => "AdamW",
            (true, true) => "AdamW (amsgrad)",
        };
        r.declared(&self.declared.named());
        r.finish(name)?;
        self.config.lr = lr;
        self.config.betas.0 = beta1;
        for (s, (step, m, v, v_max)) in self.state.iter_mut().zip(loaded) {
            s.step = step;
            fill(&mut s.m, m);
            fill(&mut s.v, v);
            if amsgrad {
                fill(&mut s.v_max, v_max);
            }
        }
        Ok(())
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
        split_update(grad, [param, m, v, v_max], |grad, [param, m, v, v_max]| {
            adam_step(param, grad, m, v, v_max, s)
        });
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
