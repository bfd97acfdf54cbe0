//! Behaviour of generated models and of `fit`: the four steps, typed
//! entries, summaries, names, errors before training, determinism.

use crate::common::Tol;
use macrograd::prelude::*;
use macrograd::Error;

model! {
    /// A small regressor used across these tests.
    pub struct Net;
    Linear(3, 8);
    ReLU;
    Linear(_, 2);
    loss MSE;
    optim SGD(0.1)
}

model! {
    struct Classifier;
    dtype f64;
    input 4;
    Linear(_, 6);
    Tanh;
    Linear(_, 3);
    loss CrossEntropy;
    optim Adam(lr = 0.05)
}

fn data(n: usize, seed: u64) -> (Array2<f32>, Array2<f32>) {
    let mut rng = Rng::new(seed);
    let x: Array2<f32> = rng.randn((n, 3));
    let y = Array2::from_shape_fn((n, 2), |(i, j)| {
        if j == 0 {
            x[[i, 0]] - 2.0 * x[[i, 1]]
        } else {
            x[[i, 2]].abs()
        }
    });
    (x, y)
}

fn weights<M: Model>(m: &M) -> Vec<f64> {
    m.parameters()
        .iter()
        .flat_map(|p| p.value.iter().map(|v| v.to_f64()).collect::<Vec<_>>())
        .collect()
}

use macrograd::Float;

#[test]
fn parameters_have_pytorch_names_and_shapes() {
    let net = Net::new();
    let params = net.parameters();
    let names: Vec<_> = params.iter().map(|p| p.name).collect();
    assert_eq!(names, ["0.weight", "0.bias", "2.weight", "2.bias"]);
    assert_eq!(params[0].value.shape(), &[8, 3]);
    assert_eq!(params[2].value.shape(), &[2, 8]);
    // No backward yet: no gradients, as PyTorch's `grad is None`.
    assert!(params.iter().all(|p| p.grad.is_none()));
    // PyTorch's init bound 1/sqrt(in).
    let bound = 1.0 / 3.0_f32.sqrt();
    assert!(params[0].value.iter().all(|w| w.abs() <= bound));
}

#[test]
fn seeds_decide_the_initial_weights() {
    assert_eq!(weights(&Net::with_seed(5)), weights(&Net::with_seed(5)));
    assert_ne!(weights(&Net::with_seed(5)), weights(&Net::with_seed(6)));
    assert_eq!(weights(&Net::new()), weights(&Net::with_seed(0)));
}

#[test]
fn step_after_zero_grad_changes_nothing_and_backward_accumulates() {
    let (x, y) = data(8, 1);
    let mut net = Net::new();
    let before = weights(&net);
    net.forward(&x);
    net.loss(&y);
    net.zero_grad();
    net.step();
    assert_eq!(
        weights(&net),
        before,
        "step without gradients must not move"
    );

    // Two backward passes without zero_grad add up, as in PyTorch.
    net.backward();
    let once: Vec<f32> = net.parameters()[0]
        .grad
        .as_ref()
        .unwrap()
        .iter()
        .copied()
        .collect();
    net.backward();
    let twice: Vec<f32> = net.parameters()[0]
        .grad
        .as_ref()
        .unwrap()
        .iter()
        .copied()
        .collect();
    for (a, b) in once.iter().zip(&twice) {
        assert!((2.0 * a - b).abs() <= 1e-6 * a.abs().max(1.0));
    }
}

#[test]
fn batched_forward_equals_row_by_row() {
    let (x, _) = data(7, 2);
    let net = Net::new();
    let batched = net.predict(&x);
    for i in 0..7 {
        let row = net.predict(x.slice(s![i..i + 1, ..]));
        assert_close!(
            row.mapv(f64::from),
            batched.row(i).mapv(f64::from),
            Tol::Abs(1e-6)
        );
    }
}

