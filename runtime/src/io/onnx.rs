//! ONNX export: a model's network, in evaluation mode, as an ONNX file.

use std::path::Path;

use super::{preprocessing, PREPROCESSING_KEY};
use crate::data::Preprocessing;
use crate::fs::write_atomic;
use crate::model::Model;
use crate::onnx::{ElemType, Graph, Value};
use crate::{Error, Result};

/// What [`save_onnx_with`] and [`onnx_to_bytes`] write: the model's outputs
/// or its probabilities, in the model's precision or in `f32`.
///
/// ```
/// # use macrograd_runtime as macrograd;
/// use macrograd::io::OnnxOptions;
/// let options = OnnxOptions::new().probabilities().f32();
/// assert!(options.writes_probabilities());
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OnnxOptions {
    probabilities: bool,
    f32: bool,
}

impl OnnxOptions {
    /// The defaults: the network's outputs (`predict`'s), named `output`,
    /// in the model's element type.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends what turns the outputs into probabilities, as
    /// `predict_proba` does: `Softmax` for `CrossEntropy`, `Sigmoid` for
    /// `BCE`, nothing after a last `Softmax` layer. The output is then
    /// named `probabilities`. A regressor has none: exporting it so is an
    /// [`Error::Export`].
    pub fn probabilities(mut self) -> Self {
        self.probabilities = true;
        self
    }

    /// Writes an `f64` model in `f32` (weights rounded to nearest): the
    /// type every ONNX runtime runs every operator in. An `f32` model is
    /// written in `f32` either way.
    pub fn f32(mut self) -> Self {
        self.f32 = true;
        self
    }

    /// Whether the file ends in probabilities.
    pub fn writes_probabilities(&self) -> bool {
        self.probabilities
    }
}

/// Writes the model to `path` as an ONNX file, atomically, with the
/// default [`OnnxOptions`]: the network's outputs, in the model's element
/// type. See [`onnx_to_bytes`] for what the file holds.
///
/// # Errors
///
/// [`Error::Export`] before anything is written if the model cannot be
/// exported; [`Error::Io`] naming `path` if the file cannot be written
/// (`path` is then left as it was).
pub fn save_onnx<M: Model>(model: &M, path: impl AsRef<Path>) -> Result<()> {
    save_onnx_with(model, path, &OnnxOptions::new())
}

/// [`save_onnx`] with `options`.
///
/// # Errors
///
/// As [`save_onnx`].
pub fn save_onnx_with<M: Model>(
    model: &M,
    path: impl AsRef<Path>,
    options: &OnnxOptions,
) -> Result<()> {
    let bytes = onnx_to_bytes(model, options)?;
    write_atomic(path.as_ref(), &bytes)
}

