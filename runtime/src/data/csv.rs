//! Datasets from CSV: a builder that names the target columns, reads every
//! other column as a feature, and reports any bad field by file, line,
//! column and value. The rules are in [`Csv`]'s documentation.
//!
//! ```
//! # use macrograd_runtime as macrograd;
//! use macrograd::data::Csv;
//! let text = "x,y\n1,2\n3,4\n";
//! let data = Csv::from_reader("t.csv", text.as_bytes()).regression::<f64>()?;
//! assert_eq!(data.targets()[[1, 0]], 4.0);
//! # Ok::<(), macrograd::Error>(())
//! ```

use std::borrow::Cow;
use std::collections::{HashMap, VecDeque};
use std::io::Read;
use std::path::{Path, PathBuf};

use ndarray::Array2;

use super::Dataset;
use crate::error::CsvError;
use crate::target::{Classes, Rows};
use crate::{Error, Float, Result};

/// Values and names quoted in messages are cut to this many characters.
const SHOWN_CHARS: usize = 40;

/// Names listed in the message of a target that names no column.
const LISTED_NAMES: usize = 8;

/// The largest integer class label: 2^53, up to which `f64` holds every
/// integer (2^53 + 1 it cannot), so that a label survives being written as
/// a float (one-hot rows, JSON, NumPy).
const MAX_LABEL: u64 = 1 << 53;

/// Where the bytes come from.
enum Source<'a> {
    Path(PathBuf),
    Reader(Box<dyn Read + 'a>),
}

/// Which columns are targets.
#[derive(Clone, Debug)]
enum Targets {
    Last,
    Names(Vec<String>),
    Indices(Vec<usize>),
}

/// A CSV file (or reader) to be read as a [`Dataset`]: set the options,
/// then call [`Csv::regression`] or [`Csv::classification`].
///
/// Defaults: a header row, `,` between fields, the last column as the
/// target. Every column that is not a target is a feature, in file order.
///
/// Every field of a feature (or regression target) column must be a finite
/// number as Rust's `f32`/`f64` parsing reads it (`1`, `-2.5`, `1e-3`),
/// rounded to the nearest value of the type (so `1e-400` reads as 0). A
/// number beyond the type's range (`1e400`, or `1e39` for `f32`) is an
/// "out of range" error; `NaN`, `inf` and `infinity` (any case, any sign)
/// are refused as not finite. A missing value (an empty field, `NA` or
/// `N/A`) is an error naming its line and column, unless [`Csv::missing`]
/// says to leave such rows out or (in category columns) to make missing a
/// category of its own, named `NA`. Columns of text categories
/// ([`Csv::categories`]) are read as class indices, numbered in the sorted
/// order of the names seen, the mapping kept in [`Dataset::categories`];
/// [`Csv::features`] chooses the feature columns and their order. Spaces
/// around a field are ignored, blank lines are
/// skipped, quoting follows RFC 4180 (the `csv` crate), a UTF-8 byte-order
/// mark is dropped.
///
/// Class labels are integers or names:
///
/// - If the first row's label is a number in decimal notation (digits,
///   maybe a sign, a `.` and an exponent: `2`, `2.0`, `+2`, `2e0`), the
///   labels are integers and map to themselves: each must be a number
///   whose exact value is a non-negative integer no larger than 2^53
///   (9007199254740992), and [`Labels::len`] is the largest one plus 1.
///   The value is worked out from the digits, never through a float:
///   `20e-1` and `2.000` are 2, `9007199254740993` is too large (not
///   rounded to 2^53), `9007199254740991.5` is not an integer, `-0` is 0.
/// - Otherwise the labels are names (any text, `"3"` included, and `nan`
///   or `inf`, which are not decimal notation), numbered in the sorted
///   order of the distinct names, as scikit-learn's `LabelEncoder` numbers
///   them: `cat, dog, cat, bird` gives `bird = 0`, `cat = 1`, `dog = 2`.
///
/// Reading never panics and allocates in proportion to the input only: a
/// huge number in a field is an error or a number, never a size. Errors
/// ([`Error::Csv`], see [`CsvError`]) name the file and, where they apply,
/// the 1-based line, the 1-based column with its header name, and the
/// value.
///
/// # Examples
///
/// ```
/// # use macrograd_runtime as macrograd;
/// use macrograd::data::Csv;
/// let text = "\
/// length,width,species
/// 5.1,3.5,setosa
/// 7.0,3.2,versicolor
/// 6.3,3.3,virginica
/// ";
/// let (data, labels) = Csv::from_reader("flowers.csv", text.as_bytes())
///     .target("species")
///     .classification::<f32>()?;
/// assert_eq!((data.len(), data.features(), labels.len()), (3, 2, 3));
/// assert_eq!(labels.name(1).as_deref(), Some("versicolor"));
///
/// let bad = "length,width,species\n5.1,3.5,setosa\n\n7.0,wide,versicolor\n";
/// let e = Csv::from_reader("flowers.csv", bad.as_bytes()).classification::<f32>().unwrap_err();
/// assert_eq!(
///     e.to_string(),
///     r#"flowers.csv: line 4, column 2 ("width"): expected a number, found "wide""#
/// );
/// # Ok::<(), macrograd::Error>(())
/// ```
pub struct Csv<'a> {
    name: String,
    source: Source<'a>,
    header: bool,
    delimiter: u8,
    targets: Targets,
    features: Option<Vec<String>>,
    categories: Vec<String>,
    missing: Missing,
}

/// What [`Csv`] does with a missing value: an empty field, `NA` or `N/A`
/// (as R and pandas write one) in a column it reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Missing {
    /// An error naming the line and column (the default).
    #[default]
    Error,
    /// The row is left out.
    Drop,
    /// In a category column ([`Csv::categories`]), missing is a category
    /// of its own, named `NA`; a row missing a number or a target is left
    /// out.
    Category,
}

/// The name [`Missing::Category`] gives the missing category.
pub const MISSING_CATEGORY: &str = "NA";

impl std::fmt::Debug for Csv<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Csv")
            .field("name", &self.name)
            .field("header", &self.header)
            .field("delimiter", &char::from(self.delimiter))
            .field("targets", &self.targets)
            .finish_non_exhaustive()
    }
}

