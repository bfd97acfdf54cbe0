//! Weights and checkpoints of convolutional networks: batch norm's running
//! statistics travel with the weights under PyTorch's names and dtypes
//! (PyTorch's CNN file loads and reproduces its outputs), each dropout's
//! generator travels with a checkpoint, and so a resumed `fit` with batch
//! norm and dropout is the run that never stopped, bit for bit.
//!
//! The fixture `tests/fixtures/torch_cnn.safetensors` (and its outputs) is
//! written by `python3 tests/fixtures/make_fixture.py cnn`. The other way
//! round, `python_reads_our_cnn_file` writes a trained model's weights and
//! outputs under Cargo's test temporary directory and prints the command
//! that checks them with PyTorch (not run here: CI has no PyTorch):
//!
//! ```text
//! python3 tests/fixtures/make_fixture.py --check-cnn $CARGO_TARGET_TMPDIR/rust_cnn.safetensors
//! ```

use crate::common;

use common::files::{fixture, numbers, temp_dir, without_checksum, write_outputs_json};
use common::images::bars;

use std::fs;
use std::path::Path;

use macrograd::io::{
    checkpoint_from_bytes, checkpoint_to_bytes, load_weights, save_weights, weights_from_bytes,
    weights_to_bytes, CheckpointInfo,
};
use macrograd::layers::BufferValue;
use macrograd::prelude::*;
use macrograd::target::Classes;
use macrograd::Float;

model! {
    /// PyTorch's `nn.Sequential(nn.Conv2d(1, 4, 3, padding=1),
    /// nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
    /// nn.Linear(4*4*4, 3))`.
    struct TorchCnn;
    input [1, 8, 8];
    Conv2d(1, 4, 3, padding = 1);
    BatchNorm;
    ReLU;
    MaxPool2d(2);
    Flatten;
    Linear(_, 3);
    loss CrossEntropy;
    optim SGD(0.1)
}

model! {
    /// A CNN with every kind of state: parameters, running statistics, a
    /// dropout generator, Adam's moments.
    struct Net;
    input [1, 8, 8];
    Conv2d(1, 4, 3, padding = 1);
    BatchNorm;
    ReLU;
    MaxPool2d(2);
    Dropout(0.3);
    Flatten;
    Linear(_, 3);
    loss CrossEntropy;
    optim Adam(lr = 0.01)
}

model! {
    /// `Net` with a ReLU where the dropout is: the same parameters and
    /// buffers, no generator.
    struct NoDropout;
    input [1, 8, 8];
    Conv2d(1, 4, 3, padding = 1);
    BatchNorm;
    ReLU;
    MaxPool2d(2);
    ReLU;
    Flatten;
    Linear(_, 3);
    loss CrossEntropy;
    optim Adam(lr = 0.01)
}

model! {
    /// `Net` with another optimizer.
    struct NetSgd;
    input [1, 8, 8];
    Conv2d(1, 4, 3, padding = 1);
    BatchNorm;
    ReLU;
    MaxPool2d(2);
    Dropout(0.3);
    Flatten;
    Linear(_, 3);
    loss CrossEntropy;
    optim SGD(lr = 0.05, momentum = 0.9)
}

/// The fixture's images `[4, 64]` and PyTorch's eval outputs `[4, 3]`.
fn torch_outputs() -> (Array2<f32>, Vec<f64>) {
    let text = fs::read_to_string(fixture("torch_cnn_outputs.json")).unwrap();
    let (inputs, outputs) = text.split_once("\"outputs\"").unwrap();
    let inputs: Vec<f32> = numbers(inputs).iter().map(|&v| v as f32).collect();
    let outputs = numbers(outputs);
    assert_eq!((inputs.len(), outputs.len()), (4 * 64, 4 * 3));
    (Array2::from_shape_vec((4, 64), inputs).unwrap(), outputs)
}

/// Every parameter value, as bits.
fn bits<M: Model>(model: &M) -> Vec<u64> {
    let mut all = Vec::new();
    model.visit_parameters(&mut |p| all.extend(p.value.iter().map(|v| v.to_f64().to_bits())));
    all
}

