//! Data in: CSV files (every error names the file, line, column and value;
//! good files read back exactly), preprocessing fitted on training data,
//! stratified splits, and the built-in datasets.

use crate::common::Tol;
use macrograd::data::{Csv, Dataset, Labels, MinMax, Standardize};
use macrograd::datasets;
use macrograd::ndarray::{array, Array2};
use macrograd::target::{Classes, Rows};
use macrograd::{Error, Rng};

const IRIS_HEAD: &str = "sepal length,sepal width,petal length,petal width,species\n";

/// The error of reading `text` as `file` for classification, with its
/// message checked to name every part given.
fn classification_error(file: &str, text: &str, parts: &[&str]) -> Error {
    let e = Csv::from_reader(file, text.as_bytes())
        .classification::<f32>()
        .expect_err("the file is bad");
    let message = e.to_string();
    for part in parts {
        assert!(message.contains(part), "{part:?} is not in {message:?}");
    }
    e
}

/// Checks the structured fields of an [`Error::Csv`].
fn assert_at(e: &Error, line: u64, column: Option<usize>, name: Option<&str>, value: Option<&str>) {
    let Error::Csv(csv) = e else {
        panic!("expected Error::Csv, found {e:?}");
    };
    assert_eq!(csv.line, Some(line), "{e}");
    assert_eq!(csv.column, column, "{e}");
    assert_eq!(csv.column_name.as_deref(), name, "{e}");
    assert_eq!(csv.value.as_deref(), value, "{e}");
}

// ---- one test per kind of error ------------------------------------------

#[test]
fn short_row_names_the_missing_column_and_the_last_value() {
    let text = format!("{IRIS_HEAD}5.1,3.5,1.4,0.2,0\n4.9,3.0,1.4,0\n");
    let e = classification_error(
        "iris.csv",
        &text,
        &[
            r#"iris.csv: line 3, column 5 ("species"): missing field"#,
            "the row has 4 fields, but the header has 5",
            r#"its last field is "0""#,
        ],
    );
    assert_at(&e, 3, Some(5), Some("species"), Some("0"));
}

#[test]
fn long_row_names_the_extra_column_and_value() {
    let text = format!("{IRIS_HEAD}5.1,3.5,1.4,0.2,0\n\n4.9,3.0,1.4,0.2,0,7.5\n");
    let e = classification_error(
        "iris.csv",
        &text,
        &[
            r#"iris.csv: line 4, column 6: extra field "7.5""#,
            "the row has 6 fields, but the header has 5",
        ],
    );
    assert_at(&e, 4, Some(6), None, Some("7.5"));
}

#[test]
fn rows_without_a_header_are_checked_against_the_first() {
    let e = Csv::from_reader("raw.csv", "1,2,0\n3,4\n".as_bytes())
        .header(false)
        .classification::<f64>()
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        r#"raw.csv: line 2, column 3: missing field: the row has 2 fields, but the first row has 3 (its last field is "4")"#
    );
}

#[test]
fn a_value_that_is_not_a_number_is_quoted() {
    let text = format!("{IRIS_HEAD}5.1,3.5,1.4,0.2,0\n4.9,3.O,1.4,0.2,0\n");
    let e = classification_error(
        "iris.csv",
        &text,
        &[r#"iris.csv: line 3, column 2 ("sepal width"): expected a number, found "3.O""#],
    );
    assert_at(&e, 3, Some(2), Some("sepal width"), Some("3.O"));
    // A missing value is an empty field.
    let e = Csv::from_reader("y.csv", "a,b\n1,\n".as_bytes())
        .regression::<f32>()
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        r#"y.csv: line 2, column 2 ("b"): expected a number, found an empty field"#
    );
}

#[test]
fn an_empty_file_says_so() {
    let e = classification_error("empty.csv", "", &["empty.csv: line 1: the file is empty"]);
    assert_at(&e, 1, None, None, None);
    let e = Csv::from_reader("empty.csv", "\n\n".as_bytes())
        .header(false)
        .regression::<f32>()
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "empty.csv: line 1: the file is empty: expected rows of data"
    );
}