impl Csv<'static> {
    /// The file at `path`, opened when the data is read. Messages name it
    /// as `path` is written.
    pub fn from_path(path: impl AsRef<Path>) -> Self {
        let path = path.as_ref();
        Csv::new(path.display().to_string(), Source::Path(path.to_path_buf()))
    }
}

impl<'a> Csv<'a> {
    /// CSV text from any reader (a file, `text.as_bytes()`, a network
    /// stream); `name` stands for the file in messages.
    pub fn from_reader(name: impl Into<String>, reader: impl Read + 'a) -> Self {
        Csv::new(name.into(), Source::Reader(Box::new(reader)))
    }

    fn new(name: String, source: Source<'a>) -> Self {
        Csv {
            name,
            source,
            header: true,
            delimiter: b',',
            targets: Targets::Last,
            features: None,
            categories: Vec::new(),
            missing: Missing::Error,
        }
    }

    /// Whether the first row holds the column names (default `true`).
    /// Without a header, targets are chosen by index (or left at the last
    /// column), not by name.
    pub fn header(mut self, header: bool) -> Self {
        self.header = header;
        self
    }

    /// The byte between fields (default `b','`; `b';'`, `b'\t'`, ...).
    pub fn delimiter(mut self, delimiter: u8) -> Self {
        self.delimiter = delimiter;
        self
    }

    /// The target is the column the header names `name`.
    pub fn target(self, name: &str) -> Self {
        self.targets([name])
    }

    /// The target is column `index`, counted from 0 as Rust counts (messages
    /// count columns from 1, as editors and spreadsheets do).
    pub fn target_index(self, index: usize) -> Self {
        self.target_indices([index])
    }

    /// Several target columns by name, in the order of the target rows'
    /// columns (regression and multi-label data).
    pub fn targets<I, S>(mut self, names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.targets = Targets::Names(names.into_iter().map(Into::into).collect());
        self
    }

    /// The feature columns, by header name, in the order the inputs take
    /// them (a model with named inputs reads its inputs' columns side by
    /// side, in the order it declares them). Columns that are neither a
    /// feature nor a target are not read. Without it, every column that is
    /// not a target is a feature, in file order.
    pub fn features<I, S>(mut self, names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.features = Some(names.into_iter().map(Into::into).collect());
        self
    }

    /// Feature columns of text categories (`Torgersen`, `Biscoe`), by header
    /// name: each distinct text becomes a class index, numbered in sorted
    /// order (as class labels are), stored as a number in the inputs; the
    /// mapping is the dataset's ([`Dataset::categories`]), for a model's
    /// `category(n)` input and an `Embedding`.
    pub fn categories<I, S>(mut self, names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.categories = names.into_iter().map(Into::into).collect();
        self
    }

    /// What to do with a missing value ([`Missing`]; default: an error).
    pub fn missing(mut self, missing: Missing) -> Self {
        self.missing = missing;
        self
    }

    /// Several target columns by index (from 0), in the order of the target
    /// rows' columns.
    pub fn target_indices(mut self, indices: impl IntoIterator<Item = usize>) -> Self {
        self.targets = Targets::Indices(indices.into_iter().collect());
        self
    }

    /// Reads regression (or multi-label) data: the target columns become
    /// float rows, the others the inputs.
    ///
    /// # Errors
    ///
    /// [`Error::Io`] if the file cannot be opened or read; [`Error::Csv`]
    /// for an empty file or one with a header only, a row shorter or longer
    /// than the header (the first row without one), a field that is empty,
    /// not a number, NaN or infinite, or beyond `T`'s range, a field the
    /// `csv` parser refuses, and target columns that do not exist, repeat,
    /// leave no feature, or are named in a file read without a header. The
    /// message names the file and, where they apply, the line, the column
    /// (its header name too) and the value.
    pub fn regression<T: Float>(self) -> Result<Dataset<T, Rows>> {
        let table = self.read::<T>(Kind::Regression)?;
        let Labelled::Rows(targets) = table.targets else {
            unreachable!("a regression read produces target rows")
        };
        let width = table.target_columns;
        let targets = Array2::from_shape_vec((table.rows, width), targets)
            .map_err(|e| table.context.error(None, None, None, e.to_string()))?;
        Dataset::regression(table.inputs, targets)?.with_categories(table.categories)
    }

    /// Reads classification data: one target column of class labels
    /// (integers or names, see [`Csv`]), the others the inputs. Returns the
    /// dataset and the label mapping.
    ///
    /// # Errors
    ///
    /// As [`Csv::regression`], and for more than one target column, an
    /// empty label, a label that is not UTF-8, or (integer labels) a label
    /// that is not a number in decimal notation, is negative, is not
    /// exactly an integer, or is above 2^53.
    pub fn classification<T: Float>(self) -> Result<(Dataset<T, Classes>, Labels)> {
        let table = self.read::<T>(Kind::Classification)?;
        let Labelled::Classes(state) = table.targets else {
            unreachable!("a classification read produces labels")
        };
        let (labels, mapping) = state.finish();
        let data = Dataset::classification(table.inputs, labels)?;
        Ok((data.with_categories(table.categories)?, mapping))
    }

    /// Reads every row: the inputs and the targets as `kind` wants them.
    fn read<T: Float>(self, kind: Kind) -> Result<Table<T>> {
        let mut context = Context {
            path: self.name,
            names: None,
            header: self.header,
        };
        let reader: Box<dyn Read + 'a> = match self.source {
            Source::Reader(reader) => reader,
            Source::Path(path) => match std::fs::File::open(&path) {
                Ok(file) => Box::new(file),
                Err(source) => {
                    return Err(Error::Io {
                        path: context.path,
                        source,
                    })
                }
            },
        };
        let mut reader = ::csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(self.delimiter)
            .from_reader(Lines::new(reader));
        let mut record = ::csv::ByteRecord::new();

