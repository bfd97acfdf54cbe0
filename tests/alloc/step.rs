//! Once its buffers exist, a training step allocates nothing at all, in
//! f32 and in f64.
//!
//! A counting global allocator counts the allocations of this thread. The
//! step's matrix products run on the runtime's packed gemm, whose packing
//! buffers are kept per thread and only grow; the activation and gradient
//! buffers grow only with the batch; the optimizer state exists from
//! construction.
use crate::common;

use common::counting::allocations;

use macrograd::prelude::*;
use macrograd::Float;

/// Allocations of one `train_step` after a warm-up, on batches of `sizes`.
fn step_allocations<T: Float, M: Model<Elem = T>>(
    model: &mut M,
    x: &Array2<T>,
    y: impl Fn(usize) -> <M::Target as macrograd::target::Target<T>>::Data,
) -> usize {
    let targets_full = y(x.nrows());
    let view = |n| <M::Target as macrograd::target::Target<T>>::view(&targets_full, n);
    let step = |model: &mut M, n: usize| {
        model.forward(x.slice(s![..n, ..]));
        model.compute_loss(view(n), true);
        model.zero_grad();
        model.backward();
        model.step();
    };
    // Warm-up on the largest batch: buffers and optimizer state exist.
    step(model, x.nrows());
    let before = allocations();
    step(model, x.nrows());
    let full = allocations() - before;
    // A smaller batch reuses the storage of the larger one.
    let before = allocations();
    step(model, x.nrows() / 2 + 1);
    let partial = allocations() - before;
    assert_eq!(full, partial, "a smaller batch allocated differently");
    full
}

#[test]
fn mlp_step_allocates_nothing() {
    let mut model = model! {
        Linear(10, 64); ReLU; Linear(64, 64); ReLU; Linear(64, 1);
        loss MSE; optim Adam(lr = 1e-3)
    };
    let x: Array2<f32> = Rng::new(1).randn((32, 10));
    let n = step_allocations(&mut model, &x, |n| Rng::new(2).randn((n, 1)));
    assert_eq!(n, 0);
}

#[test]
fn f64_step_allocates_nothing() {
    // Products of 64 x 64 x 128 multiply-adds: the packed kernels, not the
    // small unpacked loops.
    let mut model = model! {
        dtype f64; input 64; Linear(_, 128); ReLU; Linear(_, 128); ReLU; Linear(_, 1);
        loss MSE; optim Adam(lr = 1e-3)
    };
    let x: Array2<f64> = Rng::new(1).randn((64, 64));
    let n = step_allocations(&mut model, &x, |n| Rng::new(2).randn((n, 1)));
    assert_eq!(n, 0);
}

#[test]
fn classifier_step_allocates_nothing() {
    let mut model = model! {
        input 20; Linear(_, 16); Tanh; Linear(_, 4);
        loss CrossEntropy(label_smoothing = 0.1); optim SGD(0.1, momentum = 0.9, nesterov = true)
    };
    let x: Array2<f32> = Rng::new(3).randn((16, 20));
    let n = step_allocations(&mut model, &x, |n| (0..n).map(|i| i % 4).collect());
    assert_eq!(n, 0);
}

#[test]
fn a_step_through_blocks_allocates_nothing() {
    // A slot read by several branches (its gradients added through a
    // scratch buffer), nested joins, a residual with a shortcut.
    let mut model = model! {
        input 12;
        Linear(_, 16); ReLU;
        concat {
            Linear(_, 8) => Tanh;
            Identity;
            add { Linear(_, 4); residual(shortcut = Linear(16, 4)) { Linear(16, 4); ReLU } }
        }
        residual { Linear(28, 28); ReLU }
        Linear(_, 3);
        loss CrossEntropy; optim Adam(lr = 1e-3)
    };
    let x: Array2<f32> = Rng::new(6).randn((24, 12));
    let n = step_allocations(&mut model, &x, |n| (0..n).map(|i| i % 3).collect());
    assert_eq!(n, 0);
}

