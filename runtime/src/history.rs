//! What a training run did: one [`EpochLog`] per epoch and the reason it
//! stopped.

use std::fmt;
use std::time::Duration;

use crate::metrics::Metric;

/// What happened in one epoch.
#[derive(Clone, Debug, PartialEq)]
pub struct EpochLog {
    /// 1-based epoch number.
    pub epoch: usize,
    /// Sample-weighted mean of the epoch's batch losses (training mode,
    /// each batch before its update).
    pub loss: f64,
    /// Mean loss on the validation data after the epoch (evaluation mode),
    /// if there is validation data.
    pub val_loss: Option<f64>,
    /// Metrics over the epoch's training batches, as they were predicted
    /// before each update (Keras's convention).
    pub metrics: Vec<(Metric, f64)>,
    /// Metrics on the validation data after the epoch (evaluation mode).
    pub val_metrics: Vec<(Metric, f64)>,
    /// Learning rate of the epoch's first update.
    pub lr: f64,
    /// Iterations (optimizer updates) in the epoch.
    pub iterations: usize,
    /// Wall-clock time of the epoch, validation included.
    pub duration: Duration,
}

impl EpochLog {
    /// The training value of `metric` this epoch, if it was computed.
    pub fn metric(&self, metric: Metric) -> Option<f64> {
        self.metrics.iter().find(|(m, _)| *m == metric).map(|p| p.1)
    }

    /// The validation value of `metric` this epoch, if it was computed.
    pub fn val_metric(&self, metric: Metric) -> Option<f64> {
        self.val_metrics
            .iter()
            .find(|(m, _)| *m == metric)
            .map(|p| p.1)
    }

    /// The value `monitor` watches this epoch, if it was computed.
    pub fn get(&self, monitor: Monitor) -> Option<f64> {
        match monitor {
            Monitor::Loss => Some(self.loss),
            Monitor::ValLoss => self.val_loss,
            Monitor::Metric(m) => self.metric(m),
            Monitor::ValMetric(m) => self.val_metric(m),
        }
    }
}

/// A per-epoch value that early stopping, a target threshold or
/// ReduceLROnPlateau can watch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Monitor {
    /// The training loss.
    Loss,
    /// The validation loss.
    ValLoss,
    /// A training metric.
    Metric(Metric),
    /// A validation metric.
    ValMetric(Metric),
}

impl Monitor {
    /// Whether larger values are better (accuracy, R²).
    pub fn higher_is_better(self) -> bool {
        match self {
            Monitor::Loss | Monitor::ValLoss => false,
            Monitor::Metric(m) | Monitor::ValMetric(m) => m.higher_is_better(),
        }
    }

    /// Whether the value comes from the validation data.
    pub fn is_validation(self) -> bool {
        matches!(self, Monitor::ValLoss | Monitor::ValMetric(_))
    }
}

impl fmt::Display for Monitor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Monitor::Loss => f.write_str("loss"),
            Monitor::ValLoss => f.write_str("val_loss"),
            Monitor::Metric(m) => f.write_str(m.name()),
            Monitor::ValMetric(m) => write!(f, "val_{}", m.name()),
        }
    }
}

/// Why training ended.
#[derive(Clone, Debug, PartialEq)]
pub enum StopReason {
    /// Every requested epoch ran.
    MaxEpochs {
        /// The number of epochs.
        epochs: usize,
    },
    /// The watched value reached the target threshold.
    TargetReached {
        /// What was watched (`val_loss` with validation data, else `loss`).
        monitor: Monitor,
        /// Its value at `epoch`.
        value: f64,
        /// The threshold.
        target: f64,
        /// The epoch it was reached in.
        epoch: usize,
    },
    /// The watched value stopped improving for `patience` epochs.
    EarlyStopping {
        /// What was watched.
        monitor: Monitor,
        /// The epoch with the best value.
        best_epoch: usize,
        /// The best value.
        best: f64,
        /// The epoch training stopped after.
        epoch: usize,
        /// The patience, in epochs.
        patience: usize,
    },
    /// A batch's loss was NaN or infinite; the update of that batch was not
    /// applied.
    NonFinite {
        /// The epoch (1-based).
        epoch: usize,
        /// The batch within the epoch (1-based).
        batch: usize,
        /// The loss value.
        loss: f64,
    },
    /// A callback asked to stop after `epoch`.
    Callback {
        /// The last epoch completed.
        epoch: usize,
    },
}

impl fmt::Display for StopReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StopReason::MaxEpochs { epochs } => write!(f, "Stopped: all {epochs} epochs ran"),
            StopReason::TargetReached {
                monitor,
                value,
                target,
                epoch,
            } => write!(
                f,
                "Stopped: {monitor} {value:.4} reached the target {target} at epoch {epoch}"
            ),
            StopReason::EarlyStopping {
                monitor,
                best_epoch,
                best,
                epoch,
                patience,
            } => write!(
                f,
                "Stopped early at epoch {epoch}: {monitor} has not improved for {patience} \
                 epochs; best {best:.4} at epoch {best_epoch}"
            ),
            StopReason::NonFinite { epoch, batch, loss } => write!(
                f,
                "Stopped: the loss became {loss} in epoch {epoch}, batch {batch}; that \
                 batch's update was not applied"
            ),
            StopReason::Callback { epoch } => {
                write!(f, "Stopped by a callback after epoch {epoch}")
            }
        }
    }
}

/// Per-epoch record of a training run.
#[derive(Clone, Debug, PartialEq)]
pub struct History {
    /// One entry per completed epoch.
    pub epochs: Vec<EpochLog>,
    /// Why training ended.
    pub stop: StopReason,
    /// The epoch whose weights the model holds after `restore_best`, or the
    /// best epoch early stopping saw; `None` without early stopping.
    pub best_epoch: Option<usize>,
}

impl History {
    /// The training loss of every epoch.
    pub fn losses(&self) -> Vec<f64> {
        self.epochs.iter().map(|e| e.loss).collect()
    }

    /// The validation loss of every epoch that has one.
    pub fn val_losses(&self) -> Vec<f64> {
        self.epochs.iter().filter_map(|e| e.val_loss).collect()
    }

    /// The last epoch's log, if any epoch ran.
    pub fn last(&self) -> Option<&EpochLog> {
        self.epochs.last()
    }
}