        // The header, then the first row of data.
        let mut header_line = None;
        if self.header {
            let Some(line) = context.next(&mut reader, &mut record)? else {
                return Err(context.error(
                    Some(1),
                    None,
                    None,
                    "the file is empty: expected a header row and rows of data".into(),
                ));
            };
            header_line = Some(line);
            let names = record
                .iter()
                .map(|f| String::from_utf8_lossy(f.trim_ascii()));
            context.names = Some(names.map(Cow::into_owned).collect());
        }
        let Some(mut line) = context.next(&mut reader, &mut record)? else {
            let message = if self.header {
                "no rows of data after the header"
            } else {
                "the file is empty: expected rows of data"
            };
            let line = header_line.map_or(1, |l| l + 1);
            return Err(context.error(Some(line), None, None, message.into()));
        };
        let width = context.names.as_ref().map_or(record.len(), Vec::len);
        let first = Some(header_line.unwrap_or(line));
        let targets = context.resolve(&self.targets, width, first)?;
        if kind == Kind::Classification && targets.len() != 1 {
            return Err(context.error(
                first,
                None,
                None,
                format!(
                    "classification takes one target column, found {} selected",
                    targets.len()
                ),
            ));
        }
        // For each column: `Some(k)` for the k-th target.
        let mut role = vec![None; width];
        for (k, &column) in targets.iter().enumerate() {
            role[column] = Some(k);
        }
        // The feature columns, in the inputs' order; each column's place.
        let feature_columns: Vec<usize> = match &self.features {
            None => (0..width).filter(|&c| role[c].is_none()).collect(),
            Some(names) => {
                let mut columns = Vec::with_capacity(names.len());
                for name in names {
                    let c = context.column_named(name, "feature", first)?;
                    if role[c].is_some() || columns.contains(&c) {
                        return Err(context.error(
                            first,
                            None,
                            None,
                            format!(
                                "the feature {:?} is selected twice, or is a target",
                                shown(name.as_bytes())
                            ),
                        ));
                    }
                    columns.push(c);
                }
                columns
            }
        };
        if feature_columns.is_empty() {
            return Err(context.error(first, None, None, "no feature column is selected".into()));
        }
        let mut place = vec![None; width];
        for (p, &c) in feature_columns.iter().enumerate() {
            place[c] = Some(p);
        }
        let mut category_of = vec![None; width];
        let mut states = Vec::with_capacity(self.categories.len());
        for name in &self.categories {
            let c = context.column_named(name, "category", first)?;
            if place[c].is_none() || category_of[c].is_some() {
                return Err(context.error(
                    first,
                    None,
                    None,
                    format!(
                        "the category column {:?} is not a feature, or is named twice",
                        shown(name.as_bytes())
                    ),
                ));
            }
            category_of[c] = Some(states.len());
            states.push(CategoryState::default());
        }
        let columns = Columns {
            width,
            role,
            place,
            category_of,
            missing: self.missing,
        };

        let mut table = Table {
            inputs: Array2::zeros((0, 0)),
            rows: 0,
            target_columns: targets.len(),
            targets: match kind {
                Kind::Regression => Labelled::Rows(Vec::new()),
                Kind::Classification => Labelled::Classes(LabelState::Undecided),
            },
            categories: Vec::new(),
            context,
        };
        let features = feature_columns.len();
        let mut inputs: Vec<T> = Vec::new();
        let mut row = vec![T::zero(); features];
        let mut target_row: Vec<T> = vec![T::zero(); targets.len()];
        loop {
            let read = table.row(
                &record,
                line,
                &columns,
                &mut states,
                &mut row,
                &mut target_row,
            )?;
            if read {
                inputs.extend_from_slice(&row);
            }
            match table.context.next(&mut reader, &mut record)? {
                Some(next) => line = next,
                None => break,
            }
        }
        // Category ids as first seen -> their sorted index.
        for (c, state) in states.into_iter().enumerate() {
            let column = columns.category_of.iter().position(|&k| k == Some(c));
            let Some(p) = column.and_then(|column| columns.place[column]) else {
                continue;
            };
            let (index, labels) = state.finish();
            for value in inputs.iter_mut().skip(p).step_by(features) {
                *value = T::of(index[value.to_f64() as usize] as f64);
            }
            table.categories.push((p, labels));
        }
        table.inputs = Array2::from_shape_vec((table.rows, features), inputs)
            .map_err(|e| table.context.error(None, None, None, e.to_string()))?;
        Ok(table)
    }
}

/// What the target columns are read as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Regression,
    Classification,
}

/// The targets read so far.
enum Labelled<T> {
    /// Row-major target rows.
    Rows(Vec<T>),
    Classes(LabelState),
}

/// Class labels read so far; integers or names, decided by the first row.
enum LabelState {
    Undecided,
    Integers {
        labels: Vec<usize>,
        first: String,
    },
    Names {
        /// Per row, the order in which its name was first seen.
        ids: Vec<usize>,
        seen: HashMap<String, usize>,
    },
}

impl LabelState {
    /// The class index of every row and the mapping.
    fn finish(self) -> (Vec<usize>, Labels) {
        match self {
            LabelState::Undecided => (Vec::new(), Labels::integers(0)),
            LabelState::Integers { labels, .. } => {
                let classes = labels.iter().max().map_or(0, |&m| m + 1);
                (labels, Labels::integers(classes))
            }
            LabelState::Names { ids, seen } => {
                let mut names: Vec<(String, usize)> = seen.into_iter().collect();
                names.sort_unstable();
                // first-seen id -> sorted index
                let mut index = vec![0; names.len()];
                for (sorted, (_, id)) in names.iter().enumerate() {
                    index[*id] = sorted;
                }
                let labels = ids.into_iter().map(|id| index[id]).collect();
                let names = names.into_iter().map(|(name, _)| name).collect();
                (labels, Labels::from_unique(names))
            }
        }
    }
}

/// The file and its header, for messages.
struct Context {
    path: String,
    /// The header's names.
    names: Option<Vec<String>>,
    header: bool,
}

impl Context {
    /// An [`Error::Csv`]; `column` counts from 0 here and from 1 in the error.
    fn error(
        &self,
        line: Option<u64>,
        column: Option<usize>,
        value: Option<&[u8]>,
        message: String,
    ) -> Error {
        Error::Csv(Box::new(CsvError {
            path: self.path.clone(),
            line,
            column: column.map(|c| c + 1),
            column_name: column.and_then(|c| Some(shown(self.names.as_ref()?.get(c)?.as_bytes()))),
            value: value.map(shown),
            message,
        }))
    }

