//! Every schedule against PyTorch's values, its edge cases, its state
//! round trip and its description.

use super::*;

/// The settings of steps `0..n`: `start` then `n - 1` steps.
fn run(s: &mut dyn Scheduler, momentum: Option<f64>, n: usize) -> Vec<Setting> {
    let mut out = vec![s.start(0.1, momentum)];
    out.extend((1..n).map(|_| s.step(None)));
    out
}

fn lrs(s: &mut dyn Scheduler, n: usize) -> Vec<f64> {
    run(s, None, n).iter().map(|x| x.lr).collect()
}

fn assert_near(found: &[f64], expected: &[f64], tol: f64) {
    assert_eq!(found.len(), expected.len(), "{found:?} vs {expected:?}");
    for (i, (a, b)) in found.iter().zip(expected).enumerate() {
        assert!(
            (a - b).abs() <= tol,
            "index {i}: {a} vs {b}\n{found:?}\n{expected:?}"
        );
    }
}

// Reference values below: torch 2.15, SGD(lr=0.1, momentum=0.9).

#[test]
fn one_cycle_three_phase() {
    let mut s = OneCycleLR::new(0.1, 10).three_phase(true);
    let out = run(&mut s, Some(0.9), 12);
    let lr: Vec<f64> = out.iter().map(|x| x.lr).collect();
    let m: Vec<f64> = out.iter().map(|x| x.momentum.unwrap()).collect();
    #[rustfmt::skip]
    let expected = [
        0.004, 0.052, 0.1, 0.052, 0.004, 0.003618072185, 0.002618172185,
        0.001382227815, 0.000382327815, 4e-7,
        4e-7, 4e-7, // held past the end (PyTorch: 0.000382327815, then an error)
    ];
    assert_near(&lr, &expected, 1e-12);
    let mut expected_m = vec![0.95, 0.9, 0.85, 0.9, 0.95];
    expected_m.resize(12, 0.95);
    assert_near(&m, &expected_m, 1e-12);
}

#[test]
fn one_cycle_linear_holds_instead_of_going_negative() {
    let mut s = OneCycleLR::new(0.1, 10).anneal_strategy(Anneal::Linear);
    let out = run(&mut s, Some(0.9), 13);
    let lr: Vec<f64> = out.iter().map(|x| x.lr).collect();
    let m: Vec<f64> = out.iter().map(|x| x.momentum.unwrap()).collect();
    #[rustfmt::skip]
    let expected = [
        0.004, 0.052, 0.1, 0.085714342857, 0.071428685714, 0.057143028571,
        0.042857371429, 0.028571714286, 0.014286057143, 4e-7,
        4e-7, 4e-7, 4e-7, // PyTorch: -0.014285257143, then an error
    ];
    assert_near(&lr, &expected, 1e-12);
    #[rustfmt::skip]
    let expected_m = [
        0.95, 0.9, 0.85, 0.864285714286, 0.878571428571, 0.892857142857,
        0.907142857143, 0.921428571429, 0.935714285714, 0.95, 0.95, 0.95, 0.95,
    ];
    assert_near(&m, &expected_m, 1e-12);
}

#[test]
fn one_cycle_edge_cases() {
    // total_steps = 1: phase 1 ends before step 0 (PyTorch: 4e-7, 0.95).
    let out = run(&mut OneCycleLR::new(0.1, 1), Some(0.9), 3);
    for x in out {
        assert_near(&[x.lr, x.momentum.unwrap()], &[4e-7, 0.95], 1e-15);
    }
    // A warmup of zero length (PyTorch divides by zero): its end value.
    let lr = lrs(&mut OneCycleLR::new(0.1, 10).pct_start(0.1), 2);
    assert_near(&lr[..1], &[0.1], 1e-15);
    assert!(lr[1] < 0.1 && lr[1] > 0.09);
    // No momentum to cycle, or asked not to.
    assert!(run(&mut OneCycleLR::new(0.1, 10), None, 3)
        .iter()
        .all(|x| x.momentum.is_none()));
    let mut s = OneCycleLR::new(0.1, 10).cycle_momentum(false);
    assert!(run(&mut s, Some(0.9), 3)
        .iter()
        .all(|x| x.momentum.is_none()));
    // Invalid arguments never give a panic, only odd numbers.
    for s in [
        OneCycleLR::new(0.1, 0),
        OneCycleLR::new(0.1, 10).pct_start(2.0).three_phase(true),
        OneCycleLR::new(0.1, 10).pct_start(-1.0),
    ] {
        let mut s = s;
        assert!(s.validate().is_err());
        run(&mut s, Some(0.9), 20);
    }
    assert_eq!(
        OneCycleLR::from_epochs(0.1, 3, 4).describe(),
        OneCycleLR::new(0.1, 12).describe()
    );
}