#[test]
fn a_step_through_embeddings_of_named_inputs_allocates_nothing() {
    let mut model = model! {
        input size: 3;
        input island: category(4);
        concat { size; island => Embedding(4, 2) }
        Linear(_, 8); ReLU; Linear(_, 2);
        loss CrossEntropy; optim Adam(lr = 1e-3)
    };
    let x = Array2::from_shape_fn((16, 4), |(i, j)| {
        if j == 3 {
            (i % 4) as f32
        } else {
            i as f32 * 0.1
        }
    });
    let n = step_allocations(&mut model, &x, |n| (0..n).map(|i| i % 2).collect());
    assert_eq!(n, 0);
}

#[test]
fn a_step_through_recurrent_layers_allocates_nothing() {
    // Stacked and bidirectional: the layers between keep their buffers.
    let mut lstm = model! {
        input [6, 4];
        LSTM(8, num_layers = 2, bidirectional = true); Last; Linear(_, 1);
        loss MSE; optim Adam(lr = 1e-3)
    };
    let x: Array2<f32> = Rng::new(7).randn((10, 24));
    let n = step_allocations(&mut lstm, &x, |n| Rng::new(2).randn((n, 1)));
    assert_eq!(n, 0);
    // Wide enough for the steps' products to run on packed panels.
    let mut wide = model! {
        input [6, 4];
        LSTM(64); Last; Linear(_, 1);
        loss MSE; optim Adam(lr = 1e-3)
    };
    let x_wide: Array2<f32> = Rng::new(8).randn((40, 24));
    let n = step_allocations(&mut wide, &x_wide, |n| Rng::new(2).randn((n, 1)));
    assert_eq!(n, 0);
    let mut gru = model! {
        input [6, 4];
        GRU(5); Flatten; Linear(_, 3);
        loss CrossEntropy; optim SGD(0.1, momentum = 0.9)
    };
    let n = step_allocations(&mut gru, &x, |n| (0..n).map(|i| i % 3).collect());
    assert_eq!(n, 0);
}

#[test]
fn a_step_that_scales_its_inputs_allocates_nothing() {
    let mut model = model! {
        input 10; Linear(_, 32); ReLU; Linear(_, 1); loss MSE; optim SGD(0.01)
    };
    let x: Array2<f32> = Rng::new(4).randn((32, 10));
    let scaler = macrograd::data::MinMax::fit(&x);
    model
        .set_preprocessing(Preprocessing::new().with_scaler(scaler))
        .unwrap();
    let n = step_allocations(&mut model, &x, |n| Rng::new(2).randn((n, 1)));
    assert_eq!(n, 0);
}

/// Allocations of a whole `fit` of 3 epochs in batches of `batch`, with
/// validation, metrics, clipping, accumulation and a schedule.
fn fit_allocations(batch: usize) -> usize {
    use macrograd::schedule::StepLR;
    use macrograd::train::{Clip, EarlyStopping};
    let mut rng = Rng::new(5);
    let x: Array2<f32> = rng.randn((240, 4));
    let labels = (0..240).map(|i| i % 3).collect();
    let data = Dataset::classification(x, labels).unwrap();
    let mut model = model! {
        Linear(4, 16); ReLU; Linear(_, 3); loss CrossEntropy; optim SGD(0.1, momentum = 0.9)
    };
    // Warm the thread's packing buffers outside the count.
    model
        .fit(&data, Fit::epochs(1).batch_size(batch).quiet())
        .unwrap();
    let mut log = Vec::with_capacity(1 << 16);
    let before = allocations();
    model
        .fit(
            &data,
            Fit::epochs(3)
                .batch_size(batch)
                .validation_split(0.25)
                .early_stopping(EarlyStopping::patience(5).restore_best())
                .schedule(StepLR::new(1, 0.5))
                .clip(Clip::Norm(1.0))
                .accumulate(2)
                .log_to(&mut log),
        )
        .unwrap();
    allocations() - before
}

#[test]
fn fit_allocates_per_run_and_per_epoch_never_per_step() {
    // 180 training samples: 36 batches of 5 or 6 batches of 30 per epoch.
    // Everything `fit` allocates (the split, buffers, one log per epoch) is
    // the same for both; only the number of steps differs.
    assert_eq!(fit_allocations(5), fit_allocations(30));
}
