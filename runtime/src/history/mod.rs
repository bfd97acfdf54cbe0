//! What a training run did: one [`EpochLog`] per epoch and the reason it
//! stopped, exported as CSV ([`History::write_csv`]), JSON
//! ([`History::write_json`]) or learning curves (`History::plot`, with the
//! `plot` feature, on by default).
//!
//! Every file is written atomically: to a temporary file in the same
//! directory, flushed to disk, then renamed over the target, so a crash
//! leaves either the old file or the new one, never half of one.
//!
//! ```
//! # use macrograd_runtime as macrograd;
//! use std::time::Duration;
//! use macrograd::history::{EpochLog, History, StopReason};
//! use macrograd::metrics::Metric;
//!
//! let log = |epoch, loss, val_loss| EpochLog {
//!     epoch,
//!     loss,
//!     val_loss,
//!     metrics: vec![(Metric::Accuracy, 0.5)],
//!     val_metrics: vec![],
//!     lr: 0.01,
//!     iterations: 10,
//!     duration: Duration::from_millis(250),
//! };
//! let history = History {
//!     epochs: vec![log(1, 0.75, Some(0.5)), log(2, 0.25, None)],
//!     stop: StopReason::MaxEpochs { epochs: 2 },
//!     best_epoch: None,
//! };
//! assert_eq!(
//!     history.to_csv(),
//!     "epoch,loss,val_loss,acc,lr,iterations,seconds\n\
//!      1,0.75,0.5,0.5,0.01,10,0.25\n\
//!      2,0.25,,0.5,0.01,10,0.25\n"
//! );
//! ```

use std::fmt;
#[cfg(feature = "plot")]
use std::path::Path;
use std::time::Duration;

#[cfg(feature = "plot")]
use crate::error::Result;
use crate::metrics::Metric;

mod csv;
mod json;
#[cfg(feature = "plot")]
mod plot;
#[cfg(test)]
mod tests;

#[cfg(feature = "plot")]
pub use plot::{Chart, Field, Panel, Plot};

/// Where a file written to `path` is, for a message: the path as given,
/// and for a relative path also the directory it is relative to (the
/// current one): `target/plots/xor.png (in /home/me/project)`.
///
/// ```
/// # use macrograd_runtime as macrograd;
/// use macrograd::history::shown_path;
/// assert_eq!(shown_path("/tmp/a.png"), "/tmp/a.png");
/// assert!(shown_path("a.png").starts_with("a.png (in "));
/// ```
pub fn shown_path(path: impl AsRef<std::path::Path>) -> String {
    let path = path.as_ref();
    if path.is_absolute() {
        return path.display().to_string();
    }
    match std::env::current_dir() {
        Ok(dir) => format!("{} (in {})", path.display(), dir.display()),
        Err(_) => format!("{} (relative to the current directory)", path.display()),
    }
}

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
            StopReason::MaxEpochs { epochs } => write!(f, "Finished: all {epochs} epochs ran"),
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

    /// Draws the learning curves to `path`: the training loss and, if there
    /// is validation data, the validation loss per epoch, under a title and
    /// the stop reason, with a legend beside the chart. [`Plot`] draws
    /// metrics and the learning rate too.
    ///
    /// The best epoch is marked by a dashed vertical line and a ring on the
    /// validation curve (the training curve without validation data), and
    /// labelled in the legend (`best: epoch 27 (val_loss 0.158)`, or the
    /// value early stopping watched). It is
    /// [`best_epoch`](Self::best_epoch) if set (the epoch early stopping
    /// kept), else the epoch of the lowest validation loss; without either,
    /// nothing is marked. Non-finite losses are left out (the curve breaks
    /// there). The loss axis is logarithmic when the losses span more than
    /// two decades, else linear.
    ///
    /// The format follows the extension, in any case: `.svg` (960 x 600
    /// units, text drawn by the viewer in its sans-serif font) or `.png`
    /// (960 x 600 pixels, anti-aliased, text drawn with DejaVu Sans embedded
    /// in the crate, so no system font is needed). The file is written atomically, as by
    /// [`write_csv`](Self::write_csv).
    ///
    /// Drawing never panics or hangs, whatever the losses and epoch
    /// numbers: NaN and infinite losses are left out of the curves, and the
    /// line under the title counts them.
    ///
    /// Needs the `plot` feature of `macrograd-runtime` (on by default).
    ///
    /// # Errors
    ///
    /// - [`Error::InvalidSetting`](crate::Error::InvalidSetting) (`path`) if the extension is neither
    ///   `svg` nor `png`; nothing is written.
    /// - [`Error::Plot`](crate::Error::Plot) naming `path` if drawing or PNG encoding fails.
    /// - [`Error::Io`](crate::Error::Io) naming `path` if the file cannot be written.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # use macrograd_runtime as macrograd;
    /// # fn run(history: &macrograd::history::History) -> macrograd::Result<()> {
    /// history.plot("loss.png")?;
    /// history.plot("loss.svg")?;
    /// # Ok(())
    /// # }
    /// ```
    #[cfg(feature = "plot")]
    pub fn plot(&self, path: impl AsRef<Path>) -> Result<()> {
        plot::plot(self, path.as_ref())
    }
}

/// Which losses [`plot_runs`] draws for each run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Show {
    /// The validation loss (thick lines, filled markers) and the training
    /// loss (thin lines, open markers).
    Both,
    /// The validation loss only (the training loss for a run without
    /// validation data).
    Validation,
    /// The training loss only.
    Training,
}

/// Draws the learning curves of several runs in one picture, each run in
/// its colour, dash pattern and marker, the losses `show` says; a diverged
/// run is named so and left out of the loss axis ([`Plot::runs`], which
/// draws metrics and learning rates too). `runs` pairs a legend name with a
/// history. The format follows the extension (`.svg` or `.png`) and the
/// file is written atomically, as by [`History::plot`].
///
/// Needs the `plot` feature of `macrograd-runtime` (on by default).
///
/// # Errors
///
/// As [`History::plot`].
#[cfg(feature = "plot")]
pub fn plot_runs(
    path: impl AsRef<Path>,
    title: &str,
    show: Show,
    runs: &[(&str, &History)],
) -> Result<()> {
    plot::plot_runs(title, show, runs, path.as_ref())
}
