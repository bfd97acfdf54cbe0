//! Recurrent layers: PyTorch's `nn.RNN` (tanh), `nn.LSTM` and `nn.GRU`,
//! batch first, with their formulas, gate order, initialisation and
//! parameter layout, any number of layers, one or two directions.
//!
//! A sample is a sequence of `T` steps of `F` features, stored as one row
//! of `T * F` values (step after step), as PyTorch's `[b, T, F]` flattened;
//! the output is the hidden state of every step, `[b, T * H]` (`2 H` per
//! step with two directions: forward, then reverse, as PyTorch concatenates
//! them). Per direction and layer, with gates `G` (1, 4, 3):
//!
//! ```text
//! RNN:  h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh)
//! LSTM: i, f, g, o = split(x W_ih^T + b_ih + h W_hh^T + b_hh)
//!       c' = sigmoid(f) c + sigmoid(i) tanh(g);  h' = sigmoid(o) tanh(c')
//! GRU:  r, z = sigmoid(split(x W_ih^T + b_ih + h W_hh^T + b_hh)[..2])
//!       n = tanh(x W_in^T + b_in + r (h W_hn^T + b_hn));  h' = (1 - z) n + z h
//! ```
//!
//! with `h` and `c` starting at zero.
//!
//! RNN and GRU: the input projection of all steps is one product (`[b T,
//! F] x [F, G H]`); the recurrent product runs per step, on `W_hh` packed
//! once per pass ([`PackedB`]); backpropagation through time runs the steps
//! in reverse, and the weight gradients of all steps are one product each.
//!
//! LSTM, the one the sequence benchmark trains: each step is one product,
//! `[h_prev | x] [W_hh | W_ih]^T` (`[b, H + F] x [H + F, 4 H]`, the weights
//! packed once per pass), then the cells of the whole batch in one
//! dispatched loop (biases added there); the backward's step is the
//! product `d_pre W_hh` and the cells' backward (the bias gradient summed
//! there), and every 256 rows of steps one product adds their part of the
//! weight gradient while they are in cache. The samples run in groups of
//! at least 32 (see [`LSTM_GROUP`]) whose steps are independent: threads
//! take whole groups, and with a single group split each step's hidden
//! units between them; either way the results do not depend on the thread
//! count.
//!
//! Every buffer grows with the batch and is then reused: a training step
//! allocates nothing.

use std::marker::PhantomData;
use std::ops::Range;

use ndarray::{s, Array1, Array2, ArrayView2, ArrayViewMut2, ShapeBuilder};

use super::{export_input_error, Layer};
use crate::float::{sigmoid_fused, tanh_fused};
use crate::gemm::gemm;
use crate::gemm::packed::PackedB;
use crate::onnx::{Attr, Graph, Names, Value};
use crate::optim::Optimizer;
use crate::parallel::Barrier;
use crate::param::{Parameter, ParameterMut};
use crate::{Float, Rng};

/// Which recurrence.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cell {
    /// `nn.RNN` with `nonlinearity='tanh'`.
    Rnn,
    /// `nn.LSTM`: gates `i, f, g, o`.
    Lstm,
    /// `nn.GRU`: gates `r, z, n`.
    Gru,
}

impl Cell {
    /// Gates per hidden unit: 1, 4, 3.
    pub fn gates(self) -> usize {
        match self {
            Cell::Rnn => 1,
            Cell::Lstm => 4,
            Cell::Gru => 3,
        }
    }
}

/// The sizes of a recurrent layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecurrentConfig {
    /// The recurrence.
    pub cell: Cell,
    /// Steps per sequence, `T`.
    pub steps: usize,
    /// Features per step, `F`.
    pub input_size: usize,
    /// Hidden units per direction, `H`.
    pub hidden_size: usize,
    /// Layers stacked, each reading the previous one's outputs.
    pub num_layers: usize,
    /// A second direction per layer, reading the sequence backwards.
    pub bidirectional: bool,
}

impl RecurrentConfig {
    /// Directions per layer: 1 or 2.
    pub fn directions(&self) -> usize {
        1 + usize::from(self.bidirectional)
    }

    /// Values per output step: `H`, or `2 H` with two directions.
    pub fn output_size(&self) -> usize {
        self.hidden_size * self.directions()
    }
}

/// One direction of one layer: its parameters, their gradients, and what
/// its last forward pass recorded for the backward.
#[derive(Clone, Debug)]
struct Direction<T> {
    reverse: bool,
    weight_ih: Array2<T>,
    weight_hh: Array2<T>,
    bias_ih: Array1<T>,
    bias_hh: Array1<T>,
    grad_ih: Array2<T>,
    grad_hh: Array2<T>,
    grad_bias_ih: Array1<T>,
    grad_bias_hh: Array1<T>,
    /// `[b, H]` each: `dL/dh` and (LSTM) `dL/dc` flowing back one step.
    dh: Vec<T>,
    dc: Vec<T>,
}

/// What a direction's forward pass records for its backward.
///
/// RNN and GRU keep every step's values sample after sample (`[b, T,
/// ...]`); LSTM keeps them step after step (`[T, b, ...]`), so that each
/// step's rows are contiguous.
#[derive(Clone, Debug, Default)]
struct Records<T> {
    /// `[b, T, G H]`: the input projection `x W_ih^T + b_ih`, then (in the
    /// backward) the gradient of the gates' input part (not LSTM).
    pre: Vec<T>,
    /// `[b, T, G H]`: the activated gates (RNN: `h`). LSTM: `[T, b, 4 H]`,
    /// then (in the backward) the gradient of the gates' inputs.
    act: Vec<T>,
    /// `[b, T, H]`: LSTM's cell state `c` (`[T, b, H]`); GRU's
    /// `h W_hn^T + b_hn`.
    state: Vec<T>,
    /// LSTM: `[T, b, H]`, `tanh(c)`.
    tanh_c: Vec<T>,
    /// `[b, T, H]`: the hidden state each step starts from (the previous
    /// step's output; zeros at the first step), the recurrent product's
    /// input and, in the backward, the weight gradient's (not LSTM).
    h_prev: Vec<T>,
    /// LSTM: `[T + 1, b, H + F]`, each step's `h_prev` and input side by
    /// side, what its one product multiplies by `[W_hh | W_ih]^T` (and the
    /// last step's output in slot `T`).
    hx: Vec<T>,
    /// `[b, G H]`: the recurrent product of one step, `h W_hh^T + b_hh`
    /// (LSTM: `[h_prev | x] [W_hh | W_ih]^T`).
    hidden: Vec<T>,
    /// `[b, T, G H]` (GRU only): the gradient of the gates' hidden part,
    /// which for RNN is that of the input part, `pre`.
    d_hidden: Vec<T>,
    /// LSTM: `[4 H, H + F]`, `[W_hh | W_ih]`, and `[4 H]`, `b_ih + b_hh`.
    weights: Vec<T>,
    bias: Vec<T>,
    /// LSTM: `[4 H, H + F]`, the gradient of `[W_hh | W_ih]`.
    grad: Vec<T>,
    /// `[G H]`: a sum of gradient rows.
    sums: Vec<T>,
    /// The recurrent weight packed for the steps' products: `W_hh^T` in
    /// the forward (LSTM: `[W_hh | W_ih]^T`), `W_hh` in the backward.
    packed: PackedB<T>,
}

fn sigmoid<T: Float>(x: T) -> T {
    x.fast_sigmoid()
}

/// Multiply-adds of one step's product from which the steps of an LSTM
/// are split across threads (by hidden units).
const STEP_PARALLEL_MIN: usize = 1 << 18;

/// Samples per group, at least: a batch of `b` samples is split into
/// `max(1, b / LSTM_GROUP)` groups of consecutive samples (group `g` of
/// `n`: samples `g b / n .. (g + 1) b / n`), which run their steps
/// independently, so that threads can take whole groups (no thread then
/// waits for another between steps). Each group's records are a block of
/// their own, step after step within it; its bias and weight gradients
/// are summed on their own and then added group after group, so the
/// results depend on the batch size but not on the threads.
const LSTM_GROUP: usize = 32;

/// The groups of samples of a batch of `batch`: see [`LSTM_GROUP`].
fn lstm_groups(batch: usize) -> usize {
    (batch / LSTM_GROUP).max(1)
}

/// Rows (samples times steps) of the LSTM's weight gradient products: the
/// backward adds `d_pre^T [h_prev | x]` every `ceil(GRAD_ROWS / b)` steps,
/// while those steps' gradients are still in cache (one depth block of the
/// packed gemm).
const GRAD_ROWS: usize = 256;

/// One LSTM step over a range of hidden units: the buffers of a
/// direction's pass, shared by the threads that each take a range of
/// units.
///
/// Forward: `gates <- [h_prev | x] [W_hh | W_ih]^T` in the units' columns
/// of the four gates, then the cells of those units for every sample.
/// Backward: `dh <- d_pre' W_hh` in the units' columns (`d_pre'` the
/// gradient of the step after, in the direction's order), then the cells'
/// backward. The products read every column of what the step before
/// wrote; everything else a range of units reads or writes is its own.
struct LstmStep<'a, T> {
    /// Samples: the batch's, or a group's (see [`lstm_groups`]).
    batch: usize,
    steps: usize,
    h: usize,
    /// Values per row of `hx`: `H + F`.
    hx_width: usize,
    /// Values per step of `out` and `d_out`, and this direction's offset.
    width: usize,
    off: usize,
    /// `[b, 4 H]`: the step's product (forward).
    gates: *mut T,
    /// `[4 H]`: `b_ih + b_hh` (forward).
    bias: *const T,
    /// `[T, b, 4 H]`: the gates (written by the forward), then their
    /// gradients (written by the backward).
    act: *mut T,
    /// `[T, b, H]` each: the cell states and their tanh, written by the
    /// forward.
    state: *mut T,
    tanh_c: *mut T,
    /// `[T + 1, b, H + F]`: `h_prev` beside the input, written by the
    /// forward (the last step's output in slot `T`).
    hx: *mut T,
    /// `[b, T, W]`: the outputs, written after the forward's last step.
    out: *mut T,
    /// `[b, T, W]`: `dL/dout` (backward).
    d_out: *const T,
    /// `[b, H]` each: the gradients carried to the step before (backward).
    dh: *mut T,
    dc: *mut T,
    /// `[4 H]`: the bias gradient, summed by the backward.
    sums: *mut T,
    /// `[4 H, H + F]`: the gradient of `[W_hh | W_ih]`, summed by the
    /// backward.
    grad: *mut T,
    /// The matrix packed: `[W_hh | W_ih]^T` (forward) or `W_hh`
    /// (backward).
    weight: ArrayView2<'a, T>,
    packed: &'a PackedB<T>,
    /// The column tile of the packed products, if they run by columns.
    tile: Option<usize>,
    _buffers: PhantomData<&'a mut [T]>,
}

