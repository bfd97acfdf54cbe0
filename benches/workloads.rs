//! The benchmark workloads of `docs/workloads.md`, each trained by a model
//! declared with `model!` (through `fit`) and by the same network written
//! by hand: on the runtime's layers and kernels, and (the dense workloads)
//! on `matrixmultiply`'s gemm (the baseline, a dev-dependency).
//!
//! | workload | network | implementations (JSON `impl`) |
//! | --- | --- | --- |
//! | W1-W4 | dense, `f32` | `macrograd` (`model!` + `fit`), `macrograd-handwritten` (`Linear`, `ReLU` and the runtime's gemm in a loop), `handwritten-matrixmultiply` (the same loop on `sgemm`) |
//! | W3f64 | W3 declared `dtype f64`, trained from W3's weights | the same three, the baseline on `dgemm` |
//! | W5 | LSTM, its last step, `Linear` | `macrograd`, `macrograd-handwritten` (`Recurrent`, `Last`, `Linear` in a loop) |
//! | W6 | the digits CNN (`examples/digits_cnn.rs` without dropout) | `macrograd`, `macrograd-handwritten` (`Conv2d`, `BatchNorm`, `ReLU`, `MaxPool2d`, `Linear` in a loop) |
//!
//! ```sh
//! cargo bench --bench workloads -- --threads 1                      # W1-W4, the default
//! cargo bench --bench workloads -- --threads 1 --workloads W3f64,W5,W6
//! cargo bench --bench workloads -- --threads 2 --workloads W6 --repeats 5
//! ```
//!
//! Prints one JSON object per timed run (WORKLOADS.md §6), then a table
//! that says, per workload, whether the per-epoch losses of the generated
//! model and of the hand-written program on the same kernels are
//! bit-identical (they must be: the same arithmetic in the same order).
//! With `--repeats N` the harness runs itself N times as separate processes
//! (so the implementations interleave: A B C A B C ...), passes every JSON
//! line through, and prints the table of median rates (WORKLOADS.md §5).
//! Data, initial weights and shuffle order are bit-identical to every other
//! implementation of the workloads; the checksums say so.

// The data generators follow WORKLOADS.md's index notation term by term, so
// that the f64 accumulation order is visibly the specified one.
#![allow(clippy::needless_range_loop)]

use std::time::Instant;

use macrograd::layers::{
    add_column_sums, Activation, BatchNorm, BatchNormConfig, Cell, Conv2d, Conv2dConfig,
    ImageShape, Last, Layer, Linear, MaxPool2d, Pool2dConfig, ReLU, Recurrent, RecurrentConfig,
};
use macrograd::loss::{CrossEntropy, Loss, MSE};
use macrograd::ndarray::ArrayViewMut2;
use macrograd::optim::{Adam, AdamConfig, Optimizer, SGDConfig, SGD};
use macrograd::prelude::*;
use macrograd::target::Target;
use macrograd::Float;

// ---- data (WORKLOADS.md §2) ----

struct Data {
    x: Array2<f32>,
    y: Array2<f32>,     // W1, W2, W5
    labels: Vec<usize>, // W3, W4, W6
    data_ck: [f64; 2],
}

fn regression_data(w: u64) -> Data {
    let (n, d) = if w == 1 { (100, 10) } else { (8192, 10) };
    let mut rng = Rng::new(1000 + w);
    let x = Array2::from_shape_simple_fn((n, d), || rng.sym() as f32);
    let mut y = Array2::zeros((n, 1));
    if w == 1 {
        let wt: Vec<f64> = (0..d).map(|_| rng.sym()).collect();
        let bt = rng.sym();
        for i in 0..n {
            let e = rng.sym();
            let mut acc = 0.0;
            for j in 0..d {
                acc += wt[j] * x[[i, j]] as f64;
            }
            acc += bt;
            acc += 0.1 * e;
            y[[i, 0]] = acc as f32;
        }
    } else {
        let a: Vec<f64> = (0..d).map(|_| rng.sym()).collect();
        let c: Vec<f64> = (0..d).map(|_| rng.sym()).collect();
        for i in 0..n {
            let e = rng.sym();
            let xi = |j: usize| x[[i, j]] as f64;
            let mut acc = 0.0;
            for j in 0..d {
                acc += a[j] * xi(j);
            }
            for j in 0..d {
                acc += (c[j] * xi(j)) * xi((j + 1) % d);
            }
            acc += 0.1 * e;
            y[[i, 0]] = acc as f32;
        }
    }
    let data_ck = [sum(x.iter()), sum(y.iter())];
    Data {
        x,
        y,
        labels: Vec::new(),
        data_ck,
    }
}

fn classification_data(w: u64) -> Data {
    let (n, d, c) = if w == 3 {
        (16384, 784, 10)
    } else {
        (4096, 1024, 10)
    };
    let mut rng = Rng::new(1000 + w);
    let (x, centre) = if w == 3 {
        (
            Array2::from_shape_simple_fn((n, d), || rng.unit() as f32),
            0.5,
        )
    } else {
        (
            Array2::from_shape_simple_fn((n, d), || rng.sym() as f32),
            0.0,
        )
    };
    let t = Array2::from_shape_simple_fn((c, d), || rng.sym());
    let labels: Vec<usize> = (0..n)
        .map(|i| {
            let mut best = (f64::NEG_INFINITY, 0);
            for k in 0..c {
                let mut acc = 0.0;
                for j in 0..d {
                    acc += t[[k, j]] * (x[[i, j]] as f64 - centre);
                }
                if acc > best.0 {
                    best = (acc, k);
                }
            }
            best.1
        })
        .collect();
    let data_ck = [sum(x.iter()), labels.iter().sum::<usize>() as f64];
    Data {
        x,
        y: Array2::zeros((0, 1)),
        labels,
        data_ck,
    }
}

fn sum<'a>(values: impl Iterator<Item = &'a f32>) -> f64 {
    values.map(|&v| v as f64).sum()
}

/// W5: 2048 sequences of 50 steps of 32 features, each `sym()` in
/// row-major order (sample, step, feature); then 32 weights `a_f = sym()`;
/// then per sample `y = sum over t, f of a_f x[t, f] 0.9^(49 - t) / 10 +
/// 0.1 sym()`, summed in f64 in that order (t, then f), rounded to f32.
fn sequence_data() -> Data {
    let (n, t, f) = (2048, 50, 32);
    let mut rng = Rng::new(1005);
    let x = Array2::from_shape_simple_fn((n, t * f), || rng.sym() as f32);
    let a: Vec<f64> = (0..f).map(|_| rng.sym()).collect();
    let mut y = Array2::zeros((n, 1));
    for i in 0..n {
        let e = rng.sym();
        let mut acc = 0.0;
        for step in 0..t {
            let decay = 0.9f64.powi((t - 1 - step) as i32);
            for j in 0..f {
                acc += a[j] * x[[i, step * f + j]] as f64 * decay / 10.0;
            }
        }
        acc += 0.1 * e;
        y[[i, 0]] = acc as f32;
    }
    let data_ck = [sum(x.iter()), sum(y.iter())];
    Data {
        x,
        y,
        labels: Vec::new(),
        data_ck,
    }
}

