//! Weights and checkpoints in safetensors: PyTorch's file loads and
//! reproduces PyTorch's outputs, our files round-trip bit for bit, a
//! checkpoint resumes training bit for bit, and every mismatch is named.
//!
//! The fixture `tests/fixtures/torch_mlp.safetensors` (and its outputs)
//! is written by `python3 tests/fixtures/make_fixture.py`. The other way
//! round, `python_reads_our_file` writes a trained model's weights and
//! outputs under Cargo's test temporary directory and prints the command
//! that checks them with PyTorch (not run here: CI has no PyTorch):
//!
//! ```text
//! python3 tests/fixtures/make_fixture.py --check $CARGO_TARGET_TMPDIR/rust_mlp.safetensors
//! ```
//!
//! (`CARGO_TARGET_TMPDIR` is `target/tmp`, or `$CARGO_TARGET_DIR/tmp`.)

use crate::common;

use common::files::{fixture, numbers, temp_dir, without_checksum, write_outputs_json};

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use macrograd::history::{EpochLog, History, StopReason};
use macrograd::io::{
    checkpoint_from_bytes, checkpoint_to_bytes, load_checkpoint, load_weights, save_checkpoint,
    save_weights, weights_from_bytes, weights_to_bytes, CheckpointInfo,
};
use macrograd::prelude::*;
use macrograd::schedule::{Scheduler, StepLR};
use macrograd::{Float, StateProblem};

model! {
    /// PyTorch's `nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))`.
    struct Mlp;
    input 4;
    Linear(4, 8);
    ReLU;
    Linear(8, 3);
    loss CrossEntropy;
    optim SGD(0.1)
}

model! {
    /// The same layers in f64.
    struct Mlp64;
    dtype f64;
    input 4;
    Linear(4, 8);
    ReLU;
    Linear(8, 3);
    loss CrossEntropy;
    optim SGD(0.1)
}

model! {
    /// Differs from `Mlp` in every way a file can: a wider first layer
    /// without bias, and one more layer.
    struct Odd;
    input 4;
    Linear(4, 9, bias = false);
    ReLU;
    Linear(9, 3);
    ReLU;
    Linear(3, 2);
    loss MSE;
    optim SGD(0.1)
}

model! {
    /// The same layers with an optimizer that keeps a lot of state.
    struct MlpAdam;
    input 4;
    Linear(4, 8);
    ReLU;
    Linear(8, 3);
    loss CrossEntropy;
    optim Adam(lr = 0.01, amsgrad = true, weight_decay = 0.01)
}

model! {
    /// The same layers with SGD and momentum (buffers appear on the first
    /// step).
    struct MlpMomentum;
    input 4;
    Linear(4, 8);
    ReLU;
    Linear(8, 3);
    loss CrossEntropy;
    optim SGD(lr = 0.05, momentum = 0.9, nesterov = true)
}

/// The fixture's inputs `[5, 4]` and PyTorch's outputs `[5, 3]`.
fn torch_outputs() -> (Array2<f32>, Vec<f64>) {
    let text = fs::read_to_string(fixture("torch_mlp_outputs.json")).unwrap();
    let (inputs, outputs) = text.split_once("\"outputs\"").unwrap();
    let inputs: Vec<f32> = numbers(inputs).iter().map(|&v| v as f32).collect();
    let outputs = numbers(outputs);
    assert_eq!((inputs.len(), outputs.len()), (20, 15));
    (Array2::from_shape_vec((5, 4), inputs).unwrap(), outputs)
}

/// Every parameter value, as bits.
fn bits<M: Model>(model: &M) -> Vec<u64> {
    model
        .parameters()
        .iter()
        .flat_map(|p| {
            p.value
                .iter()
                .map(|v| v.to_f64().to_bits())
                .collect::<Vec<_>>()
        })
        .collect()
}

