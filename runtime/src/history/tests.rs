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
            "`epochs[0]` missing field `lr`",
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
    assert!(text.contains("Learning curves") && text.contains("validation"));

    // Upper case works too; PNGs start with the PNG signature.
    let png = dir.join("curves.PNG");
    history.plot(&png).unwrap();
    let bytes = fs::read(&png).unwrap();
    assert!(bytes.len() > 1000, "{} bytes", bytes.len());
    assert_eq!(bytes[..8], *b"\x89PNG\r\n\x1a\n");
    assert_eq!(dir.files(), ["curves.PNG", "curves.svg"]);
}

/// The width, height and RGB pixels of a PNG file.
#[cfg(feature = "plot")]
fn read_png(path: &std::path::Path) -> (u32, u32, Vec<u8>) {
    let file = std::io::BufReader::new(fs::File::open(path).unwrap());
    let mut reader = png::Decoder::new(file).read_info().unwrap();
    let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut pixels).unwrap();
    assert_eq!(info.color_type, png::ColorType::Rgb);
    pixels.truncate(info.buffer_size());
    (info.width, info.height, pixels)
}

/// How many pixels in rows `rows` are within 40 of `color` in each channel.
#[cfg(feature = "plot")]
fn count_near(
    (width, _, pixels): &(u32, u32, Vec<u8>),
    rows: std::ops::Range<usize>,
    color: [u8; 3],
) -> usize {
    let w = *width as usize;
    pixels
        .chunks_exact(3)
        .enumerate()
        .filter(|(i, p)| {
            rows.contains(&(i / w)) && p.iter().zip(color).all(|(&a, b)| a.abs_diff(b) < 40)
        })
        .count()
}

#[cfg(feature = "plot")]
#[test]
fn plot_draws_the_learning_rate_in_a_panel_of_its_own() {
    let dir = TempDir::new();
    let mut history = history();
    for (i, e) in history.epochs.iter_mut().enumerate() {
        e.lr = 0.1 / 10f64.powi(i as i32);
    }
    let path = dir.join("panels.png");
    Plot::of(&history)
        .panels([Panel::Loss, Panel::LearningRate])
        .write(&path)
        .unwrap();
    let png = read_png(&path);
    // 600 for one panel, 300 more for the second and its epoch axis.
    assert_eq!((png.0, png.1), (960, 704));
    // The panes: the loss from row 76 to 376, the learning rate under it.
    let (loss, rate) = (76..376, 376..680);
    let (blue, purple) = ([31, 119, 180], [148, 103, 189]);
    assert!(
        count_near(&png, loss.clone(), blue) > 200,
        "no training loss curve"
    );
    assert!(
        count_near(&png, rate.clone(), purple) > 200,
        "no learning rate curve"
    );
    // The learning rate's colour only in its pane (and its legend entry,
    // beside the loss pane, right of x = 640).
    let w = png.0 as usize;
    let purple_in_loss_plot = png
        .2
        .chunks_exact(3)
        .enumerate()
        .filter(|(i, p)| {
            loss.contains(&(i / w))
                && i % w < 640
                && p.iter().zip(purple).all(|(&a, b)| a.abs_diff(b) < 40)
        })
        .count();
    assert_eq!(purple_in_loss_plot, 0);
}