/// W6: the 1797 images of `data/digits.csv` in the file's order
/// (`datasets::digits`, which embeds it), each pixel (0 to 16) divided by
/// 16, exact in f32; the targets are the digits.
fn digits_data() -> Data {
    let (digits, _) = macrograd::datasets::digits();
    let (x, labels) = digits.into_parts();
    let x = x / 16.0;
    let data_ck = [sum(x.iter()), labels.iter().sum::<usize>() as f64];
    Data {
        x,
        y: Array2::zeros((0, 1)),
        labels,
        data_ck,
    }
}

// ---- models (WORKLOADS.md §3, §4) ----

model! {
    struct W5;
    input [50, 32];
    LSTM(128); Last; Linear(_, 1);
    loss MSE; optim Adam(lr = 1e-3)
}

/// W5, the sequence workload.
const SPEC5: Spec = Spec {
    name: "W5",
    batch: 64,
    epochs: 1,
    shuffle: true,
};

model! { struct W1; Linear(10, 1); loss MSE; optim SGD(0.01) }
model! { struct W2; Linear(10, 64); ReLU; Linear(64, 64); ReLU; Linear(64, 1); loss MSE; optim Adam(lr = 1e-3) }
model! {
    struct W3;
    Linear(784, 256); ReLU; Linear(256, 128); ReLU; Linear(128, 10);
    loss CrossEntropy; optim SGD(0.01, momentum = 0.9)
}
model! {
    struct W4;
    Linear(1024, 1024); ReLU; Linear(1024, 1024); ReLU; Linear(1024, 10);
    loss CrossEntropy; optim SGD(0.01)
}

// W3 in f64: the same network, data, initial values and shuffle; built by
// `w3f64_model`.
model! {
    struct W3f64;
    dtype f64;
    Linear(784, 256); ReLU; Linear(256, 128); ReLU; Linear(128, 10);
    loss CrossEntropy; optim SGD(0.01, momentum = 0.9)
}

const SPEC3F64: Spec = Spec {
    name: "W3f64",
    batch: 128,
    epochs: 2,
    shuffle: true,
};

/// W3f64's generated model: `with_seed(2003)` draws W3's initial values
/// (INIT 2003, the same order) but keeps them in f64; each is set to the
/// f64 of W3's f32 value, `f32(k sym())`.
fn w3f64_model() -> W3f64 {
    let mut model = W3f64::with_seed(2003);
    model.visit_parameters_mut(&mut |mut p| p.value.mapv_inplace(f32_value));
    model
}

/// `v` rounded to f32 (as the f32 workloads' initial values are), in `v`'s
/// type: the identity on f32.
fn f32_value<T: Float>(v: T) -> T {
    T::of(f64::from(Float::to_f64(v) as f32))
}

// W6, the digits CNN of `examples/digits_cnn.rs` without its two Dropout
// layers. `with_seed(2006)` draws its initial values as WORKLOADS.md §3
// says (each Conv2d and Linear in order, weight `[out][in][kh][kw]` then
// bias, `k = 1/sqrt(fan_in)`; batch norm at scale 1, shift 0).
model! {
    struct W6;
    input [1, 8, 8];
    Conv2d(1, 16, 3, padding = 1);
    BatchNorm;
    ReLU;
    Conv2d(16, 32, 3, padding = 1);
    BatchNorm;
    ReLU;
    MaxPool2d(2);
    Flatten;
    Linear(_, 64);
    ReLU;
    Linear(_, 10);
    loss CrossEntropy;
    optim Adam(lr = 1e-3)
}

/// W6: 1797 samples in batches of 32, the last of each epoch holding 5.
const SPEC6: Spec = Spec {
    name: "W6",
    batch: 32,
    epochs: 20,
    shuffle: true,
};

struct Spec {
    name: &'static str,
    batch: usize,
    epochs: usize,
    shuffle: bool,
}

const SPECS: [Spec; 4] = [
    Spec {
        name: "W1",
        batch: 100,
        epochs: 2000,
        shuffle: false,
    },
    Spec {
        name: "W2",
        batch: 32,
        epochs: 10,
        shuffle: true,
    },
    Spec {
        name: "W3",
        batch: 128,
        epochs: 2,
        shuffle: true,
    },
    Spec {
        name: "W4",
        batch: 256,
        epochs: 1,
        shuffle: true,
    },
];

struct Run {
    seconds: f64,
    epoch_losses: Vec<f64>,
    init_ck: f64,
}

/// `init_ck`: each parameter tensor summed in f64 in row-major order, the
/// tensors' sums added in the model's order (WORKLOADS.md §6).
fn param_sum<M: Model>(m: &M) -> f64 {
    m.parameters()
        .iter()
        .map(|p| p.value.iter().map(|&v| Float::to_f64(v)).sum::<f64>())
        .sum()
}

/// Trains a `model!` type with `fit`: the generated code under test.
/// `make` builds the model (with the workload's seed).
fn run_generated<M: Model>(
    make: impl Fn() -> M,
    data: &Dataset<M::Elem, M::Target>,
    spec: &Spec,
    w: u64,
) -> Run {
    run_generated_on(make, data, spec, w, None)
}

/// [`run_generated`], on the processes of `world` when given.
fn run_generated_on<M: Model>(
    make: impl Fn() -> M,
    data: &Dataset<M::Elem, M::Target>,
    spec: &Spec,
    w: u64,
    world: Option<&dyn macrograd::distributed::Collective>,
) -> Run {
    let fit = || {
        let fit = Fit::epochs(spec.epochs)
            .batch_size(spec.batch)
            .shuffle(spec.shuffle)
            .seed(3000 + w)
            // The workloads report no metric (WORKLOADS.md §5).
            .metrics(&[])
            .quiet();
        match world {
            Some(world) => fit.distributed(world),
            None => fit,
        }
    };
    // Warm-up: the whole run once on a throw-away model, dropped before the
    // timed model is built, exactly as every hand-written run follows a
    // throw-away run of its own: both timed runs then start from the same
    // state of the allocator (memory freed by the warm-up, its pages
    // already mapped), and neither pays first-touch page faults the other
    // does not.
    let mut warm = make();
    let _ = warm.fit(data, fit());
    drop(warm);
    let mut model = make();
    let init_ck = param_sum(&model);
    let start = Instant::now();
    let history = model.fit(data, fit()).expect("valid workload");
    let seconds = start.elapsed().as_secs_f64();
    Run {
        seconds,
        epoch_losses: history.losses(),
        init_ck,
    }
}

