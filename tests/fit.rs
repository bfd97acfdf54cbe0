//! The epoch loop around the four steps: validation, metrics, stopping,
//! schedules, accumulation, callbacks, output, determinism.

use macrograd::metrics::Metric;
use macrograd::prelude::*;
use macrograd::schedule::{Interval, Scheduler, Setting, StepLR};
use macrograd::train::{Clip, EarlyStopping, Monitor, StopReason};
use macrograd::Error;

model! {
    struct Reg;
    dtype f64;
    input 2;
    Linear(2, 1);
    loss MSE;
    optim SGD(0.1)
}

model! {
    struct Clf;
    dtype f64;
    input 2;
    Linear(_, 8);
    Tanh;
    Linear(_, 3);
    loss CrossEntropy;
    optim Adam(lr = 0.05)
}

/// `y = 2 x0 - x1 + 0.5` plus a little noise.
fn regression(n: usize, seed: u64) -> Dataset<f64, macrograd::target::Rows> {
    let mut rng = Rng::new(seed);
    let x: Array2<f64> = rng.randn((n, 2));
    let y = Array2::from_shape_fn((n, 1), |(i, _)| {
        2.0 * x[[i, 0]] - x[[i, 1]] + 0.5 + 0.01 * rng.sym()
    });
    Dataset::regression(x, y).unwrap()
}

/// Three classes by the sign pattern of two features.
fn classes(n: usize, seed: u64) -> Dataset<f64, macrograd::target::Classes> {
    let mut rng = Rng::new(seed);
    let x: Array2<f64> = rng.randn((n, 2));
    let labels = (0..n)
        .map(|i| match (x[[i, 0]] > 0.0, x[[i, 1]] > 0.0) {
            (true, _) => 0,
            (false, true) => 1,
            (false, false) => 2,
        })
        .collect();
    Dataset::classification(x, labels).unwrap()
}

fn weights<M: Model<Elem = f64>>(m: &M) -> Vec<f64> {
    m.parameters()
        .iter()
        .flat_map(|p| p.value.iter().copied().collect::<Vec<_>>())
        .collect()
}

/// A schedule that plays a fixed list of learning rates, one per epoch.
struct Table(Vec<f64>, usize);

impl Scheduler for Table {
    fn start(&mut self, _: f64, _: Option<f64>) -> Setting {
        self.1 = 0;
        Setting {
            lr: self.0[0],
            momentum: None,
        }
    }
    fn step(&mut self, _: Option<f64>) -> Setting {
        self.1 += 1;
        Setting {
            lr: self.0[self.1.min(self.0.len() - 1)],
            momentum: None,
        }
    }
    fn describe(&self) -> String {
        "Table".into()
    }
}

