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
//! use std::time::Duration;
//! use macrograd_runtime::history::{EpochLog, History, StopReason};
//! use macrograd_runtime::metrics::Metric;
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
use std::path::Path;
use std::time::Duration;

use crate::fs::write_atomic;

use serde::ser::{Serialize, SerializeStruct, Serializer};

use crate::error::Result;
use crate::metrics::Metric;

#[cfg(feature = "plot")]
mod plot;

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

    /// The history as CSV, one row per epoch after a header.
    ///
    /// The header is `epoch,loss,val_loss`, then one column per training
    /// metric (`acc`, `mae`, `rmse`, `r2`), one per validation metric
    /// (`val_acc`, ...), then `lr,iterations,seconds`. Metric columns are
    /// the union over all epochs, in the order they first appear; a value an
    /// epoch does not have (no validation data, a metric not computed) is an
    /// empty field. `val_loss` is always there, empty without validation
    /// data.
    ///
    /// Numbers are printed with Rust's shortest round-trip format (`{}` of
    /// `f64`: `0.1`, `0.30000000000000004`, never an exponent), so parsing a
    /// field with `str::parse::<f64>` gives back the exact value; a
    /// non-finite value is `NaN`, `inf` or `-inf`, which `parse` reads too.
    /// Rows end with `\n`.
    ///
    /// # Examples
    ///
    /// See the [module documentation](self).
    pub fn to_csv(&self) -> String {
        let metrics = metric_columns(self.epochs.iter().map(|e| e.metrics.as_slice()));
        let val_metrics = metric_columns(self.epochs.iter().map(|e| e.val_metrics.as_slice()));

        let mut header = vec!["epoch".to_owned(), "loss".to_owned(), "val_loss".to_owned()];
        header.extend(metrics.iter().map(|m| m.name().to_owned()));
        header.extend(val_metrics.iter().map(|m| format!("val_{}", m.name())));
        header.extend(["lr", "iterations", "seconds"].map(str::to_owned));

        let mut writer = csv::Writer::from_writer(Vec::new());
        let mut write = |record: &[String]| {
            writer
                .write_record(record)
                .expect("writing CSV to memory cannot fail");
        };
        write(&header);
        for e in &self.epochs {
            let mut row = vec![e.epoch.to_string(), e.loss.to_string(), field(e.val_loss)];
            row.extend(metrics.iter().map(|&m| field(e.metric(m))));
            row.extend(val_metrics.iter().map(|&m| field(e.val_metric(m))));
            row.push(e.lr.to_string());
            row.push(e.iterations.to_string());
            row.push(e.duration.as_secs_f64().to_string());
            write(&row);
        }
        let bytes = writer
            .into_inner()
            .expect("flushing CSV to memory cannot fail");
        String::from_utf8(bytes).expect("CSV of numbers and ASCII names is UTF-8")
    }

    /// Writes [`to_csv`](Self::to_csv) to `path`, atomically (a temporary
    /// file in the same directory renamed over `path`).
    ///
    /// # Errors
    ///
    /// [`Error::Io`](crate::Error::Io) naming `path` if the file cannot be written (missing
    /// directory, no permission, disk full); `path` is then left as it was.
    pub fn write_csv(&self, path: impl AsRef<Path>) -> Result<()> {
        write_atomic(path.as_ref(), self.to_csv().as_bytes())
    }

    /// The history as pretty-printed JSON:
    ///
    /// ```text
    /// {
    ///   "epochs": [
    ///     {
    ///       "epoch": 1,
    ///       "loss": 0.75,
    ///       "val_loss": 0.5,             (or null)
    ///       "metrics": {"acc": 0.5},
    ///       "val_metrics": {"acc": 0.625},
    ///       "lr": 0.01,
    ///       "iterations": 10,
    ///       "seconds": 0.25
    ///     },
    ///     ...
    ///   ],
    ///   "stop": {
    ///     "reason": "max_epochs",
    ///     "epochs": 2,
    ///     "message": "Finished: all 2 epochs ran"
    ///   },
    ///   "best_epoch": 2                  (or null)
    /// }
    /// ```
    ///
    /// `metrics` and `val_metrics` map a metric's [`name`](Metric::name)
    /// (`acc`, `mae`, `rmse`, `r2`, without the `val_` prefix of the CSV
    /// header) to its value, in the epoch's order; `seconds` is the
    /// epoch's duration. Numbers are written in the shortest form that reads
    /// back to the same `f64`.
    ///
    /// `stop` is the [`StopReason`]: `reason` (`max_epochs`,
    /// `target_reached`, `early_stopping`, `non_finite`, `callback`), then
    /// the variant's fields under their names (a [`Monitor`] as its
    /// `Display` name: `loss`, `val_loss`, `acc`, `val_mae`, ...), then
    /// `message`, the reason's `Display` text.
    ///
    /// JSON has no NaN or infinity: in the epochs, a non-finite number (a
    /// loss that diverged, a metric of an empty split) is written as
    /// `null`, so `"loss": null` means "not a finite number", while
    /// `"val_loss": null` also means "no validation data". In `stop`, where
    /// the loss of `non_finite` is never finite, a non-finite number is
    /// the string `"NaN"`, `"inf"` or `"-inf"`.
    ///
    /// [`History::from_json`] reads it back.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use macrograd_runtime::history::{EpochLog, History, StopReason};
    /// let history = History {
    ///     epochs: vec![EpochLog {
    ///         epoch: 1,
    ///         loss: f64::NAN,
    ///         val_loss: None,
    ///         metrics: vec![],
    ///         val_metrics: vec![],
    ///         lr: 0.1,
    ///         iterations: 3,
    ///         duration: Duration::from_secs(2),
    ///     }],
    ///     stop: StopReason::NonFinite { epoch: 1, batch: 3, loss: f64::NAN },
    ///     best_epoch: None,
    /// };
    /// let json: serde_json::Value = serde_json::from_str(&history.to_json()).unwrap();
    /// assert!(json["epochs"][0]["loss"].is_null());
    /// assert_eq!(json["epochs"][0]["seconds"], 2.0);
    /// ```
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(&JsonHistory(self))
            .expect("a history has only string keys and cannot fail to serialize")
    }

    /// Reads a history written by [`to_json`](Self::to_json).
    ///
    /// It inverts `to_json` exactly: `History::from_json(&h.to_json())`
    /// gives `h` back, every `f64` bit for bit, for any history whose
    /// numbers are finite and whose durations are below 2^53 nanoseconds
    /// (104 days an epoch). Where `to_json` wrote `null` for a non-finite
    /// number, it reads NaN (a loss, a metric, a learning rate) or `None`
    /// (a validation loss), so `from_json(json)?.to_json() == json` holds
    /// for every `json` that `to_json` wrote. Numbers are read by Rust's
    /// correctly rounded parser, not through an approximation.
    ///
    /// Keys other than the documented ones are ignored.
    ///
    /// ```
    /// use std::time::Duration;
    /// use macrograd_runtime::history::{EpochLog, History, Monitor, StopReason};
    /// let history = History {
    ///     epochs: vec![EpochLog {
    ///         epoch: 1,
    ///         loss: 0.1 + 0.2,
    ///         val_loss: Some(1.0 / 3.0),
    ///         metrics: vec![],
    ///         val_metrics: vec![],
    ///         lr: 1e-3,
    ///         iterations: 7,
    ///         duration: Duration::from_micros(1_234_567),
    ///     }],
    ///     stop: StopReason::TargetReached {
    ///         monitor: Monitor::ValLoss,
    ///         value: 1.0 / 3.0,
    ///         target: 0.5,
    ///         epoch: 1,
    ///     },
    ///     best_epoch: None,
    /// };
    /// assert_eq!(History::from_json(&history.to_json())?, history);
    /// # Ok::<(), macrograd_runtime::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::Io`](crate::Error::Io) (kind `InvalidData`, path `history JSON`) naming the
    /// first problem: text that is not JSON (with the byte offset), a
    /// missing key, a value of the wrong kind (`epochs[2].iterations must
    /// be a whole number, found 1.5`), an unknown metric, monitor or stop
    /// reason, a negative or non-finite duration.
    pub fn from_json(json: &str) -> Result<History> {
        read_json::history(json).map_err(|message| crate::io::invalid_data("history JSON", message))
    }

    /// Writes [`to_json`](Self::to_json) and a final newline to `path`,
    /// atomically (a temporary file in the same directory renamed over
    /// `path`).
    ///
    /// # Errors
    ///
    /// [`Error::Io`](crate::Error::Io) naming `path` if the file cannot be written; `path` is
    /// then left as it was.
    pub fn write_json(&self, path: impl AsRef<Path>) -> Result<()> {
        let mut json = self.to_json();
        json.push('\n');
        write_atomic(path.as_ref(), json.as_bytes())
    }

    /// Draws the learning curves to `path`: the training loss and, if there
    /// is validation data, the validation loss per epoch, under a title and
    /// the stop reason, with a legend in the corner the curves leave
    /// freest.
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
    /// # fn run(history: &macrograd_runtime::history::History) -> macrograd_runtime::Result<()> {
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

