//! Reads the JSON of [`History::to_json`] back (see [`History::from_json`]):
//! serde_json parses the text (syntax, escapes, nesting depth, exact
//! numbers with its `float_roundtrip` feature) into an ordered [`Value`],
//! which the functions below read, each error a message naming the key at
//! fault (`epochs[2].iterations must be a whole number, found 1.5`), as
//! derived `Deserialize` impls could not say.

use std::time::Duration;

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

use super::{EpochLog, History, Monitor, StopReason};
use crate::metrics::Metric;

type Fields = [(String, Value)];

pub(super) fn history(text: &str) -> Result<History, String> {
    let value: Value = serde_json::from_str(text).map_err(|e| format!("invalid JSON: {e}"))?;
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
        format!("`{at}.seconds` must be a non-negative, finite number of seconds, found {seconds}")
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
        Value::Number(Number::Whole(n)) => usize::try_from(*n).ok(),
        _ => None,
    }
    .ok_or_else(|| format!("`{at}` must be a whole number, found {}", value.describe()))
}

/// A number, parsed exactly (serde_json's `float_roundtrip` parser
/// rounds correctly; a whole number is rounded to nearest by `as`).
fn number(value: &Value, at: &str) -> Result<f64, String> {
    match value {
        Value::Number(Number::Whole(n)) => Some(*n as f64),
        Value::Number(Number::Negative(n)) => Some(*n as f64),
        Value::Number(Number::Float(x)) => Some(*x),
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

/// A JSON value as serde_json reads it, with objects in their order (the
/// order of an epoch's metrics is the order they were computed in) and
/// whole numbers apart from the others (a count must be whole). Keys stay
/// in a list: the first of a repeated key is the one read.
#[derive(Clone, Debug, PartialEq)]
enum Value {
    Null,
    Bool(bool),
    Number(Number),
    String(String),
    Array(Vec<Value>),
    Object(Vec<(String, Value)>),
}

/// A JSON number: whole (no fraction or exponent) or not.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Number {
    /// A whole number `>= 0`.
    Whole(u64),
    /// A whole number `< 0`.
    Negative(i64),
    /// Any other number, read exactly.
    Float(f64),
}

impl Value {
    /// What the value is, for messages: `null`, `true`, the number, or
    /// `a string`, `an array`, `an object`.
    fn describe(&self) -> String {
        match self {
            Value::Null => "null".to_string(),
            Value::Bool(b) => b.to_string(),
            Value::Number(Number::Whole(n)) => n.to_string(),
            Value::Number(Number::Negative(n)) => n.to_string(),
            Value::Number(Number::Float(x)) => x.to_string(),
            Value::String(s) => format!("the string {s:?}"),
            Value::Array(_) => "an array".to_string(),
            Value::Object(_) => "an object".to_string(),
        }
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ValueVisitor)
    }
}

/// Builds a [`Value`] from whatever serde_json reads.
struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(Number::Whole(v)))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(match u64::try_from(v) {
            Ok(n) => Number::Whole(n),
            Err(_) => Number::Negative(v),
        }))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::Number(Number::Float(v)))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut fields = Vec::new();
        while let Some(entry) = map.next_entry()? {
            fields.push(entry);
        }
        Ok(Value::Object(fields))
    }
}
