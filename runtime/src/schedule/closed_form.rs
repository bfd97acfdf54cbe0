//! The closed forms of the step count: the `ClosedForm` trait, from which
//! `closed_form_schedulers!` implements [`Scheduler`], and the schedules
//! other than the decays by `gamma` (those are in `step.rs`):
//! CosineAnnealingLR, LinearLR, ConstantLR, PolynomialLR and LambdaLR.

use super::{
    cosine, load_closed_form, require, require_at_least_one, require_non_negative, Scheduler,
    Setting,
};
use crate::StateError;

/// A schedule whose lr is a closed form of `t`, the steps since `start`.
///
/// Each one keeps its arguments plus `base_lr: f64` (the lr given to
/// `start`) and `t: usize`; `closed_form_schedulers!` implements
/// [`Scheduler`] from this, so that starting, stepping, the state
/// `[base_lr, t]`, `describe` and `validate` are written once.
pub(super) trait ClosedForm {
    /// The name in `describe` and in messages, as in PyTorch.
    const NAME: &'static str;

    /// The lr `t` steps after `start` from the base lr `base`: the formula
    /// of the schedule's doc.
    fn lr_at(&self, base: f64, t: usize) -> f64;

    /// The arguments, as in the PyTorch call: `describe` gives
    /// `NAME(args)`.
    fn args(&self) -> String;

    /// The checks of [`Scheduler::validate`].
    fn check(&self) -> Result<(), String> {
        Ok(())
    }
}

/// `impl Scheduler` for [`ClosedForm`] types with fields `base_lr` and `t`.
/// `t` saturates, so that no number of steps panics. The file that calls
/// it has `Scheduler`, `Setting` and `load_closed_form` in scope.
macro_rules! closed_form_schedulers {
    ($($schedule:ty),* $(,)?) => {$(
        impl Scheduler for $schedule {
            fn start(&mut self, lr: f64, _momentum: Option<f64>) -> Setting {
                self.base_lr = lr;
                self.t = 0;
                Setting::lr(self.lr_at(self.base_lr, self.t))
            }

            fn step(&mut self, _metric: Option<f64>) -> Setting {
                self.t = self.t.saturating_add(1);
                Setting::lr(self.lr_at(self.base_lr, self.t))
            }

            fn state(&self) -> Vec<f64> {
                vec![self.base_lr, self.t as f64]
            }

            fn load_state(&mut self, state: &[f64]) -> Result<(), StateError> {
                (self.base_lr, self.t) = load_closed_form(Self::NAME, state)?;
                Ok(())
            }

            fn describe(&self) -> String {
                format!("{}({})", Self::NAME, self.args())
            }

            fn validate(&self) -> Result<(), String> {
                self.check()
            }
        }
    )*};
}

pub(super) use closed_form_schedulers;

closed_form_schedulers!(
    CosineAnnealingLR,
    LinearLR,
    ConstantLR,
    PolynomialLR,
    LambdaLR,
);

/// Cosine annealing from the base lr to `eta_min` over `t_max` steps
/// (`torch.optim.lr_scheduler.CosineAnnealingLR`):
/// `lr = eta_min + (base - eta_min) (1 + cos(pi t / t_max)) / 2`.
///
/// As PyTorch's recursive implementation does, the lr keeps following the
/// cosine after `t_max`: it climbs back to the base lr at `2 t_max`, and so
/// on, with period `2 t_max`. For a single decay, stop training at `t_max`
/// or use [`CosineAnnealingWarmRestarts`](super::CosineAnnealingWarmRestarts)
/// for restarts.
#[derive(Clone, Debug)]
pub struct CosineAnnealingLR {
    t_max: usize,
    eta_min: f64,
    base_lr: f64,
    t: usize,
}

impl CosineAnnealingLR {
    /// Anneals over `t_max` steps (PyTorch's `T_max`) down to `eta_min = 0`.
    pub fn new(t_max: usize) -> Self {
        CosineAnnealingLR {
            t_max,
            eta_min: 0.0,
            base_lr: 0.0,
            t: 0,
        }
    }

    setters! {
        /// The lowest lr, reached at `t_max`; default 0.
        eta_min: f64;
    }
}

