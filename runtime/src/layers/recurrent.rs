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
//! with `h` and `c` starting at zero. The input projection of all steps is
//! one product (`[b T, F] x [F, G H]`); the recurrent product runs per step;
//! backpropagation through time runs the steps in reverse, and the weight
//! gradient of the input projection is again one product. Every buffer
//! grows with the batch and is then reused: a training step allocates
//! nothing.

use ndarray::{s, Array1, Array2, ArrayView2, ArrayViewMut2};

use super::{export_input_error, Layer};
use crate::gemm::gemm;
use crate::onnx::{Attr, Graph, Names, Value};
use crate::optim::Optimizer;
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
#[derive(Clone, Debug, Default)]
struct Records<T> {
    /// `[b, T, G H]`: the input projection `x W_ih^T + b_ih`, then (in the
    /// backward) the gradient of the gates' input part.
    pre: Vec<T>,
    /// `[b, T, G H]`: the activated gates (RNN: `h`).
    act: Vec<T>,
    /// `[b, T, H]`: LSTM's cell state `c`; GRU's `h W_hn^T + b_hn`.
    state: Vec<T>,
    /// `[b, G H]`: the recurrent product of one step, then its gradient.
    hidden: Vec<T>,
}

fn sigmoid<T: Float>(x: T) -> T {
    x.fast_sigmoid()
}

/// What the backward of one LSTM cell reads: `dL/dh` from above, the
/// forward's gates and cell states.
#[derive(Clone, Copy)]
struct LstmGrads<'a, T> {
    d_out: &'a [T],
    act: &'a [T],
    c: &'a [T],
    c_prev: Option<&'a [T]>,
}

crate::simd::dispatch! {
    /// The backward of [`lstm_cell`] for one sample and step: from `dL/dh`
    /// (`d_out` plus the carried `dh`, which becomes 0: the recurrent
    /// product adds its part after) and the carried `dc` (which becomes
    /// `dL/dc_prev`), the gradients of the gates' inputs into `d_pre` and
    /// `d_hidden` (the same values).
    fn lstm_cell_backward<T: Float>(
        x: LstmGrads<'_, T>,
        dh: &mut [T],
        dc: &mut [T],
        d_pre: &mut [T],
        d_hidden: &mut [T],
    ) => lstm_cell_backward_body
}

#[inline(always)]
fn lstm_cell_backward_body<T: Float>(
    x: LstmGrads<'_, T>,
    dh: &mut [T],
    dc: &mut [T],
    d_pre: &mut [T],
    d_hidden: &mut [T],
) {
    let h = dh.len();
    let one = T::one();
    // Every slice cut to `h` up front, so that the loop has no bounds
    // checks and runs on the vector units.
    let (i, rest) = x.act.split_at(h);
    let (f, rest) = rest.split_at(h);
    let (g, o) = rest.split_at(h);
    let (o, d_out, c, dc) = (&o[..h], &x.d_out[..h], &x.c[..h], &mut dc[..h]);
    let (dpi, rest) = d_pre.split_at_mut(h);
    let (dpf, rest) = rest.split_at_mut(h);
    let (dpg, dpo) = rest.split_at_mut(h);
    let dpo = &mut dpo[..h];
    // At the first step there is no previous state: its term is zero
    // (`c * 0`), in the same loop, which a closure or a second loop
    // would keep off the vector units.
    let (c_prev, keep) = match x.c_prev {
        Some(c_prev) => (&c_prev[..h], one),
        None => (c, T::zero()),
    };
    for j in 0..h {
        let dhj = d_out[j] + dh[j];
        let tc = c[j].fast_tanh();
        let dcj = dc[j] + dhj * o[j] * (one - tc * tc);
        dpi[j] = dcj * g[j] * i[j] * (one - i[j]);
        dpf[j] = dcj * (c_prev[j] * keep) * f[j] * (one - f[j]);
        dpg[j] = dcj * i[j] * (one - g[j] * g[j]);
        dpo[j] = dhj * tc * o[j] * (one - o[j]);
        dc[j] = dcj * f[j];
        dh[j] = T::zero();
    }
    d_hidden.copy_from_slice(d_pre);
}

