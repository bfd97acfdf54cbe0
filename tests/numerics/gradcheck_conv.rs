//! Finite-difference gradient checks in f64 for the image and
//! regularisation layers: Conv2d (input, weight and bias; odd sizes,
//! strides, padding, no bias, pointwise), MaxPool2d and AvgPool2d,
//! BatchNorm1d/2d and LayerNorm in training mode (BatchNorm also in
//! evaluation mode), Dropout with a fixed mask, and a whole
//! Conv2d -> BatchNorm2d -> ReLU -> MaxPool2d -> Linear chain wired as the
//! generated code will wire it. Each analytic gradient is compared with the
//! central difference `(L(p + h) - L(p - h)) / 2h` of `L = sum(y * r)`, with
//! the bound of `tests/common/finite_diff.rs`.

use crate::common::finite_diff::check;
use crate::common::Tol;
use macrograd::layers::{
    Activation, AvgPool2d, BatchNorm, BatchNormConfig, Conv2d, Conv2dConfig, Dropout, ImageShape,
    LayerNorm, LayerNormConfig, Linear, MaxPool2d, Pool2dConfig, ReLU,
};
use macrograd::prelude::*;

fn random(rows: usize, cols: usize, seed: u64) -> Array2<f64> {
    Rng::new(seed).randn((rows, cols))
}

fn dot(a: &Array2<f64>, b: &Array2<f64>) -> f64 {
    (a * b).sum()
}

/// `p` as a matrix of `shape`.
fn matrix(p: &[f64], shape: (usize, usize)) -> Array2<f64> {
    Array2::from_shape_vec(shape, p.to_vec()).unwrap()
}

/// Checks the input gradient `gx` of `loss` at `x`.
#[track_caller]
fn check_input(what: &str, x: &Array2<f64>, gx: &Array2<f64>, loss: impl Fn(&Array2<f64>) -> f64) {
    let shape = x.dim();
    check(
        what,
        x.clone().as_slice_mut().unwrap(),
        gx.as_slice().unwrap(),
        |p| loss(&matrix(p, shape)),
    );
}

fn check_conv(name: &str, config: Conv2dConfig, hw: (usize, usize), batch: usize) {
    let mut layer = Conv2d::<f64>::new(config, hw, &mut Rng::new(1));
    let (inp, out) = (layer.in_features(), layer.out_features());
    let x = random(batch, inp, 2);
    let r = random(batch, out, 3);
    let mut gx = Array2::from_elem((batch, inp), f64::NAN);
    layer.weight_grad.fill(f64::NAN); // overwritten, never read
    layer.backward(x.view(), r.view(), Some(gx.view_mut()), false);
    let loss = |l: &Conv2d<f64>, x: &Array2<f64>| {
        let mut l = l.clone();
        let mut y = Array2::from_elem((x.nrows(), out), f64::NAN);
        l.forward(x.view(), y.view_mut());
        dot(&y, &r)
    };
    let wg = layer.weight_grad.clone();
    check(
        &format!("{name} dW"),
        layer.weight.clone().as_slice_mut().unwrap(),
        wg.as_slice().unwrap(),
        |p| {
            let mut l = layer.clone();
            l.weight.as_slice_mut().unwrap().copy_from_slice(p);
            loss(&l, &x)
        },
    );
    if let Some(bg) = layer.bias_grad.clone() {
        check(
            &format!("{name} db"),
            layer.bias.clone().unwrap().as_slice_mut().unwrap(),
            bg.as_slice().unwrap(),
            |p| {
                let mut l = layer.clone();
                l.bias
                    .as_mut()
                    .unwrap()
                    .as_slice_mut()
                    .unwrap()
                    .copy_from_slice(p);
                loss(&l, &x)
            },
        );
    }
    check_input(&format!("{name} dx"), &x, &gx, |x| loss(&layer, x));
    // Accumulation adds a second copy of the same gradients; no input
    // gradient is asked for.
    let bg = layer.bias_grad.clone();
    layer.backward(x.view(), r.view(), None, true);
    assert_close!(layer.weight_grad, &wg * 2.0, Tol::Abs(1e-12));
    if let (Some(now), Some(before)) = (&layer.bias_grad, bg) {
        assert_close!(now, &before * 2.0, Tol::Abs(1e-12));
    }
}

