//! The per-iteration cycles, which set their own lr and cycle the
//! momentum: OneCycleLR and CyclicLR, and the `Scheduler` methods they
//! share.

use super::{
    cosine, load_cycle, require, require_at_least_one, require_momentum, require_non_negative,
    require_positive, Interval, Scheduler, Setting,
};
use crate::StateError;

/// The [`Scheduler`] methods of the cycles, which set their own lr from
/// `t` and whether the optimizer has a momentum: each has the fields
/// `has_momentum: bool` and `t: usize` and a method `setting()`, the setting
/// of step `t`; the state is `[has_momentum, t]`.
macro_rules! cycle_methods {
    ($name:literal) => {
        fn start(&mut self, _lr: f64, momentum: Option<f64>) -> Setting {
            self.has_momentum = momentum.is_some();
            self.t = 0;
            self.setting()
        }

        fn step(&mut self, _metric: Option<f64>) -> Setting {
            self.t = self.t.saturating_add(1);
            self.setting()
        }

        fn state(&self) -> Vec<f64> {
            vec![f64::from(u8::from(self.has_momentum)), self.t as f64]
        }

        fn load_state(&mut self, state: &[f64]) -> Result<(), StateError> {
            (self.has_momentum, self.t) = load_cycle($name, state)?;
            Ok(())
        }

        fn interval(&self) -> Interval {
            Interval::Iteration
        }
    };
}

/// A straight line from `start` to `end`.
fn linear(start: f64, end: f64, pct: f64) -> f64 {
    (end - start) * pct + start
}

/// How [`OneCycleLR`] moves between two values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Anneal {
    /// `end + (start - end) (1 + cos(pi pct)) / 2` (PyTorch's `"cos"`, the
    /// default).
    Cos,
    /// `start + (end - start) pct` (PyTorch's `"linear"`).
    Linear,
}

/// The 1cycle policy (`torch.optim.lr_scheduler.OneCycleLR`), stepped per
/// iteration.
///
/// With `initial = max_lr / div_factor` and `min = initial /
/// final_div_factor`, the lr goes `initial -> max_lr` over steps `0 ..=
/// pct_start * total_steps - 1`, then `max_lr -> min` until step
/// `total_steps - 1`; with `three_phase`, `initial -> max_lr -> initial`
/// (symmetric) and then `initial -> min`. The momentum (Adam's `beta1`)
/// moves the other way, `max_momentum -> base_momentum -> max_momentum`
/// (and stays at `max_momentum` in the third phase), when `cycle_momentum`
/// is on and the optimizer has a momentum (`start` got `Some`). The
/// optimizer's own lr is ignored.
///
/// Differences from PyTorch, which raises an error: stepping past the end
/// keeps the last setting (the values of step `total_steps - 1`; PyTorch
/// extrapolates the curve at step `total_steps` and raises from
/// `total_steps + 1`), and a phase of length zero (`pct_start *
/// total_steps = 1`, where PyTorch divides by zero) takes its end value.
///
/// ```
/// # use macrograd_runtime as macrograd;
/// use macrograd::schedule::{OneCycleLR, Scheduler};
/// let mut s = OneCycleLR::new(0.1, 10);
/// let first = s.start(0.01, Some(0.9));
/// assert!((first.lr - 0.004).abs() < 1e-12); // max_lr / 25
/// assert_eq!(first.momentum, Some(0.95));
/// ```
#[derive(Clone, Debug)]
pub struct OneCycleLR {
    max_lr: f64,
    total_steps: usize,
    pct_start: f64,
    anneal_strategy: Anneal,
    cycle_momentum: bool,
    base_momentum: f64,
    max_momentum: f64,
    div_factor: f64,
    final_div_factor: f64,
    three_phase: bool,
    has_momentum: bool,
    t: usize,
}

/// One phase of [`OneCycleLR`]: it ends at step `end` with these values.
struct Phase {
    end: f64,
    lr: (f64, f64),
    momentum: (f64, f64),
}

impl OneCycleLR {
    /// A cycle peaking at `max_lr` over `total_steps` updates, with
    /// PyTorch's defaults: `pct_start = 0.3`, cosine anneal, momentum
    /// cycled between 0.85 and 0.95, `div_factor = 25`,
    /// `final_div_factor = 1e4`, two phases.
    pub fn new(max_lr: f64, total_steps: usize) -> Self {
        OneCycleLR {
            max_lr,
            total_steps,
            pct_start: 0.3,
            anneal_strategy: Anneal::Cos,
            cycle_momentum: true,
            base_momentum: 0.85,
            max_momentum: 0.95,
            div_factor: 25.0,
            final_div_factor: 1e4,
            three_phase: false,
            has_momentum: false,
            t: 0,
        }
    }

    /// PyTorch's `(epochs, steps_per_epoch)` form: `total_steps = epochs *
    /// steps_per_epoch`.
    pub fn from_epochs(max_lr: f64, epochs: usize, steps_per_epoch: usize) -> Self {
        Self::new(max_lr, epochs.saturating_mul(steps_per_epoch))
    }