/// What [`LstmStep::for_groups`] runs: every step of a pass of a group
/// and range of units, with the barrier of the threads sharing the group.
type StepsOf<'f, T> = dyn Fn(&LstmStep<'_, T>, Range<usize>, &Barrier) + Sync + 'f;

impl<T> Clone for LstmStep<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for LstmStep<'_, T> {}

// SAFETY: the threads sharing a step write disjoint values (each its own
// units' columns; see `LstmStep`), and the call that shares it waits for
// every thread before the next step.
unsafe impl<T: Sync> Sync for LstmStep<'_, T> {}

/// Element `at` of `base`, `len` values, as a slice.
///
/// # Safety
///
/// The values lie inside the buffer `base` points into; nothing writes
/// them while the slice lives.
#[inline(always)]
unsafe fn part<'a, T>(base: *const T, at: usize, len: usize) -> &'a [T] {
    // SAFETY: the caller's contract.
    unsafe { std::slice::from_raw_parts(base.add(at), len) }
}

/// As [`part`], mutable.
///
/// # Safety
///
/// As [`part`]'s, and nothing else reads or writes them while the slice
/// lives.
#[inline(always)]
#[allow(clippy::mut_from_ref)]
unsafe fn part_mut<'a, T>(base: *mut T, at: usize, len: usize) -> &'a mut [T] {
    // SAFETY: the caller's contract.
    unsafe { std::slice::from_raw_parts_mut(base.add(at), len) }
}

impl<T: Float> LstmStep<'_, T> {
    /// The ranges of hidden units the threads take: one per thread when
    /// the product runs by columns, the hidden size splits into whole
    /// tiles and the step is large enough; else all units at once.
    fn unit_ranges(&self) -> (usize, usize) {
        let (h, threads) = (self.h, crate::parallel::threads());
        match self.tile {
            Some(tile)
                if threads > 1
                    && h.is_multiple_of(tile)
                    && h >= 2 * tile
                    && self.batch * 4 * h * self.hx_width >= STEP_PARALLEL_MIN =>
            {
                let chunk = h.div_ceil(threads).next_multiple_of(tile);
                (h.div_ceil(chunk), chunk)
            }
            _ => (1, h),
        }
    }

    /// Runs `f` over every group of samples (see [`lstm_groups`]) and
    /// range of units: with several groups, the groups on as many threads
    /// as there are groups, each group all its units on one thread (and
    /// its products on that thread alone); with one group, its ranges of
    /// units on as many threads as they are. `f` runs every step of a
    /// pass of its group and units, each step ended by the barrier's
    /// `wait` (waking threads for every step would cost more than many a
    /// step).
    fn for_groups(&self, f: &StepsOf<'_, T>) {
        let groups = lstm_groups(self.batch);
        if groups == 1 {
            let (parts, chunk) = self.unit_ranges();
            let barrier = Barrier::new(parts);
            crate::parallel::run_parts(parts, &|p| {
                f(self, p * chunk..((p + 1) * chunk).min(self.h), &barrier)
            });
            return;
        }
        let parts = crate::parallel::threads().min(groups);
        crate::parallel::run_parts(parts, &|p| {
            let barrier = Barrier::new(1);
            crate::parallel::with_threads(1, || {
                for g in (p..groups).step_by(parts) {
                    f(&self.group(groups, g), 0..self.h, &barrier);
                }
            });
        });
    }

    /// The step of group `g` of `groups`: its samples' rows of every
    /// buffer (see [`lstm_groups`]), its own bias and weight gradient.
    fn group(&self, groups: usize, g: usize) -> Self {
        let (lo, hi) = (g * self.batch / groups, (g + 1) * self.batch / groups);
        let (h, gh, steps) = (self.h, 4 * self.h, self.steps);
        let sample = steps * self.width;
        LstmStep {
            batch: hi - lo,
            gates: self.gates.wrapping_add(lo * gh),
            act: self.act.wrapping_add(lo * steps * gh),
            state: self.state.wrapping_add(lo * steps * h),
            tanh_c: self.tanh_c.wrapping_add(lo * steps * h),
            hx: self.hx.wrapping_add(lo * (steps + 1) * self.hx_width),
            out: self.out.wrapping_add(lo * sample),
            d_out: self.d_out.wrapping_add(lo * sample),
            dh: self.dh.wrapping_add(lo * h),
            dc: self.dc.wrapping_add(lo * h),
            sums: self.sums.wrapping_add(g * gh),
            grad: self.grad.wrapping_add(g * gh * self.hx_width),
            ..*self
        }
    }

    /// Adds the weight gradient of `count` steps from step `lo` (their
    /// rows of `d_pre` and `hx`) to the rows of `grad` of `units` (all
    /// rows in one product with every unit, else one product per gate on
    /// this thread).
    ///
    /// # Safety
    ///
    /// The steps' gradients in `act` are complete in the columns of
    /// `units`; no other thread reads or writes those rows of `grad`.
    unsafe fn weight_grad(&self, lo: usize, count: usize, units: &Range<usize>) {
        let (h, gh, kx) = (self.h, 4 * self.h, self.hx_width);
        let rows = count * self.batch;
        let at = lo * self.batch;
        // SAFETY: the rows lie inside `act` and `hx`; the caller's
        // contract for the columns of `act` and the rows of `grad`.
        unsafe {
            let hx = ArrayView2::from_shape_ptr((rows, kx), self.hx.add(at * kx));
            let d_pre = |cols: Range<usize>| {
                ArrayView2::from_shape_ptr(
                    (rows, cols.len()).strides((gh, 1)),
                    self.act.add(at * gh + cols.start),
                )
            };
            let grad = |r: Range<usize>| {
                ArrayViewMut2::from_shape_ptr((r.len(), kx), self.grad.add(r.start * kx))
            };
            if units.len() == h {
                gemm(T::one(), d_pre(0..gh).t(), hx, T::one(), grad(0..gh));
                return;
            }
            crate::parallel::with_threads(1, || {
                for g in 0..4 {
                    let r = g * h + units.start..g * h + units.end;
                    gemm(T::one(), d_pre(r.clone()).t(), hx, T::one(), grad(r));
                }
            });
        }
    }

    /// `C <- A weight + beta C` in the columns of `units` of each of
    /// `gates` blocks of `H` columns: with every unit, the whole product
    /// (on as many threads as it pays for), else on this thread, by
    /// columns.
    ///
    /// # Safety
    ///
    /// `a` holds `batch` rows (`rsa` apart) of the packed matrix's depth,
    /// `c` `batch` rows (`rsc` apart) of its width; no other thread reads
    /// or writes those columns of `c`, and the other threads run only
    /// when `units` is not every unit.
    #[allow(clippy::too_many_arguments)]
    unsafe fn product(
        &self,
        units: &Range<usize>,
        gates: usize,
        a: *const T,
        rsa: usize,
        beta: T,
        c: *mut T,
        rsc: usize,
    ) {
        if units.len() < self.h {
            for g in 0..gates {
                let cols = g * self.h + units.start..g * self.h + units.end;
                // SAFETY: the caller's contract; the columns are this
                // thread's.
                unsafe {
                    self.packed.gemm_columns(
                        cols,
                        self.batch,
                        T::one(),
                        a,
                        rsa as isize,
                        1,
                        beta,
                        c,
                        rsc as isize,
                        1,
                    )
                };
            }
            return;
        }
        let (k, n) = self.weight.dim();
        // SAFETY: the caller's contract: the rows hold these values, and
        // this thread is the only one.
        let (a, c) = unsafe {
            (
                ArrayView2::from_shape_ptr((self.batch, k).strides((rsa, 1)), a),
                ArrayViewMut2::from_shape_ptr((self.batch, n).strides((rsc, 1)), c),
            )
        };
        self.packed.gemm(T::one(), a, self.weight, beta, c);
    }

    /// The forward of step `t` (`prev` the step before in the direction's
    /// order; its output goes to `hx`'s slot `slot`, the step after's or
    /// the last) for `units`.
    ///
    /// # Safety
    ///
    /// The buffers hold the pass's sizes; no other thread works on
    /// `units`, and every thread has finished step `prev`.
    unsafe fn forward(&self, t: usize, prev: Option<usize>, slot: usize, units: Range<usize>) {
        let kx = self.hx_width;
        // SAFETY: `h_prev` of step t was written by step `prev`, which
        // every thread has finished; the columns of `gates` are this
        // thread's.
        unsafe {
            self.product(
                &units,
                4,
                self.hx.add(t * self.batch * kx),
                kx,
                T::zero(),
                self.gates,
                4 * self.h,
            );
            lstm_cells(self, t, prev, slot, units);
        }
    }

    /// Copies the outputs of `units` of every step from `hx` (step `t`'s
    /// in slot `slot(t)`) to `out`, after the last step, when the threads
    /// share the units of each sample: written there by the steps, their
    /// outputs would share cache lines of `out` at every step.
    ///
    /// # Safety
    ///
    /// Every step is done; no other thread works on `units`.
    unsafe fn outputs(&self, slot: impl Fn(usize) -> usize, units: &Range<usize>) {
        let n = units.len();
        for t in 0..self.steps {
            for b in 0..self.batch {
                // SAFETY: inside `hx` and `out`, in this thread's units.
                unsafe {
                    let h = part(
                        self.hx,
                        (slot(t) * self.batch + b) * self.hx_width + units.start,
                        n,
                    );
                    let at = b * self.steps * self.width + t * self.width + self.off + units.start;
                    part_mut(self.out, at, n).copy_from_slice(h);
                }
            }
        }
    }

    /// The backward of step `t` (`prev` and `after`, the steps before and
    /// after it in the direction's order) for `units`.
    ///
    /// # Safety
    ///
    /// As [`LstmStep::forward`]'s, with step `after` finished.
    unsafe fn backward(
        &self,
        t: usize,
        prev: Option<usize>,
        after: Option<usize>,
        units: Range<usize>,
    ) {
        let (h, gh) = (self.h, 4 * self.h);
        // SAFETY: the gradients of step `after` are complete; `dh`'s
        // columns `units` are this thread's.
        unsafe {
            if let Some(after) = after {
                let a = self.act.add(after * self.batch * gh);
                self.product(&units, 1, a, gh, T::zero(), self.dh, h);
            }
            lstm_cells_backward(self, t, prev, units);
        }
    }
}