#[cfg(feature = "plot")]
#[test]
fn a_chart_shades_its_field_and_keeps_its_legend_clear() {
    let dir = TempDir::new();
    // Class 1 right of x = 0: pale blue on the left, pale orange on the right.
    let field = Field::from_fn(-1.0..1.0, -1.0..1.0, (50, 50), |centres| {
        centres
            .iter()
            .map(|[x, _]| f64::from(u8::from(*x > 0.0)))
            .collect()
    })
    .name("P(class 1)")
    .scale(0.0..1.0)
    .level(0.5);
    let path = dir.join("field.png");
    Chart::new("Field")
        .field(field)
        .points("class 0", [(-0.5, 0.0)])
        .points("class 1", [(0.5, 0.0)])
        .write(&path)
        .unwrap();
    let png = read_png(&path);
    assert_eq!((png.0, png.1), (960, 600));
    let pixel = |x: usize, y: usize| {
        let i = 3 * (y * png.0 as usize + x);
        [png.2[i], png.2[i + 1], png.2[i + 2]]
    };
    // Row 200 crosses the plot from x = 92 to about 650; the legend is
    // right of it, on white.
    let [r, _, b] = pixel(130, 200);
    assert!(b > r + 40, "left of the boundary: {:?}", pixel(130, 200));
    let [r, _, b] = pixel(600, 200);
    assert!(r > b + 40, "right of the boundary: {:?}", pixel(600, 200));
    assert_eq!(
        pixel(950, 400),
        [255, 255, 255],
        "the margin right of the legend"
    );
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

/// Epochs with every kind of value `to_json` writes: non-finite numbers,
/// no validation loss, metrics out of name order and one listed twice,
/// numbers that print long, short or in exponent form.
fn odd_epochs() -> Vec<EpochLog> {
    let mut epochs = vec![
        log(1, f64::NAN, None),
        log(2, f64::INFINITY, Some(f64::NAN)),
        log(3, 0.1 + 0.2, Some(-0.0)),
    ];
    epochs[0].metrics = vec![
        (Metric::MAE, 0.1 + 0.2),
        (Metric::Accuracy, f64::NAN),
        (Metric::MAE, 9.0),
    ];
    epochs[0].val_metrics = vec![(Metric::R2, f64::NEG_INFINITY), (Metric::RMSE, 1.5e-7)];
    epochs[0].duration = Duration::new(3, 123_456_789);
    epochs[1].metrics = vec![];
    epochs[1].lr = f64::NAN;
    epochs[1].iterations = 0;
    epochs[1].duration = Duration::ZERO;
    epochs[2].metrics.push((Metric::RMSE, 1e21));
    epochs[2].lr = 5e-324;
    epochs[2].duration = Duration::from_nanos(1);
    epochs
}

/// Today's exact text of `to_json`, for the epochs of [`odd_epochs`] and
/// every stop reason: keys in the documented order, metrics in the epoch's
/// order (the first of a repeated one), non-finite numbers as `null` in the
/// epochs and as strings in `stop`, numbers in their shortest form.
#[test]
fn json_text_is_pinned() {
    const EPOCHS: &str = r#"{
  "epochs": [
    {
      "epoch": 1,
      "loss": null,
      "val_loss": null,
      "metrics": {
        "mae": 0.30000000000000004,
        "acc": null
      },
      "val_metrics": {
        "r2": null,
        "rmse": 1.5e-7
      },
      "lr": 0.1,
      "iterations": 4,
      "seconds": 3.123456789
    },
    {
      "epoch": 2,
      "loss": null,
      "val_loss": null,
      "metrics": {},
      "val_metrics": {},
      "lr": null,
      "iterations": 0,
      "seconds": 0.0
    },
    {
      "epoch": 3,
      "loss": 0.30000000000000004,
      "val_loss": -0.0,
      "metrics": {
        "acc": 0.5,
        "rmse": 1e+21
      },
      "val_metrics": {},
      "lr": 5e-324,
      "iterations": 4,
      "seconds": 1e-9
    }
  ],
"#;
    let stops = [
        (
            StopReason::MaxEpochs { epochs: 3 },
            None,
            r#"  "stop": {
    "reason": "max_epochs",
    "epochs": 3,
    "message": "Finished: all 3 epochs ran"
  },
  "best_epoch": null
}"#,
        ),
        (
            StopReason::TargetReached {
                monitor: Monitor::ValMetric(Metric::R2),
                value: 0.1 + 0.7,
                target: f64::INFINITY,
                epoch: 3,
            },
            Some(2),
            r#"  "stop": {
    "reason": "target_reached",
    "monitor": "val_r2",
    "value": 0.7999999999999999,
    "target": "inf",
    "epoch": 3,
    "message": "Stopped: val_r2 0.8000 reached the target inf at epoch 3"
  },
  "best_epoch": 2
}"#,
        ),
        (
            StopReason::EarlyStopping {
                monitor: Monitor::Metric(Metric::MAE),
                best_epoch: 2,
                best: f64::NAN,
                epoch: 3,
                patience: 1,
            },
            None,
            r#"  "stop": {
    "reason": "early_stopping",
    "monitor": "mae",
    "best_epoch": 2,
    "best": "NaN",
    "epoch": 3,
    "patience": 1,
    "message": "Stopped early at epoch 3: mae has not improved for 1 epochs; best NaN at epoch 2"
  },
  "best_epoch": null
}"#,
        ),
        (
            StopReason::NonFinite {
                epoch: 3,
                batch: 7,
                loss: f64::NEG_INFINITY,
            },
            Some(2),
            r#"  "stop": {
    "reason": "non_finite",
    "epoch": 3,
    "batch": 7,
    "loss": "-inf",
    "message": "Stopped: the loss became -inf in epoch 3, batch 7; that batch's update was not applied"
  },
  "best_epoch": 2
}"#,
        ),
        (
            StopReason::NonFinite {
                epoch: 2,
                batch: 1,
                loss: f64::NAN,
            },
            None,
            r#"  "stop": {
    "reason": "non_finite",
    "epoch": 2,
    "batch": 1,
    "loss": "NaN",
    "message": "Stopped: the loss became NaN in epoch 2, batch 1; that batch's update was not applied"
  },
  "best_epoch": null
}"#,
        ),
        (
            StopReason::Callback { epoch: 3 },
            Some(2),
            r#"  "stop": {
    "reason": "callback",
    "epoch": 3,
    "message": "Stopped by a callback after epoch 3"
  },
  "best_epoch": 2
}"#,
        ),
    ];
    for (stop, best_epoch, tail) in stops {
        let history = History {
            epochs: odd_epochs(),
            stop,
            best_epoch,
        };
        let json = history.to_json();
        assert_eq!(json, format!("{EPOCHS}{tail}"));
        assert_eq!(History::from_json(&json).unwrap().to_json(), json);
    }
    let empty = History {
        epochs: vec![],
        stop: StopReason::Callback { epoch: 0 },
        best_epoch: None,
    };
    assert_eq!(
        empty.to_json(),
        r#"{
  "epochs": [],
  "stop": {
    "reason": "callback",
    "epoch": 0,
    "message": "Stopped by a callback after epoch 0"
  },
  "best_epoch": null
}"#
    );
}

