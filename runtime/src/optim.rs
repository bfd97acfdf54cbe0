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
//! RMSprop (`torch.optim.RMSprop`; every state starts at zeros):
//! ```text
//! g <- g + weight_decay * p
//! v <- alpha v + (1 - alpha) g^2
//! avg <- sqrt(v - gm^2) + eps, gm <- gm + (1 - alpha)(g - gm) (centered)
//!      | sqrt(v) + eps
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
//! use macrograd_runtime::optim::{Optimizer, Sgd, SgdConfig};
//! let mut sgd = Sgd::<f64>::new(SgdConfig { lr: 0.1, ..SgdConfig::default() }, &[2]);
//! let mut p = [1.0, -2.0];
//! sgd.update(0, &mut p, &[0.5, -1.0]);
//! assert_eq!(p, [0.95, -1.9]);
//! ```

use crate::parallel::{for_ranges, Split};
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
    /// use macrograd_runtime::optim::{Optimizer, Sgd, SgdConfig};
    /// let config = SgdConfig { lr: 0.1, momentum: 0.9, ..SgdConfig::default() };
    /// let mut sgd = Sgd::<f32>::new(config, &[2]);
    /// sgd.update(0, &mut [1.0, 2.0], &[0.5, -0.25]);
    /// let state = sgd.state();
    /// assert_eq!(state[2], ("0.momentum_buffer".to_string(), vec![0.5, -0.25]));
    /// let mut resumed = Sgd::<f32>::new(config, &[2]);
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
    /// A message naming the optimizer and every problem found: a missing
    /// entry, an unexpected or repeated name, a wrong number of values, a
    /// declared hyperparameter that differs from this optimizer's
    /// declaration (a state saved by `SGD(0.01)` given to an optimizer
    /// declared with momentum), a hyperparameter outside the range the
    /// declaration allows (`lr >= 0`: a schedule may reach 0;
    /// `momentum >= 0`, `> 0` with Nesterov; `0 <= beta1 < 1`), a step count that is
    /// not a whole number, a buffer value that is not finite (or negative,
    /// for the sums and averages of squares), a value the element type
    /// cannot hold exactly (an `f32` optimizer given `0.1`). Nothing is
    /// changed then.
    fn load_state(&mut self, state: &[(String, Vec<f64>)]) -> Result<(), String>;

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

impl SgdConfig {
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
    /// The hyperparameters it was built with (a checkpoint is resumed
    /// only by an optimizer declared the same).
    declared: SgdConfig,
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
            declared: config,
            momentum,
            lens: param_lens.to_vec(),
        }
    }
}

/// The prefix of the declared hyperparameters in [`Optimizer::state`].
const DECLARED: &str = "declared.";

/// The values a hyperparameter or buffer read from a saved state may take.
#[derive(Clone, Copy)]
enum Range {
    /// Any finite number.
    Finite,
    /// Finite and `>= 0` (learning rates, momentum, squares).
    NonNegative,
    /// Finite and `> 0` (Nesterov's momentum).
    Positive,
    /// In `[0, 1)` (Adam's `beta1`).
    UnitOpen,
}

impl Range {
    fn holds(self, v: f64) -> bool {
        match self {
            Range::Finite => v.is_finite(),
            Range::NonNegative => v.is_finite() && v >= 0.0,
            Range::Positive => v.is_finite() && v > 0.0,
            Range::UnitOpen => (0.0..1.0).contains(&v),
        }
    }

    fn text(self) -> &'static str {
        match self {
            Range::Finite => "finite",
            Range::NonNegative => "a finite number >= 0",
            Range::Positive => "a finite number > 0",
            Range::UnitOpen => "in [0, 1)",
        }
    }
}

/// Appends the declared hyperparameters to a state, as `declared.<name>`.
fn push_declared(state: &mut Vec<(String, Vec<f64>)>, declared: &[(&str, f64)]) {
    for &(name, value) in declared {
        state.push((format!("{DECLARED}{name}"), vec![value]));
    }
}

/// `1.0` for `true`, `0.0` for `false`: how a flag is saved.
fn flag(on: bool) -> f64 {
    if on {
        1.0
    } else {
        0.0
    }
}

/// Reads the entries given to [`Optimizer::load_state`]: each name at most
/// once, every problem collected, so one error lists them all.
struct StateReader<'a> {
    entries: &'a [(String, Vec<f64>)],
    /// Name -> index of its first entry.
    index: std::collections::HashMap<&'a str, usize>,
    used: Vec<bool>,
    problems: Vec<String>,
}

/// The largest whole number every smaller one of which `f64` holds.
const MAX_EXACT_COUNT: f64 = (1u64 << 53) as f64;

