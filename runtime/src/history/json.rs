//! [`History`] as JSON: private wire types that mirror the format, with
//! serde's derives, written and read by serde_json.
//!
//! A few functions read a value and refuse it with a message in the
//! reader's terms (`must be a whole number, found 1.5`);
//! `serde_path_to_error` tells where it is (`epochs[2].iterations`).
//!
//! ```
//! # use macrograd_runtime as macrograd;
//! use macrograd::history::{History, StopReason};
//! let h = History { epochs: vec![], stop: StopReason::Callback { epoch: 0 }, best_epoch: None };
//! assert_eq!(History::from_json(&h.to_json())?, h);
//! # Ok::<(), macrograd::Error>(())
//! ```

use std::collections::HashSet;
use std::fmt;
use std::marker::PhantomData;
use std::path::Path;
use std::time::Duration;

use serde::de::value::MapAccessDeserializer;
use serde::de::{
    DeserializeOwned, DeserializeSeed, Error as _, IgnoredAny, IntoDeserializer, MapAccess,
    SeqAccess, Visitor,
};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use super::{EpochLog, History, Monitor, StopReason};
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
    /// # use macrograd_runtime as macrograd;
    /// # use std::time::Duration;
    /// # use macrograd::history::{EpochLog, History, StopReason};
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
        serde_json::to_string_pretty(&Document::from(self))
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
    /// Keys other than the documented ones are ignored, and so are the
    /// keys of `stop` that its `reason` does not have; of a key repeated in
    /// an object, the first is read (in `metrics` and `val_metrics`, every
    /// one, in order).
    ///
    /// ```
    /// # use macrograd_runtime as macrograd;
    /// use std::time::Duration;
    /// use macrograd::history::{EpochLog, History, Monitor, StopReason};
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
    /// # Ok::<(), macrograd::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::InvalidFile`](crate::Error::InvalidFile) (path `history JSON`) naming the
    /// first problem found, and where it is: text that is not JSON (first, wherever it
    /// is), a missing key (`` `epochs[2]` missing field `lr` ``), a value
    /// of the wrong kind (`` `epochs[2].iterations` must be a whole number,
    /// found 1.5 ``), an unknown metric, monitor or stop reason, a negative
    /// or non-finite duration. A line and column follow where the text has
    /// them.
    pub fn from_json(json: &str) -> Result<History> {
        read(json).map_err(|message| invalid_data("history JSON", message))
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

/// The whole document. `S` is `stop`: a [`Stop`] to write; to read, its
/// keys, read after the rest (see [`stop`]) once `reason` tells which
/// ones it has.
#[derive(Serialize, Deserialize)]
#[serde(bound(deserialize = "S: Deserialize<'de>"))]
struct Document<S> {
    #[serde(deserialize_with = "objects")]
    epochs: Vec<Epoch>,
    #[serde(deserialize_with = "object")]
    stop: S,
    #[serde(deserialize_with = "optional_count")]
    best_epoch: Option<usize>,
}

/// One [`EpochLog`]; `seconds` is its duration.
#[derive(Serialize, Deserialize)]
struct Epoch {
    #[serde(deserialize_with = "count")]
    epoch: usize,
    #[serde(deserialize_with = "nan_if_null")]
    loss: f64,
    #[serde(deserialize_with = "optional_number")]
    val_loss: Option<f64>,
    #[serde(serialize_with = "write_metrics", deserialize_with = "metrics")]
    metrics: Vec<(Metric, f64)>,
    #[serde(serialize_with = "write_metrics", deserialize_with = "metrics")]
    val_metrics: Vec<(Metric, f64)>,
    #[serde(deserialize_with = "nan_if_null")]
    lr: f64,
    #[serde(deserialize_with = "count")]
    iterations: usize,
    #[serde(serialize_with = "write_seconds", deserialize_with = "seconds")]
    seconds: Duration,
}

/// `stop` as written: the reason's tag and fields, then its message.
#[derive(Serialize)]
struct Stop {
    #[serde(flatten)]
    reason: Reason,
    message: String,
}

/// A [`StopReason`]: `reason` names the variant, its fields follow.
#[derive(Serialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
enum Reason {
    MaxEpochs(MaxEpochs),
    TargetReached(TargetReached),
    EarlyStopping(EarlyStopping),
    NonFinite(NonFinite),
    Callback(Callback),
}

/// The fields of [`StopReason::MaxEpochs`].
#[derive(Serialize, Deserialize)]
struct MaxEpochs {
    #[serde(deserialize_with = "count")]
    epochs: usize,
}

/// The fields of [`StopReason::TargetReached`].
#[derive(Serialize, Deserialize)]
struct TargetReached {
    #[serde(serialize_with = "write_monitor", deserialize_with = "monitor")]
    monitor: Monitor,
    #[serde(serialize_with = "write_stop_number", deserialize_with = "stop_number")]
    value: f64,
    #[serde(serialize_with = "write_stop_number", deserialize_with = "stop_number")]
    target: f64,
    #[serde(deserialize_with = "count")]
    epoch: usize,
}

/// The fields of [`StopReason::EarlyStopping`].
#[derive(Serialize, Deserialize)]
struct EarlyStopping {
    #[serde(serialize_with = "write_monitor", deserialize_with = "monitor")]
    monitor: Monitor,
    #[serde(deserialize_with = "count")]
    best_epoch: usize,
    #[serde(serialize_with = "write_stop_number", deserialize_with = "stop_number")]
    best: f64,
    #[serde(deserialize_with = "count")]
    epoch: usize,
    #[serde(deserialize_with = "count")]
    patience: usize,
}

/// The fields of [`StopReason::NonFinite`].
#[derive(Serialize, Deserialize)]
struct NonFinite {
    #[serde(deserialize_with = "count")]
    epoch: usize,
    #[serde(deserialize_with = "count")]
    batch: usize,
    #[serde(serialize_with = "write_stop_number", deserialize_with = "stop_number")]
    loss: f64,
}

/// The fields of [`StopReason::Callback`].
#[derive(Serialize, Deserialize)]
struct Callback {
    #[serde(deserialize_with = "count")]
    epoch: usize,
}

/// The tag of a `stop` read, the first thing read of it.
#[derive(Deserialize)]
struct Tag {
    #[serde(deserialize_with = "string")]
    reason: String,
}

impl From<&History> for Document<Stop> {
    fn from(history: &History) -> Self {
        Document {
            epochs: history.epochs.iter().map(Epoch::from).collect(),
            stop: Stop {
                reason: Reason::from(&history.stop),
                message: history.stop.to_string(),
            },
            best_epoch: history.best_epoch,
        }
    }
}

impl From<&EpochLog> for Epoch {
    fn from(e: &EpochLog) -> Self {
        Epoch {
            epoch: e.epoch,
            loss: e.loss,
            val_loss: e.val_loss,
            metrics: e.metrics.clone(),
            val_metrics: e.val_metrics.clone(),
            lr: e.lr,
            iterations: e.iterations,
            seconds: e.duration,
        }
    }
}

impl From<Epoch> for EpochLog {
    fn from(e: Epoch) -> Self {
        EpochLog {
            epoch: e.epoch,
            loss: e.loss,
            val_loss: e.val_loss,
            metrics: e.metrics,
            val_metrics: e.val_metrics,
            lr: e.lr,
            iterations: e.iterations,
            duration: e.seconds,
        }
    }
}

impl From<&StopReason> for Reason {
    fn from(stop: &StopReason) -> Self {
        match *stop {
            StopReason::MaxEpochs { epochs } => Reason::MaxEpochs(MaxEpochs { epochs }),
            StopReason::TargetReached {
                monitor,
                value,
                target,
                epoch,
            } => Reason::TargetReached(TargetReached {
                monitor,
                value,
                target,
                epoch,
            }),
            StopReason::EarlyStopping {
                monitor,
                best_epoch,
                best,
                epoch,
                patience,
            } => Reason::EarlyStopping(EarlyStopping {
                monitor,
                best_epoch,
                best,
                epoch,
                patience,
            }),
            StopReason::NonFinite { epoch, batch, loss } => {
                Reason::NonFinite(NonFinite { epoch, batch, loss })
            }
            StopReason::Callback { epoch } => Reason::Callback(Callback { epoch }),
        }
    }
}

impl From<Reason> for StopReason {
    fn from(reason: Reason) -> Self {
        match reason {
            Reason::MaxEpochs(MaxEpochs { epochs }) => StopReason::MaxEpochs { epochs },
            Reason::TargetReached(TargetReached {
                monitor,
                value,
                target,
                epoch,
            }) => StopReason::TargetReached {
                monitor,
                value,
                target,
                epoch,
            },
            Reason::EarlyStopping(EarlyStopping {
                monitor,
                best_epoch,
                best,
                epoch,
                patience,
            }) => StopReason::EarlyStopping {
                monitor,
                best_epoch,
                best,
                epoch,
                patience,
            },
            Reason::NonFinite(NonFinite { epoch, batch, loss }) => {
                StopReason::NonFinite { epoch, batch, loss }
            }
            Reason::Callback(Callback { epoch }) => StopReason::Callback { epoch },
        }
    }
}

/// [`History::from_json`], each error a message.
fn read(text: &str) -> Result<History, String> {
    // Text that is not JSON is reported as such before any value is
    // judged. serde_json's `Value` reads every number, as the history does,
    // also those of keys that are not read.
    serde_json::from_str::<Value>(text).map_err(|e| format!("invalid JSON: {e}"))?;
    let mut json = serde_json::Deserializer::from_str(text);
    let Object(document): Object<Document<Map<String, Value>>> =
        serde_path_to_error::deserialize(&mut json).map_err(|e| message("", e))?;
    Ok(History {
        epochs: document.epochs.into_iter().map(EpochLog::from).collect(),
        stop: stop(document.stop)?,
        best_epoch: document.best_epoch,
    })
}

/// `stop`, from its keys: `reason`, then the fields that reason has.
fn stop(fields: Map<String, Value>) -> Result<StopReason, String> {
    let fields = Value::Object(fields);
    let Tag { reason } = part_of_stop(&fields)?;
    let reason = match reason.as_str() {
        "max_epochs" => Reason::MaxEpochs(part_of_stop(&fields)?),
        "target_reached" => Reason::TargetReached(part_of_stop(&fields)?),
        "early_stopping" => Reason::EarlyStopping(part_of_stop(&fields)?),
        "non_finite" => Reason::NonFinite(part_of_stop(&fields)?),
        "callback" => Reason::Callback(part_of_stop(&fields)?),
        other => {
            return Err(format!(
                "`stop.reason` must be `max_epochs`, `target_reached`, `early_stopping`, \
                 `non_finite` or `callback`, found {other:?}"
            ))
        }
    };
    Ok(reason.into())
}

/// Reads `T` from the keys of `stop`, ignoring the others.
fn part_of_stop<T: DeserializeOwned>(fields: &Value) -> Result<T, String> {
    serde_path_to_error::deserialize(fields).map_err(|e| message("stop", e))
}

/// The message of an error `e` in the value at `under` (`""` for the
/// whole document): where, then what.
fn message(under: &str, e: serde_path_to_error::Error<serde_json::Error>) -> String {
    let path = e.path().to_string();
    let at = match (under, path.as_str()) {
        ("", ".") => "the history".to_string(),
        (_, ".") => under.to_string(),
        ("", path) => path.to_string(),
        (_, path) => format!("{under}.{path}"),
    };
    format!("`{at}` {}", e.inner())
}

// Writing: the values serde_json does not write as `to_json` says by
// itself.

/// Metrics as a map from name to value, in their order, the first value
/// of a metric listed twice (as [`EpochLog::metric`] reads them).
fn write_metrics<S: Serializer>(metrics: &[(Metric, f64)], s: S) -> Result<S::Ok, S::Error> {
    let first = |i: usize, m: Metric| metrics.iter().position(|p| p.0 == m) == Some(i);
    s.collect_map(
        (metrics.iter().enumerate())
            .filter(|&(i, &(m, _))| first(i, m))
            .map(|(_, (m, v))| (m.name(), v)),
    )
}

/// A duration as a number of seconds.
fn write_seconds<S: Serializer>(duration: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(duration.as_secs_f64())
}

/// A monitor as its `Display` name.
fn write_monitor<S: Serializer>(monitor: &Monitor, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(monitor)
}

/// A number of a stop reason: the number if finite, else the string
/// `NaN`, `inf` or `-inf`.
fn write_stop_number<S: Serializer>(x: &f64, s: S) -> Result<S::Ok, S::Error> {
    if x.is_finite() {
        s.serialize_f64(*x)
    } else {
        s.collect_str(x)
    }
}

// Reading: each function refuses a value with a message that says what
// it must be and what it is; the caller says where.

/// Reads any value and `read`s it as what `expected` describes, or
/// refuses it.
fn read_as<'de, D: Deserializer<'de>, T>(
    d: D,
    expected: &str,
    read: impl FnOnce(&Value) -> Option<T>,
) -> Result<T, D::Error> {
    let value = Value::deserialize(d)?;
    read(&value)
        .ok_or_else(|| D::Error::custom(format!("must be {expected}, found {}", found(&value))))
}

/// What a value is, for messages: `null`, `true`, the number, `the
/// string "…"`, `an array` or `an object`.
fn found(value: &Value) -> String {
    match value {
        // A fraction or exponent as Rust writes the `f64`: 1e2 is `100`.
        Value::Number(n) => match n.as_f64() {
            Some(x) if n.is_f64() => x.to_string(),
            _ => n.to_string(),
        },
        Value::String(s) => format!("the string {s:?}"),
        Value::Array(_) => "an array".to_string(),
        Value::Object(_) => "an object".to_string(),
        Value::Null | Value::Bool(_) => value.to_string(),
    }
}

/// A whole number (without fraction or exponent) `>= 0`.
fn count<'de, D: Deserializer<'de>>(d: D) -> Result<usize, D::Error> {
    read_as(d, "a whole number", |v| v.as_u64()?.try_into().ok())
}

/// A count, or `null` for none.
fn optional_count<'de, D: Deserializer<'de>>(d: D) -> Result<Option<usize>, D::Error> {
    read_as(d, "a whole number", |v| match v {
        Value::Null => Some(None),
        v => v.as_u64()?.try_into().ok().map(Some),
    })
}

/// A number, or `null` for none.
fn optional_number<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    read_as(d, "a number", |v| match v {
        Value::Null => Some(None),
        v => v.as_f64().map(Some),
    })
}

