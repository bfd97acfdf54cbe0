//! Activation and gradient buffers that are allocated once per batch size.
//!
//! A [`Buffer`] holds `rows x width` values, row-major, and hands out views
//! of its first `b` rows. It grows only when a larger batch arrives, so the
//! last, smaller batch of an epoch reuses the storage of the full ones.
//!
//! ```
//! # use macrograd_runtime as macrograd;
//! use macrograd::Buffer;
//! let mut buf = Buffer::<f32>::new(3);
//! buf.reserve(4);
//! buf.view_mut(2).fill(1.0);
//! assert_eq!(buf.view(2).sum(), 6.0);
//! assert_eq!(buf.capacity(), 4);
//! ```

use ndarray::{ArrayView2, ArrayViewMut2};

use crate::Float;

/// Row-major storage for a batch of `width`-wide samples.
#[derive(Clone, Debug, Default)]
pub struct Buffer<T> {
    data: Vec<T>,
    width: usize,
}

impl<T: Float> Buffer<T> {
    /// An empty buffer for samples of `width` features.
    pub fn new(width: usize) -> Self {
        Buffer {
            data: Vec::new(),
            width,
        }
    }

    /// Features per sample.
    pub fn width(&self) -> usize {
        self.width
    }

    /// Values in `rows` samples. Checked: a wrapped product would make the
    /// views below larger than their storage.
    #[inline]
    #[track_caller]
    fn len(&self, rows: usize) -> usize {
        match rows.checked_mul(self.width) {
            Some(len) => len,
            None => panic!(
                "a batch of {rows} samples of {} values overflows the address space",
                self.width
            ),
        }
    }

    /// Samples that fit without growing.
    pub fn capacity(&self) -> usize {
        self.data
            .len()
            .checked_div(self.width)
            .unwrap_or(usize::MAX)
    }

    /// Makes room for `rows` samples; allocates only if there is less.
    ///
    /// # Panics
    ///
    /// If `rows x width` overflows `usize`.
    #[inline]
    pub fn reserve(&mut self, rows: usize) {
        let len = self.len(rows);
        if self.data.len() < len {
            self.data.resize(len, T::zero());
        }
    }

    /// The first `rows` samples.
    ///
    /// # Panics
    ///
    /// If fewer than `rows` were reserved, or `rows x width` overflows
    /// `usize`.
    #[inline]
    #[track_caller]
    pub fn view(&self, rows: usize) -> ArrayView2<'_, T> {
        let data = &self.data[..self.len(rows)];
        // SAFETY: `data` holds exactly rows x width values, row-major.
        unsafe { ArrayView2::from_shape_ptr((rows, self.width), data.as_ptr()) }
    }

    /// The first `rows` samples, writable.
    ///
    /// # Panics
    ///
    /// If fewer than `rows` were reserved, or `rows x width` overflows
    /// `usize`.
    #[inline]
    #[track_caller]
    pub fn view_mut(&mut self, rows: usize) -> ArrayViewMut2<'_, T> {
        let len = self.len(rows);
        let data = &mut self.data[..len];
        // SAFETY: `data` holds exactly rows x width values, row-major, and is
        // borrowed mutably for the view's lifetime.
        unsafe { ArrayViewMut2::from_shape_ptr((rows, self.width), data.as_mut_ptr()) }
    }
}

/// Where a model is in the four steps of a training iteration; generated
/// models keep one and ask it before each step, so that calling the steps
/// out of order is a clear panic instead of a wrong number.
#[derive(Clone, Debug)]
pub struct StepState {
    batch: usize,
    phase: Phase,
    raw_input: bool,
    grads_cleared: bool,
    training: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Phase {
    Empty,
    Forward,
    Loss,
}

impl Default for StepState {
    fn default() -> Self {
        StepState {
            batch: 0,
            phase: Phase::Empty,
            raw_input: false,
            grads_cleared: true,
            training: true,
        }
    }
}

impl StepState {
    /// Samples in the current batch.
    #[inline]
    pub fn batch(&self) -> usize {
        self.batch
    }

    /// Training mode (`true`) or evaluation mode.
    #[inline]
    pub fn training(&self) -> bool {
        self.training
    }

    /// Switches between training and evaluation mode.
    pub fn set_training(&mut self, training: bool) {
        self.training = training;
    }

    /// A new batch of `batch` samples is being written to the input buffer.
    #[inline]
    pub fn begin_input(&mut self, batch: usize) {
        self.batch = batch;
        self.phase = Phase::Empty;
        self.raw_input = true;
    }

    /// Whether the input buffer holds rows written since the last call: true
    /// once after each [`StepState::begin_input`]. The forward pass
    /// preprocesses the input then, so that a batch forwarded twice (the
    /// epoch loop keeps a dataset that is one batch in place) is scaled
    /// once.
    #[inline]
    pub fn take_raw_input(&mut self) -> bool {
        std::mem::replace(&mut self.raw_input, false)
    }

    /// The forward pass over the current batch has run.
    #[inline]
    pub fn end_forward(&mut self) {
        self.phase = Phase::Forward;
    }

    /// Before the loss of `targets` samples: returns the batch size. With
    /// `grad`, the loss keeps its gradient and a backward may follow.
    ///
    /// # Panics
    ///
    /// If no forward pass ran, or the target count differs from the batch.
    #[inline]
    #[track_caller]
    pub fn begin_loss(&mut self, targets: usize, grad: bool) -> usize {
        assert!(
            self.phase >= Phase::Forward,
            "`loss` needs the outputs of a `forward` call first"
        );
        assert!(
            targets == self.batch,
            "`loss` got {targets} targets, but the last `forward` had {} samples",
            self.batch
        );
        self.phase = if grad { Phase::Loss } else { Phase::Forward };
        self.batch
    }

    /// Before the backward pass: returns whether to add to the gradients
    /// (`true`) or overwrite them (`false`, right after `zero_grad`).
    ///
    /// # Panics
    ///
    /// If no loss was computed since the last forward pass.
    #[inline]
    #[track_caller]
    pub fn begin_backward(&mut self) -> bool {
        assert!(
            self.phase == Phase::Loss,
            "`backward` needs a `loss` computed after the last `forward`"
        );
        let accumulate = !self.grads_cleared;
        self.grads_cleared = false;
        accumulate
    }

    /// Clears the gradients: the next backward overwrites instead of adding,
    /// and a `step` before it changes nothing (PyTorch's `set_to_none`).
    #[inline]
    pub fn zero_grad(&mut self) {
        self.grads_cleared = true;
    }

    /// Whether the gradients hold values (a backward ran since `zero_grad`).
    #[inline]
    pub fn has_grads(&self) -> bool {
        !self.grads_cleared
    }
}
