//! The epoch loop around the four steps: validation, metrics, stopping,
//! schedules, accumulation, callbacks, output, determinism.

use crate::common::Tol;
use macrograd::metrics::Metric;
use macrograd::prelude::*;
use macrograd::schedule::{Interval, Scheduler, Setting, StepLR};
use macrograd::train::{Clip, EarlyStopping, Monitor, StopReason};
use macrograd::{Error, StateProblem};

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
    fn state(&self) -> Vec<f64> {
        vec![self.1 as f64]
    }
    fn load_state(&mut self, state: &[f64]) -> Result<(), macrograd::StateError> {
        self.1 = state[0] as usize;
        Ok(())
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
    assert_close!([rmse * rmse], [last.loss], Tol::Abs(1e-12));

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
    // each epoch's update, the training loss before it); four epochs of
    // descent, then a learning rate far past the stable limit (1 here: the
    // loss's curvature is about 2), which overshoots more each step: the
    // validation curve falls until epoch 4 and rises after it.
    let data = regression(40, 5);
    let lrs = vec![0.05, 0.05, 0.05, 0.05, 3.0];
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
                .schedule(Table(vec![0.05, 0.05, 3.0], 0))
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

/// A per-update schedule moves the rate after each step: a batch's log
/// holds the rate its update used, the schedule's value before that step.
#[test]
fn a_batch_log_holds_the_rate_of_its_own_update() {
    use macrograd::schedule::{OneCycleLR, Scheduler};
    let data = regression(40, 9);
    let mut seen = Vec::new();
    let mut model = Reg::new();
    model
        .fit(
            &data,
            Fit::epochs(2)
                .batch_size(10)
                .schedule(OneCycleLR::new(0.1, 8))
                .on_batch_end(|log| seen.push(log.lr))
                .quiet(),
        )
        .unwrap();
    let mut schedule = OneCycleLR::new(0.1, 8);
    let mut expected = vec![schedule.start(0.1, None).lr];
    expected.extend((1..8).map(|_| schedule.step(None).lr));
    assert_eq!(seen, expected);
    assert!((seen[0] - 0.1 / 25.0).abs() < 1e-15, "{}", seen[0]);
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
    assert_close!(weights(&whole), weights(&halves), Tol::Abs(1e-12));
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
            &err,
            Error::ValidationData(e) if matches!(**e, Error::InputWidth {
                expected: 2,
                found: 3
            })
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
                .schedule(Table(vec![0.05, 0.05, 0.05, 0.05, 3.0], 0))
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

/// The best epoch is the saved one and nothing after it improves: the
/// resumed run ends with the saved weights, as the run that never stopped.
#[test]
fn a_resumed_run_restores_the_best_epoch_it_resumed_from() {
    let data = regression(40, 16);
    let dir = std::env::temp_dir().join(format!("macrograd-best-resume-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("run.safetensors");
    let fit = |epochs| {
        Fit::epochs(epochs)
            .batch_size(40)
            .shuffle(false)
            .validation_data(&data)
            .schedule(Table(vec![0.05, 0.05, 0.05, 3.0], 0))
            .early_stopping(EarlyStopping::patience(10).restore_best())
            .stop_on_non_finite(false)
            .quiet()
    };
    let mut straight = Reg::new();
    let whole = straight.fit(&data, fit(6)).unwrap();
    assert_eq!(whole.best_epoch, Some(3), "{:?}", whole.val_losses());
    let mut three = Reg::new();
    three.fit(&data, fit(3).checkpoint_every(3, &path)).unwrap();
    let at_three = weights(&three);
    let mut resumed = Reg::with_seed(9);
    let rest = resumed.fit(&data, fit(6).resume_from(&path)).unwrap();
    assert_eq!(rest.best_epoch, Some(3));
    assert_eq!(weights(&resumed), at_three);
    assert_eq!(weights(&straight), at_three);
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

// ---------------------------------------------------------------------------
// `fit` against the same run written by hand.
//
// The plain loop below is the classic training loop with nothing cached: every
// batch is copied in by `forward`, every validation batch likewise. `fit`
// must give the same bits for every combination of full and partial
// batches, shuffling, validation (none, split, data), metrics and
// `drop_last`, so that no buffer it reuses can hold stale rows.

model! {
    struct Noisy;
    dtype f64;
    input 2;
    Linear(2, 6);
    ReLU;
    Dropout(0.3);
    Linear(_, 1);
    loss MSE;
    optim Adam(lr = 0.05)
}

/// One `fit` configuration, drawn at random.
#[derive(Clone, Copy, Debug)]
struct Plan {
    epochs: usize,
    batch: usize,
    shuffle: bool,
    drop_last: bool,
    seed: u64,
    /// 0: none, 1: `validation_split(0.25)`, 2: `validation_data`.
    validation: usize,
    metrics: bool,
}

impl Plan {
    fn draw(rng: &mut Rng, samples: usize) -> Plan {
        let batch = 1 + rng.below(samples + 4);
        let mut plan = Plan {
            epochs: 1 + rng.below(4),
            batch,
            shuffle: rng.below(2) == 1,
            drop_last: rng.below(2) == 1,
            seed: rng.next_u64(),
            validation: rng.below(3),
            metrics: rng.below(2) == 1,
        };
        if plan.validation == 1 && samples < 2 {
            plan.validation = 2;
        }
        plan
    }

    fn fit<'a>(
        &self,
        validation: &'a Dataset<f64, impl macrograd::target::Target<f64>>,
    ) -> Fit<'a> {
        let mut fit = Fit::epochs(self.epochs)
            .batch_size(self.batch)
            .shuffle(self.shuffle)
            .drop_last(self.drop_last)
            .seed(self.seed)
            .quiet();
        fit = match self.validation {
            1 => fit.validation_split(0.25),
            2 => fit.validation_data(validation),
            _ => fit,
        };
        if !self.metrics {
            fit = fit.metrics(&[]);
        }
        fit
    }
}

/// What an epoch reports: training loss, validation loss, the training
/// and validation metric (accuracy or MAE) when asked for.
type Epoch = (f64, Option<f64>, Option<f64>, Option<f64>);

/// The plain loop: for each epoch a permutation (or the stored order),
/// batches of `batch` rows copied by `forward`, loss, zero_grad, backward,
/// step; then the validation data in evaluation mode, in batches of the
/// same size. `loss` reads a batch's loss, `metric` adds a batch's metric
/// sum and count.
#[allow(clippy::type_complexity)]
fn plain_loop<M: Model<Elem = f64>>(
    model: &mut M,
    data: &Dataset<f64, M::Target>,
    validation: &Dataset<f64, M::Target>,
    plan: Plan,
    loss: &dyn Fn(&mut M, &Dataset<f64, M::Target>) -> f64,
    metric: &dyn Fn(ndarray::ArrayView2<'_, f64>, &Dataset<f64, M::Target>) -> (f64, f64),
) -> Vec<Epoch> {
    let (train, val) = match plan.validation {
        1 => {
            let (t, v) = data.split(0.25, plan.seed ^ 0x5EED_5EED_5EED_5EED).unwrap();
            (t, Some(v))
        }
        2 => (whole(data), Some(whole(validation))),
        _ => (whole(data), None),
    };
    let n = train.len();
    let batch = plan.batch.min(n);
    let iterations = if plan.drop_last {
        n / batch
    } else {
        n.div_ceil(batch)
    };
    let mut rng = Rng::new(plan.seed);
    let mut order: Vec<usize> = (0..n).collect();
    let mut epochs = Vec::new();
    for _ in 0..plan.epochs {
        if plan.shuffle {
            rng.permutation(&mut order);
        }
        let (mut sum, mut seen, mut m_sum, mut m_count) = (0.0, 0.0, 0.0, 0.0);
        for rows in order.chunks(batch).take(iterations) {
            let part = train.subset(rows);
            let out = model.forward(part.inputs());
            let (s, c) = metric(out, &part);
            m_sum += s;
            m_count += c;
            let l = loss(model, &part);
            model.zero_grad();
            model.backward();
            model.step();
            sum += l * rows.len() as f64;
            seen += rows.len() as f64;
        }
        let (val_loss, val_metric) = match &val {
            Some(v) => {
                model.set_training(false);
                let (mut vsum, mut vm_sum, mut vm_count) = (0.0, 0.0, 0.0);
                let all: Vec<usize> = (0..v.len()).collect();
                for rows in all.chunks(batch) {
                    let part = v.subset(rows);
                    let out = model.forward(part.inputs());
                    let (s, c) = metric(out, &part);
                    vm_sum += s;
                    vm_count += c;
                    vsum += loss(model, &part) * rows.len() as f64;
                }
                model.set_training(true);
                (Some(vsum / v.len() as f64), Some(vm_sum / vm_count))
            }
            None => (None, None),
        };
        let (m, vm) = if plan.metrics {
            (Some(m_sum / m_count), val_metric)
        } else {
            (None, None)
        };
        epochs.push((sum / seen, val_loss, m, vm));
    }
    epochs
}

fn whole<K: macrograd::target::Target<f64>>(data: &Dataset<f64, K>) -> Dataset<f64, K> {
    data.subset(&(0..data.len()).collect::<Vec<_>>())
}

fn reported(history: &History) -> Vec<Epoch> {
    history
        .epochs
        .iter()
        .map(|e| {
            (
                e.loss,
                e.val_loss,
                e.metrics.first().map(|m| m.1),
                e.val_metrics.first().map(|m| m.1),
            )
        })
        .collect()
}

/// Compares losses bit for bit and metrics to rounding (their sums are
/// kept in another order).
fn assert_same_run(by_fit: &[Epoch], by_hand: &[Epoch], what: &str) {
    assert_eq!(by_fit.len(), by_hand.len(), "{what}");
    for (k, (f, h)) in by_fit.iter().zip(by_hand).enumerate() {
        assert_eq!((f.0, f.1), (h.0, h.1), "epoch {}: {what}", k + 1);
        for (a, b) in [(f.2, h.2), (f.3, h.3)] {
            match (a, b) {
                (Some(a), Some(b)) => assert_close!([a], [b], Tol::Abs(1e-12)),
                (a, b) => assert_eq!(a.is_some(), b.is_some(), "epoch {}: {what}", k + 1),
            }
        }
    }
}

fn mae(
    out: ndarray::ArrayView2<'_, f64>,
    part: &Dataset<f64, macrograd::target::Rows>,
) -> (f64, f64) {
    let mut sum = 0.0;
    for (p, y) in out.iter().zip(part.targets().iter()) {
        sum += (p - y).abs();
    }
    (sum, out.len() as f64)
}

fn accuracy(
    out: ndarray::ArrayView2<'_, f64>,
    part: &Dataset<f64, macrograd::target::Classes>,
) -> (f64, f64) {
    let mut correct = 0.0;
    for (row, &label) in out.rows().into_iter().zip(part.targets()) {
        let mut best = 0;
        for (j, &v) in row.iter().enumerate() {
            if v > row[best] {
                best = j;
            }
        }
        correct += f64::from(u8::from(best == label));
    }
    (correct, out.nrows() as f64)
}

#[test]
fn one_full_unshuffled_batch_trains_on_its_own_rows_with_validation() {
    let data = regression(20, 31);
    let other = regression(7, 32);
    let fit = |validation: bool| {
        let mut model = Reg::new();
        let mut fit = Fit::epochs(4).batch_size(20).shuffle(false).quiet();
        if validation {
            fit = fit.validation_data(&other);
        }
        let h = model.fit(&data, fit).unwrap();
        (h.losses(), weights(&model))
    };
    assert_eq!(fit(true), fit(false));
}

#[test]
fn fit_is_the_plain_loop_for_random_settings() {
    let mut rng = Rng::new(2026);
    // The first 96 cases are every combination of full or partial batches,
    // shuffling, `drop_last`, metrics and validation (none, split, data),
    // twice; the rest are drawn at random.
    for case in 0..200 {
        let samples = if case < 96 {
            3 + rng.below(28)
        } else {
            1 + rng.below(30)
        };
        let data = regression(samples, rng.next_u64());
        let validation = regression(1 + rng.below(12), rng.next_u64());
        let labelled = classes(samples, rng.next_u64());
        let labelled_validation = classes(1 + rng.below(12), rng.next_u64());
        let mut plan = Plan::draw(&mut rng, samples);
        if case < 96 {
            let c = case % 48;
            plan.shuffle = c % 2 == 1;
            plan.drop_last = (c / 2) % 2 == 1;
            plan.metrics = (c / 4) % 2 == 1;
            plan.validation = (c / 8) % 3;
            plan.batch = if c / 24 == 1 {
                samples + rng.below(4)
            } else {
                1 + rng.below(samples - 1)
            };
        }
        let what = format!("case {case}: {samples} samples, {plan:?}");
        let seed = rng.next_u64();
        let trained = match plan.validation {
            1 => samples - (0.25 * samples as f64).round() as usize,
            _ => samples,
        };
        if plan.drop_last && plan.batch > trained {
            // No batch would be left: an error before training, not an
            // empty run.
            let mut model = Reg::with_seed(seed);
            let before = weights(&model);
            let err = model.fit(&data, plan.fit(&validation)).unwrap_err();
            assert!(err.to_string().contains("drop_last"), "{err}: {what}");
            assert_eq!(weights(&model), before, "{what}");
            continue;
        }

        let mae_only = [macrograd::metrics::Metric::MAE];
        let loss = |m: &mut _, d: &Dataset<f64, _>| Reg::loss(m, d.targets());
        let run = Run {
            plan,
            seed,
            what: &what,
        };
        run.check(Reg::with_seed, &data, &validation, &mae_only, &loss, &mae);
        let loss = |m: &mut _, d: &Dataset<f64, _>| Noisy::loss(m, d.targets());
        run.check(Noisy::with_seed, &data, &validation, &mae_only, &loss, &mae);
        let loss = |m: &mut _, d: &Dataset<f64, _>| Clf::loss(m, d.targets());
        let accuracy_only = [macrograd::metrics::Metric::Accuracy];
        run.check(
            Clf::with_seed,
            &labelled,
            &labelled_validation,
            &accuracy_only,
            &loss,
            &accuracy,
        );
    }
}

/// One case of [`fit_is_the_plain_loop_for_random_settings`].
struct Run<'a> {
    plan: Plan,
    seed: u64,
    what: &'a str,
}

impl Run<'_> {
    /// Trains a model from `new(seed)` by `fit` (with `metrics` when the
    /// plan asks for metrics) and another by [`plain_loop`]; their epochs
    /// and final weights must agree.
    #[allow(clippy::type_complexity)]
    fn check<M: Model<Elem = f64>>(
        &self,
        new: fn(u64) -> M,
        data: &Dataset<f64, M::Target>,
        validation: &Dataset<f64, M::Target>,
        metrics: &[macrograd::metrics::Metric],
        loss: &dyn Fn(&mut M, &Dataset<f64, M::Target>) -> f64,
        metric: &dyn Fn(ndarray::ArrayView2<'_, f64>, &Dataset<f64, M::Target>) -> (f64, f64),
    ) {
        let what = format!("{}, {}", std::any::type_name::<M>(), self.what);
        let mut a = new(self.seed);
        let mut fit = self.plan.fit(validation);
        if self.plan.metrics {
            fit = fit.metrics(metrics);
        }
        let by_fit = reported(&a.fit(data, fit).unwrap());
        let mut b = new(self.seed);
        let by_hand = plain_loop(&mut b, data, validation, self.plan, loss, metric);
        assert_same_run(&by_fit, &by_hand, &what);
        assert_eq!(weights(&a), weights(&b), "{what}");
    }
}

// ---------------------------------------------------------------------------
// Settings and files that cannot make a run: errors before the first
// batch, with the model left as it was.

model! {
    struct Normed;
    dtype f64;
    input 2;
    Linear(2, 4);
    BatchNorm;
    ReLU;
    Linear(_, 1);
    loss MSE;
    optim SGD(0.05)
}

model! {
    struct WithMomentum;
    dtype f64;
    input 2;
    Linear(2, 1);
    loss MSE;
    optim SGD(0.1, momentum = 0.9)
}

model! {
    struct Binary;
    dtype f64;
    input 2;
    Linear(2, 1);
    loss BCE;
    optim SGD(0.1)
}

fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("macrograd-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn invalid_setting(err: &Error) -> (&'static str, String) {
    match err {
        Error::InvalidSetting { name, message } => (name, message.clone()),
        other => panic!("expected an invalid setting, found {other:?}"),
    }
}

#[test]
fn resuming_a_run_that_has_its_epochs_is_an_error() {
    let data = regression(20, 40);
    let dir = scratch("resume-epochs");
    let path = dir.join("run.safetensors");
    Reg::new()
        .fit(&data, Fit::epochs(3).checkpoint_every(1, &path).quiet())
        .unwrap();
    for epochs in [1, 3] {
        let mut model = Reg::with_seed(5);
        let before = weights(&model);
        let err = model
            .fit(&data, Fit::epochs(epochs).resume_from(&path).quiet())
            .unwrap_err();
        let (name, message) = invalid_setting(&err);
        assert_eq!(name, "resume_from");
        assert!(
            message.contains(&format!(
                "saved after epoch 3, so `epochs({epochs})` leaves nothing to train"
            )),
            "{message}"
        );
        assert_eq!(weights(&model), before, "the model took nothing");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_checkpoint_whose_epoch_or_history_is_wrong_is_refused() {
    use macrograd::io::{save_checkpoint, CheckpointInfo};
    let data = regression(20, 41);
    let dir = scratch("resume-info");
    let path = dir.join("run.safetensors");
    let mut trained = Reg::new();
    let history = trained.fit(&data, Fit::epochs(2).quiet()).unwrap();
    let info = |epoch: usize, history: String| CheckpointInfo {
        epoch,
        rng_state: 7,
        scheduler: None,
        history,
        metadata: Default::default(),
    };
    let cases = [
        (info(usize::MAX, String::new()), "leaves nothing to train"),
        (
            info(3, history.to_json()),
            "the history holds epochs 2 epochs, 1 to 2, but the checkpoint was saved after epoch 3",
        ),
        (
            info(1, history.to_json()),
            "saved after epoch 1: expected epochs 1 to 1 in order",
        ),
    ];
    for (info, needle) in cases {
        save_checkpoint(&trained, &path, &info).unwrap();
        let mut model = Reg::with_seed(9);
        let before = weights(&model);
        let err = model
            .fit(&data, Fit::epochs(5).resume_from(&path).quiet())
            .unwrap_err();
        assert!(err.to_string().contains(needle), "{err}");
        assert_eq!(weights(&model), before);
    }
    // Stopping state that `fit` did not write.
    let mut metadata = std::collections::BTreeMap::new();
    metadata.insert("early_stopping.waited".to_string(), "9".to_string());
    let bad = CheckpointInfo {
        metadata,
        ..info(2, history.to_json())
    };
    save_checkpoint(&trained, &path, &bad).unwrap();
    let err = Reg::new()
        .fit(&data, Fit::epochs(5).resume_from(&path).quiet())
        .unwrap_err();
    assert!(
        err.to_string().contains(
            "`meta.early_stopping.waited` is not a number of epochs up to the saved epoch 2"
        ),
        "{err}"
    );
    // A schedule's state without a schedule, and the other way round.
    save_checkpoint(
        &trained,
        &path,
        &CheckpointInfo {
            scheduler: Some(vec![1.0]),
            ..info(2, history.to_json())
        },
    )
    .unwrap();
    let err = Reg::new()
        .fit(&data, Fit::epochs(5).resume_from(&path).quiet())
        .unwrap_err();
    assert!(
        err.to_string().contains("this run has no schedule"),
        "{err}"
    );
    save_checkpoint(&trained, &path, &info(2, history.to_json())).unwrap();
    let err = Reg::new()
        .fit(
            &data,
            Fit::epochs(5)
                .resume_from(&path)
                .schedule(StepLR::new(1, 0.5))
                .quiet(),
        )
        .unwrap_err();
    assert!(
        err.to_string().contains("saved without a schedule"),
        "{err}"
    );
    // The same file resumes a run that matches it.
    let resumed = Reg::new()
        .fit(&data, Fit::epochs(3).resume_from(&path).quiet())
        .unwrap();
    assert_eq!(resumed.epochs.len(), 3);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_checkpoint_of_another_optimizer_declaration_is_refused() {
    let data = regression(20, 42);
    let dir = scratch("resume-declared");
    let path = dir.join("run.safetensors");
    // `Reg` is `SGD(0.1)`: resuming it with momentum would drop the
    // momentum the run never had, or invent a run that never was.
    Reg::new()
        .fit(&data, Fit::epochs(1).checkpoint_every(1, &path).quiet())
        .unwrap();
    let mut model = WithMomentum::new();
    let before = weights(&model);
    let err = model
        .fit(&data, Fit::epochs(2).resume_from(&path).quiet())
        .unwrap_err();
    match &err {
        Error::State {
            path: named,
            source,
        } => {
            assert_eq!(named, &path.display().to_string());
            assert_eq!(source.owner, "SGD");
            assert!(source.problems.contains(&StateProblem::Declared {
                name: "momentum".into(),
                saved: 0.0,
                declared: 0.9
            }));
        }
        other => panic!("expected a state error, found {other:?}"),
    }
    assert!(
        err.to_string().contains(
            "the state was saved by an optimizer declared with momentum = 0.0, this one is declared with momentum = 0.9"
        ),
        "{err}"
    );
    assert_eq!(weights(&model), before);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_checkpoint_folder_that_does_not_exist_is_an_error_before_training() {
    let data = regression(20, 43);
    let missing = std::env::temp_dir()
        .join(format!("macrograd-missing-{}", std::process::id()))
        .join("run.safetensors");
    for fit in [
        Fit::epochs(2).checkpoint_every(1, &missing),
        Fit::epochs(2).checkpoint_best(&missing),
    ] {
        let mut model = Reg::new();
        let before = weights(&model);
        let err = model.fit(&data, fit.quiet()).unwrap_err();
        let (name, message) = invalid_setting(&err);
        assert!(name.starts_with("checkpoint_"), "{name}");
        assert!(message.contains("does not exist"), "{message}");
        assert_eq!(weights(&model), before);
    }
    let folder = scratch("checkpoint-folder");
    let err = Reg::new()
        .fit(&data, Fit::epochs(1).checkpoint_every(1, &folder).quiet())
        .unwrap_err();
    assert!(err.to_string().contains("is a folder, not a file"), "{err}");
    std::fs::remove_dir_all(&folder).unwrap();
}

#[test]
fn batch_norm_batches_of_one_sample_are_an_error_before_training() {
    assert_eq!(<Normed as Model>::MIN_TRAINING_BATCH, 2);
    assert_eq!(<Reg as Model>::MIN_TRAINING_BATCH, 1);
    let data = regression(33, 44);
    let mut model = Normed::new();
    let before = weights(&model);
    for (fit, needle) in [
        (
            Fit::epochs(2).batch_size(32),
            "33 samples in batches of 32 leave the last batch with 1",
        ),
        (
            Fit::epochs(2).batch_size(1).drop_last(true),
            "33 samples in batches of 1 leave every batch with 1",
        ),
    ] {
        let err = model.fit(&data, fit.quiet()).unwrap_err();
        let (name, message) = invalid_setting(&err);
        assert_eq!(name, "batch_size");
        assert!(message.contains(needle), "{message}");
        assert!(message.contains("drop_last(true)"), "{message}");
        assert_eq!(weights(&model), before);
    }
    // Dropping the last batch, or a size that leaves 2, trains; so does a
    // validation batch of one (evaluation uses the running statistics).
    let validation = regression(1, 45);
    for fit in [
        Fit::epochs(2).batch_size(32).drop_last(true),
        Fit::epochs(2).batch_size(31).validation_data(&validation),
    ] {
        Normed::new().fit(&data, fit.quiet()).unwrap();
    }
}

#[test]
fn bce_targets_outside_zero_one_are_refused() {
    let x = Array2::<f64>::zeros((4, 2));
    let good = Dataset::regression(x.clone(), array![[0.0], [1.0], [0.25], [1.0]]).unwrap();
    let bad = Dataset::regression(x, array![[0.0], [1.0], [1.5], [-0.1]]).unwrap();
    let mut model = Binary::new();
    let err = model.fit(&bad, Fit::epochs(1).quiet()).unwrap_err();
    assert!(
        matches!(err, Error::TargetOutOfRange { row: 2, column: 0, value, .. } if value == 1.5),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "target 1.5 at sample 2, column 0 is outside [0, 1], which BCE needs"
    );
    let err = model
        .fit(&good, Fit::epochs(1).validation_data(&bad).quiet())
        .unwrap_err();
    assert!(
        matches!(&err, Error::ValidationData(e) if matches!(**e, Error::TargetOutOfRange { .. })),
        "{err:?}"
    );
    assert!(model.evaluate(&bad).is_err());
    // Regression models read any finite target.
    Reg::new().fit(&bad, Fit::epochs(1).quiet()).unwrap();
}

#[test]
fn empty_validation_data_names_the_validation_data() {
    let data = regression(10, 46);
    let empty = Dataset::regression(Array2::<f64>::zeros((0, 2)), Array2::zeros((0, 1))).unwrap();
    let err = Reg::new()
        .fit(&data, Fit::epochs(1).validation_data(&empty).quiet())
        .unwrap_err();
    assert!(matches!(&err, Error::ValidationData(e) if matches!(**e, Error::EmptyDataset)));
    assert_eq!(
        err.to_string(),
        "validation data: the dataset is empty: expected at least one sample"
    );
}

#[test]
fn a_schedule_that_sets_a_negative_learning_rate_stops_with_an_error() {
    let data = regression(10, 47);
    let err = Reg::new()
        .fit(
            &data,
            Fit::epochs(4)
                .schedule(Table(vec![0.1, 0.1, -0.1], 0))
                .quiet(),
        )
        .unwrap_err();
    let (name, message) = invalid_setting(&err);
    assert_eq!(name, "schedule");
    assert!(
        message.contains("its `step` set the learning rate to -0.1"),
        "{message}"
    );
}

model! {
    struct Cancer;
    input 30;
    Linear(_, 8);
    ReLU;
    Linear(_, 1);
    loss BCE;
    optim Adam(lr = 0.01)
}

/// A two-class dataset trains a one-output BCE model as it is: the same
/// run, bit for bit, as with its labels converted by hand to rows of 0.0
/// and 1.0, validation and evaluation included.
#[test]
fn a_two_class_dataset_trains_a_bce_model_directly() {
    let (cancer, _) = macrograd::datasets::breast_cancer();
    let (mut train, mut test) = cancer.stratified_train_test_split(0.25, 3).unwrap();
    let scale = Standardize::fit(&train);
    scale.transform(&mut train).unwrap();
    scale.transform(&mut test).unwrap();
    let rows = |d: &Dataset<f32, macrograd::target::Classes>| {
        let y = Array2::from_shape_fn((d.len(), 1), |(i, _)| d.targets()[i] as f32);
        Dataset::regression(d.inputs().to_owned(), y).unwrap()
    };
    let settings = || Fit::epochs(4).batch_size(32).seed(2).quiet();

    let mut direct = Cancer::with_seed(1);
    let by_labels = direct
        .fit(&train, settings().validation_data(&test))
        .unwrap();
    let mut by_hand = Cancer::with_seed(1);
    let test_rows = rows(&test);
    let by_rows = by_hand
        .fit(&rows(&train), settings().validation_data(&test_rows))
        .unwrap();
    let losses = |h: &History| -> Vec<(u64, u64)> {
        h.epochs
            .iter()
            .map(|e| (e.loss.to_bits(), e.val_loss.unwrap().to_bits()))
            .collect()
    };
    assert_eq!(losses(&by_labels), losses(&by_rows));
    let result = direct.evaluate(&test).unwrap();
    assert_eq!(result, by_hand.evaluate(&test_rows).unwrap());
    assert!(result.accuracy().unwrap() > 0.9, "{result}");
}

/// Labels a BCE model cannot read, and labels for a regressor, are errors
/// before training that say what is wrong.
#[test]
fn labels_a_model_of_rows_cannot_read_are_errors() {
    let x = Array2::<f32>::zeros((4, 30));
    let three = Dataset::classification(x.clone(), vec![0, 1, 2, 1]).unwrap();
    let mut model = Cancer::new();
    let before: Vec<f32> = model
        .parameters()
        .iter()
        .flat_map(|p| p.value.iter().copied())
        .collect();
    let err = model.fit(&three, Fit::epochs(1).quiet()).unwrap_err();
    assert!(
        matches!(
            err,
            Error::LabelOutOfRange {
                row: 2,
                label: 2,
                classes: 2
            }
        ),
        "{err:?}"
    );
    let after: Vec<f32> = model
        .parameters()
        .iter()
        .flat_map(|p| p.value.iter().copied())
        .collect();
    assert_eq!(after, before);
    let two = Dataset::classification(x, vec![0, 1, 1, 0]).unwrap();
    let err = Cancer::new()
        .fit(&two, Fit::epochs(1).validation_data(&three).quiet())
        .unwrap_err();
    assert!(
        matches!(&err, Error::ValidationData(e) if matches!(**e, Error::LabelOutOfRange { .. })),
        "{err:?}"
    );

    let labels = Dataset::classification(Array2::<f64>::zeros((3, 2)), vec![0, 1, 0]).unwrap();
    let err = Reg::new().fit(&labels, Fit::epochs(1).quiet()).unwrap_err();
    match err {
        Error::InvalidSetting {
            name: "targets",
            message,
        } => {
            assert!(message.contains("Dataset::regression"), "{message}")
        }
        other => panic!("expected an invalid setting, found {other:?}"),
    }
}