    /// Reads the next record and returns the line it starts on; `None` at
    /// the end of the input.
    fn next<R: Read>(
        &self,
        reader: &mut ::csv::Reader<Lines<R>>,
        record: &mut ::csv::ByteRecord,
    ) -> Result<Option<u64>> {
        let more = reader.read_byte_record(record).map_err(|e| {
            let line = e.position().map(|p| p.line());
            match e.into_kind() {
                ::csv::ErrorKind::Io(source) => Error::Io {
                    path: self.path.clone(),
                    source,
                },
                other => self.error(line, None, None, format!("{other:?}")),
            }
        })?;
        let start = record.position().map_or(0, ::csv::Position::byte);
        Ok(more.then(|| reader.get_mut().line_at(start)))
    }

    /// The 0-based indices of the target columns, checked.
    fn resolve(&self, targets: &Targets, width: usize, line: Option<u64>) -> Result<Vec<usize>> {
        let fail = |message: String| Err(self.error(line, None, None, message));
        let columns = match targets {
            Targets::Last => vec![width.saturating_sub(1)],
            Targets::Indices(indices) => {
                for &i in indices {
                    if i >= width {
                        return fail(format!(
                            "target column index {i} (counted from 0) is out of range: the \
                             {} has {width} columns",
                            self.first_row()
                        ));
                    }
                }
                indices.clone()
            }
            Targets::Names(wanted) => {
                let Some(names) = &self.names else {
                    return fail(format!(
                        "target column {:?} is named, but the file is read without a \
                         header: choose it with `target_index`",
                        shown(wanted.first().map_or("", |s| s.as_str()).as_bytes())
                    ));
                };
                let mut columns = Vec::with_capacity(wanted.len());
                for name in wanted {
                    let name = name.trim();
                    let found: Vec<usize> = (0..names.len())
                        .filter(|&c| names[c] == name)
                        .take(2)
                        .collect();
                    match found[..] {
                        [c] => columns.push(c),
                        [a, b, ..] => {
                            return fail(format!(
                                "the target {:?} names more than one column ({} and {})",
                                shown(name.as_bytes()),
                                a + 1,
                                b + 1
                            ))
                        }
                        [] => {
                            let listed: Vec<String> = names
                                .iter()
                                .take(LISTED_NAMES)
                                .map(|n| format!("{:?}", shown(n.as_bytes())))
                                .collect();
                            let more = if names.len() > LISTED_NAMES {
                                ", ..."
                            } else {
                                ""
                            };
                            return fail(format!(
                                "no column is named {:?}; the header has {} columns: {}{more}",
                                shown(name.as_bytes()),
                                names.len(),
                                listed.join(", ")
                            ));
                        }
                    }
                }
                columns
            }
        };
        if columns.is_empty() {
            return fail("no target column is selected".into());
        }
        for (k, &c) in columns.iter().enumerate() {
            if columns[..k].contains(&c) {
                return fail(format!("column {} is selected as a target twice", c + 1));
            }
        }
        if columns.len() >= width {
            return fail(format!(
                "every column ({width}) is a target, which leaves no feature"
            ));
        }
        Ok(columns)
    }

    /// The 0-based index of the column the header names `name` (`what`:
    /// "feature", "category", for messages).
    fn column_named(&self, name: &str, what: &str, line: Option<u64>) -> Result<usize> {
        let Some(names) = &self.names else {
            return Err(self.error(
                line,
                None,
                None,
                format!(
                    "the {what} column {:?} is named, but the file is read without a header",
                    shown(name.as_bytes())
                ),
            ));
        };
        names.iter().position(|n| n == name.trim()).ok_or_else(|| {
            let listed: Vec<String> = names
                .iter()
                .take(LISTED_NAMES)
                .map(|n| format!("{:?}", shown(n.as_bytes())))
                .collect();
            self.error(
                line,
                None,
                None,
                format!(
                    "no column is named {:?} (a {what}); the header has {} columns: {}{}",
                    shown(name.as_bytes()),
                    names.len(),
                    listed.join(", "),
                    if names.len() > LISTED_NAMES {
                        ", ..."
                    } else {
                        ""
                    }
                ),
            )
        })
    }

    /// "header" or "first row": what fixes the column count.
    fn first_row(&self) -> &'static str {
        if self.header {
            "header"
        } else {
            "first row"
        }
    }
}

/// Everything read from a file.
struct Table<T: Float> {
    inputs: Array2<T>,
    rows: usize,
    target_columns: usize,
    targets: Labelled<T>,
    /// `(input column, names)` of each category column.
    categories: Vec<(usize, Labels)>,
    context: Context,
}

/// What each column of the file is for.
struct Columns {
    width: usize,
    /// `Some(k)`: the k-th target.
    role: Vec<Option<usize>>,
    /// `Some(p)`: the p-th input column.
    place: Vec<Option<usize>>,
    /// `Some(c)`: the c-th category column.
    category_of: Vec<Option<usize>>,
    missing: Missing,
}

/// A category column's names, numbered as first seen.
#[derive(Default)]
struct CategoryState {
    seen: HashMap<String, usize>,
}

impl CategoryState {
    fn id(&mut self, name: &str) -> usize {
        let next = self.seen.len();
        *self.seen.entry(name.to_owned()).or_insert(next)
    }

    /// first-seen id -> sorted index, and the names in sorted order.
    fn finish(self) -> (Vec<usize>, Labels) {
        let mut names: Vec<(String, usize)> = self.seen.into_iter().collect();
        names.sort_unstable();
        let mut index = vec![0; names.len()];
        for (sorted, (_, id)) in names.iter().enumerate() {
            index[*id] = sorted;
        }
        let names = names.into_iter().map(|(name, _)| name).collect();
        (index, Labels::from_unique(names))
    }
}

/// Whether a field is a missing value: empty, `NA` or `N/A`.
fn is_missing(field: &[u8]) -> bool {
    matches!(field, b"" | b"NA" | b"N/A")
}

