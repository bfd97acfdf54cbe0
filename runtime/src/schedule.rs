//! Learning-rate schedules, with PyTorch's formulas and defaults
//! (`torch.optim.lr_scheduler`, torch 2.x).
//!
//! A schedule is handed to [`Fit::schedule`](crate::train::Fit::schedule).
//! `fit` calls [`Scheduler::validate`] before the first batch,
//! [`Scheduler::start`] once before the first update (PyTorch's
//! construction-time step) and [`Scheduler::step`] after the optimizer's
//! step: after every epoch, or after every iteration for the schedules
//! designed per batch (OneCycleLR, CyclicLR) or when asked with
//! [`Fit::schedule_every`](crate::train::Fit::schedule_every).
//!
//! With `t` the number of steps since `start` and `base` the optimizer's
//! learning rate at `start`, most schedules are closed forms of `t`:
//!
//! ```text
//! StepLR             base * gamma^floor(t / step_size)
//! MultiStepLR        base * gamma^(number of milestones <= t)
//! ExponentialLR      base * gamma^t
//! CosineAnnealingLR  eta_min + (base - eta_min) (1 + cos(pi t / T_max)) / 2
//! LinearLR           base * (start + (end - start) min(t, T) / T)
//! ConstantLR         base * factor (t < T) | base
//! PolynomialLR       base * (1 - min(t, T) / T)^power
//! LambdaLR           base * lambda(t)
//! ```
//!
//! PyTorch computes the "chainable" ones recursively (multiplying the
//! current lr); the closed forms give the same numbers when nothing else
//! changes the lr, which is the case here: a schedule owns the lr.
//! [`CosineAnnealingWarmRestarts`], [`SequentialLR`], [`OneCycleLR`],
//! [`CyclicLR`] and [`ReduceLROnPlateau`] keep state; their docs give the
//! rules.
//!
//! ```
//! use macrograd_runtime::schedule::{Scheduler, StepLR};
//!
//! let mut schedule = StepLR::new(2, 0.5);
//! assert_eq!(schedule.validate(), Ok(()));
//! let mut lrs = vec![schedule.start(0.1, None).lr]; // the lr of update 0
//! for _ in 0..4 {
//!     lrs.push(schedule.step(None).lr); // the lr of updates 1, 2, ...
//! }
//! assert_eq!(lrs, [0.1, 0.1, 0.05, 0.05, 0.025]);
//! assert_eq!(
//!     StepLR::new(0, 0.5).validate(),
//!     Err("StepLR: `step_size` must be at least 1, found 0".to_string())
//! );
//! ```

use std::f64::consts::PI;
use std::fmt::Debug;

/// When a schedule steps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Interval {
    /// After every epoch (after validation, so a plateau schedule sees the
    /// epoch's metric).
    Epoch,
    /// After every optimizer update.
    Iteration,
}

/// The optimizer settings a schedule asks for.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Setting {
    /// The learning rate of the next update.
    pub lr: f64,
    /// The momentum (SGD/RMSprop `momentum`, Adam `beta1`) of the next
    /// update, for the schedules that cycle it; `None` leaves it alone.
    pub momentum: Option<f64>,
}

impl Setting {
    /// A learning rate, momentum left alone.
    fn lr(lr: f64) -> Self {
        Setting { lr, momentum: None }
    }
}

/// A learning-rate schedule.
///
/// The calls are `validate` (once), `start` (once, before the first
/// update; again to restart from step 0), then `step` after each update or
/// epoch. No method panics, whatever the arguments: invalid ones are
/// reported by [`Scheduler::validate`], and a schedule stepped before
/// `start` behaves as if started with a learning rate of 0.
pub trait Scheduler {
    /// Starts (or restarts) the schedule at step 0 on an optimizer whose
    /// learning rate is `lr` (the base learning rate) and whose momentum is
    /// `momentum` (`None` for an optimizer without one); returns the
    /// setting of the first update.
    ///
    /// OneCycleLR and CyclicLR set their own learning rates and ignore `lr`,
    /// as in PyTorch.
    fn start(&mut self, lr: f64, momentum: Option<f64>) -> Setting;

    /// Advances one step (one epoch or one iteration); `metric` is the
    /// monitored value of the epoch that just ended (only per-epoch steps of
    /// a schedule that [`Scheduler::needs_metric`] get one). Returns the
    /// setting of the next update.
    fn step(&mut self, metric: Option<f64>) -> Setting;

    /// Whether [`Scheduler::step`] needs the monitored metric
    /// (ReduceLROnPlateau).
    fn needs_metric(&self) -> bool {
        false
    }

    /// When the schedule steps unless told otherwise: per iteration for
    /// OneCycleLR and CyclicLR (designed per batch), per epoch for the rest.
    fn interval(&self) -> Interval {
        Interval::Epoch
    }

    /// The name and arguments, as in the PyTorch call, for logs.
    fn describe(&self) -> String;

    /// Checks the arguments; `fit` calls it before the first batch and
    /// turns an error into [`Error::InvalidSetting`](crate::Error).
    ///
    /// # Errors
    ///
    /// A message naming the schedule, the argument and its value, e.g.
    /// ``StepLR: `step_size` must be at least 1, found 0``.
    fn validate(&self) -> Result<(), String> {
        Ok(())
    }

    /// The schedule's progress, for a checkpoint: what
    /// [`Scheduler::load_state`] needs to continue with the same values as
    /// if the run had never stopped. The arguments given when it was built
    /// are not included (the resumed run builds the schedule again).
    ///
    /// | schedule | state |
    /// | --- | --- |
    /// | StepLR, MultiStepLR, ExponentialLR, CosineAnnealingLR, LinearLR, ConstantLR, PolynomialLR, LambdaLR | `[base_lr, t]` |
    /// | CosineAnnealingWarmRestarts | `[base_lr, T_cur, T_i]` |
    /// | OneCycleLR, CyclicLR | `[has_momentum (0 or 1), t]` |
    /// | ReduceLROnPlateau | `[lr, best, num_bad_epochs, cooldown_counter]` |
    /// | SequentialLR | `[t, base_lr, has_momentum, base_momentum, index]` then the state of schedule `index`, the active one |
    ///
    /// Counts are whole numbers. A schedule written outside this crate
    /// keeps this default, an empty state that
    /// [`Scheduler::load_state`]'s default refuses, so resuming it is an
    /// error rather than a silent restart; override both to resume one.
    fn state(&self) -> Vec<f64> {
        Vec::new()
    }