// ---- the same networks by hand, on the runtime's kernels ----

/// Copies a batch's targets into a buffer.
type Gather<T, L> =
    dyn Fn(&[usize], &mut <<L as Loss<T>>::Target as macrograd::target::Target<T>>::Data);

/// A matrix multiply `C <- alpha A B + beta C`.
type Gemm<T> = fn(T, ArrayView2<'_, T>, ArrayView2<'_, T>, T, ArrayViewMut2<'_, T>);

/// The runtime's gemm, as the generated code uses it.
fn runtime_gemm<T: Float>(
    alpha: T,
    a: ArrayView2<'_, T>,
    b: ArrayView2<'_, T>,
    beta: T,
    c: ArrayViewMut2<'_, T>,
) {
    macrograd::gemm::gemm(alpha, a, b, beta, c)
}

/// The element types `matrixmultiply` has a gemm for.
trait MatrixMultiply: Float {
    /// `matrixmultiply::sgemm` or `dgemm`.
    ///
    /// # Safety
    ///
    /// As theirs: the pointers and strides describe valid `m x k`, `k x n`
    /// and `m x n` matrices, and `c` aliases neither input.
    #[allow(clippy::too_many_arguments)]
    unsafe fn matrixmultiply(
        m: usize,
        k: usize,
        n: usize,
        alpha: Self,
        a: *const Self,
        rsa: isize,
        csa: isize,
        b: *const Self,
        rsb: isize,
        csb: isize,
        beta: Self,
        c: *mut Self,
        rsc: isize,
        csc: isize,
    );
}

impl MatrixMultiply for f32 {
    unsafe fn matrixmultiply(
        m: usize,
        k: usize,
        n: usize,
        alpha: f32,
        a: *const f32,
        rsa: isize,
        csa: isize,
        b: *const f32,
        rsb: isize,
        csb: isize,
        beta: f32,
        c: *mut f32,
        rsc: isize,
        csc: isize,
    ) {
        // SAFETY: the caller's contract is sgemm's.
        unsafe {
            matrixmultiply::sgemm(m, k, n, alpha, a, rsa, csa, b, rsb, csb, beta, c, rsc, csc)
        }
    }
}

impl MatrixMultiply for f64 {
    unsafe fn matrixmultiply(
        m: usize,
        k: usize,
        n: usize,
        alpha: f64,
        a: *const f64,
        rsa: isize,
        csa: isize,
        b: *const f64,
        rsb: isize,
        csb: isize,
        beta: f64,
        c: *mut f64,
        rsc: isize,
        csc: isize,
    ) {
        // SAFETY: the caller's contract is dgemm's.
        unsafe {
            matrixmultiply::dgemm(m, k, n, alpha, a, rsa, csa, b, rsb, csb, beta, c, rsc, csc)
        }
    }
}

/// `C <- alpha A B + beta C` on `matrixmultiply`'s sgemm (f32) or dgemm
/// (f64): the baseline the runtime's kernel is measured against. Same
/// contract as the runtime's gemm.
///
/// # Panics
///
/// If the shapes do not chain.
#[track_caller]
fn matrixmultiply_gemm<T: MatrixMultiply>(
    alpha: T,
    a: ArrayView2<'_, T>,
    b: ArrayView2<'_, T>,
    beta: T,
    mut c: ArrayViewMut2<'_, T>,
) {
    let (m, k) = a.dim();
    let (k2, n) = b.dim();
    assert!(
        k == k2 && c.dim() == (m, n),
        "gemm: shapes do not chain: A is {m}x{k}, B is {k2}x{n}, C is {}x{}",
        c.nrows(),
        c.ncols()
    );
    let strides = |s: &[isize]| (s[0], s[1]);
    let (rsa, csa) = strides(a.strides());
    let (rsb, csb) = strides(b.strides());
    let (rsc, csc) = strides(c.strides());
    // SAFETY: the views hold valid storage for the checked shapes and
    // strides, and `c`, a unique mutable view, aliases neither input.
    unsafe {
        T::matrixmultiply(
            m,
            k,
            n,
            alpha,
            a.as_ptr(),
            rsa,
            csa,
            b.as_ptr(),
            rsb,
            csb,
            beta,
            c.as_mut_ptr(),
            rsc,
            csc,
        );
    }
}

/// A network written by hand, as [`run_hand`] trains it: its layers, its
/// optimizer, and buffers for batches of up to the workload's batch size.
trait Net<T: Float> {
    /// The input rows, `[batch, in]`; a step fills the first of them.
    fn input(&mut self) -> ArrayViewMut2<'_, T>;
    /// The forward pass over the first `rows` samples, in training mode.
    fn forward(&mut self, rows: usize);
    /// The outputs of the last forward pass, and the buffer that the loss
    /// writes their gradient into.
    fn output(&mut self, rows: usize) -> (ArrayView2<'_, T>, ArrayViewMut2<'_, T>);
    /// The backward pass from that gradient, then one optimizer update.
    fn backward_and_step(&mut self, rows: usize);
    /// The checksum of the initial weights, `init_ck` (WORKLOADS.md §6).
    fn init_ck(&self) -> f64;
}

/// A stack of `Linear` layers with ReLU between, its buffers and optimizer,
/// driven step by step without `model!` or `fit`, on either gemm (W1-W4,
/// W3f64).
struct Hand<T, O> {
    gemm: Gemm<T>,
    layers: Vec<Linear<T>>,
    opt: O,
    acts: Vec<Array2<T>>, // acts[0] input, acts[2i+1] linear out, acts[2i+2] relu out
    grads: Vec<Array2<T>>, // same indexing
}

impl<T: Float, O: Optimizer<T>> Hand<T, O> {
    /// The layers of `sizes` with the initial values of INIT `seed`, each
    /// rounded to f32 as the workloads specify (in f32, a no-op; in f64,
    /// W3f64's values).
    fn new(
        gemm: Gemm<T>,
        sizes: &[usize],
        seed: u64,
        make: impl Fn(&[usize]) -> O,
        batch: usize,
    ) -> Self {
        let mut rng = Rng::new(seed);
        let layers: Vec<Linear<T>> = sizes
            .windows(2)
            .map(|w| {
                let mut layer = Linear::new(w[0], w[1], true, &mut rng);
                layer.weight.mapv_inplace(f32_value);
                if let Some(bias) = &mut layer.bias {
                    bias.mapv_inplace(f32_value);
                }
                layer
            })
            .collect();
        let lens: Vec<usize> = layers
            .iter()
            .flat_map(|l| [l.weight.len(), l.out_features()])
            .collect();
        let mut widths = vec![sizes[0]];
        for (i, &s) in sizes[1..].iter().enumerate() {
            widths.push(s);
            if i + 2 < sizes.len() {
                widths.push(s);
            }
        }
        let acts = widths.iter().map(|&w| Array2::zeros((batch, w))).collect();
        let grads = widths.iter().map(|&w| Array2::zeros((batch, w))).collect();
        Hand {
            gemm,
            layers,
            opt: make(&lens),
            acts,
            grads,
        }
    }
}

impl<T: Float, O: Optimizer<T>> Net<T> for Hand<T, O> {
    fn input(&mut self) -> ArrayViewMut2<'_, T> {
        self.acts[0].view_mut()
    }

    /// Every batch of W1-W4 is whole: the buffers are its size.
    fn forward(&mut self, rows: usize) {
        assert_eq!(rows, self.acts[0].nrows(), "whole batches only");
        let last = self.layers.len() - 1;
        for (i, layer) in self.layers.iter().enumerate() {
            let (a, b) = self.acts.split_at_mut(2 * i + 1);
            let out = &mut b[0];
            for mut row in out.rows_mut() {
                row.assign(layer.bias.as_ref().unwrap());
            }
            (self.gemm)(
                T::one(),
                a[2 * i].view(),
                layer.weight.t(),
                T::one(),
                out.view_mut(),
            );
            if i < last {
                let (a, b) = self.acts.split_at_mut(2 * i + 2);
                ReLU.forward(a[2 * i + 1].view(), b[0].view_mut());
            }
        }
    }

    fn output(&mut self, _rows: usize) -> (ArrayView2<'_, T>, ArrayViewMut2<'_, T>) {
        let out = self.acts.len() - 1;
        (self.acts[out].view(), self.grads[out].view_mut())
    }

    fn backward_and_step(&mut self, _rows: usize) {
        for i in (0..self.layers.len()).rev() {
            let (g_lo, g_hi) = self.grads.split_at_mut(2 * i + 1);
            let layer = &mut self.layers[i];
            let g = g_hi[0].view();
            (self.gemm)(
                T::one(),
                g.t(),
                self.acts[2 * i].view(),
                T::zero(),
                layer.weight_grad.view_mut(),
            );
            let bias_grad = layer.bias_grad.as_mut().unwrap();
            bias_grad.fill(T::zero());
            add_column_sums(bias_grad.as_slice_mut().unwrap(), g.as_slice().unwrap());
            if i > 0 {
                (self.gemm)(
                    T::one(),
                    g,
                    layer.weight.view(),
                    T::zero(),
                    g_lo[2 * i].view_mut(),
                );
            }
            if i > 0 {
                let (g_lo, g_hi) = self.grads.split_at_mut(2 * i);
                ReLU.backward(
                    self.acts[2 * i - 1].view(),
                    self.acts[2 * i].view(),
                    g_hi[0].view(),
                    g_lo[2 * i - 1].view_mut(),
                );
            }
        }
        for (i, layer) in self.layers.iter_mut().enumerate() {
            layer.step(&mut self.opt, 2 * i);
        }
    }

    fn init_ck(&self) -> f64 {
        self.layers
            .iter()
            .map(|l| {
                let weight: f64 = l.weight.iter().map(|&v| Float::to_f64(v)).sum();
                let bias: f64 = l
                    .bias
                    .as_ref()
                    .unwrap()
                    .iter()
                    .map(|&v| Float::to_f64(v))
                    .sum();
                weight + bias
            })
            .sum()
    }
}