fn run_log(fit: impl FnOnce(&mut Vec<u8>) -> Result<History, Error>) -> (History, Vec<String>) {
    let mut out = Vec::new();
    let history = fit(&mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    (history, text.lines().map(str::to_string).collect())
}

#[test]
fn plain_output_is_one_line_per_epoch_between_arithmetic_and_reason() {
    let data = regression(100, 1);
    let mut model = Reg::new();
    let (history, lines) = run_log(|out| {
        model.fit(
            &data,
            Fit::epochs(4)
                .batch_size(32)
                .validation_split(0.2)
                .log_to(out),
        )
    });
    assert_eq!(history.epochs.len(), 4);
    assert_eq!(lines.len(), 6, "{lines:#?}");
    assert_eq!(
        lines[0],
        "80 samples (+20 for validation), batch 32 -> 3 iterations per epoch, 4 epochs = 12 updates"
    );
    for (k, line) in lines[1..5].iter().enumerate() {
        let log = &history.epochs[k];
        assert_eq!(
            *line,
            format!(
                "Epoch [{}/4], Loss: {:.4}, Val Loss: {:.4}",
                k + 1,
                log.loss,
                log.val_loss.unwrap()
            )
        );
    }
    assert_eq!(lines[5], "Finished: all 4 epochs ran");
    assert_eq!(history.stop, StopReason::MaxEpochs { epochs: 4 });
}

#[test]
fn classifiers_report_accuracy_by_default() {
    let data = classes(300, 2);
    let mut model = Clf::new();
    let (history, lines) = run_log(|out| {
        model.fit(
            &data,
            Fit::epochs(30)
                .batch_size(30)
                .validation_split(0.25)
                .log_to(out),
        )
    });
    let last = history.last().unwrap();
    let acc = last.metric(Metric::Accuracy).unwrap();
    let val_acc = last.val_metric(Metric::Accuracy).unwrap();
    assert!(acc > 0.85 && val_acc > 0.85, "{acc} {val_acc}");
    assert!(lines[30].contains(", Acc: ") && lines[30].contains(", Val Acc: "));
    // The validation accuracy is the fraction of held-out samples right.
    assert_eq!((val_acc * 75.0).round(), val_acc * 75.0);
}

#[test]
fn regression_metrics_on_request_and_invalid_ones_refused() {
    let data = regression(64, 3);
    let mut model = Reg::new();
    let history = model
        .fit(
            &data,
            Fit::epochs(30)
                .batch_size(16)
                .metrics(&[Metric::MAE, Metric::RMSE, Metric::R2])
                .quiet(),
        )
        .unwrap();
    let last = history.last().unwrap();
    assert!(last.metric(Metric::R2).unwrap() > 0.99);
    assert!(last.metric(Metric::MAE).unwrap() < 0.1);
    // RMSE^2 is the MSE of the epoch's batches, which is the loss.
    let rmse = last.metric(Metric::RMSE).unwrap();
    assert!(
        (rmse * rmse - last.loss).abs() < 1e-12,
        "{rmse} {}",
        last.loss
    );

    let err = Reg::new()
        .fit(&data, Fit::epochs(1).metrics(&[Metric::Accuracy]).quiet())
        .unwrap_err();
    assert!(err.to_string().contains("Acc"), "{err}");
}

#[test]
fn one_seed_gives_identical_histories() {
    let data = classes(200, 4);
    let run = || {
        let mut model = Clf::with_seed(7);
        let h = model
            .fit(
                &data,
                Fit::epochs(5)
                    .batch_size(16)
                    .seed(11)
                    .validation_split(0.3)
                    .quiet(),
            )
            .unwrap();
        let logs: Vec<_> = h
            .epochs
            .iter()
            .map(|e| (e.loss, e.val_loss, e.metrics.clone(), e.val_metrics.clone()))
            .collect();
        (logs, weights(&model))
    };
    let (a, b) = (run(), run());
    assert_eq!(a, b);
}

#[test]
fn early_stopping_stops_after_patience_and_restores_the_best_weights() {
    // Validation on the training data (the validation loss is measured after
    // each epoch's update, the training loss before it); four epochs of descent, then ascent
    // (a negative learning rate): the validation curve falls until epoch 4
    // and rises after it.
    let data = regression(40, 5);
    let lrs = vec![0.05, 0.05, 0.05, 0.05, -0.05];
    let fit = |epochs| {
        Fit::epochs(epochs)
            .batch_size(40)
            .shuffle(false)
            .validation_data(&data)
            .schedule(Table(lrs.clone(), 0))
            .quiet()
    };
    let mut stopped = Reg::new();
    let history = stopped
        .fit(
            &data,
            fit(50).early_stopping(EarlyStopping::patience(3).restore_best()),
        )
        .unwrap();
    let val = history.val_losses();
    assert!(val[3] < val[2] && val[4] > val[3], "{val:?}");
    assert_eq!(
        history.epochs.len(),
        7,
        "stopped after epochs 5, 6, 7 without improvement"
    );
    assert_eq!(history.best_epoch, Some(4));
    match &history.stop {
        StopReason::EarlyStopping {
            monitor,
            best_epoch,
            epoch,
            patience,
            best,
        } => {
            assert_eq!(
                (*monitor, *best_epoch, *epoch, *patience),
                (Monitor::ValLoss, 4, 7, 3)
            );
            assert_eq!(*best, val[3]);
        }
        other => panic!("{other:?}"),
    }
    assert!(
        history.stop.to_string().contains("best"),
        "{}",
        history.stop
    );

    // The weights are exactly those after epoch 4.
    let mut four = Reg::new();
    four.fit(&data, fit(4)).unwrap();
    assert_eq!(weights(&stopped), weights(&four));
}

#[test]
fn early_stopping_watches_the_training_loss_without_validation() {
    let data = regression(40, 6);
    let mut model = Reg::new();
    let history = model
        .fit(
            &data,
            Fit::epochs(20)
                .batch_size(40)
                .schedule(Table(vec![0.05, 0.05, -0.05], 0))
                .early_stopping(EarlyStopping::patience(2))
                .quiet(),
        )
        .unwrap();
    assert!(
        matches!(
            history.stop,
            StopReason::EarlyStopping {
                monitor: Monitor::Loss,
                best_epoch: 3,
                epoch: 5,
                ..
            }
        ),
        "{:?}",
        history.stop
    );
}

#[test]
fn watching_what_is_not_computed_is_an_error() {
    let data = regression(40, 6);
    let err = Reg::new()
        .fit(
            &data,
            Fit::epochs(2)
                .early_stopping(EarlyStopping::patience(2).monitor(Monitor::ValLoss))
                .quiet(),
        )
        .unwrap_err();
    assert!(err.to_string().contains("needs validation data"), "{err}");
    let err = Reg::new()
        .fit(
            &data,
            Fit::epochs(2)
                .early_stopping(EarlyStopping::patience(2).monitor(Monitor::Metric(Metric::R2)))
                .quiet(),
        )
        .unwrap_err();
    assert!(
        err.to_string().contains("needs R2 among the metrics"),
        "{err}"
    );
}

#[test]
fn target_loss_names_what_it_watched() {
    let data = regression(100, 7);
    let mut model = Reg::new();
    let (history, lines) = run_log(|out| {
        model.fit(
            &data,
            Fit::epochs(100)
                .batch_size(10)
                .target_loss(0.01)
                .log_to(out),
        )
    });
    let n = history.epochs.len();
    assert!(n < 100);
    assert!(history.epochs[n - 1].loss <= 0.01 && history.epochs[n - 2].loss > 0.01);
    assert!(
        lines.last().unwrap().starts_with("Stopped: loss ")
            && lines
                .last()
                .unwrap()
                .contains(&format!("reached the target 0.01 at epoch {n}")),
        "{lines:?}"
    );

    let mut model = Reg::new();
    let history = model
        .fit(
            &data,
            Fit::epochs(100)
                .batch_size(10)
                .validation_split(0.2)
                .target_loss(0.01)
                .quiet(),
        )
        .unwrap();
    match history.stop {
        StopReason::TargetReached { monitor, value, .. } => {
            assert_eq!(monitor, Monitor::ValLoss);
            assert_eq!(Some(value), history.last().unwrap().val_loss);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_non_finite_loss_stops_with_its_epoch_and_batch() {
    let data = regression(40, 8);
    let mut model = Reg::new();
    let history = model
        .fit(
            &data,
            Fit::epochs(5)
                .batch_size(10)
                .shuffle(false)
                .schedule_every(Table(vec![1e200], 0), Interval::Iteration)
                .quiet(),
        )
        .unwrap();
    let StopReason::NonFinite { epoch, batch, loss } = history.stop else {
        panic!("{:?}", history.stop);
    };
    assert_eq!(epoch, 1);
    assert!(batch >= 2, "the first batch's loss is finite");
    assert!(!loss.is_finite());
    assert!(history.epochs.is_empty());
    assert!(history
        .stop
        .to_string()
        .contains(&format!("in epoch 1, batch {batch}")));

    // Opting out trains on through the NaN.
    let mut model = Reg::new();
    let history = model
        .fit(
            &data,
            Fit::epochs(2)
                .batch_size(10)
                .schedule_every(Table(vec![1e200], 0), Interval::Iteration)
                .stop_on_non_finite(false)
                .quiet(),
        )
        .unwrap();
    assert_eq!(history.epochs.len(), 2);
    assert!(!history.epochs[1].loss.is_finite());
}

#[test]
fn callbacks_see_every_epoch_and_batch_and_can_stop() {
    let data = regression(40, 9);
    let mut epochs = Vec::new();
    let mut batches = 0;
    let mut model = Reg::new();
    let history = model
        .fit(
            &data,
            Fit::epochs(10)
                .batch_size(10)
                .on_batch_end(|_| batches += 1)
                .on_epoch_end(|log| {
                    epochs.push(log.epoch);
                    log.epoch == 3
                })
                .quiet(),
        )
        .unwrap();
    assert_eq!(epochs, [1, 2, 3]);
    assert_eq!(batches, 12);
    assert_eq!(history.stop, StopReason::Callback { epoch: 3 });
}

#[test]
fn accumulating_two_half_batches_is_one_full_batch() {
    let data = regression(16, 10);
    let mut whole = Reg::new();
    whole
        .fit(&data, Fit::epochs(3).batch_size(16).shuffle(false).quiet())
        .unwrap();
    let mut halves = Reg::new();
    let history = halves
        .fit(
            &data,
            Fit::epochs(3)
                .batch_size(8)
                .accumulate(2)
                .shuffle(false)
                .quiet(),
        )
        .unwrap();
    assert_eq!(history.epochs[0].iterations, 1);
    for (a, b) in weights(&whole).iter().zip(weights(&halves)) {
        assert!((a - b).abs() < 1e-12, "{a} vs {b}");
    }
}

#[test]
fn clipping_by_norm_bounds_each_update() {
    let data = regression(32, 11);
    let mut model = Reg::new();
    let before = weights(&model);
    model
        .fit(
            &data,
            Fit::epochs(1).batch_size(32).clip(Clip::Norm(1e-3)).quiet(),
        )
        .unwrap();
    let moved: f64 = weights(&model)
        .iter()
        .zip(&before)
        .map(|(a, b)| (a - b) * (a - b))
        .sum::<f64>()
        .sqrt();
    // One update of lr 0.1 times a gradient of norm at most 1e-3.
    assert!(moved <= 0.1 * 1e-3 * (1.0 + 1e-9) && moved > 0.0, "{moved}");
}

#[test]
fn a_schedule_sets_each_epochs_learning_rate() {
    let data = regression(32, 12);
    let mut model = Reg::new();
    let (history, lines) = run_log(|out| {
        model.fit(
            &data,
            Fit::epochs(7)
                .batch_size(8)
                .schedule(StepLR::new(3, 0.5))
                .log_to(out),
        )
    });
    let lrs: Vec<f64> = history.epochs.iter().map(|e| e.lr).collect();
    assert_eq!(lrs, [0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025]);
    assert!(lines[1].ends_with(", LR: 1.0000e-1"), "{}", lines[1]);
}

#[test]
fn bad_settings_are_errors_before_the_first_batch() {
    let data = regression(20, 13);
    let before = weights(&Reg::new());
    let cases: Vec<(Fit<'_>, &str)> = vec![
        (Fit::epochs(1).validation_split(1.5), "found 1.5"),
        (Fit::epochs(1).validation_split(0.0), "found 0"),
        (Fit::epochs(1).validation_split(0.01), "holds out 0"),
        (Fit::epochs(1).accumulate(0), "found 0"),
        (Fit::epochs(1).target_loss(f64::NAN), "found NaN"),
        (Fit::epochs(1).clip(Clip::Norm(-1.0)), "found -1"),
        (Fit::epochs(1).batch_size(0), "found 0"),
    ];
    for (fit, needle) in cases {
        let mut model = Reg::new();
        let err = model.fit(&data, fit.quiet()).unwrap_err();
        assert!(matches!(err, Error::InvalidSetting { .. }), "{err:?}");
        assert!(err.to_string().contains(needle), "{err} lacks {needle}");
        assert_eq!(weights(&model), before, "nothing trained");
    }
    // Validation data of another model's shape.
    let wide = Dataset::regression(Array2::<f64>::zeros((4, 3)), Array2::zeros((4, 1))).unwrap();
    let err = Reg::new()
        .fit(&data, Fit::epochs(1).validation_data(&wide).quiet())
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::InputWidth {
                expected: 2,
                found: 3
            }
        ),
        "{err:?}"
    );
    // Validation data of another element type.
    let f32_data =
        Dataset::regression(Array2::<f32>::zeros((4, 2)), Array2::zeros((4, 1))).unwrap();
    let err = Reg::new()
        .fit(&data, Fit::epochs(1).validation_data(&f32_data).quiet())
        .unwrap_err();
    assert!(err.to_string().contains("Dataset<f64, Rows>"), "{err}");
}

#[test]
fn the_split_holds_out_the_same_rows_for_one_seed() {
    let data = regression(50, 14);
    let (a_train, a_val) = data.split(0.2, 3).unwrap();
    let (b_train, b_val) = data.split(0.2, 3).unwrap();
    assert_eq!(a_val.inputs(), b_val.inputs());
    assert_eq!(a_train.inputs(), b_train.inputs());
    assert_eq!((a_train.len(), a_val.len()), (40, 10));
    let (_, c_val) = data.split(0.2, 4).unwrap();
    assert_ne!(a_val.inputs(), c_val.inputs());
}

#[test]
fn the_readme_fit_example_runs() {
    use macrograd::schedule::{CosineAnnealingLR, LinearLR, SequentialLR};
    let data = regression(200, 15);
    let mut model = Reg::new();
    let history = model
        .fit(
            &data,
            Fit::epochs(200)
                .batch_size(32)
                .validation_split(0.2)
                .metrics(&[Metric::MAE, Metric::R2])
                .early_stopping(EarlyStopping::patience(10).min_delta(1e-4).restore_best())
                .target_loss(0.01)
                .schedule(SequentialLR::new(
                    vec![
                        Box::new(LinearLR::new().start_factor(0.1).total_iters(5)),
                        Box::new(CosineAnnealingLR::new(195)),
                    ],
                    [5],
                ))
                .clip(Clip::Norm(1.0))
                .accumulate(4)
                .on_epoch_end(|log| log.val_loss.is_some_and(|v| v < 1e-3))
                .quiet(),
        )
        .unwrap();
    assert!(
        matches!(
            history.stop,
            StopReason::TargetReached {
                monitor: Monitor::ValLoss,
                ..
            }
        ),
        "{}",
        history.stop
    );
    let lr = history.epochs[0].lr;
    assert!((lr - 0.01).abs() < 1e-15, "LinearLR's first factor: {lr}");
}

model! {
    struct Resumable;
    input 2;
    Linear(2, 8);
    ReLU;
    Linear(_, 3);
    loss CrossEntropy;
    optim Adam(lr = 0.02, amsgrad = true)
}

#[test]
fn a_resumed_run_is_the_run_that_never_stopped() {
    use macrograd::schedule::StepLR;
    let mut rng = Rng::new(21);
    let x: Array2<f32> = rng.randn((90, 2));
    let labels = (0..90)
        .map(|i| usize::from(x[[i, 0]] > 0.0) + usize::from(x[[i, 1]] > 0.5))
        .collect();
    let data = Dataset::classification(x, labels).unwrap();
    let dir = std::env::temp_dir().join(format!("macrograd-resume-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("run.safetensors");
    let fit = |epochs| {
        Fit::epochs(epochs)
            .batch_size(16)
            .seed(5)
            .validation_split(0.2)
            .schedule(StepLR::new(2, 0.5))
            .early_stopping(EarlyStopping::patience(100))
            .quiet()
    };
    let summary = |h: &History, m: &Resumable| {
        let logs: Vec<_> = h
            .epochs
            .iter()
            .map(|e| {
                (
                    e.epoch,
                    e.loss,
                    e.val_loss,
                    e.lr,
                    e.metrics.clone(),
                    e.val_metrics.clone(),
                )
            })
            .collect();
        let w: Vec<u32> = m
            .parameters()
            .iter()
            .flat_map(|p| p.value.iter().map(|v| v.to_bits()).collect::<Vec<_>>())
            .collect();
        (logs, w)
    };

    let mut straight = Resumable::with_seed(2);
    let whole = straight.fit(&data, fit(6)).unwrap();

    let mut first = Resumable::with_seed(2);
    first.fit(&data, fit(3).checkpoint_every(3, &path)).unwrap();
    let mut resumed = Resumable::with_seed(99); // other weights: all come from the file
    let rest = resumed.fit(&data, fit(6).resume_from(&path)).unwrap();

    assert_eq!(
        rest.epochs.len(),
        6,
        "the history holds the saved epochs too"
    );
    assert_eq!(summary(&rest, &resumed), summary(&whole, &straight));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_best_checkpoint_holds_the_best_epoch() {
    let data = regression(40, 16);
    let dir = std::env::temp_dir().join(format!("macrograd-best-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("best.safetensors");
    let mut model = Reg::new();
    let history = model
        .fit(
            &data,
            Fit::epochs(7)
                .batch_size(40)
                .shuffle(false)
                .validation_data(&data)
                .schedule(Table(vec![0.05, 0.05, 0.05, 0.05, -0.05], 0))
                .checkpoint_best(&path)
                .quiet(),
        )
        .unwrap();
    let mut best = Reg::new();
    let info = macrograd::io::load_checkpoint(&mut best, &path).unwrap();
    assert_eq!(info.epoch, 4, "{:?}", history.val_losses());
    let mut four = Reg::new();
    four.fit(
        &data,
        Fit::epochs(4)
            .batch_size(40)
            .shuffle(false)
            .validation_data(&data)
            .schedule(Table(vec![0.05], 0))
            .quiet(),
    )
    .unwrap();
    assert_eq!(weights(&best), weights(&four));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn resuming_from_a_missing_or_foreign_file_is_an_error_before_training() {
    let data = regression(20, 17);
    let mut model = Reg::new();
    let before = weights(&model);
    let err = model
        .fit(
            &data,
            Fit::epochs(2)
                .resume_from("/nonexistent/run.safetensors")
                .quiet(),
        )
        .unwrap_err();
    assert!(
        err.to_string().contains("/nonexistent/run.safetensors"),
        "{err}"
    );
    assert_eq!(weights(&model), before);
}
