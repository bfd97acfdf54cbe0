//! Serving a trained model: `predict` and its relatives on a shared
//! reference (the bits of evaluation-mode `forward`, from several threads
//! at once), and the preprocessing a model keeps (a scaler applied to raw
//! rows everywhere, class names), which must give the numbers of the same
//! run on data transformed by hand.

use macrograd::data::{Labels, MinMax, Preprocessing, Scaler};
use macrograd::prelude::*;
use macrograd::Float;

model! {
    /// Every layer that behaves differently in evaluation mode, and one
    /// that keeps scratch for its forward pass.
    struct Cnn;
    dtype f64;
    input [2, 6, 6];
    Dropout(0.2);
    Conv2d(2, 3, 3, padding = 1);
    BatchNorm;
    ReLU;
    MaxPool2d(2);
    Conv2d(3, 4, (2, 3), stride = (1, 2), bias = false);
    LayerNorm;
    GELU;
    AvgPool2d(2, stride = 1, padding = 1);
    Flatten;
    Linear(_, 8);
    BatchNorm;
    Tanh;
    Dropout(0.5);
    Linear(_, 3);
    loss CrossEntropy;
    optim Adam(lr = 0.01)
}

model! {
    struct Iris;
    input 4;
    Linear(_, 16);
    ReLU;
    Linear(_, 3);
    loss CrossEntropy;
    optim Adam(lr = 0.01)
}

model! {
    struct Regressor;
    input 4;
    Linear(_, 8);
    ReLU;
    Linear(_, 1);
    loss MSE;
    optim SGD(0.05)
}

model! {
    struct Binary;
    input 4;
    Linear(_, 1);
    loss BCE;
    optim SGD(0.1)
}

/// Classes from the inputs, on columns of very different scales.
fn raw_classes(n: usize, seed: u64) -> Dataset<f32, macrograd::target::Classes> {
    let mut rng = Rng::new(seed);
    let mut x: Array2<f32> = rng.randn((n, 4));
    for mut row in x.rows_mut() {
        row[1] = row[1] * 100.0 + 500.0;
        row[3] *= 0.01;
    }
    let labels = x
        .rows()
        .into_iter()
        .map(|r| usize::from(r[0] > 0.0) + usize::from(r[2] > 0.5))
        .collect();
    Dataset::classification(x, labels).unwrap()
}

fn weights<M: Model>(m: &M) -> Vec<f64> {
    m.parameters()
        .iter()
        .flat_map(|p| p.value.iter().map(|v| v.to_f64()).collect::<Vec<_>>())
        .collect()
}

#[test]
fn predict_on_a_shared_reference_is_evaluation_mode_forward_bit_for_bit() {
    let mut cnn = Cnn::with_seed(3);
    let x: Array2<f64> = Rng::new(1).randn((5, 72));
    let y = Array2::from_shape_fn((5, 3), |(i, j)| ((i + j) % 2) as f64);
    let labels: Vec<usize> = (0..5).map(|i| i % 3).collect();
    // Train a little, so that the running statistics are not the initial ones.
    for _ in 0..3 {
        cnn.train_step(&x, &labels[..]);
    }
    cnn.set_training(false);
    let expected = cnn.forward(&x).to_owned();
    cnn.set_training(true);
    let shared: &Cnn = &cnn;
    let got = shared.predict(&x);
    assert_eq!(got, expected);
    assert!(got.iter().all(|v| v.is_finite()));
    // Different batch sizes, from two threads at once.
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(|| shared.predict(x.slice(s![..2, ..])));
        let b = s.spawn(|| shared.predict(x.slice(s![2.., ..])));
        (a.join().unwrap(), b.join().unwrap())
    });
    cnn.set_training(false);
    assert_eq!(a, cnn.forward(x.slice(s![..2, ..])).to_owned());
    assert_eq!(b, cnn.forward(x.slice(s![2.., ..])).to_owned());
    // Nothing changed: the next training step is that of a model never asked.
    let _ = y;
    let mut twin = cnn.clone();
    cnn.set_training(true);
    twin.set_training(true);
    let _ = shared_predict_many(&twin, &x);
    assert_eq!(
        cnn.train_step(&x, &labels[..]),
        twin.train_step(&x, &labels[..])
    );
    assert_eq!(weights(&cnn), weights(&twin));
}

