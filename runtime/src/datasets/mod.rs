//! Five small real datasets, built into the library: one call, no file, any
//! working directory; and seeded two-dimensional toy problems
//! ([`moons`], [`circles`], [`spirals`]) for looking at decision
//! boundaries.
//!
//! | loader | samples | features | target |
//! | --- | --- | --- | --- |
//! | [`iris`] | 150 | 4 | species, 3 classes |
//! | [`wine`] | 178 | 13 | cultivar, 3 classes |
//! | [`breast_cancer`] | 569 | 30 | malignant / benign, 2 classes |
//! | [`digits`] | 1797 | 64 (8x8 pixels) | digit, 10 classes |
//! | [`diabetes`] | 442 | 10 | disease progression, regression |
//!
//! The loaders return `f32` data, the element type models have by default.
//! For `f64` (or to see the text), read the embedded CSV with [`Csv`]:
//! `Csv::from_reader("iris.csv", IRIS_CSV.as_bytes()).classification::<f64>()`.
//! The features are as published (not scaled) and the rows in
//! scikit-learn's order, sorted by class for iris and wine: shuffle or split
//! before training, and fit a [`Standardize`](crate::data::Standardize) on
//! the training part. Origins and licences: `data/README.md`.
//!
//! ```
//! # use macrograd_runtime as macrograd;
//! use macrograd::datasets;
//! let (iris, species) = datasets::iris();
//! assert_eq!((iris.len(), iris.features(), species.len()), (150, 4, 3));
//! assert_eq!(species.name(iris.targets()[0]).as_deref(), Some("setosa"));
//! ```

mod toy;

pub use self::toy::{circles, moons, spirals};

use crate::data::{Csv, Dataset, Labels};
use crate::target::{Classes, Rows};

/// `iris.csv`: a header and 150 rows of 4 measurements and the species
/// (0, 1, 2).
pub const IRIS_CSV: &str = include_str!("../../../data/iris.csv");
/// `wine.csv`: a header and 178 rows of 13 measurements and the cultivar
/// (0, 1, 2).
pub const WINE_CSV: &str = include_str!("../../../data/wine.csv");
/// `breast_cancer.csv`: a header and 569 rows of 30 measurements and
/// `benign` (0 = malignant, 1 = benign).
pub const BREAST_CANCER_CSV: &str = include_str!("../../../data/breast_cancer.csv");
/// `digits.csv`: a header and 1797 rows of 64 pixels (0..16) and the digit.
pub const DIGITS_CSV: &str = include_str!("../../../data/digits.csv");
/// `diabetes.csv`: a header and 442 rows of 10 measurements and the disease
/// progression.
pub const DIABETES_CSV: &str = include_str!("../../../data/diabetes.csv");

/// Reads an embedded classification file; its tests prove it reads.
fn classes(name: &str, text: &'static str, labels: &[&str]) -> (Dataset<f32, Classes>, Labels) {
    let (data, _) = Csv::from_reader(name, text.as_bytes())
        .classification()
        .unwrap_or_else(|e| panic!("the embedded {name} does not read: {e}"));
    let labels = Labels::named(labels.iter().copied())
        .unwrap_or_else(|e| panic!("the class names of {name}: {e}"));
    (data, labels)
}

/// Fisher's iris (1936): 150 flowers, 50 of each of three species, 4
/// features (sepal length, sepal width, petal length, petal width, in cm).
/// Target: the species, 0 `setosa`, 1 `versicolor`, 2 `virginica`.
/// Setosa is linearly separable from the others; the other two overlap a
/// little. UCI Machine Learning Repository, CC BY 4.0.
///
/// The rows are sorted by species: split before training.
///
/// # Panics
///
/// Only if the embedded file does not read, which this module's tests rule
/// out.
pub fn iris() -> (Dataset<f32, Classes>, Labels) {
    classes("iris.csv", IRIS_CSV, &["setosa", "versicolor", "virginica"])
}