impl<'a> StateReader<'a> {
    fn new(entries: &'a [(String, Vec<f64>)]) -> Self {
        let mut index = std::collections::HashMap::with_capacity(entries.len());
        let mut problems = Vec::new();
        for (i, (name, _)) in entries.iter().enumerate() {
            // The first entry of a name counts; a repeat is a problem.
            if *index.entry(name.as_str()).or_insert(i) != i {
                problems.push(format!("`{name}` is given more than once"));
            }
        }
        StateReader {
            entries,
            index,
            used: vec![false; entries.len()],
            problems,
        }
    }

    /// The values of `name`, marked as read.
    fn find(&mut self, name: &str) -> Option<&'a [f64]> {
        let &i = self.index.get(name)?;
        self.used[i] = true;
        Some(&self.entries[i].1)
    }

    /// The values of `name`, which must be `len` long; a problem (and
    /// `None`) if it is absent and `required`, or of another length.
    fn values(&mut self, name: &str, len: usize, required: bool) -> Option<&'a [f64]> {
        match self.find(name) {
            None => {
                if required {
                    self.problems.push(format!("`{name}` is missing"));
                }
                None
            }
            Some(values) if values.len() != len => {
                self.problems.push(format!(
                    "`{name}` has {} values, expected {len}",
                    values.len()
                ));
                None
            }
            Some(values) => Some(values),
        }
    }

    /// A required hyperparameter in the range `range` says (0 after a
    /// problem): the same range the declaration is checked against, except
    /// that a learning rate may be 0 (where a schedule can take it).
    fn hyperparameter(&mut self, name: &str, range: Range) -> f64 {
        match self.values(name, 1, true) {
            Some(&[value]) if range.holds(value) => value,
            Some(&[value]) => {
                self.problems.push(format!(
                    "`{name}` must be {}, found {value:?}",
                    range.text()
                ));
                0.0
            }
            _ => 0.0,
        }
    }

    /// Checks the hyperparameters the state was saved with (entries
    /// `declared.<name>`) against this optimizer's declaration `own`:
    /// resuming continues the run that was declared, so every one must be
    /// equal.
    fn declared(&mut self, own: &[(&str, f64)]) {
        for &(name, value) in own {
            let key = format!("{DECLARED}{name}");
            if let Some(&[saved]) = self.values(&key, 1, true) {
                if saved != value {
                    self.problems.push(format!(
                        "the state was saved by an optimizer declared with {name} = {saved:?}, \
                         this one is declared with {name} = {value:?}"
                    ));
                }
            }
        }
    }

    /// A required step count: a whole number in `0..=2^53` (0 after a
    /// problem).
    fn step(&mut self, name: &str) -> u64 {
        match self.values(name, 1, true) {
            Some(&[value]) if (0.0..=MAX_EXACT_COUNT).contains(&value) && value.fract() == 0.0 => {
                value as u64
            }
            Some(&[value]) => {
                self.problems.push(format!(
                    "`{name}` must be a whole number of steps, found {value:?}"
                ));
                0
            }
            _ => 0,
        }
    }

    /// A buffer of `len` finite values that `T` holds exactly.
    fn buffer<T: Float>(&mut self, name: &str, len: usize, required: bool) -> Option<&'a [f64]> {
        self.buffer_in::<T>(name, len, required, Range::Finite)
    }

    /// A buffer of `len` finite values `>= 0` (sums and averages of
    /// squares, whose roots the update takes) that `T` holds exactly.
    fn squares<T: Float>(&mut self, name: &str, len: usize, required: bool) -> Option<&'a [f64]> {
        self.buffer_in::<T>(name, len, required, Range::NonNegative)
    }

    fn buffer_in<T: Float>(
        &mut self,
        name: &str,
        len: usize,
        required: bool,
        range: Range,
    ) -> Option<&'a [f64]> {
        let values = self.values(name, len, required)?;
        if let Some(at) = values.iter().position(|&v| !range.holds(v)) {
            self.problems.push(format!(
                "`{name}` holds {:?} at index {at}, expected {}",
                values[at],
                range.text()
            ));
            return None;
        }
        let inexact = values.iter().position(|&v| Float::to_f64(T::of(v)) != v);
        if let Some(at) = inexact {
            self.problems.push(format!(
                "`{name}` holds {:?} at index {at}, which {} cannot represent exactly",
                values[at],
                T::NAME
            ));
            return None;
        }
        Some(values)
    }

    /// `Ok` if every entry was read and no problem was found; else every
    /// problem, unexpected names included, after the optimizer's name.
    fn finish(mut self, optimizer: &str) -> Result<(), String> {
        for (i, (name, _)) in self.entries.iter().enumerate() {
            if !self.used[i] && self.index.get(name.as_str()) == Some(&i) {
                self.problems.push(format!("unexpected entry `{name}`"));
            }
        }
        if self.problems.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "cannot load the {optimizer} state: {}",
                self.problems.join("; ")
            ))
        }
    }
}

