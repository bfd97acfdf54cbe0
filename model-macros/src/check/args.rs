//! Arguments: binding a call's positional and named arguments to its catalog
//! entry's parameters (count, names, duplicates), then checking each value's
//! kind and range. Defaults fill what was left out.

use quote::ToTokens;
use syn::{Error, Expr, Ident, Lit, UnOp};

use super::{sizes, Errors};
use crate::ast::{Arg, Call};
use crate::catalog::{self, Default, Entry, Kind, Param, Range};

/// A checked argument value, given or defaulted.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Size(usize),
    /// `_`: infer from the layer before.
    Infer,
    Number(f64),
    Bool(bool),
    Betas(f64, f64),
    Weights(Vec<f64>),
    /// A window, stride or padding `(h, w)` (an integer `n` is `(n, n)`).
    Pair(usize, usize),
    /// A sample shape: `[n]` or `[C, H, W]`.
    Dims(Vec<usize>),
    /// Left out, and the parameter has no default value (or one that
    /// depends on another parameter: a pool's `stride`).
    Unset,
}

/// One parameter's checked value and the expression that gave it (`None`
/// when defaulted).
pub struct Bound<'a> {
    pub value: Value,
    pub expr: Option<&'a Expr>,
}

/// A call's parameters in catalog order; `None` where the argument had an
/// error, which has been reported.
pub struct Args<'a> {
    params: &'static [Param],
    slots: Vec<Option<Bound<'a>>>,
}

impl<'a> Args<'a> {
    pub fn get(&self, name: &str) -> Option<&Bound<'a>> {
        let index = self.params.iter().position(|param| param.name == name)?;
        self.slots.get(index)?.as_ref()
    }

    pub fn size(&self, name: &str) -> Option<usize> {
        match self.get(name)?.value {
            Value::Size(n) => Some(n),
            _ => None,
        }
    }

    pub fn number(&self, name: &str) -> Option<f64> {
        match self.get(name)?.value {
            Value::Number(x) => Some(x),
            _ => None,
        }
    }

    pub fn bool(&self, name: &str) -> Option<bool> {
        match self.get(name)?.value {
            Value::Bool(b) => Some(b),
            _ => None,
        }
    }

    pub fn betas(&self, name: &str) -> Option<(f64, f64)> {
        match self.get(name)?.value {
            Value::Betas(b1, b2) => Some((b1, b2)),
            _ => None,
        }
    }

    /// `Unset` (a default that depends on another parameter) reads as
    /// `None`, as an error does.
    pub fn pair(&self, name: &str) -> Option<(usize, usize)> {
        match self.get(name)?.value {
            Value::Pair(h, w) => Some((h, w)),
            _ => None,
        }
    }

    /// `Unset` reads as no weights.
    pub fn weights(&self, name: &str) -> Option<Vec<f64>> {
        match &self.get(name)?.value {
            Value::Weights(w) => Some(w.clone()),
            Value::Unset => Some(Vec::new()),
            _ => None,
        }
    }
}