    /// Restores a state taken by [`Scheduler::state`] from a schedule built
    /// with the same arguments; the next steps then give the same settings,
    /// bit for bit, as the original's. No [`Scheduler::start`] is needed
    /// (it would restart from step 0).
    ///
    /// ```
    /// use macrograd_runtime::schedule::{CosineAnnealingLR, Scheduler};
    /// let mut original = CosineAnnealingLR::new(10);
    /// original.start(0.1, None);
    /// original.step(None);
    /// let mut resumed = CosineAnnealingLR::new(10);
    /// resumed.load_state(&original.state()).unwrap();
    /// assert_eq!(resumed.step(None), original.step(None));
    /// ```
    ///
    /// # Errors
    ///
    /// A message naming the schedule and what is wrong: the number of
    /// values, a count that is not a whole number, a learning rate that is
    /// not finite, a SequentialLR index that does not match its step count.
    /// Nothing is changed then. The default implementation always fails.
    fn load_state(&mut self, state: &[f64]) -> Result<(), String> {
        let _ = state;
        Err(format!(
            "{}: this schedule does not save its state, so a run cannot resume it",
            self.describe()
        ))
    }
}

// ---------------------------------------------------------------------------
// State checks: each returns the message of `Scheduler::load_state`.

/// The `N` values of a state laid out as `layout`.
fn state_values<const N: usize>(
    schedule: &str,
    layout: &str,
    state: &[f64],
) -> Result<[f64; N], String> {
    state.try_into().map_err(|_| {
        format!(
            "{schedule}: a state holds {N} values ({layout}), found {}",
            state.len()
        )
    })
}

/// A step or epoch count: a whole, non-negative number (saturating at
/// `usize::MAX`, as the counts themselves do).
fn state_count(schedule: &str, name: &str, value: f64) -> Result<usize, String> {
    require(
        value >= 0.0 && value.fract() == 0.0,
        schedule,
        name,
        "must be a whole number in a state",
        value,
    )?;
    Ok(value as usize)
}

/// A learning rate or momentum: finite.
fn state_finite(schedule: &str, name: &str, value: f64) -> Result<f64, String> {
    require(
        value.is_finite(),
        schedule,
        name,
        "must be finite in a state",
        value,
    )?;
    Ok(value)
}

/// A yes/no flag: 0 or 1.
fn state_flag(schedule: &str, name: &str, value: f64) -> Result<bool, String> {
    require(
        value == 0.0 || value == 1.0,
        schedule,
        name,
        "must be 0 or 1 in a state",
        value,
    )?;
    Ok(value == 1.0)
}

/// Reads `[base_lr, t]`.
fn load_closed_form(schedule: &str, state: &[f64]) -> Result<(f64, usize), String> {
    let [base_lr, t] = state_values(schedule, "base_lr, t", state)?;
    Ok((
        state_finite(schedule, "base_lr", base_lr)?,
        state_count(schedule, "t", t)?,
    ))
}

/// Reads `[has_momentum, t]`, the state of the cycles.
fn load_cycle(schedule: &str, state: &[f64]) -> Result<(bool, usize), String> {
    let [has_momentum, t] = state_values(schedule, "has_momentum, t", state)?;
    Ok((
        state_flag(schedule, "has_momentum", has_momentum)?,
        state_count(schedule, "t", t)?,
    ))
}

// ---------------------------------------------------------------------------
// Argument checks: each returns the message of `Scheduler::validate`.

/// `Ok` if `ok`, else "`{schedule}: `{arg}` {rule}, found {value}`".
fn require(
    ok: bool,
    schedule: &str,
    arg: &str,
    rule: &str,
    value: impl Debug,
) -> Result<(), String> {
    if ok {
        Ok(())
    } else {
        Err(format!("{schedule}: `{arg}` {rule}, found {value:?}"))
    }
}

fn require_at_least_one(schedule: &str, arg: &str, value: usize) -> Result<(), String> {
    require(value >= 1, schedule, arg, "must be at least 1", value)
}

fn require_positive(schedule: &str, arg: &str, value: f64) -> Result<(), String> {
    require(
        value > 0.0 && value.is_finite(),
        schedule,
        arg,
        "must be positive and finite",
        value,
    )
}

fn require_non_negative(schedule: &str, arg: &str, value: f64) -> Result<(), String> {
    require(
        value >= 0.0 && value.is_finite(),
        schedule,
        arg,
        "must be non-negative and finite",
        value,
    )
}

/// A momentum (or Adam's `beta1`): `0 <= value < 1`.
fn require_momentum(schedule: &str, arg: &str, value: f64) -> Result<(), String> {
    require(
        (0.0..1.0).contains(&value),
        schedule,
        arg,
        "must be in [0, 1)",
        value,
    )
}

/// `(1 + cos(pi pct)) / 2` from `start` to `end`: PyTorch's cosine anneal.
fn cosine(start: f64, end: f64, pct: f64) -> f64 {
    end + (start - end) / 2.0 * ((PI * pct).cos() + 1.0)
}

/// A straight line from `start` to `end`.
fn linear(start: f64, end: f64, pct: f64) -> f64 {
    (end - start) * pct + start
}

