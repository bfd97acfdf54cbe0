//! [`Fit`]: how to train, built with chained setters and checked before
//! the first batch.
//!
//! ```
//! # use macrograd_runtime as macrograd;
//! use macrograd::train::Fit;
//! let fit = Fit::epochs(5).batch_size(100).drop_last(true).quiet();
//! assert_eq!(fit.iterations_per_epoch(1050), 10);
//! ```

use std::any::Any;
use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};

use super::callback::{BatchLog, Control};
use super::early_stopping::EarlyStopping;
use crate::data::Dataset;
use crate::distributed::Collective;
use crate::history::EpochLog;
use crate::metrics::Metric;
use crate::schedule::{Interval, Scheduler};
use crate::target::Target;
use crate::{Error, Float, Result};

/// Gradient clipping before each update.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Clip {
    /// Scale all gradients so that their global L2 norm is at most this
    /// (PyTorch's `clip_grad_norm_`).
    Norm(f64),
    /// Clamp every gradient element to `[-v, v]` (`clip_grad_value_`).
    Value(f64),
}

pub(super) type EpochCallback<'a> = Box<dyn FnMut(&EpochLog) -> Control + 'a>;
pub(super) type BatchCallback<'a> = Box<dyn FnMut(&BatchLog) -> Control + 'a>;

pub(super) enum Validation<'a> {
    None,
    Split(f64),
    Data(&'a dyn Any),
}

/// How to train: epochs, batch size, order, validation, stopping,
/// schedule, clipping, callbacks, output. Built with chained setters from
/// [`Fit::epochs`]; see the module docs.
pub struct Fit<'a> {
    pub(super) epochs: usize,
    pub(super) batch_size: usize,
    pub(super) shuffle: bool,
    pub(super) seed: u64,
    pub(super) drop_last: bool,
    pub(super) quiet: bool,
    pub(super) progress: Option<bool>,
    pub(super) threads: usize,
    pub(super) validation: Validation<'a>,
    pub(super) metrics: Option<Vec<Metric>>,
    pub(super) target_loss: Option<f64>,
    pub(super) early_stopping: Option<EarlyStopping>,
    pub(super) stop_on_non_finite: bool,
    pub(super) schedule: Option<(Box<dyn Scheduler + 'a>, Option<Interval>)>,
    pub(super) clip: Option<Clip>,
    pub(super) accumulate: usize,
    pub(super) on_epoch_end: Vec<EpochCallback<'a>>,
    pub(super) on_batch_end: Vec<BatchCallback<'a>>,
    pub(super) log: Option<Box<dyn Write + 'a>>,
    pub(super) checkpoint_every: Option<(usize, PathBuf)>,
    pub(super) checkpoint_best: Option<PathBuf>,
    pub(super) resume: Option<PathBuf>,
    pub(super) distributed: Option<&'a dyn Collective>,
    pub(super) sync_batch_norm: bool,
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
            .field(
                "distributed",
                &self.distributed.map(|w| (w.rank(), w.size())),
            )
            .field("sync_batch_norm", &self.sync_batch_norm)
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
            distributed: None,
            sync_batch_norm: false,
        }
    }

    /// Samples per iteration; a batch size at least the dataset's size means
    /// full-batch gradient descent. Validation runs in batches of the same
    /// size (capped at the number of training samples).
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

    /// Trains across the processes of `world` (data-parallel: each global
    /// batch of `batch_size` samples split among them, gradients summed
    /// in a fixed order, the same update on every process); output,
    /// progress and checkpoints from rank 0. Every process calls `fit` with
    /// the same data and settings. See [`distributed`](crate::distributed)
    /// for what is guaranteed, and [`Mpi`](crate::distributed) (feature
    /// `mpi`) for `mpiexec`.
    pub fn distributed(mut self, world: &'a dyn Collective) -> Self {
        self.distributed = Some(world);
        self
    }

    /// In a [`distributed`](Fit::distributed) run, normalises every batch
    /// norm with the statistics of the whole batch, over every process
    /// (PyTorch's `SyncBatchNorm`; default `false`: each process's own
    /// shard, as `DistributedDataParallel` does). The forward pass then
    /// sums each batch norm's per-channel sums over the processes, and
    /// the backward pass its gradient sums: the run gives the losses and
    /// weights of one process with the whole batch, up to rounding, at the
    /// price of three exchanges per batch norm and step. Nothing without
    /// `distributed`.
    pub fn sync_batch_norm(mut self, sync: bool) -> Self {
        self.sync_batch_norm = sync;
        self
    }

    /// Threads the matrix products and optimizer updates of this run may
    /// use (at least 1); by default the process-wide setting of
    /// [`crate::set_threads`] (itself 1 unless changed). Only large `f32`
    /// products and updates of large parameters are split.
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
    /// optimizer: per epoch, or after every update for OneCycleLR and
    /// CyclicLR (and a SequentialLR holding one), as
    /// [`Scheduler::interval`] says.
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

    /// Call `f` after every batch (after its update, when the batch ends a
    /// group of [`Fit::accumulate`]); `f` returns as for
    /// [`Fit::on_epoch_end`].
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

    pub(super) fn validate(&self, samples: usize) -> Result<()> {
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
