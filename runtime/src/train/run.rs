//! One `fit`: the checks and settings before the first batch, then the
//! epochs, each cut into [`epoch`](super::epoch) (its batches) and
//! [`end`](super::end) (validation, log, schedule, stopping, checkpoints),
//! after [`resume`](super::resume) (a saved run's state, or the schedule's
//! start).

use std::fmt;
use std::io::IsTerminal;
use std::time::Instant;

use super::checks::{check_batch_statistics, check_data, check_monitor, short_type_name};
use super::early_stopping::Mode;
use super::end::restore;
use super::fit::{Fit, Validation};
use super::output::{arithmetic, Output, SharedLoss};
use crate::data::Dataset;
use crate::distributed;
use crate::history::{History, Monitor, StopReason};
use crate::metrics::Metric;
use crate::model::Model;
use crate::schedule::{Interval, Scheduler};
use crate::target::Target;
use crate::{Error, Float, Result, Rng};

/// Holds the metric list, best weights and the like for one `fit`.
pub(super) struct Loop<'f, M: Model> {
    pub(super) fit: Fit<'f>,
    pub(super) metrics: Vec<Metric>,
    pub(super) monitor: Option<Monitor>,
    pub(super) mode: Mode,
    pub(super) best: Option<(usize, f64)>,
    pub(super) waited: usize,
    pub(super) best_weights: Vec<Vec<M::Elem>>,
    /// The best value of the checkpoint monitor so far.
    pub(super) best_saved: Option<f64>,
    pub(super) output: Output<'f>,
}

/// What changes from epoch to epoch of one run: the generator and the
/// order it shuffles, the gathered targets, the schedule, the history.
pub(super) struct Run<'d, 'f, M: Model> {
    pub(super) train: &'d Dataset<M::Elem, M::Target>,
    pub(super) validation: Option<&'d Dataset<M::Elem, M::Target>>,
    /// Samples per batch (the last one may hold fewer).
    pub(super) batch_size: usize,
    /// Batches per epoch, a dropped tail excluded.
    pub(super) iterations: usize,
    /// Optimizer updates per epoch.
    pub(super) updates: usize,
    pub(super) rng: Rng,
    pub(super) order: Vec<usize>,
    pub(super) targets: <M::Target as Target<M::Elem>>::Data,
    pub(super) schedule: Option<(Box<dyn Scheduler + 'f>, Option<Interval>)>,
    /// Whether the schedule steps after every update (else every epoch).
    pub(super) per_iteration: bool,
    pub(super) track_scores: bool,
    /// One unshuffled batch of every sample: the same batch every epoch.
    pub(super) whole_batch: bool,
    /// Whether the model's input buffer (and `targets`) hold the batch.
    pub(super) gathered: bool,
    pub(super) history: History,
    /// The processes of a distributed run (more than one), and the
    /// buffers of its exchanges.
    pub(super) world: Option<&'f dyn distributed::Collective>,
    pub(super) exchange: Exchange<M::Elem>,
}

/// The reusable buffers of a distributed run's exchanges: the gradients
/// (or buffers) laid end to end, and the reduction's own.
pub(super) struct Exchange<T> {
    pub(super) values: Vec<T>,
    pub(super) bytes: Vec<u8>,
    pub(super) scratch: distributed::Scratch<T>,
    /// For the batch losses.
    pub(super) sums: distributed::Scratch<f64>,
}

impl<T> Default for Exchange<T> {
    fn default() -> Self {
        Exchange {
            values: Vec::new(),
            bytes: Vec::new(),
            scratch: distributed::Scratch::default(),
            sums: distributed::Scratch::default(),
        }
    }
}

impl<'f, M: Model> Loop<'f, M> {
    pub(super) fn run(
        model: &mut M,
        data: &Dataset<M::Elem, M::Target>,
        fit: Fit<'f>,
    ) -> Result<History> {
        let Some(world) = fit.distributed.filter(|w| w.size() > 1) else {
            return Self::prepare_and_train(model, data, fit, &mut false);
        };
        // Every process checks the same things; one that fails before
        // training tells the others, which would wait for it otherwise.
        distributed::agree(world, same_data(world, data))?;
        distributed::agree(world, same_settings(world, &fit))?;
        let mut agreed = false;
        let result = Self::prepare_and_train(model, data, fit, &mut agreed);
        match result {
            Err(e) if !agreed => distributed::agree(world, Err(e)),
            other => other,
        }
    }