    setters! {
        /// The fraction of the steps spent increasing the lr, in [0, 1];
        /// default 0.3.
        pct_start: f64;

        /// Cosine (default) or linear annealing.
        anneal_strategy: Anneal;

        /// Whether the momentum cycles inversely to the lr; default true.
        cycle_momentum: bool;

        /// The momentum at the lr's peak; default 0.85.
        base_momentum: f64;

        /// The momentum at the start and the end; default 0.95.
        max_momentum: f64;

        /// `initial_lr = max_lr / div_factor`; default 25.
        div_factor: f64;

        /// `min_lr = initial_lr / final_div_factor`; default 1e4.
        final_div_factor: f64;

        /// Three phases (fast.ai's variant: back down to `initial_lr`
        /// symmetrically, then to `min_lr`) instead of two; default false.
        three_phase: bool;
    }

    fn phases(&self) -> Vec<Phase> {
        let initial = self.max_lr / self.div_factor;
        let min = initial / self.final_div_factor;
        let (base_m, max_m) = (self.base_momentum, self.max_momentum);
        let warm = self.pct_start * self.total_steps as f64;
        let last = self.total_steps as f64 - 1.0;
        if self.three_phase {
            vec![
                Phase {
                    end: warm - 1.0,
                    lr: (initial, self.max_lr),
                    momentum: (max_m, base_m),
                },
                Phase {
                    end: 2.0 * warm - 2.0,
                    lr: (self.max_lr, initial),
                    momentum: (base_m, max_m),
                },
                Phase {
                    end: last,
                    lr: (initial, min),
                    momentum: (max_m, max_m),
                },
            ]
        } else {
            vec![
                Phase {
                    end: warm - 1.0,
                    lr: (initial, self.max_lr),
                    momentum: (max_m, base_m),
                },
                Phase {
                    end: last,
                    lr: (self.max_lr, min),
                    momentum: (base_m, max_m),
                },
            ]
        }
    }

    fn setting(&self) -> Setting {
        // Past the end: hold step total_steps - 1.
        let t = self.t.min(self.total_steps.saturating_sub(1)) as f64;
        let anneal = match self.anneal_strategy {
            Anneal::Cos => cosine,
            Anneal::Linear => linear,
        };
        let phases = self.phases();
        // The first phase not over yet, else the last; `start` is where it
        // starts.
        let mut start = 0.0;
        let mut phase = &phases[phases.len() - 1];
        for p in &phases[..phases.len() - 1] {
            if t <= p.end {
                phase = p;
                break;
            }
            start = p.end;
        }
        let span = phase.end - start;
        let pct = if span == 0.0 { 1.0 } else { (t - start) / span };
        let momentum = (self.cycle_momentum && self.has_momentum)
            .then(|| anneal(phase.momentum.0, phase.momentum.1, pct));
        Setting {
            lr: anneal(phase.lr.0, phase.lr.1, pct),
            momentum,
        }
    }
}

impl Scheduler for OneCycleLR {
    cycle_methods!("OneCycleLR");

    fn describe(&self) -> String {
        format!(
            "OneCycleLR(max_lr={:?}, total_steps={}, pct_start={:?}, anneal_strategy='{}', \
             cycle_momentum={}, base_momentum={:?}, max_momentum={:?}, div_factor={:?}, \
             final_div_factor={:?}, three_phase={})",
            self.max_lr,
            self.total_steps,
            self.pct_start,
            match self.anneal_strategy {
                Anneal::Cos => "cos",
                Anneal::Linear => "linear",
            },
            python_bool(self.cycle_momentum),
            self.base_momentum,
            self.max_momentum,
            self.div_factor,
            self.final_div_factor,
            python_bool(self.three_phase),
        )
    }

    fn validate(&self) -> Result<(), String> {
        let name = "OneCycleLR";
        require_positive(name, "max_lr", self.max_lr)?;
        require_at_least_one(name, "total_steps", self.total_steps)?;
        require(
            (0.0..=1.0).contains(&self.pct_start),
            name,
            "pct_start",
            "must be in [0, 1]",
            self.pct_start,
        )?;
        require_positive(name, "div_factor", self.div_factor)?;
        require_positive(name, "final_div_factor", self.final_div_factor)?;
        if self.cycle_momentum {
            require_momentum(name, "base_momentum", self.base_momentum)?;
            require_momentum(name, "max_momentum", self.max_momentum)?;
        }
        Ok(())
    }
}

/// `True`/`False`, as in the PyTorch call.
fn python_bool(b: bool) -> &'static str {
    if b {
        "True"
    } else {
        "False"
    }
}

/// The amplitude policy of [`CyclicLR`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CyclicMode {
    /// The same triangle every cycle (the default).
    Triangular,
    /// The amplitude halves every cycle: `1 / 2^(cycle - 1)`.
    Triangular2,
    /// The amplitude decays by `gamma` every step: `gamma^t`.
    ExpRange,
}

