//! Before the first epoch: a saved run's state ([`Fit::resume_from`]),
//! checked whole before the model takes anything, or else the schedule's
//! starting values.
//!
//! [`Fit::resume_from`]: super::Fit::resume_from

use std::collections::BTreeMap;

use super::checks::apply;
use super::run::{Loop, Run};
use crate::history::{History, StopReason};
use crate::io::{load_checkpoint_checked, CheckpointInfo};
use crate::model::Model;
use crate::{Error, Result, Rng};

impl<'f, M: Model> Loop<'f, M> {
    /// Starts the schedule from the declared values, then takes a saved
    /// run's state if there is one to resume (the schedule's and the
    /// optimizer's saved state replace the start); returns the first epoch
    /// to run.
    pub(super) fn resume_or_start(
        &mut self,
        model: &mut M,
        run: &mut Run<'_, 'f, M>,
    ) -> Result<usize> {
        let epochs = self.fit.epochs;
        let start = run
            .schedule
            .as_mut()
            .map(|(s, _)| s.start(model.learning_rate(), model.momentum()));
        let Some(path) = self.fit.resume.clone() else {
            if let Some(start) = start {
                apply(model, start, "start")?;
            }
            return Ok(1);
        };
        let invalid = |message: String| Error::InvalidSetting {
            name: "resume_from",
            message: format!("{}: {message}", path.display()),
        };
        let has_schedule = run.schedule.is_some();
        let schedule = &mut run.schedule;
        // Everything is checked (and the schedule and stopping state
        // taken) before the model takes anything from the file.
        let (info, saved) = load_checkpoint_checked(model, &path, |info| {
            let saved = check_resume(info, epochs, has_schedule).map_err(invalid)?;
            if let (Some((s, _)), Some(state)) = (schedule, &info.scheduler) {
                s.load_state(state).map_err(|source| Error::State {
                    path: path.display().to_string(),
                    source,
                })?;
            }
            self.restore_stopping_state(&info.metadata, info.epoch)
                .map_err(invalid)?;
            Ok(saved)
        })?;
        run.rng = Rng::from_state(info.rng_state);
        run.history.epochs = saved.epochs;
        // The weights just loaded are the best epoch's when it is the
        // saved one: `restore_best` goes back to them if nothing improves.
        let restore_best = self.fit.early_stopping.is_some_and(|e| e.restore_best);
        if restore_best && self.best.is_some_and(|(epoch, _)| epoch == info.epoch) {
            super::end::snapshot(model, &mut self.best_weights);
        }
        self.output
            .line(|| format!("Resumed from {} after epoch {}", path.display(), info.epoch));
        Ok(info.epoch + 1)
    }

    /// Reads back what [`Loop::save`] wrote of the stopping state of a run
    /// saved after epoch `saved`.
    ///
    /// # Errors
    ///
    /// A value that is present but not what `save` writes: a best value
    /// that is not a finite number, a best epoch or a count of epochs
    /// waited after `saved`, a best value without its epoch.
    pub(super) fn restore_stopping_state(
        &mut self,
        metadata: &BTreeMap<String, String>,
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
}

/// Checks what a checkpoint says of its run against the run that resumes
/// it: the saved epoch must leave epochs to train (`epochs` is the total),
/// a non-empty history must hold exactly the epochs `1..=saved` in order,
/// and a schedule's state must be there exactly when this run has a
/// schedule. Returns the saved history.
fn check_resume(
    info: &CheckpointInfo,
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
