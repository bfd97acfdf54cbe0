//! Every optimizer against PyTorch's values, its state round trip and
//! its threads.

use super::*;
use crate::StateProblem;

/// Updates of a parameter long enough to be split across threads give
/// the bits of one thread, for every optimizer and option that adds a
/// state buffer.
#[test]
fn split_updates_equal_one_thread() {
    let n = (1 << 16) + 333;
    let grad = |step: usize| -> Vec<f32> {
        (0..n)
            .map(|i| ((i * 7 + step * 13) % 101) as f32 / 50.0 - 1.0)
            .collect()
    };
    let start = |i: usize| (i % 17) as f32 / 8.0 - 1.0;
    let run = |opt: &mut dyn Optimizer<f32>, threads: usize| -> Vec<u32> {
        crate::parallel::with_threads(threads, || {
            let mut p: Vec<f32> = (0..n).map(start).collect();
            for step in 0..3 {
                opt.update(0, &mut p, &grad(step));
            }
            p.iter().map(|v| v.to_bits()).collect()
        })
    };
    type Make = Box<dyn Fn() -> Box<dyn Optimizer<f32>>>;
    let makers: Vec<(&str, Make)> = vec![
        (
            "SGD momentum nesterov",
            Box::new(move || {
                Box::new(SGD::new(
                    SGDConfig {
                        lr: 0.1,
                        momentum: 0.9,
                        nesterov: true,
                        weight_decay: 0.01,
                        ..SGDConfig::default()
                    },
                    &[n],
                ))
            }),
        ),
        (
            "AdamW amsgrad",
            Box::new(move || {
                Box::new(Adam::new(
                    AdamConfig {
                        amsgrad: true,
                        ..AdamConfig::adamw()
                    },
                    &[n],
                ))
            }),
        ),
        (
            "RMSprop centered momentum",
            Box::new(move || {
                Box::new(RMSprop::new(
                    RMSpropConfig {
                        centered: true,
                        momentum: 0.5,
                        ..RMSpropConfig::default()
                    },
                    &[n],
                ))
            }),
        ),
        (
            "Adagrad",
            Box::new(move || Box::new(Adagrad::new(AdagradConfig::default(), &[n]))),
        ),
    ];
    for (name, make) in makers {
        let one = run(&mut *make(), 1);
        let two = run(&mut *make(), 2);
        assert_eq!(one.len(), n);
        assert!(one == two, "{name}: 2 threads differ from 1");
        // The parameter moved: the comparison is not of untouched data.
        assert!(one[5] != start(5).to_bits(), "{name}");
    }
}

/// Runs three hand-fed steps from theta0 = [1, -2]; the `*_golden` tests
/// below compare them with PyTorch's trajectories.
fn run(opt: &mut dyn Optimizer<f64>, grads: &[[f64; 2]; 3]) -> Vec<[f64; 2]> {
    let mut p = [1.0, -2.0];
    grads
        .iter()
        .map(|g| {
            opt.update(0, &mut p, g);
            p
        })
        .collect()
}

const G: [[f64; 2]; 3] = [[0.5, -1.0], [0.1, 0.3], [-0.4, 0.2]];
const G2: [[f64; 2]; 3] = [[0.5, -1.0], [0.0, 0.0], [0.0, 0.0]];

#[track_caller]
fn close(got: &[[f64; 2]], want: &[[f64; 2]]) {
    for (g, w) in got.iter().zip(want) {
        for k in 0..2 {
            assert!((g[k] - w[k]).abs() < 1e-9, "got {got:?}, want {want:?}");
        }
    }
}

fn sgd(config: SGDConfig) -> SGD<f64> {
    SGD::new(config, &[2])
}

fn adam(config: AdamConfig) -> Adam<f64> {
    Adam::new(config, &[2])
}