/// A number, or `null` for one that was not finite (read as NaN).
fn nan_if_null<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    read_as(d, "a number or null", |v| match v {
        Value::Null => Some(f64::NAN),
        v => v.as_f64(),
    })
}

/// A number of a stop reason: also `"NaN"`, `"inf"` and `"-inf"`.
fn stop_number<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    read_as(d, "a number or null", |v| match v {
        Value::Null => Some(f64::NAN),
        Value::String(s) if matches!(s.as_str(), "NaN" | "inf" | "-inf") => s.parse().ok(),
        v => v.as_f64(),
    })
}

/// A number of seconds that is a [`Duration`].
fn seconds<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    let seconds = read_as(d, "a number", Value::as_f64)?;
    Duration::try_from_secs_f64(seconds).map_err(|_| {
        D::Error::custom(format!(
            "must be a non-negative, finite number of seconds, found {seconds}"
        ))
    })
}

/// A string.
fn string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    read_as(d, "a string", |v| v.as_str().map(str::to_string))
}

/// `loss`, `val_loss`, a metric's name, or `val_` and a metric's name.
fn monitor<'de, D: Deserializer<'de>>(d: D) -> Result<Monitor, D::Error> {
    let name = string(d)?;
    match name.as_str() {
        "loss" => Some(Monitor::Loss),
        "val_loss" => Some(Monitor::ValLoss),
        _ => match name.strip_prefix("val_") {
            Some(metric) => metric_named(metric).map(Monitor::ValMetric),
            None => metric_named(&name).map(Monitor::Metric),
        },
    }
    .ok_or_else(|| D::Error::custom(format!("is not a loss or metric: {name:?}")))
}