/// The cyclical learning rate policy (`torch.optim.lr_scheduler.CyclicLR`),
/// stepped per iteration.
///
/// ```text
/// cycle = floor(1 + t / (up + down));  x = 1 + t / (up + down) - cycle
/// scale = x / r (x <= r) | (x - 1) / (r - 1),  r = up / (up + down)
/// lr = base_lr + (max_lr - base_lr) scale f
/// momentum = max_momentum - (max_momentum - base_momentum) scale f
/// ```
///
/// with `f = 1` (triangular), `1 / 2^(cycle - 1)` (triangular2) or
/// `gamma^t` (exp_range). The momentum (Adam's `beta1`) is cycled when
/// `cycle_momentum` is on and the optimizer has a momentum (`start` got
/// `Some`). As in PyTorch, the optimizer's own lr is overwritten: the cycle
/// starts at `base_lr`.
#[derive(Clone, Debug)]
pub struct CyclicLR {
    base_lr: f64,
    max_lr: f64,
    step_size_up: usize,
    step_size_down: Option<usize>,
    mode: CyclicMode,
    gamma: f64,
    cycle_momentum: bool,
    base_momentum: f64,
    max_momentum: f64,
    has_momentum: bool,
    t: usize,
}

impl CyclicLR {
    /// A cycle between `base_lr` and `max_lr`, with PyTorch's defaults:
    /// 2000 steps up and as many down, triangular, momentum cycled between
    /// 0.8 and 0.9.
    pub fn new(base_lr: f64, max_lr: f64) -> Self {
        CyclicLR {
            base_lr,
            max_lr,
            step_size_up: 2000,
            step_size_down: None,
            mode: CyclicMode::Triangular,
            gamma: 1.0,
            cycle_momentum: true,
            base_momentum: 0.8,
            max_momentum: 0.9,
            has_momentum: false,
            t: 0,
        }
    }

    setters! {
        /// Steps from `base_lr` up to `max_lr`; default 2000.
        step_size_up: usize;
    }

    /// Steps from `max_lr` back down; default `step_size_up`.
    pub fn step_size_down(mut self, step_size_down: usize) -> Self {
        self.step_size_down = Some(step_size_down);
        self
    }

    setters! {
        /// The amplitude policy; default triangular.
        mode: CyclicMode;

        /// The decay per step of [`CyclicMode::ExpRange`]; default 1.
        gamma: f64;

        /// Whether the momentum cycles inversely to the lr; default true.
        cycle_momentum: bool;

        /// The momentum at the lr's peak; default 0.8.
        base_momentum: f64;

        /// The momentum at `base_lr`; default 0.9.
        max_momentum: f64;
    }

    fn setting(&self) -> Setting {
        let up = self.step_size_up as f64;
        let down = self.step_size_down.unwrap_or(self.step_size_up) as f64;
        let total = up + down;
        let ratio = up / total;
        let t = self.t as f64;
        let cycle = (1.0 + t / total).floor();
        let x = 1.0 + t / total - cycle;
        let scale = if x <= ratio {
            x / ratio
        } else {
            (x - 1.0) / (ratio - 1.0)
        };
        let f = match self.mode {
            CyclicMode::Triangular => 1.0,
            CyclicMode::Triangular2 => 1.0 / 2f64.powf(cycle - 1.0),
            CyclicMode::ExpRange => self.gamma.powf(t),
        };
        let lr = self.base_lr + (self.max_lr - self.base_lr) * scale * f;
        let momentum = (self.cycle_momentum && self.has_momentum)
            .then_some(self.max_momentum - (self.max_momentum - self.base_momentum) * scale * f);
        Setting { lr, momentum }
    }
}

impl Scheduler for CyclicLR {
    cycle_methods!("CyclicLR");

    fn describe(&self) -> String {
        let down = match self.step_size_down {
            Some(down) => down.to_string(),
            None => "None".to_string(),
        };
        let mode = match self.mode {
            CyclicMode::Triangular => "triangular",
            CyclicMode::Triangular2 => "triangular2",
            CyclicMode::ExpRange => "exp_range",
        };
        format!(
            "CyclicLR(base_lr={:?}, max_lr={:?}, step_size_up={}, step_size_down={down}, \
             mode='{mode}', gamma={:?}, cycle_momentum={}, base_momentum={:?}, \
             max_momentum={:?})",
            self.base_lr,
            self.max_lr,
            self.step_size_up,
            self.gamma,
            python_bool(self.cycle_momentum),
            self.base_momentum,
            self.max_momentum,
        )
    }

    fn validate(&self) -> Result<(), String> {
        let name = "CyclicLR";
        require_non_negative(name, "base_lr", self.base_lr)?;
        require_non_negative(name, "max_lr", self.max_lr)?;
        require_at_least_one(name, "step_size_up", self.step_size_up)?;
        require_positive(name, "gamma", self.gamma)?;
        if self.cycle_momentum {
            require_momentum(name, "base_momentum", self.base_momentum)?;
            require_momentum(name, "max_momentum", self.max_momentum)?;
        }
        Ok(())
    }
}
