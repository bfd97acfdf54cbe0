//! What a run prints: nothing, plain lines, or a progress bar per epoch;
//! the line of iteration arithmetic before training and one line per
//! epoch.
//!
//! ```text
//! 800 samples, batch 32 -> 25 iterations per epoch, 50 epochs = 1250 updates
//! Epoch [3/50], Loss: 0.4123, Val Loss: 0.4410, Acc: 0.9120
//! ```

use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crate::history::EpochLog;

/// The running loss shown by the progress bar, as f64 bits.
#[derive(Clone, Default)]
pub(super) struct SharedLoss(Arc<AtomicU64>);

impl SharedLoss {
    pub(super) fn set(&self, loss: f64) {
        self.0.store(loss.to_bits(), Ordering::Relaxed);
    }
    pub(super) fn get(&self) -> f64 {
        f64::from_bits(self.0.load(Ordering::Relaxed))
    }
}

/// Where the output goes.
pub(super) enum Output<'a> {
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
    pub(super) fn line(&mut self, text: impl FnOnce() -> String) {
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

/// `800 samples, batch 32 -> 25 iterations per epoch, 50 epochs = 1250 updates`
pub(super) fn arithmetic(
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

/// `Epoch [3/50], Loss: 0.4123, Val Loss: 0.4410, Acc: 0.9120, Val Acc: 0.9000, LR: 1.0000e-2`
pub(super) fn epoch_line(log: &EpochLog, epochs: usize, show_lr: bool) -> String {
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
