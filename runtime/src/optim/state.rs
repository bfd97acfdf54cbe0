//! What the optimizers share to save and load their state: the names of
//! the declared hyperparameters, the ranges they may take, and a reader
//! that checks every entry and lists every problem.

use crate::{Float, StateError, StateProblem};

/// The prefix of the declared hyperparameters in
/// [`Optimizer::state`](super::Optimizer::state).
pub(super) const DECLARED: &str = "declared.";

/// The values a hyperparameter or buffer read from a saved state may take.
#[derive(Clone, Copy)]
pub(super) enum Range {
    /// Any finite number.
    Finite,
    /// Finite and `>= 0` (learning rates, momentum, squares).
    NonNegative,
    /// Finite and `> 0` (Nesterov's momentum).
    Positive,
    /// In `[0, 1)` (Adam's `beta1`).
    UnitOpen,
}

impl Range {
    pub(super) fn holds(self, v: f64) -> bool {
        match self {
            Range::Finite => v.is_finite(),
            Range::NonNegative => v.is_finite() && v >= 0.0,
            Range::Positive => v.is_finite() && v > 0.0,
            Range::UnitOpen => (0.0..1.0).contains(&v),
        }
    }

    pub(super) fn text(self) -> &'static str {
        match self {
            Range::Finite => "finite",
            Range::NonNegative => "a finite number >= 0",
            Range::Positive => "a finite number > 0",
            Range::UnitOpen => "in [0, 1)",
        }
    }
}

/// Appends the declared hyperparameters to a state, as `declared.<name>`.
pub(super) fn push_declared(state: &mut Vec<(String, Vec<f64>)>, declared: &[(&str, f64)]) {
    for &(name, value) in declared {
        state.push((format!("{DECLARED}{name}"), vec![value]));
    }
}

/// `1.0` for `true`, `0.0` for `false`: how a flag is saved.
pub(super) fn flag(on: bool) -> f64 {
    if on {
        1.0
    } else {
        0.0
    }
}

/// Reads the entries given to
/// [`Optimizer::load_state`](super::Optimizer::load_state): each name at most
/// once, every problem collected, so one error lists them all.
pub(super) struct StateReader<'a> {
    entries: &'a [(String, Vec<f64>)],
    /// Name -> index of its first entry.
    index: std::collections::HashMap<&'a str, usize>,
    used: Vec<bool>,
    problems: Vec<StateProblem>,
}

/// 2^53: `f64` holds every whole number up to it, but not 2^53 + 1.
pub(super) const MAX_EXACT_COUNT: f64 = (1u64 << 53) as f64;

impl<'a> StateReader<'a> {
    pub(super) fn new(entries: &'a [(String, Vec<f64>)]) -> Self {
        let mut index = std::collections::HashMap::with_capacity(entries.len());
        let mut problems = Vec::new();
        for (i, (name, _)) in entries.iter().enumerate() {
            // The first entry of a name counts; a repeat is a problem.
            if *index.entry(name.as_str()).or_insert(i) != i {
                problems.push(StateProblem::Repeated { name: name.clone() });
            }
        }
        StateReader {
            entries,
            index,
            used: vec![false; entries.len()],
            problems,
        }
    }

