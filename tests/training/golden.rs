//! Parity with PyTorch: the golden values of `pytorch-golden.md` §2.11
//! (losses) and §2.14 (whole runs), in f64 to 1e-9 and f32 to 1e-5 relative.
//! Optimizer trajectories (§2.10) are tested in `runtime/src/optim.rs`.

use crate::common;

use common::{F32, F64};
use macrograd::loss::{CrossEntropy, Huber, Loss, BCE, L1, MSE};
use macrograd::prelude::*;
use macrograd::Float;

fn regression_pair() -> (Array2<f64>, Array2<f64>) {
    (
        array![[0.5, -1.5], [2.0, 0.25], [-0.3, 0.8]],
        array![[1.0, -1.0], [0.0, 0.5], [-0.3, 2.0]],
    )
}

#[test]
fn regression_losses() {
    let (x, y) = regression_pair();
    let value = |l: &dyn Fn() -> f64| [l()];
    assert_close!(
        value(&|| MSE.compute(x.view(), y.view(), None)),
        [1.0004166667],
        F64
    );
    assert_close!(
        value(&|| L1.compute(x.view(), y.view(), None)),
        [0.7416666667],
        F64
    );
    let huber = |delta| Huber { delta }.compute(x.view(), y.view(), None);
    assert_close!([huber(1.0)], [0.4135416667], F64);
    assert_close!([huber(0.5)], [0.271875], F64);
    // f32: same numbers to 1e-5 relative.
    let (x32, y32) = (x.mapv(|v| v as f32), y.mapv(|v| v as f32));
    assert_close!(
        [MSE.compute(x32.view(), y32.view(), None) as f64],
        [1.0004166667],
        F32
    );
    assert_close!(
        [L1.compute(x32.view(), y32.view(), None) as f64],
        [0.7416666667],
        F32
    );
    let huber32 = Huber { delta: 0.5 }.compute(x32.view(), y32.view(), None);
    assert_close!([huber32 as f64], [0.271875], F32);
}

#[test]
fn bce_with_logits() {
    let x = array![[0.8, -1.2, 3.0, -20.0, 25.0]];
    let y = array![[1.0, 0.0, 1.0, 0.0, 0.0]];
    let plain = BCE::default().compute(x.view(), y.view(), None);
    let weighted = BCE {
        pos_weight: vec![3.0],
    }
    .compute(x.view(), y.view(), None);
    assert_close!([plain, weighted], [5.1365940974, 5.3044693044], F64);
    let per_column = BCE {
        pos_weight: vec![3.0; 5],
    }
    .compute(x.view(), y.view(), None);
    assert_close!([per_column], [5.3044693044], F64);
    let (x32, y32) = (x.mapv(|v| v as f32), y.mapv(|v| v as f32));
    let plain32 = BCE::default().compute(x32.view(), y32.view(), None);
    assert_close!([plain32 as f64], [5.1365940974], F32);
}

#[test]
fn cross_entropy() {
    let x = array![
        [2.0, 1.0, 0.1],
        [0.5, 2.5, -1.0],
        [-1.0, 0.0, 1.0],
        [1.0, 1.0, 1.0]
    ];
    let labels = [0, 1, 2, 1];
    let plain = CrossEntropy::default().compute(x.view(), &labels, None);
    let smooth = CrossEntropy {
        label_smoothing: 0.1,
    }
    .compute(x.view(), &labels, None);
    assert_close!([plain, smooth], [0.5191066191, 0.6141066191], F64);
    let x32 = x.mapv(|v| v as f32);
    let plain32 = CrossEntropy::default().compute(x32.view(), &labels, None);
    assert_close!([plain32 as f64], [0.5191066191], F32);
}

/// §2.14: x_i = [i/10, (7i mod 10)/10 - 0.5], y_i = 2 x0 - 3 x1 + 0.5 + 0.05 (-1)^i.
fn golden_data() -> (Array2<f64>, Array2<f64>) {
    let x = Array2::from_shape_fn((10, 2), |(i, j)| {
        if j == 0 {
            i as f64 / 10.0
        } else {
            ((7 * i) % 10) as f64 / 10.0 - 0.5
        }
    });
    let y = Array2::from_shape_fn((10, 1), |(i, _)| {
        let sign = if i % 2 == 0 { 1.0 } else { -1.0 };
        2.0 * x[[i, 0]] - 3.0 * x[[i, 1]] + 0.5 + 0.05 * sign
    });
    (x, y)
}

/// Per epoch: weighted loss, then W0, W1, b after the epoch.
type Expected = [[f64; 4]; 3];