/// A few seeded training steps, so that no weight is at its initial value.
fn train<M: Model<Elem = f32, Target = macrograd::target::Classes>>(
    model: &mut M,
    seed: u64,
    steps: usize,
) {
    let mut rng = Rng::new(seed);
    for _ in 0..steps {
        let x: Array2<f32> = rng.randn((6, 4));
        let labels: Vec<usize> = (0..6).map(|_| rng.below(3)).collect();
        model.train_step(&x, &labels[..]);
    }
}

fn history(epochs: usize) -> History {
    History {
        epochs: (1..=epochs)
            .map(|epoch| EpochLog {
                epoch,
                loss: 1.0 / epoch as f64 + 0.1,
                val_loss: Some(0.1 + 0.2),
                metrics: vec![(Metric::Accuracy, 2.0 / 3.0)],
                val_metrics: vec![],
                lr: 0.01,
                iterations: 5,
                duration: std::time::Duration::from_micros(1234),
            })
            .collect(),
        stop: StopReason::MaxEpochs { epochs },
        best_epoch: None,
    }
}

#[test]
fn loads_pytorch_weights_and_reproduces_its_outputs() {
    let mut mlp = Mlp::new();
    load_weights(&mut mlp, fixture("torch_mlp.safetensors")).unwrap();
    let (inputs, expected) = torch_outputs();
    let outputs = mlp.predict(&inputs);
    let outputs: Vec<f64> = outputs.iter().map(|&v| v as f64).collect();
    assert_close!(outputs, expected, common::Tol::Abs(1e-6));
    // The file's first weight, read as it is: [out, in], row-major.
    let bytes = fs::read(fixture("torch_mlp.safetensors")).unwrap();
    let first = mlp.parameters()[0].value[[0, 0]];
    assert!(bytes.windows(4).any(|w| w == first.to_le_bytes()));
}

#[test]
fn save_then_load_is_bit_exact() {
    let dir = temp_dir("io");
    let mut trained = Mlp::with_seed(1);
    train(&mut trained, 2, 5);
    let path = dir.join("mlp.safetensors");
    save_weights(&trained, &path).unwrap();
    let mut other = Mlp::with_seed(3);
    assert_ne!(bits(&other), bits(&trained));
    load_weights(&mut other, &path).unwrap();
    assert_eq!(bits(&other), bits(&trained));

    // In memory too, and the bytes are those of the file, every time.
    let bytes = weights_to_bytes(&trained).unwrap();
    assert_eq!(bytes, fs::read(&path).unwrap());
    assert_eq!(bytes, weights_to_bytes(&trained).unwrap());
    let mut again = Mlp::with_seed(4);
    weights_from_bytes(&mut again, &bytes).unwrap();
    assert_eq!(bits(&again), bits(&trained));

    // f64 models keep f64 weights.
    let wide = Mlp64::with_seed(5);
    let bytes = weights_to_bytes(&wide).unwrap();
    let mut back = Mlp64::with_seed(6);
    weights_from_bytes(&mut back, &bytes).unwrap();
    assert_eq!(bits(&back), bits(&wide));
    fs::remove_dir_all(dir).unwrap();
}

