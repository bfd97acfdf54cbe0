//! The epoch loop: [`Fit`] says how to train, [`fit`] trains, [`History`]
//! records each epoch.
//!
//! One epoch is one pass over the data; it is cut into batches of
//! `batch_size` samples (the last one smaller unless `drop_last`), and each
//! batch is one iteration: forward, loss, zero_grad, backward, step. With
//! `shuffle` (the default) the order is a fresh permutation every epoch,
//! drawn from a generator seeded once per `fit`, so one seed gives the same
//! run every time. The epoch's `Loss` is the sample-weighted mean of its
//! batch losses, the mean loss per sample seen during the epoch (as Keras
//! and Lightning report it), not the last batch's.
//!
//! Around that loop, all optional:
//!
//! - validation: [`Fit::validation_split`] holds out a seeded random
//!   fraction of the data, [`Fit::validation_data`] takes a separate
//!   dataset; after every epoch the model is evaluated on it in evaluation
//!   mode (`val_loss` and the validation metrics);
//! - metrics ([`Fit::metrics`]): accuracy for classifiers by default; MAE,
//!   RMSE, R² for regressors on request. Training metrics are computed on
//!   each batch's outputs before its update (Keras's convention);
//! - stopping: after `epochs`; when the watched loss reaches
//!   [`Fit::target_loss`]; [`EarlyStopping`]; a NaN or infinite batch loss
//!   (on by default, [`Fit::stop_on_non_finite`]); a callback. The reason is
//!   in [`History::stop`] and printed at the end;
//! - a learning-rate [`Scheduler`], stepped after the optimizer;
//! - gradient clipping by global norm or by value, and gradient
//!   accumulation over several batches;
//! - callbacks at the end of every epoch or batch.
//!
//! Everything that can be checked is checked before the first batch, and
//! an error then leaves the model as it was: every setting's range; the
//! data's widths, labels and target values (BCE's in `[0, 1]`), the
//! validation data's named as such ([`Error::ValidationData`]); a batch
//! of one sample for a model whose batch norm needs two
//! ([`Model::MIN_TRAINING_BATCH`]: use `drop_last(true)` or another batch
//! size); a checkpoint path whose folder does not exist; a checkpoint to
//! resume that does not fit the model, the optimizer's declaration or
//! this run ([`Fit::resume_from`]). During the run, a schedule that sets a
//! learning rate or momentum that is negative or not finite is an error
//! (the model keeps its last update).
//!
//! Output: in a terminal, a progress bar per epoch (batches, running loss,
//! rate, ETA) that leaves one line per epoch; elsewhere exactly one plain
//! line per epoch, `Epoch [3/50], Loss: 0.4123, Val Loss: 0.4410, Acc:
//! 0.9120`, with `LR: ...` when a schedule changes it; before training one
//! line of iteration arithmetic, after it the stop reason. [`Fit::quiet`]
//! prints nothing; [`Fit::log_to`] writes the plain lines anywhere.
//!
//! ```
//! use macrograd_runtime::train::Fit;
//! let fit = Fit::epochs(5).batch_size(100).quiet();
//! assert_eq!(fit.iterations_per_epoch(1000), 10);
//! ```

use std::any::Any;
use std::fmt;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use crate::data::Dataset;
pub use crate::history::{EpochLog, History, Monitor, StopReason};
use crate::metrics::{Metric, Scores};
use crate::model::Model;
use crate::schedule::{Interval, Scheduler, Setting};
use crate::target::Target;
use crate::{Error, Float, Result, Rng};

/// What a callback tells the loop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Control {
    /// Go on.
    Continue,
    /// Stop after this batch or epoch.
    Stop,
}

impl From<()> for Control {
    fn from(_: ()) -> Self {
        Control::Continue
    }
}

impl From<bool> for Control {
    /// `true` means stop.
    fn from(stop: bool) -> Self {
        if stop {
            Control::Stop
        } else {
            Control::Continue
        }
    }
}

/// What a batch callback sees.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BatchLog {
    /// 1-based epoch.
    pub epoch: usize,
    /// 1-based batch within the epoch.
    pub batch: usize,
    /// The batch's mean loss, before its update.
    pub loss: f64,
    /// The learning rate of the batch's update.
    pub lr: f64,
}

/// Whether the watched value should go down or up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Lower is better (losses, MAE, RMSE).
    Min,
    /// Higher is better (accuracy, R²).
    Max,
}

/// Early stopping: stop when the watched value has not improved for
/// `patience` epochs (Keras's `EarlyStopping`).
///
/// An epoch improves on the best so far when its value is lower than
/// `best - min_delta` (mode min) or higher than `best + min_delta` (mode
/// max). Training stops after the `patience`-th epoch in a row without
/// improvement. With [`EarlyStopping::restore_best`], the model ends with
/// the weights of the best epoch, however training stopped (the optimizer
/// state is not rewound).
///
/// ```
/// use macrograd_runtime::train::{EarlyStopping, Fit, Monitor};
/// let fit = Fit::epochs(200).early_stopping(EarlyStopping::patience(10).restore_best());
/// # let _ = fit;
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EarlyStopping {
    patience: usize,
    min_delta: f64,
    monitor: Option<Monitor>,
    mode: Option<Mode>,
    restore_best: bool,
}

impl EarlyStopping {
    /// Stop after `patience` epochs without improvement; watching
    /// `val_loss` when there is validation data, else the training loss.
    pub fn patience(patience: usize) -> Self {
        EarlyStopping {
            patience,
            min_delta: 0.0,
            monitor: None,
            mode: None,
            restore_best: false,
        }
    }

    /// The smallest change that counts as an improvement (default 0).
    pub fn min_delta(mut self, min_delta: f64) -> Self {
        self.min_delta = min_delta;
        self
    }

    /// The value to watch.
    pub fn monitor(mut self, monitor: Monitor) -> Self {
        self.monitor = Some(monitor);
        self
    }

