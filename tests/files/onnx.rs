//! ONNX export: every kind of layer and block, written by `io::save_onnx`,
//! loaded by tract and run, gives `predict`'s outputs (1e-5 relative in
//! f32, 1e-12 in f64); onnxruntime, through the ONNX checker, gave them too
//! (its outputs are committed, from `tests/fixtures/make_onnx_fixture.py`);
//! what cannot be exported is an error, and nothing is written.

use crate::common;

use std::fs;
use std::path::PathBuf;

use common::files::{fixture, temp_dir};
use common::onnx::{run_tract, Dtype, Tensor};

use macrograd::data::{Labels, Preprocessing, Standardize};
use macrograd::io::{onnx_to_bytes, save_onnx, save_onnx_with, OnnxOptions};
use macrograd::prelude::*;
use macrograd::{Float, Model};

model! {
    /// A classifier with dropout, which the file leaves out.
    struct Mlp;
    input 4;
    Linear(_, 16);
    ReLU;
    Dropout(0.5);
    Linear(_, 3);
    loss CrossEntropy;
    optim SGD(0.1)
}

model! {
    /// Every image layer: batch norm in evaluation mode, both pools with
    /// padding, a convolution without bias, layer norm, GELU.
    struct Cnn;
    input [1, 8, 8];
    Conv2d(1, 4, 3, padding = 1);
    BatchNorm;
    ReLU;
    MaxPool2d(3, stride = 2, padding = 1);  // 4 x 4 x 4
    Dropout(0.25);
    Conv2d(4, 6, (2, 3), stride = (1, 2), padding = (0, 1), bias = false); // 6 x 3 x 2
    LeakyReLU(0.1);
    AvgPool2d(2, stride = 1, padding = 1);  // 6 x 4 x 3
    LayerNorm;
    Flatten;
    Linear(_, 16);
    GELU;
    Sigmoid;
    Linear(_, 10);
    loss CrossEntropy;
    optim SGD(0.1)
}

model! {
    /// Residual blocks (one with a strided shortcut), a concatenation of
    /// channels, an addition of branches; several binary outputs.
    struct ResNet;
    input [2, 6, 6];
    Conv2d(2, 4, 3, padding = 1);
    residual {
        Conv2d(4, 4, 3, padding = 1);
        BatchNorm;
        ReLU;
        Conv2d(4, 4, 3, padding = 1);
    }
    ReLU;
    residual(shortcut = [Conv2d(4, 8, 1, stride = 2), BatchNorm]) {
        Conv2d(4, 8, 3, stride = 2, padding = 1);
        BatchNorm;
        Tanh;
    }
    concat {
        Identity;
        Conv2d(8, 2, 1);
    }
    MaxPool2d(3);
    Flatten;
    add {
        Linear(_, 5);
        Linear(_, 5) => Tanh;
    }
    loss BCE;
    optim Adam(0.01)
}

model! {
    /// Named inputs: measurements, a category and a sequence of tokens,
    /// embedded, the tokens read by a GRU.
    struct Shop;
    input measurements: 3;
    input island: category(3);
    input words: category(7, steps = 4);
    concat {
        measurements => Linear(3, 4);
        island => Embedding(3, 2);
        words => Embedding(7, 3) => GRU(4) => Last;
    }
    ReLU;
    Linear(_, 1);
    loss MSE;
    optim SGD(0.1)
}

model! {
    /// Two stacked bidirectional LSTM layers.
    struct Lstm;
    input [5, 3];
    LSTM(4, num_layers = 2, bidirectional = true);
    Last;
    Linear(8, 2);
    loss MSE;
    optim Adam(0.01)
}

model! {
    /// A bidirectional GRU, every step read.
    struct Gru;
    input [5, 3];
    GRU(4, bidirectional = true);
    Tanh;
    Flatten;
    Linear(_, 3);
    loss CrossEntropy;
    optim Adam(0.01)
}

