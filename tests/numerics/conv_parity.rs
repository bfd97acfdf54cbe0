//! Forward parity with PyTorch 2.15 for the image and normalisation layers:
//! Conv2d (stride, padding, no bias, pointwise), MaxPool2d and AvgPool2d
//! (with and without padding), BatchNorm2d and BatchNorm1d (two training
//! steps with their running statistics, then evaluation) and LayerNorm.
//!
//! The inputs, weights and PyTorch's float64 outputs are in
//! `tests/fixtures/conv_layers.rs`, written by
//! `tests/fixtures/make_conv_fixture.py`. Every case runs in f64 (to 1e-9)
//! and in f32 (to 1e-5).

use crate::common;

use common::{Tol, F64};
use macrograd::layers::{
    AvgPool2d, BatchNorm, BatchNormConfig, Conv2d, Conv2dConfig, ImageShape, LayerNorm,
    LayerNormConfig, MaxPool2d, Pool2dConfig,
};
use macrograd::prelude::*;
use macrograd::Float;

#[allow(clippy::all)]
mod fixture {
    include!("../fixtures/conv_layers.rs");
}
use fixture::*;

/// f32 against PyTorch's f64: values are of order 1, so 1e-5 absolute.
const F32: Tol = Tol::Abs(1e-5);

/// `[rows, values.len() / rows]` in `T`.
fn rows<T: Float>(values: &[f64], rows: usize) -> Array2<T> {
    Array2::from_shape_vec((rows, values.len() / rows), values.to_vec())
        .unwrap()
        .mapv(T::of)
}

fn widen<T: Float>(a: impl IntoIterator<Item = T>) -> Vec<f64> {
    a.into_iter().map(Float::to_f64).collect()
}

#[allow(clippy::too_many_arguments)]
fn conv<T: Float>(
    tol: Tol,
    config: Conv2dConfig,
    hw: (usize, usize),
    input: &[f64],
    weight: &[f64],
    bias: Option<&[f64]>,
    expect: &[f64],
) {
    let mut layer = Conv2d::<T>::new(config, hw, &mut Rng::new(0));
    layer.weight.assign(&rows::<T>(weight, config.out_channels));
    if let (Some(b), Some(bias)) = (&mut layer.bias, bias) {
        b.assign(&Array1::from_iter(bias.iter().map(|&v| T::of(v))));
    }
    let x = rows::<T>(input, 2);
    let mut y = Array2::zeros((2, layer.out_features()));
    layer.forward(x.view(), y.view_mut());
    assert_close!(widen(y), expect, tol);
}

fn all_convs<T: Float>(tol: Tol) {
    let a = Conv2dConfig {
        stride: (2, 1),
        padding: (1, 1),
        ..Conv2dConfig::new(2, 3, (3, 2))
    };
    conv::<T>(
        tol,
        a,
        (5, 7),
        CONV_A_INPUT,
        CONV_A_WEIGHT,
        Some(CONV_A_BIAS),
        CONV_A_OUTPUT,
    );
    let b = Conv2dConfig {
        stride: (1, 2),
        padding: (0, 1),
        bias: false,
        ..Conv2dConfig::new(3, 2, (2, 3))
    };
    conv::<T>(
        tol,
        b,
        (6, 5),
        CONV_B_INPUT,
        CONV_B_WEIGHT,
        None,
        CONV_B_OUTPUT,
    );
    let c = Conv2dConfig::new(3, 4, (1, 1));
    conv::<T>(
        tol,
        c,
        (3, 4),
        CONV_C_INPUT,
        CONV_C_WEIGHT,
        Some(CONV_C_BIAS),
        CONV_C_OUTPUT,
    );
}

#[test]
fn conv2d_matches_pytorch() {
    all_convs::<f64>(F64);
    all_convs::<f32>(F32);
}

fn all_pools<T: Float>(tol: Tol) {
    let shape = ImageShape::new(3, 6, 7);
    let padded = |kernel, stride, padding| Pool2dConfig {
        stride,
        padding,
        ..Pool2dConfig::new(kernel)
    };
    let run = |forward: &dyn Fn(ArrayView2<T>, &mut Array2<T>),
               out: usize,
               input: &[f64],
               expect: &[f64]| {
        let mut y = Array2::zeros((2, out));
        forward(rows::<T>(input, 2).view(), &mut y);
        assert_close!(widen(y), expect, tol);
    };
    let max_a = MaxPool2d::new(Pool2dConfig::new((2, 2)), shape);
    assert_eq!(max_a.output_shape(), ImageShape::new(3, 3, 3));
    run(
        &|x, y| max_a.forward(x, y.view_mut()),
        27,
        MAXPOOL_A_INPUT,
        MAXPOOL_A_OUTPUT,
    );
    let max_b = MaxPool2d::new(padded((3, 3), (2, 2), (1, 1)), shape);
    assert_eq!(max_b.output_shape(), ImageShape::new(3, 3, 4));
    run(
        &|x, y| max_b.forward(x, y.view_mut()),
        36,
        MAXPOOL_B_INPUT,
        MAXPOOL_B_OUTPUT,
    );
    let avg_a = AvgPool2d::new(Pool2dConfig::new((2, 2)), shape);
    run(
        &|x, y| avg_a.forward(x, y.view_mut()),
        27,
        AVGPOOL_A_INPUT,
        AVGPOOL_A_OUTPUT,
    );
    let avg_b = AvgPool2d::new(padded((3, 2), (1, 2), (1, 0)), shape);
    assert_eq!(avg_b.output_shape(), ImageShape::new(3, 6, 3));
    run(
        &|x, y| avg_b.forward(x, y.view_mut()),
        54,
        AVGPOOL_B_INPUT,
        AVGPOOL_B_OUTPUT,
    );
}

