//! Data-parallel `fit` on processes played by threads (`common::threads`):
//! P processes with global batch B train as one process with batch B does
//! (losses and weights to 1e-12 relative in f64), every process holds the
//! same weights, bit for bit, after every epoch; validation, metrics,
//! early stopping and checkpoints are global; settings that cannot work
//! are an error on every process before the first batch; a failure on one
//! process is an error on all, never a hang. The same runs on MPI
//! processes are `tests/distributed.rs` (feature `mpi`, under `mpiexec`).

use crate::common;

use common::files::temp_dir;
use common::threads;

use macrograd::distributed::Collective;
use macrograd::history::StopReason;
use macrograd::io::{load_checkpoint, CheckpointInfo};
use macrograd::prelude::*;
use macrograd::Model;

model! {
    struct Net;
    dtype f64;
    input 3;
    Linear(_, 8);
    Tanh;
    Linear(_, 2);
    loss MSE;
    optim Adam(0.01)
}

model! {
    /// Batch norm: per-process batch statistics, rank 0's running ones.
    struct Normed;
    dtype f64;
    input 3;
    Linear(_, 6);
    BatchNorm;
    ReLU;
    Linear(_, 3);
    loss CrossEntropy;
    optim SGD(0.1, momentum = 0.9)
}

fn regression(n: usize) -> Dataset<f64, macrograd::target::Rows> {
    let mut rng = Rng::new(11);
    let x: Array2<f64> = rng.randn((n, 3));
    let y = Array2::from_shape_fn((n, 2), |(i, j)| {
        (x[[i, 0]] * (j as f64 + 1.0)).sin() + 0.5 * x[[i, 1]] * x[[i, 2]]
    });
    Dataset::regression(x, y).unwrap()
}

fn classification(n: usize) -> Dataset<f64, macrograd::target::Classes> {
    let mut rng = Rng::new(5);
    let x: Array2<f64> = rng.randn((n, 3));
    let labels = (0..n)
        .map(|i| usize::from(x[[i, 0]] > 0.0) + usize::from(x[[i, 1]] > 0.5))
        .collect();
    Dataset::classification(x, labels).unwrap()
}

fn weights<M: Model<Elem = f64>>(model: &M) -> Vec<f64> {
    let mut all = Vec::new();
    model.visit_parameters(&mut |p| all.extend(p.value.iter().copied()));
    model.visit_buffers(&mut |b| {
        if let macrograd::model::BufferValue::Float(v) = b.value {
            all.extend(v.iter().copied());
        }
    });
    all
}

fn assert_rel(a: &[f64], b: &[f64], rel: f64, what: &str) {
    assert_eq!(a.len(), b.len(), "{what}");
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        assert!(
            (x - y).abs() <= rel * y.abs().max(1.0),
            "{what}[{i}]: {x} vs {y}"
        );
    }
}

/// Epoch after epoch (each a `fit` of one epoch with its own seed), the
/// losses and weights of `processes` threads against one process.
fn equivalent(processes: usize, batch: usize, samples: usize) {
    let data = regression(samples);
    let fit = |seed: u64| {
        Fit::epochs(1)
            .batch_size(batch)
            .seed(seed)
            .validation_split(0.25)
            .metrics(&[macrograd::metrics::Metric::MAE])
            .quiet()
    };
    let mut single = Net::with_seed(3);
    let mut expected = Vec::new();
    for epoch in 0..4 {
        let h = single.fit(&data, fit(epoch)).unwrap();
        expected.push((h.epochs[0].clone(), weights(&single)));
    }
    let runs = threads::run(processes, |world| {
        let mut model = Net::with_seed(3);
        let mut epochs = Vec::new();
        for epoch in 0..4 {
            let h = model.fit(&data, fit(epoch).distributed(world)).unwrap();
            epochs.push((h.epochs[0].clone(), weights(&model)));
        }
        epochs
    });
    for (epoch, (log, w)) in expected.iter().enumerate() {
        for (rank, run) in runs.iter().enumerate() {
            let (theirs, their_w) = &run[epoch];
            let what = format!("{processes} processes, batch {batch}, epoch {epoch}, rank {rank}");
            assert_rel(&[theirs.loss], &[log.loss], 1e-12, &format!("{what}: loss"));
            assert_rel(
                &[theirs.val_loss.unwrap()],
                &[log.val_loss.unwrap()],
                1e-12,
                &format!("{what}: val_loss"),
            );
            let (a, b) = (theirs.metrics[0].1, log.metrics[0].1);
            assert_rel(&[a], &[b], 1e-12, &format!("{what}: MAE"));
            assert_rel(their_w, w, 1e-12, &format!("{what}: weights"));
            // Every process the same bits.
            assert_eq!(
                their_w, &runs[0][epoch].1,
                "{what}: weights differ from rank 0's"
            );
        }
    }
}

