//! The benchmark workloads of `docs/workloads.md` (W5, the sequence one, by
//! the generated model only), trained by
//! models declared with `model!` (through `fit`) and by the same networks
//! written by hand, against the runtime's kernels and against
//! `matrixmultiply`'s sgemm (the baseline, a dev-dependency).
//!
//! ```sh
//! cargo bench --bench workloads -- --threads 1 --workloads W1,W2,W3,W4
//! ```
//!
//! Prints one JSON object per timed run (WORKLOADS.md §6), then a table.
//! With `--repeats N` the harness runs itself N times as separate processes
//! (so the implementations interleave: A B C A B C ...), passes every JSON
//! line through, and prints the table of median rates (WORKLOADS.md §5).
//! Data, initial weights and shuffle order are bit-identical to every other
//! implementation of the workloads; the checksums say so.

// The data generators follow WORKLOADS.md's index notation term by term, so
// that the f64 accumulation order is visibly the specified one.
#![allow(clippy::needless_range_loop)]

use std::time::Instant;

use macrograd::layers::{add_column_sums, Activation, Linear, ReLU};
use macrograd::loss::{CrossEntropy, Loss, MSE};
use macrograd::ndarray;
use macrograd::optim::{Adam, AdamConfig, Optimizer, SGDConfig, SGD};
use macrograd::prelude::*;
use macrograd::Float;

// ---- data (WORKLOADS.md §2) ----