impl<T: Float> Table<T> {
    /// Checks one row and reads it into `row` and `target_row`; `false`
    /// if it is left out (a missing value, as `columns.missing` says).
    fn row(
        &mut self,
        record: &::csv::ByteRecord,
        line: u64,
        columns: &Columns,
        states: &mut [CategoryState],
        row: &mut [T],
        target_row: &mut [T],
    ) -> Result<bool> {
        let width = columns.width;
        let role = &columns.role;
        let line = Some(line);
        let cx = &self.context;
        if record.len() < width {
            let last = record.iter().next_back().map(<[u8]>::trim_ascii);
            let ends = match last {
                Some(value) => format!(" (its last field is {:?})", shown(value)),
                None => String::new(),
            };
            return Err(cx.error(
                line,
                Some(record.len()),
                Some(last.unwrap_or_default()),
                format!(
                    "missing field: the row has {} fields, but the {} has {width}{ends}",
                    record.len(),
                    cx.first_row()
                ),
            ));
        }
        if record.len() > width {
            let extra = record.get(width).unwrap_or_default().trim_ascii();
            return Err(cx.error(
                line,
                Some(width),
                Some(extra),
                format!(
                    "extra field {:?}: the row has {} fields, but the {} has {width}",
                    shown(extra),
                    record.len(),
                    cx.first_row()
                ),
            ));
        }
        // Missing values, in the columns read.
        let read = |c: usize| role[c].is_some() || columns.place[c].is_some();
        for (column, field) in record.iter().enumerate() {
            let field = field.trim_ascii();
            if !read(column) || !is_missing(field) {
                continue;
            }
            match columns.missing {
                Missing::Error => {
                    if field.is_empty() && columns.category_of[column].is_none() {
                        // Reported below, as an empty number or label.
                        continue;
                    }
                    return Err(cx.error(
                        line,
                        Some(column),
                        Some(field),
                        format!(
                            "missing value {:?}: leave such rows out with \
                             `Csv::missing(Missing::Drop)`, or make missing a category of its own \
                             with `Missing::Category`",
                            shown(field)
                        ),
                    ));
                }
                Missing::Drop => return Ok(false),
                Missing::Category if columns.category_of[column].is_none() => return Ok(false),
                Missing::Category => {}
            }
        }
        for (column, field) in record.iter().enumerate() {
            let field = field.trim_ascii();
            if let (None, Some(p)) = (role[column], columns.place[column]) {
                row[p] = match columns.category_of[column] {
                    Some(c) => {
                        let name = if is_missing(field) {
                            MISSING_CATEGORY
                        } else {
                            std::str::from_utf8(field).map_err(|_| {
                                cx.error(
                                    line,
                                    Some(column),
                                    Some(field),
                                    "expected a category in UTF-8 text".into(),
                                )
                            })?
                        };
                        T::of(states[c].id(name) as f64)
                    }
                    None => number::<T>(field)
                        .map_err(|why| cx.error(line, Some(column), Some(field), why))?,
                };
                continue;
            }
            match (role[column], &mut self.targets) {
                (None, _) => {}
                (Some(k), Labelled::Rows(_)) => {
                    target_row[k] = number::<T>(field)
                        .map_err(|why| cx.error(line, Some(column), Some(field), why))?;
                }
                (Some(_), Labelled::Classes(state)) => {
                    label(state, field)
                        .map_err(|why| cx.error(line, Some(column), Some(field), why))?;
                }
            }
        }
        if let Labelled::Rows(targets) = &mut self.targets {
            targets.extend_from_slice(target_row);
        }
        self.rows += 1;
        Ok(true)
    }
}

/// A field as a finite `T`, or why not (with the value).
fn number<T: Float>(field: &[u8]) -> std::result::Result<T, String> {
    if field.is_empty() {
        return Err("expected a number, found an empty field".into());
    }
    let text = std::str::from_utf8(field).ok();
    let parsed = text.and_then(|s| T::from_str_radix(s, 10).ok());
    match parsed {
        None => Err(format!("expected a number, found {:?}", shown(field))),
        Some(v) if v.is_finite() => Ok(v),
        // Parsing rounds a decimal beyond the type's range to infinity;
        // `inf` and `NaN` are spelled with letters.
        Some(_) if Decimal::parse(field).is_some() => Err(format!(
            "expected a number within the range of {}, found {:?} (out of range: the largest \
             finite {} is about {:.1e})",
            T::NAME,
            shown(field),
            T::NAME,
            T::max_value().to_f64()
        )),
        Some(_) => Err(format!(
            "expected a finite number, found {:?} (NaN and infinities are not allowed)",
            shown(field)
        )),
    }
}

/// A number in decimal notation, as Rust's float parsing spells it but
/// without `inf` and `NaN`: a sign, digits with at most one `.` among them
/// (at least one digit), and an exponent (`e` or `E`, a sign, digits).
struct Decimal<'a> {
    negative: bool,
    /// The digits before and after the `.`.
    whole: &'a [u8],
    fraction: &'a [u8],
    /// The exponent, clamped to +-10^15 (far beyond any digit count, so
    /// clamping changes no answer below).
    exponent: i64,
}

impl<'a> Decimal<'a> {
    const EXPONENT_LIMIT: i64 = 1_000_000_000_000_000;

    fn parse(text: &'a [u8]) -> Option<Self> {
        let (negative, rest) = match text.split_first() {
            Some((b'-', rest)) => (true, rest),
            Some((b'+', rest)) => (false, rest),
            _ => (false, text),
        };
        let (mantissa, exponent) = match rest.iter().position(|&b| b == b'e' || b == b'E') {
            Some(e) => (&rest[..e], Some(&rest[e + 1..])),
            None => (rest, None),
        };
        let (whole, fraction) = match mantissa.iter().position(|&b| b == b'.') {
            Some(dot) => (&mantissa[..dot], &mantissa[dot + 1..]),
            None => (mantissa, &[][..]),
        };
        let digits = |part: &[u8]| part.iter().all(u8::is_ascii_digit);
        if whole.len() + fraction.len() == 0 || !digits(whole) || !digits(fraction) {
            return None;
        }
        let exponent = match exponent {
            None => 0,
            Some(text) => {
                let (sign, digits) = match text.split_first() {
                    Some((b'-', rest)) => (-1, rest),
                    Some((b'+', rest)) => (1, rest),
                    _ => (1, text),
                };
                if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
                    return None;
                }
                let magnitude = digits.iter().fold(0_i64, |n, &d| {
                    (n * 10 + i64::from(d - b'0')).min(Self::EXPONENT_LIMIT)
                });
                sign * magnitude
            }
        };
        Some(Decimal {
            negative,
            whole,
            fraction,
            exponent,
        })
    }

    /// The exact value as an integer no larger than `max`, or what it is
    /// instead, worked out on the digits (no rounding through a float).
    fn integer(&self, max: u64) -> std::result::Result<u64, NotLabel> {
        // The digits, with the point after `point` of them (which may be
        // before the first or after the last).
        let count = self.whole.len() + self.fraction.len();
        let digit = |i: usize| match i.checked_sub(self.whole.len()) {
            None => self.whole[i],
            Some(j) => self.fraction[j],
        };
        let point = self.whole.len() as i64 + self.exponent;
        let nonzero = |&i: &usize| digit(i) != b'0';
        let (Some(first), Some(last)) = ((0..count).find(nonzero), (0..count).rfind(nonzero))
        else {
            return Ok(0); // `0`, `-0.0`, `0e99`
        };
        if self.negative {
            return Err(NotLabel::Negative);
        }
        if last as i64 >= point {
            return Err(NotLabel::Fraction);
        }
        // 20 digits fit in a u128; 21 are above any u64.
        if point - first as i64 > 20 {
            return Err(NotLabel::TooLarge);
        }
        let value = (first as i64..point).fold(0_u128, |n, i| {
            let d = if i < count as i64 {
                digit(i as usize) - b'0'
            } else {
                0
            };
            n * 10 + u128::from(d)
        });
        match u64::try_from(value) {
            Ok(value) if value <= max => Ok(value),
            _ => Err(NotLabel::TooLarge),
        }
    }
}