/// Every buffer of `model`.
fn buffers<M: Model>(model: &M) -> Buffers {
    let mut all = Vec::new();
    model.visit_buffers(&mut |b| {
        let values = match b.value {
            BufferValue::Float(v) => v.iter().map(|x| x.to_f64().to_bits()).collect(),
            BufferValue::Count(n) => vec![n],
        };
        all.push((b.name, values));
    });
    all
}

/// Every buffer by name: float values as bits, or the count.
type Buffers = Vec<(&'static str, Vec<u64>)>;

/// Everything a load may change: parameters, buffers, generators.
type State = (Vec<u64>, Buffers, Vec<(String, u64)>);

/// Everything a load may change, for "a failed load changes nothing".
fn state<M: Model>(model: &M) -> State {
    (bits(model), buffers(model), model.rng_states())
}

/// A few seeded training steps in training mode: the weights, the running
/// statistics and the dropout generators all move.
fn train<M: Model<Elem = f32, Target = Classes>>(model: &mut M, seed: u64, steps: usize) {
    let mut rng = Rng::new(seed);
    for _ in 0..steps {
        let x: Array2<f32> = rng.randn((6, 64));
        let labels: Vec<usize> = (0..6).map(|_| rng.below(3)).collect();
        model.train_step(&x, &labels[..]);
    }
}

/// A safetensors file of `tensors` (name, dtype, shape, little-endian
/// bytes), written by hand: what another writer, or an older macrograd,
/// may have produced.
fn safetensors_file(tensors: &[(&str, &str, Vec<usize>, Vec<u8>)]) -> Vec<u8> {
    let mut entries = Vec::new();
    let mut data: Vec<u8> = Vec::new();
    for (name, dtype, shape, bytes) in tensors {
        let dims: Vec<String> = shape.iter().map(usize::to_string).collect();
        entries.push(format!(
            "\"{name}\":{{\"dtype\":\"{dtype}\",\"shape\":[{}],\"data_offsets\":[{},{}]}}",
            dims.join(","),
            data.len(),
            data.len() + bytes.len()
        ));
        data.extend(bytes);
    }
    entries.push("\"__metadata__\":{\"format\":\"pt\"}".to_string());
    let header = format!("{{{}}}", entries.join(","));
    let mut file = (header.len() as u64).to_le_bytes().to_vec();
    file.extend(header.bytes());
    file.extend(data);
    file
}

/// The parameters of `model` as `(name, "F32", shape, bytes)`.
fn parameter_tensors<M: Model<Elem = f32>>(model: &M) -> Vec<(&str, &str, Vec<usize>, Vec<u8>)> {
    model
        .parameters()
        .iter()
        .map(|p| {
            let bytes = p.value.iter().flat_map(|v| v.to_le_bytes()).collect();
            (p.name, "F32", p.value.shape().to_vec(), bytes)
        })
        .collect()
}

#[test]
fn loads_pytorch_cnn_weights_and_reproduces_its_outputs() {
    let mut cnn = TorchCnn::new();
    load_weights(&mut cnn, fixture("torch_cnn.safetensors")).unwrap();
    // PyTorch trained 5 steps: the statistics are not the defaults.
    let stats = buffers(&cnn);
    let names: Vec<&str> = stats.iter().map(|(name, _)| *name).collect();
    assert_eq!(
        names,
        ["1.running_mean", "1.running_var", "1.num_batches_tracked"]
    );
    assert_eq!(stats[2].1, [5]);
    assert!(stats[0].1.iter().all(|&v| v != 0f64.to_bits()));
    assert!(stats[1].1.iter().all(|&v| v != 1f64.to_bits()));
    // Evaluation mode uses them: PyTorch's `eval()` outputs.
    let (inputs, expected) = torch_outputs();
    let outputs = cnn.predict(&inputs);
    let outputs: Vec<f64> = outputs.iter().map(|&v| v as f64).collect();
    assert_close!(outputs, expected, common::Tol::Abs(1e-5));
    // Without the statistics (a fresh model's 0 and 1), they differ.
    let mut defaults = TorchCnn::new();
    let file = fs::read(fixture("torch_cnn.safetensors")).unwrap();
    weights_from_bytes(&mut defaults, &file).unwrap();
    defaults.visit_buffers_mut(&mut |b| match b.value {
        macrograd::layers::BufferValueMut::Float(mut v) => {
            v.fill(if b.name.ends_with("var") { 1.0 } else { 0.0 })
        }
        macrograd::layers::BufferValueMut::Count(n) => *n = 0,
    });
    let off: Vec<f64> = defaults
        .predict(&inputs)
        .iter()
        .map(|&v| v as f64)
        .collect();
    assert!(
        off.iter().zip(&expected).any(|(a, b)| (a - b).abs() > 1e-3),
        "{off:?}"
    );
}

/// Writes `rust_cnn.safetensors` and `rust_cnn_outputs.json` (the
/// fixture's images and this model's eval outputs) under
/// `CARGO_TARGET_TMPDIR`, for
/// `python3 tests/fixtures/make_fixture.py --check-cnn PATH`.
#[test]
fn python_reads_our_cnn_file() {
    let mut cnn = TorchCnn::new();
    load_weights(&mut cnn, fixture("torch_cnn.safetensors")).unwrap();
    train(&mut cnn, 7, 3);
    let (inputs, _) = torch_outputs();
    let outputs = cnn.predict(&inputs);
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let path = dir.join("rust_cnn.safetensors");
    save_weights(&cnn, &path).unwrap();
    write_outputs_json(&dir.join("rust_cnn_outputs.json"), &inputs, &outputs);
    println!(
        "check with: python3 tests/fixtures/make_fixture.py --check-cnn {}",
        path.display()
    );
    // What Python reads: PyTorch's names, shapes and dtypes, the count an
    // int64 scalar (5 steps in PyTorch, 3 here).
    let bytes = fs::read(&path).unwrap();
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let header = String::from_utf8(bytes[8..8 + n].to_vec()).unwrap();
    for part in [
        r#""0.weight":{"data_offsets":["#,
        r#"],"dtype":"F32","shape":[4,1,3,3]}"#,
        r#""1.num_batches_tracked":{"data_offsets":[0,8],"dtype":"I64","shape":[]}"#,
        r#""1.running_mean":{"data_offsets":["#,
        r#""1.running_var":{"data_offsets":["#,
        r#"],"dtype":"F32","shape":[3,64]}"#,
        r#""__metadata__":{"format":"pt","macrograd.crc32":""#,
    ] {
        assert!(header.contains(part), "{part} not in {header}");
    }
    assert!(bytes[8 + n..8 + n + 8] == 8i64.to_le_bytes());
    assert!(!header.contains("rng"), "{header}");
}

/// A trained CNN's weights file gives back the same model: parameters,
/// running statistics, and so the same evaluation outputs, bit for bit.
#[test]
fn weights_keep_the_running_statistics() {
    let data = bars(60, 1);
    let mut trained = Net::with_seed(1);
    trained
        .fit(&data, Fit::epochs(2).batch_size(10).seed(2).quiet())
        .unwrap();
    let dir = temp_dir("cnn-io");
    let path = dir.join("net.safetensors");
    save_weights(&trained, &path).unwrap();
    let mut loaded = Net::with_seed(5);
    assert_ne!(buffers(&loaded), buffers(&trained));
    load_weights(&mut loaded, &path).unwrap();
    assert_eq!(bits(&loaded), bits(&trained));
    assert_eq!(buffers(&loaded), buffers(&trained));
    assert_eq!(buffers(&loaded)[2].1, [12]); // 2 epochs of 6 batches
    let x = bars(9, 2).inputs().to_owned();
    assert_eq!(loaded.predict(&x), trained.predict(&x));
    // In memory too; the generators are not in a weights file.
    let bytes = weights_to_bytes(&trained).unwrap();
    assert_eq!(bytes, fs::read(&path).unwrap());
    let mut again = Net::with_seed(6);
    let generators = again.rng_states();
    weights_from_bytes(&mut again, &bytes).unwrap();
    assert_eq!(again.predict(&x), trained.predict(&x));
    assert_eq!(again.rng_states(), generators);
    fs::remove_dir_all(dir).unwrap();
}

/// A file without the buffers (an older macrograd's, or any writer's that
/// keeps only parameters) is missing them; a count must be PyTorch's.
#[test]
fn buffers_are_checked_like_parameters() {
    let source = TorchCnn::with_seed(3);
    let mut cnn = TorchCnn::new();
    let before = state(&cnn);
    let old = safetensors_file(&parameter_tensors(&source));
    let err = weights_from_bytes(&mut cnn, &old).unwrap_err().to_string();
    assert_eq!(
        err,
        "(safetensors bytes): the file does not match the model: missing `1.running_mean`; \
         missing `1.running_var`; missing `1.num_batches_tracked`"
    );
    assert_eq!(state(&cnn), before);

    // The count as a float, the statistics of another width, a negative
    // count: all named at once.
    let mut tensors = parameter_tensors(&source);
    tensors.push(("1.running_mean", "F32", vec![5], vec![0; 20]));
    tensors.push(("1.running_var", "F64", vec![4], vec![0; 32]));
    tensors.push(("1.num_batches_tracked", "F32", vec![], vec![0; 4]));
    let err = weights_from_bytes(&mut cnn, &safetensors_file(&tensors))
        .unwrap_err()
        .to_string();
    for part in [
        "`1.running_mean`: shape [5] in the file vs [4] in the model",
        "`1.running_var`: dtype F64 in the file vs F32 in the model",
        "`1.num_batches_tracked`: dtype F32 in the file vs I64 in the model",
    ] {
        assert!(err.contains(part), "{part:?} not in {err}");
    }
    let mut tensors = parameter_tensors(&source);
    tensors.push(("1.running_mean", "F32", vec![4], vec![0; 16]));
    tensors.push(("1.running_var", "F32", vec![4], vec![0; 16]));
    tensors.push((
        "1.num_batches_tracked",
        "I64",
        vec![1],
        3i64.to_le_bytes().to_vec(),
    ));
    let err = weights_from_bytes(&mut cnn, &safetensors_file(&tensors))
        .unwrap_err()
        .to_string();
    assert!(
        err.ends_with("`1.num_batches_tracked`: shape [1] in the file vs [] in the model"),
        "{err}"
    );
    tensors.pop();
    tensors.push((
        "1.num_batches_tracked",
        "I64",
        vec![],
        (-3i64).to_le_bytes().to_vec(),
    ));
    let err = weights_from_bytes(&mut cnn, &safetensors_file(&tensors))
        .unwrap_err()
        .to_string();
    assert!(
        err.ends_with("`1.num_batches_tracked`: -3 in the file, but a count is not negative"),
        "{err}"
    );
    assert_eq!(state(&cnn), before);
    // The same file with a count of 3 loads, and sets it.
    tensors.pop();
    tensors.push((
        "1.num_batches_tracked",
        "I64",
        vec![],
        3i64.to_le_bytes().to_vec(),
    ));
    weights_from_bytes(&mut cnn, &safetensors_file(&tensors)).unwrap();
    assert_eq!(buffers(&cnn)[2], ("1.num_batches_tracked", vec![3]));
    assert_eq!(bits(&cnn), bits(&source));

    // Non-finite statistics are not loaded (a NaN variance would make
    // every evaluation output NaN): each tensor named, with the first
    // index and value.
    let before = state(&cnn);
    let floats = |values: [f32; 4]| values.iter().flat_map(|v| v.to_le_bytes()).collect();
    tensors.retain(|t| !t.0.starts_with("1.running"));
    tensors.push((
        "1.running_mean",
        "F32",
        vec![4],
        floats([f32::INFINITY, 0.0, 0.0, 0.0]),
    ));
    tensors.push((
        "1.running_var",
        "F32",
        vec![4],
        floats([1.0, 1.0, f32::NAN, 1.0]),
    ));
    let err = weights_from_bytes(&mut cnn, &safetensors_file(&tensors))
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "(safetensors bytes): non-finite values, which a model does not load (a run that \
         diverged, or a damaged file): `1.running_mean` holds inf at index 0 ([0]); \
         `1.running_var` holds NaN at index 2 ([2])"
    );
    assert_eq!(state(&cnn), before);
    // Saved by macrograd (with its checksum): the same.
    let mut diverged = cnn.clone();
    diverged.visit_buffers_mut(&mut |b| {
        if let macrograd::layers::BufferValueMut::Float(mut v) = b.value {
            if b.name == "1.running_var" {
                v[1] = f32::NAN;
            }
        }
    });
    let err = weights_from_bytes(&mut cnn, &weights_to_bytes(&diverged).unwrap())
        .unwrap_err()
        .to_string();
    assert!(
        err.ends_with("`1.running_var` holds NaN at index 1 ([1])"),
        "{err}"
    );
    assert_eq!(state(&cnn), before);
    // A negative variance, which evaluation would take the root of.
    tensors.retain(|t| !t.0.starts_with("1.running"));
    tensors.push(("1.running_mean", "F32", vec![4], floats([0.0; 4])));
    tensors.push((
        "1.running_var",
        "F32",
        vec![4],
        floats([1.0, 1.0, 1.0, -0.5]),
    ));
    let err = weights_from_bytes(&mut cnn, &safetensors_file(&tensors))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("`1.running_var` holds -0.5 at index 3, but a variance is not negative"),
        "{err}"
    );
    assert_eq!(state(&cnn), before);
}