/// Replaces `dst` by `src` (or empties it), converted to `T`; keeps the
/// allocation when it is large enough.
fn fill<T: Float>(dst: &mut Vec<T>, src: Option<&[f64]>) {
    dst.clear();
    if let Some(src) = src {
        dst.extend(src.iter().map(|&v| T::of(v)));
    }
}

/// Widens a buffer for [`Optimizer::state`].
fn widen<T: Float>(values: &[T]) -> Vec<f64> {
    values.iter().map(|&v| Float::to_f64(v)).collect()
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

    fn load_state(&mut self, state: &[(String, Vec<f64>)]) -> Result<(), String> {
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
            sgd_split(param, grad, buf, SgdScalars::new(&c, T::zero(), T::one()));
        } else {
            let keep = T::of(1.0 - c.dampening);
            sgd_split(
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

/// [`sgd_step`] on as many threads as a long parameter pays for.
fn sgd_split<T: Float>(param: &mut [T], grad: &[T], buf: &mut [T], s: SgdScalars<T>) {
    let (p, b) = (Split::new(param), Split::new(buf));
    for_ranges(grad.len(), &|r| {
        // SAFETY: the ranges are disjoint and inside the slices, which
        // outlive the call.
        let (param, buf) = unsafe { (p.part(r.clone()), b.part(r.clone())) };
        sgd_step(param, &grad[r], buf, s);
    });
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

    fn load_state(&mut self, state: &[(String, Vec<f64>)]) -> Result<(), String> {
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
        let (p, m, v, v_max) = (
            Split::new(param),
            Split::new(m),
            Split::new(v),
            Split::new(v_max),
        );
        for_ranges(grad.len(), &|r| {
            // SAFETY: the ranges are disjoint and inside the slices, which
            // outlive the call.
            unsafe {
                adam_step(
                    p.part(r.clone()),
                    &grad[r.clone()],
                    m.part(r.clone()),
                    v.part(r.clone()),
                    v_max.part(r),
                    s,
                );
            }
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

/// Hyperparameters of [`RmsProp`], with PyTorch's defaults.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RmsPropConfig {
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

impl RmsPropConfig {
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

impl Default for RmsPropConfig {
    fn default() -> Self {
        RmsPropConfig {
            lr: 1e-2,
            alpha: 0.99,
            eps: 1e-8,
            weight_decay: 0.0,
            momentum: 0.0,
            centered: false,
        }
    }
}

/// Per-parameter state of [`RmsProp`].
#[derive(Clone, Debug)]
struct RmsPropState<T> {
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
/// of zeros on the next step, the one allocation an update can make.
///
/// ```
/// use macrograd_runtime::optim::{Optimizer, RmsProp, RmsPropConfig};
/// let mut rmsprop = RmsProp::<f64>::new(RmsPropConfig { eps: 0.0, ..Default::default() }, &[1]);
/// let mut p = [1.0];
/// rmsprop.update(0, &mut p, &[0.5]); // v = 0.01 * 0.25, p -= 0.01 * 0.5 / 0.05
/// assert!((p[0] - 0.9).abs() < 1e-12);
/// ```
#[derive(Clone, Debug)]
pub struct RmsProp<T> {
    /// Hyperparameters.
    pub config: RmsPropConfig,
    /// The hyperparameters it was built with (a checkpoint is resumed
    /// only by an optimizer declared the same).
    declared: RmsPropConfig,
    state: Vec<RmsPropState<T>>,
}

impl<T: Float> RmsProp<T> {
    /// An optimizer for parameters of the given lengths.
    pub fn new(config: RmsPropConfig, param_lens: &[usize]) -> Self {
        let zeros_if = |on: bool, len: usize| {
            if on {
                vec![T::zero(); len]
            } else {
                Vec::new()
            }
        };
        let state = param_lens
            .iter()
            .map(|&len| RmsPropState {
                square_avg: vec![T::zero(); len],
                grad_avg: zeros_if(config.centered, len),
                momentum: zeros_if(config.momentum > 0.0, len),
            })
            .collect();
        RmsProp {
            config,
            declared: config,
            state,
        }
    }
}

impl<T: Float> Optimizer<T> for RmsProp<T> {
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

    fn load_state(&mut self, state: &[(String, Vec<f64>)]) -> Result<(), String> {
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
        let s = RmsPropScalars {
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
        let RmsPropState {
            square_avg,
            grad_avg,
            momentum,
        } = state;
        let (p, sq, ga, mo) = (
            Split::new(param),
            Split::new(square_avg),
            Split::new(grad_avg),
            Split::new(momentum),
        );
        for_ranges(grad.len(), &|r| {
            // SAFETY: the ranges are disjoint and inside the slices, which
            // outlive the call.
            unsafe {
                rmsprop_step(
                    p.part(r.clone()),
                    &grad[r.clone()],
                    sq.part(r.clone()),
                    ga.part(r.clone()),
                    mo.part(r),
                    s,
                );
            }
        });
    }
}

/// The scalars of one RMSprop step, in the element type.
#[derive(Clone, Copy)]
struct RmsPropScalars<T> {
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
        s: RmsPropScalars<T>,
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
    s: RmsPropScalars<T>,
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
    s: RmsPropScalars<T>,
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
/// use macrograd_runtime::optim::{Adagrad, AdagradConfig, Optimizer};
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

    fn load_state(&mut self, state: &[(String, Vec<f64>)]) -> Result<(), String> {
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
        let (p, sum) = (Split::new(param), Split::new(&mut state.sum));
        for_ranges(grad.len(), &|r| {
            // SAFETY: the ranges are disjoint and inside the slices, which
            // outlive the call.
            let (param, sum) = unsafe { (p.part(r.clone()), sum.part(r.clone())) };
            adagrad_step(param, &grad[r], sum, s);
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Updates of a parameter long enough to be split across threads give
    /// the bits of one thread, for every optimizer and option that adds a
    /// state buffer.
    #[test]
    fn split_updates_equal_one_thread() {
        let n = (1 << 16) + 333;
        let grad = |step: usize| -> Vec<f32> {
            (0..n)
                .map(|i| ((i * 7 + step * 13) % 101) as f32 / 50.0 - 1.0)
                .collect()
        };
        let start = |i: usize| (i % 17) as f32 / 8.0 - 1.0;
        let run = |opt: &mut dyn Optimizer<f32>, threads: usize| -> Vec<u32> {
            crate::parallel::with_threads(threads, || {
                let mut p: Vec<f32> = (0..n).map(start).collect();
                for step in 0..3 {
                    opt.update(0, &mut p, &grad(step));
                }
                p.iter().map(|v| v.to_bits()).collect()
            })
        };
        type Make = Box<dyn Fn() -> Box<dyn Optimizer<f32>>>;
        let makers: Vec<(&str, Make)> = vec![
            (
                "SGD momentum nesterov",
                Box::new(move || {
                    Box::new(Sgd::new(
                        SgdConfig {
                            lr: 0.1,
                            momentum: 0.9,
                            nesterov: true,
                            weight_decay: 0.01,
                            ..SgdConfig::default()
                        },
                        &[n],
                    ))
                }),
            ),
            (
                "AdamW amsgrad",
                Box::new(move || {
                    Box::new(Adam::new(
                        AdamConfig {
                            amsgrad: true,
                            ..AdamConfig::adamw()
                        },
                        &[n],
                    ))
                }),
            ),
            (
                "RMSprop centered momentum",
                Box::new(move || {
                    Box::new(RmsProp::new(
                        RmsPropConfig {
                            centered: true,
                            momentum: 0.5,
                            ..RmsPropConfig::default()
                        },
                        &[n],
                    ))
                }),
            ),
            (
                "Adagrad",
                Box::new(move || Box::new(Adagrad::new(AdagradConfig::default(), &[n]))),
            ),
        ];
        for (name, make) in makers {
            let one = run(&mut *make(), 1);
            let two = run(&mut *make(), 2);
            assert_eq!(one.len(), n);
            assert!(one == two, "{name}: 2 threads differ from 1");
            // The parameter moved: the comparison is not of untouched data.
            assert!(one[5] != start(5).to_bits(), "{name}");
        }
    }

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

    fn rmsprop(config: RmsPropConfig) -> RmsProp<f64> {
        RmsProp::new(config, &[2])
    }

    fn adagrad(config: AdagradConfig) -> Adagrad<f64> {
        Adagrad::new(config, &[2])
    }

    #[test]
    fn rmsprop_golden() {
        let base = RmsPropConfig {
            lr: 0.01,
            ..RmsPropConfig::default()
        };
        close(
            &run(&mut rmsprop(base), &G),
            &[
                [0.90000002, -1.90000001],
                [0.8802934383, -1.9288675207],
                [0.9423910822, -1.9478575233],
            ],
        );
        close(
            &run(
                &mut rmsprop(RmsPropConfig {
                    momentum: 0.9,
                    centered: true,
                    ..base
                }),
                &G,
            ),
            &[
                [0.8994962387, -1.8994962286],
                [0.7891993904, -1.8379741849],
                [0.7520566322, -1.8016143581],
            ],
        );
    }

    /// The variants and options §2.10 leaves out, against torch 2.15 in
    /// float64 (`torch.optim.RMSprop` with these settings, same inputs).
    #[test]
    fn rmsprop_every_option() {
        let lr = RmsPropConfig {
            lr: 0.01,
            ..RmsPropConfig::default()
        };
        close(
            &run(
                &mut rmsprop(RmsPropConfig {
                    centered: true,
                    ..lr
                }),
                &G,
            ),
            &[
                [0.899496238676, -1.89949622858],
                [0.879652775555, -1.9284275792],
                [0.941777180899, -1.94743759171],
            ],
        );
        close(
            &run(
                &mut rmsprop(RmsPropConfig {
                    alpha: 0.9,
                    eps: 1e-6,
                    weight_decay: 0.1,
                    momentum: 0.5,
                    ..lr
                }),
                &G,
            ),
            &[
                [0.968377390064, -1.96837730673],
                [0.94223120808, -1.95541987687],
                [0.94407895959, -1.94907115994],
            ],
        );
        close(
            &run(
                &mut rmsprop(RmsPropConfig {
                    alpha: 0.8,
                    weight_decay: 0.05,
                    momentum: 0.3,
                    centered: true,
                    ..lr
                }),
                &G,
            ),
            &[
                [0.975000001136, -1.97500000057],
                [0.959963911327, -1.97220097121],
                [0.969105707068, -1.97393147198],
            ],
        );
    }

    #[test]
    fn adagrad_golden() {
        let base = AdagradConfig {
            lr: 0.1,
            ..AdagradConfig::default()
        };
        close(
            &run(&mut adagrad(base), &G),
            &[
                [0.9, -1.9],
                [0.8803883865, -1.9287347886],
                [0.9421097265, -1.9475492059],
            ],
        );
        close(
            &run(
                &mut adagrad(AdagradConfig {
                    lr_decay: 0.5,
                    initial_accumulator_value: 0.1,
                    ..base
                }),
                &G,
            ),
            &[
                [0.9154845745, -1.9046537411],
                [0.9043734634, -1.922987711],
                [0.9321084732, -1.9320044074],
            ],
        );
    }

    /// Every option at once, against torch 2.15 in float64.
    #[test]
    fn adagrad_every_option() {
        let config = AdagradConfig {
            lr: 0.05,
            lr_decay: 0.1,
            weight_decay: 0.2,
            initial_accumulator_value: 0.3,
            eps: 1e-3,
        };
        close(
            &run(&mut adagrad(config), &G),
            &[
                [0.960666177475, -1.9534676455],
                [0.946488486517, -1.95073223659],
                [0.955633272188, -1.94551652182],
            ],
        );
    }

    #[test]
    fn defaults_are_pytorchs() {
        let r = RmsPropConfig::default();
        assert_eq!(
            (r.lr, r.alpha, r.eps, r.weight_decay, r.momentum, r.centered),
            (1e-2, 0.99, 1e-8, 0.0, 0.0, false)
        );
        let a = AdagradConfig::default();
        assert_eq!(
            (
                a.lr,
                a.lr_decay,
                a.weight_decay,
                a.initial_accumulator_value,
                a.eps
            ),
            (1e-2, 0.0, 0.0, 0.0, 1e-10)
        );
        assert_eq!(Optimizer::<f64>::momentum(&rmsprop(r)), Some(0.0));
        assert_eq!(Optimizer::<f64>::momentum(&adagrad(a)), None);
    }

    /// The f32 path matches torch 2.15's float32 run to 1e-5 relative.
    #[test]
    fn f32_matches_torch_float32() {
        let mut p = [1.0_f32, -2.0];
        let mut opt = RmsProp::<f32>::new(
            RmsPropConfig {
                lr: 0.01,
                momentum: 0.9,
                centered: true,
                ..RmsPropConfig::default()
            },
            &[2],
        );
        for g in G {
            opt.update(0, &mut p, &[g[0] as f32, g[1] as f32]);
        }
        for (got, want) in p.iter().zip([0.752056658268, -1.80161440372]) {
            assert!((*got as f64 - want).abs() <= 1e-5 * want.abs(), "{p:?}");
        }
        let mut p = [1.0_f32, -2.0];
        let mut opt = Adagrad::<f32>::new(
            AdagradConfig {
                lr: 0.1,
                lr_decay: 0.5,
                initial_accumulator_value: 0.1,
                ..AdagradConfig::default()
            },
            &[2],
        );
        for g in G {
            opt.update(0, &mut p, &[g[0] as f32, g[1] as f32]);
        }
        for (got, want) in p.iter().zip([0.932108402252, -1.93200445175]) {
            assert!((*got as f64 - want).abs() <= 1e-5 * want.abs(), "{p:?}");
        }
    }

    /// A scheduler may raise RMSprop's momentum from 0: the buffer then
    /// starts at zeros, as if it had been there all along.
    #[test]
    fn rmsprop_momentum_raised_later_starts_from_zeros() {
        let base = RmsPropConfig {
            lr: 0.01,
            ..RmsPropConfig::default()
        };
        let mut raised = rmsprop(base);
        let mut always = rmsprop(RmsPropConfig {
            momentum: 0.5,
            ..base
        });
        let (mut p, mut q) = ([1.0, -2.0], [1.0, -2.0]);
        Optimizer::set_momentum(&mut raised, 0.5);
        always.update(0, &mut q, &G[0]);
        raised.update(0, &mut p, &G[0]);
        assert_eq!(p, q);
    }

    /// Adagrad counts steps per parameter (its `lr_decay` reads the count).
    #[test]
    fn adagrad_counts_steps_per_parameter() {
        let config = AdagradConfig {
            lr: 0.1,
            lr_decay: 0.5,
            ..AdagradConfig::default()
        };
        let mut opt = Adagrad::<f64>::new(config, &[1, 1]);
        let (mut a, mut b) = ([1.0], [1.0]);
        opt.update(0, &mut a, &[0.5]);
        opt.update(0, &mut a, &[0.5]);
        opt.update(1, &mut b, &[0.5]);
        // Parameter 1's first step uses the undecayed lr: 1 - 0.1 * 0.5 / 0.5.
        assert!((b[0] - 0.9).abs() < 1e-9);
    }

    /// Two parameters of 3 and 2 values and a seeded gradient per step.
    fn gradients(step: usize) -> [Vec<f32>; 2] {
        let mut rng = crate::Rng::new(100 + step as u64);
        let mut draw = |n: usize| (0..n).map(|_| rng.normal() as f32).collect();
        [draw(3), draw(2)]
    }

    /// Runs `make()` for 4 steps (changing lr and momentum after the
    /// third, as a schedule would), loads its state into a fresh
    /// `make()`, and checks that both then take the same 4 steps, bit for
    /// bit.
    fn resumes_bit_identically<O: Optimizer<f32>>(make: impl Fn() -> O) {
        let mut original = make();
        let mut params = [vec![0.5_f32, -1.0, 2.0], vec![0.25, -0.75]];
        for step in 0..4 {
            if step == 3 {
                original.set_learning_rate(original.learning_rate() * 0.5);
                if let Some(m) = original.momentum() {
                    original.set_momentum(m * 0.5);
                }
            }
            for (i, g) in gradients(step).iter().enumerate() {
                original.update(i, &mut params[i], g);
            }
        }
        let state = original.state();
        let mut resumed = make();
        assert_ne!(resumed.state(), state, "the test must move the state");
        resumed.load_state(&state).unwrap();
        assert_eq!(resumed.state(), state);
        assert_eq!(resumed.learning_rate(), original.learning_rate());
        assert_eq!(resumed.momentum(), original.momentum());
        // The entries may come in any order.
        let mut reversed = state.clone();
        reversed.reverse();
        let mut resumed_reversed = make();
        resumed_reversed.load_state(&reversed).unwrap();
        assert_eq!(resumed_reversed.state(), state);

        let mut copy = params.clone();
        for step in 4..8 {
            for (i, g) in gradients(step).iter().enumerate() {
                original.update(i, &mut params[i], g);
                resumed.update(i, &mut copy[i], g);
            }
            let bits = |p: &[Vec<f32>; 2]| -> Vec<u32> {
                p.iter().flatten().map(|x| x.to_bits()).collect()
            };
            assert_eq!(bits(&params), bits(&copy), "step {step}");
        }
        assert_eq!(resumed.state(), original.state());
    }

    #[test]
    fn sgd_momentum_resumes_bit_identically() {
        let config = SgdConfig {
            lr: 0.1,
            momentum: 0.9,
            dampening: 0.1,
            weight_decay: 0.01,
            ..SgdConfig::default()
        };
        resumes_bit_identically(|| Sgd::<f32>::new(config, &[3, 2]));
        let nesterov = SgdConfig {
            nesterov: true,
            dampening: 0.0,
            ..config
        };
        resumes_bit_identically(|| Sgd::<f32>::new(nesterov, &[3, 2]));
    }

    #[test]
    fn adam_amsgrad_and_adamw_resume_bit_identically() {
        let amsgrad = AdamConfig {
            lr: 0.01,
            amsgrad: true,
            weight_decay: 0.1,
            ..AdamConfig::default()
        };
        resumes_bit_identically(|| Adam::<f32>::new(amsgrad, &[3, 2]));
        let adamw = AdamConfig {
            lr: 0.01,
            ..AdamConfig::adamw()
        };
        resumes_bit_identically(|| Adam::<f32>::new(adamw, &[3, 2]));
    }

    #[test]
    fn rmsprop_centered_momentum_resumes_bit_identically() {
        let config = RmsPropConfig {
            lr: 0.01,
            momentum: 0.9,
            centered: true,
            weight_decay: 0.05,
            ..RmsPropConfig::default()
        };
        resumes_bit_identically(|| RmsProp::<f32>::new(config, &[3, 2]));
    }

    #[test]
    fn adagrad_resumes_bit_identically() {
        let config = AdagradConfig {
            lr: 0.1,
            lr_decay: 0.01,
            initial_accumulator_value: 0.1,
            ..AdagradConfig::default()
        };
        resumes_bit_identically(|| Adagrad::<f32>::new(config, &[3, 2]));
    }

    #[test]
    fn f64_state_round_trips_exactly() {
        let mut adam = Adam::<f64>::new(AdamConfig::default(), &[2]);
        let mut p = [1.0, -2.0];
        for g in G {
            adam.update(0, &mut p, &g);
        }
        let mut resumed = Adam::<f64>::new(AdamConfig::default(), &[2]);
        resumed.load_state(&adam.state()).unwrap();
        let mut q = p;
        adam.update(0, &mut p, &[0.3, 0.1]);
        resumed.update(0, &mut q, &[0.3, 0.1]);
        assert_eq!(p.map(f64::to_bits), q.map(f64::to_bits));
    }

    #[test]
    fn load_state_reports_every_problem_and_changes_nothing() {
        let config = AdamConfig {
            amsgrad: false,
            ..AdamConfig::default()
        };
        let mut adam = Adam::<f32>::new(config, &[2, 1]);
        adam.update(0, &mut [1.0, 2.0], &[0.5, 0.5]);
        let before = adam.state();
        let mut state = before.clone();
        state.retain(|(name, _)| name != "1.exp_avg_sq");
        for (name, values) in &mut state {
            match name.as_str() {
                "lr" => values[0] = f64::NAN,
                "0.step" => values[0] = 1.5,
                "0.exp_avg" => values.push(0.0),
                "1.exp_avg" => values[0] = 0.1, // not an f32
                _ => {}
            }
        }
        state.push(("0.max_exp_avg_sq".to_string(), vec![0.0, 0.0]));
        state.push(("lr".to_string(), vec![0.1]));
        let err = adam.load_state(&state).unwrap_err();
        for part in [
            "cannot load the Adam state",
            "`lr` is given more than once",
            "`lr` must be a finite number >= 0, found NaN",
            "`0.step` must be a whole number of steps, found 1.5",
            "`0.exp_avg` has 3 values, expected 2",
            "`1.exp_avg` holds 0.1 at index 0, which f32 cannot represent exactly",
            "`1.exp_avg_sq` is missing",
            "unexpected entry `0.max_exp_avg_sq`",
        ] {
            assert!(err.contains(part), "{part:?} not in {err}");
        }
        assert_eq!(adam.state(), before);

        // Another optimizer's state names what it lacks.
        let mut sgd = Sgd::<f32>::new(SgdConfig::default(), &[2, 1]);
        let err = sgd.load_state(&before).unwrap_err();
        assert!(
            err.starts_with("cannot load the SGD state: `momentum` is missing"),
            "{err}"
        );
        assert!(err.contains("unexpected entry `beta1`"), "{err}");
        assert!(err.contains("unexpected entry `0.exp_avg`"), "{err}");
    }

    #[test]
    fn a_state_loads_only_into_the_same_declaration_and_within_its_ranges() {
        // SGD(0.01) saved, SGD(0.01, momentum = 0.9) declared: refused, not
        // resumed without its momentum.
        let plain = Sgd::<f64>::new(
            SgdConfig {
                lr: 0.01,
                ..SgdConfig::default()
            },
            &[2],
        );
        let with_momentum = SgdConfig {
            lr: 0.01,
            momentum: 0.9,
            ..SgdConfig::default()
        };
        let mut sgd = Sgd::<f64>::new(with_momentum, &[2]);
        let err = sgd.load_state(&plain.state()).unwrap_err();
        assert!(
            err.contains(
                "the state was saved by an optimizer declared with momentum = 0.0, this one is \
                 declared with momentum = 0.9"
            ),
            "{err}"
        );
        assert_eq!(sgd.config, with_momentum);

        // Values a declaration could not hold, each refused.
        let set = |state: &mut Vec<(String, Vec<f64>)>, key: &str, value: f64| {
            let entry = state.iter_mut().find(|(name, _)| name == key).unwrap();
            entry.1[0] = value;
        };
        let mut adam = Adam::<f64>::new(AdamConfig::default(), &[2]);
        adam.update(0, &mut [1.0, 2.0], &[0.5, -0.5]);
        let before = adam.state();
        for (key, value, message) in [
            ("lr", -0.1, "`lr` must be a finite number >= 0, found -0.1"),
            ("beta1", 1.0, "`beta1` must be in [0, 1), found 1.0"),
            (
                "0.exp_avg",
                f64::NAN,
                "`0.exp_avg` holds NaN at index 0, expected finite",
            ),
            (
                "0.exp_avg_sq",
                -1.0,
                "`0.exp_avg_sq` holds -1.0 at index 0, expected a finite number >= 0",
            ),
            (
                "declared.eps",
                1e-6,
                "declared with eps = 1e-6, this one is declared with eps = 1e-8",
            ),
        ] {
            let mut state = before.clone();
            set(&mut state, key, value);
            let err = adam.load_state(&state).unwrap_err();
            assert!(err.contains(message), "{key}: {err}");
            assert_eq!(adam.state(), before);
        }
        let mut nesterov = Sgd::<f64>::new(
            SgdConfig {
                momentum: 0.9,
                nesterov: true,
                ..SgdConfig::default()
            },
            &[1],
        );
        let mut state = nesterov.state();
        set(&mut state, "momentum", 0.0);
        let err = nesterov.load_state(&state).unwrap_err();
        assert!(
            err.contains("`momentum` must be a finite number > 0, found 0.0"),
            "{err}"
        );
    }

    #[test]
    fn state_names_follow_pytorch() {
        let names = |state: Vec<(String, Vec<f64>)>| -> Vec<String> {
            state.into_iter().map(|(name, _)| name).collect()
        };
        let mut sgd = Sgd::<f64>::new(
            SgdConfig {
                momentum: 0.9,
                ..SgdConfig::default()
            },
            &[2, 2],
        );
        // No buffer before the first step, as in PyTorch.
        let declared = |state: Vec<(String, Vec<f64>)>| -> Vec<String> {
            state
                .into_iter()
                .filter_map(|(name, _)| name.strip_prefix("declared.").map(str::to_string))
                .collect()
        };
        let own = |state: Vec<(String, Vec<f64>)>| -> Vec<String> {
            names(state)
                .into_iter()
                .filter(|name| !name.starts_with("declared."))
                .collect()
        };
        assert_eq!(
            declared(sgd.state()),
            ["lr", "momentum", "dampening", "nesterov", "weight_decay"]
        );
        assert_eq!(own(sgd.state()), ["lr", "momentum"]);
        sgd.update(1, &mut [0.0, 0.0], &[1.0, 1.0]);
        assert_eq!(own(sgd.state()), ["lr", "momentum", "1.momentum_buffer"]);
        let adam = Adam::<f64>::new(
            AdamConfig {
                amsgrad: true,
                ..AdamConfig::default()
            },
            &[1],
        );
        assert_eq!(
            declared(adam.state()),
            [
                "lr",
                "beta1",
                "beta2",
                "eps",
                "weight_decay",
                "amsgrad",
                "decoupled"
            ]
        );
        assert_eq!(
            own(adam.state()),
            [
                "lr",
                "beta1",
                "0.step",
                "0.exp_avg",
                "0.exp_avg_sq",
                "0.max_exp_avg_sq"
            ]
        );
        let rmsprop = RmsProp::<f64>::new(RmsPropConfig::default(), &[1]);
        assert_eq!(
            declared(rmsprop.state()),
            ["lr", "alpha", "eps", "weight_decay", "momentum", "centered"]
        );
        assert_eq!(own(rmsprop.state()), ["lr", "momentum", "0.square_avg"]);
        let adagrad = Adagrad::<f64>::new(AdagradConfig::default(), &[1]);
        assert_eq!(
            declared(adagrad.state()),
            [
                "lr",
                "lr_decay",
                "weight_decay",
                "initial_accumulator_value",
                "eps"
            ]
        );
        assert_eq!(own(adagrad.state()), ["lr", "0.step", "0.sum"]);
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
        let mut opt = rmsprop(RmsPropConfig {
            lr: 0.0,
            momentum: 0.9,
            centered: true,
            ..RmsPropConfig::default()
        });
        opt.update(0, &mut p, &[0.5, 0.5]);
        assert_eq!(p, [1.0, -2.0]);
        let mut opt = adagrad(AdagradConfig {
            lr: 0.0,
            ..AdagradConfig::default()
        });
        opt.update(0, &mut p, &[0.5, 0.5]);
        assert_eq!(p, [1.0, -2.0]);
    }
}
