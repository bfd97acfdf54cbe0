//! One epoch's batches: gather, forward, loss, backward, and an update
//! every `accumulate` batches (clipped, then stepped, then the schedule if
//! it steps per iteration).

use super::callback::{BatchLog, Control};
use super::checks::apply;
use super::clip::{clip_grad_norm, clip_grad_value};
use super::fit::Clip;
use super::output::Output;
use super::run::Exchange;
use super::run::{Loop, Run};
use crate::distributed::{self, Collective};
use crate::gather::gather_rows;
use crate::history::StopReason;
use crate::metrics::Scores;
use crate::model::Model;
use crate::target::Target;
use crate::{Float, Result};

/// What the batches of a completed epoch add up to.
pub(super) struct Totals {
    /// The sum of the batch losses, each times its samples.
    pub(super) loss_sum: f64,
    /// The samples seen.
    pub(super) seen: usize,
    /// The training metrics' sums.
    pub(super) scores: Scores,
}

impl<'f, M: Model> Loop<'f, M> {
    /// Runs the batches of `epoch`; returns their totals, or `None` if the
    /// run stopped within the epoch (a non-finite loss, a batch callback),
    /// `run.history.stop` saying why.
    pub(super) fn epoch(
        &mut self,
        model: &mut M,
        run: &mut Run<'_, 'f, M>,
        epoch: usize,
    ) -> Result<Option<Totals>> {
        let iterations = run.iterations;
        let k = self.fit.accumulate;
        let inputs = run.train.inputs();
        if self.fit.shuffle {
            run.rng.permutation(&mut run.order);
        }
        let bar = self.epoch_bar(epoch, iterations);
        let mut loss_sum = 0.0;
        let mut seen = 0usize;
        let mut scores = Scores::default();
        let mut in_group = 0usize;
        // LOOP 1: the epoch's batches; `iterations` excludes a dropped tail.
        for (b, batch) in run
            .order
            .chunks(run.batch_size)
            .take(iterations)
            .enumerate()
        {
            // The rate this batch's update uses (a per-update schedule
            // moves it on after the step).
            let lr = model.learning_rate();
            // A distributed run's process takes its shard of the batch.
            let whole = batch;
            let batch = match run.world {
                Some(world) => {
                    let (start, end) = distributed::shard(whole.len(), world.rank(), world.size());
                    &whole[start..end]
                }
                None => whole,
            };
            if !run.gathered {
                gather_rows(inputs, batch, model.input_buffer(batch.len()));
                <M::Target as Target<M::Elem>>::gather(
                    run.train.targets(),
                    batch,
                    &mut run.targets,
                );
                // One unshuffled batch of every sample is the same batch
                // each epoch: the model's input buffer still holds it
                // next epoch, preprocessed, unless something else wrote it
                // (validation does, and resets `gathered`). It is not
                // started again then, so it is not scaled twice.
                run.gathered = run.whole_batch;
            }
            let view = <M::Target as Target<M::Elem>>::view(&run.targets, batch.len());
            // Synchronised batch norm runs inside the passes.
            let sync = run.world.filter(|_| self.fit.sync_batch_norm);
            let share = batch.len() as f64 / whole.len() as f64;
            let out = match sync {
                Some(world) => distributed::with_sync_batch_norm(world, share, whole.len(), || {
                    model.forward_buffered()
                }),
                None => model.forward_buffered(),
            };
            if run.track_scores {
                <M::Target as Target<M::Elem>>::score(out, view, M::TASK, &mut scores);
            }
            let mut loss = model.compute_loss(view, true).to_f64();
            if let Some(world) = run.world {
                // The batch's loss: every shard's, weighed by its samples.
                let mut sum = [loss * batch.len() as f64];
                distributed::reduce_sum(world, &mut sum, &mut run.exchange.sums);
                loss = sum[0] / whole.len() as f64;
            }
            if !loss.is_finite() && self.fit.stop_on_non_finite {
                if let Some(bar) = bar {
                    bar.abandon();
                }
                run.history.stop = StopReason::NonFinite {
                    epoch,
                    batch: b + 1,
                    loss,
                };
                return Ok(None);
            }
            if in_group == 0 {
                model.zero_grad();
            }
            match sync {
                Some(world) => {
                    distributed::with_sync_batch_norm(world, share, whole.len(), || {
                        model.backward();
                    });
                }
                None => model.backward(),
            }
            if let Some(world) = run.world {
                reduce_gradients(model, world, &mut run.exchange, share);
            }
            in_group += 1;
            let last = b + 1 == iterations;
            if in_group == k || last {
                if in_group > 1 {
                    scale_grads(model, 1.0 / in_group as f64);
                }
                match self.fit.clip {
                    Some(Clip::Norm(max)) => {
                        clip_grad_norm(model, max);
                    }
                    Some(Clip::Value(v)) => clip_grad_value(model, v),
                    None => {}
                }
                model.step();
                if let Some(world) = run.world {
                    share_buffers(model, world, &mut run.exchange);
                }
                in_group = 0;
                if run.per_iteration {
                    if let Some((s, _)) = &mut run.schedule {
                        let next = s.step(None);
                        apply(model, next, "step")?;
                    }
                }
            }
            loss_sum += loss * whole.len() as f64;
            seen += whole.len();
            if let Some(bar) = &bar {
                if let Output::Bar { loss: shared, .. } = &self.output {
                    shared.set(loss_sum / seen as f64);
                }
                bar.inc(1);
            }
            // In a distributed run the processes agree on every batch,
            // whether or not each has a callback.
            if !self.fit.on_batch_end.is_empty() || run.world.is_some() {
                let log = BatchLog {
                    epoch,
                    batch: b + 1,
                    loss,
                    lr,
                };
                let mut stop = false;
                for f in &mut self.fit.on_batch_end {
                    stop |= f(&log) == Control::Stop;
                }
                if let Some(world) = run.world {
                    // Whether any process stops: a sum of flags, in the
                    // loss's reusable buffers (no allocation per batch).
                    let mut flags = [f64::from(u8::from(stop))];
                    distributed::reduce_sum(world, &mut flags, &mut run.exchange.sums);
                    stop = flags[0] > 0.0;
                }
                if stop {
                    if let Some(bar) = bar {
                        bar.finish_and_clear();
                    }
                    run.history.stop = StopReason::Callback { epoch };
                    return Ok(None);
                }
            }
        }
        if let Some(bar) = bar {
            bar.finish_and_clear();
        }
        if let Some(world) = run.world {
            scores.reduce(world);
        }
        Ok(Some(Totals {
            loss_sum,
            seen,
            scores,
        }))
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
}

fn scale_grads<M: Model>(model: &mut M, factor: f64) {
    let f = M::Elem::of(factor);
    model.visit_parameters_mut(&mut |p| {
        let mut g = p.grad;
        g.mapv_inplace(|v| v * f);
    });
}

/// Replaces every process's gradients by their sum over the processes,
/// each first weighed by its shard's `share` of the batch: the gradient of
/// the batch's mean loss, the same bits on every process.
fn reduce_gradients<M: Model>(
    model: &mut M,
    world: &dyn Collective,
    exchange: &mut Exchange<M::Elem>,
    share: f64,
) {
    let w = M::Elem::of(share);
    let values = &mut exchange.values;
    values.clear();
    // Slices where the tensors are contiguous (they are): iterating a
    // dynamic-rank view element by element costs more than the exchange.
    model.visit_parameters(&mut |p| {
        if let Some(g) = p.grad {
            match g.as_slice() {
                Some(g) => values.extend(g.iter().map(|&v| v * w)),
                None => values.extend(g.iter().map(|&v| v * w)),
            }
        }
    });
    distributed::reduce_sum(world, values, &mut exchange.scratch);
    let mut at = 0;
    model.visit_parameters_mut(&mut |mut p| {
        let n = p.grad.len();
        match p.grad.as_slice_mut() {
            Some(g) => g.copy_from_slice(&values[at..at + n]),
            None => p
                .grad
                .iter_mut()
                .zip(&values[at..at + n])
                .for_each(|(g, &v)| *g = v),
        }
        at += n;
    });
}

/// Gives every process rank 0's buffers (batch norm's running
/// statistics), as DDP's `broadcast_buffers` does.
fn share_buffers<M: Model>(
    model: &mut M,
    world: &dyn Collective,
    exchange: &mut Exchange<M::Elem>,
) {
    let bytes = &mut exchange.bytes;
    bytes.clear();
    model.visit_buffers(&mut |b| {
        if let crate::model::BufferValue::Float(v) = b.value {
            for &x in v.iter() {
                bytes.extend_from_slice(&x.to_f64().to_le_bytes());
            }
        }
    });
    if bytes.is_empty() {
        return;
    }
    world.broadcast(0, bytes);
    let mut next = bytes.chunks_exact(8);
    model.visit_buffers_mut(&mut |b| {
        if let crate::model::BufferValueMut::Float(mut v) = b.value {
            for (x, c) in v.iter_mut().zip(&mut next) {
                *x = M::Elem::of(f64::from_le_bytes(c.try_into().expect("8 bytes")));
            }
        }
    });
}