/// The metrics of `logs`, each once, in the order they first appear.
fn metric_columns<'a>(logs: impl Iterator<Item = &'a [(Metric, f64)]>) -> Vec<Metric> {
    let mut columns = Vec::new();
    for &(metric, _) in logs.flatten() {
        if !columns.contains(&metric) {
            columns.push(metric);
        }
    }
    columns
}

/// A CSV field: the shortest round-trip form of `value`, or empty.
fn field(value: Option<f64>) -> String {
    value.map(|v| v.to_string()).unwrap_or_default()
}

/// Serializes a [`History`] in the shape [`History::to_json`] documents,
/// keys in that order.
struct JsonHistory<'a>(&'a History);

/// Serializes one [`EpochLog`].
struct JsonEpoch<'a>(&'a EpochLog);

/// Serializes metrics as a map from name to value, the first value of a
/// metric listed twice (as [`EpochLog::metric`] reads them).
struct JsonMetrics<'a>(&'a [(Metric, f64)]);

impl Serialize for JsonHistory<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let history = self.0;
        let mut s = serializer.serialize_struct("History", 3)?;
        s.serialize_field("epochs", &JsonEpochs(&history.epochs))?;
        s.serialize_field("stop", &JsonStop(&history.stop))?;
        s.serialize_field("best_epoch", &history.best_epoch)?;
        s.end()
    }
}

