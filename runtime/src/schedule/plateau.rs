//! ReduceLROnPlateau: the lr cut when the monitored metric stops
//! improving.

use super::{
    require, require_non_negative, state_check, state_count, state_finite, state_values, Scheduler,
    Setting,
};
use crate::StateError;

/// Whether [`ReduceLROnPlateau`]'s metric should go down or up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlateauMode {
    /// Lower is better (a loss); the default.
    Min,
    /// Higher is better (an accuracy).
    Max,
}

/// How [`ReduceLROnPlateau`] measures an improvement against the best value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ThresholdMode {
    /// Better than `best * (1 - threshold)` (min) or `best * (1 +
    /// threshold)` (max); the default.
    Rel,
    /// Better than `best - threshold` (min) or `best + threshold` (max).
    Abs,
}

/// Cuts the lr when the monitored metric stops improving
/// (`torch.optim.lr_scheduler.ReduceLROnPlateau`), stepped per epoch with
/// the epoch's metric.
///
/// Each step compares the metric with the best so far (see
/// [`ThresholdMode`]): better resets the count of bad epochs, worse adds
/// one. During the `cooldown` epochs after a cut, bad epochs are not
/// counted. PyTorch's convention: the lr is cut when the count **exceeds**
/// `patience`, i.e. on the `patience + 1`-th bad epoch in a row (Keras cuts
/// on the `patience`-th); then `lr = max(lr * factor, min_lr)`, applied
/// only if it changes the lr by more than `eps`, the cooldown starts and
/// the count restarts. A NaN metric is a bad epoch; `step(None)` (no
/// metric) changes nothing.
///
/// ```
/// # use macrograd_runtime as macrograd;
/// use macrograd::schedule::{ReduceLROnPlateau, Scheduler};
/// let mut s = ReduceLROnPlateau::new().factor(0.5).patience(1);
/// s.start(0.1, None);
/// assert_eq!(s.step(Some(1.0)).lr, 0.1); // best
/// assert_eq!(s.step(Some(1.0)).lr, 0.1); // 1 bad epoch: not more than patience
/// assert_eq!(s.step(Some(1.0)).lr, 0.05); // 2 bad epochs: cut
/// ```
#[derive(Clone, Debug)]
pub struct ReduceLROnPlateau {
    mode: PlateauMode,
    factor: f64,
    patience: usize,
    threshold: f64,
    threshold_mode: ThresholdMode,
    cooldown: usize,
    min_lr: f64,
    eps: f64,
    lr: f64,
    best: f64,
    num_bad_epochs: usize,
    cooldown_counter: usize,
}

impl Default for ReduceLROnPlateau {
    /// PyTorch's defaults: `mode = min`, `factor = 0.1`, `patience = 10`,
    /// `threshold = 1e-4` relative, `cooldown = 0`, `min_lr = 0`,
    /// `eps = 1e-8`.
    fn default() -> Self {
        ReduceLROnPlateau {
            mode: PlateauMode::Min,
            factor: 0.1,
            patience: 10,
            threshold: 1e-4,
            threshold_mode: ThresholdMode::Rel,
            cooldown: 0,
            min_lr: 0.0,
            eps: 1e-8,
            lr: 0.0,
            best: f64::INFINITY,
            num_bad_epochs: 0,
            cooldown_counter: 0,
        }
    }
}

impl ReduceLROnPlateau {
    /// PyTorch's defaults: a tenth of the lr after more than 10 epochs
    /// without a 0.01% relative improvement of a metric to minimize.
    pub fn new() -> Self {
        Self::default()
    }

    setters! {
        /// Whether the metric should go down (default) or up.
        mode: PlateauMode;

        /// The factor of a cut, in [0, 1); default 0.1.
        factor: f64;

        /// The bad epochs tolerated; the cut comes on one more; default 10.
        patience: usize;

        /// The least improvement that counts, non-negative; default 1e-4.
        threshold: f64;

        /// Relative (default) or absolute threshold.
        threshold_mode: ThresholdMode;

        /// Epochs after a cut in which bad epochs are not counted; default 0.
        cooldown: usize;

        /// The lowest lr a cut goes to; default 0.
        min_lr: f64;

        /// A cut is applied only if it changes the lr by more than this;
        /// default 1e-8.
        eps: f64;
    }