/// `rng_states` names each dropout's generator by its position; models
/// without dropout have none and take none.
#[test]
fn generators_are_named_and_restored() {
    model! {
        struct Two;
        input 6;
        Dropout(0.5);
        Linear(6, 4);
        ReLU;
        Dropout(0.2);
        Linear(4, 2);
        loss MSE;
        optim SGD(0.1)
    }
    let two = Two::with_seed(1);
    let names: Vec<String> = two.rng_states().into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["0.dropout_rng", "3.dropout_rng"]);
    assert_eq!(Net::new().rng_states()[0].0, "4.dropout_rng");

    // Restored, the generators draw the masks the originals draw.
    let x = Array2::<f32>::ones((3, 6));
    let mut original = Two::with_seed(1);
    original.forward(&x);
    let mut copy = Two::with_seed(2);
    copy.visit_parameters_mut(&mut |mut p| p.value.fill(0.5));
    original.visit_parameters_mut(&mut |mut p| p.value.fill(0.5));
    copy.set_rng_states(&original.rng_states()).unwrap();
    assert_eq!(copy.rng_states(), original.rng_states());
    assert_eq!(copy.forward(&x).to_owned(), original.forward(&x).to_owned());

    // Every missing and unexpected name; nothing changes.
    let before = copy.rng_states();
    let err = copy
        .set_rng_states(&[
            ("0.dropout_rng".to_string(), 1),
            ("2.dropout_rng".to_string(), 2),
        ])
        .unwrap_err();
    assert_eq!(
        err,
        "cannot load the generators' states: missing `3.dropout_rng`; unexpected `2.dropout_rng`"
    );
    assert_eq!(copy.rng_states(), before);

    // Without dropout: nothing to give, nothing to take.
    let mut plain = TorchCnn::new();
    assert!(plain.rng_states().is_empty());
    plain.set_rng_states(&[]).unwrap();
    let err = plain
        .set_rng_states(&[("4.dropout_rng".to_string(), 1)])
        .unwrap_err();
    assert_eq!(
        err,
        "cannot load the generators' states: unexpected `4.dropout_rng`"
    );
}

