//! [`History`] as JSON, written by serde_json from the serializers below
//! and read back by [`json_read`](super::json_read).
//!
//! ```
//! use macrograd_runtime::history::{History, StopReason};
//! let h = History { epochs: vec![], stop: StopReason::Callback { epoch: 0 }, best_epoch: None };
//! assert_eq!(History::from_json(&h.to_json())?, h);
//! # Ok::<(), macrograd_runtime::Error>(())
//! ```

use std::path::Path;

use serde::ser::{Serialize, SerializeStruct, Serializer};

use super::{json_read, EpochLog, History, StopReason};
use crate::error::{invalid_data, Result};
use crate::fs::write_atomic;
use crate::metrics::Metric;

impl History {
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
    /// the variant's fields under their names (a [`Monitor`](crate::history::Monitor) as its
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
        json_read::history(json).map_err(|message| invalid_data("history JSON", message))
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