#[test]
fn sgd_golden() {
    let base = SGDConfig {
        lr: 0.1,
        ..SGDConfig::default()
    };
    close(
        &run(&mut sgd(base), &G),
        &[[0.95, -1.9], [0.94, -1.93], [0.98, -1.95]],
    );
    let mom = SGDConfig {
        momentum: 0.9,
        ..base
    };
    close(
        &run(&mut sgd(mom), &G),
        &[[0.95, -1.9], [0.895, -1.84], [0.8855, -1.806]],
    );
    let damp = SGDConfig {
        dampening: 0.5,
        ..mom
    };
    close(
        &run(&mut sgd(damp), &G),
        &[[0.95, -1.9], [0.9, -1.825], [0.875, -1.7675]],
    );
    let nest = SGDConfig {
        nesterov: true,
        weight_decay: 0.01,
        ..mom
    };
    close(
        &run(&mut sgd(nest), &G),
        &[
            [0.9031, -1.8062],
            [0.84107411, -1.77714822],
            [0.8694655582, -1.7602506164],
        ],
    );
}

#[test]
fn adam_golden() {
    let base = AdamConfig {
        lr: 0.1,
        ..AdamConfig::default()
    };
    close(
        &run(&mut adam(base), &G),
        &[
            [0.900000002, -1.900000001],
            [0.8196959064, -1.8572151424],
            [0.8103259664, -1.8367640907],
        ],
    );
    close(
        &run(
            &mut adam(AdamConfig {
                weight_decay: 0.1,
                ..base
            }),
            &G,
        ),
        &[
            [0.9000000017, -1.9000000008],
            [0.8136483454, -1.8400703555],
            [0.7829837791, -1.7945972463],
        ],
    );
    let adamw = AdamConfig {
        lr: 0.1,
        ..AdamConfig::adamw()
    };
    close(
        &run(&mut adam(adamw), &G),
        &[
            [0.899000002, -1.898000001],
            [0.8177969064, -1.8533171424],
            [0.8076091694, -1.8310127736],
        ],
    );
    close(
        &run(
            &mut adam(AdamConfig {
                weight_decay: 0.1,
                ..adamw
            }),
            &G,
        ),
        &[
            [0.890000002, -1.880000001],
            [0.8007959064, -1.8184151424],
            [0.7834180073, -1.7797799393],
        ],
    );
    close(
        &run(&mut adam(base), &G2),
        &[
            [0.900000002, -1.900000001],
            [0.8329941785, -1.8329941765],
            [0.781198483, -1.7811984802],
        ],
    );
    close(
        &run(
            &mut adam(AdamConfig {
                amsgrad: true,
                ..base
            }),
            &G2,
        ),
        &[
            [0.900000002, -1.900000001],
            [0.8330276898, -1.8330276878],
            [0.78128379, -1.7812837872],
        ],
    );
}

fn rmsprop(config: RMSpropConfig) -> RMSprop<f64> {
    RMSprop::new(config, &[2])
}

fn adagrad(config: AdagradConfig) -> Adagrad<f64> {
    Adagrad::new(config, &[2])
}

#[test]
fn rmsprop_golden() {
    let base = RMSpropConfig {
        lr: 0.01,
        ..RMSpropConfig::default()
    };
    close(
        &run(&mut rmsprop(base), &G),
        &[
            [0.90000002, -1.90000001],
            [0.8802934383, -1.9288675207],
            [0.9423910822, -1.9478575233],
        ],
    );
    close(
        &run(
            &mut rmsprop(RMSpropConfig {
                momentum: 0.9,
                centered: true,
                ..base
            }),
            &G,
        ),
        &[
            [0.8994962387, -1.8994962286],
            [0.7891993904, -1.8379741849],
            [0.7520566322, -1.8016143581],
        ],
    );
}