#[test]
fn cyclic_triangular2_with_step_size_down() {
    let mut s = CyclicLR::new(0.01, 0.1)
        .step_size_up(2)
        .step_size_down(3)
        .mode(CyclicMode::Triangular2);
    let out = run(&mut s, Some(0.9), 16);
    let lr: Vec<f64> = out.iter().map(|x| x.lr).collect();
    let m: Vec<f64> = out.iter().map(|x| x.momentum.unwrap()).collect();
    #[rustfmt::skip]
    let expected = [
        0.01, 0.055, 0.1, 0.07, 0.04, 0.01, 0.0325, 0.055, 0.04, 0.025,
        0.01, 0.02125, 0.0325, 0.025, 0.0175, 0.01,
    ];
    assert_near(&lr, &expected, 1e-12);
    #[rustfmt::skip]
    let expected_m = [
        0.9, 0.85, 0.8, 0.833333333333, 0.866666666667, 0.9, 0.875, 0.85,
        0.866666666667, 0.883333333333, 0.9, 0.8875, 0.875, 0.883333333333,
        0.891666666667, 0.9,
    ];
    assert_near(&m, &expected_m, 1e-12);
}

#[test]
fn cyclic_exp_range() {
    let mut s = CyclicLR::new(0.01, 0.1)
        .step_size_up(2)
        .mode(CyclicMode::ExpRange)
        .gamma(0.9);
    let out = run(&mut s, Some(0.9), 10);
    let lr: Vec<f64> = out.iter().map(|x| x.lr).collect();
    let m: Vec<f64> = out.iter().map(|x| x.momentum.unwrap()).collect();
    #[rustfmt::skip]
    let expected = [
        0.01, 0.0505, 0.0829, 0.042805, 0.01, 0.03657205, 0.05782969,
        0.0315233605, 0.01, 0.027433922005,
    ];
    assert_near(&lr, &expected, 1e-12);
    #[rustfmt::skip]
    let expected_m = [
        0.9, 0.855, 0.819, 0.86355, 0.9, 0.8704755, 0.8468559, 0.876085155,
        0.9, 0.88062897555,
    ];
    assert_near(&m, &expected_m, 1e-12);
}

#[test]
fn cyclic_zero_step_size_never_panics() {
    let mut s = CyclicLR::new(0.01, 0.1).step_size_up(0).step_size_down(0);
    assert!(s.validate().is_err());
    run(&mut s, Some(0.9), 5);
    // step_size_down = 0 is valid: a saw-tooth.
    let mut s = CyclicLR::new(0.0, 0.1).step_size_up(2).step_size_down(0);
    assert_eq!(s.validate(), Ok(()));
    assert_near(&lrs(&mut s, 5), &[0.0, 0.05, 0.0, 0.05, 0.0], 1e-15);
}