#[test]
fn mismatches_are_all_named_in_one_error() {
    let path = fixture("torch_mlp.safetensors");
    let mut odd = Odd::new();
    let before = bits(&odd);
    let err = load_weights(&mut odd, &path).unwrap_err().to_string();
    assert!(err.starts_with(&path.display().to_string()), "{err}");
    for part in [
        "the file does not match the model",
        "`0.weight`: shape [8, 4] in the file vs [9, 4] in the model",
        "`2.weight`: shape [3, 8] in the file vs [3, 9] in the model",
        "`2.bias`", // matches: not named as a problem below
        "missing `4.weight`",
        "missing `4.bias`",
        "unexpected `0.bias`",
    ] {
        if part == "`2.bias`" {
            assert!(!err.contains("`2.bias`:"), "{err}");
        } else {
            assert!(err.contains(part), "{part:?} not in {err}");
        }
    }
    assert_eq!(bits(&odd), before, "a failed load changed the model");

    let mut wide = Mlp64::new();
    let before = bits(&wide);
    let err = load_weights(&mut wide, &path).unwrap_err().to_string();
    for name in ["0.weight", "0.bias", "2.weight", "2.bias"] {
        let part = format!("`{name}`: dtype F32 in the file vs F64 in the model");
        assert!(err.contains(&part), "{part:?} not in {err}");
    }
    assert_eq!(bits(&wide), before);

    // An f64 file in an f32 model, from bytes: named as bytes.
    let err = weights_from_bytes(&mut Mlp::new(), &weights_to_bytes(&Mlp64::new()).unwrap())
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("(safetensors bytes): "), "{err}");
    assert!(
        err.contains("`0.weight`: dtype F64 in the file vs F32 in the model"),
        "{err}"
    );
}

#[test]
fn broken_files_are_errors_naming_the_file() {
    let dir = temp_dir("io");
    let good = fs::read(fixture("torch_mlp.safetensors")).unwrap();
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("empty", vec![], "fewer than the 8 of the header's length"),
        (
            "truncated",
            good[..good.len() - 1].to_vec(),
            "truncated or corrupted",
        ),
        ("no-data", good[..300].to_vec(), "truncated"),
        (
            "huge-header",
            [&u64::MAX.to_le_bytes()[..], &good[8..]].concat(),
            "its header's length is 18446744073709551615 bytes",
        ),
        (
            "text",
            b"this is not a safetensors file".to_vec(),
            "not a safetensors file",
        ),
        (
            "bad-json",
            [&good[..20], b"#", &good[21..]].concat(),
            "its header is invalid",
        ),
    ];
    let mut mlp = Mlp::new();
    let before = bits(&mlp);
    for (name, bytes, expected) in cases {
        let path = dir.join(format!("{name}.safetensors"));
        fs::write(&path, &bytes).unwrap();
        let err = load_weights(&mut mlp, &path).unwrap_err();
        assert!(matches!(err, Error::InvalidFile { .. }), "{err:?}");
        let message = err.to_string();
        assert!(
            message.starts_with(&path.display().to_string()),
            "{message}"
        );
        assert!(
            message.contains(expected),
            "{name}: {expected:?} not in {message}"
        );
        assert!(load_checkpoint(&mut mlp, &path).is_err());
    }
    assert_eq!(bits(&mlp), before);
    let missing = dir.join("missing.safetensors");
    let err = load_weights(&mut mlp, &missing).unwrap_err().to_string();
    assert!(err.starts_with(&missing.display().to_string()), "{err}");
    fs::remove_dir_all(dir).unwrap();
}

#[test]
fn writes_are_atomic() {
    let dir = temp_dir("io");
    let path = dir.join("weights.safetensors");
    fs::write(&path, "old").unwrap();
    save_weights(&Mlp::new(), &path).unwrap();
    save_checkpoint(
        &Mlp::new(),
        dir.join("run.ckpt"),
        &CheckpointInfo::default(),
    )
    .unwrap();
    let mut names: Vec<String> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["run.ckpt", "weights.safetensors"]);
    // A directory in the way: an error naming it; nothing else is left.
    let busy = dir.join("busy.safetensors");
    fs::create_dir(&busy).unwrap();
    let err = save_weights(&Mlp::new(), &busy).unwrap_err().to_string();
    assert!(err.contains("busy.safetensors"), "{err}");
    assert_eq!(fs::read_dir(&dir).unwrap().count(), 3);
    fs::remove_dir_all(dir).unwrap();
}