/// A checkpoint keeps the buffers (under `weights.`) and the generators
/// (as metadata), and a loaded model trains on as the original does.
#[test]
fn checkpoints_keep_buffers_and_generators() {
    let mut original = Net::with_seed(1);
    train(&mut original, 2, 4);
    let bytes = checkpoint_to_bytes(&original, &CheckpointInfo::default()).unwrap();
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let header = String::from_utf8(bytes[8..8 + n].to_vec()).unwrap();
    let rng = original.rng_states()[0].1;
    for part in [
        r#""weights.1.num_batches_tracked":{"data_offsets":[0,8],"dtype":"I64","shape":[]}"#,
        r#""weights.1.running_mean":"#,
        r#""weights.1.running_var":"#,
        &format!(r#""rng.4.dropout_rng":"{rng}""#),
    ] {
        assert!(header.contains(part), "{part} not in {header}");
    }

    let mut resumed = Net::with_seed(9);
    let info = checkpoint_from_bytes(&mut resumed, &bytes).unwrap();
    assert_eq!(info, CheckpointInfo::default());
    assert_eq!(state(&resumed), state(&original));
    assert_eq!(resumed.optimizer_state(), original.optimizer_state());
    train(&mut original, 3, 4);
    train(&mut resumed, 3, 4);
    assert_eq!(state(&resumed), state(&original));

    // A checkpoint without the generator (of a model without dropout):
    // missing; one with a generator the model does not have: unexpected.
    // Neither load changes anything.
    let mut plain = NoDropout::with_seed(1);
    train(&mut plain, 2, 2);
    let plain_bytes = checkpoint_to_bytes(&plain, &CheckpointInfo::default()).unwrap();
    let before = (state(&resumed), resumed.optimizer_state());
    let err = checkpoint_from_bytes(&mut resumed, &plain_bytes)
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "(safetensors bytes): the checkpoint does not match the model: metadata \
         `rng.4.dropout_rng` is missing"
    );
    assert_eq!((state(&resumed), resumed.optimizer_state()), before);
    let plain_before = (state(&plain), plain.optimizer_state());
    let err = checkpoint_from_bytes(&mut plain, &bytes)
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "(safetensors bytes): the checkpoint does not match the model: unexpected metadata \
         `rng.4.dropout_rng`"
    );
    assert_eq!((state(&plain), plain.optimizer_state()), plain_before);

    // A state that is not a number: the checksum tells first; without
    // the checksum, the state is named.
    let at = header.find(&format!("\"{rng}\"")).unwrap() + 9;
    let mut bad = bytes.clone();
    bad[at] = b'x';
    let err = checkpoint_from_bytes(&mut resumed, &bad)
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("(safetensors bytes): the file is corrupt: expected checksum "),
        "{err}"
    );
    let err = checkpoint_from_bytes(&mut resumed, &without_checksum(&bad))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("metadata `rng.4.dropout_rng` is not a 64-bit whole number: \"x"),
        "{err}"
    );
    assert_eq!((state(&resumed), resumed.optimizer_state()), before);

    // The optimizer's state fails last: the generators, set before it,
    // are put back.
    let mut sgd = NetSgd::with_seed(4);
    train(&mut sgd, 5, 2);
    let sgd_before = (state(&sgd), sgd.optimizer_state());
    assert_ne!(sgd.rng_states(), original.rng_states());
    let err = checkpoint_from_bytes(&mut sgd, &bytes)
        .unwrap_err()
        .to_string();
    assert!(err.contains("cannot load the SGD state"), "{err}");
    assert_eq!((state(&sgd), sgd.optimizer_state()), sgd_before);
}