/// Why a number is not an integer class label.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum NotLabel {
    Negative,
    Fraction,
    TooLarge,
}

/// Reads one class label into `state`, or says why not (with the value).
fn label(state: &mut LabelState, field: &[u8]) -> std::result::Result<(), String> {
    if field.is_empty() {
        return Err("expected a class label, found an empty field".into());
    }
    let text = std::str::from_utf8(field)
        .map_err(|_| format!("expected a UTF-8 class label, found {:?}", shown(field)))?;
    let decimal = Decimal::parse(field);
    if let LabelState::Undecided = state {
        // `nan` and `inf` are names here: a float parser would take them.
        *state = if decimal.is_some() {
            LabelState::Integers {
                labels: Vec::new(),
                first: shown(field),
            }
        } else {
            LabelState::Names {
                ids: Vec::new(),
                seen: HashMap::new(),
            }
        };
    }
    match state {
        LabelState::Undecided => unreachable!("decided above"),
        LabelState::Integers { labels, first } => {
            let Some(decimal) = decimal else {
                return Err(format!(
                    "expected an integer class label (the first row's label {first:?} is a \
                     number, so every label must be one), found {:?}",
                    shown(field)
                ));
            };
            // Exactly, from the digits: no rounding through a float.
            let max = MAX_LABEL.min(usize::MAX as u64);
            let why = match decimal.integer(max) {
                Ok(value) => {
                    labels.push(value as usize); // <= usize::MAX, checked
                    return Ok(());
                }
                Err(NotLabel::Negative) => "a non-negative integer".to_string(),
                Err(NotLabel::Fraction) => "an integer".to_string(),
                Err(NotLabel::TooLarge) if max == MAX_LABEL => {
                    format!("an integer no larger than 2^53 ({MAX_LABEL})")
                }
                Err(NotLabel::TooLarge) => format!("an integer no larger than {max}"),
            };
            Err(format!(
                "expected a class label that is {why}, found {:?}",
                shown(field)
            ))
        }
        LabelState::Names { ids, seen } => {
            let next = seen.len();
            let id = *seen.entry(text.to_string()).or_insert(next);
            ids.push(id);
            Ok(())
        }
    }
}

/// A reader that notes where lines begin, so that a record's line can be
/// told even after blank lines, which the `csv` crate skips without
/// counting them into the record's position.
///
/// A record starts at the first byte that is neither `\r` nor `\n` at or
/// after the byte where the parser began reading it; this keeps, for every
/// such byte that follows a line break (or starts the input), its offset
/// and its line (`\n`s before it, plus 1), and forgets those before the
/// record being read, so it holds only what the parser's buffer holds.
struct Lines<R> {
    inner: R,
    offset: u64,
    line: u64,
    after_break: bool,
    starts: VecDeque<(u64, u64)>,
}

impl<R: Read> Lines<R> {
    fn new(inner: R) -> Self {
        Lines {
            inner,
            offset: 0,
            line: 1,
            after_break: true,
            starts: VecDeque::new(),
        }
    }

    /// The line of the first content byte at or after `byte`.
    fn line_at(&mut self, byte: u64) -> u64 {
        while self
            .starts
            .front()
            .is_some_and(|&(offset, _)| offset < byte)
        {
            self.starts.pop_front();
        }
        self.starts.front().map_or(self.line, |&(_, line)| line)
    }
}

impl<R: Read> Read for Lines<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        for &b in &buf[..n] {
            match b {
                b'\n' => {
                    self.line += 1;
                    self.after_break = true;
                }
                b'\r' => self.after_break = true,
                _ if self.after_break => {
                    self.starts.push_back((self.offset, self.line));
                    self.after_break = false;
                }
                _ => {}
            }
            self.offset += 1;
        }
        Ok(n)
    }
}

/// `bytes` as text for a message: invalid UTF-8 replaced, cut to
/// [`SHOWN_CHARS`] characters with `...` after.
fn shown(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    match text.char_indices().nth(SHOWN_CHARS) {
        Some((cut, _)) => format!("{}...", &text[..cut]),
        None => text.into_owned(),
    }
}

/// The names of a classifier's classes: index -> name and name -> index.
///
/// Integer labels are their own names (`"0"`, `"1"`, ...; [`Labels::len`]
/// is the largest label plus one, whether or not every smaller one occurs);
/// text labels are numbered in sorted order by [`Csv::classification`], or
/// in any order by [`Labels::named`].
///
/// ```
/// # use macrograd_runtime as macrograd;
/// use macrograd::data::Labels;
/// let labels = Labels::named(["malignant", "benign"])?;
/// assert_eq!(labels.index("benign"), Some(1));
/// assert_eq!(labels.name(0).as_deref(), Some("malignant"));
/// let digits = Labels::integers(10);
/// assert_eq!((digits.len(), digits.name(7).as_deref()), (10, Some("7")));
/// assert_eq!(digits.index("7"), Some(7));
/// # Ok::<(), macrograd::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Labels {
    /// `None` for integer labels `0..classes`.
    names: Option<Vec<String>>,
    classes: usize,
}