#[test]
fn conv2d_input_weight_and_bias() {
    let base = Conv2dConfig::new(2, 3, (3, 2));
    let with = |stride, padding, bias| Conv2dConfig {
        stride,
        padding,
        bias,
        ..base
    };
    check_conv("stride 2 padding 1", with((2, 2), (1, 1), true), (5, 7), 3);
    check_conv(
        "stride 2x1 padding 1x0",
        with((2, 1), (1, 0), false),
        (5, 7),
        2,
    );
    check_conv("stride 1 padding 2", with((1, 1), (2, 2), true), (5, 7), 2);
    check_conv("stride 1x3", with((1, 3), (0, 1), true), (4, 9), 2);
    check_conv("pointwise", Conv2dConfig::new(3, 2, (1, 1)), (3, 5), 3);
    check_conv("whole image", Conv2dConfig::new(2, 2, (5, 7)), (5, 7), 2);
}

#[test]
fn pooling_input_gradients() {
    let shape = ImageShape::new(2, 5, 7);
    let padded = |kernel, stride, padding| Pool2dConfig {
        stride,
        padding,
        ..Pool2dConfig::new(kernel)
    };
    let configs = [
        ("2x2", Pool2dConfig::new((2, 2))),
        ("3x2 stride 2x1 padding 1", padded((3, 2), (2, 1), (1, 1))),
        ("3x3 stride 1 (overlapping)", padded((3, 3), (1, 1), (0, 0))),
    ];
    for (name, config) in configs {
        let batch = 3;
        let max = MaxPool2d::new(config, shape);
        let avg = AvgPool2d::new(config, shape);
        let out = max.output_shape().len();
        let x = random(batch, shape.len(), 4);
        let r = random(batch, out, 5);
        let mut y = Array2::zeros((batch, out));
        max.forward(x.view(), y.view_mut());
        let mut gx = Array2::from_elem(x.raw_dim(), f64::NAN);
        max.backward(x.view(), y.view(), r.view(), gx.view_mut());
        check_input(&format!("MaxPool2d {name}"), &x, &gx, |x| {
            let mut y = Array2::zeros((batch, out));
            max.forward(x.view(), y.view_mut());
            dot(&y, &r)
        });
        let mut gx = Array2::from_elem(x.raw_dim(), f64::NAN);
        avg.backward(r.view(), gx.view_mut());
        check_input(&format!("AvgPool2d {name}"), &x, &gx, |x| {
            let mut y = Array2::zeros((batch, out));
            avg.forward(x.view(), y.view_mut());
            dot(&y, &r)
        });
    }
}

fn check_batch_norm(name: &str, mut layer: BatchNorm<f64>, batch: usize, training: bool) {
    let f = layer.features();
    let c = layer.channels();
    layer.weight = random(1, c, 6).into_shape_with_order(c).unwrap() + 1.0;
    layer.bias = random(1, c, 7).into_shape_with_order(c).unwrap();
    layer.running_mean.fill(0.3);
    layer.running_var.fill(1.7);
    let x = random(batch, f, 8) * 2.0 + 0.5;
    let r = random(batch, f, 9);
    let loss = |l: &BatchNorm<f64>, x: &Array2<f64>| {
        let mut l = l.clone();
        let mut y = Array2::zeros(x.raw_dim());
        l.forward(x.view(), y.view_mut(), training);
        dot(&y, &r)
    };
    let mut trained = layer.clone();
    let mut y = Array2::zeros(x.raw_dim());
    trained.forward(x.view(), y.view_mut(), training);
    let mut gx = Array2::from_elem(x.raw_dim(), f64::NAN);
    trained.backward(x.view(), r.view(), Some(gx.view_mut()), false);
    check(
        &format!("{name} dgamma"),
        layer.weight.clone().as_slice_mut().unwrap(),
        trained.weight_grad.as_slice().unwrap(),
        |p| {
            let mut l = layer.clone();
            l.weight.as_slice_mut().unwrap().copy_from_slice(p);
            loss(&l, &x)
        },
    );
    check(
        &format!("{name} dbeta"),
        layer.bias.clone().as_slice_mut().unwrap(),
        trained.bias_grad.as_slice().unwrap(),
        |p| {
            let mut l = layer.clone();
            l.bias.as_slice_mut().unwrap().copy_from_slice(p);
            loss(&l, &x)
        },
    );
    check_input(&format!("{name} dx"), &x, &gx, |x| loss(&layer, x));
}