    /// Min or max; by default from the watched value (max for accuracy and
    /// R², min otherwise).
    pub fn mode(mut self, mode: Mode) -> Self {
        self.mode = Some(mode);
        self
    }

    /// End with the weights of the best epoch.
    pub fn restore_best(mut self) -> Self {
        self.restore_best = true;
        self
    }
}

/// Gradient clipping before each update.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Clip {
    /// Scale all gradients so that their global L2 norm is at most this
    /// (PyTorch's `clip_grad_norm_`).
    Norm(f64),
    /// Clamp every gradient element to `[-v, v]` (`clip_grad_value_`).
    Value(f64),
}

type EpochCallback<'a> = Box<dyn FnMut(&EpochLog) -> Control + 'a>;
type BatchCallback<'a> = Box<dyn FnMut(&BatchLog) -> Control + 'a>;

enum Validation<'a> {
    None,
    Split(f64),
    Data(&'a dyn Any),
}

/// How to train: epochs, batch size, order, validation, stopping,
/// schedule, clipping, callbacks, output. Built with chained setters from
/// [`Fit::epochs`]; see the module docs.
pub struct Fit<'a> {
    epochs: usize,
    batch_size: usize,
    shuffle: bool,
    seed: u64,
    drop_last: bool,
    quiet: bool,
    progress: Option<bool>,
    threads: usize,
    validation: Validation<'a>,
    metrics: Option<Vec<Metric>>,
    target_loss: Option<f64>,
    early_stopping: Option<EarlyStopping>,
    stop_on_non_finite: bool,
    schedule: Option<(Box<dyn Scheduler + 'a>, Option<Interval>)>,
    clip: Option<Clip>,
    accumulate: usize,
    on_epoch_end: Vec<EpochCallback<'a>>,
    on_batch_end: Vec<BatchCallback<'a>>,
    log: Option<Box<dyn Write + 'a>>,
    checkpoint_every: Option<(usize, PathBuf)>,
    checkpoint_best: Option<PathBuf>,
    resume: Option<PathBuf>,
}

impl fmt::Debug for Fit<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Fit")
            .field("epochs", &self.epochs)
            .field("batch_size", &self.batch_size)
            .field("shuffle", &self.shuffle)
            .field("seed", &self.seed)
            .field("drop_last", &self.drop_last)
            .field("quiet", &self.quiet)
            .field("threads", &self.threads)
            .field("metrics", &self.metrics)
            .field("target_loss", &self.target_loss)
            .field("early_stopping", &self.early_stopping)
            .field("stop_on_non_finite", &self.stop_on_non_finite)
            .field(
                "schedule",
                &self.schedule.as_ref().map(|(s, i)| (s.describe(), *i)),
            )
            .field("clip", &self.clip)
            .field("accumulate", &self.accumulate)
            .finish_non_exhaustive()
    }
}

impl<'a> Fit<'a> {
    /// Train for `epochs` passes over the data, with the defaults: batch
    /// size 32 (as Keras), shuffled every epoch from seed 0, the last partial
    /// batch kept, no validation, stop on a non-finite loss, output as the
    /// module docs say.
    pub fn epochs(epochs: usize) -> Self {
        Fit {
            epochs,
            batch_size: 32,
            shuffle: true,
            seed: 0,
            drop_last: false,
            quiet: false,
            progress: None,
            threads: 0,
            validation: Validation::None,
            metrics: None,
            target_loss: None,
            early_stopping: None,
            stop_on_non_finite: true,
            schedule: None,
            clip: None,
            accumulate: 1,
            on_epoch_end: Vec::new(),
            on_batch_end: Vec::new(),
            log: None,
            checkpoint_every: None,
            checkpoint_best: None,
            resume: None,
        }
    }

    /// Samples per iteration; a batch size at least the dataset's size means
    /// full-batch gradient descent. Validation runs in batches of the same
    /// size.
    pub fn batch_size(mut self, batch_size: usize) -> Self {
        self.batch_size = batch_size;
        self
    }

    /// Whether to visit the samples in a new random order every epoch
    /// (default `true`); `false` keeps the stored order.
    pub fn shuffle(mut self, shuffle: bool) -> Self {
        self.shuffle = shuffle;
        self
    }

    /// Seed of the shuffling order and of the validation split (default 0).
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Drop the last batch of an epoch when it is smaller than `batch_size`
    /// (default `false`: keep it, as PyTorch's `DataLoader`).
    pub fn drop_last(mut self, drop_last: bool) -> Self {
        self.drop_last = drop_last;
        self
    }

    /// Threads the matrix products of this run may use; by default the
    /// process-wide setting of [`crate::set_threads`] (itself 1 unless
    /// changed). Only large products are split.
    pub fn threads(mut self, threads: usize) -> Self {
        self.threads = threads.max(1);
        self
    }

    /// Print nothing.
    pub fn quiet(mut self) -> Self {
        self.quiet = true;
        self
    }

    /// Show the progress bar (`true`) or plain lines (`false`); by default
    /// a bar exactly when standard output is a terminal.
    pub fn progress(mut self, progress: bool) -> Self {
        self.progress = Some(progress);
        self
    }

    /// Write the plain output (arithmetic line, one line per epoch, stop
    /// reason) to `log` instead of standard output, without a progress bar.
    pub fn log_to(mut self, log: impl Write + 'a) -> Self {
        self.log = Some(Box::new(log));
        self
    }

    /// Hold out a random `fraction` of the data for validation. The rows
    /// are chosen by [`Dataset::split`] with this run's seed (the first
    /// `round(fraction * len)` entries of a permutation drawn from
    /// `Rng::new(seed ^ 0x5EED_5EED_5EED_5EED)`), so one seed always holds out
    /// the same rows; both parts keep the stored order.
    pub fn validation_split(mut self, fraction: f64) -> Self {
        self.validation = Validation::Split(fraction);
        self
    }

    /// Validate on `data` after every epoch.
    pub fn validation_data<T: Float, K: Target<T>>(mut self, data: &'a Dataset<T, K>) -> Self {
        self.validation = Validation::Data(data);
        self
    }