crate::simd::dispatch! {
    /// The LSTM cells of step `t` for `units` of every sample (see
    /// [`lstm_cell_body`]), the outputs into `hx`'s slot `slot` (and, with
    /// every unit, into `out`).
    unsafe fn lstm_cells<T: Float>(
        s: &LstmStep<'_, T>,
        t: usize,
        prev: Option<usize>,
        slot: usize,
        units: Range<usize>,
    ) => lstm_cells_body
}

/// # Safety
///
/// As [`LstmStep::forward`]'s.
#[inline(always)]
unsafe fn lstm_cells_body<T: Float>(
    s: &LstmStep<'_, T>,
    t: usize,
    prev: Option<usize>,
    slot: usize,
    units: Range<usize>,
) {
    let (h, gh, n, u) = (s.h, 4 * s.h, units.len(), units.start);
    for b in 0..s.batch {
        let row = (t * s.batch + b) * gh;
        // SAFETY: every slice is inside its buffer, in this thread's units
        // of sample b; the ones written are not read through another.
        unsafe {
            let gates = |g: usize| part(s.gates, b * gh + g * h + u, n);
            let bias = |g: usize| part(s.bias, g * h + u, n);
            let act = |g: usize| part_mut(s.act, row + g * h + u, n);
            let x = LstmInputs {
                i: (gates(0), bias(0)),
                f: (gates(1), bias(1)),
                g: (gates(2), bias(2)),
                o: (gates(3), bias(3)),
            };
            let c = part_mut(s.state, (t * s.batch + b) * h + u, n);
            let tc = part_mut(s.tanh_c, (t * s.batch + b) * h + u, n);
            let h_out = part_mut(s.hx, (slot * s.batch + b) * s.hx_width + u, n);
            let (ai, af, ag, ao) = (act(0), act(1), act(2), act(3));
            match prev {
                Some(p) => {
                    let c_prev = part(s.state, (p * s.batch + b) * h + u, n);
                    lstm_cell_body::<T, true>(x, c_prev, ai, af, ag, ao, c, tc, h_out);
                }
                None => lstm_cell_body::<T, false>(x, &[], ai, af, ag, ao, c, tc, h_out),
            }
            if n == h {
                // No other thread writes this sample's outputs: copied
                // now, while in cache (else by `LstmStep::outputs`).
                let at = b * s.steps * s.width + t * s.width + s.off;
                part_mut(s.out, at, n).copy_from_slice(h_out);
            }
        }
    }
}

/// What one LSTM cell reads: each gate's product and bias.
#[derive(Clone, Copy)]
struct LstmInputs<'a, T> {
    i: (&'a [T], &'a [T]),
    f: (&'a [T], &'a [T]),
    g: (&'a [T], &'a [T]),
    o: (&'a [T], &'a [T]),
}

/// One LSTM cell over `n` units (one sample, one step): the gates from
/// product plus bias into `ai, af, ag, ao`, the cell state into `c` (from
/// `c_prev` if `PREV`, else zeros), its tanh into `tc` (for the backward)
/// and the hidden state into `h_out`.
/// Loops over plain slices, each written one a parameter of its own (so
/// that the compiler knows they do not overlap), which run on the vector
/// units (the gates' sigmoid and tanh are inline arithmetic,
/// [`Float::fast_sigmoid`] and [`Float::fast_tanh`] with their
/// multiply-adds fused: the loops are compiled with FMA where the CPU has
/// it, see `simd::dispatch!`).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn lstm_cell_body<T: Float, const PREV: bool>(
    x: LstmInputs<'_, T>,
    c_prev: &[T],
    ai: &mut [T],
    af: &mut [T],
    ag: &mut [T],
    ao: &mut [T],
    c: &mut [T],
    tc: &mut [T],
    h_out: &mut [T],
) {
    let n = c.len();
    let tc = &mut tc[..n];
    // Every slice cut to `n` up front, so that the loop has no bounds
    // checks.
    let (pi, bi) = (&x.i.0[..n], &x.i.1[..n]);
    let (pf, bf) = (&x.f.0[..n], &x.f.1[..n]);
    let (pg, bg) = (&x.g.0[..n], &x.g.1[..n]);
    let (po, bo) = (&x.o.0[..n], &x.o.1[..n]);
    let (ai, af, ag, ao) = (&mut ai[..n], &mut af[..n], &mut ag[..n], &mut ao[..n]);
    let c_prev = if PREV { &c_prev[..n] } else { c_prev };
    let h_out = &mut h_out[..n];
    // One loop per gate, then one for the states: each a short chain of
    // arithmetic per unit, so that the processor overlaps many units (one
    // loop for everything would chain three functions per unit).
    for j in 0..n {
        ai[j] = sigmoid_fused(pi[j] + bi[j]);
    }
    for j in 0..n {
        af[j] = sigmoid_fused(pf[j] + bf[j]);
    }
    for j in 0..n {
        ag[j] = tanh_fused(pg[j] + bg[j]);
    }
    for j in 0..n {
        ao[j] = sigmoid_fused(po[j] + bo[j]);
    }
    for j in 0..n {
        let cj = if PREV {
            af[j] * c_prev[j] + ai[j] * ag[j]
        } else {
            af[j] * T::zero() + ai[j] * ag[j]
        };
        let t = tanh_fused(cj);
        (c[j], tc[j]) = (cj, t);
        h_out[j] = ao[j] * t;
    }
}

crate::simd::dispatch! {
    /// The backward of the LSTM cells of step `t` for `units` of every
    /// sample (see [`lstm_cell_backward_body`]).
    unsafe fn lstm_cells_backward<T: Float>(
        s: &LstmStep<'_, T>,
        t: usize,
        prev: Option<usize>,
        units: Range<usize>,
    ) => lstm_cells_backward_body
}

/// # Safety
///
/// As [`LstmStep::backward`]'s.
#[inline(always)]
unsafe fn lstm_cells_backward_body<T: Float>(
    s: &LstmStep<'_, T>,
    t: usize,
    prev: Option<usize>,
    units: Range<usize>,
) {
    let (h, gh, n, u) = (s.h, 4 * s.h, units.len(), units.start);
    for b in 0..s.batch {
        let row = (t * s.batch + b) * gh;
        // SAFETY: as in `lstm_cells_body`.
        unsafe {
            let x = LstmGrads {
                d_out: part(s.d_out, b * s.steps * s.width + t * s.width + s.off + u, n),
                tc: part(s.tanh_c, (t * s.batch + b) * h + u, n),
                c_prev: prev.map(|p| part(s.state, (p * s.batch + b) * h + u, n)),
                dh: part(s.dh, b * h + u, n),
            };
            let act = |g: usize| part_mut(s.act, row + g * h + u, n);
            let sums = |g: usize| part_mut(s.sums, g * h + u, n);
            lstm_cell_backward_body(
                x,
                part_mut(s.dc, b * h + u, n),
                [act(0), act(1), act(2), act(3)],
                [sums(0), sums(1), sums(2), sums(3)],
            );
        }
    }
}

/// What the backward of one LSTM cell reads besides its gates: `dL/dh`
/// from above and from the step after, `tanh(c)` and the previous cell
/// state.
#[derive(Clone, Copy)]
struct LstmGrads<'a, T> {
    d_out: &'a [T],
    tc: &'a [T],
    c_prev: Option<&'a [T]>,
    dh: &'a [T],
}

/// The backward of [`lstm_cell_body`] for one sample and step over `n`
/// units: from `dL/dh` (`d_out + dh`) and the carried `dc` (which becomes
/// `dL/dc_prev`), the gradients of the gates' inputs, written over the
/// gates `act` (`i, f, g, o`) and added to `sums`.
#[inline(always)]
fn lstm_cell_backward_body<T: Float>(
    x: LstmGrads<'_, T>,
    dc: &mut [T],
    act: [&mut [T]; 4],
    sums: [&mut [T]; 4],
) {
    let [ai, af, ag, ao] = act;
    let [si, sf, sg, so] = sums;
    lstm_cell_backward_loop(x, dc, ai, af, ag, ao, si, sf, sg, so);
}

/// [`lstm_cell_backward_body`]'s loop, each written slice a parameter of
/// its own (as in [`lstm_cell_body`]).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn lstm_cell_backward_loop<T: Float>(
    x: LstmGrads<'_, T>,
    dc: &mut [T],
    ai: &mut [T],
    af: &mut [T],
    ag: &mut [T],
    ao: &mut [T],
    si: &mut [T],
    sf: &mut [T],
    sg: &mut [T],
    so: &mut [T],
) {
    let n = dc.len();
    let one = T::one();
    // Every slice cut to `n` up front, so that the loop has no bounds
    // checks and runs on the vector units.
    let (ai, af, ag, ao) = (&mut ai[..n], &mut af[..n], &mut ag[..n], &mut ao[..n]);
    let (si, sf, sg, so) = (&mut si[..n], &mut sf[..n], &mut sg[..n], &mut so[..n]);
    let (d_out, tc, dh) = (&x.d_out[..n], &x.tc[..n], &x.dh[..n]);
    // At the first step there is no previous state: its term is zero
    // (`tanh(c) * 0`), in the same loop, which a closure or a second loop
    // would keep off the vector units.
    let (c_prev, keep) = match x.c_prev {
        Some(c_prev) => (&c_prev[..n], one),
        None => (tc, T::zero()),
    };
    for j in 0..n {
        let (i, f, g, o) = (ai[j], af[j], ag[j], ao[j]);
        let dhj = d_out[j] + dh[j];
        let tc = tc[j];
        let dcj = dc[j] + dhj * o * (one - tc * tc);
        let dpi = dcj * g * i * (one - i);
        let dpf = dcj * (c_prev[j] * keep) * f * (one - f);
        let dpg = dcj * i * (one - g * g);
        let dpo = dhj * tc * o * (one - o);
        (ai[j], af[j], ag[j], ao[j]) = (dpi, dpf, dpg, dpo);
        si[j] = si[j] + dpi;
        sf[j] = sf[j] + dpf;
        sg[j] = sg[j] + dpg;
        so[j] = so[j] + dpo;
        dc[j] = dcj * f;
    }
}