#[test]
fn plateau_max_abs_cooldown_min_lr() {
    let mut s = ReduceLROnPlateau::new()
        .mode(PlateauMode::Max)
        .factor(0.5)
        .patience(0)
        .threshold(0.1)
        .threshold_mode(ThresholdMode::Abs)
        .cooldown(2)
        .min_lr(0.02);
    let metrics = [1.0, 1.05, 1.05, 1.2, 1.2, 1.2, 1.2, 1.2, 1.2, 1.2, 1.2];
    let mut lr = vec![s.start(0.1, None).lr];
    lr.extend(metrics.iter().map(|&m| s.step(Some(m)).lr));
    #[rustfmt::skip]
    let expected = [
        0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025, 0.025, 0.02, 0.02, 0.02, 0.02,
    ];
    assert_near(&lr, &expected, 1e-15);
}

#[test]
fn plateau_eps_none_and_nan() {
    // A cut smaller than eps is not applied.
    let mut s = ReduceLROnPlateau::new()
        .factor(0.5)
        .patience(0)
        .min_lr(0.0999)
        .eps(1e-3);
    s.start(0.1, None);
    for _ in 0..4 {
        assert_eq!(s.step(Some(1.0)).lr, 0.1);
    }
    // No metric: nothing changes, not even the count of bad epochs.
    let mut s = ReduceLROnPlateau::new().factor(0.5).patience(1);
    s.start(0.1, None);
    s.step(Some(1.0));
    s.step(Some(2.0));
    for _ in 0..5 {
        assert_eq!(s.step(None).lr, 0.1);
    }
    assert_eq!(s.step(Some(f64::NAN)).lr, 0.05); // NaN is a bad epoch
    assert!(s.needs_metric());
    // start restarts everything.
    assert_eq!(s.start(0.2, None).lr, 0.2);
    assert_eq!(s.step(Some(5.0)).lr, 0.2);
}

#[test]
fn warm_restarts_constant_period() {
    let mut s = CosineAnnealingWarmRestarts::new(2).eta_min(0.01);
    let expected = [0.1, 0.055, 0.1, 0.055, 0.1, 0.055, 0.1];
    assert_near(&lrs(&mut s, 7), &expected, 1e-15);
}

#[test]
fn sequential_three_parts() {
    let mut s = SequentialLR::new(
        vec![
            Box::new(ConstantLR::new().factor(0.5).total_iters(2)),
            Box::new(ExponentialLR::new(0.9)),
            Box::new(StepLR::new(2, 0.5)),
        ],
        [2, 5],
    );
    assert_eq!(s.validate(), Ok(()));
    #[rustfmt::skip]
    let expected = [0.05, 0.05, 0.1, 0.09, 0.081, 0.1, 0.1, 0.05, 0.05, 0.025];
    assert_near(&lrs(&mut s, 10), &expected, 1e-15);
    assert_eq!(s.interval(), Interval::Epoch);
    assert!(!s.needs_metric());
}

#[test]
fn sequential_passes_momentum_and_metric() {
    let mut s = SequentialLR::new(
        vec![
            Box::new(OneCycleLR::new(0.1, 3)),
            Box::new(ReduceLROnPlateau::new().patience(0)),
        ],
        [3],
    );
    assert_eq!(s.interval(), Interval::Iteration);
    assert!(s.needs_metric());
    assert!(s.start(0.5, Some(0.9)).momentum.is_some());
    s.step(None);
    s.step(None);
    // Step 3: the plateau part starts from the base lr.
    assert_eq!(s.step(None), Setting::lr(0.5));
    assert_eq!(s.step(Some(1.0)).lr, 0.5);
    assert_near(&[s.step(Some(1.0)).lr], &[0.05], 1e-15);
}

#[test]
fn sequential_invalid_never_panics() {
    type Parts = Vec<Box<dyn Scheduler>>;
    let cases: Vec<(Parts, Vec<usize>)> = vec![
        (vec![], vec![]),
        (vec![], vec![1, 2]),
        (vec![Box::new(StepLR::new(1, 0.5))], vec![0, 0]),
        (
            vec![Box::new(StepLR::new(1, 0.5)), Box::new(StepLR::new(1, 0.5))],
            vec![],
        ),
        (
            vec![Box::new(StepLR::new(1, 0.5)), Box::new(StepLR::new(1, 0.5))],
            vec![0],
        ),
    ];
    for (schedulers, milestones) in cases {
        let mut s = SequentialLR::new(schedulers, milestones);
        assert!(s.validate().is_err(), "{}", s.describe());
        run(&mut s, None, 6);
    }
}