/// Serializes the epochs as a list.
struct JsonEpochs<'a>(&'a [EpochLog]);

/// Serializes a [`StopReason`] as a tagged object (see
/// [`History::to_json`]).
struct JsonStop<'a>(&'a StopReason);

/// Serializes an `f64` of a stop reason: a number if finite, else the
/// string `NaN`, `inf` or `-inf`.
struct JsonNumber(f64);

impl Serialize for JsonNumber {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if self.0.is_finite() {
            serializer.serialize_f64(self.0)
        } else {
            serializer.collect_str(&self.0)
        }
    }
}

impl Serialize for JsonStop<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let stop = self.0;
        let mut s = serializer.serialize_struct("StopReason", 7)?;
        match *stop {
            StopReason::MaxEpochs { epochs } => {
                s.serialize_field("reason", "max_epochs")?;
                s.serialize_field("epochs", &epochs)?;
            }
            StopReason::TargetReached {
                monitor,
                value,
                target,
                epoch,
            } => {
                s.serialize_field("reason", "target_reached")?;
                s.serialize_field("monitor", &monitor.to_string())?;
                s.serialize_field("value", &JsonNumber(value))?;
                s.serialize_field("target", &JsonNumber(target))?;
                s.serialize_field("epoch", &epoch)?;
            }
            StopReason::EarlyStopping {
                monitor,
                best_epoch,
                best,
                epoch,
                patience,
            } => {
                s.serialize_field("reason", "early_stopping")?;
                s.serialize_field("monitor", &monitor.to_string())?;
                s.serialize_field("best_epoch", &best_epoch)?;
                s.serialize_field("best", &JsonNumber(best))?;
                s.serialize_field("epoch", &epoch)?;
                s.serialize_field("patience", &patience)?;
            }
            StopReason::NonFinite { epoch, batch, loss } => {
                s.serialize_field("reason", "non_finite")?;
                s.serialize_field("epoch", &epoch)?;
                s.serialize_field("batch", &batch)?;
                s.serialize_field("loss", &JsonNumber(loss))?;
            }
            StopReason::Callback { epoch } => {
                s.serialize_field("reason", "callback")?;
                s.serialize_field("epoch", &epoch)?;
            }
        }
        s.serialize_field("message", &stop.to_string())?;
        s.end()
    }
}

impl Serialize for JsonEpochs<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.iter().map(JsonEpoch))
    }
}

impl Serialize for JsonEpoch<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        // serde_json writes a non-finite f64 as `null`, as `to_json` documents.
        let e = self.0;
        let mut s = serializer.serialize_struct("EpochLog", 8)?;
        s.serialize_field("epoch", &e.epoch)?;
        s.serialize_field("loss", &e.loss)?;
        s.serialize_field("val_loss", &e.val_loss)?;
        s.serialize_field("metrics", &JsonMetrics(&e.metrics))?;
        s.serialize_field("val_metrics", &JsonMetrics(&e.val_metrics))?;
        s.serialize_field("lr", &e.lr)?;
        s.serialize_field("iterations", &e.iterations)?;
        s.serialize_field("seconds", &e.duration.as_secs_f64())?;
        s.end()
    }
}

impl Serialize for JsonMetrics<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let metrics = self.0;
        let first = |i: usize, m: Metric| metrics.iter().position(|p| p.0 == m) == Some(i);
        serializer.collect_map(
            metrics
                .iter()
                .enumerate()
                .filter(|&(i, &(m, _))| first(i, m))
                .map(|(_, (m, v))| (m.name(), v)),
        )
    }
}