fn shared_predict_many<M: Model + Sync>(model: &M, x: &Array2<M::Elem>) -> Vec<Array2<M::Elem>> {
    (0..3).map(|_| model.predict(x)).collect()
}

#[test]
fn predict_relatives_take_a_shared_reference() {
    let model = Iris::new();
    let x: Array2<f32> = Rng::new(2).randn((6, 4));
    let served: &Iris = &model;
    let logits = served.predict(&x);
    let proba = served.predict_proba(&x);
    for (l, p) in logits.rows().into_iter().zip(proba.rows()) {
        let m = l.iter().cloned().fold(f32::MIN, f32::max);
        let e: Vec<f32> = l.iter().map(|v| (v - m).exp()).collect();
        let total: f32 = e.iter().sum();
        for (e, p) in e.iter().zip(p) {
            assert!((e / total - p).abs() < 1e-6);
        }
    }
    let classes = served.predict_classes(&x);
    let names = served.predict_names(&x);
    assert_eq!(
        names,
        classes.iter().map(|c| c.to_string()).collect::<Vec<_>>()
    );
    let rows: Vec<[f32; 3]> = served.predict_rows(&[[0.5, -1.0, 2.0, 0.0]]);
    assert_eq!(
        &rows[0][..],
        logits_of(served, [0.5, -1.0, 2.0, 0.0]).as_slice()
    );
}

fn logits_of(model: &Iris, row: [f32; 4]) -> Vec<f32> {
    model.predict(&[row][..]).iter().copied().collect()
}

#[test]
fn try_predict_names_the_bad_input() {
    let mut model = Iris::new();
    let e = model
        .try_predict(&Array2::<f32>::zeros((2, 5)))
        .unwrap_err();
    assert!(
        matches!(
            e,
            Error::InputWidth {
                expected: 4,
                found: 5
            }
        ),
        "{e}"
    );
    let mut x = Array2::<f32>::zeros((3, 4));
    x[[2, 1]] = f32::NAN;
    let e = model.try_predict(&x).unwrap_err();
    assert!(
        matches!(
            e,
            Error::NonFinite {
                what: "inputs",
                row: 2,
                column: 1,
                ..
            }
        ),
        "{e}"
    );
    // A scaler fitted on a tiny range takes 1e30 beyond f32.
    let tiny = array![[0.0_f32, 0.0, 0.0, 0.0], [1e-30, 1.0, 1.0, 1.0]];
    model
        .set_preprocessing(Preprocessing::new().with_scaler(MinMax::fit(&tiny)))
        .unwrap();
    let far = array![[1e10_f32, 0.0, 0.0, 0.0]];
    let e = model.try_predict(&far).unwrap_err();
    assert!(
        matches!(
            e,
            Error::NonFinite {
                what: "scaled inputs",
                row: 0,
                column: 0,
                ..
            }
        ),
        "{e}"
    );
    assert!(model.predict(&far).iter().any(|v| !v.is_finite()));
}