/// Builder setters: each `arg: T;`, after its doc comment, becomes
/// `pub fn arg(mut self, arg: T) -> Self` setting the field `arg`.
macro_rules! setters {
    ($($(#[$attr:meta])* $arg:ident: $ty:ty;)*) => {$(
        $(#[$attr])*
        pub fn $arg(mut self, $arg: $ty) -> Self {
            self.$arg = $arg;
            self
        }
    )*};
}

// ---------------------------------------------------------------------------
// Closed forms of the step count.

/// A schedule whose lr is a closed form of `t`, the steps since `start`.
///
/// Each one keeps its arguments plus `base_lr: f64` (the lr given to
/// `start`) and `t: usize`; `closed_form_schedulers!` implements
/// [`Scheduler`] from this, so that starting, stepping, the state
/// `[base_lr, t]`, `describe` and `validate` are written once.
trait ClosedForm {
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
/// `t` saturates, so that no number of steps panics.
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

            fn load_state(&mut self, state: &[f64]) -> Result<(), String> {
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

closed_form_schedulers!(
    StepLR,
    MultiStepLR,
    ExponentialLR,
    CosineAnnealingLR,
    LinearLR,
    ConstantLR,
    PolynomialLR,
    LambdaLR,
);

/// Decays the lr by `gamma` every `step_size` steps (`torch.optim.lr_scheduler.StepLR`):
/// `lr = base * gamma^floor(t / step_size)`.
///
/// ```
/// use macrograd_runtime::schedule::{Scheduler, StepLR};
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

/// Cosine annealing from the base lr to `eta_min` over `t_max` steps
/// (`torch.optim.lr_scheduler.CosineAnnealingLR`):
/// `lr = eta_min + (base - eta_min) (1 + cos(pi t / t_max)) / 2`.
///
/// As PyTorch's recursive implementation does, the lr keeps following the
/// cosine after `t_max`: it climbs back to the base lr at `2 t_max`, and so
/// on, with period `2 t_max`. For a single decay, stop training at `t_max`
/// or use [`CosineAnnealingWarmRestarts`] for restarts.
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

        /// The lowest lr, reached at the end of each period; default 0.
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
        self.t_cur += 1;
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

    fn load_state(&mut self, state: &[f64]) -> Result<(), String> {
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

/// Scales the lr linearly from `start_factor` to `end_factor` over
/// `total_iters` steps, the standard warmup
/// (`torch.optim.lr_scheduler.LinearLR`):
/// `lr = base * (start_factor + (end_factor - start_factor) min(t, total_iters) / total_iters)`.
///
/// ```
/// use macrograd_runtime::schedule::{LinearLR, Scheduler};
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
/// use macrograd_runtime::schedule::{LambdaLR, Scheduler};
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

// ---------------------------------------------------------------------------
// Composition.

/// Runs schedules one after another, switching at each milestone
/// (`torch.optim.lr_scheduler.SequentialLR`).
///
/// Schedule `i` runs from step `milestones[i - 1]` (0 for the first) until
/// `milestones[i]`; each one starts at its own `t = 0` from the base lr
/// and momentum given to [`Scheduler::start`] (PyTorch's `step(0)`). A
/// momentum set by an earlier schedule stays when the next one does not
/// set any, as in PyTorch.
///
/// Differences from PyTorch: a [`ReduceLROnPlateau`] part is allowed (the
/// metric is passed through; PyTorch refuses it); the sequence steps per
/// iteration if any part does.
///
/// ```
/// use macrograd_runtime::schedule::{CosineAnnealingLR, LinearLR, Scheduler, SequentialLR};
/// // Linear warmup over 3 steps, then cosine annealing over 7.
/// let mut s = SequentialLR::new(
///     vec![
///         Box::new(LinearLR::new().start_factor(0.1).total_iters(3)),
///         Box::new(CosineAnnealingLR::new(7)),
///     ],
///     [3],
/// );
/// assert_eq!(s.validate(), Ok(()));
/// assert!((s.start(0.1, None).lr - 0.01).abs() < 1e-12);
/// let lrs: Vec<f64> = (0..3).map(|_| s.step(None).lr).collect();
/// assert!((lrs[2] - 0.1).abs() < 1e-12); // step 3: the cosine's t = 0
/// ```
pub struct SequentialLR {
    schedulers: Vec<Box<dyn Scheduler>>,
    milestones: Vec<usize>,
    base_lr: f64,
    base_momentum: Option<f64>,
    t: usize,
}

impl SequentialLR {
    /// Runs `schedulers` in order, switching at `milestones` (one fewer
    /// than the schedulers, strictly increasing, from 1 on).
    pub fn new(schedulers: Vec<Box<dyn Scheduler>>, milestones: impl Into<Vec<usize>>) -> Self {
        SequentialLR {
            schedulers,
            milestones: milestones.into(),
            base_lr: 0.0,
            base_momentum: None,
            t: 0,
        }
    }

    /// The index of the schedule that step `t` belongs to: bisect_right, as
    /// PyTorch, clamped so that invalid milestones cannot index out of
    /// range (`validate` reports them).
    fn active_at(&self, t: usize) -> usize {
        let index = self.milestones.partition_point(|&m| m <= t);
        index.min(self.schedulers.len().saturating_sub(1))
    }

    /// The index of the schedule the current step belongs to.
    fn active(&self) -> usize {
        self.active_at(self.t)
    }
}

impl Scheduler for SequentialLR {
    fn start(&mut self, lr: f64, momentum: Option<f64>) -> Setting {
        self.base_lr = lr;
        self.base_momentum = momentum;
        self.t = 0;
        match self.schedulers.first_mut() {
            Some(first) => first.start(lr, momentum),
            None => Setting::lr(lr),
        }
    }

    fn step(&mut self, metric: Option<f64>) -> Setting {
        self.t = self.t.saturating_add(1);
        if self.schedulers.is_empty() {
            return Setting::lr(self.base_lr);
        }
        let index = self.active();
        let scheduler = &mut self.schedulers[index];
        if index > 0 && self.milestones[index - 1] == self.t {
            scheduler.start(self.base_lr, self.base_momentum)
        } else {
            scheduler.step(metric)
        }
    }

    fn state(&self) -> Vec<f64> {
        let index = self.active();
        let mut state = vec![
            self.t as f64,
            self.base_lr,
            f64::from(u8::from(self.base_momentum.is_some())),
            self.base_momentum.unwrap_or(0.0),
            index as f64,
        ];
        if let Some(active) = self.schedulers.get(index) {
            state.extend(active.state());
        }
        state
    }

    fn load_state(&mut self, state: &[f64]) -> Result<(), String> {
        let name = "SequentialLR";
        let layout = "t, base_lr, has_momentum, base_momentum, index, then the active schedule's";
        let Some((head, rest)) = state.split_first_chunk::<5>() else {
            return Err(format!(
                "{name}: a state holds at least 5 values ({layout}), found {}",
                state.len()
            ));
        };
        let &[t, base_lr, has_momentum, base_momentum, index] = head;
        let t = state_count(name, "t", t)?;
        let base_lr = state_finite(name, "base_lr", base_lr)?;
        let base_momentum = match state_flag(name, "has_momentum", has_momentum)? {
            true => Some(state_finite(name, "base_momentum", base_momentum)?),
            false => None,
        };
        let index = state_count(name, "index", index)?;
        let expected = self.active_at(t);
        if index != expected {
            return Err(format!(
                "{name}: a state at step {t} has schedule {expected} active (milestones {:?}), \
                 found index {index}",
                self.milestones
            ));
        }
        let Some(active) = self.schedulers.get_mut(index) else {
            return Err(format!("{name}: there is no schedule to load a state into"));
        };
        active
            .load_state(rest)
            .map_err(|e| format!("{name}: `schedulers[{index}]`: {e}"))?;
        (self.t, self.base_lr, self.base_momentum) = (t, base_lr, base_momentum);
        Ok(())
    }

    fn needs_metric(&self) -> bool {
        self.schedulers.iter().any(|s| s.needs_metric())
    }

    fn interval(&self) -> Interval {
        if self
            .schedulers
            .iter()
            .any(|s| s.interval() == Interval::Iteration)
        {
            Interval::Iteration
        } else {
            Interval::Epoch
        }
    }

    fn describe(&self) -> String {
        let parts: Vec<String> = self.schedulers.iter().map(|s| s.describe()).collect();
        format!(
            "SequentialLR(schedulers=[{}], milestones={:?})",
            parts.join(", "),
            self.milestones
        )
    }

    fn validate(&self) -> Result<(), String> {
        let name = "SequentialLR";
        require(
            !self.schedulers.is_empty(),
            name,
            "schedulers",
            "must hold at least one scheduler",
            0,
        )?;
        if self.milestones.len() + 1 != self.schedulers.len() {
            return Err(format!(
                "{name}: `milestones` must hold one fewer value than `schedulers` ({}), found {} ({:?})",
                self.schedulers.len(),
                self.milestones.len(),
                self.milestones
            ));
        }
        require(
            self.milestones.first().is_none_or(|&m| m >= 1),
            name,
            "milestones",
            "must start at 1 or later",
            &self.milestones,
        )?;
        require(
            self.milestones.windows(2).all(|w| w[0] < w[1]),
            name,
            "milestones",
            "must be strictly increasing",
            &self.milestones,
        )?;
        for (i, scheduler) in self.schedulers.iter().enumerate() {
            scheduler
                .validate()
                .map_err(|e| format!("{name}: `schedulers[{i}]`: {e}"))?;
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------
// Per-iteration cycles, with momentum.

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

        fn load_state(&mut self, state: &[f64]) -> Result<(), String> {
            (self.has_momentum, self.t) = load_cycle($name, state)?;
            Ok(())
        }

        fn interval(&self) -> Interval {
            Interval::Iteration
        }
    };
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
/// use macrograd_runtime::schedule::{OneCycleLR, Scheduler};
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

// ---------------------------------------------------------------------------
// Driven by a metric.

/// Whether [`ReduceLROnPlateau`]'s metric should go down or up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlateauMode {
    /// Lower is better (a loss); the default.
    Min,
    /// Higher is better (an accuracy).
    Max,
}

/// How [`ReduceLROnPlateau`] measures an improvement against the best value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ThresholdMode {
    /// Better than `best * (1 - threshold)` (min) or `best * (1 +
    /// threshold)` (max); the default.
    Rel,
    /// Better than `best - threshold` (min) or `best + threshold` (max).
    Abs,
}

/// Cuts the lr when the monitored metric stops improving
/// (`torch.optim.lr_scheduler.ReduceLROnPlateau`), stepped per epoch with
/// the epoch's metric.
///
/// Each step compares the metric with the best so far (see
/// [`ThresholdMode`]): better resets the count of bad epochs, worse adds
/// one. During the `cooldown` epochs after a cut, bad epochs are not
/// counted. PyTorch's convention: the lr is cut when the count **exceeds**
/// `patience`, i.e. on the `patience + 1`-th bad epoch in a row (Keras cuts
/// on the `patience`-th); then `lr = max(lr * factor, min_lr)`, applied
/// only if it changes the lr by more than `eps`, the cooldown starts and
/// the count restarts. A NaN metric is a bad epoch; `step(None)` (no
/// metric) changes nothing.
///
/// ```
/// use macrograd_runtime::schedule::{ReduceLROnPlateau, Scheduler};
/// let mut s = ReduceLROnPlateau::new().factor(0.5).patience(1);
/// s.start(0.1, None);
/// assert_eq!(s.step(Some(1.0)).lr, 0.1); // best
/// assert_eq!(s.step(Some(1.0)).lr, 0.1); // 1 bad epoch: not more than patience
/// assert_eq!(s.step(Some(1.0)).lr, 0.05); // 2 bad epochs: cut
/// ```
#[derive(Clone, Debug)]
pub struct ReduceLROnPlateau {
    mode: PlateauMode,
    factor: f64,
    patience: usize,
    threshold: f64,
    threshold_mode: ThresholdMode,
    cooldown: usize,
    min_lr: f64,
    eps: f64,
    lr: f64,
    best: f64,
    num_bad_epochs: usize,
    cooldown_counter: usize,
}

impl Default for ReduceLROnPlateau {
    /// PyTorch's defaults: `mode = min`, `factor = 0.1`, `patience = 10`,
    /// `threshold = 1e-4` relative, `cooldown = 0`, `min_lr = 0`,
    /// `eps = 1e-8`.
    fn default() -> Self {
        ReduceLROnPlateau {
            mode: PlateauMode::Min,
            factor: 0.1,
            patience: 10,
            threshold: 1e-4,
            threshold_mode: ThresholdMode::Rel,
            cooldown: 0,
            min_lr: 0.0,
            eps: 1e-8,
            lr: 0.0,
            best: f64::INFINITY,
            num_bad_epochs: 0,
            cooldown_counter: 0,
        }
    }
}

impl ReduceLROnPlateau {
    /// PyTorch's defaults: a tenth of the lr after more than 10 epochs
    /// without a 0.01% relative improvement of a metric to minimize.
    pub fn new() -> Self {
        Self::default()
    }

    setters! {
        /// Whether the metric should go down (default) or up.
        mode: PlateauMode;

        /// The factor of a cut, in [0, 1); default 0.1.
        factor: f64;

        /// The bad epochs tolerated; the cut comes on one more; default 10.
        patience: usize;

        /// The least improvement that counts, non-negative; default 1e-4.
        threshold: f64;

        /// Relative (default) or absolute threshold.
        threshold_mode: ThresholdMode;

        /// Epochs after a cut in which bad epochs are not counted; default 0.
        cooldown: usize;

        /// The lowest lr a cut goes to; default 0.
        min_lr: f64;

        /// The least change of the lr that is applied; default 1e-8.
        eps: f64;
    }

    fn worst(&self) -> f64 {
        match self.mode {
            PlateauMode::Min => f64::INFINITY,
            PlateauMode::Max => f64::NEG_INFINITY,
        }
    }

    fn is_better(&self, a: f64) -> bool {
        let (best, thr) = (self.best, self.threshold);
        match (self.mode, self.threshold_mode) {
            (PlateauMode::Min, ThresholdMode::Rel) => a < best * (1.0 - thr),
            (PlateauMode::Min, ThresholdMode::Abs) => a < best - thr,
            (PlateauMode::Max, ThresholdMode::Rel) => a > best * (thr + 1.0),
            (PlateauMode::Max, ThresholdMode::Abs) => a > best + thr,
        }
    }
}

impl Scheduler for ReduceLROnPlateau {
    fn start(&mut self, lr: f64, _momentum: Option<f64>) -> Setting {
        self.lr = lr;
        self.best = self.worst();
        self.num_bad_epochs = 0;
        self.cooldown_counter = 0;
        Setting::lr(lr)
    }

    fn step(&mut self, metric: Option<f64>) -> Setting {
        let Some(current) = metric else {
            return Setting::lr(self.lr);
        };
        // STEP 1: count the epoch as better or bad.
        if self.is_better(current) {
            self.best = current;
            self.num_bad_epochs = 0;
        } else {
            self.num_bad_epochs += 1;
        }
        // STEP 2: bad epochs during the cooldown do not count.
        if self.cooldown_counter > 0 {
            self.cooldown_counter -= 1;
            self.num_bad_epochs = 0;
        }
        // STEP 3: cut on the (patience + 1)-th bad epoch.
        if self.num_bad_epochs > self.patience {
            let new_lr = (self.lr * self.factor).max(self.min_lr);
            if self.lr - new_lr > self.eps {
                self.lr = new_lr;
            }
            self.cooldown_counter = self.cooldown;
            self.num_bad_epochs = 0;
        }
        Setting::lr(self.lr)
    }

    fn state(&self) -> Vec<f64> {
        vec![
            self.lr,
            self.best,
            self.num_bad_epochs as f64,
            self.cooldown_counter as f64,
        ]
    }

    fn load_state(&mut self, state: &[f64]) -> Result<(), String> {
        let name = "ReduceLROnPlateau";
        let layout = "lr, best, num_bad_epochs, cooldown_counter";
        let [lr, best, bad, cooldown] = state_values(name, layout, state)?;
        // `best` starts at an infinity; a NaN never becomes the best.
        require(
            !best.is_nan(),
            name,
            "best",
            "must not be NaN in a state",
            best,
        )?;
        let loaded = (
            state_finite(name, "lr", lr)?,
            state_count(name, "num_bad_epochs", bad)?,
            state_count(name, "cooldown_counter", cooldown)?,
        );
        (self.lr, self.num_bad_epochs, self.cooldown_counter) = loaded;
        self.best = best;
        Ok(())
    }

    fn needs_metric(&self) -> bool {
        true
    }

    fn describe(&self) -> String {
        format!(
            "ReduceLROnPlateau(mode='{}', factor={:?}, patience={}, threshold={:?}, \
             threshold_mode='{}', cooldown={}, min_lr={:?}, eps={:?})",
            match self.mode {
                PlateauMode::Min => "min",
                PlateauMode::Max => "max",
            },
            self.factor,
            self.patience,
            self.threshold,
            match self.threshold_mode {
                ThresholdMode::Rel => "rel",
                ThresholdMode::Abs => "abs",
            },
            self.cooldown,
            self.min_lr,
            self.eps,
        )
    }

    fn validate(&self) -> Result<(), String> {
        let name = "ReduceLROnPlateau";
        require(
            (0.0..1.0).contains(&self.factor),
            name,
            "factor",
            "must be in [0, 1)",
            self.factor,
        )?;
        require_non_negative(name, "threshold", self.threshold)?;
        require_non_negative(name, "min_lr", self.min_lr)?;
        require_non_negative(name, "eps", self.eps)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The settings of steps `0..n`: `start` then `n - 1` steps.
    fn run(s: &mut dyn Scheduler, momentum: Option<f64>, n: usize) -> Vec<Setting> {
        let mut out = vec![s.start(0.1, momentum)];
        out.extend((1..n).map(|_| s.step(None)));
        out
    }

    fn lrs(s: &mut dyn Scheduler, n: usize) -> Vec<f64> {
        run(s, None, n).iter().map(|x| x.lr).collect()
    }

    fn assert_near(found: &[f64], expected: &[f64], tol: f64) {
        assert_eq!(found.len(), expected.len(), "{found:?} vs {expected:?}");
        for (i, (a, b)) in found.iter().zip(expected).enumerate() {
            assert!(
                (a - b).abs() <= tol,
                "index {i}: {a} vs {b}\n{found:?}\n{expected:?}"
            );
        }
    }

    // Reference values below: torch 2.15, SGD(lr=0.1, momentum=0.9).

    #[test]
    fn one_cycle_three_phase() {
        let mut s = OneCycleLR::new(0.1, 10).three_phase(true);
        let out = run(&mut s, Some(0.9), 12);
        let lr: Vec<f64> = out.iter().map(|x| x.lr).collect();
        let m: Vec<f64> = out.iter().map(|x| x.momentum.unwrap()).collect();
        #[rustfmt::skip]
        let expected = [
            0.004, 0.052, 0.1, 0.052, 0.004, 0.003618072185, 0.002618172185,
            0.001382227815, 0.000382327815, 4e-7,
            4e-7, 4e-7, // held past the end (PyTorch: 0.000382327815, then an error)
        ];
        assert_near(&lr, &expected, 1e-12);
        let mut expected_m = vec![0.95, 0.9, 0.85, 0.9, 0.95];
        expected_m.resize(12, 0.95);
        assert_near(&m, &expected_m, 1e-12);
    }

    #[test]
    fn one_cycle_linear_holds_instead_of_going_negative() {
        let mut s = OneCycleLR::new(0.1, 10).anneal_strategy(Anneal::Linear);
        let out = run(&mut s, Some(0.9), 13);
        let lr: Vec<f64> = out.iter().map(|x| x.lr).collect();
        let m: Vec<f64> = out.iter().map(|x| x.momentum.unwrap()).collect();
        #[rustfmt::skip]
        let expected = [
            0.004, 0.052, 0.1, 0.085714342857, 0.071428685714, 0.057143028571,
            0.042857371429, 0.028571714286, 0.014286057143, 4e-7,
            4e-7, 4e-7, 4e-7, // PyTorch: -0.014285257143, then an error
        ];
        assert_near(&lr, &expected, 1e-12);
        #[rustfmt::skip]
        let expected_m = [
            0.95, 0.9, 0.85, 0.864285714286, 0.878571428571, 0.892857142857,
            0.907142857143, 0.921428571429, 0.935714285714, 0.95, 0.95, 0.95, 0.95,
        ];
        assert_near(&m, &expected_m, 1e-12);
    }

    #[test]
    fn one_cycle_edge_cases() {
        // total_steps = 1: phase 1 ends before step 0 (PyTorch: 4e-7, 0.95).
        let out = run(&mut OneCycleLR::new(0.1, 1), Some(0.9), 3);
        for x in out {
            assert_near(&[x.lr, x.momentum.unwrap()], &[4e-7, 0.95], 1e-15);
        }
        // A warmup of zero length (PyTorch divides by zero): its end value.
        let lr = lrs(&mut OneCycleLR::new(0.1, 10).pct_start(0.1), 2);
        assert_near(&lr[..1], &[0.1], 1e-15);
        assert!(lr[1] < 0.1 && lr[1] > 0.09);
        // No momentum to cycle, or asked not to.
        assert!(run(&mut OneCycleLR::new(0.1, 10), None, 3)
            .iter()
            .all(|x| x.momentum.is_none()));
        let mut s = OneCycleLR::new(0.1, 10).cycle_momentum(false);
        assert!(run(&mut s, Some(0.9), 3)
            .iter()
            .all(|x| x.momentum.is_none()));
        // Invalid arguments never give a panic, only odd numbers.
        for s in [
            OneCycleLR::new(0.1, 0),
            OneCycleLR::new(0.1, 10).pct_start(2.0).three_phase(true),
            OneCycleLR::new(0.1, 10).pct_start(-1.0),
        ] {
            let mut s = s;
            assert!(s.validate().is_err());
            run(&mut s, Some(0.9), 20);
        }
        assert_eq!(OneCycleLR::from_epochs(0.1, 3, 4).total_steps, 12);
    }

    #[test]
    fn cyclic_triangular2_with_step_size_down() {
        let mut s = CyclicLR::new(0.01, 0.1)
            .step_size_up(2)
            .step_size_down(3)
            .mode(CyclicMode::Triangular2);
        let out = run(&mut s, Some(0.9), 16);
        let lr: Vec<f64> = out.iter().map(|x| x.lr).collect();
        let m: Vec<f64> = out.iter().map(|x| x.momentum.unwrap()).collect();
        #[rustfmt::skip]
        let expected = [
            0.01, 0.055, 0.1, 0.07, 0.04, 0.01, 0.0325, 0.055, 0.04, 0.025,
            0.01, 0.02125, 0.0325, 0.025, 0.0175, 0.01,
        ];
        assert_near(&lr, &expected, 1e-12);
        #[rustfmt::skip]
        let expected_m = [
            0.9, 0.85, 0.8, 0.833333333333, 0.866666666667, 0.9, 0.875, 0.85,
            0.866666666667, 0.883333333333, 0.9, 0.8875, 0.875, 0.883333333333,
            0.891666666667, 0.9,
        ];
        assert_near(&m, &expected_m, 1e-12);
    }

    #[test]
    fn cyclic_exp_range() {
        let mut s = CyclicLR::new(0.01, 0.1)
            .step_size_up(2)
            .mode(CyclicMode::ExpRange)
            .gamma(0.9);
        let out = run(&mut s, Some(0.9), 10);
        let lr: Vec<f64> = out.iter().map(|x| x.lr).collect();
        let m: Vec<f64> = out.iter().map(|x| x.momentum.unwrap()).collect();
        #[rustfmt::skip]
        let expected = [
            0.01, 0.0505, 0.0829, 0.042805, 0.01, 0.03657205, 0.05782969,
            0.0315233605, 0.01, 0.027433922005,
        ];
        assert_near(&lr, &expected, 1e-12);
        #[rustfmt::skip]
        let expected_m = [
            0.9, 0.855, 0.819, 0.86355, 0.9, 0.8704755, 0.8468559, 0.876085155,
            0.9, 0.88062897555,
        ];
        assert_near(&m, &expected_m, 1e-12);
    }

    #[test]
    fn cyclic_zero_step_size_never_panics() {
        let mut s = CyclicLR::new(0.01, 0.1).step_size_up(0).step_size_down(0);
        assert!(s.validate().is_err());
        run(&mut s, Some(0.9), 5);
        // step_size_down = 0 is valid: a saw-tooth.
        let mut s = CyclicLR::new(0.0, 0.1).step_size_up(2).step_size_down(0);
        assert_eq!(s.validate(), Ok(()));
        assert_near(&lrs(&mut s, 5), &[0.0, 0.05, 0.0, 0.05, 0.0], 1e-15);
    }

    #[test]
    fn plateau_max_abs_cooldown_min_lr() {
        let mut s = ReduceLROnPlateau::new()
            .mode(PlateauMode::Max)
            .factor(0.5)
            .patience(0)
            .threshold(0.1)
            .threshold_mode(ThresholdMode::Abs)
            .cooldown(2)
            .min_lr(0.02);
        let metrics = [1.0, 1.05, 1.05, 1.2, 1.2, 1.2, 1.2, 1.2, 1.2, 1.2, 1.2];
        let mut lr = vec![s.start(0.1, None).lr];
        lr.extend(metrics.iter().map(|&m| s.step(Some(m)).lr));
        #[rustfmt::skip]
        let expected = [
            0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025, 0.025, 0.02, 0.02, 0.02, 0.02,
        ];
        assert_near(&lr, &expected, 1e-15);
    }

    #[test]
    fn plateau_eps_none_and_nan() {
        // A cut smaller than eps is not applied.
        let mut s = ReduceLROnPlateau::new()
            .factor(0.5)
            .patience(0)
            .min_lr(0.0999)
            .eps(1e-3);
        s.start(0.1, None);
        for _ in 0..4 {
            assert_eq!(s.step(Some(1.0)).lr, 0.1);
        }
        // No metric: nothing changes, not even the count of bad epochs.
        let mut s = ReduceLROnPlateau::new().factor(0.5).patience(1);
        s.start(0.1, None);
        s.step(Some(1.0));
        s.step(Some(2.0));
        for _ in 0..5 {
            assert_eq!(s.step(None).lr, 0.1);
        }
        assert_eq!(s.step(Some(f64::NAN)).lr, 0.05); // NaN is a bad epoch
        assert!(s.needs_metric());
        // start restarts everything.
        assert_eq!(s.start(0.2, None).lr, 0.2);
        assert_eq!(s.step(Some(5.0)).lr, 0.2);
    }

    #[test]
    fn warm_restarts_constant_period() {
        let mut s = CosineAnnealingWarmRestarts::new(2).eta_min(0.01);
        let expected = [0.1, 0.055, 0.1, 0.055, 0.1, 0.055, 0.1];
        assert_near(&lrs(&mut s, 7), &expected, 1e-15);
    }

    #[test]
    fn sequential_three_parts() {
        let mut s = SequentialLR::new(
            vec![
                Box::new(ConstantLR::new().factor(0.5).total_iters(2)),
                Box::new(ExponentialLR::new(0.9)),
                Box::new(StepLR::new(2, 0.5)),
            ],
            [2, 5],
        );
        assert_eq!(s.validate(), Ok(()));
        #[rustfmt::skip]
        let expected = [0.05, 0.05, 0.1, 0.09, 0.081, 0.1, 0.1, 0.05, 0.05, 0.025];
        assert_near(&lrs(&mut s, 10), &expected, 1e-15);
        assert_eq!(s.interval(), Interval::Epoch);
        assert!(!s.needs_metric());
    }

    #[test]
    fn sequential_passes_momentum_and_metric() {
        let mut s = SequentialLR::new(
            vec![
                Box::new(OneCycleLR::new(0.1, 3)),
                Box::new(ReduceLROnPlateau::new().patience(0)),
            ],
            [3],
        );
        assert_eq!(s.interval(), Interval::Iteration);
        assert!(s.needs_metric());
        assert!(s.start(0.5, Some(0.9)).momentum.is_some());
        s.step(None);
        s.step(None);
        // Step 3: the plateau part starts from the base lr.
        assert_eq!(s.step(None), Setting::lr(0.5));
        assert_eq!(s.step(Some(1.0)).lr, 0.5);
        assert_near(&[s.step(Some(1.0)).lr], &[0.05], 1e-15);
    }

    #[test]
    fn sequential_invalid_never_panics() {
        type Parts = Vec<Box<dyn Scheduler>>;
        let cases: Vec<(Parts, Vec<usize>)> = vec![
            (vec![], vec![]),
            (vec![], vec![1, 2]),
            (vec![Box::new(StepLR::new(1, 0.5))], vec![0, 0]),
            (
                vec![Box::new(StepLR::new(1, 0.5)), Box::new(StepLR::new(1, 0.5))],
                vec![],
            ),
            (
                vec![Box::new(StepLR::new(1, 0.5)), Box::new(StepLR::new(1, 0.5))],
                vec![0],
            ),
        ];
        for (schedulers, milestones) in cases {
            let mut s = SequentialLR::new(schedulers, milestones);
            assert!(s.validate().is_err(), "{}", s.describe());
            run(&mut s, None, 6);
        }
    }

    #[test]
    fn multistep_unsorted_and_repeated() {
        let mut s = MultiStepLR::new([5, 2, 2], 0.5);
        let expected = [0.1, 0.1, 0.025, 0.025, 0.025, 0.0125, 0.0125];
        assert_near(&lrs(&mut s, 7), &expected, 1e-15);
        assert_eq!(s.describe(), "MultiStepLR(milestones=[2, 2, 5], gamma=0.5)");
    }

    #[test]
    fn polynomial_lambda_cosine() {
        let mut s = PolynomialLR::new().total_iters(4).power(0.5);
        let expected = [0.1, 0.086602540378, 0.070710678119, 0.05, 0.0, 0.0];
        assert_near(&lrs(&mut s, 6), &expected, 1e-12);
        let mut s = LambdaLR::new(|t| 1.0 / (t + 1) as f64);
        let expected = [0.1, 0.05, 0.033333333333, 0.025];
        assert_near(&lrs(&mut s, 4), &expected, 1e-12);
        let mut s = CosineAnnealingLR::new(3);
        let expected = [0.1, 0.075, 0.025, 0.0, 0.025, 0.075, 0.1, 0.075];
        assert_near(&lrs(&mut s, 8), &expected, 1e-12);
    }

    #[test]
    fn restart_and_step_before_start() {
        let mut s = StepLR::new(1, 0.5);
        assert_eq!(s.step(None).lr, 0.0);
        run(&mut s, None, 5);
        assert_eq!(lrs(&mut s, 3), [0.1, 0.05, 0.025]);
    }

    /// A validation loss that improves, stalls and improves again.
    fn plateau_metric(i: usize) -> Option<f64> {
        Some([1.0, 0.9, 0.95, 0.95, 0.95, 0.8, 0.85, 0.85, 0.85, 0.85][i % 10])
    }

    /// Runs `make()` for `k` steps, restores its state into a fresh
    /// `make()`, and checks that both then give the same settings for 12
    /// more steps, bit for bit.
    fn resumes_identically(make: &dyn Fn() -> Box<dyn Scheduler>, momentum: Option<f64>, k: usize) {
        let mut original = make();
        original.start(0.1, momentum);
        for i in 1..=k {
            original.step(plateau_metric(i));
        }
        let state = original.state();
        let name = original.describe();
        let mut resumed = make();
        resumed
            .load_state(&state)
            .unwrap_or_else(|e| panic!("{name} at step {k}: {e}"));
        assert_eq!(resumed.state(), state, "{name} at step {k}");
        for i in k + 1..=k + 12 {
            let (a, b) = (
                original.step(plateau_metric(i)),
                resumed.step(plateau_metric(i)),
            );
            assert_eq!(a.lr.to_bits(), b.lr.to_bits(), "{name}: {k} then {i}");
            assert_eq!(
                a.momentum.map(f64::to_bits),
                b.momentum.map(f64::to_bits),
                "{name}: {k} then {i}"
            );
        }
    }

    #[test]
    fn every_schedule_restored_mid_way_continues_with_the_same_values() {
        type Make = Box<dyn Fn() -> Box<dyn Scheduler>>;
        let all: Vec<(Make, Option<f64>)> = vec![
            (Box::new(|| Box::new(StepLR::new(2, 0.5))), None),
            (
                Box::new(|| Box::new(MultiStepLR::new(vec![3, 6], 0.5))),
                None,
            ),
            (Box::new(|| Box::new(ExponentialLR::new(0.9))), None),
            (
                Box::new(|| Box::new(CosineAnnealingLR::new(5).eta_min(0.001))),
                None,
            ),
            (
                Box::new(|| Box::new(CosineAnnealingWarmRestarts::new(2).t_mult(2))),
                None,
            ),
            (Box::new(|| Box::new(LinearLR::new())), None),
            (Box::new(|| Box::new(ConstantLR::new())), None),
            (Box::new(|| Box::new(PolynomialLR::new().power(2.0))), None),
            (
                Box::new(|| Box::new(LambdaLR::new(|t| 0.9f64.powi(t as i32)))),
                None,
            ),
            (Box::new(|| Box::new(OneCycleLR::new(0.1, 20))), Some(0.9)),
            (
                Box::new(|| {
                    Box::new(
                        CyclicLR::new(0.01, 0.1)
                            .step_size_up(3)
                            .mode(CyclicMode::Triangular2),
                    )
                }),
                Some(0.9),
            ),
            (
                Box::new(|| Box::new(ReduceLROnPlateau::new().patience(1).cooldown(1).factor(0.5))),
                None,
            ),
            (
                Box::new(|| {
                    Box::new(SequentialLR::new(
                        vec![
                            Box::new(LinearLR::new().total_iters(3)),
                            Box::new(ReduceLROnPlateau::new().patience(1).factor(0.5)),
                            Box::new(OneCycleLR::new(0.1, 10)),
                        ],
                        [3, 8],
                    ))
                }),
                Some(0.9),
            ),
        ];
        for (make, momentum) in &all {
            // Before the first step, on a milestone, between them, far on.
            for k in [0, 1, 3, 4, 7, 8, 9, 25] {
                resumes_identically(make, *momentum, k);
            }
        }
    }

    #[test]
    fn load_state_reports_bad_states_and_changes_nothing() {
        let mut s = StepLR::new(2, 0.5);
        s.start(0.1, None);
        s.step(None);
        let before = s.state();
        assert_eq!(
            s.load_state(&[0.1]),
            Err("StepLR: a state holds 2 values (base_lr, t), found 1".to_string())
        );
        assert_eq!(
            s.load_state(&[0.1, 1.5]),
            Err("StepLR: `t` must be a whole number in a state, found 1.5".to_string())
        );
        assert_eq!(
            s.load_state(&[f64::NAN, 1.0]),
            Err("StepLR: `base_lr` must be finite in a state, found NaN".to_string())
        );
        assert_eq!(s.state(), before);

        let mut plateau = ReduceLROnPlateau::new();
        plateau.start(0.1, None);
        assert!(plateau.load_state(&[0.1, f64::NAN, 0.0, 0.0]).is_err());
        assert!(plateau.load_state(&[0.1, 1.0, -1.0, 0.0]).is_err());
        assert_eq!(plateau.state(), [0.1, f64::INFINITY, 0.0, 0.0]);

        let mut cycle = OneCycleLR::new(0.1, 10);
        assert_eq!(
            cycle.load_state(&[0.5, 1.0]),
            Err("OneCycleLR: `has_momentum` must be 0 or 1 in a state, found 0.5".to_string())
        );

        let make = || {
            SequentialLR::new(
                vec![Box::new(LinearLR::new()), Box::new(StepLR::new(1, 0.5))],
                [2],
            )
        };
        let mut seq = make();
        seq.start(0.1, None);
        let mut state = seq.state();
        assert_eq!(state, [0.0, 0.1, 0.0, 0.0, 0.0, 0.1, 0.0]);
        state[4] = 1.0;
        let err = make().load_state(&state).unwrap_err();
        assert_eq!(
            err,
            "SequentialLR: a state at step 0 has schedule 0 active (milestones [2]), found index 1"
        );
        let mut seq = make();
        let err = seq.load_state(&[0.0, 0.1, 0.0, 0.0, 0.0, 0.1]).unwrap_err();
        assert_eq!(
            err,
            "SequentialLR: `schedulers[0]`: LinearLR: a state holds 2 values (base_lr, t), found 1"
        );
        assert_eq!(seq.state(), make().state());
        assert!(make().load_state(&[1.0]).is_err());
    }

    /// A schedule written elsewhere cannot be resumed silently wrong.
    #[test]
    fn a_schedule_without_state_refuses_to_resume() {
        struct Constant;
        impl Scheduler for Constant {
            fn start(&mut self, lr: f64, _: Option<f64>) -> Setting {
                Setting::lr(lr)
            }
            fn step(&mut self, _: Option<f64>) -> Setting {
                Setting::lr(0.1)
            }
            fn describe(&self) -> String {
                "Constant".to_string()
            }
        }
        assert!(Constant.state().is_empty());
        assert_eq!(
            Constant.load_state(&[]),
            Err(
                "Constant: this schedule does not save its state, so a run cannot resume it"
                    .to_string()
            )
        );
        // Inside a sequence, the error names the part.
        let mut seq = SequentialLR::new(vec![Box::new(Constant)], []);
        let err = seq.load_state(&seq.state()).unwrap_err();
        assert!(
            err.starts_with("SequentialLR: `schedulers[0]`: Constant:"),
            "{err}"
        );
    }

    #[test]
    fn defaults_are_valid_and_described() {
        let all: Vec<Box<dyn Scheduler>> = vec![
            Box::new(StepLR::new(30, 0.1)),
            Box::new(MultiStepLR::new(vec![30, 80], 0.1)),
            Box::new(ExponentialLR::new(0.9)),
            Box::new(CosineAnnealingLR::new(10)),
            Box::new(CosineAnnealingWarmRestarts::new(10)),
            Box::new(LinearLR::new()),
            Box::new(ConstantLR::new()),
            Box::new(PolynomialLR::new()),
            Box::new(LambdaLR::new(|_| 1.0)),
            Box::new(OneCycleLR::new(0.1, 100)),
            Box::new(CyclicLR::new(0.001, 0.1)),
            Box::new(ReduceLROnPlateau::new()),
        ];
        for s in &all {
            assert_eq!(s.validate(), Ok(()), "{}", s.describe());
        }
        let described: Vec<String> = all.iter().map(|s| s.describe()).collect();
        assert_eq!(described[0], "StepLR(step_size=30, gamma=0.1)");
        assert_eq!(
            described[4],
            "CosineAnnealingWarmRestarts(T_0=10, T_mult=1, eta_min=0.0)"
        );
        assert_eq!(
            described[9],
            "OneCycleLR(max_lr=0.1, total_steps=100, pct_start=0.3, anneal_strategy='cos', \
             cycle_momentum=True, base_momentum=0.85, max_momentum=0.95, div_factor=25.0, \
             final_div_factor=10000.0, three_phase=False)"
        );
        assert_eq!(
            described[11],
            "ReduceLROnPlateau(mode='min', factor=0.1, patience=10, threshold=0.0001, \
             threshold_mode='rel', cooldown=0, min_lr=0.0, eps=1e-8)"
        );
        let intervals: Vec<Interval> = all.iter().map(|s| s.interval()).collect();
        assert_eq!(intervals[9], Interval::Iteration);
        assert_eq!(intervals[10], Interval::Iteration);
        assert!(intervals[..9].iter().all(|&i| i == Interval::Epoch));
    }
}