/// The variants and options `rmsprop_golden` leaves out, against torch 2.15 in
/// float64 (`torch.optim.RMSprop` with these settings, same inputs).
#[test]
fn rmsprop_every_option() {
    let lr = RMSpropConfig {
        lr: 0.01,
        ..RMSpropConfig::default()
    };
    close(
        &run(
            &mut rmsprop(RMSpropConfig {
                centered: true,
                ..lr
            }),
            &G,
        ),
        &[
            [0.899496238676, -1.89949622858],
            [0.879652775555, -1.9284275792],
            [0.941777180899, -1.94743759171],
        ],
    );
    close(
        &run(
            &mut rmsprop(RMSpropConfig {
                alpha: 0.9,
                eps: 1e-6,
                weight_decay: 0.1,
                momentum: 0.5,
                ..lr
            }),
            &G,
        ),
        &[
            [0.968377390064, -1.96837730673],
            [0.94223120808, -1.95541987687],
            [0.94407895959, -1.94907115994],
        ],
    );
    close(
        &run(
            &mut rmsprop(RMSpropConfig {
                alpha: 0.8,
                weight_decay: 0.05,
                momentum: 0.3,
                centered: true,
                ..lr
            }),
            &G,
        ),
        &[
            [0.975000001136, -1.97500000057],
            [0.959963911327, -1.97220097121],
            [0.969105707068, -1.97393147198],
        ],
    );
}

#[test]
fn adagrad_golden() {
    let base = AdagradConfig {
        lr: 0.1,
        ..AdagradConfig::default()
    };
    close(
        &run(&mut adagrad(base), &G),
        &[
            [0.9, -1.9],
            [0.8803883865, -1.9287347886],
            [0.9421097265, -1.9475492059],
        ],
    );
    close(
        &run(
            &mut adagrad(AdagradConfig {
                lr_decay: 0.5,
                initial_accumulator_value: 0.1,
                ..base
            }),
            &G,
        ),
        &[
            [0.9154845745, -1.9046537411],
            [0.9043734634, -1.922987711],
            [0.9321084732, -1.9320044074],
        ],
    );
}

/// Every option at once, against torch 2.15 in float64.
#[test]
fn adagrad_every_option() {
    let config = AdagradConfig {
        lr: 0.05,
        lr_decay: 0.1,
        weight_decay: 0.2,
        initial_accumulator_value: 0.3,
        eps: 1e-3,
    };
    close(
        &run(&mut adagrad(config), &G),
        &[
            [0.960666177475, -1.9534676455],
            [0.946488486517, -1.95073223659],
            [0.955633272188, -1.94551652182],
        ],
    );
}

#[test]
fn defaults_are_pytorchs() {
    let r = RMSpropConfig::default();
    assert_eq!(
        (r.lr, r.alpha, r.eps, r.weight_decay, r.momentum, r.centered),
        (1e-2, 0.99, 1e-8, 0.0, 0.0, false)
    );
    let a = AdagradConfig::default();
    assert_eq!(
        (
            a.lr,
            a.lr_decay,
            a.weight_decay,
            a.initial_accumulator_value,
            a.eps
        ),
        (1e-2, 0.0, 0.0, 0.0, 1e-10)
    );
    assert_eq!(Optimizer::<f64>::momentum(&rmsprop(r)), Some(0.0));
    assert_eq!(Optimizer::<f64>::momentum(&adagrad(a)), None);
}

/// The f32 path matches torch 2.15's float32 run to 1e-5 relative.
#[test]
fn f32_matches_torch_float32() {
    let mut p = [1.0_f32, -2.0];
    let mut opt = RMSprop::<f32>::new(
        RMSpropConfig {
            lr: 0.01,
            momentum: 0.9,
            centered: true,
            ..RMSpropConfig::default()
        },
        &[2],
    );
    for g in G {
        opt.update(0, &mut p, &[g[0] as f32, g[1] as f32]);
    }
    for (got, want) in p.iter().zip([0.752056658268, -1.80161440372]) {
        assert!((*got as f64 - want).abs() <= 1e-5 * want.abs(), "{p:?}");
    }
    let mut p = [1.0_f32, -2.0];
    let mut opt = Adagrad::<f32>::new(
        AdagradConfig {
            lr: 0.1,
            lr_decay: 0.5,
            initial_accumulator_value: 0.1,
            ..AdagradConfig::default()
        },
        &[2],
    );
    for g in G {
        opt.update(0, &mut p, &[g[0] as f32, g[1] as f32]);
    }
    for (got, want) in p.iter().zip([0.932108402252, -1.93200445175]) {
        assert!((*got as f64 - want).abs() <= 1e-5 * want.abs(), "{p:?}");
    }
}