#[test]
fn a_model_with_a_scaler_trains_on_raw_rows_as_on_scaled_ones() {
    let raw = raw_classes(90, 7);
    let (train, test) = raw.split(0.2, 1).unwrap();
    let prep = Preprocessing::new().with_scaler(Standardize::fit(&train));
    let (mut scaled_train, mut scaled_test) = (train.clone(), test.clone());
    let Scaler::Standardize(s) = prep.scaler().unwrap() else {
        unreachable!()
    };
    s.transform(&mut scaled_train).unwrap();
    s.transform(&mut scaled_test).unwrap();
    // One batch (kept in place across epochs), and several with validation.
    for case in 0..2 {
        let fit = |validation| match (case, validation) {
            (0, _) => Fit::epochs(4).batch_size(1000).shuffle(false).quiet(),
            (_, Some(v)) => Fit::epochs(3).batch_size(16).validation_data(v).quiet(),
            (_, None) => unreachable!(),
        };
        let mut by_hand = Iris::new();
        let mut keeps = Iris::new();
        keeps.set_preprocessing(prep.clone()).unwrap();
        let h1 = by_hand.fit(&scaled_train, fit(Some(&scaled_test))).unwrap();
        let h2 = keeps.fit(&train, fit(Some(&test))).unwrap();
        let numbers = |h: &History| -> Vec<_> {
            h.epochs
                .iter()
                .map(|e| (e.loss, e.val_loss, e.metrics.clone(), e.val_metrics.clone()))
                .collect()
        };
        assert_eq!(numbers(&h1), numbers(&h2));
        assert_eq!(h1.epochs.len(), [4, 3][case]);
        assert_eq!(weights(&by_hand), weights(&keeps));
        assert_eq!(
            by_hand.predict(scaled_test.inputs()),
            keeps.predict(test.inputs())
        );
        assert_eq!(
            by_hand.evaluate(&scaled_test).unwrap(),
            keeps.evaluate(&test).unwrap()
        );
        assert_eq!(
            by_hand.forward(scaled_test.inputs()),
            keeps.forward(test.inputs())
        );
    }
}

#[test]
fn preprocessing_is_checked_against_the_model() {
    let mut model = Iris::new();
    let five = Array2::<f32>::zeros((2, 5));
    let e = model
        .set_preprocessing(Preprocessing::new().with_scaler(Standardize::fit(&five)))
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("fitted on 5 columns, but the model takes 4"),
        "{e}"
    );
    let e = model
        .set_preprocessing(Preprocessing::new().with_labels(Labels::integers(2)))
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("names 2 classes, but the model has 3"),
        "{e}"
    );
    assert!(model.preprocessing().is_empty(), "unchanged on an error");
    let mut regressor = Regressor::new();
    let e = regressor
        .set_preprocessing(Preprocessing::new().with_labels(Labels::integers(1)))
        .unwrap_err();
    assert!(e.to_string().contains("regressor"), "{e}");
    let mut binary = Binary::new();
    binary
        .set_preprocessing(
            Preprocessing::new().with_labels(Labels::named(["benign", "malignant"]).unwrap()),
        )
        .unwrap();
    let x = array![[1.0_f32, 0.0, 0.0, 0.0], [-1.0, 0.0, 0.0, 0.0]];
    let names = binary.predict_names(&x);
    let classes = binary.predict_classes(&x);
    for (name, class) in names.iter().zip(&classes) {
        assert_eq!(name, ["benign", "malignant"][*class]);
    }
}

#[test]
fn fit_and_evaluate_refuse_rows_that_scale_beyond_the_type() {
    let mut model = Iris::new();
    let tiny = array![[0.0_f32, 0.0, 0.0, 0.0], [1e-30, 1.0, 1.0, 1.0]];
    model
        .set_preprocessing(Preprocessing::new().with_scaler(MinMax::fit(&tiny)))
        .unwrap();
    let data = Dataset::classification(
        array![[0.0_f32, 0.0, 0.0, 0.0], [1e10, 0.0, 0.0, 0.0]],
        vec![0, 1],
    )
    .unwrap();
    let before = weights(&model);
    let e = model.fit(&data, Fit::epochs(1).quiet()).unwrap_err();
    assert!(
        matches!(
            e,
            Error::NonFinite {
                what: "scaled inputs",
                row: 1,
                column: 0,
                ..
            }
        ),
        "{e}"
    );
    let e = model.evaluate(&data).unwrap_err();
    assert!(
        matches!(
            e,
            Error::NonFinite {
                what: "scaled inputs",
                ..
            }
        ),
        "{e}"
    );
    assert_eq!(weights(&model), before);
}