impl ClosedForm for CosineAnnealingLR {
    const NAME: &'static str = "CosineAnnealingLR";

    fn lr_at(&self, base: f64, t: usize) -> f64 {
        // Reduce t modulo the period 2 t_max first: cos is exact there, and
        // a huge t loses no precision.
        let period = self.t_max.max(1).saturating_mul(2);
        let t = (t % period) as f64;
        cosine(base, self.eta_min, t / self.t_max.max(1) as f64)
    }

    fn args(&self) -> String {
        format!("T_max={}, eta_min={:?}", self.t_max, self.eta_min)
    }

    fn check(&self) -> Result<(), String> {
        require_at_least_one(Self::NAME, "t_max", self.t_max)?;
        require_non_negative(Self::NAME, "eta_min", self.eta_min)
    }
}

/// Scales the lr linearly from `start_factor` to `end_factor` over
/// `total_iters` steps, the standard warmup
/// (`torch.optim.lr_scheduler.LinearLR`):
/// `lr = base * (start_factor + (end_factor - start_factor) min(t, total_iters) / total_iters)`.
///
/// ```
/// # use macrograd_runtime as macrograd;
/// use macrograd::schedule::{LinearLR, Scheduler};
/// let mut warmup = LinearLR::new().start_factor(0.5).total_iters(2);
/// assert_eq!(warmup.start(1.0, None).lr, 0.5);
/// assert_eq!(warmup.step(None).lr, 0.75);
/// assert_eq!(warmup.step(None).lr, 1.0);
/// assert_eq!(warmup.step(None).lr, 1.0);
/// ```
#[derive(Clone, Debug)]
pub struct LinearLR {
    start_factor: f64,
    end_factor: f64,
    total_iters: usize,
    base_lr: f64,
    t: usize,
}

impl Default for LinearLR {
    /// PyTorch's defaults: `start_factor = 1/3`, `end_factor = 1`,
    /// `total_iters = 5`.
    fn default() -> Self {
        LinearLR {
            start_factor: 1.0 / 3.0,
            end_factor: 1.0,
            total_iters: 5,
            base_lr: 0.0,
            t: 0,
        }
    }
}

impl LinearLR {
    /// PyTorch's defaults: from a third of the base lr to the base lr over
    /// 5 steps.
    pub fn new() -> Self {
        Self::default()
    }

    setters! {
        /// The factor of step 0, in (0, 1]; default 1/3.
        start_factor: f64;

        /// The factor from `total_iters` on, in [0, 1]; default 1.
        end_factor: f64;

        /// The steps the ramp takes; default 5.
        total_iters: usize;
    }
}

impl ClosedForm for LinearLR {
    const NAME: &'static str = "LinearLR";

    fn lr_at(&self, base: f64, t: usize) -> f64 {
        let total = self.total_iters.max(1);
        let pct = t.min(total) as f64 / total as f64;
        base * (self.start_factor + (self.end_factor - self.start_factor) * pct)
    }

    fn args(&self) -> String {
        format!(
            "start_factor={:?}, end_factor={:?}, total_iters={}",
            self.start_factor, self.end_factor, self.total_iters
        )
    }

    fn check(&self) -> Result<(), String> {
        require(
            self.start_factor > 0.0 && self.start_factor <= 1.0,
            Self::NAME,
            "start_factor",
            "must be in (0, 1]",
            self.start_factor,
        )?;
        require(
            (0.0..=1.0).contains(&self.end_factor),
            Self::NAME,
            "end_factor",
            "must be in [0, 1]",
            self.end_factor,
        )?;
        require_at_least_one(Self::NAME, "total_iters", self.total_iters)
    }
}

/// Scales the lr by a constant `factor` for the first `total_iters` steps
/// (`torch.optim.lr_scheduler.ConstantLR`):
/// `lr = base * factor` for `t < total_iters`, else `base`.
#[derive(Clone, Debug)]
pub struct ConstantLR {
    factor: f64,
    total_iters: usize,
    base_lr: f64,
    t: usize,
}

