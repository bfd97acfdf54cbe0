//! CosineAnnealingWarmRestarts (SGDR): cosine annealing over periods that
//! restart from the base lr, each `t_mult` times longer than the last.

use super::{
    cosine, require_at_least_one, require_non_negative, state_count, state_finite, state_values,
    Scheduler, Setting,
};
use crate::StateError;

/// Cosine annealing with warm restarts, SGDR
/// (`torch.optim.lr_scheduler.CosineAnnealingWarmRestarts`).
///
/// ```text
/// T_cur <- T_cur + 1; if T_cur >= T_i: T_cur <- T_cur - T_i, T_i <- T_i * t_mult
/// lr = eta_min + (base - eta_min) (1 + cos(pi T_cur / T_i)) / 2
/// ```
///
/// starting from `T_cur = 0`, `T_i = t_0`. PyTorch's fractional
/// `step(epoch + i / iters)` is not offered: step per iteration instead,
/// with `t_0` counted in iterations.
#[derive(Clone, Debug)]
pub struct CosineAnnealingWarmRestarts {
    t_0: usize,
    t_mult: usize,
    eta_min: f64,
    base_lr: f64,
    t_cur: usize,
    t_i: usize,
}

impl CosineAnnealingWarmRestarts {
    /// Restarts after `t_0` steps (PyTorch's `T_0`), then after `t_0 *
    /// t_mult`, and so on; `t_mult = 1`, `eta_min = 0` by default.
    pub fn new(t_0: usize) -> Self {
        CosineAnnealingWarmRestarts {
            t_0,
            t_mult: 1,
            eta_min: 0.0,
            base_lr: 0.0,
            t_cur: 0,
            t_i: t_0,
        }
    }

    setters! {
        /// The factor by which each period is longer than the one before
        /// (PyTorch's `T_mult`); default 1.
        t_mult: usize;

        /// The lr the cosine falls towards over each period (the restart
        /// comes one step before it would reach it); default 0.
        eta_min: f64;
    }

    fn lr(&self) -> f64 {
        let pct = self.t_cur as f64 / self.t_i.max(1) as f64;
        cosine(self.base_lr, self.eta_min, pct)
    }
}

impl Scheduler for CosineAnnealingWarmRestarts {
    fn start(&mut self, lr: f64, _momentum: Option<f64>) -> Setting {
        self.base_lr = lr;
        self.t_cur = 0;
        self.t_i = self.t_0.max(1);
        Setting::lr(self.lr())
    }

    fn step(&mut self, _metric: Option<f64>) -> Setting {
        self.t_cur = self.t_cur.saturating_add(1); // a loaded count may be usize::MAX
        if self.t_cur >= self.t_i {
            self.t_cur -= self.t_i;
            // Saturating: a period of usize::MAX steps never ends anyway.
            self.t_i = self.t_i.saturating_mul(self.t_mult.max(1)).max(1);
        }
        Setting::lr(self.lr())
    }

    fn state(&self) -> Vec<f64> {
        vec![self.base_lr, self.t_cur as f64, self.t_i as f64]
    }

    fn load_state(&mut self, state: &[f64]) -> Result<(), StateError> {
        let name = "CosineAnnealingWarmRestarts";
        let [base_lr, t_cur, t_i] = state_values(name, "base_lr, T_cur, T_i", state)?;
        let loaded = (
            state_finite(name, "base_lr", base_lr)?,
            state_count(name, "T_cur", t_cur)?,
            state_count(name, "T_i", t_i)?,
        );
        (self.base_lr, self.t_cur, self.t_i) = loaded;
        Ok(())
    }

    fn describe(&self) -> String {
        format!(
            "CosineAnnealingWarmRestarts(T_0={}, T_mult={}, eta_min={:?})",
            self.t_0, self.t_mult, self.eta_min
        )
    }

    fn validate(&self) -> Result<(), String> {
        let name = "CosineAnnealingWarmRestarts";
        require_at_least_one(name, "t_0", self.t_0)?;
        require_at_least_one(name, "t_mult", self.t_mult)?;
        require_non_negative(name, "eta_min", self.eta_min)
    }
}