#[test]
fn multistep_unsorted_and_repeated() {
    let mut s = MultiStepLR::new([5, 2, 2], 0.5);
    let expected = [0.1, 0.1, 0.025, 0.025, 0.025, 0.0125, 0.0125];
    assert_near(&lrs(&mut s, 7), &expected, 1e-15);
    assert_eq!(s.describe(), "MultiStepLR(milestones=[2, 2, 5], gamma=0.5)");
}

#[test]
fn polynomial_lambda_cosine() {
    let mut s = PolynomialLR::new().total_iters(4).power(0.5);
    let expected = [0.1, 0.086602540378, 0.070710678119, 0.05, 0.0, 0.0];
    assert_near(&lrs(&mut s, 6), &expected, 1e-12);
    let mut s = LambdaLR::new(|t| 1.0 / (t + 1) as f64);
    let expected = [0.1, 0.05, 0.033333333333, 0.025];
    assert_near(&lrs(&mut s, 4), &expected, 1e-12);
    let mut s = CosineAnnealingLR::new(3);
    let expected = [0.1, 0.075, 0.025, 0.0, 0.025, 0.075, 0.1, 0.075];
    assert_near(&lrs(&mut s, 8), &expected, 1e-12);
}

#[test]
fn restart_and_step_before_start() {
    let mut s = StepLR::new(1, 0.5);
    assert_eq!(s.step(None).lr, 0.0);
    run(&mut s, None, 5);
    assert_eq!(lrs(&mut s, 3), [0.1, 0.05, 0.025]);
}

/// A validation loss that improves, stalls and improves again.
fn plateau_metric(i: usize) -> Option<f64> {
    Some([1.0, 0.9, 0.95, 0.95, 0.95, 0.8, 0.85, 0.85, 0.85, 0.85][i % 10])
}

/// Runs `make()` for `k` steps, restores its state into a fresh
/// `make()`, and checks that both then give the same settings for 12
/// more steps, bit for bit.
fn resumes_identically(make: &dyn Fn() -> Box<dyn Scheduler>, momentum: Option<f64>, k: usize) {
    let mut original = make();
    original.start(0.1, momentum);
    for i in 1..=k {
        original.step(plateau_metric(i));
    }
    let state = original.state();
    let name = original.describe();
    let mut resumed = make();
    resumed
        .load_state(&state)
        .unwrap_or_else(|e| panic!("{name} at step {k}: {e}"));
    assert_eq!(resumed.state(), state, "{name} at step {k}");
    for i in k + 1..=k + 12 {
        let (a, b) = (
            original.step(plateau_metric(i)),
            resumed.step(plateau_metric(i)),
        );
        assert_eq!(a.lr.to_bits(), b.lr.to_bits(), "{name}: {k} then {i}");
        assert_eq!(
            a.momentum.map(f64::to_bits),
            b.momentum.map(f64::to_bits),
            "{name}: {k} then {i}"
        );
    }
}