fn check_run<M>(mut model: M, fit: impl Fn() -> Fit<'static>, expected: &Expected)
where
    M: Model,
    M::Elem: Float,
    M: Model<Target = macrograd::target::Rows>,
{
    let (x, y) = golden_data();
    let cast = |a: &Array2<f64>| a.mapv(<M::Elem as Float>::of);
    model
        .set_parameter("0.weight", &[M::Elem::of(0.1), M::Elem::of(-0.2)])
        .unwrap();
    model.set_parameter("0.bias", &[M::Elem::of(0.05)]).unwrap();
    let data = Dataset::regression(cast(&x), cast(&y)).unwrap();
    let tol = if <M::Elem as Float>::NAME == "f64" {
        F64
    } else {
        F32
    };
    // One epoch at a time, reading the parameters after each.
    for want in expected {
        let history = model.fit(&data, fit()).unwrap();
        let params: Vec<f64> = model
            .parameters()
            .iter()
            .flat_map(|p| p.value.iter().map(|v| v.to_f64()).collect::<Vec<_>>())
            .collect();
        let got = [history.losses()[0], params[0], params[1], params[2]];
        assert_close!(got, want, tol);
    }
}

const SGD_RUN: Expected = [
    [2.0980029905, 0.5312402875, -0.3469728625, 0.8220662],
    [0.7319696351, 0.7242515202, -0.4635138436, 1.1168802],
    [0.5354309388, 0.8212528069, -0.5655983835, 1.2206838824],
];
const MOMENTUM_RUN: Expected = [
    [1.9345068953, 0.6558002875, -0.5264036125, 1.3804082],
    [1.0508239303, 1.1690523523, -1.0219044463, 2.2714079874],
    [1.5614529251, 0.7989510713, -1.4880541052, 1.2299108608],
];
const ADAM_RUN: Expected = [
    [2.3423658429, 0.378683948, -0.4601627686, 0.3478803061],
    [1.3004927249, 0.6104050006, -0.7087523611, 0.6298187659],
    [0.6548730533, 0.8273101682, -0.9534271247, 0.8873185046],
];
const DROP_LAST_RUN: Expected = [
    [1.9151583244, 0.2508375, -0.3175425, 0.497355],
    [1.0437052479, 0.3406510699, -0.4204149775, 0.7632794054],
    [0.7083172634, 0.3944941256, -0.5132320043, 0.9209453011],
];

fn one_epoch() -> Fit<'static> {
    Fit::epochs(1).batch_size(4).shuffle(false).quiet()
}

#[test]
fn end_to_end_sgd() {
    check_run(
        model! { dtype f64; Linear(2, 1); loss MSE; optim SGD(0.1) },
        one_epoch,
        &SGD_RUN,
    );
    check_run(
        model! { Linear(2, 1); loss MSE; optim SGD(0.1) },
        one_epoch,
        &SGD_RUN,
    );
}

#[test]
fn end_to_end_sgd_momentum() {
    check_run(
        model! { dtype f64; Linear(2, 1); loss MSE; optim SGD(0.1, momentum = 0.9) },
        one_epoch,
        &MOMENTUM_RUN,
    );
    check_run(
        model! { Linear(2, 1); loss MSE; optim SGD(0.1, momentum = 0.9) },
        one_epoch,
        &MOMENTUM_RUN,
    );
}

#[test]
fn end_to_end_adam() {
    check_run(
        model! { dtype f64; Linear(2, 1); loss MSE; optim Adam(0.1) },
        one_epoch,
        &ADAM_RUN,
    );
    check_run(
        model! { Linear(2, 1); loss MSE; optim Adam(0.1) },
        one_epoch,
        &ADAM_RUN,
    );
}

#[test]
fn end_to_end_drop_last() {
    let fit = || one_epoch().drop_last(true);
    check_run(
        model! { dtype f64; Linear(2, 1); loss MSE; optim SGD(0.1) },
        fit,
        &DROP_LAST_RUN,
    );
    check_run(
        model! { Linear(2, 1); loss MSE; optim SGD(0.1) },
        fit,
        &DROP_LAST_RUN,
    );
}

#[test]
fn three_epochs_in_one_fit_match_three_fits_of_one() {
    let (x, y) = golden_data();
    let data = Dataset::regression(x, y).unwrap();
    let mut model = model! { dtype f64; Linear(2, 1); loss MSE; optim SGD(0.1) };
    model.set_parameter("0.weight", &[0.1, -0.2]).unwrap();
    model.set_parameter("0.bias", &[0.05]).unwrap();
    let history = model
        .fit(&data, Fit::epochs(3).batch_size(4).shuffle(false).quiet())
        .unwrap();
    let want: Vec<f64> = SGD_RUN.iter().map(|r| r[0]).collect();
    assert_close!(history.losses(), want, F64);
}
