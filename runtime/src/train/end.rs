//! The end of an epoch: validation, the epoch's log and line, the
//! schedule's step, early stopping and the target loss, the callbacks and
//! the checkpoints.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

use super::callback::Control;
use super::checks::apply;
use super::early_stopping::Mode;
use super::epoch::Totals;
use super::evaluate::{evaluate_scores, evaluate_shard};
use super::output::epoch_line;
use super::run::{Loop, Run};
use crate::distributed;
use crate::history::{EpochLog, History, Monitor, StopReason};
use crate::io::{save_checkpoint, CheckpointInfo};
use crate::metrics::{Metric, Scores};
use crate::model::{BufferValue, BufferValueMut, Model};
use crate::schedule::{Interval, Scheduler};
use crate::{Result, Rng};

impl<'f, M: Model> Loop<'f, M> {
    /// Closes `epoch` (begun at `start` with learning rate `lr`): validates,
    /// logs, steps an epoch-wise schedule, checks the stopping rules and
    /// callbacks, saves the checkpoints; returns whether to stop,
    /// `run.history.stop` saying why.
    pub(super) fn end_epoch(
        &mut self,
        model: &mut M,
        run: &mut Run<'_, 'f, M>,
        epoch: usize,
        totals: Totals,
        lr: f64,
        start: Instant,
    ) -> Result<bool> {
        let epochs = self.fit.epochs;
        let validation = run.validation;
        let (val_loss, val_metrics) = match validation {
            Some(v) => {
                // Validation fills the model's input buffer with its own
                // rows: the training batch must be gathered again.
                run.gathered = false;
                let wanted = !self.metrics.is_empty();
                let (loss, s) = match run.world {
                    Some(world) => evaluate_shard(model, v, run.batch_size, wanted, world),
                    None => evaluate_scores(model, v, run.batch_size, wanted),
                };
                (Some(loss), self.values(&s))
            }
            None => (None, Vec::new()),
        };
        let log = EpochLog {
            epoch,
            loss: totals.loss_sum / totals.seen as f64,
            val_loss,
            metrics: self.values(&totals.scores),
            val_metrics,
            lr,
            iterations: run.updates,
            duration: start.elapsed(),
        };
        if !run.per_iteration {
            if let Some((s, _)) = &mut run.schedule {
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
        let show_lr = run.schedule.is_some();
        self.output.line(|| epoch_line(&log, epochs, show_lr));
        let stop = self.check_stop(model, &log, validation.is_some());
        let mut callback_stop = false;
        for f in &mut self.fit.on_epoch_end {
            callback_stop |= f(&log) == Control::Stop;
        }
        if let Some(world) = run.world {
            callback_stop = distributed::any(world, callback_stop);
        }
        let improved_for_checkpoint = self.improved_for_checkpoint(&log, validation.is_some());
        run.history.epochs.push(log);
        // Checkpoints come from rank 0; the others learn whether it could
        // write them.
        let every = self
            .fit
            .checkpoint_every
            .as_ref()
            .filter(|(every, _)| epoch.is_multiple_of(*every))
            .map(|(_, path)| path);
        let best = self
            .fit
            .checkpoint_best
            .as_ref()
            .filter(|_| improved_for_checkpoint);
        for path in [every, best].into_iter().flatten() {
            let saved = match run.world {
                Some(world) if world.rank() != 0 => Ok(()),
                _ => self.save(model, path, epoch, &run.rng, &run.schedule, &run.history),
            };
            match run.world {
                Some(world) => distributed::agree(world, saved)?,
                None => saved?,
            }
        }
        if let Some(reason) = stop {
            run.history.stop = reason;
            return Ok(true);
        }
        if callback_stop {
            run.history.stop = StopReason::Callback { epoch };
            return Ok(true);
        }
        Ok(false)
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
        let mut metadata = BTreeMap::new();
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
        let info = CheckpointInfo {
            epoch,
            rng_state: rng.state(),
            scheduler: schedule.as_ref().map(|(s, _)| s.state()),
            history: history.to_json(),
            metadata,
        };
        save_checkpoint(model, path, &info)
    }

    /// The values of the chosen metrics.
    fn values(&self, scores: &Scores) -> Vec<(Metric, f64)> {
        self.metrics
            .iter()
            .filter_map(|&m| scores.get(m).map(|v| (m, v)))
            .collect()
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

/// Copies the parameters, then the float buffers (batch norm's running
/// statistics, which the best epoch's validation used), into `into`.
/// (`num_batches_tracked` only counts; it is left as it is.)
pub(super) fn snapshot<M: Model>(model: &M, into: &mut Vec<Vec<M::Elem>>) {
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
        if let BufferValue::Float(v) = b.value {
            save(&mut v.iter().copied(), v.len());
        }
    });
}

/// Puts back what [`snapshot`] saved: parameters, then float buffers.
pub(super) fn restore<M: Model>(model: &mut M, from: &[Vec<M::Elem>]) {
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
        if let BufferValueMut::Float(mut v) = b.value {
            load(&mut v.iter_mut());
        }
    });
}