impl<T: Float> Direction<T> {
    fn new(cell: Cell, input: usize, hidden: usize, reverse: bool, rng: &mut Rng) -> Self {
        let k = 1.0 / (hidden as f64).sqrt();
        let gh = cell.gates() * hidden;
        let mut draw =
            |rows, cols| Array2::from_shape_simple_fn((rows, cols), || T::of(k * rng.sym()));
        let weight_ih = draw(gh, input);
        let weight_hh = draw(gh, hidden);
        let bias_ih = draw(1, gh).into_shape_with_order(gh).expect("one row");
        let bias_hh = draw(1, gh).into_shape_with_order(gh).expect("one row");
        Direction {
            reverse,
            grad_ih: Array2::zeros(weight_ih.raw_dim()),
            grad_hh: Array2::zeros(weight_hh.raw_dim()),
            grad_bias_ih: Array1::zeros(gh),
            grad_bias_hh: Array1::zeros(gh),
            weight_ih,
            weight_hh,
            bias_ih,
            bias_hh,
            dh: Vec::new(),
            dc: Vec::new(),
        }
    }

    fn hidden_size(&self) -> usize {
        self.weight_hh.ncols()
    }

    /// The step before `t` in this direction's order, if any.
    fn prev(&self, t: usize, steps: usize) -> Option<usize> {
        if self.reverse {
            (t + 1 < steps).then_some(t + 1)
        } else {
            t.checked_sub(1)
        }
    }

    /// The step after `t` in this direction's order, if any.
    fn next(&self, t: usize, steps: usize) -> Option<usize> {
        if self.reverse {
            t.checked_sub(1)
        } else {
            (t + 1 < steps).then_some(t + 1)
        }
    }

    /// The `k`-th step in this direction's order.
    fn step(&self, k: usize, steps: usize) -> usize {
        if self.reverse {
            steps - 1 - k
        } else {
            k
        }
    }

    /// Runs over `x: [b, T, F]` (as `[b T, F]`), writing `h` of every step
    /// into columns `off..off + H` of `out: [b, T, W]` (as `[b, T W]`).
    #[allow(clippy::too_many_arguments)]
    fn forward(
        &self,
        rec: &mut Records<T>,
        cell: Cell,
        steps: usize,
        x: ArrayView2<'_, T>,
        out: &mut [T],
        width: usize,
        off: usize,
    ) {
        if cell == Cell::Lstm {
            self.forward_lstm(rec, steps, x, out, width, off);
            return;
        }
        let (h, gh) = (self.hidden_size(), self.weight_ih.nrows());
        let batch = x.nrows() / steps.max(1);
        grow(&mut rec.pre, batch * steps * gh);
        grow(&mut rec.act, batch * steps * gh);
        grow(&mut rec.state, batch * steps * h);
        grow(&mut rec.h_prev, batch * steps * h);
        grow(&mut rec.hidden, batch * gh);
        // The input projection of every step: one product.
        let mut pre = view_mut(&mut rec.pre[..batch * steps * gh], batch * steps, gh);
        for mut row in pre.rows_mut() {
            row.assign(&self.bias_ih);
        }
        gemm(T::one(), x, self.weight_ih.t(), T::one(), pre);
        // The recurrent weight, packed once for every step's product.
        rec.packed.pack(self.weight_hh.t());
        let first = self.step(0, steps);
        for b in 0..batch {
            rec.h_prev[(b * steps + first) * h..][..h].fill(T::zero());
        }
        for k in 0..steps {
            let t = self.step(k, steps);
            let (prev, next) = (self.prev(t, steps), self.next(t, steps));
            // hidden <- h_prev W_hh^T + b_hh.
            let mut hidden = view_mut(&mut rec.hidden[..batch * gh], batch, gh);
            for mut row in hidden.rows_mut() {
                row.assign(&self.bias_hh);
            }
            if prev.is_some() {
                let h_prev = step_view(&rec.h_prev, batch, steps, h, t, 0, h);
                rec.packed
                    .gemm(T::one(), h_prev, self.weight_hh.t(), T::one(), hidden);
            }
            for b in 0..batch {
                let row = (b * steps + t) * gh;
                let pre = &rec.pre[row..row + gh];
                let hid = &rec.hidden[b * gh..(b + 1) * gh];
                let act = &mut rec.act[row..row + gh];
                let state_at = (b * steps + t) * h;
                let h_prev = &rec.h_prev[state_at..state_at + h];
                for j in 0..h {
                    let value = match cell {
                        Cell::Rnn => {
                            let v = (pre[j] + hid[j]).fast_tanh();
                            act[j] = v;
                            v
                        }
                        Cell::Lstm => unreachable!("LSTM runs its own steps"),
                        Cell::Gru => {
                            let r = sigmoid(pre[j] + hid[j]);
                            let z = sigmoid(pre[h + j] + hid[h + j]);
                            let hn = hid[2 * h + j];
                            let n = (pre[2 * h + j] + r * hn).fast_tanh();
                            (act[j], act[h + j], act[2 * h + j]) = (r, z, n);
                            rec.state[state_at + j] = hn;
                            (T::one() - z) * n + z * h_prev[j]
                        }
                    };
                    out[b * steps * width + t * width + off + j] = value;
                }
                if let Some(next) = next {
                    let at = b * steps * width + t * width + off;
                    rec.h_prev[(b * steps + next) * h..][..h].copy_from_slice(&out[at..at + h]);
                }
            }
        }
    }

