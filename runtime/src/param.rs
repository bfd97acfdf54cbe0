//! Named parameters and buffers, as a model hands them out, and the rows of
//! its [`Summary`]: the plain data that layers, optimizers, files and the
//! epoch loop exchange, with nothing to import above the element type.
//!
//! ```
//! # use macrograd_runtime as macrograd;
//! use macrograd::model::{LayerSummary, Summary};
//! static LAYERS: [LayerSummary; 1] = [LayerSummary {
//!     name: "0", depth: 0, layer: "Linear(2, 1)", output: 1, shape: &[1], params: 3,
//! }];
//! let summary = Summary {
//!     name: "model", dtype: "f32", inputs: 2, input_shape: &[2],
//!     layers: &LAYERS, loss: "MSE", optim: "SGD(0.1)",
//! };
//! assert_eq!(summary.params(), 3);
//! ```

use std::fmt;

use ndarray::{ArrayViewD, ArrayViewMutD};

/// A named parameter tensor and its gradient, read-only.
#[derive(Debug)]
pub struct Parameter<'a, T> {
    /// PyTorch's name: `"0.weight"`, `"0.bias"`, `"2.weight"` in an
    /// `nn.Sequential`, `"3.body.0.weight"` in a block.
    pub name: &'static str,
    /// The values: `[out, in]` for a `Linear` weight, `[out, in, kh, kw]`
    /// for a `Conv2d` weight, `[out]` for a bias, `[C]` (or the sample's
    /// shape, for `LayerNorm`) for a norm layer's weight and bias.
    pub value: ArrayViewD<'a, T>,
    /// The gradient, or `None` after `zero_grad` until the next backward.
    pub grad: Option<ArrayViewD<'a, T>>,
}

/// A named parameter tensor and its gradient, writable.
#[derive(Debug)]
pub struct ParameterMut<'a, T> {
    /// PyTorch `nn.Sequential` name.
    pub name: &'static str,
    /// The values.
    pub value: ArrayViewMutD<'a, T>,
    /// The gradient buffer (meaningful only when a backward has run since
    /// `zero_grad`).
    pub grad: ArrayViewMutD<'a, T>,
}

/// A named tensor that is saved with the parameters but never optimized
/// (PyTorch's "buffers": batch norm's running statistics).
#[derive(Debug)]
pub struct NamedBuffer<'a, T> {
    /// PyTorch `nn.Sequential` name: `"1.running_mean"`, `"1.running_var"`,
    /// `"1.num_batches_tracked"`.
    pub name: &'static str,
    /// The value.
    pub value: BufferValue<'a, T>,
}

/// The value of a [`NamedBuffer`].
#[derive(Debug)]
pub enum BufferValue<'a, T> {
    /// A floating-point tensor (`running_mean`, `running_var`: `[C]`).
    Float(ArrayViewD<'a, T>),
    /// A count (`num_batches_tracked`, an `int64` scalar in PyTorch).
    Count(u64),
}

/// A named buffer, writable (to load saved statistics).
#[derive(Debug)]
pub struct NamedBufferMut<'a, T> {
    /// PyTorch `nn.Sequential` name, as in [`NamedBuffer`].
    pub name: &'static str,
    /// The value.
    pub value: BufferValueMut<'a, T>,
}

/// The value of a [`NamedBufferMut`].
#[derive(Debug)]
pub enum BufferValueMut<'a, T> {
    /// A floating-point tensor.
    Float(ArrayViewMutD<'a, T>),
    /// A count.
    Count(&'a mut u64),
}

/// One row of a model's [`Summary`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LayerSummary {
    /// The name PyTorch gives the module: its position in the model
    /// (`"3"`), or a path into a block (`"3.body.0"`,
    /// `"4.branches.1.0"`); a parameter's name is this, a dot and the
    /// parameter's.
    pub name: &'static str,
    /// How deep in blocks: 0 for the model's own layers and blocks, 1 for
    /// the layers of a block, and so on. A block's row comes before its
    /// layers, with the shape after its join and all their parameters.
    pub depth: usize,
    /// The layer as declared, normalised, e.g. `Linear(10, 64)`.
    pub layer: &'static str,
    /// Values per output sample (`C * H * W` for an image).
    pub output: usize,
    /// The shape of an output sample: `[features]`, or `[C, H, W]` for an
    /// image.
    pub shape: &'static [usize],
    /// Parameter count.
    pub params: usize,
}