/// Writes `rust_mlp.safetensors` and `rust_mlp_outputs.json` (the fixture's
/// inputs and this model's outputs) under `CARGO_TARGET_TMPDIR`, for
/// `python3 tests/fixtures/make_fixture.py --check PATH`.
#[test]
fn python_reads_our_file() {
    let mut mlp = Mlp::new();
    load_weights(&mut mlp, fixture("torch_mlp.safetensors")).unwrap();
    train(&mut mlp, 7, 3);
    let (inputs, _) = torch_outputs();
    let outputs = mlp.predict(&inputs);
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let path = dir.join("rust_mlp.safetensors");
    save_weights(&mlp, &path).unwrap();
    write_outputs_json(&dir.join("rust_mlp_outputs.json"), &inputs, &outputs);
    println!(
        "check with: python3 tests/fixtures/make_fixture.py --check {}",
        path.display()
    );
    // What Python reads: the names, shapes and dtype of PyTorch's file.
    let header = |bytes: &[u8]| -> String {
        let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
        String::from_utf8(bytes[8..8 + n].to_vec()).unwrap()
    };
    let ours = header(&fs::read(&path).unwrap());
    // The checksum, last in the metadata: 8 hex digits.
    let (ours_unsummed, sum) = ours
        .trim_end()
        .split_once(r#","macrograd.crc32":""#)
        .unwrap();
    assert!(
        sum.len() == 11 && sum[..8].bytes().all(|b| b.is_ascii_hexdigit()) && &sum[8..] == "\"}}",
        "{sum}"
    );
    assert_eq!(
        format!("{ours_unsummed}}}}}"),
        concat!(
            r#"{"0.bias":{"data_offsets":[0,32],"dtype":"F32","shape":[8]},"#,
            r#""0.weight":{"data_offsets":[32,160],"dtype":"F32","shape":[8,4]},"#,
            r#""2.bias":{"data_offsets":[160,172],"dtype":"F32","shape":[3]},"#,
            r#""2.weight":{"data_offsets":[172,268],"dtype":"F32","shape":[3,8]},"#,
            r#""__metadata__":{"format":"pt"}}"#
        )
    );
    assert_eq!(ours.len() % 8, 0);
}

fn info(epoch: usize) -> CheckpointInfo {
    let mut schedule = StepLR::new(2, 0.5);
    schedule.start(0.01, None);
    for _ in 0..epoch {
        schedule.step(None);
    }
    let mut rng = Rng::new(11);
    for _ in 0..epoch {
        rng.next_u64();
    }
    CheckpointInfo {
        epoch,
        rng_state: rng.state(),
        scheduler: Some(schedule.state()),
        history: history(epoch).to_json(),
        metadata: BTreeMap::from([
            ("run".to_string(), "io test".to_string()),
            ("command".to_string(), "cargo test --test io".to_string()),
        ]),
    }
}

/// A checkpoint taken mid-run, loaded into a fresh model, continues the
/// run bit for bit: weights, Adam's moments and step counts, AMSGrad's
/// maxima and the learning rate a schedule set.
#[test]
fn checkpoint_resumes_bit_identically() {
    let dir = temp_dir("io");
    let path = dir.join("run.ckpt");
    let mut original = MlpAdam::with_seed(1);
    train(&mut original, 2, 4);
    original.set_learning_rate(0.005);
    let saved = info(4);
    save_checkpoint(&original, &path, &saved).unwrap();
    // In memory, the bytes of the file, every time (the header is sorted).
    let bytes = fs::read(&path).unwrap();
    assert_eq!(checkpoint_to_bytes(&original, &saved).unwrap(), bytes);
    assert_eq!(checkpoint_to_bytes(&original, &saved).unwrap(), bytes);

    let mut resumed = MlpAdam::with_seed(9);
    let loaded = load_checkpoint(&mut resumed, &path).unwrap();
    assert_eq!(loaded, saved);
    assert_eq!(bits(&resumed), bits(&original));
    assert_eq!(resumed.optimizer_state(), original.optimizer_state());
    assert_eq!(resumed.learning_rate(), 0.005);
    assert_eq!(History::from_json(&loaded.history).unwrap(), history(4));
    let mut schedule = StepLR::new(2, 0.5);
    schedule
        .load_state(loaded.scheduler.as_deref().unwrap())
        .unwrap();
    assert_eq!(schedule.step(None).lr, 0.0025);
    assert_eq!(Rng::from_state(loaded.rng_state), {
        let mut rng = Rng::new(11);
        (0..4).for_each(|_| {
            rng.next_u64();
        });
        rng
    });

    train(&mut original, 3, 4);
    train(&mut resumed, 3, 4);
    assert_eq!(bits(&resumed), bits(&original));

    // SGD's momentum buffers too, through memory.
    let mut sgd = MlpMomentum::with_seed(1);
    train(&mut sgd, 2, 3);
    let bytes = checkpoint_to_bytes(&sgd, &CheckpointInfo::default()).unwrap();
    let mut sgd_resumed = MlpMomentum::with_seed(2);
    let loaded = checkpoint_from_bytes(&mut sgd_resumed, &bytes).unwrap();
    assert_eq!(loaded, CheckpointInfo::default());
    train(&mut sgd, 5, 3);
    train(&mut sgd_resumed, 5, 3);
    assert_eq!(bits(&sgd_resumed), bits(&sgd));

    // `load_weights` reads a checkpoint's weights.
    let mut weights_only = MlpAdam::with_seed(5);
    load_weights(&mut weights_only, &path).unwrap();
    let mut expected = MlpAdam::with_seed(9);
    load_checkpoint(&mut expected, &path).unwrap();
    assert_eq!(bits(&weights_only), bits(&expected));
    fs::remove_dir_all(dir).unwrap();
}

/// A checkpoint that does not fit the model changes nothing, and says why.
#[test]
fn failed_checkpoint_loads_leave_the_model_unchanged() {
    let mut adam = MlpAdam::with_seed(1);
    train(&mut adam, 2, 2);
    let adam_bytes = checkpoint_to_bytes(&adam, &info(2)).unwrap();

    // Another optimizer: its state is named, the weights are not touched.
    let mut sgd = MlpMomentum::with_seed(3);
    train(&mut sgd, 4, 2);
    let (weights, state) = (bits(&sgd), sgd.optimizer_state());
    let err = checkpoint_from_bytes(&mut sgd, &adam_bytes).unwrap_err();
    match &err {
        Error::State { source, .. } => {
            assert_eq!(source.owner, "SGD");
            assert!(source.problems.contains(&StateProblem::Missing {
                name: "momentum".into()
            }));
        }
        other => panic!("expected a state error, found {other:?}"),
    }
    let err = err.to_string();
    assert!(err.contains("cannot load the SGD state"), "{err}");
    assert!(err.contains("`momentum` is missing"), "{err}");
    assert!(err.contains("unexpected entry `0.exp_avg`"), "{err}");
    assert_eq!(bits(&sgd), weights);
    assert_eq!(sgd.optimizer_state(), state);

    // Other weights: every difference, before the optimizer is looked at.
    let mut odd = Odd::new();
    let before = bits(&odd);
    let err = checkpoint_from_bytes(&mut odd, &adam_bytes)
        .unwrap_err()
        .to_string();
    assert!(err.contains("missing `weights.4.weight`"), "{err}");
    assert!(err.contains("unexpected `weights.0.bias`"), "{err}");
    assert!(
        err.contains("`weights.0.weight`: shape [8, 4] in the file vs [9, 4] in the model"),
        "{err}"
    );
    assert_eq!(bits(&odd), before);

    // A weights file is not a checkpoint.
    let weights_file = fs::read(fixture("torch_mlp.safetensors")).unwrap();
    let err = checkpoint_from_bytes(&mut adam, &weights_file)
        .unwrap_err()
        .to_string();
    assert!(err.contains("not a macrograd checkpoint"), "{err}");

    // A history that is not one.
    let mut bad = info(2);
    bad.history = "{\"epochs\": 3}".to_string();
    let bytes = checkpoint_to_bytes(&adam, &bad).unwrap();
    let (weights, state) = (bits(&adam), adam.optimizer_state());
    let err = checkpoint_from_bytes(&mut MlpAdam::new(), &bytes)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("metadata `history`: `epochs` must be an array, found 3"),
        "{err}"
    );
    assert_eq!((bits(&adam), adam.optimizer_state()), (weights, state));
}