    /// The checks before the first batch, then the run; `agreed` is set
    /// once every process of a distributed run passed the checks.
    fn prepare_and_train(
        model: &mut M,
        data: &Dataset<M::Elem, M::Target>,
        mut fit: Fit<'f>,
        agreed: &mut bool,
    ) -> Result<History> {
        check_data(model, data)?;
        // The names of the data's text categories go with the model (and
        // its files), unless it has some already.
        if model.preprocessing().categories().is_empty() && !data.categories().is_empty() {
            let with = model
                .preprocessing()
                .clone()
                .with_categories(data.categories().to_vec());
            *model.preprocessing_mut() = with;
        }
        let held;
        let adapted;
        let (train, validation): (&Dataset<_, _>, Option<&Dataset<_, _>>) =
            match std::mem::replace(&mut fit.validation, Validation::None) {
                Validation::None => (data, None),
                Validation::Split(fraction) => {
                    held = data.split(fraction, fit.seed ^ 0x5EED_5EED_5EED_5EED)?;
                    (&held.0, Some(&held.1))
                }
                Validation::Data(any) => {
                    let Some(v) = super::targets::adapt_any::<M>(any) else {
                        return Err(Error::InvalidSetting {
                            name: "validation_data",
                            message: format!(
                                "expected a Dataset<{}, {}> like the training data",
                                <M::Elem as Float>::NAME,
                                short_type_name::<M::Target>()
                            ),
                        });
                    };
                    let v = v.map_err(|e| Error::ValidationData(Box::new(e)))?;
                    check_data(model, &v).map_err(|e| Error::ValidationData(Box::new(e)))?;
                    adapted = v;
                    (data, Some(&*adapted))
                }
            };
        fit.validate(train.len())?;
        check_batch_statistics::<M>(&fit, train.len())?;
        if let Some(world) = fit.distributed.filter(|w| w.size() > 1) {
            check_shards(&fit, train.len(), world.size(), M::MIN_TRAINING_BATCH)?;
        }
        let metrics = fit
            .metrics
            .clone()
            .unwrap_or_else(|| M::TASK.default_metrics().to_vec());
        if let Some(m) = metrics.iter().find(|m| !m.applies_to(M::TASK)) {
            return Err(Error::InvalidSetting {
                name: "metrics",
                message: format!("{m} does not apply to a {:?} model", M::TASK),
            });
        }
        let default_monitor = if validation.is_some() {
            Monitor::ValLoss
        } else {
            Monitor::Loss
        };
        let es = fit.early_stopping;
        let monitor = es.map(|e| e.monitor.unwrap_or(default_monitor));
        if let Some(m) = monitor {
            check_monitor(m, validation.is_some(), &metrics)?;
        }
        let mode = match (es.and_then(|e| e.mode), monitor) {
            (Some(mode), _) => mode,
            (None, Some(m)) if m.higher_is_better() => Mode::Max,
            _ => Mode::Min,
        };
        let output = if fit.quiet || fit.distributed.is_some_and(|w| w.rank() != 0) {
            Output::Quiet
        } else if let Some(log) = fit.log.take() {
            Output::Lines(log)
        } else if fit
            .progress
            .unwrap_or_else(|| std::io::stdout().is_terminal())
        {
            let loss = SharedLoss::default();
            let shown = loss.clone();
            let style = indicatif::ProgressStyle::with_template(
                "{prefix} [{bar:25}] {pos}/{len} loss {loss} {rate} ETA {eta}",
            )
            .expect("a valid template")
            .with_key(
                "loss",
                move |_: &indicatif::ProgressState, w: &mut dyn fmt::Write| {
                    let _ = write!(w, "{:.4}", shown.get());
                },
            )
            .with_key(
                "rate",
                |state: &indicatif::ProgressState, w: &mut dyn fmt::Write| {
                    let _ = write!(w, "{:.0} it/s", state.per_sec());
                },
            )
            .progress_chars("=> ");
            Output::Bar { loss, style }
        } else {
            Output::Lines(Box::new(std::io::stdout()))
        };
        let mut state = Loop {
            fit,
            metrics,
            monitor,
            mode,
            best: None,
            waited: 0,
            best_weights: Vec::new(),
            best_saved: None,
            output,
        };
        if let Some(world) = state.fit.distributed.filter(|w| w.size() > 1) {
            let all = distributed::agree(world, Ok(()));
            *agreed = true;
            all?;
        }
        *agreed = true;
        state.train(model, train, validation)
    }