/// `fit` for 4 epochs, or for 2, a checkpoint, a fresh model and a resume
/// for 2 more: the same weights, running statistics, dropout generators
/// and epoch losses, bit for bit.
#[test]
fn fit_resumes_bit_identically_with_batch_norm_and_dropout() {
    let dir = temp_dir("cnn-io");
    let path = dir.join("run.ckpt");
    let data = bars(90, 3);
    let fit = || Fit::epochs(4).batch_size(16).seed(5).quiet();

    let mut straight = Net::with_seed(1);
    let full = straight.fit(&data, fit()).unwrap();

    let mut first = Net::with_seed(1);
    first
        .fit(
            &data,
            Fit::epochs(2)
                .batch_size(16)
                .seed(5)
                .quiet()
                .checkpoint_every(2, &path),
        )
        .unwrap();
    // Dropout drew masks: the generator is not where a fresh one starts.
    let mut resumed = Net::with_seed(7);
    assert_ne!(resumed.rng_states(), first.rng_states());
    let history = resumed.fit(&data, fit().resume_from(&path)).unwrap();

    assert_eq!(bits(&resumed), bits(&straight));
    assert_eq!(buffers(&resumed), buffers(&straight));
    assert_eq!(buffers(&resumed)[2].1, [4 * 6]); // 4 epochs of 6 batches
    assert_eq!(resumed.rng_states(), straight.rng_states());
    assert_eq!(resumed.optimizer_state(), straight.optimizer_state());
    let losses = |h: &History| -> Vec<u64> { h.epochs.iter().map(|e| e.loss.to_bits()).collect() };
    assert_eq!(history.epochs.len(), 4);
    assert_eq!(losses(&history), losses(&full));
    let x = bars(6, 4).inputs().to_owned();
    assert_eq!(resumed.predict(&x), straight.predict(&x));
    fs::remove_dir_all(dir).unwrap();
}
