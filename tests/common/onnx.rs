//! Runs an ONNX file with tract-onnx, a second implementation the tests
//! compare an exported model's outputs with.
//!
//! Nothing of tract shows through: tensors go in and come out as
//! [`Tensor`] (values as `f64` whatever the element type), errors as the
//! text of tract's whole error chain, so that a failing test names the
//! operator tract refused and why.
//!
//! What tract-onnx 0.23 does not do, whatever the file: it runs every
//! layer of these models in f32, but in f64 it refuses `Gemm` with a bias
//! input, `Sigmoid`, `LeakyRelu`, `Erf` (so `Gelu`), `LSTM`, `GRU`, and
//! `RNN` without an `initial_h`; it computes the variance of a
//! `LayerNormalization` (and any mean of squares) in f32; and it refuses
//! a bidirectional recurrent layer with `layout = 1`.

use tract_onnx::prelude::{
    tvec, DatumType, Framework, InferenceFact, InferenceModelExt, IntoRunnable, TValue, TVec,
    Tensor as TractTensor, TractError,
};

/// The element type of a [`Tensor`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dtype {
    F32,
    F64,
    I64,
}

/// One tensor in or out, values as f64 whatever the element type (an
/// `F32` input is rounded to f32, an `I64` one must hold integers).
#[derive(Clone, Debug, PartialEq)]
pub struct Tensor {
    pub dtype: Dtype,
    pub shape: Vec<usize>,
    /// Row-major, `shape.iter().product()` values.
    pub data: Vec<f64>,
}

impl Tensor {
    pub fn f32(shape: &[usize], data: Vec<f64>) -> Tensor {
        Tensor {
            dtype: Dtype::F32,
            shape: shape.to_vec(),
            data,
        }
    }

    pub fn f64(shape: &[usize], data: Vec<f64>) -> Tensor {
        Tensor {
            dtype: Dtype::F64,
            shape: shape.to_vec(),
            data,
        }
    }

    pub fn i64(shape: &[usize], data: Vec<f64>) -> Tensor {
        Tensor {
            dtype: Dtype::I64,
            shape: shape.to_vec(),
            data,
        }
    }
}

/// Loads ONNX `bytes` with tract-onnx, fixes each input's shape and type
/// to the given tensor's (the files have a dynamic batch dimension named
/// "batch"), optimizes, runs, and returns every graph output in order,
/// converted to f64.
///
/// `inputs` are the graph's inputs in the graph's order. Loading,
/// optimizing or running failing, an output of another element type than
/// f32, f64 or i64, or inputs that do not match the graph, are an `Err`
/// with the whole error chain (as `{:?}` prints it, without the backtrace
/// that `RUST_BACKTRACE` would add).
pub fn run_tract(bytes: &[u8], inputs: &[Tensor]) -> Result<Vec<Tensor>, String> {
    let chain = |e: TractError| error_chain(&e);

    let mut model = tract_onnx::onnx()
        .model_for_read(&mut &bytes[..])
        .map_err(chain)?;
    let n_inputs = model.inputs.len();
    if n_inputs != inputs.len() {
        return Err(format!(
            "the graph has {n_inputs} inputs, {} tensors were given",
            inputs.len()
        ));
    }
    let mut values: TVec<TValue> = tvec![];
    for (i, input) in inputs.iter().enumerate() {
        let tensor = to_tract(input).map_err(|e| format!("input {i}: {e}"))?;
        let fact = InferenceFact::dt_shape(tensor.datum_type(), input.shape.clone());
        model
            .set_input_fact(i, fact)
            .map_err(|e| format!("input {i}: {}", error_chain(&e)))?;
        values.push(tensor.into());
    }

    let plan = model
        .into_optimized()
        .and_then(|m| m.into_runnable())
        .map_err(chain)?;
    let outputs = plan.run(values).map_err(chain)?;
    outputs
        .iter()
        .enumerate()
        .map(|(i, t)| from_tract(t).map_err(|e| format!("output {i}: {e}")))
        .collect()
}

fn to_tract(t: &Tensor) -> Result<TractTensor, String> {
    let len: usize = t.shape.iter().product();
    if t.data.len() != len {
        return Err(format!(
            "shape {:?} holds {len} values, data has {}",
            t.shape,
            t.data.len()
        ));
    }
    let tensor = match t.dtype {
        Dtype::F32 => {
            let data: Vec<f32> = t.data.iter().map(|&x| x as f32).collect();
            TractTensor::from_shape(&t.shape, &data)
        }
        Dtype::F64 => TractTensor::from_shape(&t.shape, &t.data),
        Dtype::I64 => {
            if let Some(x) = t.data.iter().find(|x| x.fract() != 0.0) {
                return Err(format!("{x} is not an integer"));
            }
            let data: Vec<i64> = t.data.iter().map(|&x| x as i64).collect();
            TractTensor::from_shape(&t.shape, &data)
        }
    };
    tensor.map_err(|e| error_chain(&e))
}

fn from_tract(t: &TractTensor) -> Result<Tensor, String> {
    let dtype = match t.datum_type() {
        DatumType::F32 => Dtype::F32,
        DatumType::F64 => Dtype::F64,
        DatumType::I64 => Dtype::I64,
        other => return Err(format!("element type {other:?} is not f32, f64 or i64")),
    };
    let as_f64 = t.cast_to::<f64>().map_err(|e| error_chain(&e))?;
    let view = as_f64
        .to_plain_array_view::<f64>()
        .map_err(|e| error_chain(&e))?;
    Ok(Tensor {
        dtype,
        shape: t.shape().to_vec(),
        data: view.iter().copied().collect(),
    })
}

/// The error and each of its causes, one a line, numbered as `{:?}`
/// numbers them.
fn error_chain(e: &TractError) -> String {
    let mut text = e.to_string();
    let causes: Vec<String> = e.chain().skip(1).map(|c| c.to_string()).collect();
    if !causes.is_empty() {
        text.push_str("\n\nCaused by:");
        for (i, cause) in causes.iter().enumerate() {
            text.push_str(&format!("\n    {i}: {cause}"));
        }
    }
    text
}