#[test]
fn processes_train_as_one_process_with_the_whole_batch() {
    equivalent(2, 16, 50); // 38 training samples: batches 16, 16, 6
    equivalent(3, 10, 44); // 33: 10, 10, 10, 3 (each shard one sample)
    equivalent(2, 64, 40); // one batch of all 30
}

#[test]
fn batch_norm_keeps_rank_zero_running_statistics_on_every_process() {
    let data = classification(48);
    let runs = threads::run(2, |world| {
        let mut model = Normed::with_seed(1);
        let h = model
            .fit(
                &data,
                Fit::epochs(3).batch_size(12).quiet().distributed(world),
            )
            .unwrap();
        (h.losses(), weights(&model))
    });
    assert_eq!(runs[0], runs[1], "the same losses and weights on both");
    // Per-process batch statistics: not the single process's run.
    let mut single = Normed::with_seed(1);
    let h = single
        .fit(&data, Fit::epochs(3).batch_size(12).quiet())
        .unwrap();
    assert_ne!(h.losses(), runs[0].0);
}

#[test]
fn synchronised_batch_norm_trains_as_one_process_with_the_whole_batch() {
    // 50 samples in batches of 12: 12, 12, 12, 12, 2, cut unequally among
    // 3 processes (4, 4, 4 and 1, 1, 0 + ...): the statistics and their
    // gradients are the whole batch's all the same.
    for (processes, batch) in [(2, 12), (3, 11)] {
        let data = classification(50);
        let fit = || {
            Fit::epochs(3)
                .batch_size(batch)
                .validation_split(0.2)
                .quiet()
        };
        let mut single = Normed::with_seed(4);
        let expected = single.fit(&data, fit()).unwrap();
        let runs = threads::run(processes, |world| {
            let mut model = Normed::with_seed(4);
            let h = model
                .fit(&data, fit().sync_batch_norm(true).distributed(world))
                .unwrap();
            (h.losses(), h.val_losses(), weights(&model))
        });
        for (rank, (losses, val, w)) in runs.iter().enumerate() {
            let what = format!("{processes} processes, rank {rank}");
            assert_rel(
                losses,
                &expected.losses(),
                1e-12,
                &format!("{what}: losses"),
            );
            assert_rel(
                val,
                &expected.val_losses(),
                1e-12,
                &format!("{what}: val losses"),
            );
            assert_rel(
                w,
                &weights(&single),
                1e-12,
                &format!("{what}: weights and statistics"),
            );
            assert_eq!(w, &runs[0].2, "{what}: the same bits as rank 0");
        }
    }
}

#[test]
fn batch_norm_on_each_process_needs_its_samples_on_each_process() {
    // Batches of 4 on 3 processes leave a shard of 1 sample, whose batch
    // variance does not exist: an error unless synchronised.
    let data = classification(24);
    let errors = threads::run(3, |world| {
        Normed::new()
            .fit(
                &data,
                Fit::epochs(1).batch_size(4).quiet().distributed(world),
            )
            .unwrap_err()
            .to_string()
    });
    for e in errors {
        assert!(
            e.contains("needs at least 2 samples on each process"),
            "{e}"
        );
    }
    let ok = threads::run(3, |world| {
        Normed::new()
            .fit(
                &data,
                Fit::epochs(1)
                    .batch_size(4)
                    .quiet()
                    .sync_batch_norm(true)
                    .distributed(world),
            )
            .is_ok()
    });
    assert_eq!(ok, [true, true, true]);
}