// ---- W5 and W6 by hand, on the runtime's layers ----

/// A layer of the hand-written W5 and W6: the runtime's own types, which
/// the generated models hold too.
enum Stage<T> {
    Conv(Conv2d<T>),
    Norm(BatchNorm<T>),
    Relu(ReLU),
    Pool(MaxPool2d),
    Lstm(Recurrent<T>),
    Last(Last),
    Linear(Linear<T>),
}

/// `$body` with `$l` bound to the stage's layer, whatever its type: each
/// arm calls the runtime's `Layer` trait on a concrete type, as the
/// generated code does.
macro_rules! on_layer {
    ($stage:expr, $l:ident => $body:expr) => {
        match $stage {
            Stage::Conv($l) => $body,
            Stage::Norm($l) => $body,
            Stage::Relu($l) => $body,
            Stage::Pool($l) => $body,
            Stage::Lstm($l) => $body,
            Stage::Last($l) => $body,
            Stage::Linear($l) => $body,
        }
    };
}

/// A chain of layers trained by hand: `values[i]` is the input of layer
/// `i` (`values[0]` the batch, the last the outputs) and `grads[i]` its
/// gradient, the buffers of the generated model's slots. Forward runs the
/// layers in order, backward in reverse (the first layer gets no input
/// gradient: nothing before it has parameters), then the optimizer
/// updates each layer's tensors, numbered in order as the generated
/// model numbers them.
struct Stack<T, O> {
    stages: Vec<Stage<T>>,
    /// The optimizer's index of each stage's first tensor.
    first: Vec<usize>,
    opt: O,
    values: Vec<Array2<T>>,
    grads: Vec<Array2<T>>,
}

/// The first `rows` rows of a buffer.
fn rows_of<T>(a: &Array2<T>, rows: usize) -> ArrayView2<'_, T> {
    a.slice(s![..rows, ..])
}

/// The first `rows` rows of a buffer, writable.
fn rows_of_mut<T>(a: &mut Array2<T>, rows: usize) -> ArrayViewMut2<'_, T> {
    a.slice_mut(s![..rows, ..])
}

impl<T: Float, O: Optimizer<T>> Stack<T, O> {
    /// `stages` reading and writing samples of `widths` values (one more
    /// width than stages), the optimizer `make` builds over their tensors,
    /// buffers for `batch` samples.
    fn new(
        stages: Vec<Stage<T>>,
        widths: &[usize],
        make: impl Fn(&[usize]) -> O,
        batch: usize,
    ) -> Self {
        assert_eq!(widths.len(), stages.len() + 1);
        let (mut lens, mut first) = (Vec::new(), Vec::new());
        for stage in &stages {
            first.push(lens.len());
            on_layer!(stage, l => Layer::<T>::visit_parameters(l, &["", "", "", ""], false, &mut |p| {
                lens.push(p.value.len())
            }));
        }
        let buffers =
            || -> Vec<Array2<T>> { widths.iter().map(|&w| Array2::zeros((batch, w))).collect() };
        let mut grads = buffers();
        grads[0] = Array2::zeros((0, widths[0])); // never read
        Stack {
            stages,
            first,
            opt: make(&lens),
            values: buffers(),
            grads,
        }
    }
}

