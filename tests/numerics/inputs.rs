//! Named inputs and embeddings: the gradient check of a model with two
//! embedded categories, the forward pass written out by hand, category
//! columns checked before training and left alone by a scaler, and the
//! summary's input rows.

use crate::common;

use common::finite_diff::check_model;
use macrograd::data::{Preprocessing, Standardize};
use macrograd::prelude::*;

model! {
    struct Penguins;
    dtype f64;
    input measurements: 4;
    input island: category(3);
    input sex: category(2);
    concat {
        measurements => Linear(_, 3) => Tanh;
        island => Embedding(3, 2);
        sex => Embedding(4, 2);      // more vectors than categories: allowed
        measurements;                // an input read twice
    }
    Linear(_, 5);
    GELU;
    Linear(_, 3);
    loss CrossEntropy;
    optim Adam(lr = 0.01)
}

/// Rows of 4 measurements, an island (0..3) and a sex (0..2).
fn rows(n: usize, seed: u64) -> Array2<f64> {
    let mut rng = Rng::new(seed);
    let measurements: Array2<f64> = rng.randn((n, 4));
    Array2::from_shape_fn((n, 6), |(i, j)| match j {
        0..=3 => measurements[[i, j]],
        4 => ((i * 7 + 1) % 3) as f64,
        _ => ((i * 3) % 2) as f64,
    })
}

#[test]
fn embedded_categories_pass_the_gradient_check() {
    let mut net = Penguins::with_seed(2);
    let x = rows(9, 3);
    let labels: Vec<usize> = (0..9).map(|i| (i * 5) % 3).collect();
    let checked = check_model("Penguins", &mut net, &x, &labels);
    assert_eq!(checked, 2 + 1 + 1 + 2 + 2);
}

#[test]
fn named_inputs_compute_what_the_pytorch_module_computes() {
    let net = Penguins::with_seed(5);
    let p = |name: &str| -> Array2<f64> {
        let t = net
            .parameters()
            .into_iter()
            .find(|p| p.name == name)
            .unwrap();
        let shape = t.value.shape().to_vec();
        let v: Vec<f64> = t.value.iter().copied().collect();
        match shape[..] {
            [r, c] => Array2::from_shape_vec((r, c), v).unwrap(),
            [n] => Array2::from_shape_vec((1, n), v).unwrap(),
            _ => unreachable!(),
        }
    };
    let x = rows(5, 6);
    let m = x.slice(s![.., 0..4]).to_owned();
    let branch0 =
        (m.dot(&p("0.branches.0.0.weight").t()) + p("0.branches.0.0.bias")).mapv(f64::tanh);
    let lookup = |table: &Array2<f64>, column: usize| {
        Array2::from_shape_fn((x.nrows(), table.ncols()), |(i, j)| {
            table[[x[[i, column]] as usize, j]]
        })
    };
    let island = lookup(&p("0.branches.1.0.weight"), 4);
    let sex = lookup(&p("0.branches.2.0.weight"), 5);
    let joined = ndarray::concatenate![ndarray::Axis(1), branch0, island, sex, m];
    let h = joined.dot(&p("1.weight").t()) + p("1.bias");
    let mut g = h.clone();
    use macrograd::layers::{Activation, GELU};
    GELU.forward(h.view(), g.view_mut());
    let expected = g.dot(&p("3.weight").t()) + p("3.bias");
    assert_close!(net.predict(&x), expected, common::Tol::Rel(1e-12));
    assert_eq!(
        <Penguins as Model>::CATEGORIES,
        &[(4, 3), (5, 2)],
        "the category columns"
    );
}

#[test]
fn a_value_that_is_not_a_category_is_an_error_before_training() {
    let mut net = Penguins::new();
    let before = net.predict(&rows(2, 1));
    for (value, column) in [(3.0, 4), (1.5, 5), (-1.0, 4)] {
        let mut x = rows(6, 7);
        x[[4, column]] = value;
        let data = Dataset::classification(x.clone(), vec![0, 1, 2, 0, 1, 2]).unwrap();
        let e = net.fit(&data, Fit::epochs(1).quiet()).unwrap_err();
        assert!(
            matches!(e, Error::NotACategory { row: 4, column: c, .. } if c == column),
            "{e}"
        );
        assert!(
            e.to_string().contains("expected a whole number from 0 to"),
            "{e}"
        );
        assert!(matches!(
            net.evaluate(&data),
            Err(Error::NotACategory { .. })
        ));
        assert!(matches!(
            net.try_predict(&x),
            Err(Error::NotACategory { .. })
        ));
    }
    assert_eq!(net.predict(&rows(2, 1)), before, "nothing trained");
}

#[test]
fn a_scaler_leaves_the_category_columns_alone() {
    let train = rows(20, 8);
    let mut raw = Penguins::with_seed(1);
    let mut scaled = Penguins::with_seed(1);
    let scaler = Standardize::fit(&train);
    scaled
        .set_preprocessing(Preprocessing::new().with_scaler(scaler.clone()))
        .unwrap();
    // By hand: the measurement columns standardized, the indices as they are.
    let mut by_hand = train.clone();
    let mut measurements = by_hand.slice(s![.., 0..4]).to_owned();
    Standardize::fit(&train.slice(s![.., 0..4]).to_owned())
        .transform(&mut measurements)
        .unwrap();
    by_hand.slice_mut(s![.., 0..4]).assign(&measurements);
    assert_eq!(scaled.predict(&train), raw.predict(&by_hand));
    let labels: Vec<usize> = (0..20).map(|i| i % 3).collect();
    let h1 = raw
        .fit(
            &Dataset::classification(by_hand, labels.clone()).unwrap(),
            Fit::epochs(2).batch_size(5).quiet(),
        )
        .unwrap();
    let h2 = scaled
        .fit(
            &Dataset::classification(train, labels).unwrap(),
            Fit::epochs(2).batch_size(5).quiet(),
        )
        .unwrap();
    assert_eq!(h1.losses(), h2.losses());
}

#[test]
fn the_summary_lists_the_named_inputs() {
    let text = Penguins::new().summary().to_string();
    for line in [
        "input measurements: 4",
        "input island: category(3)",
        "input sex: category(2)",
        "concat: 3 + 2 + 2 + 4 = 11 features",
        "branches.1.0 Embedding(3, 2)",
    ] {
        assert!(text.contains(line), "missing {line:?} in\n{text}");
    }
    println!("{text}");
}