/// A scheduler may raise RMSprop's momentum from 0: the buffer then
/// starts at zeros, as if it had been there all along.
#[test]
fn rmsprop_momentum_raised_later_starts_from_zeros() {
    let base = RMSpropConfig {
        lr: 0.01,
        ..RMSpropConfig::default()
    };
    let mut raised = rmsprop(base);
    let mut always = rmsprop(RMSpropConfig {
        momentum: 0.5,
        ..base
    });
    let (mut p, mut q) = ([1.0, -2.0], [1.0, -2.0]);
    Optimizer::set_momentum(&mut raised, 0.5);
    always.update(0, &mut q, &G[0]);
    raised.update(0, &mut p, &G[0]);
    assert_eq!(p, q);
}

/// Adagrad counts steps per parameter (its `lr_decay` reads the count).
#[test]
fn adagrad_counts_steps_per_parameter() {
    let config = AdagradConfig {
        lr: 0.1,
        lr_decay: 0.5,
        ..AdagradConfig::default()
    };
    let mut opt = Adagrad::<f64>::new(config, &[1, 1]);
    let (mut a, mut b) = ([1.0], [1.0]);
    opt.update(0, &mut a, &[0.5]);
    opt.update(0, &mut a, &[0.5]);
    opt.update(1, &mut b, &[0.5]);
    // Parameter 1's first step uses the undecayed lr: 1 - 0.1 * 0.5 / 0.5.
    assert!((b[0] - 0.9).abs() < 1e-9);
}

/// Two parameters of 3 and 2 values and a seeded gradient per step.
fn gradients(step: usize) -> [Vec<f32>; 2] {
    let mut rng = crate::Rng::new(100 + step as u64);
    let mut draw = |n: usize| (0..n).map(|_| rng.normal() as f32).collect();
    [draw(3), draw(2)]
}

/// Runs `make()` for 4 steps (changing lr and momentum after the
/// third, as a schedule would), loads its state into a fresh
/// `make()`, and checks that both then take the same 4 steps, bit for
/// bit.
fn resumes_bit_identically<O: Optimizer<f32>>(make: impl Fn() -> O) {
    let mut original = make();
    let mut params = [vec![0.5_f32, -1.0, 2.0], vec![0.25, -0.75]];
    for step in 0..4 {
        if step == 3 {
            original.set_learning_rate(original.learning_rate() * 0.5);
            if let Some(m) = original.momentum() {
                original.set_momentum(m * 0.5);
            }
        }
        for (i, g) in gradients(step).iter().enumerate() {
            original.update(i, &mut params[i], g);
        }
    }
    let state = original.state();
    let mut resumed = make();
    assert_ne!(resumed.state(), state, "the test must move the state");
    resumed.load_state(&state).unwrap();
    assert_eq!(resumed.state(), state);
    assert_eq!(resumed.learning_rate(), original.learning_rate());
    assert_eq!(resumed.momentum(), original.momentum());
    // The entries may come in any order.
    let mut reversed = state.clone();
    reversed.reverse();
    let mut resumed_reversed = make();
    resumed_reversed.load_state(&reversed).unwrap();
    assert_eq!(resumed_reversed.state(), state);

    let mut copy = params.clone();
    for step in 4..8 {
        for (i, g) in gradients(step).iter().enumerate() {
            original.update(i, &mut params[i], g);
            resumed.update(i, &mut copy[i], g);
        }
        let bits =
            |p: &[Vec<f32>; 2]| -> Vec<u32> { p.iter().flatten().map(|x| x.to_bits()).collect() };
        assert_eq!(bits(&params), bits(&copy), "step {step}");
    }
    assert_eq!(resumed.state(), original.state());
}

