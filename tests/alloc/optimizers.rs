//! `optim RMSprop(..)` and `optim Adagrad(..)` in generated models: the
//! trajectories of `pytorch-golden.md` §2.10 through a whole model, the same
//! update as the runtime's optimizer on the same gradients, the
//! hyperparameters a scheduler reads, training that lowers the loss, and an
//! f32 training step that allocates nothing.

use crate::common;

use common::counting::allocations;

use common::F64;
use macrograd::optim::{Adagrad, AdagradConfig, Optimizer, RMSprop, RMSpropConfig};
use macrograd::prelude::*;
use macrograd::Float;

/// §2.10's gradients for θ = `0.weight`, from θ0 = [1, -2].
const G: [[f64; 2]; 3] = [[0.5, -1.0], [0.1, 0.3], [-0.4, 0.2]];

/// Runs §2.10 on a `Linear(2, 1)` model: `0.weight` starts at [1, -2]; each
/// step runs a real forward, loss and backward, then overwrites the weight's
/// gradient with the table's (and the bias's with 0) before `step`.
/// Returns the weight after each step.
fn golden_run<M: Model<Elem = f64, Target = macrograd::target::Rows>>(
    mut model: M,
) -> Vec<Vec<f64>> {
    model.set_parameter("0.weight", &[1.0, -2.0]).unwrap();
    let (x, y) = (array![[0.3, -0.7]], array![[0.2]]);
    G.iter()
        .map(|g| {
            model.forward(&x);
            model.loss(&y);
            model.zero_grad();
            model.backward();
            model.visit_parameters_mut(&mut |mut p| {
                let values: &[f64] = if p.name == "0.weight" { g } else { &[0.0] };
                for (dst, src) in p.grad.iter_mut().zip(values) {
                    *dst = *src;
                }
            });
            model.step();
            model.parameters()[0].value.iter().copied().collect()
        })
        .collect()
}

#[track_caller]
fn assert_trajectory(got: &[Vec<f64>], want: [[f64; 2]; 3]) {
    for (step, (got, want)) in got.iter().zip(want).enumerate() {
        assert!(
            got.iter().zip(want).all(|(a, b)| F64.accepts(*a, b)),
            "step {}: got {got:?}, want {want:?}",
            step + 1
        );
    }
}

#[test]
fn rmsprop_golden_through_the_macro() {
    let plain = model! { dtype f64; Linear(2, 1); loss MSE; optim RMSprop(lr = 0.01) };
    assert_trajectory(
        &golden_run(plain),
        [
            [0.90000002, -1.90000001],
            [0.8802934383, -1.9288675207],
            [0.9423910822, -1.9478575233],
        ],
    );
    let centered = model! {
        dtype f64; Linear(2, 1); loss MSE; optim RMSprop(0.01, momentum = 0.9, centered = true)
    };
    assert_trajectory(
        &golden_run(centered),
        [
            [0.8994962387, -1.8994962286],
            [0.7891993904, -1.8379741849],
            [0.7520566322, -1.8016143581],
        ],
    );
}

#[test]
fn adagrad_golden_through_the_macro() {
    let plain = model! { dtype f64; Linear(2, 1); loss MSE; optim Adagrad(0.1) };
    assert_trajectory(
        &golden_run(plain),
        [
            [0.9, -1.9],
            [0.8803883865, -1.9287347886],
            [0.9421097265, -1.9475492059],
        ],
    );
    let decayed = model! {
        dtype f64; Linear(2, 1); loss MSE;
        optim Adagrad(lr = 0.1, lr_decay = 0.5, initial_accumulator_value = 0.1)
    };
    assert_trajectory(
        &golden_run(decayed),
        [
            [0.9154845745, -1.9046537411],
            [0.9043734634, -1.922987711],
            [0.9321084732, -1.9320044074],
        ],
    );
}

model! {
    struct RmsNet;
    dtype f64;
    input 3;
    Linear(_, 4);
    Tanh;
    Linear(_, 2, bias = false);
    loss MSE;
    optim RMSprop(0.02, 0.9, 1e-6, 0.01, 0.5, true)
}

model! {
    struct AdagradNet;
    dtype f64;
    input 3;
    Linear(_, 4);
    Tanh;
    Linear(_, 2);
    loss MSE;
    optim Adagrad(0.05, 0.1, 0.01, 0.2, 1e-8)
}

/// Every parameter, values and gradients, in PyTorch's order.
fn snapshot<M: Model<Elem = f64>>(model: &M) -> Vec<(Vec<f64>, Vec<f64>)> {
    model
        .parameters()
        .iter()
        .map(|p| {
            let grad = p.grad.as_ref().map(|g| g.iter().copied().collect());
            (p.value.iter().copied().collect(), grad.unwrap_or_default())
        })
        .collect()
}

/// Three training steps of `model` against the runtime optimizer `opt`
/// applied by hand to the same parameters and gradients: the same bits.
fn same_updates_as<M, O>(mut model: M, mut opt: O)
where
    M: Model<Elem = f64, Target = macrograd::target::Rows>,
    O: Optimizer<f64>,
{
    let mut rng = Rng::new(3);
    let x: Array2<f64> = rng.randn((5, 3));
    let y: Array2<f64> = rng.randn((5, 2));
    for _ in 0..3 {
        model.forward(&x);
        model.loss(&y);
        model.zero_grad();
        model.backward();
        let mut want = snapshot(&model);
        for (index, (value, grad)) in want.iter_mut().enumerate() {
            opt.update(index, value, grad);
        }
        model.step();
        let got = snapshot(&model);
        for ((got, _), (want, _)) in got.iter().zip(&want) {
            assert_eq!(got, want);
        }
    }
}