/// Scheduler states, RNG states and metadata round-trip exactly, whatever
/// their values.
#[test]
fn checkpoint_scalars_round_trip_exactly() {
    let model = Mlp::new();
    let odd_values = vec![
        0.1 + 0.2,
        -0.0,
        f64::INFINITY,
        f64::NEG_INFINITY,
        5e-324,
        f64::MAX,
        1e300,
        123456789.0,
    ];
    let info = CheckpointInfo {
        epoch: usize::MAX,
        rng_state: u64::MAX,
        scheduler: Some(odd_values.clone()),
        history: String::new(),
        metadata: BTreeMap::from([
            ("".to_string(), "empty key".to_string()),
            (
                "unicode ✓".to_string(),
                "line\nbreak \"quoted\"".to_string(),
            ),
        ]),
    };
    let bytes = checkpoint_to_bytes(&model, &info).unwrap();
    let loaded = checkpoint_from_bytes(&mut Mlp::new(), &bytes).unwrap();
    assert_eq!(loaded, info);
    let back = loaded.scheduler.unwrap();
    assert_eq!(
        back.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
        odd_values.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
    );
    let nan = CheckpointInfo {
        scheduler: Some(vec![f64::NAN]),
        ..CheckpointInfo::default()
    };
    let bytes = checkpoint_to_bytes(&model, &nan).unwrap();
    let loaded = checkpoint_from_bytes(&mut Mlp::new(), &bytes).unwrap();
    assert!(loaded.scheduler.unwrap()[0].is_nan());
}