/// UCI Wine: 178 wines from three cultivars of one region of Italy (59, 71
/// and 48), 13 features from a chemical analysis (alcohol, malic acid, ash,
/// ..., proline, in very different units: standardize them). Target: the
/// cultivar, named `class_0`, `class_1`, `class_2` as scikit-learn names
/// them. UCI Machine Learning Repository, CC BY 4.0.
///
/// The rows are sorted by cultivar: split before training.
///
/// # Panics
///
/// Only if the embedded file does not read, which this module's tests rule
/// out.
pub fn wine() -> (Dataset<f32, Classes>, Labels) {
    classes("wine.csv", WINE_CSV, &["class_0", "class_1", "class_2"])
}

/// UCI Breast Cancer Wisconsin (Diagnostic): 569 tumours, 30 features
/// (mean, standard error and worst value of 10 measurements of cell nuclei
/// in an image of a fine-needle aspirate). Target: 0 `malignant` (212),
/// 1 `benign` (357), as scikit-learn encodes it. UCI Machine Learning
/// Repository, CC BY 4.0.
///
/// # Panics
///
/// Only if the embedded file does not read, which this module's tests rule
/// out.
pub fn breast_cancer() -> (Dataset<f32, Classes>, Labels) {
    classes(
        "breast_cancer.csv",
        BREAST_CANCER_CSV,
        &["malignant", "benign"],
    )
}

/// UCI Optical Recognition of Handwritten Digits (scikit-learn's 8x8
/// version): 1797 images, 64 features, the pixels row by row, each an
/// integer 0..16. Target: the digit, 0 to 9, named `"0"` to `"9"`, about
/// 180 of each. UCI Machine Learning Repository, CC BY 4.0.
///
/// # Panics
///
/// Only if the embedded file does not read, which this module's tests rule
/// out.
pub fn digits() -> (Dataset<f32, Classes>, Labels) {
    classes(
        "digits.csv",
        DIGITS_CSV,
        &["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"],
    )
}

/// The diabetes data of Efron, Hastie, Johnstone and Tibshirani, "Least
/// Angle Regression" (Annals of Statistics, 2004): 442 patients, 10
/// features as measured (not scaled): age, sex (1 or 2), body mass index,
/// mean blood pressure and six blood serum measurements `s1`..`s6`.
/// Target (one column): a measure of disease progression one year after
/// the baseline, 25 to 346.
///
/// # Panics
///
/// Only if the embedded file does not read, which this module's tests rule
/// out.
pub fn diabetes() -> Dataset<f32, Rows> {
    Csv::from_reader("diabetes.csv", DIABETES_CSV.as_bytes())
        .regression()
        .unwrap_or_else(|e| panic!("the embedded diabetes.csv does not read: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datasets_have_their_documented_shapes() {
        let shapes = [
            (iris(), 150, 4, 3),
            (wine(), 178, 13, 3),
            (breast_cancer(), 569, 30, 2),
            (digits(), 1797, 64, 10),
        ];
        for ((data, labels), samples, features, classes) in shapes {
            assert_eq!(
                (data.len(), data.features(), labels.len()),
                (samples, features, classes)
            );
            assert_eq!(data.class_counts().len(), classes);
            data.check_for(features, classes).unwrap();
        }
        let d = diabetes();
        assert_eq!((d.len(), d.features(), d.targets().ncols()), (442, 10, 1));
    }

    #[test]
    fn datasets_class_counts_match_the_docs() {
        let counts = |d: Dataset<f32, Classes>| d.class_counts().into_values().collect::<Vec<_>>();
        assert_eq!(counts(iris().0), [50, 50, 50]);
        assert_eq!(counts(wine().0), [59, 71, 48]);
        assert_eq!(counts(breast_cancer().0), [212, 357]);
        let d = diabetes();
        let y = d.targets().column(0);
        let (lo, hi) = y
            .iter()
            .fold((f32::MAX, f32::MIN), |(a, b), &v| (a.min(v), b.max(v)));
        assert_eq!((lo, hi), (25.0, 346.0));
    }
}
