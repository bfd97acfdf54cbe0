//! A model that ships whole: the preprocessing it keeps (scaler and class
//! names) is saved with its weights and checkpoints and restored with
//! them, so that a program holding only the file predicts on raw rows and
//! names the classes as the training program did; a file whose
//! preprocessing does not fit the model, or is malformed, is refused.

use crate::common;

use common::files::{temp_dir, with_header, without_checksum};

use macrograd::data::{Csv, Labels, MinMax, Preprocessing};
use macrograd::io::{
    checkpoint_from_bytes, checkpoint_to_bytes, weights_from_bytes, weights_to_bytes,
    CheckpointInfo, PREPROCESSING_KEY,
};
use macrograd::prelude::*;

model! {
    /// The classifier the training program declares.
    struct Iris;
    input 4;
    Linear(_, 16);
    ReLU;
    Linear(_, 3);
    loss CrossEntropy;
    optim Adam(lr = 0.01)
}

/// The serving program: the same declaration, another type.
mod serving {
    use macrograd::prelude::*;
    model! {
        pub struct Iris;
        input 4;
        Linear(_, 16);
        ReLU;
        Linear(_, 3);
        loss CrossEntropy;
        optim Adam(lr = 0.01)
    }
}

model! {
    struct Wider;
    input 5;
    Linear(_, 3);
    loss CrossEntropy;
    optim SGD(0.1)
}

model! {
    struct TwoClasses;
    input 4;
    Linear(_, 2);
    loss CrossEntropy;
    optim SGD(0.1)
}

#[test]
fn a_file_alone_serves_predictions_on_raw_rows() {
    let (data, numbers) = Csv::from_path(concat!(env!("CARGO_MANIFEST_DIR"), "/data/iris.csv"))
        .classification::<f32>()
        .unwrap();
    assert!(numbers.is_integers(), "the file's species are 0, 1, 2");
    let species = Labels::named(["setosa", "versicolor", "virginica"]).unwrap();
    let (train, test) = data.stratified_train_test_split(0.2, 0).unwrap();
    let mut model = Iris::new();
    model
        .set_preprocessing(
            Preprocessing::new()
                .with_scaler(Standardize::fit(&train))
                .with_labels(species.clone()),
        )
        .unwrap();
    model
        .fit(&train, Fit::epochs(30).batch_size(16).quiet())
        .unwrap();
    let accuracy = model.evaluate(&test).unwrap().accuracy().unwrap();
    assert!(accuracy > 0.85, "{accuracy}");
    let path = temp_dir("ship").join("iris.safetensors");
    save_weights(&model, &path).unwrap();

    let served = serving::Iris::load(&path).unwrap();
    assert_eq!(served.preprocessing(), model.preprocessing());
    // Raw rows, as measured: the file scales them and names the classes.
    let raw = test.inputs();
    assert_eq!(served.predict(raw), model.predict(raw));
    let names = served.predict_names(raw);
    let expected: Vec<String> = served
        .predict_classes(raw)
        .iter()
        .map(|&c| species.name(c).unwrap().into_owned())
        .collect();
    assert_eq!(names, expected);
    assert!(
        names.iter().all(|n| n.starts_with("Iris-") || n.len() > 3),
        "{names:?}"
    );
    let right = names
        .iter()
        .zip(test.targets())
        .filter(|(n, &t)| **n == species.name(t).unwrap())
        .count();
    assert_eq!(right as f64 / test.len() as f64, accuracy);
}

#[test]
fn checkpoints_keep_the_preprocessing_and_plain_files_clear_it() {
    let train = array![[0.0_f32, 10.0, -5.0, 1.0], [2.0, 30.0, 5.0, 3.0]];
    let prep = Preprocessing::new()
        .with_scaler(MinMax::fit(&train))
        .with_labels(Labels::integers(3));
    let mut model = Iris::new();
    model.set_preprocessing(prep.clone()).unwrap();
    let info = CheckpointInfo {
        epoch: 1,
        rng_state: 5,
        scheduler: None,
        history: String::new(),
        metadata: Default::default(),
    };
    let bytes = checkpoint_to_bytes(&model, &info).unwrap();
    let mut resumed = Iris::new();
    checkpoint_from_bytes(&mut resumed, &bytes).unwrap();
    assert_eq!(resumed.preprocessing(), &prep);
    // Loading weights replaces everything the file describes: a file
    // without preprocessing (PyTorch's) leaves the model without it.
    let plain = weights_to_bytes(&Iris::new()).unwrap();
    assert!(!String::from_utf8_lossy(&plain).contains(PREPROCESSING_KEY));
    weights_from_bytes(&mut resumed, &plain).unwrap();
    assert!(resumed.preprocessing().is_empty());
}

/// `bytes` with `from` replaced by `to` in its header (checksum removed).
fn edit_header(bytes: &[u8], from: &str, to: &str) -> Vec<u8> {
    with_header(&without_checksum(bytes), |header| {
        assert!(header.contains(from), "{header}");
        header.replacen(from, to, 1)
    })
}

