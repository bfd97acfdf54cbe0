//! Criterion micro-benchmarks of the runtime's public kernels, at the sizes
//! the four workloads of `docs/workloads.md` use them.
//!
//! ```sh
//! cargo bench --bench kernels --features criterion          # everything, a few minutes
//! cargo bench --bench kernels --features criterion -- gemm  # one group
//! ```
//!
//! * `gemm`: `C <- A B` for square `n x n` (64 .. 512, both operands
//!   row-major), and the layers' products `[m x k] x [k x n]` with the right
//!   operand a transposed view `w.t()` of a `[n, k]` weight, as
//!   `Linear::forward` passes it. Throughput is in FLOP (`2 m k n`), so
//!   criterion's "elem/s" reads as FLOP/s.
//! * `linear`: `Linear::forward` and `Linear::backward` for every layer of W2
//!   (batch 32) and W3 (batch 128); backward writes `grad_input` except for
//!   the first layer, as the models do.
//! * `relu`: `ReLU` forward and backward at 32x64 and 128x256.
//! * `loss`: `MSE` at 32x1 and `CrossEntropy` at 128x10, with the gradient.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use macrograd::gemm::gemm;
use macrograd::layers::{Activation, Linear, ReLU};
use macrograd::loss::{CrossEntropy, Loss, MSE};
use macrograd::prelude::*;

/// A `rows x cols` matrix of values in `[-1, 1)`.
fn filled(rows: usize, cols: usize, rng: &mut Rng) -> Array2<f32> {
    Array2::from_shape_simple_fn((rows, cols), || rng.sym() as f32)
}

/// `[m x k] x [k x n]` with `B = w.t()`, `w: [n, k]`: the workloads' products.
const LAYER_PRODUCTS: [(&str, usize, usize, usize); 5] = [
    ("W1 100x10x1", 100, 10, 1),
    ("W2 32x10x64", 32, 10, 64),
    ("W2 32x64x64", 32, 64, 64),
    ("W3 128x784x256", 128, 784, 256),
    ("W4 256x1024x1024", 256, 1024, 1024),
];

fn bench_gemm(c: &mut Criterion) {
    let mut rng = Rng::new(1);
    let mut group = c.benchmark_group("gemm");
    for n in [64, 128, 256, 512] {
        let a = filled(n, n, &mut rng);
        let b = filled(n, n, &mut rng);
        let mut out = Array2::zeros((n, n));
        group.throughput(Throughput::Elements(2 * (n * n * n) as u64));
        group.bench_function(BenchmarkId::new("square", n), |bench| {
            bench.iter(|| gemm(1.0, black_box(a.view()), b.view(), 0.0, out.view_mut()));
        });
    }
    for (name, m, k, n) in LAYER_PRODUCTS {
        let x = filled(m, k, &mut rng);
        let w = filled(n, k, &mut rng);
        let mut out = Array2::zeros((m, n));
        group.throughput(Throughput::Elements(2 * (m * k * n) as u64));
        group.bench_function(BenchmarkId::new("x.w.t()", name), |bench| {
            bench.iter(|| gemm(1.0, black_box(x.view()), w.t(), 0.0, out.view_mut()));
        });
    }
    group.finish();
}

/// Every layer of W2 (batch 32) and W3 (batch 128): (name, batch, in, out,
/// whether backward writes `grad_input`).
const LAYERS: [(&str, usize, usize, usize, bool); 6] = [
    ("W2.1 32x10->64", 32, 10, 64, false),
    ("W2.2 32x64->64", 32, 64, 64, true),
    ("W2.3 32x64->1", 32, 64, 1, true),
    ("W3.1 128x784->256", 128, 784, 256, false),
    ("W3.2 128x256->128", 128, 256, 128, true),
    ("W3.3 128x128->10", 128, 128, 10, true),
];

fn bench_linear(c: &mut Criterion) {
    let mut rng = Rng::new(2);
    let mut group = c.benchmark_group("linear");
    for (name, batch, fan_in, fan_out, grad_input) in LAYERS {
        let mut layer = Linear::<f32>::new(fan_in, fan_out, true, &mut rng);
        let input = filled(batch, fan_in, &mut rng);
        let grad_output = filled(batch, fan_out, &mut rng);
        let mut output = Array2::zeros((batch, fan_out));
        let mut grad_in = Array2::zeros((batch, fan_in));
        // forward: one product; backward: dW, and dx when written.
        let flop = (2 * batch * fan_in * fan_out) as u64;
        group.throughput(Throughput::Elements(flop));
        group.bench_function(BenchmarkId::new("forward", name), |bench| {
            bench.iter(|| layer.forward(black_box(input.view()), output.view_mut()));
        });
        group.throughput(Throughput::Elements(flop * (1 + u64::from(grad_input))));
        group.bench_function(BenchmarkId::new("backward", name), |bench| {
            bench.iter(|| {
                let dx = grad_input.then(|| grad_in.view_mut());
                layer.backward(black_box(input.view()), grad_output.view(), dx, false);
            });
        });
    }
    group.finish();
}

fn bench_relu(c: &mut Criterion) {
    let mut rng = Rng::new(3);
    let mut group = c.benchmark_group("relu");
    for (rows, cols) in [(32, 64), (128, 256)] {
        let input = filled(rows, cols, &mut rng);
        let mut output = Array2::zeros((rows, cols));
        ReLU.forward(input.view(), output.view_mut());
        let grad_output = filled(rows, cols, &mut rng);
        let mut grad_input = Array2::zeros((rows, cols));
        let size = format!("{rows}x{cols}");
        group.throughput(Throughput::Elements((rows * cols) as u64));
        group.bench_function(BenchmarkId::new("forward", &size), |bench| {
            bench.iter(|| ReLU.forward(black_box(input.view()), output.view_mut()));
        });
        group.bench_function(BenchmarkId::new("backward", &size), |bench| {
            bench.iter(|| {
                ReLU.backward(
                    black_box(input.view()),
                    output.view(),
                    grad_output.view(),
                    grad_input.view_mut(),
                )
            });
        });
    }
    group.finish();
}

fn bench_loss(c: &mut Criterion) {
    let mut rng = Rng::new(4);
    let mut group = c.benchmark_group("loss");

    let output = filled(32, 1, &mut rng);
    let target = filled(32, 1, &mut rng);
    let mut grad = Array2::zeros((32, 1));
    group.throughput(Throughput::Elements(32));
    group.bench_function("MSE 32x1", |bench| {
        bench.iter(|| {
            MSE.compute(
                black_box(output.view()),
                target.view(),
                Some(grad.view_mut()),
            )
        });
    });

    let logits = filled(128, 10, &mut rng);
    let labels: Vec<usize> = (0..128).map(|i| (i * 7) % 10).collect();
    let mut grad = Array2::zeros((128, 10));
    let loss = CrossEntropy::default();
    group.throughput(Throughput::Elements(128));
    group.bench_function("CrossEntropy 128x10", |bench| {
        bench.iter(|| loss.compute(black_box(logits.view()), &labels, Some(grad.view_mut())));
    });
    group.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
}

criterion_group! {
    name = kernels;
    config = config();
    targets = bench_gemm, bench_linear, bench_relu, bench_loss
}
criterion_main!(kernels);
