//! Parity with PyTorch's learning-rate schedulers: every golden sequence of
//! `pytorch-golden.md` §2.9 (base lr 0.1, the lr in effect at steps 0, 1,
//! 2, ...: `start` gives step 0, each `step` the next), to the precision
//! the table prints; then the argument checks of `Scheduler::validate`.

use crate::common;

use common::Tol;
use macrograd::schedule::*;

/// Exact rows (decimal values computed in f64).
const EXACT: Tol = Tol::Abs(1e-12);
/// Values printed with 6 decimals.
const DEC6: Tol = Tol::Abs(1e-6);
/// Values printed with 4 decimals.
const DEC4: Tol = Tol::Abs(1e-4);

/// The settings of steps `0..n` on SGD(lr = 0.1, momentum): `start`, then
/// `n - 1` steps without a metric.
fn run(s: &mut dyn Scheduler, momentum: Option<f64>, n: usize) -> Vec<Setting> {
    assert_eq!(s.validate(), Ok(()), "{}", s.describe());
    let mut out = vec![s.start(0.1, momentum)];
    out.extend((1..n).map(|_| s.step(None)));
    out
}

/// The learning rates of steps `0..n` (SGD without momentum).
fn lrs(s: &mut dyn Scheduler, n: usize) -> Vec<f64> {
    run(s, None, n).iter().map(|x| x.lr).collect()
}

fn momenta(settings: &[Setting]) -> Vec<f64> {
    settings
        .iter()
        .map(|x| x.momentum.expect("a cycled momentum"))
        .collect()
}

#[test]
fn step_lr() {
    let mut s = StepLR::new(3, 0.5);
    #[rustfmt::skip]
    let golden = [
        0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025, 0.025, 0.0125, 0.0125, 0.0125,
    ];
    assert_close!(lrs(&mut s, 12), golden, EXACT);
    assert_eq!(s.interval(), Interval::Epoch);
    assert!(!s.needs_metric());
}

#[test]
fn multi_step_lr() {
    let mut s = MultiStepLR::new([2, 5], 0.1);
    // Golden: 0.1, 0.1, 0.01, 0.01, 0.01, 0.001 ..., then 0.001 onwards.
    let golden = [0.1, 0.1, 0.01, 0.01, 0.01, 0.001, 0.001, 0.001, 0.001];
    assert_close!(lrs(&mut s, 9), golden, EXACT);
}

#[test]
fn exponential_lr() {
    let mut s = ExponentialLR::new(0.9);
    #[rustfmt::skip]
    let golden = [
        0.1, 0.09, 0.081, 0.0729, 0.06561, 0.059049, 0.053144, 0.04783, 0.043047,
        0.038742, 0.034868, 0.031381,
    ];
    assert_close!(lrs(&mut s, 12), golden, DEC6);
}

#[test]
fn cosine_annealing_lr_continues_periodically() {
    let mut s = CosineAnnealingLR::new(5).eta_min(0.01);
    // After T_max = 5 the lr climbs back up (PyTorch's recursive form).
    #[rustfmt::skip]
    let golden = [
        0.1, 0.091406, 0.068906, 0.041094, 0.018594, 0.01,
        0.018594, 0.041094, 0.068906, 0.091406, 0.1, 0.091406,
    ];
    assert_close!(lrs(&mut s, 12), golden, DEC6);
}

#[test]
fn cosine_annealing_warm_restarts() {
    let mut s = CosineAnnealingWarmRestarts::new(3).t_mult(2);
    #[rustfmt::skip]
    let golden = [
        0.1, 0.075, 0.025, 0.1, 0.093301, 0.075, 0.05, 0.025, 0.006699, 0.1,
        0.098296, 0.093301,
    ];
    assert_close!(lrs(&mut s, 12), golden, DEC6);
}

#[test]
fn linear_lr() {
    let mut s = LinearLR::new().start_factor(0.25).total_iters(4);
    // Golden: 0.025, 0.04375, 0.0625, 0.08125, 0.1, 0.1 ...
    let golden = [0.025, 0.04375, 0.0625, 0.08125, 0.1, 0.1, 0.1, 0.1];
    assert_close!(lrs(&mut s, 8), golden, EXACT);
}

#[test]
fn constant_lr() {
    let mut s = ConstantLR::new().factor(0.5).total_iters(3);
    // Golden: 0.05, 0.05, 0.05, 0.1 ...
    let golden = [0.05, 0.05, 0.05, 0.1, 0.1, 0.1];
    assert_close!(lrs(&mut s, 6), golden, EXACT);
}