/// Binds `call`'s arguments to `entry`'s parameters and checks each value.
///
/// Rules (each mistake reported once): positional arguments fill parameters
/// in order and come before named ones (as in Rust and Python); no more
/// positional arguments than parameters; named arguments must name a
/// parameter; no parameter given twice; parameters without a default must
/// be given.
pub fn bind<'a, Id>(entry: &Entry<Id>, call: &'a Call, errors: &mut Errors) -> Args<'a> {
    let params = entry.params;
    // Per parameter: given yet, and its checked value (`None`: an error).
    let mut given = vec![false; params.len()];
    let mut slots: Vec<Option<Bound<'a>>> = params.iter().map(|_| None).collect();
    let positional = call
        .args
        .iter()
        .filter(|arg| matches!(arg, Arg::Positional(_)))
        .count();
    let mut position = 0;
    let mut first_named: Option<&Ident> = None;
    let mut reported_extra = false;
    for arg in &call.args {
        let (index, expr) = match arg {
            Arg::Positional(expr) => {
                let index = position;
                position += 1;
                if let Some(named) = first_named {
                    errors.push(Error::new_spanned(
                        expr,
                        format!(
                            "expected positional arguments before named ones, \
                             found one after `{named}`"
                        ),
                    ));
                    // Best guess, silently: the next parameter not yet given
                    // (`Linear(in_features = 10, 1)` meant `out_features`).
                    match (index..params.len()).find(|&i| !given[i]) {
                        Some(free) => (free, expr),
                        None => continue,
                    }
                } else if index < params.len() {
                    (index, expr)
                } else {
                    if !reported_extra {
                        reported_extra = true;
                        errors.push(too_many(entry, expr, positional));
                    }
                    continue;
                }
            }
            Arg::Named { name, value, .. } => {
                first_named.get_or_insert(name);
                match params.iter().position(|param| name == param.name) {
                    None => {
                        errors.push(unknown_argument(entry, name));
                        continue;
                    }
                    Some(index) if given[index] => {
                        errors.push(Error::new_spanned(
                            name,
                            format!("expected `{name}` of `{}` once, found it twice", entry.name),
                        ));
                        continue;
                    }
                    Some(index) => (index, value),
                }
            }
        };
        given[index] = true;
        match value(&params[index], expr) {
            Ok(value) => {
                slots[index] = Some(Bound {
                    value,
                    expr: Some(expr),
                });
            }
            Err(error) => errors.push(error),
        }
    }

    let mut missing = Vec::new();
    for ((param, slot), given) in params.iter().zip(&mut slots).zip(given) {
        match param.default {
            _ if given => {}
            Default::Required => missing.push(param.name),
            default => {
                *slot = Some(Bound {
                    value: default_value(default),
                    expr: None,
                });
            }
        }
    }
    if !missing.is_empty() {
        errors.push(missing_arguments(entry, call, &missing));
    }
    Args { params, slots }
}

fn default_value(default: Default) -> Value {
    match default {
        Default::Number(x) => Value::Number(x),
        Default::Bool(b) => Value::Bool(b),
        Default::Betas(b1, b2) => Value::Betas(b1, b2),
        Default::Infer => Value::Infer,
        Default::Pair(h, w) => Value::Pair(h, w),
        Default::Size(n) => Value::Size(n),
        Default::Required | Default::Unset | Default::KernelSize => Value::Unset,
    }
}

/// "1 argument", "2 arguments".
fn arguments(n: usize) -> String {
    if n == 1 {
        "1 argument".to_owned()
    } else {
        format!("{n} arguments")
    }
}

fn param_list<'a>(params: impl IntoIterator<Item = &'a Param>) -> String {
    let names: Vec<&str> = params.into_iter().map(|param| param.name).collect();
    names.join(", ")
}

fn too_many<Id>(entry: &Entry<Id>, first_extra: &Expr, found: usize) -> Error {
    let message = if entry.params.is_empty() {
        format!("`{}` expects no arguments, found {found}", entry.name)
    } else {
        format!(
            "`{}` expects at most {} ({}), found {found}",
            entry.name,
            arguments(entry.params.len()),
            param_list(entry.params),
        )
    };
    Error::new_spanned(first_extra, message)
}

fn unknown_argument<Id>(entry: &Entry<Id>, name: &Ident) -> Error {
    let names = entry.params.iter().map(|param| param.name);
    let hint = match catalog::suggest(&name.to_string(), names) {
        Some(known) => format!("did you mean `{known}`?"),
        None if entry.params.is_empty() => "expected no arguments".to_owned(),
        None => format!(
            "expected one of {}",
            super::code_list(entry.params.iter().map(|p| p.name))
        ),
    };
    Error::new_spanned(
        name,
        format!("unknown argument `{name}` for `{}`; {hint}", entry.name),
    )
}

fn missing_arguments<Id>(entry: &Entry<Id>, call: &Call, missing: &[&str]) -> Error {
    let required: Vec<&Param> = entry
        .params
        .iter()
        .filter(|param| param.default == Default::Required)
        .collect();
    Error::new_spanned(
        call,
        format!(
            "`{}` expects {} ({}), found {}; missing {}",
            entry.name,
            arguments(required.len()),
            param_list(required.iter().copied()),
            required.len() - missing.len(),
            super::code_list(missing.iter().copied()),
        ),
    )
}

/// Checks one argument's kind and range.
fn value(param: &Param, expr: &Expr) -> Result<Value, Error> {
    let name = param.name;
    match param.kind {
        Kind::Size { infer } => size(name, infer, expr),
        Kind::Number(range) => number(name, range, expr).map(Value::Number),
        Kind::Bool => match classify(expr) {
            Literal::Bool(b) => Ok(Value::Bool(b)),
            other => Err(kind_error(expr, "`true` or `false`", name, &other)),
        },
        Kind::Betas => betas(name, expr),
        Kind::Weights => weights(name, expr),
        Kind::Window { min } => window(name, min, expr),
        Kind::Dims => dims(name, expr),
    }
}