#[test]
fn batch_norm_in_training_and_evaluation() {
    let config = BatchNormConfig::default();
    for training in [true, false] {
        let mode = if training { "training" } else { "evaluation" };
        check_batch_norm(
            &format!("BatchNorm1d {mode}"),
            BatchNorm::new_1d(5, config),
            6,
            training,
        );
        check_batch_norm(
            &format!("BatchNorm2d {mode}"),
            BatchNorm::new_2d(ImageShape::new(3, 2, 3), config),
            4,
            training,
        );
    }
    // A batch of one image still has 6 values per channel.
    check_batch_norm(
        "BatchNorm2d batch 1",
        BatchNorm::new_2d(ImageShape::new(2, 2, 3), config),
        1,
        true,
    );
}

#[test]
fn layer_norm_weight_bias_and_input() {
    let (batch, f) = (4, 7);
    let mut layer = LayerNorm::<f64>::new(f, LayerNormConfig::default());
    layer.weight = random(1, f, 10).into_shape_with_order(f).unwrap() + 1.0;
    layer.bias = random(1, f, 11).into_shape_with_order(f).unwrap();
    let x = random(batch, f, 12) * 1.5 - 0.3;
    let r = random(batch, f, 13);
    let loss = |l: &LayerNorm<f64>, x: &Array2<f64>| {
        let mut y = Array2::zeros(x.raw_dim());
        l.forward(x.view(), y.view_mut());
        dot(&y, &r)
    };
    let mut gx = Array2::from_elem(x.raw_dim(), f64::NAN);
    layer.weight_grad.fill(f64::NAN);
    layer.backward(x.view(), r.view(), Some(gx.view_mut()), false);
    let (wg, bg) = (layer.weight_grad.clone(), layer.bias_grad.clone());
    check(
        "LayerNorm dgamma",
        layer.weight.clone().as_slice_mut().unwrap(),
        wg.as_slice().unwrap(),
        |p| {
            let mut l = layer.clone();
            l.weight.as_slice_mut().unwrap().copy_from_slice(p);
            loss(&l, &x)
        },
    );
    check(
        "LayerNorm dbeta",
        layer.bias.clone().as_slice_mut().unwrap(),
        bg.as_slice().unwrap(),
        |p| {
            let mut l = layer.clone();
            l.bias.as_slice_mut().unwrap().copy_from_slice(p);
            loss(&l, &x)
        },
    );
    check_input("LayerNorm dx", &x, &gx, |x| loss(&layer, x));
    layer.backward(x.view(), r.view(), None, true);
    assert_close!(layer.weight_grad, &wg * 2.0, Tol::Abs(1e-12));
}

#[test]
fn dropout_with_a_fixed_mask() {
    let (batch, f) = (5, 6);
    let fresh = Dropout::<f64>::new(0.4, 14);
    let x = random(batch, f, 15);
    let r = random(batch, f, 16);
    // A clone of the fresh layer draws the same mask on every evaluation.
    let loss = |x: &Array2<f64>| {
        let mut l = fresh.clone();
        let mut y = Array2::zeros(x.raw_dim());
        l.forward(x.view(), y.view_mut(), true);
        dot(&y, &r)
    };
    let mut layer = fresh.clone();
    let mut y = Array2::zeros(x.raw_dim());
    layer.forward(x.view(), y.view_mut(), true);
    let mask = layer.mask().unwrap().to_owned();
    assert!(mask.iter().any(|&m| m == 0.0) && mask.iter().any(|&m| m > 1.0));
    let mut gx = Array2::from_elem(x.raw_dim(), f64::NAN);
    layer.backward(r.view(), gx.view_mut());
    check_input("Dropout dx", &x, &gx, loss);
}

/// The layers of a small CNN, wired as `model!` will wire them: one buffer
/// per activation, forward in order, backward in reverse.
#[derive(Clone)]
struct Cnn {
    conv: Conv2d<f64>,
    bn: BatchNorm<f64>,
    pool: MaxPool2d,
    linear: Linear<f64>,
}

impl Cnn {
    fn new() -> Self {
        let mut rng = Rng::new(17);
        let conv_config = Conv2dConfig {
            padding: (1, 1),
            ..Conv2dConfig::new(2, 3, (3, 3))
        };
        let conv = Conv2d::new(conv_config, (5, 6), &mut rng);
        let bn = BatchNorm::new_2d(conv.output_shape(), BatchNormConfig::default());
        let pool = MaxPool2d::new(Pool2dConfig::new((2, 2)), conv.output_shape());
        let linear = Linear::new(pool.output_shape().len(), 2, true, &mut rng);
        Cnn {
            conv,
            bn,
            pool,
            linear,
        }
    }