    /// Backpropagation through time from `d_out: [b, T W]` (columns `off..
    /// off + H` of each step), given the forward's `x`. Adds the parameter
    /// gradients (after zeroing them unless `accumulate`) and, when `d_x`
    /// is given, writes (`first`) or adds `dL/dx` to it.
    ///
    /// The steps run in reverse, each with its recurrent product; the
    /// weight gradients of every step are then one product each (`d_pre^T
    /// x` and `d_hidden^T h_prev`, over all samples and steps).
    #[allow(clippy::too_many_arguments)]
    fn backward(
        &mut self,
        rec: &mut Records<T>,
        cell: Cell,
        steps: usize,
        x: ArrayView2<'_, T>,
        d_out: &[T],
        width: usize,
        off: usize,
        d_x: Option<(ArrayViewMut2<'_, T>, bool)>,
        accumulate: bool,
    ) {
        if cell == Cell::Lstm {
            self.backward_lstm(rec, steps, x, d_out, width, off, d_x, accumulate);
            return;
        }
        let (h, gh) = (self.hidden_size(), self.weight_ih.nrows());
        let batch = x.nrows() / steps.max(1);
        let rows = batch * steps;
        if !accumulate {
            self.grad_ih.fill(T::zero());
            self.grad_hh.fill(T::zero());
            self.grad_bias_ih.fill(T::zero());
            self.grad_bias_hh.fill(T::zero());
        }
        grow(&mut self.dh, batch * h);
        grow(&mut self.dc, batch * h);
        grow(&mut rec.sums, gh);
        self.dh[..batch * h].fill(T::zero());
        self.dc[..batch * h].fill(T::zero());
        rec.packed.pack(self.weight_hh.view());
        if cell == Cell::Gru {
            grow(&mut rec.d_hidden, rows * gh);
        }
        for k in (0..steps).rev() {
            let t = self.step(k, steps);
            let prev = self.prev(t, steps);
            for b in 0..batch {
                let row = (b * steps + t) * gh;
                let state_at = (b * steps + t) * h;
                for j in 0..h {
                    let dh = d_out[b * steps * width + t * width + off + j] + self.dh[b * h + j];
                    let act = &rec.act[row..row + gh];
                    let h_prev = rec.h_prev[state_at + j];
                    // Gradients of the gates' input part (into `pre`)
                    // and hidden part (GRU: into `d_hidden`; else the
                    // same), and what flows back directly to h_prev.
                    let (mut direct, one) = (T::zero(), T::one());
                    match cell {
                        Cell::Rnn => {
                            let v = act[j];
                            rec.pre[row + j] = dh * (one - v * v);
                        }
                        Cell::Lstm => unreachable!("LSTM runs its own steps"),
                        Cell::Gru => {
                            let (r, z, n) = (act[j], act[h + j], act[2 * h + j]);
                            let hn = rec.state[state_at + j];
                            let dn = dh * (one - z);
                            let dz = dh * (h_prev - n);
                            direct = dh * z;
                            let dan = dn * (one - n * n);
                            let dar = dan * hn * r * (one - r);
                            let daz = dz * z * (one - z);
                            rec.pre[row + j] = dar;
                            rec.pre[row + h + j] = daz;
                            rec.pre[row + 2 * h + j] = dan;
                            rec.d_hidden[row + j] = dar;
                            rec.d_hidden[row + h + j] = daz;
                            rec.d_hidden[row + 2 * h + j] = dan * r;
                        }
                    }
                    self.dh[b * h + j] = direct;
                }
            }
            // dL/dh_prev: the hidden part's.
            if prev.is_some() {
                let d_hidden = if cell == Cell::Gru {
                    &rec.d_hidden
                } else {
                    &rec.pre
                };
                let d_hidden = step_view(d_hidden, batch, steps, gh, t, 0, gh);
                let dh = view_mut(&mut self.dh[..batch * h], batch, h);
                rec.packed
                    .gemm(T::one(), d_hidden, self.weight_hh.view(), T::one(), dh);
            }
        }
        // The weight gradients of every step: one product each.
        let d_pre = view(&rec.pre[..rows * gh], rows, gh);
        let d_hidden = if cell == Cell::Gru {
            view(&rec.d_hidden[..rows * gh], rows, gh)
        } else {
            d_pre
        };
        let h_prev = view(&rec.h_prev[..rows * h], rows, h);
        gemm(
            T::one(),
            d_hidden.t(),
            h_prev,
            T::one(),
            self.grad_hh.view_mut(),
        );
        gemm(T::one(), d_pre.t(), x, T::one(), self.grad_ih.view_mut());
        let sums = &mut rec.sums[..gh];
        sums.fill(T::zero());
        crate::layers::add_column_sums(sums, &rec.pre[..rows * gh]);
        add(self.grad_bias_ih.as_slice_mut().expect("contiguous"), sums);
        if cell == Cell::Gru {
            sums.fill(T::zero());
            crate::layers::add_column_sums(sums, &rec.d_hidden[..rows * gh]);
        }
        add(self.grad_bias_hh.as_slice_mut().expect("contiguous"), sums);
        if let Some((d_x, first)) = d_x {
            let beta = if first { T::zero() } else { T::one() };
            gemm(T::one(), d_pre, self.weight_ih.view(), beta, d_x);
        }
    }

    /// [`Direction::forward`] of an LSTM: the records step after step
    /// (`[T, b, ...]`), each step one product of `[h_prev | x]` by
    /// `[W_hh | W_ih]^T` (packed once), then its cells, with the biases
    /// added there; split across threads by hidden units when the step is
    /// large enough.
    fn forward_lstm(
        &self,
        rec: &mut Records<T>,
        steps: usize,
        x: ArrayView2<'_, T>,
        out: &mut [T],
        width: usize,
        off: usize,
    ) {
        let (h, gh, f) = (
            self.hidden_size(),
            self.weight_ih.nrows(),
            self.weight_ih.ncols(),
        );
        let batch = x.nrows() / steps.max(1);
        let kx = h + f;
        let act = aligned(&mut rec.act, steps * batch * gh).as_mut_ptr();
        let state = aligned(&mut rec.state, steps * batch * h).as_mut_ptr();
        let tanh_c = aligned(&mut rec.tanh_c, steps * batch * h).as_mut_ptr();
        let gates = aligned(&mut rec.hidden, batch * gh).as_mut_ptr();
        let hx = aligned(&mut rec.hx, (steps + 1) * batch * kx);
        grow(&mut rec.weights, gh * kx);
        grow(&mut rec.bias, gh);
        // [W_hh | W_ih] and b_ih + b_hh.
        let rows = rec.weights[..gh * kx].chunks_exact_mut(kx);
        for ((row, hh), ih) in rows.zip(self.weight_hh.rows()).zip(self.weight_ih.rows()) {
            let (to_hh, to_ih) = row.split_at_mut(h);
            to_hh.copy_from_slice(hh.as_slice().expect("contiguous"));
            to_ih.copy_from_slice(ih.as_slice().expect("contiguous"));
        }
        for ((b, &i), &hh) in rec.bias.iter_mut().zip(&self.bias_ih).zip(&self.bias_hh) {
            *b = i + hh;
        }
        // Each step's input beside its h_prev (zeros at the first step),
        // group after group, step after step within each.
        let (groups, first) = (lstm_groups(batch), self.step(0, steps));
        for g in 0..groups {
            let (lo, hi) = (g * batch / groups, (g + 1) * batch / groups);
            for b in lo..hi {
                for t in 0..steps {
                    let row = lo * (steps + 1) + t * (hi - lo) + b - lo;
                    let row = &mut hx[row * kx..][..kx];
                    let xr = x.row(b * steps + t);
                    match xr.as_slice() {
                        Some(xr) => row[h..].copy_from_slice(xr),
                        None => row[h..].iter_mut().zip(xr).for_each(|(v, &xv)| *v = xv),
                    }
                    if t == first {
                        row[..h].fill(T::zero());
                    }
                }
            }
        }
        let hx = hx.as_mut_ptr();
        let weights = view(&rec.weights[..gh * kx], gh, kx).reversed_axes();
        rec.packed.pack(weights);
        let s = LstmStep {
            batch,
            steps,
            h,
            hx_width: kx,
            width,
            off,
            gates,
            bias: rec.bias.as_ptr(),
            act,
            state,
            tanh_c,
            hx,
            out: out.as_mut_ptr(),
            d_out: std::ptr::null(),
            dh: std::ptr::null_mut(),
            dc: std::ptr::null_mut(),
            sums: std::ptr::null_mut(),
            grad: std::ptr::null_mut(),
            weight: weights,
            packed: &rec.packed,
            tile: rec.packed.column_tile(batch),
            _buffers: PhantomData,
        };
        s.for_groups(&|s, units, barrier| {
            for k in 0..steps {
                let t = self.step(k, steps);
                let (prev, next) = (self.prev(t, steps), self.next(t, steps));
                // SAFETY: the buffers are sized for the pass above and
                // borrowed by nothing else while `s` lives (`out` holds
                // the `[b, T W]` outputs); each group and range of units
                // is one thread's, and every thread of the group has
                // passed the barrier after step `prev`.
                unsafe { s.forward(t, prev, next.unwrap_or(steps), units.clone()) };
                barrier.wait();
            }
            if units.len() < h {
                // SAFETY: every step is done; the units are this thread's.
                unsafe { s.outputs(|t| self.next(t, steps).unwrap_or(steps), &units) };
            }
        });
    }

    /// [`Direction::backward`] of an LSTM: each step's recurrent product
    /// and cells (the bias gradient summed there), split by hidden units as
    /// the forward; every few steps, while their gradients are in cache,
    /// one product adds their part of the weight gradient
    /// (`d_pre^T [h_prev | x]`) and, when asked, `dL/dx`.
    #[allow(clippy::too_many_arguments)]
    fn backward_lstm(
        &mut self,
        rec: &mut Records<T>,
        steps: usize,
        x: ArrayView2<'_, T>,
        d_out: &[T],
        width: usize,
        off: usize,
        d_x: Option<(ArrayViewMut2<'_, T>, bool)>,
        accumulate: bool,
    ) {
        let (h, gh, f) = (
            self.hidden_size(),
            self.weight_ih.nrows(),
            self.weight_ih.ncols(),
        );
        let batch = x.nrows() / steps.max(1);
        let kx = h + f;
        if !accumulate {
            self.grad_ih.fill(T::zero());
            self.grad_hh.fill(T::zero());
            self.grad_bias_ih.fill(T::zero());
            self.grad_bias_hh.fill(T::zero());
        }
        let dh = aligned(&mut self.dh, batch * h);
        dh.fill(T::zero());
        let dh = dh.as_mut_ptr();
        let dc = aligned(&mut self.dc, batch * h);
        dc.fill(T::zero());
        let dc = dc.as_mut_ptr();
        let groups = lstm_groups(batch);
        let sums = aligned(&mut rec.sums, groups * gh);
        sums.fill(T::zero());
        let sums = sums.as_mut_ptr();
        let grad = aligned(&mut rec.grad, groups * gh * kx);
        grad.fill(T::zero());
        let grad = grad.as_mut_ptr();
        // The forward's records, where it left them.
        let act = aligned(&mut rec.act, steps * batch * gh).as_mut_ptr();
        let state = aligned(&mut rec.state, steps * batch * h).as_mut_ptr();
        let tanh_c = aligned(&mut rec.tanh_c, steps * batch * h).as_mut_ptr();
        let hx = aligned(&mut rec.hx, (steps + 1) * batch * kx).as_mut_ptr();
        rec.packed.pack(self.weight_hh.view());
        let s = LstmStep {
            batch,
            steps,
            h,
            hx_width: kx,
            width,
            off,
            gates: std::ptr::null_mut(),
            bias: std::ptr::null(),
            act,
            state,
            tanh_c,
            hx,
            out: std::ptr::null_mut(),
            d_out: d_out.as_ptr(),
            dh,
            dc,
            sums,
            grad,
            weight: self.weight_hh.view(),
            packed: &rec.packed,
            tile: rec.packed.column_tile(batch),
            _buffers: PhantomData,
        };
        s.for_groups(&|s, units, barrier| {
            let chunk = GRAD_ROWS.div_ceil(s.batch.max(1));
            let mut since = 0;
            for k in (0..steps).rev() {
                let t = self.step(k, steps);
                let (prev, after) = (self.prev(t, steps), self.next(t, steps));
                // SAFETY: as in the forward; `d_out` holds the forward's
                // `[b, T W]`.
                unsafe { s.backward(t, prev, after, units.clone()) };
                since += 1;
                if since == chunk || k == 0 {
                    // The steps since the last product: `t..t + since`, or
                    // `t + 1 - since..=t` in reverse; this thread's
                    // gradients of them are complete.
                    let lo = if self.reverse { t + 1 - since } else { t };
                    // SAFETY: the rows of `grad` of `units` are this
                    // thread's.
                    unsafe { s.weight_grad(lo, since, &units) };
                    since = 0;
                }
                barrier.wait();
            }
        });
        let act = aligned(&mut rec.act, steps * batch * gh);
        if let Some((mut d_x, first)) = d_x {
            let beta = if first { T::zero() } else { T::one() };
            for g in 0..groups {
                let (lo, hi) = (g * batch / groups, (g + 1) * batch / groups);
                for t in 0..steps {
                    let at = (lo * steps + t * (hi - lo)) * gh;
                    let d_pre = view(&act[at..at + (hi - lo) * gh], hi - lo, gh);
                    let d_x = d_x.slice_mut(s![lo * steps + t..hi * steps; steps, ..]);
                    gemm(T::one(), d_pre, self.weight_ih.view(), beta, d_x);
                }
            }
        }
        // Each group's sums, group after group.
        let sums = aligned(&mut rec.sums, groups * gh);
        let grads = aligned(&mut rec.grad, groups * gh * kx);
        for g in 0..groups {
            let sums = &sums[g * gh..(g + 1) * gh];
            add(self.grad_bias_ih.as_slice_mut().expect("contiguous"), sums);
            add(self.grad_bias_hh.as_slice_mut().expect("contiguous"), sums);
            let grad = view(&grads[g * gh * kx..(g + 1) * gh * kx], gh, kx);
            self.grad_hh
                .zip_mut_with(&grad.slice(s![.., ..h]), |a, &g| *a = *a + g);
            self.grad_ih
                .zip_mut_with(&grad.slice(s![.., h..]), |a, &g| *a = *a + g);
        }
    }
}

/// `acc += v`, elementwise.
fn add<T: Float>(acc: &mut [T], v: &[T]) {
    for (a, &v) in acc.iter_mut().zip(v) {
        *a = *a + v;
    }
}

/// The first `len` values of `v` from its first 64-byte boundary, growing
/// it (with room for the shift) if it is too short: for the buffers that
/// threads write by ranges of units (multiples of 16 values), so that no
/// cache line holds two threads' values. The same values at every call
/// while `v` is not grown.
fn aligned<T: Float>(v: &mut Vec<T>, len: usize) -> &mut [T] {
    let pad = 64 / std::mem::size_of::<T>();
    grow(v, len + pad);
    let shift = v.as_ptr().align_offset(64).min(pad);
    &mut v[shift..shift + len]
}

/// Makes `v` hold at least `len` values.
fn grow<T: Float>(v: &mut Vec<T>, len: usize) {
    if v.len() < len {
        v.resize(len, T::zero());
    }
}

fn view<T>(v: &[T], rows: usize, cols: usize) -> ArrayView2<'_, T> {
    ArrayView2::from_shape((rows, cols), v).expect("sized for the batch")
}

fn view_mut<T>(v: &mut [T], rows: usize, cols: usize) -> ArrayViewMut2<'_, T> {
    ArrayViewMut2::from_shape((rows, cols), v).expect("sized for the batch")
}

