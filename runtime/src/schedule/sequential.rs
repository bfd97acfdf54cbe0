//! SequentialLR: schedules run one after another, switching at milestones.

use super::{require, state_count, state_finite, state_flag, Interval, Scheduler, Setting};
use crate::{StateError, StateProblem};

/// Runs schedules one after another, switching at each milestone
/// (`torch.optim.lr_scheduler.SequentialLR`).
///
/// Schedule `i` runs from step `milestones[i - 1]` (0 for the first) until
/// `milestones[i]`; each one starts at its own `t = 0` from the base lr
/// and momentum given to [`Scheduler::start`] (PyTorch's `step(0)`). A
/// momentum set by an earlier schedule stays when the next one does not
/// set any, as in PyTorch.
///
/// Differences from PyTorch: a [`ReduceLROnPlateau`](super::ReduceLROnPlateau)
/// part is allowed (the metric is passed through; PyTorch refuses it); the
/// sequence steps per iteration if any part does.
///
/// ```
/// # use macrograd_runtime as macrograd;
/// use macrograd::schedule::{CosineAnnealingLR, LinearLR, Scheduler, SequentialLR};
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

    fn load_state(&mut self, state: &[f64]) -> Result<(), StateError> {
        let name = "SequentialLR";
        let layout = "t, base_lr, has_momentum, base_momentum, index, then the active schedule's";
        let Some((head, rest)) = state.split_first_chunk::<5>() else {
            let message = format!(
                "a state holds at least 5 values ({layout}), found {}",
                state.len()
            );
            return Err(StateError::new(
                name,
                StateProblem::Inconsistent { message },
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
            let message = format!(
                "a state at step {t} has schedule {expected} active (milestones {:?}), \
                 found index {index}",
                self.milestones
            );
            return Err(StateError::new(
                name,
                StateProblem::Inconsistent { message },
            ));
        }
        let Some(active) = self.schedulers.get_mut(index) else {
            let message = "there is no schedule to load a state into".to_string();
            return Err(StateError::new(
                name,
                StateProblem::Inconsistent { message },
            ));
        };
        active.load_state(rest).map_err(|e| StateError {
            owner: format!("{} (`schedulers[{index}]` of {name})", e.owner),
            problems: e.problems,
        })?;
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