fn metric_named(name: &str) -> Option<Metric> {
    Metric::ALL.into_iter().find(|m| m.name() == name)
}

/// Metrics: an object from a metric's name to a number or `null`, every
/// key in order.
fn metrics<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<(Metric, f64)>, D::Error> {
    d.deserialize_any(Expect::<Metrics>(PhantomData))
        .map(|m| m.0)
}

/// The epochs: an array of objects.
fn objects<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Vec<T>, D::Error> {
    d.deserialize_any(Expect::<Objects<T>>(PhantomData))
        .map(|o| o.0)
}

/// A JSON object (serde's derives would also read an array as a struct).
fn object<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<T, D::Error> {
    Object::deserialize(d).map(|o| o.0)
}

/// A `T` read from a JSON object only, the first of a repeated key.
struct Object<T>(T);

/// The epochs.
struct Objects<T>(Vec<T>);

/// The metrics of an epoch.
struct Metrics(Vec<(Metric, f64)>);

/// A metric's value.
#[derive(Deserialize)]
#[serde(transparent)]
struct MetricValue(#[serde(deserialize_with = "nan_if_null")] f64);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Object<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(Expect::<Object<T>>(PhantomData))
    }
}

/// An array or an object read into `Self`.
trait Container<'de>: Sized {
    /// `an array` or `an object`.
    const EXPECTED: &'static str;

    fn seq<A: SeqAccess<'de>>(_: A) -> Result<Self, A::Error> {
        Err(wrong::<Self, _>("an array"))
    }

    fn map<A: MapAccess<'de>>(_: A) -> Result<Self, A::Error> {
        Err(wrong::<Self, _>("an object"))
    }
}