#[test]
fn generated_rmsprop_is_the_runtime_optimizer() {
    let lens = [12, 4, 8];
    let config = RMSpropConfig {
        lr: 0.02,
        alpha: 0.9,
        eps: 1e-6,
        weight_decay: 0.01,
        momentum: 0.5,
        centered: true,
    };
    same_updates_as(RmsNet::new(), RMSprop::<f64>::new(config, &lens));
}

#[test]
fn generated_adagrad_is_the_runtime_optimizer() {
    let lens = [12, 4, 8, 2];
    let config = AdagradConfig {
        lr: 0.05,
        lr_decay: 0.1,
        weight_decay: 0.01,
        initial_accumulator_value: 0.2,
        eps: 1e-8,
    };
    same_updates_as(AdagradNet::new(), Adagrad::<f64>::new(config, &lens));
}

#[test]
fn defaults_learning_rate_momentum_and_summary() {
    let rms = model! { Linear(2, 1); loss MSE; optim RMSprop };
    assert_eq!(rms.learning_rate(), 1e-2);
    assert_eq!(rms.momentum(), Some(0.0));
    assert_eq!(rms.summary().optim, "RMSprop(lr = 0.01)");
    let mut net = RmsNet::new();
    assert_eq!(net.momentum(), Some(0.5));
    net.set_momentum(0.8);
    assert_eq!(net.momentum(), Some(0.8));
    net.set_learning_rate(0.5);
    assert_eq!(net.learning_rate(), 0.5);
    assert_eq!(
        RmsNet::new().summary().optim,
        "RMSprop(lr = 0.02, alpha = 0.9, eps = 0.000001, weight_decay = 0.01, \
         momentum = 0.5, centered = true)"
    );

    let ada = model! { Linear(2, 1); loss MSE; optim Adagrad };
    assert_eq!(ada.learning_rate(), 1e-2);
    assert_eq!(ada.momentum(), None);
    assert_eq!(ada.summary().optim, "Adagrad(lr = 0.01)");
    assert_eq!(
        AdagradNet::new().summary().optim,
        "Adagrad(lr = 0.05, lr_decay = 0.1, weight_decay = 0.01, \
         initial_accumulator_value = 0.2, eps = 0.00000001)"
    );
}

/// Mean loss over `steps` full-batch steps on y = x0 - 2 x1 + 0.5.
fn losses<M: Model<Target = macrograd::target::Rows>>(model: &mut M, steps: usize) -> (f64, f64) {
    let mut rng = Rng::new(7);
    let x: Array2<M::Elem> = rng.randn((64, 2));
    let y = Array2::from_shape_fn((64, 1), |(i, _)| {
        x[[i, 0]] - x[[i, 1]] - x[[i, 1]] + <M::Elem as macrograd::Float>::of(0.5)
    });
    let first = model.train_step(&x, &y).to_f64();
    let mut last = first;
    for _ in 1..steps {
        last = model.train_step(&x, &y).to_f64();
    }
    (first, last)
}

#[test]
fn training_lowers_the_loss() {
    let mut rms = model! { Linear(2, 8); Tanh; Linear(_, 1); loss MSE; optim RMSprop(0.01) };
    let (first, last) = losses(&mut rms, 200);
    assert!(last < 0.01 * first, "RMSprop: {first} -> {last}");

    let mut rms_momentum = model! {
        dtype f64; Linear(2, 8); Tanh; Linear(_, 1); loss MSE;
        optim RMSprop(0.005, momentum = 0.9, centered = true)
    };
    let (first, last) = losses(&mut rms_momentum, 200);
    assert!(last < 0.01 * first, "RMSprop momentum: {first} -> {last}");

    let mut ada = model! { Linear(2, 8); Tanh; Linear(_, 1); loss MSE; optim Adagrad(0.1) };
    let (first, last) = losses(&mut ada, 200);
    assert!(last < 0.01 * first, "Adagrad: {first} -> {last}");
}

/// Allocations of one f32 `train_step` after a warm-up (the state of both
/// optimizers exists from construction; see `tests/alloc/step.rs`).
fn step_allocations<M: Model<Elem = f32, Target = macrograd::target::Rows>>(
    model: &mut M,
) -> usize {
    let mut rng = Rng::new(11);
    let x: Array2<f32> = rng.randn((16, 4));
    let y: Array2<f32> = rng.randn((16, 2));
    model.train_step(&x, &y);
    let before = allocations();
    model.train_step(&x, &y);
    allocations() - before
}

#[test]
fn f32_steps_allocate_nothing() {
    let mut rms = model! {
        Linear(4, 8); ReLU; Linear(_, 2); loss MSE;
        optim RMSprop(0.01, weight_decay = 0.01, momentum = 0.9, centered = true)
    };
    assert_eq!(step_allocations(&mut rms), 0);
    let mut ada = model! {
        Linear(4, 8); ReLU; Linear(_, 2); loss MSE;
        optim Adagrad(0.1, lr_decay = 0.01, weight_decay = 0.01)
    };
    assert_eq!(step_allocations(&mut ada), 0);
}