/// A changed byte of a file with a checksum is an error naming the file
/// and both checksums, and changes nothing; the same file without its
/// checksum (PyTorch writes none) loads, with the changed value.
#[test]
fn checksums_catch_corruption() {
    let dir = temp_dir("io");
    let mut trained = MlpAdam::with_seed(1);
    train(&mut trained, 2, 3);
    let weights = dir.join("mlp.safetensors");
    let checkpoint = dir.join("run.ckpt");
    save_weights(&trained, &weights).unwrap();
    save_checkpoint(&trained, &checkpoint, &info(3)).unwrap();
    for path in [&weights, &checkpoint] {
        let good = fs::read(path).unwrap();
        // A flip in the last tensor's last byte: a valid file otherwise.
        let mut bad = good.clone();
        *bad.last_mut().unwrap() ^= 0x10;
        fs::write(path, &bad).unwrap();
        let mut model = MlpAdam::with_seed(5);
        let before = (bits(&model), model.optimizer_state());
        for err in [
            load_weights(&mut model, path).unwrap_err().to_string(),
            load_checkpoint(&mut model, path).unwrap_err().to_string(),
        ] {
            let prefix = format!(
                "{}: the file is corrupt: expected checksum ",
                path.display()
            );
            assert!(err.starts_with(&prefix), "{err}");
            assert!(
                err.contains("(its metadata `macrograd.crc32`), found "),
                "{err}"
            );
        }
        assert_eq!((bits(&model), model.optimizer_state()), before);
        // Without the checksum, nothing can tell: the flip is loaded.
        let unsummed = without_checksum(&bad);
        let mut model = MlpAdam::with_seed(5);
        weights_from_bytes(&mut model, &unsummed).unwrap();
        assert_ne!(bits(&model), bits(&trained));
        // And the good file without its checksum loads as it is.
        weights_from_bytes(&mut model, &without_checksum(&good)).unwrap();
        assert_eq!(bits(&model), bits(&trained));
        // A checksum that is not one.
        // (Found in the bytes: the binary length before the header is not
        // text, and a lossy conversion would shift the offsets.)
        let key = br#""macrograd.crc32":""#;
        let at = good.windows(key.len()).position(|w| w == key).unwrap() + key.len();
        let mut odd = good.clone();
        odd[at] = b'G';
        let err = weights_from_bytes(&mut model, &odd)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("the file is corrupt: its metadata `macrograd.crc32` is \"G"),
            "{err}"
        );
    }
    fs::remove_dir_all(dir).unwrap();
}

