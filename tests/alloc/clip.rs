//! Gradient clipping (`macrograd::clip`) against PyTorch's values
//! (`pytorch-golden.md` §2.6, and `torch.nn.utils` 2.15 for the norms the
//! reference leaves out), on a generated model whose gradients are set by
//! hand after a real forward, loss and backward; and without allocating.

use crate::common;

use common::counting::allocations_of;

use common::F64;
use macrograd::clip::{clip_grad_norm, clip_grad_norm_p, clip_grad_value};
use macrograd::prelude::*;

model! {
    struct Net;
    dtype f64;
    input 2;
    Linear(2, 1);
    loss MSE;
    optim SGD(0.1)
}

/// A model after a real forward, loss and backward, whose gradients are
/// then overwritten: `0.weight` (2 values) and `0.bias` (1 value).
fn net_with_grads(weight: [f64; 2], bias: f64) -> Net {
    let mut net = Net::new();
    net.forward(&array![[1.0, 2.0], [-1.0, 0.5]]);
    net.loss(&array![[0.5], [1.0]]);
    net.zero_grad();
    net.backward();
    set_grads(&mut net, weight, bias);
    net
}

fn set_grads(net: &mut Net, weight: [f64; 2], bias: f64) {
    net.visit_parameters_mut(&mut |mut p| {
        let values: &[f64] = if p.name == "0.weight" {
            &weight
        } else {
            &[bias]
        };
        for (g, v) in p.grad.iter_mut().zip(values) {
            *g = *v;
        }
    });
}

/// `(0.weight grad, 0.bias grad)`.
fn grads(net: &Net) -> (Vec<f64>, Vec<f64>) {
    let params = net.parameters();
    let grad = |i: usize| match &params[i].grad {
        Some(g) => g.iter().copied().collect(),
        None => Vec::new(),
    };
    (grad(0), grad(1))
}

#[test]
fn clip_grad_norm_matches_pytorch() {
    let mut net = net_with_grads([3.0, 4.0], 12.0);
    let total = clip_grad_norm(&mut net, 5.0);
    assert_close!([total], [13.0], F64);
    let (weight, bias) = grads(&net);
    assert_close!(weight, [1.153846065, 1.538461420], F64);
    assert_close!(bias, [4.615384260], F64);
}

#[test]
fn clip_grad_norm_within_the_bound_changes_nothing() {
    let mut net = net_with_grads([3.0, 4.0], 12.0);
    assert_eq!(clip_grad_norm(&mut net, 20.0), 13.0);
    assert_eq!(grads(&net), (vec![3.0, 4.0], vec![12.0]));
    // Exactly at the norm: PyTorch's coefficient 13 / (13 + 1e-6) < 1.
    assert_eq!(clip_grad_norm(&mut net, 13.0), 13.0);
    let (weight, _) = grads(&net);
    assert_close!(
        weight,
        [3.0 * 13.0 / (13.0 + 1e-6), 4.0 * 13.0 / (13.0 + 1e-6)],
        F64
    );
}

#[test]
fn clip_grad_norm_other_norms_match_pytorch() {
    // torch.nn.utils.clip_grad_norm_([a, b], 5, norm_type="inf") in torch 2.15.
    let mut net = net_with_grads([3.0, 4.0], 12.0);
    assert_eq!(clip_grad_norm_p(&mut net, 5.0, f64::INFINITY), 12.0);
    let (weight, bias) = grads(&net);
    assert_close!(weight, [1.249999895833342, 1.6666665277777895], F64);
    assert_close!(bias, [4.999999583333368], F64);
    // The inf-norm counts magnitudes: a negative gradient is as large.
    let mut net = net_with_grads([3.0, -40.0], 12.0);
    assert_eq!(clip_grad_norm_p(&mut net, 5.0, f64::INFINITY), 40.0);
    // p = 1: 3 + 4 + 12; p = 2 through the general path agrees.
    let mut net = net_with_grads([3.0, 4.0], 12.0);
    assert_close!([clip_grad_norm_p(&mut net, 5.0, 1.0)], [19.0], F64);
    let (weight, _) = grads(&net);
    assert_close!(
        weight,
        [3.0 * 5.0 / (19.0 + 1e-6), 4.0 * 5.0 / (19.0 + 1e-6)],
        F64
    );
    let mut net = net_with_grads([3.0, 4.0], 12.0);
    assert_close!(
        [clip_grad_norm_p(&mut net, 100.0, 3.0)],
        [(27.0_f64 + 64.0 + 1728.0).cbrt()],
        F64
    );
}

#[test]
fn clip_grad_norm_of_a_nan_gradient_is_nan_and_spreads() {
    // As PyTorch with `error_if_nonfinite = false`.
    let mut net = net_with_grads([f64::NAN, 4.0], 12.0);
    assert!(clip_grad_norm(&mut net, 5.0).is_nan());
    let (weight, bias) = grads(&net);
    assert!(weight.iter().chain(&bias).all(|g| g.is_nan()));
}

#[test]
fn clip_grad_value_matches_pytorch() {
    let mut net = net_with_grads([0.5, -3.0], 2.0);
    clip_grad_value(&mut net, 1.0);
    assert_eq!(grads(&net), (vec![0.5, -1.0], vec![1.0]));
}

#[test]
fn clipped_gradients_are_what_step_uses() {
    let mut net = net_with_grads([3.0, 4.0], 12.0);
    let before: Vec<f64> = net.parameters()[0].value.iter().copied().collect();
    clip_grad_norm(&mut net, 5.0);
    net.step();
    let after: Vec<f64> = net.parameters()[0].value.iter().copied().collect();
    // SGD(0.1): w <- w - 0.1 g, with the clipped g.
    let want = [
        before[0] - 0.1 * 1.1538460650887643,
        before[1] - 0.1 * 1.5384614201183524,
    ];
    assert_close!(after, want, F64);
}

#[test]
fn cleared_gradients_are_left_alone() {
    let mut net = net_with_grads([3.0, 4.0], 12.0);
    net.zero_grad();
    // PyTorch skips `grad is None`: the norm of nothing is 0.
    assert_eq!(clip_grad_norm(&mut net, 1.0), 0.0);
    clip_grad_value(&mut net, 1.0);
    let mut raw = Vec::new();
    net.visit_parameters_mut(&mut |p| raw.extend(p.grad.iter().copied()));
    assert_eq!(raw, [3.0, 4.0, 12.0]);
}

#[test]
fn clipping_allocates_nothing() {
    let mut net = net_with_grads([3.0, 4.0], 12.0);
    let n = allocations_of(|| {
        clip_grad_norm(&mut net, 5.0);
        clip_grad_norm_p(&mut net, 1.0, f64::INFINITY);
        clip_grad_norm_p(&mut net, 1.0, 1.5);
        clip_grad_value(&mut net, 0.1);
    });
    assert_eq!(n, 0);
}

#[test]
#[should_panic(expected = "expected `max_norm` >= 0, found -1")]
fn negative_max_norm_panics() {
    let mut net = net_with_grads([3.0, 4.0], 12.0);
    clip_grad_norm(&mut net, -1.0);
}

#[test]
#[should_panic(expected = "expected `norm_type` > 0 (or infinity), found 0")]
fn zero_norm_type_panics() {
    let mut net = net_with_grads([3.0, 4.0], 12.0);
    clip_grad_norm_p(&mut net, 1.0, 0.0);
}

#[test]
#[should_panic(expected = "expected `clip` >= 0, found NaN")]
fn nan_clip_value_panics() {
    let mut net = net_with_grads([3.0, 4.0], 12.0);
    clip_grad_value(&mut net, f64::NAN);
}