#[test]
fn polynomial_lr() {
    let mut s = PolynomialLR::new().total_iters(4).power(2.0);
    // Golden: 0.1, 0.05625, 0.025, 0.00625, 0.0 ...
    let golden = [0.1, 0.05625, 0.025, 0.00625, 0.0, 0.0, 0.0];
    assert_close!(lrs(&mut s, 7), golden, EXACT);
}

#[test]
fn sequential_lr_warmup_then_cosine() {
    let mut s = SequentialLR::new(
        vec![
            Box::new(
                LinearLR::new()
                    .start_factor(0.1)
                    .end_factor(1.0)
                    .total_iters(3),
            ),
            Box::new(CosineAnnealingLR::new(7)),
        ],
        [3],
    );
    #[rustfmt::skip]
    let golden = [
        0.01, 0.04, 0.07, 0.1, 0.095048, 0.081174, 0.061126, 0.038874, 0.018826,
        0.004952, 0.0, 0.004952,
    ];
    assert_close!(lrs(&mut s, 12), golden, DEC6);
    assert_eq!(
        s.describe(),
        "SequentialLR(schedulers=[LinearLR(start_factor=0.1, end_factor=1.0, total_iters=3), \
         CosineAnnealingLR(T_max=7, eta_min=0.0)], milestones=[3])"
    );
}

#[test]
fn one_cycle_lr_with_momentum() {
    let mut s = OneCycleLR::new(0.1, 10);
    assert_eq!(s.interval(), Interval::Iteration);
    let out = run(&mut s, Some(0.9), 10);
    let lr: Vec<f64> = out.iter().map(|x| x.lr).collect();
    #[rustfmt::skip]
    let golden_lr = [
        0.004, 0.052, 0.1, 0.095048, 0.081175, 0.061126, 0.038874, 0.018826,
        0.004952, 4e-7,
    ];
    assert_close!(lr, golden_lr, DEC6);
    assert_close!([lr[9]], [4e-7], EXACT); // max_lr / 25 / 1e4
    #[rustfmt::skip]
    let golden_momentum = [
        0.95, 0.9, 0.85, 0.855, 0.8688, 0.8889, 0.9111, 0.9312, 0.945, 0.95,
    ];
    assert_close!(momenta(&out), golden_momentum, DEC4);
}

#[test]
fn one_cycle_lr_past_the_end_keeps_the_last_setting() {
    // PyTorch raises; here the last step's setting stays.
    let mut s = OneCycleLR::new(0.1, 10);
    let out = run(&mut s, Some(0.9), 10);
    let last = out[9];
    for _ in 0..5 {
        assert_eq!(s.step(None), last);
    }
}

#[test]
fn cyclic_lr_with_momentum() {
    let mut s = CyclicLR::new(0.01, 0.1).step_size_up(2);
    assert_eq!(s.interval(), Interval::Iteration);
    // The optimizer's lr (0.1) is overwritten with base_lr, as in PyTorch.
    let out = run(&mut s, Some(0.9), 9);
    let lr: Vec<f64> = out.iter().map(|x| x.lr).collect();
    let golden_lr = [0.01, 0.055, 0.1, 0.055, 0.01, 0.055, 0.1, 0.055, 0.01];
    assert_close!(lr, golden_lr, EXACT);
    // Golden: 0.9, 0.85, 0.8, 0.85, 0.9, ... (the same cycle).
    let golden_momentum = [0.9, 0.85, 0.8, 0.85, 0.9, 0.85, 0.8, 0.85, 0.9];
    assert_close!(momenta(&out), golden_momentum, EXACT);
}

#[test]
fn reduce_lr_on_plateau() {
    let mut s = ReduceLROnPlateau::new().factor(0.5).patience(2);
    assert!(s.needs_metric());
    assert_eq!(s.validate(), Ok(()));
    #[rustfmt::skip]
    let metrics = [1.0, 0.9, 0.95, 0.95, 0.95, 0.95, 0.8, 0.85, 0.85, 0.85, 0.85, 0.85];
    // The lr of step i + 1 follows metric i; step 0's is the base lr.
    let mut lr = vec![s.start(0.1, Some(0.9)).lr];
    lr.extend(metrics[..11].iter().map(|&m| s.step(Some(m)).lr));
    #[rustfmt::skip]
    let golden = [
        0.1, 0.1, 0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.05, 0.05, 0.025, 0.025,
    ];
    assert_close!(lr, golden, EXACT);
    // The twelfth metric is the third bad epoch since the last cut (2 < 3):
    // no cut yet.
    assert_close!([s.step(Some(metrics[11])).lr], [0.025], EXACT);
}

