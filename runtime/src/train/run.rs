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
}

impl<'f, M: Model> Loop<'f, M> {
    pub(super) fn run(
        model: &mut M,
        data: &Dataset<M::Elem, M::Target>,
        mut fit: Fit<'f>,
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
        };
        model.set_training(true);
        run.schedule = self.fit.schedule.take();
        run.per_iteration = match &run.schedule {
            Some((s, interval)) => interval.unwrap_or_else(|| s.interval()) == Interval::Iteration,
            None => false,
        };
        let first = self.resume_or_start(model, &mut run)?;
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