/// Sets parameter `index` of `model`, element `at`, to `value`.
fn poison<M: Model<Elem = f32>>(model: &mut M, index: usize, at: usize, value: f32) {
    let mut i = 0;
    model.visit_parameters_mut(&mut |mut p| {
        if i == index {
            *p.value.iter_mut().nth(at).unwrap() = value;
        }
        i += 1;
    });
}

/// A NaN or an infinity in the weights or the optimizer's state is an
/// error that names the file, the tensor, the index and the value; the
/// model is unchanged. Saving writes such a model as it is (a diverged
/// run can be kept and inspected), so the error is the loader's.
#[test]
fn non_finite_values_are_not_loaded() {
    let dir = temp_dir("io");
    let path = dir.join("mlp.safetensors");
    let mut target = Mlp::with_seed(9);
    let before = bits(&target);
    for (value, shown) in [
        (f32::NAN, "NaN"),
        (f32::INFINITY, "inf"),
        (f32::NEG_INFINITY, "-inf"),
    ] {
        let mut bad = Mlp::with_seed(1);
        // `0.weight` is [8, 4]: index 6 is [1, 2]; two in `2.bias`.
        poison(&mut bad, 0, 6, value);
        poison(&mut bad, 3, 0, value);
        poison(&mut bad, 3, 2, value);
        save_weights(&bad, &path).unwrap();
        let err = load_weights(&mut target, &path).unwrap_err().to_string();
        assert_eq!(
            err,
            format!(
                "{}: non-finite values, which a model does not load (a run that diverged, or a \
                 damaged file): `0.weight` holds {shown} at index 6 ([1, 2]); `2.bias` holds \
                 {shown} at index 0 ([0]), and 1 more",
                path.display()
            )
        );
        assert_eq!(bits(&target), before);
        // In a checkpoint: the weights, under their names there.
        let bytes = checkpoint_to_bytes(&bad, &CheckpointInfo::default()).unwrap();
        let err = checkpoint_from_bytes(&mut target, &bytes)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(&format!(
                "`weights.0.weight` holds {shown} at index 6 ([1, 2])"
            )),
            "{err}"
        );
        assert_eq!(bits(&target), before);
        // Without a checksum (as PyTorch writes it) too.
        let err = weights_from_bytes(
            &mut target,
            &without_checksum(&weights_to_bytes(&bad).unwrap()),
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains(&format!("`0.weight` holds {shown} at index 6")),
            "{err}"
        );
        assert_eq!(bits(&target), before);
    }

    // Adam's moments after a step with a NaN weight: the weights are put
    // back, the moments of `0.weight` stay NaN.
    let mut adam = MlpAdam::with_seed(1);
    train(&mut adam, 2, 1);
    let clean = bits(&adam);
    poison(&mut adam, 0, 0, f32::NAN);
    train(&mut adam, 3, 1);
    let mut i = 0;
    adam.visit_parameters_mut(&mut |mut p| {
        let n = p.value.len();
        let values = &clean[i..i + n];
        for (v, &b) in p.value.iter_mut().zip(values) {
            *v = f64::from_bits(b) as f32;
        }
        i += n;
    });
    let bytes = checkpoint_to_bytes(&adam, &CheckpointInfo::default()).unwrap();
    let mut resumed = MlpAdam::with_seed(4);
    let before = (bits(&resumed), resumed.optimizer_state());
    let err = checkpoint_from_bytes(&mut resumed, &bytes)
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("(safetensors bytes): non-finite values"),
        "{err}"
    );
    assert!(
        err.contains("`optim.0.exp_avg` holds NaN at index "),
        "{err}"
    );
    assert!(!err.contains("weights."), "{err}");
    assert_eq!((bits(&resumed), resumed.optimizer_state()), before);
    fs::remove_dir_all(dir).unwrap();
}