model! {
    /// Two stacked tanh RNN layers.
    struct Rnn;
    input [5, 3];
    RNN(5, num_layers = 2);
    Last;
    Linear(5, 2);
    loss MSE;
    optim SGD(0.1)
}

model! {
    /// Convolutions and pools over time, both global pools.
    struct Temporal;
    input [6, 3];
    Conv1d(3, 4, 3, padding = 1);        // [6, 4]
    ReLU;
    MaxPool1d(2, stride = 1);            // [5, 4]
    AvgPool1d(2, stride = 1, padding = 1); // [6, 4]
    Conv1d(4, 5, 2, stride = 2);         // [3, 5]
    concat {
        GlobalAvgPool1d;
        GlobalMaxPool1d;
    }
    Linear(_, 2);
    loss MSE;
    optim SGD(0.1)
}

model! {
    /// A classifier in `f64`.
    struct Double;
    dtype f64;
    input 4;
    Linear(_, 8);
    Tanh;
    Linear(_, 1);
    loss BCE;
    optim SGD(0.1)
}

model! {
    /// A regressor whose last layer is a softmax (its outputs are
    /// probabilities already).
    struct Shares;
    input 3;
    Linear(_, 4);
    Softmax;
    loss MSE;
    optim SGD(0.1)
}

/// Deterministic inputs in `[-2, 2)`, the same on every machine.
fn values(n: usize, seed: u64) -> Vec<f64> {
    let mut rng = Rng::new(seed);
    (0..n).map(|_| 2.0 * rng.sym()).collect()
}

/// `samples` rows of `width` values from `values`, as the model's type.
fn rows<T: Float>(samples: usize, width: usize, seed: u64) -> Array2<T> {
    let v = values(samples * width, seed);
    Array2::from_shape_fn((samples, width), |(i, j)| T::of(v[i * width + j]))
}

/// Gives every batch norm running statistics away from 0 and 1 (a
/// formula, not training: the same bits on every machine), so that the
/// file's evaluation-mode arithmetic is tested.
fn set_running_statistics<M: Model>(model: &mut M) {
    let mut k = 0.0;
    model.visit_buffers_mut(&mut |b| {
        if let macrograd::model::BufferValueMut::Float(mut v) = b.value {
            let var = b.name.ends_with("running_var");
            for x in v.iter_mut() {
                k += 1.0;
                let wave = (k * 37.0) % 17.0 / 17.0 - 0.5;
                *x = <M::Elem as Float>::of(if var { 1.0 + 0.5 * wave } else { 0.3 * wave });
            }
        }
    });
}

/// The float input of `model` as one tensor, `[batch, shape..]`.
fn float_input<T: Float>(x: &Array2<T>, shape: &[usize]) -> Tensor {
    let mut full = vec![x.nrows()];
    full.extend_from_slice(shape);
    Tensor {
        dtype: if T::NAME == "f64" {
            Dtype::F64
        } else {
            Dtype::F32
        },
        shape: full,
        data: x.iter().map(|&v| Float::to_f64(v)).collect(),
    }
}

/// Asserts that `found` (from an ONNX runtime) is `expected` (from
/// `predict`), each value within `rel` of the larger of its own magnitude
/// and the outputs' root mean square.
fn assert_outputs(found: &Tensor, expected: ArrayView2<'_, f64>, rel: f64, what: &str) {
    assert_eq!(found.shape, expected.shape(), "{what}: output shape");
    let rms = (expected.iter().map(|v| v * v).sum::<f64>() / expected.len() as f64).sqrt();
    for (i, (a, b)) in found.data.iter().zip(expected.iter()).enumerate() {
        assert!(
            (a - b).abs() <= rel * b.abs().max(rms),
            "{what}: output {i}: {a} from the file, {b} from predict (rms {rms})"
        );
    }
}

fn to_f64<T: Float>(x: &Array2<T>) -> Array2<f64> {
    x.mapv(Float::to_f64)
}