#[test]
fn sgd_momentum_resumes_bit_identically() {
    let config = SGDConfig {
        lr: 0.1,
        momentum: 0.9,
        dampening: 0.1,
        weight_decay: 0.01,
        ..SGDConfig::default()
    };
    resumes_bit_identically(|| SGD::<f32>::new(config, &[3, 2]));
    let nesterov = SGDConfig {
        nesterov: true,
        dampening: 0.0,
        ..config
    };
    resumes_bit_identically(|| SGD::<f32>::new(nesterov, &[3, 2]));
}

#[test]
fn adam_amsgrad_and_adamw_resume_bit_identically() {
    let amsgrad = AdamConfig {
        lr: 0.01,
        amsgrad: true,
        weight_decay: 0.1,
        ..AdamConfig::default()
    };
    resumes_bit_identically(|| Adam::<f32>::new(amsgrad, &[3, 2]));
    let adamw = AdamConfig {
        lr: 0.01,
        ..AdamConfig::adamw()
    };
    resumes_bit_identically(|| Adam::<f32>::new(adamw, &[3, 2]));
}

#[test]
fn rmsprop_centered_momentum_resumes_bit_identically() {
    let config = RMSpropConfig {
        lr: 0.01,
        momentum: 0.9,
        centered: true,
        weight_decay: 0.05,
        ..RMSpropConfig::default()
    };
    resumes_bit_identically(|| RMSprop::<f32>::new(config, &[3, 2]));
}

#[test]
fn adagrad_resumes_bit_identically() {
    let config = AdagradConfig {
        lr: 0.1,
        lr_decay: 0.01,
        initial_accumulator_value: 0.1,
        ..AdagradConfig::default()
    };
    resumes_bit_identically(|| Adagrad::<f32>::new(config, &[3, 2]));
}

#[test]
fn f64_state_round_trips_exactly() {
    let mut adam = Adam::<f64>::new(AdamConfig::default(), &[2]);
    let mut p = [1.0, -2.0];
    for g in G {
        adam.update(0, &mut p, &g);
    }
    let mut resumed = Adam::<f64>::new(AdamConfig::default(), &[2]);
    resumed.load_state(&adam.state()).unwrap();
    let mut q = p;
    adam.update(0, &mut p, &[0.3, 0.1]);
    resumed.update(0, &mut q, &[0.3, 0.1]);
    assert_eq!(p.map(f64::to_bits), q.map(f64::to_bits));
}

