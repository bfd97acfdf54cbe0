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
    Csv(Box<CsvError>),
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

/// What [`Error::Csv`] carries: where in which file, and what is wrong.
///
/// Displayed as `path: line 4, column 2 ("sepal width"): message`, leaving
/// out the parts that are not known; the message quotes the value too.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CsvError {
    /// The file, or the name given to a reader.
    pub path: String,
    /// 1-based line where the record starts, if the error has one.
    pub line: Option<u64>,
    /// 1-based column, if the error is about one field.
    pub column: Option<usize>,
    /// The header's name of that column, if the file has a header.
    pub column_name: Option<String>,
    /// The offending text (a field), cut to 40 characters, if there is one.
    pub value: Option<String>,
    /// What is wrong, quoting the value.
    pub message: String,
}

impl std::fmt::Display for CsvError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.path)?;
        if let Some(line) = self.line {
            write!(f, ": line {line}")?;
        }
        if let Some(column) = self.column {
            let sep = if self.line.is_some() { "," } else { ":" };
            write!(f, "{sep} column {column}")?;
            if let Some(name) = &self.column_name {
                write!(f, " ({name:?})")?;
            }
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for CsvError {}

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// An [`Error::Io`] of kind `InvalidData` for `path` (a file, or what the
/// data is, such as `history JSON`).
pub(crate) fn invalid_data(path: &str, message: impl Into<String>) -> Error {
    Error::Io {
        path: path.to_string(),
        source: std::io::Error::new(std::io::ErrorKind::InvalidData, message.into()),
    }
}