    fn worst(&self) -> f64 {
        match self.mode {
            PlateauMode::Min => f64::INFINITY,
            PlateauMode::Max => f64::NEG_INFINITY,
        }
    }

    fn is_better(&self, a: f64) -> bool {
        let (best, thr) = (self.best, self.threshold);
        match (self.mode, self.threshold_mode) {
            (PlateauMode::Min, ThresholdMode::Rel) => a < best * (1.0 - thr),
            (PlateauMode::Min, ThresholdMode::Abs) => a < best - thr,
            (PlateauMode::Max, ThresholdMode::Rel) => a > best * (thr + 1.0),
            (PlateauMode::Max, ThresholdMode::Abs) => a > best + thr,
        }
    }
}

impl Scheduler for ReduceLROnPlateau {
    fn start(&mut self, lr: f64, _momentum: Option<f64>) -> Setting {
        self.lr = lr;
        self.best = self.worst();
        self.num_bad_epochs = 0;
        self.cooldown_counter = 0;
        Setting::lr(lr)
    }

    fn step(&mut self, metric: Option<f64>) -> Setting {
        let Some(current) = metric else {
            return Setting::lr(self.lr);
        };
        // STEP 1: count the epoch as better or bad.
        if self.is_better(current) {
            self.best = current;
            self.num_bad_epochs = 0;
        } else {
            self.num_bad_epochs = self.num_bad_epochs.saturating_add(1); // as loaded: any count
        }
        // STEP 2: bad epochs during the cooldown do not count.
        if self.cooldown_counter > 0 {
            self.cooldown_counter -= 1;
            self.num_bad_epochs = 0;
        }
        // STEP 3: cut on the (patience + 1)-th bad epoch.
        if self.num_bad_epochs > self.patience {
            let new_lr = (self.lr * self.factor).max(self.min_lr);
            if self.lr - new_lr > self.eps {
                self.lr = new_lr;
            }
            self.cooldown_counter = self.cooldown;
            self.num_bad_epochs = 0;
        }
        Setting::lr(self.lr)
    }

    fn state(&self) -> Vec<f64> {
        vec![
            self.lr,
            self.best,
            self.num_bad_epochs as f64,
            self.cooldown_counter as f64,
        ]
    }

    fn load_state(&mut self, state: &[f64]) -> Result<(), StateError> {
        let name = "ReduceLROnPlateau";
        let layout = "lr, best, num_bad_epochs, cooldown_counter";
        let [lr, best, bad, cooldown] = state_values(name, layout, state)?;
        // `best` starts at an infinity; a NaN never becomes the best.
        state_check(!best.is_nan(), name, "best", "a number (not NaN)", best)?;
        let loaded = (
            state_finite(name, "lr", lr)?,
            state_count(name, "num_bad_epochs", bad)?,
            state_count(name, "cooldown_counter", cooldown)?,
        );
        (self.lr, self.num_bad_epochs, self.cooldown_counter) = loaded;
        self.best = best;
        Ok(())
    }

    fn needs_metric(&self) -> bool {
        true
    }

    fn describe(&self) -> String {
        format!(
            "ReduceLROnPlateau(mode='{}', factor={:?}, patience={}, threshold={:?}, \
             threshold_mode='{}', cooldown={}, min_lr={:?}, eps={:?})",
            match self.mode {
                PlateauMode::Min => "min",
                PlateauMode::Max => "max",
            },
            self.factor,
            self.patience,
            self.threshold,
            match self.threshold_mode {
                ThresholdMode::Rel => "rel",
                ThresholdMode::Abs => "abs",
            },
            self.cooldown,
            self.min_lr,
            self.eps,
        )
    }

    fn validate(&self) -> Result<(), String> {
        let name = "ReduceLROnPlateau";
        require(
            (0.0..1.0).contains(&self.factor),
            name,
            "factor",
            "must be in [0, 1)",
            self.factor,
        )?;
        require_non_negative(name, "threshold", self.threshold)?;
        require_non_negative(name, "min_lr", self.min_lr)?;
        require_non_negative(name, "eps", self.eps)
    }
}