/// The model's file, run by tract on `inputs`, against `expected`.
fn check_tract(bytes: &[u8], inputs: &[Tensor], expected: &Array2<f64>, rel: f64, what: &str) {
    let outputs = run_tract(bytes, inputs).unwrap_or_else(|e| panic!("{what}: tract: {e}"));
    assert_eq!(outputs.len(), 1, "{what}: one output");
    assert_outputs(&outputs[0], expected.view(), rel, what);
}

/// The cases: each model (seeded, running statistics set), its inputs
/// for the file and for `predict`, and `predict`'s outputs (and with
/// `probabilities`, `predict_proba`'s).
struct Case {
    name: &'static str,
    bytes: Vec<u8>,
    inputs: Vec<Tensor>,
    expected: Array2<f64>,
    rel: f64,
}

fn single<M: Model>(
    name: &'static str,
    model: &M,
    shape: &[usize],
    batch: usize,
    options: &OnnxOptions,
    predict: impl Fn(&M, &Array2<M::Elem>) -> Array2<M::Elem>,
) -> Case {
    let x = rows::<M::Elem>(batch, M::INPUTS, 7 + name.len() as u64);
    let bytes = onnx_to_bytes(model, options).unwrap();
    let rel = if M::Elem::NAME == "f64" && !options_f32(options) {
        1e-12
    } else {
        1e-5
    };
    let mut input = float_input(&x, shape);
    if options_f32(options) {
        input.dtype = Dtype::F32;
    }
    Case {
        name,
        bytes,
        inputs: vec![input],
        expected: to_f64(&predict(model, &x)),
        rel,
    }
}

fn options_f32(options: &OnnxOptions) -> bool {
    *options == OnnxOptions::new().f32() || *options == OnnxOptions::new().f32().probabilities()
}

/// Inputs of the `Shop` model: its rows, and the file's three tensors.
fn shop_inputs(batch: usize) -> (Array2<f32>, Vec<Tensor>) {
    let v = values(batch * 8, 99);
    let mut x = Array2::<f32>::zeros((batch, 8));
    for i in 0..batch {
        for j in 0..3 {
            x[[i, j]] = v[i * 8 + j] as f32;
        }
        x[[i, 3]] = ((v[i * 8 + 3] + 2.0) * 0.75).floor().min(2.0) as f32;
        for t in 0..4 {
            x[[i, 4 + t]] = ((v[i * 8 + 4 + t] + 2.0) * 1.75).floor().min(6.0) as f32;
        }
    }
    let column = |j: std::ops::Range<usize>, dtype: Dtype, shape: Vec<usize>| Tensor {
        dtype,
        shape,
        data: x
            .rows()
            .into_iter()
            .flat_map(|r| {
                r.slice(s![j.clone()])
                    .iter()
                    .map(|&v| v as f64)
                    .collect::<Vec<_>>()
            })
            .collect(),
    };
    let inputs = vec![
        column(0..3, Dtype::F32, vec![batch, 3]),
        column(3..4, Dtype::I64, vec![batch]),
        column(4..8, Dtype::I64, vec![batch, 4]),
    ];
    (x, inputs)
}