/// An integer >= `min` and at most the size limit (`sizes::MAX_VALUES`).
fn integer(name: &str, min: usize, expr: &Expr) -> Result<usize, Error> {
    match classify(expr) {
        Literal::Int { value, text, .. } => match value {
            Some(n) if n < min as i128 => Err(Error::new_spanned(
                expr,
                format!("expected `{name}` >= {min}, found {text}"),
            )),
            _ => bounded(value).ok_or_else(|| sizes::too_large(expr, name, &text)),
        },
        other => Err(kind_error(expr, "an integer", name, &other)),
    }
}

/// A literal's value as a size, if it is within the limit (`value` is
/// `None` when the literal does not even fit an `i128`).
fn bounded(value: Option<i128>) -> Option<usize> {
    value
        .filter(|&n| n <= i128::from(sizes::MAX_VALUES))
        .and_then(|n| usize::try_from(n).ok())
}

/// A window size, stride or padding: an integer >= `min` for both
/// dimensions, or a pair `(h, w)` of them.
fn window(name: &str, min: usize, expr: &Expr) -> Result<Value, Error> {
    match classify(expr) {
        Literal::Int { .. } => integer(name, min, expr).map(|n| Value::Pair(n, n)),
        Literal::Tuple(elems) if elems.len() == 2 => {
            let h = integer(&format!("{name}.0"), min, elems[0]);
            let w = integer(&format!("{name}.1"), min, elems[1]);
            match (h, w) {
                (Ok(h), Ok(w)) => Ok(Value::Pair(h, w)),
                (Err(mut e1), Err(e2)) => {
                    e1.combine(e2);
                    Err(e1)
                }
                (Err(e), _) | (_, Err(e)) => Err(e),
            }
        }
        other => Err(kind_error(
            expr,
            "an integer or a pair `(h, w)`",
            name,
            &other,
        )),
    }
}

/// A sample shape: an integer >= 1, a list `[C, H, W]` (or `(C, H, W)`) of
/// them, or `_`.
fn dims(name: &str, expr: &Expr) -> Result<Value, Error> {
    let elems = match classify(expr) {
        Literal::Infer => return Ok(Value::Infer),
        Literal::Int { .. } => return integer(name, 1, expr).map(|n| Value::Dims(vec![n])),
        Literal::Array(elems) | Literal::Tuple(elems) if elems.len() == 1 || elems.len() == 3 => {
            elems
        }
        other => {
            return Err(kind_error(
                expr,
                "a feature count or a shape `[C, H, W]`",
                name,
                &other,
            ))
        }
    };
    let mut values = Vec::with_capacity(elems.len());
    let mut errors = Errors::default();
    for elem in elems {
        match integer(name, 1, elem) {
            Ok(n) => values.push(n),
            Err(error) => errors.push(error),
        }
    }
    errors.finish()?;
    // The shape is one sample: within the limit as a whole.
    sizes::check_shape(expr, format_args!("`{name}` {}", list(&values)), &values)?;
    Ok(Value::Dims(values))
}

/// `[8, 3, 3]`.
fn list(values: &[usize]) -> String {
    let values: Vec<String> = values.iter().map(usize::to_string).collect();
    format!("[{}]", values.join(", "))
}

/// `input N;` or `input [C, H, W];`: one size, or three (a list of one
/// size is a feature count too).
/// `category(n)`: a column of class indices `0..n`, `n >= 1`; `None` if
/// `expr` is not a call of `category`.
pub fn input_category(expr: &Expr) -> Option<Result<(usize, Option<usize>), Error>> {
    let Expr::Call(call) = expr else {
        return None;
    };
    let Expr::Path(path) = &*call.func else {
        return None;
    };
    if !path.path.is_ident("category") {
        return None;
    }
    Some(match call.args.len() {
        1 => integer("category", 1, &call.args[0]).map(|n| (n, None)),
        2 => {
            let steps = match &call.args[1] {
                Expr::Assign(assign) if matches!(&*assign.left, Expr::Path(p) if p.path.is_ident("steps")) => {
                    integer("steps", 1, &assign.right)
                }
                other => Err(Error::new_spanned(
                    other,
                    "expected `steps = T` after the number of categories: `category(n, steps = T)`",
                )),
            };
            integer("category", 1, &call.args[0]).and_then(|n| steps.map(|t| (n, Some(t))))
        }
        n => Err(Error::new_spanned(
            expr,
            format!("expected `category(n)` or `category(n, steps = T)`, found {n} arguments"),
        )),
    })
}