impl<T: Float, O: Optimizer<T>> Net<T> for Stack<T, O> {
    fn input(&mut self) -> ArrayViewMut2<'_, T> {
        self.values[0].view_mut()
    }

    fn forward(&mut self, rows: usize) {
        for (i, stage) in self.stages.iter_mut().enumerate() {
            let (done, rest) = self.values.split_at_mut(i + 1);
            let (x, y) = (rows_of(&done[i], rows), rows_of_mut(&mut rest[0], rows));
            on_layer!(stage, l => Layer::<T>::forward(l, x, y, true));
        }
    }

    fn output(&mut self, rows: usize) -> (ArrayView2<'_, T>, ArrayViewMut2<'_, T>) {
        let out = self.stages.len();
        (
            rows_of(&self.values[out], rows),
            rows_of_mut(&mut self.grads[out], rows),
        )
    }

    fn backward_and_step(&mut self, rows: usize) {
        for (i, stage) in self.stages.iter_mut().enumerate().rev() {
            let (below, above) = self.grads.split_at_mut(i + 1);
            let grad_input = (i > 0).then(|| rows_of_mut(&mut below[i], rows));
            let (x, y) = (
                rows_of(&self.values[i], rows),
                rows_of(&self.values[i + 1], rows),
            );
            let g = rows_of(&above[0], rows);
            // `accumulate = false`: the first backward after `zero_grad`.
            on_layer!(stage, l => Layer::<T>::backward(l, x, y, g, grad_input, false));
        }
        for (stage, &first) in self.stages.iter_mut().zip(&self.first) {
            on_layer!(stage, l => Layer::<T>::step(l, &mut self.opt, first));
        }
    }

    fn init_ck(&self) -> f64 {
        let mut total = 0.0;
        for stage in &self.stages {
            on_layer!(stage, l => Layer::<T>::visit_parameters(l, &["", "", "", ""], false, &mut |p| {
                total += p.value.iter().map(|&v| Float::to_f64(v)).sum::<f64>()
            }));
        }
        total
    }
}

/// W5 by hand: `LSTM(32 -> 128)` over 50 steps, its last step,
/// `Linear(128, 1)`, drawn from INIT 2005 in that order; Adam.
fn w5_by_hand(batch: usize) -> Stack<f32, Adam<f32>> {
    let mut rng = Rng::new(2005);
    let config = RecurrentConfig {
        cell: Cell::Lstm,
        steps: 50,
        input_size: 32,
        hidden_size: 128,
        num_layers: 1,
        bidirectional: false,
    };
    let lstm = Recurrent::new(config, &mut rng);
    let linear = Linear::new(128, 1, true, &mut rng);
    Stack::new(
        vec![
            Stage::Lstm(lstm),
            Stage::Last(Last { steps: 50 }),
            Stage::Linear(linear),
        ],
        &[50 * 32, 50 * 128, 128, 1],
        adam,
        batch,
    )
}

/// W6 by hand: the digits CNN, its Conv2d and Linear layers drawn from
/// INIT 2006 in order (batch norm draws nothing); `Flatten` is no layer
/// (a sample's `32 x 4 x 4` values already are its row of 512); Adam.
fn w6_by_hand(batch: usize) -> Stack<f32, Adam<f32>> {
    let mut rng = Rng::new(2006);
    let mut conv = |c_in, c_out| {
        let config = Conv2dConfig {
            padding: (1, 1),
            ..Conv2dConfig::new(c_in, c_out, (3, 3))
        };
        Stage::Conv(Conv2d::new(config, (8, 8), &mut rng))
    };
    let (conv1, conv2) = (conv(1, 16), conv(16, 32));
    let norm = |c| {
        Stage::Norm(BatchNorm::new_2d(
            ImageShape::new(c, 8, 8),
            BatchNormConfig::default(),
        ))
    };
    let pool = MaxPool2d::new(Pool2dConfig::new((2, 2)), ImageShape::new(32, 8, 8));
    let linear1 = Linear::new(512, 64, true, &mut rng);
    let linear2 = Linear::new(64, 10, true, &mut rng);
    Stack::new(
        vec![
            conv1,
            norm(16),
            Stage::Relu(ReLU),
            conv2,
            norm(32),
            Stage::Relu(ReLU),
            Stage::Pool(pool),
            Stage::Linear(linear1),
            Stage::Relu(ReLU),
            Stage::Linear(linear2),
        ],
        &[64, 1024, 1024, 1024, 2048, 2048, 2048, 512, 64, 64, 10],
        adam,
        batch,
    )
}

/// SGD with learning rate `lr` and `momentum`, over tensors of `lens`.
fn sgd<T: Float>(lr: f64, momentum: f64) -> impl Fn(&[usize]) -> SGD<T> {
    move |lens| {
        SGD::new(
            SGDConfig {
                lr,
                momentum,
                ..SGDConfig::default()
            },
            lens,
        )
    }
}

/// Adam with learning rate 1e-3 (PyTorch's defaults otherwise).
fn adam<T: Float>(lens: &[usize]) -> Adam<T> {
    Adam::new(
        AdamConfig {
            lr: 1e-3,
            ..AdamConfig::default()
        },
        lens,
    )
}

/// The regression targets of a batch: rows of `y`.
fn gather_rows(y: Array2<f32>) -> impl Fn(&[usize], &mut Array2<f32>) {
    move |batch, buf| {
        if buf.nrows() != batch.len() {
            *buf = Array2::zeros((batch.len(), 1));
        }
        for (k, &i) in batch.iter().enumerate() {
            buf[[k, 0]] = y[[i, 0]];
        }
    }
}

/// The class labels of a batch.
fn gather_labels(labels: Vec<usize>) -> impl Fn(&[usize], &mut Vec<usize>) {
    move |batch, buf| {
        buf.clear();
        buf.extend(batch.iter().map(|&i| labels[i]));
    }
}

