//! The error type of every fallible operation: what went wrong, where, and
//! the numbers involved.
//!
//! ```
//! # use macrograd_runtime as macrograd;
//! use macrograd::Error;
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
    /// A value of a `category(n)` input column that is not a category: not
    /// a whole number from 0 to `n - 1`.
    #[error(
        "sample {row}, column {column} is {value}, but the column is a category input of \
         {categories} categories: expected a whole number from 0 to {}",
        categories.saturating_sub(1)
    )]
    NotACategory {
        /// Zero-based sample index.
        row: usize,
        /// Zero-based column of the input rows.
        column: usize,
        /// The value found.
        value: f64,
        /// Categories of the input.
        categories: usize,
    },
    /// A text category that the mapping of its column does not have.
    #[error("row {row}, column {column}: unknown category {value:?}; the column's categories are {}", known.join(", "))]
    UnknownCategory {
        /// Zero-based row of the rows given.
        row: usize,
        /// Zero-based column.
        column: usize,
        /// The text found.
        value: String,
        /// The categories the column has, quoted.
        known: Vec<String>,
    },
    /// A NaN or infinity in the data.
    #[error("{what} contain the non-finite value {value} at sample {row}, column {column}")]
    NonFinite {
        /// `"inputs"`, `"targets"`, `"transformed inputs"` (a scaler's
        /// `transform`) or `"scaled inputs"` (a model's preprocessing).
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
    /// A file (or bytes given in its place) that is not what it claims to
    /// be: a truncated or corrupt safetensors file, a checksum that does
    /// not match, weights for another model, a history that is not the
    /// JSON [`History::to_json`](crate::history::History::to_json) writes.
    /// Nothing was changed.
    #[error("{path}: {message}")]
    InvalidFile {
        /// The file, or what the bytes are (`history JSON`).
        path: String,
        /// What is wrong, with every problem found.
        message: String,
    },
    /// A checkpoint whose optimizer or schedule state this model's
    /// declaration cannot take (another optimizer, a value out of range, a
    /// missing entry). Nothing was changed.
    #[error("{path}: the checkpoint does not match the model: {source}")]
    State {
        /// The checkpoint.
        path: String,
        /// Whose state was refused, and why.
        source: StateError,
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
    /// A model that cannot be written as ONNX (a layer without an ONNX
    /// form, a shape the exporter does not expect). Nothing was written.
    #[error("cannot export the model to ONNX: {message}")]
    Export {
        /// What cannot be exported, naming the layer.
        message: String,
    },
    /// A process of a distributed run failed, and every process stops
    /// with its error (see [`distributed`](crate::distributed)).
    #[error("process {rank} of the distributed run failed: {message}")]
    Distributed {
        /// The failing process's rank.
        rank: usize,
        /// Its error.
        message: String,
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

/// An [`Error::InvalidFile`] for `path` (a file, or what the data is, such
/// as `history JSON`).
pub(crate) fn invalid_data(path: &str, message: impl Into<String>) -> Error {
    Error::InvalidFile {
        path: path.to_string(),
        message: message.into(),
    }
}

/// Why a saved state cannot be loaded into an optimizer
/// ([`Optimizer::load_state`](crate::optim::Optimizer::load_state)) or a
/// schedule ([`Scheduler::load_state`](crate::schedule::Scheduler::load_state)):
/// whose state it is and every problem found. The loader changed nothing.
///
/// ```
/// # use macrograd_runtime as macrograd;
/// use macrograd::optim::{Optimizer, SGD, SGDConfig};
/// use macrograd::StateProblem;
/// let mut sgd = SGD::<f64>::new(SGDConfig { lr: 0.01, ..SGDConfig::default() }, &[2]);
/// let mut state = sgd.state();
/// state[0].1[0] = -1.0; // the learning rate
/// let err = sgd.load_state(&state).unwrap_err();
/// assert!(err.problems.iter().any(|p| matches!(p, StateProblem::OutOfRange { name, .. } if name == "lr")));
/// assert!(err.to_string().starts_with("cannot load the SGD state: "));
/// ```
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("cannot load the {owner} state: {}", join(.problems))]
pub struct StateError {
    /// The optimizer or schedule (`SGD`, `StepLR`).
    pub owner: String,
    /// Every problem, in the order found (at least one).
    pub problems: Vec<StateProblem>,
}

impl StateError {
    /// A state refused for one problem.
    pub fn new(owner: impl Into<String>, problem: StateProblem) -> Self {
        StateError {
            owner: owner.into(),
            problems: vec![problem],
        }
    }
}

fn join(problems: &[StateProblem]) -> String {
    let texts: Vec<String> = problems.iter().map(ToString::to_string).collect();
    texts.join("; ")
}

/// One problem of a saved state ([`StateError`]). Entries are named as
/// saved (`lr`, `0.momentum_buffer`, `declared.lr`, or a schedule's `t`).
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum StateProblem {
    /// An entry given more than once.
    #[error("`{name}` is given more than once")]
    Repeated {
        /// The entry.
        name: String,
    },
    /// A required entry that is absent.
    #[error("`{name}` is missing")]
    Missing {
        /// The entry.
        name: String,
    },
    /// An entry the loader does not know.
    #[error("unexpected entry `{name}`")]
    Unexpected {
        /// The entry.
        name: String,
    },
    /// An entry with another number of values than the model needs.
    #[error("`{name}` has {found} values, expected {expected}")]
    Length {
        /// The entry.
        name: String,
        /// Values the model needs.
        expected: usize,
        /// Values given.
        found: usize,
    },
    /// A schedule's state with another number of values than its layout.
    #[error("a state holds {expected} values ({layout}), found {found}")]
    Layout {
        /// The values, in order (`base_lr, t`).
        layout: &'static str,
        /// The layout's length.
        expected: usize,
        /// Values given.
        found: usize,
    },
    /// A value outside the range its entry may take.
    #[error("{}", out_of_range(.name, *.index, *.value, .expected))]
    OutOfRange {
        /// The entry.
        name: String,
        /// The value's index in a buffer; `None` for a single value.
        index: Option<usize>,
        /// The value.
        value: f64,
        /// The range (`a finite number >= 0`, `in [0, 1)`).
        expected: &'static str,
    },
    /// A value the model's element type cannot hold exactly.
    #[error("`{name}` holds {value:?} at index {index}, which {dtype} cannot represent exactly")]
    Inexact {
        /// The entry.
        name: String,
        /// The value's index.
        index: usize,
        /// The value.
        value: f64,
        /// The element type (`f32`).
        dtype: &'static str,
    },
    /// A hyperparameter saved with another value than this declaration's:
    /// resuming continues the run that was declared.
    #[error(
        "the state was saved by an optimizer declared with {name} = {saved:?}, \
         this one is declared with {name} = {declared:?}"
    )]
    Declared {
        /// The hyperparameter (`lr`, `momentum`).
        name: String,
        /// Its value in the state.
        saved: f64,
        /// Its value in this declaration.
        declared: f64,
    },
    /// A SequentialLR state that does not hang together: fewer values than
    /// its own five, an index that does not match its step count, or no
    /// schedule to load the rest into.
    #[error("{message}")]
    Inconsistent {
        /// What disagrees, with the values.
        message: String,
    },
    /// A schedule that does not save its state, so that a run cannot
    /// resume it (a schedule written outside this crate that keeps the
    /// default [`Scheduler::state`](crate::schedule::Scheduler::state)).
    #[error("this schedule does not save its state, so a run cannot resume it")]
    NotSaved,
}

/// [`StateProblem::OutOfRange`]'s text, for a buffer's value or a single
/// value.
fn out_of_range(name: &str, index: Option<usize>, value: f64, expected: &str) -> String {
    match index {
        Some(i) => format!("`{name}` holds {value:?} at index {i}, expected {expected}"),
        None => format!("`{name}` must be {expected}, found {value:?}"),
    }
}