/// Columns `off..off + h` of step `t` of `values: [b, T, W]`, as `[b, h]`.
fn step_view<T>(
    values: &[T],
    batch: usize,
    steps: usize,
    width: usize,
    t: usize,
    off: usize,
    h: usize,
) -> ArrayView2<'_, T> {
    let all = ArrayView2::from_shape((batch, steps * width), &values[..batch * steps * width])
        .expect("sized for the batch");
    all.slice_move(s![.., t * width + off..t * width + off + h])
}

/// A recurrent layer: `RNN`, `LSTM` or `GRU`, stacked and bidirectional as
/// its [`RecurrentConfig`] says.
#[derive(Clone, Debug)]
pub struct Recurrent<T> {
    config: RecurrentConfig,
    /// Layer after layer, direction after direction.
    directions: Vec<Direction<T>>,
    /// What each direction's last forward recorded, for its backward.
    records: Vec<Records<T>>,
    /// `[b, T, W]` outputs of the layers before the last, and their
    /// gradients.
    between: Vec<Vec<T>>,
    between_grad: Vec<Vec<T>>,
}

impl<T: Float> Recurrent<T> {
    /// PyTorch's initialisation: every weight and bias uniform in `[-k, k)`,
    /// `k = 1/sqrt(hidden_size)`, drawn in the order of the parameters
    /// (`weight_ih_l0`, `weight_hh_l0`, `bias_ih_l0`, `bias_hh_l0`, then
    /// `_reverse`, then the next layer).
    ///
    /// # Panics
    ///
    /// If a size is 0.
    pub fn new(config: RecurrentConfig, rng: &mut Rng) -> Self {
        assert!(
            config.steps > 0
                && config.input_size > 0
                && config.hidden_size > 0
                && config.num_layers > 0,
            "Recurrent: every size must be at least 1, found {config:?}"
        );
        let mut directions = Vec::new();
        for layer in 0..config.num_layers {
            let input = if layer == 0 {
                config.input_size
            } else {
                config.output_size()
            };
            for d in 0..config.directions() {
                directions.push(Direction::new(
                    config.cell,
                    input,
                    config.hidden_size,
                    d == 1,
                    rng,
                ));
            }
        }
        Recurrent {
            between: vec![Vec::new(); config.num_layers - 1],
            between_grad: vec![Vec::new(); config.num_layers - 1],
            records: vec![Records::default(); directions.len()],
            config,
            directions,
        }
    }

    /// Its sizes.
    pub fn config(&self) -> &RecurrentConfig {
        &self.config
    }

    /// Values per input sample, `T F`.
    pub fn in_features(&self) -> usize {
        self.config.steps * self.config.input_size
    }

    /// Values per output sample, `T W`.
    pub fn out_features(&self) -> usize {
        self.config.steps * self.config.output_size()
    }

    /// PyTorch's names of the parameters, in order: `weight_ih_l0`, ...
    pub fn parameter_names(&self) -> Vec<String> {
        let mut names = Vec::new();
        for layer in 0..self.config.num_layers {
            for d in 0..self.config.directions() {
                let suffix = if d == 1 { "_reverse" } else { "" };
                for p in ["weight_ih", "weight_hh", "bias_ih", "bias_hh"] {
                    names.push(format!("{p}_l{layer}{suffix}"));
                }
            }
        }
        names
    }

    /// `output <- layer(input)`: `input: [b, T F]`, `output: [b, T W]`.
    ///
    /// # Panics
    ///
    /// If the shapes are not the layer's or `output` is not contiguous.
    #[track_caller]
    pub fn forward(&mut self, input: ArrayView2<'_, T>, output: ArrayViewMut2<'_, T>) {
        let mut records = std::mem::take(&mut self.records);
        let mut between = std::mem::take(&mut self.between);
        self.forward_with(&mut records, &mut between, input, output);
        self.records = records;
        self.between = between;
    }

    /// [`Recurrent::forward`] into the given records and buffers between
    /// layers.
    #[track_caller]
    fn forward_with(
        &self,
        records: &mut [Records<T>],
        between: &mut [Vec<T>],
        input: ArrayView2<'_, T>,
        mut output: ArrayViewMut2<'_, T>,
    ) {
        let c = self.config;
        let batch = input.nrows();
        assert!(
            input.ncols() == self.in_features() && output.dim() == (batch, self.out_features()),
            "Recurrent: expected input [{batch}, {}] and output [{batch}, {}], found {:?} and {:?}",
            self.in_features(),
            self.out_features(),
            input.dim(),
            output.dim()
        );
        let (w, dirs, rows) = (c.output_size(), c.directions(), batch * c.steps);
        let out = output
            .as_slice_mut()
            .expect("a layer's output rows are contiguous");
        for buffer in between.iter_mut() {
            grow(buffer, rows * w);
        }
        for layer in 0..c.num_layers {
            let (before, rest) = between.split_at_mut(layer);
            let x: ArrayView2<'_, T> = if layer == 0 {
                input
                    .into_shape_with_order((rows, c.input_size))
                    .expect("rows of steps")
            } else {
                view(&before[layer - 1][..rows * w], rows, w)
            };
            let target: &mut [T] = match rest.first_mut() {
                Some(buffer) if layer + 1 < c.num_layers => &mut buffer[..rows * w],
                _ => &mut *out,
            };
            for d in 0..dirs {
                let k = layer * dirs + d;
                self.directions[k].forward(
                    &mut records[k],
                    c.cell,
                    c.steps,
                    x,
                    target,
                    w,
                    d * c.hidden_size,
                );
            }
        }
    }

    /// Adds (`accumulate`) or writes the parameter gradients for the last
    /// forward (`input`, `output`) and `grad_output`, and writes
    /// `grad_input` when asked.
    ///
    /// # Panics
    ///
    /// If the shapes differ from the last forward's.
    #[track_caller]
    pub fn backward(
        &mut self,
        input: ArrayView2<'_, T>,
        output: ArrayView2<'_, T>,
        grad_output: ArrayView2<'_, T>,
        grad_input: Option<ArrayViewMut2<'_, T>>,
        accumulate: bool,
    ) {
        let c = self.config;
        let batch = input.nrows();
        let (w, dirs, rows) = (c.output_size(), c.directions(), batch * c.steps);
        // The outputs each step started from are in the records.
        assert!(
            output.dim() == (batch, self.out_features()) && grad_output.dim() == output.dim(),
            "Recurrent: expected output and its gradient [{batch}, {}], found {:?} and {:?}",
            self.out_features(),
            output.dim(),
            grad_output.dim()
        );
        let d_out_last = grad_output
            .as_slice()
            .expect("a gradient's rows are contiguous");
        for buffer in &mut self.between_grad {
            grow(buffer, rows * w);
        }
        let mut grad_input = grad_input;
        for layer in (0..c.num_layers).rev() {
            let last = layer + 1 == c.num_layers;
            let x: ArrayView2<'_, T> = if layer == 0 {
                input
                    .into_shape_with_order((rows, c.input_size))
                    .expect("rows of steps")
            } else {
                view(&self.between[layer - 1][..rows * w], rows, w)
            };
            let (before, rest) = self.between_grad.split_at_mut(layer);
            let layer_d_out: &[T] = if last {
                d_out_last
            } else {
                &rest[0][..rows * w]
            };
            for d in 0..dirs {
                let first = d == 0;
                let d_x = if layer == 0 {
                    grad_input.as_mut().map(|g| {
                        let g = g
                            .view_mut()
                            .into_shape_with_order((rows, c.input_size))
                            .expect("rows of steps");
                        (g, first)
                    })
                } else {
                    Some((view_mut(&mut before[layer - 1][..rows * w], rows, w), first))
                };
                self.directions[layer * dirs + d].backward(
                    &mut self.records[layer * dirs + d],
                    c.cell,
                    c.steps,
                    x,
                    layer_d_out,
                    w,
                    d * c.hidden_size,
                    d_x,
                    accumulate,
                );
            }
        }
    }
}