/// Trains a hand-written network on the inputs `x` as `fit` trains the
/// generated one: every epoch a permutation from SHUFFLE `3000 + w` (W1:
/// the data in order), batch after batch (the last may be short: W6)
/// gathered, forward, loss, backward, update; an epoch's loss is the mean
/// of its batches' losses weighed by their samples, summed in f64.
fn run_hand<T: Float, N: Net<T>, L: Loss<T>>(
    mut net: N,
    loss: L,
    x: ArrayView2<'_, T>,
    spec: &Spec,
    w: u64,
    targets: &Gather<T, L>,
) -> Run {
    let init_ck = net.init_ck();
    let n = x.nrows();
    let mut rng = Rng::new(3000 + w);
    let mut order: Vec<usize> = (0..n).collect();
    let mut tbuf = Default::default();
    let mut filled = false;
    let start = Instant::now();
    let mut epoch_losses = Vec::new();
    for _ in 0..spec.epochs {
        if spec.shuffle {
            rng.permutation(&mut order);
        }
        let mut total = 0.0;
        for batch in order.chunks(spec.batch) {
            let rows = batch.len();
            // W1 (one unshuffled full batch) uses the data as is
            // (WORKLOADS.md §5): the input buffer is filled once.
            if spec.shuffle || !filled {
                for (mut row, &i) in net.input().rows_mut().into_iter().zip(batch) {
                    row.assign(&x.row(i));
                }
                targets(batch, &mut tbuf);
                filled = !spec.shuffle && spec.batch == n;
            }
            net.forward(rows);
            let (out, grad) = net.output(rows);
            let l = loss.compute(out, <L::Target as Target<T>>::view(&tbuf, rows), Some(grad));
            net.backward_and_step(rows);
            // Times the batch's samples, as `fit` sums: with whole batches
            // of a power of two (or one batch) the same bits as the plain
            // mean.
            total += Float::to_f64(l) * rows as f64;
        }
        epoch_losses.push(total / n as f64);
    }
    Run {
        seconds: start.elapsed().as_secs_f64(),
        epoch_losses,
        init_ck,
    }
}

// ---- driver ----

/// Prints the JSON line of a timed run of `n` samples per epoch whose data
/// checksums are `data_ck`; returns its rate.
fn report(kind: &str, spec: &Spec, threads: usize, n: usize, data_ck: [f64; 2], run: &Run) -> f64 {
    let samples = n * spec.epochs;
    let (rate, unit) = if spec.name == "W1" {
        (spec.epochs as f64 / run.seconds, "steps/s")
    } else {
        (samples as f64 / run.seconds, "samples/s")
    };
    let losses: Vec<String> = run.epoch_losses.iter().map(|l| format!("{l:?}")).collect();
    let shown = if losses.len() > 20 {
        let mut s = losses[..10].to_vec();
        s.extend_from_slice(&losses[losses.len() - 10..]);
        s
    } else {
        losses.clone()
    };
    println!(
        "{{\"impl\": \"{kind}\", \"version\": \"macrograd {}\", \"workload\": \"{}\", \"threads\": {threads}, \"seconds\": {:?}, \"rate\": {:?}, \"unit\": \"{unit}\", \"epoch_losses\": [{}], \"data_ck\": [{:?}, {:?}], \"init_ck\": {:?}, \"final_loss\": {:?}}}",
        env!("CARGO_PKG_VERSION"),
        spec.name,
        run.seconds,
        rate,
        shown.join(", "),
        data_ck[0],
        data_ck[1],
        run.init_ck,
        run.epoch_losses.last().copied().unwrap_or(f64::NAN),
    );
    rate
}

/// A hand-written run after a throw-away run of its own.
fn warm(run: impl Fn() -> Run) -> Run {
    run();
    run()
}

/// Trains workload `w` (1 to 4) three ways: `model!` + `fit`, by hand on
/// the runtime's gemm, by hand on `matrixmultiply`.
fn run_workload(w: u64, spec: &Spec, data: &Data) -> [Run; 3] {
    let gemms: [Gemm<f32>; 2] = [runtime_gemm, matrixmultiply_gemm];
    let x = data.x.view();
    if w <= 2 {
        let ds = Dataset::regression(data.x.clone(), data.y.clone()).unwrap();
        let gather = gather_rows(data.y.clone());
        if w == 1 {
            let hand = |g| {
                warm(|| {
                    run_hand(
                        Hand::new(g, &[10, 1], 2001, sgd(0.01, 0.0), spec.batch),
                        MSE,
                        x,
                        spec,
                        w,
                        &gather,
                    )
                })
            };
            [
                run_generated(|| W1::with_seed(2001), &ds, spec, w),
                hand(gemms[0]),
                hand(gemms[1]),
            ]
        } else {
            let hand = |g| {
                warm(|| {
                    run_hand(
                        Hand::new(g, &[10, 64, 64, 1], 2002, adam, spec.batch),
                        MSE,
                        x,
                        spec,
                        w,
                        &gather,
                    )
                })
            };
            [
                run_generated(|| W2::with_seed(2002), &ds, spec, w),
                hand(gemms[0]),
                hand(gemms[1]),
            ]
        }
    } else {
        let ds = Dataset::classification(data.x.clone(), data.labels.clone()).unwrap();
        let gather = gather_labels(data.labels.clone());
        let ce = CrossEntropy::default();
        if w == 3 {
            let hand = |g| {
                warm(|| {
                    run_hand(
                        Hand::new(g, &[784, 256, 128, 10], 2003, sgd(0.01, 0.9), spec.batch),
                        ce,
                        x,
                        spec,
                        w,
                        &gather,
                    )
                })
            };
            [
                run_generated(|| W3::with_seed(2003), &ds, spec, w),
                hand(gemms[0]),
                hand(gemms[1]),
            ]
        } else {
            let hand = |g| {
                warm(|| {
                    run_hand(
                        Hand::new(g, &[1024, 1024, 1024, 10], 2004, sgd(0.01, 0.0), spec.batch),
                        ce,
                        x,
                        spec,
                        w,
                        &gather,
                    )
                })
            };
            [
                run_generated(|| W4::with_seed(2004), &ds, spec, w),
                hand(gemms[0]),
                hand(gemms[1]),
            ]
        }
    }
}

/// W3 in f64 three ways, on W3's data, initial values and shuffle, every
/// one of them converted to f64: `model!` (`dtype f64`) + `fit`, by hand
/// on the runtime's gemm, by hand on `matrixmultiply`'s dgemm.
fn run_w3f64(spec: &Spec, x: &Array2<f64>, labels: &[usize]) -> [Run; 3] {
    let ds = Dataset::classification(x.clone(), labels.to_vec()).unwrap();
    let gather = gather_labels(labels.to_vec());
    let hand = |g: Gemm<f64>| {
        let net = || Hand::new(g, &[784, 256, 128, 10], 2003, sgd(0.01, 0.9), spec.batch);
        let ce = CrossEntropy::default();
        warm(|| run_hand(net(), ce, x.view(), spec, 3, &gather))
    };
    [
        run_generated(w3f64_model, &ds, spec, 3),
        hand(runtime_gemm),
        hand(matrixmultiply_gemm),
    ]
}

/// The workloads in the order they run; the default is the first four.
const WORKLOADS: [&str; 7] = ["W1", "W2", "W3", "W4", "W3f64", "W5", "W6"];

