//! Finite-difference gradient checks in f64: every layer, every loss, and
//! whole generated models of 1, 2 and 4 layers. Each analytic gradient is
//! compared with the central difference `(L(p + h) - L(p - h)) / 2h`.

use crate::common::finite_diff::{check, check_model};
use crate::common::Tol;
use macrograd::layers::{Activation, LeakyReLU, Linear, ReLU, Sigmoid, Softmax, Tanh, GELU};
use macrograd::loss::{CrossEntropy, Huber, Loss, BCE, L1, MSE};
use macrograd::prelude::*;

fn random(rows: usize, cols: usize, seed: u64) -> Array2<f64> {
    let mut rng = Rng::new(seed);
    rng.randn((rows, cols))
}

fn dot(a: &Array2<f64>, b: &Array2<f64>) -> f64 {
    (a * b).sum()
}

#[test]
fn linear_weight_bias_and_input() {
    for bias in [true, false] {
        let (b, inp, out) = (5, 4, 3);
        let mut layer = Linear::<f64>::new(inp, out, bias, &mut Rng::new(1));
        let x = random(b, inp, 2);
        let r = random(b, out, 3); // L = sum(y * r), so dL/dy = r
        let mut gx = Array2::zeros((b, inp));
        layer.backward(x.view(), r.view(), Some(gx.view_mut()), false);
        let loss = |layer: &Linear<f64>, x: &Array2<f64>| {
            let mut y = Array2::zeros((b, out));
            layer.forward(x.view(), y.view_mut());
            dot(&y, &r)
        };
        let wg = layer.weight_grad.clone();
        let mut w = layer.weight.clone();
        check(
            "dW",
            w.as_slice_mut().unwrap(),
            wg.as_slice().unwrap(),
            |p| {
                let mut l = layer.clone();
                l.weight.as_slice_mut().unwrap().copy_from_slice(p);
                loss(&l, &x)
            },
        );
        if bias {
            let bg = layer.bias_grad.clone().unwrap();
            let mut bv = layer.bias.clone().unwrap();
            check(
                "db",
                bv.as_slice_mut().unwrap(),
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
        let shape = x.raw_dim();
        check(
            "dx",
            x.clone().as_slice_mut().unwrap(),
            gx.as_slice().unwrap(),
            |p| loss(&layer, &Array2::from_shape_vec(shape, p.to_vec()).unwrap()),
        );
        // Accumulation adds a second copy of the same gradients.
        layer.backward(x.view(), r.view(), None, true);
        let twice = &wg * 2.0;
        assert_close!(layer.weight_grad, twice, Tol::Abs(1e-12));
    }
}

fn check_activation(name: &str, act: &dyn Activation<f64>) {
    let (b, n) = (4, 6);
    let x = random(b, n, 7);
    let r = random(b, n, 8);
    let mut y = Array2::zeros((b, n));
    act.forward(x.view(), y.view_mut());
    let mut gx = Array2::zeros((b, n));
    act.backward(x.view(), y.view(), r.view(), gx.view_mut());
    check(
        name,
        x.clone().as_slice_mut().unwrap(),
        gx.as_slice().unwrap(),
        |p| {
            let xp = Array2::from_shape_vec((b, n), p.to_vec()).unwrap();
            let mut yp = Array2::zeros((b, n));
            act.forward(xp.view(), yp.view_mut());
            dot(&yp, &r)
        },
    );
}

#[test]
fn activations() {
    check_activation("ReLU", &ReLU);
    check_activation(
        "LeakyReLU",
        &LeakyReLU {
            negative_slope: 0.2,
        },
    );
    check_activation("Sigmoid", &Sigmoid);
    check_activation("Tanh", &Tanh);
    check_activation("GELU", &GELU);
    check_activation("Softmax", &Softmax);
}

fn check_rows_loss(
    name: &str,
    loss: &dyn Loss<f64, Target = macrograd::target::Rows>,
    y: &Array2<f64>,
) {
    let x = random(y.nrows(), y.ncols(), 11);
    let mut g = Array2::zeros(x.raw_dim());
    loss.compute(x.view(), y.view(), Some(g.view_mut()));
    let shape = x.raw_dim();
    check(
        name,
        x.clone().as_slice_mut().unwrap(),
        g.as_slice().unwrap(),
        |p| {
            let xp = Array2::from_shape_vec(shape, p.to_vec()).unwrap();
            loss.compute(xp.view(), y.view(), None)
        },
    );
}

#[test]
fn losses() {
    let y = random(5, 3, 12);
    check_rows_loss("MSE", &MSE, &y);
    check_rows_loss("L1", &L1, &y);
    check_rows_loss("Huber", &Huber { delta: 0.7 }, &y);
    let probs = random(5, 3, 13).mapv(|v| 1.0 / (1.0 + (-v).exp()));
    check_rows_loss("BCE", &BCE::default(), &probs);
    check_rows_loss(
        "BCE pos_weight",
        &BCE {
            pos_weight: vec![0.5, 2.0, 3.0],
        },
        &probs,
    );
    for smoothing in [0.0, 0.2] {
        let loss = CrossEntropy {
            label_smoothing: smoothing,
        };
        let labels = [0, 2, 1, 2, 0];
        let x = random(5, 3, 14);
        let mut g = Array2::zeros(x.raw_dim());
        loss.compute(x.view(), &labels, Some(g.view_mut()));
        check(
            "CrossEntropy",
            x.clone().as_slice_mut().unwrap(),
            g.as_slice().unwrap(),
            |p| {
                let xp = Array2::from_shape_vec((5, 3), p.to_vec()).unwrap();
                loss.compute(xp.view(), &labels, None)
            },
        );
    }
}

#[test]
fn one_layer_model() {
    let mut m = model! { dtype f64; Linear(4, 3); loss MSE; optim SGD(0.1) };
    check_model("1 layer", &mut m, &random(6, 4, 20), &random(6, 3, 21));
}

#[test]
fn two_layer_model() {
    let mut m =
        model! { dtype f64; Linear(4, 8); Tanh; Linear(_, 2); loss Huber(0.5); optim Adam(0.01) };
    check_model("2 layers", &mut m, &random(6, 4, 22), &random(6, 2, 23));
    let mut m = model! { dtype f64; Linear(4, 5, bias = false); GELU; Linear(_, 3); loss CrossEntropy(label_smoothing = 0.1); optim SGD(0.1) };
    check_model(
        "2 layers CE",
        &mut m,
        &random(6, 4, 24),
        &vec![0, 1, 2, 2, 1, 0],
    );
}

#[test]
fn four_layer_model() {
    let mut m = model! {
        dtype f64;
        input 5;
        Linear(_, 7); ReLU;
        Linear(_, 6); LeakyReLU(0.1);
        Linear(_, 4); Sigmoid;
        Linear(_, 2);
        loss BCE(pos_weight = [2.0, 0.5]);
        optim AdamW(lr = 0.01)
    };
    let y = random(6, 2, 26).mapv(|v| if v > 0.0 { 1.0 } else { 0.0 });
    check_model("4 layers", &mut m, &random(6, 5, 25), &y);
    let mut m = model! {
        dtype f64;
        Linear(3, 4); Tanh; Linear(4, 4); ReLU; Linear(4, 4); GELU; Linear(4, 2); Softmax;
        loss L1; optim SGD(0.01, momentum = 0.9)
    };
    check_model(
        "4 layers softmax",
        &mut m,
        &random(7, 3, 27),
        &random(7, 2, 28),
    );
}