/// Which losses [`plot_runs`] draws for each run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Show {
    /// The validation loss solid and the training loss dashed.
    Both,
    /// The validation loss only (the training loss for a run without
    /// validation data).
    Validation,
    /// The training loss only.
    Training,
}

/// Draws the learning curves of several runs in one picture, each run in
/// its colour, the losses `show` says. `runs` pairs a legend name with a
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

/// Reads the JSON of [`History::to_json`] back (see [`History::from_json`]);
/// errors are messages naming the key at fault.
mod read_json {
    use std::time::Duration;

    use super::{EpochLog, History, Monitor, StopReason};
    use crate::io::json::{self, Value};
    use crate::metrics::Metric;

    type Fields = [(String, Value)];

    pub(super) fn history(text: &str) -> Result<History, String> {
        let value = json::parse(text)?;
        let top = object(&value, "the history")?;
        let epochs = array(field(top, "", "epochs")?, "epochs")?
            .iter()
            .enumerate()
            .map(|(i, e)| epoch(e, &format!("epochs[{i}]")))
            .collect::<Result<_, _>>()?;
        let stop = stop(field(top, "", "stop")?)?;
        let best_epoch = match field(top, "", "best_epoch")? {
            Value::Null => None,
            v => Some(count(v, "best_epoch")?),
        };
        Ok(History {
            epochs,
            stop,
            best_epoch,
        })
    }

    fn epoch(value: &Value, at: &str) -> Result<EpochLog, String> {
        let fields = object(value, at)?;
        let get = |key: &str| field(fields, at, key);
        let seconds = number(get("seconds")?, &format!("{at}.seconds"))?;
        let duration = Duration::try_from_secs_f64(seconds).map_err(|_| {
            format!(
                "`{at}.seconds` must be a non-negative, finite number of seconds, found {seconds}"
            )
        })?;
        Ok(EpochLog {
            epoch: count(get("epoch")?, &format!("{at}.epoch"))?,
            loss: number_or_nan(get("loss")?, &format!("{at}.loss"))?,
            val_loss: match get("val_loss")? {
                Value::Null => None,
                v => Some(number(v, &format!("{at}.val_loss"))?),
            },
            metrics: metrics(get("metrics")?, &format!("{at}.metrics"))?,
            val_metrics: metrics(get("val_metrics")?, &format!("{at}.val_metrics"))?,
            lr: number_or_nan(get("lr")?, &format!("{at}.lr"))?,
            iterations: count(get("iterations")?, &format!("{at}.iterations"))?,
            duration,
        })
    }

    fn stop(value: &Value) -> Result<StopReason, String> {
        let at = "stop";
        let fields = object(value, at)?;
        let get = |key: &str| field(fields, at, key);
        let count_of = |key: &str| count(get(key)?, &format!("{at}.{key}"));
        let number_of = |key: &str| stop_number(get(key)?, &format!("{at}.{key}"));
        let monitor_of = |key: &str| monitor(get(key)?, &format!("{at}.{key}"));
        let reason = string(get("reason")?, "stop.reason")?;
        Ok(match reason {
            "max_epochs" => StopReason::MaxEpochs {
                epochs: count_of("epochs")?,
            },
            "target_reached" => StopReason::TargetReached {
                monitor: monitor_of("monitor")?,
                value: number_of("value")?,
                target: number_of("target")?,
                epoch: count_of("epoch")?,
            },
            "early_stopping" => StopReason::EarlyStopping {
                monitor: monitor_of("monitor")?,
                best_epoch: count_of("best_epoch")?,
                best: number_of("best")?,
                epoch: count_of("epoch")?,
                patience: count_of("patience")?,
            },
            "non_finite" => StopReason::NonFinite {
                epoch: count_of("epoch")?,
                batch: count_of("batch")?,
                loss: number_of("loss")?,
            },
            "callback" => StopReason::Callback {
                epoch: count_of("epoch")?,
            },
            other => {
                return Err(format!(
                    "`stop.reason` must be `max_epochs`, `target_reached`, `early_stopping`, \
                     `non_finite` or `callback`, found {other:?}"
                ))
            }
        })
    }

