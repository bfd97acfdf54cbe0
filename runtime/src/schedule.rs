//! Learning-rate schedules, with PyTorch's formulas
//! (`torch.optim.lr_scheduler`).
//!
//! A schedule is handed to [`Fit::schedule`](crate::train::Fit::schedule).
//! `fit` calls [`Scheduler::start`] once before the first update (PyTorch's
//! construction-time step) and [`Scheduler::step`] after the optimizer's
//! step: after every epoch, or after every iteration for the schedules
//! designed per batch (OneCycleLR, CyclicLR) or when asked with
//! [`Fit::schedule_every`](crate::train::Fit::schedule_every).

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

/// A learning-rate schedule.
pub trait Scheduler {
    /// Starts the schedule on an optimizer whose learning rate is `lr` (the
    /// base learning rate) and whose momentum is `momentum`; returns the
    /// setting of the first update.
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
}