#[test]
fn early_stopping_and_the_history_are_the_same_on_every_process() {
    let data = regression(60);
    let runs = threads::run(2, |world| {
        let mut model = Net::with_seed(2);
        let h = model
            .fit(
                &data,
                Fit::epochs(200)
                    .batch_size(10)
                    .validation_split(0.3)
                    .early_stopping(EarlyStopping::patience(3).restore_best())
                    .quiet()
                    .distributed(world),
            )
            .unwrap();
        (h.losses(), h.stop, h.best_epoch, weights(&model))
    });
    assert!(
        matches!(runs[0].1, StopReason::EarlyStopping { .. }),
        "{:?}",
        runs[0].1
    );
    assert_eq!(runs[0], runs[1]);
}

#[test]
fn a_callback_that_stops_one_process_stops_all() {
    let data = regression(40);
    let runs = threads::run(2, |world| {
        let rank = world.rank();
        let mut model = Net::new();
        model
            .fit(
                &data,
                Fit::epochs(10)
                    .batch_size(8)
                    .quiet()
                    .on_epoch_end(move |log| {
                        if rank == 1 && log.epoch == 3 {
                            macrograd::train::Control::Stop
                        } else {
                            macrograd::train::Control::Continue
                        }
                    })
                    .distributed(world),
            )
            .unwrap()
            .epochs
            .len()
    });
    assert_eq!(runs, [3, 3]);
}

#[test]
fn settings_that_cannot_work_are_an_error_on_every_process() {
    let data = regression(21);
    type Settings = fn() -> Fit<'static>;
    let cases: [(&str, Settings); 3] = [
        ("a batch of 2 samples cannot be split among 3", || {
            Fit::epochs(1).batch_size(2)
        }),
        ("the last batch of each epoch holds 1", || {
            Fit::epochs(1).batch_size(10)
        }),
        ("gradient accumulation", || {
            Fit::epochs(1).batch_size(9).accumulate(2)
        }),
    ];
    for (expected, fit) in cases {
        let errors = threads::run(3, |world| {
            let mut model = Net::new();
            let before = weights(&model);
            let e = model
                .fit(&data, fit().quiet().distributed(world))
                .unwrap_err()
                .to_string();
            assert_eq!(weights(&model), before, "nothing trained");
            e
        });
        for e in errors {
            assert!(e.contains(expected), "{e}");
        }
    }
    // The tail is fine when dropped.
    let ok = threads::run(3, |world| {
        let mut model = Net::new();
        model
            .fit(
                &data,
                Fit::epochs(1)
                    .batch_size(10)
                    .drop_last(true)
                    .quiet()
                    .distributed(world),
            )
            .is_ok()
    });
    assert_eq!(ok, [true, true, true]);
}

#[test]
fn processes_with_different_settings_refuse_to_train() {
    let data = regression(30);
    let dir = temp_dir("distributed-settings");
    let path = dir.join("run.ckpt");
    let errors = threads::run(2, |world| {
        let fit = Fit::epochs(2).batch_size(10).quiet();
        // A checkpoint on rank 0 only: rank 1 would not wait for it.
        let fit = if world.rank() == 0 {
            fit.checkpoint_every(1, &path)
        } else {
            fit
        };
        Net::new()
            .fit(&data, fit.distributed(world))
            .unwrap_err()
            .to_string()
    });
    for e in errors {
        assert!(
            e.contains("checkpoint_every=Some(1) on process 0, checkpoint_every=None on process 1"),
            "{e}"
        );
    }
    // A callback on one process only is fine: the processes agree on
    // every batch and epoch whether or not each has one.
    let stopped = threads::run(2, |world| {
        let fit = Fit::epochs(5).batch_size(10).quiet();
        let fit = if world.rank() == 1 {
            fit.on_batch_end(|log| {
                if log.epoch == 2 && log.batch == 2 {
                    macrograd::train::Control::Stop
                } else {
                    macrograd::train::Control::Continue
                }
            })
        } else {
            fit
        };
        let h = Net::new().fit(&data, fit.distributed(world)).unwrap();
        h.stop
    });
    assert_eq!(stopped[0], StopReason::Callback { epoch: 2 });
    assert_eq!(stopped[0], stopped[1]);
}

