//! The decays by a factor `gamma`: StepLR, MultiStepLR and ExponentialLR,
//! closed forms of the step count (see `closed_form.rs`).

use super::closed_form::{closed_form_schedulers, ClosedForm};
use super::{load_closed_form, require_at_least_one, require_positive, Scheduler, Setting};
use crate::StateError;

closed_form_schedulers!(StepLR, MultiStepLR, ExponentialLR);

/// Decays the lr by `gamma` every `step_size` steps (`torch.optim.lr_scheduler.StepLR`):
/// `lr = base * gamma^floor(t / step_size)`.
///
/// ```
/// # use macrograd_runtime as macrograd;
/// use macrograd::schedule::{Scheduler, StepLR};
/// let mut s = StepLR::new(1, 0.5);
/// s.start(0.1, None);
/// assert_eq!(s.step(None).lr, 0.05);
/// ```
#[derive(Clone, Debug)]
pub struct StepLR {
    step_size: usize,
    gamma: f64,
    base_lr: f64,
    t: usize,
}

impl StepLR {
    /// Multiplies the lr by `gamma` (PyTorch's default is 0.1) every
    /// `step_size` steps.
    pub fn new(step_size: usize, gamma: f64) -> Self {
        StepLR {
            step_size,
            gamma,
            base_lr: 0.0,
            t: 0,
        }
    }
}

impl ClosedForm for StepLR {
    const NAME: &'static str = "StepLR";

    fn lr_at(&self, base: f64, t: usize) -> f64 {
        // `max(1)`: an invalid `step_size = 0` is reported by `validate`.
        let decays = t / self.step_size.max(1);
        base * self.gamma.powi(decays.min(i32::MAX as usize) as i32)
    }

    fn args(&self) -> String {
        format!("step_size={}, gamma={:?}", self.step_size, self.gamma)
    }

    fn check(&self) -> Result<(), String> {
        require_at_least_one(Self::NAME, "step_size", self.step_size)?;
        require_positive(Self::NAME, "gamma", self.gamma)
    }
}

/// Decays the lr by `gamma` at each milestone
/// (`torch.optim.lr_scheduler.MultiStepLR`):
/// `lr = base * gamma^(number of milestones <= t)`.
///
/// As in PyTorch, the milestones may come in any order, and one repeated
/// `k` times decays `k` times.
#[derive(Clone, Debug)]
pub struct MultiStepLR {
    /// Sorted.
    milestones: Vec<usize>,
    gamma: f64,
    base_lr: f64,
    t: usize,
}

impl MultiStepLR {
    /// Multiplies the lr by `gamma` (PyTorch's default is 0.1) when the
    /// step count reaches each of `milestones`.
    pub fn new(milestones: impl Into<Vec<usize>>, gamma: f64) -> Self {
        let mut milestones = milestones.into();
        milestones.sort_unstable();
        MultiStepLR {
            milestones,
            gamma,
            base_lr: 0.0,
            t: 0,
        }
    }
}

impl ClosedForm for MultiStepLR {
    const NAME: &'static str = "MultiStepLR";

    fn lr_at(&self, base: f64, t: usize) -> f64 {
        let passed = self.milestones.partition_point(|&m| m <= t);
        base * self.gamma.powi(passed.min(i32::MAX as usize) as i32)
    }

    fn args(&self) -> String {
        format!("milestones={:?}, gamma={:?}", self.milestones, self.gamma)
    }

    fn check(&self) -> Result<(), String> {
        require_positive(Self::NAME, "gamma", self.gamma)
    }
}

/// Decays the lr by `gamma` every step
/// (`torch.optim.lr_scheduler.ExponentialLR`): `lr = base * gamma^t`.
#[derive(Clone, Debug)]
pub struct ExponentialLR {
    gamma: f64,
    base_lr: f64,
    t: usize,
}

impl ExponentialLR {
    /// Multiplies the lr by `gamma` every step.
    pub fn new(gamma: f64) -> Self {
        ExponentialLR {
            gamma,
            base_lr: 0.0,
            t: 0,
        }
    }
}

impl ClosedForm for ExponentialLR {
    const NAME: &'static str = "ExponentialLR";

    fn lr_at(&self, base: f64, t: usize) -> f64 {
        base * self.gamma.powi(t.min(i32::MAX as usize) as i32)
    }

    fn args(&self) -> String {
        format!("gamma={:?}", self.gamma)
    }

    fn check(&self) -> Result<(), String> {
        require_positive(Self::NAME, "gamma", self.gamma)
    }
}