fn cases() -> Vec<Case> {
    let plain = OnnxOptions::new();
    let probabilities = OnnxOptions::new().probabilities();
    let mut mlp = Mlp::with_seed(1);
    let train = rows::<f32>(20, 4, 3) * 3.0 + 5.0;
    let scaler = Standardize::fit(&train);
    let labels = Labels::named(["setosa", "versicolor", "virginica"]).unwrap();
    mlp.set_preprocessing(Preprocessing::new().with_scaler(scaler).with_labels(labels))
        .unwrap();
    let mut cnn = Cnn::with_seed(2);
    set_running_statistics(&mut cnn);
    let mut resnet = ResNet::with_seed(3);
    set_running_statistics(&mut resnet);
    let shop = Shop::with_seed(4);
    let (shop_x, shop_inputs) = shop_inputs(6);
    vec![
        single("mlp", &mlp, &[4], 5, &plain, |m, x| m.predict(x)),
        single(
            "mlp_probabilities",
            &mlp,
            &[4],
            5,
            &probabilities,
            |m, x| m.predict_proba(x),
        ),
        single("cnn", &cnn, &[1, 8, 8], 3, &plain, |m, x| m.predict(x)),
        single("resnet", &resnet, &[2, 6, 6], 3, &probabilities, |m, x| {
            m.predict_proba(x)
        }),
        Case {
            name: "shop",
            bytes: onnx_to_bytes(&shop, &plain).unwrap(),
            inputs: shop_inputs,
            expected: to_f64(&shop.predict(&shop_x)),
            rel: 1e-5,
        },
        single("lstm", &Lstm::with_seed(5), &[5, 3], 4, &plain, |m, x| {
            m.predict(x)
        }),
        single(
            "gru",
            &Gru::with_seed(6),
            &[5, 3],
            4,
            &probabilities,
            |m, x| m.predict_proba(x),
        ),
        single("rnn", &Rnn::with_seed(7), &[5, 3], 4, &plain, |m, x| {
            m.predict(x)
        }),
        single(
            "temporal",
            &Temporal::with_seed(8),
            &[6, 3],
            4,
            &plain,
            |m, x| m.predict(x),
        ),
        single("double", &Double::with_seed(9), &[4], 4, &plain, |m, x| {
            m.predict(x)
        }),
        single(
            "double_as_f32",
            &Double::with_seed(9),
            &[4],
            4,
            &OnnxOptions::new().f32(),
            |m, x| m.predict(x),
        ),
        single(
            "shares",
            &Shares::with_seed(10),
            &[3],
            4,
            &probabilities,
            |m, x| m.predict_proba(x),
        ),
    ]
}

#[test]
fn tract_runs_every_exported_model_as_predict_does() {
    for case in cases() {
        check_tract(
            &case.bytes,
            &case.inputs,
            &case.expected,
            case.rel,
            case.name,
        );
    }
}

/// The directory of the onnxruntime fixtures.
fn fixtures() -> PathBuf {
    fixture("onnx")
}

/// Writes `NAME.onnx` and `NAME.inputs.json` for the fixture script, when
/// `MACROGRAD_WRITE_ONNX_FIXTURES` is set; else checks that the committed
/// files are what the exporter writes now, and that onnxruntime's outputs
/// on them (`NAME.ort.json`, after the ONNX checker passed) are
/// `predict`'s.
#[test]
fn onnxruntime_ran_every_exported_model_as_predict_does() {
    let write = std::env::var_os("MACROGRAD_WRITE_ONNX_FIXTURES").is_some();
    let regenerate = "regenerate them: MACROGRAD_WRITE_ONNX_FIXTURES=1 cargo test --test files \
                      onnxruntime, then python3 tests/fixtures/make_onnx_fixture.py";
    for case in cases() {
        let onnx = fixtures().join(format!("{}.onnx", case.name));
        if write {
            fs::create_dir_all(fixtures()).unwrap();
            fs::write(&onnx, &case.bytes).unwrap();
            fs::write(
                fixtures().join(format!("{}.inputs.json", case.name)),
                inputs_json(&case.inputs),
            )
            .unwrap();
            continue;
        }
        let committed =
            fs::read(&onnx).unwrap_or_else(|e| panic!("{}: {e}; {regenerate}", onnx.display()));
        assert!(
            committed == case.bytes,
            "{}: the exporter writes another file now; {regenerate}",
            onnx.display()
        );
        let ort = fixtures().join(format!("{}.ort.json", case.name));
        let text = fs::read_to_string(&ort)
            .unwrap_or_else(|e| panic!("{}: {e}; {regenerate}", ort.display()));
        let json: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(json["checker"], "passed", "{}", case.name);
        let outputs = json["outputs"].as_array().unwrap();
        assert_eq!(outputs.len(), 1, "{}", case.name);
        let shape: Vec<usize> = outputs[0]["shape"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d.as_u64().unwrap() as usize)
            .collect();
        let data: Vec<f64> = outputs[0]["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        let found = Tensor {
            dtype: Dtype::F64,
            shape,
            data,
        };
        assert_outputs(&found, case.expected.view(), case.rel, case.name);
    }
}