#[test]
fn preprocessing_that_does_not_fit_the_model_is_refused() {
    let mut model = Iris::new();
    let train = array![[0.0_f32, 10.0, -5.0, 1.0], [2.0, 30.0, 5.0, 3.0]];
    model
        .set_preprocessing(
            Preprocessing::new()
                .with_scaler(Standardize::fit(&train))
                .with_labels(Labels::named(["a", "b", "c"]).unwrap()),
        )
        .unwrap();
    let bytes = weights_to_bytes(&model).unwrap();
    let message = |r: macrograd::Result<()>| r.unwrap_err().to_string();

    // Another model of the same layers but not the same inputs or classes.
    let mut two = TwoClasses::new();
    let before = two.predict(&train);
    let e = message(weights_from_bytes(&mut two, &bytes));
    assert!(e.contains("names 3 classes, but the model has 2"), "{e}");
    assert_eq!(two.predict(&train), before, "unchanged on an error");
    let mut wider = Wider::new();
    let e = message(weights_from_bytes(&mut wider, &bytes));
    assert!(e.contains(PREPROCESSING_KEY), "{e}");

    // Malformed: an unknown scaler, a scale of 0, a repeated name, JSON
    // that is not JSON, a number of columns the model does not take.
    for (from, to, expected) in [
        (
            r#"\"kind\":\"Standardize\""#,
            r#"\"kind\":\"Robust\""#,
            "unknown variant `Robust`",
        ),
        (r#"\"scale\":["#, r#"\"scale\":[0,"#, "values of `mean`"),
        (
            r#"[\"a\",\"b\",\"c\"]"#,
            r#"[\"a\",\"b\",\"a\"]"#,
            "appears twice",
        ),
        (r#"{\"scaler\""#, r#"{{\"scaler\""#, "key must be a string"),
    ] {
        let edited = edit_header(&bytes, from, to);
        let mut fresh = Iris::new();
        let e = message(weights_from_bytes(&mut fresh, &edited));
        assert!(
            e.contains(PREPROCESSING_KEY) && e.contains(expected),
            "{from}: {e}"
        );
        assert!(fresh.preprocessing().is_empty());
    }
}

model! {
    struct Birds;
    input size: 2;
    input island: category(3);
    concat { size; island => Embedding(3, 2) }
    Linear(_, 2);
    loss CrossEntropy;
    optim SGD(0.1)
}

/// The names of an input's categories travel with the weights: a program
/// holding only the file encodes text rows as training did, and refuses a
/// name it never saw.
#[test]
fn category_names_ship_with_the_model() {
    let islands = Labels::named(["Biscoe", "Dream", "Torgersen"]).unwrap();
    let mut model = Birds::with_seed(3);
    model
        .set_preprocessing(Preprocessing::new().with_categories(vec![(2, islands)]))
        .unwrap();
    let bytes = weights_to_bytes(&model).unwrap();
    let mut served = Birds::new();
    weights_from_bytes(&mut served, &bytes).unwrap();
    assert_eq!(served.preprocessing(), model.preprocessing());
    let rows = vec![vec!["0.5", "1.5", "Torgersen"], vec!["-1", "2", "Biscoe"]];
    let x = served.preprocessing().encode::<f32, _>(&rows).unwrap();
    assert_eq!(x, array![[0.5, 1.5, 2.0], [-1.0, 2.0, 0.0]]);
    assert_eq!(served.predict(&x), model.predict(&x));
    let e = served
        .preprocessing()
        .encode::<f32, _>(&[vec!["0", "0", "Atlantis"]])
        .unwrap_err();
    assert!(
        e.to_string().contains("unknown category \"Atlantis\"")
            && e.to_string().contains("\"Dream\""),
        "{e}"
    );
    // Names for a column that is not a category input, or too many.
    let mut wrong = Birds::new();
    let e = wrong
        .set_preprocessing(Preprocessing::new().with_categories(vec![(0, Labels::integers(2))]))
        .unwrap_err();
    assert!(e.to_string().contains("not a category input"), "{e}");
    let e = wrong
        .set_preprocessing(Preprocessing::new().with_categories(vec![(2, Labels::integers(4))]))
        .unwrap_err();
    assert!(e.to_string().contains("names 4 categories"), "{e}");
    let edited = edit_header(&bytes, r#"\"column\":2"#, r#"\"column\":1"#);
    let e = weights_from_bytes(&mut Birds::new(), &edited)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains(PREPROCESSING_KEY) && e.contains("not a category input"),
        "{e}"
    );
}

/// Columns read in another order than the model's inputs are an error
/// before training, which names the column and the fix.
#[test]
fn data_columns_in_another_order_than_the_inputs_are_refused() {
    let text = "species,island,a,b\nx,Dream,1,2\ny,Biscoe,3,4\nx,Dream,5,6\n";
    let read = |features: [&str; 3]| {
        Csv::from_reader("b.csv", text.as_bytes())
            .target("species")
            .features(features)
            .categories(["island"])
            .classification::<f32>()
            .unwrap()
            .0
    };
    let mut model = Birds::new();
    let e = model
        .fit(&read(["island", "a", "b"]), Fit::epochs(1).quiet())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("input column 0 of the data holds categories"),
        "{e}"
    );
    assert!(e.contains("Csv::features"), "{e}");
    let data = read(["a", "b", "island"]);
    model.fit(&data, Fit::epochs(1).quiet()).unwrap();
    // The data's category names went with the model.
    assert_eq!(model.preprocessing().categories(), data.categories());
    let bytes = weights_to_bytes(&model).unwrap();
    let mut served = Birds::new();
    weights_from_bytes(&mut served, &bytes).unwrap();
    let x = served
        .preprocessing()
        .encode::<f32, _>(&[vec!["1", "2", "Dream"]])
        .unwrap();
    assert_eq!(x[[0, 2]], 1.0, "Biscoe 0, Dream 1");
}