struct Data {
    x: Array2<f32>,
    y: Array2<f32>,     // W1, W2
    labels: Vec<usize>, // W3, W4
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

// ---- models (WORKLOADS.md §3, §4) ----

model! {
    struct W5;
    input [50, 32];
    LSTM(128); Last; Linear(_, 1);
    loss MSE; optim Adam(lr = 1e-3)
}

/// W5, the sequence workload: generated code only (the hand-written
/// programs cover the dense workloads).
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

fn param_sum<M: Model<Elem = f32>>(m: &M) -> f64 {
    m.parameters().iter().map(|p| sum(p.value.iter())).sum()
}

/// Trains a `model!` type with `fit`: the generated code under test.
/// `make` builds the model (with the workload's seed).
fn run_generated<M: Model<Elem = f32>>(
    make: impl Fn() -> M,
    data: &Dataset<f32, M::Target>,
    spec: &Spec,
    w: u64,
) -> Run {
    run_generated_on(make, data, spec, w, None)
}

/// [`run_generated`], on the processes of `world` when given.
fn run_generated_on<M: Model<Elem = f32>>(
    make: impl Fn() -> M,
    data: &Dataset<f32, M::Target>,
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
type Gather<L> =
    dyn Fn(&[usize], &mut <<L as Loss<f32>>::Target as macrograd::target::Target<f32>>::Data);

/// A matrix multiply `C <- alpha A B + beta C`.
type Gemm = fn(f32, ArrayView2<'_, f32>, ArrayView2<'_, f32>, f32, ndarray::ArrayViewMut2<'_, f32>);

/// The runtime's gemm, as the generated code uses it.
fn runtime_gemm(
    alpha: f32,
    a: ArrayView2<'_, f32>,
    b: ArrayView2<'_, f32>,
    beta: f32,
    c: ndarray::ArrayViewMut2<'_, f32>,
) {
    macrograd::gemm::gemm(alpha, a, b, beta, c)
}

/// `C <- alpha A B + beta C` in f32 on `matrixmultiply`'s sgemm: the
/// baseline the runtime's kernel is measured against. Same contract as the
/// runtime's gemm.
///
/// # Panics
///
/// If the shapes do not chain.
#[track_caller]
fn matrixmultiply_gemm(
    alpha: f32,
    a: ArrayView2<'_, f32>,
    b: ArrayView2<'_, f32>,
    beta: f32,
    mut c: ndarray::ArrayViewMut2<'_, f32>,
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
        matrixmultiply::sgemm(
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

/// A stack of `Linear` layers with ReLU between, its buffers and optimizer,
/// driven step by step without `model!` or `fit`.
struct Hand<O> {
    gemm: Gemm,
    layers: Vec<Linear<f32>>,
    opt: O,
    acts: Vec<Array2<f32>>, // acts[0] input, acts[2i+1] linear out, acts[2i+2] relu out
    grads: Vec<Array2<f32>>, // same indexing
}

impl<O: Optimizer<f32>> Hand<O> {
    fn new(
        gemm: Gemm,
        sizes: &[usize],
        seed: u64,
        make: impl Fn(&[usize]) -> O,
        batch: usize,
    ) -> Self {
        let mut rng = Rng::new(seed);
        let layers: Vec<Linear<f32>> = sizes
            .windows(2)
            .map(|w| Linear::new(w[0], w[1], true, &mut rng))
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

    fn forward(&mut self) {
        let last = self.layers.len() - 1;
        for (i, layer) in self.layers.iter().enumerate() {
            let (a, b) = self.acts.split_at_mut(2 * i + 1);
            let out = &mut b[0];
            for mut row in out.rows_mut() {
                row.assign(layer.bias.as_ref().unwrap());
            }
            (self.gemm)(1.0, a[2 * i].view(), layer.weight.t(), 1.0, out.view_mut());
            if i < last {
                let (a, b) = self.acts.split_at_mut(2 * i + 2);
                ReLU.forward(a[2 * i + 1].view(), b[0].view_mut());
            }
        }
    }

    fn backward_and_step(&mut self) {
        for i in (0..self.layers.len()).rev() {
            let (g_lo, g_hi) = self.grads.split_at_mut(2 * i + 1);
            let layer = &mut self.layers[i];
            let g = g_hi[0].view();
            (self.gemm)(
                1.0,
                g.t(),
                self.acts[2 * i].view(),
                0.0,
                layer.weight_grad.view_mut(),
            );
            let bias_grad = layer.bias_grad.as_mut().unwrap();
            bias_grad.fill(0.0);
            add_column_sums(bias_grad.as_slice_mut().unwrap(), g.as_slice().unwrap());
            if i > 0 {
                (self.gemm)(1.0, g, layer.weight.view(), 0.0, g_lo[2 * i].view_mut());
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
            .map(|l| sum(l.weight.iter()) + sum(l.bias.as_ref().unwrap().iter()))
            .sum()
    }
}

fn run_hand<O: Optimizer<f32>, L: Loss<f32>>(
    mut net: Hand<O>,
    loss: L,
    data: &Data,
    spec: &Spec,
    w: u64,
    targets: &Gather<L>,
) -> Run {
    use macrograd::target::Target;
    let init_ck = net.init_ck();
    let n = data.x.nrows();
    let mut rng = Rng::new(3000 + w);
    let mut order: Vec<usize> = (0..n).collect();
    let mut tbuf = Default::default();
    let out = net.acts.len() - 1;
    let mut filled = false;
    let start = Instant::now();
    let mut epoch_losses = Vec::new();
    for _ in 0..spec.epochs {
        if spec.shuffle {
            rng.permutation(&mut order);
        }
        let mut total = 0.0;
        for batch in order.chunks(spec.batch) {
            // W1 (one unshuffled full batch) uses the data as is
            // (WORKLOADS.md §5): the input buffer is filled once.
            if spec.shuffle || !filled {
                for (mut row, &i) in net.acts[0].rows_mut().into_iter().zip(batch) {
                    row.assign(&data.x.row(i));
                }
                targets(batch, &mut tbuf);
                filled = !spec.shuffle && spec.batch == n;
            }
            net.forward();
            let l = loss.compute(
                net.acts[out].view(),
                <L::Target as Target<f32>>::view(&tbuf, batch.len()),
                Some(net.grads[out].view_mut()),
            );
            net.backward_and_step();
            total += l.to_f64();
        }
        epoch_losses.push(total / (n / spec.batch) as f64);
    }
    Run {
        seconds: start.elapsed().as_secs_f64(),
        epoch_losses,
        init_ck,
    }
}

// ---- driver ----

fn report(kind: &str, spec: &Spec, threads: usize, data: &Data, run: &Run) -> f64 {
    let samples = data.x.nrows() * spec.epochs;
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
        data.data_ck[0],
        data.data_ck[1],
        run.init_ck,
        run.epoch_losses.last().copied().unwrap_or(f64::NAN),
    );
    rate
}

/// Trains workload `w` three ways: `model!` + `fit`, by hand on the
/// runtime's gemm, by hand on `matrixmultiply`.
fn run_workload(w: u64, spec: &Spec, data: &Data) -> [Run; 3] {
    let gemms: [Gemm; 2] = [runtime_gemm, matrixmultiply_gemm];
    let sgd = |lr, momentum| {
        move |l: &[usize]| {
            SGD::new(
                SGDConfig {
                    lr,
                    momentum,
                    ..SGDConfig::default()
                },
                l,
            )
        }
    };
    let adam = |l: &[usize]| {
        Adam::new(
            AdamConfig {
                lr: 1e-3,
                ..AdamConfig::default()
            },
            l,
        )
    };
    if w <= 2 {
        let ds = Dataset::regression(data.x.clone(), data.y.clone()).unwrap();
        let y = data.y.clone();
        let gather = move |batch: &[usize], buf: &mut Array2<f32>| {
            if buf.nrows() != batch.len() {
                *buf = Array2::zeros((batch.len(), 1));
            }
            for (k, &i) in batch.iter().enumerate() {
                buf[[k, 0]] = y[[i, 0]];
            }
        };
        if w == 1 {
            let hand = |g| {
                run_hand(
                    Hand::new(g, &[10, 1], 2001, sgd(0.01, 0.0), spec.batch),
                    MSE,
                    data,
                    spec,
                    w,
                    &gather,
                )
            };
            // Each run follows a throw-away run of its own.
            let warm = |g| {
                hand(g);
                hand(g)
            };
            [
                run_generated(|| W1::with_seed(2001), &ds, spec, w),
                warm(gemms[0]),
                warm(gemms[1]),
            ]
        } else {
            let hand = |g| {
                run_hand(
                    Hand::new(g, &[10, 64, 64, 1], 2002, adam, spec.batch),
                    MSE,
                    data,
                    spec,
                    w,
                    &gather,
                )
            };
            // Each run follows a throw-away run of its own.
            let warm = |g| {
                hand(g);
                hand(g)
            };
            [
                run_generated(|| W2::with_seed(2002), &ds, spec, w),
                warm(gemms[0]),
                warm(gemms[1]),
            ]
        }
    } else {
        let ds = Dataset::classification(data.x.clone(), data.labels.clone()).unwrap();
        let labels = data.labels.clone();
        let gather = move |batch: &[usize], buf: &mut Vec<usize>| {
            buf.clear();
            buf.extend(batch.iter().map(|&i| labels[i]));
        };
        let ce = CrossEntropy::default();
        if w == 3 {
            let hand = |g| {
                run_hand(
                    Hand::new(g, &[784, 256, 128, 10], 2003, sgd(0.01, 0.9), spec.batch),
                    ce,
                    data,
                    spec,
                    w,
                    &gather,
                )
            };
            let warm = |g| {
                hand(g);
                hand(g)
            };
            [
                run_generated(|| W3::with_seed(2003), &ds, spec, w),
                warm(gemms[0]),
                warm(gemms[1]),
            ]
        } else {
            let hand = |g| {
                run_hand(
                    Hand::new(g, &[1024, 1024, 1024, 10], 2004, sgd(0.01, 0.0), spec.batch),
                    ce,
                    data,
                    spec,
                    w,
                    &gather,
                )
            };
            let warm = |g| {
                hand(g);
                hand(g)
            };
            [
                run_generated(|| W4::with_seed(2004), &ds, spec, w),
                warm(gemms[0]),
                warm(gemms[1]),
            ]
        }
    }
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
        let [gen, hand, baseline] = run_workload(w, spec, &data);
        let r_gen = report("macrograd", spec, threads, &data, &gen);
        let r_hand = report("macrograd-handwritten", spec, threads, &data, &hand);
        let r_base = report(
            "handwritten-matrixmultiply",
            spec,
            threads,
            &data,
            &baseline,
        );
        // The generated model and the hand-written one on the same kernels
        // do the same arithmetic in the same order: their losses must be
        // equal. `matrixmultiply` sums in another order, so its losses only
        // stay close (f32 rounding, amplified by Adam over 2560 steps in W2).
        let same = gen.epoch_losses == hand.epoch_losses;
        let drift = gen
            .epoch_losses
            .iter()
            .zip(&baseline.epoch_losses)
            .map(|(a, b)| ((a - b) / b).abs())
            .fold(0.0, f64::max);
        table.push((spec.name, r_gen, r_hand, r_base, same, drift));
    }
    if wanted.contains(&"W5") {
        let data = sequence_data();
        let ds = Dataset::regression(data.x.clone(), data.y.clone()).unwrap();
        let run = run_generated(|| W5::with_seed(2005), &ds, &SPEC5, 5);
        let rate = report("macrograd", &SPEC5, threads, &data, &run);
        eprintln!("\nW5 (LSTM, model! + fit), {threads} thread(s): {rate:.0} samples/s");
    }
    eprintln!("\n{threads} thread(s); rates in steps/s (W1) or samples/s (W2-W4)");
    eprintln!("| workload | model! + fit | by hand, runtime kernels | by hand, matrixmultiply | generated / by hand | generated / matrixmultiply | losses: generated = by hand | max rel. loss difference to matrixmultiply |");
    eprintln!("| --- | --- | --- | --- | --- | --- | --- | --- |");
    for (name, g, h, b, same, drift) in table {
        eprintln!(
            "| {name} | {g:.0} | {h:.0} | {b:.0} | {:.3} | {:.2} | {same} | {drift:.1e} |",
            g / h,
            g / b
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

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
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
        "\n{threads} thread(s), median of {repeats} runs; rates in steps/s (W1) or samples/s (W2-W4)"
    );
    eprintln!("| workload | model! + fit | by hand, runtime kernels | by hand, matrixmultiply | generated / by hand | generated / matrixmultiply | losses: generated = by hand |");
    eprintln!("| --- | --- | --- | --- | --- | --- | --- |");
    for (w, name) in wanted.iter().enumerate() {
        let [g, h, b] = rates[w].clone().map(median);
        eprintln!(
            "| {name} | {g:.0} | {h:.0} | {b:.0} | {:.3} | {:.2} | {} |",
            g / h,
            g / b,
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
                &data,
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