pub fn input_shape(expr: &Expr) -> Result<Vec<usize>, Error> {
    let names = ["channels", "height", "width"];
    match classify(expr) {
        Literal::Array(elems) if elems.len() == 3 => {
            let mut values = Vec::with_capacity(3);
            let mut errors = Errors::default();
            for (name, elem) in names.iter().zip(elems) {
                match integer(&format!("input {name}"), 1, elem) {
                    Ok(n) => values.push(n),
                    Err(error) => errors.push(error),
                }
            }
            errors.finish()?;
            sizes::check_shape(expr, format_args!("`input {}`", list(&values)), &values)?;
            Ok(values)
        }
        Literal::Array(elems) if elems.len() == 1 => integer("input", 1, elems[0]).map(|n| vec![n]),
        Literal::Array(elems) if elems.len() == 2 => {
            let mut values = Vec::with_capacity(2);
            let mut errors = Errors::default();
            for (name, elem) in ["steps", "features"].iter().zip(elems) {
                match integer(&format!("input {name}"), 1, elem) {
                    Ok(n) => values.push(n),
                    Err(error) => errors.push(error),
                }
            }
            errors.finish()?;
            sizes::check_shape(expr, format_args!("`input {}`", list(&values)), &values)?;
            Ok(values)
        }
        Literal::Array(elems) => Err(Error::new_spanned(
            expr,
            format!(
                "expected `input [C, H, W]` (channels, height, width) or `input [T, F]` (steps, \
                 features), found {} sizes",
                elems.len()
            ),
        )),
        _ => match size("input", false, expr)? {
            Value::Size(n) => Ok(vec![n]),
            _ => Err(Error::new_spanned(
                expr,
                "expected a positive integer for `input`",
            )),
        },
    }
}

/// A feature count: an integer >= 1, or `_` where `infer` allows it.
pub fn size(name: &str, infer: bool, expr: &Expr) -> Result<Value, Error> {
    match classify(expr) {
        Literal::Int { value, text, .. } => match value {
            Some(n) if n < 1 => Err(Error::new_spanned(
                expr,
                format!("expected `{name}` >= 1, found {text}"),
            )),
            _ => match bounded(value) {
                Some(n) => Ok(Value::Size(n)),
                None => Err(sizes::too_large(expr, name, &text)),
            },
        },
        Literal::Infer if infer => Ok(Value::Infer),
        Literal::Infer => Err(Error::new_spanned(
            expr,
            format!(
                "expected a positive integer for `{name}`, found `_`; \
                 only a layer's input size (`in_features`, `in_channels`, \
                 `num_features`) can be inferred"
            ),
        )),
        other => {
            let expected = if infer {
                "a positive integer or `_`"
            } else {
                "a positive integer"
            };
            Err(kind_error(expr, expected, name, &other))
        }
    }
}

/// A number (an integer is fine), finite and in `range`.
fn number(name: &str, range: Range, expr: &Expr) -> Result<f64, Error> {
    let (x, text) = match classify(expr) {
        Literal::Int { float, text, .. } => (float, text),
        Literal::Float { value, text } => (value, text),
        other => return Err(kind_error(expr, "a number", name, &other)),
    };
    if !x.is_finite() {
        Err(Error::new_spanned(
            expr,
            format!("expected a finite `{name}`, found {text}"),
        ))
    } else if !range.contains(x) {
        Err(Error::new_spanned(
            expr,
            format!("expected `{name}` {}, found {text}", range.rule()),
        ))
    } else {
        Ok(x)
    }
}

/// `(beta1, beta2)`, each in [0, 1).
fn betas(name: &str, expr: &Expr) -> Result<Value, Error> {
    match classify(expr) {
        Literal::Tuple(elems) if elems.len() == 2 => {
            let beta1 = number(&format!("{name}.0"), Range::UnitOpen, elems[0]);
            let beta2 = number(&format!("{name}.1"), Range::UnitOpen, elems[1]);
            match (beta1, beta2) {
                (Ok(b1), Ok(b2)) => Ok(Value::Betas(b1, b2)),
                (Err(mut e1), Err(e2)) => {
                    e1.combine(e2);
                    Err(e1)
                }
                (Err(e), _) | (_, Err(e)) => Err(e),
            }
        }
        other => Err(kind_error(
            expr,
            "a pair of numbers `(beta1, beta2)`",
            name,
            &other,
        )),
    }
}

