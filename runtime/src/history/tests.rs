//! The history's exports: CSV, JSON both ways, plots, atomic writes.

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
    let mut reader = ::csv::Reader::from_reader(csv.as_bytes());
    let rows: Vec<::csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
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
        (
            json[..json.len() - 2].to_string(),
            "invalid JSON: EOF while parsing",
        ),
        (
            "[]".to_string(),
            "`the history` must be an object, found an array",
        ),
    ];
    for (text, expected) in cases {
        let err = History::from_json(&text).unwrap_err();
        assert!(matches!(err, Error::InvalidFile { .. }), "{err:?}");
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