    /// The value of `key` in `fields` (the first, if repeated).
    fn field<'a>(fields: &'a Fields, at: &str, key: &str) -> Result<&'a Value, String> {
        (fields.iter().find(|(k, _)| k == key).map(|(_, v)| v)).ok_or_else(|| {
            if at.is_empty() {
                format!("`{key}` is missing")
            } else {
                format!("`{at}.{key}` is missing")
            }
        })
    }

    fn object<'a>(value: &'a Value, at: &str) -> Result<&'a Fields, String> {
        match value {
            Value::Object(fields) => Ok(fields),
            v => Err(format!("`{at}` must be an object, found {}", v.describe())),
        }
    }

    fn array<'a>(value: &'a Value, at: &str) -> Result<&'a [Value], String> {
        match value {
            Value::Array(items) => Ok(items),
            v => Err(format!("`{at}` must be an array, found {}", v.describe())),
        }
    }

    fn string<'a>(value: &'a Value, at: &str) -> Result<&'a str, String> {
        match value {
            Value::String(s) => Ok(s),
            v => Err(format!("`{at}` must be a string, found {}", v.describe())),
        }
    }

    /// A whole number (JSON without fraction or exponent).
    fn count(value: &Value, at: &str) -> Result<usize, String> {
        match value {
            Value::Number(text) => text.parse().ok(),
            _ => None,
        }
        .ok_or_else(|| format!("`{at}` must be a whole number, found {}", value.describe()))
    }

    /// A number, parsed exactly (Rust's parser rounds correctly).
    fn number(value: &Value, at: &str) -> Result<f64, String> {
        match value {
            Value::Number(text) => text.parse().ok(),
            _ => None,
        }
        .ok_or_else(|| format!("`{at}` must be a number, found {}", value.describe()))
    }

    /// A number, or `null` for one that was not finite (read as NaN).
    fn number_or_nan(value: &Value, at: &str) -> Result<f64, String> {
        match value {
            Value::Null => Ok(f64::NAN),
            v => number(v, at).map_err(|e| e.replace("a number,", "a number or null,")),
        }
    }

    /// A number of a stop reason: also `"NaN"`, `"inf"`, `"-inf"`.
    fn stop_number(value: &Value, at: &str) -> Result<f64, String> {
        match value {
            Value::String(s) if matches!(s.as_str(), "NaN" | "inf" | "-inf") => {
                Ok(s.parse().unwrap_or(f64::NAN))
            }
            v => number_or_nan(v, at),
        }
    }

    fn metric_named(name: &str) -> Option<Metric> {
        [Metric::Accuracy, Metric::MAE, Metric::RMSE, Metric::R2]
            .into_iter()
            .find(|m| m.name() == name)
    }

    fn metrics(value: &Value, at: &str) -> Result<Vec<(Metric, f64)>, String> {
        object(value, at)?
            .iter()
            .map(|(name, v)| {
                let metric = metric_named(name).ok_or_else(|| {
                    format!("`{at}` has the unknown metric {name:?} (known: acc, mae, rmse, r2)")
                })?;
                Ok((metric, number_or_nan(v, &format!("{at}.{name}"))?))
            })
            .collect()
    }

    /// `loss`, `val_loss`, a metric's name, or `val_` and a metric's name.
    fn monitor(value: &Value, at: &str) -> Result<Monitor, String> {
        let name = string(value, at)?;
        let monitor = match name {
            "loss" => Some(Monitor::Loss),
            "val_loss" => Some(Monitor::ValLoss),
            _ => match name.strip_prefix("val_") {
                Some(metric) => metric_named(metric).map(Monitor::ValMetric),
                None => metric_named(name).map(Monitor::Metric),
            },
        };
        monitor.ok_or_else(|| format!("`{at}` is not a loss or metric: {name:?}"))
    }
}

#[cfg(test)]
mod tests {
    use crate::Error;
    use std::fs;
    use std::path::PathBuf;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use super::*;

    fn log(epoch: usize, loss: f64, val_loss: Option<f64>) -> EpochLog {
        EpochLog {
            epoch,
            loss,
            val_loss,
            metrics: vec![(Metric::Accuracy, 0.5)],
            val_metrics: vec![],
            lr: 0.1,
            iterations: 4,
            duration: Duration::from_millis(1500),
        }
    }

    /// Three epochs: validation in the first two only, MAE from the second
    /// on, validation accuracy in the first; values that print long.
    fn history() -> History {
        let mut epochs = vec![
            log(1, 0.1 + 0.2, Some(1.0 / 3.0)),
            log(2, 0.25, Some(0.2)),
            log(3, 1e-10, None),
        ];
        epochs[0].val_metrics.push((Metric::Accuracy, 0.75));
        epochs[1].metrics.push((Metric::MAE, 2.0 / 3.0));
        epochs[2].metrics.push((Metric::MAE, 1e300));
        History {
            epochs,
            stop: StopReason::EarlyStopping {
                monitor: Monitor::ValLoss,
                best_epoch: 2,
                best: 0.2,
                epoch: 3,
                patience: 1,
            },
            best_epoch: Some(2),
        }
    }

    /// A new, empty directory under the system's temporary directory.
    struct TempDir(PathBuf);