    fn train(
        &mut self,
        model: &mut M,
        train: &Dataset<M::Elem, M::Target>,
        validation: Option<&Dataset<M::Elem, M::Target>>,
    ) -> Result<History> {
        let samples = train.len();
        let batch_size = self.fit.batch_size.min(samples);
        let iterations = self.fit.iterations_per_epoch(samples);
        let epochs = self.fit.epochs;
        let k = self.fit.accumulate;
        self.output.line(|| {
            arithmetic(
                samples,
                validation.map(|v| v.len()),
                batch_size,
                iterations,
                k,
                epochs,
                self.fit.drop_last && samples % batch_size != 0,
            )
        });
        let mut run = Run::<M> {
            train,
            validation,
            batch_size,
            iterations,
            updates: iterations.div_ceil(k),
            rng: Rng::new(self.fit.seed),
            order: (0..samples).collect(),
            targets: Default::default(),
            schedule: None,
            per_iteration: false,
            track_scores: !self.metrics.is_empty(),
            whole_batch: !self.fit.shuffle && iterations == 1 && batch_size == samples,
            gathered: false,
            history: History {
                epochs: Vec::new(),
                stop: StopReason::MaxEpochs { epochs },
                best_epoch: None,
            },
            world: self.fit.distributed.filter(|w| w.size() > 1),
            exchange: Exchange::default(),
        };
        model.set_training(true);
        run.schedule = self.fit.schedule.take();
        run.per_iteration = match &run.schedule {
            Some((s, interval)) => interval.unwrap_or_else(|| s.interval()) == Interval::Iteration,
            None => false,
        };
        let first = self.resume_or_start(model, &mut run);
        let first = match self.fit.distributed.filter(|w| w.size() > 1) {
            Some(world) => distributed::agree(world, first)?,
            None => first?,
        };
        for epoch in first..=epochs {
            let start = Instant::now();
            let lr = model.learning_rate();
            let Some(totals) = self.epoch(model, &mut run, epoch)? else {
                break;
            };
            if self.end_epoch(model, &mut run, epoch, totals, lr, start)? {
                break;
            }
        }
        let mut history = run.history;
        if let Some((best_epoch, _)) = self.best {
            history.best_epoch = Some(best_epoch);
            if self.fit.early_stopping.is_some_and(|e| e.restore_best) {
                restore(model, &self.best_weights);
            }
        }
        model.set_training(true);
        self.output.line(|| history.stop.to_string());
        Ok(history)
    }
}

/// The settings a distributed run of `samples` training samples on
/// `processes` processes cannot work with: a batch (the last one too)
/// with fewer samples than processes, gradient accumulation.
fn check_shards(fit: &Fit<'_>, samples: usize, processes: usize, min_batch: usize) -> Result<()> {
    let invalid = |name, message| Err(Error::InvalidSetting { name, message });
    if fit.accumulate > 1 {
        return invalid(
            "accumulate",
            format!(
                "gradient accumulation ({} batches) is not available across processes: the \
                 processes already split each batch; use a batch size {} times larger",
                fit.accumulate, fit.accumulate
            ),
        );
    }
    let batch = fit.batch_size.min(samples);
    if batch < processes {
        return invalid(
            "batch_size",
            format!(
                "a batch of {batch} samples cannot be split among {processes} processes: \
                 use at least {processes} samples per batch"
            ),
        );
    }
    let tail = samples % batch;
    if !fit.drop_last && tail != 0 && tail < processes {
        return invalid(
            "batch_size",
            format!(
                "the last batch of each epoch holds {tail} of the {samples} samples, fewer \
                 than the {processes} processes: use drop_last(true) or another batch size"
            ),
        );
    }
    // Batch norm on each process's shard needs `min_batch` samples in
    // every shard (the smallest shard of a batch of `n` has `n / P`).
    let smallest = if !fit.drop_last && tail != 0 {
        tail
    } else {
        batch
    };
    if min_batch > 1 && !fit.sync_batch_norm && smallest / processes < min_batch {
        return invalid(
            "batch_size",
            format!(
                "the model's batch norm needs at least {min_batch} samples on each process, \
                 but a batch of {smallest} split among {processes} processes leaves {}; use \
                 larger batches, drop_last(true), or sync_batch_norm(true)",
                smallest / processes
            ),
        );
    }
    Ok(())
}

/// Checks that every process holds the same training data (its length
/// and a checksum of its inputs and targets).
fn same_data<T: Float, K: Target<T>>(
    world: &dyn distributed::Collective,
    data: &Dataset<T, K>,
) -> Result<()> {
    let mut hasher = crc32fast::Hasher::new();
    for v in data.inputs().iter() {
        hasher.update(&Float::to_f64(*v).to_le_bytes());
    }
    K::digest(data.targets(), &mut hasher);
    let mut mine = (data.len() as u64).to_le_bytes().to_vec();
    mine.extend_from_slice(&hasher.finalize().to_le_bytes());
    let all = distributed::gather_bytes(world, &mine);
    match all.iter().position(|theirs| *theirs != all[0]) {
        None => Ok(()),
        Some(rank) => {
            let describe = |bytes: &[u8]| {
                let len = u64::from_le_bytes(bytes[..8].try_into().expect("8 bytes"));
                let crc = u32::from_le_bytes(bytes[8..12].try_into().expect("4 bytes"));
                format!("{len} samples, checksum {crc:08x}")
            };
            Err(Error::InvalidSetting {
                name: "distributed",
                message: format!(
                    "the processes hold different training data: process 0 has {}, process \
                     {rank} has {}; every process must call fit with the same data",
                    describe(&all[0]),
                    describe(&all[rank])
                ),
            })
        }
    }
}

/// Checks that every process trains with the settings that decide when
/// the processes exchange: the epochs, batches, validation, stopping
/// rules, schedule, checkpoints (which rank 0 alone writes, the others
/// learning whether it could) and batch norm's synchronisation.
fn same_settings(world: &dyn distributed::Collective, fit: &Fit<'_>) -> Result<()> {
    let validation = match &fit.validation {
        Validation::None => "none".to_string(),
        Validation::Split(f) => format!("split {f}"),
        Validation::Data(_) => "data".to_string(),
    };
    let settings = [
        ("epochs", fit.epochs.to_string()),
        ("batch_size", fit.batch_size.to_string()),
        ("shuffle", fit.shuffle.to_string()),
        ("seed", fit.seed.to_string()),
        ("drop_last", fit.drop_last.to_string()),
        ("validation", validation),
        ("metrics", format!("{:?}", fit.metrics)),
        ("target_loss", format!("{:?}", fit.target_loss)),
        ("early_stopping", format!("{:?}", fit.early_stopping)),
        ("stop_on_non_finite", fit.stop_on_non_finite.to_string()),
        ("schedule", fit.schedule.is_some().to_string()),
        ("clip", format!("{:?}", fit.clip)),
        ("accumulate", fit.accumulate.to_string()),
        (
            "checkpoint_every",
            format!("{:?}", fit.checkpoint_every.as_ref().map(|(n, _)| n)),
        ),
        ("checkpoint_best", fit.checkpoint_best.is_some().to_string()),
        ("resume_from", fit.resume.is_some().to_string()),
        ("sync_batch_norm", fit.sync_batch_norm.to_string()),
    ];
    let mine: String = settings
        .iter()
        .map(|(name, value)| format!("{name}={value}\n"))
        .collect();
    let all = distributed::gather_bytes(world, mine.as_bytes());
    let Some(rank) = all.iter().position(|theirs| *theirs != all[0]) else {
        return Ok(());
    };
    let theirs = String::from_utf8_lossy(&all[rank]).into_owned();
    let first = String::from_utf8_lossy(&all[0]).into_owned();
    let differ: Vec<String> = first
        .lines()
        .zip(theirs.lines())
        .filter(|(a, b)| a != b)
        .map(|(a, b)| format!("{a} on process 0, {b} on process {rank}"))
        .collect();
    Err(Error::InvalidSetting {
        name: "distributed",
        message: format!(
            "every process must call fit with the same settings (rank 0 alone prints and \
             writes checkpoints, but all need them): {}",
            differ.join("; ")
        ),
    })
}