    /// The metrics to report (training and validation); by default
    /// accuracy for BCE and CrossEntropy models and none for regressors.
    /// An empty list reports none.
    pub fn metrics(mut self, metrics: &[Metric]) -> Self {
        self.metrics = Some(metrics.to_vec());
        self
    }

    /// Stop when the loss reaches `target` or goes below it: the validation
    /// loss when there is validation data, else the training loss (the stop
    /// message says which).
    pub fn target_loss(mut self, target: f64) -> Self {
        self.target_loss = Some(target);
        self
    }

    /// Stop when the watched value stops improving; see [`EarlyStopping`].
    pub fn early_stopping(mut self, early_stopping: EarlyStopping) -> Self {
        self.early_stopping = Some(early_stopping);
        self
    }

    /// Stop at the first NaN or infinite batch loss, without applying that
    /// batch's update (default `true`).
    pub fn stop_on_non_finite(mut self, stop: bool) -> Self {
        self.stop_on_non_finite = stop;
        self
    }

    /// Change the learning rate with `schedule`, stepped after the
    /// optimizer: per epoch, or per iteration for OneCycleLR and CyclicLR.
    pub fn schedule(mut self, schedule: impl Scheduler + 'a) -> Self {
        self.schedule = Some((Box::new(schedule), None));
        self
    }

    /// [`Fit::schedule`], stepped at the given interval.
    pub fn schedule_every(mut self, schedule: impl Scheduler + 'a, interval: Interval) -> Self {
        self.schedule = Some((Box::new(schedule), Some(interval)));
        self
    }

    /// Clip the gradients before every update.
    pub fn clip(mut self, clip: Clip) -> Self {
        self.clip = Some(clip);
        self
    }

    /// Accumulate the gradients of `batches` batches before each update
    /// (default 1). The accumulated gradient is the mean of the batches'
    /// gradients, so with equal batches an update equals one of a batch
    /// `batches` times larger. An epoch ending inside a group updates with
    /// the batches it has.
    pub fn accumulate(mut self, batches: usize) -> Self {
        self.accumulate = batches;
        self
    }

    /// Call `f` after every epoch with its log; `f` returns `()`, a
    /// [`Control`], or a `bool` (`true` stops training).
    pub fn on_epoch_end<R: Into<Control>>(
        mut self,
        mut f: impl FnMut(&EpochLog) -> R + 'a,
    ) -> Self {
        self.on_epoch_end.push(Box::new(move |log| f(log).into()));
        self
    }

    /// Call `f` after every batch's update; as [`Fit::on_epoch_end`].
    pub fn on_batch_end<R: Into<Control>>(
        mut self,
        mut f: impl FnMut(&BatchLog) -> R + 'a,
    ) -> Self {
        self.on_batch_end.push(Box::new(move |log| f(log).into()));
        self
    }

    /// Save a checkpoint (weights and batch-norm statistics, optimizer and
    /// schedule state, dropout generators, epoch, shuffling state, history;
    /// see [`crate::io::save_checkpoint`]) to `path` after every
    /// `epochs`-th epoch, replacing the last one atomically. A `path` whose
    /// folder does not exist, or that is a folder, is an error before
    /// training.
    pub fn checkpoint_every(mut self, epochs: usize, path: impl Into<PathBuf>) -> Self {
        self.checkpoint_every = Some((epochs, path.into()));
        self
    }

    /// Save a checkpoint to `path` after every epoch that improves on the
    /// best so far: of the early-stopping monitor if there is one, else of
    /// `val_loss` with validation data, else of the training loss.
    pub fn checkpoint_best(mut self, path: impl Into<PathBuf>) -> Self {
        self.checkpoint_best = Some(path.into());
        self
    }

    /// Resume the run saved in the checkpoint at `path`: the model's weights,
    /// batch-norm statistics, optimizer state and dropout generators, the
    /// schedule's state, the shuffling state and the history are restored,
    /// and training goes on after the saved epoch up to `epochs`. With the
    /// same data and settings, the result is the run that never stopped,
    /// bit for bit. The early-stopping state (best value, epochs waited) is
    /// restored too; the best epoch's weights for `restore_best` are the
    /// model's own only if the best epoch came after the resume or at the
    /// saved epoch.
    ///
    /// The file is untrusted input: before the model takes anything from
    /// it, `fit` checks (besides what [`crate::io::load_checkpoint`] checks)
    /// that the saved epoch is below `epochs` (else nothing is left to
    /// train: an error, not an empty run), that its history holds exactly
    /// the epochs `1..=saved`, that it has a schedule's state exactly when
    /// this run has a schedule, that its optimizer was declared with the
    /// same hyperparameters as the model's (a run saved by `SGD(0.01)` is
    /// not resumed by `SGD(0.01, momentum = 0.9)`), and that every value
    /// is in the range its declaration allows. To start a new run from
    /// saved weights, load them with [`crate::io::load_weights`] instead.
    pub fn resume_from(mut self, path: impl Into<PathBuf>) -> Self {
        self.resume = Some(path.into());
        self
    }

    /// Iterations (batches) per epoch over `samples` samples.
    pub fn iterations_per_epoch(&self, samples: usize) -> usize {
        if self.batch_size == 0 {
            return 0;
        }
        if self.drop_last {
            samples / self.batch_size
        } else {
            samples.div_ceil(self.batch_size)
        }
    }