    impl TempDir {
        fn new() -> Self {
            static COUNT: AtomicUsize = AtomicUsize::new(0);
            let name = format!(
                "macrograd-history-{}-{}",
                std::process::id(),
                COUNT.fetch_add(1, Ordering::Relaxed)
            );
            let dir = std::env::temp_dir().join(name);
            let _ = fs::remove_dir_all(&dir);
            fs::create_dir_all(&dir).unwrap();
            TempDir(dir)
        }

        fn join(&self, name: &str) -> PathBuf {
            self.0.join(name)
        }

        /// The names of the files in the directory, sorted.
        fn files(&self) -> Vec<String> {
            let mut names: Vec<String> = fs::read_dir(&self.0)
                .unwrap()
                .map(|e| e.unwrap().file_name().into_string().unwrap())
                .collect();
            names.sort();
            names
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    #[test]
    fn csv_has_the_union_of_columns_and_empty_missing_values() {
        let csv = history().to_csv();
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(
            lines,
            [
                "epoch,loss,val_loss,acc,mae,val_acc,lr,iterations,seconds",
                "1,0.30000000000000004,0.3333333333333333,0.5,,0.75,0.1,4,1.5",
                "2,0.25,0.2,0.5,0.6666666666666666,,0.1,4,1.5",
                &format!("3,0.0000000001,,0.5,{},,0.1,4,1.5", 1e300),
            ]
        );
        assert!(csv.ends_with('\n'));
    }

    #[test]
    fn csv_numbers_parse_back_exactly() {
        let history = history();
        let csv = history.to_csv();
        let mut reader = csv::Reader::from_reader(csv.as_bytes());
        let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
        assert_eq!(rows.len(), 3);
        for (row, e) in rows.iter().zip(&history.epochs) {
            assert_eq!(row[1].parse::<f64>().unwrap(), e.loss);
            let val_loss = Some(&row[2]).filter(|f| !f.is_empty());
            assert_eq!(val_loss.map(|f| f.parse::<f64>().unwrap()), e.val_loss);
            let mae = Some(&row[4]).filter(|f| !f.is_empty());
            assert_eq!(
                mae.map(|f| f.parse::<f64>().unwrap()),
                e.metric(Metric::MAE)
            );
        }
    }

    #[test]
    fn csv_of_no_epochs_is_the_header() {
        let history = History {
            epochs: vec![],
            stop: StopReason::MaxEpochs { epochs: 0 },
            best_epoch: None,
        };
        assert_eq!(
            history.to_csv(),
            "epoch,loss,val_loss,lr,iterations,seconds\n"
        );
    }

    #[test]
    fn json_round_trips_through_serde_json() {
        let history = history();
        let json: serde_json::Value = serde_json::from_str(&history.to_json()).unwrap();
        assert_eq!(json["stop"]["message"], history.stop.to_string());
        assert_eq!(json["stop"]["reason"], "early_stopping");
        assert_eq!(json["stop"]["monitor"], "val_loss");
        assert_eq!(json["stop"]["best"], 0.2);
        assert_eq!(json["best_epoch"], 2);
        let epochs = json["epochs"].as_array().unwrap();
        assert_eq!(epochs.len(), 3);
        for (j, e) in epochs.iter().zip(&history.epochs) {
            assert_eq!(j["epoch"], e.epoch);
            assert_eq!(j["loss"].as_f64(), Some(e.loss));
            assert_eq!(j["val_loss"].as_f64(), e.val_loss);
            assert_eq!(j["lr"].as_f64(), Some(e.lr));
            assert_eq!(j["iterations"], e.iterations);
            assert_eq!(j["seconds"].as_f64(), Some(e.duration.as_secs_f64()));
            let metrics = j["metrics"].as_object().unwrap();
            assert_eq!(metrics.len(), e.metrics.len());
            for &(m, v) in &e.metrics {
                assert_eq!(metrics[m.name()].as_f64(), Some(v));
            }
            let val_metrics = j["val_metrics"].as_object().unwrap();
            assert_eq!(val_metrics.len(), e.val_metrics.len());
            for &(m, v) in &e.val_metrics {
                assert_eq!(val_metrics[m.name()].as_f64(), Some(v));
            }
        }
        assert!(epochs[2]["val_loss"].is_null());
        assert_eq!(epochs[0]["val_metrics"]["acc"], 0.75);
    }

    #[test]
    fn json_keys_are_in_the_documented_order() {
        let json = history().to_json();
        let at = |key: &str| json.find(&format!("\"{key}\"")).unwrap();
        let keys = [
            "epochs",
            "epoch",
            "loss",
            "val_loss",
            "metrics",
            "val_metrics",
            "lr",
            "iterations",
            "seconds",
            "stop",
            "best_epoch",
        ];
        assert!(keys.windows(2).all(|k| at(k[0]) < at(k[1])), "{json}");
    }

    /// Every stop reason, with values that print long.
    fn stop_reasons() -> Vec<StopReason> {
        vec![
            StopReason::MaxEpochs { epochs: 3 },
            StopReason::TargetReached {
                monitor: Monitor::ValMetric(Metric::R2),
                value: 0.1 + 0.7,
                target: 0.8,
                epoch: 3,
            },
            StopReason::EarlyStopping {
                monitor: Monitor::Metric(Metric::MAE),
                best_epoch: 2,
                best: 1.0 / 3.0,
                epoch: 3,
                patience: 1,
            },
            StopReason::NonFinite {
                epoch: 3,
                batch: 7,
                loss: f64::NEG_INFINITY,
            },
            StopReason::Callback { epoch: 3 },
        ]
    }

    #[test]
    fn from_json_inverts_to_json_exactly() {
        let mut history = history();
        // Durations of any number of nanoseconds, long-printing values.
        history.epochs[0].duration = Duration::new(3, 123_456_789);
        history.epochs[1].duration = Duration::from_nanos(1);
        history.epochs[1].lr = 0.1 * 3.0;
        history.epochs[2].loss = 5e-324;
        history.epochs[2].val_metrics.push((Metric::R2, -1.0 / 7.0));
        for stop in stop_reasons() {
            history.stop = stop;
            let json = history.to_json();
            let back = History::from_json(&json).unwrap();
            assert_eq!(back.to_json(), json);
            if let StopReason::NonFinite { loss, .. } = back.stop {
                assert_eq!(loss, f64::NEG_INFINITY);
            } else {
                assert_eq!(back, history);
            }
            for (a, b) in back.epochs.iter().zip(&history.epochs) {
                assert_eq!(a.loss.to_bits(), b.loss.to_bits());
                assert_eq!(a.lr.to_bits(), b.lr.to_bits());
                assert_eq!(a.duration, b.duration);
            }
        }
        let empty = History {
            epochs: vec![],
            stop: StopReason::MaxEpochs { epochs: 0 },
            best_epoch: None,
        };
        assert_eq!(History::from_json(&empty.to_json()).unwrap(), empty);
    }

    #[test]
    fn from_json_reads_null_as_not_finite() {
        let mut history = history();
        history.epochs[0].loss = f64::NAN;
        history.epochs[1].val_loss = Some(f64::INFINITY);
        history.epochs[2].metrics[1].1 = f64::NEG_INFINITY;
        history.stop = StopReason::NonFinite {
            epoch: 3,
            batch: 1,
            loss: f64::NAN,
        };
        let json = history.to_json();
        let back = History::from_json(&json).unwrap();
        assert!(back.epochs[0].loss.is_nan());
        assert_eq!(back.epochs[1].val_loss, None);
        assert!(back.epochs[2].metrics[1].1.is_nan());
        assert!(matches!(back.stop, StopReason::NonFinite { loss, .. } if loss.is_nan()));
        assert_eq!(back.to_json(), json);
    }

    #[test]
    fn from_json_names_what_is_wrong() {
        let json = history().to_json();
        let cases = [
            (
                json.replacen("\"iterations\": 4", "\"iterations\": 4.5", 1),
                "`epochs[0].iterations` must be a whole number, found 4.5",
            ),
            (
                json.replacen("\"seconds\": 1.5", "\"seconds\": -1.5", 1),
                "`epochs[0].seconds` must be a non-negative, finite number of seconds, found -1.5",
            ),
            (
                json.replacen("\"acc\"", "\"accuracy\"", 1),
                "`epochs[0].metrics` has the unknown metric \"accuracy\"",
            ),
            (
                json.replace("\"early_stopping\"", "\"bored\""),
                "`stop.reason` must be",
            ),
            (
                json.replace("\"val_loss\",", "\"val_lost\","),
                "`stop.monitor` is not a loss or metric: \"val_lost\"",
            ),
            (
                json.replacen("\"lr\"", "\"rate\"", 1),
                "`epochs[0].lr` is missing",
            ),
            (json[..json.len() - 2].to_string(), "invalid JSON at byte"),
            (
                "[]".to_string(),
                "`the history` must be an object, found an array",
            ),
        ];
        for (text, expected) in cases {
            let err = History::from_json(&text).unwrap_err();
            assert!(matches!(err, Error::Io { .. }), "{err:?}");
            let message = err.to_string();
            assert!(message.starts_with("history JSON: "), "{message}");
            assert!(message.contains(expected), "{expected:?} not in {message}");
        }
    }

    #[test]
    fn json_writes_non_finite_numbers_as_null() {
        let mut history = history();
        history.epochs[0].loss = f64::NAN;
        history.epochs[1].val_loss = Some(f64::INFINITY);
        history.epochs[2].metrics[1].1 = f64::NEG_INFINITY;
        let json: serde_json::Value = serde_json::from_str(&history.to_json()).unwrap();
        assert!(json["epochs"][0]["loss"].is_null());
        assert!(json["epochs"][1]["val_loss"].is_null());
        assert!(json["epochs"][2]["metrics"]["mae"].is_null());
        assert_eq!(json["epochs"][1]["loss"], 0.25);
    }

    #[test]
    fn writes_replace_the_file_and_leave_no_temporary_file() {
        let dir = TempDir::new();
        let history = history();
        let (csv, json) = (dir.join("history.csv"), dir.join("history.json"));
        fs::write(&csv, "old contents that are longer than nothing").unwrap();
        history.write_csv(&csv).unwrap();
        history.write_json(&json).unwrap();
        assert_eq!(fs::read_to_string(&csv).unwrap(), history.to_csv());
        assert_eq!(fs::read_to_string(&json).unwrap(), history.to_json() + "\n");
        assert_eq!(dir.files(), ["history.csv", "history.json"]);
    }

    #[test]
    fn write_errors_name_the_path() {
        let dir = TempDir::new();
        let path = dir.join("missing").join("history.csv");
        let err = history().write_csv(&path).unwrap_err();
        assert!(matches!(err, Error::Io { .. }), "{err:?}");
        assert!(
            err.to_string().starts_with(&path.display().to_string()),
            "{err}"
        );

        // A directory in the way: the rename fails, the temporary file goes.
        let busy = dir.join("busy.json");
        fs::create_dir(&busy).unwrap();
        let err = history().write_json(&busy).unwrap_err();
        assert!(err.to_string().contains("busy.json"), "{err}");
        assert_eq!(dir.files(), ["busy.json"]);
        assert_eq!(fs::read_dir(&busy).unwrap().count(), 0);
    }

    #[cfg(feature = "plot")]
    #[test]
    fn plot_writes_svg_and_png() {
        let dir = TempDir::new();
        let history = history();
        let svg = dir.join("curves.svg");
        history.plot(&svg).unwrap();
        let text = fs::read_to_string(&svg).unwrap();
        assert!(text.starts_with("<svg"), "{}", &text[..text.len().min(100)]);
        assert!(text.trim_end().ends_with("</svg>"));
        assert!(text.contains("Learning curves") && text.contains("validation loss"));

        // Upper case works too; PNGs start with the PNG signature.
        let png = dir.join("curves.PNG");
        history.plot(&png).unwrap();
        let bytes = fs::read(&png).unwrap();
        assert!(bytes.len() > 1000, "{} bytes", bytes.len());
        assert_eq!(bytes[..8], *b"\x89PNG\r\n\x1a\n");
        assert_eq!(dir.files(), ["curves.PNG", "curves.svg"]);
    }

    #[cfg(feature = "plot")]
    #[test]
    fn plot_handles_odd_histories() {
        let dir = TempDir::new();
        let nan = History {
            epochs: vec![log(1, f64::NAN, Some(f64::INFINITY)), log(2, 0.5, None)],
            stop: StopReason::NonFinite {
                epoch: 1,
                batch: 1,
                loss: f64::NAN,
            },
            best_epoch: None,
        };
        let empty = History {
            epochs: vec![],
            stop: StopReason::MaxEpochs { epochs: 0 },
            best_epoch: None,
        };
        let spanning = History {
            epochs: (1..=500)
                .map(|e| log(e, (-(e as f64)).exp(), None))
                .collect(),
            stop: StopReason::MaxEpochs { epochs: 500 },
            best_epoch: None,
        };
        for (i, history) in [nan, empty, spanning].iter().enumerate() {
            for ext in ["svg", "png"] {
                let path = dir.join(&format!("{i}.{ext}"));
                history.plot(&path).unwrap();
                assert!(fs::metadata(&path).unwrap().len() > 0);
            }
        }
    }

    #[cfg(feature = "plot")]
    #[test]
    fn plot_rejects_other_extensions() {
        let dir = TempDir::new();
        for name in ["curves.jpg", "curves", "curves.svg.bak"] {
            let path = dir.join(name);
            let err = history().plot(&path).unwrap_err();
            assert!(
                matches!(err, Error::InvalidSetting { name: "path", .. }),
                "{err:?}"
            );
            assert!(
                err.to_string().contains(&path.display().to_string()),
                "{err}"
            );
        }
        assert!(dir.files().is_empty());
    }
}