#[test]
fn load_state_reports_every_problem_and_changes_nothing() {
    let config = AdamConfig {
        amsgrad: false,
        ..AdamConfig::default()
    };
    let mut adam = Adam::<f32>::new(config, &[2, 1]);
    adam.update(0, &mut [1.0, 2.0], &[0.5, 0.5]);
    let before = adam.state();
    let mut state = before.clone();
    state.retain(|(name, _)| name != "1.exp_avg_sq");
    for (name, values) in &mut state {
        match name.as_str() {
            "lr" => values[0] = f64::NAN,
            "0.step" => values[0] = 1.5,
            "0.exp_avg" => values.push(0.0),
            "1.exp_avg" => values[0] = 0.1, // not an f32
            _ => {}
        }
    }
    state.push(("0.max_exp_avg_sq".to_string(), vec![0.0, 0.0]));
    state.push(("lr".to_string(), vec![0.1]));
    let typed = adam.load_state(&state).unwrap_err();
    assert_eq!(typed.owner, "Adam");
    let problem = |name: &str| typed.problems.iter().find(|p| p.to_string().contains(name));
    assert!(
        matches!(problem("`lr` is given"), Some(StateProblem::Repeated { name }) if name == "lr")
    );
    assert!(matches!(
        problem("`0.exp_avg` has"),
        Some(StateProblem::Length {
            expected: 2,
            found: 3,
            ..
        })
    ));
    assert!(matches!(
        problem("`1.exp_avg` holds"),
        Some(StateProblem::Inexact {
            index: 0,
            dtype: "f32",
            ..
        })
    ));
    assert!(matches!(
        problem("`1.exp_avg_sq`"),
        Some(StateProblem::Missing { .. })
    ));
    assert_eq!(typed.problems.len(), 7, "{typed}");
    let err = typed.to_string();
    for part in [
        "cannot load the Adam state",
        "`lr` is given more than once",
        "`lr` must be a finite number >= 0, found NaN",
        "`0.step` must be a whole number of steps, found 1.5",
        "`0.exp_avg` has 3 values, expected 2",
        "`1.exp_avg` holds 0.1 at index 0, which f32 cannot represent exactly",
        "`1.exp_avg_sq` is missing",
        "unexpected entry `0.max_exp_avg_sq`",
    ] {
        assert!(err.contains(part), "{part:?} not in {err}");
    }
    assert_eq!(adam.state(), before);

    // Another optimizer's state names what it lacks.
    let mut sgd = SGD::<f32>::new(SGDConfig::default(), &[2, 1]);
    let err = sgd.load_state(&before).unwrap_err().to_string();
    assert!(
        err.starts_with("cannot load the SGD state: `momentum` is missing"),
        "{err}"
    );
    assert!(err.contains("unexpected entry `beta1`"), "{err}");
    assert!(err.contains("unexpected entry `0.exp_avg`"), "{err}");
}

#[test]
fn a_state_loads_only_into_the_same_declaration_and_within_its_ranges() {
    // SGD(0.01) saved, SGD(0.01, momentum = 0.9) declared: refused, not
    // resumed without its momentum.
    let plain = SGD::<f64>::new(
        SGDConfig {
            lr: 0.01,
            ..SGDConfig::default()
        },
        &[2],
    );
    let with_momentum = SGDConfig {
        lr: 0.01,
        momentum: 0.9,
        ..SGDConfig::default()
    };
    let mut sgd = SGD::<f64>::new(with_momentum, &[2]);
    let err = sgd.load_state(&plain.state()).unwrap_err().to_string();
    assert!(
        err.contains(
            "the state was saved by an optimizer declared with momentum = 0.0, this one is \
             declared with momentum = 0.9"
        ),
        "{err}"
    );
    assert_eq!(sgd.config, with_momentum);

    // Values a declaration could not hold, each refused.
    let set = |state: &mut Vec<(String, Vec<f64>)>, key: &str, value: f64| {
        let entry = state.iter_mut().find(|(name, _)| name == key).unwrap();
        entry.1[0] = value;
    };
    let mut adam = Adam::<f64>::new(AdamConfig::default(), &[2]);
    adam.update(0, &mut [1.0, 2.0], &[0.5, -0.5]);
    let before = adam.state();
    for (key, value, message) in [
        ("lr", -0.1, "`lr` must be a finite number >= 0, found -0.1"),
        ("beta1", 1.0, "`beta1` must be in [0, 1), found 1.0"),
        (
            "0.exp_avg",
            f64::NAN,
            "`0.exp_avg` holds NaN at index 0, expected finite",
        ),
        (
            "0.exp_avg_sq",
            -1.0,
            "`0.exp_avg_sq` holds -1.0 at index 0, expected a finite number >= 0",
        ),
        (
            "declared.eps",
            1e-6,
            "declared with eps = 1e-6, this one is declared with eps = 1e-8",
        ),
    ] {
        let mut state = before.clone();
        set(&mut state, key, value);
        let err = adam.load_state(&state).unwrap_err().to_string();
        assert!(err.contains(message), "{key}: {err}");
        assert_eq!(adam.state(), before);
    }
    let mut nesterov = SGD::<f64>::new(
        SGDConfig {
            momentum: 0.9,
            nesterov: true,
            ..SGDConfig::default()
        },
        &[1],
    );
    let mut state = nesterov.state();
    set(&mut state, "momentum", 0.0);
    let err = nesterov.load_state(&state).unwrap_err().to_string();
    assert!(
        err.contains("`momentum` must be a finite number > 0, found 0.0"),
        "{err}"
    );
}