impl Default for ConstantLR {
    /// PyTorch's defaults: `factor = 1/3`, `total_iters = 5`.
    fn default() -> Self {
        ConstantLR {
            factor: 1.0 / 3.0,
            total_iters: 5,
            base_lr: 0.0,
            t: 0,
        }
    }
}

impl ConstantLR {
    /// PyTorch's defaults: a third of the base lr for 5 steps.
    pub fn new() -> Self {
        Self::default()
    }

    setters! {
        /// The factor, in [0, 1]; default 1/3.
        factor: f64;

        /// The steps the factor applies to; default 5.
        total_iters: usize;
    }
}

impl ClosedForm for ConstantLR {
    const NAME: &'static str = "ConstantLR";

    fn lr_at(&self, base: f64, t: usize) -> f64 {
        if t < self.total_iters {
            base * self.factor
        } else {
            base
        }
    }

    fn args(&self) -> String {
        format!("factor={:?}, total_iters={}", self.factor, self.total_iters)
    }

    fn check(&self) -> Result<(), String> {
        require(
            (0.0..=1.0).contains(&self.factor),
            Self::NAME,
            "factor",
            "must be in [0, 1]",
            self.factor,
        )?;
        require_at_least_one(Self::NAME, "total_iters", self.total_iters)
    }
}

/// Polynomial decay to 0 over `total_iters` steps
/// (`torch.optim.lr_scheduler.PolynomialLR`):
/// `lr = base * (1 - min(t, total_iters) / total_iters)^power`.
#[derive(Clone, Debug)]
pub struct PolynomialLR {
    total_iters: usize,
    power: f64,
    base_lr: f64,
    t: usize,
}

impl Default for PolynomialLR {
    /// PyTorch's defaults: `total_iters = 5`, `power = 1`.
    fn default() -> Self {
        PolynomialLR {
            total_iters: 5,
            power: 1.0,
            base_lr: 0.0,
            t: 0,
        }
    }
}

impl PolynomialLR {
    /// PyTorch's defaults: linear decay to 0 over 5 steps.
    pub fn new() -> Self {
        Self::default()
    }

    setters! {
        /// The steps of the decay; default 5.
        total_iters: usize;

        /// The power of the polynomial, non-negative; default 1.
        power: f64;
    }
}

impl ClosedForm for PolynomialLR {
    const NAME: &'static str = "PolynomialLR";

    fn lr_at(&self, base: f64, t: usize) -> f64 {
        let total = self.total_iters.max(1);
        let left = 1.0 - t.min(total) as f64 / total as f64;
        base * left.powf(self.power)
    }

    fn args(&self) -> String {
        format!("total_iters={}, power={:?}", self.total_iters, self.power)
    }

    fn check(&self) -> Result<(), String> {
        require_at_least_one(Self::NAME, "total_iters", self.total_iters)?;
        require_non_negative(Self::NAME, "power", self.power)
    }
}

/// The base lr times a function of the step count
/// (`torch.optim.lr_scheduler.LambdaLR`): `lr = base * lr_lambda(t)`.
///
/// ```
/// # use macrograd_runtime as macrograd;
/// use macrograd::schedule::{LambdaLR, Scheduler};
/// let mut s = LambdaLR::new(|t| 1.0 / (t + 1) as f64);
/// assert_eq!(s.start(0.1, None).lr, 0.1);
/// assert_eq!(s.step(None).lr, 0.05);
/// ```
pub struct LambdaLR {
    lr_lambda: Box<dyn Fn(usize) -> f64>,
    base_lr: f64,
    t: usize,
}

impl LambdaLR {
    /// Multiplies the base lr by `lr_lambda(t)` (a closure, or a
    /// `Box<dyn Fn(usize) -> f64>`).
    pub fn new(lr_lambda: impl Fn(usize) -> f64 + 'static) -> Self {
        LambdaLR {
            lr_lambda: Box::new(lr_lambda),
            base_lr: 0.0,
            t: 0,
        }
    }
}

impl ClosedForm for LambdaLR {
    const NAME: &'static str = "LambdaLR";

    fn lr_at(&self, base: f64, t: usize) -> f64 {
        base * (self.lr_lambda)(t)
    }

    fn args(&self) -> String {
        "lr_lambda=<closure>".to_string()
    }
}
