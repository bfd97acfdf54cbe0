//! Early stopping: which way the watched value should go, and how long to
//! wait for it to improve.
//!
//! ```
//! # use macrograd_runtime as macrograd;
//! use macrograd::train::{EarlyStopping, Mode, Monitor};
//! let es = EarlyStopping::patience(5).monitor(Monitor::ValLoss).mode(Mode::Min);
//! # let _ = es;
//! ```

use crate::history::Monitor;

/// Whether the watched value should go down or up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Lower is better (losses, MAE, RMSE).
    Min,
    /// Higher is better (accuracy, R²).
    Max,
}

/// Early stopping: stop when the watched value has not improved for
/// `patience` epochs (Keras's `EarlyStopping`).
///
/// An epoch improves on the best so far when its value is lower than
/// `best - min_delta` (mode min) or higher than `best + min_delta` (mode
/// max). Training stops after the `patience`-th epoch in a row without
/// improvement. With [`EarlyStopping::restore_best`], the model ends with
/// the weights of the best epoch, however training stopped (the optimizer
/// state is not rewound).
///
/// ```
/// # use macrograd_runtime as macrograd;
/// use macrograd::train::{EarlyStopping, Fit, Monitor};
/// let fit = Fit::epochs(200).early_stopping(EarlyStopping::patience(10).restore_best());
/// # let _ = fit;
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EarlyStopping {
    pub(super) patience: usize,
    pub(super) min_delta: f64,
    pub(super) monitor: Option<Monitor>,
    pub(super) mode: Option<Mode>,
    pub(super) restore_best: bool,
}

impl EarlyStopping {
    /// Stop after `patience` epochs without improvement; watching
    /// `val_loss` when there is validation data, else the training loss.
    pub fn patience(patience: usize) -> Self {
        EarlyStopping {
            patience,
            min_delta: 0.0,
            monitor: None,
            mode: None,
            restore_best: false,
        }
    }

    /// The smallest change that counts as an improvement (default 0).
    pub fn min_delta(mut self, min_delta: f64) -> Self {
        self.min_delta = min_delta;
        self
    }

    /// The value to watch.
    pub fn monitor(mut self, monitor: Monitor) -> Self {
        self.monitor = Some(monitor);
        self
    }

    /// Min or max; by default from the watched value (max for accuracy and
    /// R², min otherwise).
    pub fn mode(mut self, mode: Mode) -> Self {
        self.mode = Some(mode);
        self
    }

    /// End with the weights of the best epoch.
    pub fn restore_best(mut self) -> Self {
        self.restore_best = true;
        self
    }
}