#[test]
fn state_names_follow_pytorch() {
    let names = |state: Vec<(String, Vec<f64>)>| -> Vec<String> {
        state.into_iter().map(|(name, _)| name).collect()
    };
    let mut sgd = SGD::<f64>::new(
        SGDConfig {
            momentum: 0.9,
            ..SGDConfig::default()
        },
        &[2, 2],
    );
    // No buffer before the first step, as in PyTorch.
    let declared = |state: Vec<(String, Vec<f64>)>| -> Vec<String> {
        state
            .into_iter()
            .filter_map(|(name, _)| name.strip_prefix("declared.").map(str::to_string))
            .collect()
    };
    let own = |state: Vec<(String, Vec<f64>)>| -> Vec<String> {
        names(state)
            .into_iter()
            .filter(|name| !name.starts_with("declared."))
            .collect()
    };
    assert_eq!(
        declared(sgd.state()),
        ["lr", "momentum", "dampening", "nesterov", "weight_decay"]
    );
    assert_eq!(own(sgd.state()), ["lr", "momentum"]);
    sgd.update(1, &mut [0.0, 0.0], &[1.0, 1.0]);
    assert_eq!(own(sgd.state()), ["lr", "momentum", "1.momentum_buffer"]);
    let adam = Adam::<f64>::new(
        AdamConfig {
            amsgrad: true,
            ..AdamConfig::default()
        },
        &[1],
    );
    assert_eq!(
        declared(adam.state()),
        [
            "lr",
            "beta1",
            "beta2",
            "eps",
            "weight_decay",
            "amsgrad",
            "decoupled"
        ]
    );
    assert_eq!(
        own(adam.state()),
        [
            "lr",
            "beta1",
            "0.step",
            "0.exp_avg",
            "0.exp_avg_sq",
            "0.max_exp_avg_sq"
        ]
    );
    let rmsprop = RMSprop::<f64>::new(RMSpropConfig::default(), &[1]);
    assert_eq!(
        declared(rmsprop.state()),
        ["lr", "alpha", "eps", "weight_decay", "momentum", "centered"]
    );
    assert_eq!(own(rmsprop.state()), ["lr", "momentum", "0.square_avg"]);
    let adagrad = Adagrad::<f64>::new(AdagradConfig::default(), &[1]);
    assert_eq!(
        declared(adagrad.state()),
        [
            "lr",
            "lr_decay",
            "weight_decay",
            "initial_accumulator_value",
            "eps"
        ]
    );
    assert_eq!(own(adagrad.state()), ["lr", "0.step", "0.sum"]);
}

#[test]
fn zero_lr_changes_nothing() {
    let mut p = [1.0, -2.0];
    let mut opt = adam(AdamConfig {
        lr: 0.0,
        ..AdamConfig::default()
    });
    opt.update(0, &mut p, &[0.5, 0.5]);
    assert_eq!(p, [1.0, -2.0]);
    let mut opt = rmsprop(RMSpropConfig {
        lr: 0.0,
        momentum: 0.9,
        centered: true,
        ..RMSpropConfig::default()
    });
    opt.update(0, &mut p, &[0.5, 0.5]);
    assert_eq!(p, [1.0, -2.0]);
    let mut opt = adagrad(AdagradConfig {
        lr: 0.0,
        ..AdagradConfig::default()
    });
    opt.update(0, &mut p, &[0.5, 0.5]);
    assert_eq!(p, [1.0, -2.0]);
}
