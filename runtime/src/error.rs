//! The error type of every fallible operation: what went wrong, where, and
//! the numbers involved.
//!
//! ```
//! use macrograd_runtime::Error;
//! let e = Error::InputWidth { expected: 10, found: 3 };
//! assert_eq!(e.to_string(), "inputs have 3 features per sample, but the model expects 10");
//! ```

/// Everything that can go wrong in macrograd at run time.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A batch of inputs with the wrong number of features.
    #[error("inputs have {found} features per sample, but the model expects {expected}")]
    InputWidth {
        /// Features the model takes.
        expected: usize,
        /// Features the data has.
        found: usize,
    },
    /// Target rows with the wrong number of columns.
    #[error("targets have {found} columns per sample, but the model produces {expected} outputs")]
    TargetWidth {
        /// Outputs of the model.
        expected: usize,
        /// Columns of the targets.
        found: usize,
    },
    /// Different numbers of input samples and targets.
    #[error("{inputs} input samples but {targets} targets")]
    SampleCount {
        /// Input rows.
        inputs: usize,
        /// Target rows or labels.
        targets: usize,
    },
    /// A class label not below the number of classes.
    #[error("class label {label} of sample {row} is out of range for {classes} classes (expected 0..{classes})")]
    LabelOutOfRange {
        /// Zero-based sample index.
        row: usize,
        /// The offending label.
        label: usize,
        /// Outputs of the model.
        classes: usize,
    },
    /// A NaN or infinity in the data.
    #[error("{what} contain the non-finite value {value} at sample {row}, column {column}")]
    NonFinite {
        /// `"inputs"` or `"targets"`.
        what: &'static str,
        /// Zero-based sample index.
        row: usize,
        /// Zero-based column index.
        column: usize,
        /// The value, as `f64`.
        value: f64,
    },
    /// A dataset with no samples.
    #[error("the dataset is empty: expected at least one sample")]
    EmptyDataset,
    /// A target value the loss cannot read (a BCE target outside `[0, 1]`).
    #[error("target {value} at sample {row}, column {column} is outside {expected}")]
    TargetOutOfRange {
        /// Zero-based sample index.
        row: usize,
        /// Zero-based column index.
        column: usize,
        /// The value, as `f64`.
        value: f64,
        /// The range, with the loss that needs it (`[0, 1], which BCE
        /// needs`).
        expected: &'static str,
    },
    /// What is wrong with the validation data (given to
    /// `Fit::validation_data`), as opposed to the training data.
    #[error("validation data: {0}")]
    ValidationData(Box<Error>),
    /// A setting of `Fit` (or another configuration) outside its range.
    #[error("invalid setting `{name}`: {message}")]
    InvalidSetting {
        /// The setting, as spelled in the API (`batch_size`).
        name: &'static str,
        /// What is wrong, with the value.
        message: String,
    },
    /// An input/output error, with the file involved.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A CSV file that cannot be read as a dataset: the file, the 1-based
    /// line and column (with the header's name for it) and the offending
    /// value (boxed, so that every `Result` stays small).
    #[error("{0}")]
    Csv(Box<crate::data::CsvError>),
    /// A fitted preprocessing step applied to data of another width.
    #[error("`{transform}` was fitted on {fitted} columns, but the data has {found}")]
    FittedWidth {
        /// The preprocessing step (`Standardize`, `MinMax`).
        transform: &'static str,
        /// Columns of the data it was fitted on.
        fitted: usize,
        /// Columns of the data it was applied to.
        found: usize,
    },
    /// Drawing a plot or encoding its image failed.
    #[error("{path}: cannot draw the plot: {message}")]
    Plot {
        /// The file being drawn.
        path: String,
        /// What the plotting library or the image encoder reported.
        message: String,
    },
}

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