impl<T: Float> Recurrent<T> {
    /// Each parameter tensor with its gradient, in PyTorch's order.
    #[allow(clippy::type_complexity)]
    fn tensors(&self) -> Vec<(ndarray::ArrayViewD<'_, T>, ndarray::ArrayViewD<'_, T>)> {
        let mut all = Vec::with_capacity(4 * self.directions.len());
        for d in &self.directions {
            all.push((d.weight_ih.view().into_dyn(), d.grad_ih.view().into_dyn()));
            all.push((d.weight_hh.view().into_dyn(), d.grad_hh.view().into_dyn()));
            all.push((
                d.bias_ih.view().into_dyn(),
                d.grad_bias_ih.view().into_dyn(),
            ));
            all.push((
                d.bias_hh.view().into_dyn(),
                d.grad_bias_hh.view().into_dyn(),
            ));
        }
        all
    }
}

impl<T: Float> Recurrent<T> {
    /// Writes the layer into an ONNX graph: for each of its layers, one
    /// `RNN`, `LSTM` or `GRU` node (`direction = "bidirectional"` with two
    /// directions; GRU with `linear_before_reset = 1`, PyTorch's
    /// formula), reading the sequence time first, `[T, batch, F]`.
    ///
    /// ONNX orders the gates otherwise than PyTorch: LSTM `i, o, f, c`
    /// (PyTorch `i, f, g, o`), GRU `z, r, h` (PyTorch `r, z, n`); its
    /// tensors stack the directions, and `B` is both biases end to end.
    /// So each layer's tensors are written reordered, as new
    /// initializers named `{path}.W_l{k}`, `{path}.R_l{k}` and
    /// `{path}.B_l{k}`: `[D, G H, in]`, `[D, G H, H]`, `[D, 2 G H]`.
    /// A node's output `[T, D, batch, H]` is transposed and reshaped to
    /// `[T, batch, D H]` for the next layer, and the last to `[batch, T,
    /// D H]`, the layer's output.
    ///
    /// # Errors
    ///
    /// [`Error::Export`](crate::Error::Export) if `input` is not the layer's `[T, F]` sequence.
    pub fn export_onnx(
        &self,
        graph: &mut Graph,
        input: &Value,
        names: &Names<'_>,
    ) -> crate::Result<Value> {
        let c = self.config;
        if input.shape != [c.steps, c.input_size] || input.elem != graph.float() {
            return Err(export_input_error("Recurrent", names, input));
        }
        let (op, order): (&str, &[usize]) = match c.cell {
            Cell::Rnn => ("RNN", &[0]),
            Cell::Lstm => ("LSTM", &[0, 3, 1, 2]),
            Cell::Gru => ("GRU", &[1, 0, 2]),
        };
        let (h, d) = (c.hidden_size, c.directions());
        let gh = c.cell.gates() * h;
        let path = names.path;
        // [T, batch, F]: time first.
        let mut x = graph.transpose(path, input, &[1, 0, 2]);
        for layer in 0..c.num_layers {
            let dirs = &self.directions[layer * d..(layer + 1) * d];
            let reorder = |m: &Array2<T>| -> Vec<T> {
                order
                    .iter()
                    .flat_map(|&g| {
                        m.slice(s![g * h..(g + 1) * h, ..])
                            .iter()
                            .copied()
                            .collect::<Vec<_>>()
                    })
                    .collect()
            };
            let reorder_bias = |b: &Array1<T>| -> Vec<T> {
                order
                    .iter()
                    .flat_map(|&g| {
                        b.slice(s![g * h..(g + 1) * h])
                            .iter()
                            .copied()
                            .collect::<Vec<_>>()
                    })
                    .collect()
            };
            let inputs = dirs[0].weight_ih.ncols();
            let w: Vec<T> = dirs
                .iter()
                .flat_map(|dir| reorder(&dir.weight_ih))
                .collect();
            let r: Vec<T> = dirs
                .iter()
                .flat_map(|dir| reorder(&dir.weight_hh))
                .collect();
            let b: Vec<T> = dirs
                .iter()
                .flat_map(|dir| {
                    let mut both = reorder_bias(&dir.bias_ih);
                    both.extend(reorder_bias(&dir.bias_hh));
                    both
                })
                .collect();
            let w = graph.weights(&format!("{path}.W_l{layer}"), &[d, gh, inputs], w)?;
            let r = graph.weights(&format!("{path}.R_l{layer}"), &[d, gh, h], r)?;
            let b = graph.weights(&format!("{path}.B_l{layer}"), &[d, 2 * gh], b)?;
            let direction = if c.bidirectional {
                "bidirectional"
            } else {
                "forward"
            };
            let mut attrs = vec![
                ("hidden_size", Attr::Int(h as i64)),
                ("direction", Attr::Str(direction.to_string())),
            ];
            if c.cell == Cell::Gru {
                attrs.push(("linear_before_reset", Attr::Int(1)));
            }
            let hint = format!("{path}.{op}_l{layer}");
            let y = graph.node(op, &hint, &[&x.name, &w, &r, &b], attrs);
            // Y: [T, D, batch, H] -> [T, batch, D, H] -> [T, batch, D H].
            let y = Value {
                name: y,
                elem: x.elem,
                shape: vec![d, 0, h],
            };
            let y = graph.transpose(path, &y, &[0, 2, 1, 3]);
            let shape = graph.ints(&format!("{path}.shape"), &[3], &[0, 0, -1])?;
            let name = graph.node(
                "Reshape",
                &format!("{path}.Reshape"),
                &[&y.name, &shape],
                Vec::new(),
            );
            x = Value {
                name,
                elem: y.elem,
                shape: vec![0, d * h],
            };
        }
        // [batch, T, D H], batch first again.
        let y = graph.transpose(path, &x, &[1, 0, 2]);
        Ok(Value {
            shape: vec![c.steps, c.output_size()],
            ..y
        })
    }
}

impl<T: Float> Layer<T> for Recurrent<T> {
    /// ONNX's `RNN`, `LSTM` or `GRU` node per layer, on the sequence
    /// transposed to time first; see [`Recurrent::export_onnx`].
    fn export(&self, graph: &mut Graph, input: &Value, names: &Names<'_>) -> crate::Result<Value> {
        self.export_onnx(graph, input, names)
    }

    #[inline]
    #[track_caller]
    fn forward(&mut self, input: ArrayView2<'_, T>, output: ArrayViewMut2<'_, T>, _: bool) {
        Recurrent::forward(self, input, output);
    }

    /// The same pass with records and buffers of the call's own (the
    /// weights are shared).
    #[track_caller]
    fn infer(&self, input: ArrayView2<'_, T>, output: ArrayViewMut2<'_, T>) {
        let mut records = vec![Records::default(); self.directions.len()];
        let mut between = vec![Vec::new(); self.between.len()];
        self.forward_with(&mut records, &mut between, input, output);
    }

    #[inline]
    #[track_caller]
    fn backward(
        &mut self,
        input: ArrayView2<'_, T>,
        output: ArrayView2<'_, T>,
        grad_output: ArrayView2<'_, T>,
        grad_input: Option<ArrayViewMut2<'_, T>>,
        accumulate: bool,
    ) {
        Recurrent::backward(self, input, output, grad_output, grad_input, accumulate);
    }

    fn step<O: Optimizer<T>>(&mut self, optimizer: &mut O, first: usize) {
        let mut k = first;
        for d in &mut self.directions {
            let pairs: [(&mut [T], &[T]); 4] = [
                (
                    d.weight_ih.as_slice_mut().expect("contiguous"),
                    d.grad_ih.as_slice().expect("contiguous"),
                ),
                (
                    d.weight_hh.as_slice_mut().expect("contiguous"),
                    d.grad_hh.as_slice().expect("contiguous"),
                ),
                (
                    d.bias_ih.as_slice_mut().expect("contiguous"),
                    d.grad_bias_ih.as_slice().expect("contiguous"),
                ),
                (
                    d.bias_hh.as_slice_mut().expect("contiguous"),
                    d.grad_bias_hh.as_slice().expect("contiguous"),
                ),
            ];
            for (value, grad) in pairs {
                optimizer.update(k, value, grad);
                k += 1;
            }
        }
    }