#[test]
fn every_schedule_restored_mid_way_continues_with_the_same_values() {
    type Make = Box<dyn Fn() -> Box<dyn Scheduler>>;
    let all: Vec<(Make, Option<f64>)> = vec![
        (Box::new(|| Box::new(StepLR::new(2, 0.5))), None),
        (
            Box::new(|| Box::new(MultiStepLR::new(vec![3, 6], 0.5))),
            None,
        ),
        (Box::new(|| Box::new(ExponentialLR::new(0.9))), None),
        (
            Box::new(|| Box::new(CosineAnnealingLR::new(5).eta_min(0.001))),
            None,
        ),
        (
            Box::new(|| Box::new(CosineAnnealingWarmRestarts::new(2).t_mult(2))),
            None,
        ),
        (Box::new(|| Box::new(LinearLR::new())), None),
        (Box::new(|| Box::new(ConstantLR::new())), None),
        (Box::new(|| Box::new(PolynomialLR::new().power(2.0))), None),
        (
            Box::new(|| Box::new(LambdaLR::new(|t| 0.9f64.powi(t as i32)))),
            None,
        ),
        (Box::new(|| Box::new(OneCycleLR::new(0.1, 20))), Some(0.9)),
        (
            Box::new(|| {
                Box::new(
                    CyclicLR::new(0.01, 0.1)
                        .step_size_up(3)
                        .mode(CyclicMode::Triangular2),
                )
            }),
            Some(0.9),
        ),
        (
            Box::new(|| Box::new(ReduceLROnPlateau::new().patience(1).cooldown(1).factor(0.5))),
            None,
        ),
        (
            Box::new(|| {
                Box::new(SequentialLR::new(
                    vec![
                        Box::new(LinearLR::new().total_iters(3)),
                        Box::new(ReduceLROnPlateau::new().patience(1).factor(0.5)),
                        Box::new(OneCycleLR::new(0.1, 10)),
                    ],
                    [3, 8],
                ))
            }),
            Some(0.9),
        ),
    ];
    for (make, momentum) in &all {
        // Before the first step, on a milestone, between them, far on.
        for k in [0, 1, 3, 4, 7, 8, 9, 25] {
            resumes_identically(make, *momentum, k);
        }
        // A state is untrusted input: any value it accepts, a count far
        // beyond usize::MAX included, steps on without a panic.
        let mut fresh = make();
        fresh.start(0.1, *momentum);
        let state = fresh.state();
        for j in 0..state.len() {
            for huge in [1e300, 18446744073709551615.0] {
                let mut edited = state.clone();
                edited[j] = huge;
                let mut s = make();
                if s.load_state(&edited).is_ok() {
                    for i in 0..3 {
                        s.step(plateau_metric(i));
                    }
                }
            }
        }
    }
}

#[test]
fn load_state_reports_bad_states_and_changes_nothing() {
    let mut s = StepLR::new(2, 0.5);
    s.start(0.1, None);
    s.step(None);
    let before = s.state();
    let problem = |p: StateProblem| Err(StateError::new("StepLR", p));
    let layout = "base_lr, t";
    assert_eq!(
        s.load_state(&[0.1]),
        problem(StateProblem::Layout {
            layout,
            expected: 2,
            found: 1
        })
    );
    let err = s.load_state(&[0.1, 1.5]).unwrap_err();
    assert!(matches!(
        &err.problems[..],
        [StateProblem::OutOfRange { name, index: None, value: 1.5, .. }] if name == "t"
    ));
    assert_eq!(
        err.to_string(),
        "cannot load the StepLR state: `t` must be a whole number, found 1.5"
    );
    assert_eq!(
        s.load_state(&[f64::NAN, 1.0]).unwrap_err().to_string(),
        "cannot load the StepLR state: `base_lr` must be finite, found NaN"
    );
    assert_eq!(s.state(), before);

    let mut plateau = ReduceLROnPlateau::new();
    plateau.start(0.1, None);
    assert!(plateau.load_state(&[0.1, f64::NAN, 0.0, 0.0]).is_err());
    assert!(plateau.load_state(&[0.1, 1.0, -1.0, 0.0]).is_err());
    assert_eq!(plateau.state(), [0.1, f64::INFINITY, 0.0, 0.0]);

    let mut cycle = OneCycleLR::new(0.1, 10);
    assert_eq!(
        cycle.load_state(&[0.5, 1.0]).unwrap_err().to_string(),
        "cannot load the OneCycleLR state: `has_momentum` must be 0 or 1, found 0.5"
    );

    let make = || {
        SequentialLR::new(
            vec![Box::new(LinearLR::new()), Box::new(StepLR::new(1, 0.5))],
            [2],
        )
    };
    let mut seq = make();
    seq.start(0.1, None);
    let mut state = seq.state();
    assert_eq!(state, [0.0, 0.1, 0.0, 0.0, 0.0, 0.1, 0.0]);
    state[4] = 1.0;
    let err = make().load_state(&state).unwrap_err().to_string();
    assert_eq!(
        err,
        "cannot load the SequentialLR state: a state at step 0 has schedule 0 active \
         (milestones [2]), found index 1"
    );
    let mut seq = make();
    let err = seq.load_state(&[0.0, 0.1, 0.0, 0.0, 0.0, 0.1]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "cannot load the LinearLR (`schedulers[0]` of SequentialLR) state: a state holds 2 \
         values (base_lr, t), found 1"
    );
    assert_eq!(seq.state(), make().state());
    assert!(make().load_state(&[1.0]).is_err());
}

