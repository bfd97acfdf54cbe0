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

/// The named parameter of `model`, as a matrix (`weight`) or a row (`bias`).
fn param<M: Model<Elem = f64>>(model: &M, name: &str) -> Array2<f64> {
    let p = model
        .parameters()
        .into_iter()
        .find(|p| p.name == name)
        .unwrap_or_else(|| panic!("no parameter {name}"));
    let shape = p.value.shape().to_vec();
    let values: Vec<f64> = p.value.iter().copied().collect();
    match shape[..] {
        [rows, cols] => Array2::from_shape_vec((rows, cols), values).unwrap(),
        [n] => Array2::from_shape_vec((1, n), values).unwrap(),
        _ => unreachable!("{name}: {shape:?}"),
    }
}

/// `x W^T + b` of the `Linear` at `path`.
fn linear<M: Model<Elem = f64>>(model: &M, path: &str, x: &Array2<f64>) -> Array2<f64> {
    x.dot(&param(model, &format!("{path}.weight")).t()) + param(model, &format!("{path}.bias"))
}

#[test]
fn branches_compute_what_their_pytorch_module_computes() {
    use macrograd::layers::{Activation, GELU};
    let net = Branchy::with_seed(8);
    let names: Vec<&str> = net.parameters().iter().map(|p| p.name).collect();
    assert_eq!(
        names,
        [
            "0.weight",
            "0.bias",
            "2.branches.0.0.weight",
            "2.branches.0.0.bias",
            "2.branches.2.0.branches.0.0.weight",
            "2.branches.2.0.branches.0.0.bias",
            "2.branches.2.0.branches.1.0.weight",
            "2.branches.2.0.branches.1.0.bias",
            "2.branches.2.0.branches.2.0.body.0.weight",
            "2.branches.2.0.branches.2.0.body.0.bias",
            "2.branches.2.0.branches.2.0.shortcut.weight",
            "2.branches.2.0.branches.2.0.shortcut.bias",
            "3.weight",
            "3.bias",
        ]
    );
    let x: Array2<f64> = Rng::new(9).randn((4, 5));
    // Written as the PyTorch module would run it.
    let h = linear(&net, "0", &x).mapv(f64::tanh);
    let b0 = linear(&net, "2.branches.0.0", &h).mapv(f64::tanh);
    let a = linear(&net, "2.branches.2.0.branches.0.0", &h);
    let pre = linear(&net, "2.branches.2.0.branches.1.0", &h);
    let mut c = pre.clone();
    GELU.forward(pre.view(), c.view_mut());
    let body = linear(&net, "2.branches.2.0.branches.2.0.body.0", &h).mapv(f64::tanh);
    let r = body + linear(&net, "2.branches.2.0.branches.2.0.shortcut", &h);
    let sum = a + c + r;
    let joined = ndarray::concatenate![ndarray::Axis(1), b0, h, sum];
    let expected = linear(&net, "3", &joined);
    let got = net.predict(&x);
    assert_close!(got, expected, common::Tol::Rel(1e-12));
}

#[test]
fn predict_is_evaluation_mode_forward_for_blocks() {
    let mut res = ResNet::with_seed(4);
    let x: Array2<f64> = Rng::new(6).randn((3, 72));
    for _ in 0..2 {
        res.train_step(&x, &[0usize, 1, 2][..]);
    }
    res.set_training(false);
    let eval = res.forward(&x).to_owned();
    assert_eq!(res.predict(&x), eval);
    let mut branchy = Branchy::with_seed(1);
    let x: Array2<f64> = Rng::new(7).randn((3, 5));
    branchy.set_training(false);
    let eval = branchy.forward(&x).to_owned();
    assert_eq!(branchy.predict(&x), eval);
}

#[test]
fn the_summary_shows_blocks_indented_with_the_shape_after_each_join() {
    let text = ResNet::new().summary().to_string();
    let expected = "\
ResNet (f64)
  #  layer                                                    output      params
     input                                              [b, 2, 6, 6]
  0  Conv2d(2, 4, 3, padding = 1)                       [b, 4, 6, 6]          76
  1  BatchNorm2d(4)                                     [b, 4, 6, 6]           8
  2  ReLU                                               [b, 4, 6, 6]           0
  3  residual: body + input                             [b, 4, 6, 6]         304
       body.0 Conv2d(4, 4, 3, padding = 1)              [b, 4, 6, 6]         148
       body.1 BatchNorm2d(4)                            [b, 4, 6, 6]           8
       body.2 ReLU                                      [b, 4, 6, 6]           0
       body.3 Conv2d(4, 4, 3, padding = 1)              [b, 4, 6, 6]         148
  4  ReLU                                               [b, 4, 6, 6]           0
  5  residual: body + shortcut                          [b, 6, 3, 3]         264
       body.0 Conv2d(4, 6, 3, stride = 2, padding = 1)  [b, 6, 3, 3]         222
       body.1 Tanh                                      [b, 6, 3, 3]           0
       shortcut.0 Conv2d(4, 6, 1, stride = 2)           [b, 6, 3, 3]          30
       shortcut.1 BatchNorm2d(6)                        [b, 6, 3, 3]          12
  6  Flatten                                                 [b, 54]           0
  7  Linear(54, 3)                                            [b, 3]         165
total parameters: 817
loss CrossEntropy; optim SGD(lr = 0.1)";
    let lines: Vec<&str> = text.lines().map(str::trim_end).collect();
    assert_eq!(lines, expected.lines().collect::<Vec<_>>(), "{text}");
    let concat = Branchy::new().summary().to_string();
    assert!(
        concat.contains("concat: 3 + 6 + 2 = 11 features"),
        "{concat}"
    );
    assert!(concat.contains("add: 3 branches"), "{concat}");
}