#[test]
fn a_header_without_rows_says_so() {
    let e = classification_error(
        "head.csv",
        IRIS_HEAD,
        &["head.csv: line 2: no rows of data after the header"],
    );
    assert_at(&e, 2, None, None, None);
}

#[test]
fn nan_and_infinity_are_refused() {
    for (value, line) in [("NaN", 3), ("inf", 3), ("-Infinity", 3), ("nan", 3)] {
        let text = format!("{IRIS_HEAD}5.1,3.5,1.4,0.2,0\n4.9,3.0,{value},0.2,0\n");
        let e = classification_error(
            "iris.csv",
            &text,
            &[
                &format!(r#"iris.csv: line {line}, column 3 ("petal length"): "#),
                &format!(r#"expected a finite number, found "{value}""#),
            ],
        );
        assert_at(&e, line, Some(3), Some("petal length"), Some(value));
    }
    // Finite in f64 but not in f32.
    let e = Csv::from_reader("big.csv", "x,y\n1e39,2\n".as_bytes())
        .regression::<f32>()
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        r#"big.csv: line 2, column 1 ("x"): expected a number within the range of f32, found "1e39" (out of range: the largest finite f32 is about 3.4e38)"#
    );
}

#[test]
fn a_number_beyond_f64_is_out_of_range() {
    let long = format!("1{}", "0".repeat(309)); // 1e309, in digits
    for value in ["1e999", "-1e400", &long] {
        let text = format!("{IRIS_HEAD}5.1,3.5,1.4,0.2,0\n4.9,3.0,{value},0.2,0\n");
        let e = Csv::from_reader("iris.csv", text.as_bytes())
            .regression::<f64>()
            .unwrap_err();
        let message = e.to_string();
        for part in [
            r#"iris.csv: line 3, column 3 ("petal length"): "#,
            "expected a number within the range of f64",
            "(out of range: the largest finite f64 is about 1.8e308)",
        ] {
            assert!(message.contains(part), "{part:?} is not in {message:?}");
        }
        assert!(!message.contains("NaN"), "{e}");
        let shown = match value.get(40..) {
            Some(rest) if !rest.is_empty() => format!("{}...", &value[..40]),
            _ => value.to_string(),
        };
        assert_at(&e, 3, Some(3), Some("petal length"), Some(&shown));
    }
}

#[test]
fn integer_labels_are_read_exactly() {
    // 2^53 + 1 would round to 2^53 through f64; 2^53 - 0.5 to 2^53 - 1.
    for (value, why) in [
        (
            "9007199254740993",
            "an integer no larger than 2^53 (9007199254740992)",
        ),
        ("9007199254740991.5", "an integer"),
    ] {
        let text = format!("{IRIS_HEAD}5.1,3.5,1.4,0.2,0\n4.9,3.0,1.4,0.2,{value}\n");
        let e = classification_error(
            "iris.csv",
            &text,
            &[&format!(
                r#"iris.csv: line 3, column 5 ("species"): expected a class label that is {why}, found "{value}""#
            )],
        );
        assert_at(&e, 3, Some(5), Some("species"), Some(value));
    }
    let text = format!("{IRIS_HEAD}5.1,3.5,1.4,0.2,2.0\n4.9,3.0,1.4,0.2,10e-1\n");
    let (data, labels) = Csv::from_reader("iris.csv", text.as_bytes())
        .classification::<f32>()
        .unwrap();
    assert_eq!(data.targets(), &[2, 1]);
    assert_eq!(labels, Labels::integers(3));
}

#[test]
fn a_class_named_nan_is_a_class() {
    let text = format!("{IRIS_HEAD}5.1,3.5,1.4,0.2,nan\n4.9,3.0,1.4,0.2,setosa\n");
    let (data, labels) = Csv::from_reader("iris.csv", text.as_bytes())
        .classification::<f32>()
        .unwrap();
    assert_eq!(labels.names().unwrap(), ["nan", "setosa"]);
    assert_eq!(data.targets(), &[0, 1]);
}

#[test]
fn a_negative_integer_label_is_refused() {
    let text = format!("{IRIS_HEAD}5.1,3.5,1.4,0.2,0\n4.9,3.0,1.4,0.2,-1\n");
    let e = classification_error(
        "iris.csv",
        &text,
        &[
            r#"iris.csv: line 3, column 5 ("species"): expected a class label that is a non-negative integer, found "-1""#,
        ],
    );
    assert_at(&e, 3, Some(5), Some("species"), Some("-1"));
}

#[test]
fn a_non_integer_label_is_refused() {
    let text = format!("{IRIS_HEAD}5.1,3.5,1.4,0.2,0\n4.9,3.0,1.4,0.2,1.5\n");
    let e = classification_error(
        "iris.csv",
        &text,
        &[
            r#"iris.csv: line 3, column 5 ("species"): expected a class label that is an integer, found "1.5""#,
        ],
    );
    assert_at(&e, 3, Some(5), Some("species"), Some("1.5"));
    // After a numeric first label, a name is a mistake, not a new class.
    let text = format!("{IRIS_HEAD}5.1,3.5,1.4,0.2,0\n4.9,3.0,1.4,0.2,1O\n");
    classification_error(
        "iris.csv",
        &text,
        &[
            r#"iris.csv: line 3, column 5 ("species"): expected an integer class label"#,
            r#"found "1O""#,
        ],
    );
}

#[test]
fn errors_of_a_file_on_disk_name_its_path() {
    let dir = std::env::temp_dir().join(format!("macrograd-csv-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("bad.csv");
    std::fs::write(&path, "a;b\n1;2\n3;x\n").unwrap();
    let e = Csv::from_path(&path)
        .delimiter(b';')
        .regression::<f32>()
        .unwrap_err();
    let expected = format!(
        r#"{}: line 3, column 2 ("b"): expected a number, found "x""#,
        path.display()
    );
    assert_eq!(e.to_string(), expected);
    std::fs::write(&path, "a;b\n1;2\n3;4\n").unwrap();
    let d = Csv::from_path(&path)
        .delimiter(b';')
        .regression::<f32>()
        .unwrap();
    assert_eq!(d.inputs(), array![[1.0_f32], [3.0]]);
    std::fs::remove_dir_all(&dir).unwrap();
}

// ---- good files read back exactly -----------------------------------------

/// A random dataset: `rows x features` values and integer targets 0..3.
fn random_table(rng: &mut Rng, rows: usize, features: usize) -> (Array2<f64>, Vec<usize>) {
    let x = Array2::from_shape_simple_fn((rows, features), || rng.normal() * 100.0);
    let y = (0..rows).map(|_| rng.below(3)).collect();
    (x, y)
}

fn to_csv(x: &Array2<f64>, y: &[String], header: Option<&[&str]>, target: usize) -> String {
    let mut out = String::new();
    if let Some(names) = header {
        out += &names.join(",");
        out.push('\n');
    }
    for (row, label) in x.rows().into_iter().zip(y) {
        let mut fields: Vec<String> = row.iter().map(|v| v.to_string()).collect();
        fields.insert(target, label.clone());
        out += &fields.join(",");
        out.push('\n');
    }
    out
}

#[test]
fn round_trip_with_a_header_and_the_target_by_name() {
    let mut rng = Rng::new(1);
    let (x, y) = random_table(&mut rng, 50, 3);
    let labels: Vec<String> = y.iter().map(usize::to_string).collect();
    let text = to_csv(&x, &labels, Some(&["a", "label", "b", "c"]), 1);
    let (d, mapping) = Csv::from_reader("t.csv", text.as_bytes())
        .target("label")
        .classification::<f64>()
        .unwrap();
    assert_eq!(d.inputs(), x, "f64 values read back bit for bit");
    assert_eq!(d.targets(), &y);
    assert_eq!(mapping, Labels::integers(3));
}

#[test]
fn round_trip_without_a_header_and_the_target_by_index() {
    let mut rng = Rng::new(2);
    let (x, y) = random_table(&mut rng, 40, 4);
    let labels: Vec<String> = y.iter().map(usize::to_string).collect();
    let text = to_csv(&x, &labels, None, 0);
    let (d, _) = Csv::from_reader("t.csv", text.as_bytes())
        .header(false)
        .target_index(0)
        .classification::<f64>()
        .unwrap();
    assert_eq!(d.inputs(), x);
    assert_eq!(d.targets(), &y);
    // The same file, as regression data in f32.
    let r: Dataset<f32, Rows> = Csv::from_reader("t.csv", text.as_bytes())
        .header(false)
        .target_index(0)
        .regression()
        .unwrap();
    assert_eq!(r.inputs(), x.mapv(|v| v as f32));
    let targets: Vec<f32> = y.iter().map(|&v| v as f32).collect();
    assert_eq!(r.targets().column(0).to_vec(), targets);
}

#[test]
fn round_trip_of_string_labels_in_sorted_order() {
    let mut rng = Rng::new(3);
    let (x, y) = random_table(&mut rng, 30, 2);
    let names = ["virginica", "setosa", "versicolor"];
    let labels: Vec<String> = y.iter().map(|&k| names[k].to_string()).collect();
    let text = to_csv(&x, &labels, Some(&["x1", "x2", "species"]), 2);
    let (d, mapping) = Csv::from_reader("t.csv", text.as_bytes())
        .classification::<f64>()
        .unwrap();
    assert_eq!(d.inputs(), x);
    assert_eq!(
        mapping.names().unwrap(),
        ["setosa", "versicolor", "virginica"]
    );
    for (&index, label) in d.targets().iter().zip(&labels) {
        assert_eq!(mapping.name(index).as_deref(), Some(label.as_str()));
        assert_eq!(mapping.index(label), Some(index));
    }
}

#[test]
fn several_regression_targets_by_name() {
    let text = "t2,x,t1\n1,2,3\n4,5,6\n";
    let d = Csv::from_reader("t.csv", text.as_bytes())
        .targets(["t1", "t2"])
        .regression::<f32>()
        .unwrap();
    assert_eq!(d.inputs(), array![[2.0_f32], [5.0]]);
    assert_eq!(d.targets(), array![[3.0_f32, 1.0], [6.0, 4.0]]);
}

// ---- preprocessing ----------------------------------------------------------

#[test]
fn standardize_applies_the_training_statistics_to_the_test_set() {
    let (iris, _) = datasets::iris();
    let (mut train, mut test) = iris.stratified_train_test_split(0.2, 5).unwrap();
    let original_test = test.inputs().to_owned();
    let scaler = Standardize::fit(&train);
    // The statistics are the training part's own.
    for j in 0..4 {
        let column = train.inputs().column(j).mapv(f64::from);
        let mean = column.mean().unwrap();
        let std = column.std(0.0);
        assert_close!(
            [scaler.mean()[j], scaler.scale()[j]],
            [mean, std],
            Tol::Abs(1e-9)
        );
    }
    scaler.transform(&mut train).unwrap();
    scaler.transform(&mut test).unwrap();
    // The test set is mapped with them, not with its own statistics.
    for ((i, j), &v) in test.inputs().indexed_iter() {
        let expected = (f64::from(original_test[[i, j]]) - scaler.mean()[j]) / scaler.scale()[j];
        assert_close!([f64::from(v)], [expected], Tol::Abs(1e-5));
    }
    let own = Standardize::fit(&original_test);
    assert_ne!(own.mean(), scaler.mean());
    // So the training part is centred and unit, the test part only nearly.
    let train_mean = train
        .inputs()
        .mean_axis(macrograd::ndarray::Axis(0))
        .unwrap();
    assert!(train_mean.iter().all(|m| m.abs() < 1e-5), "{train_mean}");
    let test_mean = test
        .inputs()
        .mean_axis(macrograd::ndarray::Axis(0))
        .unwrap();
    assert!(test_mean.iter().any(|m| m.abs() > 1e-3), "{test_mean}");
}

#[test]
fn min_max_maps_training_data_to_the_unit_interval() {
    let (wine, _) = datasets::wine();
    let (mut train, mut test) = wine.stratified_train_test_split(0.25, 1).unwrap();
    let scaler = MinMax::fit(&train);
    scaler.transform(&mut train).unwrap();
    scaler.transform(&mut test).unwrap();
    assert!(train.inputs().iter().all(|&v| (0.0..=1.0).contains(&v)));
    for j in 0..train.features() {
        let column = train.inputs().column(j).to_vec();
        assert_eq!(column.iter().cloned().fold(f32::MAX, f32::min), 0.0);
        assert!((column.iter().cloned().fold(f32::MIN, f32::max) - 1.0).abs() < 1e-6);
    }
}

#[test]
fn stratified_split_keeps_class_proportions() {
    let (cancer, _) = datasets::breast_cancer(); // 212 malignant, 357 benign
    let whole = cancer.class_counts();
    for (fraction, seed) in [(0.2, 0), (0.25, 1), (0.5, 2), (0.1, 3)] {
        let (rest, held) = cancer.stratified_split(fraction, seed).unwrap();
        let total = (fraction * cancer.len() as f64).round() as usize;
        assert_eq!(held.len(), total);
        assert_eq!(rest.len() + held.len(), cancer.len());
        for (label, &n) in &whole {
            let got = held.class_counts()[label];
            let exact = fraction * n as f64;
            assert!(
                (got as f64 - exact).abs() < 1.0,
                "class {label}: {got} held out, {exact} expected"
            );
        }
    }
    // A plain split of the same size is not held to the proportions.
    let (iris, _) = datasets::iris();
    let (_, test) = iris.stratified_train_test_split(0.2, 0).unwrap();
    assert_eq!(
        test.class_counts().into_values().collect::<Vec<_>>(),
        [10, 10, 10]
    );
    let (train, validation, test) = iris.stratified_split3(0.6, 0.2, 0.2, 0).unwrap();
    for (part, each) in [(&train, 30), (&validation, 10), (&test, 10)] {
        assert_eq!(
            part.class_counts().into_values().collect::<Vec<_>>(),
            [each; 3]
        );
    }
}

#[test]
fn splits_are_seeded_and_partition_the_data() {
    let (digits, _) = datasets::digits();
    let (a, b, c) = digits.split3(0.7, 0.15, 0.15, 4).unwrap();
    assert_eq!(a.len() + b.len() + c.len(), digits.len());
    let (a2, _, _) = digits.split3(0.7, 0.15, 0.15, 4).unwrap();
    assert_eq!(a.inputs(), a2.inputs());
    let shuffled = digits.shuffled(9);
    assert_eq!(shuffled.len(), digits.len());
    assert_ne!(shuffled.targets(), digits.targets());
    assert_eq!(shuffled.class_counts(), digits.class_counts());
}

// ---- built-in datasets --------------------------------------------------------

#[test]
fn built_in_datasets_have_their_documented_shapes() {
    fn check(
        (data, labels): (Dataset<f32, Classes>, Labels),
        samples: usize,
        features: usize,
        names: &[&str],
    ) {
        assert_eq!(
            (data.len(), data.features(), labels.len()),
            (samples, features, names.len())
        );
        for (k, name) in names.iter().enumerate() {
            assert_eq!(labels.name(k).as_deref(), Some(*name));
        }
        data.check_for(features, names.len()).unwrap();
    }
    check(
        datasets::iris(),
        150,
        4,
        &["setosa", "versicolor", "virginica"],
    );
    check(
        datasets::wine(),
        178,
        13,
        &["class_0", "class_1", "class_2"],
    );
    check(datasets::breast_cancer(), 569, 30, &["malignant", "benign"]);
    let digit_names: Vec<String> = (0..10).map(|d| d.to_string()).collect();
    let digit_names: Vec<&str> = digit_names.iter().map(String::as_str).collect();
    check(datasets::digits(), 1797, 64, &digit_names);
    let diabetes = datasets::diabetes();
    assert_eq!((diabetes.len(), diabetes.features()), (442, 10));
    assert_eq!(diabetes.targets().dim(), (442, 1));
    // The embedded text reads in f64 too.
    let (iris64, _) = Csv::from_reader("iris.csv", datasets::IRIS_CSV.as_bytes())
        .classification::<f64>()
        .unwrap();
    assert_eq!(iris64.inputs()[[0, 0]], 5.1);
}

/// Text categories, chosen and ordered features, and missing values: the
/// mapping in sorted order, kept with the data and through a split.
#[test]
fn csv_reads_text_categories_and_missing_values() {
    use macrograd::data::{Csv, Missing};
    let text = "species,island,length,sex,year\n\
                a,Dream,1.5,male,2007\n\
                b,Biscoe,NA,female,2007\n\
                a,Torgersen,2.5,NA,2008\n\
                b,Dream,3.5,female,2008\n";
    let read = |missing| {
        Csv::from_reader("p.csv", text.as_bytes())
            .target("species")
            .features(["length", "island", "sex"])
            .categories(["island", "sex"])
            .missing(missing)
            .classification::<f64>()
    };
    let e = read(Missing::Error).unwrap_err().to_string();
    assert!(
        e.contains("line 3, column 3 (\"length\")") && e.contains("missing value \"NA\""),
        "{e}"
    );
    // Drop: the rows with NA (lines 3 and 4) are left out, and with them
    // the only Biscoe and Torgersen: Dream is the one island left.
    let (data, _) = read(Missing::Drop).unwrap();
    assert_eq!(data.inputs(), array![[1.5, 0.0, 1.0], [3.5, 0.0, 0.0]]);
    assert_eq!(data.categories()[0].1.len(), 1);
    // Category: a missing sex is the category "NA"; a missing number drops
    // the row (Biscoe's).
    let (data, labels) = read(Missing::Category).unwrap();
    assert_eq!(
        data.inputs(),
        array![[1.5, 0.0, 2.0], [2.5, 1.0, 0.0], [3.5, 0.0, 1.0]]
    );
    assert_eq!(data.targets(), &[0, 0, 1]);
    assert_eq!(labels.names().unwrap(), ["a", "b"]);
    let names = |k: usize| -> Vec<String> {
        let l = &data.categories()[k].1;
        (0..l.len())
            .map(|i| l.name(i).unwrap().into_owned())
            .collect()
    };
    assert_eq!(data.categories()[0].0, 1);
    assert_eq!(names(0), ["Dream", "Torgersen"].map(String::from));
    assert_eq!(names(1), ["NA", "female", "male"].map(String::from));
    let (a, b) = data.split(0.34, 1).unwrap();
    assert_eq!(a.categories(), data.categories());
    assert_eq!(b.categories(), data.categories());
    // A category column must be a feature; a feature must exist.
    let e = Csv::from_reader("p.csv", text.as_bytes())
        .target("species")
        .features(["length", "island"])
        .categories(["sex"])
        .classification::<f64>()
        .unwrap_err()
        .to_string();
    assert!(e.contains("\"sex\" is not a feature"), "{e}");
    let e = Csv::from_reader("p.csv", text.as_bytes())
        .target("species")
        .features(["length", "weight"])
        .classification::<f64>()
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("no column is named \"weight\" (a feature)"),
        "{e}"
    );
}