/// A schedule written elsewhere cannot be resumed silently wrong.
#[test]
fn a_schedule_without_state_refuses_to_resume() {
    struct Constant;
    impl Scheduler for Constant {
        fn start(&mut self, lr: f64, _: Option<f64>) -> Setting {
            Setting::lr(lr)
        }
        fn step(&mut self, _: Option<f64>) -> Setting {
            Setting::lr(0.1)
        }
        fn describe(&self) -> String {
            "Constant".to_string()
        }
    }
    assert!(Constant.state().is_empty());
    assert_eq!(
        Constant.load_state(&[]),
        Err(StateError::new("Constant", StateProblem::NotSaved))
    );
    // Inside a sequence, the error names the part.
    let mut seq = SequentialLR::new(vec![Box::new(Constant)], []);
    let err = seq.load_state(&seq.state()).unwrap_err();
    assert_eq!(err.owner, "Constant (`schedulers[0]` of SequentialLR)");
    assert_eq!(err.problems, [StateProblem::NotSaved]);
}

#[test]
fn defaults_are_valid_and_described() {
    let all: Vec<Box<dyn Scheduler>> = vec![
        Box::new(StepLR::new(30, 0.1)),
        Box::new(MultiStepLR::new(vec![30, 80], 0.1)),
        Box::new(ExponentialLR::new(0.9)),
        Box::new(CosineAnnealingLR::new(10)),
        Box::new(CosineAnnealingWarmRestarts::new(10)),
        Box::new(LinearLR::new()),
        Box::new(ConstantLR::new()),
        Box::new(PolynomialLR::new()),
        Box::new(LambdaLR::new(|_| 1.0)),
        Box::new(OneCycleLR::new(0.1, 100)),
        Box::new(CyclicLR::new(0.001, 0.1)),
        Box::new(ReduceLROnPlateau::new()),
    ];
    for s in &all {
        assert_eq!(s.validate(), Ok(()), "{}", s.describe());
    }
    let described: Vec<String> = all.iter().map(|s| s.describe()).collect();
    assert_eq!(described[0], "StepLR(step_size=30, gamma=0.1)");
    assert_eq!(
        described[4],
        "CosineAnnealingWarmRestarts(T_0=10, T_mult=1, eta_min=0.0)"
    );
    assert_eq!(
        described[9],
        "OneCycleLR(max_lr=0.1, total_steps=100, pct_start=0.3, anneal_strategy='cos', \
         cycle_momentum=True, base_momentum=0.85, max_momentum=0.95, div_factor=25.0, \
         final_div_factor=10000.0, three_phase=False)"
    );
    assert_eq!(
        described[11],
        "ReduceLROnPlateau(mode='min', factor=0.1, patience=10, threshold=0.0001, \
         threshold_mode='rel', cooldown=0, min_lr=0.0, eps=1e-8)"
    );
    let intervals: Vec<Interval> = all.iter().map(|s| s.interval()).collect();
    assert_eq!(intervals[9], Interval::Iteration);
    assert_eq!(intervals[10], Interval::Iteration);
    assert!(intervals[..9].iter().all(|&i| i == Interval::Epoch));
}