/// The model as an ONNX file, in memory: its network in evaluation mode
/// (batch norm with its running statistics; dropout left out), opset 17.
///
/// - **Inputs**: `input`, `[batch, ..]` with the model's input shape
///   (`[batch, 4]`, `[batch, 1, 8, 8]`, `[batch, T, F]`); or, for named
///   inputs (`input island: category(3);`), one graph input per name,
///   category inputs as `int64` (`[batch]`, tokens `[batch, T]`). `batch`
///   is a dynamic dimension.
/// - **Preprocessing**: a model's scaler
///   ([`Model::set_preprocessing`]) is written as `Sub` and `Div` nodes at
///   the front, so the file takes raw rows as `predict` does. The whole
///   preprocessing (scaler, class and category names) is also in the
///   metadata under [`PREPROCESSING_KEY`], as JSON (see the
///   [module docs](crate::io)).
/// - **Output**: `output`, `[batch, OUTPUTS]` (`predict`'s values), or
///   `probabilities` ([`OnnxOptions::probabilities`]); `output.1` (or
///   `probabilities.1`) if an input has that name.
/// - **Initializers**: each parameter and buffer under the name and shape
///   the safetensors file gives it (`0.weight`, `1.running_mean`); a
///   recurrent layer's tensors, which ONNX orders otherwise, under
///   `{path}.W_l0`, `{path}.R_l0`, `{path}.B_l0` (see
///   [`Recurrent::export_onnx`](crate::layers::Recurrent::export_onnx)).
/// - **Doc string**: the model's summary (its layer table).
///
/// The file computes what [`Model::predict`] does, up to rounding; nodes
/// are named after the layers' module paths (`3.Gemm`, `2.body.0.Conv`).
///
/// # Errors
///
/// [`Error::Export`] if a layer has no ONNX form, the scaler does not fit
/// the precision written (an offset or scale beyond `f32`), the file
/// would pass protobuf's 2 GiB, or probabilities are asked of a regressor.
pub fn onnx_to_bytes<M: Model>(model: &M, options: &OnnxOptions) -> Result<Vec<u8>> {
    let float = if options.f32 {
        ElemType::F32
    } else {
        ElemType::of::<M::Elem>()
    };
    let mut graph = Graph::new(float);
    let output = model.export_onnx(&mut graph, options.probabilities)?;
    let name = if options.probabilities {
        "probabilities"
    } else {
        "output"
    };
    graph.output(&output, name);
    let summary = model.summary();
    let doc = summary.to_string();
    let mut metadata = Vec::new();
    if let Some(json) = preprocessing::encode(model.preprocessing()) {
        metadata.push((PREPROCESSING_KEY.to_string(), json));
    }
    let graph = graph.into_proto(summary.name, &doc);
    Ok(crate::onnx::encode_model(graph, &doc, metadata))
}

/// The graph input of one of a model's inputs, followed by the model's
/// scaler on its columns `offset..`: what the code `model!` generates
/// calls for each input. `shape` is a sample's; a category input
/// (`int64`) is not scaled.
///
/// # Errors
///
/// [`Error::Export`] if the name is taken, or an offset or scale of the
/// scaler is not finite in the graph's precision.
#[doc(hidden)]
pub fn onnx_input(
    graph: &mut Graph,
    preprocessing: &Preprocessing,
    name: &str,
    shape: &[usize],
    offset: usize,
    category: bool,
) -> Result<Value> {
    if category {
        return graph.input(name, ElemType::I64, shape);
    }
    let x = graph.input(name, graph.float(), shape)?;
    let Some(scaler) = preprocessing.scaler() else {
        return Ok(x);
    };
    let columns = scaler.offsets_and_scales();
    let Some(columns) = columns.get(offset..offset + x.len()) else {
        return Err(Error::Export {
            message: format!(
                "the scaler has {} columns, but input `{name}` takes columns {offset}..{}",
                columns.len(),
                offset + x.len()
            ),
        });
    };
    let fits = |v: f64| match graph.float() {
        ElemType::F32 => (v as f32).is_finite(),
        _ => v.is_finite(),
    };
    if let Some((column, &(o, s))) = columns
        .iter()
        .enumerate()
        .find(|(_, &(o, s))| !fits(o) || !fits(s) || s == 0.0)
    {
        return Err(Error::Export {
            message: format!(
                "column {} of the scaler, x' = (x - {o}) / {s}, is not finite in the \
                 graph's precision",
                offset + column
            ),
        });
    }
    let offsets = graph.weights(
        &format!("{name}.scaler_offset"),
        shape,
        columns.iter().map(|c| c.0),
    )?;
    let scales = graph.weights(
        &format!("{name}.scaler_scale"),
        shape,
        columns.iter().map(|c| c.1),
    )?;
    let centred = graph.node(
        "Sub",
        &format!("{name}.Sub"),
        &[&x.name, &offsets],
        Vec::new(),
    );
    let scaled = graph.node(
        "Div",
        &format!("{name}.Div"),
        &[&centred, &scales],
        Vec::new(),
    );
    Ok(Value { name: scaled, ..x })
}