/// The error of a value `found` where a `C` was expected.
fn wrong<'de, C: Container<'de>, E: serde::de::Error>(found: impl fmt::Display) -> E {
    E::custom(format!("must be {}, found {found}", C::EXPECTED))
}

impl<'de, T: Deserialize<'de>> Container<'de> for Object<T> {
    const EXPECTED: &'static str = "an object";

    fn map<A: MapAccess<'de>>(map: A) -> Result<Self, A::Error> {
        let first = FirstOfEachKey {
            map,
            seen: HashSet::new(),
        };
        T::deserialize(MapAccessDeserializer::new(first)).map(Object)
    }
}

impl<'de, T: Deserialize<'de>> Container<'de> for Objects<T> {
    const EXPECTED: &'static str = "an array";

    fn seq<A: SeqAccess<'de>>(mut seq: A) -> Result<Self, A::Error> {
        let mut items = Vec::new();
        while let Some(Object(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(Objects(items))
    }
}

impl<'de> Container<'de> for Metrics {
    const EXPECTED: &'static str = "an object";

    fn map<A: MapAccess<'de>>(mut map: A) -> Result<Self, A::Error> {
        let mut metrics = Vec::new();
        while let Some(name) = map.next_key::<String>()? {
            let metric = metric_named(&name).ok_or_else(|| {
                A::Error::custom(format!(
                    "has the unknown metric {name:?} (known: acc, mae, rmse, r2)"
                ))
            })?;
            let MetricValue(value) = map.next_value()?;
            metrics.push((metric, value));
        }
        Ok(Metrics(metrics))
    }
}