#[test]
fn a_loss_that_diverges_stops_every_process_at_the_same_batch() {
    model! {
        struct Wild;
        dtype f64;
        input 3;
        Linear(_, 2);
        loss MSE;
        optim SGD(1e8)
    }
    let data = regression(40);
    let stops = threads::run(2, |world| {
        Wild::new()
            .fit(
                &data,
                Fit::epochs(50).batch_size(10).quiet().distributed(world),
            )
            .unwrap()
            .stop
    });
    assert!(
        matches!(stops[0], StopReason::NonFinite { .. }),
        "{:?}",
        stops[0]
    );
    assert_eq!(stops[0], stops[1]);
}

#[test]
fn processes_with_different_data_refuse_to_train() {
    let a = regression(30);
    let b = regression(31);
    let errors = threads::run(2, |world| {
        let data = if world.rank() == 0 { &a } else { &b };
        Net::new()
            .fit(
                data,
                Fit::epochs(1).batch_size(10).quiet().distributed(world),
            )
            .unwrap_err()
            .to_string()
    });
    for e in errors {
        assert!(e.contains("different training data"), "{e}");
        assert!(e.contains("process 1 has 31 samples"), "{e}");
    }
}

#[test]
fn one_process_failing_is_an_error_on_every_process() {
    // Invalid data on one process only: its check fails before training,
    // and the other learns of it instead of waiting.
    let good = regression(20);
    let mut bad_x = good.inputs().to_owned();
    bad_x[[3, 1]] = f64::NAN;
    let bad = Dataset::regression(bad_x, good.targets().clone());
    assert!(bad.is_err(), "a dataset refuses NaN itself");
    // A checkpoint rank 0 cannot write, mid-run: the folder vanishes.
    let dir = temp_dir("distributed-failure");
    let path = dir.join("run.ckpt");
    let data = regression(40);
    let errors = threads::run(2, |world| {
        let rank = world.rank();
        let dir = dir.clone();
        Net::new()
            .fit(
                &data,
                Fit::epochs(5)
                    .batch_size(10)
                    .quiet()
                    .checkpoint_every(1, &path)
                    .on_epoch_end(move |log| {
                        if rank == 0 && log.epoch == 2 {
                            std::fs::remove_dir_all(&dir).unwrap();
                        }
                        macrograd::train::Control::Continue
                    })
                    .distributed(world),
            )
            .unwrap_err()
    });
    assert!(matches!(errors[0], Error::Io { .. }), "{}", errors[0]);
    assert!(
        matches!(&errors[1], Error::Distributed { rank: 0, message } if message.contains("run.ckpt")),
        "{}",
        errors[1]
    );
}

#[test]
fn a_checkpoint_of_two_processes_resumes_on_one_and_on_three() {
    let data = regression(36);
    let dir = temp_dir("distributed-resume");
    let path = dir.join("run.ckpt");
    let fit = || Fit::epochs(6).batch_size(12).seed(4).quiet();
    // The whole run on one process.
    let mut whole = Net::with_seed(9);
    let expected = whole.fit(&data, fit()).unwrap();
    // Three epochs on two processes, rank 0 writing the checkpoint.
    threads::run(2, |world| {
        let mut model = Net::with_seed(9);
        model
            .fit(
                &data,
                Fit::epochs(3)
                    .batch_size(12)
                    .seed(4)
                    .quiet()
                    .checkpoint_every(3, &path)
                    .distributed(world),
            )
            .unwrap();
    });
    let info: CheckpointInfo = load_checkpoint(&mut Net::new(), &path).unwrap();
    assert_eq!(info.epoch, 3);
    // The rest on one process, and on three.
    let mut one = Net::new();
    let resumed = one.fit(&data, fit().resume_from(&path)).unwrap();
    assert_rel(&resumed.losses(), &expected.losses(), 1e-12, "resumed on 1");
    assert_rel(
        &weights(&one),
        &weights(&whole),
        1e-12,
        "weights resumed on 1",
    );
    let three = threads::run(3, |world| {
        let mut model = Net::new();
        let h = model
            .fit(&data, fit().resume_from(&path).distributed(world))
            .unwrap();
        (h.losses(), weights(&model))
    });
    for (losses, w) in &three {
        assert_rel(losses, &expected.losses(), 1e-12, "resumed on 3");
        assert_rel(w, &weights(&whole), 1e-12, "weights resumed on 3");
    }
}