/// A save removes the temporary files that a killed save of the same
/// target left (`.name.<pid>.<n>.tmp` of a process that no longer runs,
/// or of this one but not being written), and nothing else.
#[test]
fn saves_remove_stale_temporaries_of_their_target() {
    let dir = temp_dir("io");
    let linux = Path::new("/proc/self").exists();
    // A process that has ended: its id names no live process (unless
    // reused in the meantime, which would only keep its file).
    let dead = {
        let mut child = std::process::Command::new("true").spawn().unwrap();
        child.wait().unwrap();
        child.id()
    };
    let me = std::process::id();
    for target in ["w.safetensors", "run.ckpt"] {
        let stale = [format!(".{target}.{me}.999999.tmp")]
            .into_iter()
            .chain(linux.then(|| format!(".{target}.{dead}.0.tmp")))
            .collect::<Vec<_>>();
        let kept = [
            // Another target's, another pattern, a live process's.
            format!(".other.{dead}.0.tmp"),
            format!(".{target}.1.{dead}.0.tmp"),
            format!(".{target}.{dead}.tmp"),
            format!("{target}.{dead}.0.tmp"),
            format!(".{target}.{dead}.0.tmp.keep"),
            format!("{target}.bak"),
            format!(".{target}.1.0.tmp"),
        ];
        for name in stale.iter().chain(&kept) {
            fs::write(dir.join(name), "leftover").unwrap();
        }
        let path = dir.join(target);
        if target.ends_with("ckpt") {
            save_checkpoint(&Mlp::new(), &path, &CheckpointInfo::default()).unwrap();
        } else {
            save_weights(&Mlp::new(), &path).unwrap();
        }
        for name in &stale {
            assert!(!dir.join(name).exists(), "{name} is still there");
        }
        for name in &kept {
            assert!(dir.join(name).exists(), "{name} was removed");
        }
        load_weights(&mut Mlp::new(), &path).unwrap();
    }
    fs::remove_dir_all(dir).unwrap();
}

/// The environment variable that makes `killed_saves_leave_nothing_behind`
/// the saving child instead of the test.
const SAVE_LOOP: &str = "MACROGRAD_TEST_SAVE_LOOP";

/// A process killed while it saves (this test binary, run again as a
/// child that saves in a loop) leaves the target whole or absent, and at
/// most its temporary file, which the next save removes. Whether a kill
/// lands mid-save is up to the clock; the assertions hold either way.
#[test]
fn killed_saves_leave_nothing_behind() {
    if let Ok(path) = std::env::var(SAVE_LOOP) {
        let model = Mlp::with_seed(1);
        loop {
            save_weights(&model, &path).unwrap();
        }
    }
    let dir = temp_dir("io-kill");
    let path = dir.join("w.safetensors");
    let mut left = 0;
    for round in 0..10u64 {
        let mut child = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "io::killed_saves_leave_nothing_behind",
                "--exact",
                "--quiet",
            ])
            .env(SAVE_LOOP, &path)
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(30 + 7 * round));
        child.kill().unwrap();
        child.wait().unwrap();
        if path.exists() {
            load_weights(&mut Mlp::new(), &path).unwrap();
        }
        left += fs::read_dir(&dir).unwrap().count() - usize::from(path.exists());
        save_weights(&Mlp::with_seed(2), &path).unwrap();
        let names: Vec<_> = fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["w.safetensors"], "round {round}");
    }
    println!("{left} of 10 kills left a temporary file, removed by the next save");
    fs::remove_dir_all(dir).unwrap();
}