crate::simd::dispatch! {
    /// One LSTM cell for one sample and step, over its `H` units: the
    /// gates from `pre + hid` into `act` (`i, f, g, o`), the cell state
    /// into `c` (from `c_prev`, or zeros at the first step) and the hidden
    /// state into `h_out`. Plain loops over slices, so that they run on
    /// the vector units (the gates' sigmoid and tanh are inline
    /// arithmetic, [`Float::fast_sigmoid`] and [`Float::fast_tanh`]).
    fn lstm_cell<T: Float>(
        pre: &[T],
        hid: &[T],
        act: &mut [T],
        c_prev: Option<&[T]>,
        c: &mut [T],
        h_out: &mut [T],
    ) => lstm_cell_body
}

#[inline(always)]
fn lstm_cell_body<T: Float>(
    pre: &[T],
    hid: &[T],
    act: &mut [T],
    c_prev: Option<&[T]>,
    c: &mut [T],
    h_out: &mut [T],
) {
    let h = c.len();
    for ((a, &p), &q) in act.iter_mut().zip(pre).zip(hid) {
        *a = p + q;
    }
    let (i, rest) = act.split_at_mut(h);
    let (f, rest) = rest.split_at_mut(h);
    let (g, o) = rest.split_at_mut(h);
    // One loop per gate: a chain of iterators would not vectorize.
    for v in i.iter_mut() {
        *v = v.fast_sigmoid();
    }
    for v in f.iter_mut() {
        *v = v.fast_sigmoid();
    }
    for v in o.iter_mut() {
        *v = v.fast_sigmoid();
    }
    for v in g.iter_mut() {
        *v = v.fast_tanh();
    }
    match c_prev {
        Some(c_prev) => {
            for ((((c, &f), &cp), &i), &g) in c.iter_mut().zip(&*f).zip(c_prev).zip(&*i).zip(&*g) {
                *c = f * cp + i * g;
            }
        }
        None => {
            for (((c, &f), &i), &g) in c.iter_mut().zip(&*f).zip(&*i).zip(&*g) {
                *c = f * T::zero() + i * g;
            }
        }
    }
    for ((y, &c), &o) in h_out.iter_mut().zip(&*c).zip(&*o) {
        *y = o * c.fast_tanh();
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
        let (h, gh) = (self.hidden_size(), self.weight_ih.nrows());
        let batch = x.nrows() / steps.max(1);
        grow(&mut rec.pre, batch * steps * gh);
        grow(&mut rec.act, batch * steps * gh);
        grow(&mut rec.state, batch * steps * h);
        grow(&mut rec.hidden, batch * gh);
        // The input projection of every step: one product.
        let mut pre = view_mut(&mut rec.pre[..batch * steps * gh], batch * steps, gh);
        for mut row in pre.rows_mut() {
            row.assign(&self.bias_ih);
        }
        gemm(T::one(), x, self.weight_ih.t(), T::one(), pre);
        for k in 0..steps {
            let t = self.step(k, steps);
            let prev = self.prev(t, steps);
            // hidden <- h_prev W_hh^T + b_hh.
            let mut hidden = view_mut(&mut rec.hidden[..batch * gh], batch, gh);
            for mut row in hidden.rows_mut() {
                row.assign(&self.bias_hh);
            }
            if let Some(p) = prev {
                let h_prev = step_view(out, batch, steps, width, p, off, h);
                gemm(T::one(), h_prev, self.weight_hh.t(), T::one(), hidden);
            }
            for b in 0..batch {
                let row = (b * steps + t) * gh;
                let pre = &rec.pre[row..row + gh];
                let hid = &rec.hidden[b * gh..(b + 1) * gh];
                let act = &mut rec.act[row..row + gh];
                let state_at = (b * steps + t) * h;
                if cell == Cell::Lstm {
                    // This step's cell state and the previous step's (the
                    // one before in forward order, after in reverse).
                    let (c, c_prev) = match prev.map(|p| (b * steps + p) * h) {
                        None => (&mut rec.state[state_at..state_at + h], None),
                        Some(at) if at < state_at => {
                            let (before, from) = rec.state.split_at_mut(state_at);
                            (&mut from[..h], Some(&before[at..at + h]))
                        }
                        Some(at) => {
                            let (upto, from) = rec.state.split_at_mut(at);
                            (&mut upto[state_at..state_at + h], Some(&from[..h]))
                        }
                    };
                    let at = b * steps * width + t * width + off;
                    lstm_cell(pre, hid, act, c_prev, c, &mut out[at..at + h]);
                    continue;
                }
                for j in 0..h {
                    let h_prev =
                        prev.map_or(T::zero(), |p| out[b * steps * width + p * width + off + j]);
                    let value = match cell {
                        Cell::Rnn => {
                            let v = (pre[j] + hid[j]).fast_tanh();
                            act[j] = v;
                            v
                        }
                        Cell::Lstm => {
                            let i = sigmoid(pre[j] + hid[j]);
                            let f = sigmoid(pre[h + j] + hid[h + j]);
                            let g = (pre[2 * h + j] + hid[2 * h + j]).fast_tanh();
                            let o = sigmoid(pre[3 * h + j] + hid[3 * h + j]);
                            let c_prev =
                                prev.map_or(T::zero(), |p| rec.state[(b * steps + p) * h + j]);
                            let c = f * c_prev + i * g;
                            (act[j], act[h + j], act[2 * h + j], act[3 * h + j]) = (i, f, g, o);
                            rec.state[state_at + j] = c;
                            o * c.fast_tanh()
                        }
                        Cell::Gru => {
                            let r = sigmoid(pre[j] + hid[j]);
                            let z = sigmoid(pre[h + j] + hid[h + j]);
                            let hn = hid[2 * h + j];
                            let n = (pre[2 * h + j] + r * hn).fast_tanh();
                            (act[j], act[h + j], act[2 * h + j]) = (r, z, n);
                            rec.state[state_at + j] = hn;
                            (T::one() - z) * n + z * h_prev
                        }
                    };
                    out[b * steps * width + t * width + off + j] = value;
                }
            }
        }
    }

    /// Backpropagation through time from `d_out: [b, T W]` (columns `off..
    /// off + H` of each step), given the forward's `x` and `out`. Adds the
    /// parameter gradients (after zeroing them unless `accumulate`) and,
    /// when `d_x` is given, writes (`first`) or adds `dL/dx` to it.
    #[allow(clippy::too_many_arguments)]
    fn backward(
        &mut self,
        rec: &mut Records<T>,
        cell: Cell,
        steps: usize,
        x: ArrayView2<'_, T>,
        out: &[T],
        d_out: &[T],
        width: usize,
        off: usize,
        d_x: Option<(ArrayViewMut2<'_, T>, bool)>,
        accumulate: bool,
    ) {
        let (h, gh) = (self.hidden_size(), self.weight_ih.nrows());
        let batch = x.nrows() / steps.max(1);
        if !accumulate {
            self.grad_ih.fill(T::zero());
            self.grad_hh.fill(T::zero());
            self.grad_bias_ih.fill(T::zero());
            self.grad_bias_hh.fill(T::zero());
        }
        grow(&mut self.dh, batch * h);
        grow(&mut self.dc, batch * h);
        self.dh[..batch * h].fill(T::zero());
        self.dc[..batch * h].fill(T::zero());
        for k in (0..steps).rev() {
            let t = self.step(k, steps);
            let prev = self.prev(t, steps);
            for b in 0..batch {
                let row = (b * steps + t) * gh;
                if cell == Cell::Lstm {
                    let at = b * steps * width + t * width + off;
                    let state = &rec.state;
                    let c_prev = prev.map(|p| &state[(b * steps + p) * h..][..h]);
                    lstm_cell_backward(
                        LstmGrads {
                            d_out: &d_out[at..at + h],
                            act: &rec.act[row..row + gh],
                            c: &state[(b * steps + t) * h..][..h],
                            c_prev,
                        },
                        &mut self.dh[b * h..(b + 1) * h],
                        &mut self.dc[b * h..(b + 1) * h],
                        &mut rec.pre[row..row + gh],
                        &mut rec.hidden[b * gh..(b + 1) * gh],
                    );
                    continue;
                }
                for j in 0..h {
                    let dh = d_out[b * steps * width + t * width + off + j] + self.dh[b * h + j];
                    let act = &rec.act[row..row + gh];
                    let h_prev =
                        prev.map_or(T::zero(), |p| out[b * steps * width + p * width + off + j]);
                    // Gradients of the gates' input part (into `pre`) and
                    // hidden part (into `hidden`), and what flows back
                    // directly to h_prev (GRU) and c_prev (LSTM).
                    let (mut direct, one) = (T::zero(), T::one());
                    match cell {
                        Cell::Rnn => {
                            let v = act[j];
                            let da = dh * (one - v * v);
                            rec.pre[row + j] = da;
                            rec.hidden[b * gh + j] = da;
                        }
                        Cell::Lstm => {
                            let (i, f, g, o) = (act[j], act[h + j], act[2 * h + j], act[3 * h + j]);
                            let c = rec.state[(b * steps + t) * h + j];
                            let c_prev =
                                prev.map_or(T::zero(), |p| rec.state[(b * steps + p) * h + j]);
                            let tc = c.fast_tanh();
                            let dc = self.dc[b * h + j] + dh * o * (one - tc * tc);
                            let grads = [
                                dc * g * i * (one - i),
                                dc * c_prev * f * (one - f),
                                dc * i * (one - g * g),
                                dh * tc * o * (one - o),
                            ];
                            for (k, d) in grads.into_iter().enumerate() {
                                rec.pre[row + k * h + j] = d;
                                rec.hidden[b * gh + k * h + j] = d;
                            }
                            self.dc[b * h + j] = dc * f;
                        }
                        Cell::Gru => {
                            let (r, z, n) = (act[j], act[h + j], act[2 * h + j]);
                            let hn = rec.state[(b * steps + t) * h + j];
                            let dn = dh * (one - z);
                            let dz = dh * (h_prev - n);
                            direct = dh * z;
                            let dan = dn * (one - n * n);
                            let dar = dan * hn * r * (one - r);
                            let daz = dz * z * (one - z);
                            rec.pre[row + j] = dar;
                            rec.pre[row + h + j] = daz;
                            rec.pre[row + 2 * h + j] = dan;
                            rec.hidden[b * gh + j] = dar;
                            rec.hidden[b * gh + h + j] = daz;
                            rec.hidden[b * gh + 2 * h + j] = dan * r;
                        }
                    }
                    self.dh[b * h + j] = direct;
                }
            }
            // The hidden part: W_hh and b_hh, and dL/dh_prev.
            let hidden = view(&rec.hidden[..batch * gh], batch, gh);
            for g in hidden.rows() {
                for (acc, &d) in self.grad_bias_hh.iter_mut().zip(g) {
                    *acc = *acc + d;
                }
            }
            if let Some(p) = prev {
                let h_prev = step_view(out, batch, steps, width, p, off, h);
                gemm(
                    T::one(),
                    hidden.t(),
                    h_prev,
                    T::one(),
                    self.grad_hh.view_mut(),
                );
                let dh = view_mut(&mut self.dh[..batch * h], batch, h);
                gemm(T::one(), hidden, self.weight_hh.view(), T::one(), dh);
            }
        }
        // The input part of every step: one product each.
        let d_pre = view(&rec.pre[..batch * steps * gh], batch * steps, gh);
        crate::layers::add_column_sums(
            self.grad_bias_ih.as_slice_mut().expect("contiguous"),
            &rec.pre[..batch * steps * gh],
        );
        gemm(T::one(), d_pre.t(), x, T::one(), self.grad_ih.view_mut());
        if let Some((d_x, first)) = d_x {
            let beta = if first { T::zero() } else { T::one() };
            gemm(T::one(), d_pre, self.weight_ih.view(), beta, d_x);
        }
    }
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
        let out = output
            .as_slice()
            .expect("a layer's output rows are contiguous");
        let d_out_last = grad_output
            .as_slice()
            .expect("a gradient's rows are contiguous");
        for buffer in &mut self.between_grad {
            grow(buffer, rows * w);
        }
        let mut grad_input = grad_input;
        for layer in (0..c.num_layers).rev() {
            let last = layer + 1 == c.num_layers;
            let layer_out: &[T] = if last {
                out
            } else {
                &self.between[layer][..rows * w]
            };
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
                    layer_out,
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

    /// The LSTM cell's forward and backward loops give the same bits on
    /// every instruction set this CPU has (the baseline, AVX2, AVX-512),
    /// in `f32` and `f64`, with and without a previous state.
    #[test]
    fn lstm_cell_loops_give_the_same_bits_on_every_path() {
        fn run<T: Float>(with_prev: bool) -> Vec<Vec<T>> {
            let h = 37; // not a multiple of any vector width
            let mut rng = Rng::new(9);
            let mut draw = |n: usize, scale: f64| -> Vec<T> {
                (0..n).map(|_| T::of(scale * rng.sym())).collect()
            };
            let (pre, hid, c_prev, d_out) = (
                draw(4 * h, 6.0),
                draw(4 * h, 3.0),
                draw(h, 2.0),
                draw(h, 1.0),
            );
            let (dh0, dc0) = (draw(h, 0.5), draw(h, 0.5));
            crate::simd::levels()
                .into_iter()
                .map(|level| {
                    crate::simd::with_level(level, || {
                        let prev = with_prev.then_some(c_prev.as_slice());
                        let (mut act, mut c, mut out) = (
                            vec![T::zero(); 4 * h],
                            vec![T::zero(); h],
                            vec![T::zero(); h],
                        );
                        lstm_cell(&pre, &hid, &mut act, prev, &mut c, &mut out);
                        let (mut dh, mut dc) = (dh0.clone(), dc0.clone());
                        let (mut d_pre, mut d_hidden) =
                            (vec![T::zero(); 4 * h], vec![T::zero(); 4 * h]);
                        let x = LstmGrads {
                            d_out: &d_out,
                            act: &act,
                            c: &c,
                            c_prev: prev,
                        };
                        lstm_cell_backward(x, &mut dh, &mut dc, &mut d_pre, &mut d_hidden);
                        [act, c, out, dh, dc, d_pre, d_hidden].concat()
                    })
                })
                .collect()
        }
        for with_prev in [true, false] {
            let runs = run::<f32>(with_prev);
            assert!(runs.iter().all(|r| r
                .iter()
                .zip(&runs[0])
                .all(|(a, b)| a.to_bits() == b.to_bits())));
            let runs = run::<f64>(with_prev);
            assert!(runs.iter().all(|r| r
                .iter()
                .zip(&runs[0])
                .all(|(a, b)| a.to_bits() == b.to_bits())));
        }
    }

    /// `sum(output * weights)`: a loss whose gradient is `weights`.
    fn loss(layer: &mut Recurrent<f64>, x: &Array2<f64>, weights: &Array2<f64>) -> f64 {
        let mut y = Array2::zeros(weights.raw_dim());
        layer.forward(x.view(), y.view_mut());
        (&y * weights).sum()
    }

    fn check(cell: Cell, num_layers: usize, bidirectional: bool) {
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
        let batch = 3;
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
        let what = format!("{cell:?} layers {num_layers} bidirectional {bidirectional}");
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
            check(cell, 1, false);
            check(cell, 2, true);
        }
        check(Cell::Lstm, 1, true);
        check(Cell::Gru, 3, false);
    }
}