    fn validate(&self, samples: usize) -> Result<()> {
        let invalid = |name, message: String| Err(Error::InvalidSetting { name, message });
        if self.epochs == 0 {
            return invalid("epochs", "expected at least 1 epoch, found 0".into());
        }
        if self.batch_size == 0 {
            return invalid(
                "batch_size",
                "expected at least 1 sample per batch, found 0".into(),
            );
        }
        if self.iterations_per_epoch(samples) == 0 {
            return invalid(
                "drop_last",
                format!(
                    "batch size {} with drop_last leaves no batch of {samples} samples",
                    self.batch_size
                ),
            );
        }
        if let Some((0, _)) = self.checkpoint_every {
            return invalid(
                "checkpoint_every",
                "expected a checkpoint every 1 or more epochs, found 0".into(),
            );
        }
        let targets = [
            (
                "checkpoint_every",
                self.checkpoint_every.as_ref().map(|(_, p)| p),
            ),
            ("checkpoint_best", self.checkpoint_best.as_ref()),
        ];
        for (name, path) in targets {
            if let Some(problem) = path.and_then(|p| unwritable(p)) {
                return invalid(name, problem);
            }
        }
        if self.accumulate == 0 {
            return invalid(
                "accumulate",
                "expected at least 1 batch per update, found 0".into(),
            );
        }
        if let Some(target) = self.target_loss {
            if !target.is_finite() {
                return invalid(
                    "target_loss",
                    format!("expected a finite loss, found {target}"),
                );
            }
        }
        if let Some(es) = &self.early_stopping {
            if !(es.min_delta >= 0.0 && es.min_delta.is_finite()) {
                return invalid(
                    "min_delta",
                    format!("expected a finite value >= 0, found {}", es.min_delta),
                );
            }
        }
        match self.clip {
            Some(Clip::Norm(v)) if !(v > 0.0 && v.is_finite()) => {
                return invalid("clip", format!("expected a finite max norm > 0, found {v}"));
            }
            Some(Clip::Value(v)) if !(v > 0.0 && v.is_finite()) => {
                return invalid(
                    "clip",
                    format!("expected a finite clip value > 0, found {v}"),
                );
            }
            _ => {}
        }
        if let Some((s, _)) = &self.schedule {
            if let Err(message) = s.validate() {
                return invalid("schedule", message);
            }
        }
        Ok(())
    }
}

/// Why a checkpoint cannot be saved at `path`, found before training so
/// that a run is not lost at its first save: a folder that does not exist
/// (or is not a folder), or a path that is a folder itself. (Permissions
/// and a full disk show only when writing.)
fn unwritable(path: &Path) -> Option<String> {
    if path.is_dir() {
        return Some(format!("{} is a folder, not a file", path.display()));
    }
    let folder = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if folder.is_dir() {
        None
    } else {
        Some(format!(
            "the folder {} of {} does not exist",
            folder.display(),
            path.display()
        ))
    }
}

/// The running loss shown by the progress bar, as f64 bits.
#[derive(Clone, Default)]
struct SharedLoss(Arc<AtomicU64>);

impl SharedLoss {
    fn set(&self, loss: f64) {
        self.0.store(loss.to_bits(), Ordering::Relaxed);
    }
    fn get(&self) -> f64 {
        f64::from_bits(self.0.load(Ordering::Relaxed))
    }
}

/// Where the output goes.
enum Output<'a> {
    Quiet,
    Lines(Box<dyn Write + 'a>),
    Bar {
        loss: SharedLoss,
        style: indicatif::ProgressStyle,
    },
}

impl Output<'_> {
    /// Writes the line `text` makes; in quiet mode `text` is not called, so
    /// a quiet run formats nothing.
    fn line(&mut self, text: impl FnOnce() -> String) {
        // A closed stdout (a pipe to `head`) must not stop training.
        match self {
            Output::Quiet => {}
            Output::Lines(w) => {
                let _ = writeln!(w, "{}", text());
            }
            Output::Bar { .. } => {
                let _ = writeln!(std::io::stdout().lock(), "{}", text());
            }
        }
    }
}

/// Trains `model` on `data`; see the module docs. Prefer [`Model::fit`].
///
/// # Errors
///
/// Before the first batch: an invalid [`Fit`] setting, an empty dataset, or
/// data (training or validation) whose widths or labels do not match the
/// model.
pub fn fit<M: Model>(
    model: &mut M,
    data: &Dataset<M::Elem, M::Target>,
    fit: Fit<'_>,
) -> Result<History> {
    crate::parallel::with_threads(fit.threads, || Loop::run(model, data, fit))
}

/// Holds the metric list, best weights and the like for one `fit`.
struct Loop<'f, M: Model> {
    fit: Fit<'f>,
    metrics: Vec<Metric>,
    monitor: Option<Monitor>,
    mode: Mode,
    best: Option<(usize, f64)>,
    waited: usize,
    best_weights: Vec<Vec<M::Elem>>,
    /// The best value of the checkpoint monitor so far.
    best_saved: Option<f64>,
    output: Output<'f>,
}