/// One row of the table: a workload's rates, and how its losses compare.
struct Row {
    name: &'static str,
    generated: f64,
    hand: f64,
    /// The `matrixmultiply` program's rate (the dense workloads only).
    baseline: Option<f64>,
    /// Whether the generated and the hand-written per-epoch losses are
    /// bit-identical.
    same: bool,
    /// The largest relative difference of the `matrixmultiply` program's
    /// losses to the generated ones.
    drift: Option<f64>,
}

impl Row {
    fn new(name: &'static str, rates: [f64; 3], runs: [&Run; 3]) -> Self {
        let [gen, hand, baseline] = runs;
        let drift = gen
            .epoch_losses
            .iter()
            .zip(&baseline.epoch_losses)
            .map(|(a, b)| ((a - b) / b).abs())
            .fold(0.0, f64::max);
        Row {
            name,
            generated: rates[0],
            hand: rates[1],
            baseline: Some(rates[2]),
            same: gen.epoch_losses == hand.epoch_losses,
            drift: Some(drift),
        }
    }

    /// A workload without a `matrixmultiply` program (W5, W6).
    fn two(name: &'static str, rates: [f64; 2], gen: &Run, hand: &Run) -> Self {
        Row {
            name,
            generated: rates[0],
            hand: rates[1],
            baseline: None,
            same: gen.epoch_losses == hand.epoch_losses,
            drift: None,
        }
    }
}

/// `{value:.digits}`, or a dash for none.
fn or_dash(value: Option<f64>, digits: usize) -> String {
    value.map_or("–".to_string(), |v| format!("{v:.digits$}"))
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let mut threads = 1;
    let mut repeats = 1usize;
    let mut wanted = vec!["W1", "W2", "W3", "W4"];
    let mut list = String::new();
    let mut i = 1;
    while i < args.len() {
        match args[i].as_str() {
            "--threads" => {
                threads = args.get(i + 1).and_then(|v| v.parse().ok()).unwrap_or(1);
                i += 1;
            }
            "--workloads" => {
                list = args.get(i + 1).cloned().unwrap_or_default();
                i += 1;
            }
            "--repeats" => {
                repeats = args.get(i + 1).and_then(|v| v.parse().ok()).unwrap_or(1);
                i += 1;
            }
            _ => {} // `cargo bench` passes `--bench`
        }
        i += 1;
    }
    if !list.is_empty() {
        wanted = list.split(',').map(str::trim).collect();
    }
    for name in wanted.iter().filter(|name| !WORKLOADS.contains(name)) {
        eprintln!(
            "unknown workload `{name}` (known: {})",
            WORKLOADS.join(", ")
        );
    }
    wanted.retain(|name| WORKLOADS.contains(name));
    if wanted.is_empty() {
        std::process::exit(2);
    }
    if args.iter().any(|a| a == "--distributed") {
        distributed(threads, &wanted);
        return;
    }
    if repeats > 1 {
        repeat(threads, &wanted, repeats);
        return;
    }
    macrograd::set_threads(threads);
    let mut table = Vec::new();
    for (w, spec) in (1u64..).zip(SPECS.iter()) {
        if !wanted.contains(&spec.name) {
            continue;
        }
        let data = if w <= 2 {
            regression_data(w)
        } else {
            classification_data(w)
        };
        let runs = run_workload(w, spec, &data);
        let (n, ck) = (data.x.nrows(), data.data_ck);
        let rates = [
            report("macrograd", spec, threads, n, ck, &runs[0]),
            report("macrograd-handwritten", spec, threads, n, ck, &runs[1]),
            report("handwritten-matrixmultiply", spec, threads, n, ck, &runs[2]),
        ];
        // The generated model and the hand-written one on the same kernels
        // do the same arithmetic in the same order: their losses must be
        // equal. `matrixmultiply` sums in another order, so its losses only
        // stay close (f32 rounding, amplified by Adam over 2560 steps in W2).
        table.push(Row::new(spec.name, rates, [&runs[0], &runs[1], &runs[2]]));
    }
    if wanted.contains(&"W3f64") {
        let data = classification_data(3);
        let x = data.x.mapv(f64::from);
        let (n, ck) = (x.nrows(), [x.iter().sum::<f64>(), data.data_ck[1]]);
        drop(data.x);
        let spec = &SPEC3F64;
        let runs = run_w3f64(spec, &x, &data.labels);
        let rates = [
            report("macrograd", spec, threads, n, ck, &runs[0]),
            report("macrograd-handwritten", spec, threads, n, ck, &runs[1]),
            report("handwritten-matrixmultiply", spec, threads, n, ck, &runs[2]),
        ];
        table.push(Row::new(spec.name, rates, [&runs[0], &runs[1], &runs[2]]));
    }
    if wanted.contains(&"W5") {
        let (data, spec) = (sequence_data(), &SPEC5);
        let ds = Dataset::regression(data.x.clone(), data.y.clone()).unwrap();
        let gen = run_generated(|| W5::with_seed(2005), &ds, spec, 5);
        let gather = gather_rows(data.y.clone());
        let x = data.x.view();
        let hand = warm(|| run_hand(w5_by_hand(spec.batch), MSE, x, spec, 5, &gather));
        let (n, ck) = (data.x.nrows(), data.data_ck);
        let rates = [
            report("macrograd", spec, threads, n, ck, &gen),
            report("macrograd-handwritten", spec, threads, n, ck, &hand),
        ];
        table.push(Row::two(spec.name, rates, &gen, &hand));
    }
    if wanted.contains(&"W6") {
        let (data, spec) = (digits_data(), &SPEC6);
        let ds = Dataset::classification(data.x.clone(), data.labels.clone()).unwrap();
        let gen = run_generated(|| W6::with_seed(2006), &ds, spec, 6);
        let gather = gather_labels(data.labels.clone());
        let (x, ce) = (data.x.view(), CrossEntropy::default());
        let hand = warm(|| run_hand(w6_by_hand(spec.batch), ce, x, spec, 6, &gather));
        let (n, ck) = (data.x.nrows(), data.data_ck);
        let rates = [
            report("macrograd", spec, threads, n, ck, &gen),
            report("macrograd-handwritten", spec, threads, n, ck, &hand),
        ];
        table.push(Row::two(spec.name, rates, &gen, &hand));
    }
    eprintln!("\n{threads} thread(s); rates in steps/s (W1) or samples/s (the others)");
    eprintln!("| workload | model! + fit | by hand, runtime kernels | by hand, matrixmultiply | generated / by hand | generated / matrixmultiply | losses: generated = by hand | max rel. loss difference to matrixmultiply |");
    eprintln!("| --- | --- | --- | --- | --- | --- | --- | --- |");
    for row in table {
        let Row {
            name,
            generated: g,
            hand: h,
            baseline: b,
            same,
            drift,
        } = row;
        eprintln!(
            "| {name} | {g:.0} | {h:.0} | {} | {:.3} | {} | {same} | {} |",
            or_dash(b, 0),
            g / h,
            or_dash(b.map(|b| g / b), 2),
            drift.map_or("–".to_string(), |d| format!("{d:.1e}")),
        );
    }
}