#[test]
fn reduce_lr_on_plateau_without_metric_changes_nothing() {
    let mut s = ReduceLROnPlateau::new().factor(0.5).patience(0);
    assert_eq!(
        s.start(0.1, None),
        Setting {
            lr: 0.1,
            momentum: None
        }
    );
    assert_eq!(s.step(Some(1.0)).lr, 0.1);
    for _ in 0..10 {
        assert_eq!(
            s.step(None),
            Setting {
                lr: 0.1,
                momentum: None
            }
        );
    }
    assert_eq!(s.step(Some(1.0)).lr, 0.05);
}

#[test]
fn lambda_lr() {
    let mut s = LambdaLR::new(Box::new(|t: usize| 0.5f64.powi(t as i32)));
    assert_close!(lrs(&mut s, 4), [0.1, 0.05, 0.025, 0.0125], EXACT);
}

/// `validate`'s message for each schedule.
fn error(s: &dyn Scheduler) -> String {
    s.validate().expect_err("an invalid argument")
}

#[test]
fn validation_messages_name_the_argument_and_the_value() {
    let cases: Vec<(Box<dyn Scheduler>, &str)> = vec![
        (
            Box::new(StepLR::new(0, 0.5)),
            "StepLR: `step_size` must be at least 1, found 0",
        ),
        (
            Box::new(StepLR::new(3, 0.0)),
            "StepLR: `gamma` must be positive and finite, found 0.0",
        ),
        (
            Box::new(MultiStepLR::new([2, 5], -0.1)),
            "MultiStepLR: `gamma` must be positive and finite, found -0.1",
        ),
        (
            Box::new(ExponentialLR::new(f64::NAN)),
            "ExponentialLR: `gamma` must be positive and finite, found NaN",
        ),
        (
            Box::new(CosineAnnealingLR::new(0)),
            "CosineAnnealingLR: `t_max` must be at least 1, found 0",
        ),
        (
            Box::new(CosineAnnealingLR::new(5).eta_min(-0.01)),
            "CosineAnnealingLR: `eta_min` must be non-negative and finite, found -0.01",
        ),
        (
            Box::new(CosineAnnealingWarmRestarts::new(0)),
            "CosineAnnealingWarmRestarts: `t_0` must be at least 1, found 0",
        ),
        (
            Box::new(CosineAnnealingWarmRestarts::new(3).t_mult(0)),
            "CosineAnnealingWarmRestarts: `t_mult` must be at least 1, found 0",
        ),
        (
            Box::new(LinearLR::new().start_factor(0.0)),
            "LinearLR: `start_factor` must be in (0, 1], found 0.0",
        ),
        (
            Box::new(LinearLR::new().end_factor(1.5)),
            "LinearLR: `end_factor` must be in [0, 1], found 1.5",
        ),
        (
            Box::new(LinearLR::new().total_iters(0)),
            "LinearLR: `total_iters` must be at least 1, found 0",
        ),
        (
            Box::new(ConstantLR::new().factor(2.0)),
            "ConstantLR: `factor` must be in [0, 1], found 2.0",
        ),
        (
            Box::new(ConstantLR::new().total_iters(0)),
            "ConstantLR: `total_iters` must be at least 1, found 0",
        ),
        (
            Box::new(PolynomialLR::new().total_iters(0)),
            "PolynomialLR: `total_iters` must be at least 1, found 0",
        ),
        (
            Box::new(PolynomialLR::new().power(-1.0)),
            "PolynomialLR: `power` must be non-negative and finite, found -1.0",
        ),
        (
            Box::new(OneCycleLR::new(0.1, 0)),
            "OneCycleLR: `total_steps` must be at least 1, found 0",
        ),
        (
            Box::new(OneCycleLR::new(-0.1, 10)),
            "OneCycleLR: `max_lr` must be positive and finite, found -0.1",
        ),
        (
            Box::new(OneCycleLR::new(0.1, 10).pct_start(1.5)),
            "OneCycleLR: `pct_start` must be in [0, 1], found 1.5",
        ),
        (
            Box::new(OneCycleLR::new(0.1, 10).div_factor(0.0)),
            "OneCycleLR: `div_factor` must be positive and finite, found 0.0",
        ),
        (
            Box::new(OneCycleLR::new(0.1, 10).final_div_factor(f64::INFINITY)),
            "OneCycleLR: `final_div_factor` must be positive and finite, found inf",
        ),
        (
            Box::new(OneCycleLR::new(0.1, 10).max_momentum(1.0)),
            "OneCycleLR: `max_momentum` must be in [0, 1), found 1.0",
        ),
        (
            Box::new(CyclicLR::new(0.01, 0.1).step_size_up(0)),
            "CyclicLR: `step_size_up` must be at least 1, found 0",
        ),
        (
            Box::new(CyclicLR::new(-0.01, 0.1)),
            "CyclicLR: `base_lr` must be non-negative and finite, found -0.01",
        ),
        (
            Box::new(CyclicLR::new(0.01, 0.1).gamma(0.0)),
            "CyclicLR: `gamma` must be positive and finite, found 0.0",
        ),
        (
            Box::new(CyclicLR::new(0.01, 0.1).base_momentum(-0.5)),
            "CyclicLR: `base_momentum` must be in [0, 1), found -0.5",
        ),
        (
            Box::new(ReduceLROnPlateau::new().factor(1.0)),
            "ReduceLROnPlateau: `factor` must be in [0, 1), found 1.0",
        ),
        (
            Box::new(ReduceLROnPlateau::new().threshold(-1e-4)),
            "ReduceLROnPlateau: `threshold` must be non-negative and finite, found -0.0001",
        ),
        (
            Box::new(ReduceLROnPlateau::new().min_lr(-1.0)),
            "ReduceLROnPlateau: `min_lr` must be non-negative and finite, found -1.0",
        ),
        (
            Box::new(ReduceLROnPlateau::new().eps(f64::NAN)),
            "ReduceLROnPlateau: `eps` must be non-negative and finite, found NaN",
        ),
    ];
    for (s, message) in &cases {
        assert_eq!(error(s.as_ref()), *message);
    }
    // Momentum bounds only matter when the momentum cycles.
    let s = OneCycleLR::new(0.1, 10)
        .cycle_momentum(false)
        .max_momentum(1.0);
    assert_eq!(s.validate(), Ok(()));
}