impl<'f, M: Model> Loop<'f, M> {
    fn run(model: &mut M, data: &Dataset<M::Elem, M::Target>, mut fit: Fit<'f>) -> Result<History> {
        check_data::<M>(data)?;
        let held;
        let (train, validation): (&Dataset<_, _>, Option<&Dataset<_, _>>) =
            match std::mem::replace(&mut fit.validation, Validation::None) {
                Validation::None => (data, None),
                Validation::Split(fraction) => {
                    held = data.split(fraction, fit.seed ^ 0x5EED_5EED_5EED_5EED)?;
                    (&held.0, Some(&held.1))
                }
                Validation::Data(any) => {
                    let Some(v) = any.downcast_ref::<Dataset<M::Elem, M::Target>>() else {
                        return Err(Error::InvalidSetting {
                            name: "validation_data",
                            message: format!(
                                "expected a Dataset<{}, {}> like the training data",
                                <M::Elem as Float>::NAME,
                                short_type_name::<M::Target>()
                            ),
                        });
                    };
                    check_data::<M>(v).map_err(|e| Error::ValidationData(Box::new(e)))?;
                    (data, Some(v))
                }
            };
        fit.validate(train.len())?;
        check_batch_statistics::<M>(&fit, train.len())?;
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
        let output = if fit.quiet {
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
        let updates = iterations.div_ceil(k);
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

        let mut rng = Rng::new(self.fit.seed);
        let mut order: Vec<usize> = (0..samples).collect();
        let mut targets = <M::Target as Target<M::Elem>>::Data::default();
        let inputs = train.inputs();
        model.set_training(true);
        let mut schedule = self.fit.schedule.take();
        let per_iteration = match &schedule {
            Some((s, interval)) => interval.unwrap_or_else(|| s.interval()) == Interval::Iteration,
            None => false,
        };
        // The schedule starts from the declared values; a resumed run
        // then takes the schedule's and the optimizer's saved state instead.
        let start = schedule
            .as_mut()
            .map(|(s, _)| s.start(model.learning_rate(), model.momentum()));
        let track_scores = !self.metrics.is_empty();
        let whole_batch = !self.fit.shuffle && iterations == 1 && batch_size == samples;
        let mut gathered = false;
        let mut history = History {
            epochs: Vec::new(),
            stop: StopReason::MaxEpochs { epochs },
            best_epoch: None,
        };
        let mut first = 1;
        if let Some(path) = self.fit.resume.clone() {
            let invalid = |message: String| Error::InvalidSetting {
                name: "resume_from",
                message: format!("{}: {message}", path.display()),
            };
            // Everything is checked (and the schedule and stopping state
            // taken) before the model takes anything from the file.
            let (info, saved) = crate::io::load_checkpoint_checked(model, &path, |info| {
                let saved = check_resume(info, epochs, schedule.is_some()).map_err(invalid)?;
                if let (Some((s, _)), Some(state)) = (&mut schedule, &info.scheduler) {
                    s.load_state(state).map_err(invalid)?;
                }
                self.restore_stopping_state(&info.metadata, info.epoch)
                    .map_err(invalid)?;
                Ok(saved)
            })?;
            rng = Rng::from_state(info.rng_state);
            history.epochs = saved.epochs;
            first = info.epoch + 1;
            self.output
                .line(|| format!("Resumed from {} after epoch {}", path.display(), info.epoch));
        } else if let Some(start) = start {
            apply(model, start, "start")?;
        }
        'epochs: for epoch in first..=epochs {
            let start = Instant::now();
            let lr = model.learning_rate();
            if self.fit.shuffle {
                rng.permutation(&mut order);
            }
            let bar = self.epoch_bar(epoch, iterations);
            let mut loss_sum = 0.0;
            let mut seen = 0usize;
            let mut scores = Scores::default();
            let mut in_group = 0usize;
            // LOOP 1: the epoch's batches; `iterations` excludes a dropped tail.
            for (b, batch) in order.chunks(batch_size).take(iterations).enumerate() {
                let x = model.input_buffer(batch.len());
                if !gathered {
                    crate::data::gather_rows(inputs, batch, x);
                    <M::Target as Target<M::Elem>>::gather(train.targets(), batch, &mut targets);
                    // One unshuffled batch of every sample is the same batch
                    // each epoch: the model's input buffer still holds it
                    // next epoch unless something else wrote it (validation
                    // does, and resets `gathered`).
                    gathered = whole_batch;
                }
                let view = <M::Target as Target<M::Elem>>::view(&targets, batch.len());
                let out = model.forward_buffered();
                if track_scores {
                    <M::Target as Target<M::Elem>>::score(out, view, M::TASK, &mut scores);
                }
                let loss = model.compute_loss(view, true).to_f64();
                if !loss.is_finite() && self.fit.stop_on_non_finite {
                    if let Some(bar) = bar {
                        bar.abandon();
                    }
                    history.stop = StopReason::NonFinite {
                        epoch,
                        batch: b + 1,
                        loss,
                    };
                    break 'epochs;
                }
                if in_group == 0 {
                    model.zero_grad();
                }
                model.backward();
                in_group += 1;
                let last = b + 1 == iterations;
                if in_group == k || last {
                    if in_group > 1 {
                        scale_grads(model, 1.0 / in_group as f64);
                    }
                    match self.fit.clip {
                        Some(Clip::Norm(max)) => {
                            crate::clip::clip_grad_norm(model, max);
                        }
                        Some(Clip::Value(v)) => crate::clip::clip_grad_value(model, v),
                        None => {}
                    }
                    model.step();
                    in_group = 0;
                    if per_iteration {
                        if let Some((s, _)) = &mut schedule {
                            let next = s.step(None);
                            apply(model, next, "step")?;
                        }
                    }
                }
                loss_sum += loss * batch.len() as f64;
                seen += batch.len();
                if let Some(bar) = &bar {
                    if let Output::Bar { loss: shared, .. } = &self.output {
                        shared.set(loss_sum / seen as f64);
                    }
                    bar.inc(1);
                }
                if !self.fit.on_batch_end.is_empty() {
                    let log = BatchLog {
                        epoch,
                        batch: b + 1,
                        loss,
                        lr: model.learning_rate(),
                    };
                    let mut stop = false;
                    for f in &mut self.fit.on_batch_end {
                        stop |= f(&log) == Control::Stop;
                    }
                    if stop {
                        if let Some(bar) = bar {
                            bar.finish_and_clear();
                        }
                        history.stop = StopReason::Callback { epoch };
                        break 'epochs;
                    }
                }
            }
            if let Some(bar) = bar {
                bar.finish_and_clear();
            }
            let (val_loss, val_metrics) = match validation {
                Some(v) => {
                    // Validation fills the model's input buffer with its own
                    // rows: the training batch must be gathered again.
                    gathered = false;
                    let (loss, s) = evaluate_scores(model, v, batch_size, !self.metrics.is_empty());
                    (Some(loss), self.values(&s))
                }
                None => (None, Vec::new()),
            };
            let log = EpochLog {
                epoch,
                loss: loss_sum / seen as f64,
                val_loss,
                metrics: self.values(&scores),
                val_metrics,
                lr,
                iterations: updates,
                duration: start.elapsed(),
            };
            if !per_iteration {
                if let Some((s, _)) = &mut schedule {
                    let metric = if s.needs_metric() {
                        log.get(self.monitor.unwrap_or(if validation.is_some() {
                            Monitor::ValLoss
                        } else {
                            Monitor::Loss
                        }))
                    } else {
                        None
                    };
                    let next = s.step(metric);
                    apply(model, next, "step")?;
                }
            }
            let show_lr = schedule.is_some();
            self.output.line(|| epoch_line(&log, epochs, show_lr));
            let stop = self.check_stop(model, &log, validation.is_some());
            let mut callback_stop = false;
            for f in &mut self.fit.on_epoch_end {
                callback_stop |= f(&log) == Control::Stop;
            }
            let improved_for_checkpoint = self.improved_for_checkpoint(&log, validation.is_some());
            history.epochs.push(log);
            if let Some((every, path)) = &self.fit.checkpoint_every {
                if epoch % every == 0 {
                    self.save(model, path, epoch, &rng, &schedule, &history)?;
                }
            }
            if improved_for_checkpoint {
                if let Some(path) = &self.fit.checkpoint_best {
                    self.save(model, path, epoch, &rng, &schedule, &history)?;
                }
            }
            if let Some(reason) = stop {
                history.stop = reason;
                break;
            }
            if callback_stop {
                history.stop = StopReason::Callback { epoch };
                break;
            }
        }
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

    /// Whether `log` improves on the best value of the checkpoint monitor,
    /// which it then records.
    fn improved_for_checkpoint(&mut self, log: &EpochLog, has_validation: bool) -> bool {
        if self.fit.checkpoint_best.is_none() {
            return false;
        }
        let monitor = self.monitor.unwrap_or(if has_validation {
            Monitor::ValLoss
        } else {
            Monitor::Loss
        });
        let Some(value) = log.get(monitor).filter(|v| v.is_finite()) else {
            return false;
        };
        let better = match (self.best_saved, self.mode) {
            (None, _) => true,
            (Some(best), Mode::Min) => value < best,
            (Some(best), Mode::Max) => value > best,
        };
        if better {
            self.best_saved = Some(value);
        }
        better
    }

    /// Writes a checkpoint of the run after `epoch`.
    fn save(
        &self,
        model: &M,
        path: &Path,
        epoch: usize,
        rng: &Rng,
        schedule: &Option<(Box<dyn Scheduler + 'f>, Option<Interval>)>,
        history: &History,
    ) -> Result<()> {
        let mut metadata = std::collections::BTreeMap::new();
        if let Some((best_epoch, best)) = self.best {
            metadata.insert("early_stopping.best_epoch".into(), best_epoch.to_string());
            metadata.insert(
                "early_stopping.best".into(),
                format!("{:x}", best.to_bits()),
            );
        }
        metadata.insert("early_stopping.waited".into(), self.waited.to_string());
        if let Some(best) = self.best_saved {
            metadata.insert("checkpoint.best".into(), format!("{:x}", best.to_bits()));
        }
        let info = crate::io::CheckpointInfo {
            epoch,
            rng_state: rng.state(),
            scheduler: schedule.as_ref().map(|(s, _)| s.state()),
            history: history.to_json(),
            metadata,
        };
        crate::io::save_checkpoint(model, path, &info)
    }

    /// Reads back what [`Loop::save`] wrote of the stopping state of a run
    /// saved after epoch `saved`.
    ///
    /// # Errors
    ///
    /// A value that is present but not what `save` writes: a best value
    /// that is not a finite number, a best epoch or a count of epochs
    /// waited after `saved`, a best value without its epoch.
    fn restore_stopping_state(
        &mut self,
        metadata: &std::collections::BTreeMap<String, String>,
        saved: usize,
    ) -> std::result::Result<(), String> {
        let bits = |key: &str| -> std::result::Result<Option<f64>, String> {
            let Some(text) = metadata.get(key) else {
                return Ok(None);
            };
            match u64::from_str_radix(text, 16).map(f64::from_bits) {
                Ok(v) if v.is_finite() => Ok(Some(v)),
                _ => Err(format!(
                    "metadata `meta.{key}` is not the bits of a finite number: {text:?}"
                )),
            }
        };
        let count = |key: &str| -> std::result::Result<Option<usize>, String> {
            let Some(text) = metadata.get(key) else {
                return Ok(None);
            };
            match text.parse::<usize>() {
                Ok(n) if n <= saved => Ok(Some(n)),
                _ => Err(format!(
                    "metadata `meta.{key}` is not a number of epochs up to the saved epoch \
                     {saved}: {text:?}"
                )),
            }
        };
        let (best_epoch, best) = (
            count("early_stopping.best_epoch")?,
            bits("early_stopping.best")?,
        );
        let waited = count("early_stopping.waited")?;
        let best_saved = bits("checkpoint.best")?;
        self.best = match (best_epoch, best) {
            (Some(epoch), Some(best)) => Some((epoch, best)),
            (None, None) => None,
            _ => {
                return Err(
                    "metadata `meta.early_stopping.best_epoch` and `meta.early_stopping.best` \
                     come together"
                        .into(),
                )
            }
        };
        self.waited = waited.unwrap_or(0);
        self.best_saved = best_saved;
        Ok(())
    }

    /// The values of the chosen metrics.
    fn values(&self, scores: &Scores) -> Vec<(Metric, f64)> {
        self.metrics
            .iter()
            .filter_map(|&m| scores.get(m).map(|v| (m, v)))
            .collect()
    }

    fn epoch_bar(&self, epoch: usize, iterations: usize) -> Option<indicatif::ProgressBar> {
        let Output::Bar { style, .. } = &self.output else {
            return None;
        };
        let bar = indicatif::ProgressBar::with_draw_target(
            Some(iterations as u64),
            indicatif::ProgressDrawTarget::stdout(),
        )
        .with_style(style.clone())
        .with_prefix(format!("Epoch [{epoch}/{}]", self.fit.epochs));
        Some(bar)
    }

    /// Early stopping bookkeeping and the target-loss check, after an
    /// epoch; returns why to stop, if so.
    fn check_stop(
        &mut self,
        model: &M,
        log: &EpochLog,
        has_validation: bool,
    ) -> Option<StopReason> {
        if let (Some(es), Some(monitor)) = (self.fit.early_stopping, self.monitor) {
            if let Some(value) = log.get(monitor) {
                let improved = match self.best {
                    None => value.is_finite(),
                    Some((_, best)) => match self.mode {
                        Mode::Min => value < best - es.min_delta,
                        Mode::Max => value > best + es.min_delta,
                    },
                };
                if improved {
                    self.best = Some((log.epoch, value));
                    self.waited = 0;
                    if es.restore_best {
                        snapshot(model, &mut self.best_weights);
                    }
                } else {
                    self.waited += 1;
                    if self.waited >= es.patience {
                        let (best_epoch, best) = self.best.unwrap_or((log.epoch, value));
                        return Some(StopReason::EarlyStopping {
                            monitor,
                            best_epoch,
                            best,
                            epoch: log.epoch,
                            patience: es.patience,
                        });
                    }
                }
            }
        }
        if let Some(target) = self.fit.target_loss {
            let (monitor, value) = match log.val_loss {
                Some(v) if has_validation => (Monitor::ValLoss, v),
                _ => (Monitor::Loss, log.loss),
            };
            if value <= target {
                return Some(StopReason::TargetReached {
                    monitor,
                    value,
                    target,
                    epoch: log.epoch,
                });
            }
        }
        None
    }
}

fn check_monitor(monitor: Monitor, has_validation: bool, metrics: &[Metric]) -> Result<()> {
    let problem = match monitor {
        Monitor::ValLoss | Monitor::ValMetric(_) if !has_validation => {
            Some("needs validation data (validation_split or validation_data)".to_string())
        }
        Monitor::Metric(m) | Monitor::ValMetric(m) if !metrics.contains(&m) => {
            Some(format!("needs {m} among the metrics"))
        }
        _ => None,
    };
    match problem {
        Some(p) => Err(Error::InvalidSetting {
            name: "early_stopping",
            message: format!("watching {monitor} {p}"),
        }),
        None => Ok(()),
    }
}

fn short_type_name<X>() -> &'static str {
    let full = std::any::type_name::<X>();
    full.rsplit("::").next().unwrap_or(full)
}

/// Checks what a checkpoint says of its run against the run that resumes
/// it: the saved epoch must leave epochs to train (`epochs` is the total),
/// a non-empty history must hold exactly the epochs `1..=saved` in order,
/// and a schedule's state must be there exactly when this run has a
/// schedule. Returns the saved history.
fn check_resume(
    info: &crate::io::CheckpointInfo,
    epochs: usize,
    has_schedule: bool,
) -> std::result::Result<History, String> {
    let saved = info.epoch;
    if saved >= epochs {
        return Err(format!(
            "the checkpoint was saved after epoch {saved}, so `epochs({epochs})` leaves nothing \
             to train; ask for more than {saved} epochs in all"
        ));
    }
    let history = if info.history.is_empty() {
        History {
            epochs: Vec::new(),
            stop: StopReason::MaxEpochs { epochs },
            best_epoch: None,
        }
    } else {
        History::from_json(&info.history).map_err(|e| e.to_string())?
    };
    if !history.epochs.is_empty() {
        let numbers: Vec<usize> = history.epochs.iter().map(|e| e.epoch).collect();
        if !numbers.iter().copied().eq(1..=saved) {
            let shown = match numbers.as_slice() {
                [] => "none".to_string(),
                [one] => one.to_string(),
                [first, .., last] => format!("{} epochs, {first} to {last}", numbers.len()),
            };
            return Err(format!(
                "the history holds epochs {shown}, but the checkpoint was saved after epoch \
                 {saved}: expected epochs 1 to {saved} in order"
            ));
        }
    }
    match (info.scheduler.is_some(), has_schedule) {
        (true, false) => Err(
            "the checkpoint holds a schedule's state, but this run has no schedule: resume \
             with the schedule it was saved with"
                .into(),
        ),
        (false, true) => Err(
            "the checkpoint was saved without a schedule, but this run has one: resume \
             without it (or start a new run)"
                .into(),
        ),
        _ => Ok(history),
    }
}

/// Sets what a schedule's `start` or `step` (`call`) returned, if the
/// optimizer's declaration could hold it: a finite learning rate `>= 0`
/// and a finite momentum `>= 0` (a checkpoint holding anything else would
/// not load).
fn apply<M: Model>(model: &mut M, setting: Setting, call: &str) -> Result<()> {
    let invalid = |what: &str, value: f64| Error::InvalidSetting {
        name: "schedule",
        message: format!(
            "its `{call}` set the {what} to {value}; expected a finite number >= 0 \
             (the model keeps the weights of the last update)"
        ),
    };
    if !(setting.lr.is_finite() && setting.lr >= 0.0) {
        return Err(invalid("learning rate", setting.lr));
    }
    if let Some(m) = setting.momentum {
        if !(m.is_finite() && m >= 0.0) {
            return Err(invalid("momentum", m));
        }
    }
    model.set_learning_rate(setting.lr);
    if let Some(m) = setting.momentum {
        model.set_momentum(m);
    }
    Ok(())
}

/// Checks `data` against the model: its widths, its labels, and target
/// values the loss reads (BCE's in `[0, 1]`).
fn check_data<M: Model>(data: &Dataset<M::Elem, M::Target>) -> Result<()> {
    data.check_for(M::INPUTS, M::OUTPUTS)?;
    <M::Target as Target<M::Elem>>::check_values(data.targets(), M::TASK)
}

/// A model with batch statistics over single values per channel (batch
/// norm after flat features, or after 1 x 1 images) cannot train on a
/// batch of one sample (PyTorch raises "expected more than 1 value per
/// channel when training"): such a batch is an error before training, not
/// a panic in the middle of it.
fn check_batch_statistics<M: Model>(fit: &Fit<'_>, samples: usize) -> Result<()> {
    let needed = M::MIN_TRAINING_BATCH;
    let batch = fit.batch_size.min(samples);
    let tail = samples % batch;
    let (smallest, which) = if tail != 0 && !fit.drop_last {
        (tail, "the last batch")
    } else {
        (batch, "every batch")
    };
    if smallest >= needed {
        return Ok(());
    }
    Err(Error::InvalidSetting {
        name: "batch_size",
        message: format!(
            "the model's batch norm needs at least {needed} samples per training batch, but \
             {samples} samples in batches of {batch} leave {which} with {smallest}; use \
             drop_last(true) or another batch size"
        ),
    })
}

fn scale_grads<M: Model>(model: &mut M, factor: f64) {
    let f = M::Elem::of(factor);
    model.visit_parameters_mut(&mut |p| {
        let mut g = p.grad;
        g.mapv_inplace(|v| v * f);
    });
}

/// Copies the parameters, then the float buffers (batch norm's running
/// statistics, which the best epoch's validation used), into `into`.
/// (`num_batches_tracked` only counts; it is left as it is.)
fn snapshot<M: Model>(model: &M, into: &mut Vec<Vec<M::Elem>>) {
    let mut i = 0;
    let mut save = |values: &mut dyn Iterator<Item = M::Elem>, len: usize| {
        if into.len() <= i {
            into.push(Vec::with_capacity(len));
        }
        into[i].clear();
        into[i].extend(values);
        i += 1;
    };
    model.visit_parameters(&mut |p| save(&mut p.value.iter().copied(), p.value.len()));
    model.visit_buffers(&mut |b| {
        if let crate::model::BufferValue::Float(v) = b.value {
            save(&mut v.iter().copied(), v.len());
        }
    });
}

/// Puts back what [`snapshot`] saved: parameters, then float buffers.
fn restore<M: Model>(model: &mut M, from: &[Vec<M::Elem>]) {
    let mut i = 0;
    let mut load = |values: &mut dyn Iterator<Item = &mut M::Elem>| {
        if let Some(saved) = from.get(i) {
            for (dst, &src) in values.zip(saved) {
                *dst = src;
            }
        }
        i += 1;
    };
    model.visit_parameters_mut(&mut |mut p| load(&mut p.value.iter_mut()));
    model.visit_buffers_mut(&mut |b| {
        if let crate::model::BufferValueMut::Float(mut v) = b.value {
            load(&mut v.iter_mut());
        }
    });
}

/// `800 samples, batch 32 -> 25 iterations per epoch, 50 epochs = 1250 updates`
fn arithmetic(
    samples: usize,
    validation: Option<usize>,
    batch: usize,
    iterations: usize,
    accumulate: usize,
    epochs: usize,
    dropped: bool,
) -> String {
    let mut s = format!("{samples} samples");
    if let Some(v) = validation {
        s += &format!(" (+{v} for validation)");
    }
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    s += &format!(
        ", batch {batch} -> {} per epoch",
        plural(iterations, "iteration")
    );
    if dropped {
        s += " (last partial batch dropped)";
    }
    let per_epoch = if accumulate > 1 {
        let u = iterations.div_ceil(accumulate);
        s += &format!(
            ", gradients accumulated over {accumulate} -> {} per epoch",
            plural(u, "update")
        );
        u
    } else {
        iterations
    };
    s += &format!(
        ", {} = {}",
        plural(epochs, "epoch"),
        plural(per_epoch * epochs, "update")
    );
    s
}

/// `Epoch [3/50], Loss: 0.4123, Val Loss: 0.4410, Acc: 0.9120, Val Acc: 0.9, LR: 0.0100`
fn epoch_line(log: &EpochLog, epochs: usize, show_lr: bool) -> String {
    let mut s = format!("Epoch [{}/{epochs}], Loss: {:.4}", log.epoch, log.loss);
    if let Some(v) = log.val_loss {
        s += &format!(", Val Loss: {v:.4}");
    }
    for (m, v) in &log.metrics {
        s += &format!(", {}: {v:.4}", m.label());
    }
    for (m, v) in &log.val_metrics {
        s += &format!(", Val {}: {v:.4}", m.label());
    }
    if show_lr {
        s += &format!(", LR: {:.4e}", log.lr);
    }
    s
}

/// Loss and metric sums over `data` in evaluation mode; leaves the model
/// in evaluation mode.
fn evaluate_scores<M: Model>(
    model: &mut M,
    data: &Dataset<M::Elem, M::Target>,
    batch_size: usize,
    scores_wanted: bool,
) -> (f64, Scores) {
    let inputs = data.inputs();
    let mut targets = <M::Target as Target<M::Elem>>::Data::default();
    let mut scores = Scores::default();
    model.set_training(false);
    let mut sum = 0.0;
    let n = data.len();
    let mut start = 0;
    let mut batch: Vec<usize> = Vec::with_capacity(batch_size.min(n));
    while start < n {
        let end = (start + batch_size).min(n);
        batch.clear();
        batch.extend(start..end);
        crate::data::gather_rows(inputs, &batch, model.input_buffer(batch.len()));
        <M::Target as Target<M::Elem>>::gather(data.targets(), &batch, &mut targets);
        let view = <M::Target as Target<M::Elem>>::view(&targets, batch.len());
        let out = model.forward_buffered();
        if scores_wanted {
            <M::Target as Target<M::Elem>>::score(out, view, M::TASK, &mut scores);
        }
        let loss = model.compute_loss(view, false);
        sum += loss.to_f64() * batch.len() as f64;
        start = end;
    }
    model.set_training(true);
    (sum / n as f64, scores)
}

/// The sample-weighted mean loss of `model` over `data` in evaluation mode.
/// Prefer [`Model::evaluate`].
///
/// # Errors
///
/// An empty dataset, a batch size of 0, or data that does not match the
/// model.
pub fn evaluate<M: Model>(
    model: &mut M,
    data: &Dataset<M::Elem, M::Target>,
    batch_size: usize,
) -> Result<f64> {
    check_data::<M>(data)?;
    if batch_size == 0 {
        return Err(Error::InvalidSetting {
            name: "batch_size",
            message: "expected at least 1 sample per batch, found 0".into(),
        });
    }
    Ok(evaluate_scores(model, data, batch_size, false).0)
}
