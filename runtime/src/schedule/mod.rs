//! Learning-rate schedules, with PyTorch's formulas and defaults
//! (`torch.optim.lr_scheduler`, torch 2.x).
//!
//! A schedule is handed to [`Fit::schedule`](crate::train::Fit::schedule).
//! `fit` calls [`Scheduler::validate`] before the first batch,
//! [`Scheduler::start`] once before the first update (PyTorch's
//! construction-time step) and [`Scheduler::step`] after the optimizer's
//! step: after every epoch, or after every optimizer update (every batch,
//! or every `accumulate` batches) for the schedules designed per batch
//! (OneCycleLR, CyclicLR, and a SequentialLR holding one) or when asked
//! with [`Fit::schedule_every`](crate::train::Fit::schedule_every).
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
//! # use macrograd_runtime as macrograd;
//! use macrograd::schedule::{Scheduler, StepLR};
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

// Here: the `Scheduler` trait and what the schedules share (their argument
// and state checks, the cosine anneal, the builder setters); each family
// of schedules has its own file.

use crate::{StateError, StateProblem};
use std::f64::consts::PI;
use std::fmt::Debug;

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

// The files below see `setters!`: it is defined before them.
mod closed_form;
mod cycles;
mod plateau;
mod sequential;
mod step;
#[cfg(test)]
mod tests;
mod warm_restarts;

pub use self::closed_form::{ConstantLR, CosineAnnealingLR, LambdaLR, LinearLR, PolynomialLR};
pub use self::cycles::{Anneal, CyclicLR, CyclicMode, OneCycleLR};
pub use self::plateau::{PlateauMode, ReduceLROnPlateau, ThresholdMode};
pub use self::sequential::SequentialLR;
pub use self::step::{ExponentialLR, MultiStepLR, StepLR};
pub use self::warm_restarts::CosineAnnealingWarmRestarts;

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
/// `start` behaves as if started with a learning rate of 0 and no
/// momentum.
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
    /// OneCycleLR and CyclicLR (designed per batch) and a SequentialLR that
    /// holds an iteration-wise part, per epoch for the rest.
    fn interval(&self) -> Interval {
        Interval::Epoch
    }

    /// The name and arguments, as in the PyTorch call, for logs.
    fn describe(&self) -> String;

    /// Checks the arguments; `fit` calls it before the first batch and
    /// turns an error into
    /// [`Error::InvalidSetting`](crate::Error::InvalidSetting).
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
    /// # use macrograd_runtime as macrograd;
    /// use macrograd::schedule::{CosineAnnealingLR, Scheduler};
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
    /// A [`StateError`] naming the schedule and what is wrong
    /// ([`StateProblem`]): the number of values, a count that is not a
    /// whole number, a learning rate or momentum that is not finite, a flag
    /// that is not 0 or 1, a ReduceLROnPlateau `best` that is NaN, a
    /// SequentialLR index that does not match its step count. Nothing is
    /// changed then.
    /// The default implementation always fails
    /// ([`StateProblem::NotSaved`]).
    fn load_state(&mut self, state: &[f64]) -> Result<(), StateError> {
        let _ = state;
        Err(StateError::new(self.describe(), StateProblem::NotSaved))
    }
}

// ---------------------------------------------------------------------------
// State checks: each returns the error of `Scheduler::load_state`.

/// A state of `schedule` refused for `problem`.
fn refuse(schedule: &str, problem: StateProblem) -> StateError {
    StateError::new(schedule, problem)
}

/// The `N` values of a state laid out as `layout`.
fn state_values<const N: usize>(
    schedule: &str,
    layout: &'static str,
    state: &[f64],
) -> Result<[f64; N], StateError> {
    state.try_into().map_err(|_| {
        let found = state.len();
        refuse(
            schedule,
            StateProblem::Layout {
                layout,
                expected: N,
                found,
            },
        )
    })
}

/// `Ok(value)` if `ok`, else `name` is out of the range `expected`.
fn state_check(
    ok: bool,
    schedule: &str,
    name: &str,
    expected: &'static str,
    value: f64,
) -> Result<f64, StateError> {
    if ok {
        Ok(value)
    } else {
        let name = name.to_string();
        let problem = StateProblem::OutOfRange {
            name,
            index: None,
            value,
            expected,
        };
        Err(refuse(schedule, problem))
    }
}

/// A step or epoch count: a whole, non-negative number (saturating at
/// `usize::MAX`, as the counts themselves do).
fn state_count(schedule: &str, name: &str, value: f64) -> Result<usize, StateError> {
    let whole = value >= 0.0 && value.fract() == 0.0;
    state_check(whole, schedule, name, "a whole number", value).map(|v| v as usize)
}

/// A learning rate or momentum: finite.
fn state_finite(schedule: &str, name: &str, value: f64) -> Result<f64, StateError> {
    state_check(value.is_finite(), schedule, name, "finite", value)
}

/// A yes/no flag: 0 or 1.
fn state_flag(schedule: &str, name: &str, value: f64) -> Result<bool, StateError> {
    let flag = value == 0.0 || value == 1.0;
    state_check(flag, schedule, name, "0 or 1", value).map(|v| v == 1.0)
}

/// Reads `[base_lr, t]`.
fn load_closed_form(schedule: &str, state: &[f64]) -> Result<(f64, usize), StateError> {
    let [base_lr, t] = state_values(schedule, "base_lr, t", state)?;
    Ok((
        state_finite(schedule, "base_lr", base_lr)?,
        state_count(schedule, "t", t)?,
    ))
}

/// Reads `[has_momentum, t]`, the state of the cycles.
fn load_cycle(schedule: &str, state: &[f64]) -> Result<(bool, usize), StateError> {
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