    /// `a[0] = x`, `a[i + 1] = layer_i(a[i])`.
    fn forward(&mut self, x: &Array2<f64>) -> Vec<Array2<f64>> {
        let b = x.nrows();
        let widths = [
            self.conv.out_features(),
            self.bn.features(),
            self.bn.features(),
            self.pool.output_shape().len(),
            self.linear.out_features(),
        ];
        let mut a = vec![x.clone()];
        a.extend(widths.map(|w| Array2::zeros((b, w))));
        let (done, rest) = a.split_at_mut(1);
        self.conv.forward(done[0].view(), rest[0].view_mut());
        let (done, rest) = a.split_at_mut(2);
        self.bn.forward(done[1].view(), rest[0].view_mut(), true);
        let (done, rest) = a.split_at_mut(3);
        ReLU.forward(done[2].view(), rest[0].view_mut());
        let (done, rest) = a.split_at_mut(4);
        self.pool.forward(done[3].view(), rest[0].view_mut());
        let (done, rest) = a.split_at_mut(5);
        self.linear.forward(done[4].view(), rest[0].view_mut());
        a
    }

    /// Parameter gradients for `dL/d(output) = r`; returns `dL/dx`.
    fn backward(&mut self, a: &[Array2<f64>], r: &Array2<f64>) -> Array2<f64> {
        let mut g: Vec<Array2<f64>> = a.iter().map(|a| Array2::zeros(a.raw_dim())).collect();
        g[5].assign(r);
        let (before, after) = g.split_at_mut(5);
        self.linear.backward(
            a[4].view(),
            after[0].view(),
            Some(before[4].view_mut()),
            false,
        );
        let (before, after) = g.split_at_mut(4);
        self.pool.backward(
            a[3].view(),
            a[4].view(),
            after[0].view(),
            before[3].view_mut(),
        );
        let (before, after) = g.split_at_mut(3);
        ReLU.backward(
            a[2].view(),
            a[3].view(),
            after[0].view(),
            before[2].view_mut(),
        );
        let (before, after) = g.split_at_mut(2);
        self.bn.backward(
            a[1].view(),
            after[0].view(),
            Some(before[1].view_mut()),
            false,
        );
        let (before, after) = g.split_at_mut(1);
        self.conv.backward(
            a[0].view(),
            after[0].view(),
            Some(before[0].view_mut()),
            false,
        );
        g.swap_remove(0)
    }

    fn parameters(&self) -> Vec<(&'static str, Vec<f64>, Vec<f64>)> {
        let mut all = Vec::new();
        let mut push = |p: macrograd::__private::Parameter<'_, f64>| {
            all.push((
                p.name,
                p.value.iter().copied().collect(),
                p.grad.unwrap().iter().copied().collect(),
            ))
        };
        self.conv
            .visit_parameters(["0.weight", "0.bias"], true, &mut push);
        self.bn
            .visit_parameters(["1.weight", "1.bias"], true, &mut push);
        self.linear
            .visit_parameters(["4.weight", "4.bias"], true, &mut push);
        all
    }

    fn set(&mut self, name: &str, values: &[f64]) {
        let mut set = |p: macrograd::__private::ParameterMut<'_, f64>| {
            if p.name == name {
                let mut value = p.value;
                for (d, &s) in value.iter_mut().zip(values) {
                    *d = s;
                }
            }
        };
        self.conv
            .visit_parameters_mut(["0.weight", "0.bias"], &mut set);
        self.bn
            .visit_parameters_mut(["1.weight", "1.bias"], &mut set);
        self.linear
            .visit_parameters_mut(["4.weight", "4.bias"], &mut set);
    }
}

#[test]
fn conv_batch_norm_pool_linear_chain() {
    let mut net = Cnn::new();
    let x = random(3, 2 * 5 * 6, 18);
    let r = random(3, 2, 19);
    let a = net.forward(&x);
    let gx = net.backward(&a, &r);
    let params = net.parameters();
    assert_eq!(params[0].1.len(), 3 * 2 * 3 * 3);
    let loss = |net: &Cnn, x: &Array2<f64>| {
        let mut net = net.clone();
        let a = net.forward(x);
        dot(&a[5], &r)
    };
    for (name, mut value, grad) in params {
        check(&format!("chain {name}"), &mut value, &grad, |p| {
            let mut n = net.clone();
            n.set(name, p);
            loss(&n, &x)
        });
    }
    check_input("chain dx", &x, &gx, |x| loss(&net, x));
}