// ---- repeats: separate processes, medians ----

/// The value after `"key": ` in one of this harness's JSON lines.
fn field<'a>(line: &'a str, key: &str) -> &'a str {
    let start = line.find(&format!("\"{key}\": ")).expect("harness line") + key.len() + 4;
    let rest = &line[start..];
    let end = if rest.starts_with('[') {
        rest.find(']').expect("closed array") + 1
    } else {
        rest.find([',', '}']).expect("field end")
    };
    rest[..end].trim_matches('"')
}

/// The median, or `None` of no value (an implementation a workload does
/// not have: the `matrixmultiply` program of W5 and W6).
fn median(mut v: Vec<f64>) -> Option<f64> {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(v[n / 2]),
        _ => Some((v[n / 2 - 1] + v[n / 2]) / 2.0),
    }
}

/// Runs this harness `repeats` times and prints the table of median rates.
fn repeat(threads: usize, wanted: &[&str], repeats: usize) {
    let exe = std::env::current_exe().expect("own path");
    let impls = [
        "macrograd",
        "macrograd-handwritten",
        "handwritten-matrixmultiply",
    ];
    // rates[w][impl] and whether every run's generated losses equal the
    // hand-written ones.
    let mut rates = vec![[const { Vec::new() }; 3]; wanted.len()];
    let mut same = vec![true; wanted.len()];
    for _ in 0..repeats {
        let out = std::process::Command::new(&exe)
            .args([
                "--threads",
                &threads.to_string(),
                "--workloads",
                &wanted.join(","),
            ])
            .stderr(std::process::Stdio::null())
            .output()
            .expect("run the harness");
        let text = String::from_utf8(out.stdout).expect("UTF-8 output");
        let mut losses: Vec<(usize, usize, String)> = Vec::new();
        for line in text.lines().filter(|l| l.starts_with('{')) {
            println!("{line}");
            let w = wanted.iter().position(|&n| n == field(line, "workload"));
            let k = impls.iter().position(|&n| n == field(line, "impl"));
            if let (Some(w), Some(k)) = (w, k) {
                rates[w][k].push(field(line, "rate").parse::<f64>().expect("a rate"));
                losses.push((w, k, field(line, "epoch_losses").to_string()));
            }
        }
        for (w, k, l) in &losses {
            if *k == 0 {
                let hand = losses.iter().find(|(w2, k2, _)| w2 == w && *k2 == 1);
                same[*w] &= hand.is_some_and(|(_, _, h)| h == l);
            }
        }
    }
    eprintln!(
        "\n{threads} thread(s), median of {repeats} runs; rates in steps/s (W1) or samples/s (the others)"
    );
    eprintln!("| workload | model! + fit | by hand, runtime kernels | by hand, matrixmultiply | generated / by hand | generated / matrixmultiply | losses: generated = by hand |");
    eprintln!("| --- | --- | --- | --- | --- | --- | --- |");
    for (w, name) in wanted.iter().enumerate() {
        let [g, h, b] = rates[w].clone().map(median);
        let ratio = |a: Option<f64>, b: Option<f64>| a.zip(b).map(|(a, b)| a / b);
        eprintln!(
            "| {name} | {} | {} | {} | {} | {} | {} |",
            or_dash(g, 0),
            or_dash(h, 0),
            or_dash(b, 0),
            or_dash(ratio(g, h), 3),
            or_dash(ratio(g, b), 2),
            same[w]
        );
    }
}

// ---- distributed: W3 and W4 on the processes of an MPI job ----

/// `mpiexec -n P .../workloads-HASH --threads T --workloads W3,W4
/// --distributed` (built with `--features mpi`): the generated W3 and W4
/// trained by the P processes together (`Fit::distributed`), reported by
/// rank 0 as the other runs are; then the gradient exchange alone, timed
/// on a buffer of the model's parameters, and its share of a step.
#[cfg(feature = "mpi")]
fn distributed(threads: usize, wanted: &[&str]) {
    use macrograd::distributed::{reduce_sum, Collective, Mpi, Scratch};
    let world = Mpi::init().expect("MPI starts");
    macrograd::set_threads(threads);
    let (rank, size) = (world.rank(), world.size());
    for (w, spec) in (1u64..).zip(SPECS.iter()) {
        if !wanted.contains(&spec.name) || w < 3 {
            continue;
        }
        let data = classification_data(w);
        let ds = Dataset::classification(data.x.clone(), data.labels.clone()).unwrap();
        let (run, params) = if w == 3 {
            let run = run_generated_on(|| W3::with_seed(2003), &ds, spec, w, Some(&world));
            (run, W3::new().summary().params())
        } else {
            let run = run_generated_on(|| W4::with_seed(2004), &ds, spec, w, Some(&world));
            (run, W4::new().summary().params())
        };
        // The exchange of one step: the gradients, summed in rank order.
        let mut grads = vec![1.0f32; params];
        let mut scratch = Scratch::default();
        reduce_sum(&world, &mut grads, &mut scratch);
        let reps = 20;
        let start = Instant::now();
        for _ in 0..reps {
            reduce_sum(&world, &mut grads, &mut scratch);
        }
        let exchange = start.elapsed().as_secs_f64() / reps as f64;
        let steps = spec.epochs * data.x.nrows().div_ceil(spec.batch);
        let step = run.seconds / steps as f64;
        let bytes = (params * 4) as f64;
        // Bytes each process sends in one exchange: 2 (P - 1) / P of them.
        let moved = 2.0 * (size as f64 - 1.0) / size as f64 * bytes;
        if rank == 0 {
            let rate = report(
                &format!("macrograd-{size}-processes"),
                spec,
                threads,
                data.x.nrows(),
                data.data_ck,
                &run,
            );
            eprintln!(
                "{} on {size} processes of {threads} thread(s): {rate:.0} samples/s; a step {:.3} ms, \
                 its gradient exchange ({params} f32, {:.1} MB) {:.3} ms = {:.1} % of it, \
                 {:.2} GB/s sent per process",
                spec.name,
                step * 1e3,
                bytes / 1e6,
                exchange * 1e3,
                100.0 * exchange / step,
                moved / exchange / 1e9
            );
        }
    }
}

#[cfg(not(feature = "mpi"))]
fn distributed(_: usize, _: &[&str]) {
    eprintln!(
        "--distributed needs the feature `mpi`: cargo bench --features mpi --bench workloads"
    );
    std::process::exit(2);
}