/// The layer table of a model, printed by `Display`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Summary {
    /// The type name, or `"model"` for the expression form.
    pub name: &'static str,
    /// `"f32"` or `"f64"`.
    pub dtype: &'static str,
    /// Values per input sample.
    pub inputs: usize,
    /// The shape of an input sample: `[features]`, or `[C, H, W]`.
    pub input_shape: &'static [usize],
    /// The layers in order.
    pub layers: &'static [LayerSummary],
    /// The loss with its arguments, e.g. `MSE`, `Huber(delta = 0.5)`.
    pub loss: &'static str,
    /// The optimizer with its learning rate and every other hyperparameter
    /// that differs from its default, e.g. `Adam(lr = 0.001)` for a
    /// declared `Adam`.
    pub optim: &'static str,
}

impl Summary {
    /// Total parameter count (of the rows at depth 0: a block's row counts
    /// its layers).
    pub fn params(&self) -> usize {
        self.layers
            .iter()
            .filter(|l| l.depth == 0)
            .map(|l| l.params)
            .sum()
    }
}

/// `[b, 64]`, `[b, 8, 6, 6]`.
fn batch_shape(shape: &[usize]) -> String {
    let dims: Vec<String> = shape.iter().map(usize::to_string).collect();
    format!("[b, {}]", dims.join(", "))
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A block's layers are indented under it, by their path within it.
        let labels: Vec<String> = self
            .layers
            .iter()
            .map(|l| {
                let own = match l.depth {
                    0 => String::new(),
                    _ => {
                        let top = l.name.split('.').next().unwrap_or("");
                        format!("{}{} ", "  ".repeat(l.depth), &l.name[top.len() + 1..])
                    }
                };
                format!("{own}{}", l.layer)
            })
            .collect();
        let width = labels
            .iter()
            .map(String::len)
            .chain([5, "input".len()])
            .max()
            .unwrap_or(5);
        let shapes: Vec<String> = std::iter::once(self.input_shape)
            .chain(self.layers.iter().map(|l| l.shape))
            .map(batch_shape)
            .collect();
        let out = shapes
            .iter()
            .map(String::len)
            .chain([12])
            .max()
            .unwrap_or(12);
        writeln!(f, "{} ({})", self.name, self.dtype)?;
        writeln!(
            f,
            "{:>3}  {:<width$}  {:>out$}  {:>10}",
            "#", "layer", "output", "params"
        )?;
        writeln!(
            f,
            "{:>3}  {:<width$}  {:>out$}  {:>10}",
            "", "input", shapes[0], ""
        )?;
        for ((l, label), shape) in self.layers.iter().zip(&labels).zip(&shapes[1..]) {
            let index = if l.depth == 0 { l.name } else { "" };
            writeln!(
                f,
                "{:>3}  {:<width$}  {:>out$}  {:>10}",
                index, label, shape, l.params
            )?;
        }
        writeln!(f, "total parameters: {}", self.params())?;
        write!(f, "loss {}; optim {}", self.loss, self.optim)
    }
}

/// The values of `states` in the order of `names`: what
/// [`Model::set_rng_states`](crate::model::Model::set_rng_states) assigns to the generators called `names`.
///
/// ```
/// # use macrograd_runtime as macrograd;
/// use macrograd::model::match_rng_states;
/// let states = [("5.dropout_rng".to_string(), 7), ("2.dropout_rng".to_string(), 9)];
/// assert_eq!(match_rng_states(&["2.dropout_rng", "5.dropout_rng"], &states), Ok(vec![9, 7]));
/// let err = match_rng_states(&["2.dropout_rng"], &states).unwrap_err();
/// assert_eq!(err, "cannot load the generators' states: unexpected `5.dropout_rng`");
/// ```
///
/// # Errors
///
/// A message listing every name of `names` that `states` lacks or gives
/// more than once, and every name of `states` that is not in `names`, e.g. ``cannot load the generators' states: missing
/// `3.dropout_rng`; unexpected `4.dropout_rng` ``.
pub fn match_rng_states(names: &[&str], states: &[(String, u64)]) -> Result<Vec<u64>, String> {
    let mut problems = Vec::new();
    let mut values = Vec::with_capacity(names.len());
    for name in names {
        let mut found = states.iter().filter(|(n, _)| n == name);
        match (found.next(), found.next()) {
            (Some(&(_, value)), None) => values.push(value),
            (Some(_), Some(_)) => problems.push(format!("`{name}` is given more than once")),
            (None, _) => problems.push(format!("missing `{name}`")),
        }
    }
    for (i, (name, _)) in states.iter().enumerate() {
        let first = states[..i].iter().all(|(n, _)| n != name);
        if first && !names.contains(&name.as_str()) {
            problems.push(format!("unexpected `{name}`"));
        }
    }
    if problems.is_empty() {
        Ok(values)
    } else {
        Err(format!(
            "cannot load the generators' states: {}",
            problems.join("; ")
        ))
    }
}