#[test]
fn typed_rows_entries() {
    let mut net = Net::new();
    let out = net.predict_rows(&[[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]]);
    assert_eq!(out.len(), 2);
    let loss = net.train_step_rows(&[[1.0, 2.0, 3.0]], &[[0.5, 0.5]]);
    assert!(loss.is_finite());
    let mut clf = Classifier::new();
    let loss = clf.train_step_rows(&[[1.0, 0.0, 0.0, 1.0]], &[2]);
    assert!(loss > 0.0);
}

#[test]
fn wrong_width_is_an_error_not_a_crash() {
    let mut net = Net::new();
    let bad = Array2::<f32>::zeros((4, 5));
    let err = net.try_forward(&bad).unwrap_err();
    assert_eq!(
        err.to_string(),
        "inputs have 5 features per sample, but the model expects 3"
    );
}

#[test]
fn fit_checks_everything_before_the_first_batch() {
    let (x, y) = data(10, 3);
    let good = Dataset::regression(x.clone(), y.clone()).unwrap();
    let mut net = Net::new();
    let before = weights(&net);
    let err = net
        .fit(&good, Fit::epochs(1).batch_size(0).quiet())
        .unwrap_err();
    assert!(
        err.to_string().contains("batch_size") && err.to_string().contains("found 0"),
        "{err}"
    );
    let err = net.fit(&good, Fit::epochs(0).quiet()).unwrap_err();
    assert!(err.to_string().contains("epochs"), "{err}");
    let err = net
        .fit(&good, Fit::epochs(1).batch_size(20).drop_last(true).quiet())
        .unwrap_err();
    assert!(err.to_string().contains("leaves no batch"), "{err}");
    let wide = Dataset::regression(Array2::zeros((10, 4)), y.clone()).unwrap();
    assert!(matches!(
        net.fit(&wide, Fit::epochs(1).quiet()),
        Err(Error::InputWidth {
            expected: 3,
            found: 4
        })
    ));
    let narrow = Dataset::regression(x.clone(), Array2::zeros((10, 1))).unwrap();
    assert!(matches!(
        net.fit(&narrow, Fit::epochs(1).quiet()),
        Err(Error::TargetWidth {
            expected: 2,
            found: 1
        })
    ));
    let empty = Dataset::regression(Array2::zeros((0, 3)), Array2::zeros((0, 2))).unwrap();
    assert!(matches!(
        net.fit(&empty, Fit::epochs(1).quiet()),
        Err(Error::EmptyDataset)
    ));
    assert_eq!(weights(&net), before, "a rejected fit must not train");

    let mut clf = Classifier::new();
    let labels = Dataset::classification(Array2::zeros((3, 4)), vec![0, 3, 1]).unwrap();
    let err = clf.fit(&labels, Fit::epochs(1).quiet()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "class label 3 of sample 1 is out of range for 3 classes (expected 0..3)"
    );
}

#[test]
fn datasets_reject_bad_values() {
    let err = Dataset::regression(Array2::<f32>::zeros((3, 2)), Array2::zeros((2, 1))).unwrap_err();
    assert_eq!(err.to_string(), "3 input samples but 2 targets");
    let mut y = Array2::<f64>::zeros((2, 1));
    y[[1, 0]] = f64::INFINITY;
    let err = Dataset::regression(Array2::zeros((2, 2)), y).unwrap_err();
    assert_eq!(
        err.to_string(),
        "targets contain the non-finite value inf at sample 1, column 0"
    );
}

#[test]
fn same_seed_same_history_and_training_converges() {
    let (x, y) = data(200, 4);
    let train = Dataset::regression(x, y).unwrap();
    let run = |seed| {
        let mut net = Net::with_seed(1);
        let fit = Fit::epochs(40).batch_size(16).seed(seed).quiet();
        let history = net.fit(&train, fit).unwrap();
        (history.losses(), weights(&net))
    };
    let (a, wa) = run(9);
    let (b, wb) = run(9);
    assert_eq!(a, b, "one seed must give bit-identical histories");
    assert_eq!(wa, wb);
    let (c, _) = run(10);
    assert_ne!(a, c, "another shuffle seed gives another run");
    assert!(a[39] < 0.1 * a[0], "loss {} -> {}", a[0], a[39]);
}