    /// The values of `name`, marked as read.
    pub(super) fn find(&mut self, name: &str) -> Option<&'a [f64]> {
        let &i = self.index.get(name)?;
        self.used[i] = true;
        Some(&self.entries[i].1)
    }

    /// The values of `name`, which must be `len` long; a problem (and
    /// `None`) if it is absent and `required`, or of another length.
    pub(super) fn values(&mut self, name: &str, len: usize, required: bool) -> Option<&'a [f64]> {
        match self.find(name) {
            None => {
                if required {
                    self.problems
                        .push(StateProblem::Missing { name: name.into() });
                }
                None
            }
            Some(values) if values.len() != len => {
                self.problems.push(StateProblem::Length {
                    name: name.into(),
                    expected: len,
                    found: values.len(),
                });
                None
            }
            Some(values) => Some(values),
        }
    }

    /// A required hyperparameter in the range `range` says (0 after a
    /// problem): the same range the declaration is checked against, except
    /// that a learning rate may be 0 (where a schedule can take it).
    pub(super) fn hyperparameter(&mut self, name: &str, range: Range) -> f64 {
        match self.values(name, 1, true) {
            Some(&[value]) if range.holds(value) => value,
            Some(&[value]) => {
                self.problems.push(StateProblem::OutOfRange {
                    name: name.into(),
                    index: None,
                    value,
                    expected: range.text(),
                });
                0.0
            }
            _ => 0.0,
        }
    }

    /// Checks the hyperparameters the state was saved with (entries
    /// `declared.<name>`) against this optimizer's declaration `own`:
    /// resuming continues the run that was declared, so every one must be
    /// equal.
    pub(super) fn declared(&mut self, own: &[(&str, f64)]) {
        for &(name, value) in own {
            let key = format!("{DECLARED}{name}");
            if let Some(&[saved]) = self.values(&key, 1, true) {
                if saved != value {
                    self.problems.push(StateProblem::Declared {
                        name: name.into(),
                        saved,
                        declared: value,
                    });
                }
            }
        }
    }

    /// A required step count: a whole number in `0..=2^53` (0 after a
    /// problem).
    pub(super) fn step(&mut self, name: &str) -> u64 {
        match self.values(name, 1, true) {
            Some(&[value]) if (0.0..=MAX_EXACT_COUNT).contains(&value) && value.fract() == 0.0 => {
                value as u64
            }
            Some(&[value]) => {
                self.problems.push(StateProblem::OutOfRange {
                    name: name.into(),
                    index: None,
                    value,
                    expected: "a whole number of steps",
                });
                0
            }
            _ => 0,
        }
    }

    /// A buffer of `len` finite values that `T` holds exactly.
    pub(super) fn buffer<T: Float>(
        &mut self,
        name: &str,
        len: usize,
        required: bool,
    ) -> Option<&'a [f64]> {
        self.buffer_in::<T>(name, len, required, Range::Finite)
    }

    /// A buffer of `len` finite values `>= 0` (sums and averages of
    /// squares, whose roots the update takes) that `T` holds exactly.
    pub(super) fn squares<T: Float>(
        &mut self,
        name: &str,
        len: usize,
        required: bool,
    ) -> Option<&'a [f64]> {
        self.buffer_in::<T>(name, len, required, Range::NonNegative)
    }

    pub(super) fn buffer_in<T: Float>(
        &mut self,
        name: &str,
        len: usize,
        required: bool,
        range: Range,
    ) -> Option<&'a [f64]> {
        let values = self.values(name, len, required)?;
        if let Some(at) = values.iter().position(|&v| !range.holds(v)) {
            self.problems.push(StateProblem::OutOfRange {
                name: name.into(),
                index: Some(at),
                value: values[at],
                expected: range.text(),
            });
            return None;
        }
        let inexact = values.iter().position(|&v| Float::to_f64(T::of(v)) != v);
        if let Some(at) = inexact {
            self.problems.push(StateProblem::Inexact {
                name: name.into(),
                index: at,
                value: values[at],
                dtype: T::NAME,
            });
            return None;
        }
        Some(values)
    }

    /// `Ok` if every entry was read and no problem was found; else every
    /// problem, unexpected names included, after the optimizer's name.
    pub(super) fn finish(mut self, optimizer: &str) -> Result<(), StateError> {
        for (i, (name, _)) in self.entries.iter().enumerate() {
            if !self.used[i] && self.index.get(name.as_str()) == Some(&i) {
                self.problems
                    .push(StateProblem::Unexpected { name: name.clone() });
            }
        }
        if self.problems.is_empty() {
            Ok(())
        } else {
            Err(StateError {
                owner: optimizer.into(),
                problems: self.problems,
            })
        }
    }
}

/// Replaces `dst` by `src` (or empties it), converted to `T`; keeps the
/// allocation when it is large enough.
pub(super) fn fill<T: Float>(dst: &mut Vec<T>, src: Option<&[f64]>) {
    dst.clear();
    if let Some(src) = src {
        dst.extend(src.iter().map(|&v| T::of(v)));
    }
}

/// Widens a buffer for [`Optimizer::state`](super::Optimizer::state).
pub(super) fn widen<T: Float>(values: &[T]) -> Vec<f64> {
    values.iter().map(|&v| Float::to_f64(v)).collect()
}

#[track_caller]
pub(super) fn check_lens(lens: &[usize], index: usize, param: usize, grad: usize) {
    assert!(
        lens.get(index) == Some(&param) && param == grad,
        "optimizer: parameter {index} has {param} values and {grad} gradients, expected {:?}",
        lens.get(index)
    );
}