/// Reads a [`Container`], refusing any other kind of value.
struct Expect<C>(PhantomData<C>);

impl<'de, C: Container<'de>> Visitor<'de> for Expect<C> {
    type Value = C;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(C::EXPECTED)
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<C, E> {
        Err(wrong::<C, _>("null"))
    }

    fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<C, E> {
        Err(wrong::<C, _>(v))
    }

    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<C, E> {
        Err(wrong::<C, _>(v))
    }

    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<C, E> {
        Err(wrong::<C, _>(v))
    }

    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<C, E> {
        Err(wrong::<C, _>(v))
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<C, E> {
        Err(wrong::<C, _>(format_args!("the string {v:?}")))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<C, A::Error> {
        C::seq(seq)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<C, A::Error> {
        C::map(map)
    }
}

/// The keys and values of `map` but the values of a key seen before.
struct FirstOfEachKey<A> {
    map: A,
    seen: HashSet<String>,
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for FirstOfEachKey<A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        while let Some(key) = self.map.next_key::<String>()? {
            if self.seen.insert(key.clone()) {
                return seed.deserialize(key.into_deserializer()).map(Some);
            }
            self.map.next_value::<IgnoredAny>()?;
        }
        Ok(None)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, A::Error> {
        self.map.next_value_seed(seed)
    }
}