#[test]
fn pooling_matches_pytorch() {
    all_pools::<f64>(F64);
    all_pools::<f32>(F32);
}

/// The PyTorch fixture of one batch-norm case.
struct BatchNormCase {
    weight: &'static [f64],
    bias: &'static [f64],
    inputs: [&'static [f64]; 2],
    train: [[&'static [f64]; 3]; 2],
    num_batches_tracked: u64,
    eval: &'static [f64],
}

fn batch_norm<T: Float>(tol: Tol, mut layer: BatchNorm<T>, batch: usize, case: &BatchNormCase) {
    layer
        .weight
        .assign(&Array1::from_iter(case.weight.iter().map(|&v| T::of(v))));
    layer
        .bias
        .assign(&Array1::from_iter(case.bias.iter().map(|&v| T::of(v))));
    let x = case.inputs.map(|input| rows::<T>(input, batch));
    let mut y = Array2::zeros(x[0].raw_dim());
    for (x, [output, mean, var]) in x.iter().zip(case.train) {
        layer.forward(x.view(), y.view_mut(), true);
        assert_close!(widen(y.iter().copied()), output, tol);
        assert_close!(widen(layer.running_mean.iter().copied()), mean, tol);
        assert_close!(widen(layer.running_var.iter().copied()), var, tol);
    }
    assert_eq!(layer.num_batches_tracked, case.num_batches_tracked);
    layer.forward(x[0].view(), y.view_mut(), false);
    assert_close!(widen(y), case.eval, tol);
}

#[test]
fn batch_norm_2d_matches_pytorch_in_training_and_evaluation() {
    let case = BatchNormCase {
        weight: BN2D_WEIGHT,
        bias: BN2D_BIAS,
        inputs: [BN2D_INPUT1, BN2D_INPUT2],
        train: [
            [
                BN2D_TRAIN1_OUTPUT,
                BN2D_TRAIN1_RUNNING_MEAN,
                BN2D_TRAIN1_RUNNING_VAR,
            ],
            [
                BN2D_TRAIN2_OUTPUT,
                BN2D_TRAIN2_RUNNING_MEAN,
                BN2D_TRAIN2_RUNNING_VAR,
            ],
        ],
        num_batches_tracked: BN2D_NUM_BATCHES_TRACKED,
        eval: BN2D_EVAL_OUTPUT,
    };
    let shape = ImageShape::new(4, 3, 5);
    let config = BatchNormConfig::default();
    batch_norm(F64, BatchNorm::<f64>::new_2d(shape, config), 3, &case);
    batch_norm(F32, BatchNorm::<f32>::new_2d(shape, config), 3, &case);
}

#[test]
fn batch_norm_1d_matches_pytorch_in_training_and_evaluation() {
    let case = BatchNormCase {
        weight: BN1D_WEIGHT,
        bias: BN1D_BIAS,
        inputs: [BN1D_INPUT1, BN1D_INPUT2],
        train: [
            [
                BN1D_TRAIN1_OUTPUT,
                BN1D_TRAIN1_RUNNING_MEAN,
                BN1D_TRAIN1_RUNNING_VAR,
            ],
            [
                BN1D_TRAIN2_OUTPUT,
                BN1D_TRAIN2_RUNNING_MEAN,
                BN1D_TRAIN2_RUNNING_VAR,
            ],
        ],
        num_batches_tracked: BN1D_NUM_BATCHES_TRACKED,
        eval: BN1D_EVAL_OUTPUT,
    };
    let config = BatchNormConfig::default();
    batch_norm(F64, BatchNorm::<f64>::new_1d(5, config), 6, &case);
    batch_norm(F32, BatchNorm::<f32>::new_1d(5, config), 6, &case);
}

fn layer_norm<T: Float>(tol: Tol) {
    let mut layer = LayerNorm::<T>::new(6, LayerNormConfig::default());
    layer.weight.assign(&Array1::from_iter(
        LAYERNORM_WEIGHT.iter().map(|&v| T::of(v)),
    ));
    layer
        .bias
        .assign(&Array1::from_iter(LAYERNORM_BIAS.iter().map(|&v| T::of(v))));
    let x = rows::<T>(LAYERNORM_INPUT, 4);
    let mut y = Array2::zeros((4, 6));
    layer.forward(x.view(), y.view_mut());
    assert_close!(widen(y), LAYERNORM_OUTPUT, tol);
}

#[test]
fn layer_norm_matches_pytorch() {
    layer_norm::<f64>(F64);
    layer_norm::<f32>(F32);
}