    fn visit_parameters<'a>(
        &'a self,
        names: &[&'static str],
        has_grads: bool,
        f: &mut dyn FnMut(Parameter<'a, T>),
    ) {
        for ((value, grad), &name) in self.tensors().into_iter().zip(names) {
            f(Parameter {
                name,
                value,
                grad: has_grads.then_some(grad),
            });
        }
    }

    fn visit_parameters_mut(
        &mut self,
        names: &[&'static str],
        f: &mut dyn FnMut(ParameterMut<'_, T>),
    ) {
        let mut k = 0;
        for d in &mut self.directions {
            f(ParameterMut {
                name: names[k],
                value: d.weight_ih.view_mut().into_dyn(),
                grad: d.grad_ih.view_mut().into_dyn(),
            });
            f(ParameterMut {
                name: names[k + 1],
                value: d.weight_hh.view_mut().into_dyn(),
                grad: d.grad_hh.view_mut().into_dyn(),
            });
            f(ParameterMut {
                name: names[k + 2],
                value: d.bias_ih.view_mut().into_dyn(),
                grad: d.grad_bias_ih.view_mut().into_dyn(),
            });
            f(ParameterMut {
                name: names[k + 3],
                value: d.bias_hh.view_mut().into_dyn(),
                grad: d.grad_bias_hh.view_mut().into_dyn(),
            });
            k += 4;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The LSTM cells' forward and backward loops give the same bits on
    /// every instruction set this CPU has (the baseline, AVX2, AVX-512),
    /// in `f32` and `f64`, with and without a previous state, over all
    /// hidden units at once or in two ranges (as two threads take them).
    #[test]
    fn lstm_cell_loops_give_the_same_bits_on_every_path() {
        fn run<T: Float>() -> Vec<Vec<T>> {
            // 37 units: not a multiple of any vector width.
            let (batch, steps, h) = (3, 2, 37);
            let gh = 4 * h;
            let mut rng = Rng::new(9);
            let mut draw = |n: usize, scale: f64| -> Vec<T> {
                (0..n).map(|_| T::of(scale * rng.sym())).collect()
            };
            let (gates0, bias, state0, d_out) = (
                draw(batch * gh, 6.0),
                draw(gh, 3.0),
                draw(steps * batch * h, 2.0),
                draw(batch * steps * h, 1.0),
            );
            let (dh, dc0) = (draw(batch * h, 0.5), draw(batch * h, 0.5));
            let (weight, packed) = (Array2::<T>::zeros((0, 0)), PackedB::default());
            let mut runs = Vec::new();
            for level in crate::simd::levels() {
                for split in [None, Some(16)] {
                    let ranges: Vec<Range<usize>> = match split {
                        None => std::iter::once(0..h).collect(),
                        Some(at) => vec![0..at, at..h],
                    };
                    runs.push(crate::simd::with_level(level, || {
                        let (mut gates, mut state, mut dh, mut dc) =
                            (gates0.clone(), state0.clone(), dh.clone(), dc0.clone());
                        let zeros = |n: usize| vec![T::zero(); n];
                        let (mut act, mut tanh_c) =
                            (zeros(steps * batch * gh), zeros(steps * batch * h));
                        let (mut out, mut hx) =
                            (zeros(batch * steps * h), zeros((steps + 1) * batch * h));
                        let mut sums = zeros(gh);
                        let s = LstmStep {
                            batch,
                            steps,
                            h,
                            hx_width: h,
                            width: h,
                            off: 0,
                            gates: gates.as_mut_ptr(),
                            bias: bias.as_ptr(),
                            act: act.as_mut_ptr(),
                            state: state.as_mut_ptr(),
                            tanh_c: tanh_c.as_mut_ptr(),
                            hx: hx.as_mut_ptr(),
                            out: out.as_mut_ptr(),
                            d_out: d_out.as_ptr(),
                            dh: dh.as_mut_ptr(),
                            dc: dc.as_mut_ptr(),
                            sums: sums.as_mut_ptr(),
                            grad: std::ptr::null_mut(),
                            weight: weight.view(),
                            packed: &packed,
                            tile: None,
                            _buffers: PhantomData,
                        };
                        // Step 1 from the drawn state of step 0 (its output
                        // into the last slot of `hx`), then step 0 from
                        // none (into step 1's h_prev), both from the same
                        // products; the backward of both, the gradients
                        // over the gates.
                        // SAFETY: the buffers hold the sizes given, and
                        // each call has them to itself.
                        unsafe {
                            for units in &ranges {
                                lstm_cells(&s, 1, Some(0), 2, units.clone());
                            }
                            for units in &ranges {
                                lstm_cells(&s, 0, None, 1, units.clone());
                            }
                            // The outputs, as `forward_lstm` copies them
                            // when the units are split.
                            for units in ranges.iter().filter(|u| u.len() < h) {
                                s.outputs(|t| t + 1, units);
                            }
                            for units in &ranges {
                                lstm_cells_backward(&s, 1, Some(0), units.clone());
                            }
                            for units in &ranges {
                                lstm_cells_backward(&s, 0, None, units.clone());
                            }
                        }
                        [act, state, tanh_c, out, hx, dc, sums].concat()
                    }));
                }
            }
            runs
        }
        let runs = run::<f32>();
        assert!(runs.iter().all(|r| r
            .iter()
            .zip(&runs[0])
            .all(|(a, b)| a.to_bits() == b.to_bits())));
        let runs = run::<f64>();
        assert!(runs.iter().all(|r| r
            .iter()
            .zip(&runs[0])
            .all(|(a, b)| a.to_bits() == b.to_bits())));
    }

    /// Forward and backward of `layer` on `x` with the loss `sum(y * w)`:
    /// the output, `dL/dx` and every parameter's gradient, widened to f64.
    fn pass<T: Float>(layer: &mut Recurrent<T>, x: &Array2<f64>, w: &Array2<f64>) -> Vec<Vec<f64>> {
        let (x, w) = (x.mapv(T::of), w.mapv(T::of));
        let mut y = Array2::zeros(w.raw_dim());
        layer.forward(x.view(), y.view_mut());
        let mut dx = Array2::zeros(x.raw_dim());
        layer.backward(x.view(), y.view(), w.view(), Some(dx.view_mut()), false);
        let mut all = vec![
            y.iter().map(|&v| Float::to_f64(v)).collect(),
            dx.iter().map(|&v| Float::to_f64(v)).collect(),
        ];
        for (_, g) in layer.tensors() {
            all.push(g.iter().map(|&v| Float::to_f64(v)).collect());
        }
        all
    }

    /// An f32 layer large enough for its products to run on packed
    /// panels and its LSTM steps to be split across threads (by hidden
    /// units in a batch of 8, by groups of samples in a batch of 100: 3
    /// groups) gives the same bits on 1, 2 and 3 threads, forward and
    /// backward, for every cell, stacked and bidirectional; and stays
    /// within f32 rounding of the same layer in f64 (whose products are
    /// gemm's).
    #[test]
    fn threads_give_the_same_bits_and_f32_follows_f64() {
        for (cell, num_layers, bidirectional, batch) in [
            (Cell::Lstm, 1, false, 8),
            (Cell::Lstm, 2, true, 8),
            (Cell::Lstm, 1, false, 100),
            (Cell::Lstm, 2, true, 100),
            (Cell::Gru, 1, true, 8),
            (Cell::Rnn, 2, false, 8),
        ] {
            let config = RecurrentConfig {
                cell,
                steps: 4,
                input_size: 5,
                hidden_size: 96,
                num_layers,
                bidirectional,
            };
            let mut rng = Rng::new(11);
            let x: Array2<f64> = rng.randn((batch, config.steps * config.input_size));
            let w: Array2<f64> = rng.randn((batch, config.steps * config.output_size()));
            // The same draws in both types: f32 weights are the f64 ones,
            // rounded; the inputs are f32 values in both.
            let (x, w) = (x.mapv(|v| v as f32 as f64), w.mapv(|v| v as f32 as f64));
            let mut layer = Recurrent::<f32>::new(config, &mut Rng::new(5));
            let runs: Vec<_> = [1, 2, 3]
                .into_iter()
                .map(|threads| crate::parallel::with_threads(threads, || pass(&mut layer, &x, &w)))
                .collect();
            let what =
                format!("{cell:?} layers {num_layers} bidirectional {bidirectional} batch {batch}");
            assert!(runs[1] == runs[0] && runs[2] == runs[0], "{what}");
            let exact = pass(&mut Recurrent::<f64>::new(config, &mut Rng::new(5)), &x, &w);
            for (k, (a, b)) in runs[0].iter().zip(&exact).enumerate() {
                let scale = b.iter().fold(1.0_f64, |m, v| m.max(v.abs()));
                for (i, (a, b)) in a.iter().zip(b).enumerate() {
                    assert!(
                        (a - b).abs() <= 1e-4 * scale,
                        "{what}: tensor {k}[{i}]: f32 {a} vs f64 {b}"
                    );
                }
            }
        }
    }

    /// `sum(output * weights)`: a loss whose gradient is `weights`.
    fn loss(layer: &mut Recurrent<f64>, x: &Array2<f64>, weights: &Array2<f64>) -> f64 {
        let mut y = Array2::zeros(weights.raw_dim());
        layer.forward(x.view(), y.view_mut());
        (&y * weights).sum()
    }

    fn check(cell: Cell, num_layers: usize, bidirectional: bool, batch: usize) {
        let config = RecurrentConfig {
            cell,
            steps: 4,
            input_size: 3,
            hidden_size: 2,
            num_layers,
            bidirectional,
        };
        let mut rng = Rng::new(3);
        let mut layer = Recurrent::<f64>::new(config, &mut rng);
        let x: Array2<f64> = rng.randn((batch, layer.in_features()));
        let weights: Array2<f64> = rng.randn((batch, layer.out_features()));
        let mut y = Array2::zeros(weights.raw_dim());
        layer.forward(x.view(), y.view_mut());
        let mut dx = Array2::zeros(x.raw_dim());
        layer.backward(
            x.view(),
            y.view(),
            weights.view(),
            Some(dx.view_mut()),
            false,
        );
        let h = 1e-6;
        let what =
            format!("{cell:?} layers {num_layers} bidirectional {bidirectional} batch {batch}");
        // Every parameter.
        let analytic: Vec<Vec<f64>> = layer
            .tensors()
            .iter()
            .map(|(_, g)| g.iter().copied().collect())
            .collect();
        for (t, grads) in analytic.iter().enumerate() {
            for (i, &g) in grads.iter().enumerate() {
                let moved = |delta: f64| {
                    let mut copy = layer.clone();
                    let mut k = 0;
                    let names = vec![""; 4 * copy.directions.len()];
                    copy.visit_parameters_mut(&names, &mut |p| {
                        if k == t {
                            let mut v = p.value;
                            let x = v.iter_mut().nth(i).unwrap();
                            *x += delta;
                        }
                        k += 1;
                    });
                    loss(&mut copy, &x, &weights)
                };
                let numeric = (moved(h) - moved(-h)) / (2.0 * h);
                assert!(
                    (numeric - g).abs() <= 1e-6 * g.abs().max(1.0),
                    "{what}: tensor {t}[{i}]: analytic {g} vs numeric {numeric}"
                );
            }
        }
        // The input.
        for i in 0..x.len() {
            let moved = |delta: f64| {
                let mut xp = x.clone();
                *xp.iter_mut().nth(i).unwrap() += delta;
                loss(&mut layer.clone(), &xp, &weights)
            };
            let numeric = (moved(h) - moved(-h)) / (2.0 * h);
            let g = *dx.iter().nth(i).unwrap();
            assert!(
                (numeric - g).abs() <= 1e-6 * g.abs().max(1.0),
                "{what}: input[{i}]: analytic {g} vs numeric {numeric}"
            );
        }
    }

    #[test]
    fn every_cell_passes_the_gradient_check() {
        for cell in [Cell::Rnn, Cell::Lstm, Cell::Gru] {
            check(cell, 1, false, 3);
            check(cell, 2, true, 3);
        }
        check(Cell::Lstm, 1, true, 3);
        check(Cell::Gru, 3, false, 3);
        // LSTM's samples in groups (see `LSTM_GROUP`): 2 of 33 and 34.
        check(Cell::Lstm, 1, false, 67);
        check(Cell::Lstm, 2, true, 67);
    }
}