impl Labels {
    /// Integer labels `0..classes`, each named by its number.
    pub fn integers(classes: usize) -> Self {
        Labels {
            names: None,
            classes,
        }
    }

    /// Labels named `names`, class `i` being `names[i]`.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidSetting`] (`labels`) if a name repeats.
    pub fn named<I, S>(names: I) -> Result<Self>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let names: Vec<String> = names.into_iter().map(Into::into).collect();
        let mut sorted: Vec<&String> = names.iter().collect();
        sorted.sort_unstable();
        if let Some(pair) = sorted.windows(2).find(|pair| pair[0] == pair[1]) {
            return Err(Error::InvalidSetting {
                name: "labels",
                message: format!("the class name {:?} appears twice", pair[0]),
            });
        }
        Ok(Labels::from_unique(names))
    }

    fn from_unique(names: Vec<String>) -> Self {
        Labels {
            classes: names.len(),
            names: Some(names),
        }
    }

    /// Number of classes.
    pub fn len(&self) -> usize {
        self.classes
    }

    /// Whether there are no classes.
    pub fn is_empty(&self) -> bool {
        self.classes == 0
    }

    /// Whether the labels are integers (named by their numbers).
    pub fn is_integers(&self) -> bool {
        self.names.is_none()
    }

    /// The names in class order, for text labels; `None` for integers.
    pub fn names(&self) -> Option<&[String]> {
        self.names.as_deref()
    }

    /// The name of class `index`, or `None` if there is no such class.
    pub fn name(&self, index: usize) -> Option<Cow<'_, str>> {
        match &self.names {
            Some(names) => names.get(index).map(|s| Cow::Borrowed(s.as_str())),
            None => (index < self.classes).then(|| Cow::Owned(index.to_string())),
        }
    }

    /// The class index of `name`, or `None` if no class has that name (for
    /// integer labels, the decimal number, as written by [`Labels::name`]).
    pub fn index(&self, name: &str) -> Option<usize> {
        match &self.names {
            Some(names) => names.iter().position(|n| n == name),
            None => name
                .parse::<usize>()
                .ok()
                .filter(|&i| i < self.classes && i.to_string() == name),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    fn csv(text: &str) -> Csv<'_> {
        Csv::from_reader("t.csv", text.as_bytes())
    }

    #[test]
    fn data_csv_reads_features_and_the_last_column() {
        let d = csv("a,b,y\n1,2,3\n4,5,6\n").regression::<f64>().unwrap();
        assert_eq!(d.inputs(), array![[1.0, 2.0], [4.0, 5.0]]);
        assert_eq!(d.targets(), array![[3.0], [6.0]]);
    }

    #[test]
    fn data_csv_targets_by_name_in_the_given_order() {
        let d = csv("y2,a,y1,b\n1,2,3,4\n")
            .targets(["y1", "y2"])
            .regression::<f32>()
            .unwrap();
        assert_eq!(d.inputs(), array![[2.0_f32, 4.0]]);
        assert_eq!(d.targets(), array![[3.0_f32, 1.0]]);
    }

    #[test]
    fn data_csv_name_labels_are_sorted() {
        let (d, labels) = csv("x,y\n1,cat\n2,dog\n3,cat\n4,bird\n")
            .classification::<f32>()
            .unwrap();
        assert_eq!(d.targets(), &[1, 2, 1, 0]);
        assert_eq!(labels.names().unwrap(), ["bird", "cat", "dog"]);
        assert_eq!(labels.index("dog"), Some(2));
        assert_eq!(labels.index("cow"), None);
    }

    #[test]
    fn data_csv_integer_labels_map_to_themselves() {
        let (d, labels) = csv("x,y\n1,2\n2,0.0\n3,2\n")
            .classification::<f32>()
            .unwrap();
        assert_eq!(d.targets(), &[2, 0, 2]);
        assert_eq!(labels, Labels::integers(3));
        assert!(labels.is_integers());
        assert_eq!(labels.index("02"), None);
        assert_eq!(labels.name(3), None);
    }

    #[test]
    fn data_csv_huge_label_allocates_nothing() {
        let (_, labels) = csv("x,y\n1,9007199254740992\n")
            .classification::<f32>()
            .unwrap();
        assert_eq!(labels.len(), 9_007_199_254_740_993);
        let e = csv("x,y\n1,1e300\n").classification::<f32>().unwrap_err();
        assert!(e.to_string().contains("no larger than 2^53"), "{e}");
    }

    /// The message of the error reading `text` as classification data.
    fn label_error(text: &str) -> String {
        csv(text).classification::<f32>().unwrap_err().to_string()
    }

    #[test]
    fn data_csv_integer_labels_are_read_from_the_text() {
        // 2^53 + 1: through f64 it would become 2^53 and pass.
        let e = label_error("x,y\n1,0\n2,9007199254740993\n");
        assert_eq!(
            e,
            "t.csv: line 3, column 2 (\"y\"): expected a class label that is an integer no \
             larger than 2^53 (9007199254740992), found \"9007199254740993\""
        );
        // Through f64 this is 2^53 - 1, an integer.
        let e = label_error("x,y\n1,0\n2,9007199254740991.5\n");
        assert!(e.ends_with("a class label that is an integer, found \"9007199254740991.5\""));
        for bad in [
            "0.5",
            "1e-1",
            "3.0000000000000000001",
            "12345678901234567.5",
        ] {
            let e = label_error(&format!("x,y\n1,0\n2,{bad}\n"));
            assert!(e.contains("that is an integer,"), "{bad}: {e}");
        }
        for big in ["1e17", "10000000000000000", "18446744073709551617"] {
            let e = label_error(&format!("x,y\n1,0\n2,{big}\n"));
            assert!(e.contains("no larger than 2^53"), "{big}: {e}");
        }
        // Integral spellings, exactly: decimals, exponents, signs, zeros.
        let (d, labels) = csv(
            "x,y\n1,3.0\n2,3e0\n3,30e-1\n4,+2\n5,-0\n6,0.0e99999999999999999999\n\
             7,9007199254740991\n8,9007199254740992.000\n9,.3e1\n10,000004\n",
        )
        .classification::<f32>()
        .unwrap();
        assert_eq!(
            d.targets(),
            &[
                3,
                3,
                3,
                2,
                0,
                0,
                9_007_199_254_740_991,
                9_007_199_254_740_992,
                3,
                4
            ]
        );
        assert_eq!(labels.len(), 9_007_199_254_740_993);
        // Exponents too large for any integer type are still read.
        let e = label_error("x,y\n1,0\n2,1e-99999999999999999999\n");
        assert!(e.contains("that is an integer,"), "{e}");
        let e = label_error("x,y\n1,0\n2,1e99999999999999999999\n");
        assert!(e.contains("no larger than 2^53"), "{e}");
    }

    #[test]
    fn data_csv_nan_and_inf_are_class_names() {
        let (d, labels) = csv("x,y\n1,nan\n2,inf\n3,NaN\n4,nan\n5,Infinity\n")
            .classification::<f32>()
            .unwrap();
        assert_eq!(labels.names().unwrap(), ["Infinity", "NaN", "inf", "nan"]);
        assert_eq!(d.targets(), &[3, 2, 1, 3, 0]);
        // After integer labels, `nan` is not a number.
        let e = label_error("x,y\n1,0\n2,nan\n");
        assert!(e.contains("expected an integer class label"), "{e}");
    }

    #[test]
    fn data_csv_numbers_beyond_the_type_are_out_of_range() {
        for (text, ty) in [("1e400", "f64"), ("-1e400", "f64"), ("1e39", "f32")] {
            let e = csv(&format!("a,b\n1,2\n3,{text}\n"))
                .regression::<f64>()
                .and_then(|_| csv(&format!("a,b\n1,2\n3,{text}\n")).regression::<f32>())
                .unwrap_err()
                .to_string();
            assert!(
                e.starts_with(&format!(
                    "t.csv: line 3, column 2 (\"b\"): expected a number within the range of \
                     {ty}, found \"{text}\" (out of range: "
                )),
                "{e}"
            );
        }
        for text in ["nan", "-inf", "Infinity", "NaN"] {
            let e = csv(&format!("a,b\n{text},1\n"))
                .regression::<f64>()
                .unwrap_err()
                .to_string();
            assert!(e.contains("NaN and infinities are not allowed"), "{e}");
        }
        // Too small is not out of range: it rounds to zero, as in Rust.
        let d = csv("a,b\n1e-400,1\n").regression::<f64>().unwrap();
        assert_eq!(d.inputs()[[0, 0]], 0.0);
    }

    #[test]
    fn data_csv_long_values_are_cut_in_messages() {
        let long = "x".repeat(500);
        let e = csv(&format!("a,b\n{long},1\n"))
            .regression::<f32>()
            .unwrap_err();
        let text = e.to_string();
        assert!(text.len() < 150 && text.contains("xxx..."), "{text}");
    }

    #[test]
    fn data_csv_f32_overflow_is_named() {
        let e = csv("a,b\n1e39,1\n").regression::<f32>().unwrap_err();
        assert!(e.to_string().contains("within the range of f32"), "{e}");
        assert!(csv("a,b\n1e39,1\n").regression::<f64>().is_ok());
    }

    #[test]
    fn data_csv_blank_lines_spaces_quotes_and_bom() {
        let d = csv("\u{feff}a ,\"b\"\n\n 1 ,\"2\"\n\n3,4\n")
            .target("b")
            .regression::<f64>()
            .unwrap();
        assert_eq!(d.inputs(), array![[1.0], [3.0]]);
        assert_eq!(d.targets(), array![[2.0], [4.0]]);
    }

    #[test]
    fn data_csv_bad_target_choices() {
        let cases: [(Csv<'_>, &str); 6] = [
            (
                csv("a,b\n1,2\n").target("c"),
                r#"no column is named "c"; the header has 2 columns: "a", "b""#,
            ),
            (
                csv("a,a\n1,2\n").target("a"),
                "names more than one column (1 and 2)",
            ),
            (
                csv("a,b\n1,2\n").target_index(2),
                "index 2 (counted from 0) is out of range",
            ),
            (csv("1,2\n").header(false).target("a"), "without a header"),
            (
                csv("a,b\n1,2\n").target_indices([0, 1]),
                "leaves no feature",
            ),
            (
                csv("a,b,c\n1,2,3\n").target_indices([1, 1]),
                "column 2 is selected as a target twice",
            ),
        ];
        for (csv, expected) in cases {
            let e = csv.regression::<f32>().unwrap_err().to_string();
            assert!(
                e.starts_with("t.csv: line 1: ") && e.contains(expected),
                "{e}"
            );
        }
        let e = csv("a,b,c\n1,2,3\n")
            .targets(["a", "b"])
            .classification::<f32>();
        assert!(e.unwrap_err().to_string().contains("one target column"));
    }

    #[test]
    fn data_csv_lines_count_blank_lines_crlf_and_quoted_breaks() {
        let line = |text: &str| match csv(text).regression::<f32>().unwrap_err() {
            Error::Csv(e) => e.line,
            e => panic!("{e}"),
        };
        assert_eq!(line("a,b\n\n\n1,2\n\n3,x\n"), Some(6));
        assert_eq!(line("a,b\r\n\r\n1,2\r\n\r\n\r\n3,x\r\n"), Some(6));
        assert_eq!(line("\n\na,b\n1,x\n"), Some(4));
        // A quoted field with line breaks: the record starts on line 2.
        assert_eq!(line("a,b\n\"1\n\n\",x\n"), Some(2));
        assert_eq!(line("a,b\n\"1\n\n\",2\n3,x"), Some(5));
        assert_eq!(line("a,b\n"), Some(2));
        assert_eq!(line("a,b\n\n\n"), Some(2));
    }

    #[test]
    fn data_csv_missing_file_is_an_io_error() {
        let e = Csv::from_path("/nonexistent/x.csv")
            .regression::<f32>()
            .unwrap_err();
        assert!(matches!(e, Error::Io { .. }));
        assert!(e.to_string().starts_with("/nonexistent/x.csv: "), "{e}");
    }

    #[test]
    fn data_labels_named_rejects_repeats() {
        let e = Labels::named(["a", "b", "a"]).unwrap_err();
        assert!(e.to_string().contains(r#""a" appears twice"#), "{e}");
    }
}