#[test]
fn history_counts_iterations_and_keeps_the_partial_batch() {
    let (x, y) = data(10, 5);
    let train = Dataset::regression(x, y).unwrap();
    let mut net = Net::new();
    let history = net
        .fit(&train, Fit::epochs(2).batch_size(4).quiet())
        .unwrap();
    assert_eq!(history.epochs.len(), 2);
    assert_eq!(history.epochs[0].iterations, 3); // 4 + 4 + 2
    assert_eq!(history.epochs[1].epoch, 2);
    assert_eq!(history.epochs[0].lr, 0.1);
    let history = net
        .fit(&train, Fit::epochs(1).batch_size(4).drop_last(true).quiet())
        .unwrap();
    assert_eq!(history.epochs[0].iterations, 2);
}

#[test]
fn zero_learning_rate_changes_nothing() {
    let (x, y) = data(10, 6);
    let train = Dataset::regression(x, y).unwrap();
    let mut net = Net::new();
    net.set_learning_rate(0.0);
    let before = weights(&net);
    net.fit(&train, Fit::epochs(2).batch_size(3).quiet())
        .unwrap();
    assert_eq!(weights(&net), before);
}

#[test]
fn summary_lists_layers_shapes_and_parameters() {
    let net = Net::new();
    let s = net.summary();
    assert_eq!(s.params(), 3 * 8 + 8 + 8 * 2 + 2);
    assert_eq!(s.layers[2].layer, "Linear(8, 2)");
    let text = s.to_string();
    assert!(
        text.contains("[b, 8]") && text.contains("total parameters: 50"),
        "{text}"
    );
    assert!(text.contains("loss MSE; optim SGD(lr = 0.1)"), "{text}");
    assert_eq!(Classifier::new().summary().dtype, "f64");
}

/// `evaluate` gives a regressor's loss, MAE, RMSE and R² as computed from
/// its predictions, in batches of 32 by default.
#[test]
fn evaluate_measures_a_regressors_loss_and_metrics() {
    let (x, y) = data(70, 8);
    let mut net = Net::with_seed(2);
    let set = Dataset::regression(x.clone(), y.clone()).unwrap();
    let result = net.evaluate(&set).unwrap();
    assert_eq!(result, net.evaluate_batched(&set, 32).unwrap());
    let p = net.predict(&x).mapv(f64::from);
    let y = y.mapv(f64::from);
    let e = &p - &y;
    let n = e.len() as f64;
    let mse = e.mapv(|v| v * v).sum() / n;
    let mae = e.mapv(f64::abs).sum() / n;
    let sst = y.mapv(|v| (v - y.mean().unwrap()).powi(2)).sum();
    let r2 = 1.0 - mse * n / sst;
    let names: Vec<Metric> = result.metrics.iter().map(|(m, _)| *m).collect();
    assert_eq!(names, [Metric::MAE, Metric::RMSE, Metric::R2]);
    assert_close!(
        [result.loss, result.get(Metric::MAE).unwrap()],
        [mse, mae],
        Tol::Rel(1e-5)
    );
    assert_close!(
        [
            result.get(Metric::RMSE).unwrap(),
            result.get(Metric::R2).unwrap()
        ],
        [mse.sqrt(), r2],
        Tol::Rel(1e-5)
    );
    assert_eq!(result.accuracy(), None);
    assert!(net.evaluate_batched(&set, 0).is_err());
}

/// A classifier's accuracy from `evaluate` is the confusion matrix's.
#[test]
fn evaluate_measures_a_classifiers_accuracy() {
    let mut rng = Rng::new(4);
    let x: Array2<f64> = rng.randn((45, 4));
    let labels: Vec<usize> = (0..45).map(|i| i % 3).collect();
    let set = Dataset::classification(x.clone(), labels.clone()).unwrap();
    let mut model = Classifier::with_seed(1);
    model
        .fit(&set, Fit::epochs(20).batch_size(9).quiet())
        .unwrap();
    let result = model.evaluate(&set).unwrap();
    let matrix =
        macrograd::metrics::ConfusionMatrix::from_logits(model.predict(&x).view(), &labels);
    assert_eq!(result.metrics.len(), 1);
    assert_eq!(result.accuracy(), Some(matrix.accuracy()));
    assert!(result.to_string().starts_with("loss "), "{result}");
}

