//! What the callbacks of [`Fit`](super::Fit) see and answer: a batch's log
//! and [`Control`].
//!
//! ```
//! # use macrograd_runtime as macrograd;
//! use macrograd::train::Control;
//! assert_eq!(Control::from(true), Control::Stop);
//! assert_eq!(Control::from(()), Control::Continue);
//! ```

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