#[test]
fn sequential_lr_validation() {
    fn warmup() -> Box<dyn Scheduler> {
        Box::new(LinearLR::new())
    }
    let cases: Vec<(SequentialLR, &str)> = vec![
        (
            SequentialLR::new(vec![], []),
            "SequentialLR: `schedulers` must hold at least one scheduler, found 0",
        ),
        (
            SequentialLR::new(vec![warmup(), warmup()], [3, 5]),
            "SequentialLR: `milestones` must hold one fewer value than `schedulers` (2), \
             found 2 ([3, 5])",
        ),
        (
            SequentialLR::new(vec![warmup(), warmup(), warmup()], [5, 3]),
            "SequentialLR: `milestones` must be strictly increasing, found [5, 3]",
        ),
        (
            SequentialLR::new(vec![warmup(), warmup(), warmup()], [3, 3]),
            "SequentialLR: `milestones` must be strictly increasing, found [3, 3]",
        ),
        (
            SequentialLR::new(vec![warmup(), warmup()], [0]),
            "SequentialLR: `milestones` must start at 1 or later, found [0]",
        ),
        (
            SequentialLR::new(vec![warmup(), Box::new(StepLR::new(0, 0.1))], [3]),
            "SequentialLR: `schedulers[1]`: StepLR: `step_size` must be at least 1, found 0",
        ),
    ];
    for (s, message) in &cases {
        assert_eq!(error(s), *message);
    }
}

#[test]
fn invalid_arguments_never_panic_when_run() {
    let all: Vec<Box<dyn Scheduler>> = vec![
        Box::new(StepLR::new(0, 0.5)),
        Box::new(CosineAnnealingLR::new(0)),
        Box::new(CosineAnnealingWarmRestarts::new(0).t_mult(0)),
        Box::new(LinearLR::new().total_iters(0)),
        Box::new(ConstantLR::new().total_iters(0)),
        Box::new(PolynomialLR::new().total_iters(0).power(-1.0)),
        Box::new(OneCycleLR::new(0.1, 0)),
        Box::new(OneCycleLR::new(0.1, 10).pct_start(0.1)),
        Box::new(CyclicLR::new(0.01, 0.1).step_size_up(0)),
        Box::new(SequentialLR::new(vec![], [1, 2])),
    ];
    for mut s in all {
        let _ = s.validate();
        s.start(0.1, Some(0.9));
        for _ in 0..25 {
            s.step(Some(1.0));
        }
    }
}