/// A small history as JSON, for [`from_json_accepts_and_refuses`] to edit.
const SMALL: &str = r#"{"epochs": [{"epoch": 1, "loss": 0.5, "val_loss": 0.25, "metrics": {"acc": 0.5}, "val_metrics": {}, "lr": 0.1, "iterations": 4, "seconds": 1.5}], "stop": {"reason": "max_epochs", "epochs": 1, "message": "Finished"}, "best_epoch": null}"#;

/// [`SMALL`] with its first `from` replaced by `to`.
fn small_with(from: &str, to: &str) -> String {
    assert!(SMALL.contains(from), "{from}");
    SMALL.replacen(from, to, 1)
}

/// What `from_json` reads beyond what `to_json` writes: unknown keys are
/// ignored, the first of a repeated key is read (every one in metrics),
/// whole numbers are numbers, a stop reason's message and the keys of
/// other reasons are not read.
#[test]
fn from_json_accepts_what_to_json_does_not_write() {
    let read =
        |text: String| History::from_json(&text).unwrap_or_else(|e| panic!("{e}\nin {text}"));
    let small = read(SMALL.to_string());
    assert_eq!(small.epochs[0].duration, Duration::from_millis(1500));
    assert_eq!(small.stop, StopReason::MaxEpochs { epochs: 1 });
    for text in [
        small_with(
            "\"seconds\": 1.5",
            "\"seconds\": 1.5, \"extra\": [1, {\"a\": null}]",
        ),
        small_with("{\"epochs\"", "{\"x\": {\"y\": [true]}, \"epochs\""),
        small_with(
            "\"message\"",
            "\"monitor\": 7, \"loss\": \"x\", \"value\": [], \"message\"",
        ),
        small_with(", \"message\": \"Finished\"", ""),
        small_with("\"Finished\"", "[1, {}]"),
        small_with(
            "{\"reason\": \"max_epochs\", \"epochs\": 1",
            "{\"epochs\": 1, \"reason\": \"max_epochs\"",
        ),
        format!(" \n{SMALL}\n\t "),
    ] {
        assert_eq!(read(text), small);
    }

    // The first of a repeated key; every metric, in order.
    let h = read(small_with(
        "\"epoch\": 1,",
        "\"epoch\": 1, \"epoch\": \"two\",",
    ));
    assert_eq!(h.epochs[0].epoch, 1);
    let h = read(small_with(
        "\"best_epoch\": null}",
        "\"best_epoch\": null, \"best_epoch\": 3, \"stop\": 5}",
    ));
    assert_eq!(h, small);
    let h = read(small_with(
        "\"epochs\": 1,",
        "\"epochs\": 1, \"epochs\": -1, \"reason\": \"bored\",",
    ));
    assert_eq!(h, small);
    let h = read(small_with(
        "{\"acc\": 0.5}",
        "{\"acc\": 0.5, \"mae\": 2, \"acc\": null}",
    ));
    let metrics = &h.epochs[0].metrics;
    assert_eq!(metrics.len(), 3);
    assert_eq!(metrics[..2], [(Metric::Accuracy, 0.5), (Metric::MAE, 2.0)]);
    assert!(metrics[2].0 == Metric::Accuracy && metrics[2].1.is_nan());

    // Whole numbers as numbers, null as NaN or no validation loss.
    let h = read(small_with("\"loss\": 0.5", "\"loss\": -2"));
    assert_eq!(h.epochs[0].loss, -2.0);
    let h = read(small_with("\"seconds\": 1.5", "\"seconds\": 2"));
    assert_eq!(h.epochs[0].duration, Duration::from_secs(2));
    let h = read(small_with(
        "\"iterations\": 4",
        "\"iterations\": 18446744073709551615",
    ));
    assert_eq!(h.epochs[0].iterations as u64, u64::MAX);
    let h =
        read(small_with("\"loss\": 0.5", "\"loss\": null").replace("\"lr\": 0.1", "\"lr\": null"));
    assert!(h.epochs[0].loss.is_nan() && h.epochs[0].lr.is_nan());
    let h = read(small_with("\"val_loss\": 0.25", "\"val_loss\": null"));
    assert_eq!(h.epochs[0].val_loss, None);

    // Numbers of a stop reason: also null and the strings of non-finite ones.
    let stop = |s: &str| read(small_with("{\"reason\": \"max_epochs\", \"epochs\": 1", s)).stop;
    let reason =
        stop("{\"reason\": \"non_finite\", \"epoch\": 1, \"batch\": 2, \"loss\": \"-inf\"");
    assert_eq!(
        reason,
        StopReason::NonFinite {
            epoch: 1,
            batch: 2,
            loss: f64::NEG_INFINITY
        }
    );
    let reason = stop("{\"reason\": \"non_finite\", \"epoch\": 1, \"batch\": 2, \"loss\": null");
    assert!(matches!(reason, StopReason::NonFinite { loss, .. } if loss.is_nan()));
    let reason = stop(
        "{\"reason\": \"target_reached\", \"monitor\": \"val_acc\", \"value\": 3, \"target\": \"inf\", \"epoch\": 1",
    );
    assert_eq!(
        reason,
        StopReason::TargetReached {
            monitor: Monitor::ValMetric(Metric::Accuracy),
            value: 3.0,
            target: f64::INFINITY,
            epoch: 1
        }
    );
    let reason = stop(
        "{\"reason\": \"early_stopping\", \"monitor\": \"r2\", \"best_epoch\": 1, \"best\": \"NaN\", \"epoch\": 2, \"patience\": 1",
    );
    assert!(matches!(
        reason,
        StopReason::EarlyStopping { monitor: Monitor::Metric(Metric::R2), best, .. } if best.is_nan()
    ));
    assert_eq!(
        stop("{\"reason\": \"callback\", \"epoch\": 1"),
        StopReason::Callback { epoch: 1 }
    );
}

