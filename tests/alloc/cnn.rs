//! Once its buffers exist, a training step of a generated f32 CNN allocates
//! nothing: convolution, pooling, batch and layer norm, dropout, `Flatten`
//! (which shares its buffer) and the optimizer over all their parameters;
//! and an evaluation forward allocates nothing either.
//!
//! A counting global allocator counts the allocations of this thread, as in
//! `tests/alloc/step.rs`.
use crate::common;

use common::counting::allocations;

use macrograd::prelude::*;

model! {
    struct Cnn;
    input [1, 12, 12];
    Dropout(0.1);
    Conv2d(1, 8, 3, padding = 1);
    BatchNorm;
    ReLU;
    MaxPool2d(2);
    Conv2d(8, 8, 3, stride = 2, padding = 1);
    LayerNorm;
    AvgPool2d(3, stride = 1, padding = 1);
    Flatten;
    Linear(_, 16);
    BatchNorm;
    ReLU;
    Dropout(0.5);
    Linear(_, 4);
    loss CrossEntropy(label_smoothing = 0.1);
    optim Adam(lr = 1e-3, weight_decay = 1e-4)
}

/// One training step (forward, loss, zero_grad, backward, step) on the
/// first `n` samples.
fn step(model: &mut Cnn, x: &Array2<f32>, labels: &[usize], n: usize) {
    model.forward(x.slice(s![..n, ..]));
    model.loss(&labels[..n]);
    model.zero_grad();
    model.backward();
    model.step();
}

#[test]
fn cnn_step_allocates_nothing_after_warm_up() {
    let mut model = Cnn::new();
    let x: Array2<f32> = Rng::new(1).randn((32, 144));
    let labels: Vec<usize> = (0..32).map(|i| i % 4).collect();
    // Warm-up on the largest batch: buffers, masks, optimizer state exist.
    step(&mut model, &x, &labels, 32);
    let before = allocations();
    step(&mut model, &x, &labels, 32);
    assert_eq!(allocations() - before, 0, "a full batch allocated");
    // A smaller batch reuses the storage of the larger one.
    let before = allocations();
    step(&mut model, &x, &labels, 17);
    assert_eq!(allocations() - before, 0, "a smaller batch allocated");
    // Evaluation mode: running statistics, no masks.
    model.set_training(false);
    let before = allocations();
    let out = model.forward(&x);
    assert!(out.iter().all(|v| v.is_finite()));
    assert_eq!(allocations() - before, 0, "an evaluation forward allocated");
}