/// A number >= 0 (broadcast) or an array of them (one per output).
fn weights(name: &str, expr: &Expr) -> Result<Value, Error> {
    match classify(expr) {
        Literal::Int { .. } | Literal::Float { .. } => {
            number(name, Range::NonNegative, expr).map(|x| Value::Weights(vec![x]))
        }
        Literal::Array(elems) => {
            let mut values = Vec::with_capacity(elems.len());
            let mut errors = Errors::default();
            for elem in elems {
                match number(name, Range::NonNegative, elem) {
                    Ok(x) => values.push(x),
                    Err(error) => errors.push(error),
                }
            }
            errors.finish().map(|()| Value::Weights(values))
        }
        other => Err(kind_error(
            expr,
            "a number or an array of numbers",
            name,
            &other,
        )),
    }
}

fn kind_error(expr: &Expr, expected: &str, name: &str, found: &Literal) -> Error {
    Error::new_spanned(
        expr,
        format!(
            "expected {expected} for `{name}`, found {}",
            found.describe()
        ),
    )
}

/// An argument expression, sorted by what it is.
enum Literal<'a> {
    /// `value` is `None` when it does not fit an `i128`; `float` always set.
    Int {
        value: Option<i128>,
        float: f64,
        text: String,
    },
    Float {
        value: f64,
        text: String,
    },
    Bool(bool),
    Infer,
    Tuple(Vec<&'a Expr>),
    Array(Vec<&'a Expr>),
    /// Anything else, described for "found ...".
    Other(String),
}

impl Literal<'_> {
    fn describe(&self) -> String {
        match self {
            Literal::Int { text, .. } => format!("integer `{text}`"),
            Literal::Float { text, .. } => format!("float `{text}`"),
            Literal::Bool(b) => format!("`{b}`"),
            Literal::Infer => "`_`".to_owned(),
            Literal::Tuple(elems) if elems.is_empty() => "`()`".to_owned(),
            Literal::Tuple(elems) if elems.len() == 1 => "a tuple of 1 value".to_owned(),
            Literal::Tuple(elems) => format!("a tuple of {} values", elems.len()),
            Literal::Array(_) => "an array".to_owned(),
            Literal::Other(description) => description.clone(),
        }
    }
}

fn classify(expr: &Expr) -> Literal<'_> {
    match expr {
        // Invisible groups come from `macro_rules!` fragments; parentheses
        // around a single value change nothing.
        Expr::Group(group) => classify(&group.expr),
        Expr::Paren(paren) => classify(&paren.expr),
        Expr::Lit(lit) => literal(&lit.lit),
        Expr::Unary(unary) if matches!(unary.op, UnOp::Neg(_)) => match classify(&unary.expr) {
            Literal::Int {
                value, float, text, ..
            } if !text.starts_with('-') => Literal::Int {
                value: value.and_then(i128::checked_neg),
                float: -float,
                text: format!("-{text}"),
            },
            Literal::Float { value, text } if !text.starts_with('-') => Literal::Float {
                value: -value,
                text: format!("-{text}"),
            },
            _ => other(expr),
        },
        Expr::Infer(_) => Literal::Infer,
        Expr::Tuple(tuple) => Literal::Tuple(tuple.elems.iter().collect()),
        Expr::Array(array) => Literal::Array(array.elems.iter().collect()),
        _ => other(expr),
    }
}

fn literal(lit: &Lit) -> Literal<'static> {
    match lit {
        Lit::Int(int) => Literal::Int {
            value: int.base10_parse::<i128>().ok(),
            float: int.base10_digits().parse().unwrap_or(f64::INFINITY),
            text: int.to_string(),
        },
        Lit::Float(float) => Literal::Float {
            value: float.base10_parse().unwrap_or(f64::NAN),
            text: float.to_string(),
        },
        Lit::Bool(b) => Literal::Bool(b.value),
        Lit::Str(s) => Literal::Other(format!("string literal `{}`", s.to_token_stream())),
        other => Literal::Other(format!("`{}`", other.to_token_stream())),
    }
}

fn other(expr: &Expr) -> Literal<'static> {
    Literal::Other(format!("`{}`", expr.to_token_stream()))
}