/// What `from_json` refuses, each error naming where and what.
#[test]
fn from_json_refuses_what_is_not_a_history() {
    let stop = |s: &str| small_with("{\"reason\": \"max_epochs\", \"epochs\": 1", s);
    let epoch = &SMALL[SMALL.find('[').unwrap() + 1..SMALL.find("], \"stop\"").unwrap()];
    let second =
        |from: &str, to: &str| small_with(epoch, &format!("{epoch}, {}", epoch.replace(from, to)));
    let cases: Vec<(String, &[&str])> = vec![
        // Kinds of values.
        ("[]".into(), &["`the history` must be an object, found an array"]),
        ("3".into(), &["`the history` must be an object, found 3"]),
        (
            small_with(epoch, "[1, 0.5, 0.25, {}, {}, 0.1, 4, 1.5]"),
            &["`epochs[0]` must be an object, found an array"],
        ),
        (
            small_with("{\"reason\": \"max_epochs\", \"epochs\": 1, \"message\": \"Finished\"}", "[\"max_epochs\", 1]"),
            &["`stop` must be an object, found an array"],
        ),
        (small_with("{\"acc\": 0.5}", "[0.5]"), &["`epochs[0].metrics` must be an object, found an array"]),
        (
            small_with("\"val_metrics\": {}", "\"val_metrics\": null"),
            &["`epochs[0].val_metrics` must be an object, found null"],
        ),
        ("{\"epochs\": {}}".into(), &["`epochs` must be an array, found an object"]),
        // Missing keys.
        (small_with("\"val_loss\": 0.25, ", ""), &["epochs[0]", "val_loss"]),
        (small_with("\"seconds\": 1.5", "\"second\": 1.5"), &["epochs[0]", "seconds"]),
        (second("\"lr\"", "\"rate\""), &["epochs[1]", "lr"]),
        (small_with(", \"best_epoch\": null", ""), &["best_epoch"]),
        (small_with("\"stop\"", "\"Stop\""), &["stop"]),
        (small_with("\"epochs\": 1, \"message\"", "\"message\""), &["stop", "epochs"]),
        (small_with("\"reason\": \"max_epochs\", ", ""), &["stop", "reason"]),
        (
            stop("{\"reason\": \"early_stopping\", \"monitor\": \"loss\", \"best_epoch\": 1, \"epoch\": 2, \"patience\": 1"),
            &["stop", "best"],
        ),
        // Counts.
        (
            small_with("\"iterations\": 4", "\"iterations\": 4.0"),
            &["`epochs[0].iterations` must be a whole number, found 4"],
        ),
        (
            small_with("\"iterations\": 4", "\"iterations\": 1e2"),
            &["`epochs[0].iterations` must be a whole number, found 100"],
        ),
        (small_with("\"epoch\": 1", "\"epoch\": -1"), &["`epochs[0].epoch` must be a whole number, found -1"]),
        (
            small_with("\"epoch\": 1", "\"epoch\": \"1\""),
            &["`epochs[0].epoch` must be a whole number, found the string \"1\""],
        ),
        (
            small_with("\"iterations\": 4", "\"iterations\": 18446744073709551616"),
            &["`epochs[0].iterations` must be a whole number, found 18446744073709552000"],
        ),
        (
            small_with("\"best_epoch\": null", "\"best_epoch\": -1"),
            &["`best_epoch` must be a whole number, found -1"],
        ),
        (small_with("\"epochs\": 1,", "\"epochs\": true,"), &["`stop.epochs` must be a whole number, found true"]),
        (
            stop("{\"reason\": \"non_finite\", \"epoch\": 1, \"batch\": [], \"loss\": 1"),
            &["`stop.batch` must be a whole number, found an array"],
        ),
        // Numbers.
        (
            small_with("\"loss\": 0.5", "\"loss\": \"NaN\""),
            &["`epochs[0].loss` must be a number or null, found the string \"NaN\""],
        ),
        (
            small_with("\"loss\": 0.5", &format!("\"loss\": {}{}", "[".repeat(120), "]".repeat(120))),
            &["`epochs[0].loss` must be a number or null, found an array"],
        ),
        (small_with("\"lr\": 0.1", "\"lr\": {}"), &["`epochs[0].lr` must be a number or null, found an object"]),
        (
            small_with("\"val_loss\": 0.25", "\"val_loss\": \"x\""),
            &["`epochs[0].val_loss` must be a number, found the string \"x\""],
        ),
        (
            small_with("\"seconds\": 1.5", "\"seconds\": -1.5"),
            &["`epochs[0].seconds` must be a non-negative, finite number of seconds, found -1.5"],
        ),
        (
            small_with("\"seconds\": 1.5", "\"seconds\": 1e300"),
            &["`epochs[0].seconds` must be a non-negative, finite number of seconds"],
        ),
        (small_with("\"seconds\": 1.5", "\"seconds\": null"), &["`epochs[0].seconds` must be a number, found null"]),
        (
            second("\"lr\": 0.1", "\"lr\": \"fast\""),
            &["`epochs[1].lr` must be a number or null, found the string \"fast\""],
        ),
        (
            stop("{\"reason\": \"non_finite\", \"epoch\": 1, \"batch\": 2, \"loss\": \"nan\""),
            &["`stop.loss` must be a number or null, found the string \"nan\""],
        ),
        (
            stop("{\"reason\": \"target_reached\", \"monitor\": \"loss\", \"value\": false, \"target\": 1, \"epoch\": 1"),
            &["`stop.value` must be a number or null, found false"],
        ),
        // Metrics, monitors, reasons.
        (
            small_with("\"acc\"", "\"accuracy\""),
            &["`epochs[0].metrics` has the unknown metric \"accuracy\" (known: acc, mae, rmse, r2)"],
        ),
        (
            small_with("\"val_metrics\": {}", "\"val_metrics\": {\"val_acc\": 1}"),
            &["`epochs[0].val_metrics` has the unknown metric \"val_acc\""],
        ),
        (
            small_with("{\"acc\": 0.5}", "{\"acc\": 0.5, \"acc\": \"x\"}"),
            &["`epochs[0].metrics.acc` must be a number or null, found the string \"x\""],
        ),
        (
            stop("{\"reason\": \"target_reached\", \"monitor\": \"val_val_loss\", \"value\": 1, \"target\": 1, \"epoch\": 1"),
            &["`stop.monitor` is not a loss or metric: \"val_val_loss\""],
        ),
        (
            stop("{\"reason\": \"early_stopping\", \"monitor\": 3, \"best_epoch\": 1, \"best\": 1, \"epoch\": 2, \"patience\": 1"),
            &["`stop.monitor` must be a string, found 3"],
        ),
        (
            small_with("\"max_epochs\"", "\"bored\""),
            &["`stop.reason` must be `max_epochs`, `target_reached`, `early_stopping`, `non_finite` or `callback`, found \"bored\""],
        ),
        (small_with("\"max_epochs\"", "null"), &["`stop.reason` must be a string, found null"]),
        // Not JSON, wherever it is and whatever else is wrong; also in a
        // value that is not read.
        (format!("{SMALL} x"), &["invalid JSON: trailing characters"]),
        (
            small_with("\"iterations\": 4", "\"iterations\": 4.5")[..SMALL.len() - 2].to_string(),
            &["invalid JSON: EOF while parsing"],
        ),
        (small_with("\"epoch\": 1,", "\"x\": 1e400, \"epoch\": 1,"), &["invalid JSON: number out of range"]),
        (small_with("\"epoch\": 1,", "\"x\": \"\\ud800\", \"epoch\": 1,"), &["invalid JSON: ", "escape"]),
        (small_with("\"epoch\": 1,", "\"epoch\": 1, \"epoch\": 1e999,"), &["invalid JSON: number out of range"]),
        (small_with("\"message\": \"Finished\"", "\"message\": 1e999"), &["invalid JSON: number out of range"]),
        ("{\"epochs\": [".repeat(200), &["invalid JSON: recursion limit exceeded"]),
    ];
    for (text, expected) in cases {
        let err = History::from_json(&text).unwrap_err();
        assert!(matches!(err, Error::InvalidFile { .. }), "{err:?}");
        let message = err.to_string();
        assert!(message.starts_with("history JSON: "), "{message}");
        for part in expected {
            assert!(
                message.contains(part),
                "{part:?} not in {message}\nfor {text}"
            );
        }
    }
}