fn inputs_json(inputs: &[Tensor]) -> String {
    let inputs: Vec<serde_json::Value> = inputs
        .iter()
        .zip(input_names(inputs.len()))
        .map(|(t, name)| {
            let dtype = match t.dtype {
                Dtype::F32 => "float32",
                Dtype::F64 => "float64",
                Dtype::I64 => "int64",
            };
            let data: Vec<serde_json::Value> = t
                .data
                .iter()
                .map(|&v| match t.dtype {
                    Dtype::I64 => serde_json::Value::from(v as i64),
                    _ => serde_json::Value::from(v),
                })
                .collect();
            serde_json::json!({"name": name, "dtype": dtype, "shape": t.shape, "data": data})
        })
        .collect();
    serde_json::to_string_pretty(&serde_json::json!({ "inputs": inputs })).unwrap()
}

/// The graph inputs' names, in order: `input`, or `Shop`'s three.
fn input_names(n: usize) -> Vec<&'static str> {
    if n == 1 {
        vec!["input"]
    } else {
        vec!["measurements", "island", "words"]
    }
}

#[test]
fn the_file_names_its_tensors_as_the_weights_file_does() {
    let mlp = Mlp::with_seed(1);
    let bytes = onnx_to_bytes(&mlp, &OnnxOptions::new()).unwrap();
    let text = String::from_utf8_lossy(&bytes);
    for name in [
        "0.weight", "0.bias", "3.weight", "3.bias", "input", "output", "batch",
    ] {
        assert!(text.contains(name), "{name} is not in the file");
    }
    let cnn = Cnn::with_seed(2);
    let text =
        String::from_utf8_lossy(&onnx_to_bytes(&cnn, &OnnxOptions::new()).unwrap()).into_owned();
    for name in [
        "1.running_mean",
        "1.running_var",
        "BatchNormalization",
        "LayerNormalization",
    ] {
        assert!(text.contains(name), "{name} is not in the file");
    }
    // Dropout is left out, and the summary is the doc string.
    assert!(!text.contains("Dropout\u{1}"), "no dropout node");
    assert!(
        text.contains(&cnn.summary().to_string()),
        "the summary is the doc string"
    );
}

#[test]
fn a_regressor_has_no_probabilities_and_nothing_is_written() {
    let dir = temp_dir("onnx-regressor");
    let path = dir.join("model.onnx");
    let error =
        save_onnx_with(&Lstm::new(), &path, &OnnxOptions::new().probabilities()).unwrap_err();
    assert!(
        matches!(&error, Error::Export { message } if message.contains("regressor")),
        "{error}"
    );
    assert!(!path.exists());
    save_onnx(&Lstm::new(), &path).unwrap();
    assert!(path.exists());
}

#[test]
fn a_scaler_beyond_f32_is_an_error_in_an_f32_file() {
    let mut double = Double::new();
    let huge =
        Standardize::from_parts(vec![1e40, 0.0, 0.0, 0.0], vec![1e39, 1.0, 1.0, 1.0]).unwrap();
    double
        .set_preprocessing(Preprocessing::new().with_scaler(huge))
        .unwrap();
    let error = onnx_to_bytes(&double, &OnnxOptions::new().f32()).unwrap_err();
    assert!(
        error.to_string().contains("column 0 of the scaler"),
        "{error}"
    );
    // In f64 it fits, and the file computes what predict does.
    let bytes = onnx_to_bytes(&double, &OnnxOptions::new()).unwrap();
    let mut x = rows::<f64>(3, 4, 5);
    x.column_mut(0).mapv_inplace(|v| 1e40 + 1e39 * v);
    check_tract(
        &bytes,
        &[float_input(&x, &[4])],
        &double.predict(&x),
        1e-12,
        "double with a huge offset",
    );
}
