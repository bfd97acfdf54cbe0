//! A model's [`Preprocessing`] in a file's metadata, under
//! [`PREPROCESSING_KEY`](crate::io::PREPROCESSING_KEY); the format is in
//! the [module docs](crate::io).

use serde::{Deserialize, Serialize};

use super::source_message;
use crate::data::{Labels, MinMax, Preprocessing, Scaler, Standardize};

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Saved {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    scaler: Option<SavedScaler>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    labels: Option<SavedLabels>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    categories: Vec<SavedCategories>,
}

/// The names of an input column's categories.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SavedCategories {
    column: usize,
    names: Vec<String>,
}

#[derive(Serialize, Deserialize)]
#[serde(tag = "kind", deny_unknown_fields)]
enum SavedScaler {
    Standardize { mean: Vec<f64>, scale: Vec<f64> },
    MinMax { min: Vec<f64>, max: Vec<f64> },
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
enum SavedLabels {
    Names(Vec<String>),
    Integers(usize),
}

/// The JSON of `preprocessing`, or `None` if it is empty.
pub(super) fn encode(preprocessing: &Preprocessing) -> Option<String> {
    if preprocessing.is_empty() {
        return None;
    }
    let scaler = preprocessing.scaler().map(|scaler| match scaler {
        Scaler::Standardize(s) => SavedScaler::Standardize {
            mean: s.mean().to_vec(),
            scale: s.scale().to_vec(),
        },
        Scaler::MinMax(s) => SavedScaler::MinMax {
            min: s.min().to_vec(),
            max: s.max().to_vec(),
        },
    });
    let labels = preprocessing.labels().map(|labels| match labels.names() {
        Some(names) => SavedLabels::Names(names.to_vec()),
        None => SavedLabels::Integers(labels.len()),
    });
    let categories = preprocessing
        .categories()
        .iter()
        .map(|(column, names)| SavedCategories {
            column: *column,
            names: (0..names.len())
                .filter_map(|i| names.name(i).map(|n| n.into_owned()))
                .collect(),
        })
        .collect();
    let json = serde_json::to_string(&Saved {
        scaler,
        labels,
        categories,
    });
    Some(json.expect("numbers and strings serialize"))
}

/// The preprocessing `text` describes, checked for a model of `inputs`
/// inputs and `classes` classes; the error is a sentence for the file's
/// list of problems.
pub(super) fn decode(
    text: &str,
    inputs: usize,
    classes: Option<usize>,
    model_categories: &[(usize, usize)],
) -> std::result::Result<Preprocessing, String> {
    let saved: Saved = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let mut preprocessing = Preprocessing::new();
    if let Some(scaler) = saved.scaler {
        let scaler: Scaler = match scaler {
            SavedScaler::Standardize { mean, scale } => Standardize::from_parts(mean, scale)
                .map_err(|e| source_message(&e))?
                .into(),
            SavedScaler::MinMax { min, max } => MinMax::from_min_max(min, max)
                .map_err(|e| source_message(&e))?
                .into(),
        };
        preprocessing = preprocessing.with_scaler(scaler);
    }
    if let Some(labels) = saved.labels {
        let labels = match labels {
            SavedLabels::Names(names) => Labels::named(names).map_err(|e| source_message(&e))?,
            SavedLabels::Integers(n) => Labels::integers(n),
        };
        preprocessing = preprocessing.with_labels(labels);
    }
    if !saved.categories.is_empty() {
        let mut categories = Vec::with_capacity(saved.categories.len());
        for saved in saved.categories {
            let names = Labels::named(saved.names).map_err(|e| source_message(&e))?;
            categories.push((saved.column, names));
        }
        preprocessing = preprocessing.with_categories(categories);
    }
    preprocessing
        .check_for(inputs, classes, model_categories)
        .map_err(|e| source_message(&e))?;
    Ok(preprocessing)
}