#[test]
fn evaluate_matches_the_loss_of_a_full_batch() {
    let (x, y) = data(9, 7);
    let mut net = Net::new();
    let train = Dataset::regression(x.clone(), y.clone()).unwrap();
    let batched = net.evaluate_batched(&train, 4).unwrap().loss;
    net.forward(&x);
    let full = net.loss(&y) as f64;
    assert_close!([batched], [full], Tol::Abs(1e-6));
}

#[test]
#[should_panic(expected = "`backward` needs a `loss` computed after the last `forward`")]
fn backward_without_loss_panics_with_a_message() {
    let (x, _) = data(2, 8);
    let mut net = Net::new();
    net.forward(&x);
    net.backward();
}

/// `with_seed(2000 + w)` draws the benchmark workloads' initial weights bit
/// for bit: the sums match the reference checksums of WORKLOADS.md §6.
#[test]
fn init_matches_the_benchmark_checksums() {
    model! { struct W1; Linear(10, 1); loss MSE; optim SGD(0.01) }
    model! { struct W2; Linear(10, 64); ReLU; Linear(64, 64); ReLU; Linear(64, 1); loss MSE; optim Adam(1e-3) }
    model! { struct W3; Linear(784, 256); ReLU; Linear(256, 128); ReLU; Linear(128, 10); loss CrossEntropy; optim SGD(0.01, momentum = 0.9) }
    let sum = |w: Vec<f64>| w.iter().sum::<f64>();
    let sums = [
        sum(weights(&W1::with_seed(2001))),
        sum(weights(&W2::with_seed(2002))),
        sum(weights(&W3::with_seed(2003))),
    ];
    assert_close!(
        sums,
        [0.07563572376966476, 1.1786496655549854, -3.283050441470934],
        Tol::Rel(1e-9)
    );
}

model! {
    /// Large enough that `fit` on 2 threads splits its products (64 x 256 x
    /// 256 multiply-adds and more) and the update of its first weight
    /// (65 536 values) across the threads.
    struct Wide;
    Linear(256, 256);
    ReLU;
    Linear(_, 256);
    ReLU;
    Linear(_, 4);
    loss MSE;
    optim Adam(lr = 1e-3)
}

/// The thread count changes how the work is shared, not the numbers: 1 and
/// 2 threads give the same losses and weights, bit for bit.
#[test]
fn two_threads_give_the_bits_of_one() {
    let mut rng = Rng::new(11);
    let x: Array2<f32> = rng.randn((200, 256));
    let y: Array2<f32> = rng.randn((200, 4));
    let data = Dataset::regression(x, y).unwrap();
    let run = |threads: usize| {
        let mut model = Wide::with_seed(3);
        let history = model
            .fit(
                &data,
                Fit::epochs(3)
                    .batch_size(64)
                    .seed(5)
                    .threads(threads)
                    .quiet(),
            )
            .unwrap();
        let losses: Vec<u64> = history.epochs.iter().map(|e| e.loss.to_bits()).collect();
        let mut bits = Vec::new();
        model.visit_parameters(&mut |p| bits.extend(p.value.iter().map(|v| v.to_bits())));
        (losses, bits)
    };
    let (one, two) = (run(1), run(2));
    assert_eq!(one.0.len(), 3);
    assert!(one.0 == two.0, "losses differ: {:?} vs {:?}", one.0, two.0);
    assert!(one.1 == two.1, "weights differ");
    // Training moved the weights: the comparison is not of the initial ones.
    let mut initial = Vec::new();
    Wide::with_seed(3)
        .visit_parameters(&mut |p| initial.extend(p.value.iter().map(|v| v.to_bits())));
    assert!(initial != one.1);
}
